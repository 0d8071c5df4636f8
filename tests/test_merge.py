"""Partial summaries of blocks, merged in any tree order, against the sequential carry.

Reference: the sequential fold (``merit_update`` / ``timed_update`` carrying one
state through the blocks in time order, as ``orbitjax.coverage`` does), whose
figures are pinned by tests/test_merit.py, tests/test_event_timing.py and
tests/test_coverage_figures.py. Each block is folded from ``*_init`` on its own
(padded to a fixed length with invalid steps at random places), then the blocks
are merged by a random bracketing (any tree over the blocks in time order).
Requirements: integers identical; float sums within 1e-12 relative.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from orbitjax.kernels.merit import (
    MeritConfig, merit_finalize, merit_init, merit_merge, merit_update, timed_finalize, timed_init, timed_merge,
    timed_update,
)

CELLS = (3, 5)
BLOCK = 12  # every block is padded to this many steps: one compile per kernel
CONFIG = MeritConfig(n_assets=(1, 2, 3), step_s=10.0)


def random_tree_merge(items, merge, draw):
    """Merge consecutive ``items`` by a bracketing drawn by hypothesis (any binary tree, order kept)."""
    items = list(items)
    while len(items) > 1:
        i = draw(st.integers(0, len(items) - 2))
        items[i:i + 2] = [merge(items[i], items[i + 1])]
    return items[0]


def blocks_of(n_steps, draw):
    """Random split of n_steps into blocks of 1..BLOCK valid steps, and each block's padding mask."""
    sizes = []
    left = n_steps
    while left:
        k = draw(st.integers(1, min(BLOCK, left)))
        sizes.append(k)
        left -= k
    masks = []
    for k in sizes:
        pos = sorted(draw(st.lists(st.integers(0, BLOCK - 1), min_size=k, max_size=k, unique=True)))
        valid = np.zeros(BLOCK, bool)
        valid[pos] = True
        masks.append(valid)
    return sizes, masks


def padded(x, valid, fill):
    out = np.full((BLOCK,) + x.shape[1:], fill, x.dtype)
    out[valid] = x
    return out


def step_timings(rng, n, shape):
    """Step timings as events.step_timing gives them: covered on [0, lead], [p, q], [trail, 1]."""
    kind = rng.integers(0, 4, (n,) + shape)  # 0 uncovered, 1 covered all step, 2 partial, 3 partial + brief pass
    u = np.sort(rng.random((4, n) + shape), axis=0)
    lead = np.where(rng.random((n,) + shape) < 0.4, 0.0, u[0])
    trail = np.where(rng.random((n,) + shape) < 0.4, 1.0, u[3])
    p, q = u[1], u[2]
    brief = kind == 3
    lead = np.select([kind == 0, kind == 1], [0.0, 1.0], lead)
    trail = np.select([kind == 0, kind == 1], [1.0, 0.0], trail)
    p = np.where(brief, p, 0.0)
    q = np.where(brief, q, 0.0)
    # Steps are drawn independently: the fold and the merge take any sequence of valid step timings.
    return lead, trail, p, q


def assert_states_match(got, want, *, rtol):
    for name, g, w in zip(want._fields, got, want):
        g, w = np.asarray(g), np.asarray(w)
        assert g.dtype == w.dtype, name
        if np.issubdtype(w.dtype, np.integer):
            np.testing.assert_array_equal(g, w, err_msg=name)
        else:
            np.testing.assert_allclose(g, w, rtol=rtol, atol=0, err_msg=name)


@settings(max_examples=40, deadline=None)
@given(data=st.data(), n_steps=st.integers(1, 60), seed=st.integers(0, 2**32 - 1))
def test_sampled_blocks_merged_in_any_tree_equal_the_sequential_carry(data, n_steps, seed):
    rng = np.random.default_rng(seed)
    # Few satellites, runs of both kinds: a sparse random walk of the count in view.
    p_cov = data.draw(st.sampled_from([0.05, 0.5, 0.95]))
    counts = (rng.random((n_steps,) + CELLS) < p_cov) * rng.integers(1, 4, (n_steps,) + CELLS)
    counts = counts.astype(np.int16)
    sizes, masks = blocks_of(n_steps, data.draw)
    edges = np.cumsum([0] + sizes)
    chunks = [padded(counts[a:b], m, 9) for a, b, m in zip(edges[:-1], edges[1:], masks)]

    carry = merit_init(CELLS, CONFIG)
    parts = []
    for c, m in zip(chunks, masks):
        carry = merit_update(carry, jnp.asarray(c), CONFIG, jnp.asarray(m))
        parts.append(merit_update(merit_init(CELLS, CONFIG), jnp.asarray(c), CONFIG, jnp.asarray(m)))
    # The identity may sit anywhere in the tree (an empty block: all steps padding).
    if data.draw(st.booleans()):
        parts.insert(data.draw(st.integers(0, len(parts))), merit_init(CELLS, CONFIG))
    merged = random_tree_merge(parts, merit_merge, data.draw)
    assert_states_match(merged, carry, rtol=0)
    for k, v in merit_finalize(merged, CONFIG).items():
        np.testing.assert_array_equal(np.asarray(v), np.asarray(merit_finalize(carry, CONFIG)[k]), err_msg=k)


@settings(max_examples=40, deadline=None)
@given(data=st.data(), n_steps=st.integers(1, 60), seed=st.integers(0, 2**32 - 1))
def test_timed_blocks_merged_in_any_tree_equal_the_sequential_carry(data, n_steps, seed):
    rng = np.random.default_rng(seed)
    fields = step_timings(rng, n_steps, CELLS)
    sizes, masks = blocks_of(n_steps, data.draw)
    edges = np.cumsum([0] + sizes)
    step_s = 7.3  # not a power of two: the float sums round

    carry = timed_init(CELLS)
    parts = []
    for a, b, m in zip(edges[:-1], edges[1:], masks):
        xs = [jnp.asarray(padded(f[a:b], m, 0.5)) for f in fields]
        carry = timed_update(carry, *xs, step_s, jnp.asarray(m))
        parts.append(timed_update(timed_init(CELLS), *xs, step_s, jnp.asarray(m)))
    if data.draw(st.booleans()):
        parts.insert(data.draw(st.integers(0, len(parts))), timed_init(CELLS))
    merged = random_tree_merge(parts, timed_merge, data.draw)
    assert_states_match(merged, carry, rtol=1e-12)
    got, want = timed_finalize(merged), timed_finalize(carry)
    np.testing.assert_array_equal(np.asarray(got["gap_count"]), np.asarray(want["gap_count"]))
    window = n_steps * step_s
    for k in want:
        # Differences of sums (mean gap = (T - covered) / count) lose the relative bound: absolute in seconds.
        np.testing.assert_allclose(np.asarray(got[k]), np.asarray(want[k]), rtol=1e-12, atol=1e-12 * window, err_msg=k)


def test_merge_identity_and_shapes():
    config = MeritConfig((1, 2), 60.0)
    counts = jnp.asarray(np.random.default_rng(3).integers(0, 3, (9, 2, 3)).astype(np.int16))
    s = merit_update(merit_init((2, 3), config), counts, config)
    for merged in (merit_merge(merit_init((2, 3), config), s), merit_merge(s, merit_init((2, 3), config))):
        assert_states_match(merged, s, rtol=0)
