"""``--precision``: mixed bfloat16 compute with float32 variables and probabilities."""

from __future__ import annotations

import json
from pathlib import Path

import keras

from search.cli import main
from search.engine._precision import MIXED, has_gpu, policy_for


def test_policies() -> None:
    assert policy_for("float32") == "float32" and policy_for("mixed") == MIXED
    assert policy_for("auto") == (MIXED if has_gpu() else "float32")


def test_mixed_search_trains_in_bfloat16_and_restores_the_policy(
    tmp_path: Path, fashion_dir: Path
) -> None:
    assert main(["run", "fashion", "--tuner", "random", "--precision", "mixed", "--train-size",
                 "400", "--val-size", "200", "--max-trials", "1", "--max-epochs", "2",
                 "--fix", "filters=16", "--retrain-data", "search", "--data-dir",
                 str(fashion_dir), "--results", str(tmp_path), "--name", "m", "--quiet"]) == 0  # fmt: skip
    folder = tmp_path / "fashion" / "m"
    meta = json.loads((folder / "run.json").read_text())
    assert meta["precision"] == MIXED and meta["request"]["precision"] == "mixed"
    trial = json.loads((folder / "trials.json").read_text())["trials"][0]
    assert trial["status"] == "completed" and 0.0 <= trial["best"]["val_accuracy"] <= 1.0
    model = keras.models.load_model(folder / "best_model.keras")
    assert model.get_layer("inner").dtype_policy.name == MIXED
    assert model.get_layer("inner").kernel.dtype == "float32"  # variables stay float32
    assert model.get_layer("classes").dtype_policy.name == "float32"
    assert keras.mixed_precision.global_policy().name == "float32"  # restored after the run


def test_unknown_precision_is_refused(tmp_path: Path, capsys) -> None:
    assert main(["run", "fashion", "--tuner", "random", "--precision", "half",
                 "--results", str(tmp_path)]) == 2  # fmt: skip
    assert "--precision 'half': choose one of auto, float32, mixed" in capsys.readouterr().err
