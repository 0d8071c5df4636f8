"""TLE reader/writer: python-sgp4 as the independent reference, error messages, properties."""

import os
import warnings
from pathlib import Path

import numpy as np
import pytest
import sgp4
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sgp4 import alpha5 as sgp4_alpha5
from sgp4.api import Satrec
from sgp4.conveniences import sat_epoch_datetime
from sgp4.exporter import export_tle
from sgp4.io import compute_checksum

from orbitjax.catalog import Satellites
from orbitjax.io.tle import (
    SkippedRecord,
    SkippedRecordsWarning,
    TLEFormatError,
    format_tle,
    from_alpha5,
    parse_tle,
    read_tle,
    tle_checksum,
    to_alpha5,
    write_tle,
)

DATA = Path(__file__).parent / "data"
SAMPLE = DATA / "sample.tle"
VER_TLE = Path(os.path.dirname(sgp4.__file__)) / "SGP4-VER.TLE"

# Field resolutions of the TLE text, in physical units.
DEG = 1.0
ARCSEC = DEG / 3600.0
EPOCH_HALF_STEP_S = 0.5 * 86400.0 * 1e-8  # epoch written to 1e-8 day = 0.864 ms
ANGLE_HALF_STEP_DEG = 0.5e-4  # angles to 1e-4 deg (0.36 arcsec)
ECC_HALF_STEP = 0.5e-7
N_HALF_STEP_REV_DAY = 0.5e-8
NDOT_HALF_STEP_REV_DAY2 = 0.5e-8
EXP_FIELD_REL = 0.5e-5 / 0.1  # 5 significant digits, mantissa in [0.1, 1)
XPDOTP = 1440.0 / (2.0 * np.pi)


def _fix(line: str) -> str:
    """Recompute the checksum with python-sgp4's own routine (independent of ours)."""
    return line[:68] + str(compute_checksum(line))


def _sample_lines():
    return SAMPLE.read_text().splitlines()


def _ver_pairs():
    lines = [ln[:69] for ln in VER_TLE.read_text().splitlines() if ln[:2] in ("1 ", "2 ")]
    return list(zip(lines[0::2], lines[1::2]))


# ----------------------------------------------------------------------------- python-sgp4 reference


def test_every_field_matches_python_sgp4_on_sgp4_ver_tle():
    pairs = [(a, b) for a, b in _ver_pairs() if compute_checksum(a) == int(a[68]) and compute_checksum(b) == int(b[68])]
    assert len(pairs) >= 25
    sats = parse_tle([ln for pair in pairs for ln in pair], source=str(VER_TLE))
    assert len(sats) == len(pairs)
    for i, (l1, l2) in enumerate(pairs):
        ref = Satrec.twoline2rv(l1, l2)
        # Element conversions follow twoline2rv operation for operation: exact equality.
        assert sats.no_kozai_rad_min[i] == ref.no_kozai
        assert sats.ecco[i] == ref.ecco
        assert sats.inclo_rad[i] == ref.inclo
        assert sats.nodeo_rad[i] == ref.nodeo
        assert sats.argpo_rad[i] == ref.argpo
        assert sats.mo_rad[i] == ref.mo
        assert sats.bstar_per_er[i] == ref.bstar
        assert sats.ndot_rad_min2[i] == ref.ndot
        assert sats.nddot_rad_min3[i] == ref.nddot
        assert abs(sats.epoch_jd[i] - ref.jdsatepoch) <= 1e-12
        assert abs(sats.epoch_jd_frac[i] - ref.jdsatepochF) <= 1e-12
        assert sats.norad_id[i] == ref.satnum
        assert sats.classification[i] == ref.classification
        assert sats.element_set_no[i] == ref.elnum
        assert sats.rev_at_epoch[i] == ref.revnum
        intl = ref.intldesg
        expected = "" if not intl else f"{int(intl[:2]) + (1900 if int(intl[:2]) >= 57 else 2000)}-{intl[2:]}"
        assert sats.intl_designator[i] == expected
        ref_epoch = np.datetime64(sat_epoch_datetime(ref).replace(tzinfo=None), "ns")
        assert abs(int((sats.epoch[i] - ref_epoch).astype(np.int64))) <= 1000  # python-sgp4 keeps whole µs


def test_bad_checksums_in_sgp4_ver_tle_are_rejected():
    bad = [(a, b) for a, b in _ver_pairs() if compute_checksum(a) != int(a[68])]
    assert bad, "SGP4-VER.TLE has deliberately broken records"
    for l1, l2 in bad:
        with pytest.raises(TLEFormatError, match=r"line 1 column 69: checksum is \d but the line sums to \d"):
            parse_tle([l1, l2])


def test_epoch_and_jd_agree_with_python_sgp4_for_day_366_of_a_non_leap_year():
    l1 = _fix("1 00005U 58002B   19366.82137887  .00000023  00000-0  28098-4 0  4750")
    l2 = "2 00005  34.2682 348.7242 1859667 331.7664  19.3264 10.82419157413667"
    sats = parse_tle([l1, l2])
    ref = Satrec.twoline2rv(l1, l2)
    assert sats.epoch_jd[0] == ref.jdsatepoch and sats.epoch_jd_frac[0] == ref.jdsatepochF
    assert sats.epoch[0] == np.datetime64("2020-01-01T19:42:47.134368", "ns")  # 0.82137887 day


def test_formatted_lines_are_accepted_by_python_sgp4_and_match_its_exporter():
    pairs = [(a, b) for a, b in _ver_pairs() if compute_checksum(a) == int(a[68])]
    sats = parse_tle([ln for pair in pairs for ln in pair])
    lines = format_tle(sats, names=False)
    for i, (l1, l2) in enumerate(zip(lines[0::2], lines[1::2])):
        ref = Satrec.twoline2rv(l1, l2)
        orig = Satrec.twoline2rv(*pairs[i])
        for attr in ("no_kozai", "ecco", "inclo", "nodeo", "argpo", "mo", "bstar", "ndot", "nddot", "jdsatepochF"):
            assert getattr(ref, attr) == pytest.approx(getattr(orig, attr), rel=1e-14, abs=1e-30), attr
        e1, e2 = export_tle(orig)
        assert l2 == e2  # line 2 has one canonical form
        # Line 1 may write a zero exponent as '+0' or '-0'; compare the values, not the text.
        assert Satrec.twoline2rv(e1, e2).bstar == ref.bstar


def test_sample_file_round_trips_text_exactly(tmp_path):
    sats = read_tle(SAMPLE)
    out = tmp_path / "out.tle"
    write_tle(out, sats)
    assert out.read_text().splitlines() == _sample_lines()


# ----------------------------------------------------------------------------- input forms


def test_input_forms_agree():
    text = SAMPLE.read_text()
    a = read_tle(SAMPLE)
    for other in (read_tle(str(SAMPLE)), read_tle(text), read_tle(text.splitlines()), parse_tle(text.splitlines())):
        for name in ("norad_id", "epoch", "no_kozai_rad_min", "name"):
            np.testing.assert_array_equal(getattr(a, name), getattr(other, name))
    assert list(a.norad_id) == [25544, 44713, 44714, 100001]
    assert list(a.name) == ["ISS (ZARYA)", "STARLINK-1007", "STARLINK-1008", "OBJECT A"]
    assert list(a.intl_designator) == ["1998-067A", "2019-074A", "2019-074B", "2025-153A"]


def test_mixed_two_and_three_line_records_blank_lines_crlf_and_zero_prefix():
    L = _sample_lines()
    text = "\r\n".join(
        ["", "0 ISS (ZARYA)   ", L[1] + "  ", L[2], "", "", L[4], L[5] + "\t", "STARLINK-1008", L[7], L[8], "   "]
    )
    sats = read_tle(text + "\r\n")
    assert list(sats.name) == ["ISS (ZARYA)", "", "STARLINK-1008"]
    assert list(sats.norad_id) == [25544, 44713, 44714]


def test_epoch_and_units():
    sats = read_tle(SAMPLE)
    assert sats.epoch.dtype == np.dtype("datetime64[ns]")
    assert sats.epoch[3] == np.datetime64("2025-06-03T00:00:00", "ns")  # day 154.0 of 2025
    assert sats.epoch_jd[3] == 2460829.5 and sats.epoch_jd_frac[3] == 0.0
    assert sats.no_kozai_rad_min[3] == 15.21 / XPDOTP
    assert sats.nddot_rad_min3[2] == pytest.approx(0.12345e-9 / (XPDOTP * 1440.0 * 1440), rel=1e-15)
    assert sats.bstar_per_er[2] == -0.2306e-4
    assert sats.ndot_rad_min2[2] == -0.00000312 / (XPDOTP * 1440.0)


# ----------------------------------------------------------------------------- error messages


def _edit(line: str, col: int, text: str) -> str:
    """Replace text at 1-based column ``col`` and fix the checksum."""
    return _fix(line[: col - 1] + text + line[col - 1 + len(text):])


def _write(tmp_path, lines, name="x.tle"):
    p = tmp_path / name
    p.write_text("\n".join(lines) + "\n")
    return p


def test_checksum_error_names_file_line_and_both_digits(tmp_path):
    L = _sample_lines()
    stated = int(L[5][68])
    L[5] = L[5][:68] + str((stated + 3) % 10)
    p = _write(tmp_path, L)
    with pytest.raises(TLEFormatError) as e:
        read_tle(p)
    assert str(e.value) == f"{p} line 6 column 69: checksum is {(stated + 3) % 10} but the line sums to {stated} (mod 10)"


def test_non_number_field_names_columns(tmp_path):
    L = _sample_lines()
    L[8] = _edit(L[8], 27, "00a1234")
    p = _write(tmp_path, L)
    with pytest.raises(TLEFormatError) as e:
        read_tle(p)
    assert str(e.value) == f"{p} line 9 columns 27-33: eccentricity '00a1234' is not a number (7 digits, implied '0.')"


@pytest.mark.parametrize(
    "lineno, col, text, message",
    [
        (2, 21, "1x3", r"line 2 columns 21-32: epoch day of year '1x3.51782528' is not a number"),
        (2, 21, "000", r"line 2 columns 21-32: epoch day of year '000.51782528' is outside 1..366"),
        (2, 34, " .0001x717", r"line 2 columns 34-43: first derivative of mean motion ' .0001x717' is not a number"),
        (2, 54, " 3027a-3", r"line 2 columns 54-61: B\* drag term ' 3027a-3' is not a number"),
        (2, 45, " 00000 x", r"line 2 columns 45-52: second derivative of mean motion"),
        (2, 8, "X", r"line 2 column 8: classification 'X' is not U, C or S"),
        (2, 10, "98-67A  ", r"line 2 columns 10-17: international designator '98-67A  ' is not YYNNNPPP"),
        (2, 63, "4", r"line 2 column 63: ephemeris type 4 \(SGP4-XP\)"),
        (3, 9, " 51.64x6", r"line 3 columns 9-16: inclination ' 51.64x6' is not a number"),
        (3, 9, "190.0000", r"line 3 columns 9-16: inclination 190.0 deg is outside 0..180"),
        (3, 53, " 0.00000000", r"line 3 columns 53-63: mean motion 0.0 rev/day must be positive"),
        (3, 26, "x", r"line 3 column 26: expected ' ' in TLE line 2, got 'x'"),
        (2, 3, "I0001", r"line 2 columns 3-7: catalogue number 'I0001': Alpha-5 does not use the letters I and O"),
    ],
)
def test_field_errors(lineno, col, text, message):
    L = _sample_lines()
    L[lineno - 1] = _edit(L[lineno - 1], col, text)
    if col == 3:  # keep the two catalogue numbers equal
        L[lineno] = _edit(L[lineno], 3, text)
    with pytest.raises(TLEFormatError, match=r"^data\.tle " + message):
        parse_tle(L, source="data.tle")


def test_truncated_line_shows_expected_template():
    L = _sample_lines()
    L[1] = L[1][:60]
    with pytest.raises(TLEFormatError) as e:
        parse_tle(L, source="t.tle")
    msg = str(e.value)
    first, expected, got = msg.splitlines()
    assert first == "t.tle line 2: TLE line 1 has 60 characters, expected 69 (truncated?)"
    assert expected.strip() == "expected: 1 NNNNNC NNNNNAAA NNNNN.NNNNNNNN +.NNNNNNNN +NNNNN-N +NNNNN-N N NNNNN"
    assert got.strip() == "got:      " + L[1]


def test_too_long_line():
    L = _sample_lines()
    L[2] = L[2] + "   12.5"
    with pytest.raises(TLEFormatError, match=r"^t\.tle line 3: TLE line 2 has 76 characters, expected 69\n"):
        parse_tle(L, source="t.tle")


def test_line2_without_line1():
    L = _sample_lines()
    with pytest.raises(TLEFormatError, match=r"^t\.tle line 1: TLE line 2 without a preceding line 1"):
        parse_tle([L[2], L[4], L[5]], source="t.tle")
    with pytest.raises(TLEFormatError, match=r"^t\.tle line 2: TLE line 2 without line 1 \(line 1 is the name 'ISS \(ZARYA\)'\)"):
        parse_tle([L[0], L[2]], source="t.tle")


def test_line1_without_line2():
    L = _sample_lines()
    with pytest.raises(TLEFormatError, match=r"^t\.tle line 2: TLE line 1 is not followed by line 2 \(line 3 is a name line\)"):
        parse_tle([L[0], L[1], L[3], L[4], L[5]], source="t.tle")
    with pytest.raises(TLEFormatError, match=r"^t\.tle line 1: TLE line 1 is not followed by line 2 \(end of input\)"):
        parse_tle([L[1]], source="t.tle")


def test_name_without_lines():
    L = _sample_lines()
    with pytest.raises(TLEFormatError, match=r"^t\.tle line 1: name line 'ISS \(ZARYA\)' is not followed by TLE line 1 \(line 2 is another name line\)"):
        parse_tle([L[0], L[3], L[4], L[5]], source="t.tle")


def test_malformed_catalogue_number_is_reported_as_such_not_as_a_name():
    L = _sample_lines()
    L[1] = _fix(L[1][:2] + "2554U" + L[1][7:])
    with pytest.raises(TLEFormatError, match=r"^t\.tle line 2 columns 3-7: catalogue number '2554U' is neither"):
        parse_tle(L, source="t.tle")


def test_mismatched_catalogue_numbers():
    L = _sample_lines()
    L[2] = _edit(L[2], 3, "25545")
    with pytest.raises(TLEFormatError) as e:
        parse_tle(L, source="t.tle")
    assert str(e.value) == "t.tle line 3 columns 3-7: catalogue number '25545' does not match '25544' on line 1 (line 2)"


def test_empty_and_missing_files(tmp_path):
    empty = tmp_path / "empty.tle"
    empty.write_text("")
    with pytest.raises(TLEFormatError, match=r"empty\.tle: no TLE records found \(the input is empty\)"):
        read_tle(empty)
    blank = tmp_path / "blank.tle"
    blank.write_text("\n  \n\n")
    with pytest.raises(TLEFormatError, match=r"blank\.tle: no TLE records found in 3 line\(s\)"):
        read_tle(blank)
    missing = tmp_path / "nope.tle"
    with pytest.raises(FileNotFoundError, match="nope.tle"):
        read_tle(missing)
    with pytest.raises(TLEFormatError, match=r"<lines>: no TLE records found"):
        parse_tle([])


def test_lenient_mode_warns_once_and_lists_every_skipped_record():
    L = _sample_lines()
    L[2] = L[2][:68] + str((int(L[2][68]) + 1) % 10)  # bad checksum in record 1 (lines 1-3)
    L[7] = _edit(L[7], 34, " .000x0312")  # bad ndot in record 3 (lines 7-9)
    lines = L + ["2 99999 garbage"]  # orphan line 2 at line 13
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sats, skipped = parse_tle(lines, source="s.tle", strict=False, return_skipped=True)
    assert list(sats.norad_id) == [44713, 100001]
    ours = [w for w in caught if issubclass(w.category, SkippedRecordsWarning)]
    assert len(ours) == 1
    assert issubclass(SkippedRecordsWarning, UserWarning)
    assert ours[0].message.skipped == skipped
    assert [s.line for s in skipped] == [3, 8, 13]
    assert all(isinstance(s, SkippedRecord) and s.source == "s.tle" for s in skipped)
    assert "checksum" in skipped[0].reason
    assert "columns 34-43: first derivative of mean motion" in skipped[1].reason
    assert "line 2 without" in skipped[2].reason
    text = str(ours[0].message)
    assert "skipped 3 bad TLE record(s) from s.tle, kept 2" in text
    for s in skipped:
        assert f"line {s.line}: {s.reason}" in text


def test_lenient_mode_without_problems_is_silent_and_all_bad_is_an_error():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sats, skipped = read_tle(SAMPLE, strict=False, return_skipped=True)
    assert len(sats) == 4 and skipped == []
    with pytest.raises(TLEFormatError, match=r"no valid TLE records \(1 bad record\(s\), first at line 1"):
        parse_tle(["1 25544U garbage"], source="b.tle", strict=False)


# ----------------------------------------------------------------------------- writer errors


def _one(**overrides):
    base = dict(
        norad_id=25544, epoch="2025-06-02T12:00:00", no_kozai_rad_min=15.5 / XPDOTP, ecco=0.001,
        inclo_rad=np.radians(51.6), nodeo_rad=1.0, argpo_rad=2.0, mo_rad=3.0, name="X",
    )
    base.update(overrides)
    return Satellites.from_elements(**base)


@pytest.mark.parametrize(
    "overrides, message",
    [
        (dict(ecco=1.0), r"satellite 25544: eccentricity 1.0 cannot be written"),
        (dict(ecco=0.99999996), r"eccentricity 0.99999996 cannot be written"),
        (dict(ecco=-0.1), r"eccentricity -0.1 cannot be written"),
        (dict(norad_id=340000), r"catalogue number 340000 cannot be written in a TLE: it must be 0..339999"),
        (dict(inclo_rad=np.radians(181.0)), r"inclination 181.0\d* deg is outside 0..180"),
        (dict(epoch="2057-01-01"), r"epoch 2057-01-01.* is outside 1957..2056"),
        (dict(no_kozai_rad_min=100.0 / XPDOTP), r"mean motion 100.0\d* rev/day cannot be written"),
        (dict(ndot_rad_min2=1.0 / (XPDOTP * 1440.0)), r"first derivative of mean motion 1 rev/day\^2 is too large"),
        (dict(bstar_per_er=2e9), r"B\* drag term 2e\+09 is too large"),
        (dict(bstar_per_er=np.nan), r"B\* drag term is nan"),
        (dict(mo_rad=np.inf), r"mean anomaly is inf"),
        (dict(intl_designator="98-067A"), r"international designator '98-067A' cannot be written"),
        (dict(classification="X"), r"classification 'X' is not U, C or S"),
        (dict(element_set_no=10000), r"element set number 10000 is outside 0..9999"),
        (dict(name="two\nlines"), r"name 'two\\nlines' must be one line of ASCII text"),
    ],
)
def test_unrepresentable_values_raise(overrides, message, tmp_path):
    sats = _one(**overrides)
    with pytest.raises(ValueError, match=message):
        format_tle(sats)
    target = tmp_path / "w.tle"
    with pytest.raises(ValueError):
        write_tle(target, sats)
    assert not target.exists() and list(tmp_path.iterdir()) == []  # nothing left behind


def test_write_is_atomic_replace(tmp_path):
    target = tmp_path / "w.tle"
    target.write_text("old\n")
    write_tle(target, read_tle(SAMPLE), names=False)
    assert target.read_text().splitlines() == [ln for ln in _sample_lines() if ln[:2] in ("1 ", "2 ")]
    assert [p.name for p in tmp_path.iterdir()] == ["w.tle"]  # no temporary file left
    umask = os.umask(0)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask


def test_writer_details():
    sats = _one(
        norad_id=[5, 123456], mo_rad=[-0.5, 2 * np.pi], name=["", "1 23456 X"], rev_at_epoch=123456,
        nddot_rad_min3=1e-14 / (XPDOTP * 1440.0 * 1440), bstar_per_er=[0.0, -1e-15], intl_designator="2025-153AB",
    )
    lines = format_tle(sats)
    assert len(lines) == 5  # no name line for the unnamed record
    l1, l2, name, m1, m2 = lines
    assert name == "0 1 23456 X"  # prefixed so it is not read as a data line
    assert m1[2:7] == "C3456" and from_alpha5("C3456") == 123456
    assert l1[9:17] == "25153AB "
    assert l2[43:51] == "331.3521"  # -0.5 rad wrapped into [0, 360)
    assert m2[43:51] == "  0.0000"
    assert l2[63:68] == "23456"  # revolution number rolls over modulo 100000
    assert l1[44:52] == " 00001-9"  # below 0.1e-9: denormal mantissa at exponent -9
    assert l1[53:61] == " 00000+0" and m1[53:61] == " 00000+0"
    back = parse_tle(lines)
    assert list(back.name) == ["", "1 23456 X"]


# ----------------------------------------------------------------------------- properties

_designators = st.builds(
    lambda y, n, p: f"{y:04d}-{n:03d}{p}",
    st.integers(1957, 2056), st.integers(1, 999), st.text("ABCDEFGHJKLMNPQRSTUVWXYZ", min_size=1, max_size=3),
)
_exp_values = st.one_of(
    st.just(0.0),
    st.builds(lambda s, e: s * 10.0**e, st.sampled_from([-1.0, 1.0]), st.floats(-12.0, 8.9)),
)
_names = st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 -()/", max_size=24).map(str.strip)
_epoch_ns = st.integers(
    int(np.datetime64("1957-01-01", "ns").astype(np.int64)),
    int(np.datetime64("2056-12-31T23:59:59", "ns").astype(np.int64)),
)


@st.composite
def element_sets(draw, max_size=5):
    n = draw(st.integers(1, max_size))

    def arr(strategy):
        return np.array(draw(st.lists(strategy, min_size=n, max_size=n)))

    return Satellites.from_elements(
        norad_id=arr(st.integers(0, 339999)),
        epoch=arr(_epoch_ns).astype("datetime64[ns]"),
        no_kozai_rad_min=arr(st.floats(0.01, 99.9)) / XPDOTP,
        ecco=arr(st.floats(0.0, 0.9999999)),
        inclo_rad=np.radians(arr(st.floats(0.0, 180.0))),
        nodeo_rad=arr(st.floats(-20.0, 20.0)),
        argpo_rad=np.radians(arr(st.floats(0.0, 360.0))),
        mo_rad=np.radians(arr(st.floats(-360.0, 720.0))),
        bstar_per_er=arr(_exp_values),
        ndot_rad_min2=arr(st.floats(-0.99, 0.99)) / (XPDOTP * 1440.0),
        nddot_rad_min3=arr(_exp_values) / (XPDOTP * 1440.0 * 1440),
        name=arr(_names),
        intl_designator=arr(st.one_of(st.just(""), _designators)),
        classification=arr(st.sampled_from("UCS")),
        element_set_no=arr(st.integers(0, 9999)),
        rev_at_epoch=arr(st.integers(0, 99999)),
    )


def _angle_diff_deg(a_rad, b_rad):
    d = (np.degrees(a_rad) - np.degrees(b_rad)) % 360.0
    return np.minimum(d, 360.0 - d)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(element_sets())
def test_format_parse_round_trip(sats):
    lines = format_tle(sats)
    back = parse_tle(lines)
    assert len(back) == len(sats)
    for key in ("norad_id", "name", "intl_designator", "classification", "element_set_no", "rev_at_epoch"):
        np.testing.assert_array_equal(getattr(back, key), getattr(sats, key), err_msg=key)
    dt_s = np.abs((back.epoch - sats.epoch).astype(np.int64)) * 1e-9
    assert np.all(dt_s <= EPOCH_HALF_STEP_S + 1e-9)
    jd_back = (back.epoch_jd - sats.epoch_jd) + (back.epoch_jd_frac - sats.epoch_jd_frac)
    assert np.all(np.abs(jd_back) * 86400.0 <= EPOCH_HALF_STEP_S + 1e-6)
    tol_deg = ANGLE_HALF_STEP_DEG + 1e-9
    assert np.all(np.abs(np.degrees(back.inclo_rad - sats.inclo_rad)) <= tol_deg)
    for key in ("nodeo_rad", "argpo_rad", "mo_rad"):
        assert np.all(_angle_diff_deg(getattr(back, key), getattr(sats, key)) <= tol_deg), key
    assert np.all(np.abs(back.ecco - sats.ecco) <= ECC_HALF_STEP + 1e-15)
    assert np.all(np.abs(back.no_kozai_rad_min - sats.no_kozai_rad_min) * XPDOTP <= N_HALF_STEP_REV_DAY + 1e-12)
    assert np.all(
        np.abs(back.ndot_rad_min2 - sats.ndot_rad_min2) * XPDOTP * 1440.0 <= NDOT_HALF_STEP_REV_DAY2 + 1e-15
    )
    for key, scale in (("bstar_per_er", 1.0), ("nddot_rad_min3", XPDOTP * 1440.0 * 1440)):
        a, b = getattr(back, key) * scale, getattr(sats, key) * scale
        # 5 significant digits; below 1e-10 the field is denormal with a step of 1e-14.
        assert np.all(np.abs(a - b) <= np.maximum(EXP_FIELD_REL * np.abs(b), 0.5e-14) * (1 + 1e-9)), key
    # Formatting what was parsed reproduces the text exactly (rounding happens once).
    assert format_tle(back) == lines


def _independent_checksum(line):
    total = 0
    for c in line[:68]:
        if c in "0123456789":
            total += ord(c) - ord("0")
        elif c == "-":
            total += 1
    return total % 10


@settings(max_examples=100, deadline=None)
@given(element_sets(max_size=3))
def test_generated_lines_are_valid(sats):
    lines = format_tle(sats, names=False)
    for ln in lines:
        assert len(ln) == 69 and ln.isascii()
        assert int(ln[68]) == _independent_checksum(ln) == compute_checksum(ln)
    for l1, l2 in zip(lines[0::2], lines[1::2]):
        ref = Satrec.twoline2rv(l1, l2)  # python-sgp4 accepts the layout
        assert ref.satnum == sgp4_alpha5.from_alpha5(l1[2:7])


@settings(max_examples=300, deadline=None)
@given(element_sets(max_size=1), st.integers(0, 1), st.integers(1, 68), st.integers(1, 9))
def test_any_single_digit_corruption_is_caught_by_the_checksum(sats, which, col, delta):
    lines = format_tle(sats, names=False)
    line = lines[which]
    digit_cols = [i for i in range(1, 69) if line[i].isdigit()]  # columns 2..69 (0-based 1..68)
    pos = digit_cols[col % len(digit_cols)]
    corrupted = line[:pos] + str((int(line[pos]) + delta) % 10) + line[pos + 1:]
    lines[which] = corrupted
    with pytest.raises(TLEFormatError, match="checksum"):
        parse_tle(lines)


def test_alpha5_round_trip_over_the_whole_range_and_matches_python_sgp4():
    for n in range(0, 340000):
        text = to_alpha5(n)
        assert len(text) == 5
        assert from_alpha5(text) == n
        if n % 997 == 0 or n >= 99990:
            assert text == sgp4_alpha5.to_alpha5(n)
    letters = {to_alpha5(n)[0] for n in range(100000, 340000, 10000)}
    assert letters.isdisjoint({"I", "O"}) and len(letters) == 24
    assert to_alpha5(100001) == "A0001" and to_alpha5(339999) == "Z9999"
    for bad in (-1, 340000):
        with pytest.raises(ValueError, match="0..339999"):
            to_alpha5(bad)
    for bad in ("O0001", "I1234", "a0001", "12a45", "1234"):
        with pytest.raises(ValueError):
            from_alpha5(bad)
    assert from_alpha5(" 4632") == 4632


def test_checksum_rules():
    assert tle_checksum("1 " + "-" * 66) == (1 + 66) % 10
    assert tle_checksum("ABC+.") == 0
    for l1, l2 in _ver_pairs()[:10]:
        assert tle_checksum(l1) == compute_checksum(l1)
        assert tle_checksum(l2) == compute_checksum(l2)
