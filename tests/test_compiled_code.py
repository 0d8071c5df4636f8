"""The memory-map guard: a long-lived process drops JAX's compiled executables before
XLA:CPU's JIT linker runs out of memory maps (vm.max_map_count) and crashes."""

import sys

import jax
import jax.numpy as jnp
import pytest

from orbitjax import compiled_code

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")


@linux_only
def test_map_counts_are_read_from_proc():
    assert compiled_code.map_count() > 10
    assert compiled_code.max_map_count() >= 1024


@linux_only
def test_compiled_code_maps_are_released_near_the_limit(monkeypatch):
    f = jax.jit(lambda x: jnp.sin(x) * 3.0 + jnp.cos(x) ** 2)
    f(jnp.ones(7)).block_until_ready()
    assert f._cache_size() == 1
    # Far from the limit: nothing happens.
    assert not compiled_code.release_if_near_map_limit()
    assert f._cache_size() == 1
    # A limit just above the process's maps: the compiled code is dropped, with a warning.
    monkeypatch.setattr(compiled_code, "max_map_count", lambda: compiled_code.map_count() + 1)
    with pytest.warns(RuntimeWarning, match="vm.max_map_count"):
        assert compiled_code.release_if_near_map_limit()
    assert f._cache_size() == 0
    again = f(jnp.ones(7))  # compiles again and still works
    assert jnp.allclose(again, jnp.sin(1.0) * 3.0 + jnp.cos(1.0) ** 2)


def test_no_proc_means_no_release(monkeypatch):
    monkeypatch.setattr(compiled_code, "MAP_COUNT_PATH", "/nonexistent/maps")
    assert compiled_code.map_count() is None
    assert not compiled_code.release_if_near_map_limit(0.0)
