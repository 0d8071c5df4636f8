"""Vallado's SGP4 verification suite (AIAA 2006-6753): SGP4-VER.TLE against tcppver.out.

Both files ship inside the installed ``sgp4`` package and are read from there.
The TLEs are decoded with ``sgp4.api.Satrec.twoline2rv`` only to obtain element
values; all propagation is ours, in ONE batched call over the 33 element sets
with their listed times padded to a static shape. Rows are regenerated the way
``sgp4/tests.py::generate_satellite_output`` regenerates the file (time 0 first,
then start/stop/step, stopping at the first error) and compared numerically.

tcppver.out prints positions with 8 decimals (1e-8 km) and velocities with 9
(1e-9 km/s), so the tolerances below (1 mm, 1e-8 km/s) are >= 10x the printing
resolution.
"""

from __future__ import annotations

import functools
import os

import numpy as np
import pytest

sgp4 = pytest.importorskip("sgp4")
from sgp4.api import WGS72 as SGP4_WGS72  # noqa: E402
from sgp4.api import Satrec  # noqa: E402

from orbitjax.kernels.sgp4 import WGS72, sgp4_init, sgp4_propagate  # noqa: E402

POS_TOL_KM = 1e-6  # 1 mm
VEL_TOL_KM_S = 1e-8

# The error codes met while regenerating tcppver.out, in order; these are the
# codes asserted by python-sgp4's own test (sgp4/tests.py, run_satellite_against_tcppver).
EXPECTED_ERRORS = [1, 1, 6, 6, 4, 3, 6]

DATA_DIR = os.path.dirname(sgp4.__file__)


def _read_tles():
    with open(os.path.join(DATA_DIR, "SGP4-VER.TLE"), encoding="ascii") as f:
        lines = f.read().splitlines()
    out = []
    it = iter(lines)
    for line1 in it:
        if not line1.startswith("1"):
            continue
        line2 = next(it)
        out.append((line1, line2))
    return out


def _read_tcppver():
    """Blocks of tcppver.out: list of (satnum, rows (n, 7) float64)."""
    with open(os.path.join(DATA_DIR, "tcppver.out"), "rb") as f:
        text = f.read().replace(b"\r", b"").decode("ascii")
    blocks = []
    for line in text.splitlines():
        if line.endswith(" xx"):
            blocks.append((int(line.split()[0]), []))
        elif line.strip():
            blocks[-1][1].append([float(x) for x in line.split()[:7]])
    return [(n, np.array(rows).reshape(-1, 7)) for n, rows in blocks]


def _times(line2):
    """The time list of sgp4/tests.py::generate_satellite_output (minutes)."""
    tstart, tend, tstep = (float(x) for x in line2[69:].split())
    times = [0.0]
    tsince = tstart
    while tsince <= tend:
        if not (tsince == tstart == 0.0):
            times.append(tsince)
        tsince += tstep
    if tsince - tend < tstep - 1e-6:  # do not miss last line
        times.append(tend)
    return times


@functools.lru_cache(maxsize=None)
def _run(opsmode):
    tles = _read_tles()
    sats = [Satrec.twoline2rv(l1, l2, SGP4_WGS72) for l1, l2 in tles]

    def f(name):
        return np.array([getattr(s, name) for s in sats], dtype=np.float64)

    params = sgp4_init(
        # Same operation order as the reference's twoline2rv: (jd + fraction) - 2433281.5;
        # the rounding of jd + fraction moves gsto by ~1e-9 rad, i.e. mm for 23333.
        epoch_days_1950=(f("jdsatepoch") + f("jdsatepochF")) - 2433281.5,
        bstar=f("bstar"), ndot=f("ndot"), nddot=f("nddot"), ecco=f("ecco"),
        argpo=f("argpo"), inclo=f("inclo"), mo=f("mo"), no_kozai=f("no_kozai"),
        nodeo=f("nodeo"), gravity=WGS72, opsmode=opsmode,
    )  # fmt: skip
    times = [_times(l2) for _, l2 in tles]
    ntime = max(len(t) for t in times)
    tsince = np.zeros((len(sats), ntime))
    for i, t in enumerate(times):
        tsince[i, : len(t)] = t
    r, v, err = sgp4_propagate(params, tsince, gravity=WGS72, opsmode=opsmode)
    return dict(
        opsmode=opsmode, sats=sats, times=times, params=params,
        r=np.asarray(r), v=np.asarray(v), err=np.asarray(err),
    )  # fmt: skip


def _regenerate(run):
    """Rows and error list as python-sgp4's regeneration of tcppver.out would give them."""
    out, errors = [], []
    for i, (sat, times) in enumerate(zip(run["sats"], run["times"])):
        rows = []
        r, v, e = run["r"][i], run["v"][i], run["err"][i]
        if np.all(np.isnan(r[0])):
            errors.append(int(e[0]))
            out.append((sat.satnum, None))
            continue
        rows.append(np.concatenate([[0.0], r[0], v[0]]))
        for j in range(1, len(times)):
            if e[j] != 0:
                errors.append(int(e[j]))
                break
            rows.append(np.concatenate([[times[j]], r[j], v[j]]))
        out.append((sat.satnum, np.array(rows)))
    return out, errors


@pytest.mark.parametrize("opsmode", ["a", "i"])
def test_error_codes_match_python_sgp4_suite(opsmode):
    _, errors = _regenerate(_run(opsmode))
    assert errors == EXPECTED_ERRORS


@pytest.mark.parametrize("opsmode", ["a", "i"])
def test_init_error_codes(opsmode):
    vallado_run = _run(opsmode)
    # Only 33334 fails at epoch (perturbed eccentricity, code 3), as in python-sgp4.
    err = np.asarray(vallado_run["params"].error)
    satnums = [s.satnum for s in vallado_run["sats"]]
    assert {n: int(e) for n, e in zip(satnums, err) if e} == {33334: 3}


def _compare_rows(run, skip=()):
    ours, _ = _regenerate(run)
    ref = _read_tcppver()
    assert [n for n, _ in ours] == [n for n, _ in ref]
    worst_r = worst_v = 0.0
    nrows = 0
    for (n, got), (_, want) in zip(ours, ref):
        if got is None:  # 33334: tcppver repeats the previous data line; nothing to compare
            assert len(want) == 1
            continue
        assert got.shape == want.shape, f"satellite {n}: {len(got)} rows, tcppver has {len(want)}"
        np.testing.assert_allclose(got[:, 0], want[:, 0], atol=1e-8, err_msg=f"times of {n}")
        if n in skip:
            continue
        dr = np.abs(got[:, 1:4] - want[:, 1:4]).max()
        dv = np.abs(got[:, 4:7] - want[:, 4:7]).max()
        worst_r, worst_v = max(worst_r, dr), max(worst_v, dv)
        nrows += len(got)
        assert dr < POS_TOL_KM, f"satellite {n}: position differs by {dr * 1e6:.3f} mm"
        assert dv < VEL_TOL_KM_S, f"satellite {n}: velocity differs by {dv:.2e} km/s"
    print(f"opsmode {run['opsmode']}: {nrows} rows, max |dr| = {worst_r * 1e6:.4f} mm, "
          f"max |dv| = {worst_v:.2e} km/s")  # fmt: skip
    return nrows


def test_every_row_matches_tcppver():
    """tcppver.out is reproduced in full with opsmode 'i'.

    The file shipped with python-sgp4 was generated in the improved mode: its own
    test builds satellites with ``Satrec.twoline2rv`` (opsmode 'i'), and with 'a'
    satellite 23599 (i = 6.9 deg, Lyddane branch of dpper where the AFSPC node
    fix acts) departs by up to 0.96 km (see the next test).
    """
    assert _compare_rows(_run("i")) == 666  # 700 lines - 33 headers - 33334's placeholder


def test_opsmode_a_differs_only_for_23599_and_matches_python_sgp4():
    vallado_run = _run("a")
    assert _compare_rows(vallado_run, skip={23599}) == 666 - 37
    # 23599 in opsmode 'a' against python-sgp4's pure-Python propagation in 'a'.
    from sgp4 import io
    from sgp4.earth_gravity import wgs72
    from sgp4.propagation import sgp4 as py_sgp4

    i = [s.satnum for s in vallado_run["sats"]].index(23599)
    l1, l2 = _read_tles()[i]
    ref_sat = io.twoline2rv(l1, l2, wgs72, opsmode="a")
    for j, t in enumerate(vallado_run["times"][i]):
        r_ref, v_ref = py_sgp4(ref_sat, t)
        np.testing.assert_allclose(vallado_run["r"][i, j], r_ref, rtol=0, atol=POS_TOL_KM)
        np.testing.assert_allclose(vallado_run["v"][i, j], v_ref, rtol=0, atol=VEL_TOL_KM_S)


def test_resonant_objects_far_from_epoch_match_python_sgp4():
    """The resonance integrator's per-satellite chains (and its per-element fallback beyond
    ``_RESONANCE_HISTORY`` steps) against python-sgp4, at times on and around multiples of
    its 720-minute step, backwards and forwards, out to 100 days from epoch."""
    from orbitjax.kernels.sgp4_deep import _RESONANCE_HISTORY

    run = _run("i")
    res = np.flatnonzero(np.asarray(run["params"].irez) != 0)
    assert res.size >= 4  # the suite holds 12 h and 24 h resonant objects
    edge = 720.0 * _RESONANCE_HISTORY
    base = np.array([0.0, 1.0, 719.999999, 720.0, 720.000001, 1439.9999999999998, 1440.0, 5000.0, 30 * 1440.0,
                     edge - 1e-7, edge, edge + 720.0, 100 * 1440.0])
    times = np.concatenate([base, -base[1:]])
    sats = [run["sats"][i] for i in res]
    params = type(run["params"])(*(np.asarray(x)[res] for x in run["params"]))
    r, _, err = (np.asarray(a) for a in sgp4_propagate(params, np.broadcast_to(times, (res.size, times.size)),
                                                     gravity=WGS72, opsmode="i"))
    compared = 0
    for i, sat in enumerate(sats):
        for j, t in enumerate(times):
            e, r_ref, _ = sat.sgp4_tsince(t)
            assert e == err[i, j], (sat.satnum, t)
            if e == 0:
                # Measured: within 6e-8 km out to 100 days (12 objects, 300 states).
                np.testing.assert_allclose(r[i, j], r_ref, rtol=0, atol=POS_TOL_KM, err_msg=f"{sat.satnum} at {t} min")
                compared += 1
    assert compared >= 0.7 * res.size * times.size
