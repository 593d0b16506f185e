"""The validated retrain's stop: patience 3, then 2 once two epochs without a better score
(two cuts) came before the best one; and ``bench/retrain_stop.py``'s reading of curves
agrees with it."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Any

import keras
import keras_tuner as kt
import pytest

from search.engine._resumable import TrainingState
from search.engine._retrain import (
    VAL_ACCURACY,
    VALIDATED_CUTS_BEFORE_SHRINK,
    VALIDATED_FACTOR,
    VALIDATED_PATIENCE,
    VALIDATED_PATIENCE_AFTER_CUT,
    ValidatedStop,
    _LearningRates,
    _validated_cuts,
)
from tests.conftest import ROOT
from tests.helpers.rates import feed, tiny_model

FIRST_RATE = 1e-2


def _callbacks(model: keras.Model, state: Path | None) -> tuple[keras.callbacks.CallbackList, Any]:
    rates = _LearningRates()
    stopper, cuts = ValidatedStop(VAL_ACCURACY), _validated_cuts(VAL_ACCURACY)
    keeper = None if state is None else TrainingState(state, rates, cuts, stopper)
    callbacks = [c for c in (rates, cuts, stopper, keeper) if c is not None]
    return keras.callbacks.CallbackList(callbacks, model=model), (rates, stopper, keeper)


def _model() -> keras.Model:
    return tiny_model(FIRST_RATE)


def replay(
    curve: list[float], state: Path | None = None, until: int | None = None,
    rate_at: dict[int, float] | None = None,
) -> tuple[int, int, list[float]]:
    """Feed ``curve`` (val accuracy per epoch) to the retrain's callbacks, as a fit would:
    (epochs until the stop, kept epoch, learning rate of each epoch). ``state``: keep the
    training's state there and continue from it; ``until``: stop feeding after that many
    epochs (an interruption); ``rate_at``: epoch -> a learning rate set before it trains
    (as a fine-tuning switch recompiles with its own)."""
    model = _model()
    callbacks, (rates, stopper, keeper) = _callbacks(model, state)
    first = keeper.restore(model) if keeper is not None else 0
    stopped = feed(callbacks, model, curve, first, until, rate_at)
    if stopped is not None:
        return stopped, stopper.best_epoch + 1, rates.rates
    return len(rates.rates), stopper.best_epoch + 1, rates.rates


# epochs 3 and 5 are no better (two cuts), 6 is the best, then nothing is.
AFTER_TWO_CUTS = [0.80, 0.85, 0.85, 0.87, 0.87, 0.89, 0.89, 0.89, 0.89, 0.89]
# epoch 4 is no better (one cut), 5 is the best at the cut rate, then nothing is.
AFTER_A_CUT = [0.80, 0.85, 0.88, 0.88, 0.90, 0.90, 0.90, 0.90, 0.90]
# the first plateau: the best epoch trained at the first rate.
NO_CUT_YET = [0.80, 0.85, 0.88, 0.88, 0.88, 0.88, 0.88]


def test_patience_shrinks_once_two_cuts_came_before_the_best_epoch() -> None:
    assert VALIDATED_CUTS_BEFORE_SHRINK == 2
    epochs, kept, rates = replay(AFTER_TWO_CUTS)
    assert kept == 6 and rates[kept - 1] == pytest.approx(FIRST_RATE * VALIDATED_FACTOR**2)
    assert epochs == kept + VALIDATED_PATIENCE_AFTER_CUT


def test_full_patience_after_a_single_cut() -> None:
    epochs, kept, rates = replay(AFTER_A_CUT)
    assert kept == 5 and rates[kept - 1] == pytest.approx(FIRST_RATE * VALIDATED_FACTOR)
    assert epochs == kept + VALIDATED_PATIENCE


def test_full_patience_while_the_best_epoch_trained_at_the_first_rate() -> None:
    epochs, kept, rates = replay(NO_CUT_YET)
    assert kept == 3 and rates[kept - 1] == pytest.approx(FIRST_RATE)
    assert epochs == kept + VALIDATED_PATIENCE
    assert rates[-1] == pytest.approx(FIRST_RATE * VALIDATED_FACTOR ** (VALIDATED_PATIENCE - 1))


def test_an_improvement_on_the_last_patient_epoch_carries_on() -> None:
    curve = [0.80, 0.85, 0.85, 0.85, 0.87, 0.88, 0.88, 0.88, 0.88]  # 5 improves after 2 cuts
    epochs, kept, _ = replay(curve)
    assert kept == 6 and epochs == kept + VALIDATED_PATIENCE_AFTER_CUT


def test_smaller_steps_than_min_delta_are_not_better() -> None:
    curve = [0.80, 0.85, 0.8505, 0.8509, 0.8508, 0.86, 0.87]  # 3-5: +0.0005 .. +0.0009 over 2
    epochs, kept, _ = replay(curve)
    assert kept == 2 and epochs == 2 + VALIDATED_PATIENCE


def test_a_rate_set_by_the_model_is_no_cut() -> None:
    """A fine-tuning switch lowers the rate by design: the patience stays until an epoch
    without a better score came before the best one."""
    epochs, kept, rates = replay(NO_CUT_YET, rate_at={1: FIRST_RATE / 10, 2: FIRST_RATE / 100})
    assert rates[2] == pytest.approx(FIRST_RATE / 100)
    assert kept == 3 and epochs == kept + VALIDATED_PATIENCE


@pytest.mark.parametrize("until", [4, 6, 7])
def test_a_resumed_training_stops_where_an_uninterrupted_one_does(tmp_path: Path, until: int) -> None:
    state = tmp_path / "state.npz"
    assert replay(AFTER_TWO_CUTS, state=state, until=until)[0] == until  # interrupted
    assert replay(AFTER_TWO_CUTS, state=state) == replay(AFTER_TWO_CUTS)


@pytest.mark.parametrize("curve", [AFTER_TWO_CUTS, AFTER_A_CUT, NO_CUT_YET, [0.7, 0.8, 0.79, 0.81, 0.83, 0.83,
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


def test_a_loss_on_a_small_scale_that_keeps_improving_keeps_training() -> None:
    """A regression on small targets: its val_loss improves by less than the accuracy's
    min_delta (0.001) every epoch; each improvement counts, so no cut and no early stop."""

    monitor = kt.Objective("val_loss", "min")
    model = _model()
    rates, stopper, cuts = _LearningRates(), ValidatedStop(monitor), _validated_cuts(monitor)
    callbacks = keras.callbacks.CallbackList([rates, cuts, stopper], model=model)
    model.stop_training = False
    callbacks.on_train_begin()
    curve = [4e-4, 3e-4, 2e-4, 1.5e-4, 1e-4, 8e-5]
    for epoch, value in enumerate(curve):
        callbacks.on_epoch_begin(epoch)
        callbacks.on_epoch_end(epoch, {"val_loss": value, "loss": value})
        assert not model.stop_training, f"stopped after epoch {epoch + 1}"
    assert stopper.best_epoch + 1 == len(curve) and rates.rates == [FIRST_RATE] * len(curve)
