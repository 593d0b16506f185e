"""The splits an experiment works with."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from search.data._inputs import Inputs, parts, rows


@dataclass(frozen=True)
class Splits:
    """Train and validation (for the search) and test (for the final model only). Inputs
    are one array each, or, for a user's multi-input model, a list or dict of arrays."""

    x_train: Inputs
    y_train: np.ndarray
    x_val: Inputs
    y_val: np.ndarray
    x_test: Inputs
    y_test: np.ndarray
    class_names: tuple[str, ...]
    source: str
    x_full: np.ndarray | None = None
    """Every labelled training image (train + validation + what --train-size left out)."""
    y_full: np.ndarray | None = None
    x_unsplit: np.ndarray | None = None
    """Every training image outside the validation split (what --train-size subsets)."""
    y_unsplit: np.ndarray | None = None
    unit: str = "images"
    """What one row is, in messages ("rows" for a user's arrays)."""
    w_train: np.ndarray | None = None
    """A weight per training row (``model.fit``'s ``sample_weight``); None: rows weigh alike."""
    w_val: np.ndarray | None = None
    """A weight per validation row; None: rows weigh alike."""
    w_test: np.ndarray | None = None
    """A weight per test row; None: rows weigh alike."""
    class_weight: dict[int, float] | None = None
    """A weight per class label for the training rows (``model.fit``'s ``class_weight``; a
    class without one weighs 1); None: classes weigh alike."""

    def fingerprint(self) -> str:
        """A short hash of every split's contents: a resumed run must see the same data."""
        digest = hashlib.sha256()
        for x, y in ((self.x_train, self.y_train), (self.x_val, self.y_val), (self.x_test, self.y_test)):
            for name, array in [*parts(x).items(), ("", y)]:  # one array's name is empty
                digest.update(f"{name}{array.dtype}{array.shape}".encode())
                digest.update(np.ascontiguousarray(array).data)
        for name, weights in self.weights().items():  # a run without weights hashes as before
            digest.update(f"{name}{weights.dtype}{weights.shape}".encode())
            digest.update(np.ascontiguousarray(weights).data)
        if self.class_weight is not None:
            digest.update(repr(sorted(self.class_weight.items())).encode())
        return digest.hexdigest()[:16]

    def weights(self) -> dict[str, np.ndarray]:
        """The row weights given, by part name (``w_train``, ``w_val``, ``w_test``)."""
        given = {"w_train": self.w_train, "w_val": self.w_val, "w_test": self.w_test}
        return {name: weights for name, weights in given.items() if weights is not None}

    def weighted(self) -> list[str]:
        """The splits whose rows carry weights: ``train``, ``validation``, ``test``, and
        ``classes`` with a ``class_weight``."""
        names = {"w_train": "train", "w_val": "validation", "w_test": "test"}
        classes = ["classes"] if self.class_weight is not None else []
        return [names[part] for part in self.weights()] + classes

    def training_weights(self, y: np.ndarray, weights: np.ndarray | None) -> np.ndarray | None:
        """The weights rows of targets ``y`` train with: their own ``weights`` times their
        class's weight (``class_weight``; 1 for a class without one), as ``model.fit``
        weighs them; None where neither is given."""
        if self.class_weight is None:
            return weights
        labels = y.argmax(axis=-1) if y.ndim > 1 and y.shape[-1] > 1 else y.reshape(len(y))
        classes = np.array([self.class_weight.get(int(label), 1.0) for label in labels], np.float32)
        return classes if weights is None else classes * weights

    def validation_data(self) -> tuple[Inputs, ...]:
        """``model.fit``'s ``validation_data``: ``(x_val, y_val)``, and their weights where given."""
        pair = (self.x_val, self.y_val)
        return pair if self.w_val is None else (*pair, self.w_val)

    def weight_keyword(self) -> dict[str, np.ndarray]:
        """``{"sample_weight": ...}`` for ``model.fit`` where the training rows have weights
        (their own, their classes'); {} otherwise (a ``fit`` of one's own need not take it)."""
        weights = self.training_weights(self.y_train, self.w_train)
        return {} if weights is None else {"sample_weight": weights}

    def describe(self) -> str:
        return (
            f"{rows(self.x_train):,} train / {rows(self.x_val):,} validation /"
            f" {rows(self.x_test):,} test {self.unit} from {self.source}"
        )
