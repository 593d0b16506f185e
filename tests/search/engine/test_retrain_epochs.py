"""How long the chosen configuration is retrained: to the end of its plateau."""

from __future__ import annotations

import math
from pathlib import Path

import keras_tuner as kt
import numpy as np
import pytest

from search.data import array_splits
from search.engine._retrain import (
    VAL_ACCURACY,
    _how_long,
    _validated_summary,
    fit_configuration,
    retrain_data,
    retrain_epochs,
    trained_record,
)
from search.report import describe_training
from tests import user_models as um


def record(best: int, accuracies: list[float], first: int = 1) -> dict:
    epochs = [{"epoch": first + i, "val_accuracy": a} for i, a in enumerate(accuracies)]
    return {"id": "0005", "best_epoch": best, "epochs": epochs}


def test_the_last_epoch_within_tolerance_of_the_best() -> None:
    # A continued Hyperband trial (epochs 3-6): best at 4, 5 and 6 within 0.005 of it.
    assert retrain_epochs(record(4, [0.863, 0.8794, 0.877, 0.8783], first=3), 0.005) == 6
    assert retrain_epochs(record(4, [0.863, 0.8794, 0.870, 0.8783], first=3), 0.005) == 6
    assert retrain_epochs(record(4, [0.863, 0.8794, 0.870, 0.860], first=3), 0.005) == 4
    assert retrain_epochs(record(4, [0.863, 0.8794, 0.877, 0.8783], first=3), 0.0) == 4


def test_without_accuracies_the_best_epoch() -> None:
    assert retrain_epochs(record(2, [math.nan, math.nan]), 0.005) == 2
    assert retrain_epochs({"best_epoch": 3, "epochs": []}, 0.005) == 3


def test_a_retrain_by_the_best_epoch_says_which_metric_chose_it() -> None:
    """A regression's trial logs no accuracy: its retrain runs to the objective's best
    epoch, and says so, not "within 0.005 of its best validation accuracy"."""
    losses = [{"epoch": 1, "val_loss": 3.0}, {"epoch": 2, "val_loss": 1.5}]
    regression = {"id": "1", "best_epoch": 2, "epochs": losses}
    words = _how_long(regression, kt.Objective("val_loss", "min"), (2, 2), "", 0.005, (False, "plateau"))
    assert words == "for 2 epochs (its best epoch by val_loss, epoch 2)"
    accuracy = kt.Objective("val_accuracy", "max")
    classifier = _how_long(record(2, [0.8, 0.9]), accuracy, (2, 2), "", 0.005, (False, "plateau"))
    assert classifier == "for 2 epochs (its last epoch within 0.005 of its best validation accuracy, epoch 2)"


def test_validated_retrain_stops_on_validation_and_keeps_the_best_epoch(
    seed: int, tmp_path: Path
) -> None:
    """Trains on the images outside the validation split, cuts the learning rate after
    each epoch without a better val accuracy, stops after 3 such epochs (2 once two came
    before the best epoch), and saves the
    best epoch's weights (the saved model scores that epoch's val accuracy again; here the
    epochs after it score the same, so restoring is Keras' EarlyStopping's to get right)."""
    from rich.console import Console

    from hypermodels import ImageCNN, ImageStats, evaluate_model
    from search.data import Splits
    from search.engine._retrain import (
        VALIDATED_CUTS_BEFORE_SHRINK,
        VALIDATED_FACTOR,
        VALIDATED_PATIENCE,
        VALIDATED_PATIENCE_AFTER_CUT,
        retrain_best,
    )
    from search.space import Fixed, Space
    from search.storage import RunFolder
    from tests.helpers.images import tiny_data

    x, y = tiny_data(192)
    xv, yv = tiny_data(96, seed=1)
    yv = yv.copy()
    yv[::3] = (yv[::3] + 1) % 10  # a third mislabelled: validation accuracy tops out early
    xt, yt = tiny_data(64, seed=2)
    splits = Splits(x[:32], y[:32], xv, yv, xt, yt, tuple("abcdefghij"), "tiny",
                    x_unsplit=x, y_unsplit=y)  # fmt: skip
    values = {"filters": 8, "conv_blocks": 2, "dense_units": 32, "batch_size": 32,
              "learning_rate": 1e-2}  # fmt: skip
    space = Space(tuple(Fixed(k, v) for k, v in values.items()))
    hypermodel = ImageCNN(space, (28, 28, 1), 10, ImageStats.of(x), seed=7)
    folder = RunFolder(tmp_path / "run")
    folder.path.mkdir()
    best = {"id": "0003", "hyperparameters": {}, "best_epoch": 2, "epochs": []}
    console = Console(record=True, width=200)
    final = retrain_best(hypermodel, best, splits, "validated", folder, console, False,
                         0.005, 15)  # fmt: skip

    assert final["retrain_data"] == "validated" and final["train_images"] == 192
    scores = final["val_accuracy_per_epoch"]
    assert len(scores) == final["epochs"] < 15  # stopped before the cap
    assert final["kept_epoch"] == scores.index(max(scores)) + 1
    rates = final["learning_rates"]
    assert rates[0] == pytest.approx(1e-2) and len(rates) == final["epochs"]
    kept = final["kept_epoch"]  # epochs after it trained at a rate cut after each one
    cuts = round(math.log(rates[kept - 1] / rates[0]) / math.log(VALIDATED_FACTOR))
    shrunk = cuts >= VALIDATED_CUTS_BEFORE_SHRINK
    patience = VALIDATED_PATIENCE_AFTER_CUT if shrunk else VALIDATED_PATIENCE
    assert final["epochs"] == kept + patience
    assert rates[-1] == pytest.approx(rates[kept] * VALIDATED_FACTOR ** (patience - 1))
    import keras

    saved = keras.models.load_model(folder.model_file)
    _, val_accuracy = evaluate_model(saved, xv, yv)
    assert val_accuracy == pytest.approx(final["val_accuracy"], abs=1e-6)
    assert val_accuracy == pytest.approx(scores[final["kept_epoch"] - 1], abs=1e-5)
    assert "retrain epoch 1 (at most 15)" in console.export_text()


def test_a_validated_training_records_the_curve_of_the_metric_it_watched() -> None:
    """The report plots what chose the kept epoch: val_loss's curve where it watched val_loss
    (besides validation accuracy's, where logged); an accuracy run's record is unchanged."""
    curve = {"val_loss": [0.5, 0.31, 0.4], "val_accuracy": [0.8, 0.9, 0.85]}
    by_loss = _validated_summary(curve, "val_loss", 2, 5, [1e-3, 1e-3, 3e-4])
    assert by_loss["val_score_per_epoch"] == [0.5, 0.31, 0.4] and by_loss["val_score"] == 0.31
    assert by_loss["val_accuracy_per_epoch"] == [0.8, 0.9, 0.85]
    assert "val_score_per_epoch" not in _validated_summary(curve, "val_accuracy", 2, 5, [])


@pytest.mark.parametrize(("cls", "epochs"), [(um.DictFit, None), (um.HistoryFit, 3)], ids=["dict", "history"])
@pytest.mark.parametrize("kept_state", [False, True], ids=["", "with-state"])
def test_a_fit_of_its_own_is_said_to_have_trained_the_epochs_it_told(
    cls: type, epochs: int | None, kept_state: bool, tmp_path: Path
) -> None:
    x, y = um.tiny_data()
    state = tmp_path / "retrain.state.npz" if kept_state else None  # as a run's retrain keeps it
    fitted = fit_configuration(cls(), kt.HyperParameters(), x, y, (x, y), 3, VAL_ACCURACY, None, state)
    assert fitted.epochs == epochs
    final = trained_record({"id": "0001", "hyperparameters": {}}, "validated", (90, "rows"), fitted,
                           "val_accuracy", 20)  # fmt: skip
    assert final["epochs"] == epochs
    words = describe_training(final)
    said = "epochs its own fit did not report" if epochs is None else "3 epochs"
    assert words.startswith(f"{said} on 90 rows"), words


def test_a_retrain_on_train_and_validation_weighs_both_parts_rows_and_classes() -> None:
    x, y = um.tiny_data(20)
    val = (x[:5], y[:5], np.full(5, 3.0))
    splits = array_splits(x, y, validation_data=val, class_weight={0: 2.0})
    rows, labels, weights = retrain_data(splits, "search")
    assert len(rows) == len(labels) == len(weights) == 25
    expected = np.concatenate([np.ones(20), np.full(5, 3.0)]) * np.where(labels == 0, 2.0, 1.0)
    np.testing.assert_allclose(weights, expected)  # the training part weighs 1 a row of its own
    assert retrain_data(array_splits(x, y), "search")[2] is None
    np.testing.assert_allclose(retrain_data(splits, "validated")[2], np.where(y == 0, 2.0, 1.0))
