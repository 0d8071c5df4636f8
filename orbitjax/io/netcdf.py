"""NetCDF persistence: compressed, atomic, CF-checked writes of orbitjax Datasets.

A file is first written under a temporary name in the target directory and then
renamed with ``os.replace`` (atomic on POSIX and Windows), so a crash or an
interrupt never leaves a half-written file under the final name. Temporaries are
named ``.{final name}.{random}.tmp``; :func:`stale_temporaries` finds those a
killed run left behind.

CF encoding (checked with the IOOS compliance-checker, ``tests/test_cf_compliance.py``):
coordinate variables carry no ``_FillValue`` (CF 2.5.1), and variables whose
in-memory dimensions put a non-spatio-temporal dimension after ``time`` are
stored with those dimensions first (CF 2.4: ``sat_position_ecef(time, sat, xyz)``
is stored as ``(sat, xyz, time)``). :func:`open_netcdf` restores the in-memory
order, so ``open_netcdf(write_netcdf(ds, p))`` is identical to ``ds``.
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import tempfile
import threading
from pathlib import Path

import numpy as np
import xarray as xr

from .dataset import CANONICAL_DIMS, LAT, LON, TIME

_STRING_DTYPES = ("U", "S", "O")
_TIME_UNITS = (("seconds", 10**9), ("milliseconds", 10**6), ("microseconds", 10**3), ("nanoseconds", 1))
_CF_AXES = (TIME, LAT, LON)  # T, Y, X: must come last, in this order (CF 2.4)


class NetCDFError(OSError):
    """A NetCDF file that cannot be written or read; the message names the file."""


def cf_dims(dims: tuple[str, ...]) -> tuple[str, ...]:
    """``dims`` reordered for CF 2.4: other dimensions first, then time, lat, lon."""
    return tuple(d for d in dims if d not in _CF_AXES) + tuple(d for d in _CF_AXES if d in dims)


def to_cf_layout(ds: xr.Dataset) -> xr.Dataset:
    """``ds`` with every data variable's dimensions in CF order (a no-op for most variables)."""
    moved = {n: cf_dims(v.dims) for n, v in ds.data_vars.items() if cf_dims(v.dims) != v.dims}
    if not moved:
        return ds
    return ds.assign({n: ds[n].transpose(*d) for n, d in moved.items()})


def from_cf_layout(ds: xr.Dataset) -> xr.Dataset:
    """Undo :func:`to_cf_layout` for the variables of :data:`orbitjax.io.dataset.CANONICAL_DIMS`."""
    moved = {n: d for n, d in CANONICAL_DIMS.items() if n in ds.data_vars and set(ds[n].dims) == set(d) and ds[n].dims != d}
    if not moved:
        return ds
    return ds.assign({n: ds[n].transpose(*d) for n, d in moved.items()})


def encoding_for(ds: xr.Dataset, *, complevel: int = 1) -> dict:
    """zlib-compressed, shuffled encodings for the numeric variables, chunked by time.

    Coordinates get ``_FillValue: None``: CF 2.5.1 forbids a fill value on coordinate
    variables (xarray would add NaN to float coordinates such as lat and lon).
    """
    enc = {}
    for name, var in ds.data_vars.items():
        if var.dtype.kind in _STRING_DTYPES:
            continue
        e = {"zlib": True, "complevel": complevel, "shuffle": True}
        if "time" in var.dims and var.ndim >= 2:
            e["chunksizes"] = tuple(min(60, n) if d == "time" else n for d, n in zip(var.dims, var.shape))
        if var.dtype.kind == "f":
            e["_FillValue"] = np.nan
        enc[name] = e
    for name in ds.coords:
        enc[name] = {"_FillValue": None}
    if "time" in ds.coords:
        ns = ds["time"].values.astype("datetime64[ns]").astype(np.int64)
        unit = next(u for u, q in _TIME_UNITS if np.all(ns % q == 0))  # coarsest exact unit
        enc["time"] = {"units": f"{unit} since 1970-01-01 00:00:00", "calendar": "proleptic_gregorian",
                       "dtype": "int64", "_FillValue": None}
    return enc


def temporary_name(path: Path) -> str:
    """Prefix of the temporaries of ``path`` (``.{name}.``); they end in ``.tmp``."""
    return f".{path.name}."


def stale_temporaries(directory: str | os.PathLike, names) -> list[Path]:
    """Temporaries ``.{name}.*.tmp`` of the given final file names left in ``directory``."""
    directory = Path(directory)
    if not directory.is_dir():
        return []
    out = []
    for name in names:
        out += sorted(p for p in directory.glob(f".{name}.*.tmp") if p.is_file())
    return out


@contextlib.contextmanager
def interrupt_after():
    """Hold Ctrl-C (SIGINT) until the block ends, then raise ``KeyboardInterrupt``.

    An interrupt inside xarray's NetCDF write can leave its HDF5 file lock held, and the
    write's cleanup then waits for that lock forever (seen: ``orbitjax run`` interrupted
    while writing a stage never exited). Only in the main thread, and only where Python's
    own SIGINT handler is installed.
    """
    if (threading.current_thread() is not threading.main_thread()
            or signal.getsignal(signal.SIGINT) is not signal.default_int_handler):
        yield
        return
    held = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: held.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if held:
        raise KeyboardInterrupt


def write_netcdf(ds: xr.Dataset, path: str | os.PathLike, *, complevel: int = 1) -> Path:
    """Write ``ds`` to ``path`` (NETCDF4, compressed, CF layout) atomically; return the path.

    Raises:
      NetCDFError (an OSError) naming ``path`` when the file cannot be written
      (disk full, permissions, an HDF error); no temporary file is left behind.
      KeyboardInterrupt: Ctrl-C during the write, raised once the file is written.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=temporary_name(path), suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise NetCDFError(f"{path}: cannot write ({exc.strerror or exc})") from exc
    os.close(fd)
    try:
        cf = to_cf_layout(ds)
        with interrupt_after():  # Ctrl-C comes after the file is whole, under its final name
            cf.to_netcdf(tmp, format="NETCDF4", engine="netcdf4", encoding=encoding_for(cf, complevel=complevel))
            os.chmod(tmp, 0o644)
            os.replace(tmp, path)
    except (OSError, RuntimeError) as exc:
        Path(tmp).unlink(missing_ok=True)
        detail = getattr(exc, "strerror", None) or (str(exc).splitlines() or [type(exc).__name__])[0]
        hint = "; is the disk full?" if "HDF" in detail or getattr(exc, "errno", None) == errno.ENOSPC else ""
        raise NetCDFError(f"{path}: cannot write NetCDF ({detail}{hint})") from exc
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def open_netcdf(path: str | os.PathLike) -> xr.Dataset:
    """Open an orbitjax NetCDF file (lazily) with its CF decoding and in-memory dimension order.

    Raises:
      FileNotFoundError: no such file.
      NetCDFError (an OSError) naming the file when it is not readable NetCDF (truncated, corrupted).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(2, "no such NetCDF file", str(path))
    try:
        ds = xr.open_dataset(path, engine="netcdf4")
    except (OSError, RuntimeError, ValueError) as exc:
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise NetCDFError(f"{path}: cannot be read as NetCDF ({detail}); the file is damaged or not NetCDF") from exc
    return from_cf_layout(ds)
