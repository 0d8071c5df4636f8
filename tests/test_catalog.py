"""Satellites helpers: from_elements, concat_satellites, group_by_launch."""

from pathlib import Path

import numpy as np
import pytest
from sgp4.api import Satrec

from orbitjax.catalog import Satellites, concat_satellites, group_by_launch
from orbitjax.io.tle import format_tle, read_tle
from orbitjax.timescales import jd2_from_datetime64

DATA = Path(__file__).parent / "data"
XPDOTP = 1440.0 / (2.0 * np.pi)


def _catalogue(designators, names=None):
    n = len(designators)
    return Satellites.from_elements(
        norad_id=np.arange(1, n + 1) * 11, epoch="2025-06-01T00:00:00", no_kozai_rad_min=15.0 / XPDOTP,
        ecco=0.001, inclo_rad=0.9, nodeo_rad=0.0, argpo_rad=0.0, mo_rad=np.linspace(0, 6, n),
        intl_designator=designators, name=names if names is not None else [f"SAT {i}" for i in range(n)],
    )


def test_group_by_launch_orders_by_year_then_launch_number():
    desig = ["2025-153B", "1998-067A", "2025-009A", "2025-153A", "1957-001B", "2019-074A", "2025-153AB", "2019-074B"]
    groups = group_by_launch(_catalogue(desig))
    assert [g for g, _ in groups] == ["1957-001", "1998-067", "2019-074", "2025-009", "2025-153"]
    as_lists = {g: list(idx) for g, idx in groups}
    assert as_lists == {
        "1957-001": [4], "1998-067": [1], "2019-074": [5, 7], "2025-009": [2], "2025-153": [0, 3, 6],
    }
    for _, idx in groups:
        assert idx.dtype == np.int64
    # Every satellite is in exactly one group.
    assert sorted(np.concatenate([idx for _, idx in groups])) == list(range(len(desig)))


def test_group_by_launch_on_the_tle_fixture():
    sats = read_tle(DATA / "sample.tle")
    groups = group_by_launch(sats)
    assert [(g, list(i)) for g, i in groups] == [("1998-067", [0]), ("2019-074", [1, 2]), ("2025-153", [3])]
    for _, idx in groups:
        assert len(set(d[:8] for d in sats[idx].intl_designator)) == 1


def test_missing_designators_raise_naming_them_or_use_the_fallback_label():
    sats = _catalogue(["2025-153A", "", "2019-074A", " "], names=["A", "LOST ONE", "B", "LOST TWO"])
    with pytest.raises(ValueError, match=r"2 satellite\(s\) have no international designator \(NORAD 22 'LOST ONE', 44 'LOST TWO'\)"):
        group_by_launch(sats)
    groups = group_by_launch(sats, unknown="unknown")
    assert [(g, list(i)) for g, i in groups] == [("2019-074", [2]), ("2025-153", [0]), ("unknown", [1, 3])]


def test_malformed_designator_raises():
    with pytest.raises(ValueError, match=r"satellite 11 has international designator '98067A', expected 'YYYY-NNNP'"):
        group_by_launch(_catalogue(["98067A"]))


def test_concat_satellites_keeps_order_and_fields():
    a = read_tle(DATA / "sample.tle")
    b = _catalogue(["2025-200A", "2025-200B"])
    c = concat_satellites([a, b, a[1:2]])
    assert len(c) == 7
    assert list(c.norad_id) == [25544, 44713, 44714, 100001, 11, 22, 44713]
    assert list(c.name[-3:]) == ["SAT 0", "SAT 1", "STARLINK-1007"]
    np.testing.assert_array_equal(c.epoch[:4], a.epoch)
    assert c.epoch.dtype == np.dtype("datetime64[ns]")
    with pytest.raises(ValueError, match="at least one Satellites"):
        concat_satellites([])
    with pytest.raises(TypeError, match="item 1 is list, expected Satellites"):
        concat_satellites([a, [1, 2]])


def test_from_elements_broadcasts_and_derives_the_julian_date():
    epochs = np.array(["2025-06-01T00:00:00", "2025-06-01T06:00:00.000001"], dtype="datetime64[ns]")
    sats = Satellites.from_elements(
        norad_id=[1, 2], epoch=epochs, no_kozai_rad_min=0.06, ecco=0.0, inclo_rad=0.5, nodeo_rad=[0.0, 1.0],
        argpo_rad=0.0, mo_rad=0.0,
    )
    assert len(sats) == 2
    assert list(sats.name) == ["", ""] and list(sats.classification) == ["U", "U"]
    assert sats.norad_id.dtype == np.int64 and sats.ecco.dtype == np.float64
    jd, frac = jd2_from_datetime64(epochs)
    np.testing.assert_array_equal(sats.epoch_jd, jd)
    np.testing.assert_array_equal(sats.epoch_jd_frac, frac)
    with pytest.raises(ValueError, match=r"different lengths \(norad_id: 2, nodeo_rad: 3\)"):
        Satellites.from_elements(
            norad_id=[1, 2], epoch=epochs[0], no_kozai_rad_min=0.06, ecco=0.0, inclo_rad=0.5,
            nodeo_rad=[0.0, 1.0, 2.0], argpo_rad=0.0, mo_rad=0.0,
        )


def test_walker_style_export_is_read_by_python_sgp4():
    # 3 planes x 4 satellites, as someone exporting a designed constellation would do.
    planes, per_plane = 3, 4
    p, s = np.divmod(np.arange(planes * per_plane), per_plane)
    sats = Satellites.from_elements(
        norad_id=900000 // 10 + np.arange(planes * per_plane), epoch="2026-01-01T00:00:00",
        no_kozai_rad_min=15.05 / XPDOTP, ecco=0.0001, inclo_rad=np.radians(53.0),
        nodeo_rad=2 * np.pi * p / planes, argpo_rad=0.0, mo_rad=2 * np.pi * s / per_plane + np.pi * p / 12,
        bstar_per_er=1e-4, name=[f"WALKER P{a}S{b}" for a, b in zip(p, s)], intl_designator="2026-001A",
    )
    lines = format_tle(sats)
    assert len(lines) == 3 * len(sats)
    for i in range(len(sats)):
        ref = Satrec.twoline2rv(lines[3 * i + 1], lines[3 * i + 2])
        assert ref.satnum == sats.norad_id[i]
        assert ref.nodeo == pytest.approx(sats.nodeo_rad[i] % (2 * np.pi), abs=np.radians(0.5e-4))
        assert ref.no_kozai == pytest.approx(sats.no_kozai_rad_min[i], abs=0.5e-8 / XPDOTP)
        assert ref.jdsatepoch + ref.jdsatepochF == pytest.approx(sats.epoch_jd[i] + sats.epoch_jd_frac[i], abs=1e-9)
