"""Keeping a long-lived process clear of XLA:CPU's memory-map limit.

Every executable XLA:CPU compiles maps its kernels' code into the process one
region at a time: a coverage chunk kernel takes about 1,100 memory maps, and JAX
keeps every executable it compiled for as long as the process lives. Linux refuses
new maps past ``vm.max_map_count`` (65,530 by default), and XLA's JIT linker then
crashes the process with a segmentation fault instead of raising. A notebook or a
batch job that runs coverage() on some fifty different shapes (grids, windows,
satellite counts, masks) would get there; the test suite did.

:func:`release_if_near_map_limit` is called before each coverage run: when the
process holds more than three quarters of the limit, it drops JAX's compiled
executables (``jax.clear_caches``), which unmaps them. Shapes used again then
compile again (or come from the persistent compilation cache).
"""

from __future__ import annotations

import gc
import warnings

MAP_COUNT_PATH = "/proc/self/maps"
MAX_MAP_COUNT_PATH = "/proc/sys/vm/max_map_count"
RELEASE_FRACTION = 0.75


def map_count() -> int | None:
    """Memory maps the process holds now (Linux), else None."""
    try:
        with open(MAP_COUNT_PATH, "rb") as fh:
            return sum(1 for _ in fh)
    except OSError:
        return None


def max_map_count() -> int | None:
    """The kernel's per-process limit on memory maps (Linux), else None."""
    try:
        with open(MAX_MAP_COUNT_PATH) as fh:
            return int(fh.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def release_if_near_map_limit(fraction: float = RELEASE_FRACTION, *, warn: bool = True) -> bool:
    """Drop JAX's compiled executables when the process nears the memory-map limit.

    Returns True when they were dropped (with a warning saying why, unless ``warn``
    is False), False otherwise (including on systems without /proc).
    """
    limit, count = max_map_count(), map_count()
    if limit is None or count is None or count < fraction * limit:
        return False
    import jax  # noqa: PLC0415

    from . import executable_store  # noqa: PLC0415 (imports JAX)

    jax.clear_caches()
    executable_store.forget()  # the executables it loaded from disk, too
    gc.collect()
    if not warn:
        return True
    warnings.warn(
        f"orbitjax: the process held {count:,} memory maps, near the kernel's limit of {limit:,} "
        "(vm.max_map_count), mostly compiled XLA kernels; JAX's compiled functions were released "
        "and will compile again when used",
        RuntimeWarning,
        stacklevel=3,
    )
    return True
