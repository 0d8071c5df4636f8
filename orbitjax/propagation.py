"""Propagation glue: constellations and catalogues to kernel inputs and back.

Turns a :class:`~orbitjax.constellation.Constellation` (Kepler + J2) or a
:class:`~orbitjax.catalog.Satellites` catalogue (SGP4/SDP4) into a small pytree
"model" and evaluates Earth-fixed or TEME positions for a block of times.
Times reach the kernels as float64 seconds relative to a reference instant
(exact from integer nanoseconds) plus two-part Julian dates for sidereal time.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from .catalog import Satellites
from .constellation import Constellation
from .kernels import sgp4 as sgp4_kernel
from .kernels.earth import WGS84
from .kernels.frames import gmst82, teme_to_ecef, teme_to_ecef_rv
from .kernels.kepler import KeplerElements, j2_secular_rates, kepler_j2_positions, kepler_j2_states
from .timescales import as_datetime64, jd2_from_datetime64, seconds_since

_SGP4_EPOCH_JD_1950 = 2433281.5
INIT_BUCKET = 64


class KeplerModel(NamedTuple):
    """Kepler + J2 mean elements (radians, km) of a designed constellation."""

    elements: KeplerElements


class Sgp4Model(NamedTuple):
    """Initialised SGP4 constants of a catalogue (WGS72, opsmode 'i')."""

    params: sgp4_kernel.Sgp4Params


def model_name(satellites) -> str:
    """Human-readable propagation model, for file provenance."""
    if isinstance(satellites, Satellites):
        return "SGP4/SDP4 (AIAA 2006-6753), WGS72 gravity, opsmode 'i'; TEME -> PEF by GMST IAU-82"
    return "Kepler + J2 secular (WGS84 mu, Re, J2); inertial -> PEF by GMST IAU-82"


def make_model(satellites, reference=None):
    """(model pytree, epochs datetime64[ns] (sat,)) for a constellation or catalogue.

    With ``reference`` (a UTC time), Kepler + J2 elements are first moved to that
    epoch on the host in float64 (the secular rates are linear), so the device only
    sees times relative to it: float32 runs then keep sub-second time resolution
    whatever the elements' original epochs. SGP4 elements keep their epochs.
    """
    if isinstance(satellites, Constellation):
        c = satellites
        a, e, inc = c.a_km.astype(np.float64), c.e.astype(np.float64), np.radians(c.inc_deg)
        raan, argp, m = np.radians(c.raan_deg), np.radians(c.argp_deg), np.radians(c.mean_anomaly_deg)
        epochs = as_datetime64(c.epoch)
        if reference is not None:
            dt = time_offsets(epochs, reference)
            raan_dot, argp_dot, m_dot = j2_secular_rates(a, e, inc, WGS84)
            two_pi = 2.0 * np.pi
            raan = np.mod(raan + raan_dot * dt, two_pi)
            argp = np.mod(argp + argp_dot * dt, two_pi)
            m = np.mod(m + m_dot * dt, two_pi)
            epochs = np.full(len(c), as_datetime64(reference))
        elements = KeplerElements(*(jnp.asarray(x) for x in (a, e, inc, raan, argp, m)))
        return KeplerModel(elements), epochs
    if isinstance(satellites, Satellites):
        s = satellites
        n = len(s)
        # Pad to a bucket (repeating the last row) so catalogues of similar size share
        # one compilation of the initialiser; the padding is sliced off again.
        rows = np.minimum(np.arange(-(-n // INIT_BUCKET) * INIT_BUCKET), n - 1)
        params = sgp4_kernel.sgp4_init(
            epoch_days_1950=((s.epoch_jd - _SGP4_EPOCH_JD_1950) + s.epoch_jd_frac)[rows],
            bstar=s.bstar_per_er[rows],
            ndot=s.ndot_rad_min2[rows],
            nddot=s.nddot_rad_min3[rows],
            ecco=s.ecco[rows],
            argpo=s.argpo_rad[rows],
            inclo=s.inclo_rad[rows],
            mo=s.mo_rad[rows],
            no_kozai=s.no_kozai_rad_min[rows],
            nodeo=s.nodeo_rad[rows],
        )
        params = jax.tree_util.tree_map(lambda x: x[:n], params)
        return Sgp4Model(params), as_datetime64(s.epoch)
    raise TypeError(
        f"expected an orbitjax Constellation or Satellites catalogue, got {type(satellites).__name__}"
    )


def max_radius_km(satellites) -> float:
    """An upper bound of the satellites' distance from the Earth's centre (km)."""
    return float(np.max(radius_bound_km(satellites)))


def radius_bound_km(satellites) -> np.ndarray:
    """(sat,) upper bound of each satellite's distance from the Earth's centre (km)."""
    if isinstance(satellites, Constellation):
        return np.asarray(satellites.a_km * (1.0 + satellites.e), np.float64)
    # Kozai mean motion -> semi-major axis (WGS72 xke); +5 % for short-period terms and drag.
    xke, er = sgp4_kernel.WGS72.xke, sgp4_kernel.WGS72.radiusearthkm
    a_er = (xke / np.maximum(satellites.no_kozai_rad_min, 1e-6)) ** (2.0 / 3.0)
    return np.asarray(a_er * (1.0 + satellites.ecco) * er * 1.05, np.float64)


def time_offsets(epochs, reference) -> np.ndarray:
    """(sat,) seconds from each satellite's epoch to ``reference`` (exact ns arithmetic)."""
    ref = as_datetime64(reference).astype(np.int64)
    return (ref - as_datetime64(epochs).astype(np.int64)).astype(np.float64) / 1e9


_kepler_states = jax.jit(kepler_j2_states, static_argnames=("earth",))


def _inertial_states(model, dt_s, deep_space: bool = True):
    """Inertial positions/velocities (sat, time, 3) and error codes (sat, time).

    Not jitted itself: called eagerly, ``sgp4_propagate`` splits long time axes
    into cache-sized blocks; traced (inside a coverage chunk) it runs as one call.
    """
    if isinstance(model, KeplerModel):
        r, v = _kepler_states(model.elements, dt_s, WGS84)
        return r, v, jnp.zeros(dt_s.shape, jnp.int32)
    r, v, err = sgp4_kernel.sgp4_propagate(
        model.params, dt_s / 60.0, gravity=sgp4_kernel.WGS72, opsmode="i",
        deep_space=deep_space, dtype=dt_s.dtype,
    )
    bad = (err != 0)[..., None]
    return jnp.where(bad, jnp.nan, r), jnp.where(bad, jnp.nan, v), err


def ecef_positions(model, dt_s, gmst_rad, deep_space: bool = True):
    """Earth-fixed (PEF) positions (sat, time, 3) km; NaN where propagation failed.

    Args:
      model: from :func:`make_model`.
      dt_s: (sat, time) seconds since each satellite's epoch.
      gmst_rad: (time,) Greenwich mean sidereal time, computed on the host in
        float64 (``gmst82`` on NumPy two-part Julian dates).
    """
    if isinstance(model, KeplerModel):
        r = kepler_j2_positions(model.elements, dt_s, WGS84)
    else:
        r, _, _ = _inertial_states(model, dt_s, deep_space)
    return teme_to_ecef(r, jnp.asarray(gmst_rad, r.dtype)[None, :])


def deep_space_needed(model) -> bool:
    """Whether the SDP4 branch is needed (static flag for the SGP4 kernel)."""
    return isinstance(model, Sgp4Model) and bool(np.any(np.asarray(model.params.method_deep)))


def propagate_arrays(satellites, times, *, frame: str = "teme", max_block: int = 4_000_000):
    """Positions (sat, time, 3) km, velocities (sat, time, 3) km/s and error codes (sat, time).

    ``frame`` is 'teme' (inertial; for Kepler shells the true-equator frame their
    RAAN is measured in) or 'ecef' (pseudo-Earth-fixed). Work is split into time
    blocks of at most ``max_block`` satellite-epochs to bound device memory.
    """
    if frame not in ("teme", "ecef"):
        raise ValueError(f"frame must be 'teme' or 'ecef', got {frame!r}")
    times = np.atleast_1d(as_datetime64(times))
    model, epochs = make_model(satellites)
    deep = deep_space_needed(model)
    n_sat = len(satellites)
    block = max(1, max_block // max(n_sat, 1))
    r_out = np.empty((n_sat, times.size, 3))
    v_out = np.empty((n_sat, times.size, 3))
    e_out = np.empty((n_sat, times.size), np.int32)
    for start in range(0, times.size, block):
        t = times[start : start + block]
        dt_s = seconds_since(t[None, :], epochs[:, None])
        r, v, err = _inertial_states(model, jnp.asarray(dt_s), deep)
        if frame == "ecef":
            w, f = jd2_from_datetime64(t)
            r, v = teme_to_ecef_rv(r, v, jnp.asarray(gmst82(w, f))[None, :])
        sl = slice(start, start + t.size)
        r_out[:, sl], v_out[:, sl], e_out[:, sl] = np.asarray(r), np.asarray(v), np.asarray(err)
    return r_out, v_out, e_out


def propagate(satellites, times, *, frame: str = "teme"):
    """Propagate a catalogue (SGP4/SDP4) or a designed constellation (Kepler + J2).

    Args:
      satellites: :class:`~orbitjax.catalog.Satellites` (from ``read_tle``/``read_omm``)
        or a :class:`~orbitjax.constellation.Constellation`.
      times: absolute UTC times: numpy datetime64, ISO strings, datetimes, or
        anything pandas can parse.
      frame: 'teme' (default) or 'ecef'.

    Returns:
      xarray.Dataset with ``position_teme(sat, time, xyz)`` km,
      ``velocity_teme(sat, time, xyz)`` km/s (``_ecef`` with frame='ecef') and
      ``error_code(sat, time)``; failed states are NaN with a non-zero code.
    """
    from .io.dataset import propagation_dataset  # noqa: PLC0415 (keeps xarray out of the kernels' path)

    times = np.atleast_1d(as_datetime64(times))
    r, v, err = propagate_arrays(satellites, times, frame=frame)
    return propagation_dataset(
        times=times,
        sat_names=satellites.name,
        norad_id=getattr(satellites, "norad_id", None),
        position_km=r,
        velocity_km_s=v,
        error_code=err,
        frame=frame,
        attrs={"propagation_model": model_name(satellites)},
    )
