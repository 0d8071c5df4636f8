"""Accumulator dtypes for scatter-adds, per device.

XLA's GPU backend has no native atomic add for 8- and 16-bit integers: a scatter-add
into int16 (the coverage counts' storage type) becomes a compare-and-swap loop on the
enclosing 32-bit word, which serialises under contention (many footprints hitting the
same cells). jaxlib 0.10.2-0.11 did the same for float32 (jax issue 38806, up to 2000x
slower). On accelerators the scatters therefore accumulate in int32 and the results
are cast back to the storage dtype; on CPU the narrow dtype halves the memory traffic
of the dense passes and stays. Integer sums are exact modulo 2**bits either way, so the
cast back gives the same values as accumulating in the narrow type.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp


def scatter_add_dtype(dtype):
    """The dtype to scatter-add ``dtype`` values in on the default backend (int32 for
    8/16-bit integers off the CPU; ``dtype`` itself otherwise)."""
    dtype = jnp.dtype(dtype)
    if jnp.issubdtype(dtype, jnp.integer) and dtype.itemsize < 4 and jax.default_backend() != "cpu":
        return jnp.dtype(jnp.int32)
    return dtype
