"""Vectorisable elementary functions for the kernels (SGP4, Kepler, coverage).

XLA:CPU evaluates float64 ``sin``, ``cos``, ``atan2`` and ``fmod`` element by
element through scalar library calls (15-25 ns each on a Xeon core), and they
dominate SGP4. These replacements are plain polynomial arithmetic that XLA fuses
and vectorises; :func:`sincos` also shares one range reduction between sin and cos.

Sources: fdlibm 5.3 ``__kernel_sin``/``__kernel_cos`` coefficients and the
three-part pi/2 Cody-Waite reduction of ``__ieee754_rem_pio2``; Cephes
``atan.c`` (S. L. Moshier) rational approximation. Accuracy in float64: about
1 ulp for |x| < 2**19 * pi/2 (~8e5 rad) in sincos, ~2 ulp in atan2; beyond that
the reduction error grows linearly (SGP4 only feeds such angles to the small
drag terms). In float32 the same formulas with a float32 split of pi/2 give
about 1 ulp for |x| < ~1e4 rad.
"""

from __future__ import annotations

import math

import jax.numpy as jnp
import numpy as np

# fdlibm __kernel_sin / __kernel_cos, valid on [-pi/4, pi/4]
_S1 = -1.66666666666666324348e-01
_S2 = 8.33333333332248946124e-03
_S3 = -1.98412698298579493134e-04
_S4 = 2.75573137070700676789e-06
_S5 = -2.50507602534068634195e-08
_S6 = 1.58969099521155010221e-10
_C1 = 4.16666666666666019037e-02
_C2 = -1.38888888888741095749e-03
_C3 = 2.48015872894767294178e-05
_C4 = -2.75573143513906633035e-07
_C5 = 2.08757232129817482790e-09
_C6 = -1.13596475577881948265e-11

# pi/2 split so that k * part is exact: float64 parts of 33 bits (fdlibm pio2_1/2/3).
_PIO2_F64 = (1.57079632673412561417e00, 6.07710050650619224932e-11, 2.02226624871116645580e-21)
# float32: 8 + 16 + rest bits (Cephes sinf, doubled).
_PIO2_F32 = (1.5703125, 4.837512969970703125e-4, 7.54978995489188216e-8)
_TWO_OVER_PI = 2.0 / math.pi


def sincos(x):
    """(sin x, cos x) with one shared range reduction; any float dtype and shape."""
    if x.dtype == jnp.float32:
        p1, p2, p3 = _PIO2_F32
    else:
        p1, p2, p3 = _PIO2_F64
    k = jnp.round(x * _TWO_OVER_PI)
    r = ((x - k * p1) - k * p2) - k * p3
    z = r * r
    s = r + r * z * (_S1 + z * (_S2 + z * (_S3 + z * (_S4 + z * (_S5 + z * _S6)))))
    hz = 0.5 * z
    w = 1.0 - hz
    cr = z * z * (_C1 + z * (_C2 + z * (_C3 + z * (_C4 + z * (_C5 + z * _C6)))))
    c = w + (((1.0 - w) - hz) + cr)
    q = k.astype(jnp.int32) & 3
    swap = (q & 1) == 1
    sin_x = jnp.where(swap, c, s)
    cos_x = jnp.where(swap, s, c)
    sin_x = jnp.where((q & 2) == 2, -sin_x, sin_x)
    cos_x = jnp.where((q == 1) | (q == 2), -cos_x, cos_x)
    return sin_x, cos_x


# Cephes atan.c: atan(t) = t + t z P(z)/Q(z) on [0, 0.66], z = t^2.
_P = (-8.750608600031904122785e-01, -1.615753718733365076637e01, -7.500855792314704667340e01,
      -1.228866684490136173410e02, -6.485021904942025371773e01)  # fmt: skip
_Q = (2.485846490142306297962e01, 1.650270098316988542046e02, 4.328810604912902668951e02,
      4.853903996359136964868e02, 1.945506571482613964425e02)  # fmt: skip
_MOREBITS = 6.123233995736765886130e-17  # pi/2 - float(pi/2)


def atan2(y, x):
    """Quadrant-correct arctan(y / x) in (-pi, pi]; atan2(0, 0) = 0."""
    ax = jnp.abs(x)
    ay = jnp.abs(y)
    big = ay > ax
    num = jnp.where(big, ax, ay)
    den = jnp.where(big, ay, ax)
    t = num / jnp.where(den == 0.0, 1.0, den)  # t in [0, 1]
    mid = t > 0.66
    tt = jnp.where(mid, (t - 1.0) / (t + 1.0), t)
    z = tt * tt
    p = (((_P[0] * z + _P[1]) * z + _P[2]) * z + _P[3]) * z + _P[4]
    q = ((((z + _Q[0]) * z + _Q[1]) * z + _Q[2]) * z + _Q[3]) * z + _Q[4]
    a = tt + tt * z * p / q
    a = jnp.where(mid, (math.pi / 4 + 0.5 * _MOREBITS) + a, a)
    a = jnp.where(big, (math.pi / 2 + _MOREBITS) - a, a)
    a = jnp.where(x < 0.0, (math.pi + 2.0 * _MOREBITS) - a, a)
    a = jnp.where(jnp.signbit(y), -a, a)
    return a


def fmod(x, y: float):
    """C ``fmod`` for a positive constant ``y``: sign of x, |result| < y up to one rounding.

    x - trunc(x / y) * y instead of XLA's exact remainder (a scalar libcall); the
    difference is at most ulp(x), below 1e-12 rad for the angles SGP4 reduces.
    """
    return x - jnp.trunc(x * (1.0 / y)) * y


def _arccos_ratio(x):
    """arccos(x) / sqrt(1 - x) on [0, 1] (-> sqrt(2) at 1): analytic, so Chebyshev converges fast."""
    x = np.asarray(x, np.float64)
    safe = np.minimum(x, 1.0 - 1e-300)
    return np.where(x < 1.0, np.arccos(safe) / np.sqrt(1.0 - safe), np.sqrt(2.0))


# Chebyshev interpolant of degree 14 on [0, 1], built at import from numpy's arccos; with
# arccos(x) = sqrt(1 - x) ratio(x) and arccos(-x) = pi - arccos(x) the float64 error is below
# 6e-14 rad on [-1, 1] (tests/test_vmath.py).
_ACOS_CHEB = tuple(
    float(c) for c in np.polynomial.chebyshev.Chebyshev.interpolate(_arccos_ratio, 14, domain=[0.0, 1.0]).coef
)


def arccos(x):
    """arccos as a Clenshaw sum (polynomial arithmetic XLA fuses and vectorises); < 6e-14 rad in float64."""
    ax = jnp.abs(x)
    t2 = 2.0 * (2.0 * ax - 1.0)
    b1 = jnp.zeros_like(ax)
    b2 = jnp.zeros_like(ax)
    for coef in _ACOS_CHEB[:0:-1]:
        b1, b2 = coef + t2 * b1 - b2, b1
    r = jnp.sqrt(1.0 - ax) * (_ACOS_CHEB[0] + 0.5 * t2 * b1 - b2)
    return jnp.where(x < 0, math.pi - r, r)
