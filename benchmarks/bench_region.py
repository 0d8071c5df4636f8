"""A regional grid against the global grid at the same resolution: CONUS at 0.05 deg, full Kuiper.

Job: the full Kuiper constellation of the bundled scenario (3,236 satellites),
60 s steps, WGS84 and event timing (the defaults), on the CONUS box 24-50 N,
125-66 W at 0.05 deg (520 x 1,180 = 613,600 cells), against the same run on the
global 0.05 deg grid (3,600 x 7,200 = 25.9 M cells), whose cells at the box are
the same cells. Each run is a separate process (peak RSS is a per-process high
water mark); each process first runs one chunk to compile, then times the window.

The global 0.05 deg grid with event timing does not fit this 24 GiB machine
(its first step passed 15 GB of resident memory; orbitjax.memory estimates 8.2
GB), so both grids are compared on the same short window (``--steps``, default
10) at 0.1 deg with event timing (``--resolution 0.1``) and at 0.05 deg with
sampled figures (``--timing sampled``), and the regional grid alone runs the
whole day at 0.05 deg (``--day --steps 0``, about 45 min on 2 shared cores). The regional figures are checked against the global run's at the
box's cells (they must agree to rounding: same kernel, same cells).

Usage: python benchmarks/bench_region.py [--steps 10] [--day] [--resolution 0.05] [--timing exact|sampled]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

CONUS = (24.0, 50.0, -125.0, -66.0)


def one(kind: str, steps: int, resolution: float, out: str, timing: str = "exact") -> None:
    import orbitjax
    from orbitjax.analysis import default_chunk_steps, padded_sat_count
    from orbitjax.kernels.coverage import footprint_lat_span, rows_per_footprint
    from orbitjax.kernels.grid import make_grid
    from orbitjax.propagation import max_radius_km
    from orbitjax.timescales import time_grid

    sc = orbitjax.load_scenario("kuiper_falcon9")
    sats = sc.stages()[-1].satellites
    region = CONUS if kind == "regional" else None
    grid = make_grid(resolution, region=region)
    n_pad = padded_sat_count(len(sats))
    lam = float(footprint_lat_span(max_radius_km(sats), np.radians(sats.min_elevation_deg.min())))
    exact = timing == "exact"
    chunk = default_chunk_steps(n_pad, rows_per_footprint(grid, lam), grid, 1, 8 if exact else 2, exact)
    kw = dict(resolution_deg=resolution, region=region, save_raster=False, save_positions=False, progress=False,
              chunk_steps=chunk, step_s=60.0, timing=timing)
    t0 = time.perf_counter()
    orbitjax.coverage(sats, time_grid(sc.analysis.start, chunk * 60.0, 60.0), **kw)  # compile
    first = time.perf_counter() - t0
    times = time_grid(sc.analysis.start, steps * 60.0, 60.0)
    t0 = time.perf_counter()
    ds = orbitjax.coverage(sats, times, **kw)
    wall = time.perf_counter() - t0
    if kind == "global":  # keep the box's cells for the comparison
        ds = ds.sel(lat=slice(CONUS[0], CONUS[1]), lon=slice(CONUS[2], CONUS[3]))
    np.savez(out, **{k: ds[k].values for k in ("percent_time_covered", "max_gap_s", "mean_response_time_s")},
             lat=ds.lat.values, lon=ds.lon.values)
    info = {"kind": kind, "steps": int(times.size), "cells": grid.n_lat * grid.n_lon, "chunk_steps": chunk,
            "first_chunk_s": first, "wall_s": wall, "s_per_step": wall / times.size,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "timed_cell_steps": int(ds.attrs["timed_cell_steps"])}
    print(json.dumps(info), flush=True)


def run_child(kind, steps, resolution, out, timing="exact") -> dict:
    proc = subprocess.run([sys.executable, __file__, "--single", kind, "--steps", str(steps),
                           "--resolution", str(resolution), "--out", out, "--timing", timing],
                          capture_output=True, text=True)
    if proc.returncode:
        sys.exit(f"{kind} run failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=10, help="common window for both grids, in 60 s steps (0: skip)")
    ap.add_argument("--day", action="store_true", help="also time the regional grid over 1 day (1,440 steps)")
    ap.add_argument("--resolution", type=float, default=0.05)
    ap.add_argument("--timing", choices=["exact", "sampled"], default="exact")
    ap.add_argument("--single", help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.single:
        one(args.single, args.steps, args.resolution, args.out, args.timing)
        return
    try:
        from _machine import describe
    except ImportError:
        from benchmarks._machine import describe
    print("machine:", describe())
    print(f"full Kuiper (3,236 satellites), 60 s steps, WGS84, timing {args.timing}, {args.resolution:g} deg; "
          f"CONUS box {CONUS}")
    with tempfile.TemporaryDirectory() as tmp:
        if args.steps:
            compare(args, tmp)
        if args.day:
            d = run_child("regional", 1440, args.resolution, str(Path(tmp) / "day.npz"), args.timing)
            print(f"regional, 1 day (1,440 steps, chunks of {d['chunk_steps']}): {d['wall_s']:.1f} s "
                  f"({d['s_per_step']:.3f} s/step), peak RSS {d['peak_rss_mb']:.0f} MB, "
                  f"{d['timed_cell_steps']:,} timed cell-steps")


def compare(args, tmp) -> None:
    """Both grids on the same short window: time, memory, and the figures at the box's cells."""
    res = {}
    for kind in ("regional", "global"):
        res[kind] = run_child(kind, args.steps, args.resolution, str(Path(tmp) / f"{kind}.npz"), args.timing)
        r = res[kind]
        print(f"{kind:>8}: {r['cells']:>10,} cells, {r['steps']} steps (chunks of {r['chunk_steps']}): "
              f"{r['wall_s']:.1f} s = {r['s_per_step']:.3f} s/step, first chunk (compile) "
              f"{r['first_chunk_s']:.1f} s, peak RSS {r['peak_rss_mb']:.0f} MB", flush=True)
    a = np.load(Path(tmp) / "regional.npz")
    b = np.load(Path(tmp) / "global.npz")
    assert a["percent_time_covered"].shape == b["percent_time_covered"].shape
    np.testing.assert_allclose(a["lat"], b["lat"], atol=1e-9)
    np.testing.assert_allclose(a["lon"], b["lon"], atol=1e-9)
    diffs = {k: float(np.nanmax(np.abs(a[k] - b[k]))) for k in ("percent_time_covered", "max_gap_s",
                                                                "mean_response_time_s")}
    print("regional vs global at the box's cells, max |difference|:",
          ", ".join(f"{k} {v:.2g}" for k, v in diffs.items()))
    g, r = res["global"], res["regional"]
    print(f"speed-up {g['s_per_step'] / r['s_per_step']:.1f}x per step; peak memory "
          f"{g['peak_rss_mb']:.0f} MB -> {r['peak_rss_mb']:.0f} MB ({g['peak_rss_mb'] / r['peak_rss_mb']:.1f}x less); "
          f"cells {g['cells'] / r['cells']:.1f}x fewer")


if __name__ == "__main__":
    main()
