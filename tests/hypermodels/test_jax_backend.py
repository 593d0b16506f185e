"""The loop's contract tests again, in a process running Keras on JAX."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT, import_or_missing


def test_fit_contract_on_jax() -> None:
    """The loop's tests and the validated retrain's (learning-rate cuts reach JAX's steps)."""
    import_or_missing("jax")
    env = {**os.environ, "KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu"}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         "tests/hypermodels/test_loop.py", "tests/search/engine/test_retrain_epochs.py"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert " passed" in result.stdout


def test_backend_is_jax_in_that_process() -> None:
    import_or_missing("jax")
    env = {**os.environ, "KERAS_BACKEND": "jax"}
    out = subprocess.run(
        [sys.executable, "-c", "import keras; print(keras.backend.backend())"],
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert out.stdout.strip().endswith("jax")


def test_search_and_transfer_model_on_jax_through_the_option(tmp_path: Path, fashion_dir: Path) -> None:
    """``--backend jax``: a whole search (with Hyperband's continuation) and the transfer
    model's tests, in processes that never import TensorFlow's Keras backend."""
    import_or_missing("jax")
    env = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"}
    env["JAX_PLATFORMS"] = "cpu"
    env["SEARCH_CACHE_DIR"] = str(tmp_path / "cache")
    run = subprocess.run(
        [sys.executable, "-m", "search", "run", "fashion", "--tuner", "hyperband", "--backend",
         "jax", "--train-size", "600", "--val-size", "300", "--max-trials", "4",
         "--max-epochs", "3", "--fix", "filters=16", "--fix", "augment=true",
         "--retrain-data", "search", "--data-dir", str(fashion_dir), "--results",
         str(tmp_path), "--name", "j", "--quiet"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    meta = json.loads((tmp_path / "fashion" / "j" / "run.json").read_text())
    assert meta["versions"]["keras_backend"] == "jax" and meta["status"] == "finished"
    assert 0.0 < meta["final"]["test_accuracy"] <= 1.0
    # Compiled train steps are kept on disk and reused: Hyperband's continued trial and the
    # retrain compile nothing new (every trial builds a new model, so tracing is redone).
    trials = json.loads((tmp_path / "fashion" / "j" / "trials.json").read_text())["trials"]
    assert any(t["continues"] for t in trials)
    programs = list((tmp_path / "cache" / "jax").glob("jit_train-*-cache"))
    assert 0 < len(programs) < len(trials) + 1  # one fit per trial record, one retrain
    env["KERAS_BACKEND"] = "jax"
    tests = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         "tests/hypermodels/test_transfer.py"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert tests.returncode == 0, tests.stdout[-4000:] + tests.stderr[-2000:]
