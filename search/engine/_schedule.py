"""The learning-rate schedules of a final training (a finalist's, the retrain's).

``plateau`` cuts the rate after every epoch without a better validation score and stops
once none comes (``ValidatedStop`` and ReduceLROnPlateau, in ``_retrain``); ``cosine``
trains every epoch it is given, the rate decayed along a half cosine to its floor, and
keeps the best epoch by validation (:class:`CosineRates`, :func:`keep_best`).
"""

from __future__ import annotations

import math
from typing import Any

import keras
import keras_tuner as kt

MIN_LEARNING_RATE = 1e-7
"""Final trainings never set the learning rate below this."""
_SAME_RATE = 1e-5
"""Relative difference below which two rates are one (the optimizer keeps float32)."""


def cosine_factor(epoch: int, epochs: int) -> float:
    """The half cosine at the start of ``epoch`` (0-based) of ``epochs``: 1 at the first
    epoch, falling towards 0 after the last."""
    return 0.5 * (1.0 + math.cos(math.pi * epoch / epochs))


class CosineRates(keras.callbacks.Callback):
    """Set each epoch's learning rate along a half cosine over ``epochs`` epochs, from the
    rate the training starts at down towards :data:`MIN_LEARNING_RATE`, which it would reach
    after the last epoch (and keeps, should a training run longer).

    The rate decayed is the optimizer's own at the first epoch, or whatever another part of
    the training set since this callback last did (a fine-tuning phase's new optimizer): the
    decay goes on from that rate, along the same curve to the same end. An optimizer whose
    rate is a ``LearningRateSchedule`` keeps its own schedule (``last_set`` stays None). The
    fields in ``STATE_FIELDS`` are what a resumed training needs to go on as it began.
    """

    STATE_FIELDS = ("reference", "reference_epoch", "last_set")

    def __init__(self, epochs: int) -> None:
        super().__init__()
        self.epochs = epochs
        self.reference: float | None = None
        """The rate the decay goes from, and the epoch it was the rate of."""
        self.reference_epoch = 0
        self.last_set: float | None = None

    def rate(self, epoch: int) -> float:
        """The learning rate of ``epoch`` (0-based), given the reference rate."""
        assert self.reference is not None
        if self.reference <= MIN_LEARNING_RATE:
            return self.reference
        epoch = min(epoch, self.epochs)  # past the planned end: the floor, not a rise
        share = cosine_factor(epoch, self.epochs) / cosine_factor(self.reference_epoch, self.epochs)
        return MIN_LEARNING_RATE + (self.reference - MIN_LEARNING_RATE) * share

    def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
        optimizer = self.model.optimizer
        current = float(keras.ops.convert_to_numpy(optimizer.learning_rate))
        if self.last_set is None or not math.isclose(current, self.last_set, rel_tol=_SAME_RATE):
            self.reference, self.reference_epoch = current, epoch
        rate = self.rate(epoch)
        try:
            optimizer.learning_rate = rate
        except TypeError:  # Keras refuses to replace a LearningRateSchedule: it stays in charge
            return
        self.last_set = rate


class PlateauCuts(keras.callbacks.ReduceLROnPlateau):
    """Keras' ReduceLROnPlateau, except for an optimizer whose rate is a
    ``LearningRateSchedule``, whose rate Keras lets no callback set: the schedule stays in
    charge (``owned``), and the early stop beside it still ends the training."""

    owned = False
    """Whether the optimizer keeps its own schedule: no cut is made."""

    def on_train_begin(self, logs: Any = None) -> None:
        super().on_train_begin(logs)
        self.owned = schedule_owned(self.model.optimizer)

    def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
        if not self.owned:
            super().on_epoch_end(epoch, logs)


def schedule_owned(optimizer: Any) -> bool:
    """Whether ``optimizer``'s rate is a ``LearningRateSchedule`` (within a mixed precision's
    ``LossScaleOptimizer`` too), which Keras does not let a callback replace."""
    while getattr(optimizer, "inner_optimizer", None) is not None:
        optimizer = optimizer.inner_optimizer
    return any(isinstance(value, keras.optimizers.schedules.LearningRateSchedule)
               for value in vars(optimizer).values())  # fmt: skip


def keep_best(monitor: kt.Objective, epochs: int) -> keras.callbacks.EarlyStopping:
    """Keep the epoch with the best ``monitor`` of a training that runs all its ``epochs``
    (a patience it never reaches), its weights restored at the end."""
    return keras.callbacks.EarlyStopping(
        monitor.name, patience=epochs + 1, mode=monitor.direction, restore_best_weights=True
    )


__all__ = ["MIN_LEARNING_RATE", "CosineRates", "PlateauCuts", "cosine_factor", "keep_best", "schedule_owned"]
