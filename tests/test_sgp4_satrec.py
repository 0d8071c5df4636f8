"""orbitjax SGP4 against python-sgp4's SatrecArray on random element sets, plus JAX properties.

Element sets are drawn (seeded) for LEO with drag, low-perigee LEO (isimp), MEO,
GEO (24 h resonance), Molniya (12 h resonance), GTO-like HEO and retrograde
orbits, initialised in python-sgp4 with ``Satrec.sgp4init`` from the very same
numbers, and propagated by both codes over -1 to +6 days. Tolerances are
physical: 1 mm in position, 1e-9 km/s in velocity (1e-6 mm/s).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

sgp4_api = pytest.importorskip("sgp4.api")
from sgp4.api import Satrec, SatrecArray  # noqa: E402

from orbitjax.kernels.sgp4 import (  # noqa: E402
    WGS72,
    WGS72OLD,
    WGS84,
    Sgp4Params,
    sgp4_init,
    sgp4_propagate,
)

POS_TOL_KM = 1e-6
VEL_TOL_KM_S = 1e-9
RE = 6378.135
XKE = WGS72.xke
SGP4_GRAV = {WGS72: sgp4_api.WGS72, WGS72OLD: sgp4_api.WGS72OLD, WGS84: sgp4_api.WGS84}


def _no_kozai(a_km):
    return XKE * (a_km / RE) ** -1.5


def random_elements(n_per_kind: int = 40, seed: int = 20240601) -> dict[str, np.ndarray]:
    """Random SGP4 element sets of several orbit families (angles rad, no rad/min)."""
    rng = np.random.default_rng(seed)
    rows = []

    def add(kind, a_km, ecc, inc_deg, bstar):
        n = len(a_km)
        rows.append(dict(
            kind=np.full(n, kind), no_kozai=_no_kozai(a_km), ecco=ecc, inclo=np.radians(inc_deg),
            bstar=bstar, argpo=rng.uniform(0, 2 * np.pi, n), mo=rng.uniform(0, 2 * np.pi, n),
            nodeo=rng.uniform(0, 2 * np.pi, n),
        ))  # fmt: skip

    k = n_per_kind
    add("leo", RE + rng.uniform(350, 1500, k), rng.uniform(0, 0.02, k), rng.uniform(0, 100, k),
        rng.uniform(-1e-4, 1e-3, k))  # fmt: skip
    # perigee 160-215 km: simplified drag model (isimp)
    rp = RE + rng.uniform(160, 215, k)
    e = rng.uniform(0.001, 0.05, k)
    add("low-perigee", rp / (1 - e), e, rng.uniform(20, 98, k), rng.uniform(1e-5, 2e-4, k))
    add("retrograde", RE + rng.uniform(500, 900, k), rng.uniform(0, 0.01, k), rng.uniform(95, 179.9, k),
        rng.uniform(0, 1e-4, k))  # fmt: skip
    add("meo", rng.uniform(25000, 29000, k), rng.uniform(0, 0.02, k), rng.uniform(50, 65, k),
        rng.uniform(0, 1e-5, k))  # fmt: skip
    add("geo", rng.uniform(42100, 42230, k), rng.uniform(0, 0.002, k), rng.uniform(0, 15, k),
        rng.uniform(0, 1e-5, k))  # fmt: skip
    add("molniya", rng.uniform(26400, 26700, k), rng.uniform(0.6, 0.74, k), rng.uniform(62, 65, k),
        rng.uniform(0, 1e-4, k))  # fmt: skip
    rp = RE + rng.uniform(250, 600, k)
    ra = RE + rng.uniform(35000, 36000, k)
    add("gto", (rp + ra) / 2, (ra - rp) / (ra + rp), rng.uniform(0, 30, k), rng.uniform(0, 1e-4, k))
    el = {key: np.concatenate([r[key] for r in rows]) for key in rows[0]}
    n = len(el["ecco"])
    el["epoch_days_1950"] = 27000.0 + rng.uniform(0, 1, n)  # 2023-12-04, epochs spread over a day
    el["ndot"] = np.zeros(n)
    el["nddot"] = np.zeros(n)
    return el


def _satrecs(el, gravity, opsmode):
    sats = []
    for i in range(len(el["ecco"])):
        s = Satrec()
        s.sgp4init(SGP4_GRAV[gravity], opsmode, i + 1, el["epoch_days_1950"][i], el["bstar"][i],
                   el["ndot"][i], el["nddot"][i], el["ecco"][i], el["argpo"][i], el["inclo"][i],
                   el["mo"][i], el["no_kozai"][i], el["nodeo"][i])  # fmt: skip
        sats.append(s)
    return sats


def _ours_init(el, gravity, opsmode):
    keys = ("epoch_days_1950", "bstar", "ndot", "nddot", "ecco", "argpo", "inclo", "mo", "no_kozai", "nodeo")
    return sgp4_init(**{k: el[k] for k in keys}, gravity=gravity, opsmode=opsmode)


def _compare(el, gravity=WGS72, opsmode="i", days=(-1.0, 6.0), ntime=57):
    sats = _satrecs(el, gravity, opsmode)
    params = _ours_init(el, gravity, opsmode)
    assert np.array_equal(np.asarray(params.error), [s.error for s in sats])
    assert np.array_equal(np.asarray(params.method_deep), [s.method == "d" for s in sats])
    jd0 = 2433281.5 + 27000.0
    jd = np.full(ntime, jd0)
    fr = np.linspace(days[0], days[1], ntime)
    e_ref, r_ref, v_ref = SatrecArray(sats).sgp4(jd, fr)
    sat_jd = np.array([s.jdsatepoch for s in sats])[:, None]
    sat_fr = np.array([s.jdsatepochF for s in sats])[:, None]
    tsince = (jd[None, :] - sat_jd) * 1440.0 + (fr[None, :] - sat_fr) * 1440.0
    r, v, e = sgp4_propagate(params, tsince, gravity=gravity, opsmode=opsmode)
    r, v, e = np.asarray(r), np.asarray(v), np.asarray(e)
    np.testing.assert_array_equal(e, e_ref)
    ok = (e == 0) | (e == 6)
    assert np.array_equal(np.isnan(r[..., 0]), np.isnan(r_ref[..., 0]))
    dr = np.abs(r - r_ref)[ok].max()
    dv = np.abs(v - v_ref)[ok].max()
    worst = np.unravel_index(np.argmax(np.where(ok, np.abs(r - r_ref).max(-1), 0)), ok.shape)
    print(f"worst: sat {worst[0]} ({el['kind'][worst[0]]}) t={tsince[worst]:.1f} min e={e[worst]} dr={dr:.2e} km dv={dv:.2e}")
    return dr, dv, e


@pytest.fixture(scope="module")
def elements():
    return random_elements()


def test_families_cover_all_branches(elements):
    params = _ours_init(elements, WGS72, "i")
    irez = np.asarray(params.irez)
    assert {0, 1, 2} <= set(irez.tolist())
    assert np.asarray(params.isimp).any() and (~np.asarray(params.isimp)).any()
    assert np.asarray(params.method_deep).sum() >= 150


@pytest.mark.parametrize("opsmode", ["i", "a"])
def test_matches_satrecarray_wgs72(elements, opsmode):
    dr, dv, e = _compare(elements, WGS72, opsmode)
    assert dr < POS_TOL_KM, dr
    assert dv < VEL_TOL_KM_S, dv


@pytest.mark.parametrize("gravity", [WGS84, WGS72OLD], ids=["wgs84", "wgs72old"])
def test_matches_satrecarray_other_gravity(elements, gravity):
    dr, dv, _ = _compare(elements, gravity, "i")
    assert dr < POS_TOL_KM and dv < VEL_TOL_KM_S, (dr, dv)


def test_gravity_model_changes_result(elements):
    params84 = _ours_init(elements, WGS84, "i")
    params72 = _ours_init(elements, WGS72, "i")
    t = jnp.linspace(-1440.0, 6 * 1440.0, 57)  # the shape of _compare's jobs: their compiles serve
    r84, _, _ = sgp4_propagate(params84, t, gravity=WGS84)
    r72, _, _ = sgp4_propagate(params72, t, gravity=WGS72)
    assert np.nanmax(np.abs(np.asarray(r84) - np.asarray(r72))) > 1e-3


def test_error_codes_on_bad_elements():
    """Decaying, hyperbolic-after-drag and sub-orbital sets give python-sgp4's codes."""
    el = random_elements(n_per_kind=2, seed=5)
    n = len(el["ecco"])
    el["bstar"] = np.where(np.arange(n) % 3 == 0, 0.05, el["bstar"])  # heavy drag: decay (6), e (1)
    el["ecco"][1] = 0.9999  # perigee inside the Earth
    dr, dv, e = _compare(el, WGS72, "i", days=(0.0, 30.0), ntime=31)
    assert set(np.unique(e).tolist()) - {0} != set()
    # Over 30 days the 12 h resonance integrator (Molniya) amplifies last-bit
    # differences to ~2 mm; the 1 mm budget above is for the -1..+6 day window.
    assert dr < 10 * POS_TOL_KM and dv < VEL_TOL_KM_S


def _few(elements, idx):
    return {k: v[idx] for k, v in elements.items()}


def test_jit_equals_eager(elements):
    idx = np.array([0, 45, 130, 170, 210, 250])  # leo, low-perigee, meo, geo, molniya, gto
    params = _ours_init(_few(elements, idx), WGS72, "i")
    t = jnp.linspace(-1440.0, 4320.0, 7)
    r_jit, v_jit, e_jit = sgp4_propagate(params, t)
    with jax.disable_jit():
        r_eag, v_eag, e_eag = sgp4_propagate(params, t)
    np.testing.assert_array_equal(np.asarray(e_jit), np.asarray(e_eag))
    np.testing.assert_allclose(np.asarray(r_jit), np.asarray(r_eag), rtol=0, atol=1e-9)
    np.testing.assert_allclose(np.asarray(v_jit), np.asarray(v_eag), rtol=0, atol=1e-12)


@pytest.mark.slow
def test_batch_equals_per_satellite_and_vmap(elements):
    idx = np.array([3, 50, 90, 125, 165, 205, 245])
    params = _ours_init(_few(elements, idx), WGS72, "i")
    t = jnp.asarray(np.linspace(0.0, 7 * 1440.0, 11))
    r_b, v_b, e_b = sgp4_propagate(params, t)
    for i in range(len(idx)):
        r_i, v_i, e_i = sgp4_propagate(params[i : i + 1], t)
        np.testing.assert_allclose(np.asarray(r_i)[0], np.asarray(r_b)[i], rtol=0, atol=1e-9)
        np.testing.assert_allclose(np.asarray(v_i)[0], np.asarray(v_b)[i], rtol=0, atol=1e-12)
        np.testing.assert_array_equal(np.asarray(e_i)[0], np.asarray(e_b)[i])

    # vmap over satellites of a one-satellite call (traced params -> both branches)
    def one(p, tt):
        p1 = Sgp4Params(*(x[None] for x in p))
        r, v, _ = sgp4_propagate(p1, tt)
        return r[0], v[0]

    r_v, v_v = jax.vmap(one, in_axes=(0, None))(params, t)
    np.testing.assert_allclose(np.asarray(r_v), np.asarray(r_b), rtol=0, atol=1e-9)
    np.testing.assert_allclose(np.asarray(v_v), np.asarray(v_b), rtol=0, atol=1e-12)


def test_time_shapes_and_deep_space_flag(elements):
    params = _ours_init(_few(elements, np.arange(0, 40)), WGS72, "i")  # LEO only
    assert not np.asarray(params.method_deep).any()
    t = np.linspace(0.0, 1440.0, 5)
    r1, _, _ = sgp4_propagate(params, t)
    r2, _, _ = sgp4_propagate(params, np.broadcast_to(t, (40, 5)), deep_space=True)
    assert r1.shape == (40, 5, 3)
    np.testing.assert_allclose(np.asarray(r1), np.asarray(r2), rtol=0, atol=1e-9)
    with pytest.raises(ValueError, match="tsince_min must have shape"):
        sgp4_propagate(params, np.zeros((3, 5)))
    with pytest.raises(ValueError, match="opsmode"):
        sgp4_propagate(params, t, opsmode="x")


# ------------------------------- float32 error budget -------------------------------

# Position error of the float32 kernel against float64, km (docs/sgp4.md), on
# integer-minute times (exact in float32). Measured maxima over 200 random
# satellites per family: LEO 138 m (1 d), 1034 m (7 d); GEO 125 m (1 d), 701 m (7 d).
# Bounds carry ~1.5x headroom.
F32_BOUNDS_KM = {("leo", 1): 0.2, ("leo", 7): 1.5, ("geo", 1): 0.2, ("geo", 7): 1.0}


@functools.lru_cache(maxsize=None)
def _float32_errors(kind):
    """{days: max |r_f32 - r_f64|} for 1 and 7 days, from one float64 and one float32 call."""
    el = random_elements(n_per_kind=200, seed=11)
    sel = el["kind"] == kind
    el = {k: v[sel] for k, v in el.items()}
    params = _ours_init(el, WGS72, "i")
    grids = {days: np.linspace(0.0, days * 1440.0, 97) for days in (1, 7)}
    t = np.concatenate(list(grids.values()))
    r64, _, e64 = sgp4_propagate(params, t)
    r32, _, e32 = sgp4_propagate(params, t.astype(np.float32), dtype=jnp.float32)
    ok = np.asarray(e64) == 0
    err = np.where(ok, np.linalg.norm(np.asarray(r32, np.float64) - np.asarray(r64), axis=-1), 0.0)
    return {1: float(err[:, :97].max()), 7: float(err[:, 97:].max())}


@pytest.mark.parametrize("kind,days", [("leo", 1), ("leo", 7), ("geo", 1), ("geo", 7)])
def test_float32_error_budget(kind, days):
    err = _float32_errors(kind)[days]
    print(f"float32 {kind} {days} d: max position error {err * 1e3:.1f} m")
    assert err < F32_BOUNDS_KM[(kind, days)], err


def test_time_blocks_and_groups_equal_one_call(elements):
    """Outside jit: (sat, time) blocks and near-earth/deep/resonant groups give identical results."""
    params = _ours_init(elements, WGS72, "i")
    t = jnp.linspace(-1440.0, 4 * 1440.0, 37)
    one = sgp4_propagate(params, t, block_points=None, split=False)
    # 5 x 280 points per block: several satellite and time blocks per group, the last ones padded
    blocked = sgp4_propagate(params, t, block_points=5 * params.ecco.shape[0], split=True)
    # Different compilations round differently in the last bit (mm-scale tolerances as above).
    np.testing.assert_allclose(np.asarray(blocked[0]), np.asarray(one[0]), rtol=0, atol=1e-9)
    np.testing.assert_allclose(np.asarray(blocked[1]), np.asarray(one[1]), rtol=0, atol=1e-12)
    np.testing.assert_array_equal(np.asarray(blocked[2]), np.asarray(one[2]))
    assert blocked[0].shape == one[0].shape


def _near_earth(el):
    near = np.flatnonzero(np.asarray(_ours_init(el, WGS72, "i").method_deep) == 0)
    return {k: np.asarray(v)[near] for k, v in el.items()}


def test_overlapping_blocks_of_one_group_match_satrecarray(elements):
    """An all-near-earth catalogue is written block by block straight into its result, the last
    satellite and time blocks moved back to overlap their neighbours: every state still matches
    the reference (5 x 13 sizes that no block divides evenly)."""
    el = _near_earth(elements)
    sats = _satrecs(el, WGS72, "i")
    params = _ours_init(el, WGS72, "i")
    jd = np.full(101, 2433281.5 + 27000.0)
    fr = np.linspace(-1.0, 3.0, 101)
    e_ref, r_ref, _ = SatrecArray(sats).sgp4(jd, fr)
    sat_jd = np.array([s.jdsatepoch for s in sats])[:, None]
    sat_fr = np.array([s.jdsatepochF for s in sats])[:, None]
    tsince = (jd[None, :] - sat_jd) * 1440.0 + (fr[None, :] - sat_fr) * 1440.0
    n = params.ecco.shape[0]
    assert n % 16 and 101 % 8  # neither axis a multiple of the block alignment
    fresh = sgp4_propagate(params, tsince, block_points=(n // 3) * 64)  # blocks (~n/3, 64)
    r, e = np.asarray(fresh[0]), np.asarray(fresh[2])
    np.testing.assert_array_equal(e, e_ref)
    ok = e_ref == 0
    assert np.abs(r - r_ref)[ok].max() < POS_TOL_KM
    # out=: the blocks are written straight into the donated arrays of an earlier result
    earlier = sgp4_propagate(params, tsince + 1.0, block_points=(n // 3) * 64)
    again = sgp4_propagate(params, tsince, block_points=(n // 3) * 64, out=earlier)
    for a, b in zip(fresh, again):
        np.testing.assert_array_equal(np.asarray(b), np.asarray(a))
    assert all(x.is_deleted() for x in earlier)


def test_out_buffers_receive_mixed_groups_in_catalogue_order(elements):
    """out= (an earlier result, donated) gives the very same states as a fresh call when the
    near-earth, deep and resonant groups are gathered back to the caller's order."""
    params = _ours_init(elements, WGS72, "i")
    t = jnp.linspace(-1440.0, 4 * 1440.0, 37)  # the configuration of the test above: its compiles serve
    kw = dict(block_points=5 * params.ecco.shape[0], split=True)
    fresh = [np.asarray(x) for x in sgp4_propagate(params, t, **kw)]
    earlier = sgp4_propagate(params, t + 1.0, **kw)
    again = sgp4_propagate(params, t, **kw, out=earlier)
    for a, b in zip(fresh, again):
        np.testing.assert_array_equal(np.asarray(b), a)
    assert all(x.is_deleted() for x in earlier)  # donated: their memory now holds `again`


def test_out_buffers_are_checked():
    el = _near_earth(random_elements())
    params = _ours_init(el, WGS72, "i")
    t = jnp.linspace(0.0, 100.0, 9)
    r, v, e = sgp4_propagate(params, t)
    with pytest.raises(ValueError, match=r"out r must be a jax array .*float64"):
        sgp4_propagate(params, t, out=(r.astype(jnp.float32), v, e))
    with pytest.raises(ValueError, match=r"out error_code must be a jax array"):
        sgp4_propagate(params, t, out=(r, v, np.asarray(e)))
    with pytest.raises(ValueError, match=r"out must be a tuple"):
        sgp4_propagate(params, t, out=r)
    with pytest.raises(ValueError, match=r"under jit"):
        jax.jit(lambda t: sgp4_propagate(params, t, out=(r, v, e)))(t)
    want = [np.array(x) for x in (r, v, e)]  # copies: a NumPy view would keep JAX from donating
    again = sgp4_propagate(params, t, out=(r, v, e))  # one padded call, gathered into out
    for a, b in zip(want, again):
        np.testing.assert_array_equal(np.asarray(b), a)
    with pytest.raises(ValueError, match=r"already donated"):
        sgp4_propagate(params, t, out=(r, v, e))


@pytest.mark.parametrize("shape", [(0, 5), (0,), (1, 0)])
def test_empty_catalogue_or_times_give_empty_states(shape):
    """No satellites or no times: empty (sat, time) states, not a division by zero in the blocking."""
    n = 0 if shape[0] == 0 else 1
    el = dict(epoch_days_1950=np.full(n, 25000.0), bstar=np.full(n, 1e-4), ndot=np.zeros(n), nddot=np.zeros(n),
              ecco=np.full(n, 0.001), argpo=np.zeros(n), inclo=np.full(n, 0.9), mo=np.zeros(n),
              no_kozai=np.full(n, 0.06), nodeo=np.zeros(n))
    params = sgp4_init(**el)
    t = np.zeros(shape) if len(shape) == 2 else np.zeros(5)
    r, v, e = sgp4_propagate(params, t)
    n_time = t.shape[-1]
    assert r.shape == (n, n_time, 3) and v.shape == (n, n_time, 3) and e.shape == (n, n_time)


def test_every_catalogue_size_shares_one_compiled_initialiser(elements, monkeypatch):
    """Outside jit, sgp4_init runs fixed blocks: 5, 9 and 23 element sets (the last in three
    blocks of 8 here) compile one initialiser, and the padding never leaks into the result
    (its fields have the caller's length and equal those of one block holding them all)."""
    from orbitjax.kernels import sgp4 as sgp4_kernel

    init = sgp4_kernel._sgp4_init_jit_cpu if jax.default_backend() == "cpu" else sgp4_kernel._sgp4_init_jit
    idx = np.arange(23) * 11  # every orbit family
    one_block = _ours_init(_few(elements, idx), WGS72, "i")  # the default block holds all 23
    monkeypatch.setattr(sgp4_kernel, "INIT_BLOCK", 8)
    before = init._cache_size()
    sets = {n: _ours_init(_few(elements, idx[:n]), WGS72, "i") for n in (5, 9, 23)}
    assert init._cache_size() - before <= 1
    for n, params in sets.items():
        assert all(x.shape == (n,) for x in params)
        for a, b in zip(params, one_block):
            np.testing.assert_array_equal(np.asarray(a), np.asarray(b)[:n])
