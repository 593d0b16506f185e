"""Whole searches on a 1,000-image subset of the real Fashion-MNIST, for every tuner."""

from __future__ import annotations

import json
from pathlib import Path

import keras
import numpy as np
import pytest

from search.cli import main
from search.space import space_from_dict


@pytest.mark.parametrize("tuner", ["random", "hyperband", "bayesian", "optuna"])
def test_search_end_to_end(tuner: str, tmp_path: Path, fashion_dir: Path, capsys) -> None:
    results = tmp_path / "results"
    code = main([
        "run", "fashion", "--tuner", tuner, "--train-size", "1000", "--val-size", "500",
        "--max-trials", "2", "--max-epochs", "2", "--retrain-data", "search",
        "--data-dir", str(fashion_dir), "--results", str(results), "--name", "e2e", "--seed", "5",
    ])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0, out
    folder = results / "fashion" / "e2e"
    meta = json.loads((folder / "run.json").read_text())
    assert meta["format_version"] == 1
    assert (meta["experiment"], meta["tuner"], meta["status"]) == ("fashion", tuner, "finished")
    assert meta["budget"] == {
        "max_trials": 2, "max_epochs": 2, "factor": 3 if tuner == "hyperband" else None,
        "profile": "cpu", "finalists": 1,
        "fidelity": "epochs", "max_search_seconds": None,
    }  # fmt: skip
    assert meta["data"]["train"] == 1000 and meta["data"]["validation"] == 500
    assert meta["space"]["params"]["learning_rate"]["type"] == "float"
    assert "keras" in meta["versions"] and meta["command"][:3] == ["python", "-m", "search"]

    trials = json.loads((folder / "trials.json").read_text())["trials"]
    assert len(trials) == 2
    for trial in trials:
        assert trial["status"] == "completed"
        assert 1 <= len(trial["epochs"]) <= 2
        for epoch in trial["epochs"]:
            assert {"loss", "accuracy", "val_loss", "val_accuracy", "seconds"} <= set(epoch)
            assert 0.0 <= epoch["val_accuracy"] <= 1.0
        best = max(trial["epochs"], key=lambda e: e["val_accuracy"])
        assert trial["best_epoch"] == best["epoch"]
        assert "learning_rate" in trial["hyperparameters"]
        assert not any(k.startswith("tuner/") for k in trial["hyperparameters"])
    if tuner == "hyperband":
        assert all("bracket" in t["schedule"] for t in trials)
    # The first trial is the baseline: the space's defaults; the next one is sampled.
    defaults = space_from_dict(meta["space"]["params"]).defaults()
    first, second = sorted(trials, key=lambda t: int(t["id"]))
    assert first["baseline"] and first["hyperparameters"] == defaults
    assert not second["baseline"] and second["hyperparameters"] != defaults

    # The chosen trial follows the report's rule: converged accuracy (mean over epochs up
    # to the best, at most 3) within 0.005 of the best, then the least overfitting (the
    # train-val gap, 0 when negative), then accuracy.
    # Hyperband's continued trials start from their parent's epochs.
    by_id = {t["id"]: t for t in trials}

    def converged(trial: dict) -> tuple[float, float]:
        epochs = list(trial["epochs"])
        if trial.get("continues"):
            parent = by_id[trial["continues"]]["epochs"]
            epochs = [e for e in parent if e["epoch"] < epochs[0]["epoch"]] + epochs
        best = max(epochs, key=lambda e: e["val_accuracy"])
        window = [e for e in epochs if e["epoch"] <= best["epoch"]][-3:]
        val = sum(e["val_accuracy"] for e in window) / len(window)
        train = sum(e["accuracy"] for e in window) / len(window)
        return val, train - val

    scores = {t["id"]: converged(t) for t in trials}
    top_acc = max(v for v, _ in scores.values())
    close = {i: gap for i, (v, gap) in scores.items() if v >= top_acc - 0.005}
    expected = min(close, key=lambda i: (max(close[i], 0.0), -scores[i][0]))
    top = by_id[expected]
    assert meta["best"]["trial"] == expected
    assert meta["best"]["rule"].startswith(f"Chose trial {expected}: converged val acc")
    final = meta["final"]
    # The retrain runs to the last epoch within 0.005 of the best epoch's accuracy.
    at_best = next(e for e in top["epochs"] if e["epoch"] == top["best_epoch"])["val_accuracy"]
    plateau = max(e["epoch"] for e in top["epochs"] if e["val_accuracy"] >= at_best - 0.005)
    assert final["trial"] == top["id"] and final["epochs"] == plateau
    assert final["best_epoch"] == top["best_epoch"]
    assert final["train_images"] == 1500 and final["test_images"] == 10000
    assert 0.0 < final["test_accuracy"] <= 1.0
    assert f"TEST accuracy of the retrained model: {final['test_accuracy']:.4f}" in out
    assert (folder / "tuner").is_dir()

    model = keras.models.load_model(folder / "best_model.keras")
    probs = model.predict(np.zeros((3, 28, 28, 1), "float32"), verbose=0)
    assert probs.shape == (3, 10)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-4)

    report = (folder / "report.html").read_text()
    assert f"Chose trial {expected}" in report and "plotly" in report
    assert (folder / "report.csv").read_text().count("\n") == 3  # header + 2 trials

    assert main(["status", str(folder)]) == 0
    status = capsys.readouterr().out
    assert "2 completed" in status and "finished" in status
    assert f"{final['test_accuracy']:.4f}" in status


def test_failed_trials_are_recorded_and_search_goes_on(tmp_path: Path, fashion_dir: Path) -> None:
    space = tmp_path / "space.toml"
    space.write_text(
        '[learning_rate]\ntype = "choice"\nvalues = [1e9, 1e-3]\ndefault = 1e9\n'
        '[batch_norm]\ntype = "fixed"\nvalue = false\n'
    )
    code = main([
        "run", "fashion", "--tuner", "random", "--train-size", "500", "--val-size", "200",
        "--max-trials", "4", "--max-epochs", "1", "--no-retrain", "--space", str(space),
        "--data-dir", str(fashion_dir), "--results", str(tmp_path), "--name", "nan", "--quiet",
    ])  # fmt: skip
    assert code == 0
    trials = json.loads((tmp_path / "fashion" / "nan" / "trials.json").read_text())["trials"]
    failed = [t for t in trials if t["status"] == "failed"]
    done = [t for t in trials if t["status"] == "completed"]
    assert failed and done
    assert all("loss became" in t["failure"] for t in failed)
    assert all(t["hyperparameters"]["learning_rate"] == 1e9 for t in failed)
    assert (tmp_path / "fashion" / "nan" / "best_model.keras").is_file()
