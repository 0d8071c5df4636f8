"""Benchmark: orbitjax.access against looping Skyfield's find_events over the same (site, satellite) pairs.

72 satellites (data/kuiper_falcon9_synthetic.tle: the three Falcon 9 launches,
SGP4) x 100 sites (uniform on the sphere, seeded) x 1 day from 2025-10-15,
35 deg mask. orbitjax: one call, best of N after a first (compiling) call.
Skyfield: ``EarthSatellite.find_events`` timed on a random subset of pairs and
extrapolated to all pairs (stated in the output). Also prints the agreement on
the subset: pass counts and rise/set differences (find_events resolves events to
0.5 s; see tests/test_access.py for the 1 ms comparison).

Run:  python benchmarks/bench_access.py [--pairs 300] [--repeats 5]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

import orbitjax

try:
    from _machine import describe
except ImportError:  # run from another directory
    from benchmarks._machine import describe

TLE = Path(__file__).resolve().parents[1] / "data" / "kuiper_falcon9_synthetic.tle"
START = "2025-10-15T00:00:00"
MASK_DEG = 35.0


def random_sites(n: int, seed: int = 3):
    rng = np.random.default_rng(seed)
    lat = np.degrees(np.arcsin(rng.uniform(-1.0, 1.0, n)))
    lon = rng.uniform(-180.0, 180.0, n)
    return [(f"site{i:03d}", float(a), float(o), 0.0) for i, (a, o) in enumerate(zip(lat, lon))]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pairs", type=int, default=300, help="Skyfield pairs timed (extrapolated to all)")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--sites", type=int, default=100)
    args = ap.parse_args()

    sats = orbitjax.read_tle(TLE)
    sites = random_sites(args.sites)
    n_pairs = len(sats) * len(sites)
    print(f"machine: {describe()}")
    print(f"work: {len(sats)} satellites x {len(sites)} sites = {n_pairs} pairs, 1 day, mask {MASK_DEG} deg")

    t0 = time.perf_counter()
    report = orbitjax.access(sats, (START, "1d"), sites, min_elevation_deg=MASK_DEG)
    first = time.perf_counter() - t0
    times = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        report = orbitjax.access(sats, (START, "1d"), sites, min_elevation_deg=MASK_DEG)
        times.append(time.perf_counter() - t0)
    best = min(times)
    print(f"orbitjax.access: {len(report)} passes; first call {first:.2f} s (compilation), "
          f"best of {args.repeats} {best:.3f} s, median {np.median(times):.3f} s; "
          f"max Newton polish step {report.passes.attrs['max_polish_step_s'] * 1e3:.3f} ms")

    from skyfield.api import EarthSatellite, load, wgs84

    ts = load.timescale(builtin=True)
    lines = TLE.read_text().splitlines()
    sky_sats = [EarthSatellite(lines[i + 1], lines[i + 2], lines[i].strip(), ts) for i in range(0, len(lines), 3)]
    t_start = ts.utc(2025, 10, 15)
    t_end = ts.utc(2025, 10, 16)
    rng = np.random.default_rng(11)
    chosen = rng.choice(n_pairs, size=min(args.pairs, n_pairs), replace=False)
    p = report.passes
    count_equal, diffs = 0, []
    t0 = time.perf_counter()
    results = []
    for pair in chosen:
        i_site, i_sat = divmod(int(pair), len(sats))
        name, lat, lon, alt = sites[i_site]
        t, e = sky_sats[i_sat].find_events(wgs84.latlon(lat, lon, alt), t_start, t_end, altitude_degrees=MASK_DEG)
        results.append((name, i_sat, t, e))
    sky_time = time.perf_counter() - t0
    per_pair = sky_time / len(chosen)
    sky_all = per_pair * n_pairs
    for name, i_sat, t, e in results:
        mine = (p.site.values == name) & (p.sat.values == sats.name[i_sat])
        ours = np.concatenate([p.rise_utc.values[mine & ~p.open_at_start.values],
                               p.set_utc.values[mine & ~p.open_at_end.values]])
        sky = np.array([x.timestamp() for x in t[e != 1].utc_datetime()]) if np.any(e != 1) else np.empty(0)
        if sky.size == ours.size:
            count_equal += 1
            diffs.extend(np.abs(np.sort(sky) - np.sort(ours.astype(np.int64) / 1e9)))
    print(f"Skyfield find_events: {len(chosen)} pairs in {sky_time:.2f} s = {per_pair * 1e3:.2f} ms/pair; "
          f"extrapolated to {n_pairs} pairs: {sky_all:.1f} s")
    print(f"agreement on the subset: pass counts equal for {count_equal}/{len(chosen)} pairs; "
          f"max |rise/set difference| {max(diffs) if diffs else 0:.3f} s (find_events' 0.5 s resolution)")
    print(f"ratio (Skyfield extrapolated / orbitjax best): {sky_all / best:.0f}x "
          f"(median: {sky_all / np.median(times):.0f}x)")


if __name__ == "__main__":
    main()
