"""The fail-fast memory estimate against a real run's peak resident memory (an event-timed
run on a fine global grid, where the per-cell arrays dominate): an upper bound, not a wild one."""

import json
import subprocess
import sys

import pytest

from orbitjax.memory import RunSize, estimate_bytes

SCRIPT = """
import json
import orbitjax
from orbitjax.timescales import time_grid
shell = orbitjax.walker(altitude_km=630, inclination_deg=51.9, planes=3, sats_per_plane=8, phasing=1,
                        min_elevation_deg=35, epoch="2025-10-15T00:00:00", shell="A")
ds = orbitjax.coverage(shell, time_grid("2025-10-15T00:00:00", 180, 60), resolution_deg=0.2, progress=False,
                       save_raster=False, save_positions=False)
# VmHWM, not ru_maxrss: Linux carries ru_maxrss across fork + exec, so a child of a large
# pytest process would report the parent's resident size (5.4 GB seen in a full run).
hwm = next(line for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(json.dumps({"peak": int(hwm.split()[1]) * 1024}))
"""


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/status")
def test_event_timed_fine_grid_peak_is_within_the_estimate():
    proc = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    peak = json.loads(proc.stdout.strip().splitlines()[-1])["peak"]
    # 0.2 deg: 1.6 M cells; the event-cell-step cap gives 1-step chunks. 24 sats pad to 64.
    est = estimate_bytes(RunSize(n_sat=64, n_times=3, resolution_deg=0.2, chunk_steps=1, n_rows=40))["total"]
    assert peak <= est, f"peak {peak / 1e9:.2f} GB above the estimate {est / 1e9:.2f} GB"
    assert peak >= 0.5 * est, f"peak {peak / 1e9:.2f} GB far below the estimate {est / 1e9:.2f} GB"
