"""The custom training loop behind ``HyperModel.fit``, honouring ``model.fit``'s contract.

KerasTuner drives training through ``epochs``, ``initial_epoch`` and the callbacks it adds
(its own bookkeeping, best-epoch checkpoints, Hyperband's continuation). This loop calls
them as ``model.fit`` does: train begin/end, each epoch's begin/end with the epoch's logs,
each batch's begin/end, and stops when a callback sets ``model.stop_training``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import keras
import numpy as np
from keras import ops

from hypermodels._augment import Augmentation
from hypermodels._steps import make_steps


@dataclass(frozen=True)
class LoopConfig:
    """What the loop needs besides the model and data."""

    batch_size: int = 64
    eval_batch_size: int = 1024
    augmentation: Augmentation = Augmentation()
    seed: int = 0


class NonFiniteLossError(FloatingPointError):
    """Training diverged: the loss is NaN or infinite."""


def fit_loop(
    model: keras.Model,
    x: np.ndarray,
    y: np.ndarray,
    validation_data: tuple[np.ndarray, np.ndarray] | None,
    *,
    epochs: int,
    initial_epoch: int = 0,
    callbacks: Sequence[keras.callbacks.Callback] = (),
    config: LoopConfig = LoopConfig(),
) -> keras.callbacks.History:
    """Train ``model`` (already compiled with its optimizer) from ``initial_epoch`` to ``epochs``.

    Returns a ``History`` whose ``history`` holds loss, accuracy, val_loss and val_accuracy
    per epoch run, like ``model.fit``'s.
    """
    if len(x) != len(y):
        raise ValueError(f"x and y differ in length ({len(x)} vs {len(y)})")
    if len(x) == 0:
        raise ValueError("no training data")
    batch_size = min(config.batch_size, len(x))
    steps_per_epoch = len(x) // batch_size  # full batches only: one compiled shape
    steps = make_steps(model, config.augmentation)
    history = keras.callbacks.History()
    callback_list = keras.callbacks.CallbackList(
        [*callbacks, history],
        model=model,
        epochs=epochs,
        steps=steps_per_epoch,
        verbose=0,
    )
    model.stop_training = False
    callback_list.on_train_begin()
    for epoch in range(initial_epoch, epochs):
        callback_list.on_epoch_begin(epoch)
        order = np.random.default_rng([config.seed, epoch]).permutation(len(x))
        loss_sum, correct = 0.0, 0.0
        for step in range(steps_per_epoch):
            callback_list.on_train_batch_begin(step)
            idx = order[step * batch_size : (step + 1) * batch_size]
            seed = np.array([config.seed, epoch * steps_per_epoch + step], dtype="int32")
            batch_loss, batch_correct = steps.train(x[idx], y[idx], seed)
            loss_sum, correct = loss_sum + batch_loss, correct + batch_correct
            callback_list.on_train_batch_end(step)
        seen = steps_per_epoch * batch_size
        logs = {
            "loss": float(ops.convert_to_numpy(loss_sum)) / seen,
            "accuracy": float(ops.convert_to_numpy(correct)) / seen,
        }
        if not math.isfinite(logs["loss"]):
            raise NonFiniteLossError(
                f"loss became {logs['loss']} in epoch {epoch + 1}; lower the learning rate"
            )
        if validation_data is not None:
            val_loss, val_acc = evaluate_arrays(steps, *validation_data, config.eval_batch_size)
            logs.update(val_loss=val_loss, val_accuracy=val_acc)
        steps.sync()
        callback_list.on_epoch_end(epoch, logs)
        if model.stop_training:
            break
    steps.sync()
    callback_list.on_train_end(logs=None)
    return history


def evaluate_arrays(steps, x: np.ndarray, y: np.ndarray, batch_size: int) -> tuple[float, float]:
    """Mean loss and accuracy over all of ``x``; the last batch is padded and masked."""
    n = len(x)
    if n == 0:
        raise ValueError("no evaluation data")
    batch_size = min(batch_size, n)
    loss_sum, correct = 0.0, 0.0
    for start in range(0, n, batch_size):
        xb, yb = x[start : start + batch_size], y[start : start + batch_size]
        weight = np.ones(batch_size, dtype="float32")
        if len(xb) < batch_size:
            pad = batch_size - len(xb)
            weight[len(xb) :] = 0.0
            xb = np.concatenate([xb, np.zeros((pad, *xb.shape[1:]), xb.dtype)])
            yb = np.concatenate([yb, np.zeros(pad, yb.dtype)])
        batch_loss, batch_correct = steps.evaluate(xb, yb, weight)
        loss_sum, correct = loss_sum + batch_loss, correct + batch_correct
    return float(ops.convert_to_numpy(loss_sum)) / n, float(ops.convert_to_numpy(correct)) / n


def evaluate_model(
    model: keras.Model, x: np.ndarray, y: np.ndarray, batch_size: int = 1024
) -> tuple[float, float]:
    """Loss and accuracy of ``model`` on (x, y), with the same compiled eval step."""
    steps = make_steps(model, Augmentation())
    return evaluate_arrays(steps, x, y, batch_size)
