"""What `export` exports: the run's own choice; where it writes: never over the run's model."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from search.cli import main
from search.engine import RunRequest
from search.engine._export import _chosen as chosen_trial
from search.errors import SearchError
from search.storage import RunFolder


def _trial(trial: str, val: float) -> dict[str, Any]:
    epoch = {"epoch": 1, "val_accuracy": val, "accuracy": val, "val_loss": 1 - val, "loss": 1 - val}
    return {"id": trial, "status": "completed", "epochs": [epoch], "hyperparameters": {"lr": val},
            "best": epoch, "best_epoch": 1}  # fmt: skip


def _run(tmp_path: Path, best: str | None) -> tuple[RunFolder, list[dict[str, Any]]]:
    """A run whose search ranks trial 0 first; ``best``: the trial run.json says it chose."""
    folder = RunFolder(tmp_path / "fashion" / "run")
    folder.path.mkdir(parents=True)
    trials = [_trial("0", 0.90), _trial("1", 0.85), _trial("2", 0.80)]
    folder.write_trials(trials)
    folder.write_meta({} if best is None else {"best": {"trial": best}})
    return folder, trials


@pytest.mark.parametrize(
    "best, asked, exported",
    [
        (None, None, "0"),  # no choice recorded yet (a running search): the rule's first
        ("0", None, "0"),
        ("1", None, "1"),  # the finalists overturned the search's first
        ("1", "2", "2"),  # --trial wins
        ("7", None, "0"),  # a choice that is not a completed trial: the rule's first
    ],
)
def test_the_run_s_own_choice_is_exported(
    best: str | None, asked: str | None, exported: str, tmp_path: Path
) -> None:
    folder, trials = _run(tmp_path, best)
    request = RunRequest(experiment="fashion", tuner="random")
    assert chosen_trial(folder, trials, request, asked)["id"] == exported


def test_a_trial_that_did_not_complete_is_refused(tmp_path: Path) -> None:
    folder, trials = _run(tmp_path, "1")
    with pytest.raises(SearchError, match="trial 9: not a completed trial of .*; completed: 0, 1, 2"):
        chosen_trial(folder, trials, RunRequest(experiment="fashion", tuner="random"), "9")


@pytest.mark.parametrize(
    "output, message",
    [
        ("best_model.keras", "is the run's own model, which run.json's final describes; give another file"),
        ("", "--output '': give a file name ending in .keras, e.g. model.keras"),
        (".keras", "give a file name ending in .keras, e.g. model.keras"),
        ("model.h5", "give a file name ending in .keras, e.g. model.keras"),
    ],
)
def test_a_bad_output_is_refused_before_any_work(output: str, message: str, tmp_path: Path, capsys) -> None:
    folder, _ = _run(tmp_path, "1")
    folder.model_file.write_bytes(b"the run's model")
    target = str(folder.path / output) if output else output
    assert main(["export", str(folder.path), "--output", target]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert folder.model_file.read_bytes() == b"the run's model"
    assert sorted(p.name for p in folder.path.iterdir()) == ["best_model.keras", "run.json", "trials.json"]
