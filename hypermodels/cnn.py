"""A convolutional classifier for small images, whose ``fit`` is the custom loop."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras
import keras_tuner as kt
import numpy as np

from hypermodels._augment import Augmentation
from hypermodels._domains import AT_LEAST_ONE, BOOLEAN, COMMON, candidates, check_model_space
from hypermodels._fidelity import DataFidelity
from hypermodels._loop import LoopConfig, fit_loop
from search.space import Space, define

#: Every hyperparameter the model understands, with the value used when a space omits it.
DEFAULTS: dict[str, Any] = {
    "learning_rate": 1e-3,
    "dense_units": 128,
    "dropout": 0.3,
    "augment": False,
    "flip": True,
    "shift": 0.1,
    "zoom": 0.0,
    "rotation": 0.0,
    "preprocessing": "scale",
    "filters": 32,
    "conv_blocks": 2,
    "convs_per_block": 1,
    "batch_norm": True,
    "batch_size": 64,
}

PREPROCESSING = ("scale", "standardize")
DOMAINS = {
    **COMMON, "filters": AT_LEAST_ONE, "conv_blocks": AT_LEAST_ONE,
    "convs_per_block": AT_LEAST_ONE, "batch_norm": BOOLEAN,
}  # fmt: skip
"""The values each numeric or boolean hyperparameter can take."""


@dataclass(frozen=True)
class ImageStats:
    """Pixel statistics of the training split, used by ``preprocessing = "standardize"``."""

    mean: float
    std: float

    @classmethod
    def of(cls, images: np.ndarray) -> ImageStats:
        pixels = images.astype("float64")
        return cls(float(pixels.mean()), float(pixels.std()) or 1.0)


class ImageCNN(kt.HyperModel):
    """Conv blocks (``convs_per_block`` times conv, optional batch norm and ReLU; then a
    max-pool), a dense layer and dropout.

    The input is raw pixels (0-255); preprocessing is the model's first layer, so a saved
    model takes images as they come. Augmentation runs inside the compiled train step.
    """

    def __init__(
        self,
        space: Space,
        input_shape: tuple[int, int, int],
        num_classes: int,
        stats: ImageStats,
        seed: int = 0,
        dtype_policy: str = "float32",
    ) -> None:
        super().__init__(name="image_cnn")
        self.check_space(space)
        self.space = space
        self.input_shape = input_shape
        self.num_classes = num_classes
        self.stats = stats
        self.seed = seed
        self.dtype_policy = dtype_policy

    @staticmethod
    def check_space(space: Space) -> None:
        """Raise ValueError if ``space`` names a hyperparameter this model does not have,
        or can give one a value the model cannot use."""
        check_model_space(space, DEFAULTS, DOMAINS, {"preprocessing": PREPROCESSING})

    @staticmethod
    def check_image_size(space: Space, size: int) -> None:
        """Raise ValueError if ``space`` can give more conv blocks than images of ``size``
        pixels a side can pass: each block's pool halves them, and a pool needs two."""
        given = candidates(space["conv_blocks"]) if "conv_blocks" in space else [DEFAULTS["conv_blocks"]]
        blocks, most = max(given), size.bit_length() - 1
        if blocks > most:
            raise ValueError(
                f"{space.source}: conv_blocks: {blocks} cannot be used on {size}x{size} images,"
                f" which each block halves: at most {most} fit ({blocks} need {2**blocks}x{2**blocks});"
                " lower conv_blocks in the space file"
            )

    def config(self, hp: kt.HyperParameters) -> dict[str, Any]:
        """The CNN's hyperparameter values of ``hp``, with :data:`DEFAULTS` for what the space
        omits; ValueError for a ``preprocessing`` it does not have."""
        values = define(hp, self.space)
        config = {**DEFAULTS, **values}
        if config["preprocessing"] not in PREPROCESSING:
            raise ValueError(
                f"preprocessing ({config['preprocessing']!r}) must be one of {PREPROCESSING}"
            )
        return config

    def build(self, hp: kt.HyperParameters) -> keras.Model:
        c = self.config(hp)
        keras.utils.set_random_seed(self.seed)
        # Set here, not once per run: KerasTuner clears the Keras session (and with it the
        # global policy) before every build.
        keras.mixed_precision.set_global_policy(self.dtype_policy)
        inputs = keras.Input(self.input_shape, name="pixels")
        if c["preprocessing"] == "standardize":
            scale, offset = 1.0 / self.stats.std, -self.stats.mean / self.stats.std
        else:
            scale, offset = 1.0 / 255.0, 0.0
        x = keras.layers.Rescaling(scale, offset, name="preprocessing")(inputs)
        for block in range(c["conv_blocks"]):
            for _ in range(c["convs_per_block"]):
                x = keras.layers.Conv2D(
                    c["filters"] * 2**block, 3, padding="same", use_bias=not c["batch_norm"]
                )(x)
                if c["batch_norm"]:
                    x = keras.layers.BatchNormalization(momentum=0.9)(x)
                x = keras.layers.ReLU()(x)
            x = keras.layers.MaxPooling2D(2)(x)
        x = keras.layers.Flatten()(x)
        x = keras.layers.Dense(c["dense_units"], activation="relu", name="inner")(x)
        x = keras.layers.Dropout(c["dropout"], seed=self.seed)(x)
        # Probabilities in float32 also under a mixed policy: the loss needs their range.
        outputs = keras.layers.Dense(
            self.num_classes, activation="softmax", name="classes", dtype="float32"
        )(x)
        model = keras.Model(inputs, outputs, name="image_cnn")
        model.compile(
            optimizer=keras.optimizers.Adam(c["learning_rate"]),
            loss="sparse_categorical_crossentropy",
            metrics=["accuracy"],
        )
        # Built now so that checkpoints carry the optimizer's state and Hyperband's
        # continued trials resume Adam's moments instead of restarting them.
        model.optimizer.build(model.trainable_variables)
        return model

    def fit(
        self,
        hp: kt.HyperParameters,
        model: keras.Model,
        x: np.ndarray,
        y: np.ndarray,
        validation_data: tuple[np.ndarray, np.ndarray] | None = None,
        epochs: int = 1,
        initial_epoch: int = 0,
        callbacks: Sequence[keras.callbacks.Callback] = (),
        verbose: int = 0,
        state_path: Path | None = None,
        fidelity: DataFidelity | None = None,
    ) -> keras.callbacks.History:
        """Train with the custom loop; same contract as ``model.fit`` for the tuner.

        ``verbose`` is accepted because KerasTuner forwards it; progress is the tuner's job.
        ``state_path`` (set by the tuner) keeps the trial's state after every epoch, so an
        interrupted trial continues from its last completed epoch. ``fidelity`` (set by the
        tuner under ``--fidelity data``): the growing subset of ``x`` each epoch trains on.
        """
        c = self.config(hp)
        loop = LoopConfig(
            batch_size=c["batch_size"], augmentation=Augmentation.from_config(c), seed=self.seed,
            fidelity=fidelity,
        )  # fmt: skip
        return fit_loop(
            model,
            x,
            y,
            validation_data,
            epochs=epochs,
            initial_epoch=initial_epoch,
            callbacks=callbacks,
            config=loop,
            state_path=state_path,
        )
