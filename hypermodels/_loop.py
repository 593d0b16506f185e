"""The custom training loop behind ``HyperModel.fit``, honouring ``model.fit``'s contract.

KerasTuner drives training through ``epochs``, ``initial_epoch`` and the callbacks it adds
(its own bookkeeping, best-epoch checkpoints, Hyperband's continuation). This loop calls
them as ``model.fit`` does: train begin/end, each epoch's begin/end with the epoch's logs,
each batch's begin/end, and stops when a callback sets ``model.stop_training``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
from keras import ops

from hypermodels._augment import Augmentation
from hypermodels._state import EpochState, load_state, save_state, saved_epochs
from hypermodels._steps import make_steps


@dataclass(frozen=True)
class LoopConfig:
    """What the loop needs besides the model and data."""

    batch_size: int = 64
    eval_batch_size: int = 1024
    augmentation: Augmentation = Augmentation()
    seed: int = 0
    switch_epoch: int | None = None
    """From this epoch on, train as ``switch`` reconfigures the model (e.g. fine-tuning)."""
    switch: Callable[[keras.Model], None] | None = None
    """Changes which variables train and recompiles the optimizer; called once."""


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
    state_path: Path | None = None,
    callback_model: keras.Model | None = None,
) -> keras.callbacks.History:
    """Train ``model`` (already compiled with its optimizer) from ``initial_epoch`` to ``epochs``.

    Returns a ``History`` whose ``history`` holds loss, accuracy, val_loss and val_accuracy
    per epoch run, like ``model.fit``'s. With ``state_path``, the state is saved after every
    epoch and, if the file exists at the start, training continues after its last epoch.
    ``callback_model`` is the model the callbacks see (and checkpoint), when ``model`` is a
    part of it trained on its own (a head on cached features).
    """
    if len(x) != len(y):
        raise ValueError(f"x and y differ in length ({len(x)} vs {len(y)})")
    if len(x) == 0:
        raise ValueError("no training data")
    batch_size = min(config.batch_size, len(x))
    steps_per_epoch = len(x) // batch_size  # full batches only: one compiled shape
    switched = False

    def switch_at(epoch: int) -> bool:
        nonlocal switched
        if switched or config.switch is None or config.switch_epoch is None:
            return False
        if epoch < config.switch_epoch:
            return False
        config.switch(model)
        switched = True
        return True

    # A state saved after the switch holds the switched optimizer: switch before loading it.
    done = saved_epochs(state_path) if state_path is not None else []
    switch_at(max([initial_epoch, *(e + 1 for e in done)]))
    restored = load_state(state_path, model) if state_path is not None else None
    steps = make_steps(model, config.augmentation)  # after restoring: JAX copies the state
    history = keras.callbacks.History()
    watched = callback_model if callback_model is not None else model
    callback_list = keras.callbacks.CallbackList(
        [*callbacks, history],
        model=watched,
        epochs=epochs,
        steps=steps_per_epoch,
        verbose=0,
    )
    watched.stop_training = False
    callback_list.on_train_begin()
    done_epochs: list[int] = []
    done_logs: list[dict[str, float]] = []
    if restored is not None:
        first = _replay(restored, callback_list, initial_epoch, epochs)
        done_epochs, done_logs = restored.epochs, restored.logs
        initial_epoch = max(initial_epoch, first)
    logs: dict[str, float] = {}
    for epoch in range(initial_epoch, epochs):
        if switch_at(epoch):
            steps = make_steps(model, config.augmentation)  # other trainable variables
        callback_list.on_epoch_begin(epoch)
        order = np.random.default_rng([config.seed, epoch]).permutation(len(x))
        loss_sum, correct = 0.0, 0.0
        first_bad = -1  # the first step whose loss is not finite; tracked without a sync
        for step in range(steps_per_epoch):
            callback_list.on_train_batch_begin(step)
            idx = order[step * batch_size : (step + 1) * batch_size]
            seed = np.array([config.seed, epoch * steps_per_epoch + step], dtype="int32")
            batch_loss, batch_correct = steps.train(x[idx], y[idx], seed)
            loss_sum, correct = loss_sum + batch_loss, correct + batch_correct
            first_bad = ops.where(
                ops.logical_and(first_bad < 0, ops.logical_not(ops.isfinite(batch_loss))),
                step,
                first_bad,
            )
            callback_list.on_train_batch_end(step)
        seen = steps_per_epoch * batch_size
        logs = {
            "loss": float(ops.convert_to_numpy(loss_sum)) / seen,
            "accuracy": float(ops.convert_to_numpy(correct)) / seen,
        }
        if not math.isfinite(logs["loss"]):
            bad_step = int(ops.convert_to_numpy(first_bad)) + 1
            at = f" at step {bad_step} of {steps_per_epoch}" if bad_step > 0 else ""
            raise NonFiniteLossError(
                f"loss became {logs['loss']} in epoch {epoch + 1}{at}; lower the learning rate"
            )
        if validation_data is not None:
            val_loss, val_acc = evaluate_arrays(steps, *validation_data, config.eval_batch_size)
            logs.update(val_loss=val_loss, val_accuracy=val_acc)
        steps.sync()
        if state_path is not None:
            done_epochs, done_logs = [*done_epochs, epoch], [*done_logs, dict(logs)]
            save_state(state_path, model, done_epochs, done_logs)
        callback_list.on_epoch_end(epoch, logs)
        if watched.stop_training:
            break
    steps.sync()
    callback_list.on_train_end(logs=None)
    if state_path is not None:
        state_path.unlink(missing_ok=True)  # the trial is over: nothing left to continue
    return history


def _replay(
    state: EpochState,
    callback_list: keras.callbacks.CallbackList,
    initial_epoch: int,
    epochs: int,
) -> int:
    """Hand the restored epochs to the callbacks (history, tuner, pruner) once more; returns
    the first epoch still to train. Best-epoch checkpointers only learn the best value: the
    checkpoint they wrote before the interruption is still the right one."""
    model = callback_list.model
    model.restored_epochs = True  # observers mark these epochs as restored
    try:
        for epoch, logs in zip(state.epochs, state.logs):
            if not initial_epoch <= epoch < epochs:
                continue
            for callback in callback_list.callbacks:
                objective = getattr(callback, "objective", None)
                if objective is not None and hasattr(callback, "best_value"):
                    if objective.has_value(logs) and objective.better_than(
                        objective.get_value(logs), callback.best_value
                    ):
                        callback.best_value = objective.get_value(logs)
                    continue
                callback.on_epoch_end(epoch, dict(logs))
    finally:
        model.restored_epochs = False
    return max(state.epochs) + 1 if state.epochs else initial_epoch


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
