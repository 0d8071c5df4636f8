"""The README's main job end to end (`orbitjax run`) against a cKDTree baseline of its counting.

`orbitjax run` on the bundled scenario: four cumulative stages (24, 48, 72 and 3,236
satellites), 1 day at 60 s, 1 deg grid, WGS84 and event-timed figures, one NetCDF file
per stage with the raster and positions: everything from the process start to the
summary table. It runs in fresh processes three ways:

* first run: a new, empty compile cache folder (every kernel compiles);
* second run: the cache the first run filled (what a user's later runs cost);
* cache off: ``ORBITJAX_CACHE_DIR=off`` (compiles again, nothing stored);
* the run as it was when issue 7 was filed (``--earth-model sphere --timing sampled``,
  orbitjax 0.1's model), cache filled: what compiling, loading and writing cost now
  for the work the issue's 19 s did; the default has timed events inside steps since.

Baseline: the same four stages' counting alone (no figures, no files), with scipy's
cKDTree as in ``bench_coverage.py`` (one ball query per satellite and step over the
cell-centre unit vectors, spherical criterion), timed on ``--baseline-steps`` steps per
stage and scaled to the day. The propagation it needs is not timed. The ratio printed
is the baseline's time over each run's wall time (issue 7's end-to-end ratio).

Usage: python benchmarks/bench_default_run.py [--baseline-steps 120] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

try:
    from _machine import describe
    from bench_coverage import ckdtree_counts
except ImportError:  # run from another directory
    from benchmarks._machine import describe
    from benchmarks.bench_coverage import ckdtree_counts


# The run as it was when issue 7 was filed (its 19 s): a spherical Earth and sampled figures.
AS_FILED = ["--earth-model", "sphere", "--timing", "sampled"]


def timed_run(out_dir: str, cache: str, extra=()) -> dict:
    """Wall time of ``orbitjax run --out out_dir [extra]`` in a fresh process, and its stage lines."""
    env = dict(os.environ, ORBITJAX_CACHE_DIR=cache)
    cmd = [sys.executable, "-m", "orbitjax", "run", "--out", out_dir, *extra]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"bench_default_run: `orbitjax run` failed (exit {proc.returncode}): "
                         f"{proc.stderr.strip().splitlines()[-1:]}")
    computed = [float(line.rsplit(" in ", 1)[1].split()[0]) for line in proc.stderr.splitlines()
                if ": computed in " in line]
    return dict(wall_s=wall, stage_compute_s=computed)


def baseline(n_steps: int) -> dict:
    """cKDTree counting of every stage on the first ``n_steps`` steps, scaled to the whole window."""
    import orbitjax
    from orbitjax.kernels.grid import make_grid
    from orbitjax.propagation import propagate_arrays

    sc = orbitjax.load_scenario("kuiper_falcon9")
    times = sc.analysis.times
    grid = make_grid(sc.analysis.resolution_deg, "sphere")

    def count_s(sats, n):
        """Seconds the baseline counts the first ``n`` steps (the propagation untimed)."""
        pos = np.swapaxes(propagate_arrays(sats, times[:n], frame="ecef")[0], 0, 1)
        t0 = time.perf_counter()
        ckdtree_counts(pos, np.radians(sats.min_elevation_deg), grid)
        return time.perf_counter() - t0

    stages = sc.stages()
    count_s(stages[0].satellites, 2)  # untimed: scipy's first query pays its thread pool's start
    rows = []
    for stage in stages:
        sats = stage.satellites
        t = count_s(sats, n_steps)
        rows.append(dict(stage=stage.name, satellites=len(sats), measured_s=t, day_s=t * times.size / n_steps))
    return dict(steps_timed=n_steps, steps=int(times.size), stages=rows, total_s=sum(r["day_s"] for r in rows))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--baseline-steps", type=int, default=120, help="steps per stage the baseline is timed on")
    ap.add_argument("--json", help="also write the numbers to this JSON file")
    args = ap.parse_args()
    print("machine:", describe())
    runs = {}
    with tempfile.TemporaryDirectory() as tmp:
        cache = os.path.join(tmp, "cache")
        runs["first run (empty cache)"] = timed_run(os.path.join(tmp, "a"), cache)
        runs["second run (cache filled)"] = timed_run(os.path.join(tmp, "b"), cache)
        runs["cache off"] = timed_run(os.path.join(tmp, "c"), "off")
        timed_run(os.path.join(tmp, "d"), cache, AS_FILED)  # fills the cache for the next one
        runs["sphere + sampled (as filed), cache filled"] = timed_run(os.path.join(tmp, "e"), cache, AS_FILED)
    base = baseline(args.baseline_steps)
    for r in base["stages"]:
        print(f"cKDTree baseline {r['stage']:6s} {r['satellites']:5d} satellites: {r['measured_s']:6.2f} s for "
              f"{base['steps_timed']} steps -> {r['day_s']:7.1f} s for {base['steps']}")
    print(f"cKDTree baseline, four stages' counting: {base['total_s']:.1f} s")
    for label, r in runs.items():
        r["ratio"] = base["total_s"] / r["wall_s"]
        stages = " / ".join(f"{s:.1f}" for s in r["stage_compute_s"])
        print(f"orbitjax run, {label:42s} {r['wall_s']:6.1f} s wall (stages computed in {stages} s)"
              f"  -> {r['ratio']:5.1f}x the baseline")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(dict(machine=describe(), runs=runs, baseline=base), f, indent=1)


if __name__ == "__main__":
    main()
