"""The clothing experiment on the real photo set, tiny budget: slow, not run by CI."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest

from search.cli import main
from search.data import SkippedImagesWarning
from tests.conftest import ROOT, missing

CLOTHING = ROOT.parent / "shared" / "data" / "clothing-dataset-small"


@pytest.mark.slow
def test_real_clothing_search_and_export(tmp_path: Path) -> None:
    if not CLOTHING.is_dir():
        missing(f"{CLOTHING}: the clothing set is not there")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SkippedImagesWarning)
        code = main(["run", "clothing", "--tuner", "random", "--weights", "none", "--fix",
                     "base=mobilenet_v2", "--fix", "augment=false", "--fix", "fine_tune_layers=0",
                     "--image-size", "96", "--max-trials", "3", "--max-epochs", "3",
                     "--no-retrain", "--data-dir", str(CLOTHING), "--results", str(tmp_path),
                     "--name", "real", "--quiet"])  # fmt: skip
        assert code == 0
        folder = tmp_path / "clothing" / "real"
        meta = json.loads((folder / "run.json").read_text())
        assert meta["data"]["train"] == 3068 and meta["data"]["validation"] == 341
        assert len(meta["data"]["class_names"]) == 10
        output = tmp_path / "clothing.keras"
        assert main(["export", str(folder), "--output", str(output), "--retrain-max-epochs", "4",
                     "--quiet"]) == 0  # fmt: skip
        assert main(["export", str(folder), "--output", str(output), "--retrain-data", "full",
                     "--quiet"]) == 0  # fmt: skip
    validated, full = json.loads((folder / "run.json").read_text())["exports"]
    for export in (validated, full):
        assert export["image_shape"] == [224, 224, 3] and export["test_images"] == 372
    # The validated retrain trains on the train folder and watches the validation folder;
    # `full` trains on both for the search's epochs.
    assert validated["train_images"] == 3068 and full["train_images"] == 3068 + 341
    assert 1 <= validated["epochs"] <= 4 and 1 <= validated["kept_epoch"] <= validated["epochs"]
    # Random weights: far below what ImageNet weights give, but above chance (0.1).
    assert validated["test_accuracy"] > 0.1 and full["test_accuracy"] > 0.1
