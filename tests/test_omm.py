"""OMM reader: JSON/CSV/XML fixtures against the equivalent TLE and python-sgp4's OMM reader."""

import json
import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest
from sgp4 import omm as sgp4_omm
from sgp4.api import Satrec

from orbitjax.io.omm import OMMFormatError, parse_omm, read_omm
from orbitjax.io.tle import SkippedRecordsWarning, read_tle

DATA = Path(__file__).parent / "data"
FORMATS = ("json", "csv", "xml")
MICROSECOND_DAY = 1e-6 / 86400.0


def _fixture(fmt):
    return DATA / f"sample_omm.{fmt}"


@pytest.mark.parametrize("fmt", FORMATS)
def test_omm_gives_the_same_elements_as_the_tle(fmt):
    omm, tle = read_omm(_fixture(fmt)), read_tle(DATA / "sample.tle")
    for key in ("name", "norad_id", "intl_designator", "classification", "element_set_no", "rev_at_epoch"):
        np.testing.assert_array_equal(getattr(omm, key), getattr(tle, key), err_msg=key)
    # The same decimal text goes through the same operations: equal to the bit.
    for key in ("no_kozai_rad_min", "ecco", "inclo_rad", "nodeo_rad", "argpo_rad", "mo_rad", "ndot_rad_min2"):
        np.testing.assert_array_equal(getattr(omm, key), getattr(tle, key), err_msg=key)
    # TLE writes B* and nddot as mantissa * 10**exp: one rounding more than the decimal in the OMM.
    np.testing.assert_allclose(omm.bstar_per_er, tle.bstar_per_er, rtol=1e-15, atol=0)
    np.testing.assert_allclose(omm.nddot_rad_min3, tle.nddot_rad_min3, rtol=1e-15, atol=0)
    # OMM epochs are the TLE epoch rounded to the microsecond.
    assert np.all(np.abs((omm.epoch - tle.epoch).astype(np.int64)) <= 500)
    djd = (omm.epoch_jd - tle.epoch_jd) + (omm.epoch_jd_frac - tle.epoch_jd_frac)
    assert np.all(np.abs(djd) <= 0.5 * MICROSECOND_DAY + 1e-12)


def _sgp4_records(fmt):
    path = _fixture(fmt)
    if fmt == "json":
        return json.loads(path.read_text())
    with open(path) as f:
        return list(sgp4_omm.parse_csv(f) if fmt == "csv" else sgp4_omm.parse_xml(f))


@pytest.mark.parametrize("fmt", FORMATS)
def test_omm_matches_python_sgp4_omm_reader(fmt):
    sats = read_omm(_fixture(fmt))
    records = _sgp4_records(fmt)
    assert len(records) == len(sats)
    for i, fields in enumerate(records):
        ref = Satrec()
        sgp4_omm.initialize(ref, {k: str(v) for k, v in fields.items()})
        assert sats.norad_id[i] == ref.satnum
        assert sats.classification[i] == ref.classification
        assert sats.element_set_no[i] == ref.elnum and sats.rev_at_epoch[i] == ref.revnum
        # python-sgp4 writes n / 720 * pi and ndot / (1036800 / pi): same value, other roundings.
        for ours, theirs in (
            ("no_kozai_rad_min", "no_kozai"), ("ecco", "ecco"), ("inclo_rad", "inclo"), ("nodeo_rad", "nodeo"),
            ("argpo_rad", "argpo"), ("mo_rad", "mo"), ("bstar_per_er", "bstar"), ("ndot_rad_min2", "ndot"),
            ("nddot_rad_min3", "nddot"),
        ):
            assert getattr(sats, ours)[i] == pytest.approx(getattr(ref, theirs), rel=1e-14, abs=0), ours
        # python-sgp4 keeps the epoch as days since 1949-12-31 in one float (~1e-11 day).
        jd = sats.epoch_jd[i] + sats.epoch_jd_frac[i]
        assert abs(jd - (ref.jdsatepoch + ref.jdsatepochF)) <= 1e-9


def test_format_is_sniffed_from_content_when_the_extension_does_not_say(tmp_path):
    expected = read_omm(_fixture("json"))
    for fmt in FORMATS:
        p = tmp_path / f"gp_{fmt}.txt"
        shutil.copy(_fixture(fmt), p)
        got = read_omm(p)
        np.testing.assert_array_equal(got.norad_id, expected.norad_id)
        np.testing.assert_array_equal(got.no_kozai_rad_min, expected.no_kozai_rad_min)
    odd = tmp_path / "gp.dat"
    odd.write_text("hello world\n")
    with pytest.raises(OMMFormatError, match=r"gp\.dat: cannot tell the OMM format"):
        read_omm(odd)
    assert len(read_omm(tmp_path / "gp_csv.txt", format="csv")) == 4


def test_single_json_object_and_namespaced_xml():
    one = json.loads(_fixture("json").read_text())[1]
    sats = parse_omm(json.dumps(one), format="json")
    assert list(sats.norad_id) == [44713]
    xml = _fixture("xml").read_text().replace("<ndm ", '<ndm xmlns="urn:ccsds:recommendation:navigation:schema:ndmxml" ', 1)
    assert list(parse_omm(xml, format="xml").norad_id) == [25544, 44713, 44714, 100001]


# ----------------------------------------------------------------------------- errors


def _json_with(tmp_path, index, **changes):
    records = json.loads(_fixture("json").read_text())
    for k, v in changes.items():
        if v is None:
            records[index].pop(k)
        else:
            records[index][k] = v
    p = tmp_path / "bad.json"
    p.write_text(json.dumps(records, indent=1))
    return p


@pytest.mark.parametrize(
    "changes, message",
    [
        (dict(ECCENTRICITY="0.00a1"), r"ECCENTRICITY '0\.00a1' is not a number"),
        (dict(ECCENTRICITY=1.2), r"ECCENTRICITY 1\.2 is outside \[0, 1\)"),
        (dict(MEAN_MOTION="nan"), r"MEAN_MOTION 'nan' is not a finite number"),
        (dict(MEAN_MOTION=-1), r"MEAN_MOTION -1\.0 rev/day must be positive"),
        (dict(INCLINATION=200), r"INCLINATION 200\.0 deg is outside 0\.\.180"),
        (dict(EPOCH="2025-06-01 22:00"), r"EPOCH '2025-06-01 22:00' is not an ISO time"),
        (dict(EPOCH="2025-02-30T00:00:00"), r"EPOCH '2025-02-30T00:00:00' is not a valid date and time"),
        (dict(NORAD_CAT_ID="44x13"), r"NORAD_CAT_ID '44x13' is not a non-negative whole number"),
        (dict(OBJECT_ID="19074A"), r"OBJECT_ID '19074A' is not a COSPAR designator"),
        (dict(EPHEMERIS_TYPE=4), r"EPHEMERIS_TYPE 4 \(SGP4-XP\)"),
        (dict(CLASSIFICATION_TYPE="Q"), r"CLASSIFICATION_TYPE 'Q' is not U, C or S"),
        (dict(BSTAR=None, MEAN_ANOMALY=None), r"missing keyword\(s\) MEAN_ANOMALY, BSTAR"),
        (dict(MEAN_ELEMENT_THEORY="SGP4-XP"), r"MEAN_ELEMENT_THEORY 'SGP4-XP' is not SGP4"),
        (dict(REF_FRAME="GCRF"), r"REF_FRAME 'GCRF' is not supported, expected 'TEME'"),
    ],
)
def test_json_field_errors_name_file_record_and_keyword(tmp_path, changes, message):
    p = _json_with(tmp_path, 1, **changes)
    label = r"\(44x13 'STARLINK-1007'\)" if changes.get("NORAD_CAT_ID") else r"\(44713 'STARLINK-1007'\)"
    with pytest.raises(OMMFormatError, match="^" + str(p).replace(".", r"\.") + r" record 2 " + label + ": " + message):
        read_omm(p)


def test_csv_error_names_the_line(tmp_path):
    lines = _fixture("csv").read_text().splitlines()
    lines[2] = lines[2].replace("0.0001325", "0.000x325")
    p = tmp_path / "bad.csv"
    p.write_text("\n".join(lines) + "\n")
    with pytest.raises(OMMFormatError) as e:
        read_omm(p)
    assert str(e.value) == f"{p} line 3 (44713 'STARLINK-1007'): ECCENTRICITY '0.000x325' is not a number"


def test_csv_structure_errors(tmp_path):
    lines = _fixture("csv").read_text().splitlines()
    p = tmp_path / "cols.csv"
    p.write_text("\n".join([lines[0].replace("BSTAR", "B_STAR")] + lines[1:]) + "\n")
    with pytest.raises(OMMFormatError, match=r"cols\.csv line 1: CSV header lacks column\(s\) BSTAR"):
        read_omm(p)
    p = tmp_path / "short.csv"
    p.write_text("\n".join(lines[:2] + [lines[2].rsplit(",", 2)[0]]) + "\n")
    with pytest.raises(OMMFormatError, match=r"short\.csv line 3: row has 15 values, the header has 17"):
        read_omm(p)


def test_xml_error_names_the_segment(tmp_path):
    text = _fixture("xml").read_text().replace("<INCLINATION>53.0541</INCLINATION>", "<INCLINATION>fifty</INCLINATION>")
    p = tmp_path / "bad.xml"
    p.write_text(text)
    with pytest.raises(OMMFormatError) as e:
        read_omm(p)
    assert str(e.value) == f"{p} segment 3 (44714 'STARLINK-1008'): INCLINATION 'fifty' is not a number"


def test_malformed_documents(tmp_path):
    p = tmp_path / "broken.json"
    p.write_text('[\n {"OBJECT_NAME": "X",\n  "EPOCH": }\n]')
    with pytest.raises(OMMFormatError, match=r"broken\.json line 3 column 12: not valid JSON"):
        read_omm(p)
    p = tmp_path / "broken.xml"
    p.write_text("<ndm><omm>\n<body></omm></ndm>")
    with pytest.raises(OMMFormatError, match=r"broken\.xml line 2 column \d+: not valid XML"):
        read_omm(p)
    p = tmp_path / "dict.json"
    p.write_text('"just a string"')
    with pytest.raises(OMMFormatError, match=r"dict\.json: expected a JSON list of OMM objects, got str"):
        read_omm(p)
    with pytest.raises(ValueError, match="OMM format 'kvn' is not one of json, csv, xml"):
        parse_omm("", format="kvn")


def test_empty_and_missing_files(tmp_path):
    for name, text in (("e.json", "[]"), ("e.csv", ""), ("e.xml", "<ndm></ndm>"), ("e.txt", "  \n")):
        p = tmp_path / name
        p.write_text(text)
        with pytest.raises(OMMFormatError, match=r"no OMM records found"):
            read_omm(p)
    with pytest.raises(FileNotFoundError, match="nope.json"):
        read_omm(tmp_path / "nope.json")


def test_lenient_mode_warns_once_with_every_skipped_record(tmp_path):
    records = json.loads(_fixture("json").read_text())
    records[0]["ECCENTRICITY"] = "bad"
    records[2]["EPOCH"] = "yesterday"
    p = tmp_path / "some_bad.json"
    p.write_text(json.dumps(records))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sats, skipped = read_omm(p, strict=False, return_skipped=True)
    assert list(sats.norad_id) == [44713, 100001]
    ours = [w for w in caught if issubclass(w.category, SkippedRecordsWarning)]
    assert len(ours) == 1 and ours[0].message.skipped == skipped
    assert [s.line for s in skipped] == [1, 3]
    assert "ECCENTRICITY 'bad' is not a number" in skipped[0].reason
    assert "EPOCH 'yesterday'" in skipped[1].reason
    assert "skipped 2 bad OMM record(s)" in str(ours[0].message)
    for r in records:
        r["MEAN_MOTION"] = "x"
    p.write_text(json.dumps(records))
    with pytest.raises(OMMFormatError, match=r"no valid OMM records \(4 bad"):
        read_omm(p, strict=False)
