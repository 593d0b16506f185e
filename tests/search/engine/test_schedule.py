"""The cosine schedule of the final trainings: each epoch's rate along a half cosine from
the training's own rate to the floor, every epoch trained, the best kept; a resumed
training and a new optimizer's rate go on from where they were."""

from __future__ import annotations

import math
from pathlib import Path

import keras
import keras_tuner as kt
import numpy as np
import pytest

from search.engine._resumable import TrainingState
from search.engine._retrain import VAL_ACCURACY, _LearningRates, fit_configuration
from search.engine._schedule import MIN_LEARNING_RATE, CosineRates, cosine_factor, keep_best
from tests.helpers.rates import feed, tiny_model

FIRST_RATE = 1e-2
EPOCHS = 6
RISING_THEN_FALLING = [0.80, 0.85, 0.88, 0.90, 0.89, 0.87]


def replay(
    curve: list[float], state: Path | None = None, until: int | None = None,
    rate_at: dict[int, float] | None = None,
) -> tuple[int, int, list[float]]:
    """Feed ``curve`` (val accuracy per epoch) to a cosine training's callbacks as a fit
    would: (epochs trained, kept epoch, each epoch's rate). ``state``, ``until`` and
    ``rate_at`` as in ``test_validated_stop.replay``."""
    model = tiny_model(FIRST_RATE)
    cosine, rates, stopper = CosineRates(len(curve)), _LearningRates(), keep_best(VAL_ACCURACY, len(curve))
    keeper = None if state is None else TrainingState(state, rates, None, stopper, cosine)
    callbacks = keras.callbacks.CallbackList(
        [c for c in (cosine, rates, stopper, keeper) if c is not None], model=model
    )
    first = keeper.restore(model) if keeper is not None else 0
    assert feed(callbacks, model, curve, first, until, rate_at) is None  # no early stop
    return len(rates.rates), stopper.best_epoch + 1, rates.rates


def _cosine(epoch: int, epochs: int, first: float = FIRST_RATE) -> float:
    return MIN_LEARNING_RATE + (first - MIN_LEARNING_RATE) * 0.5 * (1 + math.cos(math.pi * epoch / epochs))


def test_the_half_cosine_starts_at_one_and_ends_near_zero() -> None:
    assert cosine_factor(0, 10) == 1.0
    assert cosine_factor(5, 10) == pytest.approx(0.5)
    assert 0 < cosine_factor(9, 10) < 0.03
    falling = [cosine_factor(e, 4) for e in range(4)]
    assert falling == sorted(falling, reverse=True)


def test_every_epoch_trains_along_the_cosine_and_the_best_is_kept() -> None:
    trained, kept, rates = replay(RISING_THEN_FALLING)
    assert (trained, kept) == (EPOCHS, 4)  # no stop after two worse epochs: the plateau's would
    assert rates == pytest.approx([_cosine(e, EPOCHS) for e in range(EPOCHS)], rel=1e-5)
    assert rates[0] == FIRST_RATE and rates[-1] < FIRST_RATE / 10


def test_an_interrupted_cosine_goes_on_as_if_never_stopped(tmp_path: Path) -> None:
    whole = replay(RISING_THEN_FALLING)
    state = tmp_path / "retrain.state.npz"
    replay(RISING_THEN_FALLING, state, until=3)
    assert replay(RISING_THEN_FALLING, state) == whole


def test_a_new_rate_set_mid_training_decays_from_there_to_the_floor(tmp_path: Path) -> None:
    """A fine-tuning phase recompiles with its own rate: the cosine decays that one."""
    fine = 1e-4
    _, _, rates = replay(RISING_THEN_FALLING, rate_at={3: fine})
    assert rates[:3] == pytest.approx([_cosine(e, EPOCHS) for e in range(3)], rel=1e-5)
    share = [cosine_factor(e, EPOCHS) / cosine_factor(3, EPOCHS) for e in range(3, EPOCHS)]
    decayed = [MIN_LEARNING_RATE + (fine - MIN_LEARNING_RATE) * s for s in share]
    assert rates[3:] == pytest.approx(decayed, rel=1e-5)
    state = tmp_path / "retrain.state.npz"  # and a resumed one after the switch goes on from it
    replay(RISING_THEN_FALLING, state, until=5, rate_at={3: fine})
    assert replay(RISING_THEN_FALLING, state)[2] == pytest.approx(rates, rel=1e-6)


def test_past_its_planned_end_the_rate_stays_at_the_floor() -> None:
    cosine = CosineRates(4)
    cosine.reference = FIRST_RATE
    assert [cosine.rate(e) for e in (4, 5, 7)] == [MIN_LEARNING_RATE] * 3


def test_an_optimizer_with_its_own_schedule_keeps_it() -> None:
    own = keras.optimizers.schedules.ExponentialDecay(FIRST_RATE, decay_steps=1, decay_rate=0.5)
    model = tiny_model(own)
    cosine = CosineRates(EPOCHS)
    cosine.set_model(model)
    cosine.on_epoch_begin(0)
    cosine.on_epoch_begin(1)
    assert cosine.last_set is None
    assert float(keras.ops.convert_to_numpy(model.optimizer.learning_rate)) == pytest.approx(FIRST_RATE)


class _Dense(kt.HyperModel):
    def build(self, hp: kt.HyperParameters) -> keras.Model:
        keras.utils.set_random_seed(0)
        model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
        model.compile(optimizer=keras.optimizers.Adam(FIRST_RATE), loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"])  # fmt: skip
        return model


@pytest.mark.parametrize("validated", [True, False])
def test_a_cosine_training_runs_all_its_epochs_and_records_its_schedule(validated: bool) -> None:
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(64, 4)).astype("float32"), rng.integers(0, 3, 64)
    validation = (x[:16], y[:16]) if validated else None
    fitted = fit_configuration(_Dense(), kt.HyperParameters(), x, y, validation, 4, VAL_ACCURACY, None,
                               schedule="cosine")  # fmt: skip
    assert (fitted.epochs, fitted.schedule, fitted.chosen_by_validation) == (4, "cosine", validated)
    assert fitted.rates == pytest.approx([_cosine(e, 4) for e in range(4)], rel=1e-5)


def test_a_plateau_without_validation_is_recorded_as_a_constant_rate() -> None:
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(64, 4)).astype("float32"), rng.integers(0, 3, 64)
    fitted = fit_configuration(_Dense(), kt.HyperParameters(), x, y, None, 3, VAL_ACCURACY, None)
    assert (fitted.schedule, fitted.rates) == ("constant", [FIRST_RATE] * 3)


class _OwnSchedule(_Dense):
    def build(self, hp: kt.HyperParameters) -> keras.Model:
        model = super().build(hp)
        own = keras.optimizers.schedules.ExponentialDecay(FIRST_RATE, decay_steps=1, decay_rate=0.5)
        model.compile(optimizer=keras.optimizers.Adam(own), loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"])  # fmt: skip
        return model


def test_a_training_whose_optimizer_has_its_own_schedule_records_it_as_its_own() -> None:
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(64, 4)).astype("float32"), rng.integers(0, 3, 64)
    fitted = fit_configuration(_OwnSchedule(), kt.HyperParameters(), x, y, (x[:16], y[:16]), 2, VAL_ACCURACY,
                               None, schedule="cosine")  # fmt: skip
    assert (fitted.epochs, fitted.schedule) == (2, "own")


class _OwnScheduleScaled(_Dense):
    """Its schedule within a LossScaleOptimizer, as a mixed precision wraps it."""

    def build(self, hp: kt.HyperParameters) -> keras.Model:
        model = super().build(hp)
        own = keras.optimizers.schedules.ExponentialDecay(FIRST_RATE, decay_steps=1, decay_rate=0.5)
        model.compile(optimizer=keras.optimizers.LossScaleOptimizer(keras.optimizers.Adam(own)),
                      loss="sparse_categorical_crossentropy", metrics=["accuracy"])  # fmt: skip
        return model


@pytest.mark.parametrize("hypermodel", [_OwnSchedule(), _OwnScheduleScaled()])
def test_a_plateau_leaves_an_optimizers_own_schedule_in_charge(hypermodel: kt.HyperModel) -> None:
    """The plateau's first cut raised Keras' TypeError ("not settable") after the whole search."""
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(64, 4)).astype("float32"), rng.integers(0, 3, 64)
    fitted = fit_configuration(hypermodel, kt.HyperParameters(), x, y, (x[:16], y[:16]), 6, VAL_ACCURACY,
                               None, schedule="plateau")  # fmt: skip
    assert fitted.schedule == "own" and fitted.epochs is not None and fitted.epochs >= 2
