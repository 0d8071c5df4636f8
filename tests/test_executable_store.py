"""The executable store (orbitjax/executable_store.py): a second process runs the coverage chunk
kernel from the executable the first one stored, without tracing it, and gets the same figures;
broken or foreign entries are compiled again, never run.

The rest of the suite runs with the compilation cache (and so the store) off; each process here
gets a fresh cache folder.
"""

import json
import os
import subprocess
import sys

import jax
import numpy as np
import pytest

from orbitjax import compiled_code, executable_store

# A small event-timed job; run in new processes, it prints the store's counters and the figures.
JOB = """
import numpy as np
import orbitjax
from orbitjax.timescales import time_grid
shell = orbitjax.walker(altitude_km=700, inclination_deg=60, planes=2, sats_per_plane=3, phasing=1,
                        min_elevation_deg=20, epoch="2025-01-01T00:00:00", shell="S")
ds = orbitjax.coverage(shell, time_grid("2025-01-01T00:00:00", 1800, 60), resolution_deg=10.0, progress=False)
figures = {k: np.nan_to_num(ds[k].values).ravel().tolist() for k in
           ("percent_time_covered", "gap_count", "max_gap_s", "mean_response_time_s")}
"""
SCRIPT = JOB + """
import json
from orbitjax import executable_store
print(json.dumps({"counts": executable_store.counts, "figures": figures}))
"""


def _run(cache):
    env = dict(os.environ, ORBITJAX_CACHE_DIR=str(cache))
    out = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def _entries(cache):
    return sorted((cache / "executables").glob("*.exe"))


@pytest.mark.slow
def test_second_process_runs_the_stored_executable_with_equal_figures(tmp_path):
    cache = tmp_path / "cache"
    first = _run(cache)
    assert first["counts"]["compiled"] == 1 and first["counts"]["read"] == 0
    (entry,) = _entries(cache)
    second = _run(cache)
    assert second["counts"] == {"read": 1, "compiled": 0, "bypassed": 0}
    assert second["figures"] == first["figures"]
    # Compiled with the store off (JAX's own jit path, as this process runs): the same figures.
    scope = {}
    exec(JOB, scope)
    assert scope["figures"] == first["figures"]


def test_a_truncated_entry_is_compiled_again_never_run(monkeypatch, tmp_path):
    # As a full disk would leave one before the rename (the same path as the coverage kernel's).
    monkeypatch.setenv("ORBITJAX_CACHE_DIR", str(tmp_path))
    f = executable_store.stored(jax.jit(_double, static_argnames=("n",)), static_argnames=("n",))
    x = np.arange(4.0)
    compiled, read = executable_store.counts["compiled"], executable_store.counts["read"]
    np.testing.assert_array_equal(f(x, n=3), 3 * x)
    (entry,) = _entries(tmp_path)
    size = entry.stat().st_size
    entry.write_bytes(entry.read_bytes()[: size // 2])
    executable_store.forget()  # the next call reads the store again
    np.testing.assert_array_equal(f(x, n=3), 3 * x)
    assert executable_store.counts["compiled"] == compiled + 2 and executable_store.counts["read"] == read
    assert entry.stat().st_size == size  # written whole again


# JAX's persistent cache hits and entries in a process that compiles one kernel in turns.
BYPASS_SCRIPT = """
import json, os, sys
import jax, jax.numpy as jnp
from orbitjax import executable_store
jax.config.update("jax_compilation_cache_dir", sys.argv[1])
jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
hits = []
jax.monitoring.register_event_listener(
    lambda name, **kw: hits.append(name) if name == "/jax/compilation_cache/cache_hits" else None)
f = jax.jit(lambda x: jnp.cumsum(x * jnp.arange(x.size)))
x = jnp.ones(64)
counts = []
fresh = lambda: executable_store._compile_fresh(f, (x,), {})
for compile_ in (lambda: f.lower(x).compile(), lambda: f.lower(x).compile(), fresh, fresh,
                 lambda: f.lower(x).compile()):
    jax.clear_caches()
    compile_()
    entries = [p for p in os.listdir(sys.argv[1]) if p.startswith("jit__lambda") and p.endswith("-cache")]
    counts.append((len(hits), len(entries)))
print(json.dumps(counts))
"""


def test_store_compiles_past_jax_persistent_cache(tmp_path):
    # An executable JAX reads back from its persistent cache serializes incompletely on XLA:CPU
    # (jax 0.10.2): storing one made every later process fail at its first run ("Function
    # wrapped_iota not found"; the default run did, after an earlier version filled the cache).
    # The store's own compile must therefore neither read nor write JAX's cache (turning JAX's
    # setting off alone still wrote an entry), which must still serve every other compile.
    env = {k: v for k, v in os.environ.items() if k != "ORBITJAX_CACHE_DIR"}
    out = subprocess.run([sys.executable, "-c", BYPASS_SCRIPT, str(tmp_path / "jax")], env=env,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert json.loads(out.stdout.strip().splitlines()[-1]) == [[0, 1], [1, 1], [1, 1], [1, 1], [2, 1]]


def _double(x, *, n):
    return x * n


def test_key_follows_shapes_statics_and_source(monkeypatch):
    x = np.zeros((3, 2))
    key = executable_store._key(_double, (x,), {"n": 2})
    assert key == executable_store._key(_double, (np.ones((3, 2)),), {"n": 2})  # values do not matter
    assert key != executable_store._key(_double, (np.zeros((3, 3)),), {"n": 2})
    assert key != executable_store._key(_double, (np.zeros((3, 2), np.float32),), {"n": 2})
    assert key != executable_store._key(_double, (x,), {"n": 3})
    assert key != executable_store._key(_double, ((x,),), {"n": 2})  # the tree holding the arrays
    monkeypatch.setattr(executable_store, "_source_digest", "an edited orbitjax")
    assert key != executable_store._key(_double, (x,), {"n": 2})


def test_no_key_where_it_could_depend_on_the_process():
    x = np.zeros(3)
    assert executable_store._key(_double, (x,), {"n": object()}) is None  # repr holds an address
    assert executable_store._key(_double, (x, 2.0), {"n": 2}) is None  # a Python scalar argument


def test_store_is_off_with_the_cache_and_under_a_trace(monkeypatch, tmp_path):
    f = executable_store.stored(jax.jit(_double, static_argnames=("n",)), static_argnames=("n",))
    monkeypatch.setenv("ORBITJAX_CACHE_DIR", "off")
    assert executable_store.store_dir() is None
    before = executable_store.counts["bypassed"]
    assert float(f(np.float64(2.0), n=3)) == 6.0
    monkeypatch.setenv("ORBITJAX_CACHE_DIR", str(tmp_path))
    assert float(jax.jit(lambda x: f(x, n=3))(np.float64(2.0))) == 6.0  # traced: jit's own path
    assert executable_store.counts["bypassed"] == before + 2
    assert not (tmp_path / "executables").exists()


def test_store_keeps_the_most_recently_used_under_its_bound(tmp_path):
    for i, name in enumerate(("old", "mid", "new")):
        p = tmp_path / f"{name}.exe"
        p.write_bytes(b"x" * 100)
        os.utime(p, ns=(i * 10**9, i * 10**9))
    executable_store._evict(tmp_path, 250)
    assert sorted(p.stem for p in tmp_path.glob("*.exe")) == ["mid", "new"]


def test_map_limit_release_forgets_loaded_executables(monkeypatch):
    executable_store._loaded["a key"] = object()
    monkeypatch.setattr(compiled_code, "max_map_count", lambda: 1)
    assert compiled_code.release_if_near_map_limit(warn=False)
    assert "a key" not in executable_store._loaded
