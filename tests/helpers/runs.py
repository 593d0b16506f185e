"""Hand-made run folders: trials with given epochs, written as a finished search writes them,
for tests of the report and of the commands that read a run."""

from __future__ import annotations

import errno
from pathlib import Path
from typing import Any

import pytest

from search.engine import RunRequest
from search.storage import RunFolder
from search.storage import _writable as writable

SPACE = {
    "learning_rate": {"type": "float", "low": 1e-4, "high": 1e-1, "log": True, "default": 1e-3},
    "units": {"type": "int", "low": 32, "high": 128, "step": 32, "default": 64},
    "augment": {"type": "bool", "default": False},
    "mode": {"type": "choice", "values": ["a", "b"], "default": "a"},
    "fixed": {"type": "fixed", "default": 3},
}
"""The search space ``write_run``'s runs record: one hyperparameter of each kind."""


def epochs(*rows: tuple[float, float, float, float]) -> list[dict]:
    """(train acc, val acc, train loss, val loss) per epoch, numbered from 1."""
    return [
        {"epoch": i + 1, "accuracy": a, "val_accuracy": v, "loss": lo, "val_loss": vl}
        for i, (a, v, lo, vl) in enumerate(rows)
    ]


def trial(tid: str, eps: list[dict], status: str = "completed", **extra) -> dict:
    """A trial's record: id, status and epochs (``hp``, ``failure``, ``finished`` and more in ``extra``)."""
    return {"id": tid, "status": status, "epochs": eps, "hyperparameters": extra.pop("hp", {}),
            "failure": extra.pop("failure", None), "seconds": 10.0,
            "started": "2026-01-01T00:00:00+00:00",
            "finished": extra.pop("finished", "2026-01-01T00:01:00+00:00"), **extra}  # fmt: skip


def write_run(root: Path, name: str, trials: list[dict], status: str = "finished") -> RunFolder:
    """A random search's run folder of ``trials`` (over ``SPACE``), at ``root``/fashion/``name``."""
    folder = RunFolder(root / "fashion" / name)
    folder.path.mkdir(parents=True)
    folder.write_meta({"experiment": "fashion", "tuner": "random", "status": status,
                       "created": "2026-01-01T00:00:00+00:00", "seconds": 600,
                       "budget": {"max_trials": len(trials), "max_epochs": 2},
                       "space": {"params": SPACE}, "final": None})  # fmt: skip
    folder.write_trials(trials)
    return folder


def read_only(monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    """Make ``folder`` (and what it holds) read-only to the writability checks, as a
    read-only mount is: the tests run as root, whom ``chmod`` does not stop."""
    real = writable.tempfile.TemporaryFile

    def refuse(*args: Any, dir: Path, **kwargs: Any) -> Any:
        if folder.is_relative_to(dir):
            raise OSError(errno.EROFS, "Read-only file system")
        return real(*args, dir=dir, **kwargs)

    monkeypatch.setattr(writable.tempfile, "TemporaryFile", refuse)


def optuna_run(root: Path, name: str, status: str, storage: str | None = None) -> RunFolder:
    """An Optuna run of fashion named ``name``, of ``status``, whose run.json keeps
    ``storage`` (None: its journal) and no trial."""
    folder = RunFolder(root / "fashion" / name)
    folder.path.mkdir(parents=True)
    request = RunRequest(experiment="fashion", tuner="optuna", results=root, storage=storage)
    folder.write_meta({"experiment": "fashion", "tuner": "optuna", "status": status,
                       "request": request.to_json(name)})  # fmt: skip
    return folder
