"""The vectorised elementary functions against numpy's (correctly rounded libm) versions."""

import jax.numpy as jnp
import numpy as np

from orbitjax.kernels._vmath import arccos, atan2, sincos


def test_arccos_within_6e_14_rad():
    x = np.concatenate([np.linspace(-1, 1, 400_001), 1 - np.logspace(-16, -1, 2000), -1 + np.logspace(-16, -1, 2000)])
    err = np.abs(np.asarray(arccos(jnp.asarray(x))) - np.arccos(x))
    assert err.max() < 6e-14
    assert float(arccos(jnp.asarray(1.0))) == 0.0 and float(arccos(jnp.asarray(-1.0))) == np.pi


def test_sincos_and_atan2_within_a_few_ulp():
    rng = np.random.default_rng(0)
    x = rng.uniform(-1e4, 1e4, 200_000)
    s, c = (np.asarray(v) for v in sincos(jnp.asarray(x)))
    assert np.abs(s - np.sin(x)).max() < 4e-16 * 1e4 and np.abs(c - np.cos(x)).max() < 4e-16 * 1e4
    y, z = rng.normal(size=(2, 200_000))
    a = np.asarray(atan2(jnp.asarray(y), jnp.asarray(z)))
    assert np.abs(a - np.arctan2(y, z)).max() < 1e-15
