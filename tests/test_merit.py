"""Figures of merit: streamed results against a brute-force run-length encoding.

The reference below is written independently of the kernel: plain Python loops
over each cell's samples, run-length encoding, and the mean response time
integrated sample by sample (wait until the next covered sample, or the window
end) rather than through the sum of squared gap lengths.
"""

from __future__ import annotations

import math

import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orbitjax.kernels.merit import (
    MeritConfig,
    MeritState,
    merit_finalize,
    merit_from_raster,
    merit_init,
    merit_update,
)

INT_KEYS = ("min_multiplicity", "max_multiplicity", "gap_count")
FLOAT_KEYS = (
    "percent_time_covered",
    "percent_time_covered_n",
    "mean_multiplicity",
    "max_gap_s",
    "mean_gap_s",
    "time_to_first_coverage_s",
    "mean_response_time_s",
    "longest_coverage_s",
)
ALL_KEYS = INT_KEYS + FLOAT_KEYS


# --- independent reference ---------------------------------------------------


def _runs(flags):
    """Run-length encoding of a sequence of bools: list of (flag, length)."""
    runs = []
    for f in flags:
        if runs and runs[-1][0] == f:
            runs[-1][1] += 1
        else:
            runs.append([f, 1])
    return [(f, n) for f, n in runs]


def brute_force_cell(seq, n_assets, dt):
    """All figures for one cell's counts sequence (list of ints), by loops."""
    n = len(seq)
    cov = [c >= 1 for c in seq]
    runs = _runs(cov)
    gaps = [length for f, length in runs if not f]
    covers = [length for f, length in runs if f]
    first = next((k for k, c in enumerate(cov) if c), None)
    # Mean response time: a request at t in sample k's interval [k dt, (k+1) dt)
    # waits until the next covered sample j starts (or the window end j = n):
    # integral over the interval of (j dt - t) dt = dt**2 * (j - k - 1/2).
    wait_integral = 0.0
    for k in range(n):
        if cov[k]:
            continue
        j = k
        while j < n and not cov[j]:
            j += 1
        wait_integral += dt * dt * (j - k - 0.5)
    return {
        "percent_time_covered": 100.0 * sum(cov) / n,
        "percent_time_covered_n": [100.0 * sum(c >= m for c in seq) / n for m in n_assets],
        "mean_multiplicity": sum(seq) / n,
        "min_multiplicity": min(seq),
        "max_multiplicity": max(seq),
        "gap_count": len(gaps),
        "max_gap_s": dt * max(gaps, default=0),
        "mean_gap_s": dt * sum(gaps) / len(gaps) if gaps else math.nan,
        "time_to_first_coverage_s": dt * first if first is not None else math.nan,
        "mean_response_time_s": wait_integral / (n * dt),
        "longest_coverage_s": dt * max(covers, default=0),
    }


def brute_force(counts, config):
    """Reference figures for a (T, *cell) raster, same layout as the kernel's."""
    counts = np.asarray(counts)
    cell_shape = counts.shape[1:]
    out = {}
    for idx in np.ndindex(*cell_shape):
        seq = [int(c) for c in counts[(slice(None),) + idx]]
        for key, value in brute_force_cell(seq, config.n_assets, config.step_s).items():
            if key == "percent_time_covered_n":
                arr = out.setdefault(key, np.zeros((len(config.n_assets),) + cell_shape))
                arr[(slice(None),) + idx] = value
            else:
                dtype = np.int64 if key in INT_KEYS else np.float64
                out.setdefault(key, np.zeros(cell_shape, dtype))[idx] = value
    return out


def assert_matches_reference(got, want):
    assert set(got) == set(ALL_KEYS)
    for key in INT_KEYS:
        np.testing.assert_array_equal(np.asarray(got[key]), want[key], err_msg=key)
    for key in FLOAT_KEYS:
        np.testing.assert_allclose(
            np.asarray(got[key]), want[key], rtol=1e-12, atol=1e-9, err_msg=key
        )


def assert_identical(a, b):
    assert set(a) == set(b)
    for key in a:
        np.testing.assert_array_equal(np.asarray(a[key]), np.asarray(b[key]), err_msg=key)
        assert np.asarray(a[key]).dtype == np.asarray(b[key]).dtype, key


def stream(counts, config, bounds):
    """Stream ``counts`` through merit_update in chunks split at ``bounds``."""
    state = merit_init(counts.shape[1:], config)
    edges = [0, *bounds, counts.shape[0]]
    for lo, hi in zip(edges[:-1], edges[1:]):
        state = merit_update(state, jnp.asarray(counts[lo:hi]), config)
    return merit_finalize(state, config)


def stream_padded(counts, config, chunk, fill=7):
    """Fixed-size chunks; the last one padded with ``fill`` and masked by ``valid``."""
    t = counts.shape[0]
    state = merit_init(counts.shape[1:], config)
    for lo in range(0, t, chunk):
        part = counts[lo : lo + chunk]
        n_valid = part.shape[0]
        pad = np.full((chunk - n_valid,) + counts.shape[1:], fill, counts.dtype)
        valid = np.arange(chunk) < n_valid
        state = merit_update(
            state, jnp.asarray(np.concatenate([part, pad])), config, jnp.asarray(valid)
        )
    return merit_finalize(state, config)


# --- random rasters with long runs ---------------------------------------------


@st.composite
def rasters(draw):
    """(counts, config): long covered/uncovered runs, some never/always covered cells."""
    seed = draw(st.integers(0, 2**32 - 1))
    t = draw(st.integers(1, 48))
    cell_shape = tuple(draw(st.lists(st.integers(1, 3), min_size=0, max_size=3)))
    mean_run = draw(st.floats(1.0, 12.0))
    rng = np.random.default_rng(seed)
    n_cells = int(np.prod(cell_shape, dtype=int))
    out = np.zeros((t, n_cells), np.uint8)
    for c in range(n_cells):
        kind = rng.random()
        if kind < 0.1:
            continue  # never covered
        covered = bool(rng.random() < 0.5)
        k = 0
        while k < t:
            length = int(rng.geometric(1.0 / mean_run))
            if covered or kind > 0.9:  # kind > 0.9: always covered
                out[k : k + length, c] = rng.integers(1, 6, size=min(length, t - k))
            k += length
            covered = not covered
    n_assets = tuple(sorted(set(draw(st.lists(st.integers(1, 6), min_size=1, max_size=4)))))
    step_s = draw(st.sampled_from([1.0, 30.0, 60.0, 0.25]))
    return out.reshape((t,) + cell_shape), MeritConfig(n_assets, step_s)


SETTINGS = settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@SETTINGS
@given(rasters())
def test_one_shot_matches_brute_force(raster):
    counts, config = raster
    got = merit_from_raster(jnp.asarray(counts), config)
    assert_matches_reference(got, brute_force(counts, config))
    # N-asset coverage is monotone: never more time with >= N+1 assets than >= N.
    pct = np.asarray(got["percent_time_covered_n"])
    assert np.all(np.diff(pct, axis=0) <= 0)  # n_assets sorted ascending
    assert np.all(pct[0] <= np.asarray(got["percent_time_covered"]))


@SETTINGS
@given(rasters(), st.data())
def test_any_chunking_is_identical_to_one_shot(raster, data):
    counts, config = raster
    t = counts.shape[0]
    bounds = sorted(data.draw(st.lists(st.integers(0, t), max_size=6)))  # empty chunks allowed
    one_shot = merit_from_raster(jnp.asarray(counts), config)
    assert_identical(stream(counts, config, bounds), one_shot)
    assert_matches_reference(stream(counts, config, bounds), brute_force(counts, config))


@SETTINGS
@given(rasters(), st.integers(1, 20), st.integers(0, 255))
def test_padded_final_chunk_is_identical_to_one_shot(raster, chunk, fill):
    counts, config = raster
    one_shot = merit_from_raster(jnp.asarray(counts), config)
    assert_identical(stream_padded(counts, config, chunk, fill), one_shot)


@SETTINGS
@given(rasters(), st.data())
def test_masked_samples_anywhere_are_skipped(raster, data):
    """Invalid samples with garbage counts act as if removed from the sequence."""
    counts, config = raster
    t = counts.shape[0]
    valid = np.array(data.draw(st.lists(st.booleans(), min_size=t, max_size=t)))
    if not valid.any():
        valid[0] = True
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    noisy = counts.copy()
    noisy[~valid] = rng.integers(0, 6, size=noisy[~valid].shape)
    got = merit_from_raster(jnp.asarray(noisy), config, jnp.asarray(valid))
    assert_identical(got, merit_from_raster(jnp.asarray(counts[valid]), config))


# --- window edges, by hand -----------------------------------------------------

DT = 60.0
CFG = MeritConfig((1, 2), DT)


def one_cell(seq):
    got = merit_from_raster(jnp.asarray(np.array(seq, np.int32)[:, None]), CFG)
    return {k: np.asarray(v)[..., 0] for k, v in got.items()}


def test_gap_at_start_is_counted_and_truncated():
    got = one_cell([0, 0, 0, 1, 1, 2, 1, 1, 1, 1])
    assert got["gap_count"] == 1
    assert got["max_gap_s"] == 3 * DT
    assert got["mean_gap_s"] == 3 * DT
    assert got["time_to_first_coverage_s"] == 3 * DT
    assert got["mean_response_time_s"] == DT * 9 / (2 * 10)
    assert got["longest_coverage_s"] == 7 * DT
    assert got["percent_time_covered"] == 70.0
    np.testing.assert_array_equal(got["percent_time_covered_n"], [70.0, 10.0])


def test_gap_at_end_is_counted_and_waits_until_window_end():
    got = one_cell([1, 1, 1, 1, 1, 1, 0, 0, 0, 0])
    assert got["gap_count"] == 1
    assert got["max_gap_s"] == 4 * DT
    assert got["mean_gap_s"] == 4 * DT
    assert got["time_to_first_coverage_s"] == 0.0
    # Requests in the last gap wait until the window end: (4 dt)**2 / 2 over 10 dt.
    assert got["mean_response_time_s"] == DT * 16 / (2 * 10)
    assert got["longest_coverage_s"] == 6 * DT


def test_gap_over_whole_window():
    got = one_cell([0] * 8)
    assert got["gap_count"] == 1
    assert got["max_gap_s"] == 8 * DT
    assert got["mean_gap_s"] == 8 * DT
    assert np.isnan(got["time_to_first_coverage_s"])
    assert got["mean_response_time_s"] == 8 * DT / 2
    assert got["longest_coverage_s"] == 0.0
    assert got["percent_time_covered"] == 0.0
    assert got["mean_multiplicity"] == 0.0
    assert got["min_multiplicity"] == 0 and got["max_multiplicity"] == 0


def test_no_gap():
    got = one_cell([3, 1, 2, 4, 1])
    assert got["gap_count"] == 0
    assert got["max_gap_s"] == 0.0
    assert np.isnan(got["mean_gap_s"])
    assert got["time_to_first_coverage_s"] == 0.0
    assert got["mean_response_time_s"] == 0.0
    assert got["longest_coverage_s"] == 5 * DT
    assert got["percent_time_covered"] == 100.0
    np.testing.assert_array_equal(got["percent_time_covered_n"], [100.0, 60.0])
    assert got["mean_multiplicity"] == 11 / 5
    assert got["min_multiplicity"] == 1 and got["max_multiplicity"] == 4


def test_gaps_at_both_edges_and_inside():
    got = one_cell([0, 0, 1, 0, 0, 0, 1, 1, 0])
    assert got["gap_count"] == 3
    assert got["max_gap_s"] == 3 * DT
    assert got["mean_gap_s"] == 2 * DT
    assert got["mean_response_time_s"] == DT * (4 + 9 + 1) / (2 * 9)
    assert got["longest_coverage_s"] == 2 * DT


def test_single_sample_windows():
    covered, uncovered = one_cell([2]), one_cell([0])
    assert covered["gap_count"] == 0 and uncovered["gap_count"] == 1
    assert uncovered["max_gap_s"] == DT and uncovered["mean_response_time_s"] == DT / 2
    assert covered["longest_coverage_s"] == DT and covered["mean_response_time_s"] == 0.0


def test_gap_spanning_many_chunks():
    seq = np.array([1] + [0] * 25 + [1, 1] + [0] * 7, np.int32)[:, None]
    got = stream(seq, CFG, [1, 3, 10, 26, 27, 30])
    assert got["gap_count"][0] == 2
    assert got["max_gap_s"][0] == 25 * DT
    assert got["longest_coverage_s"][0] == 2 * DT
    assert got["mean_response_time_s"][0] == DT * (625 + 49) / (2 * 35)


# --- analytic periodic pattern -------------------------------------------------


@pytest.mark.parametrize("a, b, periods", [(1, 1, 10), (3, 5, 7), (10, 2, 4), (7, 13, 3)])
@pytest.mark.parametrize("gap_first", [False, True])
@pytest.mark.parametrize("chunk", [None, 4, 9])
def test_periodic_pattern(a, b, periods, gap_first, chunk):
    """Covered a samples, uncovered b, repeated: discrete-sampling closed forms.

    Each gap of b samples is an interval of length b dt followed by coverage, so
    a request uniform over it waits (b dt)/2 on average; over the window
    N = periods (a + b) samples: mean response = periods (b dt)**2 / 2 / (N dt)
    = b**2 dt / (2 (a + b)). With the gap last, the final gap ends at the window
    end and, waiting until the window end, contributes the same.
    """
    dt = 30.0
    unit = [0] * b + [2] * a if gap_first else [2] * a + [0] * b
    counts = np.array(unit * periods, np.uint8)[:, None, None]
    config = MeritConfig((1, 2, 3), dt)
    if chunk is None:
        got = merit_from_raster(jnp.asarray(counts), config)
    else:
        got = stream_padded(counts, config, chunk)
    got = {k: np.asarray(v)[..., 0, 0] for k, v in got.items()}
    assert got["gap_count"] == periods
    assert got["mean_gap_s"] == pytest.approx(b * dt, rel=1e-14)
    assert got["max_gap_s"] == b * dt
    assert got["longest_coverage_s"] == a * dt
    assert got["mean_response_time_s"] == pytest.approx(b**2 * dt / (2 * (a + b)), rel=1e-14)
    assert got["percent_time_covered"] == pytest.approx(100.0 * a / (a + b), rel=1e-14)
    np.testing.assert_allclose(
        got["percent_time_covered_n"], [100.0 * a / (a + b)] * 2 + [0.0], rtol=1e-14
    )
    assert got["time_to_first_coverage_s"] == (b * dt if gap_first else 0.0)
    assert got["mean_multiplicity"] == pytest.approx(2.0 * a / (a + b), rel=1e-14)


# --- API ---------------------------------------------------------------------


def test_state_shapes_and_trailing_cell_shape():
    config = MeritConfig((1, 2, 4), 60.0)
    state = merit_init((2, 3, 4), config)
    assert isinstance(state, MeritState)
    assert state.n_samples.shape == ()
    assert state.n_covered_n.shape == (3, 2, 3, 4)
    assert state.gap_run.shape == (2, 3, 4)
    counts = np.random.default_rng(1).integers(0, 3, size=(5, 2, 3, 4)).astype(np.int16)
    got = merit_finalize(merit_update(state, jnp.asarray(counts), config), config)
    assert got["percent_time_covered_n"].shape == (3, 2, 3, 4)
    assert got["mean_gap_s"].shape == (2, 3, 4)


@pytest.mark.parametrize(
    "config, match",
    [
        (MeritConfig((), 60.0), "n_assets"),
        (MeritConfig([1, 2], 60.0), "n_assets"),
        (MeritConfig((0, 1), 60.0), "n_assets"),
        (MeritConfig((1,), 0.0), "step_s"),
        (MeritConfig((1,), math.inf), "step_s"),
    ],
)
def test_bad_config_raises(config, match):
    with pytest.raises(ValueError, match=match):
        merit_init((2,), config)


def test_bad_counts_raise():
    config = MeritConfig((1,), 60.0)
    state = merit_init((2, 3), config)
    with pytest.raises(ValueError, match="shape"):
        merit_update(state, jnp.zeros((4, 3, 2), jnp.int32), config)
    with pytest.raises(ValueError, match="integer"):
        merit_update(state, jnp.zeros((4, 2, 3)), config)
    with pytest.raises(ValueError, match="valid"):
        merit_update(state, jnp.zeros((4, 2, 3), jnp.int32), config, jnp.ones(3, bool))


def test_float32_int32_mode_matches_x64():
    """Without x64 (the GPU default) the state is int32 and results float32."""
    import jax

    counts = np.random.default_rng(3).poisson(0.8, size=(50, 4, 5)).astype(np.uint8)
    config = MeritConfig((1, 2), 60.0)
    want = merit_from_raster(jnp.asarray(counts), config)
    with jax.enable_x64(False):
        state = merit_init((4, 5), config)
        assert state.gap_sq_sum.dtype == np.int32
        got = {k: np.asarray(v) for k, v in merit_from_raster(jnp.asarray(counts), config).items()}
    assert got["mean_gap_s"].dtype == np.float32
    for key in want:
        np.testing.assert_allclose(got[key], np.asarray(want[key]), rtol=1e-6, err_msg=key)
