"""Make docs/region_europe.png, the README's regional map: a box over Europe with country borders.

Runs orbitjax.coverage on a regional grid (the default scenario's stage 3, 72
Kuiper satellites, 1 day at 60 s, WGS84 and event timing, 0.25 deg box 34-72 N,
12 W-42 E) and draws the percent of time covered with the borders of the bundled
Natural Earth admin-0 layer, next to the satellites in view at the busiest
instant; the figures of three countries come from orbitjax.region_summary and
are printed (and written on the map).

Usage: python docs/make_region_figure.py [PNG]
"""

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import shapely  # noqa: E402

import orbitjax  # noqa: E402
from orbitjax.region_stats import region_table  # noqa: E402
from orbitjax.regions import _countries  # noqa: E402
from orbitjax.timescales import time_grid  # noqa: E402

BOX = (34.0, 72.0, -12.0, 42.0)
COUNTRIES = ["Spain", "Germany", "Finland"]


def _borders(ax):
    box = shapely.box(BOX[2], BOX[0], BOX[3], BOX[1])
    for f in _countries()[0]:
        g = shapely.intersection(f.geometry.boundary, box)
        for line in getattr(g, "geoms", [g]):
            if not line.is_empty:
                x, y = line.xy
                ax.plot(x, y, color="white", lw=0.6)
    ax.set_xlim(BOX[2], BOX[3])
    ax.set_ylim(BOX[0], BOX[1])
    ax.set_aspect(1.6)
    ax.set_xlabel("longitude (deg E)")


def main(png=Path(__file__).with_name("region_europe.png")):
    sc = orbitjax.load_scenario("kuiper_falcon9")
    stage = sc.stages()[2]
    ds = orbitjax.coverage(stage.satellites, time_grid(sc.analysis.start, 86400.0, 60.0), resolution_deg=0.25,
                           region=BOX, save_raster=True, progress=False)
    rs = orbitjax.region_summary(ds, COUNTRIES)
    print(region_table(rs))
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(12.5, 5.4), constrained_layout=True)
    im = ax.pcolormesh(ds.lon, ds.lat, ds.percent_time_covered, vmin=0, vmax=100, cmap="viridis", shading="auto")
    _borders(ax)
    for name in COUNTRIES:
        r = rs.sel(region=name)
        c = orbitjax.regions.country(name).geometry.representative_point()
        ax.annotate(f"{name}: {float(r.percent_time_covered):.0f} %\nmax gap {float(r.max_gap_s) / 60:.0f} min",
                    (c.x, c.y), ha="center", va="center", fontsize=8,
                    bbox=dict(boxstyle="round,pad=0.2", fc="white", alpha=0.85, lw=0))
    ax.set_ylabel("geodetic latitude (deg N)")
    ax.set_title("% of time covered over the day (event-timed)", fontsize=10)
    fig.colorbar(im, ax=ax, shrink=0.8, label="% of time with >= 1 satellite above 35 deg")
    # One instant: the footprints themselves.
    k = int(ds.visible_count.sum(("lat", "lon")).values.argmax())
    snap = ds.visible_count.isel(time=k)
    im2 = ax2.pcolormesh(ds.lon, ds.lat, snap, vmin=0, vmax=max(3, int(snap.max())), cmap="magma", shading="auto")
    _borders(ax2)
    ax2.set_title(f"satellites in view at {str(ds.time.values[k])[:16]} UTC", fontsize=10)
    fig.colorbar(im2, ax=ax2, shrink=0.8, label="satellites above 35 deg")
    fig.suptitle(f"Kuiper after KF-03 ({len(stage.satellites)} satellites), 1 day from {str(sc.analysis.start)[:10]}, "
                 "0.25 deg regional grid over Europe; borders: Natural Earth 1:110m admin-0 (bundled); "
                 "country figures: orbitjax.region_summary", fontsize=9)
    fig.savefig(png, dpi=80)
    print(f"wrote {png}")


if __name__ == "__main__":
    main(*sys.argv[1:2])
