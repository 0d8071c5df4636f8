"""Benchmark the streaming figures-of-merit reduction on a full-Kuiper-size job.

Job: 1,440 time steps (1 day at 60 s) x 180 x 360 cells (1 deg grid), streamed in
chunks of T steps, the last chunk padded and masked when T does not divide 1,440.
Counts are synthetic but have realistic runs: per cell, satellites rise as a
Bernoulli approximation to Poisson arrivals and each one in view sets with
probability 1/8 per step (8 min mean pass), so the stationary count is
Poisson(lambda(lat)): lambda ~5.7 at 45 deg, ~2 at the equator, 0 beyond 70 deg
(never-covered cells); ~2.6 on average over cells, 72% of cell-steps covered.

Baseline: the same figures in numpy, vectorised over cells, looping over time
steps. The results are checked equal (integers exactly, floats to 1e-6).

Run: ``python benchmarks/bench_merit.py [--chunks 60 120 100] [--repeat 3]``.
"""

from __future__ import annotations

import argparse
import os
import time

import jax
import jax.numpy as jnp
import numpy as np

from orbitjax.kernels.merit import MeritConfig, merit_finalize, merit_init, merit_update

try:
    from _machine import describe
except ImportError:  # run from another directory
    from benchmarks._machine import describe

N_T, N_LAT, N_LON = 1440, 180, 360
STEP_S = 60.0
CONFIG = MeritConfig((1, 2, 4), STEP_S)


def synthetic_counts(seed=0):
    """(1440, 180, 360) uint8 counts with pass-like runs (birth-death process)."""
    rng = np.random.default_rng(seed)
    lat = np.deg2rad(np.linspace(-89.5, 89.5, N_LAT))
    lam = 4.5 * np.exp(-(((np.abs(lat) - np.deg2rad(45.0)) / np.deg2rad(20.0)) ** 2)) + 1.2
    lam = np.where(np.abs(lat) > np.deg2rad(70.0), 0.0, lam)
    lam = np.broadcast_to(lam[:, None], (N_LAT, N_LON))
    q_set = 1.0 / 8.0
    out = np.empty((N_T, N_LAT, N_LON), np.uint8)
    n = rng.poisson(lam)
    for t in range(N_T):
        out[t] = n
        n = rng.binomial(n, 1.0 - q_set) + (rng.random(n.shape) < lam * q_set)
    return out


def numpy_baseline(counts, config):
    """Same figures, numpy vectorised over cells, a Python loop over time steps."""
    cell = counts.shape[1:]
    i8 = np.int64
    n_cov = np.zeros(cell, i8)
    n_cov_n = np.zeros((len(config.n_assets),) + cell, i8)
    total = np.zeros(cell, i8)
    mn = np.full(cell, np.iinfo(i8).max, i8)
    mx = np.zeros(cell, i8)
    gap = np.zeros(cell, i8)
    run = np.zeros(cell, i8)
    gap_count = np.zeros(cell, i8)
    gap_sq = np.zeros(cell, i8)
    gap_max = np.zeros(cell, i8)
    run_max = np.zeros(cell, i8)
    first = np.full(cell, -1, i8)
    for t in range(counts.shape[0]):
        c = counts[t].astype(i8)
        cov = c >= 1
        n_cov += cov
        for i, k in enumerate(config.n_assets):
            n_cov_n[i] += c >= k
        total += c
        np.minimum(mn, c, out=mn)
        np.maximum(mx, c, out=mx)
        # A gap closes when coverage returns: record its length.
        closing = cov & (gap > 0)
        gap_sq += np.where(closing, gap * gap, 0)
        gap_count += closing
        gap = np.where(cov, 0, gap + 1)
        run = np.where(cov, run + 1, 0)
        np.maximum(gap_max, gap, out=gap_max)
        np.maximum(run_max, run, out=run_max)
        first = np.where((first < 0) & cov, t, first)
    # Close the gap still open at the window end (truncated there).
    gap_sq += gap * gap
    gap_count += gap > 0
    n = counts.shape[0]
    dt = config.step_s
    with np.errstate(invalid="ignore", divide="ignore"):
        return {
            "percent_time_covered": 100.0 * n_cov / n,
            "percent_time_covered_n": 100.0 * n_cov_n / n,
            "mean_multiplicity": total / n,
            "min_multiplicity": mn,
            "max_multiplicity": mx,
            "gap_count": gap_count,
            "max_gap_s": dt * gap_max,
            "mean_gap_s": np.where(gap_count > 0, dt * (n - n_cov) / gap_count, np.nan),
            "time_to_first_coverage_s": np.where(first >= 0, dt * first, np.nan),
            "mean_response_time_s": dt * gap_sq / (2.0 * n),
            "longest_coverage_s": dt * run_max,
        }


def chunked(counts, chunk):
    """Device chunks of ``chunk`` steps, the last padded, with their valid masks."""
    out = []
    for lo in range(0, counts.shape[0], chunk):
        part = counts[lo : lo + chunk]
        n_valid = part.shape[0]
        if n_valid < chunk:
            pad = np.zeros((chunk - n_valid,) + part.shape[1:], part.dtype)
            part = np.concatenate([part, pad])
        valid = np.arange(chunk) < n_valid
        out.append((jax.device_put(part), jax.device_put(valid)))
    return out


def stream(chunks, cell_shape):
    state = merit_init(cell_shape, CONFIG)
    for counts, valid in chunks:
        state = merit_update(state, counts, CONFIG, valid)
    return jax.block_until_ready(state)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, nargs="+", default=[60, 120, 100])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    print(f"machine: {describe()}")
    print(f"CPU cores available: {len(os.sched_getaffinity(0))}, load avg {os.getloadavg()}")
    t0 = time.perf_counter()
    counts = synthetic_counts()
    print(f"synthetic counts {counts.shape} uint8 in {time.perf_counter() - t0:.1f} s, "
          f"mean {counts.mean():.2f}, covered {100 * (counts >= 1).mean():.1f}% of cell-steps")
    cell_steps = counts.size

    t0 = time.perf_counter()
    want = numpy_baseline(counts, CONFIG)
    t_numpy = time.perf_counter() - t0
    print(f"numpy baseline: {t_numpy:.3f} s ({cell_steps / t_numpy / 1e6:.0f} M cell-steps/s)")

    for chunk in args.chunks:
        chunks = chunked(counts, chunk)
        t0 = time.perf_counter()
        stream(chunks, counts.shape[1:])  # compile + first run
        t_first = time.perf_counter() - t0
        times = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            state = stream(chunks, counts.shape[1:])
            times.append(time.perf_counter() - t0)
        got = merit_finalize(state, CONFIG)
        for key, ref in want.items():
            val = np.asarray(got[key])
            if np.issubdtype(val.dtype, np.integer):
                np.testing.assert_array_equal(val, ref, err_msg=key)
            else:
                np.testing.assert_allclose(val, ref, rtol=1e-6, atol=1e-3, err_msg=key)
        best = min(times)
        print(
            f"merit_update, {len(chunks)} chunks of {chunk} steps: best {best:.3f} s "
            f"(runs {', '.join(f'{t:.3f}' for t in times)}; first incl. compile {t_first:.2f} s), "
            f"{cell_steps / best / 1e6:.0f} M cell-steps/s, numpy/jax = {t_numpy / best:.1f}x, "
            f"results equal"
        )


if __name__ == "__main__":
    main()
