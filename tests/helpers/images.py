"""Tiny image data and a tiny ImageCNN, for tests of the custom loop and the trainings on it."""

from __future__ import annotations

import keras
import keras_tuner as kt
import numpy as np

from hypermodels import ImageCNN, ImageStats
from search.space import Fixed, Space


def tiny_data(n: int = 96, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` 28x28 grey images of 10 classes, each with a learnable stripe per class."""
    rng = np.random.default_rng(seed)
    y = (np.arange(n) % 10).astype("uint8")
    x = rng.integers(0, 60, size=(n, 28, 28, 1)).astype("uint8")
    x[np.arange(n), y, :, 0] = 255  # a learnable stripe per class
    return x, y


def tiny_model(
    learning_rate: float = 1e-2, **overrides: object
) -> tuple[ImageCNN, kt.HyperParameters, keras.Model]:
    """A small seeded ImageCNN of fixed hyperparameters (``overrides``), its hp and built model."""
    values = {"filters": 8, "conv_blocks": 2, "dense_units": 32, "batch_size": 32,
              "learning_rate": learning_rate, **overrides}  # fmt: skip
    space = Space(tuple(Fixed(k, v) for k, v in values.items()))
    x, _ = tiny_data()
    hypermodel = ImageCNN(space, (28, 28, 1), 10, ImageStats.of(x), seed=7)
    hp = kt.HyperParameters()
    return hypermodel, hp, hypermodel.build(hp)
