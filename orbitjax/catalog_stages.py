"""Stages from a real catalogue: satellites grouped by COSPAR launch, cumulated in launch order."""

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


def launch_stages(satellites: Satellites, *, stage_by: str = "launch"):
    """Cumulative stages of a catalogue: ``[(name, launches, date, Satellites), ...]``.

    ``stage_by='launch'`` groups by COSPAR launch (year + launch number) in launch
    order; stage k holds launches 1..k. Stages carry no date: a TLE holds no launch
    time, and its element epoch says nothing about launch order, so stages are
    ordered (and compared) by their index alone.
    ``stage_by='none'`` gives one stage with every satellite.
    """
    if stage_by == "none":
        return [("all", (), None, satellites)]
    if stage_by != "launch":
        raise ValueError(f"stage_by must be 'launch' or 'none', got {stage_by!r}")
    groups = group_by_launch(satellites)
    stages, taken = [], []
    for launch_id, idx in groups:
        taken.append(idx)
        members = np.sort(np.concatenate(taken))
        stages.append((launch_id, tuple(g for g, _ in groups[: len(taken)]), None, satellites[members]))
    return stages


def catalog_stages(scenario):
    """:class:`~orbitjax.scenario.Stage` list for a scenario with a ``[catalog]`` table."""
    from .scenario import Stage  # noqa: PLC0415 (scenario imports this module lazily)

    cat = scenario.catalog
    sats = read_catalog(cat["file"], strict=cat.get("strict", True))
    return [
        Stage(k, name, launches, date, members)
        for k, (name, launches, date, members) in enumerate(
            launch_stages(sats, stage_by=cat.get("stage_by", "launch")), start=1
        )
    ]
