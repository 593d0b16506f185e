"""The line a final training prints per epoch names what the model logs."""

from __future__ import annotations

import io

from rich.console import Console

from search.engine._retrain import EpochLine


def _printed(line: EpochLine, logs: dict[str, float]) -> str:
    line.on_epoch_begin(0)
    line.on_epoch_end(0, logs)
    return line.console.file.getvalue()  # type: ignore[attr-defined]


def test_a_regression_retrain_prints_its_watched_metric_not_a_missing_accuracy() -> None:
    console = Console(file=io.StringIO(), width=200)
    line = EpochLine(console, 3, stops=True, monitor="val_mean_absolute_error")
    out = _printed(line, {"loss": 1.5, "mean_absolute_error": 0.9, "val_loss": 1.2,
                          "val_mean_absolute_error": 0.8})  # fmt: skip
    assert "nan" not in out and "accuracy" not in out
    assert "loss 1.5000" in out and "val mean absolute error 0.8000" in out


def test_a_classifier_retrain_prints_accuracy_and_its_watched_metric() -> None:
    console = Console(file=io.StringIO(), width=200)
    line = EpochLine(console, 3, stops=True, monitor="val_auc")
    out = _printed(line, {"loss": 0.5, "accuracy": 0.7, "val_accuracy": 0.6, "val_auc": 0.75})
    assert "accuracy 0.7000" in out and "val accuracy 0.6000" in out and "val auc 0.7500" in out
