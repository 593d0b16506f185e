"""A final training's learning-rate callbacks fed a validation curve, as a fit would feed
them, without training: for the tests of the plateau's and the cosine's schedules."""

from __future__ import annotations

import keras


def tiny_model(rate: float | keras.optimizers.schedules.LearningRateSchedule) -> keras.Model:
    """A compiled one-layer model whose Adam starts at ``rate``, its variables built."""
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.Adam(rate), loss="mse")
    model.optimizer.build(model.trainable_variables)
    return model


def feed(
    callbacks: keras.callbacks.CallbackList, model: keras.Model, curve: list[float], first: int,
    until: int | None = None, rate_at: dict[int, float] | None = None,
) -> int | None:
    """Epochs ``first`` to ``until`` (None: the curve's end) of ``curve`` (val accuracy per
    epoch) fed to ``callbacks``; ``rate_at``: epoch -> a learning rate set before it trains
    (as a fine-tuning switch recompiles with its own). Returns the epochs done when a
    callback stopped the training, else None."""
    model.stop_training = False
    callbacks.on_train_begin()
    for epoch in range(first, len(curve) if until is None else until):
        if epoch in (rate_at or {}):
            model.optimizer.learning_rate.assign(rate_at[epoch])
        callbacks.on_epoch_begin(epoch)
        callbacks.on_epoch_end(epoch, {"val_accuracy": curve[epoch], "loss": 0.0})
        if model.stop_training:
            return epoch + 1
    return None
