"""Hostile and unlucky input (issue 7, item 6): one clear line, no traceback, nothing left behind.

Each test names the fuzz category it pins: tracebacks turned into one-line errors,
silently wrong results turned into errors or warnings, fail-fast memory refusals,
leftovers and clashes in the output folder, late errors made early.
"""

import dataclasses
import json
import os
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import xarray as xr

from conftest import TINY_SCENARIO
from orbitjax.cli import main
from orbitjax.stages import run as orbitjax_run


@pytest.fixture()
def tiny(tmp_path):
    p = tmp_path / "tiny.toml"
    p.write_text(textwrap.dedent(TINY_SCENARIO))
    return p


def _one_error_line(capsys, *needles):
    err = capsys.readouterr().err.strip().splitlines()
    errors = [line for line in err if line.startswith("orbitjax: error: ")]
    assert len(errors) == 1 and "Traceback" not in "\n".join(err), err
    for needle in needles:
        assert needle in errors[0], errors[0]
    return errors[0]


def _no_work(monkeypatch):
    """Fail the test if any coverage is computed."""
    import orbitjax.analysis

    def boom(*args, **kwargs):
        raise AssertionError("coverage() was called although the run should have been refused first")

    monkeypatch.setattr(orbitjax.analysis, "coverage", boom)


# ---------------------------------------------------------------- tracebacks -> one line


def test_omm_norad_id_of_10_to_the_30_is_one_line(tmp_path, capsys):
    rec = json.loads((__import__("pathlib").Path(__file__).parent / "data" / "sample_omm.json").read_text())[0]
    rec["NORAD_CAT_ID"] = 10**30
    bad = tmp_path / "huge.json"
    bad.write_text(json.dumps([rec]))
    assert main(["run", "--tle", str(bad), "--min-elevation", "35", "--out", str(tmp_path / "o"), "--quiet"]) == 2
    _one_error_line(capsys, "huge.json", "NORAD_CAT_ID")
    assert not (tmp_path / "o").exists()


def test_netcdf_write_failure_names_the_file_and_leaves_no_temporary(tiny, tmp_path, monkeypatch, capsys):
    def hdf_error(self, path, *args, **kwargs):
        with open(path, "wb") as fh:
            fh.write(b"\x89HDF partial")
        raise RuntimeError("NetCDF: HDF error")

    monkeypatch.setattr(xr.Dataset, "to_netcdf", hdf_error)
    out = tmp_path / "o"
    assert main(["run", str(tiny), "--out", str(out), "--quiet", "--resolution", "15"]) == 2
    _one_error_line(capsys, "tiny_stage1_L1.nc", "cannot write NetCDF", "HDF error")
    assert not out.exists() or not [p for p in out.iterdir() if p.name != "orbitjax_run.json"]


def test_ctrl_c_during_a_stage_write_finishes_the_file_then_interrupts(tmp_path, monkeypatch):
    # Ctrl-C inside xarray's write once left its HDF5 file lock held: the interrupted run then
    # hung in the write's cleanup, waiting for that lock (seen with `orbitjax run`).
    from orbitjax.io.netcdf import write_netcdf

    previous = signal.signal(signal.SIGINT, signal.default_int_handler)  # Python's own, as in a shell
    write = xr.Dataset.to_netcdf
    progress = []

    def interrupted_write(self, *args, **kwargs):
        os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C in the middle of the write
        progress.append("after the interrupt")
        return write(self, *args, **kwargs)

    monkeypatch.setattr(xr.Dataset, "to_netcdf", interrupted_write)
    ds = xr.Dataset({"v": (("lat", "lon"), np.arange(6.0).reshape(2, 3))},
                    coords={"lat": [0.5, 1.5], "lon": [0.5, 1.5, 2.5]})
    path = tmp_path / "stage.nc"
    try:
        with pytest.raises(KeyboardInterrupt):
            write_netcdf(ds, path)
    finally:
        signal.signal(signal.SIGINT, previous)
    assert progress == ["after the interrupt"]  # the write went on
    assert [p.name for p in tmp_path.iterdir()] == ["stage.nc"]  # whole, under its name, no temporary
    monkeypatch.setattr(xr.Dataset, "to_netcdf", write)
    with xr.open_dataset(path) as back:
        np.testing.assert_array_equal(back.v.values, ds.v.values)


def test_corrupted_stage_file_is_one_line_naming_it(tiny, tmp_path, capsys):
    out = tmp_path / "o"
    assert main(["run", str(tiny), "--out", str(out), "--quiet", "--resolution", "15"]) == 0
    victim = out / "tiny_stage2_full.nc"
    data = victim.read_bytes()
    victim.write_bytes(data[: len(data) // 2])  # truncated, as by a full disk or a killed copy
    capsys.readouterr()
    assert main(["compare", str(out)]) == 2
    _one_error_line(capsys, "tiny_stage2_full.nc")
    victim.write_bytes(b"\x00" * 4096)  # garbage of the right name
    assert main(["compare", str(out)]) == 2
    _one_error_line(capsys, "tiny_stage2_full.nc")


# ---------------------------------------------------------------- silently wrong -> errors / warnings


def test_window_beyond_datetime64_ns_is_an_error(tiny, tmp_path, capsys):
    long = tmp_path / "long.toml"
    long.write_text(tiny.read_text().replace('duration = "20min"', "duration = 9467280000")  # 109,575 days
                    .replace("step_s = 120", "step_s = 86400"))
    assert main(["run", str(long), "--out", str(tmp_path / "o"), "--quiet"]) == 2
    _one_error_line(capsys, "long.toml", "2262")
    assert main(["run", str(tiny), "--duration", "109575d", "--step", "86400", "--out", str(tmp_path / "o"),
                 "--quiet"]) == 2
    _one_error_line(capsys, "2262")
    assert not (tmp_path / "o").exists()


def _decayed_tle(tmp_path, n_good: int):
    from orbitjax.io.tle import read_tle, write_tle
    from orbitjax.scenario import bundled_data_dir

    sats = read_tle(bundled_data_dir() / "kuiper_falcon9_synthetic.tle")[: 1 + n_good]
    n = sats.no_kozai_rad_min.copy()
    n[0] = 99.99999999 * 2 * np.pi / 1440.0  # rev/day -> rad/min: a decayed orbit, SGP4 error at every step
    path = tmp_path / f"decayed_{n_good}.tle"
    write_tle(path, dataclasses.replace(sats, no_kozai_rad_min=n))
    return path


def test_decayed_satellite_warns_and_all_failed_stage_is_an_error(tmp_path, capsys):
    mixed = _decayed_tle(tmp_path, 3)
    out = tmp_path / "o"
    args = ["--stage-by", "none", "--min-elevation", "35", "--duration", "4min", "--resolution", "15", "--quiet",
            "--timing", "sampled"]
    assert main(["run", "--tle", str(mixed), "--out", str(out), *args]) == 0
    err = capsys.readouterr().err
    warning = [line for line in err.splitlines() if line.startswith("orbitjax: warning: ")]
    assert len(warning) == 1 and "decayed_3.tle" in warning[0] and "4 of 16 satellite-steps" in warning[0], err

    alone = _decayed_tle(tmp_path, 0)
    out2 = tmp_path / "o2"
    assert main(["run", "--tle", str(alone), "--out", str(out2), *args]) == 2
    _one_error_line(capsys, "decayed_0.tle", "every satellite failed")
    assert not out2.exists()


# ---------------------------------------------------------------- fail fast on size


@pytest.mark.parametrize(
    "extra, knob",
    [
        (["--duration", "30d", "--step", "60", "--resolution", "0.5", "--save-raster", "--max-memory", "2GB"],
         "--no-save-raster"),
        (["--duration", "2h", "--step", "60", "--resolution", "0.1", "--chunk-steps", "100",
          "--no-save-raster", "--max-memory", "3GB"], "--chunk-steps"),
        (["--duration", "10min", "--step", "60", "--resolution", "0.05",
          "--elevation-sweep", ",".join(str(e) for e in range(10, 50, 2)), "--max-memory", "8GB"], "--resolution"),
    ],
)
def test_run_too_big_for_memory_is_refused_before_any_work(extra, knob, tiny, tmp_path, monkeypatch, capsys):
    _no_work(monkeypatch)
    out = tmp_path / "o"
    assert main(["run", str(tiny), "--out", str(out), "--quiet", *extra]) == 2
    line = _one_error_line(capsys, "--max-memory", "memory", knob)
    assert "GB" in line
    assert "(3 satellites," in line or "(6 satellites," in line  # the stage's own, not a padded count
    assert not out.exists()


def test_available_memory_is_the_default_limit(tiny, tmp_path, monkeypatch, capsys):
    import orbitjax.memory

    _no_work(monkeypatch)
    monkeypatch.setattr(orbitjax.memory, "available_bytes", lambda: 300 * 10**6)
    assert main(["run", str(tiny), "--out", str(tmp_path / "o"), "--quiet"]) == 2
    _one_error_line(capsys, "available memory")


def test_memory_estimate_parts_and_sizes():
    from orbitjax.memory import RunSize, estimate_bytes, parse_size

    assert parse_size("8GB") == 8 * 10**9 and parse_size("512MiB") == 512 * 2**20 and parse_size(1000) == 1000
    for bad in ("lots", "-1GB", "0"):
        with pytest.raises(ValueError):
            parse_size(bad)
    base = RunSize(n_sat=3264, n_times=1800, resolution_deg=0.1, chunk_steps=10, n_rows=200)
    e = estimate_bytes(base)
    assert e["raster"] == 0 and e["total"] == sum(v for k, v in e.items() if k != "total")
    with_raster = estimate_bytes(dataclasses.replace(base, save_raster=True))
    assert with_raster["raster"] == 1800 * 1800 * 3600 * 2  # the 0.1 deg, 30 h run: 23 GB
    # Per step: the difference arrays, counts and intervals; per sample (steps + 1): the event solver.
    e20 = estimate_bytes(dataclasses.replace(base, chunk_steps=20))["chunk"]
    e30 = estimate_bytes(dataclasses.replace(base, chunk_steps=30))["chunk"]
    assert e30 - e20 == e20 - e["chunk"] > 0
    sampled = estimate_bytes(dataclasses.replace(base, event_timing=False))["chunk"]
    assert sampled * 20 == estimate_bytes(dataclasses.replace(base, chunk_steps=20, event_timing=False))["chunk"] * 10
    assert sampled < e["chunk"]


def test_a_stage_is_estimated_with_the_previous_stage_output_still_in_memory(tiny):
    # run() writes stage k while stage k + 1 computes: both stages' rasters and positions are held.
    from orbitjax import load_scenario
    from orbitjax.stages import estimate_run_memory

    sc = load_scenario(tiny)
    n_t, cells = sc.analysis.times.size, (180 // 5) * (360 // 5)
    held = estimate_run_memory(sc, save_raster=True, max_memory="1TB")
    alone = estimate_run_memory(sc, save_raster=True, max_memory="1TB", held_output=False)
    assert alone["raster"] == n_t * cells * 2 and held["raster"] == 2 * alone["raster"]
    # Stage 1's three satellites' positions, twice (the write's copy in the file's layout).
    assert held["positions"] - alone["positions"] == 2 * n_t * 3 * 12
    assert held["total"] - alone["total"] == n_t * cells * 2 + 2 * n_t * 3 * 12
    no_raster = estimate_run_memory(sc, save_raster=False, max_memory="1TB")
    assert no_raster["raster"] == 0 and no_raster["positions"] == held["positions"]


def test_max_memory_must_be_a_size(tiny, tmp_path, capsys):
    assert main(["run", str(tiny), "--max-memory", "lots", "--out", str(tmp_path / "o"), "--quiet"]) == 2
    _one_error_line(capsys, "--max-memory 'lots'")


# ---------------------------------------------------------------- leftovers and clashes


def test_stale_temporaries_of_this_runs_names_are_removed(tiny, tmp_path, capsys):
    out = tmp_path / "o"
    out.mkdir()
    stale = [out / ".tiny_stage1_L1.nc.k3j4h5.tmp", out / ".tiny_stage2_full.nc.zz.tmp"]
    foreign = out / ".someone_else.nc.abc.tmp"
    for p in stale + [foreign]:
        p.write_bytes(b"left by SIGKILL")
    assert main(["run", str(tiny), "--out", str(out), "--quiet", "--resolution", "15"]) == 0
    assert not any(p.exists() for p in stale)
    assert foreign.exists()  # not a name of this run


def test_second_writer_is_refused_and_stale_lock_taken_over(tiny, tmp_path, monkeypatch, capsys):
    from orbitjax.io.outdir import LOCK_NAME

    out = tmp_path / "o"
    out.mkdir()
    lock = out / LOCK_NAME
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        lock.write_text(f"{holder.pid} {os.uname().nodename}\n")
        _no_work(monkeypatch)
        assert main(["run", str(tiny), "--out", str(out), "--quiet"]) == 2
        _one_error_line(capsys, "in use by another orbitjax run", f"pid {holder.pid}")
        assert lock.exists()
    finally:
        holder.kill()
        holder.wait()
    monkeypatch.undo()
    # The holder is gone: its lock is stale and the next run takes it over, then releases it.
    assert main(["run", str(tiny), "--out", str(out), "--quiet", "--resolution", "15"]) == 0
    assert not lock.exists()
    assert sorted(p.name for p in out.glob("*.nc")) == ["tiny_stage1_L1.nc", "tiny_stage2_full.nc"]


def test_manifest_makes_compare_read_only_the_latest_run(tiny, tmp_path, capsys):
    from orbitjax.compare import open_stages

    out = tmp_path / "o"
    assert main(["run", str(tiny), "--out", str(out), "--quiet", "--resolution", "15"]) == 0
    # A different run (other prefix, one stage only) into the same folder: the old files stay.
    other = tmp_path / "other.toml"
    other.write_text(tiny.read_text().replace('name = "tiny"', 'name = "other"\nreference_stage = false'))
    assert main(["run", str(other), "--out", str(out), "--quiet", "--resolution", "15"]) == 0
    assert len(list(out.glob("*.nc"))) == 3
    manifest = json.loads((out / "orbitjax_run.json").read_text())
    assert manifest["files"] == ["other_stage1_L1.nc"] and manifest["complete"] is True
    ds = open_stages(out)
    assert list(ds.stage_file.values) == ["other_stage1_L1.nc"]
    capsys.readouterr()
    assert main(["compare", str(out), "--plot", str(tmp_path / "c.png")]) == 0


def test_each_stage_file_is_written_while_the_next_stage_computes(tiny, tmp_path, monkeypatch):
    """The writes overlap the next stage's compute (a second thread), in stage order, each file
    listed in the manifest and passed to ``on_stage`` once it is whole."""
    import threading

    import orbitjax.analysis
    import orbitjax.io.netcdf

    coverage, write = orbitjax.analysis.coverage, orbitjax.io.netcdf.write_netcdf
    second_started, log = threading.Event(), []

    def counting_coverage(*args, **kwargs):
        log.append(("compute", threading.current_thread().name))
        if sum(kind == "compute" for kind, _ in log) == 2:
            second_started.set()
        return coverage(*args, **kwargs)

    def waiting_write(ds, path, **kwargs):
        if not log[-1][0] == "write":  # the first write waits for the second stage to start
            assert second_started.wait(60), "stage 1 was written before stage 2 started computing"
        log.append(("write", threading.current_thread().name))
        return write(ds, path, **kwargs)

    monkeypatch.setattr(orbitjax.analysis, "coverage", counting_coverage)
    monkeypatch.setattr(orbitjax.io.netcdf, "write_netcdf", waiting_write)
    seen = []

    def on_stage(stage, ds, path):
        seen.append((stage.index, path.name, json.loads((path.parent / "orbitjax_run.json").read_text())["files"]))
        with xr.open_dataset(path) as back:  # whole when announced
            assert int(back.stage) == stage.index

    out = tmp_path / "o"
    paths = orbitjax_run(tiny, out, progress=False, on_stage=on_stage)
    assert [p.name for p in paths] == ["tiny_stage1_L1.nc", "tiny_stage2_full.nc"]
    assert seen == [(1, "tiny_stage1_L1.nc", ["tiny_stage1_L1.nc"]),
                    (2, "tiny_stage2_full.nc", ["tiny_stage1_L1.nc", "tiny_stage2_full.nc"])]
    assert [kind for kind, _ in log] == ["compute", "compute", "write", "write"]
    assert threading.main_thread().name not in {name for kind, name in log if kind == "write"}


def test_only_the_previous_stage_output_is_held_while_a_stage_computes(tiny, tmp_path, monkeypatch):
    # The memory estimate counts one held stage (the file being written); a third would not fit it.
    import gc
    import weakref

    import orbitjax.analysis

    three = tmp_path / "three.toml"  # the tiny scenario's launch again, a day later: three stages
    launch = textwrap.dedent(TINY_SCENARIO[TINY_SCENARIO.index("[[launches]]"):])
    three.write_text(tiny.read_text() + "\n" + launch.replace('"L1"', '"L2"').replace("2025-10-01", "2025-10-02"))
    coverage, rasters, alive = orbitjax.analysis.coverage, [], []

    def tracking(*args, **kwargs):
        gc.collect()
        alive.append([k for k, r in enumerate(rasters) if r() is not None])
        ds = coverage(*args, **kwargs)
        rasters.append(weakref.ref(ds.visible_count.values))
        return ds

    monkeypatch.setattr(orbitjax.analysis, "coverage", tracking)
    orbitjax_run(three, tmp_path / "o", progress=False)
    assert alive == [[], [0], [1]]


def _second_stage_fails(monkeypatch, write_error=None):
    """Make stage 2's compute raise, while stage 1's write is still running (it waits for that);
    with ``write_error``, that write then fails with it."""
    import threading

    import orbitjax.analysis
    import orbitjax.io.netcdf

    coverage, write, calls = orbitjax.analysis.coverage, orbitjax.io.netcdf.write_netcdf, []
    failed = threading.Event()

    def failing_second(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            failed.set()
            raise ValueError("stage 2 failed")
        return coverage(*args, **kwargs)

    def late_write(ds, path, **kwargs):
        assert failed.wait(60)
        if write_error is not None:
            raise write_error
        return write(ds, path, **kwargs)

    monkeypatch.setattr(orbitjax.analysis, "coverage", failing_second)
    monkeypatch.setattr(orbitjax.io.netcdf, "write_netcdf", late_write)


def test_an_error_in_the_next_stage_keeps_the_previous_file_whole_and_listed(tiny, tmp_path, monkeypatch):
    _second_stage_fails(monkeypatch)
    out = tmp_path / "o"
    with pytest.raises(ValueError, match="stage 2 failed"):
        orbitjax_run(tiny, out, progress=False)
    manifest = json.loads((out / "orbitjax_run.json").read_text())
    assert manifest["files"] == ["tiny_stage1_L1.nc"] and manifest["complete"] is False
    assert sorted(p.name for p in out.iterdir()) == ["orbitjax_run.json", "tiny_stage1_L1.nc"]
    with xr.open_dataset(out / "tiny_stage1_L1.nc") as back:
        assert int(back.stage) == 1


def test_a_failed_write_beside_a_failed_stage_is_reported_with_it(tiny, tmp_path, monkeypatch, capsys):
    from orbitjax.io.netcdf import NetCDFError

    _second_stage_fails(monkeypatch, NetCDFError("tiny_stage1_L1.nc: cannot write NetCDF (HDF error; is the disk full?)"))
    out = tmp_path / "o"
    assert main(["run", str(tiny), "--out", str(out), "--quiet"]) == 2
    _one_error_line(capsys, "stage 2 failed", "tiny_stage1_L1.nc: cannot write NetCDF")
    assert not out.exists() or not list(out.glob("*.nc"))


# ---------------------------------------------------------------- a second fuzz round (2026-12-03)


def test_an_empty_start_is_refused_not_read_as_nat(tiny, tmp_path, capsys):
    # `--start ""` ran with a time axis from NaT (1677) and exited 0.
    from orbitjax.timescales import as_datetime64

    assert main(["run", str(tiny), "--start", "", "--out", str(tmp_path / "o"), "--quiet"]) == 2
    _one_error_line(capsys, "--start ''")
    assert not (tmp_path / "o").exists()
    for bad in ("", "NaT", ["2025-10-15T00:00", ""], np.array(["2025-10-15", "NaT"], "datetime64[ns]")):
        with pytest.raises(ValueError, match="UTC times"):
            as_datetime64(bad)


@pytest.mark.parametrize("prefix", ["../../evil", "sub/x", "", ".hidden"])
def test_an_output_prefix_cannot_leave_the_output_folder(prefix, tiny, tmp_path, monkeypatch, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text(tiny.read_text().replace('name = "tiny"', f'name = "tiny"\n\n[output]\nprefix = "{prefix}"', 1))
    _no_work(monkeypatch)
    out = tmp_path / "deep" / "o"
    assert main(["run", str(bad), "--out", str(out), "--quiet"]) == 2
    _one_error_line(capsys, "bad.toml", "[output] prefix")
    assert not list(tmp_path.rglob("*.nc"))


def test_a_scenario_name_is_made_a_safe_default_prefix(tiny, tmp_path):
    from orbitjax import load_scenario

    p = tmp_path / "named.toml"
    p.write_text(tiny.read_text().replace('name = "tiny"', 'name = "My study: ../v2"'))
    assert load_scenario(p).output_prefix == "My_study_.._v2"


def test_a_shell_too_large_to_build_is_refused_at_once(tiny, tmp_path, monkeypatch, capsys):
    # 2 x 1e9 satellites filled 23 GB building the shell, before the memory check, and was OOM-killed.
    huge = tmp_path / "huge.toml"
    huge.write_text(tiny.read_text().replace("sats_per_plane = 3", "sats_per_plane = 1000000000"))
    _no_work(monkeypatch)
    assert main(["run", str(huge), "--out", str(tmp_path / "o"), "--quiet"]) == 2
    _one_error_line(capsys, "huge.toml", "2,000,000,000 satellites", "10,000,000")


def test_a_launch_larger_than_a_plane_is_refused(tiny, tmp_path, monkeypatch, capsys):
    # 50 satellites launched onto a 3-per-plane shell gave a stage larger than the whole constellation.
    big = tmp_path / "big.toml"
    big.write_text(tiny.read_text().replace("satellites = 3", "satellites = 50"))
    _no_work(monkeypatch)
    assert main(["run", str(big), "--out", str(tmp_path / "o"), "--quiet"]) == 2
    _one_error_line(capsys, "big.toml", "launch 'L1'", "50 satellites do not fit one plane", "sats_per_plane = 3")


@pytest.mark.parametrize("sweep, message", [("25,25", "appears twice"), ("25,,35", "expected numbers"),
                                            ("", "expected numbers")])
def test_elevation_sweep_items_are_distinct_numbers(sweep, message, tiny, tmp_path, monkeypatch, capsys):
    _no_work(monkeypatch)
    assert main(["run", str(tiny), "--elevation-sweep", sweep, "--out", str(tmp_path / "o"), "--quiet"]) == 2
    _one_error_line(capsys, "--elevation-sweep", message)


def test_coverage_refuses_a_repeated_mask():
    import orbitjax

    shell = orbitjax.walker(altitude_km=630, inclination_deg=51.9, planes=2, sats_per_plane=2, phasing=1,
                            min_elevation_deg=35, epoch="2025-10-15")
    with pytest.raises(ValueError, match="distinct masks"):
        orbitjax.coverage(shell, ("2025-10-15T00:00Z", "4min"), resolution_deg=30, elevation_sweep_deg=[25, 25])


def test_output_files_that_are_folders_are_refused_before_any_work(tmp_path, monkeypatch, capsys):
    # `access --out DIR` computed for 12 s, then failed naming a temporary and left DIR_sites.nc behind.
    import orbitjax.site_access

    def boom(*args, **kwargs):
        raise AssertionError("computed although the output could not be written")

    monkeypatch.setattr(orbitjax.site_access, "access", boom)
    folder = tmp_path / "o"
    folder.mkdir()
    monkeypatch.chdir(tmp_path)
    sites = tmp_path / "sites.csv"
    sites.write_text("name,lat,lon\npad,28.5,-80.6\n")
    tle = str(__import__("pathlib").Path(__file__).parent / "data" / "sample.tle")
    assert main(["access", "--tle", tle, "--sites", str(sites), "--min-elevation", "35", "--out", "o"]) == 2
    _one_error_line(capsys, "--out o", "is a folder")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o", "sites.csv"]
    assert main(["export-tle", "--out", "o"]) == 2
    _one_error_line(capsys, "--out o", "is a folder")
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert main(["export-tle", "--out", "file/x.tle"]) == 2
    _one_error_line(capsys, "--out file/x.tle", "is not a folder")


# ---------------------------------------------------------------- late errors made early


def test_unwritable_output_folder_is_reported_before_any_work(tiny, tmp_path, monkeypatch, capsys):
    _no_work(monkeypatch)
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    assert main(["run", str(tiny), "--out", str(blocker / "sub"), "--quiet"]) == 2
    _one_error_line(capsys, "a_file/sub")
    assert main(["run", str(tiny), "--out", str(blocker), "--quiet"]) == 2
    _one_error_line(capsys, "not a directory")
