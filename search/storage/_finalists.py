"""The finalists' files (``--finalists K``): ``<run>/finalists/``.

Each finalist that finished (trained, or failed with its reason) has ``<trial>.json``, its
summary as run.json's ``final.finalists`` keeps it, written atomically the moment it
finishes; one that trained has its kept weights in ``<trial>.weights.npz`` until the run
finishes. The finalist in training keeps its state after every epoch in
``<trial>.state.npz``. A resumed run reads them: a finished finalist is not trained again,
the interrupted one continues after its last epoch.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from search.storage._atomic import write_json

FINALISTS_DIR = "finalists"
WEIGHTS_SUFFIX = ".weights.npz"
STATE_SUFFIX = ".state.npz"
PARTIAL_WRITE = ".*.tmp"
"""What a process killed mid-write left in the folder (``write_atomic``'s temporary file):
only the run's own process writes there, under its lock."""


class FinalistFiles:
    """Paths, reads and writes of the finalists' files of the run folder ``run``."""

    def __init__(self, run: Path) -> None:
        self.path = Path(run) / FINALISTS_DIR

    def record_file(self, trial: str) -> Path:
        return self.path / f"{trial}.json"

    def weights_file(self, trial: str) -> Path:
        return self.path / f"{trial}{WEIGHTS_SUFFIX}"

    def state_file(self, trial: str) -> Path:
        """Where the finalist in training keeps its state (the folder made if need be)."""
        self.path.mkdir(exist_ok=True)
        return self.path / f"{trial}{STATE_SUFFIX}"

    def finished(self, record: dict[str, Any]) -> dict[str, Any] | None:
        """The stored summary of search record ``record``'s finalist if it finished with
        the same configuration (and, if it trained, its weights are still there); else
        None: it trains (again)."""
        try:
            summary = json.loads(self.record_file(record["id"]).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            return None
        if not isinstance(summary, dict) or summary.get("hyperparameters") != record["hyperparameters"]:
            return None
        if "failure" not in summary and not self.weights_file(record["id"]).is_file():
            return None
        return summary

    def record(self, summary: dict[str, Any]) -> None:
        """Keep a finished finalist's summary (atomically); its state is no longer needed."""
        self.path.mkdir(exist_ok=True)
        write_json(self.record_file(summary["trial"]), summary)
        self.state_file(summary["trial"]).unlink(missing_ok=True)

    def done(self) -> list[dict[str, Any]]:
        """The finished finalists' summaries on disk, in no particular order (for status)."""
        found = []
        for path in sorted(self.path.glob("*.json")):
            try:
                summary = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, json.JSONDecodeError):
                continue
            if isinstance(summary, dict):
                found.append(summary)
        return found

    def training(self) -> dict[str, int]:
        """The finalists interrupted in training: trial id -> epochs their state holds."""
        return {
            path.name.removesuffix(STATE_SUFFIX): trained_epochs(path)
            for path in sorted(self.path.glob(f"*{STATE_SUFFIX}"))
        }

    def seconds(self) -> float:
        """The finalists' training seconds so far: the finished ones' and the interrupted ones'."""
        done = sum(float(summary.get("train_seconds") or 0) for summary in self.done())
        return done + sum(trained_seconds(path) for path in self.path.glob(f"*{STATE_SUFFIX}"))

    def remove_weights(self) -> None:
        """The run is finished (its model saved): the weights and states go, with what a
        killed process left of writing them; the summaries stay."""
        for pattern in (f"*{WEIGHTS_SUFFIX}", f"*{STATE_SUFFIX}", PARTIAL_WRITE):
            for path in self.path.glob(pattern):
                path.unlink(missing_ok=True)


def _state_meta(path: Path) -> dict[str, Any]:
    """The ``meta`` a training state ``path`` holds; {} where it is missing or unreadable."""
    if not path.is_file():
        return {}
    try:
        with np.load(path) as data:
            meta = json.loads(bytes(data["meta"]).decode())
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):  # cut short
        return {}
    return meta if isinstance(meta, dict) else {}


def trained_epochs(path: Path) -> int:
    """How many epochs the training state ``path`` holds (0: none, or unreadable).

    Args:
        path: a finalist's or retrain's ``.state.npz``, which may be missing.

    Returns:
        The ``epochs`` its ``meta`` records; 0 where the file is missing or unreadable.
    """
    epochs = _state_meta(path).get("epochs", 0)
    return int(epochs) if isinstance(epochs, (int, float)) else 0


def trained_seconds(path: Path) -> float:
    """The seconds the training state ``path`` has trained, in all processes (0: none).

    Args:
        path: a finalist's or retrain's ``.state.npz``, which may be missing.

    Returns:
        The ``seconds`` its ``meta`` records; 0 where the file is missing or unreadable.
    """
    seconds = _state_meta(path).get("seconds", 0)
    return float(seconds) if isinstance(seconds, (int, float)) else 0.0


__all__ = ["FINALISTS_DIR", "FinalistFiles", "trained_epochs", "trained_seconds"]
