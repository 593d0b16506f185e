"""The custom training loop behind ``HyperModel.fit``, honouring ``model.fit``'s contract.

KerasTuner drives training through ``epochs``, ``initial_epoch`` and the callbacks it adds
(its own bookkeeping, best-epoch checkpoints, Hyperband's continuation). This loop calls
them as ``model.fit`` does: train begin/end, each epoch's begin/end with the epoch's logs,
each batch's begin/end, and stops when a callback sets ``model.stop_training``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras
import numpy as np
from keras import ops

from hypermodels._augment import Augmentation
from hypermodels._state import EpochState, StateWriter, load_state, saved_epochs
from hypermodels._steps import make_steps

EVAL_BATCH_SIZE = 1024
"""Images per evaluation step: no gradients are kept, so far more fit than in training."""


@dataclass(frozen=True)
class LoopConfig:
    """What the loop needs besides the model and data."""

    batch_size: int = 64
    eval_batch_size: int = EVAL_BATCH_SIZE
    device_data_bytes: int = 2 * 2**30
    """Images up to this size stay on the device for the whole fit; larger sets go there
    in parts of this size, a part at a time."""
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
        first = replay_epochs(restored, callback_list, initial_epoch, epochs)
        done_epochs, done_logs = restored.epochs, restored.logs
        initial_epoch = max(initial_epoch, first)
    logs: dict[str, float] = {}
    train_data = TrainData(x, y, batch_size, config.device_data_bytes)
    val_data = (
        EvalData(*validation_data, config.eval_batch_size, config.device_data_bytes)
        if validation_data is not None
        else None
    )
    # Epoch states are written while the next epoch trains; every write is complete
    # before this function returns or raises (an interruption keeps the last epoch).
    writer = StateWriter(state_path) if state_path is not None else None
    try:
        for epoch in range(initial_epoch, epochs):
            if switch_at(epoch):
                steps.close()
                steps = make_steps(model, config.augmentation)  # other trainable variables
            callback_list.on_epoch_begin(epoch)
            order = np.random.default_rng([config.seed, epoch]).permutation(len(x))
            seed_base = steps.put(np.array([config.seed, epoch * steps_per_epoch], dtype="int32"))
            carry = steps.train_carry()
            for xs, ys, rows, first, count in train_data.parts(steps, order):
                carry = (*carry[:4], steps.put(np.int32(0)))  # rows count within the part
                for step in range(first, first + count):
                    callback_list.on_train_batch_begin(step)
                    carry = steps.train(xs, ys, rows, seed_base, carry)
                    callback_list.on_train_batch_end(step)
            loss_sum, correct, first_bad = (ops.convert_to_numpy(v) for v in carry[:3])
            seen = steps_per_epoch * batch_size
            logs = {"loss": float(loss_sum) / seen, "accuracy": float(correct) / seen}
            if not math.isfinite(logs["loss"]):
                bad_step = int(first_bad) + 1
                at = f" at step {bad_step} of {steps_per_epoch}" if bad_step > 0 else ""
                raise NonFiniteLossError(
                    f"loss became {logs['loss']} in epoch {epoch + 1}{at}; lower the learning rate"
                )
            if val_data is not None:
                val_loss, val_acc = val_data.evaluate(steps)
                logs.update(val_loss=val_loss, val_accuracy=val_acc)
            steps.sync()
            if writer is not None:
                done_epochs, done_logs = [*done_epochs, epoch], [*done_logs, dict(logs)]
                writer.save(model, done_epochs, done_logs)
            callback_list.on_epoch_end(epoch, logs)
            steps.reload()  # e.g. ReduceLROnPlateau's new learning rate
            if watched.stop_training:
                break
        steps.sync()
    finally:
        steps.close()
        if writer is not None:
            writer.close()
    callback_list.on_train_end(logs=None)
    if state_path is not None:
        state_path.unlink(missing_ok=True)  # the trial is over: nothing left to continue
    return history


def replay_epochs(
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


class TrainData:
    """Training images for the device: all of them, put there once, when they fit in
    ``limit`` bytes; else each epoch's batches in parts of at most ``limit`` bytes."""

    def __init__(self, x: np.ndarray, y: np.ndarray, batch_size: int, limit: int) -> None:
        self.x, self.y, self.batch_size = x, y, batch_size
        self.steps = len(x) // batch_size
        per_row = max(1, batch_size * (x.nbytes + y.nbytes) // len(x))
        self.rows_per_part = max(1, limit // per_row)
        self.resident = self.rows_per_part >= self.steps
        self._on_device: tuple[Any, Any] | None = None

    def parts(self, steps: Any, order: np.ndarray) -> Iterator[tuple[Any, Any, Any, int, int]]:
        """(images, labels, index rows, first step, steps) for each part of an epoch whose
        batches are ``order``'s (full batches only: one compiled shape)."""
        rows = order[: self.steps * self.batch_size].reshape(self.steps, self.batch_size)
        if self.resident:
            if self._on_device is None:
                self._on_device = steps.put(self.x), steps.put(self.y)
            yield *self._on_device, steps.put(rows.astype("int32")), 0, self.steps
            return
        for first in range(0, self.steps, self.rows_per_part):
            part = rows[first : first + self.rows_per_part]
            flat = part.reshape(-1)
            local = np.arange(flat.size, dtype="int32").reshape(part.shape)
            yield (
                steps.put(self.x[flat]), steps.put(self.y[flat]), steps.put(local), first,
                len(part),
            )  # fmt: skip


class EvalData:
    """Evaluation images in batches (the last one padded and masked), put on the device once
    when they fit in ``limit`` bytes, else a part at a time on every evaluation."""

    def __init__(self, x: np.ndarray, y: np.ndarray, batch_size: int, limit: int) -> None:
        self.n = len(x)
        if self.n == 0:
            raise ValueError("no evaluation data")
        if len(y) != self.n:
            raise ValueError(f"x and y differ in length ({self.n} vs {len(y)})")
        self.batch_size = min(batch_size, self.n)
        self.x, self.y = x, y
        self.batches = math.ceil(self.n / self.batch_size)
        per_batch = max(1, self.batch_size * (x.nbytes + y.nbytes) // self.n)
        self.batches_per_part = max(1, limit // per_batch)
        self._on_device: list[tuple[Any, Any, Any, int]] | None = None

    def _part(self, first: int, count: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        size = self.batch_size
        start, stop = first * size, min(self.n, (first + count) * size)
        xb, yb = self.x[start:stop], self.y[start:stop]
        weight = np.ones(count * size, dtype="float32")
        pad = count * size - len(xb)
        if pad:
            weight[len(xb) :] = 0.0
            xb = np.concatenate([xb, np.zeros((pad, *xb.shape[1:]), xb.dtype)])
            yb = np.concatenate([yb, np.zeros(pad, yb.dtype)])
        return (
            xb.reshape(count, size, *xb.shape[1:]), yb.reshape(count, size),
            weight.reshape(count, size),
        )  # fmt: skip

    def _parts(self, steps: Any) -> Iterator[tuple[Any, Any, Any, int]]:
        if self._on_device is not None:
            yield from self._on_device
            return
        parts = (
            (*(steps.put(a) for a in self._part(first, count)), count)
            for first in range(0, self.batches, self.batches_per_part)
            for count in [min(self.batches_per_part, self.batches - first)]
        )
        if self.batches_per_part >= self.batches:  # one part: keep it there
            self._on_device = list(parts)
            yield from self._on_device
        else:
            yield from parts

    def evaluate(self, steps: Any) -> tuple[float, float]:
        """Mean loss and accuracy over every image."""
        loss_sum, correct = 0.0, 0.0
        for xs, ys, ws, count in self._parts(steps):
            carry = steps.eval_carry()
            for _ in range(count):
                carry = steps.evaluate(xs, ys, ws, carry)
            loss_sum += float(ops.convert_to_numpy(carry[0]))
            correct += float(ops.convert_to_numpy(carry[1]))
        return loss_sum / self.n, correct / self.n


def evaluate_arrays(
    steps: Any, x: np.ndarray, y: np.ndarray, batch_size: int, limit: int = 2 * 2**30
) -> tuple[float, float]:
    """Mean loss and accuracy over all of ``x``; the last batch is padded and masked."""
    return EvalData(x, y, batch_size, limit).evaluate(steps)


def evaluate_model(
    model: keras.Model, x: np.ndarray, y: np.ndarray, batch_size: int = EVAL_BATCH_SIZE
) -> tuple[float, float]:
    """Loss and accuracy of ``model`` on (x, y), with the same compiled eval step."""
    steps = make_steps(model, Augmentation())
    return evaluate_arrays(steps, x, y, batch_size)
