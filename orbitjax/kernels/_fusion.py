"""A fusion boundary for XLA: values computed once into buffers, not re-derived in each consumer.

XLA:CPU fuses a producer into every consumer that reads it and evaluates it again
inside each. That is right for cheap producers and costly for expensive ones: the
event timing's per-cell-step tests were re-derived from the cumulative sums' partials
in ~10 dense passes, and each footprint interval's geometry (trigonometry, square
roots, a WGS84 quadratic per row) twice, once for each end of the interval.
``jax.lax.optimization_barrier`` did not stop this fusion (XLA:CPU, jax 0.10.2).
A conditional does: its operands and results are buffers.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp


def materialised(compute, probe):
    """``compute()`` (a pytree of arrays), each computed once into a buffer.

    ``compute`` is traced inside the conditional's branch (values it closes over are
    passed through as the conditional's operands, which are buffers too). Computing
    inside the branch keeps XLA from fusing the computation into the consumers at
    all: for the event timing's test byte this ran 15-20 % faster than passing the
    byte through. ``probe`` is any traced integer scalar: the predicate
    ``(probe | 1) != 0`` is always true, but XLA cannot fold it, so the branch stays.
    """
    def never():
        return jax.tree_util.tree_map(lambda s: jnp.zeros(s.shape, s.dtype), jax.eval_shape(compute))

    return jax.lax.cond((probe | 1) != 0, compute, never)
