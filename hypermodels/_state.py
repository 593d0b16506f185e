"""A running trial's state after each epoch, so an interrupted trial continues where it was.

The file holds every model variable (weights, batch-norm statistics, dropout seed state),
every optimizer variable, and the logs of the epochs done. Augmentation and shuffling
randomness are functions of (seed, epoch, step), so nothing else is needed.
"""

from __future__ import annotations

import io
import json
import zipfile
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np

from search.storage import write_atomic


@dataclass(frozen=True)
class EpochState:
    """What :func:`load_state` found: the epochs already done and their logs."""

    epochs: list[int]
    logs: list[dict[str, float]]


def save_state(path: Path, model: keras.Model, epochs: list[int], logs: list[dict]) -> None:
    """Write the state atomically (temporary file, fsync, rename).

    Args:
        path: the state file, replaced if it exists.
        model: the model whose variables and optimizer variables are saved.
        epochs: the epochs done, from 0.
        logs: each done epoch's logs, in the order of ``epochs``.
    """
    write_arrays(path, _snapshot(model, epochs, logs))


def variable_arrays(model: keras.Model, meta: dict) -> dict[str, np.ndarray]:
    """Host copies of every model (``m0``...) and optimizer (``o0``...) variable, and
    ``meta`` as JSON: what a state file holds (training may go on while it is written).

    Args:
        model: a compiled model (its optimizer's variables are copied too).
        meta: JSON-serializable data stored under ``meta`` as UTF-8 bytes.

    Returns:
        The arrays by name, ready for :func:`write_arrays`.
    """
    arrays = {f"m{i}": np.array(v.numpy()) for i, v in enumerate(model.variables)}
    arrays.update(
        {f"o{i}": np.array(v.numpy()) for i, v in enumerate(model.optimizer.variables)}
    )
    arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), "uint8")
    return arrays


def _snapshot(model: keras.Model, epochs: list[int], logs: list[dict]) -> dict[str, np.ndarray]:
    return variable_arrays(model, {"epochs": epochs, "logs": logs})


def write_arrays(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Write a state file atomically (temporary file, fsync, rename).

    Args:
        path: the file, replaced if it exists.
        arrays: the arrays by name, stored as an uncompressed ``.npz``.
    """
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)  # type: ignore[arg-type]  # numpy's stub: **arrays could be allow_pickle
    write_atomic(path, buffer.getvalue())


def read_arrays(path: Path) -> dict[str, np.ndarray] | None:
    """The arrays of a state file, read into memory.

    Args:
        path: the state file.

    Returns:
        The arrays by name; None if there is no such file or it cannot be read.
    """
    if not path.is_file():
        return None
    try:
        with np.load(path) as data:
            return {name: data[name] for name in data.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile):  # a zero-byte or cut-short file
        return None


def assign_variables(
    model: keras.Model, arrays: dict[str, np.ndarray], optimizer: bool = True
) -> bool:
    """Give ``model`` and (unless ``optimizer`` is False) its optimizer the values of
    :func:`variable_arrays`, building the optimizer first if it is not yet.

    Args:
        model: a compiled model.
        arrays: what :func:`variable_arrays` returned (or :func:`read_arrays` read).
        optimizer: False: the model's variables alone, the optimizer's left for
            :func:`assign_optimizer_variables` (once a fit has reconfigured the optimizer
            they were saved from, e.g. fine-tuning's).

    Returns:
        True if every variable was assigned; False (nothing assigned) if the arrays do not
        fit: missing, of other shapes or other in number (another architecture).
    """
    if not _fits(model.variables, arrays, "m"):
        return False
    if optimizer and not _fits(_optimizer_variables(model), arrays, "o"):
        return False
    _assign(model.variables, arrays, "m")
    if optimizer:
        _assign(_optimizer_variables(model), arrays, "o")
    return True


def assign_optimizer_variables(model: keras.Model, arrays: dict[str, np.ndarray]) -> bool:
    """Give ``model``'s optimizer (built first if it is not yet) the values of
    :func:`variable_arrays`.

    Args:
        model: a compiled model.
        arrays: what :func:`variable_arrays` returned (or :func:`read_arrays` read).

    Returns:
        True if every optimizer variable was assigned; False (nothing assigned) if the
        arrays do not fit (another optimizer, or one over other trainable variables).
    """
    variables = _optimizer_variables(model)
    if not _fits(variables, arrays, "o"):
        return False
    _assign(variables, arrays, "o")
    return True


def _optimizer_variables(model: keras.Model) -> list[keras.Variable]:
    optimizer = model.optimizer
    if not optimizer.built:  # a user's model builds it on the first step
        optimizer.build(model.trainable_variables)
    return list(optimizer.variables)


def _fits(targets: list[keras.Variable], arrays: dict[str, np.ndarray], prefix: str) -> bool:
    """Whether ``arrays`` hold one value of each target's shape under ``prefix``0, 1... and
    no more."""
    shapes = [getattr(arrays.get(f"{prefix}{i}"), "shape", None) for i in range(len(targets))]
    if any(tuple(t.shape) != shape for t, shape in zip(targets, shapes)):
        return False
    return sum(name[:1] == prefix and name[1:].isdigit() for name in arrays) == len(targets)


def _assign(targets: list[keras.Variable], arrays: dict[str, np.ndarray], prefix: str) -> None:
    for i, target in enumerate(targets):
        target.assign(arrays[f"{prefix}{i}"])


class StateWriter:
    """Saves a trial's epoch states in a background thread, one at a time and in order.

    The variables are copied to the host first (the one part that must wait for the
    device), so the next epoch trains while the file is serialized, written and fsynced.
    :meth:`wait` re-raises a failed write; the loop calls it before the next save, before
    removing the file at the trial's end, and when training stops for any reason.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="epoch-state")
        self._pending: Future[None] | None = None

    def save(self, model: keras.Model, epochs: list[int], logs: list[dict]) -> None:
        self.wait()
        self._pending = self._pool.submit(write_arrays, self.path, _snapshot(model, epochs, logs))

    def wait(self) -> None:
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.result()

    def close(self) -> None:
        try:
            self.wait()
        finally:
            self._pool.shutdown(wait=True)


def saved_epochs(path: Path) -> list[int]:
    """The epochs a state file says are done, without restoring anything ([] if none)."""
    if not path.is_file():
        return []
    try:
        with np.load(path) as data:
            return list(json.loads(bytes(data["meta"]).decode())["epochs"])
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        return []


def state_damage(path: Path) -> str | None:
    """Why the state file at ``path`` cannot be read.

    Args:
        path: a state file :func:`save_state` wrote.

    Returns:
        The reason, in one line; None when the file reads whole or there is none (nothing
        saved yet).
    """
    if not path.is_file():
        return None
    try:
        with np.load(path) as data:
            json.loads(bytes(data["meta"]).decode())["epochs"]
            for name in data.files:  # a file cut short fails on the arrays it lost
                data[name]
    except (OSError, ValueError, KeyError, TypeError, EOFError, zipfile.BadZipFile) as exc:
        return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return None


def load_state(path: Path, model: keras.Model, optimizer: bool = True) -> EpochState | None:
    """Restore ``model`` (and its optimizer) from ``path``.

    A state that does not match the model (another architecture) or cannot be read is
    ignored: the trial then starts from its first epoch.

    Args:
        path: the state file :func:`save_state` wrote.
        model: a compiled model of the architecture that saved it.
        optimizer: False: the model's variables alone (a model that is only evaluated,
            whose optimizer may not be the one that trained it, e.g. before fine-tuning's).

    Returns:
        The epochs done and their logs; None if there is no usable state (nothing restored).
    """
    arrays = read_arrays(path)
    if arrays is None or "meta" not in arrays or not assign_variables(model, arrays, optimizer):
        return None
    meta = json.loads(bytes(arrays["meta"]).decode())
    return EpochState(epochs=list(meta["epochs"]), logs=list(meta["logs"]))
