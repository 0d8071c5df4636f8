"""Analysis regions: lat/lon boxes, Natural Earth countries and user polygons, and their cell masks.

A :class:`Region` is a name, the box the coverage grid covers, and optionally a
polygon (shapely, longitude/latitude degrees). :func:`as_region` turns what users
write into one: a box ``(south, north, west, east)``, a country name or ISO code
of the bundled Natural Earth admin-0 layer (``data/ne_110m_admin_0_countries.geojson``,
see ``data/README.md``), a GeoJSON/shapefile path, or a shapely geometry.

A polygon region is analysed on its bounding box snapped outward to the grid
(:func:`polygon_box`: the shortest longitude span, so Fiji or Russia get a box
across the antimeridian) and each cell is weighted by the fraction of its area
inside the polygon (:func:`cell_fraction`).

**Cell area fractions.** The polygon and the cells are mapped to Lambert's
cylindrical equal-area coordinates of the Earth model, ``x = lon`` and
``y = q(lat) / q(90 deg)`` (Snyder's authalic ``q`` on WGS84, Snyder 1987, Eq.
3-12; ``sin(lat)`` on the sphere), where every area is proportional to the
ellipsoid's (sphere's) true area, and each cell's fraction is the planar area
of its intersection with the polygon (shapely 2 / GEOS) over the cell's. The
result is exact for the polygon whose edges are the images of the source
edges; the only approximation is that GeoJSON and Natural Earth edges are
straight in lon/lat (RFC 7946 section 3.1.1), and their images are curves in
the equal-area plane: edges are split into pieces of at most
:data:`SEGMENT_DEG` before mapping, which bounds the chord error by ~1e-7 deg
(about 1 cm). Cells are visited by quadtree: blocks wholly inside or outside
the polygon are settled at once, only blocks on its boundary are split, and the
polygon is clipped to each block on the way down, so the work follows the
boundary length, not the number of cells.
"""

from __future__ import annotations

import difflib
import functools
import os
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .kernels.earth import WGS84
from .kernels.grid import Grid, _authalic_q, make_grid, normalise_box

COUNTRIES_FILE = "ne_110m_admin_0_countries.geojson"
COUNTRIES_SOURCE = "Natural Earth 1:110m admin-0 countries v4.1.0 (public domain)"
NAME_FIELDS = ("NAME", "NAME_LONG", "ADMIN")
CODE_FIELDS = ("ISO_A3", "ISO_A2", "ADM0_A3", "ISO_A3_EH", "WB_A2")
SEGMENT_DEG = 0.1
"""Longest polygon edge piece (deg) mapped to the equal-area plane as a straight chord."""


@dataclass(frozen=True, eq=False)
class Region:
    """A region to analyse.

    Attributes:
      name: label (country name, feature name, or "box").
      box: ``(south, north, west, east)`` degrees, normalised as
        :func:`orbitjax.kernels.grid.normalise_box`; for polygons the polygon's
        bounds before snapping to a grid (see :meth:`grid_box`).
      geometry: shapely (Multi)Polygon in longitude/latitude degrees, or None for a box.
      source: where it came from (for the Dataset's attributes).
    """

    name: str
    box: tuple[float, float, float, float]
    geometry: object = None
    source: str = "box"

    def grid_box(self, resolution_deg: float) -> tuple[float, float, float, float]:
        """The box analysed at ``resolution_deg``: a box as given; a polygon's bounds snapped outward to the grid."""
        if self.geometry is None:
            return self.box
        return snap_box(self.box, resolution_deg)

    def grid(self, resolution_deg: float, earth_model: str = "wgs84") -> Grid:
        return make_grid(resolution_deg, earth_model, region=self.grid_box(resolution_deg))

    def __repr__(self) -> str:
        kind = "box" if self.geometry is None else self.geometry.geom_type
        return f"Region({self.name!r}, {kind}, box={tuple(round(v, 6) for v in self.box)})"


def box_region(box, name: str | None = None) -> Region:
    """A plain lat/lon box region (see :func:`orbitjax.kernels.grid.normalise_box`), named "box S,N,W,E" by default."""
    b = normalise_box(box)
    if name is None:
        name = "box " + ",".join(f"{v:g}" for v in (b[0], b[1], b[2], (b[3] + 180.0) % 360.0 - 180.0 or b[3]))
    return Region(name, b)


def _fold(text: str) -> str:
    """Case- and accent-insensitive key: 'Côte d'Ivoire' -> "cote d'ivoire"."""
    text = unicodedata.normalize("NFKD", str(text))
    return " ".join("".join(c for c in text if not unicodedata.combining(c)).casefold().split())


@functools.lru_cache(maxsize=1)
def _countries():
    """(features, index) of the bundled layer; index maps folded names and upper-case codes to features."""
    from .io.regions_file import read_region_file  # noqa: PLC0415
    from .scenario import bundled_data_dir  # noqa: PLC0415

    features = read_region_file(bundled_data_dir() / COUNTRIES_FILE)
    index: dict[str, object] = {}
    for f in features:
        for key in NAME_FIELDS:
            if f.properties.get(key):
                index.setdefault(_fold(f.properties[key]), f)
        for key in CODE_FIELDS:
            code = str(f.properties.get(key) or "")
            if code and code != "-99":
                index.setdefault(code.upper(), f)
    return features, index


def country_names() -> list[str]:
    """Names of the bundled Natural Earth countries (``NAME``), sorted."""
    return sorted(f.properties["NAME"] for f in _countries()[0])


def country(name: str) -> Region:
    """A country of the bundled Natural Earth 1:110m admin-0 layer by name or ISO code.

    Names match ``NAME``, ``NAME_LONG`` or ``ADMIN`` ignoring case and accents
    ("france", "Russian Federation"); codes match ``ISO_A3``, ``ISO_A2``,
    ``ADM0_A3``, ``ISO_A3_EH`` or ``WB_A2`` ("FRA", "FR"; Natural Earth 4.1.0 leaves
    France's and Norway's ISO codes at -99: ``ADM0_A3`` finds FRA and NOR, ``WB_A2``
    FR; Norway has no two-letter code there).

    Raises:
      ValueError: unknown name, with the closest names.
    """
    features, index = _countries()
    key = str(name).strip()
    f = (index.get(key.upper()) if len(key) in (2, 3) else None) or index.get(_fold(key))
    if f is None:
        names = [n for n in (f2.properties["NAME"] for f2 in features)]
        close = difflib.get_close_matches(key, names, n=3, cutoff=0.6)
        hint = f"; did you mean {', '.join(close)}?" if close else "; see orbitjax.regions.country_names()"
        raise ValueError(f"region {name!r} is not a country name or ISO code of the bundled "
                         f"{COUNTRIES_SOURCE}{hint}")
    geom = _valid(f.geometry)
    return Region(f.properties["NAME"], polygon_bounds(geom), geom, COUNTRIES_SOURCE)


def _valid(geom):
    import shapely  # noqa: PLC0415

    if not shapely.is_valid(geom):
        geom = shapely.make_valid(geom)
        # make_valid may add lines or points along a repaired ring: keep the polygons.
        if geom.geom_type == "GeometryCollection":
            parts = [g for g in geom.geoms if g.geom_type in ("Polygon", "MultiPolygon")]
            geom = shapely.union_all(parts)
    return geom


def polygon_region(geometry, name: str = "polygon", source: str = "polygon") -> Region:
    """A region from a shapely (Multi)Polygon in longitude/latitude degrees (repaired if invalid)."""
    import shapely  # noqa: PLC0415

    if not isinstance(geometry, shapely.Geometry) or geometry.geom_type not in ("Polygon", "MultiPolygon"):
        raise ValueError(f"region {name!r}: expected a shapely Polygon or MultiPolygon, got "
                         f"{getattr(geometry, 'geom_type', type(geometry).__name__)}")
    geom = _valid(geometry)
    if geom.is_empty or geom.area == 0:
        raise ValueError(f"region {name!r}: the polygon has no area")
    return Region(name, polygon_bounds(geom), geom, source)


def read_regions(path: str | os.PathLike) -> list[Region]:
    """Every polygon feature of a GeoJSON or shapefile as a :class:`Region` (named by its name property)."""
    from .io.regions_file import read_region_file  # noqa: PLC0415

    return [polygon_region(f.geometry, f.name, str(path)) for f in read_region_file(path)]


def file_region(path: str | os.PathLike, feature: str | None = None) -> Region:
    """One region from a polygon file: the feature named ``feature``, else the union of all features."""
    import shapely  # noqa: PLC0415

    regions = read_regions(path)
    if feature is not None:
        hits = [r for r in regions if _fold(r.name) == _fold(feature)]
        if not hits:
            raise ValueError(f"{path}: no feature named {feature!r}; features are "
                             f"{', '.join(r.name for r in regions[:10])}{', ...' if len(regions) > 10 else ''}")
        return hits[0]
    if len(regions) == 1:
        return regions[0]
    return polygon_region(shapely.union_all([r.geometry for r in regions]), Path(path).stem, str(path))


def _looks_like_path(text: str) -> bool:
    return Path(text).suffix.lower() in (".geojson", ".json", ".shp") or os.sep in text or Path(text).is_file()


def as_region(spec) -> Region:
    """A :class:`Region` from a Region, a box ``(south, north, west, east)``, a country name or ISO
    code, a GeoJSON/shapefile path (the union of its features) or a shapely (Multi)Polygon.

    Raises:
      ValueError: one line saying what is wrong with ``spec``.
    """
    if isinstance(spec, Region):
        return spec
    if isinstance(spec, (str, os.PathLike)):
        text = os.fspath(spec)
        if not text.strip():
            raise ValueError("region name is empty; give a country name or ISO code, or a GeoJSON/shapefile path")
        return file_region(text) if _looks_like_path(text) else country(text)
    if hasattr(spec, "geom_type"):
        return polygon_region(spec)
    if isinstance(spec, (tuple, list, np.ndarray)):
        return box_region(spec)
    raise ValueError(f"region must be a (south, north, west, east) box, a country name or ISO code, a polygon "
                     f"file or a shapely polygon; got {type(spec).__name__}")


# --------------------------------------------------------------------------- boxes


def polygon_bounds(geom) -> tuple[float, float, float, float]:
    """``(south, north, west, east)`` of a lon/lat polygon, with the shortest longitude span.

    Each part's longitude interval is taken modulo 360; the box's longitudes are
    the complement of the widest gap between them on the circle, so parts on
    both sides of the antimeridian (Fiji, Russia's Chukotka) give a box across it
    rather than one round the world.
    """
    parts = list(getattr(geom, "geoms", [geom]))
    lat0 = min(p.bounds[1] for p in parts)
    lat1 = max(p.bounds[3] for p in parts)
    spans = []
    for p in parts:
        w, _, e, _ = p.bounds
        if e - w >= 360.0:
            return (lat0, lat1, -180.0, 180.0)
        w0 = (w + 180.0) % 360.0 - 180.0
        spans.append((w0, w0 + (e - w)))
    spans.sort()
    merged = [list(spans[0])]
    for w, e in spans[1:]:
        if w <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], e)
        else:
            merged.append([w, e])
    # Gaps between consecutive merged spans, and round the circle from the last to the first.
    gaps = [(merged[(i + 1) % len(merged)][0] + (360.0 if i == len(merged) - 1 else 0.0) - merged[i][1], i)
            for i in range(len(merged))]
    gap, i = max(gaps)
    if gap <= 0:
        return (lat0, lat1, -180.0, 180.0)
    west = merged[(i + 1) % len(merged)][0]
    east = merged[i][1] + (360.0 if i < len(merged) - 1 else 0.0)
    if east <= west:
        east += 360.0
    return (lat0, lat1, west, east)


def snap_box(box, resolution_deg: float) -> tuple[float, float, float, float]:
    """The smallest box of whole cells (edges on multiples of ``resolution_deg``) holding ``box``."""
    s, n, w, e = box
    res = float(resolution_deg)
    eps = 1e-9
    s2 = max(-90.0, np.floor(s / res + eps) * res)
    n2 = min(90.0, np.ceil(n / res - eps) * res)
    w2 = np.floor(w / res + eps) * res
    e2 = np.ceil(e / res - eps) * res
    if n2 <= s2:
        n2 = s2 + res
    if e2 - w2 >= 360.0 - eps:
        w2, e2 = -180.0, 180.0
    elif e2 <= w2:
        e2 = w2 + res
    return normalise_box((round(s2, 9), round(n2, 9), round(w2, 9), round(e2, 9)))


# --------------------------------------------------------------------------- cell fractions


def _equal_area_y(lat_deg, earth_model: str):
    """Lambert cylindrical equal-area ordinate: q(lat)/q(90) on WGS84, sin(lat) on the sphere."""
    phi = np.radians(np.clip(lat_deg, -90.0, 90.0))
    if earth_model == "sphere":
        return np.sin(phi)
    e = np.sqrt(WGS84.flattening * (2.0 - WGS84.flattening))
    return _authalic_q(phi, e) / _authalic_q(np.pi / 2, e)


def cell_fraction(geometry, grid: Grid) -> np.ndarray:
    """(lat, lon) fraction in [0, 1] of each grid cell's area inside a lon/lat polygon.

    Areas are true ellipsoid (sphere) areas, see the module docstring. The
    polygon's longitudes are taken modulo 360, so it may be given in -180..180 or
    0..360 whatever the grid's longitude range.
    """
    import shapely  # noqa: PLC0415
    import shapely.affinity  # noqa: PLC0415

    res = grid.resolution_deg
    lat_edges = grid.south_deg + np.arange(grid.n_lat + 1) * res
    lon_edges = grid.west_deg + np.arange(grid.n_lon + 1) * res
    x0, x1 = lon_edges[0], lon_edges[-1]
    # Copies one turn either side cover a grid whose longitudes run past +-180.
    geom = shapely.union_all([shapely.affinity.translate(geometry, k) for k in (-360.0, 0.0, 360.0)])
    geom = shapely.clip_by_rect(geom, x0, lat_edges[0], x1, lat_edges[-1])
    out = np.zeros((grid.n_lat, grid.n_lon))
    if geom.is_empty:
        return out
    geom = shapely.segmentize(geom, min(SEGMENT_DEG, res))
    em = grid.earth_model

    def to_equal_area(coords):
        return np.column_stack([coords[:, 0], _equal_area_y(coords[:, 1], em)])

    piece = shapely.transform(geom, to_equal_area)
    ys = _equal_area_y(lat_edges, em)
    xs = lon_edges
    size = 1 << int(np.ceil(np.log2(max(grid.n_lat, grid.n_lon, 1))))
    i0 = np.array([0])
    j0 = np.array([0])
    pieces = np.array([piece], dtype=object)
    while i0.size:
        i1 = np.minimum(i0 + size, grid.n_lat)
        j1 = np.minimum(j0 + size, grid.n_lon)
        boxes = shapely.box(xs[j0], ys[i0], xs[j1], ys[i1])
        pieces = shapely.intersection(pieces, boxes)
        frac = shapely.area(pieces) / shapely.area(boxes)
        if size == 1:
            out[i0, j0] = np.clip(frac, 0.0, 1.0)
            break
        full = frac >= 1.0 - 1e-12
        for a, b, c, d in zip(i0[full], i1[full], j0[full], j1[full]):
            out[a:b, c:d] = 1.0
        split = (frac > 0.0) & ~full
        half = size // 2
        ci = np.concatenate([i0[split], i0[split], i0[split] + half, i0[split] + half])
        cj = np.concatenate([j0[split], j0[split] + half, j0[split], j0[split] + half])
        cp = np.concatenate([pieces[split]] * 4)
        keep = (ci < grid.n_lat) & (cj < grid.n_lon)
        i0, j0, pieces, size = ci[keep], cj[keep], cp[keep], half
    return out
