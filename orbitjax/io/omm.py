"""Orbit Mean-Elements Messages (OMM) with SGP4 elements: CelesTrak JSON and CSV, CCSDS XML.

Format: CCSDS 502.0-B-3 "Orbit Data Messages" (OMM keywords); CelesTrak's
"A New Way to Obtain GP Data" (Kelso, 2020) for the JSON/CSV layouts (one flat object or
row per satellite, same keywords). Units as in the standard: degrees, rev/day,
rev/day^2 (MEAN_MOTION_DOT = ndot/2), rev/day^3 (MEAN_MOTION_DDOT = nddot/6), 1/earth radii.
They are converted with the same operations as :mod:`orbitjax.io.tle`, so an OMM and
the TLE it was made from give the same :class:`~orbitjax.catalog.Satellites` fields
(up to the epoch's microsecond rounding in the OMM text).

Public API:
  read_omm(path, *, format=None, strict=True, return_skipped=False) -> Satellites
  parse_omm(text, *, format, source="<text>", strict=True, return_skipped=False) -> Satellites
  OMMFormatError (a ValueError)

Required keywords: EPOCH, MEAN_MOTION, ECCENTRICITY, INCLINATION, RA_OF_ASC_NODE,
ARG_OF_PERICENTER, MEAN_ANOMALY, NORAD_CAT_ID, BSTAR. Optional, with defaults:
OBJECT_NAME (''), OBJECT_ID (''), CLASSIFICATION_TYPE ('U'), EPHEMERIS_TYPE (0),
ELEMENT_SET_NO (0), REV_AT_EPOCH (0), MEAN_MOTION_DOT (0), MEAN_MOTION_DDOT (0).
Elements for another theory (EPHEMERIS_TYPE 4 / MEAN_ELEMENT_THEORY 'SGP4-XP'), or in a
frame/time system other than TEME/UTC, are rejected.

Errors name the file, the record (JSON: record index; CSV: line; XML: segment index),
the keyword, the bad value and what was expected. ``strict=False`` behaves as in
:func:`orbitjax.io.tle.parse_tle`: one :class:`~orbitjax.io.tle.SkippedRecordsWarning`
(``.skipped`` lists :class:`~orbitjax.io.tle.SkippedRecord`), ``return_skipped=True``
returns ``(satellites, skipped)``; for OMM, ``SkippedRecord.line`` is the CSV line, or
the 1-based record (JSON) / segment (XML) index.
"""

from __future__ import annotations

import csv
import errno
import io
import json
import os
import re
import xml.etree.ElementTree as ET
from math import isfinite, pi

import numpy as np

from ..catalog import Satellites
from .tle import SkippedRecord, _warn_skipped

__all__ = ["OMMFormatError", "read_omm", "parse_omm"]

_DEG2RAD = pi / 180.0
_XPDOTP = 1440.0 / (2.0 * pi)

_REQUIRED = (
    "EPOCH", "MEAN_MOTION", "ECCENTRICITY", "INCLINATION", "RA_OF_ASC_NODE",
    "ARG_OF_PERICENTER", "MEAN_ANOMALY", "NORAD_CAT_ID", "BSTAR",
)
_EPOCH_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?Z?$")
_OBJECT_ID_RE = re.compile(r"^(\d{4})-(\d{3})([A-Z]{1,3})$")
_FORMATS = ("json", "csv", "xml")
_MAX_NORAD_ID = 999_999_999  # 9-digit catalogue numbers (the OMM field is wider than a TLE's Alpha-5)
_MAX_COUNTER = 2**31 - 1  # ELEMENT_SET_NO, REV_AT_EPOCH


class OMMFormatError(ValueError):
    """An OMM file or record is malformed; the message says where and why."""


class _RecordError(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _number(fields: dict, key: str, *, default=None) -> float:
    value = fields.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        if default is not None:
            return default
        raise _RecordError(f"{key} is missing")
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise _RecordError(f"{key} {value!r} is not a number")
    try:
        x = float(value)
    except ValueError:
        raise _RecordError(f"{key} {value!r} is not a number") from None
    if not isfinite(x):
        raise _RecordError(f"{key} {value!r} is not a finite number")
    return x


def _integer(fields: dict, key: str, *, default=None) -> int:
    value = fields.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        if default is not None:
            return default
        raise _RecordError(f"{key} is missing")
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit() and value.strip().isascii():
        return int(value.strip())
    raise _RecordError(f"{key} {value!r} is not a non-negative whole number")


def _text(fields: dict, key: str, default: str) -> str:
    value = fields.get(key)
    if value is None:
        return default
    if not isinstance(value, (str, int)) or isinstance(value, bool):
        raise _RecordError(f"{key} {value!r} is not text")
    return str(value).strip()


def _convert(fields: dict) -> dict:
    """One OMM record (keyword -> value) to Satellites fields; raises _RecordError."""
    missing = [k for k in _REQUIRED if fields.get(k) is None]
    if missing:
        raise _RecordError(f"missing keyword(s) {', '.join(missing)}")
    rec: dict = {}
    rec["name"] = _text(fields, "OBJECT_NAME", "")
    nid = _integer(fields, "NORAD_CAT_ID")
    if not 0 <= nid <= _MAX_NORAD_ID:
        raise _RecordError(f"NORAD_CAT_ID {nid} is outside 0..{_MAX_NORAD_ID:,} (a catalogue number of up to 9 digits)")
    rec["norad_id"] = nid

    object_id = _text(fields, "OBJECT_ID", "")
    if object_id.upper() in ("", "UNKNOWN"):
        rec["intl_designator"] = ""
    elif _OBJECT_ID_RE.match(object_id):
        rec["intl_designator"] = object_id
    else:
        raise _RecordError(f"OBJECT_ID {object_id!r} is not a COSPAR designator 'YYYY-NNNP' like '2025-153A'")

    for key, expected in (("CENTER_NAME", "EARTH"), ("REF_FRAME", "TEME"), ("TIME_SYSTEM", "UTC")):
        value = _text(fields, key, expected)
        if value.upper() != expected:
            raise _RecordError(f"{key} {value!r} is not supported, expected {expected!r}")
    theory = _text(fields, "MEAN_ELEMENT_THEORY", "SGP4")
    if theory.upper() not in ("SGP4", "SGP/SGP4"):
        raise _RecordError(f"MEAN_ELEMENT_THEORY {theory!r} is not SGP4 (only SGP4 mean elements are read)")
    eph = _integer(fields, "EPHEMERIS_TYPE", default=0)
    if eph == 4:
        raise _RecordError("EPHEMERIS_TYPE 4 (SGP4-XP) elements are not SGP4 mean elements")
    if eph > 9:
        raise _RecordError(f"EPHEMERIS_TYPE {eph} is not a single digit")

    cls = _text(fields, "CLASSIFICATION_TYPE", "U") or "U"
    if cls not in ("U", "C", "S"):
        raise _RecordError(f"CLASSIFICATION_TYPE {cls!r} is not U, C or S")
    rec["classification"] = cls

    epoch_text = _text(fields, "EPOCH", "")
    m = _EPOCH_RE.match(epoch_text)
    if m is None:
        raise _RecordError(f"EPOCH {epoch_text!r} is not an ISO time 'YYYY-MM-DDThh:mm:ss.ffffff' (UTC)")
    try:
        base = np.datetime64(epoch_text[:19], "ns")
    except ValueError:
        raise _RecordError(f"EPOCH {epoch_text!r} is not a valid date and time") from None
    if (int(m.group(2)), int(m.group(3))) != (int(str(base)[5:7]), int(str(base)[8:10])) or int(m.group(4)) > 23:
        raise _RecordError(f"EPOCH {epoch_text!r} is not a valid date and time")
    frac_ns = int((m.group(7) or "0").ljust(9, "0"))
    rec["epoch_ns"] = int(base.astype(np.int64)) + frac_ns

    n_rev_day = _number(fields, "MEAN_MOTION")
    if n_rev_day <= 0:
        raise _RecordError(f"MEAN_MOTION {n_rev_day} rev/day must be positive")
    ecc = _number(fields, "ECCENTRICITY")
    if not 0.0 <= ecc < 1.0:
        raise _RecordError(f"ECCENTRICITY {ecc} is outside [0, 1)")
    inc = _number(fields, "INCLINATION")
    if not 0.0 <= inc <= 180.0:
        raise _RecordError(f"INCLINATION {inc} deg is outside 0..180")
    angles = {}
    for key in ("RA_OF_ASC_NODE", "ARG_OF_PERICENTER", "MEAN_ANOMALY"):
        angles[key] = _number(fields, key)
        if not 0.0 <= angles[key] <= 360.0:
            raise _RecordError(f"{key} {angles[key]} deg is outside 0..360")

    # Same operations as orbitjax.io.tle (python-sgp4 twoline2rv).
    rec["no_kozai_rad_min"] = n_rev_day / _XPDOTP
    rec["ecco"] = ecc
    rec["inclo_rad"] = inc * _DEG2RAD
    rec["nodeo_rad"] = angles["RA_OF_ASC_NODE"] * _DEG2RAD
    rec["argpo_rad"] = angles["ARG_OF_PERICENTER"] * _DEG2RAD
    rec["mo_rad"] = angles["MEAN_ANOMALY"] * _DEG2RAD
    rec["bstar_per_er"] = _number(fields, "BSTAR")
    rec["ndot_rad_min2"] = _number(fields, "MEAN_MOTION_DOT", default=0.0) / (_XPDOTP * 1440.0)
    rec["nddot_rad_min3"] = _number(fields, "MEAN_MOTION_DDOT", default=0.0) / (_XPDOTP * 1440.0 * 1440)
    for key, field in (("ELEMENT_SET_NO", "element_set_no"), ("REV_AT_EPOCH", "rev_at_epoch")):
        rec[field] = _integer(fields, key, default=0)
        if rec[field] > _MAX_COUNTER:
            raise _RecordError(f"{key} {rec[field]} is larger than {_MAX_COUNTER:,}")
    return rec


# ----------------------------------------------------------------------------- format layers
# Each yields (where, position, fields): 'where' for messages ("record 3", "line 4", "segment 2"),
# 'position' the integer for SkippedRecord.line, 'fields' a dict or an error string.


def _records_json(text: str, source: str):
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise OMMFormatError(f"{source} line {e.lineno} column {e.colno}: not valid JSON ({e.msg})") from None
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list):
        raise OMMFormatError(f"{source}: expected a JSON list of OMM objects, got {type(data).__name__}")
    for i, obj in enumerate(data, start=1):
        if isinstance(obj, dict):
            yield f"record {i}", i, obj
        else:
            yield f"record {i}", i, f"expected a JSON object with OMM keywords, got {type(obj).__name__}"


def _records_csv(text: str, source: str):
    reader = csv.reader(io.StringIO(text))
    header = None
    for row in reader:
        if any(cell.strip() for cell in row):
            header = [h.strip().upper() for h in row]
            header_line = reader.line_num
            break
    if header is None:
        return
    missing = [k for k in _REQUIRED if k not in header]
    if missing:
        raise OMMFormatError(
            f"{source} line {header_line}: CSV header lacks column(s) {', '.join(missing)} "
            f"(expected CelesTrak OMM keywords such as {', '.join(_REQUIRED[:3])}, ...)"
        )
    start = reader.line_num + 1
    for row in reader:
        line = start
        start = reader.line_num + 1
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            yield f"line {line}", line, f"row has {len(row)} values, the header has {len(header)}"
            continue
        yield f"line {line}", line, {k: (v if v.strip() else None) for k, v in zip(header, row)}


def _local(tag) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _records_xml(text: str, source: str):
    try:
        root = ET.fromstring(text)
    except ET.ParseError as e:
        line, col = e.position
        raise OMMFormatError(f"{source} line {line} column {col}: not valid XML ({e})") from None
    segments = [el for el in root.iter() if _local(el.tag) == "segment"]
    if not segments and _local(root.tag) not in ("ndm", "omm"):
        raise OMMFormatError(f"{source}: XML root <{_local(root.tag)}> is not a CCSDS <ndm> or <omm> document")
    for i, seg in enumerate(segments, start=1):
        fields: dict = {}
        for el in seg.iter():
            if len(el) == 0 and el is not seg:
                key = _local(el.tag).upper()
                if key in ("COMMENT", "USER_DEFINED"):
                    continue
                fields[key] = el.text.strip() if el.text and el.text.strip() else None
        yield f"segment {i}", i, fields


def _sniff(text: str) -> str | None:
    head = text.lstrip("\ufeff \t\r\n")[:1]
    if head in ("[", "{"):
        return "json"
    if head == "<":
        return "xml"
    first = text.lstrip("\ufeff").splitlines()[0] if text.strip() else ""
    if "NORAD_CAT_ID" in first.upper() and "," in first:
        return "csv"
    return None


def parse_omm(text: str, *, format: str, source: str = "<text>", strict: bool = True, return_skipped: bool = False):
    """Parse OMM text in ``format`` 'json', 'csv' or 'xml' (see :func:`read_omm`)."""
    fmt = str(format).lower()
    if fmt not in _FORMATS:
        raise ValueError(f"OMM format {format!r} is not one of {', '.join(_FORMATS)}")
    layer = {"json": _records_json, "csv": _records_csv, "xml": _records_xml}[fmt]
    records, skipped = [], []
    for where, position, fields in layer(text, source):
        try:
            if isinstance(fields, str):
                raise _RecordError(fields)
            records.append(_convert(fields))
        except _RecordError as e:
            label = ""
            if isinstance(fields, dict):
                nid, name = fields.get("NORAD_CAT_ID"), fields.get("OBJECT_NAME")
                if nid is not None or name:
                    label = " (" + " ".join(str(x) for x in (nid, repr(name) if name else None) if x is not None) + ")"
            if strict:
                raise OMMFormatError(f"{source} {where}{label}: {e.message}") from None
            skipped.append(SkippedRecord(source, position, f"{where}{label}: {e.message}"))
    if not records:
        if skipped:
            raise OMMFormatError(
                f"{source}: no valid OMM records ({len(skipped)} bad, first: {skipped[0].reason})"
            )
        raise OMMFormatError(f"{source}: no OMM records found (the {fmt.upper()} input is empty)")
    _warn_skipped(skipped, "OMM", len(records))
    sats = Satellites.from_records(records)
    return (sats, skipped) if return_skipped else sats


def read_omm(path, *, format: str | None = None, strict: bool = True, return_skipped: bool = False):
    """Read SGP4 elements from an OMM file: CelesTrak JSON or CSV, or CCSDS OMM XML.

    Args:
      path: file path. The format comes from ``format``, else the extension
        (.json/.csv/.xml), else the content (first character '[' / '{' is JSON, '<' is
        XML, a header line with NORAD_CAT_ID and commas is CSV).
      strict: raise on the first bad record (default); with False skip bad records with
        one warning (see the module docstring).
      return_skipped: also return the list of skipped records.

    Returns:
      :class:`Satellites` in file order, or ``(satellites, skipped)``.

    Raises:
      FileNotFoundError: no such file.
      OMMFormatError: unreadable file, bad record (strict), or no valid record.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(errno.ENOENT, "OMM file not found", path)
    with open(path, encoding="utf-8-sig", errors="strict") as f:
        try:
            text = f.read()
        except UnicodeDecodeError as e:
            raise OMMFormatError(f"{path}: byte {e.start} is not UTF-8 text ({e.reason})") from None
    fmt = format
    if fmt is None:
        ext = os.path.splitext(path)[1].lower().lstrip(".")
        fmt = ext if ext in _FORMATS else _sniff(text)
        if fmt is None:
            if not text.strip():
                raise OMMFormatError(f"{path}: no OMM records found (the file is empty)")
            raise OMMFormatError(
                f"{path}: cannot tell the OMM format; use a .json, .csv or .xml name or pass format="
            )
    return parse_omm(text, format=fmt, source=path, strict=strict, return_skipped=return_skipped)
