"""Sites reader: CSV and GeoJSON parsing, round trips (hypothesis) and one-line errors."""

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orbitjax.io.sites import Sites, as_sites, parse_sites_csv, parse_sites_geojson, read_sites

names = st.text(alphabet=st.characters(categories=("L", "N"), include_characters=" -_.,'"), min_size=1, max_size=20).map(
    str.strip
).filter(lambda s: s and not s.startswith("#") and s.lower() != "name")
lats = st.floats(-90, 90, allow_nan=False)
lons = st.floats(-180, 360, allow_nan=False)
alts = st.floats(-12_000, 100_000, allow_nan=False)
site_rows = st.lists(st.tuples(names, lats, lons, alts), min_size=1, max_size=8, unique_by=lambda r: r[0])


def _csv_line(name, lat, lon, alt):
    quoted = '"' + name.replace('"', '""') + '"' if ("," in name or '"' in name) else name
    return f"{quoted},{lat!r},{lon!r},{alt!r}"


@settings(max_examples=60, deadline=None)
@given(site_rows, st.booleans())
def test_csv_round_trip(rows, header):
    text = ("name,lat,lon,alt_m\n" if header else "") + "\n".join(_csv_line(*r) for r in rows) + "\n"
    sites = parse_sites_csv(text, "x.csv")
    assert list(sites.name) == [r[0] for r in rows]
    np.testing.assert_array_equal(sites.lat_deg, [r[1] for r in rows])
    np.testing.assert_array_equal(sites.lon_deg, [r[2] for r in rows])
    np.testing.assert_array_equal(sites.alt_m, [r[3] for r in rows])


@settings(max_examples=60, deadline=None)
@given(site_rows)
def test_geojson_round_trip(rows):
    doc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": n}, "geometry": {"type": "Point", "coordinates": [lo, la, al]}}
        for n, la, lo, al in rows]}
    sites = parse_sites_geojson(json.dumps(doc), "x.geojson")
    assert list(sites.name) == [r[0] for r in rows]
    np.testing.assert_array_equal(sites.lat_deg, [r[1] for r in rows])
    np.testing.assert_array_equal(sites.lon_deg, [r[2] for r in rows])
    np.testing.assert_array_equal(sites.alt_m, [r[3] for r in rows])


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=80))
def test_csv_garbage_gives_one_line_value_error_or_sites(text):
    try:
        sites = parse_sites_csv(text, "g.csv")
    except ValueError as exc:
        message = str(exc)
        assert "\n" not in message and message.startswith("g.csv")
    else:
        assert len(sites) >= 1
        assert np.all(np.abs(sites.lat_deg) <= 90)


@settings(max_examples=60, deadline=None)
@given(st.floats(allow_nan=True, allow_infinity=True).filter(lambda x: not -90 <= x <= 90))
def test_csv_latitude_out_of_range(lat):
    with pytest.raises(ValueError, match=r"s\.csv, line 2: latitude"):
        parse_sites_csv(f"# sites\nA,{lat!r},10\n", "s.csv")


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("A,1\n", r"f\.csv, line 1: 2 fields; expected name,lat,lon\[,alt_m\]"),
        ("A,north,2\n", r"line 1: latitude 'north' is not a number"),
        ("A,1,2\nA,3,4\n", r"line 2: site name 'A' already used on line 1"),
        (",1,2\n", r"line 1: empty site name"),
        ("A,1,400\n", r"line 1: longitude 400.0 is outside"),
        ("A,1,2,1e6\n", r"line 1: height 1000000.0 m is outside"),
        ("# nothing\n\n", r"f\.csv: no sites found"),
    ],
)
def test_csv_errors(text, match):
    with pytest.raises(ValueError, match=match):
        parse_sites_csv(text, "f.csv")


@pytest.mark.parametrize(
    ("doc", "match"),
    [
        ("{", r"g\.geojson, line 1: not valid JSON"),
        ('{"type": "Point", "coordinates": [1, 2]}', r"top-level type 'Point'"),
        ('{"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": '
         '{"type": "Polygon", "coordinates": []}}]}', r"feature 0: geometry type 'Polygon'; expected 'Point'"),
        ('{"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": '
         '{"type": "Point", "coordinates": [1]}}]}', r"feature 0: coordinates \[1\]"),
        ('{"type": "FeatureCollection", "features": []}', r"no Point features"),
    ],
)
def test_geojson_errors(doc, match):
    with pytest.raises(ValueError, match=match):
        parse_sites_geojson(doc, "g.geojson")


def test_read_sites_files(tmp_path):
    csv_path = tmp_path / "s.csv"
    csv_path.write_text('name,lat,lon,alt_m\n"Sao Paulo, BR",-23.55,-46.63,760\nOslo,59.91,10.75\n')
    s = read_sites(csv_path)
    assert list(s.name) == ["Sao Paulo, BR", "Oslo"] and s.alt_m[1] == 0.0
    gj = tmp_path / "s.geojson"
    gj.write_text(json.dumps({"type": "Feature", "id": "pole", "geometry": {"type": "Point", "coordinates": [0, 90]}}))
    assert read_sites(gj).name[0] == "pole"
    with pytest.raises(ValueError, match="no such sites file"):
        read_sites(tmp_path / "missing.csv")
    assert len(as_sites({"a": (1, 2), "b": (3, 4, 5)})) == 2
    with pytest.raises(ValueError, match="appears twice"):
        Sites(np.array(["a", "a"]), np.zeros(2), np.zeros(2), np.zeros(2))


def test_bundled_example_sites():
    from orbitjax.scenario import bundled_data_dir

    sites = read_sites(bundled_data_dir() / "example_sites.csv")
    assert len(sites) >= 30
