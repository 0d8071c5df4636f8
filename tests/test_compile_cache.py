"""JAX's persistent compilation cache as orbitjax configures it: where it lives, how it is
turned off, and that a second process reads back what the first compiled (same results).

The rest of the suite runs with the cache off (conftest.py); these tests give each process a
fresh cache folder of their own.
"""

import json
import os
import subprocess
import sys

import pytest

import orbitjax

# A small sampled-mode job (one compile of a few kernels), run in a new process; it prints the
# number of persistent-cache hits JAX recorded and a checksum of the figures.
SCRIPT = """
import json
import jax
events = []
jax.monitoring.register_event_listener(lambda name, **kw: events.append(name))
import numpy as np
import orbitjax
from orbitjax.timescales import time_grid
shell = orbitjax.walker(altitude_km=700, inclination_deg=60, planes=2, sats_per_plane=3, phasing=1,
                        min_elevation_deg=20, epoch="2025-01-01T00:00:00", shell="S")
ds = orbitjax.coverage(shell, time_grid("2025-01-01T00:00:00", 1200, 60), resolution_deg=10.0,
                       progress=False, timing="sampled", earth_model="sphere")
print(json.dumps({"hits": events.count("/jax/compilation_cache/cache_hits"),
                  "misses": events.count("/jax/compilation_cache/cache_misses"), "cache": orbitjax.compilation_cache_dir(),
                  "ptc": float(np.nansum(ds.percent_time_covered.values))}))
"""


def _start(env_cache, tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "ORBITJAX_CACHE_DIR"}
    if env_cache is not None:
        env["ORBITJAX_CACHE_DIR"] = env_cache
    env["XDG_CACHE_HOME"] = str(tmp_path / "xdg")
    return subprocess.Popen([sys.executable, "-c", SCRIPT], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env)


def _result(proc):
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err[-2000:]
    assert "Error reading persistent compilation cache entry" not in err, err[-2000:]
    assert "Error writing persistent compilation cache entry" not in err, err[-2000:]
    return json.loads(out.strip().splitlines()[-1])


def _run(env_cache, tmp_path):
    return _result(_start(env_cache, tmp_path))


@pytest.mark.slow
def test_second_process_reads_back_the_first_process_compilations(tmp_path):
    cache = tmp_path / "cache"
    # An entry of an unbounded cache (earlier orbitjax): no access-time file for the eviction.
    cache.mkdir()
    (cache / "jit_old-0123-cache").write_bytes(b"an entry of an older cache")
    # Two processes fill the folder at once (as Dask workers or parallel jobs do): the
    # bounded cache's file lock keeps each entry whole for the other.
    both = [_start(str(cache), tmp_path) for _ in range(2)]
    first, other = (_result(p) for p in both)
    assert first["cache"] == str(cache) and first["ptc"] == other["ptc"]
    entries = sorted(p.name for p in cache.iterdir())
    assert any(e.endswith("-cache") for e in entries), "the first processes wrote no cache entry"
    # JAX's LRU cache with a size bound: access times for eviction and the lock file.
    assert ".lockfile" in entries and any(e.endswith("-atime") for e in entries), entries
    second = _run(str(cache), tmp_path)
    # Every kernel is cached, however quick its compile (orbitjax sets no time threshold):
    # the second process compiles nothing.
    assert second["hits"] >= 1 and second["misses"] == 0, second
    assert second["ptc"] == first["ptc"]


@pytest.mark.slow
def test_a_folder_without_locks_is_still_read(tmp_path):
    # No lock can be taken in this folder (its lock path is a directory, as a read-only team cache
    # or a file system without locks would refuse it): orbitjax leaves the cache unbounded and
    # unlocked there, so a second process still reads what the first wrote.
    cache = tmp_path / "cache"
    (cache / ".lockfile").mkdir(parents=True)
    first = _run(str(cache), tmp_path)
    second = _run(str(cache), tmp_path)
    assert first["hits"] == 0 and second["hits"] >= 1
    assert second["ptc"] == first["ptc"]


def test_default_cache_folder_is_per_user_and_can_be_disabled(monkeypatch, tmp_path):
    monkeypatch.delenv("ORBITJAX_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert orbitjax.compilation_cache_dir() == str(tmp_path / "orbitjax" / "jax")
    for off in ("off", "0", "", "No"):
        monkeypatch.setenv("ORBITJAX_CACHE_DIR", off)
        assert orbitjax.compilation_cache_dir() is None
    monkeypatch.setenv("ORBITJAX_CACHE_DIR", str(tmp_path / "elsewhere"))
    assert orbitjax.compilation_cache_dir() == str(tmp_path / "elsewhere")


def test_disabled_cache_writes_nothing(tmp_path):
    out = _run("off", tmp_path)
    assert out["cache"] is None and out["hits"] == 0
    assert not (tmp_path / "xdg").exists()


def test_the_default_scenario_falcon9_stages_share_one_kernel_shape():
    from orbitjax.analysis import padded_sat_count

    stages = orbitjax.load_scenario("kuiper_falcon9").stages()
    sizes = [len(s.satellites) for s in stages]
    assert sizes[:3] == [24, 48, 72]
    # One compiled chunk kernel (and one stored executable) for the three launch stages.
    assert {padded_sat_count(n) for n in sizes[:3]} == {padded_sat_count(72)}
    assert padded_sat_count(sizes[3]) >= sizes[3] and padded_sat_count(sizes[3]) % 16 == 0
