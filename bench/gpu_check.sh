#!/usr/bin/env bash
# The whole GPU measurement as one script, for a machine with JAX and CUDA but no TensorFlow
# and no package index, lent for a few minutes: under 9 minutes on one H100/H200.
#
#   bash bench/gpu_check.sh OUTDIR --wheels DIR --data DIR [--smoke]
#
# PYTHON: the interpreter with JAX (default python3).
# --wheels: a folder of wheels filled by bench/gpu_wheels.sh (Python 3.12, manylinux x86-64):
# what PYTHON lacks, installed without dependencies into a folder on PYTHONPATH, before
# PYTHON's own packages (JAX, CUDA); the project itself runs from this checkout. --data: Fashion-MNIST's IDX files. Steps, each under its own
# time limit (a step that fails or runs out of time is recorded and the next one runs):
#   setup   the wheels (skipped without --wheels: the current environment)
#   device  nvidia-smi, jax.devices() and the versions, in OUTDIR/device.txt
#   main    python -m search run fashion --backend jax --tuner hyperband at a GPU budget
#   gain    bench/search_gain.py --runs on the main step's run: its chosen configuration's test
#           accuracy over the baseline's (the baseline retrained as the run retrained its choice)
#   schedule  bench/retrain_curve.py: the gpu space's baseline trained for a fixed number of
#           epochs with the learning rate decayed to zero (cosine), test accuracy per epoch:
#           does a longer, slower schedule than the validated retrain's cuts reach 0.945?
#   memory  bench/memory.py: RSS and device memory after every trial
#   loop    bench/loop_vs_fit.py on JAX, without and with augmentation (last: its case with
#           augmentation compiles Keras' augmentation layers in model.fit for a minute or more)
# Every step's log, JSON and CSV lands in OUTDIR, the figures in OUTDIR/summary.md.
# --smoke runs every step at tiny sizes (on an idle 2-core CPU, about three minutes); the tests
# use it.
set -euo pipefail

usage="usage: bash bench/gpu_check.sh OUTDIR --wheels DIR --data DIR [--smoke]"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="" wheels="" data="" smoke=0 begun=0
fail() { echo "error: $1" >&2; exit 2; }

# parse_args ARGS...: set out, wheels, data and smoke; refuse bad input before any work.
parse_args() {
    while (($#)); do
        case "$1" in
            --wheels) wheels="${2:?$usage}"; shift 2 ;;
            --data) data="${2:?$usage}"; shift 2 ;;
            --smoke) smoke=1; shift ;;
            -h|--help) echo "$usage"; exit 0 ;;
            -*) echo "error: unknown option $1; $usage" >&2; exit 2 ;;
            *) out="$1"; shift ;;
        esac
    done
    [[ -n "$out" ]] || fail "no OUTDIR given; $usage"
    [[ -n "$data" ]] || fail "no --data given: the folder with Fashion-MNIST's IDX files; $usage"
    ls "$data"/train-images-idx3-ubyte* >/dev/null 2>&1 \
        || fail "--data $data: no train-images-idx3-ubyte[.gz] there; give the folder with Fashion-MNIST's IDX files"
    if [[ -n "$wheels" ]]; then
        [[ -d "$wheels" ]] || fail "--wheels $wheels: not a folder; fill one with bench/gpu_wheels.sh DIR"
    elif ((!smoke)); then
        fail "no --wheels given: a folder filled by bench/gpu_wheels.sh (only --smoke may run without)"
    fi
    mkdir -p "$out"
    out="$(cd "$out" && pwd)"
    data="$(cd "$data" && pwd)"
}

# Seconds each step may take, and all of them together (the machine is lent for 15 minutes,
# its start-up included). --smoke: generous limits, for a loaded CI machine.
set_limits() {
    if ((smoke)); then
        TOTAL=600; SETUP=120; DEVICE=60; MAIN=240; LOOP=120; MEMORY=120; GAIN=120; SCHEDULE=120
        # The gpu budget's path (finalists included) on the cpu space's smallest network:
        # the finalists (and the gain step's baseline) train on every image outside the
        # 200 validation ones, which the cpu space's default network took 80-100 s for.
        MAIN_ARGS=(--budget gpu --space "$root/spaces/fashion.toml" --train-size 300
                   --val-size 200 --max-epochs 2 --finalists 2 --retrain-max-epochs 1
                   --fix filters=16 --fix conv_blocks=2 --fix dense_units=32
                   --fix batch_norm=false --fix batch_size=128)
        LOOP_ARGS=(--images 128 --filters 4 --batch-size 64 --repeats 1)
        MEMORY_ARGS=(--trials 3)
        SCHEDULE_ARGS=(--epochs 2 --train-size 300 --val-size 200 --test-size 200)
    else
        # Sized from an H200's figures (bench/RESULTS.md, 2026-12-04; setup then had no
        # compileall, a few seconds on 16 cores): setup 2 s, device
        # 10 s, main 226 s, gain 25 s, schedule about 45 s (1 s an epoch after 10 s of
        # compiling), memory's 8 trials 30 s; the loop gets what is left. The main run's
        # finalists then stopped on plateaus after 9-14 s each; on the gpu budget's cosine
        # they train all 20 epochs, about 25 s each: main gets 30 s more.
        # Its case with augmentation ran out of 60 s (Keras' augmentation layers compile
        # slowly in model.fit on JAX): the case without it is written first.
        TOTAL=540; SETUP=60; DEVICE=20; MAIN=360; LOOP=150; MEMORY=70; GAIN=60; SCHEDULE=70
        # The gpu budget as `--budget gpu` gives it (every image, fashion-gpu.toml, 3
        # finalists), its search cut from 6 minutes to 170 s so that the finalists fit too.
        MAIN_ARGS=(--budget gpu --max-search-time 170s)
        LOOP_ARGS=(--images 32768 --filters 32 --batch-size 128 --repeats 1)
        MEMORY_ARGS=(--trials 8)
        SCHEDULE_ARGS=(--epochs 30)
    fi
}
KILL_AFTER=10  # seconds between the interrupt and the kill of a step out of time
MONITOR_EVERY=5  # seconds between two readings of the GPU's use (OUTDIR/gpu_use.csv)

# step NAME LIMIT COMMAND...: run COMMAND in OUTDIR under min(LIMIT, the time left), its
# output in OUTDIR/NAME.log; record NAME, its status, seconds and limit in steps.tsv.
step() {
    local name="$1" limit="$2" rc=0 status start
    shift 2
    local left=$((TOTAL - (SECONDS - begun)))
    ((limit < left)) || limit=$left
    if ((limit <= 0)); then
        printf '%s\tskipped (no time left)\t0\t0\n' "$name" >>"$out/steps.tsv"
        echo "step $name: skipped, no time left"
        return
    fi
    start=$SECONDS
    (cd "$out" && timeout --signal=INT --kill-after="$KILL_AFTER" "$limit" "$@") \
        >"$out/$name.log" 2>&1 || rc=$?
    case "$rc" in
        0) status="ok" ;;
        124|137) status="timed out after ${limit} s" ;;
        *) status="failed (exit $rc)" ;;
    esac
    printf '%s\t%s\t%s\t%s\n' "$name" "$status" "$((SECONDS - start))" "$limit" >>"$out/steps.tsv"
    echo "step $name: $status in $((SECONDS - start)) s (log: $out/$name.log)"
}

# install_wheels SITE WHEELS PYTHON: the wheels in WHEELS (the packages the machine lacks)
# into the folder SITE, which PYTHONPATH puts before PYTHON's own packages (JAX, CUDA), then
# compiled on every core: a step importing plotly's thousands of modules uncompiled ran out
# of time compiling them.
install_wheels() {
    "$3" -m pip install --quiet --no-index --no-deps --no-compile --no-cache-dir --target "$1" \
        "$2"/*.whl
    "$3" -m compileall -q -j 0 "$1" || echo "compileall: some files did not compile (see above)"
}
export -f install_wheels

# device_info PYTHON: the accelerator, the versions, and whether TensorFlow is there at all.
device_info() {
    nvidia-smi || echo "nvidia-smi: not available"
    "$1" - <<'PY'
import importlib.util
import sys

import jax
import keras
import keras_tuner
import optuna

print("python", sys.version.split()[0], "jax", jax.__version__, "keras", keras.__version__,
      "keras-tuner", keras_tuner.__version__, "optuna", optuna.__version__)
print("tensorflow", "installed" if importlib.util.find_spec("tensorflow") else "not installed")
print("keras from", keras.__file__)
print("devices", jax.devices())
PY
}
export -f device_info

# monitor: the GPU's use and memory every MONITOR_EVERY seconds in OUTDIR/gpu_use.csv, in the
# background until the script ends (nothing without nvidia-smi).
monitor() {
    command -v nvidia-smi >/dev/null || return 0
    nvidia-smi --query-gpu=timestamp,utilization.gpu,memory.used --format=csv \
        --loop="$MONITOR_EVERY" >"$out/gpu_use.csv" 2>&1 &
    monitor_pid=$!
}

# cleanup: stop the monitor, remove the installed wheels.
cleanup() {
    [[ -z "$monitor_pid" ]] || kill "$monitor_pid" 2>/dev/null || true
    [[ -z "$site" ]] || rm -rf "$site"
}

# run_steps: every step, then OUTDIR/summary.md.
run_steps() {
    begun=$SECONDS
    : >"$out/steps.tsv"
    python="${PYTHON:-python3}"
    site="" monitor_pid="" paths="$root"  # this checkout's packages, without installing it
    trap cleanup EXIT
    monitor
    if [[ -n "$wheels" ]]; then
        site="$(mktemp -d "${TMPDIR:-/tmp}/gpu-check-site.XXXXXX")"
        step setup "$SETUP" bash -c 'install_wheels "$@"' _ "$site" "$(cd "$wheels" && pwd)" \
            "$python"
        paths="$site:$root"
    fi
    export PYTHONPATH="$paths${PYTHONPATH:+:$PYTHONPATH}"
    export KERAS_BACKEND=jax

    step device "$DEVICE" bash -c 'device_info "$1" >device.txt' _ "$python"
    step main "$MAIN" "$python" -m search run fashion --backend jax --tuner hyperband \
        --data-dir "$data" --results "$out/results" --name main "${MAIN_ARGS[@]}"
    step gain "$GAIN" "$python" "$root/bench/search_gain.py" --runs "$out/results/fashion/main" \
        --csv search_gain.csv
    step schedule "$SCHEDULE" "$python" "$root/bench/retrain_curve.py" --space \
        "$root/spaces/fashion-gpu.toml" --data-dir "$data" --cosine --json schedule.json \
        "${SCHEDULE_ARGS[@]}"
    step memory "$MEMORY" "$python" "$root/bench/memory.py" --data-dir "$data" --json memory.json \
        "${MEMORY_ARGS[@]}"
    step loop "$LOOP" "$python" "$root/bench/loop_vs_fit.py" --json loop_vs_fit.json "${LOOP_ARGS[@]}"

    "${PYTHON:-python3}" "$root/bench/gpu_summary.py" "$out" --seconds "$((SECONDS - begun))"
    echo "summary: $out/summary.md"
}

# Everything is in functions, so bash has read the whole file before it runs a step.
main() {
    parse_args "$@"
    set_limits
    run_steps
}

main "$@"
