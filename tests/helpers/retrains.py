"""A run with one finalist (the chosen configuration retrained alone) whose retrain is
recorded and may be interrupted: for the tests that a run resumes in its retrain."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import keras
import keras_tuner as kt
import numpy as np

import search
from search.engine._retrain import _LearningRates
from tests import user_models as um
from tests.helpers.callbacks import CtrlC, Epochs
from tests.helpers.finalists import Finalists

EPOCHS = 5
"""The search's and the retrain's most epochs."""
INTERRUPTED_AT = 2
"""Ctrl-C (or kill -9) as the retrain begins its third epoch (two epochs done)."""
EVERY_EPOCH = 0.99
"""A tolerance every epoch of the trial is within: a planned retrain trains them all."""


class Retrains(Finalists):
    """``Finalists``' models; the retrain's fits (the ones recording learning rates) are
    recorded, validated or not; ``interrupting(1)``: the first of them is interrupted."""

    def fit(self, hp: kt.HyperParameters, model: keras.Model, *args: Any, **kwargs: Any) -> Any:
        callbacks = list(kwargs.pop("callbacks", []))
        if any(isinstance(c, _LearningRates) for c in callbacks):
            epochs: list[int] = []
            self.fits.append((dict(hp.values), epochs))
            callbacks.append(Epochs(epochs))
            if len(self.fits) == self.interrupt:
                callbacks.append(CtrlC(INTERRUPTED_AT, self.kill))
        return model.fit(*args, callbacks=callbacks, shuffle=False, **kwargs)


def run_retrain(
    hypermodel: Retrains, results: Path, name: str, data: str = "validated", schedule: str = "auto"
) -> search.Run:
    """A seeded random search of 2 trials on ``um.tiny_data``, then its retrain on ``data``
    with the learning-rate ``schedule``."""
    x, y = um.tiny_data()
    rng = np.random.default_rng(1)
    test = rng.normal(size=(30, x.shape[1])).astype("float32"), rng.integers(0, 3, 30)
    return search.run(
        hypermodel, x, y, test_data=test, tuner="random", max_trials=2, max_epochs=EPOCHS,
        finalists=1, retrain_data=data, retrain_max_epochs=EPOCHS, retrain_schedule=schedule,
        tolerance=EVERY_EPOCH,
        results=results, name=name, quiet=True, seed=3,
    )  # fmt: skip
