"""Bent-pipe service: a satellite serves users only while at least one gateway sees it.

Per satellite and sample, a gateway ``g`` (Earth-fixed point ``p_g`` on the WGS84
ellipsoid, normal ``n_g``, mask ``eps_g``) sees the satellite ``s`` when its
elevation is at least the mask: ``(s - p_g) . n_g >= |s - p_g| sin(eps_g)`` (the
test of the coverage kernel and of ``orbitjax.kernels.access``). The usable
satellites are masked before the coverage scatter, so a cell counts only
satellites that also reach a gateway at that time.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp


def gateway_usable(r_ecef_km, points_km, normals, sin_eps):
    """(time, sat) bool: some gateway sees the satellite at or above its mask.

    Args:
      r_ecef_km: (sat, time, 3) Earth-fixed positions (NaN: not usable).
      points_km, normals: (gateway, 3) gateway positions and unit up-vectors.
      sin_eps: (gateway,) sin of each gateway's minimum elevation.

    Memory: one (sat, time) margin at a time (a scan over the gateways), never
    gateway x sat x time.
    """

    def body(seen, g):
        p, n, se = g
        d = r_ecef_km - p[None, None, :]
        margin = jnp.sum(d * n[None, None, :], axis=-1) - jnp.linalg.norm(d, axis=-1) * se
        return seen | (margin >= 0), None

    init = jnp.zeros(r_ecef_km.shape[:2], bool)
    seen, _ = jax.lax.scan(body, init, (points_km, normals, sin_eps))
    return jnp.swapaxes(seen, 0, 1)
