"""The command line end to end: files written, summary printed, user errors on one line."""

import subprocess
import sys
import textwrap

import numpy as np
import pytest
import xarray as xr

from conftest import TINY_SCENARIO
from orbitjax.cli import main

TINY = TINY_SCENARIO


@pytest.fixture()
def tiny(tmp_path):
    p = tmp_path / "tiny.toml"
    p.write_text(textwrap.dedent(TINY))
    return p


@pytest.mark.slow
def test_default_scenario_end_to_end_subprocess(tmp_path):
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, "-m", "orbitjax", "run", "--duration", "10min", "--resolution", "5", "--out", str(out), "--quiet"],
        capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    files = sorted(p.name for p in out.glob("*.nc"))
    assert sorted(p.name for p in out.iterdir()) == files + ["orbitjax_run.json"]  # no lock, no temporaries
    assert files == [
        "kuiper_falcon9_stage1_KF-01.nc",
        "kuiper_falcon9_stage2_KF-02.nc",
        "kuiper_falcon9_stage3_KF-03.nc",
        "kuiper_falcon9_stage4_full.nc",
    ]
    assert "KF-03" in proc.stdout and "full" in proc.stdout and "3236" in proc.stdout
    with xr.open_dataset(out / files[-1]) as ds:
        assert ds.sizes["time"] == 10 and ds.sizes["sat"] == 3236
        assert ds.attrs["stage"] == 4 and ds.attrs["launches_included"] == "KF-01,KF-02,KF-03"
        assert ds.visible_count.dims == ("time", "lat", "lon")


def test_run_small_scenario_writes_stages_and_summary(tiny, tmp_path, capsys):
    out = tmp_path / "o"
    assert main(["run", str(tiny), "--out", str(out), "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "L1" in printed and "full" in printed
    names = sorted(p.name for p in out.glob("*.nc"))
    assert names == ["tiny_stage1_L1.nc", "tiny_stage2_full.nc"]
    with xr.open_dataset(out / names[0]) as ds:
        assert ds.sizes == {"time": 10, "lat": 36, "lon": 72, "sat": 3, "xyz": 3, "n_assets": 4}
        assert float(ds.coverage_fraction.min()) > 0


def test_overrides_and_sweep(tiny, tmp_path):
    out = tmp_path / "o"
    assert main(["run", str(tiny), "--out", str(out), "--quiet", "--duration", "6min", "--step", "60",
                 "--resolution", "10", "--elevation-sweep", "10,35,60", "--no-save-raster",
                 "--timing", "sampled"]) == 0  # the options; the event-timed sweep: test_coverage_figures
    with xr.open_dataset(out / "tiny_stage1_L1.nc") as ds:
        assert ds.sizes["time"] == 6 and ds.sizes["lat"] == 18
        assert list(ds.min_elevation.values) == [10.0, 35.0, 60.0]
        assert "visible_count" not in ds
        ptc = ds.percent_time_covered.values
        assert np.all(np.diff(ptc, axis=0) <= 0)  # a higher mask never covers more


@pytest.mark.parametrize(
    "args, message",
    [
        (["run", "missing.toml"], "no such file"),
        (["run", "no_such_scenario"], "no scenario named"),
        (["run", "{tiny}", "--duration=-2h"], "must be positive"),
        (["run", "{tiny}", "--duration", "2 weeks"], "unknown unit"),
        (["run", "{tiny}", "--step", "0"], "step_s"),
        (["run", "{tiny}", "--resolution", "7"], "must divide 180"),
        (["run", "{tiny}", "--start", "tomorrow"], "not a UTC date-time"),
        (["run", "{tiny}", "--tle", "nope.tle"], "no such file"),
        (["run", "{tiny}", "--elevation-sweep", "10,abc"], "expected numbers"),
        (["run", "{tiny}", "--elevation-sweep", "10,95"], "[0, 90)"),
        (["run", "{bad_key}"], "unknown key 'speed'"),
        (["run", "{bad_inc}"], "outside [0, 180]"),
        (["compare", "{empty}"], ""),
        (["export-tle", "{tiny}", "--stage", "9"], "stages 1..2"),
        (["run", "{tiny}", "--min-elevation", "10"], "apply to --tle"),
        (["run", "{tiny}", "--start", "2300-01-01T00:00"], "outside the supported range"),
    ],
)
def test_bad_input_one_line_no_traceback_nothing_written(args, message, tiny, tmp_path, capsys):
    bad_key = tmp_path / "bad_key.toml"
    bad_key.write_text(textwrap.dedent(TINY).replace("step_s = 120", "step_s = 120\nspeed = 3"))
    bad_inc = tmp_path / "bad_inc.toml"
    bad_inc.write_text(textwrap.dedent(TINY).replace("inclination_deg = 51.9", "inclination_deg = -3"))
    empty = tmp_path / "empty"
    empty.mkdir()
    out = tmp_path / "out"
    args = [a.format(tiny=tiny, bad_key=bad_key, bad_inc=bad_inc, empty=empty) for a in args]
    if args[0] == "run":
        args += ["--out", str(out), "--quiet"]
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("orbitjax: error: "), err
    assert message in err[0]
    assert "Traceback" not in err[0]
    assert not out.exists() or not any(out.iterdir())


def test_usage_errors_are_one_line(capsys):
    with pytest.raises(SystemExit) as info:
        main(["run", "--duration"])
    assert info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "expected one argument" in err[0]


def test_bad_input_exit_code_from_shell(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "orbitjax", "run", str(tmp_path / "x.toml")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr


def test_help_documents_commands_and_options(capsys):
    with pytest.raises(SystemExit) as info:
        main(["run", "--help"])
    assert info.value.code == 0
    text = capsys.readouterr().out
    for option in ("--out", "--start", "--duration", "--step", "--resolution", "--tle", "--stage-by",
                   "--elevation-sweep", "--save-raster", "--chunk-steps"):
        assert option in text
    with pytest.raises(SystemExit):
        main(["--help"])
    top = capsys.readouterr().out
    for command in ("run", "compare", "export-tle", "scenarios"):
        assert command in top


def test_export_tle_round_trips_through_python_sgp4(tiny, tmp_path):
    from sgp4.api import Satrec

    path = tmp_path / "tiny.tle"
    assert main(["export-tle", str(tiny), "--stage", "1", "--out", str(path)]) == 0
    lines = path.read_text().splitlines()
    assert len(lines) == 9
    for i in range(0, 9, 3):
        sat = Satrec.twoline2rv(lines[i + 1], lines[i + 2])
        # SGP4 recovers the shell's semi-major axis from the Kozai mean motion.
        assert abs(sat.a * sat.radiusearthkm - (6378.137 + 630.0)) < 0.05  # 50 m: 8-decimal rev/day rounding
        assert abs(np.degrees(sat.inclo) - 51.9) < 1e-4


def test_compare_on_a_real_run(tiny, tmp_path, capsys):
    out = tmp_path / "o"
    assert main(["run", str(tiny), "--out", str(out), "--quiet"]) == 0
    capsys.readouterr()
    assert main(["compare", str(out)]) == 0
    table = capsys.readouterr().out
    assert "L1" in table and "full" in table
    assert (out / "compare.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.slow
def test_run_from_tle_stages_by_launch(tmp_path, capsys):
    from orbitjax.scenario import bundled_data_dir

    out = tmp_path / "o"
    tle = bundled_data_dir() / "kuiper_falcon9_synthetic.tle"
    assert main(["run", "--tle", str(tle), "--stage-by", "launch", "--duration", "10min", "--resolution", "5",
                 "--out", str(out), "--quiet", "--timing", "sampled"]) == 0  # staging, not timing, is tested here
    assert sorted(p.name for p in out.glob("*.nc")) == [
        "kuiper_falcon9_stage1_2025-901.nc", "kuiper_falcon9_stage2_2025-902.nc", "kuiper_falcon9_stage3_2025-903.nc"]
    with xr.open_dataset(out / "kuiper_falcon9_stage3_2025-903.nc") as ds:
        assert ds.sizes["sat"] == 72 and "SGP4" in ds.attrs["propagation_model"]
        assert ds.attrs["failed_satellite_steps"] == 0
    # Catalogue stages are compared in launch (index) order, whatever the TLE epochs say.
    from orbitjax.compare import open_stages

    assert list(open_stages(out).n_satellites.values) == [24, 48, 72]


def test_bad_tle_file_is_one_line(tmp_path, capsys):
    from orbitjax.scenario import bundled_data_dir

    lines = (bundled_data_dir() / "kuiper_falcon9_synthetic.tle").read_text().splitlines()
    lines[1] = lines[1][:-1] + str((int(lines[1][-1]) + 1) % 10)  # break the checksum
    bad = tmp_path / "bad.tle"
    bad.write_text("\n".join(lines) + "\n")
    out = tmp_path / "o"
    assert main(["run", "--tle", str(bad), "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "bad.tle line 2" in err[0] and "checksum" in err[0]
    assert "kuiper_falcon9.toml" not in err[0]  # the default scenario is not what the user got wrong
    assert not out.exists()


def test_output_directory_defaults_to_the_scenarios(tiny, tmp_path, monkeypatch, capsys):
    text = tiny.read_text() + '\n[output]\ndirectory = "from_file"\n'
    tiny.write_text(text)
    monkeypatch.chdir(tmp_path)
    assert main(["run", str(tiny), "--quiet"]) == 0
    assert sorted(p.name for p in (tmp_path / "from_file").glob("*.nc")) == ["tiny_stage1_L1.nc", "tiny_stage2_full.nc"]


def test_export_tle_full_stage_has_valid_placeholder_designators(tmp_path):
    # Issue 7 item 3: the full-constellation stage used to get blank international designators.
    from orbitjax.catalog import group_by_launch
    from orbitjax.io.tle import read_tle

    path = tmp_path / "full.tle"
    assert main(["export-tle", "kuiper_falcon9", "--out", str(path)]) == 0  # default: the last (full) stage
    lines = path.read_text().splitlines()
    line1 = lines[1::3]
    assert len(line1) == 3236
    assert all(line[9:14].isdigit() and line[14:17].strip().isalpha() for line in line1)  # cols 10-17: YYNNNPPP
    sats = read_tle(path)  # the reader checks 'YYNNNPPP'
    groups = group_by_launch(sats)
    # One placeholder launch per shell, numbered after the scenario's three launches (901-903).
    assert [(g, len(i)) for g, i in groups] == [("2025-904", 1156), ("2025-905", 1296), ("2025-906", 784)]
    assert len(set(sats.intl_designator)) == 3236


def test_placeholder_designators_split_long_groups():
    from orbitjax.export import MAX_PIECES, placeholder_designators

    d = placeholder_designators(["a"] * (MAX_PIECES + 2), 2030, first_launch_number=998)
    assert d[0] == "2030-998A" and d[MAX_PIECES - 1] == "2030-998ZZZ" and d[MAX_PIECES] == "2030-999A"
    with pytest.raises(ValueError, match="placeholder launches"):
        placeholder_designators(["a", "b", "c"], 2030, first_launch_number=998)
