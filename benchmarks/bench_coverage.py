"""Coverage kernel vs a scipy cKDTree baseline on the full Kuiper constellation.

Job: 3,236 satellites, 1 day at 60 s (1,440 steps), 1 deg grid (64,800 cells):
93.3 M cell-time-steps. The baseline builds a KD-tree of the cell-centre unit
vectors once and, per time step, queries every satellite's footprint as a ball of
chord radius 2 sin(lambda/2) (the same spherical-Earth criterion), counting hits
with bincount. It runs on a subset of steps (it needs about a minute for the
whole day on 2 cores) and its counts are checked equal to orbitjax's there.

Rows: the raw count kernel and ``coverage()`` with figures of merit in the three
modes: the default (WGS84 geodetic grid, access times found inside each step),
WGS84 with sampled figures, and the spherical sampled mode of orbitjax 0.1 (the
one whose counts are checked against the baseline, which uses the sphere). The
default is also timed one block at a time (``devices=1``): on a CPU it otherwise
computes the window's two halves at once (orbitjax.memory.host_blocks).

Usage: python benchmarks/bench_coverage.py [--baseline-steps 120] [--repeats 2]
           [--steps N] [--resolution DEG] [--no-baseline] [--json FILE] [--glibc-malloc]
           [--modes default,one-block,sampled,sphere]
(--steps/--resolution/--modes shrink or change the job, e.g. for device checks; the
defaults measure the job above.)
"""

from __future__ import annotations

import argparse
import functools
import json
import time

import jax
import jax.numpy as jnp
import numpy as np

import orbitjax
from orbitjax.analysis import _pad_sats, coverage, default_chunk_steps, padded_sat_count
from orbitjax.kernels.coverage import coverage_counts, footprint_half_angle, rows_per_footprint
from orbitjax.kernels.earth import MEAN_RADIUS_KM
from orbitjax.kernels.frames import gmst82
from orbitjax.kernels.grid import make_grid
from orbitjax.propagation import ecef_positions, make_model, propagate_arrays, time_offsets
from orbitjax.timescales import jd2_from_datetime64

try:
    from _machine import describe
except ImportError:  # run from another directory
    from benchmarks._machine import describe


def ckdtree_counts(r_ecef_km, min_el_rad, grid, radius_km=MEAN_RADIUS_KM):
    """(time, lat, lon) counts by cKDTree ball queries; r_ecef_km (time, sat, 3)."""
    from scipy.spatial import cKDTree

    lat = np.radians(grid.lat_deg)[:, None]
    lon = np.radians(grid.lon_deg)[None, :]
    cells = np.stack(np.broadcast_arrays(np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)), -1).reshape(-1, 3)
    tree = cKDTree(cells)
    out = np.zeros((r_ecef_km.shape[0], cells.shape[0]), np.int32)
    for t in range(r_ecef_km.shape[0]):
        r = np.linalg.norm(r_ecef_km[t], axis=-1)
        lam = np.arccos(np.clip(radius_km * np.cos(min_el_rad) / r, -1, 1)) - min_el_rad
        hits = tree.query_ball_point(r_ecef_km[t] / r[:, None], 2 * np.sin(lam / 2), workers=-1, return_sorted=False)
        idx = np.concatenate([np.asarray(h, np.int64) for h in hits])
        out[t] = np.bincount(idx, minlength=cells.shape[0])
    return out.reshape(r_ecef_km.shape[0], grid.n_lat, grid.n_lon)


def raw_counts_job(sats, times, grid):
    """Propagation + count kernel only, chunked and padded like orbitjax.coverage (no figures of merit)."""
    model, epochs = make_model(sats)
    n_pad = padded_sat_count(len(sats)) - len(sats)
    model, min_el = _pad_sats(model, jnp.asarray(np.radians(sats.min_elevation_deg))[None, :], n_pad)
    lam = float(footprint_half_angle(float(np.max(sats.a_km)), float(np.radians(sats.min_elevation_deg.min()))))
    n_rows = rows_per_footprint(grid, lam)
    steps = default_chunk_steps(len(sats) + n_pad, n_rows, grid)
    offset = jnp.pad(jnp.asarray(time_offsets(epochs, times[0])), (0, n_pad))
    t_all = (times - times[0]).astype("timedelta64[ns]").astype(np.float64) / 1e9
    gmst = gmst82(*jd2_from_datetime64(times))

    for s in range(0, times.size, steps):
        idx = np.minimum(np.arange(s, s + steps), times.size - 1)
        _raw_step(model, offset, min_el[0], jnp.asarray(t_all[idx]), jnp.asarray(gmst[idx]), grid=grid,
                  n_rows=n_rows).block_until_ready()


@functools.partial(jax.jit, static_argnames=("grid", "n_rows"))
def _raw_step(model, offset, min_el, t, g, *, grid, n_rows):
    """One chunk of :func:`raw_counts_job` (module level and with its inputs as arguments: a closure
    jitted inside the job compiled again on every call, which the steady timings then included)."""
    r = ecef_positions(model, offset[:, None] + t[None, :], g)
    return coverage_counts(r, min_el, grid=grid, n_rows=n_rows)


MODES = {
    "default": ("coverage() default: WGS84, event-timed figures", {}),
    "one-block": ("coverage() default, one block at a time (devices=1)", dict(devices=1)),
    "sampled": ("coverage() WGS84, sampled figures", dict(timing="sampled")),
    "sphere": ("coverage() sphere, sampled figures (orbitjax 0.1)", dict(earth_model="sphere", timing="sampled")),
}
"""The ``coverage()`` rows, by their ``--modes`` key."""


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--baseline-steps", type=int, default=120)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--steps", type=int, help="use only the first N time steps of the day")
    ap.add_argument("--resolution", type=float, default=1.0, help="grid resolution in degrees")
    ap.add_argument("--no-baseline", action="store_true", help="skip the cKDTree baseline")
    ap.add_argument("--json", help="also write the numbers to this JSON file")
    ap.add_argument("--modes", default=",".join(MODES), type=lambda v: v.split(","),
                    help=f"comma-separated coverage() rows to time, of {','.join(MODES)} (default: all); "
                         "each is a compile of its own")
    ap.add_argument("--glibc-malloc", action="store_true",
                    help="keep glibc's allocator defaults (no orbitjax.tune_allocator(), which `orbitjax run` applies)")
    args = ap.parse_args()

    unknown = sorted(set(args.modes) - set(MODES))
    if unknown:
        ap.error(f"--modes: unknown {', '.join(unknown)}; expected a comma-separated subset of {','.join(MODES)}")
    tuned = False if args.glibc_malloc else orbitjax.tune_allocator()  # before JAX starts its threads
    print("machine:", describe(), "| allocator:", "tuned (orbitjax.tune_allocator)" if tuned else "glibc defaults")
    sc = orbitjax.load_scenario("kuiper_falcon9")
    sats = sc.stages()[-1].satellites
    times = sc.analysis.times[: args.steps]
    grid = make_grid(args.resolution, "sphere")
    cell_steps = times.size * grid.n_lat * grid.n_lon
    print(f"job: {len(sats)} satellites x {times.size} steps x {grid.n_lat * grid.n_lon} cells = {cell_steps / 1e6:.1f} M cell-steps")

    def timed(fn, repeats):
        t0 = time.perf_counter()
        fn()
        first = time.perf_counter() - t0
        best = np.inf
        for _ in range(repeats):
            t0 = time.perf_counter()
            fn()
            best = min(best, time.perf_counter() - t0)
        return first, best

    first_raw, raw = timed(lambda: raw_counts_job(sats, times, grid), args.repeats)
    modes = {}
    for key, (_, kw) in MODES.items():
        if key not in args.modes:
            continue
        modes[key] = timed(lambda: coverage(sats, times, resolution_deg=args.resolution, save_raster=False,
                                              save_positions=False, progress=False, **kw), args.repeats)
    rate_base = mismatch = None
    if not args.no_baseline:
        ds = coverage(sats, times[: args.baseline_steps], resolution_deg=args.resolution, progress=False,
                      earth_model="sphere", timing="sampled")
        mine = ds.visible_count.values
        pos = np.swapaxes(propagate_arrays(sats, times[: args.baseline_steps], frame="ecef")[0], 0, 1)

        t0 = time.perf_counter()
        base = ckdtree_counts(pos, np.radians(sats.min_elevation_deg), grid)
        t_base = time.perf_counter() - t0
        # Same float64 positions, same spherical-Earth criterion: counts must agree exactly.
        mismatch = int(np.count_nonzero(base != mine))
        rate_base = mine.shape[0] * grid.n_lat * grid.n_lon / t_base
        print(f"cKDTree baseline: {mine.shape[0]} steps in {t_base:.2f} s = {rate_base / 1e6:.2f} M cell-steps/s; "
              f"counts differing from orbitjax: {mismatch} of {base.size}")
    rows = []
    for label, first, best in [("count kernel (propagate + count, sphere)", first_raw, raw)] + [
            (MODES[k][0], *v) for k, v in modes.items()]:
        rate = cell_steps / best
        vs = f" = {rate / rate_base:.1f}x cKDTree" if rate_base else ""
        print(f"orbitjax {label}: {best:.2f} s steady, {first:.2f} s first call (compile included) = "
              f"{rate / 1e6:.1f} M cell-steps/s{vs}")
        rows.append(dict(what=label, best_s=best, first_s=first, cell_steps_per_s=rate))
    if "sphere" in args.modes:
        full = modes["sphere"][1]
        print(f"figures of merit + coverage fraction overhead over the raw count kernel: {100 * (full / raw - 1):+.0f} %")
    if args.json:
        out = dict(machine=describe(), n_sat=len(sats), n_steps=int(times.size), resolution_deg=args.resolution,
                   x64=bool(jax.config.jax_enable_x64), rows=rows, ckdtree_cell_steps_per_s=rate_base,
                   counts_differing=mismatch, allocator_tuned=tuned)  # fmt: skip
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
