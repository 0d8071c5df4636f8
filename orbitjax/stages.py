"""Run a scenario: one coverage Dataset per launch stage, one NetCDF file each."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from .analysis import coverage
from .io.netcdf import write_netcdf
from .scenario import DEFAULT_SCENARIO, Scenario, Stage, load_scenario

def stage_filename(prefix: str, stage: Stage) -> str:
    """``{prefix}_stage{k}_{name}.nc`` with the name made file-system safe."""
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", stage.name).strip("_") or "stage"
    return f"{prefix}_stage{stage.index}_{safe}.nc"


def _stage_attrs(scenario: Scenario, stage: Stage) -> dict:
    from . import __version__  # noqa: PLC0415 (avoid an import cycle at module load)

    return {
        "title": f"orbitjax coverage: {scenario.name}, stage {stage.index} ({stage.name})",
        "source": "orbitjax",
        "scenario": scenario.name,
        "scenario_description": scenario.description,
        "scenario_file": Path(scenario.source).name if scenario.source else "",
        "stage": stage.index,
        "stage_name": stage.name,
        "stage_date": "" if stage.date is None else str(np.datetime_as_string(stage.date, unit="s")) + "Z",
        "launches_included": ",".join(stage.launches),
        "orbitjax_version": __version__,
        "history": f"{dt.datetime.now(dt.timezone.utc):%Y-%m-%dT%H:%M:%SZ} created by orbitjax {__version__}",
    }


def stage_datasets(
    scenario: Scenario | str = DEFAULT_SCENARIO,
    *,
    save_raster: bool | None = None,
    elevation_sweep_deg=None,
    progress: bool | None = None,
) -> Iterator[tuple[Stage, "xarray.Dataset"]]:  # noqa: F821
    """Yield ``(stage, dataset)`` for every stage of a scenario, computing lazily."""
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    raster = scenario.save_raster if save_raster is None else save_raster  # None: by size
    a = scenario.analysis
    times = a.times
    kwargs = dict(scenario.catalog_coverage_kwargs()) if scenario.catalog else {}
    for stage in scenario.stages():
        ds = coverage(
            stage.satellites,
            times,
            resolution_deg=a.resolution_deg,
            step_s=a.step_s,
            chunk_steps=a.chunk_steps,
            save_raster=raster,
            elevation_sweep_deg=elevation_sweep_deg,
            progress=progress,
            attrs=_stage_attrs(scenario, stage),
            **kwargs,
        )
        yield stage, ds


def run(
    scenario: Scenario | str = DEFAULT_SCENARIO,
    out_dir: str | Path = "out",
    *,
    save_raster: bool | None = None,
    elevation_sweep_deg=None,
    progress: bool | None = None,
    on_stage=None,
) -> list[Path]:
    """Compute every stage of ``scenario`` and write one NetCDF file per stage.

    Args:
      scenario: a :class:`Scenario`, a bundled scenario name or a TOML path.
      out_dir: output directory (created if missing).
      save_raster: store ``visible_count``; default from the scenario / run length.
      elevation_sweep_deg: optional masks for a ``min_elevation`` sweep.
      progress: progress bars (default: when stderr is a terminal).
      on_stage: optional callback ``on_stage(stage, dataset, path)`` after each write.

    Returns:
      The written paths, in stage order. Each file is written atomically.
    """
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise ValueError(f"output path {out_dir} exists and is not a directory")
    paths = []
    for stage, ds in stage_datasets(scenario, save_raster=save_raster, elevation_sweep_deg=elevation_sweep_deg, progress=progress):
        path = write_netcdf(ds, out_dir / stage_filename(scenario.output_prefix, stage))
        paths.append(path)
        if on_stage is not None:
            on_stage(stage, ds, path)
    return paths
