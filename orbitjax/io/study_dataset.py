"""Datasets of design studies and failure Monte Carlos (``design`` / ``draw`` dimensions); no math."""

from __future__ import annotations

import numpy as np
import xarray as xr

from .dataset import CONVENTIONS, COORD_ATTRS, LAT, LON, N_ASSETS, SAT, VARIABLE_ATTRS

DESIGN, DRAW, QUANTILE = "design", "draw", "quantile"

_REGIONS = {"global": "the whole Earth", "band": "the latitude band band_deg (both hemispheres)"}
_PARAM_ATTRS = {
    "altitude_km": {"long_name": "Walker shell mean altitude above the WGS84 equatorial radius", "units": "km"},
    "inclination_deg": {"long_name": "Walker shell inclination", "units": "degree"},
    "planes": {"long_name": "Walker P: number of orbital planes", "units": "1"},
    "sats_per_plane": {"long_name": "satellites per plane (T / P)", "units": "1"},
    "phasing": {"long_name": "Walker F: relative phasing", "units": "1"},
    "min_elevation_deg": {"long_name": "minimum elevation for visibility", "units": "degree"},
    "raan0_deg": {"long_name": "RAAN of plane 0", "units": "degree"},
    "pattern": {"long_name": "Walker pattern (delta or star)"},
}


def _figure_attrs(name: str) -> dict:
    for region, where in _REGIONS.items():
        if f"_{region}" not in name:
            continue
        if name.startswith("percent_time_covered_n_"):
            return {"long_name": f"area-weighted percent of time covered by at least n_assets satellites, over {where}",
                    "units": "percent"}
        if name.startswith("percent_time_covered_"):
            return {"long_name": f"area-weighted percent of time covered, over {where}", "units": "percent"}
        if name.startswith("max_gap_"):
            return {"long_name": f"longest coverage gap of any cell covered at least once, over {where}",
                    "units": "s"}
        if name.startswith("mean_max_gap_"):
            return {"long_name": f"area-weighted mean of the cells' longest gap (cells covered at least once), "
                                 f"over {where}", "units": "s"}
        if name.startswith("mean_response_time_"):
            return {"long_name": f"area-weighted mean response time over {where}", "units": "s"}
    if name == "percent_time_covered_lat":
        return {"long_name": "zonal mean percent of time covered", "units": "percent"}
    return VARIABLE_ATTRS.get(name, {})


def _dims(name: str, lead: tuple[str, ...], values) -> tuple[str, ...]:
    if name.startswith("percent_time_covered_n"):
        return lead + (N_ASSETS,) + ((LAT, LON) if np.ndim(values) == len(lead) + 3 else ())
    if name == "percent_time_covered_lat":
        return lead + (LAT,)
    return lead + (LAT, LON)[: np.ndim(values) - len(lead)]


def _finish(ds: xr.Dataset, attrs: dict | None) -> xr.Dataset:
    for name, a in COORD_ATTRS.items():
        if name in ds.coords:
            ds[name].attrs.update(a)
    for name in ds.variables:
        if name in _PARAM_ATTRS:
            ds[name].attrs.update(_PARAM_ATTRS[name])
        elif name in ds.data_vars and not ds[name].attrs:
            ds[name].attrs.update(_figure_attrs(name.removesuffix("_nominal").removesuffix("_quantile")))
    ds.attrs.update({"Conventions": CONVENTIONS, **(attrs or {})})
    return ds


def study_dataset(*, dim: str, figures: dict, n_satellites, params, n_assets, lat_deg, lon_deg,
                  cells=None, failed_steps=None, attrs=None) -> xr.Dataset:
    """Per-design figures (design,) / (design, n_assets) / (design, lat); ``cells`` per-cell figures."""
    data = {name: (_dims(name, (dim,), v), np.asarray(v)) for name, v in figures.items()}
    data["n_satellites"] = ((dim,), np.asarray(n_satellites, np.int64))
    if failed_steps is not None:
        data["failed_satellite_steps"] = ((dim,), np.asarray(failed_steps, np.int64))
    for name, v in (cells or {}).items():
        data[f"cell_{name}"] = (_dims(name, (dim,), v), np.asarray(v))
    coords = {dim: np.arange(len(n_satellites)), N_ASSETS: np.asarray(n_assets, np.int32)}
    if any(LAT in d for d, _ in data.values()):
        coords[LAT] = np.asarray(lat_deg, np.float64)
    if any(LON in d for d, _ in data.values()):
        coords[LON] = np.asarray(lon_deg, np.float64)
    for k, v in (params or {}).items():
        coords[k] = ((dim,), np.asarray(v))
    ds = xr.Dataset(data, coords=coords)
    for name, v in (cells or {}).items():
        ds[f"cell_{name}"].attrs.update(VARIABLE_ATTRS.get(name, {}))
    ds["n_satellites"].attrs.update({"long_name": "number of satellites", "units": "1"})
    if failed_steps is not None:
        ds["failed_satellite_steps"].attrs.update(
            {"long_name": "satellite-steps whose propagation failed (NaN)", "units": "1"})
    return _finish(ds, attrs)


def failure_dataset(*, figures: dict, failed, sat_names, quantiles, n_assets, attrs=None) -> xr.Dataset:
    """Figures per failure draw; entry 0 of ``figures`` is the nominal (no failure) constellation."""
    failed = np.asarray(failed, bool)
    q = np.asarray(quantiles, np.float64)
    data = {
        "failed": ((DRAW, SAT), failed),
        "n_failed": ((DRAW,), failed.sum(axis=1).astype(np.int64)),
    }
    for name, v in figures.items():
        v = np.asarray(v)
        dims = _dims(name, (DRAW,), v)
        data[name] = (dims, v[1:])
        data[f"{name}_nominal"] = (dims[1:], v[0])
        data[f"{name}_quantile"] = ((QUANTILE,) + dims[1:], np.nanquantile(v[1:], q, axis=0))
    coords = {DRAW: np.arange(failed.shape[0]), SAT: np.asarray(sat_names).astype(str),
              QUANTILE: q, N_ASSETS: np.asarray(n_assets, np.int32)}
    ds = xr.Dataset(data, coords=coords)
    ds["failed"].attrs.update({"long_name": "satellite failed in this draw", "units": "1"})
    ds["n_failed"].attrs.update({"long_name": "number of failed satellites", "units": "1"})
    ds[QUANTILE].attrs.update({"long_name": "quantile over the failure draws", "units": "1"})
    return _finish(ds, attrs)
