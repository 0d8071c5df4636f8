"""Shared test configuration: float64 everywhere, strict rank promotion, no persistent compile cache."""

import os

# Tests compile in a clean state: JAX's persistent cache (on by default for users, see
# orbitjax.compilation_cache_dir) is turned off for this process and the CLI subprocesses it
# starts. CI machines are ephemeral, so the cache cannot pay for itself there, and reading
# XLA:CPU executables back has crashed a CI run (test_compile_cache.py checks the cache itself).
os.environ["ORBITJAX_CACHE_DIR"] = "off"
# On a GPU machine the xdist workers share the accelerator: JAX's default preallocation (75 %
# of its memory per process, at start-up) would leave every worker after the first unable to
# allocate. No effect on CPU.
os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")
# The suite is dominated by XLA compilation, not by running kernels: LLVM's -O0 halves the
# compile time of the coverage chunk kernel (38 -> 20 s) and runs it about 3x slower. IEEE
# semantics are the same at every level (no fast-math), so results agree with the references
# to the same tolerances. XLA:CPU's older elemental emitters (instead of its MLIR fusion
# emitters) and one LLVM module per executable cut the compile time further, 8.5 -> 4.7 s
# for a small event-timed coverage kernel (measured on 2 cores). Set ORBITJAX_TEST_XLA_OPT=1
# to test with the optimised build and XLA's default emitters.
TEST_XLA_FLAGS = ("--xla_backend_optimization_level=0 --xla_cpu_use_fusion_emitters=false"
                  " --xla_cpu_parallel_codegen_split_count=1")
if os.environ.get("ORBITJAX_TEST_XLA_OPT", "0") != "1":
    os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " " + TEST_XLA_FLAGS).strip()

import jax  # noqa: E402

jax.config.update("jax_enable_x64", True)
jax.config.update("jax_numpy_rank_promotion", "raise")

import pytest  # noqa: E402

from orbitjax.compiled_code import release_if_near_map_limit  # noqa: E402
from orbitjax.memory import available_bytes  # noqa: E402


_WORKER_MEMORY_BYTES = 6 * 2**30  # peak RSS of the heaviest test files (~5 GB), with margin


def pytest_xdist_auto_num_workers(config):
    """``-n auto``: one worker per core, as many as the available memory holds."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    avail = available_bytes()
    return cores if avail is None else max(1, min(cores, avail // _WORKER_MEMORY_BYTES))


def pytest_collection_modifyitems(session, config, items):
    """Files holding a ``slow`` test run first, so the parallel workers do not end on a long tail."""
    slow = {item.path for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: item.path not in slow)  # stable: order inside a file is kept


@pytest.fixture(autouse=True)
def _release_compiled_code_near_the_map_limit():
    """The suite compiles hundreds of executables in one process, each holding ~1,100
    memory maps: past vm.max_map_count XLA:CPU's JIT linker segfaults (it did, twice, in
    CI). Drop JAX's compiled code once the process holds half the limit."""
    yield
    release_if_near_map_limit(0.5, warn=False)


# A tiny scenario (one 2x3 shell, one launch) shared by the CLI and scenario tests.
TINY_SCENARIO = """
[scenario]
name = "tiny"

[analysis]
start = 2025-10-15T00:00:00Z
duration = "20min"
step_s = 120
resolution_deg = 5.0

[sites.pad]
lat_deg = 28.5
lon_deg = -80.6

[[shells]]
name = "A"
altitude_km = 630
inclination_deg = 51.9
planes = 2
sats_per_plane = 3
min_elevation_deg = 35

[[launches]]
name = "L1"
date = 2025-10-01T00:00:00Z
site = "pad"
shell = "A"
satellites = 3
"""
