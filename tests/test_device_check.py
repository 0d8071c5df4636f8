"""benchmarks/device_check.sh --cpu runs end to end, so the GPU script never rots."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "device_check.sh"


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("bash") is None or shutil.which("timeout") is None, reason="needs bash and timeout")
def test_device_check_cpu_mode(tmp_path):
    # A clean JAX environment, except the suite's XLA_FLAGS (its -O0 halves the compiles here).
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JAX_", "XLA_")) or k == "XLA_FLAGS"}
    proc = subprocess.run(
        ["bash", str(SCRIPT), "--cpu", "--out", str(tmp_path), "--python", sys.executable],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads((tmp_path / "device_check.json").read_text())
    assert report["mode"] == "cpu"
    assert report["device"]["backend"] == "cpu"
    status = {s["step"]: s["status"] for s in report["steps"]}
    logs = {p.name: p.read_text()[-2000:] for p in (tmp_path / "logs").glob("*.log")}
    assert all(v in ("ok", "skipped") for v in status.values()), (status, logs)
    assert {"tests", "sgp4_float64", "sgp4_float32", "coverage_float64", "coverage_float32"} <= set(status)
    for dt in ("float64", "float32"):
        rows = report["sgp4"][dt]
        assert {r["workload"] for r in rows} >= {"leo"}
        for r in rows:
            assert r["orbitjax_rate"] > 0 and r["SatrecArray_rate"] > 0
            assert r["codes_equal"]
            assert r["max_dr_km"] < (1e-6 if dt == "float64" else 1.0)
        cov = report["coverage"][dt]
        assert cov["x64"] == (dt == "float64")
        assert all(row["cell_steps_per_s"] > 0 for row in cov["rows"])
        assert len(cov["rows"]) == 2  # the count kernel and the one coverage() row of the CPU mode
    if status.get("orbitjax_run") == "ok":
        assert list((tmp_path / "run").glob("*.nc"))
    table = (tmp_path / "device_check.md").read_text()
    assert "| SGP4 leo | float64 |" in table and "coverage" in table
