"""Scale-out paths (Dask, several devices, resume, faults) against the single-process run.

Reference: ``orbitjax.coverage`` / ``orbitjax.run`` without any scale-out option
(the sequential chunk loop, whose figures tests/test_event_timing.py and
tests/test_coverage_figures.py pin). Requirements: rasters and integer figures
identical; sampled figures (all from integers) identical; event-timed float
figures within 1e-12 relative (their sums are grouped differently); any two
block runs of the same scenario bit-identical, whatever the workers, devices or
order in which blocks finish. Grids are coarse and windows short: the point is
the plumbing, not the geometry.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pytest
import xarray as xr

import orbitjax
from orbitjax import cli
from orbitjax.analysis import _plan
from orbitjax.blocks import ClusterTree, TreeReducer, block_ranges, compute_block, dask_client, dask_results, merge_summaries
from orbitjax.io.checkpoint import PARTIAL_DIR, Checkpoint
from orbitjax.io.netcdf import open_netcdf

from conftest import TINY_SCENARIO
from test_allocator import PROBE_PAGES, needs_glibc, pages_refaulted

distributed = pytest.importorskip("distributed")

TIMES = np.arange(np.datetime64("2025-01-01T00:00"), np.datetime64("2025-01-01T02:00"), np.timedelta64(60, "s"))
KW = dict(resolution_deg=10.0, progress=False, chunk_steps=8, save_raster=True, save_positions=True)


@pytest.fixture(scope="module")
def shell():
    return orbitjax.walker(altitude_km=700, inclination_deg=60, planes=3, sats_per_plane=4, phasing=1,
                           min_elevation_deg=20, epoch="2025-01-01T00:00:00", shell="S")


@pytest.fixture(scope="module")
def reference(shell):
    return {t: orbitjax.coverage(shell, TIMES, timing=t, devices=1, **KW) for t in ("exact", "sampled")}


def assert_same_results(got: xr.Dataset, want: xr.Dataset):
    """Integers and rasters identical, floats to 1e-12 relative; same variables and attributes."""
    assert set(got.data_vars) == set(want.data_vars)
    assert got.attrs.keys() == want.attrs.keys()
    for key, value in want.attrs.items():  # some are arrays (region_box_deg)
        np.testing.assert_array_equal(got.attrs[key], value, err_msg=key)
    xr.testing.assert_identical(got.coords.to_dataset(), want.coords.to_dataset())
    for name in want.data_vars:
        g, w = got[name].values, want[name].values
        if w.dtype.kind in "iu" or name in ("sat_position_ecef", "coverage_fraction"):
            np.testing.assert_array_equal(g, w, err_msg=name)
        else:
            np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-12 * 7200, err_msg=name)


def test_one_cpu_device_computes_the_two_halves_at_once_with_the_sequential_results(shell, reference, monkeypatch):
    """coverage() on one CPU device, by default: the window's halves (whole chunks) in two threads
    at the same time (orbitjax.memory.host_blocks), written in place; the results are those of the
    sequential loop (devices=1), and the same from run to run."""
    spans, compute = [], orbitjax.blocks.compute_block

    def spy(plan, i, a, b, device=None, **kw):
        t0 = time.perf_counter()
        result = compute(plan, i, a, b, device, **kw)
        spans.append((i, a, b, threading.get_ident(), t0, time.perf_counter()))
        return result

    monkeypatch.setattr(orbitjax.blocks, "compute_block", spy)
    ds = orbitjax.coverage(shell, TIMES, timing="exact", **KW)  # 120 steps in 15 chunks of 8
    assert sorted(s[:3] for s in spans) == [(0, 0, 64), (1, 64, 120)]
    (*_, thread_a, start_a, end_a), (*_, thread_b, start_b, end_b) = spans
    assert thread_a != thread_b and max(start_a, start_b) < min(end_a, end_b)
    assert_same_results(ds, reference["exact"])
    xr.testing.assert_identical(orbitjax.coverage(shell, TIMES, timing="exact", **KW), ds)


def test_a_failing_block_stops_the_other_after_its_current_chunk(shell, monkeypatch):
    """An error in one thread (or Ctrl-C in the caller) must not wait for the other block's
    whole half of the window: it stops before its next chunk and the error comes through."""
    import orbitjax.analysis as analysis

    calls, step, compute = [], analysis._chunk_step_stored, orbitjax.blocks.compute_block

    def slow_step(*args, **kwargs):
        calls.append(threading.get_ident())
        time.sleep(0.05)
        return step(*args, **kwargs)

    def failing(plan, i, a, b, device=None, **kw):
        if i == 0:
            time.sleep(0.3)
            raise ValueError("block 0 failed")
        return compute(plan, i, a, b, device, **kw)

    monkeypatch.setattr(analysis, "_chunk_step_stored", slow_step)
    monkeypatch.setattr(orbitjax.blocks, "compute_block", failing)
    with pytest.raises(ValueError, match="block 0 failed"):
        orbitjax.coverage(shell, TIMES, timing="sampled", **{**KW, "chunk_steps": 1})  # 2 blocks of 60 chunks
    assert 0 < len(calls) < 40  # block 1 stopped early, not after its 60 chunks


@pytest.fixture(scope="module")
def thread_client():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        yield client


@pytest.mark.slow
@pytest.mark.parametrize("timing", ["exact", "sampled"])
def test_dask_blocks_equal_the_single_process_run(shell, reference, thread_client, timing):
    ds = orbitjax.coverage(shell, TIMES, timing=timing, client=thread_client, block_steps=16, **KW)
    if timing == "sampled":  # every figure comes from integers: identical
        xr.testing.assert_identical(ds, reference[timing])
    else:
        assert_same_results(ds, reference[timing])


def test_region_and_sensors_through_dask_equal_the_single_process_run(shell, thread_client):
    """A polygon region (cell weights (lat, lon)), a cone, daylight (sunrise inside the window) and
    gateways: every constraint acts inside a chunk, so the Dask blocks give the sequential loop's Dataset."""
    shapely = pytest.importorskip("shapely")
    # East Asia and the western Pacific at 00-02 UTC: the morning terminator crosses it.
    poly = shapely.Polygon([(100, -20), (170, -20), (170, 50), (120, 50)])
    kw = dict(KW, region=poly, half_angle_deg=45.0, sun_elevation_min_deg=5.0, timing="sampled",
              gateways=[("tokyo", 35.7, 139.7), ("perth", -31.9, 115.9)])
    want = orbitjax.coverage(shell, TIMES, devices=1, **kw)
    got = orbitjax.coverage(shell, TIMES, client=thread_client, block_steps=16, **kw)
    assert_same_results(got, want)
    # Each constraint really acts here (otherwise the test would not test its block path).
    assert 0 < want.region_fraction.values.mean() < 1
    usable = want.usable_satellites.values
    assert 0 < usable.sum() < usable.size
    assert np.all(np.isfinite(want.half_angle_deg.values))
    # Night cells (Sun 2 deg or more below the 5 deg limit by a rough analytic Sun: declination
    # -23 deg on 1 January, subsolar longitude 180 - 15 deg per hour) are never counted covered.
    hours = (TIMES - TIMES[0]) / np.timedelta64(1, "h")
    lat, lon = np.radians(want.lat.values)[None, :, None], np.radians(want.lon.values)[None, None, :]
    dec, sub_lon = np.radians(-23.0), np.radians(180.0 - 15.0 * hours)[:, None, None]
    sin_el = np.sin(lat) * np.sin(dec) + np.cos(lat) * np.cos(dec) * np.cos(lon - sub_lon)
    night = np.broadcast_to(sin_el < np.sin(np.radians(3.0)), want.visible_count.shape)
    assert 0 < night.sum() < night.size
    assert not np.any(want.visible_count.values[night])


def test_tree_reduction_does_not_depend_on_the_order_blocks_finish(shell, reference):
    plan = _plan(shell, TIMES, **{k: v for k, v in KW.items() if k != "progress"})
    ranges = block_ranges(plan)
    results = [compute_block(plan, i, a, b) for i, (a, b) in enumerate(ranges)]
    assert len(results) == 15
    merged = []
    for seed in range(3):
        reducer = TreeReducer(len(results))
        for i in np.random.default_rng(seed).permutation(len(results)):
            reducer.add(int(i), results[i].summary)
        assert len(reducer.nodes) == 1
        merged.append(reducer.result())
    for other in merged[1:]:  # bit-identical whatever the order
        for x, y in zip(jax_leaves(merged[0]), jax_leaves(other)):
            np.testing.assert_array_equal(x, y)
    # A left fold (the sequential grouping) and the tree agree within rounding, integers exactly.
    fold = results[0].summary
    for r in results[1:]:
        fold = merge_summaries(fold, r.summary)
    for x, y in zip(jax_leaves(merged[0]), jax_leaves(fold)):
        if x.dtype.kind in "iu":
            np.testing.assert_array_equal(x, y)
        else:
            np.testing.assert_allclose(x, y, rtol=1e-12)


def test_tree_on_the_cluster_equals_the_tree_on_the_client(shell, thread_client):
    plan = _plan(shell, TIMES, **{k: v for k, v in KW.items() if k != "progress"})
    ranges = block_ranges(plan, 16)
    tree = ClusterTree(plan, ranges, thread_client)
    rows = sorted((r.index for r in tree), key=int)
    assert rows == list(range(len(ranges))) and len(ranges) == 8
    local = TreeReducer(len(ranges))
    for i, (a, b) in enumerate(ranges):
        local.add(i, compute_block(plan, i, a, b).summary)
    for x, y in zip(jax_leaves(tree.result()), jax_leaves(local.result())):
        np.testing.assert_array_equal(x, y)


def jax_leaves(tree):
    import jax  # noqa: PLC0415

    return [np.asarray(x) for x in jax.tree_util.tree_leaves(tree)]


def test_several_devices_give_identical_results(tmp_path):
    """Two host devices (XLA_FLAGS) in a subprocess: blocks spread over them, results as the sequential loop."""
    script = textwrap.dedent("""
        import numpy as np, jax, xarray as xr, orbitjax, orbitjax.blocks as blocks
        assert len(jax.devices()) == 2
        used = set()
        compute = blocks.compute_block
        def spy(plan, i, a, b, device=None, **kw):
            used.add(device)
            return compute(plan, i, a, b, device, **kw)
        blocks.compute_block = spy
        shell = orbitjax.walker(altitude_km=700, inclination_deg=60, planes=3, sats_per_plane=4, phasing=1,
                                min_elevation_deg=20, epoch="2025-01-01T00:00:00", shell="S")
        times = np.arange(np.datetime64("2025-01-01T00:00"), np.datetime64("2025-01-01T02:00"),
                          np.timedelta64(60, "s"))
        # Sampled figures on the sphere (one compile per device is the cost here; the merge
        # of timed summaries is covered by the other tests).
        kw = dict(resolution_deg=10.0, progress=False, chunk_steps=8, save_raster=True, timing="sampled",
                  earth_model="sphere")  # the cheapest kernel to compile
        ref = orbitjax.coverage(shell, times, devices=1, **kw)
        ds = orbitjax.coverage(shell, times, **kw)  # default: all the devices
        assert len(used) == 2, used
        xr.testing.assert_identical(ds, ref)
        print("OK", len(used))
    """)
    flags = (os.environ.get("XLA_FLAGS", "") + " --xla_force_host_platform_device_count=2").strip()  # keeps conftest's
    env = {**os.environ, "XLA_FLAGS": flags, "JAX_PLATFORMS": "cpu"}
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "OK 2" in out.stdout


def test_a_killed_worker_loses_nothing(shell, reference):
    """SIGKILL a worker process after the first block came back: Dask reruns its tasks, results identical."""
    plan = _plan(shell, TIMES, timing="sampled", **{k: v for k, v in KW.items() if k != "progress"})
    todo = [(i, a, b) for i, (a, b) in enumerate(block_ranges(plan))]
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        pids = client.run(os.getpid)
        results, killed = [], None
        for r in dask_results(plan, todo, client):
            results.append(r)
            if killed is None:
                busy = [w for w, tasks in client.processing().items() if tasks] or list(pids)
                killed = busy[0]
                os.kill(pids[killed], signal.SIGKILL)
        assert killed is not None
    assert sorted(r.index for r in results) == list(range(len(todo)))
    ref = reference["sampled"]
    reducer = TreeReducer(len(todo))
    raster = np.empty_like(ref.visible_count.values)
    for r in results:
        reducer.add(r.index, r.summary)
        raster[r.start:r.stop] = r.raster
    np.testing.assert_array_equal(raster, ref.visible_count.values)
    local = TreeReducer(len(todo))
    for i, a, b in todo:
        local.add(i, compute_block(plan, i, a, b).summary)
    for x, y in zip(jax_leaves(reducer.result()), jax_leaves(local.result())):
        np.testing.assert_array_equal(x, y)  # the same blocks merged in the same tree: bit-identical


def test_unreachable_scheduler_is_one_clear_line(tmp_path, monkeypatch, capsys):
    with pytest.raises(OSError, match=r"cannot reach the Dask scheduler at tcp://127.0.0.1:1 "):
        with dask_client("tcp://127.0.0.1:1", timeout_s=1):
            pass
    monkeypatch.setattr("orbitjax.blocks.SCHEDULER_TIMEOUT_S", 1.0)
    scenario = tmp_path / "tiny.toml"
    scenario.write_text(TINY_SCENARIO)
    code = cli.main(["run", str(scenario), "--out", str(tmp_path / "out"), "--quiet",
                     "--scheduler", "tcp://127.0.0.1:1"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == cli.EXIT_USAGE
    assert err[-1].startswith("orbitjax: error: cannot reach the Dask scheduler at tcp://127.0.0.1:1")
    assert "Traceback" not in "\n".join(err)


class Killed(Exception):
    """Stands for the process being killed after some checkpoints were written."""


def test_resume_continues_a_killed_run_and_gives_the_same_files(reference, tmp_path, monkeypatch, capsys):
    scenario = tmp_path / "tiny.toml"
    # The fixture shell's altitude, mask, step and chunk: the kernels compiled for it are reused.
    scenario.write_text(TINY_SCENARIO.replace("altitude_km = 630", "altitude_km = 700")
                        .replace("inclination_deg = 51.9", "inclination_deg = 60")
                        .replace("min_elevation_deg = 35", "min_elevation_deg = 20"))
    args = ["run", str(scenario), "--quiet", "--chunk-steps", "8", "--resolution", "10", "--save-raster",
            "--step", "60", "--duration", "24min"]
    whole, single = tmp_path / "whole", tmp_path / "single"
    assert cli.main(args + ["--out", str(single)]) == 0
    assert cli.main(args + ["--out", str(whole), "--block-steps", "8"]) == 0
    assert not (whole / PARTIAL_DIR).exists()  # removed when the run completes

    # Killed in stage 2 after its second checkpoint, the merged node of blocks 0-1 (stage 1 complete).
    out = tmp_path / "resumed"
    save_node = Checkpoint.save_node
    saved = []

    def dying(self, index, key, arrays, removed=()):
        save_node(self, index, key, arrays, removed)
        saved.append(index)
        if saved.count(2) == 2:
            raise Killed

    monkeypatch.setattr(Checkpoint, "save_node", dying)
    with pytest.raises(Killed):
        cli.main(args + ["--out", str(out), "--block-steps", "8"])
    monkeypatch.setattr(Checkpoint, "save_node", save_node)
    assert (out / PARTIAL_DIR).is_dir() and len(list(out.glob("*.nc"))) == 1
    capsys.readouterr()

    # Resuming with another option is refused in one line, before any work: the checkpoint stays.
    assert cli.main(args + ["--out", str(out), "--block-steps", "8", "--resume", "--step", "120"]) == cli.EXIT_USAGE
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) >= 1 and "not resumable: the scenario or run options changed" in err[-1]
    assert (out / PARTIAL_DIR).is_dir()

    computed = []
    compute = orbitjax.blocks.compute_block
    monkeypatch.setattr(orbitjax.blocks, "compute_block",
                        lambda plan, i, a, b, device=None, **kw: computed.append(i) or compute(plan, i, a, b, device, **kw))
    assert cli.main(args + ["--out", str(out), "--block-steps", "8", "--resume"]) == 0
    assert computed == [2]  # only stage 2's missing block (3 blocks of 8 steps per stage)
    assert not (out / PARTIAL_DIR).exists()
    for name in ("tiny_stage1_L1.nc", "tiny_stage2_full.nc"):
        a, b, s = (open_netcdf(d / name).load() for d in (out, whole, single))
        for ds in (a, b, s):
            ds.attrs.pop("history")
        xr.testing.assert_identical(a, b)  # identical to the uninterrupted block run
        assert_same_results(a.drop_vars("stage"), s.drop_vars("stage"))  # and to the single-process run


def _thread_affinity():
    return sorted(os.sched_getaffinity(0))


@pytest.mark.skipif(not hasattr(os, "sched_getaffinity") or len(os.sched_getaffinity(0)) < 2,
                    reason="needs Linux CPU affinity and two cores")
def test_local_workers_each_get_their_own_cores():
    """XLA sizes its thread pool by the cores a process may use: two workers on two cores
    must not each start a pool for both (measured in benchmarks/RESULTS.md, scale-out)."""
    mine = set(os.sched_getaffinity(0))
    with dask_client(workers=2) as c:
        shares = [set(s) for s in c.run(_thread_affinity).values()]
    assert len(shares) == 2 and all(shares)
    assert not shares[0] & shares[1] and shares[0] | shares[1] == mine


@needs_glibc
def test_local_workers_keep_freed_buffers_like_the_client():
    """The allocator settings of `orbitjax run` (orbitjax.tune_allocator) reach the local workers:
    Dask's nanny starts them with a 64 kB trim threshold, and glibc would hand XLA's large
    temporaries back to the system after every block, to fault them in again in the next."""
    with dask_client(workers=1) as c:
        (faults,) = c.run(pages_refaulted).values()
    assert faults < PROBE_PAGES // 20
