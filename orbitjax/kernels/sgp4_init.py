"""SGP4 initialisation: initl, gstime and the per-satellite constants of sgp4init.

Source: Vallado, Crawford, Hujsak, Kelso, "Revisiting Spacetrack Report #3",
AIAA 2006-6753 (2006): ``initl``, ``gstime`` and ``sgp4init`` (2020 C++ revision,
as wrapped by python-sgp4). Variable names follow the reference; its branches are
masks so that near-earth and deep-space satellites initialise in one call.
Inputs are (sat,) arrays; every returned constant is (sat,).
"""

from __future__ import annotations

import jax.numpy as jnp

from .sgp4_deep import dscom, dsinit

TWOPI = 2.0 * jnp.pi
DEG2RAD = jnp.pi / 180.0


def gstime(jdut1):
    """Greenwich mean sidereal time (IAU-82) in [0, 2 pi), as in AIAA 2006-6753 ``gstime``.

    Kept separate from :func:`orbitjax.kernels.frames.gmst82` because SGP4 must
    reproduce the reference's exact operation order (one-part Julian date).
    """
    tut1 = (jdut1 - 2451545.0) / 36525.0
    temp = (
        -6.2e-6 * tut1 * tut1 * tut1
        + 0.093104 * tut1 * tut1
        + (876600.0 * 3600 + 8640184.812866) * tut1
        + 67310.54841
    )  # seconds
    temp = jnp.fmod(temp * DEG2RAD / 240.0, TWOPI)  # 360/86400 = 1/240, to deg, to rad
    return jnp.where(temp < 0.0, temp + TWOPI, temp)


def initl(xke, j2, ecco, epoch, inclo, no_kozai, opsmode: str):
    """Un-Kozai the mean motion and compute the epoch auxiliaries (AIAA 2006-6753 ``initl``).

    Args:
      xke, j2: gravity constants (floats).
      ecco, epoch, inclo, no_kozai: (sat,) eccentricity, days since 1950 Jan 0.0
        (jd - 2433281.5), inclination (rad), Kozai mean motion (rad/min).
      opsmode: 'a' (AFSPC sidereal time from 1970) or 'i' (improved, IAU-82 gstime).

    Returns:
      dict with no_unkozai, ainv, ao, con41, con42, cosio, cosio2, eccsq, omeosq,
      posq, rp, rteosq, sinio, gsto.
    """
    x2o3 = 2.0 / 3.0
    # ------------- calculate auxillary epoch quantities ----------
    eccsq = ecco * ecco
    omeosq = 1.0 - eccsq
    rteosq = jnp.sqrt(omeosq)
    cosio = jnp.cos(inclo)
    cosio2 = cosio * cosio

    # ------------------ un-kozai the mean motion -----------------
    ak = jnp.power(xke / no_kozai, x2o3)
    d1 = 0.75 * j2 * (3.0 * cosio2 - 1.0) / (rteosq * omeosq)
    del_ = d1 / (ak * ak)
    adel = ak * (1.0 - del_ * del_ - del_ * (1.0 / 3.0 + 134.0 * del_ * del_ / 81.0))
    del_ = d1 / (adel * adel)
    no = no_kozai / (1.0 + del_)

    ao = jnp.power(xke / no, x2o3)
    sinio = jnp.sin(inclo)
    po = ao * omeosq
    con42 = 1.0 - 5.0 * cosio2
    con41 = -con42 - cosio2 - cosio2
    ainv = 1.0 / ao
    posq = po * po
    rp = ao * (1.0 - ecco)

    if opsmode == "a":
        # sgp4fix use old way of finding gst: integer days from 0 Jan 1970
        ts70 = epoch - 7305.0
        ds70 = jnp.floor(ts70 + 1.0e-8)
        tfrac = ts70 - ds70
        c1 = 1.72027916940703639e-2
        thgr70 = 1.7321343856509374
        fk5r = 5.07551419432269442e-15
        c1p2p = c1 + TWOPI
        gsto = jnp.fmod(thgr70 + c1 * ds70 + c1p2p * tfrac + ts70 * ts70 * fk5r, TWOPI)
        gsto = jnp.where(gsto < 0.0, gsto + TWOPI, gsto)
    else:
        gsto = gstime(epoch + 2433281.5)

    return dict(
        no_unkozai=no, ainv=ainv, ao=ao, con41=con41, con42=con42, cosio=cosio,
        cosio2=cosio2, eccsq=eccsq, omeosq=omeosq, posq=posq, rp=rp, rteosq=rteosq,
        sinio=sinio, gsto=gsto,
    )  # fmt: skip


def sgp4init_constants(gravity, opsmode: str, epoch, bstar, ecco, argpo, inclo, mo, no_kozai, nodeo):
    """Per-satellite SGP4/SDP4 constants (AIAA 2006-6753 ``sgp4init`` before its t = 0 call).

    Args:
      gravity: Sgp4Gravity constants.
      opsmode: 'a' or 'i'.
      epoch: (sat,) days since 1950 Jan 0.0 UTC (jd - 2433281.5).
      bstar (1/earth radii), ecco, argpo, inclo, mo (rad), no_kozai (rad/min), nodeo (rad): (sat,).

    Returns:
      dict of (sat,) arrays named like the reference's ``satrec`` attributes, with
      ``isimp`` and ``method_deep`` as booleans and ``irez`` as int32.
    """
    radiusearthkm, xke, j2, j4, j3oj2 = (
        gravity.radiusearthkm, gravity.xke, gravity.j2, gravity.j4, gravity.j3oj2,
    )  # fmt: skip
    temp4 = 1.5e-12
    x2o3 = 2.0 / 3.0
    ss = 78.0 / radiusearthkm + 1.0
    qzms2ttemp = (120.0 - 78.0) / radiusearthkm
    qzms2t = qzms2ttemp * qzms2ttemp * qzms2ttemp * qzms2ttemp

    il = initl(xke, j2, ecco, epoch, inclo, no_kozai, opsmode)
    no_unkozai, ao, con41, con42 = il["no_unkozai"], il["ao"], il["con41"], il["con42"]
    cosio, cosio2, eccsq, omeosq = il["cosio"], il["cosio2"], il["eccsq"], il["omeosq"]
    posq, rp, rteosq, sinio, gsto = il["posq"], il["rp"], il["rteosq"], il["sinio"], il["gsto"]

    # The reference's test 'omeosq >= 0.0 or no_unkozai >= 0.0' holds for every TLE
    # that initl accepts; the constants are computed unconditionally here.
    isimp = rp < 220.0 / radiusearthkm + 1.0
    perige = (rp - 1.0) * radiusearthkm
    # - for perigees below 156 km, s and qoms2t are altered -
    sfour_lo = jnp.where(perige < 98.0, 20.0, perige - 78.0)
    qzms24temp = (120.0 - sfour_lo) / radiusearthkm
    low = perige < 156.0
    qzms24 = jnp.where(low, qzms24temp * qzms24temp * qzms24temp * qzms24temp, qzms2t)
    sfour = jnp.where(low, sfour_lo / radiusearthkm + 1.0, ss)

    pinvsq = 1.0 / posq
    tsi = 1.0 / (ao - sfour)
    eta = ao * ecco * tsi
    etasq = eta * eta
    eeta = ecco * eta
    psisq = jnp.abs(1.0 - etasq)
    coef = qzms24 * jnp.power(tsi, 4.0)
    coef1 = coef / jnp.power(psisq, 3.5)
    cc2 = coef1 * no_unkozai * (
        ao * (1.0 + 1.5 * etasq + eeta * (4.0 + etasq))
        + 0.375 * j2 * tsi / psisq * con41 * (8.0 + 3.0 * etasq * (8.0 + etasq))
    )
    cc1 = bstar * cc2
    ecc_ok = ecco > 1.0e-4
    cc3 = jnp.where(ecc_ok, -2.0 * coef * tsi * j3oj2 * no_unkozai * sinio / ecco, 0.0)
    x1mth2 = 1.0 - cosio2
    cc4 = (
        2.0 * no_unkozai * coef1 * ao * omeosq
        * (eta * (2.0 + 0.5 * etasq) + ecco * (0.5 + 2.0 * etasq)
           - j2 * tsi / (ao * psisq)
           * (-3.0 * con41 * (1.0 - 2.0 * eeta + etasq * (1.5 - 0.5 * eeta))
              + 0.75 * x1mth2 * (2.0 * etasq - eeta * (1.0 + etasq)) * jnp.cos(2.0 * argpo)))
    )  # fmt: skip
    cc5 = 2.0 * coef1 * ao * omeosq * (1.0 + 2.75 * (etasq + eeta) + eeta * etasq)
    cosio4 = cosio2 * cosio2
    temp1 = 1.5 * j2 * pinvsq * no_unkozai
    temp2 = 0.5 * temp1 * j2 * pinvsq
    temp3 = -0.46875 * j4 * pinvsq * pinvsq * no_unkozai
    mdot = (
        no_unkozai
        + 0.5 * temp1 * rteosq * con41
        + 0.0625 * temp2 * rteosq * (13.0 - 78.0 * cosio2 + 137.0 * cosio4)
    )
    argpdot = (
        -0.5 * temp1 * con42
        + 0.0625 * temp2 * (7.0 - 114.0 * cosio2 + 395.0 * cosio4)
        + temp3 * (3.0 - 36.0 * cosio2 + 49.0 * cosio4)
    )
    xhdot1 = -temp1 * cosio
    nodedot = xhdot1 + (0.5 * temp2 * (4.0 - 19.0 * cosio2) + 2.0 * temp3 * (3.0 - 7.0 * cosio2)) * cosio
    xpidot = argpdot + nodedot
    omgcof = bstar * cc3 * jnp.cos(argpo)
    xmcof = jnp.where(ecc_ok, -x2o3 * coef * bstar / eeta, 0.0)
    nodecf = 3.5 * omeosq * xhdot1 * cc1
    t2cof = 1.5 * cc1
    # sgp4fix for divide by zero with xinco = 180 deg
    xlcof = -0.25 * j3oj2 * sinio * (3.0 + 5.0 * cosio) / jnp.where(
        jnp.abs(cosio + 1.0) > 1.5e-12, 1.0 + cosio, temp4
    )
    aycof = -0.5 * j3oj2 * sinio
    delmotemp = 1.0 + eta * jnp.cos(mo)
    delmo = delmotemp * delmotemp * delmotemp
    sinmao = jnp.sin(mo)
    x7thm1 = 7.0 * cosio2 - 1.0

    # --------------- deep space initialization -------------
    method_deep = TWOPI / no_unkozai >= 225.0
    isimp = isimp | method_deep
    tc = jnp.zeros_like(epoch)
    inclm = inclo
    ds = dscom(epoch, ecco, argpo, tc, inclo, nodeo, no_unkozai)
    # dpper(init='y') leaves ecco, inclo, nodeo, argpo, mo unchanged (see sgp4_deep.dpper).
    di = dsinit(
        xke, ds.cosim, ds.emsq, argpo, ds.s1, ds.s2, ds.s3, ds.s4, ds.s5, ds.sinim,
        ds.ss1, ds.ss2, ds.ss3, ds.ss4, ds.ss5, ds.sz1, ds.sz3, ds.sz11, ds.sz13,
        ds.sz21, ds.sz23, ds.sz31, ds.sz33, tc, gsto, mo, mdot, no_unkozai, nodeo,
        nodedot, xpidot, ds.z1, ds.z3, ds.z11, ds.z13, ds.z21, ds.z23, ds.z31, ds.z33,
        ecco, eccsq, ds.em, inclm, ds.nm,
    )  # fmt: skip

    # ----------- set variables if not deep space (isimp != 1) -----------
    cc1sq = cc1 * cc1
    d2 = 4.0 * ao * tsi * cc1sq
    temp = d2 * tsi * cc1 / 3.0
    d3 = (17.0 * ao + sfour) * temp
    d4 = 0.5 * temp * ao * tsi * (221.0 * ao + 31.0 * sfour) * cc1
    t3cof = d2 + 2.0 * cc1sq
    t4cof = 0.25 * (3.0 * d3 + cc1 * (12.0 * d2 + 10.0 * cc1sq))
    t5cof = 0.2 * (3.0 * d4 + 12.0 * cc1 * d3 + 6.0 * d2 * d2 + 15.0 * cc1sq * (2.0 * d2 + cc1sq))

    zero = jnp.zeros_like(epoch)

    def full(x):
        return jnp.where(isimp, zero, x)

    def deep(x):
        return jnp.where(method_deep, x, zero)

    out = dict(
        isimp=isimp, method_deep=method_deep,
        bstar=bstar, ecco=ecco, argpo=argpo, inclo=inclo, mo=mo, nodeo=nodeo,
        no_kozai=no_kozai, no_unkozai=no_unkozai, gsto=gsto,
        aycof=aycof, con41=con41, cc1=cc1, cc4=cc4, cc5=cc5,
        d2=full(d2), d3=full(d3), d4=full(d4), delmo=delmo, eta=eta,
        argpdot=argpdot, omgcof=omgcof, sinmao=sinmao,
        t2cof=t2cof, t3cof=full(t3cof), t4cof=full(t4cof), t5cof=full(t5cof),
        x1mth2=x1mth2, x7thm1=x7thm1, mdot=mdot, nodedot=nodedot,
        xlcof=xlcof, xmcof=xmcof, nodecf=nodecf,
    )  # fmt: skip
    for name in ("e3", "ee2", "se2", "se3", "sgh2", "sgh3", "sgh4", "sh2", "sh3", "si2",
                 "si3", "sl2", "sl3", "sl4", "xgh2", "xgh3", "xgh4", "xh2", "xh3", "xi2",
                 "xi3", "xl2", "xl3", "xl4", "zmol", "zmos"):  # fmt: skip
        out[name] = deep(getattr(ds, name))
    for name in di._fields:
        v = getattr(di, name)
        out[name] = jnp.where(method_deep, v, jnp.zeros_like(v))
    return out
