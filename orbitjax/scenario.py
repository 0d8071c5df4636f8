"""Scenarios: launch-by-launch deployments, cumulative stages and analysis windows.

A scenario file (TOML, see ``data/kuiper_falcon9.toml``) lists shells (or a
preset constellation), launches and the analysis window. Stage ``k`` holds every
satellite launched up to and including launch ``k``; with ``reference_stage``
a last stage holds the full constellation. This module turns the checked file
values (``orbitjax.io.scenario_file``) into :class:`Constellation` objects.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path

import numpy as np

from .constellation import Constellation, concat, launch_plane, walker
from .io.scenario_file import ScenarioFileError, is_preset_file, read_preset, read_scenario
from .kernels.grid import make_grid
from .timescales import as_datetime64, parse_duration_s, time_grid


def bundled_data_dir() -> Path:
    """Directory of the bundled scenarios, presets and catalogues.

    Installed, ``data/`` is the package ``orbitjax.data``; from a source checkout
    without installation it is the repository's ``data/`` folder.
    """
    try:
        return Path(str(resources.files("orbitjax.data")))
    except ModuleNotFoundError:
        return Path(__file__).resolve().parent.parent / "data"


def bundled_scenarios() -> list[str]:
    """Names of the bundled scenario files (presets excluded)."""
    return sorted(p.stem for p in bundled_data_dir().glob("*.toml") if "[scenario]" in p.read_text())


DEFAULT_SCENARIO = "kuiper_falcon9"
_LAUNCH_ID_RE = re.compile(r"^\d{4}-\d{3}$")
MIN_RESOLUTION_DEG = 0.05  # 3600 x 7200 cells
MAX_STEPS = 10_000_000
_LAST_NS_TIME_S = float(np.iinfo(np.int64).max) / 1e9  # 2262-04-11T23:47:16Z
PRESET_ANALYSIS = {"start": "2025-01-01T00:00:00", "duration": "1d", "step_s": 60.0, "resolution_deg": 1.0}
"""Analysis window of a preset run as a scenario (``orbitjax run starlink_gen1``)."""


@dataclass(frozen=True)
class Shell:
    """One Walker shell: geometry, pattern and its own minimum elevation."""

    name: str
    altitude_km: float
    inclination_deg: float
    planes: int
    sats_per_plane: int
    min_elevation_deg: float
    phasing: int = 1
    pattern: str = "delta"
    raan0_deg: float = 0.0
    half_angle_deg: float | None = None
    """Optional nadir-pointing cone sensor (``orbitjax.coverage(half_angle_deg=...)``)."""

    def __post_init__(self):
        for key in ("altitude_km", "inclination_deg", "min_elevation_deg", "raan0_deg"):
            if not np.isfinite(getattr(self, key)):
                raise ValueError(f"shell {self.name!r}: {key} = {getattr(self, key)} is not a finite number")
        if self.half_angle_deg is not None and not 0.0 < self.half_angle_deg < 90.0:
            raise ValueError(f"shell {self.name!r}: half_angle_deg = {self.half_angle_deg} is outside (0, 90)")
        if not 0.0 <= self.inclination_deg <= 180.0:
            raise ValueError(f"shell {self.name!r}: inclination_deg = {self.inclination_deg} is outside [0, 180]")
        if not 0.0 <= self.min_elevation_deg < 90.0:
            raise ValueError(f"shell {self.name!r}: min_elevation_deg = {self.min_elevation_deg} is outside [0, 90)")
        if self.altitude_km <= 0:
            raise ValueError(f"shell {self.name!r}: altitude_km = {self.altitude_km} must be positive")

    @property
    def size(self) -> int:
        return self.planes * self.sats_per_plane

    def constellation(self, epoch) -> Constellation:
        """The full Walker shell with plane 0 at ``raan0_deg`` at ``epoch``."""
        return walker(
            altitude_km=self.altitude_km,
            inclination_deg=self.inclination_deg,
            planes=self.planes,
            sats_per_plane=self.sats_per_plane,
            phasing=self.phasing,
            pattern=self.pattern,
            min_elevation_deg=self.min_elevation_deg,
            epoch=epoch,
            raan0_deg=self.raan0_deg,
            shell=self.name,
        )


@dataclass(frozen=True)
class Site:
    """A launch site (geodetic latitude and longitude, degrees)."""

    name: str
    lat_deg: float
    lon_deg: float

    def __post_init__(self):
        if not (np.isfinite(self.lat_deg) and -90.0 <= self.lat_deg <= 90.0):
            raise ValueError(f"site {self.name!r}: lat_deg = {self.lat_deg} is outside [-90, 90]")
        if not np.isfinite(self.lon_deg):
            raise ValueError(f"site {self.name!r}: lon_deg = {self.lon_deg} is not a finite number")


@dataclass(frozen=True)
class Launch:
    """One launch: it adds ``satellites`` satellites of ``shell`` at ``date``.

    ``plane`` is an integer plane of the shell's Walker grid (its first slots are
    filled) or ``"from_launch"``: the plane through ``site`` at liftoff.
    """

    name: str
    date: np.datetime64
    shell: str
    satellites: int
    vehicle: str = ""
    site: Site | None = None
    plane: int | str = "from_launch"


@dataclass(frozen=True)
class Analysis:
    """The analysis window, time step and grid.

    ``region``: None (the globe) or an :class:`orbitjax.regions.Region` (``[target]``):
    the grid then covers the region's box, at resolutions down to 0.01 deg.
    """

    start: np.datetime64
    duration_s: float
    step_s: float
    resolution_deg: float = 1.0
    chunk_steps: int | None = None
    region: object = None

    def __post_init__(self):
        if not np.isfinite(self.step_s) or self.step_s <= 0:
            raise ValueError(f"step_s = {self.step_s} must be a positive number of seconds")
        if not np.isfinite(self.duration_s) or self.duration_s <= 0:
            raise ValueError(f"duration = {self.duration_s} s must be positive")
        if self.step_s > self.duration_s:
            raise ValueError(f"step_s = {self.step_s} is longer than the duration {self.duration_s} s")
        if self.region is not None:
            self.region.grid(self.resolution_deg)  # the resolution must divide the region's box
        elif make_grid(self.resolution_deg).resolution_deg < MIN_RESOLUTION_DEG:
            raise ValueError(f"resolution_deg = {self.resolution_deg} is finer than the supported {MIN_RESOLUTION_DEG} deg")
        if self.duration_s / self.step_s > MAX_STEPS:
            raise ValueError(
                f"duration / step_s = {self.duration_s / self.step_s:.3g} time steps; at most {MAX_STEPS:,} are supported"
            )
        if self.chunk_steps is not None and self.chunk_steps < 1:
            raise ValueError(f"chunk_steps = {self.chunk_steps} must be at least 1")
        # The window's last sample must be a datetime64[ns] (int64 ns since 1970): beyond
        # 2262-04-11 the time axis would wrap around silently.
        end_s = float(np.datetime64(self.start, "ns").astype(np.int64)) / 1e9 + self.duration_s
        if end_s >= _LAST_NS_TIME_S:
            raise ValueError(
                f"the window {np.datetime_as_string(np.datetime64(self.start, 's'))}Z + {self.duration_s / 86400:g} days "
                "ends after 2262-04-11, the last time datetime64[ns] can hold; shorten the duration"
            )

    @property
    def times(self) -> np.ndarray:
        """The UTC time grid (datetime64[ns])."""
        return time_grid(self.start, self.duration_s, self.step_s)


@dataclass(frozen=True)
class Stage:
    """A deployment stage: the satellites in orbit after ``launches``."""

    index: int
    name: str
    launches: tuple[str, ...]
    date: np.datetime64 | None
    satellites: Constellation

    def __repr__(self) -> str:
        return f"Stage({self.index}, {self.name!r}, {len(self.satellites)} satellites)"


@dataclass(frozen=True)
class Scenario:
    """A deployment scenario: shells, launches, analysis window and output naming."""

    name: str
    shells: tuple[Shell, ...]
    launches: tuple[Launch, ...]
    analysis: Analysis
    description: str = ""
    reference_stage: bool = True
    output_prefix: str = ""
    output_dir: str = "out"
    save_raster: bool | None = None
    source: str = ""
    constellation_name: str = ""
    catalog: dict = field(default_factory=dict)
    sun_elevation_min_deg: float | None = None
    gateways: tuple = ()
    """``(name, lat_deg, lon_deg, alt_m, min_elevation_deg)`` rows of ``[[gateways]]``."""

    def shell(self, name: str) -> Shell:
        for s in self.shells:
            if s.name == name:
                return s
        raise ValueError(f"scenario {self.name!r}: unknown shell {name!r}; expected one of {[s.name for s in self.shells]}")

    def catalog_coverage_kwargs(self) -> dict:
        """Extra :func:`orbitjax.coverage` arguments of a catalogue scenario."""
        return {"min_elevation_deg": float(self.catalog["min_elevation_deg"])} if self.catalog else {}

    def with_catalog(self, path, *, stage_by: str = "launch", min_elevation_deg: float | None = None) -> "Scenario":
        """A copy whose satellites come from a TLE/OMM file instead of the shells and launches."""
        if min_elevation_deg is None:
            elevations = {s.min_elevation_deg for s in self.shells}
            if len(elevations) != 1:
                raise ValueError("a catalogue run needs a minimum elevation (--min-elevation)")
            min_elevation_deg = elevations.pop()
        catalog = {"file": str(path), "stage_by": stage_by, "min_elevation_deg": float(min_elevation_deg)}
        cones = {s.half_angle_deg for s in self.shells}
        if len(cones) == 1 and None not in cones:  # the shells' one cone carries over, like the mask
            catalog["half_angle_deg"] = float(cones.pop())
        return replace(self, catalog=catalog, reference_stage=False)

    def sensor_kwargs(self, satellites) -> dict:
        """:func:`orbitjax.coverage` arguments for the cones, daylight and gateways of a stage's satellites.

        Cones come per shell (``half_angle_deg`` on ``[[shells]]``; NaN for shells
        without) or, for a catalogue, from ``[catalog] half_angle_deg``.
        """
        out: dict = {}
        if self.catalog:
            if self.catalog.get("half_angle_deg") is not None:
                out["half_angle_deg"] = float(self.catalog["half_angle_deg"])
        else:
            cones = {s.name: s.half_angle_deg for s in self.shells if s.half_angle_deg is not None}
            if cones:
                out["half_angle_deg"] = np.array([cones.get(str(sh), np.nan) for sh in satellites.shell])
        if self.sun_elevation_min_deg is not None:
            out["sun_elevation_min_deg"] = float(self.sun_elevation_min_deg)
        if self.gateways:
            from .constraints import Gateways  # noqa: PLC0415
            from .io.sites import Sites  # noqa: PLC0415

            rows = [g[:4] for g in self.gateways]
            out["gateways"] = Gateways(Sites.from_rows(rows), np.array([g[4] for g in self.gateways]))
        return out

    def with_sensors(self, *, half_angle_deg: float | None = None, sun_elevation_min_deg: float | None = None,
                     gateways=None, gateway_min_elevation_deg: float | None = None) -> "Scenario":
        """A copy with a cone on every shell (and the catalogue), a daylight limit, or gateways
        (a sites file, Sites or rows; ``gateway_min_elevation_deg`` default 10) replacing the file's."""
        changes: dict = {}
        if half_angle_deg is not None:
            changes["shells"] = tuple(replace(s, half_angle_deg=float(half_angle_deg)) for s in self.shells)
            if self.catalog:
                changes["catalog"] = {**self.catalog, "half_angle_deg": float(half_angle_deg)}
        if sun_elevation_min_deg is not None:
            changes["sun_elevation_min_deg"] = float(sun_elevation_min_deg)
        if gateways is not None:
            from .constraints import as_gateways  # noqa: PLC0415

            gw = as_gateways(gateways, gateway_min_elevation_deg)
            s = gw.sites
            changes["gateways"] = tuple(zip(s.name.tolist(), s.lat_deg.tolist(), s.lon_deg.tolist(), s.alt_m.tolist(),
                                            gw.min_elevation_deg.tolist()))
        elif gateway_min_elevation_deg is not None:
            if not self.gateways:
                raise ValueError("a gateway minimum elevation needs gateways (--gateways FILE or [[gateways]])")
            changes["gateways"] = tuple(g[:4] + (float(gateway_min_elevation_deg),) for g in self.gateways)
        return replace(self, **changes)

    def with_analysis(self, **changes) -> "Scenario":
        """A copy with analysis fields replaced (e.g. ``duration_s=3600``)."""
        return replace(self, analysis=replace(self.analysis, **changes))

    def stages(self) -> list[Stage]:
        """Cumulative stages in launch order, then the reference stage if requested.

        Raises:
          ValueError naming the scenario file when a stage cannot be built.
        """
        try:
            return self._stages()
        except ScenarioFileError:
            raise
        except ValueError as exc:
            # An error that names the catalogue file (e.g. a --tle file's bad line) is about that file.
            names_catalog = bool(self.catalog) and str(self.catalog.get("file", "")) in str(exc)
            if self.source and not names_catalog:
                raise ValueError(f"{self.source}: {exc}") from None
            raise

    def _stages(self) -> list[Stage]:
        if self.catalog:
            from .catalog_stages import catalog_stages  # noqa: PLC0415 (optional path)

            return catalog_stages(self)
        ordered = sorted(self.launches, key=lambda launch: launch.date)
        late = [x.name for x in ordered if x.date > self.analysis.start]
        if late:
            raise ValueError(
                f"scenario {self.name!r}: launch {late[0]} is after the analysis start "
                f"{np.datetime_as_string(self.analysis.start, unit='s')}Z; move [analysis] start after the last launch"
            )
        parts, stages, used = [], [], {}
        for k, launch in enumerate(ordered, start=1):
            parts.append(self._launch_satellites(launch, used))
            stages.append(
                Stage(k, launch.name, tuple(x.name for x in ordered[:k]), launch.date, concat(parts))
            )
        if self.reference_stage:
            full = concat(s.constellation(self.analysis.start) for s in self.shells)
            stages.append(Stage(len(stages) + 1, "full", tuple(x.name for x in ordered), None, full))
        if not stages:
            raise ValueError(f"scenario {self.name!r} has no launches and no reference stage")
        return stages

    def _launch_satellites(self, launch: Launch, used: dict) -> Constellation:
        """The satellites ``launch`` adds; ``used`` counts slots already filled per (shell, plane)."""
        shell = self.shell(launch.shell)
        n = launch.satellites
        if launch.plane == "from_launch":
            if launch.site is None:
                raise ValueError(f"launch {launch.name!r}: plane = 'from_launch' needs a site")
            if n > shell.sats_per_plane:  # as for an explicit plane: a launch fills (part of) one plane
                raise ValueError(f"launch {launch.name!r}: {n} satellites do not fit one plane of shell "
                                 f"{shell.name!r} (sats_per_plane = {shell.sats_per_plane})")
            raan, u0 = launch_plane(
                launch_time=launch.date,
                site_lat_deg=launch.site.lat_deg,
                site_lon_deg=launch.site.lon_deg,
                inclination_deg=shell.inclination_deg,
            )
            grid = walker(
                altitude_km=shell.altitude_km,
                inclination_deg=shell.inclination_deg,
                planes=1,
                sats_per_plane=n,
                phasing=0,
                min_elevation_deg=shell.min_elevation_deg,
                epoch=launch.date,
                raan0_deg=raan,
                shell=shell.name,
            )
            width = len(str(n - 1))
            return replace(
                grid,
                name=np.array([f"{launch.name}-{k:0{width}d}" for k in range(n)]),
                mean_anomaly_deg=np.mod(grid.mean_anomaly_deg + u0, 360.0),
            )
        plane = int(launch.plane)
        if not 0 <= plane < shell.planes:
            raise ValueError(f"launch {launch.name!r}: plane {plane} is outside 0..{shell.planes - 1} of shell {shell.name!r}")
        first = used.get((shell.name, plane), 0)
        if first + n > shell.sats_per_plane:
            raise ValueError(
                f"launch {launch.name!r}: {n} more satellites do not fit plane {plane} of shell {shell.name!r} "
                f"({first} of its {shell.sats_per_plane} slots are already filled)"
            )
        used[(shell.name, plane)] = first + n
        full = shell.constellation(self.analysis.start)
        return full[(full.plane == plane) & (full.slot >= first) & (full.slot < first + n)]


def resolve_scenario_path(name_or_path: str | os.PathLike) -> Path:
    """A bundled scenario name (e.g. 'kuiper_falcon9') or a path to a TOML file."""
    text = str(name_or_path)
    path = Path(text)
    if path.suffix == ".toml" or os.sep in text or path.exists():
        return path
    candidate = bundled_data_dir() / f"{text}.toml"
    if candidate.exists():
        return candidate
    raise ScenarioFileError(
        f"no scenario named {text!r}: not a file, and not one of the bundled {', '.join(bundled_scenarios())}"
    )


def _resolve_preset(name: str, scenario_path: Path) -> Path:
    for base in (scenario_path.parent, bundled_data_dir()):
        p = base / (name if name.endswith(".toml") else f"{name}.toml")
        if p.exists():
            return p
    raise ScenarioFileError(f"{scenario_path}: [scenario] constellation = {name!r}: no such preset")


def _datetime64(value, where: str) -> np.datetime64:
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
    try:
        return as_datetime64(value)
    except (ValueError, TypeError):
        raise ScenarioFileError(f"{where}: {value!r} is not a UTC date-time like 2025-10-15T00:00:00Z") from None


def _shells(specs, where: str) -> list[Shell]:
    out = []
    for i, spec in enumerate(specs):
        try:
            out.append(Shell(**spec))
        except ValueError as exc:
            raise ScenarioFileError(f"{where} [[shells]] #{i + 1}: {exc}") from None
    return out


def load_preset(name_or_path: str | os.PathLike, epoch=None) -> Constellation:
    """A bundled preset constellation ('kuiper_2020', 'starlink_gen1', 'oneweb_phase1',
    'telesat_lightspeed') or a preset TOML file, as a :class:`Constellation` at ``epoch``
    (default 2025-01-01T00:00Z)."""
    text = str(name_or_path)
    path = Path(text) if text.endswith(".toml") else bundled_data_dir() / f"{text}.toml"
    data = read_preset(path)
    epoch = as_datetime64("2025-01-01T00:00:00" if epoch is None else epoch)
    return concat(s.constellation(epoch) for s in _shells(data["shells"], str(path)))


def _preset_scenario(path: Path) -> Scenario:
    """A preset file run as a scenario: one stage, the full constellation, over :data:`PRESET_ANALYSIS`."""
    data = read_preset(path)
    a = PRESET_ANALYSIS
    analysis = Analysis(start=as_datetime64(a["start"]), duration_s=parse_duration_s(a["duration"]),
                        step_s=a["step_s"], resolution_deg=a["resolution_deg"])
    return Scenario(
        name=data["name"],
        description=data.get("description", ""),
        shells=tuple(_shells(data["shells"], str(path))),
        launches=(),
        analysis=analysis,
        reference_stage=True,
        output_prefix=data["name"],
        source=str(path),
        constellation_name=data["name"],
    )


def _catalog_launches(specs, where: str) -> dict:
    """``[[catalog.launches]]`` -> {COSPAR launch id: (name, date)}."""
    out = {}
    for i, spec in enumerate(specs):
        lw = f"{where}: [[catalog.launches]] #{i + 1}"
        if not _LAUNCH_ID_RE.match(spec["id"]):
            raise ScenarioFileError(f"{lw}: id = {spec['id']!r}; expected a COSPAR launch 'YYYY-NNN' like '2025-151'")
        if spec["id"] in out:
            raise ScenarioFileError(f"{lw}: launch {spec['id']!r} is listed twice")
        date = _datetime64(spec["date"], f"{lw} date") if "date" in spec else None
        out[spec["id"]] = (spec.get("name", spec["id"]), date)
    return out


def _target_region(target: dict | None, path: Path):
    """``[target]`` -> a Region: ``region`` (country name/ISO code, or a polygon file relative to the
    scenario, with ``feature`` picking one feature) or ``box = [south, north, west, east]``."""
    if not target or not {"region", "box", "feature"} & set(target):  # e.g. only a daylight limit
        return None
    from .regions import as_region, file_region  # noqa: PLC0415 (shapely only for regions)

    where = f"{path}: [target]"
    if ("region" in target) == ("box" in target):
        raise ScenarioFileError(f"{where}: give exactly one of region = \"NAME\" or box = [south, north, west, east]")
    if "feature" in target and "region" not in target:
        raise ScenarioFileError(f"{where}: feature applies to a polygon file given as region")
    try:
        if "box" in target:
            return as_region(tuple(target["box"]))
        spec = target["region"]
        file = path.parent / spec
        if Path(spec).suffix.lower() in (".geojson", ".json", ".shp"):
            return file_region(file, target.get("feature"))
        if "feature" in target:
            raise ValueError(f"feature = {target['feature']!r} needs region to be a polygon file")
        return as_region(spec)
    except ValueError as exc:
        raise ScenarioFileError(f"{where}: {exc}") from None


def load_scenario(name_or_path: str | os.PathLike = DEFAULT_SCENARIO) -> Scenario:
    """Read and check a scenario (bundled name or TOML path).

    Raises:
      orbitjax.io.scenario_file.ScenarioFileError (a ValueError) with a one-line
      message naming the file, the key and what was expected.
    """
    path = resolve_scenario_path(name_or_path)
    if is_preset_file(path):
        return _preset_scenario(path)
    data = read_scenario(path)
    where = str(path)
    meta = data["scenario"]
    shells: list[Shell] = []
    if "constellation" in meta:
        preset_path = _resolve_preset(meta["constellation"], path)
        shells += _shells(read_preset(preset_path)["shells"], str(preset_path))
    inline = _shells(data.get("shells", []), where)
    names = [s.name for s in inline]
    if len(set(names)) != len(names):
        raise ScenarioFileError(f"{where}: [[shells]] names must be unique, got {names}")
    shells = [s for s in shells if s.name not in set(names)] + inline
    launch_names = [spec["name"] for spec in data.get("launches", [])]
    if len(set(launch_names)) != len(launch_names):
        dup = next(n for n in launch_names if launch_names.count(n) > 1)
        raise ScenarioFileError(f"{where}: launch name {dup!r} is used twice; names label the satellites and stages")

    a = data["analysis"]
    try:
        analysis = Analysis(
            start=_datetime64(a["start"], f"{where}: [analysis] start"),
            duration_s=parse_duration_s(a["duration"]),
            step_s=float(a["step_s"]),
            resolution_deg=float(a.get("resolution_deg", 1.0)),
            chunk_steps=a.get("chunk_steps"),
            region=_target_region(data.get("target"), path),
        )
    except ScenarioFileError:
        raise
    except ValueError as exc:
        raise ScenarioFileError(f"{where}: [analysis] {exc}") from None

    try:
        sites = {k: Site(v.get("name", k), float(v["lat_deg"]), float(v["lon_deg"])) for k, v in data.get("sites", {}).items()}
    except ValueError as exc:
        raise ScenarioFileError(f"{where}: [sites] {exc}") from None
    launches = []
    shell_names = {s.name for s in shells}
    for i, spec in enumerate(data.get("launches", [])):
        lw = f"{where}: [[launches]] #{i + 1} ({spec['name']})"
        if spec["shell"] not in shell_names:
            raise ScenarioFileError(f"{lw}: shell {spec['shell']!r} is not defined; expected one of {sorted(shell_names)}")
        if spec.get("site") is not None and spec["site"] not in sites:
            raise ScenarioFileError(f"{lw}: site {spec['site']!r} is not in [sites]; expected one of {sorted(sites)}")
        if spec["satellites"] < 1:
            raise ScenarioFileError(f"{lw}: satellites = {spec['satellites']} must be at least 1")
        plane = spec.get("plane", "from_launch")
        if isinstance(plane, str) and plane != "from_launch":
            raise ScenarioFileError(f"{lw}: plane = {plane!r}; expected an integer or 'from_launch'")
        launches.append(
            Launch(
                name=spec["name"],
                date=_datetime64(spec["date"], f"{lw} date"),
                shell=spec["shell"],
                satellites=spec["satellites"],
                vehicle=spec.get("vehicle", ""),
                site=sites.get(spec.get("site")),
                plane=plane,
            )
        )
    out = data.get("output", {})
    catalog = dict(data.get("catalog", {}))
    if catalog:
        catalog["file"] = str((path.parent / catalog["file"]).resolve()) if not Path(catalog["file"]).is_absolute() else catalog["file"]
        catalog["launches"] = _catalog_launches(catalog.get("launches", []), where)
    if not shells and not catalog:
        raise ScenarioFileError(f"{where}: no shells: set [scenario] constellation, add [[shells]] or a [catalog]")
    sun_min, gateways = _target_and_gateways(data, where)
    # File names in the output folder only: an explicit prefix is checked, the name made safe.
    prefix = out.get("prefix", re.sub(r"[^A-Za-z0-9_.+-]+", "_", meta["name"]).strip("_.") or "orbitjax")
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.+-]*", prefix):
        raise ScenarioFileError(f"{where}: [output] prefix = {prefix!r}: expected letters, digits, '_', '-', '.' "
                                "or '+', starting with a letter or digit (no folders: --out sets the folder)")
    scenario = Scenario(
        name=meta["name"],
        description=meta.get("description", ""),
        shells=tuple(shells),
        launches=tuple(launches),
        analysis=analysis,
        reference_stage=meta.get("reference_stage", True) and not catalog,
        output_prefix=prefix,
        output_dir=out.get("directory", "out"),
        save_raster=out.get("save_raster"),
        source=str(path),
        constellation_name=meta.get("constellation", ""),
        catalog=catalog,
        sun_elevation_min_deg=sun_min,
        gateways=gateways,
    )
    return scenario


def _target_and_gateways(data: dict, where: str):
    """``[target] sun_elevation_min_deg`` and ``[[gateways]]`` rows, checked (one-line errors)."""
    from .constraints import DEFAULT_GATEWAY_MIN_ELEVATION_DEG, check_sun_elevation  # noqa: PLC0415
    from .io.sites import Sites  # noqa: PLC0415

    sun = data.get("target", {}).get("sun_elevation_min_deg")
    if sun is not None:
        try:
            sun = check_sun_elevation(sun)
        except ValueError as exc:
            raise ScenarioFileError(f"{where}: [target] {exc}") from None
    rows = []
    for i, g in enumerate(data.get("gateways", [])):
        gw = f"{where}: [[gateways]] #{i + 1} ({g['name']})"
        el = float(g.get("min_elevation_deg", DEFAULT_GATEWAY_MIN_ELEVATION_DEG))
        if not 0.0 <= el < 90.0:
            raise ScenarioFileError(f"{gw}: min_elevation_deg = {el} is outside [0, 90)")
        rows.append((g["name"], float(g["lat_deg"]), float(g["lon_deg"]), float(g.get("alt_m", 0.0)), el))
    if rows:
        try:
            Sites.from_rows([r[:4] for r in rows])  # names unique, coordinates in range
        except ValueError as exc:
            raise ScenarioFileError(f"{where}: [[gateways]] {exc}") from None
    return sun, tuple(rows)
