"""Build notebooks/kuiper_falcon9_stages.ipynb (cells kept here so diffs stay readable).

Usage, after the README's test install (pip install -e ".[test]", which brings nbclient and ipykernel):

    python notebooks/make_notebook.py --execute    # build and run it in place (outputs saved)
    python notebooks/make_notebook.py              # build it without outputs

The test suite also executes it (tests/test_notebook.py), on a shorter window.
"""

import sys
from pathlib import Path

import nbformat as nbf

RUN_HINT = """*Run this notebook top to bottom with `python notebooks/make_notebook.py --execute` (after
`pip install -e ".[test]"`), or open it in Jupyter.*"""

cells = [
    ("md", """# Project Kuiper, launch by launch: coverage after each Falcon 9 stage

Amazon hired SpaceX for three Falcon 9 launches of Project Kuiper satellites: **KF-01** (2025-07-16),
**KF-02** (2025-08-11) and **KF-03** (2025-10-14), 24 satellites each into the 630 km / 51.9° shell.
This notebook uses orbitjax's public API to answer, after each stage: *which parts of the Earth are
covered, how often, by how many satellites, and with what gaps?* A fourth, reference stage is the full
3,236-satellite constellation authorized by the FCC in 2020.

The scenario (launch times, site, assumptions) is the bundled `data/kuiper_falcon9.toml`.

""" + RUN_HINT),
    ("code", """import os
import numpy as np
import matplotlib.pyplot as plt
import orbitjax
from orbitjax.summaries import summary_table, latitude_profile

# The test suite runs this notebook on a shorter window and a coarser grid.
DURATION = os.environ.get("ORBITJAX_NB_DURATION", "1d")
RESOLUTION = float(os.environ.get("ORBITJAX_NB_RESOLUTION", "1.0"))

scenario = orbitjax.load_scenario("kuiper_falcon9")
scenario = scenario.with_analysis(duration_s=orbitjax.timescales.parse_duration_s(DURATION),
                                  resolution_deg=RESOLUTION)
stages = scenario.stages()
for st in stages:
    print(f"stage {st.index}: {st.name:6s} {len(st.satellites):5d} satellites  launches: {', '.join(st.launches)}")"""),
    ("md", """## Coverage per stage

`orbitjax.stage_datasets` yields one `xarray.Dataset` per stage: the raster `visible_count(time, lat, lon)`,
`coverage_fraction(time)` and the figures of merit per cell (`percent_time_covered`, gaps, response time...)."""),
    ("code", """datasets = {st.name: ds for st, ds in orbitjax.stage_datasets(scenario, progress=False)}
ds = datasets["KF-03"]
ds"""),
    ("code", """fig, axes = plt.subplots(2, 2, figsize=(12, 6), constrained_layout=True)
for ax, (name, d) in zip(axes.ravel(), datasets.items()):
    im = ax.pcolormesh(d.lon, d.lat, d.percent_time_covered, vmin=0, vmax=100, shading="auto")
    ax.set_title(f"{name}: {d.sizes['sat']} satellites")
fig.colorbar(im, ax=axes, label="% of time with >= 1 satellite above 35 deg");"""),
    ("md", "## Coverage fraction over time\n\nThe area-weighted share of the Earth's surface that sees at least one satellite, at every time step."),
    ("code", """fig, ax = plt.subplots(figsize=(10, 3.5))
for name, d in datasets.items():
    d.coverage_fraction.plot(ax=ax, label=name)
ax.set_ylabel("coverage fraction"); ax.set_ylim(0, 1); ax.legend(); ax.grid(alpha=0.3);"""),
    ("md", "## Latitude profiles and a snapshot\n\nZonal means of the time covered, and how many satellites each cell sees at the first time step of the full constellation."),
    ("code", """fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 3.8), constrained_layout=True)
for name, d in datasets.items():
    prof = latitude_profile(d.percent_time_covered)
    ax1.plot(prof.lat, prof, label=name)
ax1.set_xlabel("latitude (deg)"); ax1.set_ylabel("% time covered"); ax1.legend()
full = datasets["full"]
full.visible_count.isel(time=0).plot(ax=ax2, cmap="magma")
ax2.set_title(f"satellites in view at {str(full.time.values[0])[:16]} UTC");"""),
    ("md", """## Gaps, revisits and multiplicity

The figures of merit are streamed over time chunks, so they cost no raster memory. Left: the longest gap
between passes after three launches. Right: how much of the time the full constellation gives at least
two satellites (N-asset coverage)."""),
    ("code", """fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 3.8), constrained_layout=True)
(datasets["KF-03"].max_gap_s / 60).plot(ax=ax1, cmap="inferno_r", cbar_kwargs={"label": "max gap (min)"})
ax1.set_title("KF-03: longest gap")
datasets["full"].percent_time_covered_n.sel(n_assets=2).plot(ax=ax2, vmin=0, vmax=100)
ax2.set_title("full constellation: % time with >= 2 satellites");"""),
    ("md", "## The stages side by side"),
    ("code", """rows = [summary_table(d) for d in datasets.values()]
keys = ["stage_name", "n_satellites", "mean_coverage_fraction", "percent_time_covered_global",
        "percent_time_covered_land", "continuous_band_deg", "mean_response_time_s"]
print(" | ".join(keys))
for r in rows:
    print(" | ".join(str(round(r[k], 3)) if isinstance(r[k], float) else str(r[k]) for k in keys))"""),
    ("md", """Each Falcon 9 stage adds one orbital plane: 24 satellites cover about 9 % of the Earth at any instant,
72 about 24 %, with the best time coverage near the 51.9° turning latitudes where the ground tracks
bunch up. The full constellation covers every cell between about 58° S and 58° N all of the time.
`orbitjax.run(scenario, "out")` writes the same datasets as one NetCDF file per stage, and
`orbitjax compare out` tabulates and plots them."""),
    ("md", """## Bent-pipe service, cone sensors and daylight

Before its inter-satellite links are up, a broadband satellite serves users only while it also sees one of the
operator's gateways. `gateways=` (or `[[gateways]]` in the scenario, `--gateways FILE` on the command line) masks
every satellite at every time step in which no gateway sees it above the gateway's mask, and records which
satellites were usable. The five sites below are illustrative, not Kuiper's real gateways. Imaging satellites
instead carry a nadir-pointing cone (`half_angle_deg`) and need daylight at the target (`sun_elevation_min_deg`);
each is still one exact longitude interval per grid row ([docs/sensors.md](../docs/sensors.md))."""),
    ("code", """gateways = orbitjax.Gateways(orbitjax.Sites.from_rows([
    ("Redmond", 47.67, -122.12), ("Kansas City", 39.10, -94.58), ("Atlanta", 33.75, -84.39),
    ("Madrid", 40.42, -3.70), ("Sydney", -33.87, 151.21)]), 25.0)  # 25 deg gateway mask
times = scenario.analysis.times
served = orbitjax.coverage(stages[2].satellites, times, resolution_deg=RESOLUTION, gateways=gateways)
print(f"KF-03: {float(served.n_usable_satellites.mean()):.1f} of {served.sizes['sat']} satellites usable per step; "
      f"% time covered, area-weighted: {summary_table(datasets['KF-03'])['percent_time_covered_global']:.1f} "
      f"without gateways, {summary_table(served)['percent_time_covered_global']:.1f} bent pipe")
sso = orbitjax.walker(altitude_km=550, inclination_deg=97.6, planes=6, sats_per_plane=10, phasing=1,
                      min_elevation_deg=0, epoch=scenario.analysis.start)
imaging = orbitjax.coverage(sso, times, resolution_deg=RESOLUTION, half_angle_deg=30.0, sun_elevation_min_deg=10.0)
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 3.8), constrained_layout=True)
served.percent_time_covered.plot(ax=ax1, vmin=0, vmax=100, cbar_kwargs={"label": "% time served"})
gw = gateways.sites
ax1.plot(gw.lon_deg, gw.lat_deg, "r^")
ax1.set_title("KF-03, bent pipe through five gateways")
imaging.percent_time_covered.plot(ax=ax2, cmap="cividis", cbar_kwargs={"label": "% time imaged"})
ax2.set_title("60 SSO imagers: 30 deg cone, Sun >= 10 deg");"""),
]

nb = nbf.v4.new_notebook()
nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
nb.cells = [nbf.v4.new_markdown_cell(src) if kind == "md" else nbf.v4.new_code_cell(src) for kind, src in cells]
out = Path(__file__).with_name("kuiper_falcon9_stages.ipynb")
if "--execute" in sys.argv[1:]:
    from nbclient import NotebookClient  # noqa: PLC0415 (in the test extra)

    NotebookClient(nb, timeout=3600, kernel_name="python3", resources={"metadata": {"path": str(out.parent)}}).execute()
nbf.write(nb, out)
print(f"wrote {out}")
