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
   which may hide a gap) and none of them is in view at both ends (one that is
   keeps the cell covered all step). Those cell-steps are visited in batches of a
   static size, as many batches as there are entries (:func:`_over_list`).
3. **Exact crossing times.** For each listed cell-step and each satellite in
   view at one end only (one list of (cell-step, satellite) slots and one solver
   for transitions and hand-overs alike), the satellite moves along the cubic Lagrange
   interpolation of its four surrounding Earth-fixed samples
   (:func:`cubic_motion`; ~1 m for LEO at 60 s steps, ~0.3 ms in a crossing
   time, a few ms where the track grazes the footprint's edge), and the
   elevation margin ``(s - c) . n - |s - c| sin(eps)`` is solved for its root by
   bracketed Newton steps on the margin and its analytic rate, started from the
   root of the margin's cubic Hermite interpolant over the step. Passes between
   samples: a swept-footprint scatter names candidate satellites, an exact
   arc-distance test filters them, the margin's rates at the two samples keep
   those whose margin rises after the first and falls before the second (the
   margin is unimodal over a step), and a golden-section search finds the peak
   and then the two crossings.

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

from ._fusion import materialised
from ._scatter import scatter_add_dtype
from ._vmath import sincos
from .coverage import SWEPT_PATH_MARGIN_RAD, WGS84_A_KM, WGS84_E2, _cap_bound, _cumsum_last
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
    """Field widths for ``n_sat`` satellites: a 32-bit payload where the fields fit (up to 127
    satellites), else a 64-bit one (with x64; without it, the count and id sum in 32 bits)."""
    n_sat = max(int(n_sat), 1)
    c = n_sat.bit_length()
    i = (2 * n_sat).bit_length()
    q = (2 * n_sat * n_sat).bit_length()
    if c + i + q <= 31:  # half the memory traffic of the dense passes
        return IdLayout(c, i, q, "int32")
    total = 63 if x64 else 31
    if c + i + q <= total:
        return IdLayout(c, i, q, "int64")
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


# The solver below works on structure-of-arrays vectors (x, y, z), each (n,): on XLA:CPU
# an (n, 3) layout with reductions over the last axis fuses poorly. Its iterations stay
# in lax.fori_loop: unrolling them ran a micro-benchmark 9x faster but the whole chunk
# only 5-17 % faster, and doubled the compile time of every coverage() shape.


def _dot(u, v):
    return u[0] * v[0] + u[1] * v[1] + u[2] * v[2]


def _cross(u, v):
    return (u[1] * v[2] - u[2] * v[1], u[2] * v[0] - u[0] * v[2], u[0] * v[1] - u[1] * v[0])


def _unit(u):
    n = jnp.sqrt(_dot(u, u))
    return tuple(c / n for c in u), n


def _arc_frame(r0, r1, lam):
    """What :func:`_near_in_frame` needs of the arc r0 -> r1 and the angle ``lam`` (< pi/2):
    a tuple of 17 arrays, the satellite-step side of the test, computed once per step.

    ``(u0, u1, n, a0, a1)`` (x, y, z each): the unit ends, the arc's unit pole and the
    in-plane normals ``n x u0`` and ``u1 x n`` of the planes through its ends, then
    ``sin(lam)`` (-1 where the arc is too short for a pole) and ``cos(lam)``.
    """
    (u0, _), (u1, _) = _unit(r0), _unit(r1)
    n = _cross(u0, u1)
    nn = jnp.sqrt(_dot(n, n))
    # Below 1e-9 rad the pole is rounding noise (a found case: equal directions at two radii
    # gave |n| = 3e-18 and a pole in a random direction); the ends alone then decide, which is
    # exact to half the arc's length.
    arc = nn > 1e-9
    n = tuple(v / jnp.where(arc, nn, 1.0) for v in n)
    sin_l, cos_l = sincos(lam)
    return (*u0, *u1, *n, *_cross(n, u0), *_cross(u1, n), jnp.where(arc, sin_l, -1.0), cos_l)


def _near_in_frame(frame, c):
    """Whether the unit direction ``c`` (x, y, z) lies within ``lam`` of the arc of :func:`_arc_frame`.

    Compared in sines and cosines (no inverse trigonometry): within ``lam`` of the arc's
    interior where ``c`` projects inside the arc (on the inner side of both end planes:
    ``c . (n x u0) >= 0`` and ``c . (u1 x n) >= 0``, the triple products of the projection)
    and ``|c . n| <= sin(lam)``, or within ``lam`` of the nearer end (``c . u >= cos(lam)``).
    Inside the arc its distance is at most either end's, so the two tests may be or-ed.
    """
    u0, u1, n, a0, a1 = (frame[i:i + 3] for i in range(0, 15, 3))
    sin_l, cos_l = frame[15], frame[16]
    inside = (_dot(c, a0) >= 0) & (_dot(c, a1) >= 0) & (jnp.abs(_dot(c, n)) <= sin_l)
    return inside | (jnp.maximum(_dot(c, u0), _dot(c, u1)) >= cos_l)


def _near_arc(r0, r1, point, lam):
    """Whether the direction of ``point`` lies within angle ``lam`` (< pi/2) of the great-circle arc r0 -> r1."""
    return _near_in_frame(_arc_frame(r0, r1, lam), _unit(point)[0])


def _margin(pos, tau, point, normal, sin_eps):
    """Elevation margin (s - c) . n - |s - c| sin(eps) in km at fraction ``tau`` of the step.

    ``pos(tau)`` gives the satellite's Earth-fixed position (x, y, z) at ``tau``.
    ``sin_eps`` may be a pair ``(sin(eps), cos(eta))`` for a nadir cone of half-angle
    ``eta`` (NaN: none): the margin is then the smaller of the elevation margin and
    the cone margin ``(s - c) . s / |s| - |s - c| cos(eta)`` (both >= 0 exactly when seen).
    """
    s = pos(tau)
    d = tuple(a - c for a, c in zip(s, point))
    if isinstance(sin_eps, tuple):
        sin_eps, cos_eta = sin_eps
        dist = jnp.sqrt(_dot(d, d))
        m = _dot(d, normal) - dist * sin_eps
        cone = _dot(d, s) / jnp.sqrt(_dot(s, s)) - dist * cos_eta
        return jnp.where(jnp.isnan(cos_eta), m, jnp.minimum(m, cone))
    return _dot(d, normal) - jnp.sqrt(_dot(d, d)) * sin_eps


def _margin_slope(pos, tau, point, normal, sin_eps):
    """The margin of :func:`_margin` and its rate d/dtau at fraction ``tau`` of the step.

    ``pos`` must also give the rate of the position, ``pos.rate(tau)``
    (:class:`CubicTrack`). With ``d = s - c`` and ``v = ds/dtau``:
    ``d/dtau [d . n - |d| sin(eps)] = v . n - (d . v / |d|) sin(eps)``; for a cone,
    ``d/dtau [d . s / |s| - |d| cos(eta)] = (v . s + d . v) / |s| - (d . s)(s . v) / |s|^3
    - (d . v / |d|) cos(eta)``; the smaller margin's rate where two apply.
    """
    s, v = pos(tau), pos.rate(tau)
    d = tuple(a - c for a, c in zip(s, point))
    dist = jnp.sqrt(_dot(d, d))
    dv = _dot(d, v) / dist
    if isinstance(sin_eps, tuple):
        sin_eps, cos_eta = sin_eps
        m, dm = _dot(d, normal) - dist * sin_eps, _dot(v, normal) - dv * sin_eps
        r = jnp.sqrt(_dot(s, s))
        ds, sv = _dot(d, s), _dot(s, v)
        cone = ds / r - dist * cos_eta
        dcone = (sv + _dot(d, v)) / r - ds * sv / (r * r * r) - dv * cos_eta
        use_m = jnp.isnan(cos_eta) | (m <= cone)
        return jnp.where(use_m, m, cone), jnp.where(use_m, dm, dcone)
    return _dot(d, normal) - dist * sin_eps, _dot(v, normal) - dv * sin_eps


def _twice(tree):
    """Every (n,) leaf of ``tree`` repeated: (2 n,). Two solves of one kind as one over twice the
    lanes keep one copy of the solver in the compiled kernel (compiles ~20 % faster, same run time;
    doubling the margin's two end evaluations inside each solve as well ran ~15 % slower)."""
    return jax.tree_util.tree_map(lambda a: jnp.concatenate([a, a]), tree)


def _like(sin_eps):
    """The per-entry array of a margin parameter (the first of a cone pair)."""
    return sin_eps[0] if isinstance(sin_eps, tuple) else sin_eps


_GOLD = 0.6180339887498949


def _peak(pos, point, normal, sin_eps, iterations: int = 16):
    """(tau, margin) of the largest margin in [0, 1] by golden-section search (unimodal over a step).

    16 iterations bracket the peak to 0.618^16 = 5e-4 of the step (0.03 s at 60 s).
    """
    f = lambda t: _margin(pos, t, point, normal, sin_eps)  # noqa: E731
    a = jnp.zeros(_like(sin_eps).shape, _like(sin_eps).dtype)
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
        return a2, b2, c2, d2, jnp.where(left, new, fd), jnp.where(left, fc, new)

    a, b, c, d, fc, fd = jax.lax.fori_loop(0, iterations, body, (a, b, c, d, f(c), f(d)))
    return jnp.where(fc > fd, c, d), jnp.maximum(fc, fd)


def _crossing(pos, point, normal, sin_eps, iterations: int, lo=None, hi=None):
    """Root in [lo, hi] (default the step [0, 1]) of the margin, which changes sign there.

    Start: the root of the cubic Hermite interpolant of the margin through its values
    and rates at the two ends (found by bisection and a final secant on that cubic,
    which costs no geometry). Then ``iterations`` Newton steps on the margin and its
    analytic rate (:func:`_margin_slope`), each kept inside a bracket that shrinks
    with every evaluation (a step that would leave it bisects it, as ``rtsafe`` in
    Numerical Recipes). The Hermite start matters where a pass peaks inside the step:
    the margin then rises before it falls, and Newton or regula falsi started from the
    secant of the ends creep along the wrong slope. Returns the root; the nearer
    bracket end when the margin does not change sign (rounding at a sample: the
    crossing is at that sample).
    """
    lo = jnp.zeros(_like(sin_eps).shape, _like(sin_eps).dtype) if lo is None else lo
    hi = jnp.ones_like(lo) if hi is None else hi
    f_lo, d_lo = _margin_slope(pos, lo, point, normal, sin_eps)
    f_hi, d_hi = _margin_slope(pos, hi, point, normal, sin_eps)
    same = (f_lo >= 0) == (f_hi >= 0)
    at_sample = jnp.where(jnp.abs(f_lo) <= jnp.abs(f_hi), lo, hi)
    rises = f_lo < 0
    # Hermite cubic g(u), u in [0, 1], of the margin on [lo, hi].
    h = hi - lo
    a1 = d_lo * h
    a2 = 3.0 * (f_hi - f_lo) - (2.0 * d_lo + d_hi) * h
    a3 = 2.0 * (f_lo - f_hi) + (d_lo + d_hi) * h
    g = lambda u: f_lo + u * (a1 + u * (a2 + u * a3))  # noqa: E731
    u_lo, u_hi = jnp.zeros_like(lo), jnp.ones_like(lo)
    for _ in range(_HERMITE_BISECTIONS):
        mid = 0.5 * (u_lo + u_hi)
        right = (g(mid) < 0) == rises  # root in [mid, u_hi]
        u_lo, u_hi = jnp.where(right, mid, u_lo), jnp.where(right, u_hi, mid)
    g_lo, g_hi = g(u_lo), g(u_hi)
    den = g_hi - g_lo
    u = jnp.where(den != 0, u_lo - g_lo * (u_hi - u_lo) / jnp.where(den != 0, den, 1.0), 0.5 * (u_lo + u_hi))
    x0 = lo + jnp.clip(u, u_lo, u_hi) * h

    def body(_, st):
        lo, hi, x = st
        fx, dfx = _margin_slope(pos, x, point, normal, sin_eps)
        right = (fx < 0) == rises  # root in [x, hi]
        lo, hi = jnp.where(right, x, lo), jnp.where(right, hi, x)
        step = fx / jnp.where(dfx != 0, dfx, 1.0)
        xn = x - step
        newton = (dfx != 0) & (xn >= lo) & (xn <= hi)
        # At the root the margin is rounding noise, which may point a Newton step of
        # ~1e-16 out of the bracket: that is convergence, not a reason to bisect.
        done = (fx == 0) | ((dfx != 0) & (jnp.abs(step) <= 1e-12))
        return lo, hi, jnp.where(done, x, jnp.where(newton, xn, 0.5 * (lo + hi)))

    _, _, x = jax.lax.fori_loop(0, iterations, body, (lo, hi, x0))
    return jnp.where(same, at_sample, x)


_HERMITE_BISECTIONS = 8  # 1/256 of the step on the interpolant before its secant


def shares_a_satellite(packed, layout: IdLayout):
    """Whether consecutive packed sums along the first axis (samples k and k + 1) name a common
    satellite among their one or two: (n - 1, ...) from (n, ...); each sample decoded once.

    False where either holds none, or three or more (unresolved), or the layout names no pairs
    and two are in view.
    """
    _, ida, idb, _ = decode_pair(packed, layout)  # ids -1 where absent or not resolved
    a0, b0, a1, b1 = ida[:-1], idb[:-1], ida[1:], idb[1:]
    return ((a0 >= 0) & ((a0 == a1) | (a0 == b1))) | ((b0 >= 0) & ((b0 == a1) | (b0 == b1)))


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


# Bits of the per-cell-step code byte in step_timing.
_C0, _C1, _BRIEF, _UNRES, _SLOT0 = range(5)
# Bits _SLOT0 .. _SLOT0 + 3: the timed slots of a cell-step, 0-1 the satellites in view at its
# start, 2-3 those at its end (set only for the cell-steps whose crossings are timed).


def _pack_bits(flags):
    """(words, running): a 1-D bool array packed 32 to a uint32 word (bit i of word w is
    entry 32 w + i), and the inclusive running count of set bits over the words (int32).

    The running count is 32 times shorter than the flags: XLA:CPU lowers cumulative sums
    to a reduce-window, whose cost over a chunk's millions of cell-steps (several lists
    per chunk) was about a fifth of the event timing before the flags were packed.
    """
    n = flags.shape[0]
    bits = jnp.pad(flags, (0, -n % 32)).reshape(-1, 32).astype(jnp.uint32)
    words = jnp.sum(bits << jnp.arange(32, dtype=jnp.uint32)[None, :], axis=1, dtype=jnp.uint32)  # distinct bits: sum = or
    return words, _cumsum_last(jax.lax.population_count(words).astype(jnp.int32)[None, :])[0]


def _select_bit(word, rank):
    """Position (0..31) of the set bit of ``word`` (uint32) with ``rank`` set bits below it.

    A binary search on the number of set bits below a position (the largest p with at
    most ``rank`` set bits below it is the wanted bit); ``rank`` must be below the
    word's population count.
    """
    pos = jnp.zeros(word.shape, jnp.uint32)
    for half in (16, 8, 4, 2, 1):
        mid = pos + half
        below = jax.lax.population_count(word & ((jnp.uint32(1) << mid) - 1)).astype(rank.dtype)
        pos = jnp.where(below <= rank, mid, pos)
    return pos.astype(jnp.int32)


def _entry(words, running, w, q):
    """Flat index of the q-th set flag (q from 0), given ``w``, the word holding it."""
    before = running[w] - jax.lax.population_count(words[w]).astype(jnp.int32)
    return w * 32 + _select_bit(words[w], q - before)


def _over_list(flags, batch: int, body, carry):
    """Run ``body(f, live, carry)`` over the flat indices where ``flags`` is set, ``batch`` at a time.

    The loop runs only ceil(count / batch) times (``lax.while_loop``), so the work
    follows the number of flagged entries; ``live`` marks the real ones of the
    last batch, whose idle lanes carry the index ``flags.size`` (out of range): a body
    may scatter to its entries unconditionally (JAX drops out-of-range scatter indices;
    the gather-and-select that kept idle lanes' old values read every list twice).
    Batch ``i`` finds its entries without listing them: the flags are packed into
    32-bit words with a running count of their set bits; the q-th set entry lies in
    the first word whose count reaches q + 1 (a binary search), at the bit found by
    :func:`_select_bit`. No scatter of the whole index list, no scan over every flag.
    """
    words, running = _pack_bits(flags)
    count = running[-1]
    lane = jnp.arange(batch, dtype=jnp.int32)

    def step(c):
        i, carry = c
        q = i * batch + lane
        live = q < count
        # "scan": the binary search as one loop. "scan_unrolled" emitted its ~17 steps as
        # separate gather fusions per batch: 3.5x slower alone, and 7-27 % of whole
        # event-timed stages (same process, bit-identical, 2026-12-02).
        w = jnp.minimum(jnp.searchsorted(running, q + 1, side="left", method="scan").astype(jnp.int32),
                        words.shape[0] - 1)
        # Idle lanes of the last batch get an out-of-range index: gathers clamp it and
        # scatters drop it, so they can never overwrite a real entry. The index is computed
        # once into a buffer: fused, the search's last steps were evaluated again in every
        # gather of the body that uses it (~6 % of a sparse stage's CPU time).
        e = materialised(lambda: jnp.where(live, _entry(words, running, w, q), flags.shape[0]), i)
        return i + 1, body(e, live, carry)

    return jax.lax.while_loop(lambda c: c[0] * batch < count, step, (jnp.int32(0), carry))[1]


class CubicTrack(NamedTuple):
    """A position cubic in the step fraction ``tau``, per axis in Newton form on the nodes -1, 0, 1, 2.

    ``track(tau)`` is the position (x, y, z), ``track.rate(tau)`` its derivative d/dtau.
    """

    coef: tuple  # per axis (c0, c1, c2, c3), each (n,)

    def __call__(self, tau):
        return tuple(c0 + (tau + 1.0) * (c1 + tau * (c2 + (tau - 1.0) * c3)) for c0, c1, c2, c3 in self.coef)

    def rate(self, tau):
        out = []
        for _, c1, c2, c3 in self.coef:
            g = c2 + (tau - 1.0) * c3
            out.append(c1 + tau * g + (tau + 1.0) * (g + tau * c3))
        return tuple(out)


def cubic_motion(r_ext_km):
    """Motion between samples by cubic Lagrange interpolation through four consecutive samples.

    ``r_ext_km`` (sat, T + 3, 3) holds the samples from one before the first step
    to one after the last: step ``k`` runs from ``r_ext[:, k + 1]`` to
    ``r_ext[:, k + 2]``. Returns ``motion(j, k) -> pos``, with ``pos(tau) -> (x, y, z)``
    the position of satellite ``j`` at fraction ``tau`` of step ``k`` (all (n,));
    the four samples are gathered once per satellite-step, not per evaluation. For
    LEO at 60 s steps the interpolation error is about (omega dt)^4 r / 100, ~1 m
    (vs ~0.3 km for a normalised linear one): ~0.3 ms in a crossing time, up to a few
    ms where the track grazes the footprint's edge (tests/test_event_kernels.py).
    """

    window = jax.vmap(lambda j, k: jax.lax.dynamic_slice(r_ext_km, (j, k, jnp.zeros_like(j)), (1, 4, 3))[0])

    def motion(j, k):
        w = window(j, k)  # (n, 4, 3): one gather of 12 contiguous values per satellite-step
        coef = []
        for axis in range(3):
            p = [w[:, i, axis] for i in range(4)]
            # Newton form on the nodes -1, 0, 1, 2 (x = tau): fewer operations per evaluation.
            coef.append((p[0], p[1] - p[0], 0.5 * (p[2] - 2.0 * p[1] + p[0]),
                         (p[3] - 3.0 * p[2] + 3.0 * p[1] - p[0]) / 6.0))

        return CubicTrack(tuple(coef))

    return motion


def step_timing(motion, packed, swept, min_elevation_rad, *, layout: IdLayout, grid: Grid, capacity: int,
                     radius_km: float = 6371.0088, iterations: int = 2, valid=None,
                     half_angle_rad=None) -> StepTiming:
    """Coverage start/end times inside each of the T steps between T + 1 samples.

    Args:
      packed: (T + 1, lat, lon) packed sums from the coverage scatter with
        :func:`packed_payload` (same satellites, same order).
      swept: (T, lat, lon) packed sums over ``swept_intervals``: the satellites
        whose footprint may touch the cell at some time in the step.
      motion: ``motion(j, k) -> pos`` with ``pos(tau) -> (x, y, z)`` the Earth-fixed
        position (km) of satellite ``j`` at fraction ``tau`` of step ``k`` (all (n,)):
        :func:`cubic_motion` of the samples. Call it inside ``jax.jit`` (the
        coverage chunk step does).
      min_elevation_rad: (sat,) masks.
      layout: the payload's :class:`IdLayout`.
      grid: the grid (its Earth model sets cell centres and normals).
      capacity: static batch size of the event solver (entries solved per loop
        iteration); the loops run only as many times as there are events.
      iterations: Newton iterations per crossing after the Hermite start (see
        :func:`_crossing`). On 79,367 random footprint-edge crossings of a 630 km orbit
        at 60 s steps (against 60 iterations of regula falsi), 2 (the default) left at
        most 1 us and 3 at most 1e-10 s (the default scenario's 72-satellite stage: figures
        within 1.1e-6 s of 3 iterations' and ~6 % faster); the Illinois regula falsi used before left up to 11 ms after
        10 iterations, and a rise 2.6 s late after 6 (a hypothesis case in
        tests/test_coverage_figures.py).
      valid: optional (T,) bool: the steps counted in ``n_listed``/``n_approx``
        (a padded chunk's tail is solved but not counted).
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
    m = n_t * n_cells
    # Dense work is kept to cheap integer tests per cell-step; the ids of the satellites
    # in view are decoded only for the listed entries, inside the loops. Every per-cell-step
    # test is folded into one byte (bits _C0.._UNRES), computed once into a buffer
    # (:func:`materialised`): each later dense pass (the event lists' bits, the defaults,
    # the counters) reads that byte instead of re-deriving the tests from the cumulative
    # sums' partials, which XLA otherwise fuses into every consumer.
    most = 2 if layout.sq_bits else 1  # largest group whose ids the payload resolves
    pk, sw = packed.reshape(n_t + 1, n_cells), swept.reshape(n_t, n_cells)

    def tests():
        n = decode_counts(pk, layout)
        n0, n1 = n[:-1], n[1:]
        c0, c1 = n0 >= 1, n1 >= 1
        hand_over = (c0 & c1 & (pk[:-1] != pk[1:])) & (n0 <= most) & (n1 <= most)
        # Not covered at both ends, the sets in view at the two ends are disjoint and both
        # inside the swept set: subtracting their packed sums leaves exactly the payloads of
        # the satellites that may pass between the samples (exact in modular arithmetic).
        n_s = decode_counts(sw - pk[:-1] - pk[1:], layout)
        brief = ~(c0 & c1) & (n_s >= 1)
        change = c0 != c1
        n_end = jnp.where(c0, n0, n1)  # satellites in view at the covered end of a transition
        unresolved = (c0 & (n0 > most)) | (c1 & (n1 > most)) | (brief & (n_s > most))
        need = change | hand_over | brief
        counted = True if valid is None else valid[:, None]
        # A hand-over in which a satellite stays in view at both ends (one joins or leaves
        # beside it) keeps the cell covered all step: nothing to solve (X = 1, A = 0, the
        # defaults below). A fifth of the default scenario's 72-satellite crossings were these.
        stays = shares_a_satellite(pk, layout) if most == 2 else False  # else: 1 -> 1, another
        # Timed: transitions whose covered end sees one or two (as many as the payload
        # names) and hand-overs without a satellite staying; each of their satellites is a slot.
        timed = (hand_over & ~stays) | (change & (n_end <= most))
        bit = lambda flag, b: flag.astype(jnp.uint8) << b  # noqa: E731
        code = (bit(c0, _C0) | bit(c1, _C1) | bit(brief, _BRIEF) | bit(unresolved, _UNRES)
                | bit(timed & (n0 >= 1), _SLOT0) | bit(timed & (n0 >= 2), _SLOT0 + 1)
                | bit(timed & (n1 >= 1), _SLOT0 + 2) | bit(timed & (n1 >= 2), _SLOT0 + 3)).reshape(-1)
        # The counters, over the counted steps: cell-steps listed (a hand-over with a
        # satellite staying is listed, though not solved) and those of them left unresolved.
        return (code, jnp.sum(need & counted, dtype=jnp.int32),
                jnp.sum(need & unresolved & counted, dtype=jnp.int32))

    code, n_need, n_unresolved = materialised(tests, pk[0, 0])
    has = lambda b: (code & (1 << b)) != 0  # noqa: E731
    c0, c1 = has(_C0), has(_C1)
    change = c0 != c1
    timed = (code >> _SLOT0) != 0
    brief = has(_BRIEF)

    point_np, normal_np = cell_geometry(grid, radius_km)
    # One (cell, 6) table: a single row gather fetches a cell's centre and normal.
    geometry = jnp.asarray(np.concatenate([point_np, normal_np], -1).reshape(-1, 6), dtype)

    def cell_at(idx):
        g = geometry[idx]
        return (g[:, 0], g[:, 1], g[:, 2]), (g[:, 3], g[:, 4], g[:, 5])
    sin_eps = jnp.sin(min_elevation_rad)
    sensor = sin_eps if half_angle_rad is None else (sin_eps, jnp.cos(half_angle_rad))
    pick = lambda j: jax.tree_util.tree_map(lambda a: a[j], sensor)  # noqa: E731 (per-satellite margin params)

    def locate(e):
        return e // n_cells, e % n_cells

    def ids_at(k, cell):
        """(B, 2) ids in view at sample k of each cell (-1: absent)."""
        _, a, b, _ = decode_pair(pk[k, cell], layout)
        return jnp.stack([a, b], -1)

    def crossings(f, live, c):
        """One crossing per slot ``f = 4 e + q`` of a timed cell-step ``e``: a satellite in view at
        the start (q < 2) sets, and its crossing raises ``X``; one in view at the end rises, and
        lowers ``A``. No timed cell-step has a satellite in view at both ends (the test byte
        leaves those hand-overs covered all step). Transitions and hand-overs, of one or two
        satellites each, share this one list and solver: one crossing per lane."""
        lead_c, trail_c = c
        e, q = f // 4, f % 4
        k, cell = locate(e)
        at_end = q >= 2
        own = ids_at(jnp.where(at_end, k + 1, k), cell)
        j = jnp.maximum(jnp.take_along_axis(own, (q % 2)[:, None], 1)[:, 0], 0)
        t = _crossing(motion(j, k), *cell_at(cell), pick(j), iterations)
        # The two sides' scatters drop the other side's lanes (and idle lanes): out of range.
        return (lead_c.at[jnp.where(at_end, m, e)].max(t),
                trail_c.at[jnp.where(at_end, e, m)].min(t))

    # Defaults: covered all step where covered at both ends; unresolved groups (three or
    # more all setting or all rising) put at mid-step. Timed cell-steps start from the
    # identities of the slots' max (X) and min (A).
    lead = jnp.where(timed, 0.0, jnp.where(c0, jnp.where(change, 0.5, 1.0), 0.0)).astype(dtype)
    trail = jnp.where(timed, 1.0, jnp.where(c1, jnp.where(change, 0.5, 0.0), 1.0)).astype(dtype)
    slots = ((code[:, None] >> jnp.arange(_SLOT0, _SLOT0 + 4, dtype=jnp.uint8)[None, :]) & 1).astype(bool)
    lead, trail = _over_list(slots.reshape(-1), capacity, crossings, (lead, trail))

    # Passes between the samples: residual satellites in view at neither end. A cheap exact
    # filter first (the satellite's direction must come within the footprint bound of the
    # cell's direction on its step's arc), then a peak search and the two crossings.
    def residual_ids(k, cell):
        _, a, b, _ = decode_pair(sw[k, cell] - pk[k, cell] - pk[k + 1, cell], layout)
        return jnp.stack([a, b], -1)

    # The satellite-step side of the arc test, once per satellite and step (a T x sat table,
    # one row gathered per candidate), and each cell's unit direction: per candidate only
    # five dot products remain (no square roots, no trigonometry).
    n_sat = min_elevation_rad.shape[0]
    j_all = jnp.tile(jnp.arange(n_sat, dtype=jnp.int32), n_t)
    k_all = jnp.repeat(jnp.arange(n_t, dtype=jnp.int32), n_sat)
    track = motion(j_all, k_all)
    s0, s1 = track(jnp.zeros(j_all.shape, dtype)), track(jnp.ones(j_all.shape, dtype))
    # The footprint bound grows with the radius: take the larger of the two ends'.
    r_max = jnp.sqrt(jnp.maximum(_dot(s0, s0), _dot(s1, s1)))
    lam_b = _cap_bound(r_max, jnp.tile(min_elevation_rad, n_t), grid, radius_km,
                       None if half_angle_rad is None else jnp.tile(half_angle_rad, n_t))
    frames = jnp.stack(_arc_frame(s0, s1, lam_b + SWEPT_PATH_MARGIN_RAD), -1)  # (T * sat, 17)
    directions = jnp.asarray(point_np.reshape(-1, 3) / np.linalg.norm(point_np.reshape(-1, 3), axis=-1)[:, None],
                             dtype)

    def arc_filter(e, live, near):
        k, cell = locate(e)
        ids = residual_ids(k, cell)  # (B, 2)
        j = jnp.maximum(ids, 0)
        frame = frames[(k[:, None] * n_sat + j).ravel()]  # (2B, 17)
        c = directions[jnp.repeat(cell, 2)]
        ok = _near_in_frame(tuple(frame[:, i] for i in range(17)), (c[:, 0], c[:, 1], c[:, 2]))
        ok = ok.reshape(ids.shape) & (ids >= 0)
        return near.at[e].set(ok)

    near = _over_list(brief, capacity, arc_filter, jnp.zeros((m, 2), bool))

    def slot_track(f):
        """The step, the cell and the motion and margin parameters of candidate slot ``f``."""
        e = f // 2
        k, cell = locate(e)
        j = jnp.maximum(jnp.take_along_axis(residual_ids(k, cell), (f % 2)[:, None], 1)[:, 0], 0)
        return e, motion(j, k), cell_at(cell), pick(j)

    def rising_then_setting(f, live, ok):
        """Keep a candidate only if its margin rises at the step start and falls at its end.

        The margin over a step is unimodal (the peak search below assumes it too) and
        negative at both samples (the satellite is in view at neither): falling at the
        start or rising at the end puts its maximum on that sample, below the mask. Two
        margin evaluations here save the peak search and two root solves for the ~80 %
        of near-arc candidates that pass no closer than the samples.
        """
        _, pos, (pt, nm), se = slot_track(f)
        _, d0 = _margin_slope(pos, jnp.zeros(f.shape, dtype), pt, nm, se)
        _, d1 = _margin_slope(pos, jnp.ones(f.shape, dtype), pt, nm, se)
        keep = ~((d0 < 0) | (d1 > 0))
        return ok.at[f].set(keep)

    hopeful = _over_list(near.reshape(-1), capacity, rising_then_setting, jnp.zeros(2 * m, bool))

    def passes(f, live, c):
        p_c, q_c, n_c = c
        e, pos, (pt, nm), se = slot_track(f)
        t_pk, m_pk = _peak(pos, pt, nm, se)
        # The rise (before the peak) and the set (after it) as one solve over twice the lanes:
        # one copy of the solver in the compiled kernel, not two.
        both = _crossing(CubicTrack(_twice(pos.coef)), _twice(pt), _twice(nm), _twice(se), iterations,
                         jnp.concatenate([jnp.zeros_like(t_pk), t_pk]), jnp.concatenate([t_pk, jnp.ones_like(t_pk)]))
        rise, sets = both[:t_pk.shape[0]], both[t_pk.shape[0]:]
        # The two slots of an entry may share a batch: min/max/add scatters combine them
        # (their hull, and how many passes it merges).
        at = jnp.where(m_pk >= 0, e, m)  # out of range (as idle lanes' e): dropped
        return (p_c.at[at].min(rise), q_c.at[at].max(sets),
                n_c.at[at].add((rise < sets).astype(n_c.dtype)))

    n_dtype = scatter_add_dtype(jnp.int8)  # int32 on GPUs: no CAS loop (see _scatter)
    p_, q_, n_pass = _over_list(hopeful, capacity, passes,
                                (jnp.ones(m, dtype), jnp.zeros(m, dtype), jnp.zeros(m, n_dtype)))

    def merge(e, live, c):
        """A pass overlapping the coverage at either end of its step extends that coverage;
        one strictly inside stays a pass. Only the cell-steps that may hold one."""
        lead_c, trail_c, p_c, q_c, n_two = c
        p, q, x, a = p_c[e], q_c[e], lead_c[e], trail_c[e]
        has_b = p < q
        consumed = has_b & ((p <= x) | (q >= a))
        # Two passes merged into their hull: approximated (the unresolved cell-steps are counted
        # with the test byte). Every entry here is listed: counted when its step is.
        two = live & (n_pass[e] == 2) & ~has(_UNRES)[e] & (True if valid is None else valid[e // n_cells])
        return (lead_c.at[e].set(jnp.where(has_b & (p <= x), jnp.maximum(x, q), x)),
                trail_c.at[e].set(jnp.where(has_b & (q >= a), jnp.minimum(a, p), a)),
                p_c.at[e].set(jnp.where(consumed, 1.0, p)), q_c.at[e].set(jnp.where(consumed, 0.0, q)),
                n_two + jnp.sum(two, dtype=jnp.int32))

    lead_all, trail_all, p_all, q_all, n_two = _over_list(hopeful.reshape(m, 2).any(-1), capacity, merge,
                                                          (lead, trail, p_, q_, jnp.int32(0)))
    n_approx = n_unresolved + n_two
    return StepTiming(
        lead_end=lead_all.reshape(n_t, n_lat, n_lon),
        trail_start=trail_all.reshape(n_t, n_lat, n_lon),
        brief_start=p_all.reshape(n_t, n_lat, n_lon),
        brief_end=q_all.reshape(n_t, n_lat, n_lon),
        n_listed=n_need,
        n_approx=n_approx,
    )
