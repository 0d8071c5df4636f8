"""First-call time of the README's ``coverage()`` example, in a first and in a second process.

JAX compiles every kernel on its first call in a process. orbitjax turns on JAX's
persistent compilation cache (``ORBITJAX_CACHE_DIR``, default
``~/.cache/orbitjax/jax``), so a second process reuses the first one's compiled
kernels, and keeps the coverage chunk kernel's executables whole in its
``executables/`` folder (orbitjax/executable_store.py), so the second process
loads them without tracing or lowering. This script runs the README example as
written (``orbitjax.tune_allocator()``, then stage 3 of the bundled scenario, 1 day at
60 s, 1 deg grid) in two fresh Python processes sharing a new, empty cache folder,
and a third with the cache disabled, and prints each one's import time and
first-call time. One more row runs the job as it was when issue 7 was filed
(``earth_model="sphere", timing="sampled"``) in a second process: the README
example's default (WGS84, event-timed) has cost more since.

Usage: python benchmarks/bench_first_call.py [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

try:
    from _machine import describe
except ImportError:  # run from another directory
    from benchmarks._machine import describe

CHILD = r"""
import json, time
t0 = time.perf_counter()
import orbitjax
orbitjax.tune_allocator()  # the README example's first line
scenario = orbitjax.load_scenario("kuiper_falcon9")
sats = scenario.stages()[2].satellites
kw = json.loads(KWARGS)
t1 = time.perf_counter()
ds = orbitjax.coverage(sats, scenario.analysis.times, resolution_deg=1.0, progress=False, **kw)
t2 = time.perf_counter()
ds = orbitjax.coverage(sats, scenario.analysis.times, resolution_deg=1.0, progress=False, **kw)
t3 = time.perf_counter()
print(json.dumps(dict(import_and_load_s=t1 - t0, first_call_s=t2 - t1, warm_call_s=t3 - t2)))
"""


# The job as it was when issue 7 was filed: a spherical Earth and sampled figures (orbitjax 0.1's
# model, whose warm call the issue put at 1-2 s). The README example runs the default since
# (WGS84, event-timed figures): these rows separate what loading costs from what the timing does.
AS_FILED = {"earth_model": "sphere", "timing": "sampled"}


def run(cache: str, kwargs: dict | None = None) -> dict:
    env = dict(os.environ, ORBITJAX_CACHE_DIR=cache)
    child = CHILD.replace("KWARGS", repr(json.dumps(kwargs or {})))
    out = subprocess.run([sys.executable, "-c", child], env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", help="also write the numbers to this JSON file")
    args = ap.parse_args()
    print("machine:", describe())
    rows = {}
    with tempfile.TemporaryDirectory() as cache:
        rows["first process (empty cache)"] = run(cache)
        rows["second process (cache filled by the first)"] = run(cache)
        run(cache, AS_FILED)  # fills the cache for the next row
        rows["second process, sphere + sampled (as filed)"] = run(cache, AS_FILED)
    rows["cache disabled"] = run("off")
    for label, r in rows.items():
        print(f"{label:45s} import+load {r['import_and_load_s']:5.2f} s   first call {r['first_call_s']:6.2f} s   "
              f"warm call {r['warm_call_s']:5.2f} s")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(dict(machine=describe(), rows=rows), f, indent=1)


if __name__ == "__main__":
    main()
