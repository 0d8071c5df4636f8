"""Run a scenario block by block: on a Dask cluster or several devices, resumable, streamed to disk.

:func:`orbitjax.run` comes here when asked for workers, a scheduler, a client,
several devices or ``resume``. Per stage, the window is cut into blocks
(:mod:`orbitjax.blocks`); finished blocks arrive in any order, and the client

1. writes their rows (coverage fraction, raster, positions) into memory-mapped
   files of the checkpoint folder (:mod:`orbitjax.io.checkpoint`), so the raster
   is never held in memory whatever the window;
2. merges their partial summaries in the fixed tree of :class:`~orbitjax.blocks.TreeReducer`,
   storing the tree's nodes (the checkpoint a resumed run continues from);
3. after the last block, finalizes the figures and writes the stage's NetCDF file
   once, atomically, the raster streamed from disk chunk by chunk.

A run is identified by a hash of what determines its results (every stage's
inputs, options, block size, orbitjax version); ``resume`` refuses, in one line,
a checkpoint with another hash.
"""

from __future__ import annotations

import contextlib
import hashlib
from pathlib import Path

import numpy as np

from .analysis import _dataset, _plan, _progress, _Plan
from .blocks import TreeReducer, block_ranges, block_results, dask_client, merge_summaries
from .io.checkpoint import Checkpoint
from .kernels.merit import MeritState, TimedState
from .scenario import Scenario, Stage
from .stages import _check_failures, _log_lines, _stage_attrs, _stage_coordinate, coverage_kwargs


def plan_digest(plan: _Plan, *extra) -> str:
    """sha256 of everything that determines a stage's results (its plan) and ``extra`` strings."""
    import jax  # noqa: PLC0415

    from . import __version__  # noqa: PLC0415

    h = hashlib.sha256()
    arrays = (plan.area, plan.inside, plan.sun, plan.half_angle_deg, *jax.tree_util.tree_leaves(plan.limits))
    for value in (__version__, plan.times.astype("datetime64[ns]"), plan.per_sat, plan.masks, plan.offset_s,
                  plan.t_all, plan.gmst_all, plan.min_el, *jax.tree_util.tree_leaves(plan.model),
                  *(a for a in arrays if a is not None)):
        a = np.ascontiguousarray(np.asarray(value))
        h.update(f"{a.dtype}{a.shape}".encode())
        h.update(a.tobytes())
    static = (plan.step_s, plan.grid, plan.n_sat, plan.save_raster, plan.save_positions, plan.sweep, plan.deep,
              plan.n_rows, plan.n_rows_swept, plan.step_angle, plan.timing, plan.layout, plan.steps,
              plan.merit_config, plan.radius_km, plan.earth_model, plan.x64, sorted(plan.limits),
              plan.gateway_names, plan.region_attrs.get("region_name"), *extra)
    h.update(repr(static).encode())
    return h.hexdigest()


def _to_arrays(value) -> dict:
    """A node of the tree ((MeritState, TimedState | None), stats, failed) as named arrays."""
    (state, timed), stats, failed = value
    out = {f"m_{k}": np.asarray(v) for k, v in state._asdict().items()}
    if timed is not None:
        out.update({f"t_{k}": np.asarray(v) for k, v in timed._asdict().items()})
    out["stats"], out["failed"] = np.asarray(stats, np.int64), np.asarray(failed, np.int64)
    return out


def _from_arrays(arrays: dict):
    state = MeritState(**{k: arrays[f"m_{k}"] for k in MeritState._fields})
    timed = TimedState(**{k: arrays[f"t_{k}"] for k in TimedState._fields}) if "t_elapsed_s" in arrays else None
    return (state, timed), arrays["stats"], int(arrays["failed"])


def _merge_nodes(a, b):
    return merge_summaries(a[0], b[0]), a[1] + b[1], a[2] + b[2]


def _stage_blocks(plan: _Plan, stage: Stage, ckpt: Checkpoint, *, client, devices, block_steps, progress):
    """Compute a stage's missing blocks into the checkpoint; return (summary, stats, failed) and the rows."""
    ranges = block_ranges(plan, block_steps)
    n_t, n_sat, grid = plan.n_t, plan.n_sat, plan.grid
    k = stage.index
    rows = {"fraction": ckpt.rows(k, "fraction", (plan.masks.shape[0], n_t), np.float64)}
    if plan.save_raster:
        rows["raster"] = ckpt.rows(k, "raster", (n_t, grid.n_lat, grid.n_lon), np.int16)
    if plan.save_positions:
        rows["positions"] = ckpt.rows(k, "positions", (n_t, n_sat, 3), np.float32)
    if plan.gateway_names is not None:
        rows["usable"] = ckpt.rows(k, "usable", (n_t, n_sat), np.bool_)
    reducer = TreeReducer(len(ranges), _merge_nodes)
    nodes = {key: _from_arrays(v) for key, v in ckpt.load_nodes(k, reducer.blocks_of).items()}
    reducer.nodes.update(nodes)
    reducer.on_change = lambda key, value, removed: ckpt.save_node(k, key, _to_arrays(value), removed)
    done = reducer.done_blocks()
    todo = [(i, a, b) for i, (a, b) in enumerate(ranges) if i not in done]
    with _progress(n_t, f"{n_sat} sats", progress) as bar:
        bar.update(sum(b - a for i, (a, b) in enumerate(ranges) if i in done))
        for r in block_results(plan, todo, client=client, devices=devices):
            rows["fraction"][:, r.start:r.stop] = r.fraction
            if "raster" in rows:
                rows["raster"][r.start:r.stop] = r.raster
            if "positions" in rows:
                rows["positions"][r.start:r.stop] = r.positions
            if "usable" in rows:
                rows["usable"][r.start:r.stop] = r.usable
            for m in rows.values():
                m.flush()  # the rows are on disk before the node that covers them
            reducer.add(r.index, (r.summary, r.stats, r.failed))
            bar.update(r.stop - r.start)
    return reducer.result(), rows


def _lazy(rows: np.ndarray, steps: int):
    import dask.array as da  # noqa: PLC0415

    return da.from_array(rows, chunks=(steps,) + rows.shape[1:], asarray=True)


def run_blocks(scenario: Scenario, out_dir: Path, names: list[str], *, save_raster, elevation_sweep_deg, progress,
               on_stage, earth_model, timing, client, workers, devices, block_steps, resume, manifest) -> list[Path]:
    """The stage loop of :func:`orbitjax.run` by blocks (the caller holds the output lock)."""
    import dask  # noqa: PLC0415
    import sys  # noqa: PLC0415
    import time  # noqa: PLC0415

    from .io.netcdf import open_netcdf, write_netcdf  # noqa: PLC0415

    stages = scenario.stages()
    times = scenario.analysis.times
    plans = [_plan(stage.satellites, times,
                   **coverage_kwargs(scenario, stage, save_raster, elevation_sweep_deg, earth_model, timing))
             for stage in stages]
    run_hash = hashlib.sha256("".join(plan_digest(p, n, block_steps) for p, n in zip(plans, names)).encode())
    paths: list[Path] = []
    with contextlib.ExitStack() as stack:
        if client is not None or workers:  # connect first: an unreachable scheduler leaves nothing behind
            client = stack.enter_context(dask_client(client, workers=workers))
        ckpt = Checkpoint(out_dir, run_hash.hexdigest(), resume=resume)
        for stage, plan, name in zip(stages, plans, names):
            path = out_dir / name
            if ckpt.stage_done(name) and path.is_file():
                paths.append(path)
                manifest(paths)
                if on_stage is not None:
                    on_stage(stage, open_netcdf(path), path)
                continue
            t0 = time.perf_counter()
            if _log_lines(progress):
                print(f"orbitjax: stage {stage.index}/{len(stages)} {stage.name}: {plan.n_sat} satellites, "
                      f"{plan.n_t} steps in blocks ...", file=sys.stderr, flush=True)
            (summary, stats, failed), rows = _stage_blocks(plan, stage, ckpt, client=client, devices=devices,
                                                           block_steps=block_steps, progress=progress)
            raster = _lazy(rows["raster"], plan.steps) if "raster" in rows else None
            positions = _lazy(rows["positions"], plan.steps) if "positions" in rows else None
            usable = np.array(rows["usable"]) if "usable" in rows else None  # (time, sat) bool: small
            ds = _dataset(plan, stage.satellites, summary[0], summary[1], np.array(rows["fraction"]), raster,
                          positions, stats, failed, _stage_attrs(scenario, stage), usable=usable)
            _check_failures(scenario, stage, ds)
            ds = _stage_coordinate(ds, stage)
            with dask.config.set(scheduler="synchronous"):  # this process writes, chunk by chunk
                write_netcdf(ds, path)
            del rows, raster, positions
            ckpt.mark_stage_done(stage.index, name)
            paths.append(path)
            manifest(paths)
            if _log_lines(progress):
                print(f"orbitjax: stage {stage.index}/{len(stages)} {stage.name}: computed in "
                      f"{time.perf_counter() - t0:.1f} s", file=sys.stderr, flush=True)
            if on_stage is not None:
                on_stage(stage, ds, path)
    ckpt.remove()
    return paths
