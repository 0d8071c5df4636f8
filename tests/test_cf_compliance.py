"""Stage files pass the IOOS compliance-checker's CF test: no high- or medium-priority messages.

The checker (PyPI ``compliance-checker``, in the ``test`` extra) is run offline: it
uses its packaged CF standard-name table (our files set no
``standard_name_vocabulary``), and sockets are blocked so that a download attempt
would fail the test instead of reaching the network.
"""

import json
import socket

import numpy as np
import pytest
import xarray as xr

pytest.importorskip("compliance_checker")

from compliance_checker.runner import CheckSuite, ComplianceChecker  # noqa: E402

from orbitjax.io.netcdf import open_netcdf, write_netcdf  # noqa: E402


@pytest.fixture(scope="module")
def stage_file(tmp_path_factory):
    """A real stage file from orbitjax.run: raster, positions and an elevation sweep included."""
    from conftest import TINY_SCENARIO
    from orbitjax.stages import run

    d = tmp_path_factory.mktemp("cf")
    toml = d / "tiny.toml"
    toml.write_text(TINY_SCENARIO)
    paths = run(str(toml), d / "out", save_raster=True, elevation_sweep_deg=[20, 35], progress=False)
    return paths[0]


def _messages(path, tmp_path, monkeypatch):
    def no_network(*args, **kwargs):
        raise OSError("network access blocked in tests")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    CheckSuite.load_all_available_checkers()
    report = tmp_path / "report.json"
    ComplianceChecker.run_checker(str(path), ["cf"], 0, "normal", output_filename=str(report), output_format="json")
    body = json.loads(report.read_text())
    result = next(iter(body.values()))
    return result["high_priorities"], result["medium_priorities"]


def _failures(priority_list):
    return [m for item in priority_list for m in item.get("msgs", []) if item["value"][0] < item["value"][1]]


def test_stage_file_has_no_high_or_medium_cf_messages(stage_file, tmp_path, monkeypatch):
    high, medium = _messages(stage_file, tmp_path, monkeypatch)
    assert _failures(high) == []
    assert _failures(medium) == []


def test_coordinates_have_no_fill_value(stage_file):
    import netCDF4

    with netCDF4.Dataset(stage_file) as nc:
        for name in ("lat", "lon", "time", "n_assets", "min_elevation", "stage"):
            assert "_FillValue" not in nc.variables[name].ncattrs(), name
        # CF 2.4: other dimensions left of time on disk ...
        assert nc.variables["sat_position_ecef"].dimensions == ("sat", "xyz", "time")
        assert nc.variables["visible_count"].dimensions == ("time", "lat", "lon")
    # ... and the in-memory order back through open_netcdf.
    with open_netcdf(stage_file) as ds:
        assert ds.sat_position_ecef.dims == ("time", "sat", "xyz")


def test_round_trip_still_identical_with_cf_layout(tmp_path):
    ds = xr.Dataset(
        {"sat_position_ecef": (("time", "sat", "xyz"), np.arange(24, dtype=np.float32).reshape(2, 4, 3))},
        coords={"time": np.array(["2025-01-01T00:00", "2025-01-01T00:01"], "datetime64[ns]"),
                "sat": ["a", "b", "c", "d"], "xyz": ["x", "y", "z"]},
    )
    with open_netcdf(write_netcdf(ds, tmp_path / "p.nc")) as back:
        xr.testing.assert_identical(ds, back.load())
