"""Scale-out: one process vs a Dask LocalCluster, and blocks merged in random order.

Full Kuiper constellation (3,236 satellites), 60 s steps, 0.5 deg grid, WGS84 and
event timing (the defaults), no raster or positions kept. Three ways:

1. one process: ``orbitjax.coverage`` (the sequential chunk loop), in a subprocess;
2. a ``distributed.LocalCluster`` of N single-threaded worker processes: the
   window cut into blocks, each a Dask task (``orbitjax.blocks.dask_results``),
   summaries merged in the fixed tree (what ``orbitjax run --workers N`` does);
3. the same block summaries merged in random orders (random arrival, random
   bracketing): figures equal to 1 within rounding.

Reports wall time (compute phase; cluster start-up separately), peak RSS of the
process and of each worker, the scheduling overhead per task (worker-seconds not
spent inside tasks, per task) and the checks: integer figures identical, float
figures within 1e-12 relative.

Usage: python benchmarks/bench_scaleout.py [--hours 6] [--resolution 0.5] [--workers 2] [--blocks 8]
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np


def _setup(hours, resolution):
    import orbitjax
    from orbitjax.timescales import time_grid

    sc = orbitjax.load_scenario("kuiper_falcon9")
    full = sc.stages()[-1].satellites
    times = time_grid(sc.analysis.start, hours * 3600.0, 60.0)
    kw = dict(resolution_deg=resolution, save_raster=False, save_positions=False, progress=False)
    return orbitjax, full, times, kw


def _figures(ds):
    return {k: ds[k].values for k in ds.data_vars if ds[k].dims[-2:] == ("lat", "lon")}


def single(args):
    orbitjax, full, times, kw = _setup(args.hours, args.resolution)
    t0 = time.perf_counter()
    ds = orbitjax.coverage(full, times, devices=1, **kw)
    wall = time.perf_counter() - t0
    np.savez(args.out, **_figures(ds))
    ru = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({"wall_s": wall, "rss_mb": ru.ru_maxrss / 1024, "cpu_s": ru.ru_utime + ru.ru_stime,
                      "steps": int(times.size), "sats": len(full), "load": os.getloadavg()[0]}))


def _peak_rss_mb():
    import resource as r

    return r.getrusage(r.RUSAGE_SELF).ru_maxrss / 1024


def _cpu_s():
    import resource as r

    ru = r.getrusage(r.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def cluster(args):
    from orbitjax.analysis import _dataset, _plan
    from orbitjax.blocks import TreeReducer, block_ranges, dask_client, dask_results, merge_summaries

    orbitjax, full, times, kw = _setup(args.hours, args.resolution)
    kw.pop("progress")
    plan = _plan(full, times, **kw)
    block_steps = -(-plan.n_t // args.blocks)
    ranges = block_ranges(plan, block_steps)
    todo = [(i, a, b) for i, (a, b) in enumerate(ranges)]
    t0 = time.perf_counter()
    with dask_client(workers=args.workers) as client:  # what `orbitjax run --workers N` starts
        startup = time.perf_counter() - t0
        client.get_task_stream()  # start recording
        t1 = time.perf_counter()
        results = sorted(dask_results(plan, todo, client), key=lambda r: r.index)
        compute_wall = time.perf_counter() - t1
        stream = [s for s in client.get_task_stream() if str(s["key"]).startswith("orbitjax-block")]
        busy = sum(p["stop"] - p["start"] for s in stream for p in s["startstops"] if p["action"] == "compute")
        worker_rss = client.run(_peak_rss_mb)
        worker_cpu = client.run(_cpu_s)
    overhead = (compute_wall * args.workers - busy) / len(todo)
    t2 = time.perf_counter()
    reducer = TreeReducer(len(todo))
    for r in results:
        reducer.add(r.index, r.summary)
    merge_s = time.perf_counter() - t2
    stats = sum(r.stats for r in results)
    failed = sum(r.failed for r in results)
    fraction = np.concatenate([r.fraction for r in results], axis=1)
    state, timed = reducer.result()
    ds = _dataset(plan, full, state, timed, fraction, None, None, stats, failed, None)
    ref = dict(np.load(args.out))
    check_tree = _compare(_figures(ds), ref)
    # Random arrival order and random bracketing of the same summaries.
    rng = np.random.default_rng(0)
    checks = []
    for _ in range(args.orders):
        items = [r.summary for r in results]
        while len(items) > 1:
            i = int(rng.integers(0, len(items) - 1))
            items[i:i + 2] = [merge_summaries(items[i], items[i + 1])]
        s, t = items[0]
        ds_r = _dataset(plan, full, s, t, fraction, None, None, stats, failed, None)
        checks.append(_compare(_figures(ds_r), ref))
    print(json.dumps({"startup_s": startup, "wall_s": compute_wall, "tasks": len(todo), "block_steps": block_steps,
                      "busy_s": busy, "overhead_per_task_s": overhead, "merge_s": merge_s,
                      "client_rss_mb": _peak_rss_mb(), "worker_rss_mb": sorted(worker_rss.values()),
                      "worker_cpu_s": sorted(worker_cpu.values()), "load": os.getloadavg()[0],
                      "tree": check_tree, "random_orders": checks}))


def _compare(got, want):
    out = {"ints_identical": True, "max_rel_float": 0.0}
    for k, w in want.items():
        g = got[k]
        if w.dtype.kind in "iu":
            out["ints_identical"] &= bool(np.array_equal(g, w))
        else:
            ok = np.isfinite(w) & np.isfinite(g)
            assert np.array_equal(np.isnan(g), np.isnan(w)), k
            rel = np.abs(g[ok] - w[ok]) / np.maximum(np.abs(w[ok]), 1e-300)
            out["max_rel_float"] = max(out["max_rel_float"], float(rel.max(initial=0.0)))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--hours", type=float, default=6.0)
    ap.add_argument("--resolution", type=float, default=0.5)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--blocks", type=int, default=8)
    ap.add_argument("--orders", type=int, default=3)
    ap.add_argument("--mode", choices=["single", "cluster"], help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.mode:  # as `orbitjax run` does, before JAX starts its threads; dask_client does it for the workers
        from orbitjax import tune_allocator  # (ORBITJAX_TUNE_MALLOC=0: glibc's defaults everywhere)

        tune_allocator()
    if args.mode == "single":
        return single(args)
    if args.mode == "cluster":
        return cluster(args)
    try:
        from _machine import describe
    except ImportError:
        from benchmarks._machine import describe
    print("machine:", describe(), "(shared with other jobs: timings are noisy)")
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "single.npz")
        common = [sys.executable, __file__, "--hours", str(args.hours), "--resolution", str(args.resolution),
                  "--workers", str(args.workers), "--blocks", str(args.blocks), "--orders", str(args.orders),
                  "--out", out]
        one = json.loads(subprocess.run(common + ["--mode", "single"], check=True, capture_output=True,
                                        text=True).stdout.strip().splitlines()[-1])
        print(f"one process: {one['sats']} satellites, {one['steps']} steps at {args.resolution} deg: "
              f"{one['wall_s']:.1f} s, peak RSS {one['rss_mb']:.0f} MB, CPU {one['cpu_s']:.0f} s "
          f"({one['cpu_s'] / one['wall_s']:.2f} cores busy; load average {one['load']:.1f} at the end)")
        many = json.loads(subprocess.run(common + ["--mode", "cluster"], check=True, capture_output=True,
                                         text=True).stdout.strip().splitlines()[-1])
    print(f"LocalCluster, {args.workers} workers: {many['wall_s']:.1f} s for {many['tasks']} tasks of "
          f"{many['block_steps']} steps (cluster start-up {many['startup_s']:.1f} s more); "
          f"speed-up {one['wall_s'] / many['wall_s']:.2f}x")
    print(f"  peak RSS per worker {', '.join(f'{m:.0f}' for m in many['worker_rss_mb'])} MB, "
          f"client {many['client_rss_mb']:.0f} MB; worker CPU {', '.join(f'{c:.0f}' for c in many['worker_cpu_s'])} s; "
          f"load average {many['load']:.1f} at the end")
    print(f"  scheduling overhead {many['overhead_per_task_s'] * 1e3:.0f} ms per task "
          f"(worker-seconds outside tasks / tasks); tree merge {many['merge_s']:.2f} s")
    print(f"  figures vs one process (fixed tree): integers identical: {many['tree']['ints_identical']}, "
          f"max relative float difference {many['tree']['max_rel_float']:.1e}")
    for i, c in enumerate(many["random_orders"]):
        print(f"  random order {i}: integers identical: {c['ints_identical']}, "
              f"max relative float difference {c['max_rel_float']:.1e}")


if __name__ == "__main__":
    main()
