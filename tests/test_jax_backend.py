"""The loop's contract tests again, in a process running Keras on JAX."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_fit_contract_on_jax() -> None:
    pytest.importorskip("jax")
    env = {**os.environ, "KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu"}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_loop.py"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert " passed" in result.stdout


def test_backend_is_jax_in_that_process() -> None:
    pytest.importorskip("jax")
    env = {**os.environ, "KERAS_BACKEND": "jax"}
    out = subprocess.run(
        [sys.executable, "-c", "import keras; print(keras.backend.backend())"],
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert out.stdout.strip().endswith("jax")
