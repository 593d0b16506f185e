"""Hypermodels written as a KerasTuner user writes them, for the API's tests.

At a module's top level, so that other processes (workers, ``isolate``, ``resume``) can
import them again.
"""

from __future__ import annotations

from typing import Any

import keras
import keras_tuner as kt
import numpy as np

FEATURES, CLASSES = 8, 3


def tiny_data(n: int = 90, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Rows of 8 features; 3 classes, learnable from the first two features."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, FEATURES)).astype("float32")
    y = ((x[:, 0] > 0).astype("int64") + (x[:, 1] > 0.5)).astype("int64")
    return x, y


def _mlp(hp: kt.HyperParameters) -> keras.Model:
    model = keras.Sequential([
        keras.Input((FEATURES,)),
        keras.layers.Dense(hp.Int("units", 4, 16, step=4), activation="relu"),
        keras.layers.Dropout(hp.Float("dropout", 0.0, 0.4, step=0.2)),
        keras.layers.Dense(CLASSES, activation="softmax"),
    ])  # fmt: skip
    return model


def build(hp: kt.HyperParameters) -> keras.Model:
    """Shape 1: KerasTuner's getting-started ``build(hp)``, compiled."""
    model = _mlp(hp)
    model.compile(
        optimizer=keras.optimizers.Adam(hp.Float("learning_rate", 1e-3, 1e-1, sampling="log")),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def _two_inputs(hp: kt.HyperParameters, listed: bool) -> keras.Model:
    first, second = keras.Input((5,), name="a"), keras.Input((FEATURES - 5,), name="b")
    joined = keras.layers.Concatenate()([first, second])
    hidden = keras.layers.Dense(hp.Int("units", 4, 16, step=4), activation="relu")(joined)
    inputs = [first, second] if listed else {"a": first, "b": second}
    model = keras.Model(inputs, keras.layers.Dense(CLASSES, activation="softmax")(hidden))
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def build_two_inputs(hp: kt.HyperParameters) -> keras.Model:
    """A multi-input model: the first 5 features as input ``a``, the rest as ``b`` (a dict)."""
    return _two_inputs(hp, listed=False)


def build_two_listed_inputs(hp: kt.HyperParameters) -> keras.Model:
    """The same model taking its two inputs as a list."""
    return _two_inputs(hp, listed=True)


def build_one_listed_input(hp: kt.HyperParameters) -> keras.Model:
    """A functional model of one input ``a`` given as a list of one: Keras takes it as one
    array, a list of one, or a dict by its name."""
    features = keras.Input((FEATURES,), name="a")
    hidden = keras.layers.Dense(hp.Int("units", 4, 16, step=4), activation="relu")(features)
    model = keras.Model([features], keras.layers.Dense(CLASSES, activation="softmax")(hidden))
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def build_with_branch(hp: kt.HyperParameters) -> keras.Model:
    """A conditional scope: ``width`` only matters for the ``wide`` architecture."""
    arch = hp.Choice("arch", ["narrow", "wide"])
    with hp.conditional_scope("arch", ["wide"]):
        width = hp.Int("width", 8, 32, step=8) if arch == "wide" else 4
    model = keras.Sequential([
        keras.Input((FEATURES,)), keras.layers.Dense(width, activation="relu"),
        keras.layers.Dense(CLASSES, activation="softmax"),
    ])  # fmt: skip
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


class BuildOnly(kt.HyperModel):
    """Shape 2: a HyperModel with ``build`` only (KerasTuner's default ``fit``)."""

    def build(self, hp: kt.HyperParameters) -> keras.Model:
        return build(hp)


class TunedFit(kt.HyperModel):
    """Shape 3: ``fit`` tunes training arguments and calls ``model.fit``."""

    def build(self, hp: kt.HyperParameters) -> keras.Model:
        return build(hp)

    def fit(self, hp: kt.HyperParameters, model: keras.Model, *args: Any, **kwargs: Any) -> Any:
        return model.fit(
            *args,
            shuffle=hp.Boolean("shuffle"),
            batch_size=hp.Choice("batch_size", [16, 32]),
            **kwargs,
        )


def _own_loop(model: keras.Model, x: np.ndarray, y: np.ndarray, epochs: int) -> None:
    """A training loop of the user's own: no Keras callbacks are called."""
    for _ in range(epochs):
        model.train_on_batch(x, y)


class FloatFit(kt.HyperModel):
    """Shape 4: its own loop, returning one float (the objective)."""

    def build(self, hp: kt.HyperParameters) -> keras.Model:
        return build(hp)

    def fit(self, hp, model, x, y, validation_data=None, epochs=1, **kwargs):  # type: ignore[no-untyped-def]
        _own_loop(model, x, y, epochs)
        return float(model.evaluate(*validation_data, return_dict=True, verbose=0)["accuracy"])


class DictFit(FloatFit):
    """Shape 4: its own loop, returning a dict of metrics."""

    def fit(self, hp, model, x, y, validation_data=None, epochs=1, **kwargs):  # type: ignore[no-untyped-def]
        _own_loop(model, x, y, epochs)
        train = model.evaluate(x, y, return_dict=True, verbose=0)
        val = model.evaluate(*validation_data, return_dict=True, verbose=0)
        return {"accuracy": train["accuracy"], "val_accuracy": val["accuracy"], "val_loss": val["loss"]}


class HistoryFit(FloatFit):
    """Shape 4: its own loop, returning a History it filled itself."""

    def fit(self, hp, model, x, y, validation_data=None, epochs=1, **kwargs):  # type: ignore[no-untyped-def]
        history = keras.callbacks.History()
        history.set_model(model)
        history.on_train_begin()
        for epoch in range(epochs):
            _own_loop(model, x, y, 1)
            val = model.evaluate(*validation_data, return_dict=True, verbose=0)
            history.on_epoch_end(epoch, {"val_accuracy": val["accuracy"], "val_loss": val["loss"]})
        return history


class Sized(kt.HyperModel):
    """A HyperModel with constructor arguments, kept as attributes (rebuildable)."""

    def __init__(self, units: int = 8, name: str | None = None) -> None:
        super().__init__(name=name)
        self.units = units

    def build(self, hp: kt.HyperParameters) -> keras.Model:
        model = keras.Sequential([
            keras.Input((FEATURES,)), keras.layers.Dense(self.units, activation="relu"),
            keras.layers.Dense(CLASSES, activation="softmax"),
        ])  # fmt: skip
        rate = hp.Float("learning_rate", 1e-3, 1e-1, sampling="log")
        model.compile(keras.optimizers.Adam(rate), loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"])  # fmt: skip
        return model


def build_binary_auc(hp: kt.HyperParameters) -> keras.Model:
    """A binary classifier compiled with AUC only (no accuracy)."""
    model = keras.Sequential([
        keras.Input((FEATURES,)),
        keras.layers.Dense(hp.Int("units", 4, 8, step=4), activation="relu"),
        keras.layers.Dense(1, activation="sigmoid"),
    ])  # fmt: skip
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=[keras.metrics.AUC(name="auc")])
    return model


def build_uncompiled(hp: kt.HyperParameters) -> keras.Model:
    return _mlp(hp)


def build_broken(hp: kt.HyperParameters) -> keras.Model:
    hp.Int("units", 4, 8)
    raise RuntimeError("the layer sizes do not add up")


def tiny_images(n: int = 60, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """8x8 grayscale images as floats in [0, 1]; 3 classes by which third is brightest."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(size=(n, 8, 8, 1)).astype("float32")
    y = np.argmax([x[:, :3].mean(axis=(1, 2, 3)), x[:, 3:5].mean(axis=(1, 2, 3)),
                   x[:, 5:].mean(axis=(1, 2, 3))], axis=0).astype("int64")  # fmt: skip
    return x, y


def build_sequential_cnn(hp: kt.HyperParameters) -> keras.Model:
    """A KerasTuner user's image classifier: a Sequential CNN, compiled."""
    model = keras.Sequential([
        keras.Input((8, 8, 1)),
        keras.layers.Conv2D(hp.Choice("filters", [4, 8]), 3, activation="relu"),
        keras.layers.GlobalAveragePooling2D(),
        keras.layers.Dense(CLASSES, activation="softmax"),
    ])  # fmt: skip
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def build_binary_cnn(hp: kt.HyperParameters) -> keras.Model:
    """A KerasTuner user's binary image classifier: one sigmoid output, compiled."""
    model = keras.Sequential([
        keras.Input((8, 8, 1)),
        keras.layers.Conv2D(hp.Choice("filters", [4, 8]), 3, activation="relu"),
        keras.layers.GlobalAveragePooling2D(),
        keras.layers.Dense(1, activation="sigmoid"),
    ])  # fmt: skip
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    return model


@keras.saving.register_keras_serializable(package="tests")
class SubclassedCNN(keras.Model):
    """A subclassed image classifier: its output shape is known only by calling it."""

    def __init__(self, filters: int = 4, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.filters = filters
        self.conv = keras.layers.Conv2D(filters, 3, activation="relu")
        self.pool = keras.layers.GlobalAveragePooling2D()
        self.out = keras.layers.Dense(CLASSES, activation="softmax")

    def call(self, inputs: Any) -> Any:
        return self.out(self.pool(self.conv(inputs)))

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "filters": self.filters}


def build_subclassed_cnn(hp: kt.HyperParameters) -> keras.Model:
    """A KerasTuner user's image classifier written as a ``keras.Model`` subclass, compiled."""
    model = SubclassedCNN(hp.Choice("filters", [4, 8]))
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


class SubclassedOwnFit(kt.HyperModel):
    """A subclassed model trained by a ``fit`` of the user's own: the search cannot know
    what that fit gives the model, so it does not build the model before it."""

    def build(self, hp: kt.HyperParameters) -> keras.Model:
        return build_subclassed_cnn(hp)

    def fit(self, hp: kt.HyperParameters, model: keras.Model, *args: Any, **kwargs: Any) -> Any:
        return model.fit(*args, **kwargs)


class ReturnsFit(FloatFit):
    """Its own loop, returning ``value`` whatever it trained (None, a string, a dict...)."""

    def __init__(self, value: Any) -> None:
        super().__init__()
        self.value = value

    def fit(self, hp, model, x, y, validation_data=None, epochs=1, **kwargs):  # type: ignore[no-untyped-def]
        _own_loop(model, x, y, 1)
        return self.value


def build_regression(hp: kt.HyperParameters) -> keras.Model:
    """A regression on the 8 features: one linear output, mean squared error."""
    model = keras.Sequential([
        keras.Input((FEATURES,)),
        keras.layers.Dense(hp.Int("units", 4, 8, step=4), activation="relu"),
        keras.layers.Dense(1),
    ])  # fmt: skip
    model.compile(optimizer="adam", loss="mse", metrics=["mean_absolute_error"])
    return model


class LossFloatFit(kt.HyperModel):
    """A regression whose own ``fit`` returns its validation loss as one float."""

    def build(self, hp: kt.HyperParameters) -> keras.Model:
        return build_regression(hp)

    def fit(self, hp, model, x, y, validation_data=None, epochs=1, **kwargs):  # type: ignore[no-untyped-def]
        model.fit(x, y, epochs=epochs, verbose=0)
        return float(model.evaluate(*validation_data, return_dict=True, verbose=0)["loss"])


class LossOnlyAccuracyFit(kt.HyperModel):
    """A classifier compiled with its loss alone (or ``metrics``), whose own ``fit`` returns
    the validation accuracy it counts itself: the float is what the default objective names."""

    def __init__(self, metrics: list[str] | None = None) -> None:
        super().__init__()
        self.metrics = metrics

    def build(self, hp: kt.HyperParameters) -> keras.Model:
        model = _mlp(hp)
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=self.metrics)
        return model

    def fit(self, hp, model, x, y, validation_data=None, epochs=1, **kwargs):  # type: ignore[no-untyped-def]
        model.fit(x, y, epochs=epochs, verbose=0)
        x_val, y_val = validation_data
        return float(np.mean(model.predict(x_val, verbose=0).argmax(axis=1) == y_val))


class TwoPhases(kt.HyperModel):
    """A user's fine-tuning in its own ``fit``: a first ``model.fit`` with the first layer
    frozen, then (from epoch ``SWITCH``) a second with it trainable under a new optimizer."""

    SWITCH = 1

    def build(self, hp: kt.HyperParameters) -> keras.Model:
        keras.utils.set_random_seed(0)
        model = keras.Sequential([
            keras.Input((FEATURES,)),
            keras.layers.Dense(hp.Choice("units", [4, 8]), trainable=False),
            keras.layers.Dense(CLASSES, activation="softmax"),
        ])  # fmt: skip
        self._compile(model, 1e-2)
        return model

    @staticmethod
    def _compile(model: keras.Model, learning_rate: float) -> None:
        model.compile(optimizer=keras.optimizers.Adam(learning_rate),
                      loss="sparse_categorical_crossentropy", metrics=["accuracy"])  # fmt: skip

    def fit(self, hp: kt.HyperParameters, model: keras.Model, x: Any, y: Any, epochs: int = 1,
            initial_epoch: int = 0, **kwargs: Any) -> Any:  # fmt: skip
        kwargs.setdefault("verbose", 0)
        first = model.fit(x, y, epochs=min(epochs, self.SWITCH), initial_epoch=initial_epoch,
                          **kwargs)  # fmt: skip
        if epochs <= self.SWITCH:
            return first
        model.layers[0].trainable = True
        self._compile(model, 1e-3)
        return model.fit(x, y, epochs=epochs, initial_epoch=max(initial_epoch, self.SWITCH),
                         **kwargs)  # fmt: skip
