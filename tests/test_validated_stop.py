"""The validated retrain's stop: patience 3, then 2 once the best epoch trained at a cut
learning rate; and ``bench/retrain_stop.py``'s reading of curves agrees with it."""

from __future__ import annotations

import importlib
import sys

import keras
import pytest

from search.engine._retrain import (
    VAL_ACCURACY,
    VALIDATED_FACTOR,
    VALIDATED_PATIENCE,
    VALIDATED_PATIENCE_AFTER_CUT,
    ValidatedStop,
    _LearningRates,
    _validated_cuts,
)
from tests.conftest import ROOT

FIRST_RATE = 1e-2


def replay(curve: list[float]) -> tuple[int, int, list[float]]:
    """Feed ``curve`` (val accuracy per epoch) to the retrain's callbacks, as a fit would:
    (epochs until the stop, kept epoch, learning rate of each epoch)."""
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.Adam(FIRST_RATE), loss="mse")
    rates = _LearningRates()
    callbacks = keras.callbacks.CallbackList(
        [rates, _validated_cuts(VAL_ACCURACY), ValidatedStop(VAL_ACCURACY, rates)], model=model
    )
    stopper = callbacks.callbacks[2]
    model.stop_training = False
    callbacks.on_train_begin()
    for epoch, value in enumerate(curve):
        callbacks.on_epoch_begin(epoch)
        callbacks.on_epoch_end(epoch, {"val_accuracy": value})
        if model.stop_training:
            return epoch + 1, stopper.best_epoch + 1, rates.rates
    return len(curve), stopper.best_epoch + 1, rates.rates


# epochs 1-3 improve, 4 does not (a cut), 5 improves at the cut rate, then nothing does.
AFTER_A_CUT = [0.80, 0.85, 0.88, 0.88, 0.90, 0.90, 0.90, 0.90, 0.90]
# the first plateau: the best epoch trained at the first rate.
NO_CUT_YET = [0.80, 0.85, 0.88, 0.88, 0.88, 0.88, 0.88]


def test_patience_shrinks_once_the_best_epoch_trained_at_a_cut_rate() -> None:
    epochs, kept, rates = replay(AFTER_A_CUT)
    assert kept == 5 and rates[kept - 1] == pytest.approx(FIRST_RATE * VALIDATED_FACTOR)
    assert epochs == kept + VALIDATED_PATIENCE_AFTER_CUT


def test_full_patience_while_the_best_epoch_trained_at_the_first_rate() -> None:
    epochs, kept, rates = replay(NO_CUT_YET)
    assert kept == 3 and rates[kept - 1] == pytest.approx(FIRST_RATE)
    assert epochs == kept + VALIDATED_PATIENCE
    assert rates[-1] == pytest.approx(FIRST_RATE * VALIDATED_FACTOR ** (VALIDATED_PATIENCE - 1))


def test_an_improvement_on_the_last_patient_epoch_carries_on() -> None:
    curve = [0.80, 0.85, 0.85, 0.85, 0.87, 0.88, 0.88, 0.88, 0.88]  # 5 improves after 2 cuts
    epochs, kept, _ = replay(curve)
    assert kept == 6 and epochs == kept + VALIDATED_PATIENCE_AFTER_CUT


@pytest.mark.parametrize("curve", [AFTER_A_CUT, NO_CUT_YET, [0.7, 0.8, 0.79, 0.81, 0.83, 0.83,
                                   0.835, 0.8358, 0.84, 0.84, 0.84]])  # fmt: skip
def test_the_bench_reads_curves_as_the_retrain_stops(curve: list[float], monkeypatch) -> None:
    monkeypatch.syspath_prepend(str(ROOT / "bench"))
    bench = importlib.import_module("retrain_stop")
    try:
        own = list(bench.RULES.values())[-1]
        stop = bench.simulate(curve, own)
        assert (stop.epochs, stop.kept) == replay(curve)[:2]
        assert stop.stopped
    finally:
        sys.modules.pop("retrain_stop", None)
