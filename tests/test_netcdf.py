"""NetCDF round trip and atomic writes of coverage Datasets."""

import os

import numpy as np
import pytest
import xarray as xr

import orbitjax
from orbitjax.io.netcdf import open_netcdf, write_netcdf


@pytest.fixture(scope="module")
def small_dataset():
    shell = orbitjax.walker(altitude_km=630, inclination_deg=51.9, planes=3, sats_per_plane=4, phasing=1,
                            min_elevation_deg=35, epoch="2025-10-15T00:00:00", shell="K")
    times = np.datetime64("2025-10-15T00:00:00", "ns") + np.arange(7) * np.timedelta64(60, "s")
    return orbitjax.coverage(shell, times, resolution_deg=5.0, progress=False,
                             attrs={"stage": 1, "stage_name": "K", "scenario": "test"})


def test_round_trip_is_identical(tmp_path, small_dataset):
    path = write_netcdf(small_dataset, tmp_path / "stage.nc")
    with open_netcdf(path) as back:
        back = back.load()
    xr.testing.assert_identical(small_dataset, back)
    assert back.visible_count.dtype == np.int16
    assert back.time.dtype == np.dtype("datetime64[ns]")


def test_cf_metadata_present(small_dataset):
    ds = small_dataset
    assert ds.attrs["Conventions"].startswith("CF-")
    assert ds.lat.attrs["units"] == "degrees_north" and ds.lat.attrs["standard_name"] == "latitude"
    assert ds.lon.attrs["units"] == "degrees_east" and ds.lon.attrs["standard_name"] == "longitude"
    assert ds.sat_position_ecef.attrs["units"] == "km"
    for name, var in ds.data_vars.items():
        assert "units" in var.attrs and "long_name" in var.attrs, name
    for key in ("propagation_model", "earth_model", "stage", "scenario"):
        assert key in ds.attrs


def test_failed_write_leaves_no_file(tmp_path, small_dataset, monkeypatch):
    target = tmp_path / "stage.nc"

    def boom(self, path, *args, **kwargs):
        with open(path, "wb") as fh:
            fh.write(b"partial")
        raise RuntimeError("disk full")

    monkeypatch.setattr(xr.Dataset, "to_netcdf", boom)
    with pytest.raises(OSError, match="stage.nc: cannot write NetCDF"):  # one line naming the file
        write_netcdf(small_dataset, target)
    assert not target.exists()
    assert os.listdir(tmp_path) == []


def test_failed_overwrite_keeps_old_file(tmp_path, small_dataset, monkeypatch):
    target = tmp_path / "stage.nc"
    write_netcdf(small_dataset, target)
    before = target.read_bytes()
    monkeypatch.setattr(xr.Dataset, "to_netcdf", lambda *a, **k: (_ for _ in ()).throw(KeyboardInterrupt()))
    with pytest.raises(KeyboardInterrupt):
        write_netcdf(small_dataset, target)
    assert target.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["stage.nc"]
