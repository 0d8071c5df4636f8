"""Countries and polygons: cell area fractions, lookups, files, per-region summaries.

References written here: the area of a lon/lat rectangle on the WGS84 ellipsoid
by numerical quadrature (scipy) of the area element M(phi) N(phi) cos(phi) dphi
dlon (meridian radius M = a (1 - e^2) / (1 - e^2 sin^2 phi)^1.5, prime-vertical
N = a / (1 - e^2 sin^2 phi)^0.5; Torge, Geodesy, Eq. 6.42-6.44), independent of
the authalic-latitude formula orbitjax uses; fractions of a triangle from dense
point sampling weighted by that element; published areas of countries.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import shapely
import xarray as xr
from scipy.integrate import quad

from orbitjax.kernels.grid import make_grid
from orbitjax.region_stats import region_summary, region_table
from orbitjax.regions import as_region, cell_fraction, country, file_region, polygon_bounds, snap_box

A_KM, F = 6378.137, 1.0 / 298.257223563
E2 = F * (2.0 - F)


def area_element(phi):
    s2 = np.sin(phi) ** 2
    m = A_KM * (1 - E2) / (1 - E2 * s2) ** 1.5
    n = A_KM / np.sqrt(1 - E2 * s2)
    return m * n * np.cos(phi)


def rect_area(lat0, lat1, lon0, lon1):
    """km^2 of the ellipsoid between two geodetic latitudes and two longitudes (quadrature)."""
    if lat1 <= lat0 or lon1 <= lon0:
        return 0.0
    val, _ = quad(area_element, np.radians(lat0), np.radians(lat1), epsabs=1e-10, epsrel=1e-13)
    return val * np.radians(lon1 - lon0)


def test_rectangle_fractions_match_quadrature():
    """A lon/lat rectangle cutting cells at odd places: each cell's fraction = quadrature areas."""
    grid = make_grid(0.5, region=(58.0, 62.0, 10.0, 14.0))
    la0, la1, lo0, lo1 = 58.37, 61.21, 10.73, 13.11
    frac = cell_fraction(shapely.box(lo0, la0, lo1, la1), grid)
    for i, lat in enumerate(grid.lat_deg):
        for j, lon in enumerate(grid.lon_deg):
            a, b, c, d = lat - 0.25, lat + 0.25, lon - 0.25, lon + 0.25
            want = rect_area(max(a, la0), min(b, la1), max(c, lo0), min(d, lo1)) / rect_area(a, b, c, d)
            assert frac[i, j] == pytest.approx(want, abs=1e-9), (i, j)
    assert frac.max() == 1.0 and frac.min() == 0.0


def test_triangle_fractions_match_point_sampling():
    """A sloping edge (curved in the equal-area plane): fractions within 2e-3 of 200 x 200 weighted samples."""
    grid = make_grid(1.0, region=(40.0, 44.0, -5.0, -1.0))
    tri = shapely.Polygon([(-4.6, 40.2), (-1.3, 41.1), (-3.1, 43.8)])
    frac = cell_fraction(tri, grid)
    k = 200
    for i, lat in enumerate(grid.lat_deg):
        for j, lon in enumerate(grid.lon_deg):
            la = lat - 0.5 + (np.arange(k) + 0.5) / k
            lo = lon - 0.5 + (np.arange(k) + 0.5) / k
            x, y = np.meshgrid(lo, la)
            w = np.broadcast_to(area_element(np.radians(la))[:, None], x.shape)
            inside = shapely.contains_xy(tri, x, y)
            assert frac[i, j] == pytest.approx((w * inside).sum() / w.sum(), abs=2e-3), (i, j)


def test_polygon_across_the_antimeridian_on_a_box_across_it():
    """Parts at 179 E and 179 W (as Natural Earth splits them) fill one box from 178 E to 178 W."""
    poly = shapely.MultiPolygon([shapely.box(179.0, -1.0, 180.0, 1.0), shapely.box(-180.0, -1.0, -179.0, 1.0)])
    box = polygon_bounds(poly)
    assert box == pytest.approx((-1.0, 1.0, 179.0, 181.0))
    grid = make_grid(1.0, region=snap_box(box, 1.0))
    assert grid.box == (-1.0, 1.0, 179.0, 181.0)
    frac = cell_fraction(poly, grid)
    np.testing.assert_allclose(frac, 1.0)
    # The same polygon given in 0..360 longitudes.
    np.testing.assert_allclose(cell_fraction(shapely.box(179.0, -1.0, 181.0, 1.0), grid), 1.0)


# Natural Earth 1:110m generalises coasts and borders: tolerances are those of the data, not the method.
@pytest.mark.parametrize("name,area_km2,tol", [
    ("Germany", 357_588, 0.02),  # Statistisches Bundesamt
    ("Kazakhstan", 2_724_900, 0.02),  # CIA World Factbook
    ("Mongolia", 1_564_116, 0.02),  # CIA World Factbook
    ("Fiji", 18_274, 0.08),  # islands at 1:110m: coarse
])
def test_country_areas_against_published_figures(name, area_km2, tol):
    r = country(name)
    grid = r.grid(0.25)
    frac = cell_fraction(r.geometry, grid)
    area = (frac * grid.cell_area_fraction()[:, None]).sum() * 510_065_621.724
    assert area == pytest.approx(area_km2, rel=tol)


def test_country_lookup_by_name_and_codes():
    assert country("France").name == country("FRA").name == country("fr").name == country("france").name == "France"
    assert country("Cote d'Ivoire").name == country("CIV").name
    assert country("Russian Federation").name == "Russia"
    assert country("NOR").name == "Norway"  # ISO_A3 is -99 in Natural Earth 4.1.0: found by ADM0_A3
    fiji = country("Fiji")
    assert fiji.box[2] > 170 and fiji.box[3] > 180  # the short way across the antimeridian
    with pytest.raises(ValueError, match="did you mean France"):
        country("Frnace")
    with pytest.raises(ValueError, match="not a country name"):
        country("Atlantis")


def test_as_region_forms(tmp_path):
    assert as_region((24, 50, -125, -66)).box == (24.0, 50.0, -125.0, -66.0)
    assert as_region((-10, 10, 170, -170)).box == (-10.0, 10.0, 170.0, 190.0)
    assert as_region("DEU").name == "Germany"
    with pytest.raises(ValueError, match="south < north"):
        as_region((10, 0, 0, 10))
    with pytest.raises(ValueError, match="empty"):
        as_region("  ")
    with pytest.raises(ValueError, match="expected a shapely Polygon"):
        as_region(shapely.Point(0, 0))


def test_geojson_and_shapefile(tmp_path):
    fc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": "west"},
         "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [2, 0], [2, 2], [0, 2], [0, 0]]]}},
        {"type": "Feature", "properties": {"name": "east"},
         "geometry": {"type": "Polygon", "coordinates": [[[3, 0], [5, 0], [5, 2], [3, 2], [3, 0]]]}},
    ]}
    path = tmp_path / "areas.geojson"
    path.write_text(json.dumps(fc))
    both = as_region(str(path))
    assert both.geometry.area == pytest.approx(8.0) and both.box == (0.0, 2.0, 0.0, 5.0)
    assert file_region(path, "east").box == (0.0, 2.0, 3.0, 5.0)
    with pytest.raises(ValueError, match="no feature named 'north'"):
        file_region(path, "north")
    # The same two polygons as an ESRI shapefile (written with pyshp).
    import shapefile

    with shapefile.Writer(str(tmp_path / "areas"), shapeType=shapefile.POLYGON) as w:
        w.field("name", "C")
        for f in fc["features"]:
            w.poly([[tuple(p) for p in reversed(f["geometry"]["coordinates"][0])]])
            w.record(f["properties"]["name"])
    shp = as_region(str(tmp_path / "areas.shp"))
    assert shp.geometry.area == pytest.approx(8.0)


@pytest.mark.parametrize("text,match", [
    ('{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {}, '
     '"geometry": {"type": "Point", "coordinates": [0, 0]}}]}', "a region must be a Polygon"),
    ('{"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 100], [0, 0]]]}', "longitude/latitude degrees"),
    ('{"type": "Topology"}', "top-level type 'Topology'"),
    ("{nope", "not valid JSON"),
])
def test_bad_polygon_files(tmp_path, text, match):
    path = tmp_path / "bad.geojson"
    path.write_text(text)
    with pytest.raises(ValueError, match=match):
        as_region(str(path))


def test_projected_shapefile_is_refused(tmp_path):
    (tmp_path / "p.shp").write_bytes(b"")
    (tmp_path / "p.prj").write_text('PROJCS["WGS_1984_UTM_Zone_32N",GEOGCS["GCS_WGS_1984"]]')
    with pytest.raises(ValueError, match="projected coordinates"):
        as_region(str(tmp_path / "p.shp"))


def _fake_dataset(grid, seed=0):
    rng = np.random.default_rng(seed)
    shape = (grid.n_lat, grid.n_lon)
    ptc = rng.uniform(0, 100, shape)
    ptc[0, 0] = 100.0
    coords = {"lat": grid.lat_deg, "lon": grid.lon_deg}
    return xr.Dataset({
        "percent_time_covered": (("lat", "lon"), ptc),
        "max_gap_s": (("lat", "lon"), rng.uniform(0, 3600, shape)),
        "mean_response_time_s": (("lat", "lon"), rng.uniform(0, 600, shape)),
    }, coords=coords)


def test_region_summary_against_hand_sums():
    """Box regions on a global 1 deg field: weighted means and worst cells by explicit loops."""
    grid = make_grid(1.0)
    ds = _fake_dataset(grid)
    rs = region_summary(ds, {"a": (10, 20, 30, 45), "across": (-5, 5, 175, -170)})
    assert list(rs.region.values) == ["a", "across"]
    area = grid.cell_area_fraction()
    for name, (s, n, w, e) in (("a", (10, 20, 30, 45)), ("across", (-5, 5, 175, 190))):
        rows = (grid.lat_deg > s) & (grid.lat_deg < n)
        lon = np.where(grid.lon_deg < w, grid.lon_deg + 360, grid.lon_deg)
        cols = (lon > w) & (lon < e)
        sel = np.ix_(rows, cols)
        wts = np.broadcast_to(area[:, None], ds.percent_time_covered.shape)[sel]
        ptc = ds.percent_time_covered.values[sel]
        r = rs.sel(region=name)
        assert float(r.percent_time_covered) == pytest.approx((ptc * wts).sum() / wts.sum(), rel=1e-12)
        assert float(r.percent_time_covered_min) == ptc.min()
        assert float(r.max_gap_s) == ds.max_gap_s.values[sel].max()
        assert float(r.area_km2) == pytest.approx(rect_area(s, n, w, e), rel=1e-9)
        assert int(r.n_cells) == ptc.size
    assert "across" in region_table(rs)


def test_region_summary_refuses_regions_off_the_grid():
    grid = make_grid(1.0, region=(40, 56, -6, 16))
    ds = _fake_dataset(grid)
    assert float(region_summary(ds, "Germany").area_km2[0]) == pytest.approx(357_588, rel=0.02)
    with pytest.raises(ValueError, match="reaches outside the dataset's grid"):
        region_summary(ds, "France")
