"""Catalogues of real satellites: SGP4 mean elements as read from TLE/OMM.

A :class:`Satellites` object holds one row per object, all fields numpy arrays of
shape (sat,). It contains no math and no parsing: readers live in
``orbitjax.io.tle`` and ``orbitjax.io.omm``; propagation in ``orbitjax.kernels.sgp4``.

Helpers here: :meth:`Satellites.from_elements` (build from designed mean elements,
e.g. before ``orbitjax.io.tle.format_tle``), :func:`concat_satellites` and
:func:`group_by_launch` (COSPAR launch groups).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields

import numpy as np

from .timescales import as_datetime64, jd2_from_datetime64


@dataclass(frozen=True, eq=False)
class Satellites:
    """SGP4 element sets, one per satellite (units as in the field names).

    Attributes:
      name: (sat,) str, object name ('' when the source has none).
      norad_id: (sat,) int64 NORAD catalogue number (Alpha-5 decoded, e.g. 'A0001' -> 100001).
      intl_designator: (sat,) str COSPAR designator as 'YYYY-NNNPPP' (e.g. '2025-153A'), '' if unknown.
      epoch: (sat,) datetime64[ns] UTC epoch of the elements.
      epoch_jd, epoch_jd_frac: (sat,) float64 two-part Julian date of the epoch (UTC),
        the same split python-sgp4 uses (jdsatepoch, jdsatepochF).
      no_kozai_rad_min: (sat,) Kozai mean motion in rad/min (TLE line 2 cols 53-63 converted).
      ecco: (sat,) eccentricity.
      inclo_rad, nodeo_rad, argpo_rad, mo_rad: (sat,) inclination, RAAN, argument of
        perigee, mean anomaly in radians.
      bstar_per_er: (sat,) B* drag term in 1/earth radii.
      ndot_rad_min2, nddot_rad_min3: (sat,) first/second derivative of mean motion
        divided by 2 and 6 as in the TLE, converted to rad/min^2 and rad/min^3.
      classification: (sat,) str 'U', 'C' or 'S'.
      element_set_no, rev_at_epoch: (sat,) int64.
    """

    name: np.ndarray
    norad_id: np.ndarray
    intl_designator: np.ndarray
    epoch: np.ndarray
    epoch_jd: np.ndarray
    epoch_jd_frac: np.ndarray
    no_kozai_rad_min: np.ndarray
    ecco: np.ndarray
    inclo_rad: np.ndarray
    nodeo_rad: np.ndarray
    argpo_rad: np.ndarray
    mo_rad: np.ndarray
    bstar_per_er: np.ndarray
    ndot_rad_min2: np.ndarray
    nddot_rad_min3: np.ndarray
    classification: np.ndarray
    element_set_no: np.ndarray
    rev_at_epoch: np.ndarray

    def __post_init__(self):
        n = None
        for f in fields(self):
            v = np.asarray(getattr(self, f.name))
            if v.ndim != 1:
                raise ValueError(f"Satellites.{f.name} must be 1-D (sat,), got shape {v.shape}")
            if n is None:
                n = v.shape[0]
            elif v.shape[0] != n:
                raise ValueError(
                    f"Satellites.{f.name} has {v.shape[0]} rows, expected {n} like the other fields"
                )
            object.__setattr__(self, f.name, v)

    @classmethod
    def from_records(cls, records: list[dict]) -> "Satellites":
        """A catalogue from per-object dicts keyed by the field names (as the readers build them).

        The epoch is given as ``epoch_ns`` (int nanoseconds since 1970, UTC); ``epoch_jd`` and
        ``epoch_jd_frac`` are taken from the records when present, else derived from it.
        """
        def col(key, dtype):
            return np.asarray([r[key] for r in records], dtype=dtype)

        epoch = col("epoch_ns", np.int64).astype("datetime64[ns]")
        if records and "epoch_jd" in records[0]:
            jd, jd_frac = col("epoch_jd", np.float64), col("epoch_jd_frac", np.float64)
        else:
            jd, jd_frac = jd2_from_datetime64(epoch)
        text = {"name", "intl_designator", "classification"}
        ints = {"norad_id", "element_set_no", "rev_at_epoch"}
        values = {
            f.name: col(f.name, str if f.name in text else np.int64 if f.name in ints else np.float64)
            for f in fields(cls)
            if f.name not in ("epoch", "epoch_jd", "epoch_jd_frac")
        }
        return cls(epoch=epoch, epoch_jd=jd, epoch_jd_frac=jd_frac, **values)

    def __len__(self) -> int:
        return int(self.norad_id.shape[0])

    def __getitem__(self, index) -> "Satellites":
        """Select satellites by integer index, slice or boolean mask."""
        return Satellites(**{f.name: np.atleast_1d(getattr(self, f.name)[index]) for f in fields(self)})

    def __repr__(self) -> str:
        return f"Satellites({len(self)} objects)"

    @classmethod
    def from_elements(
        cls,
        *,
        norad_id,
        epoch,
        no_kozai_rad_min,
        ecco,
        inclo_rad,
        nodeo_rad,
        argpo_rad,
        mo_rad,
        bstar_per_er=0.0,
        ndot_rad_min2=0.0,
        nddot_rad_min3=0.0,
        name="",
        intl_designator="",
        classification="U",
        element_set_no=999,
        rev_at_epoch=0,
    ) -> "Satellites":
        """Build a catalogue from SGP4 mean elements computed elsewhere (e.g. a Walker design).

        Every argument is a scalar or a (sat,) array; scalars are broadcast to the
        common length. Units are those of the field names (radians, rad/min, 1/earth radii).
        ``epoch`` is anything :func:`orbitjax.timescales.as_datetime64` accepts (UTC);
        the two-part Julian date fields are derived from it. Values are stored as given:
        representability in a TLE is checked by ``orbitjax.io.tle.format_tle``.

        Raises:
          ValueError: if the array arguments have different lengths.
        """
        given = dict(
            norad_id=norad_id, epoch=epoch, no_kozai_rad_min=no_kozai_rad_min, ecco=ecco,
            inclo_rad=inclo_rad, nodeo_rad=nodeo_rad, argpo_rad=argpo_rad, mo_rad=mo_rad,
            bstar_per_er=bstar_per_er, ndot_rad_min2=ndot_rad_min2, nddot_rad_min3=nddot_rad_min3,
            name=name, intl_designator=intl_designator, classification=classification,
            element_set_no=element_set_no, rev_at_epoch=rev_at_epoch,
        )
        dtypes = dict(
            norad_id=np.int64, element_set_no=np.int64, rev_at_epoch=np.int64,
            name=str, intl_designator=str, classification=str,
        )
        arrays = {}
        for key, value in given.items():
            if key == "epoch":
                arrays[key] = np.atleast_1d(as_datetime64(value))
            else:
                arrays[key] = np.atleast_1d(np.asarray(value, dtype=dtypes.get(key, np.float64)))
        lengths = {k: v.shape[0] for k, v in arrays.items() if v.shape[0] != 1}
        if len(set(lengths.values())) > 1:
            detail = ", ".join(f"{k}: {n}" for k, n in lengths.items())
            raise ValueError(f"Satellites.from_elements: arguments have different lengths ({detail})")
        n = next(iter(lengths.values()), 1)
        arrays = {k: np.broadcast_to(v, (n,)).copy() for k, v in arrays.items()}
        arrays["epoch_jd"], arrays["epoch_jd_frac"] = jd2_from_datetime64(arrays["epoch"])
        return cls(**arrays)


def concat_satellites(catalogues) -> Satellites:
    """Concatenate catalogues row-wise, in the order given (duplicates are kept).

    Raises:
      ValueError: if the sequence is empty.
    """
    catalogues = list(catalogues)
    if not catalogues:
        raise ValueError("concat_satellites needs at least one Satellites object, got an empty list")
    for i, c in enumerate(catalogues):
        if not isinstance(c, Satellites):
            raise TypeError(f"concat_satellites: item {i} is {type(c).__name__}, expected Satellites")
    return Satellites(
        **{f.name: np.concatenate([getattr(c, f.name) for c in catalogues]) for f in fields(Satellites)}
    )


_LAUNCH_RE = re.compile(r"^(\d{4})-(\d{3})[A-Z]{0,3}$")


def group_by_launch(satellites: Satellites, *, unknown: str | None = None) -> list[tuple[str, np.ndarray]]:
    """Group satellites by COSPAR launch ('2025-153' for designators '2025-153A', '2025-153BC').

    Returns:
      A list of ``(launch_id, indices)`` pairs ordered by launch (year, launch number);
      ``indices`` is an int64 array of row indices into ``satellites``, ascending.

    Satellites with no designator ('') raise a ValueError naming them, unless ``unknown``
    is a label: then they form one extra group with that label, placed last.

    Raises:
      ValueError: for missing designators (when ``unknown`` is None) or designators
        that are not 'YYYY-NNN' followed by up to three piece letters.
    """
    desig = np.asarray(satellites.intl_designator, dtype=str)
    missing = np.flatnonzero(np.char.str_len(np.char.strip(desig)) == 0)
    if missing.size and unknown is None:
        listed = ", ".join(
            f"{int(satellites.norad_id[i])} {str(satellites.name[i])!r}" for i in missing[:10]
        )
        more = f" and {missing.size - 10} more" if missing.size > 10 else ""
        raise ValueError(
            f"group_by_launch: {missing.size} satellite(s) have no international designator "
            f"(NORAD {listed}{more}); pass unknown='<label>' to group them separately"
        )
    keys = {}
    for i, d in enumerate(desig):
        d = d.strip()
        if not d:
            continue
        m = _LAUNCH_RE.match(d)
        if m is None:
            raise ValueError(
                f"group_by_launch: satellite {satellites.norad_id[i]} has international designator "
                f"{d!r}, expected 'YYYY-NNNP' like '2025-153A'"
            )
        keys.setdefault((int(m.group(1)), int(m.group(2))), []).append(i)
    groups = [
        (f"{year:04d}-{number:03d}", np.asarray(idx, dtype=np.int64))
        for (year, number), idx in sorted(keys.items())
    ]
    if missing.size:
        groups.append((unknown, missing.astype(np.int64)))
    return groups
