"""Design studies: the coverage figures of many constellations per jitted call.

A *design* is one constellation: a Walker pattern (altitude, inclination, T, P,
F, minimum elevation) or any :class:`Constellation` / :class:`Satellites`
(element tables, catalogues). :func:`study` evaluates many designs and
:func:`failure_study` one constellation under many random failure sets, both
with the per-chunk kernel of :func:`orbitjax.coverage`
(``analysis._chunk_step``: propagation, footprint scatter, event timing, the
figures-of-merit folds) mapped with ``jax.vmap`` over a leading design axis:

- designs are sorted into satellite-count buckets (:func:`bucket_size`: a
  ~1.5x ladder of multiples of 64) and padded up to the bucket with NaN
  satellites, which see nothing (the padding ``coverage()`` itself uses);
- each bucket runs in batches of ``batch_size`` designs; the last batch is
  filled with all-NaN designs (no events, little work), so one bucket compiles
  once whatever its number of designs;
- one jitted call per batch and time chunk carries ``batch_size`` figure-of-merit
  states; nothing of size time x cells is kept.

The per-cell figures are those of ``coverage()`` on each design alone, to the
bit (``tests/test_study.py``), because every design runs the same operations
on the same numbers; padding only adds satellites that are never in view.
A failed satellite is a NaN satellite too, so a failure draw equals
``coverage()`` of the constellation without the failed satellites.

Per design the cells are reduced to the figures designers rank by
(:func:`design_figures`): area-weighted percent of time covered (globally and in
a latitude band), N-asset coverage, the worst and the area-weighted mean
maximum gap over the cells covered at least once, and the area-weighted mean
response time; optionally the latitude profile of percent covered.

Memory: a batch needs ``batch_size`` times the chunk memory of ``coverage()``
(the chunk length is cut to keep the total near ``coverage()``'s ~50 MB of
difference arrays), plus ``batch_size`` figure-of-merit states (~120 B per
cell). ``batch_size`` is the memory knob.
"""

from __future__ import annotations

import itertools
import warnings
from dataclasses import dataclass
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from . import analysis
from .analysis import (
    DEFAULT_N_ASSETS, EVENT_BATCH, _band_grid, _band_rows, _check_times, _extended_samples, _footprint_rows,
    _progress, _reach_band, _to_globe,
    default_chunk_steps,
)
from .catalog import Satellites
from .compiled_code import release_if_near_map_limit
from .executable_store import stored
from .constellation import Constellation, walker
from .kernels.earth import MEAN_RADIUS_KM
from .kernels.events import id_layout
from .kernels.grid import make_grid
from .kernels.merit import MeritConfig, merit_finalize, merit_init, timed_finalize, timed_init
from .propagation import deep_space_needed, make_model, max_radius_km, time_offsets

WALKER_PARAMS = ("altitude_km", "inclination_deg", "planes", "sats_per_plane", "phasing", "min_elevation_deg")
"""Columns of a Walker design table (``pattern`` 'delta'/'star' and ``raan0_deg`` are optional)."""
_INT_PARAMS = ("planes", "sats_per_plane", "phasing")


def bucket_size(n_sat: int) -> int:
    """Padded satellite count of a design: the smallest of 64 * {1, 2, 3, 4, 6, 8, 12, 16, ...} >= n_sat.

    A ~1.5x ladder (64, 128, 192, 256, 384, 512, 768, ...): designs of 300-1,200
    satellites share five compilations (384, 512, 768, 1024, 1536) and waste on
    average ~20 % on padding, which costs only the footprint geometry (NaN
    satellites have no events).
    """
    m = 1
    while 64 * m < n_sat:
        m = 2 if m == 1 else (m * 3 // 2 if m & (m - 1) == 0 else m * 4 // 3)
    return 64 * m


# ---------------------------------------------------------------- design tables


def walker_table(**columns) -> dict[str, np.ndarray]:
    """A table of Walker designs from equal-length columns (scalars broadcast).

    Columns: :data:`WALKER_PARAMS` (``phasing`` defaults to 1), optional
    ``pattern`` and ``raan0_deg``. Returns a dict of (design,) arrays.
    """
    columns.setdefault("phasing", 1)
    missing = [k for k in WALKER_PARAMS if k not in columns]
    if missing:
        raise ValueError(f"Walker design table: missing column(s) {', '.join(missing)}")
    unknown = sorted(set(columns) - set(WALKER_PARAMS) - {"pattern", "raan0_deg"})
    if unknown:
        raise ValueError(f"Walker design table: unknown column(s) {', '.join(unknown)}; expected {WALKER_PARAMS}")
    try:
        arrays = np.broadcast_arrays(*(np.asarray(columns[k]) for k in columns))
    except ValueError:
        raise ValueError("Walker design table: columns must have the same length") from None
    table = {k: np.ravel(a) for k, a in zip(columns, arrays)}
    for k in _INT_PARAMS:
        v = np.asarray(table[k], float)
        if np.any(v != np.round(v)):
            raise ValueError(f"Walker design table: {k} must be integers, got {v[v != np.round(v)][0]!r}")
        table[k] = v.astype(np.int64)
    for k in ("altitude_km", "inclination_deg", "min_elevation_deg"):
        table[k] = np.asarray(table[k], np.float64)
    return table


def walker_grid(**values) -> dict[str, np.ndarray]:
    """Every combination of the given values (each a scalar or a sequence): a Walker design table.

    ``phasing`` values that are not below ``planes`` are dropped (F lies in 0..P-1).
    """
    values.setdefault("phasing", 1)
    keys = list(values)
    for key in ("planes", "sats_per_plane"):
        if key in values and not all(isinstance(v, (int, float, np.integer, np.floating)) and float(v).is_integer()
                                     and v >= 1 for v in np.atleast_1d(values[key]).tolist()):
            raise ValueError(f"Walker grid: {key} = {values[key]!r}: expected positive integers")
    combos = list(itertools.product(*(np.atleast_1d(values[k]).tolist() for k in keys)))
    if "planes" in keys:
        ip, iff = keys.index("planes"), keys.index("phasing")
        total = len(combos)
        combos = [c for c in combos if c[iff] < c[ip]]
        if combos and len(combos) < total:
            warnings.warn(f"Walker grid: {total - len(combos)} of {total} combinations dropped "
                          "(phasing F must be below planes)", stacklevel=2)
    if not combos:
        raise ValueError("Walker grid: no valid design (phasing must be below planes)")
    return walker_table(**{k: [c[i] for c in combos] for i, k in enumerate(keys)})


def walker_sample(n: int, key, **ranges) -> dict[str, np.ndarray]:
    """``n`` Walker designs drawn uniformly from ranges, with an explicit JAX PRNG key.

    Each keyword is a ``(lo, hi)`` range or a scalar. Integer parameters
    (``planes``, ``sats_per_plane``) are drawn uniformly from ``lo..hi`` inclusive;
    ``phasing`` given as a range is drawn from ``lo..min(hi, planes - 1)``.
    """
    if int(n) != n or n < 1:
        raise ValueError(f"Walker sample: n must be a positive integer, got {n!r}")
    ranges.setdefault("phasing", 1)
    names = sorted(ranges)
    u = np.asarray(jax.random.uniform(key, (len(names), int(n)), dtype=jnp.float64))
    u = dict(zip(names, u))
    out = {}
    for name in sorted(names, key=lambda k: k == "phasing"):  # phasing last: it depends on planes
        rng = ranges[name]
        if np.ndim(rng) == 0:
            out[name] = np.full(int(n), rng)
            continue
        lo, hi = (float(x) for x in rng)
        if name == "phasing" and "planes" in out:
            hi = np.minimum(hi, out["planes"] - 1)
        if np.any(hi < lo):
            raise ValueError(f"Walker sample: range of {name} is empty ({lo} > {np.min(hi)})")
        if name in _INT_PARAMS:
            lo = np.ceil(lo)
            out[name] = np.minimum(np.floor(lo + (np.floor(hi) - lo + 1) * u[name]), np.floor(hi)).astype(np.int64)
        else:
            out[name] = lo + (hi - lo) * u[name]
    return walker_table(**out)


def _walker_designs(table: dict[str, np.ndarray], epoch) -> list[Constellation]:
    n = len(table["altitude_km"])
    out = []
    for i in range(n):
        kw = {k: table[k][i].item() for k in table}
        out.append(walker(**kw, epoch=epoch, shell=f"d{i}"))
    return out


# ---------------------------------------------------------------- batched kernel


@partial(jax.jit, static_argnames=("static",))
def _batch_chunk(model, state, timed, offset_s, t_s, gmst_rad, min_el_rad, valid, real, area, *, static):
    """``analysis._chunk_step`` mapped over a leading design axis; the raster and positions are dropped."""
    kw = dict(static)

    def one(m, s, td, o, me, r):
        out = analysis._chunk_step(m, s, td, o, t_s, gmst_rad, me, valid, r, area, **kw)
        return out[0], out[1], out[5], out[6]

    return jax.vmap(one)(model, state, timed, offset_s, min_el_rad, real)


_batch_chunk_stored = stored(_batch_chunk, static_argnames=("static",))
"""``_batch_chunk`` with its executables kept on disk: a new process skips its tracing and lowering."""


def _nan_satellites(model, dead):
    """The model with the satellites where ``dead`` (..., sat) is True set to NaN (they see nothing)."""

    def f(x):
        if not jnp.issubdtype(x.dtype, jnp.floating):
            return x
        d = dead.reshape(dead.shape + (1,) * (x.ndim - dead.ndim))
        return jnp.where(d, jnp.nan, x)

    return jax.tree_util.tree_map(f, model)


@dataclass(frozen=True)
class _Setup:
    times: np.ndarray
    step_s: float
    grid: object
    timing: str
    radius_km: float
    merit_config: MeritConfig
    t_all: np.ndarray
    gmst_all: np.ndarray
    chunk_steps: int | None


def _setup(times, step_s, resolution_deg, earth_model, timing, radius_km, n_assets, chunk_steps) -> _Setup:
    times, step_s = _check_times(times, step_s)
    if timing not in ("exact", "sampled"):
        raise ValueError(f"timing must be 'exact' or 'sampled', got {timing!r}")
    grid = make_grid(resolution_deg, earth_model)
    t_all, gmst_all = _extended_samples(times, step_s)
    cfg = MeritConfig(n_assets=tuple(int(n) for n in n_assets), step_s=step_s)
    if chunk_steps is not None and (int(chunk_steps) != chunk_steps or chunk_steps < 1):
        raise ValueError(f"chunk_steps must be a positive integer, got {chunk_steps!r}")
    return _Setup(times, step_s, grid, timing, float(radius_km), cfg, t_all, gmst_all, chunk_steps)


def _run_batch(su: _Setup, model, offset_s, min_el_rad, real, r_max_km: float, min_mask_deg: float, band=None):
    """Cell figures of B designs: model leaves (B, S, ...), offset_s/min_el_rad/real (B, S).

    Returns a dict of (B, lat, lon) arrays (``percent_time_covered_n``: (B, n_assets, lat, lon))
    and the per-design (B,) count of failed (NaN) satellite-steps among the real satellites.
    """
    cfg = su.merit_config
    # A latitude band (as coverage(): analysis._reach_band) when every design's footprints stay in it.
    grid = _band_grid(su.grid, band)
    rows = _band_rows(su.grid, grid)
    b, s = real.shape
    exact = su.timing == "exact"
    n_rows, n_rows_swept, step_angle = _footprint_rows(r_max_km, min_mask_deg, grid, su.step_s, su.radius_km)
    layout = id_layout(s, bool(jax.config.jax_enable_x64)) if exact else None
    cell_bytes = (8 if layout.dtype == "int64" else 4) if exact else 2
    n_t = su.times.size
    steps = int(su.chunk_steps or default_chunk_steps(s, n_rows, grid, b, cell_bytes, exact))
    steps = min(steps, n_t)
    static = (("grid", grid), ("n_rows", n_rows), ("merit_config", cfg), ("radius_km", su.radius_km),
              ("deep_space", deep_space_needed(model)),  # any design of the batch
              ("timing", su.timing), ("layout", layout), ("capacity", EVENT_BATCH if exact else 0),
              ("n_rows_swept", n_rows_swept), ("step_angle", step_angle))
    area = jnp.asarray(grid.cell_area_fraction())
    cell = (1, grid.n_lat, grid.n_lon)
    state = jax.vmap(lambda _: merit_init(cell, cfg))(jnp.arange(b))
    timed = jax.vmap(lambda _: timed_init(cell))(jnp.arange(b)) if exact else None
    failed = []
    for start in range(0, n_t, steps):
        idx = np.minimum(np.arange(start, start + steps + 3), n_t + 2)
        valid = np.arange(start, start + steps) < n_t
        state, timed, fail, _ = _batch_chunk_stored(
            model, state, timed, offset_s, jnp.asarray(su.t_all[idx]), jnp.asarray(su.gmst_all[idx]),
            min_el_rad[:, None, :], jnp.asarray(valid), real, area, static=static)
        failed.append(fail)
    # Finalized one design at a time, with the very calls of coverage(): the same compiled
    # arithmetic, so the figures match to the bit (a vmapped finalize differs in the last ulp).
    per_design = []
    for i in range(b):
        state_i = jax.tree_util.tree_map(lambda x: x[i], state)
        timed_i = jax.tree_util.tree_map(lambda x: x[i], timed) if exact else None
        if rows is not None:
            state_i, timed_i, _ = _to_globe(rows, su.grid.n_lat, state_i, timed_i, None)
        figs = merit_finalize(state_i, cfg)
        if exact:
            figs.update(timed_finalize(timed_i))
        per_design.append({k: np.asarray(v[:, 0] if k == "percent_time_covered_n" else v[0]) for k, v in figs.items()})
    figures = {k: np.stack([f[k] for f in per_design]) for k in per_design[0]}
    return figures, np.sum([np.asarray(x) for x in failed], axis=0)


def _design_arrays(satellites, ref, min_elevation_deg):
    """(model, offset_s (sat,), min_el_deg (sat,)) of one design."""
    if min_elevation_deg is None:
        if not isinstance(satellites, Constellation):
            raise ValueError("min_elevation_deg is required for a satellite catalogue (e.g. 35 for Kuiper)")
        min_elevation_deg = satellites.min_elevation_deg
    masks = np.broadcast_to(np.asarray(min_elevation_deg, np.float64), (len(satellites),)).copy()
    if np.any(~np.isfinite(masks) | (masks < 0) | (masks >= 90)):
        raise ValueError("minimum elevations must lie in [0, 90) degrees")
    model, epochs = make_model(satellites, reference=ref)
    return model, time_offsets(epochs, ref), masks


def _pad_to(x, n: int, fill):
    x = jnp.asarray(x)
    return jnp.pad(x, [(0, n - x.shape[0])] + [(0, 0)] * (x.ndim - 1), constant_values=fill)


def _stack_batch(items, s_pad: int, batch_size: int):
    """Stack designs (model, offset, masks) padded to ``s_pad`` satellites and ``batch_size`` designs."""
    models, offsets, masks, reals = [], [], [], []
    for model, off, m in items:
        n = m.shape[0]
        models.append(jax.tree_util.tree_map(
            lambda x: _pad_to(x, s_pad, jnp.nan if jnp.issubdtype(x.dtype, jnp.floating) else 0), model))
        offsets.append(_pad_to(off, s_pad, 0.0))
        masks.append(_pad_to(np.radians(m), s_pad, 0.0))
        reals.append(jnp.arange(s_pad) < n)
    while len(models) < batch_size:  # filler designs: all satellites NaN, no events
        models.append(jax.tree_util.tree_map(
            lambda x: jnp.full_like(x, jnp.nan) if jnp.issubdtype(x.dtype, jnp.floating) else x, models[0]))
        offsets.append(offsets[0])
        masks.append(masks[0])
        reals.append(jnp.zeros(s_pad, bool))
    stack = lambda xs: jnp.stack(xs)  # noqa: E731
    return jax.tree_util.tree_map(lambda *xs: stack(xs), *models), stack(offsets), stack(masks), stack(reals)


# ---------------------------------------------------------------- reductions


def check_band(band_deg) -> None:
    """Refuse a latitude band ``(lo, hi)`` (degrees, both hemispheres) unless 0 <= lo < hi <= 90."""
    if band_deg is None:
        return
    try:
        lo, hi = (float(x) for x in band_deg)
    except (TypeError, ValueError):
        raise ValueError(f"band_deg must be two numbers (lo, hi), got {band_deg!r}") from None
    if not 0.0 <= lo < hi <= 90.0:
        raise ValueError(f"band_deg = ({lo:g}, {hi:g}): expected 0 <= lo < hi <= 90 degrees of latitude "
                         "(the band is taken in both hemispheres)")


def design_figures(cells: dict[str, np.ndarray], area_weight: np.ndarray, lat_deg: np.ndarray,
                   band_deg=None, latitude_profiles: bool = False) -> dict[str, np.ndarray]:
    """Per-design figures from per-cell figures (design, [n_assets,] lat, lon).

    Regions: ``global`` and, with ``band_deg=(lo, hi)``, ``band``: the cells whose
    centre latitude has ``lo <= |lat| <= hi`` (both hemispheres). For each region:

    - ``percent_time_covered_<r>``: area-weighted mean of the cells' percent of time covered;
    - ``percent_time_covered_n_<r>``: (design, n_assets), the same for N-asset coverage;
    - ``max_gap_<r>_s``: the longest gap of any cell covered at least once (NaN if none is);
    - ``mean_max_gap_<r>_s``: area-weighted mean of the cells' longest gap over the cells
      covered at least once;
    - ``mean_response_time_<r>_s``: area-weighted mean response time over all cells.

    Area weights are those of :func:`orbitjax.summaries.area_mean`, so the global
    percent equals ``summaries.area_mean(coverage(...).percent_time_covered)``.
    ``latitude_profiles`` adds ``percent_time_covered_lat`` (design, lat), the zonal mean.
    """
    w_row = np.asarray(area_weight, np.float64)
    ptc = cells["percent_time_covered"]
    n_lon = ptc.shape[-1]
    lat = np.asarray(lat_deg)
    regions = {"global": np.ones(lat.size, bool)}
    if band_deg is not None:
        lo, hi = (float(x) for x in band_deg)
        regions["band"] = (np.abs(lat) >= lo) & (np.abs(lat) <= hi)
    out = {}
    for name, rows in regions.items():
        w = np.broadcast_to((w_row * rows)[:, None], (lat.size, n_lon))
        den = w.sum()

        def mean(f, weight=w, d=den):
            return np.sum(f * weight, axis=(-2, -1)) / d

        covered = ptc > 0
        wc = w * covered
        out[f"percent_time_covered_{name}"] = mean(ptc)
        out[f"percent_time_covered_n_{name}"] = mean(cells["percent_time_covered_n"])
        gap = cells["max_gap_s"]
        with np.errstate(invalid="ignore", divide="ignore"):
            out[f"max_gap_{name}_s"] = np.where(
                np.any(covered & (w > 0), axis=(-2, -1)),
                np.max(np.where(covered & (w > 0), gap, -np.inf), axis=(-2, -1)), np.nan)
            out[f"mean_max_gap_{name}_s"] = np.sum(gap * wc, axis=(-2, -1)) / np.sum(wc, axis=(-2, -1))
        out[f"mean_response_time_{name}_s"] = mean(cells["mean_response_time_s"])
    if latitude_profiles:
        out["percent_time_covered_lat"] = np.mean(ptc, axis=-1)
    return out


# ---------------------------------------------------------------- public API


def _study_band(su: _Setup, designs, items) -> float | None:
    """The latitude band (deg) of :func:`orbitjax.analysis._reach_band` that holds every design; None: the globe."""
    if not su.grid.is_global:
        return None
    bands = [_reach_band(d, deep_space_needed(model), r_max, float(masks.min()), su.grid, su.radius_km)
             for d, (model, _, masks, r_max) in zip(designs, items)]
    return None if any(b is None for b in bands) else max(bands)


def _evaluate(su: _Setup, designs, batch_size: int, progress, desc: str, band=None):
    """Cell figures of every design (list of (model, offset, masks, r_max_km)), in input order; ``band``:
    the latitude (deg) every design's footprints stay within (see :func:`_study_band`), or None."""
    n = len(designs)
    order = sorted(range(n), key=lambda i: bucket_size(designs[i][2].shape[0]))
    results: list = [None] * n
    failed = np.zeros(n, np.int64)
    batches = []
    for s_pad, group in itertools.groupby(order, key=lambda i: bucket_size(designs[i][2].shape[0])):
        group = list(group)
        for k in range(0, len(group), batch_size):
            batches.append((s_pad, group[k:k + batch_size]))
    # Footprint sizes from the whole study (not per batch): one compilation per bucket.
    r_max = max(d[3] for d in designs)
    m_min = min(float(d[2].min()) for d in designs)
    with _progress(n, desc, progress) as bar:
        for s_pad, idx in batches:
            b = min(batch_size, n)
            model, off, masks, real = _stack_batch([designs[i][:3] for i in idx], s_pad, b)
            figs, fail = _run_batch(su, model, off, masks, real, r_max, m_min, band)
            for j, i in enumerate(idx):
                results[i] = {k: v[j] for k, v in figs.items()}
                failed[i] = fail[j]
            bar.update(len(idx))
    cells = {k: np.stack([r[k] for r in results]) for k in results[0]}
    return cells, failed


def study(
    designs,
    times,
    *,
    resolution_deg: float = 2.0,
    band_deg=None,
    n_assets: tuple[int, ...] = DEFAULT_N_ASSETS,
    min_elevation_deg=None,
    epoch=None,
    batch_size: int = 8,
    chunk_steps: int | None = None,
    step_s: float | None = None,
    earth_model: str = "wgs84",
    timing: str = "exact",
    radius_km: float = MEAN_RADIUS_KM,
    latitude_profiles: bool = False,
    cell_figures: bool = False,
    progress: bool | None = None,
):
    """Coverage figures of many designs, evaluated in batches inside one jitted call per time chunk.

    Args:
      designs: a Walker design table (dict of columns, see :func:`walker_table`,
        :func:`walker_grid`, :func:`walker_sample`), or a sequence of
        :class:`Constellation` / :class:`Satellites` (element tables, catalogues).
      times: regularly spaced UTC times, as for :func:`orbitjax.coverage`.
      resolution_deg: grid resolution (default 2 deg: studies rank designs).
      band_deg: optional ``(lo, hi)`` latitude band (both hemispheres) for the
        ``*_band`` figures, e.g. ``(40, 56)``.
      n_assets: N values of the N-asset coverage figure.
      min_elevation_deg: override of every design's minimum elevation (required for catalogues).
      epoch: epoch of the Walker patterns' angles (default ``times[0]``).
      batch_size: designs per jitted call (memory knob: a batch needs about
        ``batch_size`` times the chunk memory of one ``coverage()`` call, whose chunks
        are shortened to keep the total near 50 MB).
      chunk_steps: time steps per chunk (default from the sizes).
      step_s, earth_model, timing, radius_km: as for :func:`orbitjax.coverage`.
      latitude_profiles: add ``percent_time_covered_lat`` (design, lat).
      cell_figures: add the per-cell figures (design, lat, lon), those of
        ``coverage()`` on each design alone.
      progress: progress bar (default: when stderr is a terminal).

    Returns:
      xarray.Dataset with a ``design`` dimension: the figures of
      :func:`design_figures`, ``n_satellites``, and, for Walker tables, the
      design parameters as coordinates.
    """
    release_if_near_map_limit()  # a long-lived process must not die in XLA's JIT linker
    check_band(band_deg)
    su = _setup(times, step_s, resolution_deg, earth_model, timing, radius_km, n_assets, chunk_steps)
    if int(batch_size) != batch_size or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    params = None
    if isinstance(designs, dict):
        params = walker_table(**designs)
        designs = _walker_designs(params, su.times[0] if epoch is None else epoch)
    else:
        designs = list(designs)
        if not designs:
            raise ValueError("study: no designs given")
        for i, d in enumerate(designs):
            if not isinstance(d, (Constellation, Satellites)):
                raise ValueError(f"study: design {i} is a {type(d).__name__}, expected a Constellation or Satellites")
            if len(d) == 0:
                raise ValueError(f"study: design {i} has no satellites")
    kinds = {type(d) for d in designs}
    if len(kinds) > 1:
        raise ValueError("study: designs must all be Constellations or all Satellites catalogues")
    ref = su.times[0]
    items = []
    for d in designs:
        model, off, masks = _design_arrays(d, ref, min_elevation_deg)
        items.append((model, off, masks, max_radius_km(d)))
    cells, failed = _evaluate(su, items, int(batch_size), progress, f"{len(items)} designs",
                              _study_band(su, designs, items))
    figs = design_figures(cells, su.grid.cell_area_fraction(), su.grid.lat_deg, band_deg, latitude_profiles)
    from .io.study_dataset import study_dataset  # noqa: PLC0415

    n_sat = np.array([len(d) for d in designs])
    return study_dataset(
        dim="design", figures=figs, n_satellites=n_sat, params=params, n_assets=su.merit_config.n_assets,
        lat_deg=su.grid.lat_deg, lon_deg=su.grid.lon_deg, cells=cells if cell_figures else None,
        failed_steps=failed,
        attrs=_attrs(su, band_deg, designs[0]),
    )


def _attrs(su: _Setup, band_deg, example) -> dict:
    from .propagation import model_name  # noqa: PLC0415

    a = {
        "propagation_model": model_name(example),
        "earth_model_name": su.grid.earth_model,
        "timing": su.timing,
        "time_start": str(su.times[0]),
        "time_steps": int(su.times.size),
        "time_step_s": su.step_s,
        "grid_resolution_deg": su.grid.resolution_deg,
    }
    if band_deg is not None:
        a["band_deg"] = np.asarray(band_deg, np.float64)
    return a


def failure_masks(key, n_sat: int, n_draws: int, *, p_fail: float | None = None, k_fail: int | None = None):
    """(n_draws, n_sat) bool: which satellites fail in each draw.

    ``p_fail``: each satellite fails independently with this probability
    (``jax.random.bernoulli``); ``k_fail``: exactly ``k_fail`` distinct satellites per draw,
    uniformly (the first ``k_fail`` of a ``jax.random.permutation`` per draw).
    """
    if (p_fail is None) == (k_fail is None):
        raise ValueError("give exactly one of p_fail (probability per satellite) or k_fail (failures per draw)")
    if int(n_draws) != n_draws or n_draws < 1:
        raise ValueError(f"n_draws must be a positive integer, got {n_draws!r}")
    if p_fail is not None:
        if not 0.0 <= p_fail <= 1.0:
            raise ValueError(f"p_fail = {p_fail} must lie in [0, 1]")
        return np.asarray(jax.random.bernoulli(key, p_fail, (int(n_draws), int(n_sat))))
    if int(k_fail) != k_fail or not 0 <= k_fail <= n_sat:
        raise ValueError(f"k_fail must be an integer in 0..{n_sat}, got {k_fail!r}")
    keys = jax.random.split(key, int(n_draws))
    perm = jax.vmap(lambda k: jax.random.permutation(k, int(n_sat)))(keys)
    return np.asarray(jnp.zeros((int(n_draws), int(n_sat)), bool).at[jnp.arange(int(n_draws))[:, None],
                                                                       perm[:, :int(k_fail)]].set(True))


def failure_study(
    constellation,
    times,
    *,
    p_fail: float | None = None,
    k_fail: int | None = None,
    n_draws: int = 64,
    key=None,
    quantiles=(0.05, 0.25, 0.5, 0.75, 0.95),
    resolution_deg: float = 2.0,
    band_deg=None,
    n_assets: tuple[int, ...] = DEFAULT_N_ASSETS,
    min_elevation_deg=None,
    batch_size: int = 8,
    chunk_steps: int | None = None,
    step_s: float | None = None,
    earth_model: str = "wgs84",
    timing: str = "exact",
    radius_km: float = MEAN_RADIUS_KM,
    progress: bool | None = None,
):
    """Figures of one constellation under random satellite failures (a Monte Carlo over failure sets).

    Each draw removes a random set of satellites (:func:`failure_masks`: independently
    with probability ``p_fail``, or exactly ``k_fail`` per draw) by making them NaN
    satellites, and the draws run batched like :func:`study`'s designs. A draw's
    figures equal those of ``coverage()`` on the surviving satellites.

    Args:
      key: a JAX PRNG key (``jax.random.key(0)``) or an int seed; default seed 0.
      quantiles: quantiles reported for each figure (``<figure>_quantile``, dim ``quantile``).
      the others: as for :func:`study`.

    Returns:
      xarray.Dataset with a ``draw`` dimension (per-draw figures, ``n_failed``,
      ``failed`` (draw, sat)), the quantiles, and the no-failure figures
      (``<figure>_nominal``).
    """
    release_if_near_map_limit()  # a long-lived process must not die in XLA's JIT linker
    check_band(band_deg)
    su = _setup(times, step_s, resolution_deg, earth_model, timing, radius_km, n_assets, chunk_steps)
    if not isinstance(constellation, (Constellation, Satellites)):
        raise ValueError(f"failure_study: expected a Constellation or Satellites, got {type(constellation).__name__}")
    if key is None:
        key = 0
    if isinstance(key, (int, np.integer)):
        key = jax.random.key(int(key))
    n_sat = len(constellation)
    dead = failure_masks(key, n_sat, n_draws, p_fail=p_fail, k_fail=k_fail)
    model, off, masks = _design_arrays(constellation, su.times[0], min_elevation_deg)
    r_max = max_radius_km(constellation)
    # Draw 0 is the nominal constellation (no failure); then one design per draw.
    items = [(model, off, masks, r_max)]
    for d in dead:
        items.append((_nan_satellites(model, jnp.asarray(d)), off, masks, r_max))
    cells, failed = _evaluate(su, items, int(batch_size), progress, f"{n_draws} draws",
                              _study_band(su, [constellation], items[:1]))
    figs = design_figures(cells, su.grid.cell_area_fraction(), su.grid.lat_deg, band_deg)
    from .io.study_dataset import failure_dataset  # noqa: PLC0415

    return failure_dataset(figures=figs, failed=dead, sat_names=constellation.name, quantiles=quantiles,
                           n_assets=su.merit_config.n_assets,
                           attrs={**_attrs(su, band_deg, constellation), "n_satellites": n_sat,
                                  "p_fail": np.nan if p_fail is None else float(p_fail),
                                  "k_fail": -1 if k_fail is None else int(k_fail)})


def study_from_spec(path, *, batch_size: int | None = None, progress=None):
    """Run the study of a spec file (:mod:`orbitjax.io.study_spec`): the ``orbitjax study`` command."""
    from .io.study_spec import read_study_spec  # noqa: PLC0415
    from .timescales import as_datetime64, parse_duration_s  # noqa: PLC0415

    spec = read_study_spec(path)
    a, d = spec["analysis"], dict(spec["designs"])
    try:
        start = as_datetime64(a["start"])
    except ValueError:
        raise ValueError(f"{path}: [analysis] start {a['start']!r} is not a UTC date-time like 2025-10-15T00:00:00Z") from None
    duration = parse_duration_s(a["duration"])
    step = float(a["step_s"])
    if not step > 0:
        raise ValueError(f"{path}: [analysis] step_s must be positive, got {step}")
    n = max(1, int(np.floor(duration / step + 1e-9)))
    times = start + (np.arange(n) * step * 1e9).astype("timedelta64[ns]")
    mode = d.pop("mode")
    if mode == "grid":
        table = walker_grid(**d)
    else:
        n_designs, seed = d.pop("n"), d.pop("seed", 0)
        table = walker_sample(n_designs, jax.random.key(seed), **{k: tuple(v) if isinstance(v, list) else v
                                                                     for k, v in d.items()})
    return study(table, times, resolution_deg=float(a.get("resolution_deg", 2.0)), band_deg=a.get("band_deg"),
                 n_assets=tuple(a.get("n_assets", DEFAULT_N_ASSETS)),
                 batch_size=batch_size or int(a.get("batch_size", 8)), timing=a.get("timing", "exact"),
                 earth_model=a.get("earth_model", "wgs84"), progress=progress)
