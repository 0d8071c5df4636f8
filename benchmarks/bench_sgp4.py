"""Benchmark: orbitjax SGP4 against python-sgp4's SatrecArray on a Kuiper-size catalogue.

3,236 element sets (LEO 590-630 km, inclinations 33-52 deg, small e, with drag;
epochs spread over one day) x 1,440 times (one day at 60 s). Prints the machine,
the jit compile time, the best-of-N throughput of both codes in satellite-epochs
per second, their ratio, and the largest position difference.

Run:  python benchmarks/bench_sgp4.py [--repeats 5] [--dtype float64|float32]
"""

from __future__ import annotations

import argparse
import time

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from sgp4.api import WGS72 as SGP4_WGS72  # noqa: E402
from sgp4.api import Satrec, SatrecArray  # noqa: E402

from orbitjax.kernels.sgp4 import WGS72, sgp4_init, sgp4_propagate  # noqa: E402

try:
    from _machine import describe  # noqa: E402
except ImportError:  # run from another directory
    from benchmarks._machine import describe  # noqa: E402

N_SAT = 3236
N_TIME = 1440
STEP_S = 60.0
JD_EPOCH0 = 2460310.5  # 2024-01-01 00:00 UTC
XKE = WGS72.xke
RE_KM = WGS72.radiusearthkm


def kuiper_like_elements(seed: int = 7) -> dict[str, np.ndarray]:
    """Random Kuiper-like shells: 630 km / 51.9 deg, 610 km / 42 deg, 590 km / 33 deg."""
    rng = np.random.default_rng(seed)
    shells = [(630.0, 51.9, 1156), (610.0, 42.0, 1296), (590.0, 33.0, 784)]
    alt = np.concatenate([np.full(n, a) for a, _, n in shells]) + rng.normal(0.0, 2.0, N_SAT)
    inc = np.concatenate([np.full(n, i) for _, i, n in shells]) + rng.normal(0.0, 0.05, N_SAT)
    a_er = (RE_KM + alt) / RE_KM
    no_kozai = XKE * a_er**-1.5  # rad/min
    jd_frac = rng.uniform(0.0, 1.0, N_SAT)
    return dict(
        epoch_days_1950=(JD_EPOCH0 + jd_frac) - 2433281.5,
        bstar=rng.uniform(1e-5, 5e-4, N_SAT),
        ndot=np.zeros(N_SAT),
        nddot=np.zeros(N_SAT),
        ecco=rng.uniform(1e-4, 2e-3, N_SAT),
        argpo=rng.uniform(0.0, 2 * np.pi, N_SAT),
        inclo=np.radians(inc),
        mo=rng.uniform(0.0, 2 * np.pi, N_SAT),
        no_kozai=no_kozai,
        nodeo=rng.uniform(0.0, 2 * np.pi, N_SAT),
    )


def best_of(fn, repeats):
    times = []
    out = None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--dtype", default="float64", choices=["float64", "float32"])
    args = ap.parse_args()
    dtype = jnp.dtype(args.dtype)

    el = kuiper_like_elements()
    # Times: one day at 60 s from the first epoch, as two-part Julian dates.
    jd = np.full(N_TIME, JD_EPOCH0)
    fr = np.arange(N_TIME) * (STEP_S / 86400.0)
    print(f"machine: {describe()}")
    print(f"catalogue: {N_SAT} satellites x {N_TIME} times = {N_SAT * N_TIME:,} satellite-epochs")

    # ------------------------------ python-sgp4 ------------------------------
    sats = []
    for i in range(N_SAT):
        s = Satrec()
        s.sgp4init(SGP4_WGS72, "i", i + 1, el["epoch_days_1950"][i], el["bstar"][i], el["ndot"][i],
                   el["nddot"][i], el["ecco"][i], el["argpo"][i], el["inclo"][i], el["mo"][i],
                   el["no_kozai"][i], el["nodeo"][i])  # fmt: skip
        sats.append(s)
    arr = SatrecArray(sats)
    # Minutes since each satellite's epoch, exactly as SatrecArray computes them.
    sat_jd = np.array([s.jdsatepoch for s in sats])
    sat_fr = np.array([s.jdsatepochF for s in sats])
    tsince = (jd[None, :] - sat_jd[:, None]) * 1440.0 + (fr[None, :] - sat_fr[:, None]) * 1440.0
    t_ref, (e_ref, r_ref, v_ref) = best_of(lambda: arr.sgp4(jd, fr), args.repeats)

    # ------------------------------ orbitjax ------------------------------
    kw = {k: el[k] for k in ("epoch_days_1950", "bstar", "ndot", "nddot", "ecco", "argpo", "inclo",
                            "mo", "no_kozai", "nodeo")}  # fmt: skip
    params = sgp4_init(**kw)
    t_dev = jax.device_put(jnp.asarray(tsince, dtype))

    def run():
        r, v, e = sgp4_propagate(params, t_dev, dtype=dtype)
        return jax.block_until_ready((r, v, e))

    t0 = time.perf_counter()
    run()
    t_first = time.perf_counter() - t0
    t_ours, (r, v, e) = best_of(run, args.repeats)

    n = N_SAT * N_TIME
    r = np.asarray(r, np.float64)
    v = np.asarray(v, np.float64)
    dr = np.nanmax(np.abs(r - r_ref))
    dv = np.nanmax(np.abs(v - v_ref))
    codes_equal = bool(np.array_equal(np.asarray(e), e_ref))
    print(f"orbitjax ({args.dtype}): first call (compile + run) {t_first:.2f} s; "
          f"best of {args.repeats}: {t_ours:.3f} s = {n / t_ours:,.0f} sat-epochs/s")  # fmt: skip
    print(f"python-sgp4 SatrecArray: best of {args.repeats}: {t_ref:.3f} s = {n / t_ref:,.0f} sat-epochs/s")
    print(f"speed-up orbitjax / SatrecArray: {t_ref / t_ours:.2f}x")
    print(f"max |dr| = {dr:.3e} km, max |dv| = {dv:.3e} km/s, error codes equal: {codes_equal}")


if __name__ == "__main__":
    main()
