"""What trials.json records of each trial."""

from __future__ import annotations

import json
from pathlib import Path

import search
from tests import user_models as um


def test_the_baseline_records_the_hyperparameters_its_fit_declared(tmp_path: Path) -> None:
    """TunedFit's fit declares shuffle and batch_size: the first trial (the baseline) trains
    with their defaults, and says so, as KerasTuner's trial does."""
    x, y = um.tiny_data(60)
    search.run(um.TunedFit(), x, y, tuner="random", max_trials=1, max_epochs=1, retrain=False,
               results=tmp_path, name="r", quiet=True)  # fmt: skip
    trials = json.loads((tmp_path / "TunedFit" / "r" / "trials.json").read_text())["trials"]
    assert trials[0]["baseline"] and trials[0]["hyperparameters"]["batch_size"] == 16
    assert trials[0]["hyperparameters"]["shuffle"] is False
