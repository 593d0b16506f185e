"""``--keep-best``: the best trials' checkpoints stay, the others go, Hyperband still works."""

from __future__ import annotations

import json
from pathlib import Path

import keras_tuner as kt
import pytest

from search.cli import main
from search.engine._checkpoints import pending_parents
from search.engine._choose import ranked_ids, start_points
from search.engine._request import RunRequest


def _oracle(max_epochs: int = 9) -> kt.oracles.HyperbandOracle:
    return kt.oracles.HyperbandOracle(
        objective=kt.Objective("val_accuracy", "max"), max_epochs=max_epochs, factor=3
    )


def test_pending_parents_are_the_trials_of_incomplete_brackets() -> None:
    oracle = _oracle()
    # Bracket 2 of max_epochs 9: rounds of 9, 3 and 1 trials (sizes from the oracle).
    sizes = [oracle._get_size(2, r) for r in range(3)]
    assert sizes == [9, 3, 1]
    first = [{"past_id": None, "id": f"{i:02d}"} for i in range(9)]
    second = [{"past_id": f"{i:02d}", "id": f"{10 + i}"} for i in range(3)]
    oracle._brackets = [{"bracket_num": 2, "rounds": [first, second, []]}]
    assert pending_parents(oracle) == {f"{i:02d}" for i in range(9)} | {"10", "11", "12"}
    # The last round filled: the bracket is complete and nothing of it is needed.
    oracle._brackets[0]["rounds"][2] = [{"past_id": "10", "id": "20"}]
    assert pending_parents(oracle) == set()
    assert pending_parents(object()) == set()
    assert pending_parents(None) == set()


def _trial(trial_id: str, val: list[float], train: list[float], status: str = "completed") -> dict:
    epochs = [
        {"epoch": i + 1, "val_accuracy": v, "accuracy": t, "val_loss": 1 - v, "loss": 1 - t}
        for i, (v, t) in enumerate(zip(val, train))
    ]
    best = max(epochs, key=lambda e: e["val_accuracy"]) if epochs else None
    return {"id": trial_id, "status": status, "epochs": epochs, "hyperparameters": {},
            "best": best, "best_epoch": best["epoch"] if best else None}  # fmt: skip


def test_ranked_ids_follow_the_report_rule_and_the_objective() -> None:
    records = [
        _trial("0", [0.80, 0.90], [0.82, 0.99]),  # accurate, big gap
        _trial("1", [0.80, 0.899], [0.80, 0.90]),  # as accurate (within 0.005), small gap
        _trial("2", [0.70, 0.75], [0.70, 0.75]),
        _trial("3", [0.95], [0.95], status="pruned"),  # never ranked
    ]
    request = RunRequest(experiment="fashion", tuner="random", converged_epochs=1)
    assert ranked_ids(records, request) == ["1", "0", "2"]
    by_loss = RunRequest(experiment="fashion", tuner="random", objective="val_loss")
    assert ranked_ids(records, by_loss) == ["0", "1", "2"]


def _checkpoints(folder: Path) -> set[str]:
    return {p.parent.name.removeprefix("trial_")
            for p in (folder / "tuner").glob("**/trial_*/checkpoint.weights.h5")}  # fmt: skip


@pytest.mark.parametrize("tuner", ["random", "hyperband"])
def test_keep_best_leaves_the_best_checkpoints(
    tuner: str, tmp_path: Path, fashion_dir: Path, capsys
) -> None:
    args = ["run", "fashion", "--tuner", tuner, "--train-size", "600", "--val-size", "300",
            "--max-trials", "5", "--max-epochs", "3", "--fix", "filters=16", "--no-retrain",
            "--keep-best", "2", "--data-dir", str(fashion_dir), "--results", str(tmp_path),
            "--name", "k", "--seed", "2", "--quiet"]  # fmt: skip
    assert main(args) == 0
    folder = tmp_path / "fashion" / "k"
    trials = json.loads((folder / "trials.json").read_text())["trials"]
    assert len(trials) == 5 and all(t["status"] == "completed" for t in trials)
    # Hyperband's schedule for max_epochs 3 has 6 trials: --max-trials 5 leaves its last
    # bracket incomplete, and the end of the search still prunes it.
    if tuner == "hyperband":  # continued trials were built from their parent's checkpoint
        assert any(t.get("continues") for t in trials)
    request = RunRequest(experiment="fashion", tuner=tuner, retrain=False)
    # and those within the rule's tolerance, which a later trial could still reorder
    kept = set(ranked_ids(trials, request)[:2]) | start_points(trials, request, 1, False)
    assert _checkpoints(folder) == kept
    meta = json.loads((folder / "run.json").read_text())
    assert meta["best"]["trial"] in _checkpoints(folder)
    assert (folder / "best_model.keras").is_file()
    capsys.readouterr()
    assert main(["status", str(folder)]) == 0
    assert "2 trial checkpoints (--keep-best 2)" in capsys.readouterr().out


def test_keep_best_all_keeps_every_checkpoint(tmp_path: Path, fashion_dir: Path) -> None:
    args = ["run", "fashion", "--tuner", "random", "--train-size", "400", "--val-size", "200",
            "--max-trials", "3", "--max-epochs", "1", "--fix", "filters=16", "--no-retrain",
            "--keep-best", "all", "--data-dir", str(fashion_dir), "--results", str(tmp_path),
            "--name", "all", "--quiet"]  # fmt: skip
    assert main(args) == 0
    assert len(_checkpoints(tmp_path / "fashion" / "all")) == 3


@pytest.mark.parametrize("value", ["0", "two"])
def test_keep_best_refuses_bad_values(value: str, tmp_path: Path, capsys) -> None:
    assert main(["run", "fashion", "--tuner", "random", "--keep-best", value,
                 "--results", str(tmp_path)]) == 2  # fmt: skip
    err = capsys.readouterr().err
    assert "--keep-best" in err and repr(value) in err
    assert not any(tmp_path.iterdir())
