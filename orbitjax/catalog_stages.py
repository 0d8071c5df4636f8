"""Stages from a real catalogue: satellites grouped by COSPAR launch, cumulated in launch order.

Launch dates: a COSPAR international designator ``YYYY-NNNP`` holds the launch
year and the launch's sequence number within that year, not its day. Launch
order is therefore (year, number), exact. A stage's date is the launch's date
when the scenario's ``[[catalog.launches]]`` gives one, else 1 January 00:00 UTC
of the designator's year (a lower bound of the true date; equal dates in a year
keep the launch-number order, so the stage index stays the launch order).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .catalog import Satellites, group_by_launch
from .io.omm import read_omm
from .io.tle import read_tle

OMM_SUFFIXES = (".json", ".csv", ".xml")


def read_catalog(path: str | os.PathLike, *, strict: bool = True) -> Satellites:
    """Read a TLE file (any suffix but .json/.csv/.xml) or a CelesTrak/CCSDS OMM file."""
    path = Path(path)
    if path.suffix.lower() in OMM_SUFFIXES:
        return read_omm(path, strict=strict)
    return read_tle(path, strict=strict)


def designator_launch_date(launch_id: str) -> np.datetime64:
    """The date a COSPAR launch id 'YYYY-NNN' implies: 1 January 00:00 UTC of its year."""
    return np.datetime64(f"{int(launch_id[:4]):04d}-01-01T00:00:00", "ns")


def launch_stages(satellites: Satellites, *, stage_by: str = "launch", launches: dict | None = None):
    """Cumulative stages of a catalogue: ``[(name, launches, date, Satellites), ...]``.

    ``stage_by='launch'`` groups by COSPAR launch (year + launch number) in launch
    order; stage k holds launches 1..k. ``launches`` optionally maps a launch id
    ('2025-151') to ``(name, date or None)`` from the scenario's
    ``[[catalog.launches]]``; otherwise a stage is named by its launch id and dated
    by :func:`designator_launch_date` (the year only: see the module docstring).
    ``stage_by='none'`` gives one stage with every satellite and no date.
    """
    if stage_by == "none":
        return [("all", (), None, satellites)]
    if stage_by != "launch":
        raise ValueError(f"stage_by must be 'launch' or 'none', got {stage_by!r}")
    launches = launches or {}
    groups = group_by_launch(satellites)
    stages, taken = [], []
    for launch_id, idx in groups:
        taken.append(idx)
        members = np.sort(np.concatenate(taken))
        name, date = launches.get(launch_id, (launch_id, None))
        date = designator_launch_date(launch_id) if date is None else date
        stages.append((name, tuple(g for g, _ in groups[: len(taken)]), date, satellites[members]))
    return stages


def catalog_stages(scenario):
    """:class:`~orbitjax.scenario.Stage` list for a scenario with a ``[catalog]`` table."""
    from .scenario import Stage  # noqa: PLC0415 (scenario imports this module lazily)

    cat = scenario.catalog
    sats = read_catalog(cat["file"], strict=cat.get("strict", True))
    return [
        Stage(k, name, launches, date, members)
        for k, (name, launches, date, members) in enumerate(
            launch_stages(sats, stage_by=cat.get("stage_by", "launch"), launches=cat.get("launches")), start=1
        )
    ]
