"""Command-line interface: ``orbitjax run | compare | export-tle | scenarios``.

User errors (bad files, keys, values) print one line ``orbitjax: error: ...`` and
exit with status 2; nothing is written for them. ``--debug`` shows tracebacks.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from pathlib import Path

from .allocator import tune_allocator

EXIT_USAGE = 2

_EPILOG = """\
examples:
  orbitjax run                                  # bundled Kuiper Falcon 9 scenario -> ./out
  orbitjax run data/kuiper_falcon9.toml --duration 6h --step 30 --resolution 0.5
  orbitjax run --tle kuiper.tle --stage-by launch --min-elevation 35
  orbitjax run --workers 4                      # time blocks on a Dask LocalCluster; --resume after a kill
  orbitjax run imaging.toml --half-angle 30 --sun-elevation-min 10 --gateways gateways.csv
  orbitjax compare out                          # table + out/compare.png
  orbitjax export-tle kuiper_falcon9 --out kuiper.tle
"""


class _Parser(argparse.ArgumentParser):
    """argparse with one-line usage errors (exit status 2), like every other user error."""

    def error(self, message):
        self.exit(EXIT_USAGE, f"orbitjax: error: {message} (see '{self.prog} --help')\n")


def _parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="orbitjax",
        description="Constellation coverage, launch stage by launch stage, on GPU or CPU (JAX).",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--version", action="store_true", help="print the version and exit")
    p.add_argument("--debug", action="store_true", help="show full tracebacks for errors")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    r = sub.add_parser(
        "run",
        help="compute coverage for every stage of a scenario and write one NetCDF file per stage",
        description=(
            "Compute, for every launch stage of SCENARIO, the number of satellites above the minimum "
            "elevation for every time step and grid cell, the figures of merit, and write "
            "{prefix}_stage{k}_{name}.nc into --out (plus orbitjax_run.json, the list of the run's files). "
            "Prints a per-stage summary table. SCENARIO is a bundled scenario or preset "
            "(see 'orbitjax scenarios') or a TOML file."
        ),
    )
    r.add_argument("scenario", nargs="?", default="kuiper_falcon9",
                   help="bundled scenario or preset name, or path to a scenario TOML file (default: kuiper_falcon9)")
    r.add_argument("--out", help="output directory (default: the scenario's [output] directory, else ./out)")
    r.add_argument("--start", help="analysis start, UTC ISO 8601, e.g. 2025-10-15T00:00:00Z, or 'now' "
                   "(default: the scenario's [analysis] start)")
    r.add_argument("--duration", help="analysis duration: seconds or a number with s/min/h/d, e.g. 6h, 1d (default: the scenario's)")
    r.add_argument("--step", type=float, metavar="SECONDS", help="time step in seconds (default: the scenario's step_s)")
    r.add_argument("--resolution", type=float, metavar="DEG", help="grid resolution in degrees, must divide 180 (default: the scenario's resolution_deg)")
    r.add_argument("--chunk-steps", type=int, metavar="N",
                   help="time steps per chunk (memory knob; default: from the sizes, about 50 MB per chunk)")
    r.add_argument("--max-memory", metavar="SIZE",
                   help="refuse runs estimated to need more memory than this, e.g. 8GB or 512MiB "
                        "(default: the memory available when the run starts)")
    r.add_argument("--tle", metavar="FILE", help="take the satellites from a TLE or OMM (.json/.csv/.xml) file")
    r.add_argument("--stage-by", choices=["launch", "none"],
                   help="with --tle: cumulative stages by COSPAR launch, in launch order (default: launch), "
                        "or one stage (none)")
    r.add_argument("--min-elevation", type=float, metavar="DEG",
                   help="with --tle: minimum elevation in degrees (default: the scenario's shells' value)")
    r.add_argument("--earth-model", choices=["wgs84", "sphere"], default="wgs84",
                   help="wgs84: geodetic grid latitudes, elevation from the ellipsoid normal (as STK, TAT-C); "
                        "sphere: geocentric latitudes on a 6371.0088 km sphere (default: %(default)s)")
    r.add_argument("--timing", choices=["exact", "sampled"], default="exact",
                   help="exact: coverage starts/ends timed inside each step, gaps shorter than a step found; "
                        "sampled: each sample stands for its whole step (default: %(default)s)")
    target = r.add_mutually_exclusive_group()
    target.add_argument("--region", metavar="NAME|FILE",
                        help="analyse a country (Natural Earth name or ISO code, e.g. France, FRA, DE) or the "
                             "polygons of a GeoJSON/shapefile: its bounding box, cells weighted by their area "
                             "inside (default: the scenario's [target], else the globe)")
    target.add_argument("--region-box", metavar="S,N,W,E",
                        help="analyse a lat/lon box in degrees, e.g. 24,50,-125,-66, or --region-box=-20,10,170,-170 "
                             "(across the antimeridian; '=' when it starts with a minus); --resolution must divide "
                             "it, down to 0.01")
    r.add_argument("--elevation-sweep", metavar="DEG,DEG,...",
                   help="also compute the figures of merit for these elevation masks (min_elevation dimension)")
    r.add_argument("--half-angle", type=float, metavar="DEG",
                   help="nadir-pointing cone sensor of this half-angle on every satellite, limited by the "
                        "elevation mask (default: the shells' half_angle_deg; none)")
    r.add_argument("--sun-elevation-min", type=float, metavar="DEG",
                   help="daylight: cells count as covered only while the Sun is at least this high "
                        "(default: the scenario's [target] sun_elevation_min_deg; none)")
    r.add_argument("--gateways", metavar="FILE",
                   help="bent-pipe gateways, CSV name,lat,lon[,alt_m] or GeoJSON points: a satellite serves "
                        "cells only while a gateway sees it (replaces the scenario's [[gateways]])")
    r.add_argument("--gateway-min-elevation", type=float, metavar="DEG",
                   help="minimum elevation of the gateways (default: the scenario's, else 10)")
    raster = r.add_mutually_exclusive_group()
    raster.add_argument("--save-raster", dest="save_raster", action="store_true", default=None,
                        help="store visible_count(time, lat, lon) even when it is larger than 256 MiB "
                             "(without either option: stored when it is at most 256 MiB, or as the scenario's "
                             "[output] save_raster says)")
    raster.add_argument("--no-save-raster", dest="save_raster", action="store_false",
                        help="never store visible_count; the figures of merit are identical")
    cluster = r.add_mutually_exclusive_group()
    cluster.add_argument("--workers", type=int, metavar="N",
                         help="compute on a Dask LocalCluster of N worker processes (time blocks as tasks)")
    cluster.add_argument("--scheduler", metavar="ADDRESS",
                         help="compute on an existing Dask cluster, e.g. tcp://10.0.0.5:8786")
    r.add_argument("--block-steps", type=int, metavar="N",
                   help="time steps per task with --workers/--scheduler/--resume (default: one chunk)")
    r.add_argument("--resume", action="store_true",
                   help="continue a killed run in --out from its completed stages and blocks "
                        "(refused when the scenario or options changed)")
    r.add_argument("--quiet", action="store_true",
                   help="no progress output (default: progress bars on a terminal, one line per stage otherwise)")

    c = sub.add_parser(
        "compare", help="compare the stage files of a run: table and plot",
        description=(
            "Read the stage files of one run (the files listed in DIRECTORY/orbitjax_run.json, else every "
            "stage *.nc file), print one row of figures of merit per stage in launch order and plot them. "
            "The plot needs matplotlib: pip install \"orbitjax[plot]\"; without it only the table is printed."
        ),
    )
    c.add_argument("directory", help="directory with the stage NetCDF files of one run")
    c.add_argument("--plot", metavar="PNG", help="PNG to write (default: DIRECTORY/compare.png)")
    c.add_argument("--region", action="append", metavar="NAME|FILE|S,N,W,E",
                   help="also print per-region figures of every stage for this country (name or ISO code), "
                        "polygon file or box; repeat for several regions")

    e = sub.add_parser(
        "export-tle", help="write TLEs (mean elements, valid checksums) for a scenario's satellites",
        description=(
            "Write SGP4 two-line element sets of a designed stage's satellites. NORAD catalogue numbers "
            "count up from --first-norad-id; COSPAR designators are placeholders YYYY-9NNP: one launch "
            "number from 901 up per launch, then per shell for the full-constellation stage."
        ),
    )
    e.add_argument("scenario", nargs="?", default="kuiper_falcon9",
                   help="bundled scenario name or TOML path (default: kuiper_falcon9)")
    e.add_argument("--stage", type=int, help="stage number to export (default: the last stage)")
    e.add_argument("--out", help="TLE file to write (default: standard output)")
    e.add_argument("--first-norad-id", type=int, default=90000,
                   help="catalogue number of the first satellite (default: 90000)")

    _add_study_parser(sub)
    sub.add_parser("scenarios", help="list the bundled scenarios and presets",
                   description="List the bundled scenarios (launch stages) and constellation presets; "
                               "each name runs with 'orbitjax run NAME'.")
    _add_access_parser(sub)
    return p


def _add_study_parser(sub) -> None:
    s = sub.add_parser(
        "study", help="coverage figures of many Walker designs (a grid or a random sample) -> one NetCDF file",
        description="Evaluate the Walker designs of SPEC (a TOML file with [analysis] and [designs]; see "
                    "docs/design_studies.md) in batches and write their figures (design dimension) to --out.",
    )
    s.add_argument("spec", help="study spec TOML file")
    s.add_argument("--out", default="study.nc", help="output NetCDF file (default: %(default)s)")
    s.add_argument("--batch-size", type=int, metavar="N", help="designs per batch (memory knob; default: the spec's, else 8)")
    s.add_argument("--quiet", action="store_true", help="no progress bar")


def _duration_text(seconds: float) -> str:
    """'24 h', '20 min', '90 s': the largest unit that divides the duration, for the run's banner."""
    for unit, q in (("h", 3600.0), ("min", 60.0)):
        if seconds >= q and float(seconds / q).is_integer():
            return f"{seconds / q:g} {unit}"
    return f"{seconds:g} s"


def _output_file(path, option: str) -> Path:
    """``path`` as an output file of ``option``, checked before any work: not a folder, and its
    folder (created if missing) not a file and writable."""
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"{option} {path}: is a folder; expected a file name")
    parent = next((p for p in (path.parent, *path.parent.parents) if p.exists()), Path("."))
    if not parent.is_dir():
        raise ValueError(f"{option} {path}: {parent} is not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ValueError(f"{option} {path}: the folder {parent} cannot be written")
    return path


def _cmd_study(args) -> int:
    import numpy as np  # noqa: PLC0415 (fast --help)

    from .io.netcdf import write_netcdf
    from .studies import study_from_spec

    _output_file(args.out, "--out")
    t0 = time.perf_counter()
    ds = study_from_spec(args.spec, batch_size=args.batch_size, progress=False if args.quiet else None)
    path = write_netcdf(ds, args.out)
    print(f"orbitjax: {ds.sizes['design']} designs in {time.perf_counter() - t0:.1f} s -> {path}", file=sys.stderr)
    key = "percent_time_covered_band" if "percent_time_covered_band" in ds else "percent_time_covered_global"
    best = int(np.nanargmax(ds[key].values))
    print(f"best {key}: design {best} ({float(ds[key][best]):.2f} %, {int(ds.n_satellites[best])} satellites)")
    return 0


def _add_access_parser(sub) -> None:
    """``orbitjax access``: pass table (CSV) and per-site figures (NetCDF) for ground sites."""
    a = sub.add_parser(
        "access", help="list every pass of every satellite over ground sites (CSV) and per-site figures (NetCDF)",
        description=(
            "For every site and satellite, find every pass above the minimum elevation: rise and set "
            "(root-found to ~1 ms), maximum elevation, azimuths; passes open at the window edges are "
            "flagged. Writes the pass table to --out (CSV) and per-site figures of merit (percent of "
            "time with >= 1 satellite, gaps, mean response time) to --netcdf (site dimension)."
        ),
        epilog="example:\n  orbitjax access --tle data/kuiper_falcon9_synthetic.tle --sites data/example_sites.csv "
               "--start 2025-10-15T00:00Z --duration 1d --min-elevation 35 --out access.csv",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    a.add_argument("--tle", required=True, metavar="FILE|SCENARIO",
                   help="TLE/OMM file, or a bundled scenario name / TOML path (its last stage, or --stage)")
    a.add_argument("--sites", required=True, metavar="FILE",
                   help="sites: CSV name,lat,lon[,alt_m] (geodetic WGS84 degrees, metres) or GeoJSON points")
    a.add_argument("--start", help="window start, UTC ISO 8601 (default: the scenario's start, or the "
                                   "catalogue's latest epoch)")
    a.add_argument("--duration", default="1d", help="window length: seconds or a number with s/min/h/d (default: 1d)")
    a.add_argument("--min-elevation", type=float, metavar="DEG",
                   help="minimum elevation in degrees (default: the scenario's shells' value; required for files)")
    a.add_argument("--stage", type=int, help="with a scenario: stage number (default: the last stage)")
    a.add_argument("--step", type=float, default=60.0, metavar="SECONDS",
                   help="sampling step; events are root-found between samples (default: 60)")
    a.add_argument("--out", default="access.csv", help="pass table CSV to write (default: access.csv)")
    a.add_argument("--netcdf", metavar="FILE", help="per-site figures NetCDF (default: OUT with suffix _sites.nc)")


def _fmt_band(band) -> str:
    return "none" if band is None else f"{band[0]:+.0f}..{band[1]:+.0f}"


def _fmt(value, spec: str) -> str:
    return "-" if value is None or value != value else format(value, spec)


def _print_summary(rows: list[dict]) -> None:
    """The per-stage table: one row per stage, units in the header (region-wide figures on a regional run)."""
    where = "%time regn" if rows and rows[0].get("region") else "%time glob"
    header = (
        f"{'stage':>5}  {'name':<10} {'sats':>5}  {'mean cov.':>9}  {where:>10}  {'%time land':>10}"
        f"  {'continuous band':>15}  {'max gap':>8}  {'mean resp.':>10}"
    )
    units = f"{'':>5}  {'':<10} {'':>5}  {'(frac.)':>9}  {'(%)':>10}  {'(%)':>10}  {'(deg lat)':>15}  {'(min)':>8}  {'(min)':>10}"
    print(header)
    print(units)
    print("-" * len(header))
    for row in rows:
        max_gap = None if row["max_gap_s"] is None else row["max_gap_s"] / 60
        resp = None if row["mean_response_time_s"] is None else row["mean_response_time_s"] / 60
        print(
            f"{row['stage']:>5}  {row['stage_name']:<10} {row['n_satellites']:>5}  {_fmt(row['mean_coverage_fraction'], '.3f'):>9}"
            f"  {_fmt(row['percent_time_covered_global'], '.1f'):>10}  {_fmt(row['percent_time_covered_land'], '.1f'):>10}"
            f"  {_fmt_band(row['continuous_band_deg']):>15}  {_fmt(max_gap, '.0f'):>8}  {_fmt(resp, '.1f'):>10}"
        )


def _cmd_run(args) -> int:
    from .scenario import load_scenario  # noqa: PLC0415 (fast --help)
    from .stages import run
    from .summaries import summary_table
    from .timescales import as_datetime64, parse_duration_s

    scenario = load_scenario(args.scenario)
    changes = {}
    if args.start is not None:
        try:
            changes["start"] = as_datetime64(args.start)
        except ValueError as exc:
            detail = str(exc) if "supported range" in str(exc) else "not a UTC date-time like 2025-10-15T00:00:00Z"
            raise ValueError(f"--start {args.start!r}: {detail}") from None
    if args.duration is not None:
        changes["duration_s"] = parse_duration_s(args.duration)
    if args.step is not None:
        changes["step_s"] = args.step
    if args.resolution is not None:
        changes["resolution_deg"] = args.resolution
    if args.chunk_steps is not None:
        changes["chunk_steps"] = args.chunk_steps
    if args.region is not None or args.region_box is not None:
        changes["region"] = _region_arg(args)
    if changes:
        scenario = scenario.with_analysis(**changes)
    if args.tle:
        if not Path(args.tle).is_file():
            raise ValueError(f"--tle {args.tle}: no such file")
        scenario = scenario.with_catalog(args.tle, stage_by=args.stage_by or "launch", min_elevation_deg=args.min_elevation)
    elif args.min_elevation is not None or args.stage_by is not None:
        raise ValueError("--min-elevation and --stage-by apply to --tle catalogues; shells set their own min_elevation_deg")
    if args.half_angle is not None and not 0.0 < args.half_angle < 90.0:
        raise ValueError(f"--half-angle {args.half_angle:g}: expected a cone half-angle in (0, 90) degrees")
    if args.sun_elevation_min is not None and not -90.0 < args.sun_elevation_min < 90.0:
        raise ValueError(f"--sun-elevation-min {args.sun_elevation_min:g}: expected an elevation in (-90, 90) degrees")
    if args.gateways is not None and not Path(args.gateways).is_file():
        raise ValueError(f"--gateways {args.gateways}: no such file; expected a CSV name,lat,lon[,alt_m] or GeoJSON")
    if args.gateway_min_elevation is not None and not 0.0 <= args.gateway_min_elevation < 90.0:
        raise ValueError(f"--gateway-min-elevation {args.gateway_min_elevation:g}: expected [0, 90) degrees")
    scenario = scenario.with_sensors(half_angle_deg=args.half_angle, sun_elevation_min_deg=args.sun_elevation_min,
                                     gateways=args.gateways, gateway_min_elevation_deg=args.gateway_min_elevation)
    out = args.out or scenario.output_dir
    if args.max_memory is not None:
        from .memory import parse_size  # noqa: PLC0415

        try:
            parse_size(args.max_memory)
        except ValueError as exc:
            raise ValueError(f"--max-memory {args.max_memory!r}: {exc}") from None
    sweep = None
    if args.elevation_sweep is not None:
        try:
            sweep = [float(x) for x in args.elevation_sweep.split(",")]  # an empty item is an error too
        except ValueError:
            raise ValueError(f"--elevation-sweep {args.elevation_sweep!r}: expected numbers like 25,35,45") from None
        if any(not 0.0 <= e < 90.0 for e in sweep):
            raise ValueError(f"--elevation-sweep {args.elevation_sweep!r}: every mask must lie in [0, 90) degrees")
        if len(set(sweep)) < len(sweep):
            raise ValueError(f"--elevation-sweep {args.elevation_sweep!r}: a mask appears twice")
    if args.workers is not None and args.workers < 1:
        raise ValueError(f"--workers {args.workers}: needs at least 1 worker")
    if args.block_steps is not None and args.block_steps < 1:
        raise ValueError(f"--block-steps {args.block_steps}: must be a positive number of time steps")
    stages = scenario.stages()  # validates the whole scenario before any work or write
    from .constraints import check_sensor_kwargs  # noqa: PLC0415

    for stage in stages:
        check_sensor_kwargs(stage.satellites, **scenario.sensor_kwargs(stage.satellites))
    a = scenario.analysis
    where = ""
    if a.region is not None:
        box = a.region.grid_box(a.resolution_deg)
        where = f" over {a.region.name} (lat {box[0]:g}..{box[1]:g}, lon {box[2]:g}..{box[3]:g})"
    print(
        f"orbitjax: {scenario.name}: {len(stages)} stage{'s' * (len(stages) != 1)}, "
        f"{_duration_text(a.duration_s)} at {a.step_s:g} s "
        f"on a {a.resolution_deg:g} deg grid{where} -> {out}/",
        file=sys.stderr,
    )
    rows, regional = [], []
    t0 = time.perf_counter()

    def on_stage(stage, ds, path):
        rows.append(summary_table(ds))
        if a.region is not None:
            from .region_stats import region_summary  # noqa: PLC0415

            regional.append(region_summary(ds).expand_dims(stage=[stage.index]))
        print(f"  wrote {path} ({time.perf_counter() - t0:.1f} s)", file=sys.stderr)

    args._resumable = bool(args.workers or args.scheduler or args.block_steps or args.resume)
    run(scenario, out, save_raster=args.save_raster, elevation_sweep_deg=sweep,
        progress=False if args.quiet else None, on_stage=on_stage, max_memory=args.max_memory,
        earth_model=args.earth_model, timing=args.timing, workers=args.workers, client=args.scheduler,
        block_steps=args.block_steps, resume=args.resume)
    _print_summary(rows)
    if regional:
        import xarray as xr  # noqa: PLC0415

        from .region_stats import region_table  # noqa: PLC0415

        print()
        print(region_table(xr.concat(regional, dim="stage")), end="")
    return 0


def _region_arg(args):
    """--region NAME|FILE or --region-box S,N,W,E -> an orbitjax.regions.Region."""
    from .regions import as_region  # noqa: PLC0415

    if args.region_box is not None:
        try:
            box = [float(x) for x in args.region_box.split(",")]
        except ValueError:
            box = None
        if box is None or len(box) != 4:
            raise ValueError(f"--region-box {args.region_box!r}: expected four numbers S,N,W,E in degrees, "
                             "e.g. 24,50,-125,-66")
        try:
            return as_region(tuple(box))
        except ValueError as exc:
            raise ValueError(f"--region-box {args.region_box!r}: {exc}") from None
    try:
        return as_region(args.region)
    except ValueError as exc:
        msg = str(exc)
        raise ValueError(msg if args.region in msg else f"--region {args.region!r}: {msg}") from None


def _cmd_compare(args) -> int:
    from .compare import compare_plot, compare_table, open_stages  # noqa: PLC0415

    ds = open_stages(args.directory)
    plot = _output_file(args.plot, "--plot") if args.plot else Path(args.directory) / "compare.png"
    print(compare_table(ds))
    if args.region or ds.attrs.get("region_name"):
        from .region_stats import region_summary, region_table  # noqa: PLC0415

        regions = [_compare_region(r) for r in args.region] if args.region else None
        print(region_table(region_summary(ds, regions)), end="")
    try:
        import matplotlib  # noqa: F401, PLC0415 (an optional dependency: the 'plot' extra)
    except ImportError:
        print('orbitjax: no plot: it needs matplotlib; install it with pip install "orbitjax[plot]"',
              file=sys.stderr)
        return 0
    compare_plot(ds, plot)
    print(f"wrote {plot}", file=sys.stderr)
    return 0


def _compare_region(text: str):
    """A --region value of compare: four comma-separated numbers are a box, anything else a name or file."""
    parts = text.split(",")
    if len(parts) == 4:
        try:
            return tuple(float(p) for p in parts)
        except ValueError:
            pass
    return text


def _cmd_export_tle(args) -> int:
    from .export import constellation_to_satellites, placeholder_designators, synthetic_designators  # noqa: PLC0415
    from .io.tle import format_tle, write_tle
    from .scenario import load_scenario

    if args.out:
        _output_file(args.out, "--out")
    scenario = load_scenario(args.scenario)
    stages = scenario.stages()
    k = len(stages) if args.stage is None else args.stage
    if not 1 <= k <= len(stages):
        raise ValueError(f"--stage {k}: the scenario has stages 1..{len(stages)}")
    sats = stages[k - 1].satellites
    if not hasattr(sats, "a_km"):
        raise ValueError(f"stage {k} already comes from a catalogue; nothing to export")
    launches = sorted(scenario.launches, key=lambda launch: launch.date)
    if k <= len(launches):  # launch stages: one placeholder COSPAR launch per launch
        designators = synthetic_designators(
            [launch.date.astype("datetime64[Y]").astype(int) + 1970 for launch in launches[:k]],
            [launch.satellites for launch in launches[:k]],
        )
    else:  # the reference stage: one placeholder launch per shell, numbered after the scenario's launches
        year = int(scenario.analysis.start.astype("datetime64[Y]").astype(int)) + 1970
        designators = placeholder_designators(sats.shell, year, first_launch_number=901 + len(launches))
    tles = constellation_to_satellites(sats, first_norad_id=args.first_norad_id, intl_designator=designators)
    if args.out:
        write_tle(args.out, tles)
        print(f"wrote {len(tles)} TLEs to {args.out}", file=sys.stderr)
    else:
        sys.stdout.write("\n".join(format_tle(tles)) + "\n")
    return 0


def _cmd_scenarios(args) -> int:
    from .scenario import bundled_data_dir, bundled_scenarios  # noqa: PLC0415

    print("scenarios:", ", ".join(bundled_scenarios()))
    presets = sorted(p.stem for p in bundled_data_dir().glob("*.toml") if p.stem not in bundled_scenarios())
    print("presets:  ", ", ".join(presets))
    return 0


def _cmd_access(args) -> int:
    import numpy as np  # noqa: PLC0415 (fast --help)

    from .site_access import access
    from .catalog_stages import read_catalog
    from .io.sites import read_sites
    from .scenario import load_scenario
    from .timescales import as_datetime64, parse_duration_s

    source = args.tle
    start = None
    mask = args.min_elevation
    if Path(source).is_file() and Path(source).suffix.lower() != ".toml":
        if args.stage is not None:
            raise ValueError("--stage applies to scenarios, not to TLE/OMM files")
        sats = read_catalog(source)
        if mask is None:
            raise ValueError(f"--min-elevation is required with the catalogue {source} (e.g. 35 for Kuiper)")
        start = np.max(sats.epoch).astype("datetime64[s]")
    else:
        scenario = load_scenario(source)
        stages = scenario.stages()
        k = len(stages) if args.stage is None else args.stage
        if not 1 <= k <= len(stages):
            raise ValueError(f"--stage {k}: the scenario has stages 1..{len(stages)}")
        sats = stages[k - 1].satellites
        start = scenario.analysis.start
        if mask is None and scenario.catalog:
            mask = float(scenario.catalog["min_elevation_deg"])
    if mask is not None and not -90.0 < mask < 90.0:
        raise ValueError(f"--min-elevation {mask}: must lie in (-90, 90) degrees")
    if args.start is not None:
        try:
            start = as_datetime64(args.start)
        except ValueError as exc:
            detail = str(exc) if "supported range" in str(exc) else "not a UTC date-time like 2025-10-15T00:00:00Z"
            raise ValueError(f"--start {args.start!r}: {detail}") from None
    duration_s = parse_duration_s(args.duration)
    if not np.isfinite(args.step) or args.step <= 0:
        raise ValueError(f"--step {args.step}: must be a positive number of seconds")
    sites = read_sites(args.sites)
    out = _output_file(args.out, "--out")
    nc = _output_file(args.netcdf, "--netcdf") if args.netcdf else out.with_name(out.stem + "_sites.nc")
    if nc.is_dir():
        raise ValueError(f"--out {out}: its sites file {nc} is a folder; pass --netcdf FILE")
    if out.resolve() == nc.resolve():
        raise ValueError(f"--out and --netcdf are the same file {out}")
    t0 = time.perf_counter()
    report = access(sats, (start, duration_s), sites, min_elevation_deg=mask, step_s=args.step)
    report.to_netcdf(nc)
    report.to_csv(out)
    f = report.sites
    print(f"{'site':<20} {'passes':>6}  {'%time':>6}  {'max gap':>8}  {'mean resp.':>10}")
    print(f"{'':<20} {'':>6}  {'(%)':>6}  {'(min)':>8}  {'(min)':>10}")
    for i, name in enumerate(f["site"].values):
        print(f"{str(name)[:20]:<20} {int(f.n_passes[i]):>6}  {float(f.percent_time_covered[i]):>6.1f}"
              f"  {float(f.max_gap_s[i]) / 60:>8.1f}  {float(f.mean_response_time_s[i]) / 60:>10.1f}")
    print(f"orbitjax: {len(report)} passes of {len(sats)} satellites over {len(sites)} sites in "
          f"{time.perf_counter() - t0:.1f} s -> {out}, {nc}", file=sys.stderr)
    return 0


def _show_warning(message, category, filename, lineno, file=None, line=None):
    """Warnings (failed propagation, skipped records) as one line each, without the source line."""
    text = " ".join(str(message).split())
    print(f"orbitjax: warning: {text}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    tune_allocator()  # before JAX starts its threads: XLA's large buffers reused, not faulted in per chunk
    parser = _parser()
    args = parser.parse_args(argv)
    if args.version:
        from . import __version__  # noqa: PLC0415

        print(f"orbitjax {__version__}")
        return 0
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    handler = {"run": _cmd_run, "compare": _cmd_compare, "export-tle": _cmd_export_tle,
               "scenarios": _cmd_scenarios, "access": _cmd_access,
               "study": _cmd_study}[args.command]
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _show_warning
            return handler(args)
    except KeyboardInterrupt:
        resumable = args.command == "run" and getattr(args, "_resumable", False)
        print("orbitjax: interrupted; no partial file was left under a final name"
              + ("; continue with the same command and --resume" if resumable else ""), file=sys.stderr)
        return 130
    except MemoryError:
        if args.debug:
            raise
        print("orbitjax: error: out of memory; use a coarser --resolution, a longer --step, "
              "--no-save-raster or a smaller --chunk-steps", file=sys.stderr)
        return EXIT_USAGE
    except (ValueError, OSError, TypeError) as exc:
        if args.debug:
            raise
        message = " ".join(str(exc).split("\n")[0].split()) or type(exc).__name__
        for note in getattr(exc, "__notes__", ()):  # e.g. a write that failed beside it (orbitjax.run)
            message += "; " + " ".join(note.split())
        print(f"orbitjax: error: {message}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
