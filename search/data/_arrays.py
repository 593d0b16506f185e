"""Arrays given from Python: checked, split, and kept in the run folder for other processes.

A run on arrays keeps them in ``RUN/data/`` (NumPy ``.npy`` files), so that ``resume`` in
a new process, workers and ``--isolate`` trial processes read exactly the same split.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from search.data._dataset import Splits
from search.data._split import split_off
from search.errors import DataError

ARRAYS_DIR = "data"
PARTS = ("x_train", "y_train", "x_val", "y_val", "x_test", "y_test")
MAX_CLASSES = 1000
"""Integer labels with at most this many distinct values are split stratified."""
MIN_CLASSES = 2
"""The fewest outputs of a model that gives one probability per class."""


def _array(value: Any, what: str) -> np.ndarray:
    try:
        array = np.asarray(value)
    except (TypeError, ValueError) as exc:
        raise DataError(f"{what}: not an array ({exc}); pass NumPy arrays") from None
    if array.dtype == object:
        raise DataError(f"{what}: holds Python objects ({array.dtype}); pass numeric NumPy arrays")
    if array.ndim == 0 or len(array) == 0:
        raise DataError(f"{what}: is empty; pass at least one row")
    if np.issubdtype(array.dtype, np.number) and not np.isfinite(array).all():
        bad = int(np.size(array) - np.isfinite(array).sum())
        raise DataError(f"{what}: holds {bad} NaN or infinite values; clean or impute them first")
    return array


def _pair(pair: Any, what: str) -> tuple[np.ndarray, np.ndarray]:
    if not isinstance(pair, (tuple, list)) or len(pair) != 2:
        raise DataError(f"{what}: must be a pair (x, y), got {type(pair).__name__}")
    x, y = _array(pair[0], f"{what}[0] (x)"), _array(pair[1], f"{what}[1] (y)")
    if len(x) != len(y):
        raise DataError(f"{what}: x and y differ in length ({len(x)} vs {len(y)}); pass matching rows")
    return x, y


def _strata(y: np.ndarray) -> np.ndarray | None:
    """Class labels to stratify on: integer labels or one-hot rows; None for targets."""
    if y.ndim == 2 and y.shape[1] > 1 and np.isin(y, (0, 1)).all():
        return y.argmax(axis=1)
    if y.ndim == 1 and np.issubdtype(y.dtype, np.integer) and len(np.unique(y)) <= MAX_CLASSES:
        return y
    return None


def class_names(splits: Splits, outputs: int) -> tuple[str, ...]:
    """The names of a classifier's ``outputs`` classes: the data's own, or, for arrays of
    class labels (integers, one-hot rows) and one output per class, each class's index;
    () for other targets, and for one output (a sigmoid's or a value: no class each)."""
    if splits.class_names:
        return splits.class_names
    labels = _strata(splits.y_train)
    if labels is None or outputs < MIN_CLASSES or int(labels.max()) >= outputs:
        return ()
    return tuple(str(i) for i in range(outputs))


def array_splits(
    x: Any,
    y: Any,
    validation_data: Any = None,
    validation_split: float = 0.2,
    test_data: Any = None,
    seed: int = 0,
) -> Splits:
    """Train, validation and test splits of arrays. Without ``validation_data``, a seeded
    split of ``validation_split`` of ``(x, y)`` (stratified for class labels)."""
    x_all, y_all = _pair((x, y), "x, y")
    if validation_data is not None:
        x_train, y_train = x_all, y_all
        x_val, y_val = _pair(validation_data, "validation_data")
    else:
        if not 0 < validation_split < 1:
            raise DataError(
                f"validation_split ({validation_split}) must be between 0 and 1; or pass validation_data"
            )
        size = round(len(x_all) * validation_split)
        if not 1 <= size < len(x_all):
            raise DataError(
                f"validation_split {validation_split} of {len(x_all)} rows leaves no"
                " training or validation rows; pass more rows or validation_data"
            )
        strata = _strata(y_all)
        if strata is not None and len(np.unique(strata)) <= size:
            rest, held = split_off(strata, size, seed)
        else:
            order = np.random.default_rng(seed).permutation(len(x_all))
            rest, held = order[size:], order[:size]
        x_train, y_train, x_val, y_val = x_all[rest], y_all[rest], x_all[held], y_all[held]
    if test_data is not None:
        x_test, y_test = _pair(test_data, "test_data")
    else:
        x_test, y_test = x_all[:0], y_all[:0]
    _same_shape(x_train, x_val, "validation_data")
    _same_shape(x_train, x_test, "test_data")
    return Splits(x_train, y_train, x_val, y_val, x_test, y_test, (), "arrays", unit="rows")


def _same_shape(x: np.ndarray, other: np.ndarray, what: str) -> None:
    if len(other) and other.shape[1:] != x.shape[1:]:
        raise DataError(
            f"{what}: rows of shape {other.shape[1:]}, but x has {x.shape[1:]}; pass rows of one shape"
        )


@dataclass(frozen=True)
class ArrayData:
    """A user's data as arrays, named as ``model.fit`` names them.

    Args:
        x: training inputs.
        y: training targets (class labels, one-hot rows or values).
        validation_data: ``(x_val, y_val)``; None: a seeded ``validation_split`` of x, y
            (stratified for class labels).
        test_data: ``(x_test, y_test)``, evaluated once by the final model; never used to
            choose.
        validation_split: the share of x, y held out when validation_data is None.
    """

    x: Any
    y: Any
    validation_data: Any = None
    test_data: Any = None
    validation_split: float = 0.2

    def splits(self, seed: int = 0) -> Splits:
        """The train, validation and test splits (checked: DataError on bad input)."""
        return array_splits(
            self.x, self.y, self.validation_data, self.validation_split, self.test_data, seed
        )


def save_arrays(splits: Splits, run_dir: Path) -> None:
    """Keep the splits in ``run_dir/data/`` for other processes of the run."""
    folder = run_dir / ARRAYS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    for part in PARTS:
        target = folder / f"{part}.npy"
        temporary = target.with_suffix(".tmp.npy")
        np.save(temporary, getattr(splits, part), allow_pickle=False)
        temporary.replace(target)


def load_arrays(run_dir: Path) -> Splits:
    """The splits a run on arrays kept; DataError naming the missing file."""
    folder = run_dir / ARRAYS_DIR
    arrays = {}
    for part in PARTS:
        path = folder / f"{part}.npy"
        if not path.is_file():
            raise DataError(
                f"{path}: missing; this run's arrays are gone, so it cannot go on in another"
                " process (resume it from Python with the same data: search.run(..., name=RUN))"
            )
        arrays[part] = np.load(path, allow_pickle=False)
    return Splits(**arrays, class_names=(), source=f"arrays in {folder}", unit="rows")
