"""orbitjax: constellation coverage on GPU or CPU with JAX, xarray and NetCDF.

Precision is a per-device default: importing orbitjax turns on JAX's float64
support (``jax_enable_x64``), so the kernels run in float64, unless JAX will run on
a GPU (a CUDA/ROCm plugin is installed and ``JAX_PLATFORMS`` does not pick the CPU):
then it is left off and the kernels run in float32, within the error budget of
docs/gpu.md. ``ORBITJAX_ENABLE_X64=1`` forces float64 anywhere, ``=0`` leaves
JAX's setting alone (float32 unless the user enabled x64).

The public names below are imported on first use, and JAX with them: ``import
orbitjax`` and ``orbitjax --help`` do not import JAX (about 2 s). JAX is
configured by :func:`_configure_jax` as soon as it is imported, by orbitjax or
anyone else (or at once, when it was imported before orbitjax).
"""

import importlib as _importlib
import importlib.util as _importlib_util
import os as _os
import sys as _sys

__version__ = "0.1.0"


CACHE_MAX_BYTES = 4 * 2**30
"""Size bound of the persistent compilation cache (least recently used entries go first)."""


def compilation_cache_dir() -> str | None:
    """Folder of JAX's persistent compilation cache used by orbitjax, or None when disabled.

    ``ORBITJAX_CACHE_DIR`` moves it (``0``/``off``/empty string: disabled); the
    default is ``$XDG_CACHE_HOME/orbitjax/jax`` (``~/.cache/orbitjax/jax``).
    Compiled kernels are reused across processes: a new notebook kernel or batch
    job then skips most of the ~10 s of compilation. The folder is bounded to
    :data:`CACHE_MAX_BYTES` and locked for each read and write (safe to share
    between concurrent processes).
    """
    value = _os.environ.get("ORBITJAX_CACHE_DIR")
    if value is not None:
        return None if value.strip().lower() in ("", "0", "off", "false", "no") else value
    base = _os.environ.get("XDG_CACHE_HOME") or _os.path.join(_os.path.expanduser("~"), ".cache")
    return _os.path.join(base, "orbitjax", "jax")


def accelerator_expected() -> bool:
    """Whether JAX will run on a GPU, judged without starting its backends.

    ``JAX_PLATFORMS`` decides when set (its first entry); otherwise a CUDA or ROCm
    PJRT plugin must be installed (JAX finds them as modules of the ``jax_plugins``
    namespace package, e.g. ``jax_plugins.xla_cuda12``) and ``CUDA_VISIBLE_DEVICES``
    must not hide every GPU. Starting the backends here would fix the platform before
    the user's own ``jax.config`` calls; listing the namespace's folders takes well
    under a millisecond (reading every installed distribution's metadata took ~100 ms
    at each start).
    """
    platforms = _os.environ.get("JAX_PLATFORMS", "").strip().lower()
    if platforms:
        return platforms.split(",")[0].strip() not in ("cpu", "")
    if _os.environ.get("CUDA_VISIBLE_DEVICES", None) in ("", "-1"):
        return False
    import pkgutil  # noqa: PLC0415 (only when deciding the precision)

    spec = _importlib_util.find_spec("jax_plugins")
    if spec is None or not spec.submodule_search_locations:
        return False
    names = (m.name.lower() for m in pkgutil.iter_modules(spec.submodule_search_locations))
    return any("cuda" in n or "rocm" in n for n in names)


def float64_by_default() -> bool:
    """The per-device precision default: float64 on CPU, float32 on GPUs (see the module docstring)."""
    value = _os.environ.get("ORBITJAX_ENABLE_X64", "auto").strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    if value not in ("auto", ""):
        import warnings  # noqa: PLC0415

        warnings.warn(f"ORBITJAX_ENABLE_X64={value!r} is not 0, 1 or auto: using auto", stacklevel=2)
    return not accelerator_expected()


def _configure_jax(jax) -> None:
    """orbitjax's JAX settings, applied once JAX is imported."""
    if float64_by_default():
        jax.config.update("jax_enable_x64", True)
    cache = compilation_cache_dir()
    if cache and not jax.config.jax_compilation_cache_dir:
        try:
            _os.makedirs(cache, exist_ok=True)
        except OSError:  # read-only home: run without the cache
            return
        jax.config.update("jax_compilation_cache_dir", cache)
        # Cache every kernel, however quick its compile and whatever its size: the small
        # eager kernels and finalisers each compile in 0.1-0.5 s, ~0.7 s in all on the first
        # coverage() call of every new process (2-core VM), against ~0.05 s to read them back.
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
        jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
        # A bounded cache: JAX then evicts the least recently used entries and takes a file
        # lock for every read and write, so processes sharing the folder (Dask workers,
        # parallel batch jobs) never read a half-written entry. Where no lock can be taken
        # (a read-only team cache, a file system without locks) JAX could then read nothing:
        # the folder is used unbounded and unlocked, as JAX does by default.
        if _lockable(cache):
            _adopt_unbounded_entries(cache)
            jax.config.update("jax_compilation_cache_max_size", CACHE_MAX_BYTES)


def _lockable(folder: str) -> bool:
    """Whether a file lock can be taken in ``folder`` (JAX's bounded cache locks ``.lockfile`` there)."""
    try:
        import filelock  # noqa: PLC0415
    except ImportError:
        return False
    lock = filelock.FileLock(_os.path.join(folder, ".lockfile"))
    try:
        lock.acquire(timeout=0)
    except filelock.Timeout:  # another process holds it: locks work
        return True
    except OSError:
        return False
    lock.release()
    return True


def _adopt_unbounded_entries(folder: str) -> None:
    """Give cache entries written without a size bound the access-time file JAX's eviction reads.

    Entries from an unbounded cache (earlier orbitjax) have none; JAX's eviction scan
    would then fail, and warn, at every write. Their modification time stands in.
    """
    try:
        names = set(_os.listdir(folder))
    except OSError:
        return
    for name in names:
        if not name.endswith("-cache"):
            continue
        atime = name[: -len("-cache")] + "-atime"
        if atime in names:
            continue
        try:
            stamp = _os.stat(_os.path.join(folder, name)).st_mtime_ns
            with open(_os.path.join(folder, atime), "xb") as f:
                f.write(int(stamp).to_bytes(8, "little"))
        except OSError:  # removed meanwhile, written by JAX meanwhile, or a read-only folder
            continue


class _ConfigureJaxOnImport:
    """A one-shot meta-path finder: runs :func:`_configure_jax` right after ``jax`` is first imported."""

    @classmethod
    def find_spec(cls, name, path=None, target=None):
        if name != "jax":
            return None
        if cls in _sys.meta_path:
            _sys.meta_path.remove(cls)
        spec = _importlib_util.find_spec(name)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        exec_module = spec.loader.exec_module

        def exec_and_configure(module):
            exec_module(module)
            _configure_jax(module)

        spec.loader.exec_module = exec_and_configure
        return spec


if "jax" in _sys.modules:
    _configure_jax(_sys.modules["jax"])
else:
    _sys.meta_path.insert(0, _ConfigureJaxOnImport)

# Public name -> (module, attribute); attribute None means the module itself.
_PUBLIC = {
    "compare": (".compare", None),
    "landmask": (".landmask", None),
    "summaries": (".summaries", None),
    "timescales": (".timescales", None),
    "coverage": (".analysis", "coverage"),
    "Satellites": (".catalog", "Satellites"),
    "group_by_launch": (".catalog", "group_by_launch"),
    "Constellation": (".constellation", "Constellation"),
    "from_elements": (".constellation", "from_elements"),
    "walker": (".constellation", "walker"),
    "open_stages": (".compare", "open_stages"),
    "open_netcdf": (".io.netcdf", "open_netcdf"),
    "write_netcdf": (".io.netcdf", "write_netcdf"),
    "read_omm": (".io.omm", "read_omm"),
    "read_tle": (".io.tle", "read_tle"),
    "write_tle": (".io.tle", "write_tle"),
    "propagate": (".propagation", "propagate"),
    "Scenario": (".scenario", "Scenario"),
    "load_preset": (".scenario", "load_preset"),
    "load_scenario": (".scenario", "load_scenario"),
    "run": (".stages", "run"),
    "stage_datasets": (".stages", "stage_datasets"),
    "access": (".site_access", "access"),
    "Sites": (".io.sites", "Sites"),
    "read_sites": (".io.sites", "read_sites"),
    "regions": (".regions", None),
    "Region": (".regions", "Region"),
    "region_summary": (".region_stats", "region_summary"),
    "Gateways": (".constraints", "Gateways"),
    "study": (".studies", "study"),
    "failure_study": (".studies", "failure_study"),
    "design": (".design", None),
    "tune_allocator": (".allocator", "tune_allocator"),
}

__all__ = sorted(_PUBLIC) + ["__version__"]


def __getattr__(name):
    if name in _PUBLIC:
        module, attr = _PUBLIC[name]
        value = _importlib.import_module(module, __name__)
        if attr is not None:
            value = getattr(value, attr)
    elif not name.startswith("__"):
        try:  # sub-packages and modules, e.g. orbitjax.kernels
            value = _importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{name}":
                raise
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_PUBLIC))
