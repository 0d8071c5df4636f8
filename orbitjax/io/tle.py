"""Two-line element sets (TLE): reader and writer.

Format: the NORAD two-line element set as documented in Hoots & Roehrich,
"Spacetrack Report No. 3" (1980), Appendix; Alpha-5 catalogue numbers as defined by
18 SDS (space-track.org "Alpha-5" note). Unit conversions follow python-sgp4's
``twoline2rv`` (Vallado et al., AIAA 2006-6753, ``sgp4io.cpp``) operation for operation,
so every field of :class:`~orbitjax.catalog.Satellites` equals python-sgp4's ``Satrec``.

Public API:
  parse_tle(lines, *, source, strict, return_skipped) -> Satellites
  read_tle(path_or_lines, *, strict, return_skipped) -> Satellites
  format_tle(satellites, *, names) -> list[str]
  write_tle(path, satellites, *, names)
  TLEFormatError (a ValueError), SkippedRecordsWarning (a UserWarning), SkippedRecord

Errors name the source, the line number, the columns and what is wrong, e.g.::

  data/x.tle line 13 columns 27-33: eccentricity '00a1234' is not a number

Lenient mode (``strict=False``) skips bad records and emits exactly one
:class:`SkippedRecordsWarning` whose ``.skipped`` attribute lists every skipped record
as :class:`SkippedRecord` (source, line, reason); ``return_skipped=True`` also returns
that list as ``(satellites, skipped)``. A result with no valid record is always an error.
"""

from __future__ import annotations

import errno
import os
import re
import tempfile
import warnings
from math import pi
from typing import Iterable, NamedTuple

import numpy as np

from ..catalog import Satellites

__all__ = [
    "TLEFormatError",
    "SkippedRecord",
    "SkippedRecordsWarning",
    "parse_tle",
    "read_tle",
    "format_tle",
    "write_tle",
    "tle_checksum",
    "to_alpha5",
    "from_alpha5",
]

# Conversion constants exactly as python-sgp4 io.twoline2rv writes them.
_DEG2RAD = pi / 180.0
_XPDOTP = 1440.0 / (2.0 * pi)  # rev/day per rad/min

_NS_PER_DAY = 86_400_000_000_000
_NS_PER_1E8_DAY = 864_000  # the resolution of the TLE epoch (8 decimals of a day)

LINE1_TEMPLATE = "1 NNNNNC NNNNNAAA NNNNN.NNNNNNNN +.NNNNNNNN +NNNNN-N +NNNNN-N N NNNNN"
LINE2_TEMPLATE = "2 NNNNN NNN.NNNN NNN.NNNN NNNNNNN NNN.NNNN NNN.NNNN NN.NNNNNNNNNNNNNN"

# Fixed characters (1-based column -> character) that every valid line carries.
_LINE1_FIXED = {2: " ", 9: " ", 18: " ", 24: ".", 33: " ", 35: ".", 44: " ", 53: " ", 62: " ", 64: " "}
_LINE2_FIXED = {2: " ", 8: " ", 12: ".", 17: " ", 21: ".", 26: " ", 34: " ", 38: ".", 43: " ", 47: ".", 52: " ", 55: "."}

_DATA_LINE_RE = re.compile(r"^[12] [0-9A-Z ][0-9 ]{4}")


def _looks_like_data(line: str) -> bool:
    """A TLE data line ('1 NNNNN...' / '2 NNNNN...'), possibly malformed; anything else is a name."""
    return bool(_DATA_LINE_RE.match(line)) or (line[:2] in ("1 ", "2 ") and len(line) >= 60)


_DECIMAL_RE = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)$")
_ALPHA5_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"  # no I, no O


class TLEFormatError(ValueError):
    """A TLE line or record does not follow the format; the message says where and why."""


class SkippedRecord(NamedTuple):
    """One record left out by a lenient (``strict=False``) read."""

    source: str
    line: int  # 1-based line number of the first line of the record (or record index for OMM)
    reason: str


class SkippedRecordsWarning(UserWarning):
    """Emitted once per lenient read that skipped records; ``.skipped`` lists them all."""

    def __init__(self, message: str, skipped: list[SkippedRecord]):
        super().__init__(message)
        self.skipped = list(skipped)


def _warn_skipped(skipped: list[SkippedRecord], kind: str, n_kept: int, stacklevel: int = 3) -> None:
    if not skipped:
        return
    head = f"skipped {len(skipped)} bad {kind} record(s) from {skipped[0].source}, kept {n_kept}:"
    body = "\n".join(f"  line {s.line}: {s.reason}" for s in skipped)
    warnings.warn(SkippedRecordsWarning(f"{head}\n{body}", skipped), stacklevel=stacklevel)


# ----------------------------------------------------------------------------- Alpha-5


def to_alpha5(norad_id: int) -> str:
    """Encode a catalogue number in 5 characters: 0..99999 as digits, 100000..339999 as Alpha-5.

    Raises:
      ValueError: for numbers outside 0..339999 ('Z9999').
    """
    n = int(norad_id)
    if n < 0 or n > 339999:
        raise ValueError(
            f"catalogue number {n} cannot be written in a TLE: it must be 0..339999 "
            "(Alpha-5 'Z9999' is the largest)"
        )
    if n < 100000:
        return f"{n:05d}"
    lead, rest = divmod(n, 10000)
    return f"{_ALPHA5_LETTERS[lead - 10]}{rest:04d}"


def from_alpha5(text: str) -> int:
    """Decode a 5-character catalogue number (digits, or Alpha-5 letter + 4 digits).

    Leading blanks are accepted for plain numbers (' 4632'). Raises ValueError otherwise.
    """
    if len(text) != 5:
        raise ValueError(f"catalogue number {text!r} must be 5 characters")
    head, tail = text[0], text[1:]
    if head in _ALPHA5_LETTERS and tail.isdigit() and tail.isascii():
        return (_ALPHA5_LETTERS.index(head) + 10) * 10000 + int(tail)
    stripped = text.lstrip(" ")
    if stripped and stripped.isdigit() and stripped.isascii():
        return int(stripped)
    if head in "IO" and tail.isdigit():
        raise ValueError(f"catalogue number {text!r}: Alpha-5 does not use the letters I and O")
    raise ValueError(f"catalogue number {text!r} is neither 5 digits nor Alpha-5 (letter + 4 digits)")


def tle_checksum(line: str) -> int:
    """Modulo-10 checksum of the first 68 characters: digits count their value, '-' counts 1."""
    return sum(int(c) if c.isdigit() else (c == "-") for c in line[:68]) % 10


# ----------------------------------------------------------------------------- parsing


class _LineError(Exception):
    """Internal: problem found in one line; turned into TLEFormatError with the source."""

    def __init__(self, lineno: int, message: str, columns: tuple[int, int] | None = None, detail: str = ""):
        super().__init__(message)
        self.lineno = lineno
        self.message = message
        self.columns = columns
        self.detail = detail

    def reason(self) -> str:
        """The message without source and line, with the columns when known."""
        if self.columns is None:
            return self.message
        a, b = self.columns
        return (f"column {a}: " if a == b else f"columns {a}-{b}: ") + self.message

    def render(self, source: str) -> str:
        where = f"{source} line {self.lineno}"
        if self.columns is not None:
            a, b = self.columns
            where += f" column {a}" if a == b else f" columns {a}-{b}"
        return f"{where}: {self.message}{self.detail}"


def _template_detail(which: int, line: str) -> str:
    template = LINE1_TEMPLATE if which == 1 else LINE2_TEMPLATE
    return f"\n  expected: {template}\n  got:      {line}"


def _field(line: str, a: int, b: int) -> str:
    return line[a - 1 : b]


def _decimal(line: str, lineno: int, a: int, b: int, what: str) -> float:
    text = _field(line, a, b)
    s = text.strip()
    if not _DECIMAL_RE.match(s):
        raise _LineError(lineno, f"{what} {text!r} is not a number", (a, b))
    return float(s)


def _integer(line: str, lineno: int, a: int, b: int, what: str, blank: int | None = None) -> int:
    text = _field(line, a, b)
    s = text.strip()
    if not s and blank is not None:
        return blank
    if not (s.isdigit() and s.isascii()):
        raise _LineError(lineno, f"{what} {text!r} is not a whole number", (a, b))
    return int(s)


def _exp_field(line: str, lineno: int, a: int, what: str) -> float:
    """Field '+NNNNN-N' at columns a..a+7: value = +.NNNNN * 10**-N (implied decimal point)."""
    text = _field(line, a, a + 7)
    sign, digits, esign, edigit = text[0], text[1:6], text[6], text[7]
    if sign not in " +-" or not (digits.isdigit() and digits.isascii()) or esign not in " +-" or not edigit.isdigit():
        raise _LineError(
            lineno, f"{what} {text!r} is not a number in the form '+NNNNN-N' (implied '0.', exponent)", (a, a + 7)
        )
    # As python-sgp4: float(sign + '.' + digits) * pow(10.0, int(exp)).
    return float(sign.strip() + "." + digits) * pow(10.0, int(esign.strip() + edigit))


def _check_structure(line: str, lineno: int, which: int) -> None:
    template_detail = _template_detail(which, line)
    if not line.isascii():
        bad = next(i for i, c in enumerate(line) if not c.isascii())
        raise _LineError(lineno, f"non-ASCII character {line[bad]!r} in TLE line {which}", (bad + 1, bad + 1), template_detail)
    if len(line) != 69:
        raise _LineError(
            lineno,
            f"TLE line {which} has {len(line)} characters, expected 69"
            + (" (truncated?)" if len(line) < 69 else ""),
            None,
            template_detail,
        )
    stated = line[68]
    if not stated.isdigit():
        raise _LineError(lineno, f"checksum {stated!r} is not a digit", (69, 69), template_detail)
    computed = tle_checksum(line)
    if int(stated) != computed:
        raise _LineError(lineno, f"checksum is {stated} but the line sums to {computed} (mod 10)", (69, 69))
    fixed = _LINE1_FIXED if which == 1 else _LINE2_FIXED
    for col, char in fixed.items():
        if line[col - 1] != char:
            raise _LineError(
                lineno, f"expected {char!r} in TLE line {which}, got {line[col - 1]!r}", (col, col), template_detail
            )


def _parse_record(name: str, l1: str, n1: int, l2: str, n2: int) -> dict:
    _check_structure(l1, n1, 1)
    _check_structure(l2, n2, 2)
    rec: dict = {"name": name}

    # ---- line 1
    try:
        rec["norad_id"] = from_alpha5(_field(l1, 3, 7))
    except ValueError as e:
        raise _LineError(n1, str(e), (3, 7)) from None
    cls = l1[7]
    if cls == " ":
        cls = "U"
    if cls not in "UCS":
        raise _LineError(n1, f"classification {cls!r} is not U, C or S", (8, 8))
    rec["classification"] = cls

    desig = _field(l1, 10, 17)
    if desig.strip():
        m = re.match(r"^(\d{2})(\d{3})([A-Z]{1,3}) *$", desig)
        if m is None:
            raise _LineError(
                n1, f"international designator {desig!r} is not YYNNNPPP (launch year, number, piece)", (10, 17)
            )
        yy = int(m.group(1))
        rec["intl_designator"] = f"{yy + (1900 if yy >= 57 else 2000)}-{m.group(2)}{m.group(3)}"
    else:
        rec["intl_designator"] = ""

    yy = _integer(l1, n1, 19, 20, "epoch year")
    year = yy + (1900 if yy >= 57 else 2000)
    day_text, frac_text = _field(l1, 21, 23), _field(l1, 25, 32)
    day_s, frac_s = day_text.lstrip(" "), frac_text.rstrip(" ")
    if not (day_s.isdigit() and frac_s.isdigit() and day_s.isascii() and frac_s.isascii()):
        raise _LineError(n1, f"epoch day of year {_field(l1, 21, 32)!r} is not a number DDD.DDDDDDDD", (21, 32))
    day = int(day_s)
    if not 1 <= day <= 366:
        raise _LineError(n1, f"epoch day of year {_field(l1, 21, 32)!r} is outside 1..366", (21, 32))
    frac_1e8 = int(frac_s.ljust(8, "0"))
    # Two-part JD as python-sgp4's Satrec: JD of Jan 0.0 + whole days, fraction to 8 digits.
    rec["epoch_jd"] = year * 365 + (year - 1) // 4 + day + 1721044.5
    rec["epoch_jd_frac"] = frac_1e8 / 1e8
    year_start_ns = np.datetime64(f"{year:04d}-01-01", "ns").astype(np.int64)
    rec["epoch_ns"] = int(year_start_ns) + (day - 1) * _NS_PER_DAY + frac_1e8 * _NS_PER_1E8_DAY

    rec["ndot_rad_min2"] = _decimal(l1, n1, 34, 43, "first derivative of mean motion") / (_XPDOTP * 1440.0)
    rec["nddot_rad_min3"] = _exp_field(l1, n1, 45, "second derivative of mean motion") / (_XPDOTP * 1440.0 * 1440)
    rec["bstar_per_er"] = _exp_field(l1, n1, 54, "B* drag term")
    eph = l1[62]
    if eph not in " 0123456789":
        raise _LineError(n1, f"ephemeris type {eph!r} is not a digit", (63, 63))
    if eph == "4":
        raise _LineError(n1, "ephemeris type 4 (SGP4-XP) elements are not SGP4 mean elements", (63, 63))
    rec["element_set_no"] = _integer(l1, n1, 65, 68, "element set number", blank=0)

    # ---- line 2
    id2 = _field(l2, 3, 7)
    if id2 != _field(l1, 3, 7):
        raise _LineError(
            n2, f"catalogue number {id2!r} does not match {_field(l1, 3, 7)!r} on line 1 (line {n1})", (3, 7)
        )
    inc = _decimal(l2, n2, 9, 16, "inclination")
    if not 0.0 <= inc <= 180.0:
        raise _LineError(n2, f"inclination {inc} deg is outside 0..180", (9, 16))
    angles = {}
    for what, a, b in (("right ascension of the node", 18, 25), ("argument of perigee", 35, 42), ("mean anomaly", 44, 51)):
        value = _decimal(l2, n2, a, b, what)
        if not 0.0 <= value <= 360.0:
            raise _LineError(n2, f"{what} {value} deg is outside 0..360", (a, b))
        angles[what] = value
    ecc_text = _field(l2, 27, 33)
    if not re.match(r"^[0-9 ]{7}$", ecc_text) or not ecc_text.strip():
        raise _LineError(n2, f"eccentricity {ecc_text!r} is not a number (7 digits, implied '0.')", (27, 33))
    n_rev_day = _decimal(l2, n2, 53, 63, "mean motion")
    if not n_rev_day > 0.0:
        raise _LineError(n2, f"mean motion {n_rev_day} rev/day must be positive", (53, 63))
    rec["rev_at_epoch"] = _integer(l2, n2, 64, 68, "revolution number", blank=0)

    # Conversions exactly as python-sgp4 io.twoline2rv.
    rec["ecco"] = float("0." + ecc_text.replace(" ", "0"))
    rec["no_kozai_rad_min"] = n_rev_day / _XPDOTP
    rec["inclo_rad"] = inc * _DEG2RAD
    rec["nodeo_rad"] = angles["right ascension of the node"] * _DEG2RAD
    rec["argpo_rad"] = angles["argument of perigee"] * _DEG2RAD
    rec["mo_rad"] = angles["mean anomaly"] * _DEG2RAD
    return rec


def _split_records(lines: Iterable[str]):
    """Yield (record, error) pairs: record = (name, l1, n1, l2, n2), error = _LineError.

    Blank lines are ignored; trailing whitespace and CR are stripped. A name line is any
    line that is not a data line ('1 NNNNN...' / '2 NNNNN...'); a leading '0 ' is removed.
    """
    pending_name: tuple[str, int] | None = None
    pending_l1: tuple[str, int] | None = None
    for lineno, raw in enumerate(lines, start=1):
        if isinstance(raw, bytes):
            raw = raw.decode("utf-8", errors="replace")
        line = raw.rstrip()
        if not line:
            continue
        kind = line[0] if _looks_like_data(line) else "name"
        if pending_l1 is not None:
            l1, n1 = pending_l1
            name = pending_name[0] if pending_name else ""
            start = pending_name[1] if pending_name else n1
            pending_l1 = pending_name = None
            if kind == "2":
                yield (name, l1, n1, line, lineno), start
                continue
            what = "a name line" if kind == "name" else "another line 1"
            yield None, _LineError(
                n1, f"TLE line 1 is not followed by line 2 (line {lineno} is {what})", None, _template_detail(1, l1)
            )
        if kind == "2":
            if pending_name is not None:
                yield None, _LineError(
                    lineno, f"TLE line 2 without line 1 (line {pending_name[1]} is the name {pending_name[0]!r})",
                    None, _template_detail(1, line),
                )
                pending_name = None
            else:
                yield None, _LineError(lineno, "TLE line 2 without a preceding line 1", None, _template_detail(1, line))
        elif kind == "1":
            pending_l1 = (line, lineno)
        else:
            if pending_name is not None:
                yield None, _LineError(
                    pending_name[1],
                    f"name line {pending_name[0]!r} is not followed by TLE line 1 (line {lineno} is another name line)",
                    None, _template_detail(1, line),
                )
            name = line[2:] if line.startswith("0 ") else line
            pending_name = (name.strip(), lineno)
    if pending_l1 is not None:
        yield None, _LineError(pending_l1[1], "TLE line 1 is not followed by line 2 (end of input)", None,
                               _template_detail(1, pending_l1[0]))
    elif pending_name is not None:
        yield None, _LineError(
            pending_name[1], f"name line {pending_name[0]!r} is not followed by TLE line 1 (end of input)"
        )


def parse_tle(lines: Iterable[str], *, source: str = "<lines>", strict: bool = True, return_skipped: bool = False):
    """Parse TLE text given as lines (2-line and 3-line records, mixed).

    Args:
      lines: iterable of str (or bytes); line numbers in messages count from 1.
      source: name used in error messages (the file path for :func:`read_tle`).
      strict: raise on the first bad record (default). With False, bad records are
        skipped and one :class:`SkippedRecordsWarning` lists them all.
      return_skipped: also return the list of :class:`SkippedRecord` (empty when none).

    Returns:
      :class:`Satellites` in file order, or ``(satellites, skipped)`` with ``return_skipped``.

    Raises:
      TLEFormatError: a bad record (strict), or no valid record at all (either mode).
    """
    records, skipped = [], []
    counter = [0]
    for item, info in _split_records(_counting(lines, counter)):
        try:
            if item is None:
                raise info
            records.append(_parse_record(*item))
        except _LineError as e:
            if strict:
                raise TLEFormatError(e.render(source)) from None
            skipped.append(SkippedRecord(source, e.lineno, e.reason()))
    n_lines = counter[0]
    if not records:
        if n_lines == 0:
            why = "no TLE records found (the input is empty)"
        elif skipped:
            why = f"no valid TLE records ({len(skipped)} bad record(s), first at line {skipped[0].line}: {skipped[0].reason})"
        else:
            why = f"no TLE records found in {n_lines} line(s)"
        raise TLEFormatError(f"{source}: {why}")
    _warn_skipped(skipped, "TLE", len(records))
    sats = Satellites.from_records(records)
    return (sats, skipped) if return_skipped else sats


def _counting(lines, counter):
    for line in lines:
        counter[0] += 1
        yield line


def read_tle(path_or_lines, *, strict: bool = True, return_skipped: bool = False):
    """Read TLEs from a file path, a list of lines, or a multi-line string.

    A ``str`` containing a newline is TLE text; any other ``str`` or ``os.PathLike`` is
    a file path (read as UTF-8; data lines must be ASCII). See :func:`parse_tle` for
    ``strict``/``return_skipped`` and the result.

    Raises:
      FileNotFoundError: the file does not exist.
      TLEFormatError: see :func:`parse_tle`.
    """
    if isinstance(path_or_lines, str) and "\n" in path_or_lines:
        return parse_tle(path_or_lines.splitlines(), source="<string>", strict=strict, return_skipped=return_skipped)
    if isinstance(path_or_lines, (str, os.PathLike)):
        path = os.fspath(path_or_lines)
        if not os.path.isfile(path):
            if os.path.isdir(path):
                raise IsADirectoryError(errno.EISDIR, "TLE path is a directory, expected a file", path)
            raise FileNotFoundError(errno.ENOENT, "TLE file not found", path)
        with open(path, encoding="utf-8", errors="replace", newline=None) as f:
            return parse_tle(f, source=path, strict=strict, return_skipped=return_skipped)
    if isinstance(path_or_lines, bytes):
        raise TypeError("read_tle: pass text (str) or a path, not bytes; decode first or use parse_tle")
    return parse_tle(list(path_or_lines), source="<lines>", strict=strict, return_skipped=return_skipped)


# ----------------------------------------------------------------------------- writing


def _exp_format(value: float, zero: str, what: str, norad_id: int) -> str:
    """Write ``value`` as ' NNNNN-N' (sign, 5 mantissa digits with implied '0.', exponent)."""
    if not np.isfinite(value):
        raise ValueError(f"satellite {norad_id}: {what} is {value}, cannot be written in a TLE")
    if value == 0.0:
        return " 00000" + zero
    sign = "-" if value < 0 else " "
    mant_text, exp_text = f"{abs(value):.4e}".split("e")
    digits = mant_text.replace(".", "")
    exponent = int(exp_text) + 1  # d.dddd e X  ==  0.ddddd e X+1
    if exponent > 9:
        raise ValueError(
            f"satellite {norad_id}: {what} {value:g} is too large for a TLE (|value| must be below 1e9)"
        )
    if exponent < -9:
        # Below the smallest normal value 0.10000e-9: denormal mantissa at exponent -9.
        mant = int(round(abs(value) / 1e-9 * 1e5))
        if mant == 0:
            return " 00000" + zero
        digits, exponent = f"{mant:05d}", -9
    return f"{sign}{digits}{'-' if exponent < 0 else '+'}{abs(exponent)}"


def _angle_deg(value_rad: float, what: str, norad_id: int) -> str:
    if not np.isfinite(value_rad):
        raise ValueError(f"satellite {norad_id}: {what} is {value_rad}, cannot be written in a TLE")
    deg = float(np.degrees(value_rad)) % 360.0
    text = f"{deg:8.4f}"
    return "  0.0000" if text == "360.0000" else text


def _format_one(sats: Satellites, i: int) -> tuple[str, str]:
    nid = int(sats.norad_id[i])
    sat_id = to_alpha5(nid)

    cls = str(sats.classification[i]).strip() or "U"
    if cls not in ("U", "C", "S"):
        raise ValueError(f"satellite {nid}: classification {cls!r} is not U, C or S")

    desig = str(sats.intl_designator[i]).strip()
    if desig:
        m = re.match(r"^(\d{4})-(\d{3})([A-Z]{1,3})$", desig)
        if m is None or not 1957 <= int(m.group(1)) <= 2056:
            raise ValueError(
                f"satellite {nid}: international designator {desig!r} cannot be written in a TLE; "
                "expected 'YYYY-NNNP' with 1957 <= YYYY <= 2056 and 1-3 piece letters"
            )
        desig_field = f"{m.group(1)[2:]}{m.group(2)}{m.group(3)}".ljust(8)
    else:
        desig_field = " " * 8

    ns = int(np.asarray(sats.epoch[i]).astype("datetime64[ns]").astype(np.int64))
    q, r = divmod(ns, _NS_PER_1E8_DAY)
    ns = (q + (1 if 2 * r >= _NS_PER_1E8_DAY else 0)) * _NS_PER_1E8_DAY  # nearest 1e-8 day
    day_index, frac_ns = divmod(ns, _NS_PER_DAY)
    date = np.datetime64(day_index, "D")
    year = int(str(date)[:4]) if str(date)[0] != "-" else -1
    if not 1957 <= year <= 2056:
        raise ValueError(f"satellite {nid}: epoch {sats.epoch[i]} is outside 1957..2056, the TLE two-digit-year range")
    doy = int((date - np.datetime64(f"{year:04d}-01-01", "D")).astype(np.int64)) + 1
    epoch_field = f"{year % 100:02d}{doy:03d}.{frac_ns // _NS_PER_1E8_DAY:08d}"

    ndot = float(sats.ndot_rad_min2[i]) * (_XPDOTP * 1440.0)
    if not np.isfinite(ndot):
        raise ValueError(f"satellite {nid}: first derivative of mean motion is {ndot}")
    ndot_text = f"{abs(ndot):.8f}"
    if not ndot_text.startswith("0."):
        raise ValueError(
            f"satellite {nid}: first derivative of mean motion {ndot:g} rev/day^2 is too large for a TLE (|value| < 1)"
        )
    ndot_sign = "-" if ndot < 0 and ndot_text != "0.00000000" else " "
    ndot_field = ndot_sign + ndot_text[1:]

    nddot = float(sats.nddot_rad_min3[i]) * (_XPDOTP * 1440.0 * 1440)
    nddot_field = _exp_format(nddot, "-0", "second derivative of mean motion", nid)
    bstar_field = _exp_format(float(sats.bstar_per_er[i]), "+0", "B* drag term", nid)

    elset = int(sats.element_set_no[i])
    if not 0 <= elset <= 9999:
        raise ValueError(f"satellite {nid}: element set number {elset} is outside 0..9999")

    line1 = (
        f"1 {sat_id}{cls} {desig_field} {epoch_field} {ndot_field} {nddot_field} {bstar_field} 0 {elset:4d}"
    )

    inc_deg = float(np.degrees(sats.inclo_rad[i]))
    inc_text = f"{inc_deg:8.4f}"
    if not np.isfinite(inc_deg) or not 0.0 <= float(inc_text) <= 180.0:
        raise ValueError(f"satellite {nid}: inclination {inc_deg} deg is outside 0..180")
    ecc = float(sats.ecco[i])
    ecc_int = int(round(ecc * 1e7)) if np.isfinite(ecc) else -1
    if not (0.0 <= ecc and 0 <= ecc_int <= 9_999_999):
        raise ValueError(
            f"satellite {nid}: eccentricity {ecc} cannot be written in a TLE (needs 0 <= e < 0.99999995)"
        )
    n_rev_day = float(sats.no_kozai_rad_min[i]) * _XPDOTP
    n_text = f"{n_rev_day:11.8f}"
    if not np.isfinite(n_rev_day) or n_rev_day <= 0 or len(n_text) != 11:
        raise ValueError(
            f"satellite {nid}: mean motion {n_rev_day} rev/day cannot be written in a TLE (needs 0 < n < 100)"
        )
    rev = int(sats.rev_at_epoch[i])
    if rev < 0:
        raise ValueError(f"satellite {nid}: revolution number {rev} is negative")
    line2 = (
        f"2 {sat_id} {inc_text} {_angle_deg(sats.nodeo_rad[i], 'right ascension of the node', nid)} "
        f"{ecc_int:07d} {_angle_deg(sats.argpo_rad[i], 'argument of perigee', nid)} "
        f"{_angle_deg(sats.mo_rad[i], 'mean anomaly', nid)} {n_text}{rev % 100000:5d}"
    )
    return line1 + str(tle_checksum(line1)), line2 + str(tle_checksum(line2))


def format_tle(satellites: Satellites, *, names: bool = True) -> list[str]:
    """Format a catalogue as TLE lines (no newlines), with checksums.

    With ``names=True`` each record is preceded by its name line; records with an empty
    name are written as plain 2-line records. A name that could be mistaken for a data
    line (or starts with '0 ') is written with the '0 ' prefix that readers strip.

    Rounding is that of the format: epoch to 1e-8 day (0.864 ms), angles to 1e-4 deg,
    eccentricity to 1e-7, mean motion to 1e-8 rev/day, ndot to 1e-8 rev/day^2, nddot and
    B* to 5 significant digits. Angles are wrapped into [0, 360). Revolution numbers
    roll over modulo 100000, as in published TLEs.

    Raises:
      ValueError: a value the format cannot hold (eccentricity >= 1, catalogue number
        > 339999, inclination outside 0..180, epoch outside 1957..2056, |ndot| >= 1
        rev/day^2, non-finite values, non-ASCII or multi-line names, ...).
    """
    out: list[str] = []
    for i in range(len(satellites)):
        l1, l2 = _format_one(satellites, i)
        if names:
            name = str(satellites.name[i]).strip()
            if name:
                if not name.isascii() or "\n" in name or "\r" in name:
                    raise ValueError(
                        f"satellite {int(satellites.norad_id[i])}: name {name!r} must be one line of ASCII text"
                    )
                if _looks_like_data(name) or name.startswith("0 "):
                    name = "0 " + name
                out.append(name)
        out.extend((l1, l2))
    return out


def write_tle(path, satellites: Satellites, *, names: bool = True) -> None:
    """Write a catalogue to a TLE file atomically (temporary file in the same folder, then ``os.replace``).

    Lines end with '\\n'. See :func:`format_tle` for the format and its errors; nothing
    is written when formatting fails.
    """
    lines = format_tle(satellites, names=names)
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".tle", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="ascii", newline="\n") as f:
            f.write("\n".join(lines) + "\n")
            f.flush()
            os.fsync(f.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp creates 0600; give the usual file mode
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
