"""Ground sites: ``name,lat,lon[,alt_m]`` CSV files and GeoJSON Point features.

Coordinates are geodetic on the WGS84 ellipsoid: latitude and longitude in
degrees, height above the ellipsoid in metres (GeoJSON's optional third
coordinate is the same height, RFC 7946 section 3.1.1). Parsers take text, not
paths, so tests can feed strings; :func:`read_sites` opens a file and picks the
parser from its suffix. Every error is one line naming the source, the line
(CSV) or feature (GeoJSON), what was found and what was expected.
"""

from __future__ import annotations

import csv
import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

CSV_TEMPLATE = "name,lat,lon[,alt_m] (geodetic WGS84 degrees, metres above the ellipsoid)"
MIN_ALT_M, MAX_ALT_M = -12_000.0, 100_000.0
"""Accepted site heights: the deepest ocean trench to the edge of space."""


@dataclass(frozen=True, eq=False)
class Sites:
    """Ground sites, one row each, fields (site,) numpy arrays.

    Attributes:
      name: (site,) str, unique, non-empty.
      lat_deg: (site,) geodetic latitude in [-90, 90].
      lon_deg: (site,) longitude, degrees east in [-180, 360].
      alt_m: (site,) height above the WGS84 ellipsoid in metres.
    """

    name: np.ndarray
    lat_deg: np.ndarray
    lon_deg: np.ndarray
    alt_m: np.ndarray

    def __post_init__(self):
        name = np.asarray(self.name).astype(str)
        arrays = {k: np.asarray(getattr(self, k), np.float64) for k in ("lat_deg", "lon_deg", "alt_m")}
        for k, v in {"name": name, **arrays}.items():
            if v.ndim != 1 or v.shape != name.shape:
                raise ValueError(f"Sites.{k} must have shape (site,) = {name.shape}, got {v.shape}")
        for i, n in enumerate(name):
            where = f"site {n!r}" if n else f"site {i}"
            _check_site(where, n, arrays["lat_deg"][i], arrays["lon_deg"][i], arrays["alt_m"][i])
        seen: set[str] = set()
        for n in name:
            if n in seen:
                raise ValueError(f"site name {n!r} appears twice; site names must be unique")
            seen.add(n)
        object.__setattr__(self, "name", name)
        for k, v in arrays.items():
            object.__setattr__(self, k, v)

    def __len__(self) -> int:
        return int(self.name.shape[0])

    def __getitem__(self, index) -> "Sites":
        index = np.atleast_1d(np.arange(len(self))[index])
        return Sites(self.name[index], self.lat_deg[index], self.lon_deg[index], self.alt_m[index])

    def __repr__(self) -> str:
        return f"Sites({len(self)}: {', '.join(self.name[:4])}{', ...' if len(self) > 4 else ''})"

    @classmethod
    def from_rows(cls, rows) -> "Sites":
        """From ``(name, lat_deg, lon_deg[, alt_m])`` tuples or a ``{name: (lat, lon[, alt_m])}`` dict."""
        if isinstance(rows, dict):
            rows = [(k, *v) for k, v in rows.items()]
        rows = list(rows)
        if not rows:
            raise ValueError("no sites given")
        out = []
        for i, row in enumerate(rows):
            if len(row) not in (3, 4):
                raise ValueError(f"site {i}: expected (name, lat_deg, lon_deg[, alt_m]), got {row!r}")
            out.append((str(row[0]), float(row[1]), float(row[2]), float(row[3]) if len(row) == 4 else 0.0))
        names, lat, lon, alt = zip(*out)
        return cls(np.array(names), np.array(lat), np.array(lon), np.array(alt))


def _check_site(where: str, name: str, lat: float, lon: float, alt: float) -> None:
    if not name.strip():
        raise ValueError(f"{where}: empty site name")
    if not (np.isfinite(lat) and -90.0 <= lat <= 90.0):
        raise ValueError(f"{where}: latitude {lat} is outside [-90, 90] degrees")
    if not (np.isfinite(lon) and -180.0 <= lon <= 360.0):
        raise ValueError(f"{where}: longitude {lon} is outside [-180, 360] degrees")
    if not (np.isfinite(alt) and MIN_ALT_M <= alt <= MAX_ALT_M):
        raise ValueError(f"{where}: height {alt} m is outside [{MIN_ALT_M:g}, {MAX_ALT_M:g}] m")


def _number(text: str, what: str, where: str, line: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{where}: {what} {text.strip()!r} is not a number; expected {CSV_TEMPLATE}, got {line!r}") from None
    return value


def parse_sites_csv(text: str, source: str = "<sites>") -> Sites:
    """Sites from CSV text ``name,lat,lon[,alt_m]``, one site per line.

    Blank lines and lines starting with ``#`` are skipped; a first line whose
    first field is ``name`` is a header. Names may be quoted (``"Sao Paulo, BR"``).

    Raises:
      ValueError: ``{source}, line {n}: ...`` for the first bad line.
    """
    rows: dict[str, tuple] = {}
    lines = text.splitlines()
    for n, line in enumerate(lines, start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        where = f"{source}, line {n}"
        try:
            fields = next(csv.reader([stripped], skipinitialspace=True))
        except csv.Error as exc:
            raise ValueError(f"{where}: {exc}; expected {CSV_TEMPLATE}, got {line!r}") from None
        if not rows and fields and fields[0].strip().lower() == "name":
            continue  # header
        if len(fields) not in (3, 4):
            raise ValueError(f"{where}: {len(fields)} fields; expected {CSV_TEMPLATE}, got {line!r}")
        name = fields[0].strip()
        la = _number(fields[1], "latitude", where, line)
        lo = _number(fields[2], "longitude", where, line)
        al = _number(fields[3], "height", where, line) if len(fields) == 4 and fields[3].strip() else 0.0
        _add_site(rows, where, f"on line {n}", name, la, lo, al)
    if not rows:
        raise ValueError(f"{source}: no sites found; expected lines {CSV_TEMPLATE}")
    return _sites(rows)


def parse_sites_geojson(text: str, source: str = "<sites>") -> Sites:
    """Sites from GeoJSON: a FeatureCollection (or one Feature) of Point geometries.

    Coordinates are ``[lon, lat]`` or ``[lon, lat, alt_m]`` (RFC 7946). The name is
    the feature's ``properties.name`` (else ``id``, else ``site{k}``).

    Raises:
      ValueError: ``{source}: feature {k}: ...`` for the first bad feature.
    """
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{source}, line {exc.lineno}: not valid JSON ({exc.msg}); expected a GeoJSON FeatureCollection of Points") from None
    if isinstance(doc, dict) and doc.get("type") == "FeatureCollection":
        features = doc.get("features")
        if not isinstance(features, list):
            raise ValueError(f"{source}: FeatureCollection without a 'features' list")
    elif isinstance(doc, dict) and doc.get("type") == "Feature":
        features = [doc]
    else:
        kind = doc.get("type") if isinstance(doc, dict) else type(doc).__name__
        raise ValueError(f"{source}: top-level type {kind!r}; expected a GeoJSON FeatureCollection of Point features")
    rows: dict[str, tuple] = {}
    for k, feature in enumerate(features):
        where = f"{source}: feature {k}"
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            raise ValueError(f"{where}: not a GeoJSON Feature object")
        geometry = feature.get("geometry") or {}
        if geometry.get("type") != "Point":
            raise ValueError(f"{where}: geometry type {geometry.get('type')!r}; expected 'Point'")
        coords = geometry.get("coordinates")
        if not isinstance(coords, list) or len(coords) not in (2, 3) or not all(
            isinstance(c, (int, float)) and not isinstance(c, bool) for c in coords
        ):
            raise ValueError(f"{where}: coordinates {coords!r}; expected [lon, lat] or [lon, lat, alt_m] numbers")
        props = feature.get("properties") or {}
        name = props.get("name", feature.get("id", f"site{k}")) if isinstance(props, dict) else f"site{k}"
        name = str(name).strip()
        lo, la = float(coords[0]), float(coords[1])
        al = float(coords[2]) if len(coords) == 3 else 0.0
        _add_site(rows, where, f"by feature {k}", name, la, lo, al)
    if not rows:
        raise ValueError(f"{source}: no Point features found")
    return _sites(rows)


def _add_site(rows: dict, where: str, origin: str, name: str, lat: float, lon: float, alt_m: float) -> None:
    """Check one site and add it to ``rows`` (name -> (origin, lat, lon, alt_m)); names must be unique."""
    _check_site(where, name, lat, lon, alt_m)
    if name in rows:
        raise ValueError(f"{where}: site name {name!r} already used {rows[name][0]} (it appears twice); "
                         "names must be unique")
    rows[name] = (origin, lat, lon, alt_m)


def _sites(rows: dict) -> Sites:
    """:class:`Sites` from ``_add_site`` rows, in insertion order."""
    _, lat, lon, alt = (np.array(c) for c in zip(*rows.values()))
    return Sites(np.array(list(rows)), lat.astype(np.float64), lon.astype(np.float64), alt.astype(np.float64))


def read_sites(path: str | os.PathLike) -> Sites:
    """Read sites from a ``.csv``/``.txt`` file or a ``.geojson``/``.json`` file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ValueError(f"{path}: no such sites file") from None
    except UnicodeDecodeError:
        raise ValueError(f"{path}: not a UTF-8 text file; expected {CSV_TEMPLATE} or GeoJSON") from None
    if path.suffix.lower() in (".geojson", ".json"):
        return parse_sites_geojson(text, str(path))
    return parse_sites_csv(text, str(path))


def as_sites(sites) -> Sites:
    """A :class:`Sites` from Sites, a file path, rows or a dict (see :meth:`Sites.from_rows`)."""
    if isinstance(sites, Sites):
        return sites
    if isinstance(sites, (str, os.PathLike)):
        return read_sites(sites)
    return Sites.from_rows(sites)
