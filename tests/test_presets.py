"""Newcomer friction (issue 7, item 7): what a first-time user types must work.

Every preset listed by ``orbitjax scenarios`` runs; the stage files combine with
``xr.open_mfdataset``; help texts are consistent and do not import JAX; ``compare``
works without matplotlib; batch jobs get progress lines on stderr; the notebook
names a command that exists after the README's install.
"""

import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import xarray as xr

from conftest import TINY_SCENARIO
from orbitjax.cli import main

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture()
def tiny(tmp_path):
    p = tmp_path / "tiny.toml"
    p.write_text(textwrap.dedent(TINY_SCENARIO))
    return p


def _listed(capsys):
    assert main(["scenarios"]) == 0
    text = capsys.readouterr().out
    lists = dict(line.split(":", 1) for line in text.strip().splitlines())
    return [n.strip() for n in lists["scenarios"].split(",")], [n.strip() for n in lists["presets"].split(",")]


@pytest.mark.slow
def test_every_listed_preset_runs(tmp_path, capsys):
    scenarios, presets = _listed(capsys)
    assert {"starlink_gen1", "oneweb_phase1", "telesat_lightspeed", "kuiper_2020"} <= set(presets)
    assert {"kuiper_falcon9", "kuiper_real_2025"} <= set(scenarios)  # run in test_cli / test_real_catalogues
    for name in presets:
        out = tmp_path / name
        # Sampled timing: this pins that every preset runs; the event timing is tested elsewhere
        # and compiles a ~4x larger kernel for each preset's satellite bucket.
        args = ["run", name, "--duration", "2min", "--step", "60", "--resolution", "15", "--out", str(out), "--quiet",
                "--timing", "sampled"]
        assert main(args) == 0, (name, capsys.readouterr().err)
        # A preset is one stage: the full constellation.
        assert [f.name for f in out.glob("*.nc")] == [f"{name}_stage1_full.nc"]
    capsys.readouterr()


def test_stage_files_combine_with_open_mfdataset(tiny, tmp_path):
    out = tmp_path / "o"
    assert main(["run", str(tiny), "--out", str(out), "--quiet", "--resolution", "15", "--timing", "sampled"]) == 0
    ds = xr.open_mfdataset(str(out / "*.nc"), combine="nested", concat_dim="stage", join="outer")
    with ds:
        assert list(ds.stage.values) == [1, 2]
        assert ds.percent_time_covered.dims == ("stage", "lat", "lon")
        assert ds.sizes["sat"] == 9  # outer join over names: L1-0..2 and the full stage's six
        assert float(ds.percent_time_covered.sel(stage=2).mean()) >= float(ds.percent_time_covered.sel(stage=1).mean())
    with xr.open_dataset(out / "tiny_stage1_L1.nc") as one:
        assert int(one.stage) == 1 and one.stage.dims == ()


def _help(argv, capsys) -> str:
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 0
    return capsys.readouterr().out


@pytest.mark.parametrize("command", [[], ["run"], ["compare"], ["export-tle"], ["scenarios"]])
def test_help_texts_have_no_duplicate_or_contradictory_defaults(command, capsys):
    text = " ".join(_help(command + ["--help"], capsys).split())
    assert "(default: None)" not in text
    assert not re.search(r"\(default: [^)]*\)[^(]*\(default: ", text.replace("default: ", "default: ", 1)) or \
        all(text.count(f"({d}") <= 1 for d in ("default: True", "default: False"))
    assert "default: True" not in text and "default: False" not in text
    # every option's help has at most one default
    for chunk in re.split(r"\s--?[a-z]", text):
        assert chunk.count("(default:") <= 1, chunk
    if command in (["compare"], ["scenarios"]):
        usage, _, rest = text.partition("positional arguments") if command == ["compare"] else text.partition("options:")
        assert len(usage.split()) > 12, usage  # a description beyond the usage line


def test_help_does_not_import_jax():
    code = ("import sys, orbitjax.cli as c; c._parser().format_help(); "
            "import orbitjax; orbitjax.__version__; print('jax' in sys.modules)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "False"
    proc = subprocess.run([sys.executable, "-m", "orbitjax", "--help"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and "compare" in proc.stdout


def test_x64_is_still_on_when_jax_is_imported_after_orbitjax():
    code = "import orbitjax, jax.numpy as jnp; print(jnp.zeros(1).dtype)"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.stdout.strip() == "float64", proc.stderr


def test_compare_without_matplotlib_prints_table_and_how_to_get_the_plot(tiny, tmp_path, monkeypatch, capsys):
    out = tmp_path / "o"
    assert main(["run", str(tiny), "--out", str(out), "--quiet", "--resolution", "15", "--timing", "sampled"]) == 0
    capsys.readouterr()
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError
    assert main(["compare", str(out)]) == 0
    captured = capsys.readouterr()
    assert "L1" in captured.out and "full" in captured.out
    err = captured.err.strip().splitlines()
    assert len(err) == 1 and 'pip install "orbitjax[plot]"' in err[0] and "Traceback" not in captured.err
    assert not (out / "compare.png").exists()


def test_batch_jobs_get_one_progress_line_per_stage(tiny, tmp_path, capsys):
    # Under pytest stderr is not a terminal: no bars, but a start line per stage and a 'wrote' line.
    assert main(["run", str(tiny), "--out", str(tmp_path / "o"), "--resolution", "15"]) == 0
    err = capsys.readouterr().err
    assert re.search(r"stage 1/2 L1: 3 satellites, 10 steps", err), err
    assert re.search(r"stage 2/2 full: 6 satellites", err), err
    assert err.count("wrote ") == 2
    assert "\r" not in err  # no progress-bar redraws in logs
    assert main(["run", str(tiny), "--out", str(tmp_path / "q"), "--resolution", "15", "--quiet"]) == 0
    assert "stage 1/2" not in capsys.readouterr().err


def test_notebook_instructions_name_a_command_that_works():
    text = (ROOT / "notebooks" / "make_notebook.py").read_text()
    notebook = (ROOT / "notebooks" / "kuiper_falcon9_stages.ipynb").read_text()
    for doc in (text.split('"""')[1], notebook):
        assert "jupyter nbconvert" not in doc
        assert "python notebooks/make_notebook.py --execute" in doc
    assert '"--execute" in sys.argv' in text
    import nbclient  # noqa: F401  (the command's dependency comes with the test extra)
    import ipykernel  # noqa: F401
