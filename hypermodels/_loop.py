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
from hypermodels._fidelity import DataFidelity
from hypermodels._state import EpochState, StateWriter, load_state, saved_epochs
from hypermodels._steps import make_steps
from search.compat import keras_tuner as kt_compat

EVAL_BATCH_SIZE = 1024
"""Images per evaluation step: no gradients are kept, so far more fit than in training."""
UINT32_SEEDS = 2**32
"""The run's seeds (0 to 2**32 - 1), which the training step reads as int32s of the same bits."""
DEVICE_DATA_BYTES = 2 * 2**30
"""Images up to this size (2 GiB) stay on the device for a whole fit or evaluation; larger
sets go there in parts of this size, a part at a time."""


@dataclass(frozen=True)
class LoopConfig:
    """What the loop needs besides the model and data."""

    batch_size: int = 64
    eval_batch_size: int = EVAL_BATCH_SIZE
    device_data_bytes: int = DEVICE_DATA_BYTES
    """Images up to this size stay on the device for the whole fit; larger sets go there
    in parts of this size, a part at a time."""
    augmentation: Augmentation = Augmentation()
    seed: int = 0
    switch_epoch: int | None = None
    """From this epoch on, train as ``switch`` reconfigures the model (e.g. fine-tuning)."""
    switch: Callable[[keras.Model], None] | None = None
    """Changes which variables train and recompiles the optimizer; called once."""
    fidelity: DataFidelity | None = None
    """Each epoch trains on the growing subset of the images it names (``--fidelity data``);
    None: on all of them."""


class NonFiniteLossError(FloatingPointError):
    """Training diverged: the loss is NaN or infinite."""

    @classmethod
    def at(cls, loss: float, when: str) -> NonFiniteLossError:
        """The error for a training ``loss`` that became NaN or infinite ``when`` ("in epoch 3")."""
        return cls(f"loss became {loss} {when}; lower the learning rate")


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

    Args:
        model: the model to train.
        x: the training images.
        y: their integer labels.
        validation_data: (images, labels) evaluated after every epoch; None: no ``val_`` logs.
        epochs: the epoch to stop before, as ``model.fit``'s (not a count from ``initial_epoch``).
        initial_epoch: the first epoch to train (KerasTuner's continuation).
        callbacks: called as ``model.fit`` calls them, a ``History`` added; per-batch
            methods see the step's variables and running logs, unless the class says
            ``reads_model_per_batch = False`` (cheaper: nothing syncs per step).
        config: batch sizes, augmentation, seed, fine-tuning switch and data fidelity.
        state_path: saved to after every epoch, removed at the end; one found at the start is
            continued after its last epoch. None: nothing is saved.
        callback_model: the model the callbacks see (and checkpoint), when ``model`` is a part
            of it trained on its own (a head on cached features); None: ``model``.

    Returns:
        A ``History`` with loss, accuracy, val_loss and val_accuracy per epoch, as ``model.fit``'s.

    Raises:
        NonFiniteLossError: the loss became NaN or infinite.
    """
    _check_data(x, y)
    batch_size = min(config.batch_size, len(x))
    switch = _Switch(model, config)
    switch.before_restoring(state_path, initial_epoch)
    restored = load_state(state_path, model) if state_path is not None else None
    steps = make_steps(model, config.augmentation)  # after restoring: JAX copies the state
    history = keras.callbacks.History()
    watched = callback_model if callback_model is not None else model
    callback_list = _begin(callbacks, history, watched, epochs, len(x) // batch_size)
    saver = _EpochSaver(state_path, model)
    if restored is not None:
        initial_epoch = max(initial_epoch, replay_epochs(restored, callback_list, initial_epoch, epochs))
        saver.epochs, saver.logs = restored.epochs, restored.logs
    train_data = TrainData(x, y, batch_size, config.device_data_bytes)
    val_data = None if validation_data is None else EvalData(
        *validation_data, config.eval_batch_size, config.device_data_bytes
    )  # fmt: skip
    try:
        for epoch in range(initial_epoch, epochs):
            if switch.at(epoch):
                steps.close()
                steps = make_steps(model, config.augmentation)  # other trainable variables
            callback_list.on_epoch_begin(epoch)
            steps.reload()  # e.g. LearningRateScheduler's rate for this epoch
            logs = train_epoch(steps, train_data, callback_list, config.seed, epoch, config.fidelity)
            if val_data is not None:
                logs.update(zip(("val_loss", "val_accuracy"), val_data.evaluate(steps)))
            steps.sync()
            saver.save(epoch, logs)
            callback_list.on_epoch_end(epoch, logs)
            steps.reload()  # e.g. ReduceLROnPlateau's new learning rate
            if watched.stop_training:
                break
        steps.sync()
    finally:
        steps.close()
        saver.close()
    callback_list.on_train_end(logs=None)
    saver.finish()
    return history


def _begin(
    callbacks: Sequence[keras.callbacks.Callback],
    history: keras.callbacks.History,
    watched: keras.Model,
    epochs: int,
    steps: int,
) -> keras.callbacks.CallbackList:
    """The fit's callbacks, told that training begins."""
    callback_list = keras.callbacks.CallbackList(
        [*callbacks, history], model=watched, epochs=epochs, steps=steps, verbose=0
    )
    watched.stop_training = False
    callback_list.on_train_begin()
    return callback_list


def _check_data(x: np.ndarray, y: np.ndarray) -> None:
    if len(x) != len(y):
        raise ValueError(f"x and y differ in length ({len(x)} vs {len(y)})")
    if len(x) == 0:
        raise ValueError("no training data")


class _EpochSaver:
    """The epoch state of a fit with a ``state_path`` (nothing without one): written after
    every epoch while the next one trains, every write complete before the fit returns or
    raises (an interruption keeps the last epoch); removed when the fit is over."""

    def __init__(self, state_path: Path | None, model: keras.Model) -> None:
        self.state_path, self.model = state_path, model
        self.writer = StateWriter(state_path) if state_path is not None else None
        self.epochs: list[int] = []
        self.logs: list[dict[str, float]] = []

    def save(self, epoch: int, logs: dict[str, float]) -> None:
        if self.writer is not None:
            self.epochs, self.logs = [*self.epochs, epoch], [*self.logs, dict(logs)]
            self.writer.save(self.model, self.epochs, self.logs)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()

    def finish(self) -> None:
        """The fit is over: nothing is left to continue."""
        if self.state_path is not None:
            self.state_path.unlink(missing_ok=True)


class _Switch:
    """Reconfigures the model once, at ``config.switch_epoch`` (e.g. fine-tuning)."""

    def __init__(self, model: keras.Model, config: LoopConfig) -> None:
        self.model, self.config, self.done = model, config, False

    def before_restoring(self, state_path: Path | None, initial_epoch: int) -> None:
        """A state saved after the switch holds the switched optimizer: switch before
        loading it."""
        done = saved_epochs(state_path) if state_path is not None else []
        self.at(max([initial_epoch, *(e + 1 for e in done)]))

    def at(self, epoch: int) -> bool:
        """Switch if ``epoch`` is the switch's (or past it) and it has not happened yet."""
        config = self.config
        if self.done or config.switch is None or config.switch_epoch is None:
            return False
        if epoch < config.switch_epoch:
            return False
        config.switch(self.model)
        self.done = True
        return True


def train_epoch(
    steps: Any,
    train_data: TrainData,
    callback_list: keras.callbacks.CallbackList,
    seed: int,
    epoch: int,
    fidelity: DataFidelity | None = None,
) -> dict[str, float]:
    """One epoch over ``train_data`` (the subset ``fidelity`` names for the epoch, when
    given) in a seeded order: the epoch's mean loss and accuracy. A callback that sets the
    model's ``stop_training`` ends the epoch after that batch, as in ``model.fit``.

    Raises:
        NonFiniteLossError: The loss became NaN or infinite (the step it first did named).
    """
    rng = np.random.default_rng([seed, epoch])
    if fidelity is None:
        order = rng.permutation(len(train_data.x))
    else:
        subset = fidelity.rows(epoch, len(train_data.x), train_data.batch_size)
        order = subset[rng.permutation(len(subset))]
    steps_per_epoch = len(order) // train_data.batch_size
    # The step's random transforms take int32 seeds: a seed past them (up to 2**32 - 1) is
    # read as the int32 of its bits, negative, so that no two seeds share one.
    folded = int(np.array(seed % UINT32_SEEDS, dtype=np.uint32).view(np.int32))
    seed_base = steps.put(np.array([folded, epoch * steps_per_epoch], dtype="int32"))
    carry = steps.train_carry()
    hooks, watched, done = _BatchHooks(steps, callback_list, train_data.batch_size), callback_list.model, 0
    for xs, ys, rows, first, count in train_data.parts(steps, order):
        carry = (*carry[:4], steps.put(np.int32(0)))  # rows count within the part
        for step in range(first, first + count):
            hooks.begin(step)
            carry = steps.train(xs, ys, rows, seed_base, carry)
            hooks.end(step, carry)
            done = step + 1
            if watched.stop_training:  # as model.fit: the epoch ends after this batch
                break
        if watched.stop_training:
            break
    loss_sum, correct, first_bad = (ops.convert_to_numpy(v) for v in carry[:3])
    seen = done * train_data.batch_size
    logs = {"loss": float(loss_sum) / seen, "accuracy": float(correct) / seen}
    if not math.isfinite(logs["loss"]):
        bad_step = int(first_bad) + 1
        at = f" at step {bad_step} of {steps_per_epoch}" if bad_step > 0 else ""
        raise NonFiniteLossError.at(logs["loss"], f"in epoch {epoch + 1}{at}")
    return logs


BATCH_HOOKS = ("on_train_batch_begin", "on_train_batch_end", "on_batch_begin", "on_batch_end")
"""The ``keras.callbacks.Callback`` methods called around every training step."""


def reads_model_per_batch(callback: keras.callbacks.Callback) -> bool:
    """Whether ``callback`` has per-batch methods that may read or assign the model's
    variables: any it overrides, unless its class says ``reads_model_per_batch = False``
    (a stop signal's check) or it is KerasTuner's trial callback (its batch hooks call the
    tuner's, which receive no state)."""
    if getattr(callback, "reads_model_per_batch", True) is False or kt_compat.is_tuner_callback(callback):
        return False
    base = keras.callbacks.Callback
    return any(getattr(type(callback), name) is not getattr(base, name) for name in BATCH_HOOKS)


class _BatchHooks:
    """The callbacks' per-batch methods, called around every step as ``model.fit`` calls
    them. When one of them may read or assign the model's variables (a warm-up schedule, a
    per-batch logger: :func:`reads_model_per_batch`), the variables hold the step's state
    while they run (JAX's steps keep their own copy), what they assign is what the next
    step uses, and the end of a batch gets the epoch's running loss and accuracy; otherwise
    nothing leaves the device per step."""

    def __init__(self, steps: Any, callback_list: keras.callbacks.CallbackList, batch_size: int) -> None:
        self.steps, self.callback_list, self.batch_size = steps, callback_list, batch_size
        self.synced = any(reads_model_per_batch(c) for c in callback_list.callbacks)

    def begin(self, step: int) -> None:
        if not self.synced:
            self.callback_list.on_train_batch_begin(step)
            return
        self.steps.sync()
        self.callback_list.on_train_batch_begin(step)
        self.steps.reload()

    def end(self, step: int, carry: Any) -> None:
        if not self.synced:
            self.callback_list.on_train_batch_end(step)
            return
        loss_sum, correct = (float(ops.convert_to_numpy(v)) for v in carry[:2])
        seen = (step + 1) * self.batch_size
        self.steps.sync()
        self.callback_list.on_train_batch_end(step, {"loss": loss_sum / seen, "accuracy": correct / seen})
        self.steps.reload()


def replay_epochs(
    state: EpochState,
    callback_list: keras.callbacks.CallbackList,
    initial_epoch: int,
    epochs: int,
) -> int:
    """Hand the restored epochs to the callbacks (history, tuner, pruner) once more. Best-epoch
    checkpointers only learn the best value: the checkpoint they wrote before the interruption
    is still the right one.

    Args:
        state: the epochs and logs :func:`load_state` restored.
        callback_list: the fit's callbacks; ``model.restored_epochs`` is True while they replay.
        initial_epoch: restored epochs before this one are not replayed.
        epochs: the fit's end; restored epochs from this one on are not replayed.

    Returns:
        The first epoch still to train: the last restored one + 1 (``initial_epoch`` if none).
    """
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
        batches are ``order``'s (full batches only: one compiled shape). An order of fewer
        rows (``--fidelity data``) runs fewer steps over index rows of the same shape."""
        count = len(order) // self.batch_size
        rows = order[: count * self.batch_size].reshape(count, self.batch_size)
        if self.resident:
            if self._on_device is None:
                self._on_device = steps.put(self.x), steps.put(self.y)
            if count < self.steps:  # padded, never reached: the compiled step is reused
                rows = np.concatenate([rows, np.zeros((self.steps - count, self.batch_size), rows.dtype)])
            yield *self._on_device, steps.put(rows.astype("int32")), 0, count
            return
        for first in range(0, count, self.rows_per_part):
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
    steps: Any, x: np.ndarray, y: np.ndarray, batch_size: int, limit: int = DEVICE_DATA_BYTES
) -> tuple[float, float]:
    """Mean loss and accuracy over all of ``x``; the last batch is padded and masked."""
    return EvalData(x, y, batch_size, limit).evaluate(steps)


def evaluate_model(
    model: keras.Model, x: np.ndarray, y: np.ndarray, batch_size: int = EVAL_BATCH_SIZE
) -> tuple[float, float]:
    """Loss and accuracy of ``model`` on (x, y), with the same compiled eval step.

    Args:
        model: a classifier compiled with an optimizer, its outputs class probabilities.
        x: the images.
        y: their integer labels.
        batch_size: images per evaluation step.

    Returns:
        (mean sparse categorical cross-entropy, accuracy) over every image.
    """
    steps = make_steps(model, Augmentation())
    return evaluate_arrays(steps, x, y, batch_size)
