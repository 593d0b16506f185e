"""A run with finalists (``--finalists K``) whose final trainings are recorded and may be
interrupted: for the tests that a run resumes among its finalists."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import keras
import keras_tuner as kt
import numpy as np

import search
from tests import user_models as um
from tests.helpers.callbacks import CtrlC, Epochs

FINALISTS = 3
"""The finalists ``run_finalists`` trains."""
EPOCHS = 4
"""Each finalist's most epochs: the validated stop ends a training at its 4th epoch at the
earliest (3 epochs without a better score after the first; 2 only after a miss and then a
better epoch, 5 in all), so every one trains all."""
INTERRUPTED_FIT, INTERRUPTED_EPOCH = 2, 2
"""Ctrl-C as the second finalist begins its third epoch (two epochs done)."""

_F = TypeVar("_F", bound="Finalists")


class Finalists(kt.HyperModel):
    """``um.build``'s models, seeded and trained unshuffled (reproducible); every training
    at full fidelity (EarlyStopping given) is recorded: its configuration and the epochs it
    trains. ``interrupting`` makes one whose given fit is interrupted."""

    def __init__(self) -> None:
        super().__init__()
        self.interrupt: int | None = None
        self.kill = False
        self.fits: list[tuple[dict[str, Any], list[int]]] = []

    @classmethod
    def interrupting(cls: type[_F], fit: int, kill: bool = False) -> _F:
        """One whose ``fit`` (from 1) a Ctrl-C (``kill``: a kill -9) interrupts. Set after
        construction: the run goes on with a plain one, and a run refuses to go on with a
        HyperModel made with other arguments than the one it began with."""
        hypermodel = cls()
        hypermodel.interrupt, hypermodel.kill = fit, kill
        return hypermodel

    def build(self, hp: kt.HyperParameters) -> keras.Model:
        keras.utils.set_random_seed(0)
        return um.build(hp)

    def fit(self, hp: kt.HyperParameters, model: keras.Model, *args: Any, **kwargs: Any) -> Any:
        callbacks = list(kwargs.pop("callbacks", []))
        if any(isinstance(c, keras.callbacks.EarlyStopping) for c in callbacks):
            epochs: list[int] = []
            self.fits.append((dict(hp.values), epochs))
            callbacks.append(Epochs(epochs))
            if len(self.fits) == self.interrupt:
                callbacks.append(CtrlC(INTERRUPTED_EPOCH, self.kill))
        return model.fit(*args, callbacks=callbacks, shuffle=False, **kwargs)


def run_finalists(hypermodel: Finalists, results: Path, name: str) -> search.Run:
    """A seeded random search of 4 one-epoch trials on ``um.tiny_data``, then ``FINALISTS`` finalists."""
    x, y = um.tiny_data()
    rng = np.random.default_rng(1)
    test = rng.normal(size=(30, x.shape[1])).astype("float32"), rng.integers(0, 3, 30)
    return search.run(
        hypermodel, x, y, test_data=test, tuner="random", max_trials=4, max_epochs=1,
        finalists=FINALISTS, retrain_max_epochs=EPOCHS, results=results, name=name, quiet=True,
        seed=3,
    )  # fmt: skip
