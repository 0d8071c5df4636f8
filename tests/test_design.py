"""Relaxed coverage: gradients against central finite differences, the zero-temperature limit
against a brute-force visibility count and against coverage()'s event-timed figures; optimize()."""

import jax
import numpy as np
import pytest

import orbitjax
from orbitjax import design

STEP_S = 120.0
TIMES = np.datetime64("2025-10-15T00:00") + np.arange(60) * np.timedelta64(int(STEP_S), "s")  # 2 h
WGS84_A, WGS84_F = 6378.137, 1 / 298.257223563


def _problem(**kw):
    args = dict(planes=3, sats_per_plane=4, min_elevation_deg=30.0, times=TIMES, resolution_deg=6.0,
                band_deg=(20, 60), lon_stride=2)
    return design.WalkerProblem(**{**args, **kw})


@pytest.fixture(scope="module")
def problem():
    return _problem()


def test_elements_match_walker(problem):
    p = problem.initial_params(altitude_km=600, inclination_deg=50, phasing=1)
    c = problem.constellation(p)
    w = orbitjax.walker(altitude_km=600, inclination_deg=50, planes=3, sats_per_plane=4, phasing=1,
                        min_elevation_deg=30, epoch=TIMES[0])
    np.testing.assert_allclose(c.a_km, w.a_km, rtol=1e-15)
    np.testing.assert_allclose(c.inc_deg, w.inc_deg, rtol=1e-15)
    np.testing.assert_allclose(c.raan_deg, w.raan_deg, atol=1e-12)
    np.testing.assert_allclose(c.mean_anomaly_deg, w.mean_anomaly_deg, atol=1e-12)


def test_gradients_match_central_differences(problem):
    """jax.jacrev of every relaxed figure against central differences of the same (jitted) figures."""
    p = problem.initial_params(altitude_km=600, inclination_deg=50, phasing=1)
    f = jax.jit(lambda q: problem.relaxed(q, 2.0))
    jac = jax.jit(jax.jacrev(lambda q: problem.relaxed(q, 2.0)))(p)
    # Steps: phasing F moves mean anomalies by 360 j / T = up to 60 deg per unit, so its step is smaller.
    checks = [("inclination_deg", None, 1e-3), ("altitude_km", None, 1e-2), ("raan_spread_deg", None, 1e-3),
              ("phasing", None, 2e-5), ("d_mean_anomaly_deg", 3, 1e-3), ("d_raan_deg", 7, 1e-3),
              ("d_inclination_deg", 5, 1e-3), ("d_altitude_km", 10, 1e-2)]
    base = {k: float(v) for k, v in f(p).items()}
    for name, i, h in checks:
        def shifted(d):
            q = dict(p)
            q[name] = p[name] + d if i is None else p[name].at[i].add(d)
            return f(q)
        hi, lo = shifted(h), shifted(-h)
        for figure in ("percent_time_covered", "mean_max_gap_s", "max_gap_s"):
            fd = (float(hi[figure]) - float(lo[figure])) / (2 * h)
            ad = float(jac[figure][name] if i is None else jac[figure][name][i])
            assert ad == pytest.approx(fd, rel=2e-4, abs=1e-8 * abs(base[figure]) / h), (figure, name, i, ad, fd)
            if name == "inclination_deg":
                assert abs(ad) > 1e-3  # a gradient that is really there


def _brute_force_sampled(problem, params, substeps):
    """Hard sampled figures on the problem's cells: elevations from the ellipsoid normal, in NumPy."""
    c = problem.constellation(params)
    dt = STEP_S / substeps
    t = TIMES[0] + (np.arange(TIMES.size * substeps) * dt * 1e9).astype("timedelta64[ns]")
    r = orbitjax.propagate(c, t, frame="ecef").position_ecef.values  # (sat, time, 3)
    lat = np.radians(problem.grid.lat_deg[problem.rows])[:, None]
    lon = np.radians(problem.grid.lon_deg[problem.cols])[None, :]
    e2 = WGS84_F * (2 - WGS84_F)
    n = WGS84_A / np.sqrt(1 - e2 * np.sin(lat) ** 2)
    cell = np.stack(np.broadcast_arrays(n * np.cos(lat) * np.cos(lon), n * np.cos(lat) * np.sin(lon),
                                        n * (1 - e2) * np.sin(lat)), -1).reshape(-1, 3)
    up = np.stack(np.broadcast_arrays(np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)),
                  -1).reshape(-1, 3)
    d = r[:, :, None, :] - cell[None, None]
    el = np.degrees(np.arcsin(np.sum(d * up, -1) / np.linalg.norm(d, axis=-1)))
    seen = np.any(el >= problem.min_elevation_deg, axis=0)  # (time, cell)
    w = np.asarray(problem.weights)
    pct = 100 * np.sum(w * seen.mean(0))
    gaps = []
    for k in range(seen.shape[1]):
        run, best = 0, 0
        for v in seen[:, k]:
            run = 0 if v else run + 1
            best = max(best, run)
        gaps.append(best * dt)
    return pct, float(np.sum(w * np.asarray(gaps))), seen


def test_zero_temperature_limit_is_the_hard_sampled_count(problem):
    p = problem.initial_params(altitude_km=600, inclination_deg=50)
    pct, mean_gap, _ = _brute_force_sampled(problem, p, 1)
    f = jax.jit(lambda t: problem.relaxed(p, t))
    err = [abs(float(f(t)["percent_time_covered"]) - pct) for t in (1.0, 0.1, 0.01, 0.001)]
    assert err == sorted(err, reverse=True) and err[-1] < 0.01 and err[0] > 10 * err[-1]
    assert float(f(1e-3)["mean_max_gap_s"]) == pytest.approx(mean_gap, abs=1.0)


def test_zero_temperature_limit_approaches_coverage_event_timed():
    """Dense surrogate samples (10 s) at a low temperature reproduce coverage()'s event-timed figures."""
    pb = _problem(substeps=12, chunk=60)
    p = pb.initial_params(altitude_km=600, inclination_deg=50)
    relaxed = jax.jit(lambda t: pb.relaxed(p, t))(1e-3)
    w = orbitjax.walker(altitude_km=600, inclination_deg=50, planes=3, sats_per_plane=4, phasing=1,
                        min_elevation_deg=30, epoch=TIMES[0])
    ex = orbitjax.coverage(w, TIMES, resolution_deg=6.0, n_assets=(1,), progress=False)
    wts = np.asarray(pb.weights).reshape(pb.rows.size, pb.cols.size)
    sub = lambda v: v[pb.rows][:, pb.cols]  # noqa: E731
    exact_pct = float(np.sum(wts * sub(ex.percent_time_covered.values)))
    exact_gap = float(np.sum(wts * sub(ex.max_gap_s.values)))
    coarse = jax.jit(lambda t: _problem().relaxed(p, t))(1e-3)
    # Sampling error: 10 s samples put each of the ~2 transitions per covered cell within 10 s.
    assert float(relaxed["percent_time_covered"]) == pytest.approx(exact_pct, abs=0.1)
    assert float(relaxed["mean_max_gap_s"]) == pytest.approx(exact_gap, abs=10.0)
    # ... and closer than the 120 s samples of the coarse surrogate.
    assert abs(float(relaxed["percent_time_covered"]) - exact_pct) < abs(float(coarse["percent_time_covered"]) - exact_pct)


@pytest.mark.slow
def test_optimize_improves_the_relaxed_objective_and_rescores_exactly(problem):
    p = problem.initial_params(altitude_km=600, inclination_deg=35)
    res = design.optimize(problem, p, vary=("inclination_deg",), steps=6, learning_rate=2.0,
                          temperature=(2.0, 1.0), bounds={"inclination_deg": (30, 80)}, rescore_every=5,
                          batch_size=2)
    losses = [h["loss"] for h in res["history"]]
    assert losses[-1] < losses[0]
    ex = res["exact"]
    assert ex.step.values.tolist() == [0, 5, 6]
    # Re-scored on the full grid with the exact figures (study() equals coverage(): tests/test_study.py).
    assert ex.inclination_deg.values[-1] == pytest.approx(res["history"][-1]["inclination_deg"], abs=3.0)
    assert np.all(np.isfinite(ex.percent_time_covered_band)) and ex.attrs["timing"] == "exact"
    with pytest.raises(ValueError, match="cannot vary"):
        design.optimize(problem, p, vary=("colour",), steps=1)
