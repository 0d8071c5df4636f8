"""Compiled kernels kept on disk whole, so a new process skips tracing and lowering too.

JAX's persistent compilation cache (configured in ``orbitjax/__init__.py``) saves
XLA's compile, but every new process still traces the Python function to a jaxpr
and lowers it to StableHLO before it can look the entry up: for the event-timed
coverage chunk that is ~1.7 s of the ~2.6 s a cache hit costs, paid once per
kernel shape (three in the default run). :func:`stored` keeps the serialized
executable itself (``jax.experimental.serialize_executable``) under a key made of
everything the trace depends on, and loads it without tracing.

The key (SHA-256) covers the function's module and name, the static arguments'
``repr``, every array argument's shape, dtype and weak type and the tree that
holds them, the source of every orbitjax module (any edit gives new keys), the
versions of JAX, jaxlib and NumPy, the backend, its devices and platform
version, ``XLA_FLAGS`` and the JAX settings that change a trace. A key that
could depend on memory addresses (a static whose ``repr`` holds ``at 0x``) is
not stored.

Files are written to a temporary name and renamed (a reader never sees half an
executable, with no lock), touched when read, and the folder is kept under
:data:`STORE_MAX_BYTES` by removing the least recently used. An entry that
cannot be read or loaded is removed and the kernel compiled again, as without
the store. The store is used only in a process with one JAX device (the
executable is tied to it) and lives in ``executables/`` of the compilation cache
folder: ``ORBITJAX_CACHE_DIR=off`` turns both off.

Its kernels are compiled past JAX's persistent cache (:func:`_compile_fresh`): an
executable that JAX read back from that cache serializes incompletely on XLA:CPU.
A first use after any edit of orbitjax therefore compiles from scratch once.
Used by ``analysis._chunk_step`` (``coverage()``) and ``studies._batch_chunk``
(``study()``).
"""

from __future__ import annotations

import hashlib
import os
import pickle
import sys
import threading
from pathlib import Path

import jax
import numpy as np

from .io.atomic import write_atomic

STORE_MAX_BYTES = 2 * 2**30
"""Size bound of the executable store (least recently used entries go first)."""

_SUFFIX = ".exe"
_CONFIG_NAMES = ("jax_enable_x64", "jax_default_matmul_precision", "jax_numpy_rank_promotion",
                 "jax_numpy_dtype_promotion", "jax_default_prng_impl")
_loaded: dict[str, object] = {}  # key -> jax.stages.Compiled, this process
counts = {"read": 0, "compiled": 0, "bypassed": 0}
"""Executables this process read from the store, compiled into it, and calls that went past it."""
_lock = threading.Lock()
_source_digest: str | None = None


def store_dir() -> Path | None:
    """The store's folder, or None when the compilation cache is off."""
    from . import compilation_cache_dir  # noqa: PLC0415 (the package's root module)

    cache = compilation_cache_dir()
    return None if cache is None else Path(cache) / "executables"


def _sources() -> str:
    """Digest of every orbitjax module's source, computed once per process."""
    global _source_digest
    if _source_digest is None:
        h = hashlib.sha256()
        root = Path(__file__).resolve().parent
        for path in sorted(root.rglob("*.py")):
            h.update(str(path.relative_to(root)).encode())
            h.update(path.read_bytes())
        _source_digest = h.hexdigest()
    return _source_digest


def _environment() -> tuple:
    import jaxlib  # noqa: PLC0415

    device = jax.devices()[0]
    backend = device.client
    return (jax.__version__, jaxlib.__version__, np.__version__, sys.version_info[:2], _sources(),
            device.platform, device.device_kind, backend.platform_version, os.environ.get("XLA_FLAGS", ""),
            tuple(str(getattr(jax.config, name, None)) for name in _CONFIG_NAMES))


def _key(fn, args, static: dict) -> str | None:
    leaves, tree = jax.tree_util.tree_flatten(args)
    avals = []
    for x in leaves:
        if not hasattr(x, "shape") or not hasattr(x, "dtype") or isinstance(x, jax.core.Tracer):
            return None  # a Python scalar (its weak type is the tracer's) or under a trace
        avals.append((tuple(x.shape), str(x.dtype), bool(getattr(x, "weak_type", False))))
    statics = repr(sorted(static.items()))
    if " at 0x" in statics:
        return None
    text = repr((fn.__module__, fn.__qualname__, statics, str(tree), avals, _environment()))
    return hashlib.sha256(text.encode()).hexdigest()


def _read(path: Path):
    from jax.experimental import serialize_executable  # noqa: PLC0415

    try:
        with open(path, "rb") as f:
            payload, in_tree, out_tree = pickle.load(f)
        compiled = serialize_executable.deserialize_and_load(payload, in_tree, out_tree)
    except FileNotFoundError:
        return None
    except Exception:  # noqa: BLE001 (corrupt, truncated or from an incompatible build: compile again)
        try:
            path.unlink(missing_ok=True)
        except OSError:  # a read-only store: the entry stays, unused
            pass
        return None
    try:
        os.utime(path)  # most recently used
    except OSError:
        pass
    return compiled


def _write(path: Path, compiled) -> None:
    from jax.experimental import serialize_executable  # noqa: PLC0415

    try:
        data = pickle.dumps(serialize_executable.serialize(compiled), protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # noqa: BLE001 (an executable that cannot be serialized is simply not stored)
        return
    try:
        write_atomic(path, lambda f: f.write(data), binary=True, mode=None)
        _evict(path.parent, STORE_MAX_BYTES)
    except OSError:  # a read-only or full cache folder: run without storing
        return


def _evict(folder: Path, max_bytes: int) -> None:
    """Remove the least recently used entries until the folder's entries fit in ``max_bytes``."""
    entries = []
    for p in folder.glob(f"*{_SUFFIX}"):
        try:
            st = p.stat()
        except OSError:
            continue
        entries.append((st.st_mtime_ns, st.st_size, p))
    total = sum(size for _, size, _ in entries)
    for _, size, p in sorted(entries, key=lambda e: e[0]):
        if total <= max_bytes:
            break
        p.unlink(missing_ok=True)
        total -= size


def stored(jitted, *, static_argnames: tuple[str, ...]):
    """``jitted`` (a ``jax.jit`` function called with its arrays positionally and its static
    arguments by keyword), with its executables kept in the store.

    Falls back to ``jitted`` itself where the store is off, under a trace (e.g. inside a
    ``vmap`` or another ``jit``), with several devices, or when a key cannot be made.
    """
    fn = getattr(jitted, "__wrapped__", jitted)
    static_set = frozenset(static_argnames)

    def call(*args, **kwargs):
        folder = store_dir()
        key = None
        if folder is not None and not set(kwargs) - static_set and jax.device_count() == 1:
            key = _key(fn, args, kwargs)
        if key is None:
            counts["bypassed"] += 1
            return jitted(*args, **kwargs)
        compiled = _loaded.get(key)
        if compiled is None:
            with _lock:
                compiled = _loaded.get(key)
                if compiled is None:
                    path = folder / f"{fn.__name__}-{key[:40]}{_SUFFIX}"
                    compiled = _read(path)
                    if compiled is None:
                        compiled = _compile_fresh(jitted, args, kwargs)
                        _write(path, compiled)
                        counts["compiled"] += 1
                    else:
                        counts["read"] += 1
                    _loaded[key] = compiled
        return compiled(*args)

    call.__wrapped__ = fn
    call.__doc__ = fn.__doc__
    return call


def _compile_fresh(jitted, args, kwargs):
    """Compile without JAX's persistent cache: an executable JAX read back from that cache
    serializes incompletely on XLA:CPU (jax 0.10.2: loading it again fails at its first run
    with "Function wrapped_iota not found"), so only freshly compiled ones are stored.

    JAX decides once per process whether its cache is used; ``reset_cache`` makes it decide
    again, under the setting turned off for this compile and on again after it.
    """
    from jax.experimental.compilation_cache.compilation_cache import reset_cache  # noqa: PLC0415

    enabled = jax.config.jax_enable_compilation_cache
    jax.config.update("jax_enable_compilation_cache", False)
    reset_cache()
    try:
        return jitted.lower(*args, **kwargs).compile()
    finally:
        jax.config.update("jax_enable_compilation_cache", enabled)
        reset_cache()


def forget() -> None:
    """Drop the executables this process loaded or compiled through the store (they unmap once
    unused; see :mod:`orbitjax.compiled_code`). Later calls read them from disk again."""
    with _lock:
        _loaded.clear()
