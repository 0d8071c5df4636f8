"""Time handling at the user boundary (numpy, host side).

Times are UTC ``numpy.datetime64[ns]``. Kernels receive either two-part Julian
dates (whole, fraction), which keep microseconds over decades in float64, or
elapsed seconds/minutes from an epoch computed from integer nanoseconds.
Leap seconds are not modelled inside a run (UTC is treated as uniform); UT1 = UTC.
"""

from __future__ import annotations

import warnings

import numpy as np

_UNIX_EPOCH_JD = 2440587.5
_NS_PER_DAY = 86_400_000_000_000


_NS_RANGE = (np.datetime64("1678-01-01", "s"), np.datetime64("2262-01-01", "s"))


def _check_ns_range(values) -> None:
    """numpy wraps silently past datetime64[ns]'s range (1677-09-21 .. 2262-04-11)."""
    secs = np.asarray(values).astype("datetime64[s]")
    if secs.size and (np.min(secs) < _NS_RANGE[0] or np.max(secs) >= _NS_RANGE[1]):
        bad = secs.min() if np.min(secs) < _NS_RANGE[0] else secs.max()
        raise ValueError(f"time {bad} is outside the supported range 1678..2261 (datetime64[ns])")


def as_datetime64(times) -> np.ndarray:
    """Convert datetimes, ISO strings or datetime64 to a ``datetime64[ns]`` array.

    Timezone-aware inputs are converted to UTC by pandas when it is installed;
    naive values are taken as UTC. Times outside 1678..2261 raise ValueError.
    """
    if isinstance(times, (np.ndarray, np.datetime64)) and np.issubdtype(times.dtype, np.datetime64):
        if np.any(np.isnat(times)):
            raise ValueError(f"UTC times {_shown(times)} hold NaT (a missing time)")
        if times.dtype != np.dtype("datetime64[ns]"):
            _check_ns_range(times)
        out = np.asarray(times).astype("datetime64[ns]")
        return out[()] if out.ndim == 0 else out
    if isinstance(times, str) and times.endswith("Z"):
        times = times[:-1]  # numpy rejects the UTC designator; naive values are UTC
    try:
        with warnings.catch_warnings():
            # numpy only warns on UTC offsets ("+02:00"); pandas converts them properly.
            warnings.simplefilter("error", UserWarning)
            warnings.simplefilter("error", DeprecationWarning)
            wide = np.asarray(times, dtype="datetime64[us]")
    except (ValueError, TypeError, UserWarning, DeprecationWarning):
        wide = None
    if wide is None:
        import pandas as pd  # noqa: PLC0415 (xarray's dependency; only for inputs numpy cannot parse)

        try:
            wide = pd.to_datetime(np.atleast_1d(times), utc=True).tz_convert(None).to_numpy()
        except (ValueError, TypeError, OverflowError) as err:  # pandas' message names formats to pass
            raise ValueError(f"cannot read {_shown(times)} as UTC times: expected ISO 8601 (e.g. "
                             f"'2025-10-15T00:00Z'), datetime or datetime64 ({str(err).splitlines()[0]})") from None
        wide = wide if np.ndim(times) else wide[0]
    if np.any(np.isnat(wide)):  # numpy reads "" and "NaT" as not-a-time
        raise ValueError(f"cannot read {_shown(times)} as UTC times: expected ISO 8601 (e.g. "
                         "'2025-10-15T00:00Z'), datetime or datetime64, not an empty or missing time")
    _check_ns_range(wide)
    out = np.asarray(wide).astype("datetime64[ns]")
    return out[()] if out.ndim == 0 else out


def jd2_from_datetime64(times) -> tuple[np.ndarray, np.ndarray]:
    """Two-part Julian date (whole, fraction) from UTC datetimes.

    ``whole`` is the Julian date of the preceding midnight (ends in .5); ``fraction``
    is the day fraction in [0, 1), exact to the nanosecond before rounding to float64.
    """
    ns = as_datetime64(times).astype(np.int64)
    days, rem = np.divmod(ns, _NS_PER_DAY)
    return days.astype(np.float64) + _UNIX_EPOCH_JD, rem.astype(np.float64) / _NS_PER_DAY


def datetime64_from_jd2(jd_whole, jd_frac) -> np.ndarray:
    """Inverse of :func:`jd2_from_datetime64`, rounded to the nearest nanosecond."""
    jd_whole = np.asarray(jd_whole, dtype=np.float64)
    jd_frac = np.asarray(jd_frac, dtype=np.float64)
    shift = jd_whole - _UNIX_EPOCH_JD
    whole_days = np.floor(shift)
    frac = (shift - whole_days) + jd_frac
    ns = whole_days.astype(np.int64) * _NS_PER_DAY + np.round(frac * _NS_PER_DAY).astype(np.int64)
    return ns.astype("datetime64[ns]")


def seconds_since(times, epoch) -> np.ndarray:
    """Elapsed seconds from ``epoch`` (broadcast) to ``times``, from integer nanoseconds."""
    dt_ns = as_datetime64(times).astype(np.int64) - as_datetime64(epoch).astype(np.int64)
    return dt_ns.astype(np.float64) / 1e9


def start_and_duration(window):
    """``(start datetime64[ns], duration_s)`` of a ``(start, duration)`` pair, or None for
    anything else (e.g. a pair of UTC times, or any sequence of times).

    ``duration``: seconds or a string like ``"6h"`` (:func:`parse_duration_s`). A pair whose
    second element is neither a duration nor a time raises ValueError with the duration's reason.
    """
    if not (isinstance(window, tuple) and len(window) == 2):
        return None
    try:
        duration_s = parse_duration_s(window[1])
    except ValueError as err:
        try:
            as_datetime64(window[1])
        except ValueError:
            raise ValueError(f"window {_shown(window)}: the second element is neither a duration ({err}) "
                             "nor a UTC time") from None
        return None
    start = as_datetime64(window[0])
    if np.ndim(start) != 0:
        raise ValueError(f"window {_shown(window)}: the start must be a single UTC time")
    return np.datetime64(start, "ns"), duration_s


def _shown(value, limit: int = 60) -> str:
    """A short repr of a user value for an error message."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def time_grid(start, duration_s: float, step_s: float) -> np.ndarray:
    """Regular UTC time grid from ``start`` covering [start, start + duration) at ``step_s``."""
    if not np.isfinite(step_s) or step_s <= 0:
        raise ValueError(f"time step must be a positive number of seconds, got {step_s}")
    if not np.isfinite(duration_s) or duration_s <= 0:
        raise ValueError(f"duration must be a positive number of seconds, got {duration_s}")
    n = int(np.ceil(duration_s / step_s - 1e-9))
    step_ns = int(round(step_s * 1e9))
    start_ns = as_datetime64(start).astype(np.int64)
    return (start_ns + step_ns * np.arange(n, dtype=np.int64)).astype("datetime64[ns]")


_DURATION_UNITS_S = {"s": 1.0, "sec": 1.0, "min": 60.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def parse_duration_s(value) -> float:
    """Seconds from a number (seconds) or a string like '90s', '15min', '6h', '1.5d'.

    Raises:
      ValueError: unparseable, non-finite or not positive.
    """
    if isinstance(value, bool):
        raise ValueError(f"duration {value!r} is not a number or a string like '6h'")
    if isinstance(value, (int, float)):
        seconds = float(value)
    elif isinstance(value, str):
        text = value.strip().lower()
        num = text.rstrip("abcdefghijklmnopqrstuvwxyz ")
        unit = text[len(num):].strip() or "s"
        if unit not in _DURATION_UNITS_S:
            raise ValueError(
                f"duration {value!r} has unknown unit {unit!r}; use s, min, h or d (e.g. '6h', '1d')"
            )
        try:
            seconds = float(num) * _DURATION_UNITS_S[unit]
        except ValueError:
            raise ValueError(f"duration {value!r} is not a number followed by s, min, h or d") from None
    else:
        raise ValueError(f"duration {value!r} is not a number or a string like '6h'")
    if not np.isfinite(seconds) or seconds <= 0:
        raise ValueError(f"duration {value!r} must be positive")
    return seconds
