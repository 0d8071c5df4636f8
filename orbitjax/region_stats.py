"""Figures of merit per region: area-weighted means and worst cells over countries, polygons and boxes.

:func:`region_summary` reduces a coverage Dataset (one run, or the stacked stages
of :func:`orbitjax.compare.open_stages`) over the cells of each region, each cell
weighted by its exact area (:func:`orbitjax.summaries.area_weights`, WGS84
ellipsoid or sphere as the grid says) times the fraction of its area inside the
region (:func:`orbitjax.regions.cell_fraction`). Means are area-weighted over the
region; "worst" figures are taken over every cell with some area in it. Other
dimensions (``stage``, ``min_elevation``, ``n_assets``) are kept.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr

from .io.dataset import LAT, LON, MIN_ELEVATION, N_ASSETS, STAGE
from .regions import Region, as_region, cell_fraction
from .summaries import _earth_model_of, _resolution, area_weights

__all__ = ["region_summary", "region_table", "REGION"]

REGION = "region"
WGS84_AREA_KM2 = 510_065_621.724
"""Surface area of the WGS84 ellipsoid (4 pi R_q^2, authalic radius R_q = 6371.0072 km; Moritz 1980)."""
SPHERE_RADIUS_KM = 6371.0088
# Regions must lie on the dataset's grid: at most this share of a region's area may fall outside it.
OUTSIDE_TOL = 1e-6


def _grid_of(ds: xr.Dataset):
    """The regular grid of a Dataset's lat/lon cell centres as a Grid (box from the centres +- half a cell)."""
    from .kernels.grid import Grid  # noqa: PLC0415

    lat, lon = ds[LAT].values, ds[LON].values
    dlat, dlon = _resolution(lat, lon)
    if abs(dlat - dlon) > 1e-6:
        raise ValueError(f"region_summary needs square cells; found {dlat:g} x {dlon:g} deg")
    box = (lat[0] - dlat / 2, lat[-1] + dlat / 2, lon[0] - dlon / 2, lon[-1] + dlon / 2)
    return Grid(dlat, _earth_model_of(ds), tuple(float(v) for v in box))


def _regions(ds: xr.Dataset, regions) -> list[tuple[str, Any]]:
    """(name, spec) pairs; None -> the Dataset's own region (its polygon fraction, else every cell)."""
    if regions is None:
        name = str(ds.attrs.get("region_name", "grid"))
        return [(name, ds["region_fraction"] if "region_fraction" in ds else None)]
    if isinstance(regions, dict):
        return list(regions.items())
    if isinstance(regions, (str, Region)) or hasattr(regions, "geom_type"):
        regions = [regions]
    elif isinstance(regions, tuple) and len(regions) == 4 and all(np.isscalar(v) for v in regions):
        regions = [regions]
    out = []
    for spec in regions:
        r = as_region(spec)
        out.append((r.name, r))
    return out


def _weights(ds: xr.Dataset, grid, name: str, spec) -> xr.DataArray:
    """(lat, lon) area (fraction of the Earth) of each cell inside the region."""
    lat, lon = ds[LAT].values, ds[LON].values
    cell = area_weights(lat, lon, grid.earth_model).values[:, None] * np.ones((1, lon.size))
    if spec is None:
        frac = np.ones_like(cell)
    elif isinstance(spec, xr.DataArray):
        frac = spec.transpose(LAT, LON).values
    else:
        region = as_region(spec)
        geom = region.geometry
        if geom is None:  # a box: the rectangle (longitudes taken modulo 360 by cell_fraction)
            import shapely  # noqa: PLC0415

            s, n, w, e = region.box
            geom = shapely.box(w, s, e, n)
        frac = cell_fraction(geom, grid)
        total = _polygon_area(geom, grid.earth_model)
        inside = float(np.sum(cell * frac))
        if total > 0 and inside < total * (1.0 - OUTSIDE_TOL):
            raise ValueError(
                f"region {name!r} reaches outside the dataset's grid (lat {grid.box[0]:g}..{grid.box[1]:g}, "
                f"lon {grid.box[2]:g}..{grid.box[3]:g}): only {100 * inside / total:.2f} % of its area is on it"
            )
    if not np.any(frac > 0):
        raise ValueError(f"region {name!r} has no area on the dataset's grid")
    return xr.DataArray(cell * frac, dims=(LAT, LON), coords={LAT: lat, LON: lon})


def _polygon_area(geom, earth_model: str) -> float:
    """Area of a lon/lat polygon as a fraction of the Earth's (equal-area plane, see orbitjax.regions)."""
    import shapely  # noqa: PLC0415

    from .regions import SEGMENT_DEG, _equal_area_y  # noqa: PLC0415

    g = shapely.segmentize(geom, SEGMENT_DEG)
    g = shapely.transform(g, lambda c: np.column_stack([c[:, 0], _equal_area_y(c[:, 1], earth_model)]))
    return float(shapely.area(g)) / (360.0 * 2.0)


def _mean(da: xr.DataArray, w: xr.DataArray) -> xr.DataArray:
    valid = da.notnull()
    den = (w * valid).sum((LAT, LON))
    return (da.fillna(0.0) * w).sum((LAT, LON)) / den.where(den > 0)


def region_summary(ds: xr.Dataset, regions=None, *, min_elevation: float | None = None) -> xr.Dataset:
    """Figures of merit of each region, along a new ``region`` dimension.

    Args:
      ds: a coverage Dataset (:func:`orbitjax.coverage`, a stage file, or the
        stacked stages of :func:`orbitjax.open_stages`), global or regional.
      regions: None (the Dataset's own region: its ``region_fraction`` polygon
        mask, else every cell), or one or a list of: country name or ISO code,
        GeoJSON/shapefile path, box ``(south, north, west, east)``, shapely polygon,
        :class:`orbitjax.regions.Region`; or a dict ``{name: any of those}``. A
        region must lie on the Dataset's grid.
      min_elevation: one elevation of a ``min_elevation`` sweep (default: all kept).

    Returns:
      Dataset with dims ``region`` (+ the Dataset's ``stage``, ``min_elevation``,
      ``n_assets``) and variables:
        ``area_km2``: the region's area on the grid;
        ``n_cells``: cells with some of their area in the region;
        ``percent_time_covered``: area-weighted mean (%);
        ``percent_time_covered_min``: the worst cell (%);
        ``percent_area_always_covered`` / ``percent_area_never_covered``: share
        of the region's area covered 100 % / 0 % of the time (%);
        ``percent_time_covered_n``: area-weighted mean of N-asset coverage (%);
        ``max_gap_s``: the worst cell's longest gap (never-covered cells count
        with their gap, the window); ``mean_gap_s``: area-weighted mean;
        ``mean_response_time_s``: area-weighted mean;
        ``time_to_first_coverage_s_max``: the worst cell;
        ``mean_multiplicity``: area-weighted mean; ``min_multiplicity``: the worst cell.
      Figures absent from ``ds`` are left out.

    Raises:
      ValueError: unknown region names, bad boxes or polygons, a region off the grid.
    """
    if min_elevation is not None:
        if MIN_ELEVATION not in ds.dims:
            raise ValueError("min_elevation given but the dataset has no elevation sweep")
        hit = np.flatnonzero(np.abs(ds[MIN_ELEVATION].values - float(min_elevation)) <= 1e-9)
        if hit.size == 0:
            raise ValueError(f"min_elevation {min_elevation} is not in the sweep {ds[MIN_ELEVATION].values.tolist()}")
        ds = ds.isel({MIN_ELEVATION: int(hit[0])})
    grid = _grid_of(ds)
    earth_km2 = WGS84_AREA_KM2 if grid.earth_model == "wgs84" else 4 * np.pi * SPHERE_RADIUS_KM**2
    parts, names = [], []
    for name, spec in _regions(ds, regions):
        w = _weights(ds, grid, name, spec)
        inside = w > 0
        wsum = float(w.sum())
        out: dict[str, Any] = {
            "area_km2": xr.DataArray(wsum * earth_km2),
            "n_cells": xr.DataArray(int(inside.sum())),
        }
        ptc = ds.get("percent_time_covered")
        if ptc is not None:
            out["percent_time_covered"] = _mean(ptc, w)
            out["percent_time_covered_min"] = ptc.where(inside).min((LAT, LON))
            out["percent_area_always_covered"] = 100.0 * (w * (ptc >= 100.0 - 1e-9)).sum((LAT, LON)) / wsum
            out["percent_area_never_covered"] = 100.0 * (w * (ptc <= 0.0)).sum((LAT, LON)) / wsum
        for key in ("percent_time_covered_n", "mean_gap_s", "mean_response_time_s", "mean_multiplicity"):
            if key in ds:
                out[key] = _mean(ds[key], w)
        if "max_gap_s" in ds:
            out["max_gap_s"] = ds["max_gap_s"].where(inside).max((LAT, LON))
        if "time_to_first_coverage_s" in ds:
            out["time_to_first_coverage_s_max"] = ds["time_to_first_coverage_s"].where(inside).max((LAT, LON))
        if "min_multiplicity" in ds:
            out["min_multiplicity"] = ds["min_multiplicity"].where(inside).min((LAT, LON))
        parts.append(xr.Dataset(out))
        names.append(name)
    res = xr.concat(parts, dim=REGION, coords="minimal", compat="override").assign_coords({REGION: names})
    res = res.drop_vars([c for c in (LAT, LON) if c in res.coords])
    attrs = {
        "area_km2": ("area of the region on the grid", "km2"),
        "n_cells": ("grid cells with some of their area in the region", "1"),
        "percent_time_covered": ("area-weighted mean percent of time covered", "percent"),
        "percent_time_covered_min": ("percent of time covered of the worst cell", "percent"),
        "percent_area_always_covered": ("percent of the region's area covered all the time", "percent"),
        "percent_area_never_covered": ("percent of the region's area never covered", "percent"),
        "percent_time_covered_n": ("area-weighted mean percent of time covered by at least n_assets", "percent"),
        "mean_gap_s": ("area-weighted mean of the cells' mean gap", "s"),
        "mean_response_time_s": ("area-weighted mean response time", "s"),
        "mean_multiplicity": ("area-weighted time-mean number of satellites in view", "1"),
        "max_gap_s": ("longest gap of the worst cell", "s"),
        "time_to_first_coverage_s_max": ("time to first coverage of the worst cell", "s"),
        "min_multiplicity": ("minimum number of satellites in view, worst cell", "1"),
    }
    for k, (long_name, units) in attrs.items():
        if k in res:
            res[k].attrs.update({"long_name": long_name, "units": units})
    res[REGION].attrs["long_name"] = "region name"
    res.attrs = {k: v for k, v in ds.attrs.items() if k in ("scenario", "Conventions", "earth_model_name", "timing")}
    return res


def region_table(rs: xr.Dataset) -> str:
    """Fixed-width text table of :func:`region_summary`: one line per region (and stage, when stacked)."""
    cols = (
        ("region", 20, None), ("area", 10, ("area_km2", 1e-3, ".0f")),
        ("%time", 6, ("percent_time_covered", 1, ".1f")), ("worst %", 7, ("percent_time_covered_min", 1, ".1f")),
        ("always", 8, ("percent_area_always_covered", 1, ".1f")),
        ("max gap", 7, ("max_gap_s", 1 / 60, ".0f")), ("mean resp", 9, ("mean_response_time_s", 1 / 60, ".1f")),
    )
    units = ("", "(1e3 km2)", "(%)", "(%)", "(% area)", "(min)", "(min)")
    stage = STAGE in rs.dims
    head = ([f"{'stage':>5}"] if stage else []) + [f"{h:<{w}}" if k is None else f"{h:>{w}}" for h, w, k in cols]
    unit = ([f"{'':>5}"] if stage else []) + [f"{u:<{w}}" if k is None else f"{u:>{w}}"
                                              for u, (_, w, k) in zip(units, cols)]
    lines = ["  ".join(head), "  ".join(unit)]
    lines.append("-" * len(lines[0]))
    stages = range(rs.sizes[STAGE]) if stage else [None]
    for s in stages:
        one = rs if s is None else rs.isel({STAGE: s})
        for i in range(one.sizes[REGION]):
            r = one.isel({REGION: i})
            r = r.isel({d: 0 for d in (N_ASSETS, MIN_ELEVATION) if d in r.dims})
            row = [f"{int(one[STAGE].item()):>5}"] if stage else []
            row.append(f"{str(r[REGION].item())[:20]:<20}")
            for _, w, (key, scale, fmt) in cols[1:]:
                v = float(r[key]) * scale if key in r else float("nan")
                row.append(f"{'-' if not np.isfinite(v) else format(v, fmt):>{w}}")
            lines.append("  ".join(row))
    return "\n".join(lines) + "\n"
