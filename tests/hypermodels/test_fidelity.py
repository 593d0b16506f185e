"""``--fidelity epochs|data|both``: a trial's training images grow with its epoch budget."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import keras
import keras_tuner as kt
import numpy as np
import pytest

import search
from hypermodels import DataFidelity, LoopConfig, fidelity_images, fit_loop
from search.cli import main
from search.engine import RunRequest, plan
from search.errors import SearchError
from search.report._data import describe_budget
from search.storage import RunFolder
from tests import user_models as um
from tests.helpers.images import tiny_data, tiny_model

TRAIN, BATCH = 288, 32
"""The search's training images and the fixed batch size of the CNN searches."""
SMALL_CNN = {"conv_blocks": 2, "filters": 16, "dense_units": 32, "batch_size": BATCH, "augment": False}


@pytest.mark.parametrize(
    ("budget", "max_epochs", "available", "minimum", "images"),
    [
        (1, 3, 300, 1, 100),
        (2, 3, 300, 1, 200),
        (3, 3, 300, 1, 300),
        (1, 9, 100, 1, 12),  # ceil(100 / 9)
        (1, 9, 100, 50, 50),  # never fewer than one batch
        (9, 9, 30, 50, 30),  # nor more than there are
        (12, 9, 100, 1, 100),  # a budget past max_epochs: all of them
    ],
)
def test_the_images_grow_with_the_epoch_budget(
    budget: int, max_epochs: int, available: int, minimum: int, images: int
) -> None:
    assert fidelity_images(budget, max_epochs, available, minimum) == images


def test_a_budget_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        fidelity_images(0, 3, 100)


def test_each_epoch_or_the_fits_budget_and_nested_subsets() -> None:
    per_epoch = DataFidelity(max_epochs=4, seed=5)
    assert [per_epoch.images(epoch, 100) for epoch in range(4)] == [25, 50, 75, 100]
    rung = DataFidelity(max_epochs=4, seed=5, budget=2)  # Hyperband's round of 2 epochs
    assert [rung.images(epoch, 100) for epoch in range(4)] == [50, 50, 50, 50]
    small, large = per_epoch.rows(0, 100), per_epoch.rows(3, 100)
    assert np.array_equal(large[: len(small)], small)  # a larger budget's include a smaller's
    assert sorted(large) == list(range(100))
    assert not np.array_equal(small, np.arange(25))  # a seeded order, not the first rows
    assert np.array_equal(DataFidelity(4, seed=5).rows(1, 100), per_epoch.rows(1, 100))


class EpochBatches(keras.callbacks.Callback):
    """Training batches per epoch of one fit."""

    def __init__(self) -> None:
        super().__init__()
        self.batches: list[int] = []

    def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
        self.batches.append(0)

    def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
        self.batches[-1] += 1


@pytest.mark.parametrize("device_bytes", [2**30, 40_000], ids=["resident", "in-parts"])
def test_the_loop_trains_each_epoch_on_its_subset(device_bytes: int) -> None:
    x, y = tiny_data(n=128)
    *_, model = tiny_model()
    counted = EpochBatches()
    config = LoopConfig(batch_size=32, device_data_bytes=device_bytes, seed=7,
                        fidelity=DataFidelity(max_epochs=4, seed=1))  # fmt: skip
    history = fit_loop(model, x, y, (x[:20], y[:20]), epochs=4, callbacks=[counted], config=config)
    assert counted.batches == [1, 2, 3, 4]  # 32, 64, 96, then all 128 images
    assert len(history.history["val_accuracy"]) == 4


class BatchCounter(search.Observer):
    """Training batches per epoch of each trial, with the trial's Hyperband budget."""

    def __init__(self) -> None:
        self.batches: dict[str, dict[int, int]] = defaultdict(dict)
        self.budget: dict[str, int | None] = {}

    def trial_begin(self, trial: kt.engine.trial.Trial) -> None:
        self.budget[trial.trial_id] = trial.hyperparameters.values.get("tuner/epochs")

    def epoch_begin(self, trial: kt.engine.trial.Trial, epoch: int) -> None:
        self.batches[trial.trial_id][epoch] = 0

    def batch_end(self, trial: kt.engine.trial.Trial, batch: int) -> None:
        epochs = self.batches[trial.trial_id]
        epochs[max(epochs)] += 1


def _fashion(tmp_path: Path, data_dir: Path, tuner: str, fidelity: str, **options: Any) -> BatchCounter:
    counter = BatchCounter()
    settings: dict[str, Any] = {
        "tuner": tuner, "max_epochs": 3, "train_size": TRAIN, "val_size": 100,
        "data_dir": data_dir, "results": tmp_path, "name": fidelity, "retrain": False,
        "quiet": True, "fix": SMALL_CNN, "fidelity": fidelity, "observers": [counter],
    }  # fmt: skip
    settings.update(options)
    search.run("fashion", **settings)
    return counter


def test_hyperband_early_rungs_train_on_fewer_images(tmp_path: Path, synthetic_fashion: Path) -> None:
    counter = _fashion(tmp_path, synthetic_fashion, "hyperband", "data", max_trials=4)
    by_budget = defaultdict(set)
    for trial, epochs in counter.batches.items():
        by_budget[counter.budget[trial]].update(epochs.values())
    assert by_budget[1] == {fidelity_images(1, 3, TRAIN) // BATCH}  # 96 images: 3 batches
    assert by_budget[3] == {TRAIN // BATCH}  # the top rung (continued) sees all 288


def test_epochs_fidelity_trains_every_epoch_on_every_image(tmp_path: Path, synthetic_fashion: Path) -> None:
    counter = _fashion(tmp_path, synthetic_fashion, "hyperband", "epochs", max_trials=4)
    assert {n for epochs in counter.batches.values() for n in epochs.values()} == {TRAIN // BATCH}
    assert set(counter.budget.values()) == {1, 3}


def test_pruners_see_the_images_grow_with_each_epoch(tmp_path: Path, synthetic_fashion: Path) -> None:
    counter = _fashion(tmp_path, synthetic_fashion, "optuna", "data", max_trials=1)
    assert list(counter.batches.values()) == [{0: 3, 1: 6, 2: 9}]  # a third, two thirds, all


def test_model_fit_hypermodels_grow_their_subsets_too(tmp_path: Path) -> None:
    x, y = um.tiny_data(n=240)
    counter = BatchCounter()
    search.run(um.build, x, y, tuner="optuna", max_trials=1, max_epochs=3, fidelity="data",
               results=tmp_path, name="fit", retrain=False, quiet=True, observers=[counter])  # fmt: skip
    (epochs,) = counter.batches.values()
    assert epochs[0] < epochs[1] < epochs[2]  # model.fit's batches of 32 on a third, two thirds, all


def test_both_searches_on_every_image_unless_a_train_size_is_given() -> None:
    assert plan(RunRequest(experiment="fashion", tuner="hyperband", budget="cpu")).data.train_size == 10000
    data = plan(RunRequest(experiment="fashion", tuner="hyperband", budget="cpu", fidelity="data"))
    assert data.data.train_size == 10000
    assert data.options.fidelity == DataFidelity(data.budget.max_epochs, seed=0)
    both = plan(RunRequest(experiment="fashion", tuner="hyperband", budget="cpu", fidelity="both"))
    assert both.data.train_size is None and both.options.fidelity == data.options.fidelity
    given = plan(RunRequest(experiment="fashion", tuner="hyperband", fidelity="both", train_size=500))
    assert given.data.train_size == 500
    assert plan(RunRequest(experiment="fashion", tuner="optuna")).options.fidelity is None


def test_a_bad_fidelity_is_refused_before_any_work(tmp_path: Path, capsys) -> None:
    args = ["run", "fashion", "--tuner", "random", "--results", str(tmp_path), "--fidelity", "rungs"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "--fidelity 'rungs': choose one of epochs, data, both" in err and "Traceback" not in err
    x, y = um.tiny_data()
    with pytest.raises(SearchError, match="^fidelity 'rungs': choose one of epochs, data, both$"):
        search.run(um.build, x, y, fidelity="rungs", results=tmp_path, quiet=True)
    assert not list(tmp_path.rglob("run.json"))


def test_data_fidelity_with_one_epoch_is_refused_before_any_work(tmp_path: Path, capsys) -> None:
    """One epoch is the top rung already: every trial trained on all its images, yet the
    run and its report named the data fidelity."""
    args = ["run", "fashion", "--tuner", "random", "--max-epochs", "1", "--results", str(tmp_path)]
    assert main([*args, "--fidelity", "data"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --fidelity data grows a trial's training images with its epochs, up to"
                          " all of them at --max-epochs; with --max-epochs 1 every trial trains one epoch"
                          " on all of them, so nothing would grow: leave out --fidelity, or give"
                          " --max-epochs 2 or more")
    assert len(err.strip().splitlines()) == 1
    x, y = um.tiny_data()
    with pytest.raises(SearchError, match=r"^fidelity data grows .* give max_epochs 2 or more$"):
        search.run(um.build, x, y, tuner="optuna", max_epochs=1, fidelity="data", results=tmp_path,
                   quiet=True)
    assert not list(tmp_path.rglob("run.json"))
    both = plan(RunRequest(experiment="fashion", tuner="random", max_epochs=1, fidelity="both"))
    assert both.data.train_size is None  # still searches on every image
    assert main([*args, "--fidelity", "both", "--train-size", "256"]) == 2  # then as data
    assert capsys.readouterr().err.startswith("error: --fidelity both grows a trial's training images")


class OwnFit(kt.HyperModel):
    """A HyperModel whose own fit knows nothing of growing subsets."""

    def build(self, hp: kt.HyperParameters) -> Any:
        return um.build(hp)

    def fit(self, hp: kt.HyperParameters, model: Any, *args: Any, **kwargs: Any) -> Any:
        return model.fit(*args, **kwargs)


def test_an_own_fit_without_the_parameter_is_refused(tmp_path: Path) -> None:
    x, y = um.tiny_data()
    with pytest.raises(SearchError, match="^fidelity data: OwnFit's own fit trains on all the x"):
        search.run(OwnFit(), x, y, fidelity="data", results=tmp_path, quiet=True)
    assert not list(tmp_path.rglob("run.json"))


def test_a_run_is_not_continued_with_another_fidelity(
    tmp_path: Path, capsys: pytest.CaptureFixture, synthetic_fashion: Path
) -> None:
    args = ["run", "fashion", "--tuner", "random", "--max-trials", "1", "--max-epochs", "2",
            "--train-size", "100", "--val-size", "50", "--data-dir", str(synthetic_fashion),
            "--results", str(tmp_path), "--name", "grow", "--no-retrain", "--quiet",
            "--fix", "conv_blocks=2", "--fix", "filters=16"]  # fmt: skip
    assert main([*args, "--fidelity", "data"]) == 0
    folder = RunFolder(tmp_path / "fashion" / "grow")
    meta = folder.read_meta()
    assert meta["request"]["fidelity"] == "data" and meta["budget"]["fidelity"] == "data"
    assert "fidelity data" in describe_budget(meta)
    folder.update_meta(status="interrupted")
    capsys.readouterr()
    assert main(args) == 2  # --fidelity epochs, the default
    err = capsys.readouterr().err
    assert "other settings (--fidelity data -> epochs); start a new run with another --name" in err
    assert len(err.strip().splitlines()) == 1
    assert main(["status", str(folder.path)]) == 0
    assert "fidelity data" in capsys.readouterr().out
