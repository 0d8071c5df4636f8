"""Site access reports: against Skyfield (find_events and its own geometry refined), brute force, edges.

Skyfield (a test dependency) needs no download here: TLE satellites, a WGS84
site and ``load.timescale(builtin=True)``. Conventions: Skyfield's
``find_events`` rotates TEME by GMST IAU-82 at UT1 from its builtin table (no
polar motion); orbitjax uses UT1 = UTC. ``load.timescale(delta_t=69.184)``
(TT - UTC in 2025) gives Skyfield UT1 = UTC, i.e. the same geometry.
``find_events`` itself stops its search at 0.5 s (``half_second`` in
skyfield/sgp4lib.py), so its events are refined here by bisection on Skyfield's
own altitude to 1 ms before comparing to the 0.1 s target.
"""

from pathlib import Path

import numpy as np
import pytest

import orbitjax
from orbitjax.site_access import PASS_COLUMNS, access, interval_figures
from orbitjax.cli import main

skyfield_api = pytest.importorskip("skyfield.api")

DATA = Path(__file__).resolve().parents[1] / "data"
TLE = DATA / "kuiper_falcon9_synthetic.tle"
START = "2025-10-15T00:00:00Z"
DURATION = "6h"
MASK_DEG = 35.0
SITES = [  # name, lat, lon, alt_m: mid-latitude, high-latitude (Arctic), equatorial high altitude, southern
    ("Seattle", 47.6, -122.3, 50.0),
    ("Svalbard", 78.23, 15.4, 500.0),
    ("Quito", -0.2, -78.5, 2850.0),
    ("Hobart", -42.9, 147.3, 0.0),
    ("Cape", 28.56, -80.58, 0.0),
]
SAT_SUBSET = range(0, 72, 9)  # 8 satellites, three launches


@pytest.fixture(scope="module")
def sats():
    return orbitjax.read_tle(TLE)


@pytest.fixture(scope="module")
def report(sats):
    return access(sats, (START, DURATION), SITES, min_elevation_deg=MASK_DEG)


def _unix_s(values):
    return np.asarray(values, "datetime64[ns]").astype(np.int64) / 1e9


def _skyfield_events(sats, ts, name, lat, lon, alt, k):
    """Skyfield find_events rises/sets (unix seconds) for satellite k, refined to 1 ms on Skyfield's altitude."""
    lines = TLE.read_text().splitlines()
    sat = skyfield_api.EarthSatellite(lines[3 * k + 1], lines[3 * k + 2], lines[3 * k].strip(), ts)
    topos = skyfield_api.wgs84.latlon(lat, lon, alt)
    t0 = ts.from_datetime(np.datetime64(START[:-1]).astype(object).replace(tzinfo=skyfield_api.utc))
    t1 = ts.tt_jd(t0.tt + 0.25)
    t, e = sat.find_events(topos, t0, t1, altitude_degrees=MASK_DEG)
    diff = sat - topos
    out = {}
    for code, rising in ((0, True), (2, False)):
        coarse = t.tt[e == code]
        lo, hi = coarse - 1.0 / 86400, coarse + 1.0 / 86400
        for _ in range(12):  # 2 s -> 0.5 ms
            mid = 0.5 * (lo + hi)
            above = diff.at(ts.tt_jd(mid)).altaz()[0].degrees >= MASK_DEG if mid.size else mid.astype(bool)
            after = above if rising else ~above
            hi, lo = np.where(after, mid, hi), np.where(after, lo, mid)
        fine = 0.5 * (lo + hi)
        out["rise" if rising else "set"] = (
            np.array([x.timestamp() for x in ts.tt_jd(coarse).utc_datetime()]) if coarse.size else np.empty(0),
            np.array([x.timestamp() for x in ts.tt_jd(fine).utc_datetime()]) if fine.size else np.empty(0),
        )
    return out, diff


@pytest.mark.parametrize("convention", ["builtin_ut1", "ut1_equals_utc"])
def test_rise_set_against_skyfield(sats, report, convention):
    ts = (skyfield_api.load.timescale(builtin=True) if convention == "builtin_ut1"
          else skyfield_api.load.timescale(delta_t=69.184))
    p = report.passes
    n_events, worst_coarse, worst_fine = 0, 0.0, 0.0
    for name, lat, lon, alt in SITES:
        for k in SAT_SUBSET:
            sky, _ = _skyfield_events(sats, ts, name, lat, lon, alt, k)
            mine = (p.site.values == name) & (p.sat.values == sats.name[k])
            ours = {"rise": _unix_s(p.rise_utc.values[mine & ~p.open_at_start.values]),
                    "set": _unix_s(p.set_utc.values[mine & ~p.open_at_end.values])}
            for kind in ("rise", "set"):
                coarse, fine = sky[kind]
                assert coarse.size == ours[kind].size, (name, sats.name[k], kind)  # same passes
                if coarse.size:
                    worst_coarse = max(worst_coarse, np.max(np.abs(coarse - ours[kind])))
                    worst_fine = max(worst_fine, np.max(np.abs(fine - ours[kind])))
                    n_events += coarse.size
    assert n_events >= 30
    assert worst_coarse < 0.6  # find_events' own 0.5 s resolution
    # Same geometry (UT1 = UTC): sub-millisecond; Skyfield's UT1 (UT1 - UTC = +0.09 s): still within 0.1 s.
    assert worst_fine < (0.1 if convention == "builtin_ut1" else 0.002), worst_fine


def test_peaks_and_azimuths_against_skyfield(sats, report):
    ts = skyfield_api.load.timescale(delta_t=69.184)
    p = report.passes
    lines = TLE.read_text().splitlines()
    checked = 0
    for name, lat, lon, alt in SITES:
        topos = skyfield_api.wgs84.latlon(lat, lon, alt)
        for k in SAT_SUBSET:
            mine = np.flatnonzero((p.site.values == name) & (p.sat.values == sats.name[k]))
            if mine.size == 0:
                continue
            sat = skyfield_api.EarthSatellite(lines[3 * k + 1], lines[3 * k + 2], "", ts)
            diff = sat - topos

            def altaz(col):
                t = ts.utc(*_utc_parts(p[col].values[mine]))
                a, z, _ = diff.at(t).altaz()
                return a.degrees, z.degrees

            alt_max, _ = altaz("max_elevation_utc")
            np.testing.assert_allclose(p.max_elevation_deg.values[mine], alt_max, atol=1e-4)
            # The reported time is the maximum: 1 s either side is lower (Skyfield's geometry).
            for shift in (-1.0, 1.0):
                t = ts.utc(*_utc_parts(p.max_elevation_utc.values[mine] + np.timedelta64(int(shift * 1e9), "ns")))
                assert np.all(diff.at(t).altaz()[0].degrees <= alt_max + 1e-9)
            for col, az_col in (("rise_utc", "rise_azimuth_deg"), ("set_utc", "set_azimuth_deg")):
                a, z = altaz(col)
                np.testing.assert_allclose(a, MASK_DEG, atol=1e-3)  # at the mask
                dz = (p[az_col].values[mine] - z + 180.0) % 360.0 - 180.0
                assert np.max(np.abs(dz)) < 1e-3
            checked += mine.size
    assert checked >= 8


def _utc_parts(values):
    ns = np.asarray(values, "datetime64[ns]")
    days = ns.astype("datetime64[D]")
    sec = (ns - days).astype(np.int64) / 1e9
    ymd = days.astype(object)
    return ([d.year for d in ymd], [d.month for d in ymd], [d.day for d in ymd], 0, 0, sec)


def _site_vectors(lat, lon, alt_m):
    """WGS84 site position (km) and ellipsoid normal, written out independently of orbitjax."""
    phi, lam = np.radians(lat), np.radians(lon)
    a, f = 6378.137, 1 / 298.257223563
    e2 = f * (2 - f)
    c = a / np.sqrt(1 - e2 * np.sin(phi) ** 2)
    h = alt_m / 1000.0
    r0 = np.array([(c + h) * np.cos(phi) * np.cos(lam), (c + h) * np.cos(phi) * np.sin(lam),
                   (c * (1 - e2) + h) * np.sin(phi)])
    up = np.array([np.cos(phi) * np.cos(lam), np.cos(phi) * np.sin(lam), np.sin(phi)])
    return r0, up


def _ecef_python_sgp4(sat_indices, times):
    """(sat, time, 3) Earth-fixed km from python-sgp4 (C++), rotated by GMST IAU-82 with UT1 = UTC (numpy)."""
    from sgp4.api import Satrec, SatrecArray

    from orbitjax.kernels.frames import gmst82
    from orbitjax.timescales import jd2_from_datetime64

    lines = TLE.read_text().splitlines()
    sats = SatrecArray([Satrec.twoline2rv(lines[3 * k + 1], lines[3 * k + 2]) for k in sat_indices])
    jd, fr = jd2_from_datetime64(times)
    err, r, _ = sats.sgp4(jd, fr)
    assert not err.any()
    g = gmst82(jd, fr)
    c, s = np.cos(g), np.sin(g)
    return np.stack([c * r[..., 0] + s * r[..., 1], -s * r[..., 0] + c * r[..., 1], r[..., 2]], -1)


def _elevation_deg(r, lat, lon, alt_m):
    r0, up = _site_vectors(lat, lon, alt_m)
    rho = r - r0
    return np.degrees(np.arcsin(rho @ up / np.linalg.norm(rho, axis=-1)))


def _dense_elevation(sat_indices, step_s=1.0):
    """Times and (site, sat, time) elevation (deg) sampled every ``step_s`` over the window."""
    times = np.datetime64(START[:-1], "ns") + (np.arange(0, 6 * 3600 + 1, step_s) * 1e9).astype("timedelta64[ns]")
    r = _ecef_python_sgp4(sat_indices, times)
    return times, np.stack([_elevation_deg(r, lat, lon, alt) for _, lat, lon, alt in SITES])


def test_brute_force_dense_sampling(sats, report):
    """A 1 s sampled reference (python-sgp4) finds the same passes, each edge within 1 s; the mask holds at the events."""
    idx = np.arange(0, 72, 4)
    times, el = _dense_elevation(idx)
    vis = el >= MASK_DEG
    t = _unix_s(times)
    p = report.passes
    n_checked = 0
    for i, (name, lat, lon, alt) in enumerate(SITES):
        for j, k in enumerate(idx):
            v = vis[i, j]
            up = np.flatnonzero(~v[:-1] & v[1:]) + 1  # first visible sample
            down = np.flatnonzero(v[:-1] & ~v[1:])  # last visible sample
            mine = (p.site.values == name) & (p.sat.values == sats.name[k])
            rise = p.rise_utc.values[mine & ~p.open_at_start.values]
            sett = p.set_utc.values[mine & ~p.open_at_end.values]
            assert rise.size == up.size and sett.size == down.size, (name, sats.name[k])
            assert np.all((_unix_s(rise) <= t[up]) & (_unix_s(rise) > t[up] - 1.0))
            assert np.all((_unix_s(sett) >= t[down]) & (_unix_s(sett) < t[down] + 1.0))
            assert np.sum(mine & p.open_at_start.values) == int(v[0])
            assert np.sum(mine & p.open_at_end.values) == int(v[-1])
            # Elevation at the found events equals the mask (python-sgp4 at exactly those times).
            events = np.concatenate([rise, sett])
            if events.size:
                r = _ecef_python_sgp4([k], events)[0]
                np.testing.assert_allclose(_elevation_deg(r, lat, lon, alt), MASK_DEG, atol=1e-5)
                n_checked += events.size
    assert n_checked >= 50


def test_passes_shorter_than_a_step_are_found(sats, report):
    """At a 5 min step most 35 deg passes (1-4 min) fall between samples: same passes, same times."""
    coarse = access(sats, (START, DURATION), SITES, min_elevation_deg=MASK_DEG, step_s=300.0)
    a, b = report.passes, coarse.passes
    assert a.sizes["pass"] == b.sizes["pass"] and np.all(a.sat.values == b.sat.values)
    assert np.all(a.site.values == b.site.values)
    for col in ("rise_utc", "set_utc", "max_elevation_utc"):
        assert np.max(np.abs(_unix_s(a[col].values) - _unix_s(b[col].values))) < (1e-3 if col != "max_elevation_utc" else 0.05)
    np.testing.assert_allclose(a.max_elevation_deg.values, b.max_elevation_deg.values, atol=1e-6)
    assert np.sum(a.duration_s.values < 300.0) > 50  # the check is not vacuous


def test_open_passes_at_window_edges(sats, report):
    p = report.passes
    i = int(np.argmax(p.duration_s.values * ~p.open_at_start.values * ~p.open_at_end.values))
    mid = p.rise_utc.values[i] + (p.set_utc.values[i] - p.rise_utc.values[i]) // 2
    late = access(sats, (mid, DURATION), SITES, min_elevation_deg=MASK_DEG).passes
    first = (late.site.values == p.site.values[i]) & (late.sat.values == p.sat.values[i])
    j = np.flatnonzero(first)[0]
    assert bool(late.open_at_start.values[j]) and late.rise_utc.values[j] == mid
    assert abs(_unix_s(late.set_utc.values[j]) - _unix_s(p.set_utc.values[i])) < 1e-3
    # Every pass open at the start begins at the window start and every pass open at the end ends there.
    assert np.all(late.rise_utc.values[late.open_at_start.values] == mid)
    end = mid + np.timedelta64(6 * 3600, "s")
    assert np.all(late.set_utc.values[late.open_at_end.values] == end)
    assert np.all(late.duration_s.values >= 0)


def test_interval_figures_closed_forms():
    d = 100.0
    # site 0: [10, 30] U [20, 40] U [70, 80]; site 1: never; site 2: whole window; site 3: [0, 50]
    f = interval_figures([0, 0, 0, 2, 3], [10, 20, 70, 0, 0], [30, 40, 80, 100, 50], 4, d)
    np.testing.assert_allclose(f["percent_time_covered"], [40.0, 0.0, 100.0, 50.0])
    np.testing.assert_array_equal(f["gap_count"], [3, 1, 0, 1])
    np.testing.assert_allclose(f["max_gap_s"], [30.0, 100.0, 0.0, 50.0])
    np.testing.assert_allclose(f["mean_gap_s"], [20.0, 100.0, np.nan, 50.0])
    np.testing.assert_allclose(f["time_to_first_coverage_s"], [10.0, np.nan, 0.0, 0.0])
    np.testing.assert_allclose(f["mean_response_time_s"], [(100 + 900 + 400) / 200, 50.0, 0.0, 12.5])
    np.testing.assert_allclose(f["longest_coverage_s"], [30.0, 0.0, 100.0, 50.0])


def test_site_figures_match_dense_union(sats, report):
    _, el = _dense_elevation(np.arange(72), step_s=5.0)
    covered = (el >= MASK_DEG).any(axis=1)  # (site, time)
    np.testing.assert_allclose(report.sites.percent_time_covered.values, 100 * covered.mean(axis=1), atol=0.2)
    assert np.all(report.sites.n_passes.values == report.sites.pass_count.values.sum(axis=1))


def test_netcdf_and_csv_round_trip(report, tmp_path):
    import csv

    nc = report.to_netcdf(tmp_path / "sites.nc")
    with orbitjax.open_netcdf(nc) as back:
        assert back.sizes["site"] == len(SITES)
        np.testing.assert_allclose(back.percent_time_covered.values, report.sites.percent_time_covered.values)
    path = report.to_csv(tmp_path / "a.csv")
    rows = list(csv.DictReader(path.open()))
    assert len(rows) == len(report) and tuple(rows[0]) == PASS_COLUMNS
    assert set(rows[0]) >= {"site", "sat", "rise_utc", "set_utc", "duration_s", "max_elevation_deg",
                            "max_elevation_utc", "rise_azimuth_deg", "set_azimuth_deg", "open_at_start", "open_at_end"}
    assert not list(tmp_path.glob(".*.tmp"))


def test_cli_access(tmp_path, capsys):
    sites = tmp_path / "sites.csv"
    sites.write_text("name,lat,lon,alt_m\n" + "\n".join(f"{n},{a},{o},{h}" for n, a, o, h in SITES) + "\n")
    out = tmp_path / "out" / "access.csv"
    rc = main(["access", "--tle", str(TLE), "--sites", str(sites), "--start", START, "--duration", DURATION,
               "--min-elevation", str(MASK_DEG), "--out", str(out)])
    assert rc == 0
    assert out.is_file() and (tmp_path / "out" / "access_sites.nc").is_file()
    assert "Svalbard" in capsys.readouterr().out
    # User errors: one line, exit 2, nothing written.
    bad = tmp_path / "bad.csv"
    bad.write_text("Oslo,91,10\n")
    for argv, match in (
        (["--sites", str(bad)], "bad.csv, line 1: latitude 91.0 is outside"),
        (["--sites", str(tmp_path / "none.csv")], "no such sites file"),
        (["--sites", str(sites), "--duration=-1h"], "must be positive"),
        (["--sites", str(sites), "--min-elevation", "95"], "must lie in"),
    ):
        target = tmp_path / "err" / "a.csv"
        args = ["access", "--tle", str(TLE), "--out", str(target)] + argv
        if "--min-elevation" not in argv:
            args += ["--min-elevation", "35"]
        assert main(args) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("orbitjax: error:") and match in err and "\n" not in err
        assert not (tmp_path / "err").exists()
    assert main(["access", "--tle", str(TLE), "--sites", str(sites), "--out", str(tmp_path / "x.csv")]) == 2
    assert "--min-elevation is required" in capsys.readouterr().err
