"""What ``run`` and ``status`` say of a finished run whose model logs no accuracy."""

from __future__ import annotations

from pathlib import Path

from search.cli import main

REGRESSION = '''
import keras
import numpy as np
import search


def build(hp):
    model = keras.Sequential([
        keras.Input((4,)),
        keras.layers.Dense(hp.Int("units", 4, 8, step=4), activation="relu"),
        keras.layers.Dense(1),
    ])
    model.compile(optimizer="adam", loss="mse", metrics=["mean_absolute_error"])
    return model


def load():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(80, 4)).astype("float32")
    y = (x[:, 0] - x[:, 1]).astype("float32")
    return search.Data(x[:60], y[:60], test_data=(x[60:], y[60:]))


experiment = search.Experiment.from_hypermodel("reg", build, load, max_trials=2, max_epochs=1)
'''


def test_run_status_and_list_of_a_regression_name_its_metrics(tmp_path: Path, capsys, monkeypatch) -> None:
    (tmp_path / "reg_experiment.py").write_text(REGRESSION)
    results = tmp_path / "results"
    code = main(["run", f"{tmp_path / 'reg_experiment.py'}:experiment", "--tuner", "random",
                 "--objective", "val_loss", "--results", str(results), "--name", "r",
                 "--retrain-max-epochs", "1", "--quiet"])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0, out
    assert "TEST mean_absolute_error" in out and "TEST accuracy" not in out
    assert main(["status", str(results / "reg" / "r")]) == 0
    status = capsys.readouterr().out
    assert "TEST mean_absolute_error" in status and "no test data" not in status
    monkeypatch.setenv("COLUMNS", "250")
    assert main(["list", "--results", str(results)]) == 0
    listed = capsys.readouterr().out
    assert "val_loss " in listed and "mean_absolute_error " in listed, listed


def test_status_of_a_run_whose_fit_returned_numbers_names_no_epoch(tmp_path: Path, capsys) -> None:
    """A fit of its own that returns a float logs no epochs: no "at epoch None"."""
    import search
    from tests import user_models as um

    x, y = um.tiny_data(60)
    run = search.run(um.FloatFit(), x, y, tuner="random", max_trials=1, max_epochs=1, retrain=False,
                     results=tmp_path, name="f", quiet=True)  # fmt: skip
    capsys.readouterr()
    assert main(["status", str(run.folder)]) == 0
    out = capsys.readouterr().out
    assert "best so far: trial 0, val_accuracy" in out and "epoch None" not in out, out
