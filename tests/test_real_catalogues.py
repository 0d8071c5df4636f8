"""Real catalogues (issue 7, item 8): real Kuiper staged by COSPAR launch, real objects propagate like python-sgp4.

Data: ``data/kuiper_celestrak_2025-10-27.tle`` (bundled, data/README.md) and, in
``tests/data`` (tests/data/README.md), the real OneWeb catalogue and every 20th
object of the real Starlink catalogue of 2026-05-30, bytes unchanged.
"""

from pathlib import Path

import numpy as np
import pytest

from orbitjax.io.tle import read_tle
from orbitjax.propagation import propagate_arrays
from orbitjax.scenario import bundled_data_dir, load_scenario

sgp4_api = pytest.importorskip("sgp4.api")

DATA = Path(__file__).resolve().parent / "data"
KUIPER = bundled_data_dir() / "kuiper_celestrak_2025-10-27.tle"
LAUNCH_ORDER = ["2025-088", "2025-134", "2025-151", "2025-171", "2025-217", "2025-228"]


def test_kuiper_snapshot_is_bundled_unchanged():
    text = KUIPER.read_bytes()
    assert text.count(b"\r\n") == 3 * 153 and text.startswith(b"KUIPER-00008")
    assert len(read_tle(KUIPER)) == 153


def test_tle_run_stages_real_kuiper_by_cospar_launch_in_launch_order():
    # What `orbitjax run --tle data/kuiper_celestrak_2025-10-27.tle --stage-by launch --min-elevation 35` builds.
    scenario = load_scenario("kuiper_falcon9").with_catalog(KUIPER, stage_by="launch", min_elevation_deg=35)
    stages = scenario.stages()
    assert [s.name for s in stages] == LAUNCH_ORDER
    assert [len(s.satellites) for s in stages] == [27, 54, 78, 102, 129, 153]
    assert stages[-1].launches == tuple(LAUNCH_ORDER)
    # The designator gives the year only: 1 January of it (README, data/README.md).
    assert {str(s.date)[:10] for s in stages} == {"2025-01-01"}
    for s in stages:
        launches = {d[:8] for d in s.satellites.intl_designator}
        assert launches == set(LAUNCH_ORDER[: s.index])


def test_bundled_real_scenario_names_and_dates_launches():
    scenario = load_scenario("kuiper_real_2025")
    stages = scenario.stages()
    assert [s.name for s in stages] == ["KA-01", "KA-02", "KF-01", "KF-02", "KA-03", "KF-03"]
    dates = [str(s.date)[:10] for s in stages]
    assert dates == ["2025-04-28", "2025-06-23", "2025-07-16", "2025-08-11", "2025-09-25", "2025-10-14"]
    assert dates == sorted(dates)
    assert scenario.catalog_coverage_kwargs() == {"min_elevation_deg": 35.0}
    epochs = stages[-1].satellites.epoch
    assert epochs.max() < scenario.analysis.start  # the window starts after the snapshot


def test_bundled_real_scenario_runs():
    # The first stage only (one compilation); the other stages differ only in their satellites.
    from orbitjax.stages import stage_datasets

    scenario = load_scenario("kuiper_real_2025").with_analysis(duration_s=120.0, step_s=60.0, resolution_deg=15.0)
    stage, ds = next(iter(stage_datasets(scenario, save_raster=False, progress=False)))
    assert stage.name == "KA-01" and ds.sizes["sat"] == 27 and int(ds.stage) == 1
    assert ds.attrs["stage_date"] == "2025-04-28T00:00:00Z" and ds.attrs["failed_satellite_steps"] == 0
    assert "SGP4" in ds.attrs["propagation_model"]
    assert 0.0 < float(ds.coverage_fraction.mean()) < 0.2


def _satrecs(path):
    lines = path.read_text().splitlines()
    return [sgp4_api.Satrec.twoline2rv(lines[i + 1], lines[i + 2]) for i in range(0, len(lines), 3)]


def test_every_real_object_propagates_like_python_sgp4():
    # Real OneWeb (651) and Starlink (every 20th of 10,395) objects in one call: one compilation.
    from orbitjax.catalog import concat_satellites

    paths = [DATA / "oneweb_celestrak_2026-05-30.tle", DATA / "starlink_celestrak_2026-05-30_every20th.tle"]
    sats = concat_satellites([read_tle(p) for p in paths])
    assert len(sats) == 651 + 520
    times = np.datetime64("2026-05-30T18:00:00", "ns") + np.array([-36, 0, 3, 12, 24], "timedelta64[h]")
    r, v, e = propagate_arrays(sats, times)
    # python-sgp4 on its own parse of the same lines, at the same UTC instants (two-part Julian dates).
    days = (times - np.datetime64("2000-01-01T12:00:00", "ns")).astype(np.int64) / 86400e9
    jd = 2451545.0 + np.floor(days)
    fr = days - np.floor(days)
    satrecs = [s for p in paths for s in _satrecs(p)]
    e_ref, r_ref, v_ref = sgp4_api.SatrecArray(satrecs).sgp4(jd, fr)
    np.testing.assert_array_equal(e, e_ref)
    assert np.all(e == 0), f"{int((e != 0).sum())} failed states"
    metre = 1e-3  # km
    assert np.abs(r - r_ref).max() < 1 * metre
    assert np.abs(v - v_ref).max() < 1e-6  # km/s (1 mm/s)
