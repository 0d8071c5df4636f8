"""Coverage of a constellation over a time window: chunked kernel calls -> Dataset.

The window is cut into chunks of ``chunk_steps`` time steps. Each chunk is an
independent unit of work (propagate, count, reduce) whose only coupling to the
others is the small figures-of-merit carry. A run of chunks folded from empty
states is a partial summary that merges exactly with its neighbours
(``docs/merge_algebra.md``), so blocks of chunks are farmed out to other devices
or Dask workers by :mod:`orbitjax.blocks`; the sequential loop stays the default. All chunks have the same static shape (the last one is
padded and its padding masked), so each stage compiles once.

On a global grid the kernels see only the latitude band the footprints can reach
(:func:`_reach_band`: the largest inclination plus the footprint's latitude span,
rounded out to 5 deg; Kuiper's 51.9 deg shells: 60 S to 60 N, two thirds of the
rows); the rows beyond it get the states of a never-covered cell, so the output
is the same, value for value, as a run over every row.

Peak memory (device): the chunk's (time, sat, rows) footprint intervals and its
(time, lat, 2 lon) int16 difference array -- about 2 MB per time step for the full
Kuiper constellation at 1 deg -- plus the figures-of-merit state (68 bytes per cell
and mask, 144 with event timing). The host holds, when stored, the positions (time x sat x 3 float32) and
the int16 raster (time x lat x lon); without them nothing grows with the window.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from .catalog import Satellites
from .compiled_code import release_if_near_map_limit
from .constellation import Constellation
from .executable_store import stored
from .io.dataset import constraint_variables, coverage_dataset
from .kernels.coverage import (
    coverage_counts, footprint_intervals, footprint_lat_span, rows_per_footprint, scatter_intervals,
    swept_intervals, SWEPT_PATH_MARGIN_RAD,
)
from .kernels.daylight import clip_step_timing, daylight_margin, daylight_window
from .kernels.gateways import gateway_usable
from .kernels.earth import MEAN_RADIUS_KM
from .kernels.events import cubic_motion, decode_counts, id_layout, packed_payload, step_timing
from .kernels.grid import Grid, make_grid
from .memory import RunSize, host_blocks
from .kernels.merit import (
    MeritConfig, merit_finalize, merit_init, merit_update, timed_finalize, timed_init, timed_update,
)
from .propagation import deep_space_needed, ecef_positions, make_model, max_radius_km, model_name, time_offsets
from .kernels.frames import gmst82
from .timescales import as_datetime64, jd2_from_datetime64, start_and_duration, time_grid

DEFAULT_N_ASSETS = (1, 2, 3, 4)
STORE_LIMIT_BYTES = 256 * 2**20
"""The raster and the positions are stored by default only up to this size each."""
_TARGET_INTERVALS_PER_CHUNK = 3_000_000
_TARGET_DIFF_BYTES_PER_CHUNK = 48 * 2**20
_TARGET_EVENT_CELL_STEPS = 3_000_000
"""Cell-steps per chunk of the event solver: its per-cell-step work arrays stay cache- and
memory-friendly (measured on 2 CPU cores: 46 steps of a 1 deg grid take 6.3 s of CPU for
3 h of the 72-satellite stage, 92 steps 45 s)."""


def default_chunk_steps(n_sat: int, n_rows: int, grid: Grid, n_masks: int = 1, cell_bytes: int = 2,
                        event_timing: bool = False) -> int:
    """Time steps per chunk bounding the interval arrays, the difference array and the event solver.

    ``cell_bytes``: bytes per cell of the difference array (2 for int16 counts, 4
    or 8 for the packed sums of event timing).
    """
    by_intervals = _TARGET_INTERVALS_PER_CHUNK // max(1, n_sat * n_rows * n_masks)
    by_raster = _TARGET_DIFF_BYTES_PER_CHUNK // (cell_bytes * grid.n_lat * 2 * grid.n_lon * n_masks)
    by_events = _TARGET_EVENT_CELL_STEPS // (grid.n_lat * grid.n_lon * n_masks) if event_timing else by_raster
    return int(max(1, min(by_intervals, by_raster, by_events)))


_CHUNK_STATICS = ("grid", "n_rows", "merit_config", "radius_km", "deep_space", "timing", "layout", "capacity",
                  "n_rows_swept", "step_angle")


@partial(jax.jit, static_argnames=_CHUNK_STATICS)
def _chunk_step(model, state, timed, offset_s, t_s, gmst_rad, min_el_rad, valid, real, area, limits=None, *,
                grid, n_rows, merit_config, radius_km, deep_space, timing, layout, capacity,
                n_rows_swept, step_angle):
    """One chunk: propagate, count per mask, fold into the figures of merit.

    Shapes: offset_s/real (sat,), t_s/gmst_rad (T + 3,) (samples from one before
    the chunk's first step to one after the end of its last), valid (T,),
    min_el_rad (E, sat), area (lat,) or (lat, lon) (weights summing to 1 over the grid).
    Returns the new sampled and timed states, counts of mask 0 (T, lat, lon)
    int16, coverage fraction (E, T), positions (T, sat, 3) float32, the number
    of failed (NaN) satellite-steps among the real satellites and valid steps,
    the timing counters (listed, approximated), each summed over masks, and the
    usable satellites (T, sat) (None without gateways).

    ``limits`` (optional dict, see :mod:`orbitjax.constraints`): ``half_angle``
    (sat,) nadir cones; ``sun`` (T + 3, 3) Sun directions at the samples and
    ``sin_sun_min`` (); ``gateways`` (points, normals, sin masks), each (G, ...).
    """
    limits = limits or {}
    half = limits.get("half_angle")
    dt_s = offset_s[:, None] + t_s[None, :]
    # Samples from one before the chunk's first step to one after its end (T + 3): the
    # outer two only feed the cubic interpolation of the motion inside the steps.
    r_ext = ecef_positions(model, dt_s, gmst_rad, deep_space)
    r = r_ext[:, 1:-1]  # (sat, T + 1, 3)
    n_t = valid.shape[0]
    failed = jnp.sum(jnp.isnan(r[:, :n_t, 0]) & real[:, None] & valid[None, :], dtype=jnp.int32)
    stats = jnp.zeros(2, jnp.int32)
    # Gateways: satellites usable at each sample (sampled); daylight margin per cell and sample.
    usable = gateway_usable(r, *limits["gateways"]) if "gateways" in limits else None  # (T + 1, sat)
    day = (daylight_margin(limits["sun"][1:-1], limits["sin_sun_min"], grid)
           if "sun" in limits else None)  # (T + 1, lat, lon)
    n_masks = min_el_rad.shape[0]

    def over_masks(one_mask):
        """``one_mask(min_el (sat,)) -> pytree`` for every mask, stacked on a leading (E,) axis.

        One mask: called as is. Several: in a loop compiled once (``lax.map``); a Python loop
        put a copy of the whole per-mask computation in the kernel for each mask, so compile
        time grew with the number of masks. vmap would batch the scatter, which XLA runs ~2x slower.
        """
        if n_masks == 1:
            return jax.tree_util.tree_map(lambda x: x[None], one_mask(min_el_rad[0]))
        return jax.lax.map(one_mask, min_el_rad)

    if timing == "exact":
        payload = packed_payload(r.shape[0], layout)
        motion = cubic_motion(r_ext)

        def timed_mask(min_el):
            geom = footprint_intervals(r, min_el, grid=grid, n_rows=n_rows, radius_km=radius_km,
                                       half_angle_rad=half, usable=usable)
            packed = scatter_intervals(*geom, payload, grid=grid)  # (T + 1, lat, lon)
            sweep = swept_intervals(r, min_el, grid=grid, n_rows=n_rows_swept,
                                    max_step_angle_rad=step_angle, radius_km=radius_km, half_angle_rad=half)
            if usable is not None:  # the swept set must hold exactly the satellites of both ends' sets
                sweep = sweep[:3] + (sweep[3] & (usable[:-1] | usable[1:])[..., None],)
            swept = scatter_intervals(*sweep, payload, grid=grid)  # (T, lat, lon)
            st = step_timing(motion, packed, swept, min_el, layout=layout, grid=grid,
                             capacity=capacity, radius_km=radius_km, valid=valid, half_angle_rad=half)
            count = decode_counts(packed[:n_t], layout).astype(jnp.int16)
            fields, n_clipped = st[:4], jnp.int32(0)
            if day is not None:  # covered only in daylight: mask the samples, clip the timed steps
                count = jnp.where(day[:n_t] >= 0, count, 0).astype(jnp.int16)
                *fields, merged = clip_step_timing(*fields, *daylight_window(day[:-1], day[1:]))
                n_clipped = jnp.sum(merged & valid[:, None, None], dtype=jnp.int32)
            return count, tuple(fields), jnp.stack([st.n_listed, st.n_approx + n_clipped])

        counts, fields, per_mask = over_masks(timed_mask)  # (E, T, lat, lon), each (E, T, lat, lon), (E, 2)
        stats = stats + jnp.sum(per_mask, axis=0, dtype=jnp.int32)
        timed = timed_update(timed, *(jnp.swapaxes(f, 0, 1) for f in fields), merit_config.step_s, valid)
    else:
        counts = over_masks(lambda min_el: coverage_counts(
            r[:, :n_t], min_el, grid=grid, n_rows=n_rows, radius_km=radius_km, half_angle_rad=half,
            usable=None if usable is None else usable[:n_t]))
        if day is not None:
            counts = jnp.where(day[None, :n_t] >= 0, counts, 0).astype(counts.dtype)
    if area.ndim == 1:  # weights separable by row (the globe, a box)
        covered_per_row = jnp.sum(counts > 0, axis=-1, dtype=jnp.int32)  # (E, T, lat)
        fraction = covered_per_row.astype(area.dtype) @ area
    else:  # (lat, lon) weights: a polygon region's cells by their area inside it
        fraction = jnp.sum(jnp.where(counts > 0, area, 0.0), axis=(-2, -1))
    state = merit_update(state, jnp.swapaxes(counts, 0, 1), merit_config, valid)
    usable_out = None if usable is None else usable[:n_t]
    return (state, timed, counts[0], fraction, jnp.swapaxes(r[:, :n_t], 0, 1).astype(jnp.float32), failed, stats,
            usable_out)


_chunk_step_stored = stored(_chunk_step, static_argnames=_CHUNK_STATICS)
"""``_chunk_step`` with its executables kept on disk: a new process skips its tracing and lowering."""


SAT_BUCKET = 80
"""Satellite counts up to this are padded to it: small stages (and small test scenes) share a compile.

80 holds the default scenario's three Falcon 9 stages (24, 48 and 72 satellites), so they run
one kernel: its first run compiles it once instead of twice (11-13 s on a 2-core VM) and later
runs load one executable fewer (~0.7 s). The 24- and 48-satellite stages, 1 day, 1 deg, warm
(2-core VM, alternated): 1.82-2.35 s with 64 slots, 1.89-2.87 s with 80, no measurable cost."""
SAT_STEP = 16
"""Larger counts are padded to a multiple of this (see :func:`padded_sat_count`)."""


def padded_sat_count(n_sat: int) -> int:
    """Satellite slots a coverage kernel is compiled for: ``SAT_BUCKET`` up to it, else the next
    multiple of ``SAT_STEP``.

    Padding satellites are never in view, but the per-satellite work (propagation,
    footprints, their scatters) runs for every slot: the default scenario's 72-satellite
    stage, 6 h warm on a 2-core VM, same process: 3.18 s padded to 128 (multiples of 64),
    2.73 s padded to 80, 3.51 s unpadded (72: the satellite axis off the vector width).
    """
    n_sat = int(n_sat)
    return SAT_BUCKET if n_sat <= SAT_BUCKET else n_sat + (-n_sat % SAT_STEP)


def _pad_sats(model, min_el, n_pad: int):
    """Append ``n_pad`` NaN satellites (they see nothing) to a model pytree and masks.

    On the host (NumPy): eager ``jnp`` calls would each compile a small kernel.
    """
    if n_pad == 0:
        return model, min_el

    def pad(x):
        x = np.asarray(x)
        fill = np.nan if np.issubdtype(x.dtype, np.floating) else 0
        return np.pad(x, [(0, n_pad)] + [(0, 0)] * (x.ndim - 1), constant_values=fill)

    return jax.tree_util.tree_map(pad, model), np.pad(np.asarray(min_el), [(0, 0), (0, n_pad)])


EVENT_BATCH = 8192
"""Events solved per iteration of the event-timing loops (a static shape; the loops run as often as needed)."""


def _progress(total: int, desc: str, enabled):
    if enabled is None:
        enabled = sys.stderr.isatty()
    from tqdm import tqdm  # noqa: PLC0415 (plain text bar: works in terminals, logs and notebooks)

    return tqdm(total=total, desc=desc, unit="step", disable=not enabled, leave=False, file=sys.stderr)


DEFAULT_STEP_S = 60.0
"""Sample spacing of a ``(start, duration)`` window given without ``step_s``."""


def _window_times(times, step_s):
    """(times, step_s): ``times`` itself, or the sample times of a ``(start, duration)`` window:
    ``start``, ``start + step_s``, ... before ``start + duration``, ``step_s`` defaulting to
    :data:`DEFAULT_STEP_S`."""
    window = start_and_duration(times)
    if window is None:
        return times, step_s
    step_s = DEFAULT_STEP_S if step_s is None else step_s
    return time_grid(*window, step_s), step_s


def _check_times(times, step_s):
    """(times datetime64 (time,), step_s float) from regularly spaced UTC times or a ``(start,
    duration)`` window; ValueError otherwise."""
    times, step_s = _window_times(times, step_s)
    times = np.atleast_1d(as_datetime64(times))
    if times.ndim != 1 or times.size < 1:
        raise ValueError("times must be a non-empty 1-D sequence of UTC times")
    step_ns = np.diff(times.astype(np.int64))
    if step_ns.size and (np.any(step_ns <= 0) or np.any(step_ns != step_ns[0])):
        raise ValueError("times must be strictly increasing and regularly spaced (figures of merit assume a fixed step)")
    if step_ns.size:
        if step_s is not None and abs(step_s - step_ns[0] / 1e9) > 1e-9:
            raise ValueError(f"step_s = {step_s} does not match the spacing of times ({step_ns[0] / 1e9} s)")
        step_s = float(step_ns[0]) / 1e9
    elif step_s is None:
        raise ValueError("a single time needs step_s (the duration one sample stands for)")
    elif not np.isfinite(step_s) or step_s <= 0:
        raise ValueError(f"step_s = {step_s} must be a positive number of seconds")
    return times, step_s


def _footprint_rows(r_max_km: float, min_mask_deg: float, grid: Grid, step_s: float, radius_km: float):
    """(n_rows, n_rows_swept, step_angle): static footprint sizes for satellites up to ``r_max_km``."""
    lam_max = float(footprint_lat_span(r_max_km, np.radians(min_mask_deg), grid.earth_model, radius_km))
    n_rows = rows_per_footprint(grid, max(lam_max, 0.0))
    # Angle between consecutive positions: orbital rate of a circular orbit at 150 km
    # (1.2e-3 rad/s, above any orbit's mean motion here) plus the Earth's rotation.
    step_angle = float((1.3e-3 + 7.3e-5) * step_s)
    n_rows_swept = rows_per_footprint(grid, max(lam_max, 0.0) + 0.5 * step_angle + SWEPT_PATH_MARGIN_RAD + 0.01)
    return n_rows, n_rows_swept, step_angle


BAND_STEP_DEG = 5.0
"""A latitude band's edges are rounded out to multiples of this: few distinct grids (compiles)."""
MAX_BAND_DEG = 75.0
"""Bands reaching this far use the globe (they would save under a sixth of the rows)."""


def _reach_band(satellites, deep: bool, r_max_km: float, min_mask_deg: float, grid: Grid,
                radius_km: float) -> float | None:
    """Latitude (deg) that no footprint reaches beyond, rounded up to :data:`BAND_STEP_DEG`; None: the globe.

    A satellite's geocentric latitude never exceeds its inclination ``i`` (``180 - i``
    retrograde) in the Earth-fixed frame (the Earth rotates about the orbit frame's z
    axis); SGP4's osculating inclination differs from the mean by short-period terms
    below 0.1 deg (0.5 deg allowed). Grid latitudes a footprint touches lie within
    :func:`~orbitjax.kernels.coverage.footprint_lat_span` of that. Deep-space orbits
    (lunar-solar terms move the inclination) and bands to :data:`MAX_BAND_DEG` or more use the globe.
    """
    if deep:
        return None
    if isinstance(satellites, Constellation):
        inc, slack = np.asarray(satellites.inc_deg, np.float64), 0.0
    else:
        inc, slack = np.degrees(np.asarray(satellites.inclo_rad, np.float64)), 0.5
    if inc.size == 0 or not np.all(np.isfinite(inc)):
        return None
    top = float(np.max(np.minimum(inc, 180.0 - inc))) + slack
    span = float(footprint_lat_span(r_max_km, np.radians(min_mask_deg), grid.earth_model, radius_km))
    if not np.isfinite(span):
        return None
    reach = top + max(np.degrees(span), 0.0)  # no row centre beyond it is ever covered
    band = BAND_STEP_DEG * np.ceil(reach / BAND_STEP_DEG)
    if band >= MAX_BAND_DEG or (band / grid.resolution_deg) % 1:
        return None
    return float(band)


def _band_grid(globe: Grid, band: float | None) -> Grid:
    """The grid of the rows from ``-band`` to ``band`` deg of ``globe`` (``globe`` itself for None)."""
    if band is None:
        return globe
    return make_grid(globe.resolution_deg, globe.earth_model, region=(-band, band, -180.0, 180.0))


def _band_rows(globe: Grid, grid: Grid) -> tuple[int, int] | None:
    """(first, last + 1): the rows of ``globe`` that ``grid`` (from :func:`_band_grid`) holds; None: all."""
    if grid == globe:
        return None
    first = int(round((grid.south_deg - globe.south_deg) / grid.resolution_deg))
    return first, first + grid.n_lat


def _extended_times(times, step_s: float):
    """(time + 3,) datetime64: the samples, the window end (one step after the last sample),
    which closes the last step, and one more sample at each side for the interpolation
    inside the steps."""
    step_td = np.timedelta64(int(round(step_s * 1e9)), "ns")
    return np.concatenate([[times[0] - step_td], times, [times[-1] + step_td, times[-1] + 2 * step_td]])


def _extended_samples(times, step_s: float):
    """(t_all, gmst_all), each (time + 3,): seconds from ``times[0]`` and GMST of the extended samples."""
    ref = times[0]
    times_ext = _extended_times(times, step_s)
    t_all = (times_ext.astype(np.int64) - ref.astype(np.int64)).astype(np.float64) / 1e9
    gmst_all = gmst82(*jd2_from_datetime64(times_ext))  # float64 on the host, whatever the device dtype
    return t_all, gmst_all


def _plan(satellites, times, *, resolution_deg=1.0, min_elevation_deg=None, elevation_sweep_deg=None,
          n_assets=DEFAULT_N_ASSETS, step_s=None, chunk_steps=None, save_raster=None, save_positions=None,
          earth_model="wgs84", timing="exact", radius_km=MEAN_RADIUS_KM, region=None, half_angle_deg=None,
          sun_elevation_min_deg=None, gateways=None) -> "_Plan":
    """Check the arguments of :func:`coverage` and fix everything its chunks need."""
    times, step_s = _check_times(times, step_s)
    if timing not in ("exact", "sampled"):
        raise ValueError(f"timing must be 'exact' or 'sampled', got {timing!r}")
    region_attrs = {}
    if region is not None:
        from .regions import as_region, cell_fraction  # noqa: PLC0415 (shapely only for regions)

        region = as_region(region)
        grid = make_grid(resolution_deg, earth_model, region=region.grid_box(resolution_deg))
        inside = None if region.geometry is None else cell_fraction(region.geometry, grid)
        if inside is not None and not np.any(inside > 0):
            raise ValueError(f"region {region.name!r} covers no area of its {resolution_deg:g} deg grid")
        region_attrs = {"region_name": region.name, "region_box_deg": np.asarray(grid.box, np.float64),
                        "region_source": region.source}
    else:
        grid, inside = make_grid(resolution_deg, earth_model), None
    n_sat = len(satellites)
    if n_sat == 0:
        raise ValueError("no satellites to analyse")
    if save_raster is None:
        save_raster = times.size * grid.n_lat * grid.n_lon * 2 <= STORE_LIMIT_BYTES
    if save_positions is None:
        save_positions = times.size * n_sat * 12 <= STORE_LIMIT_BYTES

    if min_elevation_deg is None:
        if isinstance(satellites, Constellation):
            min_elevation_deg = satellites.min_elevation_deg
        elif elevation_sweep_deg is not None:  # the sweep's masks apply; its first is the raster's
            min_elevation_deg = np.atleast_1d(np.asarray(elevation_sweep_deg, np.float64))[:1]
        else:
            raise ValueError("min_elevation_deg is required for a satellite catalogue (e.g. 35 for Kuiper)")
    per_sat = np.broadcast_to(np.asarray(min_elevation_deg, np.float64), (n_sat,)).copy()
    if elevation_sweep_deg is not None:
        sweep = tuple(float(e) for e in np.atleast_1d(elevation_sweep_deg))
        if not sweep or len(set(sweep)) < len(sweep):
            raise ValueError(f"elevation_sweep_deg {list(sweep)}: expected distinct masks, at least one")
        masks = np.broadcast_to(np.asarray(sweep)[:, None], (len(sweep), n_sat))
    else:
        sweep = None
        masks = per_sat[None, :]
    if np.any(~np.isfinite(masks) | (masks < 0) | (masks >= 90)):
        raise ValueError("minimum elevations must lie in [0, 90) degrees")
    limits, limit_attrs, gw = _constraints(satellites, half_angle_deg, sun_elevation_min_deg, gateways,
                                           earth_model, radius_km, exact=timing == "exact")

    model, epochs = make_model(satellites, reference=times[0])
    deep = deep_space_needed(model)
    r_max = max_radius_km(satellites)
    globe = grid
    if region is None:  # compute only the latitude band the footprints can reach
        grid = _band_grid(globe, _reach_band(satellites, deep, r_max, masks.min(), grid, radius_km))
    n_pad = padded_sat_count(n_sat) - n_sat
    n_rows, n_rows_swept, step_angle = _footprint_rows(r_max, masks.min(), grid, step_s, radius_km)
    n_masks = masks.shape[0]
    exact = timing == "exact"
    # Fields sized for the real satellites (the padding is never in view) but shared by the
    # whole bucket, so stages of similar size still share a compile: up to 127 fit in int32.
    layout = id_layout(n_sat + n_pad - (n_pad > 0), bool(jax.config.jax_enable_x64)) if exact else None
    cell_bytes = (8 if layout.dtype == "int64" else 4) if exact else 2
    steps = int(chunk_steps or default_chunk_steps(n_sat + n_pad, n_rows, grid, n_masks, cell_bytes, exact))
    steps = min(steps, times.size)
    merit_config = MeritConfig(n_assets=tuple(int(n) for n in n_assets), step_s=step_s)

    # Host arrays (NumPy) until the chunks put them on the device: no eager jnp call, each of
    # which compiles a small kernel of its own (~60 of them made ~1 s of the default run).
    offset_s = np.pad(np.asarray(time_offsets(epochs, times[0])), (0, n_pad))
    t_all, gmst_all = _extended_samples(times, step_s)
    row_area = grid.cell_area_fraction()
    if region is None:  # cell areas as fractions of the globe (a band's rows sum to its share)
        area = row_area
    elif inside is None:  # a box: rows weigh their share of its area
        area = row_area / (row_area.sum() * grid.n_lon)
    else:  # a polygon: (lat, lon) weights of the cells by their area inside it
        w = row_area[:, None] * inside
        area = w / w.sum()
    model, min_el = _pad_sats(model, np.radians(masks), n_pad)
    half_angle_deg = None if "half_angle" not in limits else np.degrees(limits["half_angle"])
    if "half_angle" in limits:  # padding satellites: no cone
        limits["half_angle"] = np.pad(limits["half_angle"], (0, n_pad), constant_values=np.nan)
    sun = None
    if sun_elevation_min_deg is not None:
        from .kernels.sun import sun_direction_ecef  # noqa: PLC0415

        times_ext = _extended_times(times, step_s)
        sun = sun_direction_ecef(*jd2_from_datetime64(times_ext), gmst_all)  # host float64, (T + 3, 3)
    real = np.arange(n_sat + n_pad) < n_sat
    return _Plan(
        times=times, step_s=step_s, grid=grid, n_sat=n_sat, save_raster=bool(save_raster),
        save_positions=bool(save_positions), per_sat=per_sat, sweep=sweep, masks=np.asarray(masks),
        model=jax.tree_util.tree_map(np.asarray, model), deep=deep, n_rows=n_rows, n_rows_swept=n_rows_swept,
        step_angle=step_angle, timing=timing, layout=layout, steps=steps, merit_config=merit_config,
        offset_s=np.asarray(offset_s), t_all=t_all, gmst_all=np.asarray(gmst_all), area=np.asarray(area),
        min_el=np.asarray(min_el), real=np.asarray(real), radius_km=float(radius_km), earth_model=earth_model,
        x64=bool(jax.config.jax_enable_x64), limits=limits, sun=None if sun is None else np.asarray(sun),
        inside=inside, region_attrs=region_attrs, limit_attrs=limit_attrs, half_angle_deg=half_angle_deg,
        gateway_names=None if gw is None else tuple(gw.name), globe=globe,
    )


@dataclass(frozen=True, eq=False)
class _Plan:
    """The checked arguments of :func:`coverage` and what every chunk needs, as host arrays.

    It pickles (to Dask workers, with ``x64`` to set there first) and is the same
    for every block of a window: :mod:`orbitjax.blocks` computes blocks from it.

    ``limits``: the sensor/target constraints of ``_chunk_step`` (cone half angles
    padded to the satellite bucket, ``sin_sun_min``, gateway arrays); ``sun``
    (time + 3, 3) Sun directions at the extended samples or None; ``area`` (lat,)
    or (lat, lon) cell weights; ``inside`` (lat, lon) a polygon region's cell
    fractions or None.
    """

    times: np.ndarray
    step_s: float
    grid: Grid
    n_sat: int
    save_raster: bool
    save_positions: bool
    per_sat: np.ndarray
    sweep: tuple | None
    masks: np.ndarray
    model: object
    deep: bool
    n_rows: int
    n_rows_swept: int
    step_angle: float
    timing: str
    layout: object
    steps: int
    merit_config: MeritConfig
    offset_s: np.ndarray
    t_all: np.ndarray
    gmst_all: np.ndarray
    area: np.ndarray
    min_el: np.ndarray
    real: np.ndarray
    radius_km: float
    earth_model: str
    x64: bool
    limits: dict
    sun: np.ndarray | None
    inside: np.ndarray | None
    region_attrs: dict
    limit_attrs: dict
    half_angle_deg: np.ndarray | None
    gateway_names: tuple | None
    globe: Grid  # the output grid: ``grid`` itself, or the globe around a latitude band

    def new_raster(self, n: int):
        """(whole, rows): an int16 raster of ``n`` steps over the output grid, and the view of it the
        chunks write (the band's rows; the rows beyond it stay 0). None, None without a raster."""
        if not self.save_raster:
            return None, None
        rows = self.band_rows
        if rows is None:
            whole = np.empty((n, self.grid.n_lat, self.grid.n_lon), np.int16)
            return whole, whole
        whole = np.zeros((n, self.globe.n_lat, self.globe.n_lon), np.int16)
        return whole, whole[:, rows[0]:rows[1]]

    @property
    def band_rows(self) -> tuple[int, int] | None:
        """(first, last + 1) rows of the output grid that ``grid`` computes; None when they are all."""
        return _band_rows(self.globe, self.grid)

    @property
    def n_t(self) -> int:
        return int(self.times.size)

    @property
    def cell_shape(self) -> tuple[int, int, int]:
        return (self.masks.shape[0], self.grid.n_lat, self.grid.n_lon)

    def run_size(self) -> RunSize:
        """The sizes that set this run's memory (:mod:`orbitjax.memory`)."""
        return RunSize(n_sat=int(self.real.size), n_times=self.n_t, resolution_deg=self.grid.resolution_deg,
                       box=self.grid.box, n_masks=int(self.masks.shape[0]), save_raster=self.save_raster,
                       save_positions=self.save_positions, chunk_steps=self.steps, n_rows=self.n_rows,
                       event_timing=self.timing == "exact")

    def init_states(self):
        """Empty (sampled, timed) figure-of-merit states; timed is None for sampled timing."""
        state = merit_init(self.cell_shape, self.merit_config)
        return state, (timed_init(self.cell_shape) if self.timing == "exact" else None)


class Cancelled(Exception):
    """A block stopped between chunks because its run was abandoned (an error elsewhere, Ctrl-C)."""


def _run_chunks(plan: _Plan, start: int, stop: int, state, timed, *, fraction, raster=None, positions=None,
                usable=None, bar=None, cancel=None):
    """Fold the chunks of steps ``start .. stop`` (``start`` on a chunk boundary) into the states.

    ``cancel`` (a ``threading.Event``, or None): checked before each chunk; once set, the
    loop raises :class:`Cancelled` (a block in a thread stops when the run is abandoned).

    Writes rows ``0 .. stop - start`` of ``fraction`` (E, n), ``raster`` (n, lat, lon),
    ``positions`` (n, sat, 3) and ``usable`` (n, sat) (host arrays, or None; ``usable``
    only with gateways). Returns the states, the timing counters (2,) int64 (listed and
    approximated cell-steps) and the number of failed satellite-steps, summed over the chunks.
    """
    times, t_all, gmst_all, steps, n_sat = plan.times, plan.t_all, plan.gmst_all, plan.steps, plan.n_sat
    grid, n_rows, merit_config, timing, layout = plan.grid, plan.n_rows, plan.merit_config, plan.timing, plan.layout
    deep, n_rows_swept, step_angle, exact = plan.deep, plan.n_rows_swept, plan.step_angle, plan.timing == "exact"
    radius_km = plan.radius_km
    # device_put, not jnp.asarray: a transfer, where jnp.asarray compiles a kernel per shape.
    model = jax.device_put(plan.model)
    offset_s, min_el, real, area = jax.device_put((plan.offset_s, plan.min_el, plan.real, plan.area))
    timing_stats, failures = [], []  # per-chunk device counters, read once at the end
    n_t = times.size
    offset = start

    def to_host(counts, frac, pos, use, n, lo, hi):
        # Sliced on the host: slicing the device arrays compiles a kernel per shape.
        if raster is not None:
            raster[lo:hi] = np.asarray(counts)[:n]
        if positions is not None:
            positions[lo:hi] = np.asarray(pos)[:n, :n_sat]
        if usable is not None:
            usable[lo:hi] = np.asarray(use)[:n, :n_sat]
        fraction[:, lo:hi] = np.asarray(frac)[:, :n]
        if bar is not None:
            bar.update(n)

    # Each chunk's outputs are read back after the next chunk is dispatched: the device
    # (a GPU, or XLA's CPU threads) starts on chunk k + 1 while the host copies chunk k,
    # instead of idling through the copy and the next dispatch. The states never leave it.
    pending = None
    for start in range(offset, stop, steps):
        if cancel is not None and cancel.is_set():
            raise Cancelled(f"steps {start}..{stop} not computed: the run was stopped")
        stop_c = min(start + steps, n_t)
        # Samples start - 1 .. start + steps + 1: sample start + steps ends the chunk's last
        # step, the outer two feed the interpolation (t_all has them at both window ends).
        idx = np.minimum(np.arange(start, start + steps + 3), n_t + 2)
        valid = np.arange(start, start + steps) < n_t
        out = _chunk_step_stored(
            model, state, timed, offset_s, jax.device_put(t_all[idx]), jax.device_put(gmst_all[idx]),
            min_el, jax.device_put(valid), real, area,
            plan.limits if plan.sun is None else {**plan.limits, "sun": jax.device_put(plan.sun[idx])},
            grid=grid, n_rows=n_rows, merit_config=merit_config, radius_km=float(radius_km),
            deep_space=deep, timing=timing, layout=layout, capacity=EVENT_BATCH if exact else 0,
            n_rows_swept=n_rows_swept, step_angle=step_angle,
        )
        state, timed, counts, frac, pos, failed, stats, use = out
        # Counters stay on the device (no host round-trip per chunk); summed in int64 at the end.
        timing_stats.append(stats)
        failures.append(failed)
        if pending is not None:
            to_host(*pending)
        pending = (counts, frac, pos, use, stop_c - start, start - offset, stop_c - offset)
    if pending is not None:
        to_host(*pending)
    timing_stats = np.sum([np.asarray(x, np.int64) for x in timing_stats], axis=0)
    return state, timed, timing_stats, int(np.sum([np.asarray(x, np.int64) for x in failures]))


def coverage(
    satellites: Constellation | Satellites,
    times,
    *,
    resolution_deg: float = 1.0,
    min_elevation_deg=None,
    elevation_sweep_deg=None,
    n_assets: tuple[int, ...] = DEFAULT_N_ASSETS,
    step_s: float | None = None,
    chunk_steps: int | None = None,
    save_raster: bool | None = None,
    save_positions: bool | None = None,
    progress: bool | None = None,
    earth_model: str = "wgs84",
    timing: str = "exact",
    radius_km: float = MEAN_RADIUS_KM,
    attrs: dict | None = None,
    region=None,
    half_angle_deg=None,
    sun_elevation_min_deg: float | None = None,
    gateways=None,
    client=None,
    devices=None,
    block_steps: int | None = None,
):
    """Coverage counts and figures of merit of ``satellites`` on a global or regional grid.

    Args:
      satellites: a designed :class:`Constellation` (Kepler + J2) or a
        :class:`Satellites` catalogue (SGP4/SDP4).
      times: regularly spaced UTC times (datetime64 or strings), at least 1; or a
        ``(start, duration)`` window (duration in seconds or like ``"6h"``), sampled
        every ``step_s`` (default 60 s) from ``start``, as ``access()`` takes it.
      resolution_deg: grid resolution; must divide 180.
      min_elevation_deg: scalar or (sat,) minimum elevation; default the
        constellation's per-satellite values (required for catalogues).
      elevation_sweep_deg: optional sequence of masks applied to every satellite;
        figures of merit and coverage_fraction then get a ``min_elevation`` dim
        (the raster is kept for the first mask only; a catalogue then needs no
        ``min_elevation_deg``). The masks run one after another in a loop compiled
        once: the first call costs about what one mask costs.
      n_assets: N values of the N-asset coverage figure.
      step_s: the time step; needed only when ``times`` has a single element
        (otherwise it is the spacing of ``times``, which must be regular), and the
        sample spacing of a ``(start, duration)`` window.
      chunk_steps: time steps per chunk (memory knob); default from the sizes.
      save_raster: keep ``visible_count(time, lat, lon)``; default: when it takes
        at most 256 MiB (:data:`STORE_LIMIT_BYTES`).
      save_positions: keep ``sat_position_ecef(time, sat, xyz)``; same default.
      progress: show a progress bar (default: when stderr is a terminal).
      earth_model: ``"wgs84"`` (default): geodetic grid latitudes, cell centres on
        the WGS84 ellipsoid, elevation from the ellipsoid normal (as STK, TAT-C,
        Skyfield); ``"sphere"``: geocentric latitudes on a sphere of ``radius_km``.
      timing: ``"exact"`` (default): coverage starts and ends are timed inside
        each step (``orbitjax.kernels.events``), so percent covered, gaps, time to
        first coverage, response time and longest coverage use real access
        times, and gaps shorter than a step are found; ``"sampled"``: every
        sample stands for its whole step (the figures of orbitjax <= 0.1).
        N-asset coverage (N >= 2) and multiplicity are sampled either way.
      radius_km: radius of the spherical Earth (``earth_model="sphere"`` only).
      attrs: extra global attributes.
      region: None (the globe), a box ``(south, north, west, east)`` in degrees
        (cell edges; ``resolution_deg`` must divide it; it may cross the
        antimeridian, e.g. ``(-10, 10, 170, -170)``), a country name or ISO code
        of the bundled Natural Earth layer, a GeoJSON/shapefile path, a shapely
        polygon or an :class:`orbitjax.regions.Region`. Only the box's cells are
        computed (work and memory follow the box, ``orbitjax.kernels.coverage``).
        A polygon is analysed on its bounding box snapped to the grid; the
        variable ``region_fraction(lat, lon)`` holds each cell's area fraction
        inside it, which weighs ``coverage_fraction`` and
        :func:`orbitjax.region_summary`.
      half_angle_deg: optional nadir-pointing cone sensor, scalar or (sat,)
        (NaN: no cone for that satellite): a cell must also lie within this
        off-nadir angle; the elevation mask still applies (limited by the
        horizon). Event-timed like the mask. ``docs/sensors.md``.
      sun_elevation_min_deg: optional daylight constraint: a cell counts as
        covered only while the Sun is at least this high above its horizon.
        Sampled figures use the samples; event-timed ones time sunrise and sunset
        inside each step.
      gateways: optional bent-pipe gateways (:class:`orbitjax.constraints.Gateways`,
        a sites file, rows or a dict; 10 deg mask unless given): a satellite
        serves cells only at samples where a gateway sees it. Usability is
        decided per sample (``usable_satellites(time, sat)`` and
        ``n_usable_satellites(time)`` in the output).
      client: a ``dask.distributed.Client`` (or a scheduler address): the window
        is cut into blocks of ``block_steps`` steps computed as tasks on the
        cluster, their partial summaries merged by a tree reduction
        (:mod:`orbitjax.blocks`). Default None: this process.
      devices: JAX devices to spread the blocks over, one block per device at a
        time; default: all of ``jax.devices()`` when there are several; with one
        CPU device, the window's two halves computed at once by two threads
        (where two chunks' work arrays fit :data:`orbitjax.memory.HOST_BLOCKS_MAX_CHUNK_BYTES`;
        ~20 % faster on 2 cores, the same on any core count), else the sequential
        chunk loop. ``devices=1`` forces that loop.
      block_steps: time steps per block of the block paths (a multiple of the
        chunk; default one chunk).

    Results of the block paths equal the sequential loop's: integers and the
    raster identical, event-timed float figures up to the rounding of their sums
    (``docs/merge_algebra.md``; ~1e-14 relative for the bundled stages). Regions,
    cones, daylight and gateways work on every path: they act within each chunk
    (gateway usability and the Sun per sample), so blocks need nothing from each other.

    Returns:
      xarray.Dataset (schema in ``orbitjax.io.dataset``).

    Peak memory (two blocks at once on a CPU hold two chunks and two states, see
    :func:`orbitjax.memory.host_blocks`): per chunk about ``chunk_steps * (n_lat * 2 n_lon * 2 B + sat * rows * 40 B)``
    on the device (the int16 difference array and the footprint intervals; ~2 MB per
    step for the full Kuiper constellation at 1 deg), plus the figures-of-merit state,
    68 B per cell and mask (144 B with event timing); none of it grows with the window. Event timing
    (the default) uses int64 difference arrays (8 B instead of 2 B a cell; chunks
    shrink to keep ~48 MB), and about 160 B per cell-step of work arrays for the
    event solver (``orbitjax.memory``; the 30-day figure below is for the sampled
    mode of orbitjax 0.1 and was not re-measured). On the host,
    ``save_raster`` adds ``time * lat * lon * 2 B`` and ``save_positions``
    ``time * sat * 12 B``. Measured: 30 days at 60 s on a 0.5 deg grid without them
    peaks at 577 MB RSS, the same as 1 day (benchmarks/RESULTS.md).
    """
    release_if_near_map_limit()  # a long-lived process must not die in XLA's JIT linker
    plan = _plan(satellites, times, resolution_deg=resolution_deg, min_elevation_deg=min_elevation_deg,
                 elevation_sweep_deg=elevation_sweep_deg, n_assets=n_assets, step_s=step_s,
                 chunk_steps=chunk_steps, save_raster=save_raster, save_positions=save_positions,
                 earth_model=earth_model, timing=timing, radius_km=radius_km, region=region,
                 half_angle_deg=half_angle_deg, sun_elevation_min_deg=sun_elevation_min_deg, gateways=gateways)
    if client is None and devices is None and not _several_devices(None):
        device = jax.devices()[0]
        blocks = host_blocks(plan.run_size(), device.platform == "cpu")
        if blocks > 1:  # the window's halves computed at once on the one CPU device (two threads)
            devices = [device] * blocks
            block_steps = -(-plan.n_t // (plan.steps * blocks)) * plan.steps
    if client is not None or _several_devices(devices):
        from .blocks import coverage_blocks  # noqa: PLC0415

        return coverage_blocks(plan, satellites, client=client, devices=devices, block_steps=block_steps,
                               progress=progress, attrs=attrs)
    state, timed = plan.init_states()
    n_t, n_sat = plan.n_t, plan.n_sat
    whole, raster = plan.new_raster(n_t)
    positions = np.empty((n_t, n_sat, 3), np.float32) if plan.save_positions else None
    usable = np.empty((n_t, n_sat), bool) if plan.gateway_names is not None else None
    fraction = np.empty((plan.masks.shape[0], n_t))
    with _progress(n_t, f"{n_sat} sats", progress) as bar:
        state, timed, timing_stats, n_failed = _run_chunks(plan, 0, n_t, state, timed, fraction=fraction,
                                                           raster=raster, positions=positions, usable=usable,
                                                           bar=bar)
    return _dataset(plan, satellites, state, timed, fraction, whole, positions, timing_stats, n_failed, attrs,
                    usable=usable)


def _several_devices(devices) -> bool:
    """Whether the block path spreads over several local devices (``devices``: None, an int or a list)."""
    if devices is None:
        return len(jax.devices()) > 1
    if isinstance(devices, int):
        return devices > 1
    return len(devices) > 1


def _to_globe(rows: tuple[int, int], n_lat: int, state, timed, raster):
    """States and raster of a latitude band, extended to every row of the globe.

    The rows outside ``rows`` are never covered: their states are those the folds give
    a cell that sees nothing (every sample one gap: :func:`merit_init` folded
    ``n_samples`` times, :func:`timed_init` folded over ``elapsed_s``), their counts 0.
    """
    first, stop = rows

    def pad(x, fill):
        x = np.asarray(x)
        width = [(0, 0)] * x.ndim
        width[-2] = (first, n_lat - stop)
        return np.pad(x, width, constant_values=np.asarray(fill, x.dtype))

    n = int(np.asarray(state.n_samples))
    never = {"n_covered": 0, "n_covered_n": 0, "sum_counts": 0, "min_counts": 0, "max_counts": 0, "gap_run": n,
             "cover_run": 0, "gap_count": 1, "gap_sq_sum": n * n, "max_gap": n, "max_cover": 0,
             "first_covered": -1, "first_uncovered": 0}
    state = state._replace(**{k: pad(getattr(state, k), v) for k, v in never.items()})
    if timed is not None:
        elapsed = float(np.asarray(timed.elapsed_s))
        never = {"covered_s": 0.0, "open_gap_s": elapsed, "open_cover_s": 0.0, "gap_count": 0, "gap_sq_sum_s2": 0.0,
                 "max_gap_s": 0.0, "max_cover_s": 0.0, "first_covered_s": -1.0, "lead_gap_s": -1.0,
                 "lead_cover_s": 0.0}
        timed = timed._replace(**{k: pad(getattr(timed, k), v) for k, v in never.items()})
    # The in-memory paths allocate the raster whole (_Plan.new_raster); only the block path's lazy
    # (dask) raster arrives with the band's rows, and is padded lazily.
    if raster is not None and raster.shape[-2] != n_lat:
        import dask.array as da  # noqa: PLC0415

        raster = da.pad(raster, ((0, 0), (first, n_lat - stop), (0, 0)), mode="constant", constant_values=0)
    return state, timed, raster


def _dataset(plan: _Plan, satellites, state, timed, fraction, raster, positions, timing_stats, n_failed, attrs,
             usable=None):
    """The coverage Dataset from the final states, the per-step arrays and the counters (host side).

    ``usable`` (time, sat) bool: the gateway usability rows (with gateways only).
    """
    merit_config, sweep, grid, exact = plan.merit_config, plan.sweep, plan.globe, plan.timing == "exact"
    earth_model, radius_km, timing, step_s = plan.earth_model, plan.radius_km, plan.timing, plan.step_s
    times, per_sat, n_sat = plan.times, plan.per_sat, plan.n_sat
    if plan.band_rows is not None:
        state, timed, raster = _to_globe(plan.band_rows, grid.n_lat, state, timed, raster)
    figures = {k: np.asarray(v) for k, v in merit_finalize(state, merit_config).items()}
    if exact:
        figures.update({k: np.asarray(v) for k, v in timed_finalize(timed).items()})
    if sweep is None:
        figures = {k: v[:, 0] if k == "percent_time_covered_n" else v[0] for k, v in figures.items()}
        fraction = fraction[0]
    else:
        figures["percent_time_covered_n"] = np.swapaxes(figures["percent_time_covered_n"], 0, 1)
    if earth_model == "sphere":
        shape = f"visibility on a sphere of radius {radius_km} km (geocentric latitudes, radial elevation)"
    else:
        shape = ("visibility on the WGS84 ellipsoid: geodetic latitudes, cell centres at height 0, "
                 "elevation from the ellipsoid normal")
    base_attrs = {
        "propagation_model": model_name(satellites),
        "earth_model": f"{shape}; Earth rotation by GMST IAU-82 with UT1 = UTC; no polar motion",
        "earth_model_name": earth_model,
        "timing": timing,
        "timing_method": (
            "coverage starts and ends timed inside each step (elevation-mask crossings of the satellites "
            "in view at either end, by bracketed Newton steps on the interpolated motion); N-asset coverage (N >= 2) "
            "and multiplicity sampled" if exact else
            "sampled: each sample stands for its whole step"
        ),
        "timed_cell_steps": int(timing_stats[0]),
        "timed_cell_steps_approximated": int(timing_stats[1]),
        "n_satellites": n_sat,
        "failed_satellite_steps": n_failed,
        "time_step_s": step_s,
        "grid_resolution_deg": grid.resolution_deg,
        **plan.region_attrs,
    }
    ds = coverage_dataset(
        times=times,
        lat_deg=grid.lat_deg,
        lon_deg=grid.lon_deg,
        area_weight=grid.cell_area_fraction(),
        sat_names=satellites.name,
        min_elevation_deg=per_sat,
        coverage_fraction=fraction,
        figures=figures,
        n_assets=merit_config.n_assets,
        visible_count=raster,
        sat_position_ecef=positions,
        elevation_sweep_deg=sweep,
        attrs={**base_attrs, **plan.limit_attrs, **(attrs or {})},
        earth_model=earth_model,
        timing=timing,
        region_fraction=plan.inside,
        regional=bool(plan.region_attrs),
    )
    return constraint_variables(
        ds,
        half_angle_deg=plan.half_angle_deg,
        usable=usable,
        gateway_names=None if plan.gateway_names is None else list(plan.gateway_names),
        store_usable=plan.save_positions,
    )


def _constraints(satellites, half_angle_deg, sun_elevation_min_deg, gateways, earth_model, radius_km, exact):
    """Checked sensor/target constraints -> (kernel arrays, dataset attributes, Gateways or None)."""
    from .constraints import (  # noqa: PLC0415
        as_gateways, check_sun_elevation, cone_half_angles_rad, gateway_arrays,
    )
    from .propagation import radius_bound_km  # noqa: PLC0415

    limits, attrs, gw = {}, {}, None
    if half_angle_deg is not None:
        half = cone_half_angles_rad(half_angle_deg, radius_bound_km(satellites), earth_model, radius_km,
                                    satellites.name)
        if np.any(~np.isnan(half)):
            limits["half_angle"] = half
            attrs["sensor"] = ("nadir-pointing cone (towards the Earth's centre) of half_angle_deg per satellite, "
                               "and the elevation mask min_elevation_deg")
    if sun_elevation_min_deg is not None:
        limits["sin_sun_min"] = np.sin(np.radians(check_sun_elevation(sun_elevation_min_deg)))
        attrs["sun_elevation_min_deg"] = float(sun_elevation_min_deg)
        attrs["daylight_method"] = (
            "covered only while the Sun's geometric elevation at the cell is >= sun_elevation_min_deg; Sun from "
            "the Astronomical Almanac low-precision formula (~0.01 deg); counts and sampled figures apply it "
            "at the samples" + ("; event-timed figures time sunrise/sunset inside each step (linear in "
                                "sin elevation, ~0.1 s)" if exact else ""))
    if gateways is not None:
        gw = as_gateways(gateways)
        limits["gateways"] = gateway_arrays(gw)
        attrs["gateways"] = ",".join(gw.name)
        attrs["gateway_min_elevation_deg"] = ",".join(f"{e:g}" for e in gw.min_elevation_deg)
        attrs["gateway_method"] = (
            "bent pipe: a satellite serves cells only at samples where at least one gateway sees it above its "
            "mask (WGS84 geodetic gateways); usability is sampled" + (
                ": a change of usability inside a step is placed at one of its two samples (at most one step "
                "off), while elevation/cone crossings stay event-timed" if exact else ""))
    return limits, attrs, gw
