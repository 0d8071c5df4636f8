"""Benchmark: orbitjax SGP4/SDP4 against python-sgp4's SatrecArray (and heyoka) on three catalogues.

Workloads (every code gets the very same element sets and times):

* ``leo``: 3,236 Kuiper-like element sets (590-630 km, 33-52 deg, small e, with
  drag; epochs spread over one day) x 1,440 times (one day at 60 s).
* ``mixed``: 2,000 element sets, 60 % near-earth (LEO with drag, low perigee,
  retrograde) and 40 % deep space (MEO, GEO with 24 h resonance, Molniya with
  12 h resonance, GTO) x 1,440 times.
* ``wide``: 30,000 element sets x 100 times (one day at 864 s): the real Starlink
  catalogue in /work/shared/realdata (10,395 CelesTrak TLEs) repeated with shifted
  mean anomalies when that file is present, generated Starlink-like shells otherwise.

Codes, timed in the same run and interleaved (best of ``--repeats`` rounds):
python-sgp4 ``SatrecArray.sgp4`` (C++, the baseline), orbitjax ``sgp4_propagate``
returning fresh arrays (``orbitjax``) and writing into the previous result's
memory with ``out=`` (``orbitjax_out``, the protocol of heyoka's ``out=`` below)
and, on the all-near-earth workloads, heyoka's ``sgp4_propagator`` (LLVM, SGP4
only: it has no SDP4) when heyoka is installed. Prints the machine, throughput in
satellite-epochs per second, ratios and the largest position/velocity differences
to SatrecArray. ``--json FILE`` also writes the numbers.

Run:  python benchmarks/bench_sgp4.py [--workloads leo,mixed,wide] [--repeats 5]
          [--dtype float64|float32] [--scale 1.0] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
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

try:
    import heyoka  # noqa: E402
except ImportError:  # optional peer: its rows are skipped
    heyoka = None

JD_EPOCH0 = 2460310.5  # 2024-01-01 00:00 UTC
XKE = WGS72.xke
RE_KM = WGS72.radiusearthkm
STARLINK_TLE = os.environ.get(
    "ORBITJAX_STARLINK_TLE", "/work/shared/realdata/starlink_celestrak_2026-05-30.tle"
)
KEYS = ("epoch_days_1950", "bstar", "ndot", "nddot", "ecco", "argpo", "inclo", "mo", "no_kozai", "nodeo")


def _no_kozai(a_km):
    return XKE * (a_km / RE_KM) ** -1.5


def _finish(rng, parts, epoch_jd0=JD_EPOCH0):
    el = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    n = el["ecco"].size
    el["epoch_days_1950"] = (epoch_jd0 + rng.uniform(0.0, 1.0, n)) - 2433281.5
    el["ndot"] = np.zeros(n)
    el["nddot"] = np.zeros(n)
    for k in ("argpo", "mo", "nodeo"):
        el.setdefault(k, rng.uniform(0.0, 2 * np.pi, n))
    return el


def _family(rng, n, a_km, ecc, inc_deg, bstar):
    return dict(no_kozai=_no_kozai(a_km), ecco=ecc, inclo=np.radians(inc_deg), bstar=bstar,
                argpo=rng.uniform(0, 2 * np.pi, n), mo=rng.uniform(0, 2 * np.pi, n),
                nodeo=rng.uniform(0, 2 * np.pi, n))  # fmt: skip


def kuiper_like_elements(n_sat: int = 3236, seed: int = 7) -> dict[str, np.ndarray]:
    """Random Kuiper-like shells: 630 km / 51.9 deg, 610 km / 42 deg, 590 km / 33 deg."""
    rng = np.random.default_rng(seed)
    counts = np.round(np.array([1156, 1296, 784]) * n_sat / 3236).astype(int)
    counts[-1] = n_sat - counts[:-1].sum()
    shells = [(630.0, 51.9), (610.0, 42.0), (590.0, 33.0)]
    alt = np.concatenate([np.full(n, a) for (a, _), n in zip(shells, counts)]) + rng.normal(0.0, 2.0, n_sat)
    inc = np.concatenate([np.full(n, i) for (_, i), n in zip(shells, counts)]) + rng.normal(0.0, 0.05, n_sat)
    jd_frac = rng.uniform(0.0, 1.0, n_sat)
    return dict(
        epoch_days_1950=(JD_EPOCH0 + jd_frac) - 2433281.5,
        bstar=rng.uniform(1e-5, 5e-4, n_sat),
        ndot=np.zeros(n_sat),
        nddot=np.zeros(n_sat),
        ecco=rng.uniform(1e-4, 2e-3, n_sat),
        argpo=rng.uniform(0.0, 2 * np.pi, n_sat),
        inclo=np.radians(inc),
        mo=rng.uniform(0.0, 2 * np.pi, n_sat),
        no_kozai=XKE * ((RE_KM + alt) / RE_KM) ** -1.5,  # rad/min
        nodeo=rng.uniform(0.0, 2 * np.pi, n_sat),
    )


def mixed_elements(n_sat: int = 2000, seed: int = 12) -> dict[str, np.ndarray]:
    """60 % near-earth, 40 % deep space (MEO, GEO, Molniya, GTO)."""
    rng = np.random.default_rng(seed)
    share = {"leo": 0.45, "low": 0.05, "retro": 0.10, "meo": 0.08, "geo": 0.16, "molniya": 0.06, "gto": 0.10}
    n = {k: int(round(v * n_sat)) for k, v in share.items()}
    n["leo"] += n_sat - sum(n.values())
    u = rng.uniform
    rp_low, e_low = RE_KM + u(160, 215, n["low"]), u(0.001, 0.05, n["low"])
    rp, ra = RE_KM + u(250, 600, n["gto"]), RE_KM + u(35000, 36000, n["gto"])
    parts = [
        _family(rng, n["leo"], RE_KM + u(350, 1500, n["leo"]), u(0, 0.02, n["leo"]), u(0, 100, n["leo"]),
                u(-1e-4, 1e-3, n["leo"])),
        _family(rng, n["low"], rp_low / (1 - e_low), e_low, u(20, 98, n["low"]), u(1e-5, 2e-4, n["low"])),
        _family(rng, n["retro"], RE_KM + u(500, 900, n["retro"]), u(0, 0.01, n["retro"]),
                u(95, 179.9, n["retro"]), u(0, 1e-4, n["retro"])),
        _family(rng, n["meo"], u(25000, 29000, n["meo"]), u(0, 0.02, n["meo"]), u(50, 65, n["meo"]),
                u(0, 1e-5, n["meo"])),
        _family(rng, n["geo"], u(42100, 42230, n["geo"]), u(0, 0.002, n["geo"]), u(0, 15, n["geo"]),
                u(0, 1e-5, n["geo"])),
        _family(rng, n["molniya"], u(26400, 26700, n["molniya"]), u(0.6, 0.74, n["molniya"]),
                u(62, 65, n["molniya"]), u(0, 1e-4, n["molniya"])),
        _family(rng, n["gto"], (rp + ra) / 2, (ra - rp) / (ra + rp), u(0, 30, n["gto"]), u(0, 1e-4, n["gto"])),
    ]  # fmt: skip
    return _finish(rng, parts)


def _read_tle_elements(path):
    with open(path, encoding="ascii") as f:
        lines = [ln.rstrip() for ln in f if ln.strip()]
    ones = [i for i, ln in enumerate(lines) if ln.startswith("1 ")]
    sats = [Satrec.twoline2rv(lines[i], lines[i + 1], SGP4_WGS72) for i in ones]

    def f(name):
        return np.array([getattr(s, name) for s in sats], np.float64)

    el = {k: f(k) for k in KEYS if k != "epoch_days_1950"}
    el["epoch_days_1950"] = (f("jdsatepoch") + f("jdsatepochF")) - 2433281.5
    return el


def wide_elements(n_sat: int = 30000, seed: int = 30) -> tuple[dict[str, np.ndarray], float, str]:
    """(elements, start JD of the time grid, source description)."""
    rng = np.random.default_rng(seed)
    if os.path.exists(STARLINK_TLE):
        base = _read_tle_elements(STARLINK_TLE)
        m = base["ecco"].size
        reps = -(-n_sat // m)
        el = {k: np.tile(v, reps)[:n_sat] for k, v in base.items()}
        copy = np.repeat(np.arange(reps), m)[:n_sat]
        el["mo"] = np.mod(el["mo"] + copy * (2 * np.pi / reps), 2 * np.pi)  # spread the copies in the planes
        return el, 2461190.5, f"{m} real Starlink TLEs ({os.path.basename(STARLINK_TLE)}) x {reps}, mean anomalies shifted"
    u = rng.uniform
    alt, inc = rng.choice([(550.0, 53.0), (540.0, 53.2), (570.0, 70.0), (560.0, 97.6), (530.0, 43.0)], n_sat).T
    parts = [_family(rng, n_sat, RE_KM + alt + rng.normal(0, 5, n_sat), u(1e-4, 1e-3, n_sat), inc,
                     u(1e-5, 1e-3, n_sat))]  # fmt: skip
    return _finish(rng, parts), JD_EPOCH0, "generated Starlink-like shells (real TLE file not found)"


def workload(name: str, scale: float):
    """(elements, jd (time,), fr (time,), description)."""
    if name == "leo":
        n_sat, n_time, step_s = int(3236 * scale), int(1440 * scale), 60.0
        el, jd0, src = kuiper_like_elements(max(n_sat, 8)), JD_EPOCH0, "Kuiper-like LEO shells"
    elif name == "mixed":
        n_sat, n_time, step_s = int(2000 * scale), int(1440 * scale), 60.0
        el, jd0, src = mixed_elements(max(n_sat, 40)), JD_EPOCH0, "60 % near-earth, 40 % MEO/GEO/Molniya/GTO"
    elif name == "wide":
        n_sat, n_time, step_s = int(30000 * scale), 100, 864.0
        el, jd0, src = wide_elements(max(n_sat, 8))
    else:
        raise ValueError(f"unknown workload {name!r}: expected leo, mixed or wide")
    n_time = max(n_time, 4)
    return el, np.full(n_time, jd0), np.arange(n_time) * (step_s / 86400.0), src


def satrecs(el):
    sats = []
    for i in range(el["ecco"].size):
        s = Satrec()
        s.sgp4init(SGP4_WGS72, "i", i + 1, el["epoch_days_1950"][i], el["bstar"][i], el["ndot"][i],
                   el["nddot"][i], el["ecco"][i], el["argpo"][i], el["inclo"][i], el["mo"][i],
                   el["no_kozai"][i], el["nodeo"][i])  # fmt: skip
        sats.append(s)
    return sats


def run_workload(name, args, dtype):
    el, jd, fr, src = workload(name, args.scale)
    n_sat, n_time = el["ecco"].size, jd.size
    n = n_sat * n_time
    sats = satrecs(el)
    deep = np.array([s.method == "d" for s in sats])
    print(f"\n== {name}: {n_sat:,} satellites ({deep.sum()} deep space; {src}) x {n_time:,} times "
          f"= {n:,} satellite-epochs")  # fmt: skip
    arr = SatrecArray(sats)
    # Minutes since each satellite's epoch, exactly as SatrecArray computes them.
    sat_jd = np.array([s.jdsatepoch for s in sats])[:, None]
    sat_fr = np.array([s.jdsatepochF for s in sats])[:, None]
    tsince = (jd[None, :] - sat_jd) * 1440.0 + (fr[None, :] - sat_fr) * 1440.0

    params = sgp4_init(**{k: el[k] for k in KEYS})
    t_dev = jax.device_put(jnp.asarray(tsince, dtype))

    def ours():
        return jax.block_until_ready(sgp4_propagate(params, t_dev, dtype=dtype))

    last = {}

    def ours_out():  # the result written into the previous one's memory, as heyoka's out= below
        last["out"] = jax.block_until_ready(sgp4_propagate(params, t_dev, dtype=dtype, out=last.get("out")))
        return last["out"]

    codes = {"SatrecArray": lambda: arr.sgp4(jd, fr), "orbitjax": ours, "orbitjax_out": ours_out}
    if heyoka is not None and not deep.any():
        gpe = np.ascontiguousarray(np.stack([el["no_kozai"], el["ecco"], el["inclo"], el["nodeo"], el["argpo"],
                                             el["mo"], el["bstar"], sat_jd[:, 0], sat_fr[:, 0]]))  # fmt: skip
        prop = heyoka.model.sgp4_propagator(gpe)
        t_hy = np.ascontiguousarray(tsince.T)
        out_hy = np.empty((n_time, 7, n_sat))
        codes["heyoka"] = lambda: prop(t_hy, out=out_hy)

    t0 = time.perf_counter()
    ours()
    first = time.perf_counter() - t0
    ours_out()  # its first call allocates the buffers the timed ones reuse
    best = {k: float("inf") for k in codes}
    result = {}
    for _ in range(args.repeats):  # interleaved, so machine load hits every code alike
        for k, fn in codes.items():
            t0 = time.perf_counter()
            result[k] = fn()
            best[k] = min(best[k], time.perf_counter() - t0)

    e_ref, r_ref, v_ref = result["SatrecArray"]
    r, v, e = (np.asarray(x) for x in result["orbitjax"])
    ok = e_ref == 0
    row = dict(workload=name, source=src, n_sat=n_sat, n_deep=int(deep.sum()), n_time=n_time, dtype=args.dtype,
               first_call_s=first, codes_equal=bool(np.array_equal(e, e_ref)))  # fmt: skip
    row["out_equal"] = all(np.array_equal(np.asarray(a), b, equal_nan=True) for a, b in zip(result["orbitjax_out"], (r, v, e)))
    row["max_dr_km"] = float(np.max(np.abs(r.astype(np.float64) - r_ref)[ok], initial=0.0))
    row["max_dv_km_s"] = float(np.max(np.abs(v.astype(np.float64) - v_ref)[ok], initial=0.0))
    if "heyoka" in result:
        hy = result["heyoka"]
        r_hy = np.moveaxis(hy[:, 0:3, :], (0, 1, 2), (1, 2, 0))
        row["heyoka_max_dr_km"] = float(np.max(np.abs(r_hy - r_ref)[ok], initial=0.0))
    for k, t in best.items():
        row[f"{k}_s"] = t
        row[f"{k}_rate"] = n / t
    print(f"orbitjax ({args.dtype}): first call (compile + run) {first:.2f} s")
    for k in codes:
        print(f"  {k:12s} best of {args.repeats}: {best[k]:.3f} s = {n / best[k] / 1e6:6.2f} M sat-epochs/s"
              f"   orbitjax / {k}: {best[k] / best['orbitjax']:.2f}x")  # fmt: skip
    if "heyoka" in best:
        print(f"  like for like (both writing into existing buffers): orbitjax_out / heyoka = "
              f"{best['heyoka'] / best['orbitjax_out']:.2f}x; fresh arrays (orbitjax) / heyoka = "
              f"{best['heyoka'] / best['orbitjax']:.2f}x")  # fmt: skip
    if heyoka is None:
        print("  heyoka       not installed (pip install heyoka): row skipped")
    elif "heyoka" not in codes:
        print("  heyoka       skipped: deep-space objects (heyoka implements SGP4 only)")
    print(f"  max |dr| = {row['max_dr_km']:.3e} km, max |dv| = {row['max_dv_km_s']:.3e} km/s to SatrecArray, "
          f"error codes equal: {row['codes_equal']}; out= result identical: {row['out_equal']}"
          + (f"; heyoka max |dr| = {row['heyoka_max_dr_km']:.3e} km" if "heyoka_max_dr_km" in row else ""))  # fmt: skip
    return row


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workloads", default="leo,mixed,wide")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--dtype", default="float64", choices=["float64", "float32"])
    ap.add_argument("--scale", type=float, default=1.0, help="scale the catalogue/time sizes (device checks: 0.02)")
    ap.add_argument("--json", help="also write the results to this JSON file")
    args = ap.parse_args(argv)
    dtype = jnp.dtype(args.dtype)
    print(f"machine: {describe()}")
    rows = [run_workload(w.strip(), args, dtype) for w in args.workloads.split(",") if w.strip()]
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": describe(), "rows": rows}, f, indent=1)
    return rows


if __name__ == "__main__":
    main()
