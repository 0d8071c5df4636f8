"""SGP4/SDP4 satellite propagation in JAX, batched over satellites and times.

Source: Vallado, Crawford, Hujsak, Kelso, "Revisiting Spacetrack Report #3",
AIAA 2006-6753 (2006), in its 2020 C++ revision as shipped with python-sgp4
(``sgp4/propagation.py`` is the readable reference). Vallado's variable names
are kept so the code can be compared line by line. Every branch of the
reference is a mask: near-earth (SGP4), simplified low-perigee and deep-space
(SDP4, with the 12 h / 24 h resonance integrator) satellites mix freely in one
call with static shapes. The deep-space routines live in :mod:`.sgp4_deep`, the
initialisation in :mod:`.sgp4_init`.

Public API:
  - :class:`Sgp4Gravity` and the constants :data:`WGS72OLD`, :data:`WGS72`, :data:`WGS84`.
  - :func:`sgp4_init` -> :class:`Sgp4Params` (a pytree of (sat,) arrays).
  - :func:`sgp4_propagate` -> TEME position (km), velocity (km/s), error code.
  - :data:`SGP4_ERRORS`: human messages of the error codes.

Error codes (as in the reference; the kernel never raises):
  0 ok; 1 mean eccentricity outside [-0.001, 1); 2 mean motion <= 0;
  3 perturbed eccentricity outside [0, 1] (deep space); 4 semi-latus rectum < 0;
  5 (epoch elements sub-orbital) is never set, exactly like python-sgp4 2.27 and
  the reference's tcppver.out; 6 satellite decayed (radius < 1 earth radius).
  Codes 1-4 return NaN position and velocity. Code 6 returns the computed state,
  as python-sgp4 and the reference C++ do; mask on ``error_code != 0`` to drop it.
"""

from __future__ import annotations

import math
from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from ._fusion import materialised
from ._vmath import atan2, sincos
from ._vmath import fmod as _fmod
from .sgp4_deep import dpper, dspace
from .sgp4_init import sgp4init_constants

TWOPI = 2.0 * math.pi
N_KEPLER_PEELED = 3  # Kepler iterations unrolled before the while loop (LEO needs 2-3)


class Sgp4Gravity(NamedTuple):
    """Gravity constants of SGP4 (AIAA 2006-6753 ``getgravconst``).

    Fields: tumin (min per time unit), mu (km^3/s^2), radiusearthkm (km),
    xke (sqrt(mu)/er^1.5 per minute), j2, j3, j4, j3oj2.
    """

    tumin: float
    mu: float
    radiusearthkm: float
    xke: float
    j2: float
    j3: float
    j4: float
    j3oj2: float


def _gravity(mu, radiusearthkm, j2, j3, j4, xke=None) -> Sgp4Gravity:
    if xke is None:
        xke = 60.0 / math.sqrt(radiusearthkm * radiusearthkm * radiusearthkm / mu)
    return Sgp4Gravity(1.0 / xke, mu, radiusearthkm, xke, j2, j3, j4, j3 / j2)


WGS72OLD = _gravity(398600.79964, 6378.135, 0.001082616, -0.00000253881, -0.00000165597, xke=0.0743669161)
"""Spacetrack Report #3 constants (xke given directly)."""
WGS72 = _gravity(398600.8, 6378.135, 0.001082616, -0.00000253881, -0.00000165597)
"""WGS-72, the constants TLEs are fitted with (the usual choice)."""
WGS84 = _gravity(398600.5, 6378.137, 0.00108262998905, -0.00000253215306, -0.00000161098761)
"""WGS-84 as in AIAA 2006-6753 getgravconst."""

SGP4_ERRORS = {
    0: "ok",
    1: "mean eccentricity is outside the range 0.0 to 1.0",
    2: "mean motion is less than zero",
    3: "perturbed eccentricity is outside the range 0.0 to 1.0",
    4: "semi-latus rectum is less than zero",
    5: "epoch elements are sub-orbital (never set, as in python-sgp4)",
    6: "mrt is less than 1.0 which indicates the satellite has decayed",
}


class Sgp4Params(NamedTuple):
    """Per-satellite SGP4 constants, every field an array of shape (sat,).

    Names follow the reference's ``satrec`` (AIAA 2006-6753). ``error`` is the
    error code of the propagation to the epoch made by sgp4init (int32), as in
    ``Satrec.error`` after ``sgp4init``. ``isimp`` and ``method_deep`` are bool,
    ``irez`` int32 (0 none, 1 24 h, 2 12 h resonance); all others floating.
    """

    error: jax.Array
    isimp: jax.Array
    method_deep: jax.Array
    irez: jax.Array
    # elements (rad, rad/min, 1/earth radii)
    bstar: jax.Array
    ecco: jax.Array
    argpo: jax.Array
    inclo: jax.Array
    mo: jax.Array
    nodeo: jax.Array
    no_kozai: jax.Array
    no_unkozai: jax.Array
    gsto: jax.Array
    # near-earth constants
    aycof: jax.Array
    con41: jax.Array
    cc1: jax.Array
    cc4: jax.Array
    cc5: jax.Array
    d2: jax.Array
    d3: jax.Array
    d4: jax.Array
    delmo: jax.Array
    eta: jax.Array
    argpdot: jax.Array
    omgcof: jax.Array
    sinmao: jax.Array
    t2cof: jax.Array
    t3cof: jax.Array
    t4cof: jax.Array
    t5cof: jax.Array
    x1mth2: jax.Array
    x7thm1: jax.Array
    mdot: jax.Array
    nodedot: jax.Array
    xlcof: jax.Array
    xmcof: jax.Array
    nodecf: jax.Array
    # deep-space lunar-solar terms (dscom)
    e3: jax.Array
    ee2: jax.Array
    se2: jax.Array
    se3: jax.Array
    sgh2: jax.Array
    sgh3: jax.Array
    sgh4: jax.Array
    sh2: jax.Array
    sh3: jax.Array
    si2: jax.Array
    si3: jax.Array
    sl2: jax.Array
    sl3: jax.Array
    sl4: jax.Array
    xgh2: jax.Array
    xgh3: jax.Array
    xgh4: jax.Array
    xh2: jax.Array
    xh3: jax.Array
    xi2: jax.Array
    xi3: jax.Array
    xl2: jax.Array
    xl3: jax.Array
    xl4: jax.Array
    zmol: jax.Array
    zmos: jax.Array
    # deep-space secular rates and resonance terms (dsinit)
    d2201: jax.Array
    d2211: jax.Array
    d3210: jax.Array
    d3222: jax.Array
    d4410: jax.Array
    d4422: jax.Array
    d5220: jax.Array
    d5232: jax.Array
    d5421: jax.Array
    d5433: jax.Array
    dedt: jax.Array
    didt: jax.Array
    dmdt: jax.Array
    dnodt: jax.Array
    domdt: jax.Array
    del1: jax.Array
    del2: jax.Array
    del3: jax.Array
    xfact: jax.Array
    xlamo: jax.Array

    def astype(self, dtype) -> "Sgp4Params":
        """Cast the floating fields to ``dtype`` (e.g. float32 for GPUs); flags keep their type."""
        return Sgp4Params(
            *(
                jnp.asarray(x, dtype) if jnp.issubdtype(jnp.asarray(x).dtype, jnp.floating) else x
                for x in self
            )
        )

    def __getitem__(self, index):  # NamedTuple indexing by int stays tuple-like
        if isinstance(index, (int, np.integer)):
            return tuple.__getitem__(self, index)
        return Sgp4Params(*(x[index] for x in self))


def _check_static(gravity, opsmode):
    if not isinstance(gravity, Sgp4Gravity):
        raise ValueError(f"gravity must be an Sgp4Gravity (WGS72OLD, WGS72, WGS84), got {gravity!r}")
    if opsmode not in ("a", "i"):
        raise ValueError(f"opsmode must be 'a' (AFSPC) or 'i' (improved), got {opsmode!r}")


# --------------------------------------------------------------------------------------
# Propagation kernel
# --------------------------------------------------------------------------------------


def _sgp4_core(p: Sgp4Params, t, gravity: Sgp4Gravity, opsmode: str, deep_space: bool,
               resonance: bool = True):  # fmt: skip
    """SGP4 propagation (AIAA 2006-6753 ``sgp4``) of (sat, 1) constants to (sat, time) times.

    ``deep_space`` is a static flag: False drops the SDP4 code (only valid when
    no satellite has ``method_deep``). ``resonance`` (static, with ``deep_space``)
    False drops the 12 h / 24 h resonance integrator (only valid when no satellite
    has ``irez != 0``).

    Returns r (sat, time, 3) km, v (sat, time, 3) km/s, error (sat, time) int32.
    """
    dtype = t.dtype
    temp4 = 1.5e-12
    x2o3 = 2.0 / 3.0
    xke = gravity.xke
    j2 = gravity.j2
    j3oj2 = gravity.j3oj2
    vkmpersec = gravity.radiusearthkm * xke / 60.0

    probe = jnp.sum(p.isimp, dtype=jnp.int32)  # a traced scalar for the fusion boundaries below

    def secular():
        """Secular gravity and drag: mean anomaly, argument of perigee, node and the drag terms."""
        # ------- update for secular gravity and atmospheric drag -----
        xmdf = p.mo + p.mdot * t
        argpdf = p.argpo + p.argpdot * t
        nodedf = p.nodeo + p.nodedot * t
        t2 = t * t
        nodem = nodedf + p.nodecf * t2
        tempa = 1.0 - p.cc1 * t
        tempe = p.bstar * p.cc4 * t
        templ = p.t2cof * t2

        # isimp != 1 terms (the d2.. t5cof constants are zero for isimp satellites)
        full = ~p.isimp
        delomg = p.omgcof * t
        delmtemp = 1.0 + p.eta * sincos(xmdf)[1]
        delm = p.xmcof * (delmtemp * delmtemp * delmtemp - p.delmo)
        temp = delomg + delm
        mm = jnp.where(full, xmdf + temp, xmdf)
        argpm = jnp.where(full, argpdf - temp, argpdf)
        t3 = t2 * t
        t4 = t3 * t
        tempa = jnp.where(full, tempa - p.d2 * t2 - p.d3 * t3 - p.d4 * t4, tempa)
        tempe = jnp.where(full, tempe + p.bstar * p.cc5 * (sincos(mm)[0] - p.sinmao), tempe)
        templ = jnp.where(full, templ + p.t3cof * t3 + t4 * (p.t4cof + t * p.t5cof), templ)
        return mm, argpm, nodem, tempa, tempe, templ

    # Into buffers once (see the tail below): each trunk fusion downstream re-derived these
    # from the elements, with the sines and cosines of the mean anomaly. Same-process A/B,
    # best of 6, bit-identical: LEO 0.70 -> 0.61 s and 0.63 -> 0.54 s, wide 0.47 -> 0.42 s.
    mm, argpm, nodem, tempa, tempe, templ = materialised(secular, probe)

    shape = t.shape
    nm = jnp.broadcast_to(p.no_unkozai, shape)
    em = jnp.broadcast_to(p.ecco, shape)
    inclm = jnp.broadcast_to(p.inclo, shape)
    if deep_space:
        deep = p.method_deep
        em_d, argpm_d, inclm_d, mm_d, nodem_d, nm_d = dspace(p, t, em, argpm, inclm, mm, nodem, nm, resonance)
        em = jnp.where(deep, em_d, em)
        argpm = jnp.where(deep, argpm_d, argpm)
        inclm = jnp.where(deep, inclm_d, inclm)
        mm = jnp.where(deep, mm_d, mm)
        nodem = jnp.where(deep, nodem_d, nodem)
        nm = jnp.where(deep, nm_d, nm)

    err2 = nm <= 0.0
    if deep_space:
        am = jnp.power(xke / nm, x2o3) * tempa * tempa
    else:  # nm is the constant no_unkozai: take the power once per satellite
        am = jnp.power(xke / p.no_unkozai, x2o3) * tempa * tempa
    nm = xke / (am * jnp.sqrt(am))  # pow(am, 1.5) of the reference, to 1 ulp
    em = em - tempe
    err1 = (em >= 1.0) | (em < -0.001)
    em = jnp.where(em < 1.0e-6, 1.0e-6, em)
    mm = mm + p.no_unkozai * templ
    xlm = mm + argpm + nodem
    nodem = _fmod(nodem, TWOPI)
    argpm = _fmod(argpm, TWOPI)
    xlm = _fmod(xlm, TWOPI)
    mm = _fmod(xlm - argpm - nodem, TWOPI)

    # ----------------- compute extra mean quantities -------------
    # (inclm is the constant inclo unless deep space: then once per satellite)
    sinim, cosim = sincos(inclm if deep_space else p.inclo)

    # -------------------- add lunar-solar periodics --------------
    ep = em
    xincp = inclm
    argpp = argpm
    nodep = nodem
    mp = mm
    sinip = sinim
    cosip = cosim
    aycof = p.aycof
    xlcof = p.xlcof
    con41 = p.con41
    x1mth2 = p.x1mth2
    x7thm1 = p.x7thm1
    err3 = jnp.zeros(shape, bool)
    if deep_space:
        ep_d, xincp_d, nodep_d, argpp_d, mp_d = dpper(p, t, ep, xincp, nodep, argpp, mp, opsmode)
        neg = xincp_d < 0.0
        xincp_d = jnp.where(neg, -xincp_d, xincp_d)
        nodep_d = jnp.where(neg, nodep_d + jnp.pi, nodep_d)
        argpp_d = jnp.where(neg, argpp_d - jnp.pi, argpp_d)
        err3 = deep & ((ep_d < 0.0) | (ep_d > 1.0))
        ep = jnp.where(deep, ep_d, ep)
        xincp = jnp.where(deep, xincp_d, xincp)
        nodep = jnp.where(deep, nodep_d, nodep)
        argpp = jnp.where(deep, argpp_d, argpp)
        mp = jnp.where(deep, mp_d, mp)
        # -------------------- long period periodics ------------------
        sinip_d, cosip_d = sincos(xincp)
        sinip = jnp.where(deep, sinip_d, sinip)
        cosip = jnp.where(deep, cosip_d, cosip)
        aycof = jnp.where(deep, -0.5 * j3oj2 * sinip, aycof)
        # sgp4fix for divide by zero for xincp = 180 deg
        den = jnp.where(jnp.abs(cosip + 1.0) > 1.5e-12, 1.0 + cosip, temp4)
        xlcof = jnp.where(deep, -0.25 * j3oj2 * sinip * (3.0 + 5.0 * cosip) / den, xlcof)

    sinargpp, cosargpp = sincos(argpp)
    axnl = ep * cosargpp
    temp = 1.0 / (am * (1.0 - ep * ep))
    aynl = ep * sinargpp + temp * aycof
    xl = mp + argpp + nodep + temp * xlcof * axnl

    # --------------------- solve kepler's equation ---------------
    u = _fmod(xl - nodep, TWOPI)
    tol = 1.0e-12 if dtype == jnp.float64 else 1.0e-6

    def kep_cond(state):
        _, tem5, _, _, ktr = state
        return (ktr <= 10) & jnp.any(jnp.abs(tem5) >= tol)

    def kep_body(state):
        eo1, tem5, sineo1, coseo1, ktr = state
        active = jnp.abs(tem5) >= tol
        s, c = sincos(eo1)
        d = (u - aynl * c + axnl * s - eo1) / (1.0 - c * axnl - s * aynl)
        d = jnp.clip(d, -0.95, 0.95)
        return (
            jnp.where(active, eo1 + d, eo1),
            jnp.where(active, d, tem5),
            jnp.where(active, s, sineo1),
            jnp.where(active, c, coseo1),
            ktr + 1,
        )

    big = jnp.full(shape, 9999.9, dtype)
    state = (u, big, jnp.zeros_like(u), jnp.ones_like(u), jnp.int32(1))
    # The first iterations are peeled out of the loop so XLA fuses them with the code
    # above (one pass over memory instead of one per iteration); masked elements are
    # left unchanged exactly as in the loop, so the results are identical.
    for _ in range(N_KEPLER_PEELED):
        state = kep_body(state)
    eo1, _, sineo1, coseo1, _ = lax.while_loop(kep_cond, kep_body, state)

    def tail(con41=con41, x1mth2=x1mth2, x7thm1=x7thm1):
        """Short-period periodics, orientation angles and the error code (first failing check)."""
        # ------------- short period preliminary quantities -----------
        ecose = axnl * coseo1 + aynl * sineo1
        esine = axnl * sineo1 - aynl * coseo1
        el2 = axnl * axnl + aynl * aynl
        pl = am * (1.0 - el2)
        err4 = pl < 0.0
        rl = am * (1.0 - ecose)
        rdotl = jnp.sqrt(am) * esine / rl
        rvdotl = jnp.sqrt(pl) / rl
        betal = jnp.sqrt(1.0 - el2)
        temp = esine / (1.0 + betal)
        sinu = am / rl * (sineo1 - aynl - axnl * temp)
        cosu = am / rl * (coseo1 - axnl + aynl * temp)
        su = atan2(sinu, cosu)
        sin2u = (cosu + cosu) * sinu
        cos2u = 1.0 - 2.0 * sinu * sinu
        temp = 1.0 / pl
        temp1 = 0.5 * j2 * temp
        temp2 = temp1 * temp

        # -------------- update for short period periodics ------------
        if deep_space:
            cosisq = cosip * cosip
            con41 = jnp.where(deep, 3.0 * cosisq - 1.0, con41)
            x1mth2 = jnp.where(deep, 1.0 - cosisq, x1mth2)
            x7thm1 = jnp.where(deep, 7.0 * cosisq - 1.0, x7thm1)
        mrt = rl * (1.0 - 1.5 * temp2 * betal * con41) + 0.5 * temp1 * x1mth2 * cos2u
        su = su - 0.25 * temp2 * x7thm1 * sin2u
        xnode = nodep + 1.5 * temp2 * cosip * sin2u
        xinc = xincp + 1.5 * temp2 * cosip * sinip * cos2u
        mvt = rdotl - nm * temp1 * x1mth2 * sin2u / xke
        rvdot = rvdotl + nm * temp1 * (x1mth2 * cos2u + 1.5 * con41) / xke

        # --------------------- orientation vectors -------------------
        sinsu, cossu = sincos(su)
        snod, cnod = sincos(xnode)
        sini, cosi = sincos(xinc)
        # First failing check wins, as the reference returns at each one.
        error = jnp.where(err2, 2, jnp.where(err1, 1, jnp.where(err3, 3, jnp.where(
            err4, 4, jnp.where(mrt < 1.0, 6, 0))))).astype(jnp.int32)
        return sinsu, cossu, snod, cnod, sini, cosi, mrt, mvt, rvdot, error

    # Computed once into buffers: fused into the six components of r and v, XLA:CPU
    # evaluated this tail, and the error checks' chains back to the secular update
    # (and through dpper for deep space), once per component. Same-process A/B, best of
    # 6: LEO 3,236 x 1,440 0.93 -> 0.71 s, mixed 2,000 x 1,440 1.24 -> 0.69 s.
    sinsu, cossu, snod, cnod, sini, cosi, mrt, mvt, rvdot, error = materialised(tail, probe)
    xmx = -snod * cosi
    xmy = cnod * cosi
    ux = xmx * sinsu + cnod * cossu
    uy = xmy * sinsu + snod * cossu
    uz = sini * sinsu
    vx = xmx * cossu - cnod * sinsu
    vy = xmy * cossu - snod * sinsu
    vz = sini * cossu

    # --------- position and velocity (in km and km/sec) ----------
    mr = mrt * gravity.radiusearthkm
    r = jnp.stack([mr * ux, mr * uy, mr * uz], axis=-1)
    v = jnp.stack(
        [(mvt * ux + rvdot * vx) * vkmpersec,
         (mvt * uy + rvdot * vy) * vkmpersec,
         (mvt * uz + rvdot * vz) * vkmpersec],
        axis=-1,
    )  # fmt: skip

    bad = ((error > 0) & (error < 5))[..., None]
    r = jnp.where(bad, jnp.nan, r)
    v = jnp.where(bad, jnp.nan, v)
    return r, v, error


# --------------------------------------------------------------------------------------
# Entry points
# --------------------------------------------------------------------------------------


ONE_SHOT_CPU_COMPILER_OPTIONS = {"xla_backend_optimization_level": 0, "xla_cpu_use_fusion_emitters": False}
"""XLA options for kernels that run once per catalogue on CPU (the initialiser): LLVM's -O0 and
XLA:CPU's elemental emitters halve the compile (6.6 -> 3.2 s for :func:`sgp4_init`, 2 cores),
which is the whole cost of a call that then runs for milliseconds. IEEE semantics are the
same at every level (no fast-math); the results differ from the optimised build's by
rounding (2.7e-15 at most on the random element sets of tests/test_sgp4_satrec.py)."""


def _sgp4_init_body(epoch_days_1950, bstar, ndot, nddot, ecco, argpo, inclo, mo, no_kozai, nodeo,
                    *, gravity, opsmode):  # fmt: skip
    del ndot, nddot  # carried by TLEs but not used by SGP4 (as in the reference)
    c = sgp4init_constants(gravity, opsmode, epoch_days_1950, bstar, ecco, argpo, inclo, mo,
                           no_kozai, nodeo)  # fmt: skip
    fields = {k: c[k] for k in Sgp4Params._fields if k != "error"}
    params = Sgp4Params(error=jnp.zeros(epoch_days_1950.shape, jnp.int32), **fields)
    # finally propagate to zero epoch to set the error code (as sgp4init does)
    t0 = jnp.zeros(epoch_days_1950.shape + (1,), epoch_days_1950.dtype)
    _, _, err = _sgp4_core(_per_sat(params), t0, gravity, opsmode, deep_space=True)
    return params._replace(error=err[:, 0])


_sgp4_init_jit = jax.jit(_sgp4_init_body, static_argnames=("gravity", "opsmode"))
_sgp4_init_jit_cpu = jax.jit(_sgp4_init_body, static_argnames=("gravity", "opsmode"),
                             compiler_options=ONE_SHOT_CPU_COMPILER_OPTIONS)


def sgp4_init(
    *,
    epoch_days_1950,
    bstar,
    ndot,
    nddot,
    ecco,
    argpo,
    inclo,
    mo,
    no_kozai,
    nodeo,
    gravity: Sgp4Gravity = WGS72,
    opsmode: str = "i",
) -> Sgp4Params:
    """Initialise SGP4 for a batch of element sets (AIAA 2006-6753 ``sgp4init``).

    Arguments mirror python-sgp4's ``Satrec.sgp4init``; all are (sat,) arrays:

    Args:
      epoch_days_1950: epoch in days since 1949 Dec 31 00:00 UT (jd - 2433281.5).
        Use float64: in float32 the epoch is only good to ~3 minutes.
      bstar: drag term B* (1/earth radii).
      ndot, nddot: mean motion derivatives (rad/min^2, rad/min^3); unused by SGP4.
      ecco: eccentricity; argpo, inclo, mo, nodeo: angles in radians.
      no_kozai: Kozai mean motion (rad/min).
      gravity: static :class:`Sgp4Gravity` (WGS72 is what TLEs are fitted with).
      opsmode: static 'i' (improved) or 'a' (AFSPC sidereal time and node fixes).

    Returns:
      :class:`Sgp4Params` of (sat,) arrays, with ``error`` the code at epoch.
      Jitted (on CPU with :data:`ONE_SHOT_CPU_COMPILER_OPTIONS`); the dtype follows the
      inputs (float64 when x64 is enabled).
      Outside jit the element sets run in blocks of :data:`INIT_BLOCK` (the last one padded
      with copies of the last set, dropped from the result): one compile serves every
      catalogue size.
    """
    _check_static(gravity, opsmode)
    args = [epoch_days_1950, bstar, ndot, nddot, ecco, argpo, inclo, mo, no_kozai, nodeo]
    names = ["epoch_days_1950", "bstar", "ndot", "nddot", "ecco", "argpo", "inclo", "mo",
             "no_kozai", "nodeo"]  # fmt: skip
    args = [jnp.atleast_1d(jnp.asarray(a)) for a in args]
    dtype = jnp.result_type(*[a.dtype for a in args], float)
    args = [a.astype(dtype) for a in args]
    n = args[0].shape
    for name, a in zip(names, args):
        if a.ndim != 1 or a.shape != n:
            raise ValueError(f"sgp4_init: {name} must have shape (sat,) = {n}, got {a.shape}")
    init = _sgp4_init_jit_cpu if jax.default_backend() == "cpu" else _sgp4_init_jit  # under jit: inlined
    n_sat = n[0]
    if any(isinstance(a, jax.core.Tracer) for a in args):
        return init(*args, gravity=gravity, opsmode=opsmode)
    if n_sat == 0:  # empty fields of the right dtypes, without compiling for size 0
        shapes = jax.eval_shape(partial(_sgp4_init_body, gravity=gravity, opsmode=opsmode), *args)
        return Sgp4Params(*(jnp.zeros(x.shape, x.dtype) for x in shapes))
    # On the host: pad with copies of the last element set (valid wherever it is) to whole
    # blocks, initialise block by block with one compiled kernel, drop the copies. NumPy
    # slicing and joining compile nothing (eager JAX slices compile one kernel per shape).
    size = _round_up(n_sat, INIT_BLOCK)
    rows = np.minimum(np.arange(size), n_sat - 1)  # as _propagate_groups pads a group
    host = [np.asarray(a)[rows] for a in args]
    blocks = [init(*(a[i:i + INIT_BLOCK] for a in host), gravity=gravity, opsmode=opsmode)
              for i in range(0, size, INIT_BLOCK)]
    return Sgp4Params(*(jnp.asarray(np.concatenate([np.asarray(b[f]) for b in blocks])[:n_sat])
                        for f in range(len(Sgp4Params._fields))))


INIT_BLOCK = 1024
"""Element sets per call of the compiled initialiser (outside jit): initialisation costs
microseconds per satellite but seconds to compile, so every catalogue size shares one compile
(per gravity model, opsmode and dtype); 10,395 Starlink sets take 11 blocks."""


def _per_sat(params: Sgp4Params) -> Sgp4Params:
    """(sat,) fields -> (sat, 1) so they broadcast against (sat, time) at equal rank."""
    return Sgp4Params(*(x[:, None] for x in params))


@partial(jax.jit, static_argnames=("gravity", "opsmode", "deep_space", "resonance", "dtype"))
def _sgp4_propagate_jit(params, tsince_min, *, gravity, opsmode, deep_space, dtype, resonance=True):
    params = params.astype(dtype)
    t = tsince_min.astype(dtype)
    nsat = params.ecco.shape[0]
    if t.ndim == 1:
        t = jnp.broadcast_to(t[None, :], (nsat, t.shape[0]))
    return _sgp4_core(_per_sat(params), t, gravity, opsmode, deep_space, resonance)


@partial(jax.jit, static_argnames=("gravity", "opsmode", "deep_space", "resonance", "dtype"), donate_argnums=0)
def _sgp4_block_into(out, params, tsince_min, row, col, *, gravity, opsmode, deep_space, dtype, resonance=True):
    """One (sat_block, time_block) block propagated straight into the donated output buffers at (row, col)."""
    block = _sgp4_propagate_jit(params, tsince_min, gravity=gravity, opsmode=opsmode, deep_space=deep_space,
                                dtype=dtype, resonance=resonance)  # fmt: skip
    return tuple(lax.dynamic_update_slice(o, b, (row, col) + (0,) * (o.ndim - 2)) for o, b in zip(out, block))


@partial(jax.jit, static_argnames=("sat_starts", "time_starts", "sat_block", "time_block"))
def _split_blocks(params, tsince_min, *, sat_starts, time_starts, sat_block, time_block):
    """Contiguous (sat_block,) params and (sat_block, time_block) times of every block, in one dispatch.

    The kernel then runs on contiguous inputs: slicing inside the kernel's jit
    measured 3x slower on CPU.
    """
    p_blocks = [Sgp4Params(*(x[i : i + sat_block] for x in params)) for i in sat_starts]
    t_blocks = [[tsince_min[i : i + sat_block, k : k + time_block] for k in time_starts] for i in sat_starts]
    return p_blocks, t_blocks


@jax.jit
def _take_sats(params, tsince_min, index):
    return Sgp4Params(*(x[index] for x in params)), tsince_min[index]


@partial(jax.jit, static_argnames="ntime")
def _rows_of(buf, rows, ntime):
    """The buffers' rows ``rows`` and first ``ntime`` times: the caller's satellite order, unpadded."""
    return tuple(b[rows, :ntime] for b in buf)


@partial(jax.jit, static_argnames="ntime", donate_argnums=0)
def _rows_into(out, buf, rows, ntime):
    """:func:`_rows_of` written into the donated ``out`` buffers."""
    return tuple(lax.dynamic_update_slice(o, b[rows, :ntime], (0,) * o.ndim) for o, b in zip(out, buf))


BLOCK_POINTS = 80_000
"""Satellite-epochs per call on CPU when :func:`sgp4_propagate` blocks a large job (outside jit)."""
BLOCK_POINTS_ACCELERATOR = 8_000_000
"""The same on GPU/TPU, where one large call keeps the device busy."""
MIN_TIME_BLOCK = 64
"""Shortest time block: XLA:CPU vectorises the kernel along its minor (time) axis."""
SPLIT_MIN_POINTS = 1_000_000
"""Smallest job (satellite-epochs) for which :func:`sgp4_propagate` splits satellite groups by default."""
SAT_ALIGN = 16
TIME_ALIGN = 8

# Kernel variants, each compiled with only the branches its satellites need.
_NEAR = dict(deep_space=False, resonance=False)
_DEEP = dict(deep_space=True, resonance=False)
_RESONANT = dict(deep_space=True, resonance=True)


def _round_up(n: int, m: int) -> int:
    return -(-n // m) * m


def _block_shape(nsat: int, ntime: int, block_points: int) -> tuple[int, int]:
    """(sat, time) block of about ``block_points`` with a time axis of at least MIN_TIME_BLOCK."""
    n_sb = max(1, min(nsat, -(-nsat * min(ntime, MIN_TIME_BLOCK) // block_points)))
    sb = -(-nsat // n_sb)
    tb = min(ntime, max(MIN_TIME_BLOCK, block_points // sb))
    tb = -(-ntime // -(-ntime // tb))  # balance the time blocks
    return _round_up(sb, SAT_ALIGN), _round_up(tb, TIME_ALIGN)


def _block_starts(n: int, block: int) -> tuple[int, ...]:
    """Starts of the blocks covering range(n): equal blocks, the last one moved back to end at n.

    The last block overlaps its neighbour instead of running past the end, so the
    output needs no padding and no trimming copy; the overlap is computed twice,
    identically. ``block`` must be at most ``n``.
    """
    return tuple(min(i, n - block) for i in range(0, n, block))


def _propagate_groups(params, t, groups, block_points, out=None, **static):
    """Concrete (sat,) params and (sat, time) minutes, by groups of satellites (``(kind, index)``,
    index None: all) each in equal blocks (one compilation per kind).

    Every block is propagated straight into one output buffer (donated to the
    kernel, which writes its block in place), group after group. Blocks that would
    run past a group's satellites or the times are moved back to overlap their
    neighbours; only a group smaller than one block is padded, with copies of its
    last satellite or time. When one group covers the caller's satellites in order
    (an all-LEO catalogue) and its blocks tile the job, the buffer is the result
    (``out`` when given); otherwise one gather at the end restores the caller's order
    (into ``out`` when given).
    """
    nsat, ntime = t.shape
    dtype = static["dtype"]

    def buffers(n_rows, n_cols):
        return (jnp.zeros((n_rows, n_cols, 3), dtype), jnp.zeros((n_rows, n_cols, 3), dtype),
                jnp.zeros((n_rows, n_cols), jnp.int32))

    if nsat == 0 or ntime == 0:  # nothing to propagate (no blocks to size)
        return buffers(nsat, ntime)
    plans, n_rows = [], 0
    for kind, idx in groups:
        n_g = nsat if idx is None else idx.size
        sb, tb = (n_g, ntime) if block_points is None else _block_shape(n_g, ntime, block_points)
        plans.append((kind, idx, n_g, sb, tb, n_rows))
        n_rows += max(n_g, sb)
    n_cols = max(max(p[4] for p in plans), ntime)
    (_, idx0, n_0, sb_0, tb_0, _) = plans[0]
    exact = len(plans) == 1 and idx0 is None and sb_0 <= n_0 and tb_0 <= ntime  # buffer == result
    in_place = exact and out is not None
    if in_place:
        buf = out
    elif len(plans) == 1 and sb_0 >= n_0 and tb_0 >= ntime:
        buf = None  # one kernel call makes the buffer
    else:
        buf = buffers(n_rows, n_cols)
    where = np.empty(nsat, np.int64)  # each satellite's buffer row
    for kind, idx, n_g, sb, tb, row0 in plans:
        # A group smaller than one block is padded with copies of its last satellite / time.
        rows = np.minimum(np.arange(max(n_g, sb)), n_g - 1)
        if idx is not None:
            rows = idx[rows]
        p_g, t_g = (params, t) if np.array_equal(rows, np.arange(nsat)) else _take_sats(params, t, jnp.asarray(rows))
        if tb > ntime:
            t_g = jnp.concatenate([t_g, jnp.repeat(t_g[:, -1:], tb - ntime, axis=1)], axis=1)
        where[np.arange(nsat) if idx is None else idx] = row0 + np.arange(n_g)
        if buf is None:
            buf = _sgp4_propagate_jit(p_g, t_g, **static, **kind)
            break
        sat_starts = _block_starts(max(n_g, sb), sb)
        time_starts = _block_starts(max(ntime, tb), tb)
        p_blocks, t_blocks = _split_blocks(p_g, t_g, sat_starts=sat_starts, time_starts=time_starts,
                                           sat_block=sb, time_block=tb)  # fmt: skip
        for i, p_i, t_row in zip(sat_starts, p_blocks, t_blocks):
            for k, t_ik in zip(time_starts, t_row):
                buf = _sgp4_block_into(buf, p_i, t_ik, row0 + i, k, **static, **kind)
    in_order = np.array_equal(where, np.arange(nsat))
    if in_place or (out is None and in_order and buf[0].shape[:2] == (nsat, ntime)):
        return tuple(buf)
    if out is not None:
        return _rows_into(out, buf, jnp.asarray(where), ntime)
    if in_order:
        return tuple(b[:nsat, :ntime] for b in buf)
    return _rows_of(buf, jnp.asarray(where), ntime)


def _check_out(out, nsat: int, ntime: int, dtype) -> tuple:
    """``out`` as a tuple of three jax arrays of the result's shapes and dtypes, or one clear error."""
    want = (((nsat, ntime, 3), jnp.dtype(dtype)), ((nsat, ntime, 3), jnp.dtype(dtype)),
            ((nsat, ntime), jnp.dtype(jnp.int32)))  # fmt: skip
    if not isinstance(out, (tuple, list)) or len(out) != 3:
        raise ValueError(f"out must be a tuple (r, v, error_code) of jax arrays, got {type(out).__name__}")
    for name, o, (shape, dt) in zip(("r", "v", "error_code"), out, want):
        if not isinstance(o, jax.Array) or o.shape != shape or o.dtype != dt:
            got = f"{type(o).__name__} {getattr(o, 'shape', '?')} {getattr(o, 'dtype', '?')}"
            raise ValueError(f"out {name} must be a jax array {shape} {dt} (this call's result), got {got}")
        if o.is_deleted():
            raise ValueError(f"out {name} was already donated to an earlier call: pass that call's result")
    return tuple(out)


def sgp4_propagate(
    params: Sgp4Params,
    tsince_min,
    *,
    gravity: Sgp4Gravity = WGS72,
    opsmode: str = "i",
    dtype=None,
    deep_space: bool | None = None,
    block_points: int | str | None = "auto",
    split: bool | None = None,
    out=None,
):
    """Propagate SGP4 element sets to times since their epochs (AIAA 2006-6753 ``sgp4``).

    Args:
      params: :class:`Sgp4Params` from :func:`sgp4_init`, fields (sat,).
      tsince_min: (sat, time) or (time,) minutes since each satellite's epoch;
        (time,) is shared by all satellites.
      gravity, opsmode: static; must be those given to :func:`sgp4_init`.
      dtype: computation dtype; None keeps the params' float dtype (float64 when
        initialised with x64). ``jnp.float32`` casts params and times (see
        docs/sgp4.md for the float32 error budget).
      deep_space: None or True: with concrete params (outside jit) the host sorts
        the satellites into near-earth, deep-space and resonant deep-space groups
        (``method_deep`` and ``irez`` are known after :func:`sgp4_init`) and runs
        each group through a kernel compiled with only its own branches; under
        tracing one kernel with every branch runs (True) . False runs the
        near-earth kernel for all satellites: wrong for deep-space ones.
      block_points: "auto" (BLOCK_POINTS on CPU, BLOCK_POINTS_ACCELERATOR on
        accelerators) or a number: called outside jit, each group is processed in equal (sat, time)
        blocks of about this many satellite-epochs (the last ones overlapping their
        neighbours, so one compilation serves them all), with at least ``MIN_TIME_BLOCK`` times per block because XLA:CPU
        vectorises along the time axis. The kernel is memory-bound on CPU: blocks keep
        its ~25 intermediate (sat, time) arrays cache-sized and bound peak memory.
        None: one call per group. Under jit the caller's shape is used as is.

      split: whether the host splits the groups (above); None: when the job has at
        least ``SPLIT_MIN_POINTS`` satellite-epochs (below that, compiling three kernels
        costs more than it saves: one kernel with the branches present runs).
      out: None, or the (r, v, error_code) jax arrays of an earlier call with this
        call's result shapes and dtypes (NumPy's ``out=``, for loops over time
        chunks). Their memory is donated and the result written into it, which
        saves allocating and first touching ~60 bytes per satellite-epoch (25 % of
        a 3,236 x 1,440 LEO job on a 2-core VM). The arrays passed are deleted:
        use the returned ones. Outside jit only. While NumPy views of them
        (``np.asarray``) are alive JAX cannot donate them: the result is then
        written to new memory, with the same values.

    Returns:
      r_teme_km (sat, time, 3), v_teme_km_s (sat, time, 3), error_code (sat, time)
      int32. Codes 1-4 give NaN states; 6 (decayed) keeps the computed state.

    Memory: about 60 arrays of (sat, time) floats per block are live at peak
    (about 40 MB per block of 80,000 satellite-epochs in float64), plus the outputs
    and, for mixed catalogues, one buffer of them in group order.
    """
    _check_static(gravity, opsmode)
    t = jnp.asarray(tsince_min)
    nsat = params.ecco.shape[0]
    if t.ndim not in (1, 2) or (t.ndim == 2 and t.shape[0] != nsat):
        raise ValueError(f"tsince_min must have shape (time,) or (sat, time) = ({nsat}, time), got {t.shape}")
    if dtype is None:
        dtype = jnp.result_type(params.ecco.dtype, float)
    dtype = jnp.dtype(dtype)
    static = dict(gravity=gravity, opsmode=opsmode, dtype=dtype)
    tracing = any(isinstance(x, jax.core.Tracer) for x in (t, *params))
    if out is not None:
        if tracing:
            raise ValueError("out= reuses buffers between eager calls; under jit let XLA place the result")
        out = _check_out(out, nsat, t.shape[-1], dtype)
    if tracing:
        kind = _NEAR if deep_space is False else _RESONANT
        return _sgp4_propagate_jit(params, t, **static, **kind)
    if block_points == "auto":
        platform = next(iter(t.devices())).platform
        block_points = BLOCK_POINTS if platform == "cpu" else BLOCK_POINTS_ACCELERATOR
    if t.ndim == 1:
        t = jnp.broadcast_to(t[None, :], (nsat, t.shape[0]))
    if deep_space is False or nsat == 0:
        groups = [(_NEAR, None)]
    else:
        deep = np.asarray(params.method_deep, bool)
        resonant = deep & (np.asarray(params.irez) != 0)
        groups = [(kind, np.flatnonzero(mask)) for kind, mask in
                  ((_NEAR, ~deep), (_DEEP, deep & ~resonant), (_RESONANT, resonant))]  # fmt: skip
        groups = [(kind, idx) for kind, idx in groups if idx.size]
        if split is None:
            split = t.size >= SPLIT_MIN_POINTS
        if not split:  # one kernel with the branches present
            groups = [(dict(deep_space=bool(deep.any()), resonance=bool(resonant.any())), None)]
        elif len(groups) == 1:
            groups = [(groups[0][0], None)]
    return _propagate_groups(params, t, groups, block_points, out, **static)
