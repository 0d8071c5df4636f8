"""Design study throughput: ``orbitjax.study`` (batched) vs a Python loop over ``coverage()``.

Job (issue 11): 256 random Walker designs of 300-1,200 satellites (P 15-35,
S 20-34, F 0..P-1, 500-700 km, 30-70 deg, 35 deg mask), 1 day at 60 s on a 2 deg
WGS84 grid, event-timed figures. Both sides compute the same per-design figures
in the same process, from cold compilation (the persistent cache is off); the
loop runs on a subset of the designs (``--loop-designs``) and is extrapolated by
its designs per second, and its figures are checked equal to the study's.

Also times one gradient evaluation of the relaxed objective
(:func:`orbitjax.design.relaxed_objective`, ``jax.value_and_grad``) against one
exact evaluation (``coverage()``) of the same design.

Usage: python benchmarks/bench_study.py [--designs 256] [--loop-designs 16] [--duration 1d]
           [--resolution 2] [--batch-size 8] [--timing exact|sampled] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import time

os.environ.setdefault("ORBITJAX_CACHE_DIR", "off")  # cold compiles on both sides

import jax  # noqa: E402
import numpy as np  # noqa: E402

import orbitjax  # noqa: E402
from orbitjax import studies as st  # noqa: E402
from orbitjax.timescales import parse_duration_s  # noqa: E402

try:
    from _machine import describe
except ImportError:  # run from another directory
    from benchmarks._machine import describe


def designs(n: int, seed: int = 0):
    return st.walker_sample(n, jax.random.key(seed), altitude_km=(500, 700), inclination_deg=(30, 70),
                            planes=(15, 35), sats_per_plane=(20, 34), phasing=(0, 34), min_elevation_deg=35.0)


def loop(table, idx, times, args):
    """The baseline: one coverage() per design, reduced to the same figures."""
    rows = []
    for i in idx:
        c = orbitjax.walker(**{k: table[k][i].item() for k in table}, epoch=times[0], shell=f"d{i}")
        ds = orbitjax.coverage(c, times, resolution_deg=args.resolution, timing=args.timing,
                               save_raster=False, save_positions=False, progress=False)
        cells = {k: ds[k].values[None] for k in ("percent_time_covered", "percent_time_covered_n",
                                                  "max_gap_s", "mean_response_time_s")}
        rows.append(st.design_figures(cells, ds.area_weight.values, ds.lat.values, (40, 56)))
    return {k: np.concatenate([r[k] for r in rows]) for k in rows[0]}


def gradient_vs_exact(times, args):
    from orbitjax import design

    c = orbitjax.walker(altitude_km=590, inclination_deg=45, planes=28, sats_per_plane=28, phasing=1,
                        min_elevation_deg=35, epoch=times[0])
    # The relaxed objective on every cell of the 40-56 deg band (no thinning), same samples as coverage().
    problem = design.WalkerProblem(planes=28, sats_per_plane=28, min_elevation_deg=35, times=times,
                                   resolution_deg=args.resolution, band_deg=(40, 56), chunk=8)
    params = problem.initial_params(altitude_km=590, inclination_deg=45, phasing=1)
    f = jax.jit(jax.value_and_grad(lambda p: design.relaxed_objective(p, problem, 0.5)))
    t = time.perf_counter()
    jax.block_until_ready(f(params))
    first = time.perf_counter() - t
    t = time.perf_counter()
    jax.block_until_ready(f(params))
    grad_s = time.perf_counter() - t
    orbitjax.coverage(c, times, resolution_deg=args.resolution, progress=False, save_raster=False,
                      save_positions=False)  # compile
    t = time.perf_counter()
    orbitjax.coverage(c, times, resolution_deg=args.resolution, progress=False, save_raster=False,
                      save_positions=False)
    exact_s = time.perf_counter() - t
    return {"n_satellites": len(c), "grad_first_s": first, "grad_s": grad_s, "exact_s": exact_s}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--designs", type=int, default=256)
    p.add_argument("--loop-designs", type=int, default=16)
    p.add_argument("--duration", default="1d")
    p.add_argument("--resolution", type=float, default=2.0)
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--timing", default="exact", choices=["exact", "sampled"])
    p.add_argument("--no-gradient", action="store_true")
    p.add_argument("--only-gradient", action="store_true")
    p.add_argument("--json")
    args = p.parse_args()
    print(describe())
    n_steps = int(round(parse_duration_s(args.duration) / 60))
    times = np.datetime64("2025-10-15T00:00") + np.arange(n_steps) * np.timedelta64(60, "s")
    if args.only_gradient:
        g = gradient_vs_exact(times, args)
        print(f"gradient (value_and_grad, {g['n_satellites']} sats): {g['grad_s']:.2f} s "
              f"(first call {g['grad_first_s']:.1f} s); exact coverage(): {g['exact_s']:.2f} s; "
              f"ratio {g['grad_s'] / g['exact_s']:.2f}")
        return
    table = designs(args.designs)
    n_sat = table["planes"] * table["sats_per_plane"]
    print(f"{args.designs} Walker designs, {n_sat.min()}-{n_sat.max()} satellites (mean {n_sat.mean():.0f}), "
          f"{n_steps} steps of 60 s, {args.resolution} deg grid, timing={args.timing}")

    t = time.perf_counter()
    ds = st.study(table, times, resolution_deg=args.resolution, band_deg=(40, 56), batch_size=args.batch_size,
                  timing=args.timing, progress=False)
    study_s = time.perf_counter() - t
    print(f"study:  {study_s:8.1f} s  {args.designs / study_s:8.3f} designs/s  (batch_size {args.batch_size})")

    # The loop runs on evenly spread designs (sorted by size), so it sees the same size mix.
    idx = np.argsort(n_sat)[np.linspace(0, args.designs - 1, min(args.loop_designs, args.designs)).astype(int)]
    t = time.perf_counter()
    ref = loop(table, idx, times, args)
    loop_s = time.perf_counter() - t
    loop_rate = len(idx) / loop_s
    print(f"loop:   {loop_s:8.1f} s  {loop_rate:8.3f} designs/s  ({len(idx)} designs; "
          f"{args.designs / loop_rate:.0f} s extrapolated to {args.designs})")
    for k in ref:
        assert np.array_equal(ref[k], ds[k].values[idx], equal_nan=True), k
    print(f"figures equal on the {len(idx)} looped designs; speed-up {(args.designs / study_s) / loop_rate:.2f}x")
    out = {"designs": args.designs, "loop_designs": len(idx), "steps": n_steps, "resolution_deg": args.resolution,
           "batch_size": args.batch_size, "study_s": study_s, "loop_s": loop_s,
           "study_designs_per_s": args.designs / study_s, "loop_designs_per_s": loop_rate,
           "speedup": (args.designs / study_s) / loop_rate, "machine": describe()}
    if not args.no_gradient:
        g = gradient_vs_exact(times, args)
        print(f"gradient (value_and_grad, {g['n_satellites']} sats): {g['grad_s']:.2f} s "
              f"(first call {g['grad_first_s']:.1f} s); exact coverage(): {g['exact_s']:.2f} s; "
              f"ratio {g['grad_s'] / g['exact_s']:.2f}")
        out["gradient"] = g
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(out, fh, indent=1)


if __name__ == "__main__":
    main()
