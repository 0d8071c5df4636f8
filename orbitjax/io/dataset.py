"""xarray Datasets with CF metadata: the one place that names dimensions and variables.

No math here: arrays computed elsewhere are wrapped with coordinates, units and
long names (CF-1.11). Readers of orbitjax files can rely on these names.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

# Dimension vocabulary (xyz last, sat first for per-satellite arrays).
TIME, LAT, LON, SAT, XYZ = "time", "lat", "lon", "sat", "xyz"
N_ASSETS, MIN_ELEVATION, STAGE = "n_assets", "min_elevation", "stage"

CONVENTIONS = "CF-1.11"

VARIABLE_ATTRS = {
    "visible_count": {
        "long_name": "number of satellites above their minimum elevation",
        "units": "1",
    },
    "sat_position_ecef": {
        "long_name": "satellite position, Earth-fixed (pseudo-Earth-fixed, no polar motion)",
        "units": "km",
    },
    "coverage_fraction": {
        "long_name": "area-weighted fraction of the Earth's surface seeing at least one satellite",
        "units": "1",
    },
    "percent_time_covered": {
        "long_name": "percent of time covered by at least one satellite",
        "units": "percent",
    },
    "percent_time_covered_n": {
        "long_name": "percent of time covered by at least n_assets satellites",
        "units": "percent",
    },
    "mean_multiplicity": {"long_name": "time-mean number of satellites in view", "units": "1"},
    "min_multiplicity": {"long_name": "minimum number of satellites in view", "units": "1"},
    "max_multiplicity": {"long_name": "maximum number of satellites in view", "units": "1"},
    "gap_count": {"long_name": "number of coverage gaps (edge gaps included)", "units": "1"},
    "max_gap_s": {"long_name": "longest coverage gap", "units": "s"},
    "mean_gap_s": {"long_name": "mean coverage gap duration", "units": "s"},
    "time_to_first_coverage_s": {"long_name": "time from window start to first coverage", "units": "s"},
    "mean_response_time_s": {
        "long_name": "mean response time: expected wait for coverage from a uniform random request time",
        "units": "s",
    },
    "longest_coverage_s": {"long_name": "longest continuous coverage interval", "units": "s"},
    "min_elevation_deg": {"long_name": "minimum elevation for visibility", "units": "degree"},
    "area_weight": {"long_name": "fraction of the Earth's surface area in the cell", "units": "1"},
    "region_fraction": {"long_name": "fraction of the cell's area inside the region's polygon", "units": "1"},
    "half_angle_deg": {"long_name": "half-angle of the nadir-pointing cone sensor (NaN: none)", "units": "degree"},
    "usable_satellites": {
        "long_name": "satellite seen by at least one gateway above its mask at the sample (bent-pipe service)",
        "flag_values": np.array([0, 1], np.int8), "flag_meanings": "not_usable usable", "timing": "sampled",
    },
    "n_usable_satellites": {"long_name": "number of satellites seen by at least one gateway", "units": "1",
                            "timing": "sampled"},
}

COORD_ATTRS = {
    TIME: {"standard_name": "time", "long_name": "time (UTC)", "axis": "T", "units_metadata": "leap_seconds: none"},
    LAT: {"standard_name": "latitude", "long_name": "cell-centre geodetic latitude (WGS84)",
          "units": "degrees_north", "axis": "Y"},
    LON: {"standard_name": "longitude", "long_name": "cell-centre longitude", "units": "degrees_east", "axis": "X"},
    SAT: {"long_name": "satellite name", "cf_role": "timeseries_id"},
    XYZ: {"long_name": "Cartesian component"},
    N_ASSETS: {"long_name": "minimum number of satellites for N-asset coverage", "units": "1"},
    MIN_ELEVATION: {"long_name": "minimum elevation mask of the sweep", "units": "degree"},
}

# In-memory dimension order of variables stored in another (CF 2.4) order on disk.
CANONICAL_DIMS = {"sat_position_ecef": (TIME, SAT, XYZ), "usable_satellites": (TIME, SAT)}

FIGURES_OF_MERIT = (
    "percent_time_covered",
    "percent_time_covered_n",
    "mean_multiplicity",
    "min_multiplicity",
    "max_multiplicity",
    "gap_count",
    "max_gap_s",
    "mean_gap_s",
    "time_to_first_coverage_s",
    "mean_response_time_s",
    "longest_coverage_s",
)


def _lazy_or_array(values, dtype):
    """A chunked (dask) array of the right dtype is kept lazy (streamed when written); else a numpy array."""
    if hasattr(values, "chunks") and hasattr(values, "compute") and values.dtype == dtype:
        return values
    return np.asarray(values, dtype)


def coverage_dataset(
    *,
    times: np.ndarray,
    lat_deg: np.ndarray,
    lon_deg: np.ndarray,
    area_weight: np.ndarray,
    sat_names: np.ndarray,
    min_elevation_deg: np.ndarray,
    coverage_fraction: np.ndarray,
    figures: dict[str, np.ndarray],
    n_assets: tuple[int, ...],
    visible_count: np.ndarray | None = None,
    sat_position_ecef: np.ndarray | None = None,
    elevation_sweep_deg: tuple[float, ...] | None = None,
    attrs: dict | None = None,
    earth_model: str = "wgs84",
    timing: str = "exact",
    region_fraction: np.ndarray | None = None,
    regional: bool = False,
) -> xr.Dataset:
    """Wrap coverage results in a CF Dataset.

    ``earth_model`` ("wgs84" or "sphere") sets what ``lat`` means (geodetic on the
    WGS84 ellipsoid, or geocentric on a sphere); ``timing`` ("exact" or "sampled")
    is recorded on each figure of merit (``timing`` attribute: "event" for the
    figures computed from access times found inside each step, "sampled" for those
    from the samples).

    Shapes: times (time,), coverage_fraction (time,) or (min_elevation, time);
    figures (lat, lon) each (with a leading min_elevation axis when a sweep is
    given, and n_assets before lat/lon for ``percent_time_covered_n``);
    visible_count (time, lat, lon); sat_position_ecef (time, sat, 3) in km.
    ``regional``: the grid is a region's box (``coverage_fraction`` is then the
    fraction of the region); ``region_fraction`` (lat, lon): each cell's area
    fraction inside the region's polygon.
    """
    sweep = elevation_sweep_deg is not None
    lead = (MIN_ELEVATION,) if sweep else ()
    data_vars = {
        "min_elevation_deg": ((SAT,), np.asarray(min_elevation_deg, np.float64)),
        "coverage_fraction": (lead + (TIME,), np.asarray(coverage_fraction, np.float64)),
        "area_weight": ((LAT,), np.asarray(area_weight, np.float64)),
    }
    for name, values in figures.items():
        dims = lead + ((N_ASSETS,) if name == "percent_time_covered_n" else ()) + (LAT, LON)
        data_vars[name] = (dims, np.asarray(values))
    if region_fraction is not None:
        data_vars["region_fraction"] = ((LAT, LON), np.asarray(region_fraction, np.float64))
    if visible_count is not None:
        data_vars["visible_count"] = ((TIME, LAT, LON), _lazy_or_array(visible_count, np.int16))
    if sat_position_ecef is not None:
        data_vars["sat_position_ecef"] = ((TIME, SAT, XYZ), _lazy_or_array(sat_position_ecef, np.float32))
    coords = {
        TIME: np.asarray(times, "datetime64[ns]"),
        LAT: np.asarray(lat_deg, np.float64),
        LON: np.asarray(lon_deg, np.float64),
        SAT: np.asarray(sat_names).astype(str),
        XYZ: np.array(["x", "y", "z"]),
        N_ASSETS: np.asarray(n_assets, np.int32),
    }
    if sweep:
        coords[MIN_ELEVATION] = np.asarray(elevation_sweep_deg, np.float64)
    ds = xr.Dataset(data_vars, coords=coords)
    for name, a in COORD_ATTRS.items():
        if name in ds.coords:
            ds[name].attrs.update(a)
    for name in ds.data_vars:
        ds[name].attrs.update(VARIABLE_ATTRS.get(name, {}))
    if earth_model == "sphere":
        ds[LAT].attrs["long_name"] = "cell-centre latitude (geocentric, spherical Earth)"
    if regional:
        ds["coverage_fraction"].attrs["long_name"] = "area-weighted fraction of the region seeing at least one satellite"
    for name in figures:
        ds[name].attrs["timing"] = "event" if timing == "exact" and name in EVENT_TIMED else "sampled"
    ds.attrs.update({"Conventions": CONVENTIONS, **(attrs or {})})
    return ds


def constraint_variables(ds: xr.Dataset, *, half_angle_deg=None, usable=None, gateway_names=None,
                         store_usable: bool = True) -> xr.Dataset:
    """Add the sensor/gateway variables: ``half_angle_deg(sat)``, ``n_usable_satellites(time)`` and
    (when ``store_usable``) ``usable_satellites(time, sat)`` int8, with a ``gateway`` coordinate of names."""
    if half_angle_deg is not None:
        ds["half_angle_deg"] = ((SAT,), np.asarray(half_angle_deg, np.float64), VARIABLE_ATTRS["half_angle_deg"])
    if usable is not None:
        usable = np.asarray(usable, bool)
        ds["n_usable_satellites"] = ((TIME,), usable.sum(axis=1).astype(np.int32), VARIABLE_ATTRS["n_usable_satellites"])
        if store_usable:
            ds["usable_satellites"] = ((TIME, SAT), usable.astype(np.int8), VARIABLE_ATTRS["usable_satellites"])
        if gateway_names is not None:
            ds = ds.assign_coords(gateway=("gateway", np.asarray(gateway_names).astype(str),
                                           {"long_name": "gateway name"}))
    return ds


EVENT_TIMED = frozenset({
    "percent_time_covered", "gap_count", "max_gap_s", "mean_gap_s", "time_to_first_coverage_s",
    "mean_response_time_s", "longest_coverage_s",
})
"""Figures computed from access times inside each step in ``timing="exact"`` mode; the others are sampled."""


def propagation_dataset(
    *,
    times: np.ndarray,
    sat_names: np.ndarray,
    norad_id: np.ndarray | None,
    position_km: np.ndarray,
    velocity_km_s: np.ndarray,
    error_code: np.ndarray,
    frame: str,
    attrs: dict | None = None,
) -> xr.Dataset:
    """Wrap propagated states: ``position_{frame}(sat, time, xyz)`` km, ``velocity_{frame}`` km/s,
    ``error_code(sat, time)`` (0 = ok; SGP4 codes 1-6, NaN states where non-zero)."""
    frame_text = {"teme": "TEME (true equator, mean equinox)", "ecef": "Earth-fixed (pseudo-Earth-fixed)"}[frame]
    ds = xr.Dataset(
        {
            f"position_{frame}": ((SAT, TIME, XYZ), np.asarray(position_km, np.float64),
                                  {"long_name": f"position, {frame_text}", "units": "km"}),
            f"velocity_{frame}": ((SAT, TIME, XYZ), np.asarray(velocity_km_s, np.float64),
                                  {"long_name": f"velocity, {frame_text}", "units": "km s-1"}),
            "error_code": ((SAT, TIME), np.asarray(error_code, np.int8),
                           {"long_name": "propagation error code (0 ok; SGP4 codes 1-6)", "units": "1",
                            "flag_values": np.arange(7, dtype=np.int8),
                            "flag_meanings": "ok mean_eccentricity mean_motion perturbed_eccentricity "
                                             "semi_latus_rectum suborbital decayed"}),
        },
        coords={TIME: np.asarray(times, "datetime64[ns]"), SAT: np.asarray(sat_names).astype(str),
                XYZ: np.array(["x", "y", "z"])},
    )
    if norad_id is not None:
        ds = ds.assign_coords(norad_id=((SAT,), np.asarray(norad_id, np.int64), {"long_name": "NORAD catalogue number"}))
    for name, a in COORD_ATTRS.items():
        if name in ds.coords:
            ds[name].attrs.update(a)
    ds.attrs.update({"Conventions": CONVENTIONS, **(attrs or {})})
    return ds
