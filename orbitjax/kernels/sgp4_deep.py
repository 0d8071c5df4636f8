"""SDP4 deep-space routines of SGP4: dscom, dpper, dsinit, dspace.

Source: Vallado, Crawford, Hujsak, Kelso, "Revisiting Spacetrack Report #3",
AIAA 2006-6753 (2006), and its reference C++ (2020 revision) as shipped in
python-sgp4 (``sgp4/propagation.py``). Vallado's variable names are kept so the
code can be compared line by line; every ``if`` of the reference becomes a mask
and ``jnp.where`` so that any mix of satellites runs in one call with static
shapes. The reference's ``fmod`` (C, truncating) is ``jnp.fmod`` at initialisation and
the vectorised ``_vmath.fmod`` (same to one ulp) in the time-dependent code.

All functions are elementwise: arguments are arrays of one common rank (the
callers pass (sat, 1) per-satellite constants against (sat, time) states) and
results have their broadcast shape. Angles in radians, rates per minute.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax import lax

from ._vmath import atan2, sincos
from ._vmath import fmod as _fmod

TWOPI = 2.0 * jnp.pi
PI = jnp.pi

# Solar and lunar constants (AIAA 2006-6753, dscom/dpper).
ZNS = 1.19459e-5
ZES = 0.01675
ZNL = 1.5835218e-4
ZEL = 0.05490
# Earth rotation rate in rad/min used by the resonance terms (7.29211514668855e-5 rad/s).
RPTIM = 4.37526908801129966e-3


class Dscom(NamedTuple):
    """Outputs of :func:`dscom` (the lunar-solar coefficients of AIAA 2006-6753)."""

    snodm: jax.Array
    cnodm: jax.Array
    sinim: jax.Array
    cosim: jax.Array
    sinomm: jax.Array
    cosomm: jax.Array
    day: jax.Array
    e3: jax.Array
    ee2: jax.Array
    em: jax.Array
    emsq: jax.Array
    gam: jax.Array
    rtemsq: jax.Array
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
    s1: jax.Array
    s2: jax.Array
    s3: jax.Array
    s4: jax.Array
    s5: jax.Array
    s6: jax.Array
    s7: jax.Array
    ss1: jax.Array
    ss2: jax.Array
    ss3: jax.Array
    ss4: jax.Array
    ss5: jax.Array
    ss6: jax.Array
    ss7: jax.Array
    sz1: jax.Array
    sz2: jax.Array
    sz3: jax.Array
    sz11: jax.Array
    sz12: jax.Array
    sz13: jax.Array
    sz21: jax.Array
    sz22: jax.Array
    sz23: jax.Array
    sz31: jax.Array
    sz32: jax.Array
    sz33: jax.Array
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
    nm: jax.Array
    z1: jax.Array
    z2: jax.Array
    z3: jax.Array
    z11: jax.Array
    z12: jax.Array
    z13: jax.Array
    z21: jax.Array
    z22: jax.Array
    z23: jax.Array
    z31: jax.Array
    z32: jax.Array
    z33: jax.Array
    zmol: jax.Array
    zmos: jax.Array


def dscom(epoch, ep, argpp, tc, inclp, nodep, np_):
    """Deep-space common terms: lunar and solar coefficients at ``epoch + tc``.

    Source: AIAA 2006-6753, ``dscom``. ``epoch`` is days from 1950 Jan 0.0 (jd -
    2433281.5), ``tc`` minutes since epoch (0 at initialisation). The reference's
    ``peo, pinco, plo, pgho, pho`` are always zero and are not returned.
    """
    c1ss = 2.9864797e-6
    c1l = 4.7968065e-7
    zsinis = 0.39785416
    zcosis = 0.91744867
    zcosgs = 0.1945905
    zsings = -0.98088458

    nm = np_
    em = ep
    snodm = jnp.sin(nodep)
    cnodm = jnp.cos(nodep)
    sinomm = jnp.sin(argpp)
    cosomm = jnp.cos(argpp)
    sinim = jnp.sin(inclp)
    cosim = jnp.cos(inclp)
    emsq = em * em
    betasq = 1.0 - emsq
    rtemsq = jnp.sqrt(betasq)

    day = epoch + 18261.5 + tc / 1440.0
    xnodce = jnp.fmod(4.5236020 - 9.2422029e-4 * day, TWOPI)
    stem = jnp.sin(xnodce)
    ctem = jnp.cos(xnodce)
    zcosil = 0.91375164 - 0.03568096 * ctem
    zsinil = jnp.sqrt(1.0 - zcosil * zcosil)
    zsinhl = 0.089683511 * stem / zsinil
    zcoshl = jnp.sqrt(1.0 - zsinhl * zsinhl)
    gam = 5.8351514 + 0.0019443680 * day
    zx = 0.39785416 * stem / zsinil
    zy = zcoshl * ctem + 0.91744867 * zsinhl * stem
    zx = jnp.arctan2(zx, zy)
    zx = gam + zx - xnodce
    zcosgl = jnp.cos(zx)
    zsingl = jnp.sin(zx)

    # ------------------------- do solar terms, then lunar terms ---------------------
    xnoi = 1.0 / nm

    def terms(zcosg, zsing, zcosi, zsini, zcosh, zsinh, cc):
        a1 = zcosg * zcosh + zsing * zcosi * zsinh
        a3 = -zsing * zcosh + zcosg * zcosi * zsinh
        a7 = -zcosg * zsinh + zsing * zcosi * zcosh
        a8 = zsing * zsini
        a9 = zsing * zsinh + zcosg * zcosi * zcosh
        a10 = zcosg * zsini
        a2 = cosim * a7 + sinim * a8
        a4 = cosim * a9 + sinim * a10
        a5 = -sinim * a7 + cosim * a8
        a6 = -sinim * a9 + cosim * a10

        x1 = a1 * cosomm + a2 * sinomm
        x2 = a3 * cosomm + a4 * sinomm
        x3 = -a1 * sinomm + a2 * cosomm
        x4 = -a3 * sinomm + a4 * cosomm
        x5 = a5 * sinomm
        x6 = a6 * sinomm
        x7 = a5 * cosomm
        x8 = a6 * cosomm

        z31 = 12.0 * x1 * x1 - 3.0 * x3 * x3
        z32 = 24.0 * x1 * x2 - 6.0 * x3 * x4
        z33 = 12.0 * x2 * x2 - 3.0 * x4 * x4
        z1 = 3.0 * (a1 * a1 + a2 * a2) + z31 * emsq
        z2 = 6.0 * (a1 * a3 + a2 * a4) + z32 * emsq
        z3 = 3.0 * (a3 * a3 + a4 * a4) + z33 * emsq
        z11 = -6.0 * a1 * a5 + emsq * (-24.0 * x1 * x7 - 6.0 * x3 * x5)
        z12 = -6.0 * (a1 * a6 + a3 * a5) + emsq * (
            -24.0 * (x2 * x7 + x1 * x8) - 6.0 * (x3 * x6 + x4 * x5)
        )
        z13 = -6.0 * a3 * a6 + emsq * (-24.0 * x2 * x8 - 6.0 * x4 * x6)
        z21 = 6.0 * a2 * a5 + emsq * (24.0 * x1 * x5 - 6.0 * x3 * x7)
        z22 = 6.0 * (a4 * a5 + a2 * a6) + emsq * (
            24.0 * (x2 * x5 + x1 * x6) - 6.0 * (x4 * x7 + x3 * x8)
        )
        z23 = 6.0 * a4 * a6 + emsq * (24.0 * x2 * x6 - 6.0 * x4 * x8)
        z1 = z1 + z1 + betasq * z31
        z2 = z2 + z2 + betasq * z32
        z3 = z3 + z3 + betasq * z33
        s3 = cc * xnoi
        s2 = -0.5 * s3 / rtemsq
        s4 = s3 * rtemsq
        s1 = -15.0 * em * s4
        s5 = x1 * x3 + x2 * x4
        s6 = x2 * x3 + x1 * x4
        s7 = x2 * x4 - x1 * x3
        return (s1, s2, s3, s4, s5, s6, s7, z1, z2, z3, z11, z12, z13, z21, z22, z23, z31, z32, z33)

    (ss1, ss2, ss3, ss4, ss5, ss6, ss7, sz1, sz2, sz3, sz11, sz12, sz13, sz21, sz22, sz23,
     sz31, sz32, sz33) = terms(zcosgs, zsings, zcosis, zsinis, cnodm, snodm, c1ss)  # fmt: skip
    zcosh = zcoshl * cnodm + zsinhl * snodm
    zsinh = snodm * zcoshl - cnodm * zsinhl
    (s1, s2, s3, s4, s5, s6, s7, z1, z2, z3, z11, z12, z13, z21, z22, z23,
     z31, z32, z33) = terms(zcosgl, zsingl, zcosil, zsinil, zcosh, zsinh, c1l)  # fmt: skip

    zmol = jnp.fmod(4.7199672 + 0.22997150 * day - gam, TWOPI)
    zmos = jnp.fmod(6.2565837 + 0.017201977 * day, TWOPI)

    # ------------------------ do solar terms ----------------------
    se2 = 2.0 * ss1 * ss6
    se3 = 2.0 * ss1 * ss7
    si2 = 2.0 * ss2 * sz12
    si3 = 2.0 * ss2 * (sz13 - sz11)
    sl2 = -2.0 * ss3 * sz2
    sl3 = -2.0 * ss3 * (sz3 - sz1)
    sl4 = -2.0 * ss3 * (-21.0 - 9.0 * emsq) * ZES
    sgh2 = 2.0 * ss4 * sz32
    sgh3 = 2.0 * ss4 * (sz33 - sz31)
    sgh4 = -18.0 * ss4 * ZES
    sh2 = -2.0 * ss2 * sz22
    sh3 = -2.0 * ss2 * (sz23 - sz21)
    # ------------------------ do lunar terms ----------------------
    ee2 = 2.0 * s1 * s6
    e3 = 2.0 * s1 * s7
    xi2 = 2.0 * s2 * z12
    xi3 = 2.0 * s2 * (z13 - z11)
    xl2 = -2.0 * s3 * z2
    xl3 = -2.0 * s3 * (z3 - z1)
    xl4 = -2.0 * s3 * (-21.0 - 9.0 * emsq) * ZEL
    xgh2 = 2.0 * s4 * z32
    xgh3 = 2.0 * s4 * (z33 - z31)
    xgh4 = -18.0 * s4 * ZEL
    xh2 = -2.0 * s2 * z22
    xh3 = -2.0 * s2 * (z23 - z21)

    return Dscom(
        snodm=snodm, cnodm=cnodm, sinim=sinim, cosim=cosim, sinomm=sinomm, cosomm=cosomm,
        day=day, e3=e3, ee2=ee2, em=em, emsq=emsq, gam=gam, rtemsq=rtemsq,
        se2=se2, se3=se3, sgh2=sgh2, sgh3=sgh3, sgh4=sgh4, sh2=sh2, sh3=sh3,
        si2=si2, si3=si3, sl2=sl2, sl3=sl3, sl4=sl4,
        s1=s1, s2=s2, s3=s3, s4=s4, s5=s5, s6=s6, s7=s7,
        ss1=ss1, ss2=ss2, ss3=ss3, ss4=ss4, ss5=ss5, ss6=ss6, ss7=ss7,
        sz1=sz1, sz2=sz2, sz3=sz3, sz11=sz11, sz12=sz12, sz13=sz13,
        sz21=sz21, sz22=sz22, sz23=sz23, sz31=sz31, sz32=sz32, sz33=sz33,
        xgh2=xgh2, xgh3=xgh3, xgh4=xgh4, xh2=xh2, xh3=xh3, xi2=xi2, xi3=xi3,
        xl2=xl2, xl3=xl3, xl4=xl4, nm=nm,
        z1=z1, z2=z2, z3=z3, z11=z11, z12=z12, z13=z13, z21=z21, z22=z22, z23=z23,
        z31=z31, z32=z32, z33=z33, zmol=zmol, zmos=zmos,
    )  # fmt: skip


def dpper(p, t, ep, inclp, nodep, argpp, mp, opsmode: str):
    """Lunar-solar long-period periodics applied to the mean elements (init == 'n').

    Source: AIAA 2006-6753, ``dpper``, including the Lyddane modification for
    inclinations below 0.2 rad and the 'a' (AFSPC) quadrant fixes for ``nodep``.
    The reference's ``init == 'y'`` call in sgp4init leaves the elements unchanged
    (``peo .. pho`` are zero) and is therefore omitted.

    Args:
      p: object with the dscom coefficients (e3, ee2, se2 .., zmol, zmos), each (sat, 1).
      t: (sat, time) minutes since epoch.
      ep, inclp, nodep, argpp, mp: (sat, time) mean elements.

    Returns:
      ep, inclp, nodep, argpp, mp with the periodics added.
    """
    # --------------- calculate time varying periodics -----------
    zm = p.zmos + ZNS * t
    zf = zm + 2.0 * ZES * sincos(zm)[0]
    sinzf, coszf = sincos(zf)
    f2 = 0.5 * sinzf * sinzf - 0.25
    f3 = -0.5 * sinzf * coszf
    ses = p.se2 * f2 + p.se3 * f3
    sis = p.si2 * f2 + p.si3 * f3
    sls = p.sl2 * f2 + p.sl3 * f3 + p.sl4 * sinzf
    sghs = p.sgh2 * f2 + p.sgh3 * f3 + p.sgh4 * sinzf
    shs = p.sh2 * f2 + p.sh3 * f3
    zm = p.zmol + ZNL * t
    zf = zm + 2.0 * ZEL * sincos(zm)[0]
    sinzf, coszf = sincos(zf)
    f2 = 0.5 * sinzf * sinzf - 0.25
    f3 = -0.5 * sinzf * coszf
    sel = p.ee2 * f2 + p.e3 * f3
    sil = p.xi2 * f2 + p.xi3 * f3
    sll = p.xl2 * f2 + p.xl3 * f3 + p.xl4 * sinzf
    sghl = p.xgh2 * f2 + p.xgh3 * f3 + p.xgh4 * sinzf
    shll = p.xh2 * f2 + p.xh3 * f3
    pe = ses + sel
    pinc = sis + sil
    pl = sls + sll
    pgh = sghs + sghl
    ph = shs + shll

    # init == 'n': peo, pinco, plo, pgho, pho are zero (see docstring).
    inclp = inclp + pinc
    ep = ep + pe
    sinip, cosip = sincos(inclp)

    # ----------------- apply periodics directly (inclp >= 0.2) ------------
    ph_d = ph / sinip
    pgh_d = pgh - cosip * ph_d
    argpp_d = argpp + pgh_d
    nodep_d = nodep + ph_d
    mp_d = mp + pl

    # ---- apply periodics with lyddane modification (inclp < 0.2) ----
    sinop, cosop = sincos(nodep)
    alfdp = sinip * sinop
    betdp = sinip * cosop
    dalf = ph * cosop + pinc * cosip * sinop
    dbet = -ph * sinop + pinc * cosip * cosop
    alfdp = alfdp + dalf
    betdp = betdp + dbet
    nodep_l = _fmod(nodep, TWOPI)
    if opsmode == "a":
        nodep_l = jnp.where(nodep_l < 0.0, nodep_l + TWOPI, nodep_l)
    xls = mp + argpp + pl + pgh + (cosip - pinc * sinip) * nodep_l
    xnoh = nodep_l
    nodep_l = atan2(alfdp, betdp)
    if opsmode == "a":
        nodep_l = jnp.where(nodep_l < 0.0, nodep_l + TWOPI, nodep_l)
    nodep_l = jnp.where(
        jnp.abs(xnoh - nodep_l) > PI,
        jnp.where(nodep_l < xnoh, nodep_l + TWOPI, nodep_l - TWOPI),
        nodep_l,
    )
    mp_l = mp + pl
    argpp_l = xls - mp_l - cosip * nodep_l

    direct = inclp >= 0.2
    return (
        ep,
        inclp,
        jnp.where(direct, nodep_d, nodep_l),
        jnp.where(direct, argpp_d, argpp_l),
        jnp.where(direct, mp_d, mp_l),
    )


class Dsinit(NamedTuple):
    """Resonance constants from :func:`dsinit` stored per satellite."""

    irez: jax.Array
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


def dsinit(
    xke, cosim, emsq, argpo, s1, s2, s3, s4, s5, sinim, ss1, ss2, ss3, ss4, ss5,
    sz1, sz3, sz11, sz13, sz21, sz23, sz31, sz33, tc, gsto, mo, mdot, no, nodeo,
    nodedot, xpidot, z1, z3, z11, z13, z21, z23, z31, z33, ecco, eccsq, em, inclm, nm,
):  # fmt: skip
    """Deep-space initialisation: secular lunar-solar rates and resonance terms.

    Source: AIAA 2006-6753, ``dsinit`` (called with t = tc = 0 from sgp4init, so
    the element updates ``em + dedt * t`` etc. are identities and are omitted).
    irez = 1 for 24 h (synchronous) and 2 for 12 h (half-day, e >= 0.5) resonance.
    """
    q22 = 1.7891679e-6
    q31 = 2.1460748e-6
    q33 = 2.2123015e-7
    root22 = 1.7891679e-6
    root44 = 7.3636953e-9
    root54 = 2.1765803e-9
    root32 = 3.7393792e-7
    root52 = 1.1428639e-7
    x2o3 = 2.0 / 3.0

    # -------------------- deep space initialization ------------
    irez = jnp.where((nm > 0.0034906585) & (nm < 0.0052359877), 1, 0)
    irez = jnp.where((nm >= 8.26e-3) & (nm <= 9.24e-3) & (em >= 0.5), 2, irez).astype(jnp.int32)

    # ------------------------ do solar terms -------------------
    ses = ss1 * ZNS * ss5
    sis = ss2 * ZNS * (sz11 + sz13)
    sls = -ZNS * ss3 * (sz1 + sz3 - 14.0 - 6.0 * emsq)
    sghs = ss4 * ZNS * (sz31 + sz33 - 6.0)
    shs = -ZNS * ss2 * (sz21 + sz23)
    # sgp4fix for 180 deg incl
    polar_edge = (inclm < 5.2359877e-2) | (inclm > PI - 5.2359877e-2)
    shs = jnp.where(polar_edge, 0.0, shs)
    sinim_nz = sinim != 0.0
    shs = jnp.where(sinim_nz, shs / sinim, shs)
    sgs = sghs - cosim * shs

    # ------------------------- do lunar terms ------------------
    dedt = ses + s1 * ZNL * s5
    didt = sis + s2 * ZNL * (z11 + z13)
    dmdt = sls - ZNL * s3 * (z1 + z3 - 14.0 - 6.0 * emsq)
    sghl = s4 * ZNL * (z31 + z33 - 6.0)
    shll = -ZNL * s2 * (z21 + z23)
    shll = jnp.where(polar_edge, 0.0, shll)
    domdt = sgs + sghl
    dnodt = shs
    domdt = jnp.where(sinim_nz, domdt - cosim / sinim * shll, domdt)
    dnodt = jnp.where(sinim_nz, dnodt + shll / sinim, dnodt)

    # ----------- calculate deep space resonance effects --------
    theta = jnp.fmod(gsto + tc * RPTIM, TWOPI)
    aonv = jnp.power(nm / xke, x2o3)

    # ---------- geopotential resonance for 12 hour orbits (irez == 2) ------
    cosisq = cosim * cosim
    em2 = ecco
    emsq2 = eccsq
    eoc = em2 * emsq2
    g201 = -0.306 - (em2 - 0.64) * 0.440
    lo = em2 <= 0.65
    g211 = jnp.where(lo, 3.616 - 13.2470 * em2 + 16.2900 * emsq2,
                     -72.099 + 331.819 * em2 - 508.738 * emsq2 + 266.724 * eoc)  # fmt: skip
    g310 = jnp.where(lo, -19.302 + 117.3900 * em2 - 228.4190 * emsq2 + 156.5910 * eoc,
                     -346.844 + 1582.851 * em2 - 2415.925 * emsq2 + 1246.113 * eoc)  # fmt: skip
    g322 = jnp.where(lo, -18.9068 + 109.7927 * em2 - 214.6334 * emsq2 + 146.5816 * eoc,
                     -342.585 + 1554.908 * em2 - 2366.899 * emsq2 + 1215.972 * eoc)  # fmt: skip
    g410 = jnp.where(lo, -41.122 + 242.6940 * em2 - 471.0940 * emsq2 + 313.9530 * eoc,
                     -1052.797 + 4758.686 * em2 - 7193.992 * emsq2 + 3651.957 * eoc)  # fmt: skip
    g422 = jnp.where(lo, -146.407 + 841.8800 * em2 - 1629.014 * emsq2 + 1083.4350 * eoc,
                     -3581.690 + 16178.110 * em2 - 24462.770 * emsq2 + 12422.520 * eoc)  # fmt: skip
    g520 = jnp.where(
        lo,
        -532.114 + 3017.977 * em2 - 5740.032 * emsq2 + 3708.2760 * eoc,
        jnp.where(em2 > 0.715,
                  -5149.66 + 29936.92 * em2 - 54087.36 * emsq2 + 31324.56 * eoc,
                  1464.74 - 4664.75 * em2 + 3763.64 * emsq2),
    )  # fmt: skip
    lo7 = em2 < 0.7
    g533 = jnp.where(lo7, -919.22770 + 4988.6100 * em2 - 9064.7700 * emsq2 + 5542.21 * eoc,
                     -37995.780 + 161616.52 * em2 - 229838.20 * emsq2 + 109377.94 * eoc)  # fmt: skip
    g521 = jnp.where(lo7, -822.71072 + 4568.6173 * em2 - 8491.4146 * emsq2 + 5337.524 * eoc,
                     -51752.104 + 218913.95 * em2 - 309468.16 * emsq2 + 146349.42 * eoc)  # fmt: skip
    g532 = jnp.where(lo7, -853.66600 + 4690.2500 * em2 - 8624.7700 * emsq2 + 5341.4 * eoc,
                     -40023.880 + 170470.89 * em2 - 242699.48 * emsq2 + 115605.82 * eoc)  # fmt: skip
    sini2 = sinim * sinim
    f220 = 0.75 * (1.0 + 2.0 * cosim + cosisq)
    f221 = 1.5 * sini2
    f321 = 1.875 * sinim * (1.0 - 2.0 * cosim - 3.0 * cosisq)
    f322 = -1.875 * sinim * (1.0 + 2.0 * cosim - 3.0 * cosisq)
    f441 = 35.0 * sini2 * f220
    f442 = 39.3750 * sini2 * sini2
    f522 = 9.84375 * sinim * (
        sini2 * (1.0 - 2.0 * cosim - 5.0 * cosisq)
        + 0.33333333 * (-2.0 + 4.0 * cosim + 6.0 * cosisq)
    )
    f523 = sinim * (
        4.92187512 * sini2 * (-2.0 - 4.0 * cosim + 10.0 * cosisq)
        + 6.56250012 * (1.0 + 2.0 * cosim - 3.0 * cosisq)
    )
    f542 = 29.53125 * sinim * (2.0 - 8.0 * cosim + cosisq * (-12.0 + 8.0 * cosim + 10.0 * cosisq))
    f543 = 29.53125 * sinim * (-2.0 - 8.0 * cosim + cosisq * (12.0 + 8.0 * cosim - 10.0 * cosisq))
    xno2 = nm * nm
    ainv2 = aonv * aonv
    temp1 = 3.0 * xno2 * ainv2
    temp = temp1 * root22
    d2201 = temp * f220 * g201
    d2211 = temp * f221 * g211
    temp1 = temp1 * aonv
    temp = temp1 * root32
    d3210 = temp * f321 * g310
    d3222 = temp * f322 * g322
    temp1 = temp1 * aonv
    temp = 2.0 * temp1 * root44
    d4410 = temp * f441 * g410
    d4422 = temp * f442 * g422
    temp1 = temp1 * aonv
    temp = temp1 * root52
    d5220 = temp * f522 * g520
    d5232 = temp * f523 * g532
    temp = 2.0 * temp1 * root54
    d5421 = temp * f542 * g521
    d5433 = temp * f543 * g533
    xlamo2 = jnp.fmod(mo + nodeo + nodeo - theta - theta, TWOPI)
    xfact2 = mdot + dmdt + 2.0 * (nodedot + dnodt - RPTIM) - no

    # ---------------- synchronous resonance terms (irez == 1) --------------
    g200 = 1.0 + emsq * (-2.5 + 0.8125 * emsq)
    g310s = 1.0 + 2.0 * emsq
    g300 = 1.0 + emsq * (-6.0 + 6.60937 * emsq)
    f220s = 0.75 * (1.0 + cosim) * (1.0 + cosim)
    f311 = 0.9375 * sinim * sinim * (1.0 + 3.0 * cosim) - 0.75 * (1.0 + cosim)
    f330 = 1.0 + cosim
    f330 = 1.875 * f330 * f330 * f330
    del1 = 3.0 * nm * nm * aonv * aonv
    del2 = 2.0 * del1 * f220s * g200 * q22
    del3 = 3.0 * del1 * f330 * g300 * q33 * aonv
    del1 = del1 * f311 * g310s * q31 * aonv
    xlamo1 = jnp.fmod(mo + nodeo + argpo - theta, TWOPI)
    xfact1 = mdot + xpidot - RPTIM + dmdt + domdt + dnodt - no

    r1 = irez == 1
    r2 = irez == 2
    zero = jnp.zeros_like(nm)

    def only(mask, x):
        return jnp.where(mask, x, zero)

    return Dsinit(
        irez=irez,
        d2201=only(r2, d2201), d2211=only(r2, d2211), d3210=only(r2, d3210),
        d3222=only(r2, d3222), d4410=only(r2, d4410), d4422=only(r2, d4422),
        d5220=only(r2, d5220), d5232=only(r2, d5232), d5421=only(r2, d5421),
        d5433=only(r2, d5433),
        dedt=dedt, didt=didt, dmdt=dmdt, dnodt=dnodt, domdt=domdt,
        del1=only(r1, del1), del2=only(r1, del2), del3=only(r1, del3),
        xfact=jnp.where(r1, xfact1, only(r2, xfact2)),
        xlamo=jnp.where(r1, xlamo1, only(r2, xlamo2)),
    )  # fmt: skip


_RESONANCE_HISTORY = 128
"""Integrator steps (720 min each, 64 days from epoch) kept per satellite; further epochs step per element."""


def dspace(p, t, em, argpm, inclm, mm, nodem, nm, resonance: bool = True):
    """Deep-space secular effects and the 12 h / 24 h resonance integrator.

    Source: AIAA 2006-6753, ``dspace``. The resonance state (xli, xni) is
    integrated from the epoch in 720-minute Euler-Maclaurin steps towards ``t``
    (negative steps for t < 0), exactly like the reference restarted from epoch;
    because its step sequence is deterministic this equals the reference's cached
    restart. The state after n steps does not depend on t, so the steps run once
    per satellite and direction (a loop of max |t| / 720 iterations on (2, sat, 1)
    arrays, keeping up to ``_RESONANCE_HISTORY`` states) and each (sat, time)
    element gathers its state; elements further from epoch continue in a
    per-element loop. Elements with irez == 0 never step. Measured on the
    benchmark's mixed catalogue (440 resonant objects x 1,440 times): this group
    went from 0.62 s to 0.45 s, now as fast as the non-resonant deep-space
    kernel per object, with bit-identical results.

    Args:
      p: per-satellite constants (Sgp4Params fields), each (sat, 1).
      t: (sat, time) minutes since epoch.
      em, argpm, inclm, mm, nodem, nm: (sat, time) secular mean elements.
      resonance: static. False drops the resonance integrator (valid only when no
        satellite has ``irez != 0``: the host knows this after initialisation).

    Returns:
      em, argpm, inclm, mm, nodem, nm after the deep-space updates.
    """
    fasx2 = 0.13130908
    fasx4 = 2.8843198
    fasx6 = 0.37448087
    g22 = 5.7686396
    g32 = 0.95240898
    g44 = 1.8014998
    g52 = 1.0508330
    g54 = 4.4108898
    stepp = 720.0
    stepn = -720.0
    step2 = 259200.0

    em = em + p.dedt * t
    inclm = inclm + p.didt * t
    argpm = argpm + p.domdt * t
    nodem = nodem + p.dnodt * t
    mm = mm + p.dmdt * t

    if not resonance:
        return em, argpm, inclm, mm, nodem, nm
    resonant = p.irez != 0
    sync = p.irez != 2  # the reference's 'irez != 2' branch (24 h terms)

    def dot_terms(xli, xni, atime, p=p, sync=sync):
        # ----------- near - synchronous resonance terms -------
        s1, c1 = sincos(xli - fasx2)
        s2, c2 = sincos(2.0 * (xli - fasx4))
        s3, c3 = sincos(3.0 * (xli - fasx6))
        xndt1 = p.del1 * s1 + p.del2 * s2 + p.del3 * s3
        xnddt1 = p.del1 * c1 + 2.0 * p.del2 * c2 + 3.0 * p.del3 * c3
        # --------- near - half-day resonance terms --------
        xomi = p.argpo + p.argpdot * atime
        x2omi = xomi + xomi
        x2li = xli + xli
        sa, ca = sincos(x2omi + xli - g22)
        sb, cb = sincos(xli - g22)
        sc, cc = sincos(xomi + xli - g32)
        sd, cd = sincos(-xomi + xli - g32)
        se, ce = sincos(x2omi + x2li - g44)
        sf, cf = sincos(x2li - g44)
        sg, cg = sincos(xomi + xli - g52)
        sh, ch = sincos(-xomi + xli - g52)
        si, ci = sincos(xomi + x2li - g54)
        sj, cj = sincos(-xomi + x2li - g54)
        xndt2 = (
            p.d2201 * sa + p.d2211 * sb + p.d3210 * sc + p.d3222 * sd + p.d4410 * se
            + p.d4422 * sf + p.d5220 * sg + p.d5232 * sh + p.d5421 * si + p.d5433 * sj
        )  # fmt: skip
        xnddt2 = (
            p.d2201 * ca + p.d2211 * cb + p.d3210 * cc + p.d3222 * cd + p.d5220 * cg
            + p.d5232 * ch + 2.0 * (p.d4410 * ce + p.d4422 * cf + p.d5421 * ci + p.d5433 * cj)
        )  # fmt: skip
        xldot = xni + p.xfact
        xndt = jnp.where(sync, xndt1, xndt2)
        xnddt = jnp.where(sync, xnddt1, xnddt2) * xldot
        return xndt, xldot, xnddt

    def advance(xli, xni, terms, dt):
        """One Euler-Maclaurin step of ``dt`` minutes from (xli, xni) with their rate terms."""
        xndt, xldot, xnddt = terms
        return xli + xldot * dt + xndt * step2, xni + xndt * dt + xnddt * step2

    # The integrator's state after n steps depends on the satellite, n and the direction
    # only, not on t. So the steps run once per satellite and direction on (sat, 1)
    # chains, keeping every state and its rate terms (up to _RESONANCE_HISTORY steps),
    # and each (sat, time) element gathers the state where the reference's restart from
    # epoch stops: after n steps, n the first with |t - n delt| < 720 (found exactly).
    # The element sees the reference's operations on the same values; the 13 sines and
    # cosines of the rate terms are evaluated per satellite and step, not per epoch.
    fwd = t > 0.0
    delt = jnp.where(fwd, stepp, stepn)
    at = jnp.abs(t)
    n0 = jnp.floor(at / stepp)
    n_steps = n0 + (at - n0 * stepp >= stepp) - ((n0 >= 1.0) & (at - (n0 - 1.0) * stepp < stepp))
    n_steps = jnp.where(resonant, n_steps, 0.0).astype(jnp.int32)
    k_max = _RESONANCE_HISTORY
    k_run = jnp.minimum(jnp.max(n_steps, initial=0), k_max)
    chain0 = (jnp.asarray(p.xlamo, t.dtype), jnp.asarray(p.no_unkozai, t.dtype))

    # Both directions in one loop: (2, sat, 1) chains, forward then backward.
    direction = jnp.array([stepp, stepn], t.dtype)[:, None, None]
    start = tuple(jnp.broadcast_to(x, (2,) + x.shape) for x in chain0)
    p2 = jax.tree_util.tree_map(lambda x: x[None], p)  # constants as (1, sat, 1)

    def body(i, c):
        (xli, xni), hist = c
        terms = dot_terms(xli, xni, jnp.asarray(i, t.dtype) * direction, p2, sync[None])
        hist = tuple(h.at[i].set(v) for h, v in zip(hist, (xli, xni, *terms)))
        return advance(xli, xni, terms, direction), hist

    # States (xli, xni) and terms (xndt, xldot, xnddt) after 0..k_run steps, each (k_max + 1, 2, sat, 1).
    hist = tuple(jnp.zeros((k_max + 1,) + start[0].shape, t.dtype) for _ in range(5))
    _, hist = lax.fori_loop(0, k_run + 1, body, (start, hist))
    k = jnp.minimum(n_steps, k_max)
    picked = [jnp.where(fwd, jnp.take_along_axis(h[:, 0, :, 0].T, k, 1), jnp.take_along_axis(h[:, 1, :, 0].T, k, 1))
              for h in hist]
    xli, xni = picked[:2]
    atime = k.astype(t.dtype) * delt

    def beyond_history(_):
        # Epochs more than k_max steps away: the reference's element loop from the last kept state.
        def must_step(atime):  # (the sign test only guards the loop against stepping away from t)
            return resonant & (jnp.abs(t - atime) >= stepp) & ((t - atime) * delt > 0.0)

        def body(state):
            xli, xni, atime = state
            step = must_step(atime)
            xli2, xni2 = advance(xli, xni, dot_terms(xli, xni, atime), delt)
            return jnp.where(step, xli2, xli), jnp.where(step, xni2, xni), jnp.where(step, atime + delt, atime)

        state = lax.while_loop(lambda s: jnp.any(must_step(s[2])), body, (xli, xni, atime))
        return state + dot_terms(*state)

    xli, xni, atime, xndt, xldot, xnddt = lax.cond(jnp.any(n_steps > k_max), beyond_history,
                                                    lambda _: (xli, xni, atime, *picked[2:]), None)
    theta = _fmod(p.gsto + t * RPTIM, TWOPI)
    ft = t - atime
    nm_r = xni + xndt * ft + xnddt * ft * ft * 0.5
    xl = xli + xldot * ft + xndt * ft * ft * 0.5
    mm_r = jnp.where(p.irez != 1, xl - 2.0 * nodem + 2.0 * theta, xl - nodem - argpm + theta)
    dndt = nm_r - p.no_unkozai
    nm_r = p.no_unkozai + dndt
    mm = jnp.where(resonant, mm_r, mm)
    nm = jnp.where(resonant, nm_r, nm)
    return em, argpm, inclm, mm, nodem, nm
