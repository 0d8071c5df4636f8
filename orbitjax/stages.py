"""Run a scenario: one coverage Dataset per launch stage, one NetCDF file each.

Before any work :func:`run` checks the whole scenario, estimates the peak memory
(:mod:`orbitjax.memory`) and takes the output folder's lock (which also checks
that it can be written; :mod:`orbitjax.io.outdir`). Each stage file carries a
scalar coordinate ``stage`` so that the files of a run combine with
``xr.open_mfdataset("out/*.nc", combine="nested", concat_dim="stage")``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import sys
import time
import warnings
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from .scenario import DEFAULT_SCENARIO, Scenario, Stage, load_scenario


class PropagationWarning(UserWarning):
    """Some satellite-steps of a stage failed to propagate (SGP4 error codes); they count as not visible."""


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


def _stage_coordinate(ds, stage: Stage):
    """Add the scalar coordinate ``stage`` (the stage index) used to combine files along a new dimension."""
    ds = ds.assign_coords(stage=np.int32(stage.index))
    ds["stage"].attrs.update({"long_name": "launch stage index (1-based)", "units": "1"})
    return ds


def _log_lines(progress: bool | None) -> bool:
    """One line per stage on stderr: when progress bars are off because stderr is not a terminal."""
    return progress is None and not sys.stderr.isatty()


def stage_datasets(
    scenario: Scenario | str = DEFAULT_SCENARIO,
    *,
    save_raster: bool | None = None,
    elevation_sweep_deg=None,
    progress: bool | None = None,
    earth_model: str = "wgs84",
    timing: str = "exact",
) -> Iterator[tuple[Stage, "xarray.Dataset"]]:  # noqa: F821
    """Yield ``(stage, dataset)`` for every stage of a scenario, computing lazily.

    ``progress``: None shows progress bars on a terminal and, when stderr is not a
    terminal (batch jobs, logs), one line per stage on stderr; True always bars;
    False nothing.
    """
    from .analysis import coverage  # noqa: PLC0415 (JAX is imported only when work starts)

    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    a = scenario.analysis
    times = a.times
    stages = scenario.stages()
    for stage in stages:
        t0 = time.perf_counter()
        if _log_lines(progress):
            print(f"orbitjax: stage {stage.index}/{len(stages)} {stage.name}: {len(stage.satellites)} satellites, "
                  f"{times.size} steps ...", file=sys.stderr, flush=True)
        ds = coverage(stage.satellites, times, progress=progress, attrs=_stage_attrs(scenario, stage),
                      **coverage_kwargs(scenario, stage, save_raster, elevation_sweep_deg, earth_model, timing))
        if _log_lines(progress):
            print(f"orbitjax: stage {stage.index}/{len(stages)} {stage.name}: computed in "
                  f"{time.perf_counter() - t0:.1f} s", file=sys.stderr, flush=True)
        _check_failures(scenario, stage, ds)
        yield stage, _stage_coordinate(ds, stage)


def coverage_kwargs(scenario: Scenario, stage: Stage, save_raster, elevation_sweep_deg, earth_model, timing) -> dict:
    """The keyword arguments of :func:`orbitjax.coverage` for ``stage`` of ``scenario`` (but progress, attrs)."""
    a = scenario.analysis
    return dict(
        resolution_deg=a.resolution_deg,
        step_s=a.step_s,
        chunk_steps=a.chunk_steps,
        save_raster=scenario.save_raster if save_raster is None else save_raster,  # None: by size
        elevation_sweep_deg=elevation_sweep_deg,
        earth_model=earth_model,
        timing=timing,
        region=a.region,
        **(dict(scenario.catalog_coverage_kwargs()) if scenario.catalog else {}),
        **scenario.sensor_kwargs(stage.satellites),
    )


def _check_failures(scenario: Scenario, stage: Stage, ds) -> None:
    """Warn about failed satellite-steps; a stage in which every satellite failed at every step is an error."""
    failed = int(ds.attrs.get("failed_satellite_steps", 0))
    if failed == 0:
        return
    total = len(stage.satellites) * ds.sizes["time"]
    source = f" ({Path(scenario.catalog['file']).name})" if scenario.catalog else ""
    if failed >= total:
        raise ValueError(
            f"stage {stage.index} ({stage.name}){source}: every satellite failed to propagate at every step "
            "(SGP4 errors such as a decayed orbit or a mean motion out of range); nothing is visible, check the elements"
        )
    warnings.warn(
        f"stage {stage.index} ({stage.name}){source}: {failed:,} of {total:,} satellite-steps failed to propagate "
        "(SGP4 errors such as a decayed orbit); they count as not visible",
        PropagationWarning,
        stacklevel=2,
    )


def estimate_run_memory(
    scenario: Scenario,
    *,
    save_raster: bool | None = None,
    elevation_sweep_deg=None,
    max_memory: int | str | None = None,
    timing: str = "exact",
    held_output: bool = True,
) -> dict[str, int]:
    """Estimate the peak memory of the scenario's largest stage and refuse it if it does not fit.

    See :func:`orbitjax.memory.check_memory` (limit: ``max_memory``, else the memory available now).
    ``held_output``: each stage after the first computes while the previous stage's
    output (raster, positions) is still in memory, being written (:func:`run`).

    Raises:
      orbitjax.memory.MemoryLimitError (a ValueError) naming the knob that would fit.
    """
    from .analysis import STORE_LIMIT_BYTES, default_chunk_steps, padded_sat_count  # noqa: PLC0415
    from .constellation import Constellation  # noqa: PLC0415
    from .kernels.coverage import footprint_lat_span, rows_per_footprint  # noqa: PLC0415
    from .kernels.grid import make_grid  # noqa: PLC0415
    from . import accelerator_expected  # noqa: PLC0415
    from .memory import RunSize, check_memory, host_blocks  # noqa: PLC0415
    from .propagation import max_radius_km  # noqa: PLC0415

    a = scenario.analysis
    n_t = a.times.size
    grid = make_grid(a.resolution_deg) if a.region is None else a.region.grid(a.resolution_deg)
    n_masks = 1 if elevation_sweep_deg is None else len(np.atleast_1d(elevation_sweep_deg))
    raster = scenario.save_raster if save_raster is None else save_raster
    if raster is None:
        raster = n_t * grid.n_lat * grid.n_lon * 2 <= STORE_LIMIT_BYTES
    worst = None
    previous = None  # the previous stage's stored positions (satellites), held while its file is written
    for stage in scenario.stages():
        sats = stage.satellites
        n_sat = len(sats)
        if elevation_sweep_deg is not None:
            el = float(np.min(elevation_sweep_deg))
        elif isinstance(sats, Constellation):
            el = float(np.min(sats.min_elevation_deg))
        else:
            el = float(scenario.catalog.get("min_elevation_deg", 0.0))
        r_max = float(np.nanmax(np.atleast_1d(max_radius_km(sats))))
        lam = float(footprint_lat_span(r_max, np.radians(el))) if np.isfinite(r_max) else np.pi
        n_rows = rows_per_footprint(grid, max(lam, 0.0))
        n_pad = padded_sat_count(n_sat)
        exact = timing == "exact"
        steps = int(a.chunk_steps or default_chunk_steps(n_pad, n_rows, grid, n_masks, event_timing=exact))
        positions = n_t * n_sat * 12 <= STORE_LIMIT_BYTES
        held = held_output and previous is not None
        size = RunSize(n_sat=n_pad, n_times=n_t, resolution_deg=grid.resolution_deg, box=grid.box, n_masks=n_masks,
                       save_raster=bool(raster), save_positions=positions,
                       chunk_steps=min(steps, n_t), n_rows=n_rows, event_timing=exact,
                       held_raster=held, held_positions_n_sat=previous if held else 0)
        previous = n_sat if positions else 0
        size = dataclasses.replace(size, blocks_in_flight=host_blocks(size, cpu=not accelerator_expected()))
        est = check_memory(size, max_memory, what=f"stage {stage.index} ({stage.name})", n_satellites=n_sat)
        if worst is None or est["total"] > worst["total"]:
            worst = est
    return worst


def run(
    scenario: Scenario | str = DEFAULT_SCENARIO,
    out_dir: str | Path = "out",
    *,
    save_raster: bool | None = None,
    elevation_sweep_deg=None,
    progress: bool | None = None,
    on_stage=None,
    max_memory: int | str | None = None,
    earth_model: str = "wgs84",
    timing: str = "exact",
    workers: int | None = None,
    client=None,
    devices=None,
    block_steps: int | None = None,
    resume: bool = False,
) -> list[Path]:
    """Compute every stage of ``scenario`` and write one NetCDF file per stage.

    Args:
      scenario: a :class:`Scenario`, a bundled scenario name or a TOML path.
      out_dir: output directory (created if missing).
      save_raster: store ``visible_count``; default from the scenario / run length.
      elevation_sweep_deg: optional masks for a ``min_elevation`` sweep.
      progress: progress bars on a terminal, one line per stage on stderr otherwise
        (default); True always bars; False nothing.
      on_stage: optional callback ``on_stage(stage, dataset, path)`` after each write.
      max_memory: refuse runs estimated above this many bytes (or a size like '8GB');
        default: the memory available now.
      earth_model, timing: as in :func:`orbitjax.coverage` (WGS84 geodetic grid and
        event-timed figures by default; ``"sphere"`` / ``"sampled"`` reproduce orbitjax 0.1).
      workers: compute on a new ``distributed.LocalCluster`` of this many worker processes.
      client: a ``distributed.Client``, or a scheduler address (``tcp://host:8786``) to connect to.
      devices: JAX devices to spread blocks over (a count or a list; default one).
      block_steps: time steps per block (a multiple of the chunk; default one chunk).
      resume: continue a killed block run from its checkpoint (completed stages and
        blocks); refused, in one line, when the scenario or options changed.

    With any of the five (scale-out, :mod:`orbitjax.scaleout`), each stage is computed
    in blocks whose partial summaries are merged by a tree reduction, checkpointed in
    ``{out_dir}/.orbitjax_partial/`` (removed at the end), and its raster streamed to
    the file from disk. The files equal those of the default single-process run
    (integers and rasters identical, event-timed floats up to rounding).

    Before any work: the scenario is checked, the memory estimated
    (:func:`estimate_run_memory`), the folder's lock taken (refusing a concurrent
    writer; it also checks the folder can be written) and temporaries that killed
    runs left for this run's file names are removed. After each file, the run
    manifest ``orbitjax_run.json`` lists the files written so far (see
    :mod:`orbitjax.io.outdir`). Each stage's file is written by a second thread
    while the next stage computes; ``on_stage`` is called, in the calling thread and
    in stage order, once the file is whole and listed. A failed write raises once
    the next stage has computed; an error in a stage keeps the file before it whole
    and listed. Warns (:class:`PropagationWarning`) about failed satellite-steps; a
    stage where every satellite fails is a ValueError.

    Returns:
      The written paths, in stage order. Each file is written atomically.
    """
    from . import __version__  # noqa: PLC0415
    from .io.netcdf import write_netcdf  # noqa: PLC0415
    from .io.outdir import MANIFEST_NAME, OutputLock, remove_stale_temporaries, write_manifest  # noqa: PLC0415

    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise ValueError(f"output path {out_dir} exists and is not a directory")
    stages = scenario.stages()  # checks the whole scenario (and reads a catalogue) first
    from .constraints import check_sensor_kwargs  # noqa: PLC0415

    for stage in stages:  # cone limits per stage, before any work
        check_sensor_kwargs(stage.satellites, **scenario.sensor_kwargs(stage.satellites))
    scale_out = workers is not None or client is not None or devices is not None or block_steps is not None
    # By blocks the raster goes to disk, not to memory.
    estimate_run_memory(scenario, save_raster=False if scale_out or resume else save_raster,
                        elevation_sweep_deg=elevation_sweep_deg, max_memory=max_memory, timing=timing,
                        held_output=not (scale_out or resume))
    names = [stage_filename(scenario.output_prefix, stage) for stage in stages]
    paths: list[Path] = []
    info = {"scenario": scenario.name, "orbitjax_version": __version__, "stages": len(stages)}
    with OutputLock(out_dir):
        remove_stale_temporaries(out_dir, names + [MANIFEST_NAME])
        if scale_out or resume:
            from .scaleout import run_blocks  # noqa: PLC0415

            return run_blocks(
                scenario, out_dir, names, save_raster=save_raster, elevation_sweep_deg=elevation_sweep_deg,
                progress=progress, on_stage=on_stage, earth_model=earth_model, timing=timing, client=client,
                workers=workers, devices=devices, block_steps=block_steps,
                resume=resume,
                manifest=lambda done: write_manifest(out_dir, done, complete=len(done) == len(stages), **info))
        datasets = stage_datasets(scenario, save_raster=save_raster, elevation_sweep_deg=elevation_sweep_deg,
                                  progress=progress, earth_model=earth_model, timing=timing)

        def write(ds, path: Path) -> Path:
            """The writer thread's task: the file, then the manifest listing it (one worker: in stage order)."""
            paths.append(write_netcdf(ds, path))
            write_manifest(out_dir, paths, complete=len(paths) == len(stages), **info)
            return paths[-1]

        # Each stage's file is written by a second thread while the next stage computes: the
        # write is zlib and HDF5 in C, which release the GIL, so the compute hides it where the
        # cores are not all busy (a GPU run). A failed write is reported once the next stage is done.
        with ThreadPoolExecutor(1, thread_name_prefix="orbitjax-write") as writer:
            pending = None  # (stage, dataset, future) of the file being written
            try:
                for (stage, ds), name in zip(datasets, names):
                    if pending is not None:
                        _announce(pending, on_stage)
                    pending = (stage, ds, writer.submit(write, ds, out_dir / name))
                if pending is not None:
                    _announce(pending, on_stage)
            except BaseException as exc:
                _note_failed_write(exc, pending)
                raise
    return paths


def _announce(pending, on_stage) -> None:
    """Wait for a stage's file (raising its write's error), then call ``on_stage`` in this thread."""
    stage, ds, future = pending
    path = future.result()
    if on_stage is not None:
        on_stage(stage, ds, path)


def _note_failed_write(exc: BaseException, pending) -> None:
    """Add to ``exc`` the error of the write still pending when it was raised, if that write failed
    too (a stage that fails while the disk fills): both are reported. The file a write completes
    is listed in the manifest by the writer itself."""
    if pending is None:
        return
    try:
        error = pending[2].exception()  # waits for the write to end
    except KeyboardInterrupt:  # a second Ctrl-C: stop waiting here (the pool still waits)
        return
    if error is not None and error is not exc:
        exc.add_note(f"and writing the previous stage failed: {error}")
