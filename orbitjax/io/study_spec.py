"""Design-study spec files (TOML) for ``orbitjax study``: read and check, return plain values.

No math here. A spec has two tables::

    [analysis]                       # the window and the grid
    start = "2025-10-15T00:00:00Z"
    duration = "1d"                  # seconds or a number with s/min/h/d
    step_s = 60
    resolution_deg = 2.0             # optional (default 2)
    band_deg = [40, 56]              # optional latitude band (both hemispheres)
    n_assets = [1, 2]                # optional
    batch_size = 8                   # optional memory knob
    timing = "exact"                 # optional: exact | sampled

    [designs]                        # Walker designs
    mode = "grid"                    # grid: every combination; random: n uniform draws
    altitude_km = [590]              # grid: a number or a list; random: a number or [lo, hi]
    inclination_deg = [30, 40, 50]
    planes = [20, 28]
    sats_per_plane = [20, 28]
    phasing = [1]                    # optional (default 1)
    min_elevation_deg = 35
    # n = 200                        # random only
    # seed = 0                       # random only: the JAX PRNG seed (default 0)
"""

from __future__ import annotations

import tomllib
from pathlib import Path

_NUMBER = (int, float)
ANALYSIS_KEYS = {
    "start": ((str,), True), "duration": (_NUMBER + (str,), True), "step_s": (_NUMBER, True),
    "resolution_deg": (_NUMBER, False), "band_deg": ((list,), False), "n_assets": ((list,), False),
    "batch_size": ((int,), False), "timing": ((str,), False), "earth_model": ((str,), False),
}
DESIGN_PARAMS = ("altitude_km", "inclination_deg", "planes", "sats_per_plane", "phasing", "min_elevation_deg")
DESIGN_KEYS = {"mode", "n", "seed", *DESIGN_PARAMS}


def read_study_spec(path) -> dict:
    """``{"analysis": {...}, "designs": {...}}`` from a spec file; ValueError naming the file and key."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValueError(f"{path}: no such study spec file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: cannot read the study spec ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{path}: not valid TOML ({exc})") from None
    unknown = sorted(set(data) - {"analysis", "designs"})
    if unknown:
        raise ValueError(f"{path}: unknown table [{unknown[0]}]; expected [analysis] and [designs]")
    for table in ("analysis", "designs"):
        if not isinstance(data.get(table), dict):
            raise ValueError(f"{path}: missing table [{table}]")
    analysis = data["analysis"]
    for key, value in analysis.items():
        if key not in ANALYSIS_KEYS:
            raise ValueError(f"{path}: [analysis] unknown key {key!r}; expected one of {', '.join(ANALYSIS_KEYS)}")
        types, _ = ANALYSIS_KEYS[key]
        if not isinstance(value, types) or isinstance(value, bool):
            raise ValueError(f"{path}: [analysis] {key} = {value!r} has the wrong type")
    for key, (_, required) in ANALYSIS_KEYS.items():
        if required and key not in analysis:
            raise ValueError(f"{path}: [analysis] missing key {key!r}")
    if "band_deg" in analysis and (len(analysis["band_deg"]) != 2
                                   or not all(isinstance(x, _NUMBER) for x in analysis["band_deg"])):
        raise ValueError(f"{path}: [analysis] band_deg must be two numbers [lo, hi], got {analysis['band_deg']!r}")
    if "band_deg" in analysis and not 0 <= analysis["band_deg"][0] < analysis["band_deg"][1] <= 90:
        raise ValueError(f"{path}: [analysis] band_deg = {analysis['band_deg']!r}: expected 0 <= lo < hi <= 90 "
                         "degrees of latitude (the band is taken in both hemispheres)")
    designs = dict(data["designs"])
    for key in designs:
        if key not in DESIGN_KEYS:
            raise ValueError(f"{path}: [designs] unknown key {key!r}; expected one of {', '.join(sorted(DESIGN_KEYS))}")
    mode = designs.setdefault("mode", "grid")
    if mode not in ("grid", "random"):
        raise ValueError(f"{path}: [designs] mode must be 'grid' or 'random', got {mode!r}")
    for key in DESIGN_PARAMS:
        if key == "phasing":
            continue
        if key not in designs:
            raise ValueError(f"{path}: [designs] missing key {key!r}")
    for key in DESIGN_PARAMS:
        if key not in designs:
            continue
        v = designs[key]
        values = v if isinstance(v, list) else [v]
        if not values or not all(isinstance(x, _NUMBER) and not isinstance(x, bool) for x in values):
            raise ValueError(f"{path}: [designs] {key} = {v!r}: expected a number or a list of numbers")
        if mode == "random" and isinstance(v, list) and len(v) != 2:
            raise ValueError(f"{path}: [designs] {key} = {v!r}: a random study takes a number or a range [lo, hi]")
    if mode == "random":
        if not isinstance(designs.get("n"), int) or designs["n"] < 1:
            raise ValueError(f"{path}: [designs] a random study needs n, a positive integer")
        if not isinstance(designs.get("seed", 0), int):
            raise ValueError(f"{path}: [designs] seed must be an integer")
    elif "n" in designs or "seed" in designs:
        raise ValueError(f"{path}: [designs] n and seed apply to mode = 'random'")
    return {"analysis": analysis, "designs": designs}
