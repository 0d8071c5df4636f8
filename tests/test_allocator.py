"""tune_allocator: freed large buffers are reused from the heap instead of faulted in again."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import orbitjax

PROBE_BYTES = 320_000_000  # a buffer the size of a fine-grid chunk's temporaries, through malloc as XLA's are
PROBE_PAGES = PROBE_BYTES // 4096
needs_glibc = pytest.mark.skipif(
    not sys.platform.startswith("linux") or not os.confstr("CS_GNU_LIBC_VERSION").startswith("glibc"),
    reason="glibc's mallopt")


def pages_refaulted(n_bytes: int = PROBE_BYTES) -> int:
    """Minor page faults of a large malloc'd buffer filled again after a free (in this process)."""
    import ctypes
    import resource

    libc = ctypes.CDLL(None)
    libc.malloc.restype, libc.malloc.argtypes, libc.free.argtypes = ctypes.c_void_p, [ctypes.c_size_t], [ctypes.c_void_p]
    first = libc.malloc(n_bytes)
    ctypes.memset(first, 1, n_bytes)
    libc.free(first)
    start = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    again = libc.malloc(n_bytes)
    ctypes.memset(again, 1, n_bytes)
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - start
    libc.free(again)
    return faults


SCRIPT = f"""
import json, sys
sys.path.insert(0, {str(Path(__file__).parent)!r})
import orbitjax
applied = orbitjax.tune_allocator()
from test_allocator import pages_refaulted
print(json.dumps({{"applied": applied, "faults": pages_refaulted()}}))
"""


def _run(tune: str) -> dict:
    env = dict(os.environ, ORBITJAX_TUNE_MALLOC=tune)
    out = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


@needs_glibc
def test_a_freed_large_buffer_is_reused_without_page_faults():
    tuned, default = _run("1"), _run("0")
    assert tuned["applied"] and not default["applied"]
    assert default["faults"] > PROBE_PAGES // 2  # glibc's default: a fresh mmap, every page faulted in again
    assert tuned["faults"] < PROBE_PAGES // 20  # the heap's pages, already mapped


def test_switched_off_by_the_environment(monkeypatch):
    monkeypatch.setenv("ORBITJAX_TUNE_MALLOC", "0")
    assert orbitjax.tune_allocator() is False
