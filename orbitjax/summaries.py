"""Area-weighted summaries of coverage rasters: global and zonal means, one-stage tables.

Every mean here weights a cell by its exact area: on the WGS84 ellipsoid for
geodetic grids (the default; ellipsoid zones from Snyder's authalic ``q``), on the
sphere for orbitjax's spherical model (``lat`` long_name says geocentric), where a
cell between latitudes a < b spanning ``dlon`` degrees covers
``(sin b - sin a) / 2 * dlon / 360``; the same as
:meth:`orbitjax.kernels.grid.Grid.cell_area_fraction` on a global grid. Optional extra weights (e.g. a population raster) and masks
(e.g. the land fraction of :mod:`orbitjax.landmask`) multiply the area weight.

NaN cells of the field are left out of both the weighted sum and the sum of
weights (so the mean is over the cells that have a value); NaN weights or mask
values leave their cell out too.

Functions take xarray objects whose dimensions follow :mod:`orbitjax.io.dataset`
(``lat``, ``lon`` in degrees, cell centres); other dimensions (``min_elevation``,
``n_assets``, ``stage``, ``time``) are kept.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import xarray as xr

from .io.dataset import LAT, LON, MIN_ELEVATION, SAT, TIME
from .kernels.earth import WGS84
from .kernels.grid import Grid, _authalic_q

__all__ = [
    "area_mean",
    "area_weights",
    "latitude_profile",
    "regrid_weights",
    "summary_table",
    "continuous_band",
    "SUMMARY_KEYS",
]

# Tolerance on coordinates, degrees: grids agree when every centre is within it.
COORD_TOL_DEG = 1e-6
# Keys of summary_table, in table order.
SUMMARY_KEYS = (
    "stage",
    "stage_name",
    "stage_date",
    "n_satellites",
    "mean_coverage_fraction",
    "percent_time_covered_global",
    "percent_time_covered_land",
    "continuous_band_deg",
    "max_gap_s",
    "mean_response_time_s",
    "min_elevation_deg",
    "region",
)


# --------------------------------------------------------------------------- grid helpers


def _check_dims(da: xr.DataArray, what: str) -> None:
    missing = {LAT, LON} - set(da.dims)
    if missing:
        raise ValueError(
            f"{what} needs dims {LAT!r} and {LON!r}; missing {sorted(missing)}, found {list(da.dims)}"
        )


def _spacing(values: np.ndarray, name: str) -> float | None:
    """Uniform positive spacing of ascending ``values`` (None for a single value)."""
    if values.size < 2:
        return None
    d = np.diff(values)
    if not (np.all(d > 0) and np.ptp(d) <= COORD_TOL_DEG):
        raise ValueError(f"{name} must be ascending and regularly spaced; found steps {np.unique(np.round(d, 9))[:5]}")
    return float(d.mean())


def _resolution(lat: np.ndarray, lon: np.ndarray) -> tuple[float, float]:
    """(dlat, dlon) cell sizes in degrees, each inferred from the other when it has one value."""
    dlat, dlon = _spacing(lat, LAT), _spacing(lon, LON)
    if dlat is None and dlon is None:
        raise ValueError("cannot infer the cell size of a single cell; give at least two lat or lon values")
    return (dlat if dlat is not None else dlon), (dlon if dlon is not None else dlat)


def area_weights(lat: Any, lon: Any, earth_model: str = "wgs84") -> xr.DataArray:
    """(lat,) fraction of the Earth's area in one cell of each row of a regular grid.

    ``lat``/``lon`` are ascending, regularly spaced cell centres in degrees; cell
    edges are half a step either side (clipped to +-90). ``earth_model`` "wgs84"
    (geodetic latitudes, ellipsoid zones) or "sphere" (geocentric latitudes). On a
    global grid this equals ``Grid(d, earth_model).cell_area_fraction()`` and sums
    to 1 over all cells.
    """
    lat = np.asarray(lat, np.float64)
    lon = np.asarray(lon, np.float64)
    dlat, dlon = _resolution(lat, lon)
    a = np.radians(np.clip(lat - dlat / 2, -90.0, 90.0))
    b = np.radians(np.clip(lat + dlat / 2, -90.0, 90.0))
    if earth_model == "sphere":
        zone = (np.sin(b) - np.sin(a)) / 2.0
    else:
        e = np.sqrt(WGS84.flattening * (2.0 - WGS84.flattening))
        zone = (_authalic_q(b, e) - _authalic_q(a, e)) / (2.0 * _authalic_q(np.pi / 2, e))
    w = zone * (dlon / 360.0)
    return xr.DataArray(w, dims=(LAT,), coords={LAT: lat}, name="area_weight",
                        attrs={"long_name": "fraction of the Earth's surface area in the cell", "units": "1"})


def _earth_model_of(da: xr.DataArray) -> str:
    """"sphere" when the lat coordinate says geocentric (orbitjax's sphere model), else "wgs84"."""
    return "sphere" if "geocentric" in str(da[LAT].attrs.get("long_name", "")) else "wgs84"


def _normalise_lon(lon: np.ndarray) -> np.ndarray:
    """Longitudes into [-180, 180): 0..360 rasters become -180..180."""
    return (np.asarray(lon, np.float64) + 180.0) % 360.0 - 180.0


def _aligned(field: Any, da: xr.DataArray, what: str) -> xr.DataArray:
    """``field`` as a (lat, lon) DataArray on ``da``'s grid, NaN -> 0 (cell excluded)."""
    lat, lon = da[LAT].values, da[LON].values
    if isinstance(field, xr.DataArray):
        _check_dims(field, what)
        field = field.assign_coords({LON: _normalise_lon(field[LON].values)}).sortby([LAT, LON])
        ok = (field.sizes[LAT] == lat.size and field.sizes[LON] == lon.size
              and np.allclose(field[LAT].values, lat, rtol=0, atol=COORD_TOL_DEG))
        if ok:  # the field's columns in its own order (a box across the antimeridian runs 170..190)
            want = _normalise_lon(lon)
            k = np.clip(np.searchsorted(field[LON].values, want - COORD_TOL_DEG), 0, lon.size - 1)
            ok = np.allclose(field[LON].values[k], want, rtol=0, atol=COORD_TOL_DEG) and np.unique(k).size == k.size
        if not ok:
            raise ValueError(
                f"{what} is not on the field's grid: expected {lat.size} x {lon.size} cells, lat "
                f"{lat[0]:g}..{lat[-1]:g}, lon {lon[0]:g}..{lon[-1]:g}; found {field.sizes[LAT]} x "
                f"{field.sizes[LON]}, lat {field[LAT].values[0]:g}..{field[LAT].values[-1]:g}, lon "
                f"{field[LON].values[0]:g}..{field[LON].values[-1]:g} (use regrid_weights first)"
            )
        field = field.isel({LON: k}).transpose(LAT, LON).assign_coords({LAT: lat, LON: lon})
    else:
        arr = np.asarray(field, np.float64)
        if arr.shape != (lat.size, lon.size):
            raise ValueError(f"{what} array must have shape (lat, lon) = {(lat.size, lon.size)}, got {arr.shape}")
        field = xr.DataArray(arr, dims=(LAT, LON), coords={LAT: lat, LON: lon})
    field = field.astype(np.float64).fillna(0.0)
    if bool((field < 0).any()):
        raise ValueError(f"{what} must be non-negative")
    return field


def _total_weight(da: xr.DataArray, weights: Any, mask: Any) -> xr.DataArray:
    _check_dims(da, "the field")
    w = area_weights(da[LAT].values, da[LON].values, _earth_model_of(da)).broadcast_like(da[LON]).transpose(LAT, LON)
    if weights is not None:
        w = w * _aligned(weights, da, "weights")
    if mask is not None:
        m = _aligned(mask, da, "mask")
        if bool((m > 1 + 1e-12).any()):
            raise ValueError("mask must be boolean or a fraction in [0, 1]")
        w = w * m
    return w


# --------------------------------------------------------------------------- means


def area_mean(da: xr.DataArray, *, weights: Any = None, mask: Any = None) -> xr.DataArray:
    """Area-weighted mean over ``lat`` and ``lon``; other dimensions are kept.

    mean = sum(f * A * w * m) / sum(A * w * m) over cells where ``f`` is not NaN,
    with ``A`` the exact spherical cell area (see module docstring), ``w`` the
    optional extra weights (e.g. population per cell) and ``m`` the optional mask
    (boolean, or a fraction in [0, 1] such as :func:`orbitjax.landmask.land_fraction`).

    Args:
      da: field with dims including ``lat``, ``lon`` (degrees, ascending cell centres).
      weights: (lat, lon) non-negative DataArray on the same grid (lon may be
        0..360), or ndarray of that shape. See :func:`regrid_weights` for other grids.
      mask: same forms as ``weights``.

    Returns:
      DataArray with ``lat``/``lon`` removed; NaN where no cell has weight.

    Raises:
      ValueError: missing ``lat``/``lon`` dims, irregular grid, weights/mask on
        another grid or negative (mask above 1).
    """
    w = _total_weight(da, weights, mask)
    valid = da.notnull()
    num = (da.fillna(0.0) * w).sum((LAT, LON))
    den = (w * valid).sum((LAT, LON))
    out = num / den.where(den > 0)
    out.attrs = {k: v for k, v in da.attrs.items() if k in ("long_name", "units")}
    return out.rename(da.name)


def latitude_profile(da: xr.DataArray, *, band_deg: float | None = None, weights: Any = None,
                     mask: Any = None) -> xr.DataArray:
    """Zonal (per latitude band) area-weighted means.

    Without ``band_deg`` each grid row is a band (the zonal mean); with it, rows
    are grouped in bands ``[-90 + m * band_deg, -90 + (m + 1) * band_deg)``, and
    each band's mean is :func:`area_mean` over its rows. ``band_deg`` must be a
    multiple of the grid's row height and divide 180.

    Returns:
      DataArray with ``lon`` removed and ``lat`` the band centres (degrees), plus
      coordinates ``lat_min``/``lat_max`` (band edges, degrees) along ``lat``.
    """
    w = _total_weight(da, weights, mask)
    lat = da[LAT].values
    dlat, _ = _resolution(lat, da[LON].values)
    if band_deg is None:
        band_deg = dlat
    k, n = band_deg / dlat, 180.0 / band_deg
    if band_deg <= 0 or abs(k - round(k)) > 1e-6 or abs(n - round(n)) > 1e-6:
        raise ValueError(
            f"band_deg must be a positive multiple of the grid's row height {dlat:g} deg that divides 180; got {band_deg}"
        )
    band = np.floor((lat + 90.0) / band_deg + 1e-9).astype(np.int64)
    valid = da.notnull()
    num = (da.fillna(0.0) * w).sum(LON)
    den = (w * valid).sum(LON)
    b = xr.DataArray(band, dims=(LAT,), name="band")
    num = num.groupby(b).sum()
    den = den.groupby(b).sum()
    out = (num / den.where(den > 0)).rename({"band": LAT})
    lo = -90.0 + out[LAT].values * band_deg
    out = out.assign_coords({LAT: lo + band_deg / 2, "lat_min": (LAT, lo), "lat_max": (LAT, lo + band_deg)})
    out[LAT].attrs.update({"standard_name": "latitude", "long_name": "latitude band centre", "units": "degrees_north"})
    out.attrs = {k: v for k, v in da.attrs.items() if k in ("long_name", "units")}
    return out.rename(da.name)


# --------------------------------------------------------------------------- user rasters


_ALIASES = {"latitude": LAT, "longitude": LON}


def regrid_weights(weights: xr.DataArray | str | os.PathLike, lat: Any, lon: Any, *,
                   variable: str | None = None, extensive: bool = True) -> xr.DataArray:
    """Put a user raster (e.g. population) on the coverage grid ``lat`` x ``lon``.

    The raster is a DataArray or a NetCDF path (``variable`` names the variable;
    optional when the file has one variable with lat/lon dims). Dims ``latitude``/
    ``longitude`` are renamed ``lat``/``lon``; size-1 extra dims are dropped.
    Longitudes 0..360 are mapped to -180..180 and both axes sorted ascending.

    Then either
      * the raster is on the coverage grid (same sizes, centres within 1e-6 deg):
        it is returned as is, with the coverage grid's coordinates; or
      * it is a finer regular grid nesting in the coverage grid (each coverage
        cell holds exactly k_lat x k_lon raster cells: integer ratios of
        resolutions, block-mean centres equal to the coverage centres): it is
        aggregated conservatively. ``extensive=True`` (counts, e.g. persons per
        cell): block sums, so the total is conserved; NaN counts as 0.
        ``extensive=False`` (densities, fractions): area-weighted block means
        (rows weighted by sin b - sin a), NaN cells left out.

    Args:
      weights: DataArray or path to a NetCDF file.
      lat, lon: coverage grid cell centres, degrees (ascending, regular).
      variable: variable name when ``weights`` is a path.
      extensive: block sums (True) or area-weighted block means (False).

    Returns:
      float64 DataArray (lat, lon) on the coverage grid.

    Raises:
      ValueError: no lat/lon dims (names the missing and found dims), extra
        dims, or a grid that is neither the coverage grid nor nested in it
        (states the expected and found sizes, extents and resolutions).
    """
    da = _load_raster(weights, variable)
    da = da.rename({k: v for k, v in _ALIASES.items() if k in da.dims and v not in da.dims})
    missing = {LAT, LON} - set(da.dims)
    if missing:
        raise ValueError(f"weights raster needs dims {LAT!r} and {LON!r}; missing {sorted(missing)}, found {list(da.dims)}")
    extra = [d for d in da.dims if d not in (LAT, LON)]
    if any(da.sizes[d] > 1 for d in extra):
        raise ValueError(f"weights raster must be 2-D (lat, lon); found extra dims {[(d, da.sizes[d]) for d in extra]}")
    da = da.squeeze(extra, drop=True).transpose(LAT, LON)
    da = da.assign_coords({LON: _normalise_lon(da[LON].values)}).sortby([LAT, LON]).astype(np.float64)
    if np.unique(da[LON].values).size != da.sizes[LON]:
        raise ValueError("weights raster has duplicate longitudes after mapping 0..360 to -180..180")

    lat = np.asarray(lat, np.float64)
    lon = np.asarray(lon, np.float64)
    dlat, dlon = _resolution(lat, lon)
    src_lat, src_lon = da[LAT].values, da[LON].values
    coords = {LAT: lat, LON: lon}

    def found() -> str:
        res = []
        for v in (src_lat, src_lon):
            d = np.diff(v)
            res.append(f"{d.mean():g}" if d.size and np.ptp(d) <= COORD_TOL_DEG else "irregular")
        return (f"found {src_lat.size} x {src_lon.size} cells, lat {src_lat[0]:g}..{src_lat[-1]:g} step "
                f"{res[0]}, lon {src_lon[0]:g}..{src_lon[-1]:g} step {res[1]}")

    expected = (f"expected the coverage grid ({lat.size} x {lon.size} cells, lat {lat[0]:g}..{lat[-1]:g}, "
                f"lon {lon[0]:g}..{lon[-1]:g}, step {dlat:g} x {dlon:g} deg) or a finer regular grid nesting in it")

    if (src_lat.size == lat.size and src_lon.size == lon.size
            and np.allclose(src_lat, lat, rtol=0, atol=COORD_TOL_DEG)
            and np.allclose(src_lon, lon, rtol=0, atol=COORD_TOL_DEG)):
        return xr.DataArray(da.values, dims=(LAT, LON), coords=coords, name=da.name, attrs=dict(da.attrs))

    k_lat, k_lon = src_lat.size // lat.size, src_lon.size // lon.size
    nested = (
        k_lat >= 1 and k_lon >= 1 and src_lat.size == k_lat * lat.size and src_lon.size == k_lon * lon.size
        and (k_lat > 1 or k_lon > 1)
    )
    if nested:
        try:
            s_lat, s_lon = _spacing(src_lat, LAT), _spacing(src_lon, LON)
        except ValueError:
            nested = False
        else:
            nested = (
                (s_lat is None or abs(s_lat * k_lat - dlat) <= COORD_TOL_DEG)
                and (s_lon is None or abs(s_lon * k_lon - dlon) <= COORD_TOL_DEG)
                and np.allclose(src_lat.reshape(lat.size, k_lat).mean(1), lat, rtol=0, atol=COORD_TOL_DEG)
                and np.allclose(src_lon.reshape(lon.size, k_lon).mean(1), lon, rtol=0, atol=COORD_TOL_DEG)
            )
    if not nested:
        raise ValueError(f"weights raster grid does not fit: {expected}; {found()}")

    v = da.values.reshape(lat.size, k_lat, lon.size, k_lon)
    if extensive:
        out = np.nansum(v, axis=(1, 3))
    else:
        # (lat, k_lat, 1, 1) row areas broadcast over (lat, k_lat, lon, k_lon)
        row_w = area_weights(src_lat, src_lon).values.reshape(lat.size, k_lat, 1, 1)
        ok = np.isfinite(v)
        num = np.where(ok, v, 0.0) * row_w
        den = ok * row_w
        with np.errstate(invalid="ignore", divide="ignore"):
            out = num.sum(axis=(1, 3)) / den.sum(axis=(1, 3))
    attrs = dict(da.attrs)
    attrs["regrid"] = (f"{'block sum' if extensive else 'area-weighted block mean'} of {k_lat} x {k_lon} cells "
                       f"({src_lat.size} x {src_lon.size} source grid)")
    return xr.DataArray(out, dims=(LAT, LON), coords=coords, name=da.name, attrs=attrs)


def _load_raster(weights: Any, variable: str | None) -> xr.DataArray:
    if isinstance(weights, xr.DataArray):
        return weights
    if isinstance(weights, xr.Dataset):
        ds = weights
    elif isinstance(weights, (str, os.PathLike)):
        with xr.open_dataset(weights) as f:
            ds = f.load()
    else:
        raise TypeError(f"weights must be an xarray.DataArray or a NetCDF path, got {type(weights).__name__}")
    if variable is None:
        cands = [n for n, v in ds.data_vars.items()
                 if {LAT, LON} <= set(v.dims) or {"latitude", "longitude"} <= set(v.dims)]
        if len(cands) != 1:
            raise ValueError(f"give variable=: found {len(cands)} lat/lon variables {cands} among {list(ds.data_vars)}")
        variable = cands[0]
    if variable not in ds.data_vars:
        raise ValueError(f"variable {variable!r} not found; variables are {list(ds.data_vars)}")
    return ds[variable]


# --------------------------------------------------------------------------- one stage


def continuous_band(percent_time_covered: xr.DataArray) -> tuple[float, float] | None:
    """Edges (lat_min_deg, lat_max_deg) of the widest run of grid rows covered 100 % of the time.

    A row qualifies when every cell has ``percent_time_covered >= 100 - 1e-9``
    (float rounding). Of equally wide runs the southernmost is returned; None
    when no row qualifies. Edges are the rows' cell edges (centre +- half a row).
    """
    ptc = percent_time_covered
    _check_dims(ptc, "percent_time_covered")
    extra = [d for d in ptc.dims if d not in (LAT, LON)]
    if extra:
        raise ValueError(f"continuous_band needs a (lat, lon) field; found extra dims {extra} (select one first)")
    lat = ptc[LAT].values
    dlat, _ = _resolution(lat, ptc[LON].values)
    full = (ptc.transpose(LAT, LON).values >= 100.0 - 1e-9).all(axis=1)
    best, start, best_span = None, None, 0
    for i, f in enumerate(np.append(full, False)):
        if f and start is None:
            start = i
        elif not f and start is not None:
            if i - start > best_span:
                best, best_span = (start, i - 1), i - start
            start = None
    if best is None:
        return None
    return float(lat[best[0]] - dlat / 2), float(lat[best[1]] + dlat / 2)


def _meta(ds: xr.Dataset, key: str, default: Any = None) -> Any:
    """A global attribute, or the scalar coordinate of the same name (a stage slice)."""
    if key in ds.attrs:
        return ds.attrs[key]
    if key in ds.coords and ds[key].ndim == 0:
        v = ds[key].item()
        return v.decode() if isinstance(v, bytes) else v
    return default


def _select_elevation(ds: xr.Dataset, min_elevation: float | None) -> tuple[xr.Dataset, float | None]:
    """One elevation of a sweep (the first one by default) and its value; no sweep: (ds, None)."""
    if MIN_ELEVATION not in ds.dims:
        if min_elevation is not None:
            raise ValueError("min_elevation given but the dataset has no elevation sweep")
        return ds, None
    values = ds[MIN_ELEVATION].values
    if min_elevation is None:
        return ds.isel({MIN_ELEVATION: 0}), float(values[0])
    hit = np.flatnonzero(np.abs(values - float(min_elevation)) <= 1e-9)
    if hit.size == 0:
        raise ValueError(f"min_elevation {min_elevation} is not in the sweep {values.tolist()} deg")
    return ds.isel({MIN_ELEVATION: int(hit[0])}), float(values[hit[0]])


def summary_table(ds: xr.Dataset, *, min_elevation: float | None = None) -> dict[str, Any]:
    """Main figures of one stage (one file of :func:`orbitjax.io.dataset.coverage_dataset`).

    Keys (:data:`SUMMARY_KEYS`):
      stage, stage_name, stage_date: from the global attributes (None if absent).
      n_satellites: attribute ``n_satellites``, else the size of ``sat``.
      mean_coverage_fraction: time mean of ``coverage_fraction`` (1).
      percent_time_covered_global: :func:`area_mean` of ``percent_time_covered`` (percent).
      percent_time_covered_land: the same weighted by the land fraction of each
        cell (:func:`orbitjax.landmask.land_fraction`); None when the grid is
        not a multiple of the land mask's 0.25 deg.
      continuous_band_deg: :func:`continuous_band` of ``percent_time_covered``.
      max_gap_s: largest ``max_gap_s`` among the cells covered at least once (s);
        never-covered cells (e.g. polar caps out of a shell's reach) would pin it
        to the window length. None when no cell is ever covered.
      mean_response_time_s: :func:`area_mean` of ``mean_response_time_s`` (s).
      min_elevation_deg: the sweep's elevation mask reported (deg), None without a sweep.
      region: the run's region name (attribute ``region_name``), None for the globe.
        On a regional run the means are over the region (cells weighted by
        ``region_fraction`` for a polygon) and ``*_global`` names the region;
        ``orbitjax.region_summary`` has more per-region figures.

    Args:
      ds: one stage's Dataset (or one ``stage`` of :func:`orbitjax.compare.open_stages`).
      min_elevation: the elevation (deg) of a ``min_elevation`` sweep to report;
        default the sweep's first value (given back as ``min_elevation_deg``).

    Raises:
      ValueError: ``min_elevation`` not in the sweep, or given without a sweep.
    """
    ds, elevation = _select_elevation(ds, min_elevation)
    n_sat = _meta(ds, "n_satellites")
    if n_sat is None and SAT in ds.dims:
        n_sat = ds.sizes[SAT]
    out: dict[str, Any] = {
        "stage": _int_or_none(_meta(ds, "stage")),
        "stage_name": _meta(ds, "stage_name"),
        "stage_date": _meta(ds, "stage_date"),
        "n_satellites": _int_or_none(n_sat),
        "mean_coverage_fraction": _float(ds["coverage_fraction"].mean(TIME)) if "coverage_fraction" in ds else None,
    }
    ptc = ds.get("percent_time_covered")
    region = ds.get("region_fraction")  # a polygon region's cell weights
    out["percent_time_covered_global"] = _float(area_mean(ptc, mask=region)) if ptc is not None else None
    out["percent_time_covered_land"] = _land_mean(ptc, region) if ptc is not None else None
    out["continuous_band_deg"] = continuous_band(ptc) if ptc is not None else None
    seen = None if ptc is None else (ptc > 0) if region is None else (ptc > 0) & (region > 0)
    if "max_gap_s" in ds and seen is not None and bool(seen.any()):
        out["max_gap_s"] = _float(ds["max_gap_s"].where(seen).max())
    else:
        out["max_gap_s"] = None
    mrt = ds.get("mean_response_time_s")
    out["mean_response_time_s"] = _float(area_mean(mrt, mask=region)) if mrt is not None else None
    out["min_elevation_deg"] = elevation
    out["region"] = _meta(ds, "region_name")
    return out


def _land_mean(ptc: xr.DataArray, region: xr.DataArray | None = None) -> float | None:
    """Land-weighted mean on a global grid, or on a box whose cells are cells of the global grid."""
    from .landmask import land_fraction  # noqa: PLC0415 -- reads the bundled file on first use

    lat, lon = ptc[LAT].values, ptc[LON].values
    dlat, dlon = _resolution(lat, lon)
    try:
        grid = Grid(dlat)
        if abs(dlat - dlon) > COORD_TOL_DEG:
            return None
        # Rows and columns of the global grid holding the field's cells (longitudes modulo 360).
        i = np.round((lat - grid.lat_deg[0]) / dlat).astype(np.int64)
        j = np.round(((lon - grid.lon_deg[0]) % 360.0) / dlat).astype(np.int64) % grid.n_lon
        if (i.min() < 0 or i.max() >= grid.n_lat or not np.allclose(grid.lat_deg[i], lat, atol=COORD_TOL_DEG)
                or not np.allclose(_normalise_lon(grid.lon_deg[j]), _normalise_lon(lon), atol=COORD_TOL_DEG)):
            return None
        land = land_fraction(dlat)[np.ix_(i, j)]
    except ValueError:
        return None
    if region is not None:
        land = land * region.transpose(LAT, LON).values
    if not np.any(land > 0):
        return None
    mask = xr.DataArray(land, dims=(LAT, LON), coords={LAT: lat, LON: lon})
    return _float(area_mean(ptc, mask=mask))


def _float(x: Any) -> float:
    return float(np.asarray(x))


def _int_or_none(x: Any) -> int | None:
    return None if x is None else int(x)
