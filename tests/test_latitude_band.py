"""Global runs compute only the latitude band the footprints can reach (analysis._reach_band).

The rows outside the band are filled with the figures of a cell that never sees a
satellite; the result must equal the run over every row, value for value (the
per-time area-weighted coverage fraction to the last bit or two). The band
rests on two bounds checked here against independent computations: a satellite's
geocentric latitude never exceeds its inclination (SGP4 within the 0.5 deg allowed,
propagated with python-sgp4), and footprints reach no further than
``footprint_lat_span`` (the band-vs-globe equality on a scene whose reach is 1 deg
inside the band's edge).
"""

from __future__ import annotations

import numpy as np
import pytest
from sgp4.api import Satrec, SatrecArray

import orbitjax as oj
import orbitjax.analysis as analysis
from orbitjax.analysis import _plan, _reach_band
from orbitjax.kernels.grid import make_grid
from orbitjax.propagation import max_radius_km
from orbitjax.scenario import bundled_data_dir

TIMES = np.arange(np.datetime64("2025-01-01T00:00"), np.datetime64("2025-01-01T01:00"), np.timedelta64(60, "s"))


def _shell(inclination_deg, altitude_km=630.0, mask_deg=35.0):
    return oj.walker(altitude_km=altitude_km, inclination_deg=inclination_deg, planes=2, sats_per_plane=6,
                     phasing=1, min_elevation_deg=mask_deg, epoch="2025-01-01")


def test_band_run_equals_the_run_over_every_row(monkeypatch):
    # Event timing: its lists, passes and timed figures see the band's cells; the sampled counts
    # and figures come from the same raster and states (and the sampled path shares _to_globe).
    timing = "exact"
    shell = _shell(51.9)
    plan = _plan(shell, TIMES, resolution_deg=2.0, timing=timing)
    assert plan.grid.box == (-60.0, 60.0, -180.0, 180.0) and plan.band_rows == (15, 75)
    band = oj.coverage(shell, TIMES, resolution_deg=2.0, timing=timing, progress=False)
    monkeypatch.setattr(analysis, "MAX_BAND_DEG", 0.0)  # every band too wide: the globe
    assert _plan(shell, TIMES, resolution_deg=2.0, timing=timing).band_rows is None
    globe = oj.coverage(shell, TIMES, resolution_deg=2.0, timing=timing, progress=False)
    assert band.sizes == globe.sizes
    for name, var in globe.data_vars.items():
        if name == "coverage_fraction":
            # An area-weighted sum over the band's 60 rows against the globe's 90 (30 of them 0):
            # the dot product may group its terms differently, so the last bit may differ (it did
            # once in a CI run, 6.9e-18 on 0.042).
            np.testing.assert_allclose(band[name].values, var.values, rtol=4e-16, atol=0, err_msg=name)
        elif var.dtype.kind in "fiub":
            np.testing.assert_array_equal(band[name].values, var.values, err_msg=name)
    # Coverage reaches the band's last rows (the test would not notice a band cut too tight otherwise).
    covered = np.nonzero((globe.percent_time_covered > 0).any("lon").values)[0]
    assert globe.lat.values[covered].max() > 55.0


def test_reach_band_follows_inclination_footprint_and_orbit_type():
    grid = make_grid(1.0)
    shell = _shell(51.9)
    R_MAX = max_radius_km(shell)  # noqa: N806 (every shell here flies at 630 km)
    assert _reach_band(shell, False, R_MAX, 35.0, grid, 6371.0088) == 60.0
    # Retrograde: the latitude bound is 180 - i.
    assert _reach_band(_shell(180.0 - 51.9), False, R_MAX, 35.0, grid, 6371.0088) == 60.0
    # A lower mask widens the footprint past the next 5 deg step; polar orbits and deep space: the globe.
    assert _reach_band(shell, False, R_MAX, 10.0, grid, 6371.0088) == 70.0
    assert _reach_band(_shell(97.6), False, R_MAX, 35.0, grid, 6371.0088) is None
    assert _reach_band(shell, True, R_MAX, 35.0, grid, 6371.0088) is None


def test_sgp4_latitudes_stay_within_the_inclination_and_its_slack():
    """The real Kuiper catalogue over a day, by python-sgp4: |latitude| <= min(i, 180 - i) + 0.1 deg."""
    lines = (bundled_data_dir() / "kuiper_celestrak_2025-10-27.tle").read_text().splitlines()
    sats = [Satrec.twoline2rv(a, b) for a, b in zip(lines, lines[1:]) if a.startswith("1 ") and b.startswith("2 ")]
    assert len(sats) == 153
    jd = 2460975.5 + np.arange(0.0, 1.0, 30.0 / 86400.0)
    err, r, _ = SatrecArray(sats).sgp4(jd, np.zeros_like(jd))
    lat = np.degrees(np.arcsin(r[..., 2] / np.linalg.norm(r, axis=-1)))  # TEME's z is the Earth's axis
    inc = np.degrees([s.inclo for s in sats])
    excess = np.where(err == 0, np.abs(lat) - np.minimum(inc, 180.0 - inc)[:, None], -np.inf)
    assert (err == 0).mean() > 0.99
    assert excess.max() < 0.1  # _reach_band allows 0.5 deg
