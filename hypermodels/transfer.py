"""Transfer learning: a pretrained base, frozen, under a tuned head; optional fine-tuning.

``fit`` is the same custom loop as the CNN's. While the base stays frozen and augmentation
is off, the base's output does not change from epoch to epoch: it is computed once per
image set and the head trains on those features, which makes such trials many times faster.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import keras
import keras_tuner as kt
import numpy as np

from hypermodels._augment import Augmentation
from hypermodels._bases import BASES, BasePreprocess
from hypermodels._domains import AT_LEAST_ZERO, COMMON, POSITIVE, check_model_space, values_of
from hypermodels._fidelity import DataFidelity
from hypermodels._loop import EVAL_BATCH_SIZE, LoopConfig, fit_loop
from search.space import Space, define

#: Every hyperparameter the model understands, with the value used when a space omits it.
DEFAULTS: dict[str, Any] = {
    "base": "xception",
    "learning_rate": 1e-3,
    "dense_units": 128,
    "dropout": 0.2,
    "augment": False,
    "flip": True,
    "shift": 0.1,
    "zoom": 0.1,
    "rotation": 0.0,
    "batch_size": 32,
    "fine_tune_layers": 0,
    "fine_tune_after": 2,
    "fine_tune_learning_rate": 1e-5,
}
LOSS = "sparse_categorical_crossentropy"
DOMAINS = {
    **COMMON,
    "fine_tune_layers": AT_LEAST_ZERO,
    "fine_tune_after": AT_LEAST_ZERO,
    "fine_tune_learning_rate": POSITIVE,
}
"""The values each numeric or boolean hyperparameter can take."""


class TransferModel(kt.HyperModel):
    """``preprocess_input`` -> base (frozen, inference mode) -> dense -> dropout -> softmax.

    With ``fine_tune_layers`` N > 0, training switches after ``fine_tune_after`` epochs:
    the top N layers of the base become trainable (batch-norm layers stay frozen) and a new
    Adam runs at ``fine_tune_learning_rate``.
    """

    eval_batch_size = 64

    def __init__(
        self,
        space: Space,
        image_size: int,
        num_classes: int,
        weights: str | Path | None = "imagenet",
        seed: int = 0,
        dtype_policy: str = "float32",
    ) -> None:
        super().__init__(name="transfer")
        self.check_space(space)
        self.space = space
        self.image_size = image_size
        self.num_classes = num_classes
        self.weights = weights
        self.seed = seed
        self.dtype_policy = dtype_policy
        self._features: dict[tuple, tuple[np.ndarray, np.ndarray]] = {}

    @staticmethod
    def check_space(space: Space) -> None:
        """Raise ValueError for a hyperparameter this model does not have, an unknown base,
        or a value the model cannot use."""
        check_model_space(space, DEFAULTS, DOMAINS, {"base": BASES})

    def config(self, hp: kt.HyperParameters) -> dict[str, Any]:
        """The transfer model's hyperparameter values of ``hp``, with its :data:`DEFAULTS` for
        what the space omits."""
        return {**DEFAULTS, **define(hp, self.space)}

    def build(self, hp: kt.HyperParameters) -> keras.Model:
        c = self.config(hp)
        keras.utils.set_random_seed(self.seed)
        # Set here, not once per run: KerasTuner clears the Keras session (and with it the
        # global policy) before every build.
        keras.mixed_precision.set_global_policy(self.dtype_policy)
        base = BASES[c["base"]].create(self.image_size, self.weights)
        base.trainable = False
        base.name = "base"
        inputs = keras.Input((self.image_size, self.image_size, 3), name="pixels")
        x = BasePreprocess(c["base"], name="preprocess")(inputs)
        # The base always runs in inference mode: its batch-norm statistics stay ImageNet's,
        # also while its top layers are fine-tuned.
        features = base(x, training=False)
        head = keras.Sequential(
            [
                keras.Input((features.shape[-1],), name="features"),
                keras.layers.Dense(c["dense_units"], activation="relu", name="inner"),
                keras.layers.Dropout(c["dropout"], seed=self.seed),
                keras.layers.Dense(
                    self.num_classes, activation="softmax", name="classes", dtype="float32"
                ),
            ],
            name="head",
        )
        model = keras.Model(inputs, head(features), name=f"transfer_{c['base']}")
        model.compile(optimizer=keras.optimizers.Adam(c["learning_rate"]), loss=LOSS,
                      metrics=["accuracy"])  # fmt: skip
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
        """Train with the custom loop (``model.fit``'s contract, as the CNN's ``fit``).

        ``verbose`` is accepted because KerasTuner forwards it; progress is the tuner's job.
        """
        c = self.config(hp)
        fine_tunes = c["fine_tune_layers"] > 0 and epochs > c["fine_tune_after"]
        augmentation = Augmentation.from_config(c)
        if not fine_tunes and not augmentation.active:
            return self._fit_head(
                model, c, x, y, validation_data, epochs, initial_epoch, callbacks, state_path,
                fidelity,
            )  # fmt: skip
        loop = LoopConfig(
            batch_size=c["batch_size"],
            eval_batch_size=self.eval_batch_size,
            augmentation=augmentation,
            seed=self.seed,
            switch_epoch=c["fine_tune_after"] if fine_tunes else None,
            switch=(lambda m: unfreeze_top(m, c["fine_tune_layers"], c["fine_tune_learning_rate"]))
            if fine_tunes else None,
            fidelity=fidelity,
        )  # fmt: skip
        return fit_loop(
            model, x, y, validation_data, epochs=epochs, initial_epoch=initial_epoch,
            callbacks=callbacks, config=loop, state_path=state_path,
        )  # fmt: skip

    def _fit_head(
        self,
        model: keras.Model,
        c: dict[str, Any],
        x: np.ndarray,
        y: np.ndarray,
        validation_data: tuple[np.ndarray, np.ndarray] | None,
        epochs: int,
        initial_epoch: int,
        callbacks: Sequence[keras.callbacks.Callback],
        state_path: Path | None,
        fidelity: DataFidelity | None,
    ) -> keras.callbacks.History:
        """Train the head alone on the frozen base's features, computed once per image set."""
        head = model.get_layer("head")
        # The head's variables are the model's trainable ones: one optimizer serves both.
        head.compile(optimizer=model.optimizer, loss=LOSS, metrics=["accuracy"])
        f_train = self.features(model, c["base"], x)
        f_val = None
        if validation_data is not None:
            f_val = (self.features(model, c["base"], validation_data[0]), validation_data[1])
        loop = LoopConfig(
            batch_size=c["batch_size"], eval_batch_size=EVAL_BATCH_SIZE, seed=self.seed,
            fidelity=fidelity,
        )  # fmt: skip
        return fit_loop(
            head, f_train, y, f_val, epochs=epochs, initial_epoch=initial_epoch,
            callbacks=callbacks, config=loop, state_path=state_path, callback_model=model,
        )  # fmt: skip

    def features(self, model: keras.Model, base_name: str, images: np.ndarray) -> np.ndarray:
        """The frozen base's pooled output for ``images``, cached while the images and the
        base's weights are the same (the same arrays are passed to every trial)."""
        base = model.get_layer("base")
        key = (base_name, id(images), images.shape, _fingerprint(base))
        cached = self._features.get(key)
        if cached is not None and cached[0] is images:
            return cached[1]
        pixels = keras.Input(images.shape[1:])
        extractor = keras.Model(pixels, base(model.get_layer("preprocess")(pixels), training=False))
        out = extractor.predict(images, batch_size=self.eval_batch_size, verbose=0)
        self._features[key] = (images, np.asarray(out, dtype="float32"))
        return self._features[key][1]


def unfreeze_top(model: keras.Model, layers: int, learning_rate: float) -> None:
    """Make the top ``layers`` layers of the base trainable (batch norm excepted) and
    recompile with a fresh Adam at ``learning_rate``.

    Args:
        model: a model with a nested pretrained base named ``base`` (:class:`TransferModel`'s).
        layers: how many of the base's last layers train (0 or less: none).
        learning_rate: the new Adam's learning rate.
    """
    base = model.get_layer("base")
    base.trainable = True
    for layer in base.layers[: max(0, len(base.layers) - layers)]:
        layer.trainable = False
    for layer in base.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.trainable = False
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss=LOSS, metrics=["accuracy"])
    model.optimizer.build(model.trainable_variables)


def base_names(space: Space) -> list[str]:
    """The bases a space may choose (the default's when it does not mention ``base``)."""
    return [str(v) for v in values_of(space, "base", DEFAULTS["base"])]


def _fingerprint(base: keras.Model) -> str:
    """A digest of the base's first and last weights: equal bases give equal features."""
    weights = base.weights
    digest = hashlib.sha1()
    for variable in (weights[0], weights[-1]):
        digest.update(np.asarray(keras.ops.convert_to_numpy(variable.value)).tobytes())
    return digest.hexdigest()
