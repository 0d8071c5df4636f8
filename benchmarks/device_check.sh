#!/usr/bin/env bash
# One short device check: kernel/SGP4 tests, coverage and SGP4 benchmarks in float32 and
# float64, and `orbitjax run` on the default scenario. Writes <out>/device_check.json and
# <out>/device_check.md (a table benchmarks/RESULTS.md can include).
#
#   bash benchmarks/device_check.sh [--cpu] [--out DIR (default $OUT, else /tmp/orbitjax_device_check)] [--python PY]
#
# Default: the machine's accelerator (NVIDIA GPU with JAX's CUDA build installed), full-size
# jobs, budget < 6 minutes. --cpu: JAX_PLATFORMS=cpu, tiny sizes and a sampled-timing run (what the test suite runs).
# netCDF4/cftime/sgp4 missing: installed from wheels in benchmarks/wheels/ when present (without
# netCDF4 the `orbitjax run` step is skipped with a note). Every step has its own time limit; a failing
# step is recorded and the script goes on.
set -u
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$HERE")"
MODE=gpu
OUT="${OUT:-${TMPDIR:-/tmp}/orbitjax_device_check}"  # $OUT: the device tool's folder that comes back
PY="${PYTHON:-}"
while [ $# -gt 0 ]; do
  case "$1" in
    --cpu) MODE=cpu ;;
    --out) OUT="$2"; shift ;;
    --python) PY="$2"; shift ;;
    -h|--help) sed -n 2,11p "$0"; exit 0 ;;
    *) echo "device_check.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
if [ -z "$PY" ]; then
  if [ -x "$ROOT/.venv/bin/python" ]; then PY="$ROOT/.venv/bin/python"; else PY="$(command -v python3)"; fi
fi
mkdir -p "$OUT/logs"
OUT="$(cd "$OUT" && pwd)"
cd "$ROOT"
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
STEPS="$OUT/steps.tsv"
: > "$STEPS"
START=$(date +%s)

if [ "$MODE" = cpu ]; then
  export JAX_PLATFORMS=cpu
  TESTS="tests/test_grid.py"  # the step machinery; the suite runs every test file itself
  TEST_WORKERS=0  # one small file: xdist's two workers would only add their start-up
  T_TESTS=120; T_BENCH=120; T_RUN=120
  SGP4_ARGS="--scale 0.02 --repeats 1"
  SGP4_WORK_float64="leo"; SGP4_WORK_float32="leo"  # SDP4 compiles are the slow part
  # One coverage() row per precision (each row is a compile): event-timed in float64, sampled in float32.
  COV_ARGS="--steps 6 --resolution 10 --repeats 1 --no-baseline"
  COV_MODES_float64="default"; COV_MODES_float32="sampled"  # unset (accelerators): every row
  RUN_ARGS="--duration 10min --step 120 --resolution 10 --timing sampled"  # the CLI end to end; test_cli times events
else
  TESTS="tests/test_coverage_kernel.py tests/test_sgp4_vallado.py tests/test_sgp4_satrec.py tests/test_kepler.py"
  TEST_WORKERS=4  # not -n auto: that is one worker per core (16 on the H200 machine), all on one GPU
  T_TESTS=150; T_BENCH=75; T_RUN=60
  SGP4_ARGS="--repeats 3"
  SGP4_WORK_float64="leo,mixed,wide"; SGP4_WORK_float32="leo,mixed,wide"
  COV_ARGS="--repeats 1 --no-baseline"
  RUN_ARGS=""
fi

# step NAME TIMEOUT_S CMD...: run, log, record status and wall time.
step() {
  local name="$1" limit="$2"; shift 2
  local t0 rc
  t0=$(date +%s%N)
  timeout "$limit" "$@" > "$OUT/logs/$name.log" 2>&1
  rc=$?
  printf '%s\t%s\t%s\n' "$name" "$rc" "$(( ($(date +%s%N) - t0) / 1000000 ))e-3" >> "$STEPS"
  echo "[device_check] $name: exit $rc ($(tail -n 1 "$OUT/logs/$name.log" | cut -c1-100))"
}

"$PY" - > "$OUT/device.json" 2> "$OUT/logs/device.log" <<'EOF'
import json, jax
d = jax.devices()[0]
print(json.dumps({"backend": jax.default_backend(), "device_kind": d.device_kind, "n_devices": len(jax.devices()),
                  "jax": jax.__version__}))
EOF

# Packages an accelerator's image may lack (the H200 image has none of these): netCDF4/cftime
# for the NetCDF step, sgp4 for the SGP4 tests and the SatrecArray baseline. Installed from
# carried wheels in benchmarks/wheels/ when missing; without netCDF4 the NetCDF step is skipped.
MISSING=""
for mod in netCDF4 cftime sgp4; do "$PY" -c "import $mod" 2>/dev/null || MISSING="$MISSING $mod"; done
if [ -n "$MISSING" ] && ls "$HERE"/wheels/*.whl >/dev/null 2>&1; then
  # shellcheck disable=SC2086
  "$PY" -m pip install --no-index --find-links "$HERE/wheels" $MISSING > "$OUT/logs/wheels.log" 2>&1
fi
NOTE=""  # for the report
HAVE_NETCDF=1
if ! "$PY" -c "import netCDF4, cftime" 2>/dev/null; then
  HAVE_NETCDF=0
  NOTE="netCDF4/cftime missing and not installed from benchmarks/wheels: orbitjax run skipped"
elif [ "${MISSING#*netCDF4}" != "$MISSING" ]; then
  NOTE="netCDF4/cftime installed from benchmarks/wheels"
fi
if ! "$PY" -c "import sgp4" 2>/dev/null; then
  NOTE="${NOTE:+$NOTE; }sgp4 missing: its tests and the SatrecArray baseline fail"
fi

# shellcheck disable=SC2086
# Several test processes share the accelerator: without this each would take JAX's default 75 %
# of its memory at start-up and every one after the first would fail to allocate.
step tests "$T_TESTS" env XLA_PYTHON_CLIENT_PREALLOCATE=false "$PY" -m pytest -q -x -p no:cacheprovider \
  -n "$TEST_WORKERS" $TESTS
for dt in float64 float32; do
  # shellcheck disable=SC2086
  work="SGP4_WORK_$dt"
  step "sgp4_$dt" "$T_BENCH" "$PY" benchmarks/bench_sgp4.py --dtype "$dt" --workloads "${!work}" $SGP4_ARGS \
    --json "$OUT/sgp4_$dt.json"
done
# Coverage precision follows jax_enable_x64: orbitjax's default is float64 on CPU and
# float32 on GPUs (orbitjax.float64_by_default); both are forced here.
# shellcheck disable=SC2086
step coverage_float64 "$T_BENCH" env ORBITJAX_ENABLE_X64=1 "$PY" benchmarks/bench_coverage.py $COV_ARGS \
  ${COV_MODES_float64:+--modes "$COV_MODES_float64"} --json "$OUT/coverage_float64.json"
# shellcheck disable=SC2086
step coverage_float32 "$T_BENCH" env ORBITJAX_ENABLE_X64=0 "$PY" benchmarks/bench_coverage.py $COV_ARGS \
  ${COV_MODES_float32:+--modes "$COV_MODES_float32"} --json "$OUT/coverage_float32.json"
if [ "$HAVE_NETCDF" = 1 ]; then
  # shellcheck disable=SC2086
  step orbitjax_run "$T_RUN" "$PY" -m orbitjax.cli run --out "$OUT/run" --quiet $RUN_ARGS
else
  printf 'orbitjax_run\tskipped\t0\n' >> "$STEPS"
fi

"$PY" - "$OUT" "$MODE" "$NOTE" "$(( $(date +%s) - START ))" <<'EOF'
import json, os, sys
out, mode, note, total = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
def load(name):
    path = os.path.join(out, name)
    return json.load(open(path)) if os.path.exists(path) else None
steps = []
for line in open(os.path.join(out, "steps.tsv")):
    name, rc, wall = line.rstrip("\n").split("\t")
    steps.append({"step": name, "status": "ok" if rc == "0" else ("skipped" if rc == "skipped" else f"exit {rc}"),
                  "wall_s": float(wall)})
report = {"mode": mode, "device": load("device.json"), "total_s": total, "note": note or None,
          "steps": steps, "sgp4": {}, "coverage": {}}
for dt in ("float64", "float32"):
    s = load(f"sgp4_{dt}.json")
    if s:
        report["sgp4"][dt] = s["rows"]
    c = load(f"coverage_{dt}.json")
    if c:
        report["coverage"][dt] = c
json.dump(report, open(os.path.join(out, "device_check.json"), "w"), indent=1)

dev = report["device"] or {}
md = [f"Device check ({mode}): {dev.get('device_kind', '?')} ({dev.get('backend', '?')}, jax {dev.get('jax', '?')}), "
      f"{total} s in all." + (f" Note: {note}." if note else ""), "",
      "| what | dtype | size | orbitjax | baseline | ratio |", "| --- | --- | --- | ---: | ---: | ---: |"]
for dt, rows in report["sgp4"].items():
    for r in rows:
        base = r.get("SatrecArray_rate")
        md.append(f"| SGP4 {r['workload']} | {dt} | {r['n_sat']:,} x {r['n_time']:,} | "
                  f"{r['orbitjax_rate'] / 1e6:.1f} M sat-epochs/s | SatrecArray (host CPU) {base / 1e6:.2f} M/s | "
                  f"{r['orbitjax_rate'] / base:.1f}x |")
for dt, c in report["coverage"].items():
    for r in c["rows"]:
        md.append(f"| coverage: {r['what']} | {dt} | {c['n_sat']:,} sats x {c['n_steps']:,} steps, "
                  f"{c['resolution_deg']} deg | {r['cell_steps_per_s'] / 1e6:.1f} M cell-steps/s | | |")
for s in steps:
    if s["step"] in ("tests", "orbitjax_run"):
        md.append(f"| {s['step']} | | | {s['status']}, {s['wall_s']:.1f} s | | |")
open(os.path.join(out, "device_check.md"), "w").write("\n".join(md) + "\n")
print("\n".join(md))
EOF
echo "[device_check] wrote $OUT/device_check.json and $OUT/device_check.md"
