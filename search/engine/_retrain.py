"""Retrain the chosen configuration on more data, then evaluate it once on the test set."""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import keras
import keras_tuner as kt
import numpy as np
from rich.console import Console

from search.data import Splits
from search.storage import RunFolder


class _EpochLine(keras.callbacks.Callback):
    def __init__(self, console: Console, epochs: int) -> None:
        super().__init__()
        self.console, self.epochs = console, epochs
        self._start = 0.0

    def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
        logs = logs or {}
        self.console.print(
            f"  retrain epoch {epoch + 1}/{self.epochs}: loss {logs.get('loss', float('nan')):.4f},"
            f" accuracy {logs.get('accuracy', float('nan')):.4f}"
            f" ({time.perf_counter() - self._start:.0f} s)"
        )


def retrain_data(splits: Splits, which: str) -> tuple[np.ndarray, np.ndarray]:
    """``full``: every labelled training image; ``search``: the search's train + validation."""
    if which == "full" and splits.x_full is not None and splits.y_full is not None:
        return splits.x_full, splits.y_full
    return (
        np.concatenate([splits.x_train, splits.x_val]),
        np.concatenate([splits.y_train, splits.y_val]),
    )


def retrain_epochs(record: dict[str, Any], tolerance: float) -> int:
    """How many epochs the retrain trains: the last epoch of the trial whose validation
    accuracy is within ``tolerance`` of the accuracy at its best epoch.

    A plateau, not its single best epoch: the retrain sees several times the search's
    images, and stopping at an early peak that later epochs matched within noise leaves
    the final model undertrained. The best epoch where no accuracy was recorded.
    """
    best = int(record["best_epoch"])
    scores = {
        int(e["epoch"]): float(e["val_accuracy"])
        for e in record.get("epochs", [])
        if isinstance(e.get("val_accuracy"), (int, float)) and math.isfinite(e["val_accuracy"])
    }
    if best not in scores:
        return best
    return max(epoch for epoch, score in scores.items() if score >= scores[best] - tolerance
               or epoch == best)  # fmt: skip


def retrain_best(
    hypermodel: kt.HyperModel,
    best: dict[str, Any],
    splits: Splits,
    which: str,
    folder: RunFolder,
    console: Console,
    quiet: bool,
    tolerance: float,
    save_to: Path | None = None,
) -> dict[str, Any]:
    """Train trial ``best``'s configuration to the end of its plateau; test it once; save it
    (to the run's best_model.keras, or ``save_to``).

    The test set is touched here only, after every choice has been made on validation.
    """
    from hypermodels import evaluate_model

    # From the record, not the tuner: with workers, another process may have run the trial.
    hp = kt.HyperParameters()
    hp.values = dict(best["hyperparameters"])
    epochs = retrain_epochs(best, tolerance)
    x, y = retrain_data(splits, which)
    if not quiet:
        console.print(
            f"retraining trial {best['id']}'s configuration on {len(x):,} images"
            f" for {epochs} epochs (its last epoch within {tolerance} of its best validation"
            f" accuracy, epoch {best['best_epoch']})"
        )
    started = time.perf_counter()
    keras.backend.clear_session()
    model = hypermodel.build(hp)
    callbacks = [] if quiet else [_EpochLine(console, epochs)]
    history = hypermodel.fit(hp, model, x, y, None, epochs=epochs, callbacks=callbacks)
    train_seconds = time.perf_counter() - started
    batch = getattr(hypermodel, "eval_batch_size", 1024)  # big bases need small batches
    test_loss, test_accuracy = evaluate_model(model, splits.x_test, splits.y_test, batch)
    target = save_to or folder.model_file
    model.save(target)
    return {
        "trial": best["id"],
        "hyperparameters": best["hyperparameters"],
        "epochs": epochs,
        "best_epoch": int(best["best_epoch"]),
        "train_images": len(x),
        "retrain_data": which,
        "train_loss": history.history["loss"][-1],
        "train_accuracy": history.history["accuracy"][-1],
        "test_loss": test_loss,
        "test_accuracy": test_accuracy,
        "test_images": len(splits.x_test),
        "seconds": round(time.perf_counter() - started, 1),
        "train_seconds": round(train_seconds, 1),
        "model": target.name,
        "note": "test set evaluated once, after the search; never used to choose",
    }
