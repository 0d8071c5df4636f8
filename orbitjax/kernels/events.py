"""Access times inside each time step: when a cell's coverage starts and stops between two samples.

The coverage kernel gives, at every sample ``t_k``, which cells see at least one
satellite. Sampling alone puts every coverage start and end on a sample and misses
gaps between consecutive satellites that are shorter than a step. This module
times them inside the step, cell by cell, without a satellites x cells product:

1. **Who is in view.** The counts are scattered with a packed integer payload
   per satellite, ``1 + (i+1) 2^c + (i+1)^2 2^(c+s)`` (:class:`IdLayout`), so the
   same footprint scatter that counts satellites also sums their ids and squared
   ids. Where one or two satellites are in view, the sums name them exactly
   (``a + b`` and ``a^2 + b^2`` determine ``{a, b}``); the fields are exact for a
   cell however many satellites overflow the upper fields elsewhere, because the
   difference-array sums telescope to the payloads of the satellites in view.
2. **Which steps need timing.** A step ``[t_k, t_k+1]`` of a cell needs it when
   the cell's covered state differs at its two ends, or when it is covered at
   both ends by one or two satellites but not by the same ones (a hand-over,
   which may hide a gap). Those cell-steps are gathered into a fixed-capacity
   list (static shapes; an overflow count is returned so the caller can retry
   with a larger capacity).
3. **Exact crossing times.** For each listed cell-step and each satellite in
   view at either end, the satellite moves along the cubic Lagrange
   interpolation of its four surrounding Earth-fixed samples
   (:func:`cubic_motion`; ~1 m for LEO at 60 s steps, < 1 ms in a crossing
   time) and the elevation margin ``(s - c) . n - |s - c| sin(eps)`` is solved
   for its root by the Illinois variant of regula falsi (Dowell & Jarratt 1971),
   bracketed by the step. Passes between samples: a swept-footprint scatter
   names candidate satellites, an exact arc-distance test filters them, and a
   golden-section search finds the peak and then the two crossings.

The result per cell-step is ``(X, A)``: the cell is covered on ``[0, X]`` (the
satellites in view at the step start, until the last of them sets) and on
``[A, 1]`` (from the first rise of those in view at the step end), in fractions
of the step; ``X >= A`` means covered all step.

Approximations, counted and reported: when three or more satellites all set (or
all rise) within one step, their order is not resolved and the crossing is put at
mid-step; a hand-over among three or more satellites is taken as covered all
step; a satellite that rises and sets between two samples at a cell seen by no
satellite at either sample is not resolved when three or more satellites
may pass there; two passes between the same two samples are merged.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from .coverage import WGS84_A_KM, WGS84_E2, _cap_bound, _cumsum_last
from .grid import Grid


class IdLayout(NamedTuple):
    """Bit fields of the packed coverage payload (static).

    ``count_bits`` hold the number in view (exact: it never exceeds the number
    of satellites), ``id_bits`` the sum of ``id + 1`` and ``sq_bits`` the sum of
    ``(id + 1)^2`` (0 when the satellites are too many for pairs to fit).
    """

    count_bits: int
    id_bits: int
    sq_bits: int
    dtype: str  # "int64" or "int32"


def id_layout(n_sat: int, x64: bool = True) -> IdLayout:
    """Field widths for ``n_sat`` satellites in a 64-bit (or, without x64, 32-bit) payload."""
    n_sat = max(int(n_sat), 1)
    total = 63 if x64 else 31
    c = n_sat.bit_length()
    i = (2 * n_sat).bit_length()
    q = (2 * n_sat * n_sat).bit_length()
    if c + i + q <= total:
        return IdLayout(c, i, q, "int64" if x64 else "int32")
    if c + i <= total:
        return IdLayout(c, i, 0, "int64" if x64 else "int32")
    raise ValueError(f"{n_sat} satellites are too many for the packed coverage payload ({total} bits)")


def packed_payload(n_sat: int, layout: IdLayout):
    """(sat,) payload ``1 + (i+1) 2^c [+ (i+1)^2 2^(c+s)]`` in the layout's integer dtype."""
    k = np.arange(1, n_sat + 1, dtype=np.int64)
    p = 1 + (k << layout.count_bits)
    if layout.sq_bits:
        p = p + ((k * k) << (layout.count_bits + layout.id_bits))
    return jnp.asarray(p.astype(layout.dtype))


def decode_counts(packed, layout: IdLayout):
    """Number of satellites in view from packed sums (any shape), in the packed dtype."""
    return packed & ((1 << layout.count_bits) - 1)


def decode_pair(packed, layout: IdLayout):
    """Ids of the satellites in view where one or two are: (count, id_a, id_b, resolved).

    ``id_a``/``id_b`` are -1 where absent; ``resolved`` is False where two are in
    view but the layout has no squared-id field, or where three or more are.
    """
    c = layout.count_bits
    n = packed & ((1 << c) - 1)
    s = (packed >> c) & ((1 << layout.id_bits) - 1)
    one = n == 1
    a1 = s - 1
    if layout.sq_bits:
        q = (packed >> (c + layout.id_bits)) & ((1 << layout.sq_bits) - 1)
        # a + b = s, a^2 + b^2 = q  ->  (a - b)^2 = 2 q - s^2
        d2 = (2 * q - s * s).astype(jnp.float64 if packed.dtype == jnp.int64 else jnp.float32)
        d = jnp.round(jnp.sqrt(jnp.maximum(d2, 0.0))).astype(packed.dtype)
        two = n == 2
        id_a = jnp.where(one, a1, jnp.where(two, (s + d) // 2 - 1, -1))
        id_b = jnp.where(two, (s - d) // 2 - 1, -1)
        resolved = n <= 2
    else:
        id_a = jnp.where(one, a1, -1)
        id_b = jnp.full_like(packed, -1)
        resolved = n <= 1
    return n, id_a.astype(jnp.int32), id_b.astype(jnp.int32), resolved


def cell_geometry(grid: Grid, radius_km: float):
    """Cell centres and unit normals, each (lat, lon, 3) float64 NumPy: WGS84 (h = 0) or sphere."""
    lat = np.radians(grid.lat_deg)[:, None]
    lon = np.radians(grid.lon_deg)[None, :]
    cl, sl = np.cos(lat), np.sin(lat)
    normal = np.stack(np.broadcast_arrays(cl * np.cos(lon), cl * np.sin(lon), sl), -1)
    if grid.earth_model == "sphere":
        return radius_km * normal, normal
    n = WGS84_A_KM / np.sqrt(1.0 - WGS84_E2 * sl * sl)
    point = np.stack(np.broadcast_arrays(n * cl * np.cos(lon), n * cl * np.sin(lon), n * (1.0 - WGS84_E2) * sl), -1)
    return point, normal


def _arc_distance(r0, r1, point):
    """Angle (rad) between the direction of ``point`` and the great-circle arc from r0 to r1; each (..., 3)."""
    unit = lambda v: v / jnp.linalg.norm(v, axis=-1, keepdims=True)  # noqa: E731
    u0, u1, c = unit(r0), unit(r1), unit(point)
    n = jnp.cross(u0, u1)
    nn = jnp.linalg.norm(n, axis=-1, keepdims=True)
    n = n / jnp.where(nn > 0, nn, 1.0)
    cn = jnp.sum(c * n, -1)
    proj = c - cn[..., None] * n
    inside = (jnp.sum(jnp.cross(u0, proj) * n, -1) >= 0) & (jnp.sum(jnp.cross(proj, u1) * n, -1) >= 0)
    to_end = jnp.minimum(jnp.arccos(jnp.clip(jnp.sum(c * u0, -1), -1, 1)),
                         jnp.arccos(jnp.clip(jnp.sum(c * u1, -1), -1, 1)))
    return jnp.where(inside & (nn[..., 0] > 0), jnp.arcsin(jnp.clip(jnp.abs(cn), 0, 1)), to_end)


def _margin(pos, tau, point, normal, sin_eps):
    """Elevation margin (s - c) . n - |s - c| sin(eps) in km at fraction ``tau`` of the step.

    ``pos(tau)`` gives the satellite's Earth-fixed position (..., 3) at ``tau`` (...).
    ``sin_eps`` may be a pair ``(sin(eps), cos(eta))`` for a nadir cone of half-angle
    ``eta`` (NaN: none): the margin is then the smaller of the elevation margin and
    the cone margin ``(s - c) . s / |s| - |s - c| cos(eta)`` (both >= 0 exactly when seen).
    """
    s = pos(tau)
    d = s - point
    if isinstance(sin_eps, tuple):
        sin_eps, cos_eta = sin_eps
        m = jnp.sum(d * normal, axis=-1) - jnp.linalg.norm(d, axis=-1) * sin_eps
        cone = jnp.sum(d * s, axis=-1) / jnp.linalg.norm(s, axis=-1) - jnp.linalg.norm(d, axis=-1) * cos_eta
        return jnp.where(jnp.isnan(cos_eta), m, jnp.minimum(m, cone))
    return jnp.sum(d * normal, axis=-1) - jnp.linalg.norm(d, axis=-1) * sin_eps


_GOLD = 0.6180339887498949


def _peak(pos, point, normal, sin_eps, iterations: int = 16):
    """(tau, margin) of the largest margin in [0, 1] by golden-section search (unimodal over a step).

    16 iterations bracket the peak to 0.618^16 = 5e-4 of the step (0.03 s at 60 s).
    """
    f = lambda t: _margin(pos, t, point, normal, sin_eps)  # noqa: E731
    a = jnp.zeros(point.shape[:-1], point.dtype)
    b = jnp.ones_like(a)
    c = b - _GOLD * (b - a)
    d = a + _GOLD * (b - a)

    def body(_, st):
        a, b, c, d, fc, fd = st
        left = fc > fd  # peak in [a, d]
        a2, b2 = jnp.where(left, a, c), jnp.where(left, d, b)
        c2 = jnp.where(left, b2 - _GOLD * (b2 - a2), d)
        d2 = jnp.where(left, c, a2 + _GOLD * (b2 - a2))
        new = f(jnp.where(left, c2, d2))
        fc2 = jnp.where(left, new, fd)
        fd2 = jnp.where(left, fc, new)
        return a2, b2, c2, d2, fc2, fd2

    a, b, c, d, fc, fd = jax.lax.fori_loop(0, iterations, body, (a, b, c, d, f(c), f(d)))
    t = jnp.where(fc > fd, c, d)
    return t, jnp.maximum(fc, fd)


def _crossing(pos, point, normal, sin_eps, iterations: int, lo=None, hi=None):
    """Root in [lo, hi] (default the step [0, 1]) of the margin, which changes sign there (Illinois regula falsi).

    Returns the root; the nearer bracket end when the margin does not change sign
    (rounding at a sample: the crossing is at that sample).
    """
    lo = jnp.zeros(point.shape[:-1], point.dtype) if lo is None else lo
    hi = jnp.ones_like(lo) if hi is None else hi
    f_lo = _margin(pos, lo, point, normal, sin_eps)
    f_hi = _margin(pos, hi, point, normal, sin_eps)
    same = (f_lo >= 0) == (f_hi >= 0)
    at_sample = jnp.where(jnp.abs(f_lo) <= jnp.abs(f_hi), lo, hi)

    def body(_, c):
        lo, hi, f_lo, f_hi, side = c
        den = f_hi - f_lo
        x = jnp.where(den != 0, lo - f_lo * (hi - lo) / jnp.where(den != 0, den, 1.0), 0.5 * (lo + hi))
        x = jnp.clip(x, lo, hi)
        f = _margin(pos, x, point, normal, sin_eps)
        left = (f >= 0) == (f_lo >= 0)  # root in [x, hi]
        # Illinois: halve the stale end's value when the same end is kept twice.
        new_lo, new_flo = jnp.where(left, x, lo), jnp.where(left, f, jnp.where(side == 1, 0.5 * f_lo, f_lo))
        new_hi, new_fhi = jnp.where(left, hi, x), jnp.where(left, jnp.where(side == -1, 0.5 * f_hi, f_hi), f)
        side = jnp.where(left, -1, 1).astype(jnp.int32)
        return new_lo, new_hi, new_flo, new_fhi, side

    lo, hi, f_lo, f_hi, _ = jax.lax.fori_loop(
        0, iterations, body, (lo, hi, f_lo, f_hi, jnp.zeros(lo.shape, jnp.int32))
    )
    den = f_hi - f_lo
    root = jnp.where(den != 0, lo - f_lo * (hi - lo) / jnp.where(den != 0, den, 1.0), 0.5 * (lo + hi))
    return jnp.where(same, at_sample, jnp.clip(root, lo, hi))


class StepTiming(NamedTuple):
    """Per cell-step coverage inside the step, as fractions of the step.

    Attributes:
      lead_end: (T, lat, lon) X: covered on [0, X] (0 when uncovered at the start).
      trail_start: (T, lat, lon) A: covered on [A, 1] (1 when uncovered at the end).
      brief_start, brief_end: (T, lat, lon) P, Q: covered on [P, Q] by satellites in
        view at neither sample, strictly between X and A (P >= Q: none).
      n_listed: () cell-steps timed; n_approx: () cell-steps with an unresolved
        crossing (put at mid-step) or an unresolved or merged pass between samples.
    """

    lead_end: jax.Array
    trail_start: jax.Array
    brief_start: jax.Array
    brief_end: jax.Array
    n_listed: jax.Array
    n_approx: jax.Array


def _compact(flags, extra: int):
    """Indices of the set entries of a 1-D bool array, in order, padded with zeros to ``size + extra``.

    A prefix sum by blocks of 1024 (the blocked scan of the coverage kernel) and
    one scatter: about 3x faster on CPU than ``jnp.nonzero(size=...)``, whose
    cumulative sum XLA lowers to a reduce-window.
    """
    n = flags.shape[0]
    block = 1024
    x = jnp.pad(flags.astype(jnp.int32), (0, -n % block)).reshape(-1, block)
    inner = _cumsum_last(x)
    totals = inner[:, -1]
    offsets = _cumsum_last(totals[None, :])[0] - totals
    pos = (inner + offsets[:, None]).reshape(-1)[:n] - 1
    idx = jnp.where(flags, pos, n + extra)
    return jnp.zeros(n + extra, jnp.int32).at[idx].set(jnp.arange(n, dtype=jnp.int32), mode="drop")


def _over_list(flags, batch: int, body, carry):
    """Run ``body(f, live, carry)`` over the flat indices where ``flags`` is set, ``batch`` at a time.

    The index list has a static length (``flags.size``) but the loop runs only
    ceil(count / batch) times (``lax.while_loop``), so the work follows the number
    of flagged entries, not the capacity; ``live`` marks the real ones of the last batch.
    """
    count = jnp.sum(flags, dtype=jnp.int32)
    lst = _compact(flags, batch)
    lane = jnp.arange(batch, dtype=jnp.int32)

    def step(c):
        i, carry = c
        f = jax.lax.dynamic_slice(lst, (i * batch,), (batch,))
        return i + 1, body(f, i * batch + lane < count, carry)

    return jax.lax.while_loop(lambda c: c[0] * batch < count, step, (jnp.int32(0), carry))[1]


def cubic_motion(r_ext_km):
    """Motion between samples by cubic Lagrange interpolation through four consecutive samples.

    ``r_ext_km`` (sat, T + 3, 3) holds the samples from one before the first step
    to one after the last: step ``k`` runs from ``r_ext[:, k + 1]`` to
    ``r_ext[:, k + 2]``. Returns ``motion(j, k) -> pos``, with ``pos(tau) -> (n, 3)``
    the position of satellite ``j`` at fraction ``tau`` of step ``k`` (all (n,));
    the four samples are gathered once per satellite-step, not per evaluation. For
    LEO at 60 s steps the interpolation error is about (omega dt)^4 r / 100, ~1 m
    (vs ~0.3 km for a normalised linear one), i.e. < 1 ms in a crossing time.
    """

    def motion(j, k):
        p = [r_ext_km[j, k + i] for i in range(4)]
        # Newton form on the nodes -1, 0, 1, 2 (x = tau): fewer operations per evaluation.
        d1 = p[1] - p[0]
        d2 = 0.5 * (p[2] - 2.0 * p[1] + p[0])
        d3 = (p[3] - 3.0 * p[2] + 3.0 * p[1] - p[0]) / 6.0

        def pos(tau):
            x = tau[..., None]
            return p[0] + (x + 1.0) * (d1 + x * (d2 + (x - 1.0) * d3))

        return pos

    return motion


def step_timing(motion, packed, swept, min_elevation_rad, *, layout: IdLayout, grid: Grid, capacity: int,
                     radius_km: float = 6371.0088, iterations: int = 6, half_angle_rad=None) -> StepTiming:
    """Coverage start/end times inside each of the T steps between T + 1 samples.

    Args:
      packed: (T + 1, lat, lon) packed sums from the coverage scatter with
        :func:`packed_payload` (same satellites, same order).
      swept: (T, lat, lon) packed sums over ``swept_intervals``: the satellites
        whose footprint may touch the cell at some time in the step.
      motion: ``motion(j, k) -> pos`` with ``pos(tau) -> (n, 3)`` the Earth-fixed
        position (km) of satellite ``j`` at fraction ``tau`` of step ``k`` (all (n,)):
        :func:`cubic_motion` of the samples. Call it inside ``jax.jit`` (the
        coverage chunk step does).
      min_elevation_rad: (sat,) masks.
      layout: the payload's :class:`IdLayout`.
      grid: the grid (its Earth model sets cell centres and normals).
      capacity: static batch size of the event solver (entries solved per loop
        iteration); the loops run only as many times as there are events.
      iterations: regula falsi iterations per crossing; 6 reach < 1 ms for 60 s
        steps (the margin is nearly linear over a step; Illinois converges superlinearly).
      half_angle_rad: optional (sat,) nadir-cone half-angles (NaN: none), as in
        ``footprint_intervals``; crossings are then those of the cone or the mask.

    Returns:
      :class:`StepTiming`. Memory: the (T + 1, lat, lon) packed input and about
      16 floats and 12 ints per cell-step of work arrays (per-slot crossing times and
      the flat index lists), plus ~60 floats per unit of ``capacity``.
    """
    dtype = jnp.result_type(float)
    n_t = packed.shape[0] - 1
    n_lat, n_lon = grid.n_lat, grid.n_lon
    n_cells = n_lat * n_lon
    n, id_a, id_b, resolved = decode_pair(packed, layout)
    cov = n >= 1
    c0, c1 = cov[:-1], cov[1:]
    hand_over = c0 & c1 & (packed[:-1] != packed[1:]) & resolved[:-1] & resolved[1:]
    # Not covered at both ends, the sets in view at the two ends are disjoint and both
    # inside the swept set: subtracting their packed sums leaves exactly the payloads of
    # the satellites that may pass between the samples (exact in modular arithmetic).
    n_s, sid_a, sid_b, res_s = decode_pair(swept - packed[:-1] - packed[1:], layout)
    brief = ~(c0 & c1) & (n_s >= 1)
    need = (c0 != c1) | hand_over | brief
    m = n_t * n_cells

    point_np, normal_np = cell_geometry(grid, radius_km)
    points = jnp.asarray(point_np.reshape(-1, 3), dtype)
    normals = jnp.asarray(normal_np.reshape(-1, 3), dtype)
    sin_eps = jnp.sin(min_elevation_rad)
    sensor = sin_eps if half_angle_rad is None else (sin_eps, jnp.cos(half_angle_rad))
    pick = lambda j: jax.tree_util.tree_map(lambda a: a[j], sensor)  # noqa: E731 (per-satellite margin params)
    flat = lambda a: a.reshape(-1)  # noqa: E731

    c0f, c1f = flat(c0), flat(c1)
    res0, res1 = flat(resolved[:-1]), flat(resolved[1:])
    ida0, idb0, ida1, idb1 = flat(id_a[:-1]), flat(id_b[:-1]), flat(id_a[1:]), flat(id_b[1:])

    def locate(e):
        return e // n_cells, e % n_cells

    # Listed cell-steps: the satellites in view at either end (start pair, end pair). One in
    # view at both ends covers the whole step; every other one sets (start) or rises (end) in it.
    def ends(four):
        """Loop body timing the sets (start pair) and rises (end pair) of listed cell-steps.

        Transitions need only the pair of the covered end (2 crossings); hand-overs all 4.
        """

        def body(e, live, c):
            lead_c, trail_c = c
            k, cell = locate(e)
            start = jnp.stack([ida0[e], idb0[e]], -1)
            end = jnp.stack([ida1[e], idb1[e]], -1)
            if four:
                ids = jnp.concatenate([start, end], -1)  # (B, 4)
            else:  # the pair in view at the covered end
                ids = jnp.where(c0f[e][:, None], start, end)
            j = jnp.maximum(ids, 0)
            kk = jnp.broadcast_to(k[:, None], j.shape)
            n_slot = ids.shape[1]
            t = _crossing(motion(j.ravel(), kk.ravel()), jnp.repeat(points[cell], n_slot, 0),
                          jnp.repeat(normals[cell], n_slot, 0), pick(j.ravel()), iterations).reshape(j.shape)
            present = ids >= 0
            if four:
                both0 = (start[:, :, None] == end[:, None, :]).any(-1) & (start >= 0)
                both1 = (end[:, :, None] == start[:, None, :]).any(-1) & (end >= 0)
                lead = jnp.max(jnp.where(present[:, :2], jnp.where(both0, 1.0, t[:, :2]), 0.0), axis=-1)
                trail = jnp.min(jnp.where(present[:, 2:], jnp.where(both1, 0.0, t[:, 2:]), 1.0), axis=-1)
            else:
                lead = jnp.where(c0f[e], jnp.max(jnp.where(present, t, 0.0), axis=-1), 0.0)
                trail = jnp.where(c1f[e], jnp.min(jnp.where(present, t, 1.0), axis=-1), 1.0)
            # Unresolved groups (three or more all setting or all rising): mid-step.
            lead = jnp.where(c0f[e] & ~res0[e], 0.5, jnp.where(c0f[e], lead, 0.0))
            trail = jnp.where(c1f[e] & ~res1[e], 0.5, jnp.where(c1f[e], trail, 1.0))
            return (lead_c.at[e].set(jnp.where(live, lead, lead_c[e])),
                    trail_c.at[e].set(jnp.where(live, trail, trail_c[e])))

        return body

    init = (c0f.astype(dtype), jnp.where(c1f, 0.0, 1.0).astype(dtype))
    lead, trail = _over_list(flat(c0 != c1), capacity, ends(False), init)
    lead, trail = _over_list(flat(hand_over), capacity, ends(True), (lead, trail))

    # Passes between the samples: residual satellites in view at neither end. A cheap exact
    # filter first (the satellite's direction must come within the footprint bound of the
    # cell's direction on its step's arc), then a peak search and the two crossings.
    sids = jnp.stack([flat(sid_a), flat(sid_b)], -1)  # (m, 2)
    cand = (flat(brief)[:, None] & (sids >= 0)).reshape(-1)

    def arc_filter(f, live, near):
        k, cell = locate(f // 2)
        j = jnp.maximum(sids.reshape(-1)[f], 0)
        pos = motion(j, k)
        u0 = pos(jnp.zeros(f.shape, dtype))
        u1 = pos(jnp.ones(f.shape, dtype))
        half = None if half_angle_rad is None else half_angle_rad[j]
        lam_b = jnp.maximum(_cap_bound(jnp.linalg.norm(u0, axis=-1), min_elevation_rad[j], grid, radius_km, half),
                            _cap_bound(jnp.linalg.norm(u1, axis=-1), min_elevation_rad[j], grid, radius_km, half))
        ok = _arc_distance(u0, u1, points[cell]) <= lam_b + 1e-3
        return near.at[f].set(jnp.where(live, ok, near[f]))

    near = _over_list(cand, capacity, arc_filter, jnp.zeros(m * 2, bool))

    def passes(f, live, c):
        b_lo, b_hi = c
        k, cell = locate(f // 2)
        j = jnp.maximum(sids.reshape(-1)[f], 0)
        pos = motion(j, k)
        pt, nm, se = points[cell], normals[cell], pick(j)
        t_pk, m_pk = _peak(pos, pt, nm, se)
        seen = live & (m_pk >= 0)
        rise = _crossing(pos, pt, nm, se, iterations, jnp.zeros_like(t_pk), t_pk)
        sets = _crossing(pos, pt, nm, se, iterations, t_pk, jnp.ones_like(t_pk))
        return b_lo.at[f].set(jnp.where(seen, rise, b_lo[f])), b_hi.at[f].set(jnp.where(seen, sets, b_hi[f]))

    b_lo, b_hi = _over_list(cand & near, capacity, passes, (jnp.ones(m * 2, dtype), jnp.zeros(m * 2, dtype)))
    b_lo, b_hi = b_lo.reshape(m, 2), b_hi.reshape(m, 2)
    p_ = jnp.min(b_lo, axis=-1)
    q_ = jnp.max(b_hi, axis=-1)
    has_b = p_ < q_
    # A pass overlapping the coverage at either end extends it.
    lead_b = jnp.where(has_b & (p_ <= lead), jnp.maximum(lead, q_), lead)
    trail_b = jnp.where(has_b & (q_ >= trail), jnp.minimum(trail, p_), trail)
    consumed = has_b & ((p_ <= lead) | (q_ >= trail))
    lead_all, trail_all = lead_b.astype(dtype), trail_b.astype(dtype)
    p_all = jnp.where(consumed, 1.0, p_).astype(dtype)
    q_all = jnp.where(consumed, 0.0, q_).astype(dtype)
    two_apart = (b_lo[:, 0] < b_hi[:, 0]) & (b_lo[:, 1] < b_hi[:, 1])  # two passes merged into their hull
    approx = flat(need) & ((c0f & ~res0) | (c1f & ~res1) | (flat(brief) & ~flat(res_s)) | two_apart)
    n_need = jnp.sum(need, dtype=jnp.int32)
    return StepTiming(
        lead_end=lead_all.reshape(n_t, n_lat, n_lon),
        trail_start=trail_all.reshape(n_t, n_lat, n_lon),
        brief_start=p_all.reshape(n_t, n_lat, n_lon),
        brief_end=q_all.reshape(n_t, n_lat, n_lon),
        n_listed=n_need,
        n_approx=jnp.sum(approx, dtype=jnp.int32),
    )
