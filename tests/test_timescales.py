"""UTC time handling: two-part Julian dates keep microseconds over decades; durations parse."""

import datetime as dt

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from orbitjax.timescales import (
    as_datetime64,
    datetime64_from_jd2,
    jd2_from_datetime64,
    parse_duration_s,
    seconds_since,
    start_and_duration,
    time_grid,
)

# 1950..2100 in nanoseconds since 1970
NS = st.integers(min_value=-20 * 365 * 86400 * 10**9, max_value=130 * 365 * 86400 * 10**9)


def test_known_julian_dates():
    # J2000.0 = 2000-01-01T12:00 TT; as a UTC label: JD 2451545.0 (Meeus, Astronomical Algorithms, ch. 7).
    w, f = jd2_from_datetime64(np.datetime64("2000-01-01T12:00:00"))
    assert w + f == 2451545.0 and w == 2451544.5 and f == 0.5
    # 1957-10-04T19:28:34 UTC (Sputnik 1): JD 2436116.31150463.
    w, f = jd2_from_datetime64(np.datetime64("1957-10-04T19:28:34"))
    assert abs((w - 2436116.0) + f - 0.31150463) < 1e-8


@given(NS)
def test_two_part_jd_round_trips_to_the_microsecond(ns):
    t = np.datetime64(ns, "ns")
    w, f = jd2_from_datetime64(t)
    assert w % 1 == 0.5 and 0 <= f < 1
    back = datetime64_from_jd2(w, f)
    assert abs(int(back.astype(np.int64)) - ns) < 1000  # < 1 microsecond


@given(NS, st.integers(min_value=1, max_value=10**9))
def test_elapsed_seconds_exact_from_integer_nanoseconds(ns, delta_ns):
    a, b = np.datetime64(ns, "ns"), np.datetime64(ns + delta_ns, "ns")
    assert abs(seconds_since(b, a) - delta_ns / 1e9) <= 1e-15 * max(1.0, delta_ns / 1e9)


def test_inputs_accepted():
    ref = np.datetime64("2025-10-15T00:00:00", "ns")
    assert as_datetime64("2025-10-15T00:00:00Z") == ref
    assert as_datetime64(dt.datetime(2025, 10, 15)) == ref
    assert as_datetime64("2025-10-15T02:00:00+02:00") == ref  # pandas converts offsets to UTC
    assert as_datetime64(["2025-10-15", "2025-10-16"]).shape == (2,)


@pytest.mark.parametrize("bad", ["yesterday", ["2025-10-15", "1h"], "2025-13-45T00:00"])
def test_unreadable_times_are_one_line_naming_the_value(bad):
    with pytest.raises(ValueError, match=r"cannot read .* as UTC times: expected ISO 8601") as err:
        as_datetime64(bad)
    assert "\n" not in str(err.value)
    assert repr(bad)[:20] in str(err.value)


@pytest.mark.parametrize("text, seconds", [(3600, 3600.0), ("90s", 90.0), ("15min", 900.0), ("6h", 21600.0),
                                           ("1.5d", 129600.0), (" 2 h ", 7200.0)])
def test_parse_duration(text, seconds):
    assert parse_duration_s(text) == seconds


@pytest.mark.parametrize("bad", ["-1d", "0s", "abc", "5 weeks", True, None, float("nan")])
def test_parse_duration_rejects(bad):
    with pytest.raises(ValueError):
        parse_duration_s(bad)


def test_time_grid():
    g = time_grid("2025-10-15T00:00:00", 86400, 60)
    assert g.size == 1440 and g[1] - g[0] == np.timedelta64(60, "s")
    with pytest.raises(ValueError):
        time_grid("2025-10-15", -1, 60)


def test_start_and_duration_reads_pairs_and_leaves_times_alone():
    start = np.datetime64("2025-10-15T00:00:00", "ns")
    assert start_and_duration(("2025-10-15T00:00Z", "6h")) == (start, 21600.0)
    assert start_and_duration((start, 90)) == (start, 90.0)
    # Two times, or any other sequence, are times: the caller reads them as such.
    assert start_and_duration(("2025-10-15T00:00Z", "2025-10-15T01:00Z")) is None
    assert start_and_duration(["2025-10-15T00:00Z", "6h"]) is None
    with pytest.raises(ValueError, match=r"neither a duration \(duration '-6h' must be positive\) nor a UTC time"):
        start_and_duration(("2025-10-15T00:00Z", "-6h"))
    with pytest.raises(ValueError, match="the start must be a single UTC time"):
        start_and_duration((["2025-10-15", "2025-10-16"], "6h"))
