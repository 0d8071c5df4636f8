"""Cost of the cone, daylight and gateway constraints on one coverage run.

Job: a sun-synchronous imaging shell (6 x 10 satellites, 550 km, 97.6 deg),
6 h at 60 s on a 2 deg WGS84 grid, event timing (the default), run four ways:
the horizon mask alone (the baseline: what orbitjax computed before these
constraints), plus a 30 deg nadir cone, plus the Sun at least 10 deg up, plus
two polar gateways (Svalbard, Troll, 5 deg masks). Each variant runs twice;
the second call (compiled) is timed and divided by the baseline's. Also printed:
the area-weighted percent of time covered and the mean response time, to show
what each constraint does.

Run: ``python benchmarks/bench_sensors.py [--hours 6] [--resolution 2]``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import orbitjax

try:
    from _machine import describe
except ImportError:  # run from another directory
    from benchmarks._machine import describe


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--hours", type=float, default=6.0)
    ap.add_argument("--resolution", type=float, default=2.0)
    args = ap.parse_args()
    print(describe())
    sso = orbitjax.walker(altitude_km=550, inclination_deg=97.6, planes=6, sats_per_plane=10, phasing=1,
                          min_elevation_deg=0, epoch="2025-06-21")
    times = np.datetime64("2025-06-21") + np.arange(int(args.hours * 60)) * np.timedelta64(60, "s")
    gw = orbitjax.Gateways(orbitjax.Sites.from_rows([("Svalbard", 78.23, 15.41), ("Troll", -72.01, 2.54)]), 5.0)
    variants = [
        ("horizon only (baseline)", {}),
        ("+ cone 30 deg", dict(half_angle_deg=30.0)),
        ("+ cone + Sun >= 10 deg", dict(half_angle_deg=30.0, sun_elevation_min_deg=10.0)),
        ("+ cone + Sun + 2 gateways", dict(half_angle_deg=30.0, sun_elevation_min_deg=10.0, gateways=gw)),
    ]
    print(f"{len(sso)} satellites, {times.size} steps at 60 s, {args.resolution:g} deg grid, event timing")
    print("| variant | % time covered | mean response (min) | first call (s) | compiled (s) | vs baseline |")
    print("|---|---|---|---|---|---|")
    base = None
    for label, kw in variants:
        t0 = time.perf_counter()
        orbitjax.coverage(sso, times, resolution_deg=args.resolution, **kw)
        t1 = time.perf_counter()
        ds = orbitjax.coverage(sso, times, resolution_deg=args.resolution, **kw)
        t2 = time.perf_counter()
        base = base or (t2 - t1)
        w = ds.area_weight / ds.area_weight.sum() / ds.sizes["lon"]
        pct = float((ds.percent_time_covered * w).sum())
        resp = float((ds.mean_response_time_s * w).sum()) / 60.0
        print(f"| {label} | {pct:.2f} | {resp:.0f} | {t1 - t0:.1f} | {t2 - t1:.2f} | {(t2 - t1) / base:.2f}x |",
              flush=True)
        if "gateways" in kw:
            print(f"usable satellites per step: mean {float(ds.n_usable_satellites.mean()):.1f} of {len(sso)}, "
                  f"min {int(ds.n_usable_satellites.min())}, max {int(ds.n_usable_satellites.max())}")


if __name__ == "__main__":
    main()
