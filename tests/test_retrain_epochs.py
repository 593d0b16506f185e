"""How long the chosen configuration is retrained: to the end of its plateau."""

from __future__ import annotations

import math

from search.engine._retrain import retrain_epochs


def record(best: int, accuracies: list[float], first: int = 1) -> dict:
    epochs = [{"epoch": first + i, "val_accuracy": a} for i, a in enumerate(accuracies)]
    return {"id": "0005", "best_epoch": best, "epochs": epochs}


def test_the_last_epoch_within_tolerance_of_the_best() -> None:
    # A continued Hyperband trial (epochs 3-6): best at 4, 5 and 6 within 0.005 of it.
    assert retrain_epochs(record(4, [0.863, 0.8794, 0.877, 0.8783], first=3), 0.005) == 6
    assert retrain_epochs(record(4, [0.863, 0.8794, 0.870, 0.8783], first=3), 0.005) == 6
    assert retrain_epochs(record(4, [0.863, 0.8794, 0.870, 0.860], first=3), 0.005) == 4
    assert retrain_epochs(record(4, [0.863, 0.8794, 0.877, 0.8783], first=3), 0.0) == 4


def test_without_accuracies_the_best_epoch() -> None:
    assert retrain_epochs(record(2, [math.nan, math.nan]), 0.005) == 2
    assert retrain_epochs({"best_epoch": 3, "epochs": []}, 0.005) == 3
