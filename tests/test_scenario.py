"""Scenario files: the bundled default, stage construction and one-line errors for bad files."""

import textwrap

import numpy as np
import pytest

import orbitjax
from conftest import TINY_SCENARIO
from orbitjax.io.scenario_file import ScenarioFileError
from orbitjax.scenario import bundled_data_dir, bundled_scenarios, load_preset, load_scenario

MINIMAL = TINY_SCENARIO


def write(tmp_path, text, name="s.toml"):
    p = tmp_path / name
    p.write_text(textwrap.dedent(text))
    return p


def test_default_scenario_has_three_launches_and_reference_stage():
    sc = load_scenario()
    stages = sc.stages()
    assert [s.name for s in stages] == ["KF-01", "KF-02", "KF-03", "full"]
    assert [len(s.satellites) for s in stages] == [24, 48, 72, 3236]
    # Each Falcon 9 launch fills one 630 km / 51.9 deg plane.
    for st in stages[:3]:
        sats = st.satellites
        assert np.allclose(sats.altitude_km, 630.0) and np.allclose(sats.inc_deg, 51.9)
        assert np.allclose(sats.min_elevation_deg, 35.0)
    assert stages[-1].launches == ("KF-01", "KF-02", "KF-03")
    full = stages[-1].satellites
    shells = {s: int(np.sum(full.shell == s)) for s in ("K630", "K610", "K590")}
    assert shells == {"K630": 34 * 34, "K610": 36 * 36, "K590": 28 * 28}
    assert sc.analysis.times.size == 1440


def test_bundled_names_and_presets():
    assert "kuiper_falcon9" in bundled_scenarios()
    sizes = {name: len(load_preset(name)) for name in ("kuiper_2020", "starlink_gen1", "oneweb_phase1", "telesat_lightspeed")}
    assert sizes == {"kuiper_2020": 3236, "starlink_gen1": 4408, "oneweb_phase1": 720, "telesat_lightspeed": 298}
    assert (bundled_data_dir() / "README.md").exists()


def test_launch_plane_drifts_with_launch_time():
    """Launches 26 days apart from the same site land in different planes."""
    stages = load_scenario().stages()
    raan = [st.satellites.raan_deg[-1] for st in stages[:3]]
    assert len({round(r, 3) for r in raan}) == 3


def test_minimal_file_and_integer_plane(tmp_path):
    sc = load_scenario(write(tmp_path, MINIMAL))
    assert [len(s.satellites) for s in sc.stages()] == [3, 6]
    text = MINIMAL.replace('satellites = 3\n', 'satellites = 2\nplane = 1\n')
    st = load_scenario(write(tmp_path, text)).stages()[0].satellites
    assert list(st.plane) == [1, 1] and list(st.slot) == [0, 1]


@pytest.mark.parametrize(
    "old, new, message",
    [
        ('step_s = 120', 'step_s = 120\nfoo = 1', "unknown key 'foo'"),
        ('[scenario]', '[scenery]\nx=1\n[scenario]', "unknown scenario key 'scenery'"),
        ('duration = "20min"', 'duration = "-1d"', "must be positive"),
        ('duration = "20min"', 'duration = "10 fortnights"', "unknown unit"),
        ('inclination_deg = 51.9', 'inclination_deg = 200', "outside [0, 180]"),
        ('resolution_deg = 5.0', 'resolution_deg = 0.7', "must divide 180"),
        ('shell = "A"', 'shell = "B"', "shell 'B' is not defined"),
        ('site = "pad"', 'site = "moon"', "site 'moon' is not in [sites]"),
        ('planes = 2', 'planes = "two"', "wrong type"),
        ('start = 2025-10-15T00:00:00Z', 'start = "yesterday"', "not a UTC date-time"),
        ('lat_deg = 28.5', 'lat_deg = 60.0', "cannot reach inclination"),
        ('lat_deg = 28.5', 'lat_deg = 170.0', "outside [-90, 90]"),
        ('lat_deg = 28.5', 'lat_deg = nan', "outside [-90, 90]"),
        ('lon_deg = -80.6', 'lon_deg = inf', "not a finite number"),
        ('min_elevation_deg = 35', 'min_elevation_deg = 35\nraan0_deg = nan', "not a finite number"),
        ('date = 2025-10-01T00:00:00Z', 'date = 2026-10-01T00:00:00Z', "after the analysis start"),
        ('satellites = 3\n', 'satellites = 3\n[[launches]]\nname = "L1"\ndate = 2025-10-02T00:00:00Z\nshell = "A"\nsatellites = 1\nplane = 0\n', "used twice"),
        ('step_s = 120', 'step_s = 1e-6', "time steps; at most"),
        ('resolution_deg = 5.0', 'resolution_deg = 0.01', "finer than the supported"),
    ],
)
def test_bad_scenarios_raise_one_line(tmp_path, old, new, message):
    assert old in MINIMAL
    path = write(tmp_path, MINIMAL.replace(old, new))
    with pytest.raises(ValueError) as info:
        load_scenario(path).stages()
    text = str(info.value)
    assert message in text
    assert "\n" not in text


def test_missing_and_unreadable_files(tmp_path):
    with pytest.raises(ScenarioFileError, match="no scenario named"):
        load_scenario("no_such_scenario")
    with pytest.raises(ScenarioFileError, match="no such file"):
        load_scenario(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_bytes(b"\xff\xfe\x00 not toml")
    with pytest.raises(ScenarioFileError, match="bad.toml"):
        load_scenario(bad)
    (tmp_path / "dir.toml").mkdir()
    with pytest.raises(ScenarioFileError, match="is a directory"):
        load_scenario(tmp_path / "dir.toml")


def test_public_api_exports():
    for name in ("load_scenario", "coverage", "run", "read_tle", "read_omm", "walker", "Constellation"):
        assert hasattr(orbitjax, name)


def test_equatorial_site_into_equatorial_orbit_is_an_error(tmp_path):
    text = MINIMAL.replace("inclination_deg = 51.9", "inclination_deg = 0.0").replace("lat_deg = 28.5", "lat_deg = 0.0")
    with pytest.raises(ValueError, match="cannot reach inclination"):
        load_scenario(write(tmp_path, text)).stages()


def test_launches_into_one_plane_take_the_next_free_slots(tmp_path):
    two = MINIMAL.replace('satellites = 3\n', 'satellites = 2\nplane = 1\n') + (
        '[[launches]]\nname = "L2"\ndate = 2025-10-02T00:00:00Z\nshell = "A"\nsatellites = 1\nplane = 1\n')
    stage = load_scenario(write(tmp_path, two)).stages()[1].satellites
    assert list(stage.slot) == [0, 1, 2] and len(set(stage.name)) == 3
    full = two.replace('satellites = 1\nplane = 1', 'satellites = 2\nplane = 1')
    with pytest.raises(ValueError, match="do not fit plane 1"):
        load_scenario(write(tmp_path, full)).stages()


def test_output_directory_from_the_file(tmp_path):
    text = MINIMAL + '\n[output]\nprefix = "p"\ndirectory = "results"\n'
    sc = load_scenario(write(tmp_path, text))
    assert sc.output_dir == "results" and sc.output_prefix == "p"


def test_preset_file_loads_as_a_one_stage_scenario():
    from orbitjax.scenario import load_scenario

    sc = load_scenario("oneweb_phase1")
    stages = sc.stages()
    assert [s.name for s in stages] == ["full"] and len(stages[0].satellites) == 720
    assert sc.output_prefix == "oneweb_phase1"


def test_analysis_window_beyond_datetime64_ns_is_refused():
    import numpy as np
    import pytest

    from orbitjax.scenario import Analysis

    start = np.datetime64("2025-10-15T00:00:00", "ns")
    with pytest.raises(ValueError, match="2262-04-11"):
        Analysis(start=start, duration_s=109_575 * 86400.0, step_s=86400.0)
    Analysis(start=start, duration_s=200 * 365 * 86400.0, step_s=86400.0)  # 2225: fine


def test_catalog_launches_table_is_checked(tmp_path):
    import pytest

    from orbitjax.io.scenario_file import ScenarioFileError
    from orbitjax.scenario import bundled_data_dir, load_scenario

    text = (bundled_data_dir() / "kuiper_real_2025.toml").read_text()
    text = text.replace('file = "kuiper_celestrak_2025-10-27.tle"',
                        f'file = "{bundled_data_dir() / "kuiper_celestrak_2025-10-27.tle"}"')
    bad = tmp_path / "bad.toml"
    bad.write_text(text.replace('id = "2025-134"', 'id = "2025-13"'))
    with pytest.raises(ScenarioFileError, match=r"bad.toml: \[\[catalog.launches\]\] #2: id = '2025-13'"):
        load_scenario(bad)
    bad.write_text(text.replace('vehicle = "Atlas V"', 'rocket = "Atlas V"', 1))
    with pytest.raises(ScenarioFileError, match="unknown key 'rocket'"):
        load_scenario(bad)
