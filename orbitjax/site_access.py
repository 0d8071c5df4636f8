"""Access reports: every pass of every satellite over every ground site, and per-site figures.

(Named site_access, not access, so that importing it cannot shadow the public function
``orbitjax.access``.)

Three layers (graphcast-style): the pure kernels in ``orbitjax.kernels.access``
(elevation sampling, brackets, batched root finding), the array-level
:func:`access_arrays` here that runs them in satellite blocks and assembles passes
on the host with vectorised numpy, and :func:`access`, which returns an
:class:`AccessReport` (two xarray Datasets: ``passes`` with a ``pass`` dimension,
``sites`` with a ``site`` dimension) that writes CSV and NetCDF atomically.

Conventions: sites are geodetic WGS84; elevation is measured from the ellipsoid
normal; satellites are rotated into the Earth-fixed frame by GMST IAU-82 with
UT1 = UTC and no polar motion, like the coverage path (``orbitjax.analysis``).
Times are UTC; inside the window they are float64 seconds from its start.

Peak memory: the sampled positions and velocities, ``sat * time * 48`` bytes
(5 MB for 72 satellites over a day at 60 s); per satellite block one uint8 code
per (site, sat, interval) plus XLA's fused temporaries (``block_pair_samples``
bounds the block, 2^24 by default); ~150 bytes per bracket for the root finding.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from .catalog import Satellites
from .compiled_code import release_if_near_map_limit
from .constellation import Constellation
from .io.atomic import write_atomic
from .io.dataset import VARIABLE_ATTRS as _VARIABLE_ATTRS
from .io.sites import Sites, as_sites
from .kernels.access import (
    DIP,
    EXTREMUM,
    PEAK,
    RISE,
    ROOT,
    SET,
    SiteFrame,
    elevation_rate_bound,
    interval_codes,
    look_angles,
    polish,
    refine_brackets,
    site_frames,
)
from .kernels.earth import WGS84
from .kernels.frames import gmst82, teme_to_ecef_rv
from .propagation import _inertial_states, deep_space_needed, make_model, model_name, time_offsets
from .timescales import as_datetime64, jd2_from_datetime64, start_and_duration

SITE, PASS = "site", "pass"
PASS_COLUMNS = (
    "site", "sat", "rise_utc", "set_utc", "duration_s", "max_elevation_deg", "max_elevation_utc",
    "rise_azimuth_deg", "set_azimuth_deg", "open_at_start", "open_at_end",
)
SITE_FIGURES = (
    "n_passes", "percent_time_covered", "gap_count", "max_gap_s", "mean_gap_s",
    "time_to_first_coverage_s", "mean_response_time_s", "longest_coverage_s",
)
_VARIABLE_ATTRS = {
    "site": {"long_name": "site name"},
    "sat": {"long_name": "satellite name"},
    "rise_utc": {"long_name": "time the elevation rises through the mask (window start if open_at_start)"},
    "set_utc": {"long_name": "time the elevation sets through the mask (window end if open_at_end)"},
    "duration_s": {"long_name": "pass duration inside the window", "units": "s"},
    "max_elevation_deg": {"long_name": "maximum elevation of the pass inside the window", "units": "degree"},
    "max_elevation_utc": {"long_name": "time of the maximum elevation"},
    "rise_azimuth_deg": {"long_name": "azimuth at rise, from north through east", "units": "degree"},
    "set_azimuth_deg": {"long_name": "azimuth at set, from north through east", "units": "degree"},
    "open_at_start": {"long_name": "pass already in progress at the window start (rise is the window start)"},
    "open_at_end": {"long_name": "pass still in progress at the window end (set is the window end)"},
    "n_passes": {"long_name": "passes of all satellites over the site", "units": "1"},
    "pass_count": {"long_name": "passes of the satellite over the site", "units": "1"},
    # The figures of merit share the coverage files' names and attributes.
    **{k: _VARIABLE_ATTRS[k] for k in ("percent_time_covered", "gap_count", "max_gap_s", "mean_gap_s",
                                      "time_to_first_coverage_s", "mean_response_time_s", "longest_coverage_s")},
    "lat": {"standard_name": "latitude", "long_name": "geodetic latitude (WGS84)", "units": "degrees_north"},
    "lon": {"standard_name": "longitude", "long_name": "longitude", "units": "degrees_east"},
    "alt_m": {"long_name": "height above the WGS84 ellipsoid", "units": "m"},
    "min_elevation_deg": {"long_name": "minimum elevation for visibility", "units": "degree"},
}

DEFAULT_STEP_S = 60.0
BLOCK_PAIR_SAMPLES = 2**24
"""(site x sat x time) samples per satellite block (memory knob: one uint8 code each, plus XLA's fused temporaries)."""
_MIN_CAP = 256


@dataclass(frozen=True)
class _StateFn:
    """Earth-fixed states (sat, L, 3) at a (sat, L) table of times from the window start (static, hashable for jit)."""

    deep_space: bool

    def __call__(self, args, t_table_s):
        """GMST IAU-82 from the two-part Julian date of the window start (float64)."""
        model, offset_s, jd_whole, jd_frac = args
        r, v, _ = _inertial_states(model, offset_s[:, None] + t_table_s, self.deep_space)
        return teme_to_ecef_rv(r, v, gmst82(jd_whole, jd_frac + t_table_s / 86400.0))


def _bucket(n: int, minimum: int = _MIN_CAP) -> int:
    """Static sizes, so few shapes are compiled: powers of two up to 4096, then 16 steps per octave."""
    n = max(int(n), minimum)
    if n <= 4096:
        return 1 << (n - 1).bit_length()
    q = 1 << ((n - 1).bit_length() - 5)
    return -(-n // q) * q


def _window(window, step_s):
    """(start datetime64[ns], duration_s) from ``(start, duration)`` or a time array."""
    pair = start_and_duration(window)
    if pair is not None:
        start, duration_s = pair
    else:
        times = np.atleast_1d(as_datetime64(window))
        if times.ndim != 1 or times.size < 2:
            raise ValueError("window must be (start, duration) or at least two UTC times (first and last are used)")
        start = times[0]
        duration_s = float(times[-1].astype(np.int64) - start.astype(np.int64)) / 1e9
        if duration_s <= 0:
            raise ValueError("window times must increase")
    if not np.isfinite(step_s) or step_s <= 0:
        raise ValueError(f"step_s = {step_s} must be a positive number of seconds")
    if duration_s / step_s > 10_000_000:
        raise ValueError(f"duration / step_s = {duration_s / step_s:.3g} samples; at most 10 million are supported")
    return np.datetime64(start, "ns"), float(duration_s)


def _sample_times(duration_s: float, step_s: float) -> np.ndarray:
    """(time,) seconds: 0, step, ..., and the window end."""
    n = int(np.floor(duration_s / step_s + 1e-9))
    t = np.arange(n + 1, dtype=np.float64) * step_s
    if t[-1] < duration_s - 1e-6:
        t = np.append(t, duration_s)
    t[-1] = min(t[-1], duration_s)
    return t


@dataclass(frozen=True)
class AccessArrays:
    """Passes and per-pair data from :func:`access_arrays` (numpy, seconds from the window start).

    Pass fields, each (pass,): ``site_idx``, ``sat_idx``, ``rise_s``, ``set_s``,
    ``max_elevation_deg``, ``max_elevation_s``, ``rise_azimuth_deg``,
    ``set_azimuth_deg``, ``open_at_start``, ``open_at_end``; sorted by site,
    rise time and satellite. ``max_polish_step_s``: the largest Newton correction
    the re-propagated state made to an interpolated rise/set time (the
    interpolation's error; the error left after the step is of order its square
    times ``|el''/el'|``, far below a microsecond).
    """

    site_idx: np.ndarray
    sat_idx: np.ndarray
    rise_s: np.ndarray
    set_s: np.ndarray
    max_elevation_deg: np.ndarray
    max_elevation_s: np.ndarray
    rise_azimuth_deg: np.ndarray
    set_azimuth_deg: np.ndarray
    open_at_start: np.ndarray
    open_at_end: np.ndarray
    max_polish_step_s: float
    n_samples: int
    failed_satellite_samples: int


def _min_elevation(min_elevation_deg, satellites, n_sat: int) -> np.ndarray:
    if min_elevation_deg is None:
        if not isinstance(satellites, Constellation):
            raise ValueError("min_elevation_deg is required for a satellite catalogue (e.g. 35 for Kuiper)")
        min_elevation_deg = satellites.min_elevation_deg
    try:
        mask = np.broadcast_to(np.asarray(min_elevation_deg, np.float64), (n_sat,)).copy()
    except ValueError:
        raise ValueError(f"min_elevation_deg must be a scalar or one value per satellite ({n_sat})") from None
    if np.any(~np.isfinite(mask) | (mask <= -90) | (mask >= 90)):
        raise ValueError("minimum elevations must lie in (-90, 90) degrees")
    return mask


def access_arrays(satellites, start, duration_s: float, sites: Sites, min_elevation_deg: np.ndarray, *,
                  step_s: float = DEFAULT_STEP_S, n_iter: int = 8,
                  block_pair_samples: int = BLOCK_PAIR_SAMPLES) -> AccessArrays:
    """Passes of ``satellites`` over ``sites`` in [start, start + duration_s] (array level).

    Device work: propagation at the samples, the (site, sat, interval) bracket codes
    (in satellite blocks), the batched interpolated root finding and one batched
    re-propagation of every event. Host work (numpy, vectorised): picking the
    brackets out of the codes and pairing rises with sets.

    Args:
      satellites: Constellation (Kepler + J2) or Satellites (SGP4/SDP4).
      start: UTC datetime64 window start; duration_s: window length (s).
      sites: :class:`~orbitjax.io.sites.Sites`.
      min_elevation_deg: (sat,) masks.
      step_s: sampling step (s).
      n_iter: interpolated root-finding iterations per bracket.
      block_pair_samples: memory knob, see the module docstring.
    """
    if not jax.config.jax_enable_x64:  # float32 device default (GPUs): rise/set times need float64
        with jax.enable_x64(True):
            return access_arrays(satellites, start, duration_s, sites, min_elevation_deg, step_s=step_s,
                                 n_iter=n_iter, block_pair_samples=block_pair_samples)
    n_sat, n_site = len(satellites), len(sites)
    start = np.datetime64(start, "ns")
    t_s = _sample_times(duration_s, step_s)
    n_t = t_s.size
    model, epochs = make_model(satellites, reference=start)
    deep = deep_space_needed(model)
    offset = time_offsets(epochs, start)
    jd_w, jd_f = jd2_from_datetime64(start)
    state_fn = _StateFn(deep)
    state_args = (model, jnp.asarray(offset), jnp.asarray(jd_w), jnp.asarray(jd_f))

    # Samples: Earth-fixed states (sat, time, 3). Called eagerly: SGP4 then works in its
    # cache-sized time blocks, and the polish below reuses the same compilation.
    r, v = state_fn(state_args, jnp.asarray(np.broadcast_to(t_s, (n_sat, n_t))))
    failed = int(jnp.sum(jnp.isnan(r[..., 0])))

    frame = _site_frames(jnp.asarray(np.radians(sites.lat_deg)), jnp.asarray(np.radians(sites.lon_deg)),
                         jnp.asarray(sites.alt_m / 1000.0))
    max_dt = float(np.max(np.diff(t_s)))
    bound, el0, az0, el1, az1 = (np.asarray(x) for x in _prepare(r, v, frame, max_dt))
    slack = bound * (0.5 * max_dt)
    mask_rad = np.radians(min_elevation_deg)
    half_pi = 0.5 * np.pi
    sin_mask = np.sin(mask_rad)
    sin_peak = np.sin(np.clip(mask_rad - slack, -half_pi, half_pi))
    sin_dip = np.sin(np.clip(mask_rad + slack, -half_pi, half_pi))

    # Bracket codes per satellite block (equal shapes: one compilation), picked out on the host.
    block = int(max(1, min(n_sat, block_pair_samples // max(1, n_site * n_t))))
    parts = []
    thresholds = [jnp.asarray(np.pad(x, (0, -n_sat % block))) for x in (sin_mask, sin_peak, sin_dip)]
    for s0 in range(0, n_sat, block):
        codes = np.asarray(_block_codes(r, v, frame, *thresholds, s0, block=block))
        flat = np.flatnonzero(codes)
        if flat.size:
            site_i, sat_i, k = np.unravel_index(flat, codes.shape)
            keep = sat_i + s0 < n_sat
            parts.append((codes.ravel()[flat][keep], site_i[keep], sat_i[keep] + s0, k[keep]))
    if parts:
        code, site_i, sat_i, k = (np.concatenate(x) for x in zip(*parts))
    else:
        code = site_i = sat_i = k = np.empty(0, np.int64)
    events, peaks = _find_events(state_fn, state_args, frame, r, v, t_s, code, site_i, sat_i, k, mask_rad, n_iter)
    return _assemble(events, peaks, el0, az0, el1, az1, mask_rad, duration_s, n_sat, n_t, failed)


@partial(jax.jit, static_argnames=("block",))
def _block_codes(r, v, frame, sin_mask, sin_peak, sin_dip, s0, *, block: int):
    """Interval codes of satellites s0 .. s0 + block (the last block padded with NaN satellites)."""
    def take(x):
        return jax.lax.dynamic_slice_in_dim(x, s0, block, 0)

    n = r.shape[0]
    if n % block:
        extra = block - n % block
        r = jnp.pad(r, ((0, extra), (0, 0), (0, 0)), constant_values=jnp.nan)
        v = jnp.pad(v, ((0, extra), (0, 0), (0, 0)), constant_values=jnp.nan)
    return interval_codes(take(r), take(v), frame, take(sin_mask), take(sin_peak), take(sin_dip))


_site_frames = jax.jit(partial(site_frames, earth=WGS84))


@jax.jit
def _prepare(r, v, frame, max_dt):
    """Rate bound (sat,) and elevation/azimuth of every pair at the first and last sample (site, sat)."""
    max_site_r = jnp.max(jnp.sqrt(jnp.sum(frame.r_ecef_km**2, -1)))
    bound = elevation_rate_bound(r, v, max_site_r, max_dt)
    edge = SiteFrame(*(x[:, None, :] for x in frame))
    el0, _, az0 = look_angles(r[None, :, 0], v[None, :, 0], edge)
    el1, _, az1 = look_angles(r[None, :, -1], v[None, :, -1], edge)
    return bound, el0, az0, el1, az1


@jax.jit
def _pair_elevation(frame, r, sat_i, site_i, k):
    el, _, _ = look_angles(r[sat_i, k], r[sat_i, k], SiteFrame(*(x[site_i] for x in frame)))
    return el


def _padded(x, cap: int, fill):
    x = np.asarray(x)
    return jnp.asarray(np.concatenate([x, np.full(cap - x.size, fill, dtype=x.dtype)]))


def _hermite_refine(frame, r, v, t_s, sat, site, k, a, b, kind, sign, mask, n_iter):
    """Interpolated root finding on a bucket-padded batch; numpy results."""
    m = a.size
    if m == 0:
        return np.empty(0), np.empty(0), np.empty(0)
    cap = _bucket(m)
    out = refine_brackets(
        frame, r, v, jnp.asarray(t_s), _padded(sat, cap, 0), _padded(site, cap, 0), _padded(k, cap, 0),
        _padded(a, cap, 0.0), _padded(b, cap, t_s[1]), _padded(kind, cap, ROOT), _padded(sign, cap, 1.0),
        _padded(mask, cap, 0.0), n_iter=n_iter,
    )
    return tuple(np.asarray(x)[:m] for x in out)


def _polish(state_fn, state_args, frame, n_sat, n_t, sat, site, t, kind, mask, lo, hi):
    """Re-propagate at the interpolated solutions on a (sat, L) table; numpy results.

    L is the sample count when the busiest satellite's solutions fit (the usual
    case), so the propagator reuses the sampling call's compilation.
    """
    m = t.size
    if m == 0:
        return np.empty(0), np.empty(0), np.empty(0), np.empty(0)
    order = np.argsort(sat, kind="stable")
    counts = np.bincount(sat, minlength=n_sat)
    first = np.concatenate([[0], np.cumsum(counts)[:-1]])
    slot = np.empty(m, np.int64)
    slot[order] = np.arange(m) - first[sat[order]]
    need = int(counts.max())
    width = n_t if need <= n_t else _bucket(need, 8)
    table = np.zeros((n_sat, width))
    table[sat, slot] = t
    table = jnp.asarray(table)
    r_tab, v_tab = state_fn(state_args, table)
    cap = _bucket(m)
    out = polish(r_tab, v_tab, table, frame, _padded(sat, cap, 0), _padded(slot, cap, 0), _padded(site, cap, 0),
                 _padded(kind, cap, ROOT), _padded(mask, cap, 0.0), _padded(lo, cap, 0.0), _padded(hi, cap, 0.0))
    return tuple(np.asarray(x)[:m] for x in out)


def _find_events(state_fn, state_args, frame, r, v, t_s, code, site_i, sat_i, k, mask_rad_sat, n_iter):
    """Rises, sets and visible maxima from the bracket codes.

    1. Interpolated root finding on every bracket (RISE/SET: roots of el - mask;
       PEAK/DIP: roots of el').
    2. A PEAK above the mask between two samples below it is a pass shorter than a
       step: its rise and set are root-found in [t_k, t*] and [t*, t_k+1]; a DIP
       below the mask between two visible samples is a short gap (set, then rise).
    3. Every rise/set and every visible maximum is re-propagated once (:func:`polish`).
    """
    # Expand the codes: one bracket per set bit (an interval may hold a crossing and an extremum).
    bits = [(b, code & b) for b in (RISE, SET, PEAK, DIP)]
    sel = [np.flatnonzero(x) for _, x in bits]
    kind_bit = np.concatenate([np.full(ix.size, bit) for (bit, _), ix in zip(bits, sel)]).astype(np.int64)
    idx = np.concatenate(sel)
    site_i, sat_i, k = site_i[idx], sat_i[idx], k[idx]
    is_rise, is_set, is_peak, is_dip = (kind_bit == b for b in (RISE, SET, PEAK, DIP))
    is_root = is_rise | is_set
    sign = np.where(is_rise | is_dip, -1.0, 1.0)  # f(a) >= 0 >= f(b): rise -g, set g, peak el', dip -el'
    kind = np.where(is_root, ROOT, EXTREMUM).astype(np.int32)
    mask = mask_rad_sat[sat_i]
    a, b = t_s[k], t_s[k + 1]
    t, el, _ = _hermite_refine(frame, r, v, t_s, sat_i, site_i, k, a, b, kind, sign, mask, n_iter)

    roots = {"site": site_i[is_root], "sat": sat_i[is_root], "k": k[is_root], "t": t[is_root],
             "rise": is_rise[is_root], "lo": a[is_root], "hi": b[is_root]}
    # Short passes and short gaps between samples: the extremum decides (interpolated elevation).
    g_star = el - mask
    up = is_peak & (g_star > 0)
    down = is_dip & (g_star < 0)
    el_k = _sample_elevation(frame, r, sat_i, site_i, k)
    el_k1 = _sample_elevation(frame, r, sat_i, site_i, k + 1)
    hidden = (up & (el_k < mask) & (el_k1 < mask)) | (down & (el_k >= mask) & (el_k1 >= mask))
    if np.any(hidden):
        h = np.flatnonzero(hidden)
        first_rise = is_peak[h]  # a short pass: rise in [a, t*], set in [t*, b]; a short gap: the opposite
        aa, bb = np.concatenate([a[h], t[h]]), np.concatenate([t[h], b[h]])
        rise2 = np.concatenate([first_rise, ~first_rise])
        sg = np.where(rise2, -1.0, 1.0)
        s2, q2, k2 = np.tile(site_i[h], 2), np.tile(sat_i[h], 2), np.tile(k[h], 2)
        t2, _, _ = _hermite_refine(frame, r, v, t_s, q2, s2, k2, aa, bb, np.full(aa.size, ROOT, np.int32), sg,
                                   np.tile(mask[h], 2), n_iter)
        for key, val in (("site", s2), ("sat", q2), ("k", k2), ("t", t2), ("rise", rise2), ("lo", aa), ("hi", bb)):
            roots[key] = np.concatenate([roots[key], val])
    vis_peak = np.flatnonzero(up)
    n_root = roots["t"].size
    p_site = np.concatenate([roots["site"], site_i[vis_peak]])
    p_sat = np.concatenate([roots["sat"], sat_i[vis_peak]])
    p_t = np.concatenate([roots["t"], t[vis_peak]])
    p_kind = np.concatenate([np.full(n_root, ROOT), np.full(vis_peak.size, EXTREMUM)]).astype(np.int32)
    lo = np.concatenate([roots["lo"], t[vis_peak]])
    hi = np.concatenate([roots["hi"], t[vis_peak]])
    tp, elp, azp, step = _polish(state_fn, state_args, frame, r.shape[0], r.shape[1], p_sat, p_site, p_t, p_kind, mask_rad_sat[p_sat], lo, hi)
    events = {"site": roots["site"], "sat": roots["sat"], "t": tp[:n_root], "rise": roots["rise"],
              "az": azp[:n_root], "err": np.abs(step[:n_root])}
    peaks = {"site": site_i[vis_peak], "sat": sat_i[vis_peak], "t": tp[n_root:], "el": elp[n_root:]}
    return events, peaks


def _sample_elevation(frame, r, sat_i, site_i, k) -> np.ndarray:
    """Elevation (rad) of pair (site_i, sat_i) at sample k, for a batch of brackets."""
    m = sat_i.size
    if m == 0:
        return np.empty(0)
    cap = _bucket(m)
    el = _pair_elevation(frame, r, _padded(sat_i, cap, 0), _padded(site_i, cap, 0), _padded(k, cap, 0))
    return np.asarray(el)[:m]


def _assemble(events, peaks, el0, az0, el1, az1, mask_rad_sat, duration_s, n_sat, n_t, failed) -> AccessArrays:
    """Pair rises with sets (adding window-edge events) and attach each pass's maximum."""
    n_site = el0.shape[0]
    vis0 = (el0 - mask_rad_sat[None, :]) >= 0  # (site, sat)
    vis1 = (el1 - mask_rad_sat[None, :]) >= 0
    s0, q0 = np.nonzero(vis0)
    s1, q1 = np.nonzero(vis1)
    site = np.concatenate([events["site"], s0, s1]).astype(np.int64)
    sat = np.concatenate([events["sat"], q0, q1]).astype(np.int64)
    t = np.concatenate([events["t"], np.zeros(s0.size), np.full(s1.size, duration_s)])
    rise = np.concatenate([events["rise"].astype(bool), np.ones(s0.size, bool), np.zeros(s1.size, bool)])
    az = np.concatenate([events["az"], az0[s0, q0], az1[s1, q1]])
    virtual = np.concatenate([np.zeros(events["t"].size, bool), np.ones(s0.size + s1.size, bool)])
    pair = site * n_sat + sat
    order = np.lexsort((~rise, t, pair))  # by pair, then time, rises first on ties
    pair, t, rise, az, virtual = pair[order], t[order], rise[order], az[order], virtual[order]
    r_idx, s_idx = np.nonzero(rise)[0], np.nonzero(~rise)[0]
    if r_idx.size != s_idx.size or np.any(pair[r_idx] != pair[s_idx]) or np.any(t[r_idx] > t[s_idx]):
        raise RuntimeError("access: rises and sets do not alternate; use a smaller step_s (an elevation extremum "
                           "per step is assumed)")
    p_pair, rise_s, set_s = pair[r_idx], t[r_idx], t[s_idx]
    open_start, open_end = virtual[r_idx], virtual[s_idx]
    p_site, p_sat = p_pair // n_sat, p_pair % n_sat
    mask_deg = np.degrees(mask_rad_sat[p_sat])
    # Maximum: the higher end of the pass (the mask at a real event, the edge elevation otherwise) ...
    e_rise = np.where(open_start, np.degrees(el0[p_site, p_sat]), mask_deg)
    e_set = np.where(open_end, np.degrees(el1[p_site, p_sat]), mask_deg)
    max_el = np.where(e_set > e_rise, e_set, e_rise)
    max_t = np.where(e_set > e_rise, set_s, rise_s)
    # ... or a refined maximum of elevation inside it.
    if peaks["t"].size and rise_s.size:
        span = duration_s + 1.0
        key_rise = p_pair * span + rise_s  # increasing (pairs sorted, rises sorted within a pair)
        k_pair = peaks["site"].astype(np.int64) * n_sat + peaks["sat"].astype(np.int64)
        key_pk = k_pair * span + peaks["t"]
        j = np.searchsorted(key_rise, key_pk, side="right") - 1
        jj = np.clip(j, 0, None)
        inside = (j >= 0) & (p_pair[jj] == k_pair) & (peaks["t"] <= set_s[jj]) & (peaks["t"] >= rise_s[jj])
        pk_deg = np.degrees(peaks["el"])
        for jp, e, tp in zip(jj[inside], pk_deg[inside], peaks["t"][inside]):  # few per pass
            if e > max_el[jp]:
                max_el[jp], max_t[jp] = e, tp
    # Order: site, rise, satellite.
    order = np.lexsort((p_sat, rise_s, p_site))
    err = np.asarray(events["err"])
    return AccessArrays(
        site_idx=p_site[order], sat_idx=p_sat[order], rise_s=rise_s[order], set_s=set_s[order],
        max_elevation_deg=max_el[order], max_elevation_s=max_t[order],
        rise_azimuth_deg=np.degrees(az[r_idx])[order], set_azimuth_deg=np.degrees(az[s_idx])[order],
        open_at_start=open_start[order], open_at_end=open_end[order],
        max_polish_step_s=float(err.max()) if err.size else 0.0, n_samples=n_t,
        failed_satellite_samples=failed,
    )


def interval_figures(site_idx, start_s, end_s, n_site: int, duration_s: float) -> dict[str, np.ndarray]:
    """Per-site figures of merit from exact visibility intervals (union over satellites).

    Definitions and edge conventions as in docs/figures_of_merit.md (STK's
    "optimistic" edge gaps), in continuous time: gaps are the complement of the
    union of the intervals in [0, duration]; ``mean_response_time_s = sum L_i^2 / (2 D)``.

    Args:
      site_idx, start_s, end_s: (interval,) site of each interval and its bounds (s).

    Returns:
      dict of (site,) arrays: percent_time_covered, gap_count, max_gap_s, mean_gap_s,
      time_to_first_coverage_s, mean_response_time_s, longest_coverage_s.
    """
    d = float(duration_s)
    site_idx = np.asarray(site_idx, np.int64)
    s = np.clip(np.asarray(start_s, np.float64), 0.0, d)
    e = np.clip(np.asarray(end_s, np.float64), 0.0, d)
    span = d + 1.0
    order = np.lexsort((s, site_idx))
    site_idx, s, e = site_idx[order], s[order] + site_idx[order] * span, e[order] + site_idx[order] * span
    # Merge overlapping intervals per site: offsets keep sites apart, so one running max serves all.
    run_end = np.maximum.accumulate(e) if e.size else e
    new = np.ones(s.size, bool)
    new[1:] = s[1:] > run_end[:-1]
    block = np.cumsum(new) - 1
    n_blk = int(block[-1]) + 1 if block.size else 0
    b_site = site_idx[new]
    b_start = s[new] - b_site * span
    b_end = np.full(n_blk, -np.inf)
    np.maximum.at(b_end, block, e)
    b_end = b_end - b_site * span
    covered = np.zeros(n_site)
    np.add.at(covered, b_site, b_end - b_start)
    longest = np.zeros(n_site)
    np.maximum.at(longest, b_site, b_end - b_start)
    first = np.full(n_site, np.nan)
    first_blk = np.ones(n_blk, bool)
    first_blk[1:] = b_site[1:] != b_site[:-1]
    first[b_site[first_blk]] = b_start[first_blk]
    # Gaps: before the first block, between blocks, after the last block (edge gaps counted, truncated).
    prev_end = np.where(first_blk, 0.0, np.concatenate([[0.0], b_end[:-1]]))
    last_blk = np.ones(n_blk, bool)
    last_blk[:-1] = b_site[1:] != b_site[:-1]
    gap_lengths = np.concatenate([b_start - prev_end, d - b_end[last_blk]])
    gap_sites = np.concatenate([b_site, b_site[last_blk]])
    never = np.setdiff1d(np.arange(n_site), b_site)
    gap_lengths = np.concatenate([gap_lengths, np.full(never.size, d)])
    gap_sites = np.concatenate([gap_sites, never])
    real = gap_lengths > 0
    gap_lengths, gap_sites = gap_lengths[real], gap_sites[real]
    gap_count = np.bincount(gap_sites, minlength=n_site)
    gap_sum = np.bincount(gap_sites, weights=gap_lengths, minlength=n_site)
    gap_sq = np.bincount(gap_sites, weights=gap_lengths**2, minlength=n_site)
    max_gap = np.zeros(n_site)
    np.maximum.at(max_gap, gap_sites, gap_lengths)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_gap = np.where(gap_count > 0, gap_sum / np.maximum(gap_count, 1), np.nan)
    return {
        "percent_time_covered": 100.0 * covered / d,
        "gap_count": gap_count.astype(np.int32),
        "max_gap_s": max_gap,
        "mean_gap_s": mean_gap,
        "time_to_first_coverage_s": first,
        "mean_response_time_s": gap_sq / (2.0 * d),
        "longest_coverage_s": longest,
    }


@dataclass(frozen=True, eq=False)
class AccessReport:
    """Result of :func:`access`: ``passes`` (dim ``pass``) and ``sites`` (dim ``site``) Datasets."""

    passes: "xarray.Dataset"  # noqa: F821
    sites: "xarray.Dataset"  # noqa: F821

    def __len__(self) -> int:
        return int(self.passes.sizes[PASS])

    def __repr__(self) -> str:
        a = self.passes.attrs
        return (f"AccessReport({len(self)} passes, {self.sites.sizes[SITE]} sites x {a.get('n_satellites')} satellites, "
                f"{a.get('window_start')} + {a.get('window_duration_s')} s)")

    def rows(self) -> list[dict]:
        """The pass table as a list of dicts with :data:`PASS_COLUMNS` keys (Python values)."""
        cols = {c: self.passes[c].values for c in PASS_COLUMNS}
        return [{c: cols[c][i].item() if hasattr(cols[c][i], "item") else cols[c][i] for c in PASS_COLUMNS}
                for i in range(len(self))]

    def to_csv(self, path: str | os.PathLike) -> Path:
        """Write the pass table as CSV (:data:`PASS_COLUMNS`, ISO UTC times to the millisecond), atomically."""
        p = self.passes
        iso = {c: _iso_ms(p[c].values) for c in ("rise_utc", "set_utc", "max_elevation_utc")}

        def write(fh):
            w = csv.writer(fh, lineterminator="\n")
            w.writerow(PASS_COLUMNS)
            for i in range(len(self)):
                w.writerow([
                    p["site"].values[i], p["sat"].values[i], iso["rise_utc"][i], iso["set_utc"][i],
                    f"{p['duration_s'].values[i]:.3f}", f"{p['max_elevation_deg'].values[i]:.3f}",
                    iso["max_elevation_utc"][i], f"{p['rise_azimuth_deg'].values[i]:.3f}",
                    f"{p['set_azimuth_deg'].values[i]:.3f}", int(p["open_at_start"].values[i]),
                    int(p["open_at_end"].values[i]),
                ])

        return write_atomic(path, write)

    def to_netcdf(self, path: str | os.PathLike) -> Path:
        """Write the per-site figures (``site`` dimension) as NetCDF, atomically."""
        from .io.netcdf import write_netcdf  # noqa: PLC0415

        return write_netcdf(self.sites, path)


def _iso_ms(values) -> np.ndarray:
    """ISO 8601 UTC strings rounded (not truncated) to the millisecond."""
    ns = np.asarray(values, "datetime64[ns]").astype(np.int64)
    ms = np.floor_divide(ns + 500_000, 1_000_000).astype("datetime64[ms]")
    return np.char.add(np.datetime_as_string(ms, unit="ms"), "Z")


def access(satellites: Constellation | Satellites, window, sites, *, min_elevation_deg=None,
           step_s: float = DEFAULT_STEP_S, n_iter: int = 8, block_pair_samples: int = BLOCK_PAIR_SAMPLES,
           attrs: dict | None = None) -> AccessReport:
    """Every pass of every satellite over every site, and per-site figures of merit.

    Args:
      satellites: :class:`~orbitjax.constellation.Constellation` (Kepler + J2) or
        :class:`~orbitjax.catalog.Satellites` (SGP4/SDP4, e.g. from ``read_tle``).
      window: ``(start, duration)`` with a UTC start and a duration in seconds or
        like ``"6h"``/``"1d"``; or a sequence of UTC times, whose first and last
        element bound the window (e.g. ``scenario.analysis.times``).
      sites: :class:`~orbitjax.io.sites.Sites`, a CSV/GeoJSON path, ``(name, lat, lon[, alt_m])``
        rows or ``{name: (lat, lon[, alt_m])}``; geodetic WGS84 degrees and metres.
      min_elevation_deg: scalar or (sat,); default the constellation's masks
        (required for catalogues).
      step_s: sampling step in seconds (60 by default). Rise, set and maximum
        times do not depend on it (they are root-found to ~1 ms); passes shorter
        than a step are still found (see ``orbitjax.kernels.access``).
      n_iter: Newton/secant iterations per event.
      block_pair_samples: site x satellite x time samples per device block (memory knob).
      attrs: extra global attributes.

    Returns:
      :class:`AccessReport` with ``passes`` (dim ``pass``; columns ``site, sat,
      rise_utc, set_utc, duration_s, max_elevation_deg, max_elevation_utc,
      rise_azimuth_deg, set_azimuth_deg, open_at_start, open_at_end``) and ``sites``
      (dim ``site``; ``n_passes``, ``pass_count(site, sat)`` and the figures of merit
      of the union of the passes: ``percent_time_covered``, ``gap_count``,
      ``max_gap_s``, ``mean_gap_s``, ``time_to_first_coverage_s``,
      ``mean_response_time_s``, ``longest_coverage_s``).
    """
    release_if_near_map_limit()  # a long-lived process must not die in XLA's JIT linker
    import xarray as xr  # noqa: PLC0415

    start, duration_s = _window(window, step_s)
    sites = as_sites(sites)
    n_sat = len(satellites)
    if n_sat == 0:
        raise ValueError("no satellites to analyse")
    masks = _min_elevation(min_elevation_deg, satellites, n_sat)
    arr = access_arrays(satellites, start, duration_s, sites, masks, step_s=step_s, n_iter=n_iter,
                        block_pair_samples=block_pair_samples)
    start_ns = start.astype(np.int64)

    def utc(sec):
        return (start_ns + np.round(np.asarray(sec) * 1e9).astype(np.int64)).astype("datetime64[ns]")

    sat_names = np.asarray(satellites.name).astype(str)
    common = {
        "Conventions": "CF-1.10",
        "window_start": np.datetime_as_string(start, unit="ms") + "Z",
        "window_duration_s": duration_s,
        "sample_step_s": float(step_s),
        "n_satellites": n_sat,
        "n_sites": len(sites),
        "propagation_model": model_name(satellites),
        "earth_model": ("sites geodetic on WGS84 (a = 6378.137 km, f = 1/298.257223563), elevation from the "
                        "ellipsoid normal; Earth rotation by GMST IAU-82 with UT1 = UTC; no polar motion"),
        "event_method": ("bracket codes from sampled elevation and elevation rate; Newton (rise/set) and secant "
                         "(maximum) iterations on the cubic Hermite interpolant of the sampled states; one Newton "
                         "step on states re-propagated at the result; see docs/access.md"),
        "max_polish_step_s": arr.max_polish_step_s,
        "failed_satellite_samples": arr.failed_satellite_samples,
        **(attrs or {}),
    }
    passes = xr.Dataset(
        {
            "site": ((PASS,), sites.name[arr.site_idx]),
            "sat": ((PASS,), sat_names[arr.sat_idx]),
            "rise_utc": ((PASS,), utc(arr.rise_s)),
            "set_utc": ((PASS,), utc(arr.set_s)),
            "duration_s": ((PASS,), arr.set_s - arr.rise_s),
            "max_elevation_deg": ((PASS,), arr.max_elevation_deg),
            "max_elevation_utc": ((PASS,), utc(arr.max_elevation_s)),
            "rise_azimuth_deg": ((PASS,), arr.rise_azimuth_deg),
            "set_azimuth_deg": ((PASS,), arr.set_azimuth_deg),
            "open_at_start": ((PASS,), arr.open_at_start),
            "open_at_end": ((PASS,), arr.open_at_end),
            "min_elevation_deg": ((PASS,), masks[arr.sat_idx]),
        },
        attrs=common,
    )
    figures = interval_figures(arr.site_idx, arr.rise_s, arr.set_s, len(sites), duration_s)
    pass_count = np.zeros((len(sites), n_sat), np.int32)
    np.add.at(pass_count, (arr.site_idx, arr.sat_idx), 1)
    site_ds = xr.Dataset(
        {
            "n_passes": ((SITE,), pass_count.sum(1).astype(np.int32)),
            **{k: ((SITE,), v) for k, v in figures.items()},
            "pass_count": ((SITE, "sat"), pass_count),
            "min_elevation_deg": (("sat",), masks),
        },
        coords={
            SITE: sites.name,
            "lat": ((SITE,), sites.lat_deg),
            "lon": ((SITE,), sites.lon_deg),
            "alt_m": ((SITE,), sites.alt_m),
            "sat": sat_names,
        },
        attrs=common,
    )
    for ds in (passes, site_ds):
        for name in list(ds.data_vars) + list(ds.coords):
            ds[name].attrs.update(_VARIABLE_ATTRS.get(name, {}))
    return AccessReport(passes, site_ds)
