"""Differentiable coverage: a relaxed (smooth) surrogate of the figures, and an optax optimiser.

The exact figures of :func:`orbitjax.coverage` are piecewise constant in the
design (a cell is in view or not), so their gradient is zero almost everywhere.
Following Kacker & Cahoy ("Differentiable Satellite Constellation Configuration
via Relaxed Coverage and Revisit Objectives", arXiv 2604.19062), every hard step
is replaced by a smooth one with a temperature:

- **soft visibility**: satellite ``s`` covers cell ``c`` at time ``t`` with
  probability ``sigmoid(m / T)``, where ``m`` is the elevation margin in degrees
  (``(sin el - sin eps) / cos eps``: elevation above the WGS84 ellipsoid normal
  minus the minimum elevation, to first order at the mask, with the exact sign)
  and ``T`` the temperature (degrees);
- **noisy-OR union** over satellites: ``u = 1 - prod_s (1 - sigmoid(m_s / T))
  = 1 - exp(-sum_s softplus(m_s / T))`` (stable in logs);
- **soft revisit gap**: a leaky integrator ``g_k = (g_{k-1} + dt) (1 - u_k)``
  grows through gaps and is reset by coverage; the longest gap of a cell is the
  LogSumExp ``T_g log sum_k exp(g_k / T_g)`` (``T_g`` in seconds), the worst cell a
  LogSumExp over cells.

As ``T, T_g -> 0`` the relaxed figures become the hard sampled figures at the
surrogate's sample times (``substeps`` per step of ``times``), which converge to
the event-timed figures of ``coverage()`` as the samples get denser
(``tests/test_design.py`` checks both). Positions are the Kepler + J2 kernel of
``coverage()`` (``orbitjax.kernels.kepler``), differentiable in the elements, and
the cells are ``coverage()``'s WGS84 cell centres and normals
(``orbitjax.kernels.events.cell_geometry``), optionally thinned in longitude
(``lon_stride``) to cut the cost.

Parameters (a dict pytree; :meth:`WalkerProblem.initial_params`): ``altitude_km``,
``inclination_deg``, ``raan_spread_deg`` (360 for a delta pattern), ``phasing``
(Walker F, continuous), and per-satellite offsets ``d_altitude_km``,
``d_inclination_deg``, ``d_raan_deg``, ``d_mean_anomaly_deg`` (sat,).

Cost: (samples x satellites x cells) margins, computed in time chunks under
``jax.checkpoint``, so memory is one chunk's margins (forward and backward).
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from .analysis import _check_times
from .constellation import Constellation, from_elements
from .kernels.earth import WGS84
from .kernels.events import cell_geometry
from .kernels.frames import gmst82, teme_to_ecef
from .kernels.grid import make_grid
from .kernels.kepler import KeplerElements, kepler_j2_positions
from .timescales import jd2_from_datetime64

CONTINUOUS = ("altitude_km", "inclination_deg", "raan_spread_deg", "phasing")
PER_SATELLITE = ("d_altitude_km", "d_inclination_deg", "d_raan_deg", "d_mean_anomaly_deg")


class WalkerProblem:
    """A Walker pattern with fixed T/P, relaxed figures over a window and a grid (or a latitude band).

    Args:
      planes, sats_per_plane: Walker P and T / P (fixed: integers are not differentiable).
      min_elevation_deg: minimum elevation.
      times: regularly spaced UTC times (the window of ``coverage()``); the pattern's
        epoch is ``times[0]``.
      resolution_deg, earth_model: the grid of ``coverage()``.
      band_deg: optional ``(lo, hi)``: only cells with ``lo <= |lat| <= hi`` count.
      lon_stride: keep every ``lon_stride``-th longitude (a cheaper surrogate; the exact
        re-scoring uses every cell).
      substeps: surrogate samples per step of ``times`` (denser samples approach the
        event-timed figures).
      chunk: samples per checkpointed chunk (memory knob).
      pattern, raan0_deg: as :func:`orbitjax.walker`.
    """

    def __init__(self, *, planes: int, sats_per_plane: int, min_elevation_deg: float, times,
                 resolution_deg: float = 2.0, earth_model: str = "wgs84", band_deg=None, lon_stride: int = 1,
                 substeps: int = 1, chunk: int = 32, pattern: str = "delta", raan0_deg: float = 0.0):
        for what, v in (("planes", planes), ("sats_per_plane", sats_per_plane), ("lon_stride", lon_stride),
                        ("substeps", substeps), ("chunk", chunk)):
            if int(v) != v or v < 1:
                raise ValueError(f"WalkerProblem: {what} must be a positive integer, got {v!r}")
        if pattern not in ("delta", "star"):
            raise ValueError(f"Walker pattern must be 'delta' or 'star', got {pattern!r}")
        if not 0 <= min_elevation_deg < 90:
            raise ValueError(f"min_elevation_deg = {min_elevation_deg} must lie in [0, 90)")
        self.times, self.step_s = _check_times(times, None if len(np.atleast_1d(times)) > 1 else 60.0)
        self.planes, self.sats_per_plane = int(planes), int(sats_per_plane)
        self.n_sat = self.planes * self.sats_per_plane
        self.min_elevation_deg = float(min_elevation_deg)
        self.pattern, self.raan0_deg = pattern, float(raan0_deg)
        self.grid = make_grid(resolution_deg, earth_model)
        self.band_deg = None if band_deg is None else tuple(float(x) for x in band_deg)
        self.lon_stride, self.substeps, self.chunk = int(lon_stride), int(substeps), int(chunk)

        lat = self.grid.lat_deg
        rows = np.ones(lat.size, bool) if band_deg is None else (
            (np.abs(lat) >= self.band_deg[0]) & (np.abs(lat) <= self.band_deg[1]))
        if not rows.any():
            raise ValueError(f"band_deg {band_deg} holds no grid row")
        cols = np.arange(0, self.grid.n_lon, self.lon_stride)
        point, normal = cell_geometry(self.grid, 6371.0088)
        self.rows, self.cols = np.flatnonzero(rows), cols
        self.points = jnp.asarray(point[self.rows][:, cols].reshape(-1, 3))
        self.normals = jnp.asarray(normal[self.rows][:, cols].reshape(-1, 3))
        self.cn = jnp.sum(self.points * self.normals, -1)  # c.n and |c|^2 per cell
        self.cc = jnp.sum(self.points * self.points, -1)
        w = np.broadcast_to(self.grid.cell_area_fraction()[self.rows][:, None], (self.rows.size, cols.size))
        self.weights = jnp.asarray(w.reshape(-1) / w.sum())

        # Samples: substeps per step over the window [t0, t0 + N step), padded to whole chunks.
        n = self.times.size * self.substeps
        self.n_samples = n
        dt = self.step_s / self.substeps
        n_pad = -n % self.chunk
        t = np.arange(n + n_pad) * dt
        ns = (t * 1e9).round().astype("int64").astype("timedelta64[ns]")
        self.t_s = jnp.asarray(t.reshape(-1, self.chunk))
        self.gmst = jnp.asarray(gmst82(*jd2_from_datetime64(self.times[0] + ns)).reshape(-1, self.chunk))
        self.valid = jnp.asarray((np.arange(n + n_pad) < n).reshape(-1, self.chunk))
        self.dt_s = dt
        j, k = np.divmod(np.arange(self.n_sat), self.sats_per_plane)
        self._plane, self._slot = jnp.asarray(j, float), jnp.asarray(k, float)

    # ------------------------------------------------------------ parameters

    def initial_params(self, *, altitude_km: float = 590.0, inclination_deg: float = 45.0, phasing: float = 1.0,
                       raan_spread_deg: float | None = None) -> dict:
        """Parameters of the nominal Walker pattern (per-satellite offsets zero)."""
        spread = (360.0 if self.pattern == "delta" else 180.0) if raan_spread_deg is None else raan_spread_deg
        z = jnp.zeros(self.n_sat)
        return {"altitude_km": jnp.asarray(float(altitude_km)), "inclination_deg": jnp.asarray(float(inclination_deg)),
                "raan_spread_deg": jnp.asarray(float(spread)), "phasing": jnp.asarray(float(phasing)),
                "d_altitude_km": z, "d_inclination_deg": z, "d_raan_deg": z, "d_mean_anomaly_deg": z}

    def elements(self, params) -> KeplerElements:
        """Mean elements (sat,) at ``times[0]``, differentiable in ``params``.

        As :func:`orbitjax.walker`: RAAN ``raan0 + j spread / P``, mean anomaly
        ``k 360 / S + j F 360 / T`` for plane ``j``, slot ``k``.
        """
        p = {k: jnp.asarray(v) for k, v in params.items()}
        z = jnp.zeros(self.n_sat)
        g = lambda k: p.get(k, z)  # noqa: E731
        a = WGS84.radius_eq_km + p["altitude_km"] + g("d_altitude_km")
        inc = jnp.radians(p["inclination_deg"] + g("d_inclination_deg"))
        raan = jnp.radians(self.raan0_deg + self._plane * p["raan_spread_deg"] / self.planes + g("d_raan_deg"))
        m = jnp.radians(self._slot * 360.0 / self.sats_per_plane + self._plane * p["phasing"] * 360.0 / self.n_sat
                        + g("d_mean_anomaly_deg"))
        return KeplerElements(a_km=a, e=jnp.zeros(self.n_sat), inc_rad=inc, raan_rad=raan,
                              argp_rad=jnp.zeros(self.n_sat), mean_anomaly_rad=m)

    def constellation(self, params) -> Constellation:
        """The design as a :class:`Constellation`, for exact scoring with ``coverage()`` / ``study()``."""
        el = jax.tree_util.tree_map(np.asarray, self.elements(params))
        return from_elements(a_km=el.a_km, e=el.e, inc_deg=np.degrees(el.inc_rad),
                             raan_deg=np.mod(np.degrees(el.raan_rad), 360.0), argp_deg=0.0,
                             mean_anomaly_deg=np.mod(np.degrees(el.mean_anomaly_rad), 360.0),
                             epoch=self.times[0], min_elevation_deg=self.min_elevation_deg, shell="design")

    # ------------------------------------------------------------ relaxed figures

    def relaxed(self, params, temperature: float, gap_temperature_s: float | None = None) -> dict:
        """Relaxed figures (scalars): ``percent_time_covered`` (area-weighted, percent),
        ``mean_max_gap_s`` (area-weighted mean of the cells' soft longest gap) and
        ``max_gap_s`` (soft worst cell).

        ``temperature``: degrees of elevation margin (> 0); ``gap_temperature_s``:
        seconds for the LogSumExp maxima (default ``temperature`` x 60 s).
        """
        tau = jnp.asarray(temperature)
        tau_g = tau * 60.0 if gap_temperature_s is None else jnp.asarray(gap_temperature_s)
        el = self.elements(params)
        sin_eps = np.sin(np.radians(self.min_elevation_deg))
        deg_per_sin = float(np.degrees(1.0) / np.cos(np.radians(self.min_elevation_deg)))
        n_cells = self.points.shape[0]

        @jax.checkpoint
        def chunk(carry, xs):
            t_s, gmst, valid = xs
            r = teme_to_ecef(kepler_j2_positions(el, jnp.broadcast_to(t_s, (self.n_sat, t_s.size))),
                             gmst[None, :])  # (sat, C, 3)
            # Elevation margin from two matmuls, never a (sat, C, cells, 3) array: with cell
            # centre c and unit normal n, up = r.n - c.n and |r - c|^2 = |r|^2 - 2 r.c + |c|^2.
            r2 = r.reshape(-1, 3)
            up = (r2 @ self.normals.T - self.cn[None, :])  # height above the horizon plane
            dist2 = jnp.sum(r2 * r2, -1)[:, None] - 2.0 * (r2 @ self.points.T) + self.cc[None, :]
            sin_el = up * jax.lax.rsqrt(jnp.maximum(dist2, 1e-6))
            # sin(el) - sin(eps) over cos(eps): the elevation margin to first order at the mask, in
            # degrees (same sign as el - eps, so the hard limit is the exact visibility test).
            margin_deg = ((sin_el - sin_eps) * deg_per_sin).reshape(self.n_sat, t_s.size, -1)
            s = jnp.sum(jax.nn.softplus(margin_deg / tau), axis=0)  # (C, cells)
            u = -jnp.expm1(-s)  # noisy-OR union: 1 - exp(-sum softplus)

            def step(c, x):
                cov, g, mx, acc = c
                u_k, v = x
                g_new = (g + self.dt_s) * (1.0 - u_k)
                # Running LogSumExp of g / tau_g (max-shifted, stable).
                m_new = jnp.maximum(mx, g_new / tau_g)
                acc_new = acc * jnp.exp(mx - m_new) + jnp.exp(g_new / tau_g - m_new)
                keep = lambda a, b: jnp.where(v, a, b)  # noqa: E731
                return (keep(cov + u_k, cov), keep(g_new, g), keep(m_new, mx), keep(acc_new, acc)), None

            carry, _ = jax.lax.scan(step, carry, (u, valid))
            return carry, None

        z = jnp.zeros(n_cells)
        init = (z, z, z, z)  # covered, open gap, LogSumExp shift and sum
        (cov, _, mx, acc), _ = jax.lax.scan(chunk, init, (self.t_s, self.gmst, self.valid))
        pct = 100.0 * cov / self.n_samples
        cell_gap = tau_g * (mx + jnp.log(acc))  # soft max over samples (>= the hard max)
        worst = tau_g * jax.nn.logsumexp(cell_gap / tau_g)
        return {"percent_time_covered": jnp.sum(self.weights * pct),
                "mean_max_gap_s": jnp.sum(self.weights * cell_gap),
                "max_gap_s": worst}


def relaxed_objective(params, problem: WalkerProblem, temperature: float, *, weights=None,
                      gap_temperature_s: float | None = None):
    """A scalar loss to minimise: ``sum_k weights[k] * relaxed[k]``.

    Default ``weights={"percent_time_covered": -1.0}`` (maximise the area-weighted
    percent of time covered, over the problem's band). Gap figures are in seconds,
    e.g. ``{"percent_time_covered": -1.0, "mean_max_gap_s": 1 / 60}``.
    """
    weights = {"percent_time_covered": -1.0} if weights is None else weights
    fig = problem.relaxed(params, temperature, gap_temperature_s)
    unknown = set(weights) - set(fig)
    if unknown:
        raise ValueError(f"relaxed_objective: unknown figure(s) {sorted(unknown)}; expected {sorted(fig)}")
    return sum(float(w) * fig[k] for k, w in weights.items())


def exact_figures(problem: WalkerProblem, params_list, *, batch_size: int = 8, progress=False):
    """Exact (event-timed) figures of designs, batched with :func:`orbitjax.study.study` on the full grid."""
    from .studies import study  # noqa: PLC0415

    designs = [problem.constellation(p) for p in params_list]
    return study(designs, problem.times, resolution_deg=problem.grid.resolution_deg, band_deg=problem.band_deg,
                 earth_model=problem.grid.earth_model, batch_size=batch_size, progress=progress)


def optimize(problem: WalkerProblem, params, *, vary=("inclination_deg",), steps: int = 40,
             learning_rate: float = 0.5, temperature=(2.0, 0.25), weights=None, bounds=None,
             rescore_every: int | None = None, batch_size: int = 8, progress=False):
    """Gradient optimisation of the relaxed objective with optax (Adam), re-scored exactly.

    Args:
      problem, params: a :class:`WalkerProblem` and starting parameters.
      vary: the parameters optimised (the others stay fixed).
      steps: gradient steps (each one ``jax.value_and_grad`` of the relaxed objective).
      learning_rate: Adam step size (in the parameters' units, e.g. degrees), or an optax
        schedule (e.g. ``optax.cosine_decay_schedule(2.0, steps, alpha=0.05)``).
      temperature: ``(start, end)``: annealed geometrically over the steps (or a scalar).
      weights: as :func:`relaxed_objective`.
      bounds: ``{name: (lo, hi)}`` box constraints, applied by projection after each step.
      rescore_every: also re-score every this many steps (default: only the final and the
        best-relaxed designs).
      batch_size: designs per batch of the exact re-scoring.

    Returns:
      dict: ``params`` (final), ``history`` (list of per-step dicts: step, temperature, loss,
      and the varied parameters), ``exact`` (xarray Dataset of the exact figures of the
      re-scored designs, with ``step`` as a coordinate), ``n_gradient_evaluations``.
    """
    try:
        import optax  # noqa: PLC0415 (the 'design' extra)
    except ImportError:
        raise ImportError('orbitjax.design.optimize needs optax: pip install "orbitjax[design]"') from None

    unknown = set(vary) - set(params)
    if unknown:
        raise ValueError(f"optimize: cannot vary {sorted(unknown)}; parameters are {sorted(params)}")
    t0, t1 = (temperature, temperature) if np.ndim(temperature) == 0 else temperature
    temps = t0 * (t1 / t0) ** (np.arange(steps) / max(steps - 1, 1))
    fixed = {k: v for k, v in params.items() if k not in vary}
    x = {k: jnp.asarray(params[k], float) for k in vary}
    bounds = bounds or {}

    @jax.jit
    def loss_and_grad(x, tau):
        return jax.value_and_grad(lambda x: relaxed_objective({**fixed, **x}, problem, tau, weights=weights))(x)

    opt = optax.adam(learning_rate)
    state = opt.init(x)
    history, snapshots = [], []
    for i in range(int(steps)):
        loss, g = loss_and_grad(x, temps[i])
        history.append({"step": i, "temperature": float(temps[i]), "loss": float(loss),
                        **{k: np.asarray(v).tolist() for k, v in x.items()}})
        if rescore_every and i % rescore_every == 0:
            snapshots.append((i, {**fixed, **x}))
        upd, state = opt.update(g, state, x)
        x = optax.apply_updates(x, upd)
        x = {k: jnp.clip(v, *bounds[k]) if k in bounds else v for k, v in x.items()}
    final = {**fixed, **x}
    snapshots.append((int(steps), final))
    exact = exact_figures(problem, [p for _, p in snapshots], batch_size=batch_size, progress=progress)
    exact = exact.assign_coords(step=("design", [s for s, _ in snapshots]))
    for k in vary:
        if np.ndim(params[k]) == 0:
            exact = exact.assign_coords({k: ("design", [float(p[k]) for _, p in snapshots])})
    return {"params": final, "history": history, "exact": exact, "n_gradient_evaluations": int(steps)}
