"""NetCDF persistence: compressed, atomic writes of orbitjax Datasets.

A file is first written under a temporary name in the target directory and then
renamed with ``os.replace`` (atomic on POSIX and Windows), so a crash or an
interrupt never leaves a half-written file under the final name.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
import xarray as xr

_STRING_DTYPES = ("U", "S", "O")
_TIME_UNITS = (("seconds", 10**9), ("milliseconds", 10**6), ("microseconds", 10**3), ("nanoseconds", 1))


def encoding_for(ds: xr.Dataset, *, complevel: int = 1) -> dict:
    """zlib-compressed, shuffled encodings for the numeric variables, chunked by time."""
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
    if "time" in ds.coords:
        ns = ds["time"].values.astype("datetime64[ns]").astype(np.int64)
        unit = next(u for u, q in _TIME_UNITS if np.all(ns % q == 0))  # coarsest exact unit
        enc["time"] = {"units": f"{unit} since 1970-01-01 00:00:00", "calendar": "proleptic_gregorian", "dtype": "int64"}
    return enc


def write_netcdf(ds: xr.Dataset, path: str | os.PathLike, *, complevel: int = 1) -> Path:
    """Write ``ds`` to ``path`` (NETCDF4, compressed) atomically; return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        ds.to_netcdf(tmp, format="NETCDF4", engine="netcdf4", encoding=encoding_for(ds, complevel=complevel))
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def open_netcdf(path: str | os.PathLike) -> xr.Dataset:
    """Open an orbitjax NetCDF file (lazily) with its CF decoding."""
    return xr.open_dataset(path, engine="netcdf4")
