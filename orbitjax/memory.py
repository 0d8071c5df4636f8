"""Fail-fast memory estimate of a coverage run, before any work is done.

The estimate follows what :func:`orbitjax.coverage` allocates
(``orbitjax/analysis.py``):

- per time chunk, on the device: the difference array of every mask,
  ``n_masks * n_lat * 2 n_lon`` cells, counted at 8 B a cell (int64, the widest
  accumulator XLA may pick; int16 when it can), the counts ``n_masks * n_lat *
  n_lon * 2 B``, and the footprint intervals, ``n_sat * rows * 60 B`` (row
  bounds, longitudes and scatter indices per satellite and grid row);
- per satellite: the propagation model and a chunk's states, ``~1 kB`` plus
  ``chunk_steps * 64 B`` (position and velocity, float64 and a float32 copy);
- the figures-of-merit state, ``144 B`` per cell and mask (counters, running
  gaps, sums; float64/int32);
- on the host, when stored: the raster ``time * lat * lon * 2 B`` (int16) and the
  positions ``time * sat * 12 B`` (float32); the coverage fraction ``time * 8 B``;
  in a run of several stages also the previous stage's, whose file is being
  written while this stage computes (``held_raster``, ``held_positions_n_sat``;
  its positions twice, for the copy the write makes);
- event timing (the default ``timing="exact"``): per cell and mask,
  :data:`EVENT_BYTES_PER_CELL` (the timed state, the solver's per-cell arrays and
  the finalised figures), and per cell, mask and sample of the chunk
  (``chunk_steps + 1`` samples: both ends of every step)
  :data:`EVENT_BYTES_PER_CELL_SAMPLE` (packed sums at the samples and over the
  swept footprints, decoded counts, per-step timings); both fitted to measured peaks;
- a fixed :data:`BASE_BYTES` for the interpreter, JAX, XLA's compiler and code;
- with ``blocks_in_flight`` blocks computed at once (two on one CPU device, where
  they fit: :func:`host_blocks`), that many chunks and figure-of-merit states.

Measured peak RSS (``ru_maxrss`` of processes started from a shell) against this
estimate, global WGS84 grid, event timing, no raster, 3 steps of 60 s, 2-core CPU
machine; 24 satellites (a 3x8 Walker shell, padded to 64) unless noted:

==========  ===========  =======  ========
grid        chunk steps  peak     estimate
==========  ===========  =======  ========
10 deg      3            0.81 GB  0.89 GB
0.5 deg     3            1.06 GB  1.18 GB
0.25 deg    2 (72 sats)  1.65 GB  1.95 GB
0.2 deg     1            2.13 GB  2.42 GB
0.1 deg     1 (72 sats)  5.35 GB  7.00 GB
==========  ===========  =======  ========

(2026-12-03, after the event solver's lists were merged; the 0.1 deg row is older.) Two
blocks at once (4 steps in two 2-step chunks, 0.5 deg): 1.11 GB, estimate 1.42 GB (1.20 GB
before the merge; the same run one block at a time: 0.92 GB). The test suite compiles at
XLA's -O0, whose compiler peak is lower: the same two-block run peaks at 0.66 GB there.
Sampled timing at 0.1 deg (72 satellites): 1.49 GB (estimate 1.94 GB). The 0.05 deg global grid event-timed is estimated at 25 GB
(more than 15 GB was seen before that run was stopped). tests/test_memory_estimate.py checks a run's peak against it.
Also measured: 30 days at 60 s on a 0.5 deg grid, full Kuiper (3,236 satellites),
sampled, no raster: 577 MB peak RSS (benchmarks/RESULTS.md).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, replace

from .kernels.grid import Grid

BASE_BYTES = 850 * 2**20
EVENT_BYTES_PER_CELL = 660
EVENT_BYTES_PER_CELL_SAMPLE = 60
DIFF_BYTES_PER_CELL = 8
INTERVAL_BYTES = 60
MERIT_BYTES_PER_CELL = 144  # MeritState 68 B + TimedState 76 B (x64, n_assets=(1, 2, 3, 4))
SAT_BYTES = 1024
SAT_STEP_BYTES = 64
HOST_BLOCKS = 2
"""Time blocks computed at once on one CPU device, by two threads (see :func:`host_blocks`).

XLA:CPU keeps two cores only ~80 % busy through a coverage chunk (its loops, scans and
small ops run on one thread); a second block, from the second half of the window, fills
the gaps: 18-20 % less wall time on 2 cores for one day of Kuiper stages (benchmarks/RESULTS.md)."""
HOST_BLOCKS_MAX_CHUNK_BYTES = 2**30
"""The blocks' chunk work arrays together must fit here, or one block at a time is computed."""
RESOLUTIONS_DEG = (0.05, 0.1, 0.125, 0.2, 0.25, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 10.0)
"""Grid resolutions suggested when a finer grid does not fit (all divide 180)."""

_SIZE_RE = re.compile(r"^\s*([0-9]*\.?[0-9]+)\s*([kmgt]?i?b?)?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "b": 1, "k": 10**3, "kb": 10**3, "kib": 2**10, "m": 10**6, "mb": 10**6, "mib": 2**20,
          "g": 10**9, "gb": 10**9, "gib": 2**30, "t": 10**12, "tb": 10**12, "tib": 2**40}


class MemoryLimitError(ValueError):
    """A run whose estimated peak memory exceeds the limit; the message names a knob that fits."""


@dataclass(frozen=True)
class RunSize:
    """The sizes that set a coverage run's memory."""

    n_sat: int
    n_times: int
    resolution_deg: float
    n_masks: int = 1
    save_raster: bool = False
    save_positions: bool = False
    chunk_steps: int = 1
    n_rows: int | None = None  # grid rows per footprint; default: every row (worst case)
    box: tuple | None = None  # a regional grid's (south, north, west, east); None: the globe
    event_timing: bool = True  # timing="exact" (the default); False: timing="sampled"
    blocks_in_flight: int = 1  # time blocks computed at once, each with its chunk and states (host_blocks)
    held_raster: bool = False  # a previous stage's raster (when saved) is still in memory, its file being written
    held_positions_n_sat: int = 0  # satellites of a previous stage whose stored positions are still in memory

    @property
    def n_lat(self) -> int:
        return Grid(self.resolution_deg, box=self.box).n_lat

    @property
    def n_lon(self) -> int:
        return Grid(self.resolution_deg, box=self.box).n_lon


def estimate_bytes(size: RunSize) -> dict[str, int]:
    """Peak memory of a run by part (bytes): 'chunk', 'satellites', 'merit', 'raster', 'positions', 'base', 'total'."""
    s = size
    rows = s.n_lat if s.n_rows is None else min(s.n_rows, s.n_lat)
    steps = max(1, min(s.chunk_steps, s.n_times))
    cells = s.n_lat * s.n_lon
    blocks = max(1, s.blocks_in_flight)
    parts = {
        "chunk": blocks * (steps * (s.n_masks * (2 * cells * DIFF_BYTES_PER_CELL + cells * 2)
                                    + s.n_sat * rows * INTERVAL_BYTES)
                           + s.event_timing * s.n_masks * cells
                           * (EVENT_BYTES_PER_CELL + (steps + 1) * EVENT_BYTES_PER_CELL_SAMPLE)),
        "satellites": s.n_sat * (SAT_BYTES + blocks * steps * SAT_STEP_BYTES),
        "merit": blocks * cells * s.n_masks * MERIT_BYTES_PER_CELL + s.n_times * s.n_masks * 8,
        "raster": (1 + s.held_raster) * s.n_times * cells * 2 if s.save_raster else 0,
        # A held stage's positions twice: the file's (sat, xyz, time) layout is written from a copy.
        "positions": s.n_times * 12 * ((s.n_sat if s.save_positions else 0) + 2 * s.held_positions_n_sat),
        "base": BASE_BYTES,
    }
    parts["total"] = sum(parts.values())
    return parts


def host_blocks(size: RunSize, cpu: bool) -> int:
    """Time blocks :func:`orbitjax.coverage` computes at once on its one device (``blocks_in_flight``).

    On a CPU: :data:`HOST_BLOCKS` when the window holds more than one chunk and their
    chunks' work arrays together take at most :data:`HOST_BLOCKS_MAX_CHUNK_BYTES`,
    else 1. It depends on the sizes only, never on the number of cores, so a run
    gives the same files on every machine. On an accelerator: 1.
    """
    if not cpu or size.n_times <= size.chunk_steps:
        return 1
    chunk = estimate_bytes(replace(size, blocks_in_flight=1))["chunk"]
    return HOST_BLOCKS if HOST_BLOCKS * chunk <= HOST_BLOCKS_MAX_CHUNK_BYTES else 1


def parse_size(text: str | int | float) -> int:
    """Bytes from '8GB', '512MiB', '2.5G' or a plain number of bytes (decimal units: GB = 1e9 B)."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        if text <= 0:
            raise ValueError(f"memory size {text} must be positive")
        return int(text)
    m = _SIZE_RE.match(str(text))
    if m is None or (m.group(2) or "").lower() not in _UNITS:
        raise ValueError(f"memory size {text!r}: expected a number with an optional unit, like 8GB or 512MiB")
    value = float(m.group(1)) * _UNITS[(m.group(2) or "").lower()]
    if value <= 0:
        raise ValueError(f"memory size {text!r} must be positive")
    return int(value)


def available_bytes() -> int | None:
    """Memory available to a new allocation: /proc/meminfo MemAvailable, else sysconf; None if unknown."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return None


def format_bytes(n: float) -> str:
    """'1.2 GB', '350 MB' (decimal units, as --max-memory reads them)."""
    for unit, q in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6)):
        if n >= q:
            return f"{n / q:.1f} {unit}"
    return f"{n / 1e3:.0f} kB"


def _suggestion(size: RunSize, limit: int) -> str:
    """The first knob that makes ``size`` fit ``limit``: --no-save-raster, --chunk-steps N, --resolution R."""
    from dataclasses import replace  # noqa: PLC0415

    if size.save_raster and estimate_bytes(replace(size, save_raster=False))["total"] <= limit:
        return "use --no-save-raster (the figures of merit are identical)"
    for steps in (size.chunk_steps // 2**k for k in range(1, 40)):
        if steps < 1:
            break
        trial = replace(size, chunk_steps=steps, save_raster=False)
        if estimate_bytes(trial)["total"] <= limit:
            raster = " and --no-save-raster" if size.save_raster else ""
            return f"use --chunk-steps {steps}{raster}"
    for res in RESOLUTIONS_DEG:
        if res <= size.resolution_deg:
            continue
        trial = replace(size, resolution_deg=res, chunk_steps=1, save_raster=False,
                        n_rows=None if size.n_rows is None else max(1, int(size.n_rows * size.resolution_deg / res) + 1))
        if estimate_bytes(trial)["total"] <= limit:
            return f"use a coarser --resolution {res:g} with --chunk-steps 1 and --no-save-raster"
    return "fewer satellites are needed: even one time step on the coarsest grid does not fit"


def check_memory(size: RunSize, max_memory: int | str | None = None, *, what: str = "the run",
                 n_satellites: int | None = None) -> dict[str, int]:
    """Refuse a run whose estimated peak memory exceeds the limit, before any work.

    ``n_satellites``: the number shown in the message (``size.n_sat`` may be padded).
    The limit is ``max_memory`` (bytes or a size like '8GB'; the ``--max-memory``
    option) when given, else the memory available now (:func:`available_bytes`;
    no check when it cannot be read).

    Returns:
      the estimate by part (:func:`estimate_bytes`).

    Raises:
      MemoryLimitError (a ValueError): one line with the estimate, the limit and a knob that fits.
    """
    est = estimate_bytes(size)
    if max_memory is not None:
        limit, source = parse_size(max_memory), "--max-memory"
    else:
        limit, source = available_bytes(), "available memory"
        if limit is None:
            return est
    if est["total"] > limit:
        raise MemoryLimitError(
            f"{what} needs about {format_bytes(est['total'])} of memory "
            f"({size.n_sat if n_satellites is None else n_satellites:,} satellites, "
            f"{size.n_times:,} steps, {size.resolution_deg:g} deg grid, {size.n_masks} mask(s)), more than the "
            f"{format_bytes(limit)} {source}; {_suggestion(size, limit)}, or raise --max-memory"
        )
    return est
