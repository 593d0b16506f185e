"""A search whose space has fewer configurations than ``max_trials`` says why it stopped,
and no more than it knows: KerasTuner's oracles give up after 20 tried random draws in a
row, which in a space with a rare branch can leave one of its configurations untried."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import search
from search.cli import main
from search.report import describe_budget
from tests import user_models as um

SPENT = "stopped early: no untried configuration of the space found"


def _run(tmp_path: Path, tuner: str, max_trials: int) -> search.Run:
    """``build_with_branch`` has 5 configurations: narrow, and wide with 4 widths."""
    x, y = um.tiny_data()
    return search.run(
        um.build_with_branch, x, y, tuner=tuner, max_trials=max_trials, max_epochs=1,
        results=tmp_path / "results", name="r", retrain=False, quiet=False,
    )  # fmt: skip


@pytest.mark.parametrize("tuner", ["optuna", "bayesian"])
def test_a_spent_space_is_said_in_the_run_the_status_and_the_report(
    tuner: str, tmp_path: Path, capsys
) -> None:
    run = _run(tmp_path, tuner, max_trials=8)
    trials = json.loads((run.folder / "trials.json").read_text())["trials"]
    assert len(trials) == 5
    assert run.meta["space_spent"] is True
    out = capsys.readouterr().out
    assert "the search stopped after 5 trials of the 8 asked for: the tuner found no" \
        " configuration of its space left untried" in out
    assert describe_budget(run.meta) == f"max_trials 8, max_epochs 1; {SPENT}"
    assert main(["status", str(run.folder)]) == 0
    assert f"(budget: max_trials 8, max_epochs 1; {SPENT})" in capsys.readouterr().out


@pytest.mark.parametrize(("tuner", "max_trials"), [("optuna", 2), ("random", 5), ("optuna", 5)])
def test_a_search_its_budget_ended_says_nothing_of_its_space(
    tuner: str, max_trials: int, tmp_path: Path, capsys
) -> None:
    """Its budget's trials all ran (5: each configuration once): nothing to explain."""
    run = _run(tmp_path, tuner, max_trials=max_trials)
    assert len(json.loads((run.folder / "trials.json").read_text())["trials"]) == max_trials
    assert run.meta["space_spent"] is False
    assert "untried" not in capsys.readouterr().out
    assert describe_budget(run.meta) == f"max_trials {max_trials}, max_epochs 1"
