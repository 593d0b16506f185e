"""One row per trial: hyperparameters, status and the metrics the ranking is judged on."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

HP_PREFIX = "hp_"
CONVERGED_EPOCHS = 3
"""The rule's default converged epochs (``--converged-epochs``): a trial's converged metrics
are the mean of this many epochs up to its best one."""
METRIC_COLUMNS = (
    "best_val_accuracy", "best_epoch", "converged_val_accuracy", "converged_train_accuracy",
    "gap_accuracy", "converged_val_loss", "converged_train_loss", "gap_loss",
)  # fmt: skip


def full_history(trial: Mapping[str, Any], by_id: Mapping[str, Mapping[str, Any]]) -> list[dict]:
    """A trial's epochs, preceded by those of the trials it continued (Hyperband).

    A continued trial starts from its parent's checkpoint, so its learning curve is the
    parent's up to the continuation epoch, then its own.

    Args:
        trial: a trial record (its ``epochs`` and ``continues``).
        by_id: every trial record of the run, by id; a parent missing here ends the chain.

    Returns:
        Copies of the epoch records, the earliest ancestor's first.
    """
    own = [dict(e) for e in trial.get("epochs") or []]
    parent_id = trial.get("continues")
    seen = {trial.get("id")}
    while parent_id is not None and parent_id in by_id and parent_id not in seen:
        seen.add(parent_id)
        parent = by_id[parent_id]
        first = own[0]["epoch"] if own else math.inf
        own = [dict(e) for e in parent.get("epochs") or [] if e["epoch"] < first] + own
        parent_id = parent.get("continues")
    return own


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value)


def converged_metrics(epochs: Sequence[Mapping[str, Any]], k: int) -> dict[str, float]:
    """Metrics judged on converged epochs, not one lucky epoch.

    The best epoch has the highest validation accuracy (earliest on ties). Converged
    values are means over the last ``k`` epochs up to and including it; the gaps are
    train minus validation (accuracy gap > 0 and loss gap < 0 mean overfitting).

    Args:
        epochs: a trial's epoch records (its :func:`full_history`), in order.
        k: how many epochs the converged values average, at least 1.

    Returns:
        Each of :data:`METRIC_COLUMNS` by name; NaN where it cannot be computed (all of them
        when no epoch has a validation accuracy).
    """
    out = {name: math.nan for name in METRIC_COLUMNS}
    scored = [e for e in epochs if _finite(e.get("val_accuracy"))]
    if not scored:
        return out
    best = max(scored, key=lambda e: e["val_accuracy"])  # max keeps the earliest tie
    window = [e for e in scored if e["epoch"] <= best["epoch"]][-k:]

    def mean(key: str) -> float:
        values = [e[key] for e in window if _finite(e.get(key))]
        return float(np.mean(values)) if values else math.nan

    out.update(
        best_val_accuracy=float(best["val_accuracy"]),
        best_epoch=float(best["epoch"]),
        converged_val_accuracy=mean("val_accuracy"),
        converged_train_accuracy=mean("accuracy"),
        converged_val_loss=mean("val_loss"),
        converged_train_loss=mean("loss"),
    )
    out["gap_accuracy"] = out["converged_train_accuracy"] - out["converged_val_accuracy"]
    out["gap_loss"] = out["converged_train_loss"] - out["converged_val_loss"]
    return out


def trials_table(
    trials: Sequence[Mapping[str, Any]],
    converged_epochs: int = CONVERGED_EPOCHS,
    final: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """The trials of one run as a DataFrame, in the order they started.

    Args:
        trials: the run's trial records (trials.json); the rows keep their order.
        converged_epochs: the epochs :func:`converged_metrics` averages.
        final: run.json's final model record; its test accuracy fills its trial's row. None:
            every ``test_accuracy`` is NaN.

    Returns:
        One row per trial: id, status, failure reason, epochs, times, the trial it continues,
        whether it is a baseline run, :data:`METRIC_COLUMNS`, test accuracy, then one ``hp_``
        column per hyperparameter.

    Raises:
        ValueError: ``converged_epochs`` is below 1.
    """
    if converged_epochs < 1:
        raise ValueError(f"converged_epochs ({converged_epochs}) must be at least 1")
    by_id = {t["id"]: t for t in trials}
    rows = []
    for trial in trials:
        epochs = full_history(trial, by_id)
        row: dict[str, Any] = {
            "trial": str(trial["id"]),
            "status": trial.get("status", "unknown"),
            "reason": trial.get("failure"),
            "epochs": len(epochs),
            "seconds": trial.get("seconds"),
            "started": trial.get("started"),
            "finished": trial.get("finished"),
            "continues": trial.get("continues"),
            "baseline": bool(trial.get("baseline", False)),
        }
        row.update(converged_metrics(epochs, converged_epochs))
        for name, value in (trial.get("hyperparameters") or {}).items():
            row[HP_PREFIX + name] = value
        row["test_accuracy"] = (
            float(final["test_accuracy"])
            if final and final.get("trial") == trial["id"] and final.get("test_accuracy") is not None
            else math.nan
        )
        rows.append(row)
    columns = ["trial", "status", "reason", "epochs", "seconds", "started", "finished",
               "continues", "baseline", *METRIC_COLUMNS, "test_accuracy"]  # fmt: skip
    frame = pd.DataFrame(rows)
    if frame.empty:
        return pd.DataFrame(columns=columns)
    hp_columns = [c for c in frame.columns if c.startswith(HP_PREFIX)]
    return frame[columns + hp_columns]


def hp_columns(frame: pd.DataFrame) -> list[str]:
    """The hyperparameter columns of ``frame``.

    Args:
        frame: a :func:`trials_table` (ranked or not).

    Returns:
        The names of its columns that start with :data:`HP_PREFIX`, in their order.
    """
    return [c for c in frame.columns if c.startswith(HP_PREFIX)]
