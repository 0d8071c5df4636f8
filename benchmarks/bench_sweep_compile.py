"""Compile and run time of an elevation-mask sweep against the same job with one mask.

An elevation sweep (``coverage(..., elevation_sweep_deg=[...])``) computes every mask's
footprints, scatters and event timing. The masks run one after another in a loop that is
compiled once, so the first call of a sweep should cost about what one mask costs, plus
the extra masks' run time. This script runs the README's stage (KF-03, 72 satellites) over
3 h at 60 s on a 2 deg grid with 1, 3 and 10 masks, each in a fresh Python process with the
compile cache off, and prints each first call, its compile seconds (JAX's own timing) and
warm call, with the ratios to the one-mask job of the same run.

Usage: python benchmarks/bench_sweep_compile.py [--masks 1,3,10] [--hours 3] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

try:
    from _machine import describe
except ImportError:  # run from another directory
    from benchmarks._machine import describe

CHILD = r"""
import collections, json, sys, time
from jax._src import monitoring
seconds = collections.Counter()
def listen(event, duration, **kw):
    if event.endswith("backend_compile_duration"):
        seconds["compile"] += duration
monitoring.register_event_duration_secs_listener(listen)
import numpy as np
import orbitjax
n_masks, hours = int(sys.argv[1]), float(sys.argv[2])
sats = orbitjax.load_scenario("kuiper_falcon9").stages()[2].satellites
masks = list(np.linspace(0.0, 45.0, n_masks)) if n_masks > 1 else None
kw = dict(resolution_deg=2.0, progress=False, elevation_sweep_deg=masks)
window = ("2025-10-15T00:00Z", f"{hours}h")
t0 = time.perf_counter()
orbitjax.coverage(sats, window, **kw)
t1 = time.perf_counter()
orbitjax.coverage(sats, window, **kw)
t2 = time.perf_counter()
print(json.dumps(dict(first_call_s=t1 - t0, compile_s=seconds["compile"], warm_call_s=t2 - t1)))
"""


def run(n_masks: int, hours: float) -> dict:
    env = dict(os.environ, ORBITJAX_CACHE_DIR="off")
    out = subprocess.run([sys.executable, "-c", CHILD, str(n_masks), str(hours)], env=env, capture_output=True,
                         text=True, check=True)  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--masks", default="1,3,10", help="comma-separated mask counts (the first is the baseline)")
    ap.add_argument("--hours", type=float, default=3.0)
    ap.add_argument("--json", help="also write the numbers to this JSON file")
    args = ap.parse_args()
    counts = [int(x) for x in args.masks.split(",")]
    print("machine:", describe())
    rows = {n: run(n, args.hours) for n in counts}
    base = rows[counts[0]]
    for n, r in rows.items():
        print(f"{n:3d} masks: first call {r['first_call_s']:6.2f} s ({r['first_call_s'] / base['first_call_s']:4.2f}x)"
              f"   compile {r['compile_s']:6.2f} s ({r['compile_s'] / base['compile_s']:4.2f}x)"
              f"   warm call {r['warm_call_s']:5.2f} s ({r['warm_call_s'] / base['warm_call_s']:4.2f}x)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(dict(machine=describe(), hours=args.hours, rows=rows), f, indent=1)


if __name__ == "__main__":
    main()
