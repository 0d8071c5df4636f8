"""Compare launch stages: gather the per-stage NetCDF files, tabulate and plot their figures.

A stage file is one written by the pipeline with
:func:`orbitjax.io.dataset.coverage_dataset` and a global attribute ``stage``.
:func:`open_stages` stacks the stages of one directory along a ``stage``
dimension in launch order; :func:`compare_table` and :func:`compare_plot` report
the :func:`orbitjax.summaries.summary_table` figures of each stage.
"""

from __future__ import annotations

import datetime as _dt
import os
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from .io.netcdf import open_netcdf
from .io.outdir import MANIFEST_NAME, read_manifest
from .io.dataset import FIGURES_OF_MERIT, LAT, LON, MIN_ELEVATION, N_ASSETS, SAT, STAGE, TIME
from .summaries import summary_table

__all__ = ["open_stages", "compare_table", "compare_plot", "stage_summaries", "HEAVY_VARIABLES"]

HEAVY_VARIABLES = ("visible_count", "sat_position_ecef")
# Global attributes that differ between stages by design (not kept on the stacked Dataset).
_STAGE_ATTRS = ("stage", "stage_name", "stage_date", "launches_included", "n_satellites")


def _parse_date(text: str, path: Path) -> _dt.datetime | None:
    text = str(text).strip()
    if not text:
        return None
    try:
        d = _dt.datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{path.name}: stage_date {text!r} is not an ISO 8601 date") from None
    if d.tzinfo is not None:
        d = d.astimezone(_dt.timezone.utc).replace(tzinfo=None)
    return d


def open_stages(directory: str | os.PathLike, *, heavy: bool = False) -> xr.Dataset:
    """Stack every stage file of ``directory`` along a new ``stage`` dimension.

    Stage files are the files listed in the run manifest ``orbitjax_run.json``
    (the latest run written there), or without a manifest every ``*.nc`` file
    with a global attribute ``stage``; other NetCDF files are skipped. Stages are ordered by ``stage_date`` (the stage's
    last launch, ISO UTC); stages with an empty date (the reference/full stage)
    come last; ties are broken by the ``stage`` index.

    The stacked Dataset holds ``coverage_fraction`` and the figures of merit
    (2-D, or with ``n_assets`` / ``min_elevation``) with a leading ``stage``
    dimension, ``area_weight`` (lat,) once, the coordinate ``stage`` (the
    stage index) and, along ``stage``, ``stage_name``, ``stage_date`` (str, ''
    for the reference), ``n_satellites``, ``launches_included`` and
    ``stage_file`` (the file's name). Global attributes equal in every file are
    kept. With ``heavy=True`` also ``visible_count``, ``sat_position_ecef`` and
    ``min_elevation_deg`` (outer join over ``sat``: NaN for satellites a stage
    lacks); with the default ``heavy=False`` they are not read.

    Memory: everything kept is loaded: about ``stages * cells * 8 bytes`` per
    figure (13 figures, 0.25 deg grid, 4 stages: 430 MB).

    Raises:
      FileNotFoundError: ``directory`` missing or without stage files.
      ValueError: a ``*.nc`` file that cannot be read (truncated, corrupted; names the file), a manifest
        listing a missing file; files differ in grid (lat/lon), time window (time), ``n_assets``,
        elevation sweep or ``scenario``, or repeat a stage index (names the files).
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise FileNotFoundError(f"not a directory: {directory}")
    listed = read_manifest(directory)
    if listed is not None:
        missing = [p.name for p in listed if not p.is_file()]
        if missing:
            raise ValueError(f"{directory / MANIFEST_NAME} lists {missing[0]}, which is missing; "
                             "rerun, or delete the manifest to read every *.nc file")
    stages: list[tuple[Path, xr.Dataset]] = []
    for path in sorted(directory.glob("*.nc")) if listed is None else listed:
        try:
            f = open_netcdf(path)
            with f:
                if STAGE not in f.attrs:
                    continue
                keep = [v for v in f.data_vars
                        if v in FIGURES_OF_MERIT or v in ("coverage_fraction", "area_weight", "region_fraction")]
                if heavy:
                    keep += [v for v in f.data_vars if v in HEAVY_VARIABLES or v == "min_elevation_deg"]
                ds = f[keep].load()
                n_sat = int(f.attrs["n_satellites"]) if "n_satellites" in f.attrs else int(f.sizes.get(SAT, -1))
        except (OSError, RuntimeError, ValueError) as e:
            detail = " ".join(str(e).split()) or type(e).__name__
            if str(path) in detail:
                raise ValueError(detail) from e
            raise ValueError(f"{path}: cannot be read as NetCDF ({detail}); the file is damaged or not NetCDF") from e
        ds = ds.drop_vars(STAGE, errors="ignore")  # the files' scalar stage coordinate becomes the dimension
        if not heavy:
            ds = ds.drop_dims([d for d in (SAT, "xyz") if d in ds.dims], errors="ignore")
            ds = ds.drop_vars([c for c in (SAT, "xyz") if c in ds.coords])
        ds.attrs["n_satellites"] = n_sat
        stages.append((path, ds))
    if not stages:
        raise FileNotFoundError(f"no stage files (NetCDF with a global 'stage' attribute) in {directory}")

    _check_consistent(stages)

    def key(item: tuple[Path, xr.Dataset]) -> tuple:
        path, ds = item
        date = _parse_date(ds.attrs.get("stage_date", ""), path)
        return (date is None, date or _dt.datetime.min, int(ds.attrs[STAGE]))

    stages.sort(key=key)
    area_weight = stages[0][1]["area_weight"] if "area_weight" in stages[0][1] else None
    region_fraction = stages[0][1]["region_fraction"] if "region_fraction" in stages[0][1] else None
    parts = []
    for path, ds in stages:
        a = ds.attrs
        meta = {
            "stage_name": str(a.get("stage_name", "")),
            "stage_date": str(a.get("stage_date", "")),
            "n_satellites": int(a["n_satellites"]),
            "launches_included": str(a.get("launches_included", "")),
            "stage_file": path.name,
        }
        ds = ds.drop_vars(["area_weight", "region_fraction"], errors="ignore")
        ds = ds.expand_dims({STAGE: [int(a[STAGE])]}).assign_coords({k: (STAGE, [v]) for k, v in meta.items()})
        parts.append(ds)
    out = xr.concat(parts, dim=STAGE, data_vars="all", coords="minimal", join="outer",
                    combine_attrs="drop_conflicts", fill_value=np.nan)
    for k in _STAGE_ATTRS:
        out.attrs.pop(k, None)
    if area_weight is not None:
        out["area_weight"] = area_weight
    if region_fraction is not None:  # same grid and region in every file (checked above)
        out["region_fraction"] = region_fraction
    out[STAGE].attrs.update({"long_name": "launch stage index (1-based), in launch order along the dimension"})
    out["stage_date"].attrs.update({"long_name": "UTC date of the stage's last launch ('' for the reference stage)"})
    out["n_satellites"].attrs.update({"long_name": "satellites in orbit at this stage", "units": "1"})
    return out


def _check_consistent(stages: list[tuple[Path, xr.Dataset]]) -> None:
    p0, d0 = stages[0]
    seen: dict[int, Path] = {}
    for path, ds in stages:
        idx = int(ds.attrs[STAGE])
        if idx in seen:
            raise ValueError(f"stage {idx} appears in two files: {seen[idx].name} and {path.name}")
        seen[idx] = path
    for path, ds in stages[1:]:
        for dim, what in ((LAT, "grid (lat)"), (LON, "grid (lon)")):
            a, b = d0[dim].values, ds[dim].values
            if a.shape != b.shape or not np.allclose(a, b, rtol=0, atol=1e-6):
                raise ValueError(
                    f"{p0.name} and {path.name} have different {what}: {a.size} values "
                    f"{a[0]:g}..{a[-1]:g} vs {b.size} values {b[0]:g}..{b[-1]:g}"
                )
        if TIME in d0.coords or TIME in ds.coords:
            a, b = d0[TIME].values, ds[TIME].values
            if a.shape != b.shape or not np.array_equal(a, b):
                raise ValueError(
                    f"{p0.name} and {path.name} cover different time windows: {a.size} steps "
                    f"{_span(a)} vs {b.size} steps {_span(b)}"
                )
        for dim in (N_ASSETS, MIN_ELEVATION):
            a = d0[dim].values if dim in d0.coords else None
            b = ds[dim].values if dim in ds.coords else None
            if (a is None) != (b is None) or (a is not None and (a.shape != b.shape or not np.allclose(a, b))):
                raise ValueError(f"{p0.name} and {path.name} have different {dim}: {a} vs {b}")
        sa, sb = d0.attrs.get("scenario"), ds.attrs.get("scenario")
        if sa != sb:
            raise ValueError(f"{p0.name} and {path.name} come from different scenarios: {sa!r} vs {sb!r}")


def _span(t: np.ndarray) -> str:
    return f"{t[0]}..{t[-1]}" if t.size else "(empty)"


# --------------------------------------------------------------------------- reports


def stage_summaries(ds_stages: xr.Dataset, *, min_elevation: float | None = None) -> list[dict[str, Any]]:
    """:func:`orbitjax.summaries.summary_table` of each stage, in the Dataset's stage order."""
    out = []
    for i in range(ds_stages.sizes[STAGE]):
        one = ds_stages.isel({STAGE: i})
        s = summary_table(one, min_elevation=min_elevation)
        s["stage"] = int(one[STAGE].item())
        out.append(s)
    return out


_COLUMNS = (
    # header, width, key, formatter
    ("stage", 5, "stage", lambda v: f"{v:d}"),
    ("name", 10, "stage_name", lambda v: str(v)),
    ("date (UTC)", 16, "stage_date", lambda v: _fmt_date(v)),
    ("satellites", 10, "n_satellites", lambda v: f"{v:d}"),
    ("coverage fraction [1]", 21, "mean_coverage_fraction", lambda v: f"{v:.4f}"),
    ("global time covered [%]", 24, "percent_time_covered_global", lambda v: f"{v:.2f}"),
    ("land time covered [%]", 22, "percent_time_covered_land", lambda v: f"{v:.2f}"),
    ("continuous band [deg]", 21, "continuous_band_deg", lambda v: f"{v[0]:+.2f}..{v[1]:+.2f}"),
    ("max gap [s]", 11, "max_gap_s", lambda v: f"{v:.0f}"),
    ("mean response [s]", 17, "mean_response_time_s", lambda v: f"{v:.1f}"),
)


def _fmt_date(v: Any) -> str:
    if not v:
        return "reference"
    try:
        d = _parse_date(v, Path("?"))
    except ValueError:
        return str(v)[:16]
    return d.strftime("%Y-%m-%d %H:%M")


def _cell(fmt, v: Any) -> str:
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return "-"
    return fmt(v)


def compare_table(ds_stages: xr.Dataset, *, min_elevation: float | None = None) -> str:
    """Fixed-width text table, one row per stage in launch order.

    Columns: stage, name, date (UTC of the last launch; 'reference' for the
    full stage), satellites, mean coverage fraction (time mean, 1), global and
    land area-weighted mean percent of time covered (%), the widest latitude band
    covered all the time (deg, cell edges; '-' when none), the largest gap in
    any cell (s) and the area-weighted mean response time (s). Missing values
    print as '-'. With an elevation sweep, a last line names the elevation
    reported (``min_elevation``, default the sweep's first). Ends with a newline.

    Args:
      ds_stages: from :func:`open_stages`.
      min_elevation: which elevation of a sweep to report (see
        :func:`orbitjax.summaries.summary_table`).
    """
    rows = stage_summaries(ds_stages, min_elevation=min_elevation)
    widths = [max(w, len(h)) for h, w, _, _ in _COLUMNS]
    cells = [[_cell(fmt, r.get(key)) for _, _, key, fmt in _COLUMNS] for r in rows]
    for line in cells:
        widths = [max(w, len(c)) for w, c in zip(widths, line)]

    def fmt_line(items: list[str]) -> str:
        # text columns left-aligned, numbers right-aligned
        return "  ".join(s.ljust(w) if i in (1, 2) else s.rjust(w)
                         for i, (s, w) in enumerate(zip(items, widths))).rstrip()

    heads = [h for h, _, _, _ in _COLUMNS]
    if ds_stages.attrs.get("region_name"):  # a regional run: the means are over the region
        heads = [h.replace("global", str(ds_stages.attrs["region_name"])) for h in heads]
        widths = [max(w, len(h)) for w, h in zip(widths, heads)]
    header = fmt_line(heads)
    lines = [header, "-" * len(header)] + [fmt_line(c) for c in cells]
    if MIN_ELEVATION in ds_stages.dims:
        lines.append(f"figures at minimum elevation {rows[0]['min_elevation_deg']:g} deg "
                     f"(sweep: {', '.join(f'{v:g}' for v in ds_stages[MIN_ELEVATION].values)} deg)")
    return "\n".join(lines) + "\n"


def compare_plot(ds_stages: xr.Dataset, path: str | os.PathLike, *, min_elevation: float | None = None) -> Path:
    """PNG of global (and land) mean percent of time covered and max gap, against stage.

    Two panels sharing the x axis (stages in launch order, labelled by stage
    name): top, the area-weighted mean percent of time covered, globally and
    over land; bottom, the largest gap in any cell, in minutes. The file is
    written to a temporary name in the same directory and moved into place with
    :func:`os.replace`, so ``path`` is never left half-written.

    Needs matplotlib (``pip install 'orbitjax[plot]'``); uses the Agg canvas
    directly and leaves pyplot's global state alone.

    Returns:
      the path written.

    Raises:
      ImportError: matplotlib is not installed.
    """
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: PLC0415
        from matplotlib.figure import Figure  # noqa: PLC0415
    except ImportError as e:
        raise ImportError("compare_plot needs matplotlib: pip install 'orbitjax[plot]' (or matplotlib>=3.7)") from e

    rows = stage_summaries(ds_stages, min_elevation=min_elevation)
    x = np.arange(len(rows))
    names = [str(r["stage_name"] or r["stage"]) for r in rows]

    def col(key: str, scale: float = 1.0) -> np.ndarray:
        return np.array([np.nan if r[key] is None else r[key] * scale for r in rows], np.float64)

    fig = Figure(figsize=(max(5.0, 1.0 + 0.9 * len(rows)), 6.0), layout="constrained")
    FigureCanvasAgg(fig)
    ax1, ax2 = fig.subplots(2, 1, sharex=True)
    ax1.plot(x, col("percent_time_covered_global"), "o-", label="global")
    land = col("percent_time_covered_land")
    if np.isfinite(land).any():
        ax1.plot(x, land, "s--", label="land")
    ax1.set_ylabel("mean time covered [%]")
    ax1.set_ylim(0, 105)
    ax1.grid(alpha=0.3)
    ax1.legend(loc="lower right")
    scen = ds_stages.attrs.get("scenario")
    ax1.set_title(f"Coverage by launch stage{f' ({scen})' if scen else ''}")
    ax2.plot(x, col("max_gap_s", 1 / 60.0), "o-", color="tab:red")
    ax2.set_ylabel("max gap [min]")
    ax2.set_ylim(bottom=0)
    ax2.grid(alpha=0.3)
    ax2.set_xticks(x, names, rotation=30 if len(rows) > 6 else 0)
    ax2.set_xlabel("stage")

    path = Path(path)
    # a unique name in the same directory (same file system, so os.replace is atomic);
    # opened "xb" rather than with mkstemp so the file gets the usual umask permissions
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        with open(tmp, "xb") as fh:
            fig.savefig(fh, format="png", dpi=120)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path
