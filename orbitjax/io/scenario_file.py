"""Scenario and preset files (TOML): read, check keys and types, return plain values.

No orbital math here: this module turns a human-edited file into validated
Python values with every error naming the file and the key. Building
constellations and stages from them is ``orbitjax.scenario``'s job.
"""

from __future__ import annotations

import datetime as dt
import os
import tomllib
from pathlib import Path

_NUMBER = (int, float)
_TIME = (str, dt.datetime, dt.date)

# Allowed keys per table: key -> (accepted types, required).
SHELL_KEYS = {
    "name": (str, True),
    "altitude_km": (_NUMBER, True),
    "inclination_deg": (_NUMBER, True),
    "planes": (int, True),
    "sats_per_plane": (int, True),
    "phasing": (int, False),
    "pattern": (str, False),
    "min_elevation_deg": (_NUMBER, True),
    "raan0_deg": (_NUMBER, False),
    "half_angle_deg": (_NUMBER, False),
}
PRESET_KEYS = {"name": (str, True), "description": (str, False), "source": (str, False), "shells": (list, True)}
SCENARIO_TABLES = {
    "scenario": {
        "name": (str, True),
        "description": (str, False),
        "constellation": (str, False),
        "reference_stage": (bool, False),
    },
    "analysis": {
        "start": (_TIME, True),
        "duration": (_NUMBER + (str,), True),
        "step_s": (_NUMBER, True),
        "resolution_deg": (_NUMBER, False),
        "chunk_steps": (int, False),
    },
    "output": {"prefix": (str, False), "directory": (str, False), "save_raster": (bool, False)},
    "catalog": {
        "file": (str, True),
        "stage_by": (str, False),
        "min_elevation_deg": (_NUMBER, True),
        "half_angle_deg": (_NUMBER, False),
        "strict": (bool, False),
        "launches": (list, False),
    },
    "sites": None,  # free-form names -> SITE_KEYS
    "target": {"region": (str, False), "box": (list, False), "feature": (str, False),
               "sun_elevation_min_deg": (_NUMBER, False)},
}
SCENARIO_ARRAYS = {"shells": SHELL_KEYS, "launches": None, "gateways": None}
LAUNCH_KEYS = {
    "name": (str, True),
    "date": (_TIME, True),
    "vehicle": (str, False),
    "site": (str, False),
    "shell": (str, True),
    "satellites": (int, True),
    "plane": ((int, str), False),
    "note": (str, False),
}
CATALOG_LAUNCH_KEYS = {"id": (str, True), "name": (str, False), "date": (_TIME, False), "vehicle": (str, False),
                       "note": (str, False)}
SITE_KEYS = {"lat_deg": (_NUMBER, True), "lon_deg": (_NUMBER, True), "name": (str, False)}
GATEWAY_KEYS = {"name": (str, True), "lat_deg": (_NUMBER, True), "lon_deg": (_NUMBER, True),
                "alt_m": (_NUMBER, False), "min_elevation_deg": (_NUMBER, False)}


class ScenarioFileError(ValueError):
    """A scenario or preset file that cannot be used; the message names file and key."""


def read_toml(path: str | os.PathLike) -> dict:
    """Parse a TOML file, turning I/O and syntax errors into one-line ScenarioFileErrors."""
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ScenarioFileError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ScenarioFileError(f"{path}: is a directory, expected a TOML file") from None
    except PermissionError:
        raise ScenarioFileError(f"{path}: permission denied") from None
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioFileError(f"{path}: not valid TOML: {exc}") from None
    except UnicodeDecodeError:
        raise ScenarioFileError(f"{path}: not a text (UTF-8) file") from None


def check_table(table, allowed: dict, where: str) -> dict:
    """Check a TOML table's keys and value types against ``allowed``; return it."""
    if not isinstance(table, dict):
        raise ScenarioFileError(f"{where}: expected a table, got {type(table).__name__}")
    unknown = sorted(set(table) - set(allowed))
    if unknown:
        raise ScenarioFileError(
            f"{where}: unknown key {unknown[0]!r}; expected one of {', '.join(sorted(allowed))}"
        )
    for key, (types, required) in allowed.items():
        if key not in table:
            if required:
                raise ScenarioFileError(f"{where}: missing required key {key!r}")
            continue
        value = table[key]
        bad_bool = isinstance(value, bool) and bool not in _as_tuple(types)
        if bad_bool or not isinstance(value, types):
            raise ScenarioFileError(
                f"{where}: {key} = {value!r} has the wrong type; expected {_type_names(types)}"
            )
    return table


def _as_tuple(types):
    return types if isinstance(types, tuple) else (types,)


def _type_names(types) -> str:
    names = {int: "an integer", float: "a number", str: "a string", bool: "true/false", list: "an array",
             dt.datetime: "a date-time", dt.date: "a date", dict: "a table"}
    return " or ".join(dict.fromkeys(names.get(t, t.__name__) for t in _as_tuple(types)))


def read_preset(path: str | os.PathLike) -> dict:
    """Read a constellation preset file: a name, a source and ``[[shells]]``."""
    data = check_table(read_toml(path), PRESET_KEYS, str(path))
    for i, shell in enumerate(data["shells"]):
        check_table(shell, SHELL_KEYS, f"{path}: [[shells]] #{i + 1}")
    return data


def read_scenario(path: str | os.PathLike) -> dict:
    """Read a scenario file and check every table, key and value type.

    Returns the parsed TOML as a dict (values unchanged); semantic checks (ranges,
    references between launches and shells) happen when the scenario is built.
    """
    data = read_toml(path)
    allowed = set(SCENARIO_TABLES) | set(SCENARIO_ARRAYS)
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ScenarioFileError(
            f"{path}: unknown scenario key {unknown[0]!r}; expected one of {', '.join(sorted(allowed))}"
        )
    for name, keys in SCENARIO_TABLES.items():
        if name not in data:
            continue
        if name == "sites":
            if not isinstance(data["sites"], dict):
                raise ScenarioFileError(f"{path}: sites must be a table of [sites.NAME] tables")
            for site, spec in check_table(data["sites"], {k: (dict, False) for k in data["sites"]}, f"{path}: [sites]").items():
                check_table(spec, SITE_KEYS, f"{path}: [sites.{site!r}]")
        else:
            check_table(data[name], keys, f"{path}: [{name}]")
    for required in ("scenario", "analysis"):
        if required not in data:
            raise ScenarioFileError(f"{path}: missing table [{required}]")
    for i, shell in enumerate(_array(data, "shells", path)):
        check_table(shell, SHELL_KEYS, f"{path}: [[shells]] #{i + 1}")
    for i, launch in enumerate(_array(data, "launches", path)):
        check_table(launch, LAUNCH_KEYS, f"{path}: [[launches]] #{i + 1}")
    for i, gateway in enumerate(_array(data, "gateways", path)):
        check_table(gateway, GATEWAY_KEYS, f"{path}: [[gateways]] #{i + 1}")
    for i, launch in enumerate(_array(data.get("catalog", {}), "launches", path)):
        check_table(launch, CATALOG_LAUNCH_KEYS, f"{path}: [[catalog.launches]] #{i + 1}")
    return data


def is_preset_file(path: str | os.PathLike) -> bool:
    """True for a constellation preset (top-level ``name`` and ``[[shells]]``, no ``[scenario]``)."""
    data = read_toml(path)
    return "scenario" not in data and "shells" in data and "name" in data


def _array(data, key, path):
    value = data.get(key, [])
    if not isinstance(value, list):
        raise ScenarioFileError(f"{path}: {key} must be an array of tables ([[{key}]])")
    return value
