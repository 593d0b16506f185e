"""A running trial's state after each epoch, so an interrupted trial continues where it was.

The file holds every model variable (weights, batch-norm statistics, dropout seed state),
every optimizer variable, and the logs of the epochs done. Augmentation and shuffling
randomness are functions of (seed, epoch, step), so nothing else is needed.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np

from search.storage import write_atomic


@dataclass(frozen=True)
class EpochState:
    """What :func:`load_state` found: the epochs already done and their logs."""

    epochs: list[int]
    logs: list[dict[str, float]]


def save_state(path: Path, model: keras.Model, epochs: list[int], logs: list[dict]) -> None:
    """Write the state atomically (temporary file, fsync, rename)."""
    arrays = {f"m{i}": np.asarray(v.numpy()) for i, v in enumerate(model.variables)}
    arrays.update(
        {f"o{i}": np.asarray(v.numpy()) for i, v in enumerate(model.optimizer.variables)}
    )
    arrays["meta"] = np.frombuffer(json.dumps({"epochs": epochs, "logs": logs}).encode(), "uint8")
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    write_atomic(path, buffer.getvalue())


def saved_epochs(path: Path) -> list[int]:
    """The epochs a state file says are done, without restoring anything ([] if none)."""
    if not path.is_file():
        return []
    try:
        with np.load(path) as data:
            return list(json.loads(bytes(data["meta"]).decode())["epochs"])
    except (OSError, ValueError, KeyError):
        return []


def load_state(path: Path, model: keras.Model) -> EpochState | None:
    """Restore ``model`` (and its optimizer) from ``path``; None if there is no usable state.

    A state that does not match the model (another architecture) or cannot be read is
    ignored: the trial then starts from its first epoch.
    """
    if not path.is_file():
        return None
    try:
        with np.load(path) as data:
            meta = json.loads(bytes(data["meta"]).decode())
            model_values = [data[f"m{i}"] for i in range(len(model.variables))]
            opt_values = [data[f"o{i}"] for i in range(len(model.optimizer.variables))]
    except (OSError, ValueError, KeyError):
        return None
    pairs = [*zip(model.variables, model_values), *zip(model.optimizer.variables, opt_values)]
    if any(tuple(v.shape) != value.shape for v, value in pairs):
        return None
    for variable, value in pairs:
        variable.assign(value)
    return EpochState(epochs=list(meta["epochs"]), logs=list(meta["logs"]))
