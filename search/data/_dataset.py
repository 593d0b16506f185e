"""The splits an experiment works with."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Splits:
    """Train and validation (for the search) and test (for the final model only)."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
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

    def fingerprint(self) -> str:
        """A short hash of every split's contents: a resumed run must see the same data."""
        digest = hashlib.sha256()
        for array in (self.x_train, self.y_train, self.x_val, self.y_val, self.x_test, self.y_test):
            digest.update(f"{array.dtype}{array.shape}".encode())
            digest.update(np.ascontiguousarray(array).data)
        return digest.hexdigest()[:16]

    def describe(self) -> str:
        return (
            f"{len(self.x_train):,} train / {len(self.x_val):,} validation /"
            f" {len(self.x_test):,} test {self.unit} from {self.source}"
        )
