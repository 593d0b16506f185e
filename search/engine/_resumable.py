"""A final training that an interruption does not lose (a finalist's, the retrain's): its
whole state after every epoch, so that a resumed run continues after the last epoch done.

The state is what the next epoch depends on: every model and optimizer variable (the
learning rate, as cut, among them), the best epoch's weights that EarlyStopping restores at
the end, the counters of EarlyStopping and ReduceLROnPlateau (or the cosine schedule's),
the learning rate of each epoch and the curve. Shuffling and augmentation are functions of
(seed, epoch), so the continued training is the one that was interrupted.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import keras
import numpy as np

from hypermodels import (
    assign_optimizer_variables,
    assign_variables,
    read_arrays,
    variable_arrays,
    write_arrays,
)

_STOP_FIELDS = ("wait", "stopped_epoch", "best", "best_epoch")
_CUT_FIELDS = ("wait", "best", "cooldown_counter")
_STOPPER, _CUTS, _COSINE = "EarlyStopping", "ReduceLROnPlateau", "CosineRates"
"""The names the counters are kept under: Keras' classes, whatever subclass is used, and
the cosine schedule's."""


class SavedOptimizerMismatch(RuntimeError):
    """The saved optimizer's variables do not fit the model's optimizer when its fit begins
    (a fit that recompiles later): the training cannot continue from the state, which is
    removed."""


class TrainingState(keras.callbacks.Callback):
    """Saves the training's state to ``path`` (atomically) after every epoch; placed after
    the learning-rate ``cuts`` and the ``stopper`` in the callbacks, so that it keeps what
    they made of the epoch (None for both: a training of a planned number of epochs).
    ``rates``: the callback recording each epoch's learning rate (a ``rates`` list
    attribute); ``cosine``: the callback setting each epoch's rate, where one does (its
    ``STATE_FIELDS`` are kept)."""

    def __init__(
        self,
        path: Path,
        rates: Any,
        cuts: keras.callbacks.ReduceLROnPlateau | None = None,
        stopper: keras.callbacks.EarlyStopping | None = None,
        cosine: keras.callbacks.Callback | None = None,
    ) -> None:
        super().__init__()
        self.path, self.rates, self.cuts, self.stopper = path, rates, cuts, stopper
        self.cosine = cosine
        self.curve: dict[str, list[float]] = {}
        self.epochs_done = 0
        self.stopped = False
        self.seconds = 0.0
        """Seconds trained in earlier processes."""
        self.started_from = "scratch"
        """Where the training started (``checkpoint``: a search checkpoint's weights)."""
        self._counters: dict[str, dict[str, Any]] | None = None
        self._best_weights: list[np.ndarray] | None = None
        self._optimizer_arrays: dict[str, np.ndarray] | None = None
        """The saved optimizer's variables, until the fit begins and may have reconfigured
        the optimizer they fit (a fine-tuning phase's)."""
        self._started = time.perf_counter()

    def restore(self, model: keras.Model) -> int:
        """Load the saved state into ``model`` and the callbacks; the number of epochs it
        says are done (0: none, or a state that does not fit this model and callbacks).

        The saved optimizer's variables are assigned again when the fit begins, after it has
        reconfigured the optimizer for the epoch it continues from (fine-tuning's has more
        variables, or the same shapes in a new optimizer); :class:`SavedOptimizerMismatch` if
        they do not fit it then (the state file is then removed). A training already over
        is not fitted again: its model keeps the configuration of its first epoch (the kept
        epoch's weights, the optimizer as built, or as saved where that fits)."""
        arrays = read_arrays(self.path)
        if arrays is None or "meta" not in arrays:
            return 0
        meta = json.loads(bytes(arrays["meta"]).decode())
        watched = {name for name, _, _ in self._watched()}
        if set(meta["counters"]) != watched or not assign_variables(model, arrays, optimizer=False):
            return 0
        assign_optimizer_variables(model, arrays)  # for a training already over; a fit's again
        self._optimizer_arrays = {name: v for name, v in arrays.items() if name.startswith("o")}
        self.curve = {k: [float(v) for v in values] for k, values in meta["curve"].items()}
        self.epochs_done, self.stopped = int(meta["epochs"]), bool(meta["stopped"])
        self.seconds = float(meta["seconds"])
        self.started_from = str(meta.get("started_from", "scratch"))
        self.rates.rates = list(meta["rates"])
        self._counters = meta["counters"]
        count = int(meta["best_weights"])
        self._best_weights = [arrays[f"b{i}"] for i in range(count)] if count else None
        self._give_back()
        return self.epochs_done

    def over(self, epochs: int) -> bool:
        """Whether the saved training had already ended (stopped, or ``epochs`` done)."""
        return self.stopped or self.epochs_done >= epochs

    def train_seconds(self) -> float:
        """Seconds trained, earlier processes included."""
        return self.seconds + time.perf_counter() - self._started

    def on_train_begin(self, logs: Any = None) -> None:
        if self._optimizer_arrays is not None:
            arrays, self._optimizer_arrays = self._optimizer_arrays, None
            if not assign_optimizer_variables(self.model, arrays):
                self.path.unlink(missing_ok=True)
                raise SavedOptimizerMismatch(
                    f"{self.path}: the saved optimizer does not fit the model's when its fit"
                    " begins (a fit that recompiles after it began cannot be continued); the"
                    " training restarts from epoch 1"
                )
        # The cuts and the stopper have just reset their counters: give them back.
        self._started = time.perf_counter()
        self._give_back()

    def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
        for key, value in (logs or {}).items():
            if np.ndim(value) == 0:
                self.curve.setdefault(key, []).append(float(value))
        self.epochs_done, self.stopped = epoch + 1, bool(self.model.stop_training)
        self._save(self.model)

    def _give_back(self) -> None:
        if self._counters is None:
            return
        for name, callback, fields in self._watched():
            saved = self._counters[name]
            for field in fields:
                if field in saved:  # a field a later version added keeps its start value
                    setattr(callback, field, saved[field])
        if self.stopper is not None:
            self.stopper.best_weights = self._best_weights

    def _watched(self) -> list[tuple[str, keras.callbacks.Callback, tuple[str, ...]]]:
        """The callbacks whose counters the state keeps: the name they are kept under, the
        callback, and its counters' names (Keras' own, and any its class lists in
        ``STATE_FIELDS``)."""
        pairs = ((_STOPPER, self.stopper, _STOP_FIELDS), (_CUTS, self.cuts, _CUT_FIELDS),
                 (_COSINE, self.cosine, ()))  # fmt: skip
        return [
            (name, callback, fields + tuple(getattr(callback, "STATE_FIELDS", ())))
            for name, callback, fields in pairs if callback is not None
        ]  # fmt: skip

    def _save(self, model: keras.Model) -> None:
        best = (self.stopper.best_weights if self.stopper is not None else None) or []
        counters = {
            name: {f: _plain(getattr(callback, f)) for f in fields}
            for name, callback, fields in self._watched()
        }
        meta = {
            "epochs": self.epochs_done, "stopped": self.stopped, "curve": self.curve,
            "rates": self.rates.rates, "counters": counters, "best_weights": len(best),
            "seconds": self.train_seconds(), "started_from": self.started_from,
        }  # fmt: skip
        arrays = variable_arrays(model, meta)
        arrays.update({f"b{i}": np.asarray(w) for i, w in enumerate(best)})
        write_arrays(self.path, arrays)


def _plain(value: Any) -> Any:
    """A counter as JSON keeps it (NumPy scalars as Python numbers)."""
    return value.item() if hasattr(value, "item") else value


__all__ = ["SavedOptimizerMismatch", "TrainingState"]
