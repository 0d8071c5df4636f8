"""Region polygons from GeoJSON and ESRI shapefiles: features as (name, properties, shapely geometry).

Coordinates are longitude/latitude degrees on WGS84 (GeoJSON's only coordinate
system, RFC 7946 section 4; a shapefile's ``.prj``, when present, must be
geographic). Only Polygon and MultiPolygon features are regions. Parsers take
text (GeoJSON) so tests can feed strings; :func:`read_region_file` opens a path
and picks the parser from its suffix. Shapefiles are read with pyshp (pure
Python). Every error is one line naming the file and the feature.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import NamedTuple

NAME_KEYS = ("name", "NAME", "Name", "NAME_LONG", "ADMIN", "NAME_EN", "id")
"""Properties tried in order for a feature's name (GeoJSON's feature ``id`` last)."""
POLYGONAL = ("Polygon", "MultiPolygon")


class Feature(NamedTuple):
    """One region polygon: its name, its properties and its geometry (shapely, lon/lat degrees)."""

    name: str
    properties: dict
    geometry: object


def _feature_name(props: dict, fallback: str) -> str:
    for key in NAME_KEYS:
        value = props.get(key)
        if value not in (None, ""):
            return str(value)
    return fallback


def _to_shape(geom: dict, where: str):
    import shapely  # noqa: PLC0415 (shapely loads GEOS: only when polygons are used)
    from shapely.geometry import shape  # noqa: PLC0415

    if not isinstance(geom, dict) or "type" not in geom:
        raise ValueError(f"{where}: no geometry; expected a Polygon or MultiPolygon")
    if geom["type"] not in POLYGONAL:
        raise ValueError(f"{where}: geometry type {geom['type']!r}; a region must be a Polygon or MultiPolygon")
    try:
        g = shape(geom)
    except (ValueError, TypeError, AttributeError, IndexError, shapely.errors.ShapelyError) as exc:
        raise ValueError(f"{where}: malformed {geom['type']} coordinates ({' '.join(str(exc).split())})") from None
    if g.is_empty:
        raise ValueError(f"{where}: the {geom['type']} is empty")
    x0, y0, x1, y1 = g.bounds
    if not (-90.0 <= y0 <= y1 <= 90.0 and -540.0 <= x0 <= x1 <= 540.0):
        raise ValueError(
            f"{where}: coordinates span lon {x0:g}..{x1:g}, lat {y0:g}..{y1:g}; expected longitude/latitude "
            "degrees (WGS84, GeoJSON order lon, lat)"
        )
    return g


def parse_region_geojson(text: str, source: str = "<geojson>") -> list[Feature]:
    """Polygon features of a GeoJSON FeatureCollection, Feature or bare (Multi)Polygon geometry."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{source}, line {exc.lineno}: not valid JSON ({exc.msg}); expected GeoJSON polygons") from None
    kind = data.get("type") if isinstance(data, dict) else None
    stem = Path(source).stem
    if kind == "FeatureCollection":
        items = data.get("features")
        if not isinstance(items, list):
            raise ValueError(f"{source}: FeatureCollection without a 'features' array")
    elif kind == "Feature":
        items = [data]
    elif kind in POLYGONAL:
        items = [{"type": "Feature", "properties": {"name": stem}, "geometry": data}]
    else:
        raise ValueError(f"{source}: top-level type {kind!r}; expected a GeoJSON FeatureCollection of polygons")
    out = []
    for i, item in enumerate(items):
        where = f"{source}: feature {i + 1}"
        if not isinstance(item, dict) or item.get("type") != "Feature":
            raise ValueError(f"{where}: not a GeoJSON Feature object")
        props = item.get("properties") or {}
        if item.get("id") is not None:
            props = {**props, "id": item["id"]}
        name = _feature_name(props, f"{stem} {i + 1}")
        out.append(Feature(name, dict(props), _to_shape(item.get("geometry"), f"{where} ({name})")))
    if not out:
        raise ValueError(f"{source}: no features")
    return out


def read_shapefile(path: str | os.PathLike) -> list[Feature]:
    """Polygon features of an ESRI shapefile (``.shp`` with its ``.shx``/``.dbf``) in lon/lat degrees."""
    path = Path(path)
    prj = path.with_suffix(".prj")
    if prj.is_file():
        wkt = prj.read_text(errors="replace").lstrip().upper()
        if wkt.startswith("PROJCS") or wkt.startswith("PROJCRS"):
            raise ValueError(f"{path}: projected coordinates ({prj.name} starts with {wkt.split('[')[0]}); "
                             "reproject it to longitude/latitude degrees (WGS84) first, e.g. ogr2ogr -t_srs EPSG:4326")
    try:
        import shapefile  # noqa: PLC0415 (pyshp)
    except ImportError:
        raise ValueError(f"{path}: reading shapefiles needs pyshp (pip install pyshp); or convert it to GeoJSON") from None
    try:
        reader = shapefile.Reader(str(path))
        records, shapes = reader.records(), reader.shapes()
    except (shapefile.ShapefileException, OSError, UnicodeDecodeError, ValueError) as exc:
        raise ValueError(f"{path}: cannot be read as a shapefile ({' '.join(str(exc).split())})") from None
    out = []
    for i, (rec, shp) in enumerate(zip(records, shapes)):
        props = rec.as_dict()
        name = _feature_name(props, f"{path.stem} {i + 1}")
        if shp.shapeType == shapefile.NULL:
            continue
        out.append(Feature(name, props, _to_shape(shp.__geo_interface__, f"{path}: record {i + 1} ({name})")))
    if not out:
        raise ValueError(f"{path}: no polygon records")
    return out


def read_region_file(path: str | os.PathLike) -> list[Feature]:
    """Read polygons from ``.geojson``/``.json`` (GeoJSON) or ``.shp`` (ESRI shapefile)."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix == ".shp":
        return read_shapefile(path)
    if suffix not in (".geojson", ".json"):
        raise ValueError(f"{path}: unknown polygon file type {suffix!r}; expected .geojson, .json or .shp")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"{path}: not a UTF-8 text file; expected GeoJSON") from None
    return parse_region_geojson(text, str(path))
