"""Regenerate ``land_fraction_0p25deg.npz``: the land fraction of every 0.25 deg cell.

Development-time script; orbitjax does not depend on its input at run time.

Source: the land/sea mask shipped in the PyPI package ``global-land-mask`` 1.0.0
(Todd Karin, https://github.com/toddkarin/global-land-mask, MIT License), file
``global_land_mask/globe_combined_mask_compressed.npz``: a boolean ocean mask of
21600 x 43200 pixels of 30 arc-seconds, row 0 at the north pole, column 0 at
180 W, true where the GLOBE digital elevation model has its ocean "no data"
value (-500). GLOBE: Hastings, D. A. and Dunbar, P. K. (1999), "Global Land
One-kilometer Base Elevation (GLOBE) Digital Elevation Model, Version 1.0",
NOAA National Geophysical Data Center, Key to Geophysical Records Documentation
No. 34 (public domain, U.S. Government work). In GLOBE, most lakes count as
land, and Antarctica is land (ice surface elevation).

Method: each GLOBE pixel covers a 1/120 deg square cell (pixel-is-area, tiles
start at whole degrees), so a 0.25 deg cell holds exactly 30 x 30 pixels. The
cell's land fraction is the area-weighted mean of its pixels, the weight of a
pixel row between latitudes a < b being sin b - sin a (spherical zone area).
The fraction is stored quantized as ``uint16`` ``round(f * 65535)`` (error at
most 7.7e-6 per cell), rows ordered like orbitjax grids: row 0 starts at 90 S,
column 0 at 180 W.

Usage::

    pip install --target /tmp/glm global-land-mask==1.0.0   # not an orbitjax dependency
    PYTHONPATH=/tmp/glm python data/make_land_fraction.py   # or: --mask PATH/TO/globe_combined_mask_compressed.npz

Peak memory about 2.5 GB (the 933 MB boolean mask plus per-row counts).
"""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path

import numpy as np

PIXELS_PER_DEG = 120
STORED_RESOLUTION_DEG = 0.25
SCALE = 65535


def _default_mask_path() -> Path:
    import global_land_mask  # noqa: PLC0415 -- development-time only

    return Path(global_land_mask.__file__).parent / "globe_combined_mask_compressed.npz"


def land_fraction_from_ocean_mask(ocean: np.ndarray, block: int) -> np.ndarray:
    """(n_lat/block, n_lon/block) area-weighted land fraction of a north-up pixel mask.

    ``ocean`` is (n_lat, n_lon) bool, row 0 touching the north pole, pixels of
    180/n_lat deg. Returns rows from the south pole up.
    """
    n_lat, n_lon = ocean.shape
    land = ~ocean[::-1]  # south-up
    del ocean
    # land pixels per (pixel row, output column): (n_lat, n_lon/block)
    per_row = land.reshape(n_lat, n_lon // block, block).sum(axis=2, dtype=np.int64)
    del land
    edges = np.radians(-90.0 + 180.0 * np.arange(n_lat + 1) / n_lat)
    row_area = np.diff(np.sin(edges))  # proportional to each pixel row's area
    weighted = (per_row * row_area[:, None]).reshape(n_lat // block, block, -1).sum(axis=1)
    block_area = row_area.reshape(n_lat // block, block).sum(axis=1) * block
    return weighted / block_area[:, None]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mask", type=Path, default=None, help="globe_combined_mask_compressed.npz")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "land_fraction_0p25deg.npz")
    args = parser.parse_args()
    mask_path = args.mask or _default_mask_path()
    with np.load(mask_path) as f:
        ocean, lat, lon = f["mask"], f["lat"], f["lon"]
    if ocean.shape != (180 * PIXELS_PER_DEG, 360 * PIXELS_PER_DEG):
        raise ValueError(f"expected a 30 arc-second global mask, got shape {ocean.shape}")
    if not (lat[0] == 90.0 and lat[1] < lat[0] and lon[0] == -180.0 and lon[1] > lon[0]):
        raise ValueError("expected rows from 90 N down and columns from 180 W east")
    sha256 = hashlib.sha256(Path(mask_path).read_bytes()).hexdigest()
    block = int(round(STORED_RESOLUTION_DEG * PIXELS_PER_DEG))
    frac = land_fraction_from_ocean_mask(ocean, block)
    q = np.round(frac * SCALE).astype(np.uint16)
    np.savez_compressed(
        args.out,
        land_fraction_u16=q,
        resolution_deg=np.float64(STORED_RESOLUTION_DEG),
        scale=np.float64(SCALE),
        source=np.array(
            "global-land-mask 1.0.0 (T. Karin, MIT License), globe_combined_mask_compressed.npz "
            f"sha256 {sha256}; from NOAA NGDC GLOBE 1-km DEM v1.0 (Hastings & Dunbar 1999), "
            "ocean = GLOBE no-data value -500"
        ),
    )
    w = np.diff(np.sin(np.radians(-90.0 + STORED_RESOLUTION_DEG * np.arange(frac.shape[0] + 1))))
    global_land = float((q / SCALE * w[:, None]).sum() / (w.sum() * frac.shape[1]))
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes); area-weighted land fraction {global_land:.5f}")


if __name__ == "__main__":
    main()
