"""bench/search_gain.py's arithmetic on finished runs' records (no training)."""

from __future__ import annotations

import importlib
import math
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import pytest

from search.storage import RunFolder
from tests.conftest import ROOT


@pytest.fixture
def bench(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    monkeypatch.syspath_prepend(str(ROOT / "bench"))
    return importlib.import_module("search_gain")


def _run(path: Path, trials: list[dict[str, Any]], final: dict[str, Any]) -> RunFolder:
    folder = RunFolder(path)
    path.mkdir(parents=True)
    request = {"experiment": "fashion", "tuner": "hyperband", "retrain_data": "validated",
               "retrain_max_epochs": 2, "retrain_from": "checkpoint"}  # fmt: skip
    folder.write_meta({"tuner": "hyperband", "seed": 0, "final": final, "request": request})
    folder.write_trials(trials)
    return folder


def test_no_completed_baseline_is_no_gain(bench: ModuleType, tmp_path: Path) -> None:
    trials = [
        {"id": "0", "baseline": True, "status": "failed", "hyperparameters": {"lr": 1e-3}},
        {"id": "1", "baseline": False, "status": "completed", "hyperparameters": {"lr": 1e-2}},
    ]
    folder = _run(tmp_path / "r", trials, {"trial": "1", "test_accuracy": 0.9, "seconds": 5.0})
    row = bench.gain(folder, "1x", 10.0, tmp_path)
    assert not row.baseline_chosen
    assert math.isnan(row.test_baseline) and math.isnan(row.gain)  # not a gain of 0
    measured = row.__class__(**{**row.__dict__, "seed": 1, "gain": 0.01, "test_baseline": 0.89})
    lines = bench.summary([row, measured])
    assert lines == [
        "hyperband 1x: median gain +0.0100 over 1 seeds (min +0.0100, max +0.0100); baseline"
        " chosen 0 of 2; no completed baseline in 1"
    ]


def test_median_of_an_even_count_and_the_sign(bench: ModuleType) -> None:
    rows = [
        bench.Row("optuna", "3x", seed, "1", False, 0.9, 0.9 - gain, gain, 1.0, 1.0, 1.0)
        for seed, gain in enumerate([0.004, -0.002, 0.01, 0.0])
    ]
    assert bench.summary(rows) == [
        "optuna 3x: median gain +0.0020 over 4 seeds (min -0.0020, max +0.0100); baseline"
        " chosen 0 of 4"
    ]


def _trial(
    trial: str, accuracies: list[float], baseline: bool, continues: str | None = None
) -> dict[str, Any]:
    epochs = [
        {"epoch": n, "accuracy": a, "val_accuracy": a, "loss": 1 - a, "val_loss": 1 - a}
        for n, a in enumerate(accuracies, 1)
    ]
    best = max(epochs, key=lambda e: e["val_accuracy"])
    return {
        "id": trial, "status": "completed", "baseline": baseline, "continues": continues,
        "hyperparameters": {"lr": 1e-3 if baseline else 1e-2}, "epochs": epochs,
        "best_epoch": best["epoch"], "best": best,
    }  # fmt: skip


@pytest.mark.parametrize("finalists", [False, True])
def test_the_baseline_retrained_is_the_best_ranked_one(
    bench: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, finalists: bool
) -> None:
    """Hyperband ran the defaults twice (trial 0, then 3 continuing it); the run kept the
    checkpoint of the one its rule ranks first, and its finalists trained that one."""
    trials = [
        _trial("0", [0.5, 0.6], baseline=True),
        _trial("1", [0.7, 0.9], baseline=False),
        _trial("3", [0.8, 0.85], baseline=True, continues="0"),
    ]
    final = {"trial": "1", "test_accuracy": 0.9, "seconds": 5.0}
    if finalists:
        final["finalists"] = [{"trial": "1", "baseline": False}, {"trial": "3", "baseline": True}]
    folder = _run(tmp_path / "r", trials, final)
    asked = []

    def export_run(*args: Any) -> Any:
        asked.append(args[-1].trial)
        return SimpleNamespace(final={"test_accuracy": 0.88})

    monkeypatch.setattr(bench, "export_run", export_run)
    row = bench.gain(folder, "1x", 10.0, tmp_path)
    assert asked == ["3"]
    assert row.test_baseline == 0.88 and row.gain == 0.02


@pytest.mark.parametrize(("given", "finalists"), [([], None), (["--finalists", "2"], 2)])
def test_the_budget_names_the_finalists_unless_given(
    bench: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, given: list[str],
    finalists: int | None,
) -> None:
    """`--budget gpu` searches as `search run --budget gpu` does: 3 finalists by default."""
    asked: dict[str, Any] = {}

    def run(*args: Any, **kwargs: Any) -> Any:
        asked.update(kwargs)
        raise KeyboardInterrupt  # no search here

    monkeypatch.setattr(bench.search, "run", run)
    with pytest.raises(KeyboardInterrupt):
        bench.main(["--tuners", "optuna", "--budget", "gpu", "--csv", str(tmp_path / "g.csv"), *given])
    assert asked["finalists"] == finalists and asked["budget"] == "gpu"
