#!/usr/bin/env bash
# Fill a folder with the wheels bench/gpu_check.sh installs on a GPU machine without a package
# index: keras, keras-tuner, optuna and the project's other dependencies except TensorFlow and
# JAX (the GPU machine has its own JAX with CUDA), for CPython 3.12 on manylinux x86-64.
#
# Run on a machine with internet: bash bench/gpu_wheels.sh DIR [--python-version 3.12]
# then copy DIR to the GPU machine and pass it as `bench/gpu_check.sh OUT --wheels DIR`.
set -euo pipefail

usage="usage: bash bench/gpu_wheels.sh DIR [--python-version X.Y]"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
python="${PYTHON:-python3}"
version="3.12"
dir=""
while (($#)); do
    case "$1" in
        --python-version) version="${2:?$usage}"; shift 2 ;;
        -h|--help) echo "$usage"; exit 0 ;;
        -*) echo "error: unknown option $1; $usage" >&2; exit 2 ;;
        *) dir="$1"; shift ;;
    esac
done
if [[ -z "$dir" ]]; then
    echo "error: no wheels folder given; $usage" >&2
    exit 2
fi
mkdir -p "$dir"
requirements="$(mktemp)"
trap 'rm -f "$requirements"' EXIT
"$python" "$root/bench/gpu_requirements.py" >"$requirements"
# Wheels only (nothing to build there); the manylinux tags a current CUDA machine takes.
"$python" -m pip download --dest "$dir" --only-binary=:all: --python-version "$version" \
    --implementation cp --platform manylinux2014_x86_64 --platform manylinux_2_17_x86_64 \
    --platform manylinux_2_28_x86_64 -r "$requirements"
echo "$(find "$dir" -name '*.whl' | wc -l) wheels, $(du -sh "$dir" | cut -f1), in $dir"
