"""Build notebooks/design_study.ipynb (cells kept here so diffs stay readable).

Usage, after the README's test install (pip install -e ".[test]"):

    python notebooks/make_design_notebook.py --execute    # build and run it in place (outputs saved)
    python notebooks/make_design_notebook.py              # build it without outputs

The test suite executes it (tests/test_design_notebook.py) with the same small sizes as here.
"""

import sys
from pathlib import Path

import nbformat as nbf

cells = [
    ("md", """# Design studies: many constellations per call, failures, and gradients

This notebook asks three designer's questions about a Walker shell like the **third Kuiper shell**
(590 km, 33°, 28 planes × 28 satellites, 35° minimum elevation), with orbitjax's public API:

1. *How many planes and satellites buy a short maximum gap?* A Walker sweep with `orbitjax.study`
   (many designs per jitted call) and a Pareto plot of satellites against the maximum gap.
2. *How robust is coverage when satellites fail?* A failure Monte Carlo with `orbitjax.failure_study`.
3. *Which inclination maximises coverage of the 40°–56° band?* Gradient descent on a relaxed
   (differentiable) coverage objective with `orbitjax.design.optimize`, re-scored with the exact figures.

**Sizes.** The test suite executes this notebook on 2 shared CPU cores, so the sweep here is small
(24 designs of at most 64 satellites, 2 h at 60 s on a 6° grid) instead of the 200-design sweep of the
full-size shell (up to 784 satellites, 1 day, 2° grid), which takes hours on such a machine (each
design costs about one `coverage()` call there; see `benchmarks/RESULTS.md`). Change `FULL = True`
to run the full-size version."""),
    ("code", """import jax
import numpy as np
import matplotlib.pyplot as plt
import orbitjax
from orbitjax import design, studies

FULL = False
if FULL:   # the third Kuiper shell: 200 designs, 1 day, 2 deg grid (hours on 2 CPU cores)
    times = np.datetime64("2025-10-15T00:00") + np.arange(1440) * np.timedelta64(60, "s")
    RES, N_DESIGNS, PLANES, SATS = 2.0, 200, (14, 34), (14, 34)
else:      # the executed version: small shells, 2 h, 6 deg grid
    times = np.datetime64("2025-10-15T00:00") + np.arange(120) * np.timedelta64(60, "s")
    RES, N_DESIGNS, PLANES, SATS = 6.0, 24, (3, 8), (3, 8)
BAND = (0, 30)   # the latitudes a 33 deg shell serves"""),
    ("md", """## 1. A Walker sweep and its Pareto front

`studies.walker_sample` draws designs uniformly (planes, satellites per plane, phasing F) with an explicit
JAX PRNG key; altitude, inclination and mask stay at the shell's values. `orbitjax.study` groups them into
satellite-count buckets and evaluates each batch of designs in one jitted call per time chunk. Each design's
figures are those `orbitjax.coverage()` gives for it alone (to the bit; `tests/test_study.py`)."""),
    ("code", """table = studies.walker_sample(N_DESIGNS, jax.random.key(0), altitude_km=590.0, inclination_deg=33.0,
                              planes=PLANES, sats_per_plane=SATS, phasing=(0, PLANES[1] - 1),
                              min_elevation_deg=35.0)
sweep = orbitjax.study(table, times, resolution_deg=RES, band_deg=BAND, batch_size=8, progress=False)
sweep[["n_satellites", "percent_time_covered_band", "max_gap_band_s", "mean_response_time_band_s"]].to_dataframe().head()"""),
    ("code", """n = sweep.n_satellites.values
gap = sweep.max_gap_band_s.values / 60
order = np.lexsort((gap, n))
front, best = [], np.inf
for i in order:                      # Pareto front: no design with fewer satellites has a shorter gap
    if gap[i] < best:
        front.append(i); best = gap[i]
fig, ax = plt.subplots(figsize=(7, 4))
ax.scatter(n, gap, c=sweep.percent_time_covered_band, cmap="viridis", label="designs")
ax.plot(n[front], gap[front], "r.-", label="Pareto front")
ax.set_xlabel("satellites"); ax.set_ylabel(f"max gap, |lat| {BAND[0]}-{BAND[1]} deg (min)"); ax.legend()
for i in front:
    print(f"{int(n[i]):4d} sats  P={int(sweep.planes[i]):2d} S={int(sweep.sats_per_plane[i]):2d} "
          f"F={int(sweep.phasing[i]):2d}  max gap {gap[i]:6.1f} min  covered {float(sweep.percent_time_covered_band[i]):5.1f} %")"""),
    ("md", """## 2. Failure Monte Carlo

Take the largest design of the front and let each satellite fail independently with probability 5 %
(`p_fail`; or exactly `k_fail` per draw). Every draw is a batch member whose failed satellites are
NaN satellites; a draw's figures equal `coverage()` of the surviving satellites. The key makes it reproducible."""),
    ("code", """pick = front[-1]
shell = orbitjax.walker(altitude_km=590.0, inclination_deg=33.0, planes=int(sweep.planes[pick]),
                        sats_per_plane=int(sweep.sats_per_plane[pick]), phasing=int(sweep.phasing[pick]),
                        min_elevation_deg=35.0, epoch=times[0])
mc = orbitjax.failure_study(shell, times, p_fail=0.05, n_draws=16, key=jax.random.key(1),
                            resolution_deg=RES, band_deg=BAND, progress=False)
print(f"{len(shell)} satellites, {mc.sizes['draw']} draws, failed per draw: {mc.n_failed.values.tolist()}")
print(f"nominal: covered {float(mc.percent_time_covered_band_nominal):.1f} %, "
      f"max gap {float(mc.max_gap_band_s_nominal) / 60:.1f} min")
print(mc[["percent_time_covered_band_quantile", "max_gap_band_s_quantile"]].to_dataframe())"""),
    ("code", """fig, ax = plt.subplots(figsize=(7, 3.5))
ax.scatter(mc.n_failed, mc.percent_time_covered_band, label="draws")
ax.axhline(float(mc.percent_time_covered_band_nominal), color="k", ls="--", label="no failure")
ax.set_xlabel("failed satellites"); ax.set_ylabel(f"% time covered, |lat| {BAND[0]}-{BAND[1]} deg"); ax.legend();"""),
    ("md", """## 3. Gradient optimisation of the inclination

The relaxed objective replaces each hard step by a smooth one with a temperature: a sigmoid of the
elevation margin, a noisy-OR union over satellites, a leaky-integrator revisit gap with LogSumExp maxima
(Kacker & Cahoy, arXiv 2604.19062). It is differentiable in altitude, inclination, RAAN spread, phasing and
per-satellite elements through the Kepler + J2 propagator. `design.optimize` runs optax's Adam on it with
an annealed temperature and re-scores the designs with the exact event-timed figures. Here: a fixed
5/5/1 pattern at 590 km, maximise percent covered over 40°–56°, starting from 40°."""),
    ("code", """problem = design.WalkerProblem(planes=5, sats_per_plane=5, min_elevation_deg=35.0, times=times,
                               resolution_deg=RES, band_deg=(40, 56), lon_stride=2)
start = problem.initial_params(altitude_km=590.0, inclination_deg=40.0, phasing=1)
grad = jax.grad(lambda p: design.relaxed_objective(p, problem, temperature=1.0))(start)
print("d(-percent)/d(inclination) at 40 deg:", float(grad["inclination_deg"]), "per degree")
res = design.optimize(problem, start, vary=("inclination_deg",), steps=15, learning_rate=2.0,
                      temperature=(2.0, 0.5), bounds={"inclination_deg": (30.0, 80.0)}, rescore_every=5)
ex = res["exact"]
for s, inc, v in zip(ex.step.values, ex.inclination_deg.values, ex.percent_time_covered_band.values):
    print(f"step {int(s):2d}: inclination {inc:5.2f} deg -> exact {v:5.2f} % of time covered over 40-56 deg")"""),
    ("code", """hist = res["history"]
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 3.5), constrained_layout=True)
ax1.plot([h["inclination_deg"] for h in hist]); ax1.set_xlabel("step"); ax1.set_ylabel("inclination (deg)")
ax2.plot([-h["loss"] for h in hist], label="relaxed")
ax2.plot(ex.step, ex.percent_time_covered_band, "o", label="exact (re-scored)")
ax2.set_xlabel("step"); ax2.set_ylabel("% time covered, 40-56 deg"); ax2.legend();"""),
    ("md", """The known-answer comparison at full size (exact grid search, differential evolution and random
search at the same budget, evaluations to target) is `benchmarks/design_known_answer.py`; its numbers are
in `benchmarks/RESULTS.md` and `docs/design_studies.md`."""),
]

nb = nbf.v4.new_notebook()
nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
nb.cells = [nbf.v4.new_markdown_cell(src) if kind == "md" else nbf.v4.new_code_cell(src) for kind, src in cells]
out = Path(__file__).with_name("design_study.ipynb")
if "--execute" in sys.argv[1:]:
    from nbclient import NotebookClient  # noqa: PLC0415 (in the test extra)

    NotebookClient(nb, timeout=3600, kernel_name="python3", resources={"metadata": {"path": str(out.parent)}}).execute()
nbf.write(nb, out)
print(f"wrote {out}")
