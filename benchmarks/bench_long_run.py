"""A 30-day run at 60 s on a 0.5 deg grid in bounded memory (figures of merit streamed).

The full time x lat x lon raster of this job would be 43,200 x 360 x 720 =
11.2 G cells (11 GB as uint8); here it is never held: the chunks are folded into
the figures-of-merit state and only those per-cell figures are kept. Prints wall
time and the process's peak resident memory, and, for comparison, the peak of a
1-day run of the same job (bounded memory means the two are about the same).

Usage: python benchmarks/bench_long_run.py [--days 30] [--resolution 0.5] [--stage full]
"""

import argparse
import resource
import subprocess
import sys
import time


def one(days, resolution, stage):
    import orbitjax
    from orbitjax.timescales import time_grid

    sc = orbitjax.load_scenario("kuiper_falcon9")
    st = {s.name: s for s in sc.stages()}[stage]
    times = time_grid(sc.analysis.start, days * 86400.0, 60.0)
    t0 = time.perf_counter()
    ds = orbitjax.coverage(st.satellites, times, resolution_deg=resolution, save_raster=False,
                           save_positions=False, progress=False)
    wall = time.perf_counter() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    cells = times.size * ds.sizes["lat"] * ds.sizes["lon"]
    print(f"{days:g} days, {times.size} steps, {resolution} deg, {len(st.satellites)} satellites: "
          f"{wall:.1f} s, {cells / wall / 1e6:.1f} M cell-steps/s, peak RSS {peak_mb:.0f} MB, "
          f"raster it did not hold: {cells / 1e9:.1f} G cells; area-weighted mean % time covered "
          f"{float(orbitjax.summaries.area_mean(ds.percent_time_covered)):.2f}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--days", type=float, default=30)
    ap.add_argument("--resolution", type=float, default=0.5)
    ap.add_argument("--stage", default="full")
    ap.add_argument("--single", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.single:
        one(args.days, args.resolution, args.stage)
        return
    try:
        from _machine import describe
    except ImportError:
        from benchmarks._machine import describe
    print("machine:", describe())
    for days in (1, args.days):  # separate processes: ru_maxrss is a per-process high-water mark
        subprocess.run([sys.executable, __file__, "--single", "--days", str(days), "--resolution",
                        str(args.resolution), "--stage", args.stage], check=True)


if __name__ == "__main__":
    main()
