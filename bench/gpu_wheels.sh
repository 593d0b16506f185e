#!/usr/bin/env bash
# Fill a folder with the wheels bench/gpu_check.sh installs on a GPU machine without a package
# index: keras, keras-tuner, optuna and the project's other dependencies except TensorFlow and
# JAX (the GPU machine has its own JAX with CUDA), for CPython 3.12 on manylinux x86-64.
#
# Run on a machine with internet:
#   bash bench/gpu_wheels.sh DIR [--python-version X.Y] [--have FILE]
# then copy DIR to the GPU machine and pass it as `bench/gpu_check.sh OUT --wheels DIR`.
# pip resolves the requirements for that Python and platform; --have FILE (package names, one
# a line, e.g. bench/gpu_have.txt: what the lent H200 machine has) leaves out what the GPU
# machine has already, so that the folder stays small enough to carry.
set -euo pipefail

usage="usage: bash bench/gpu_wheels.sh DIR [--python-version X.Y] [--have FILE]"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
python="${PYTHON:-python3}"
version="3.12"
dir="" have=""
while (($#)); do
    case "$1" in
        --python-version) version="${2:?$usage}"; shift 2 ;;
        --have) have="${2:?$usage}"; shift 2 ;;
        -h|--help) echo "$usage"; exit 0 ;;
        -*) echo "error: unknown option $1; $usage" >&2; exit 2 ;;
        *) dir="$1"; shift ;;
    esac
done
if [[ -z "$dir" ]]; then
    echo "error: no wheels folder given; $usage" >&2
    exit 2
fi
if [[ -n "$have" && ! -f "$have" ]]; then
    echo "error: --have $have: no such file; give a file of package names, one a line" >&2
    exit 2
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# Wheels only (nothing to build there); the manylinux tags a current CUDA machine takes.
target=(--only-binary=:all: --python-version "$version" --implementation cp
        --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64
        --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64)
"$python" "$root/bench/gpu_requirements.py" >"$work/requirements.txt"
"$python" -m pip install --quiet --dry-run --ignore-installed --report "$work/report.json" \
    --target "$work/target" "${target[@]}" -r "$work/requirements.txt"
"$python" "$root/bench/gpu_requirements.py" --missing "$work/report.json" "${have:-/dev/null}" \
    >"$work/pins.txt"
mkdir -p "$dir"
"$python" -m pip download --quiet --no-deps --dest "$dir" "${target[@]}" -r "$work/pins.txt"
echo "$(find "$dir" -name '*.whl' | wc -l) wheels, $(du -sh "$dir" | cut -f1), in $dir"
