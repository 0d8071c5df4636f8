"""tune_allocator: freed large buffers are reused from the heap instead of faulted in again."""

import json
import os
import subprocess
import sys

import pytest

import orbitjax

SCRIPT = """
import ctypes, json, resource
import orbitjax
applied = orbitjax.tune_allocator()
libc = ctypes.CDLL(None)
libc.malloc.restype, libc.malloc.argtypes, libc.free.argtypes = ctypes.c_void_p, [ctypes.c_size_t], [ctypes.c_void_p]
n = 320_000_000  # a buffer the size of a fine-grid chunk's temporaries, through malloc as XLA's are
p = libc.malloc(n); ctypes.memset(p, 1, n); libc.free(p)
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
p = libc.malloc(n); ctypes.memset(p, 1, n)
print(json.dumps({"applied": applied, "faults": resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before}))
"""


def _run(tune: str) -> dict:
    env = dict(os.environ, ORBITJAX_TUNE_MALLOC=tune)
    out = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


@pytest.mark.skipif(not sys.platform.startswith("linux") or not os.confstr("CS_GNU_LIBC_VERSION").startswith("glibc"),
                    reason="glibc's mallopt")
def test_a_freed_large_buffer_is_reused_without_page_faults():
    tuned, default = _run("1"), _run("0")
    assert tuned["applied"] and not default["applied"]
    pages = 320_000_000 // 4096
    assert default["faults"] > pages // 2  # glibc's default: a fresh mmap, every page faulted in again
    assert tuned["faults"] < pages // 20  # the heap's pages, already mapped


def test_switched_off_by_the_environment(monkeypatch):
    monkeypatch.setenv("ORBITJAX_TUNE_MALLOC", "0")
    assert orbitjax.tune_allocator() is False
