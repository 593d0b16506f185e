"""Arrays given from Python: checked, split, and kept in the run folder for other processes.

A run on arrays keeps them in ``RUN/data/`` (NumPy ``.npy`` files), so that ``resume`` in
a new process, workers and ``--isolate`` trial processes read exactly the same split.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from search._text import a_kind, plural
from search.data._dataset import Splits
from search.data._split import split_off
from search.errors import DataError

ARRAYS_DIR = "data"
PARTS = ("x_train", "y_train", "x_val", "y_val", "x_test", "y_test")
MAX_CLASSES = 1000
"""Integer labels with at most this many distinct values are split stratified."""
FLOAT32_MAX = float(np.finfo(np.float32).max)
FLOAT32_BYTES = 4
MIN_CLASSES = 2
"""The fewest outputs of a model that gives one probability per class."""


PARTS_NAMED = {"x": ("x", "y"), "validation_data": ("x_val", "y_val"), "test_data": ("x_test", "y_test")}
"""The arrays a pair (or a part of one) is collected into, as a message names them."""


def _stream_kind(value: Any) -> str | None:
    """What kind of batch stream ``value`` is (a ``tf.data.Dataset``, a Keras
    ``PyDataset``, a PyTorch loader, a generator or other iterator); None for anything
    else. Duck-typed: neither TensorFlow nor Keras is imported for it."""
    if hasattr(value, "element_spec") and hasattr(value, "as_numpy_iterator"):
        return "tf.data.Dataset"
    bases = [(base.__module__, base.__name__) for base in type(value).__mro__]
    if any(module.startswith("keras") and name == "PyDataset" for module, name in bases):
        return "keras.utils.PyDataset"
    if type(value).__module__.startswith("torch.utils.data"):
        return "torch.utils.data object"
    if isinstance(value, Iterator):
        return "generator" if type(value).__name__ == "generator" else "iterator"
    return None


def refuse_streams(x: Any, y: Any, validation_data: Any = None, test_data: Any = None) -> None:
    """Refuse a dataset, loader or generator given where arrays are due.

    Args:
        x: the inputs given to ``search.run``.
        y: the targets given (None: ``x`` was meant to hold both).
        validation_data: the ``(x_val, y_val)`` pair given, or None; each part is checked too.
        test_data: the ``(x_test, y_test)`` pair given, or None; each part is checked too.

    Raises:
        DataError: one line naming the stream, its type and how to collect a finite one into arrays.
    """
    _refuse_stream(x, "x", ("x", "y") if y is None else ("x",))
    _refuse_stream(y, "y", ("y",))
    for what, pair in (("validation_data", validation_data), ("test_data", test_data)):
        names = PARTS_NAMED[what]
        _refuse_stream(pair, what, names)
        if isinstance(pair, (tuple, list)) and len(pair) == 2:
            for index, part in enumerate(pair):
                _refuse_stream(part, f"{what}[{index}]", names[index : index + 1])


def _refuse_stream(value: Any, what: str, names: tuple[str, ...]) -> None:
    kind = _stream_kind(value)
    if kind is not None:
        article = "an" if kind[0] in "aeiou" else "a"
        raise DataError(
            f"{what}: {article} {kind} ({type(value).__name__}); search.run takes NumPy arrays,"
            " which it splits and keeps in the run folder: collect a finite one first, e.g."
            f" {_collect(kind, names)}"
        )


def _collect(kind: str, names: tuple[str, ...]) -> str:
    """A line of code that collects a finite stream of ``kind`` into the arrays ``names``."""
    target = ", ".join(names)
    if kind == "tf.data.Dataset":
        rows = "dataset.unbatch().as_numpy_iterator()"
        if len(names) == 1:
            return f"{target} = np.stack(list({rows})) (without .unbatch() if it is not batched)"
        return f"{target} = map(np.stack, zip(*{rows})) (without .unbatch() if it is not batched)"
    batches = "(dataset[i] for i in range(len(dataset)))" if kind == "keras.utils.PyDataset" else "batches"
    if len(names) == 1:
        return f"{target} = np.concatenate(list({batches}))"
    return f"{target} = map(np.concatenate, zip(*{batches})) (for batches of (x, y) arrays)"


def _array(value: Any, what: str, targets: bool = False) -> np.ndarray:
    """``value`` as an array of finite numbers, one row each; DataError naming ``what``
    (``targets``: labels or values, whose fix differs) and the fix otherwise."""
    value = _from_pandas(value, what, targets)
    _refuse_sparse(value, what)
    try:
        array = np.asarray(value)
    except (TypeError, ValueError) as exc:
        raise DataError(f"{what}: not an array ({exc}); pass NumPy arrays") from None
    if array.ndim == 0:
        raise DataError(f"{what}: a single value ({type(value).__name__}), not rows; pass an array of rows")
    if array.dtype.kind not in "biuf":
        raise DataError(f"{what}: {_not_numbers(array.dtype, targets)}")
    if len(array) == 0:
        raise DataError(f"{what}: is empty; pass at least one row")
    if array.size == 0:
        shape = array.shape
        raise DataError(f"{what}: its rows hold no values (shape {shape}); pass one value a row, or more")
    if not np.isfinite(array).all():
        bad = int(np.size(array) - np.isfinite(array).sum())
        raise DataError(f"{what}: holds {bad} NaN or infinite values; clean or impute them first")
    _refuse_beyond_float32(array, what)
    return array


def _refuse_beyond_float32(array: np.ndarray, what: str) -> None:
    """DataError for floats too large for float32, which Keras trains in: they would turn
    into infinities there, and the loss into NaN."""
    if array.dtype.kind != "f" or array.dtype.itemsize <= FLOAT32_BYTES:
        return
    peak = float(np.abs(array).max())
    if peak > FLOAT32_MAX:
        raise DataError(
            f"{what}: holds values up to {peak:.3g}, beyond float32's {FLOAT32_MAX:.3g}, which Keras"
            " trains in; rescale them first (e.g. divide by their largest, or take their log)"
        )


def _refuse_sparse(value: Any, what: str) -> None:
    """DataError for a SciPy sparse matrix or array (which NumPy takes as one object, not
    rows). Duck-typed: SciPy is not imported for it."""
    if type(value).__module__.startswith("scipy.sparse") and hasattr(value, "toarray"):
        shape = "x".join(str(size) for size in getattr(value, "shape", ()))
        raise DataError(
            f"{what}: a SciPy sparse matrix ({type(value).__name__}, {shape}); search.run takes dense"
            " NumPy arrays, which it splits and keeps in the run folder: pass it dense, e.g. x.toarray()"
        )


def _from_pandas(value: Any, what: str, targets: bool) -> Any:
    """A pandas DataFrame or Series of numbers or booleans as a NumPy array, its nullable
    columns (``Float32``, ``Int64``, ``boolean``) too, a missing value as NaN (which the
    NaN check refuses); DataError naming the columns that are not numbers. Anything else as
    it is. Duck-typed: pandas is not imported for it."""
    if not type(value).__module__.startswith("pandas") or not hasattr(value, "to_numpy"):
        return value
    columns = dict(value.dtypes.items()) if hasattr(value, "columns") else {None: value.dtype}
    others = {name: dtype for name, dtype in columns.items() if getattr(dtype, "kind", "O") not in "biuf"}
    if others and None in others:
        hint = "encode the labels as integers first" if targets else "encode them as numbers first"
        raise DataError(f"{what}: a pandas Series of {others[None]} values, not numbers; {hint}")
    if others:
        named = ", ".join(f"{name!r} ({dtype})" for name, dtype in list(others.items())[:5])
        more = f" and {len(others) - 5} more" if len(others) > 5 else ""
        raise DataError(
            f"{what}: a DataFrame with {plural(len(others), 'column')} not of numbers ({named}{more});"
            " encode them first"
            " (e.g. pd.get_dummies(df, columns=[...]), or .cat.codes for a category) or drop them"
        )
    if not columns:
        return value
    dtype = np.result_type(*(getattr(d, "numpy_dtype", d) for d in columns.values()))
    if bool(np.asarray(value.isna()).any()):  # a missing value becomes NaN
        return value.to_numpy(dtype=np.result_type(dtype, np.float32), na_value=np.nan)
    return value.to_numpy(dtype=dtype)


def _not_numbers(dtype: np.dtype, targets: bool) -> str:
    """What an array of ``dtype`` holds instead of real numbers, and the fix."""
    if dtype.kind in "US" and targets:
        return (
            f"holds strings ({dtype}); encode the labels as integers first, e.g."
            " classes, y = np.unique(y, return_inverse=True)"
        )
    if dtype.kind in "US":
        return f"holds strings ({dtype}); pass numbers (encode text or categories first)"
    if dtype.kind == "c":
        return f"holds complex numbers ({dtype}); pass real numbers (e.g. np.real(x), np.abs(x))"
    if dtype.kind == "O":
        return f"holds Python objects ({dtype}); pass numeric NumPy arrays"
    return f"holds {dtype} values; pass numbers"


def _pair(pair: Any, what: str) -> tuple[np.ndarray, np.ndarray]:
    if not isinstance(pair, (tuple, list)) or len(pair) != 2:
        raise DataError(f"{what}: {_not_pair(pair)}; pass {what}=({', '.join(PARTS_NAMED[what])})")
    return _rows(pair[0], pair[1], (f"{what}[0] (x)", f"{what}[1] (y)", f"{what}: x and y"))


def _not_pair(value: Any) -> str:
    """What ``value``, given where a pair (x, y) is due, is instead."""
    kind = type(value).__name__
    if not isinstance(value, (tuple, list)):
        return f"one {kind}, not a pair"
    if len(value) == 3:
        return f"a {kind} of 3 (x, y and sample weights?); search.run takes (x, y) only"
    return f"a {kind} of {len(value)}, not a pair"


def _rows(x: Any, y: Any, names: tuple[str, str, str]) -> tuple[np.ndarray, np.ndarray]:
    """Inputs ``x`` and targets ``y`` as arrays of as many rows; ``names``: how a message
    names x, y and the two together."""
    _refuse_several(x, y, names[0], targets=False)
    _refuse_several(y, x, names[1], targets=True)
    x_array, y_array = _array(x, names[0]), _array(y, names[1], targets=True)
    if len(x_array) != len(y_array):
        raise DataError(
            f"{names[2]} differ in length ({len(x_array)} vs {len(y_array)} rows); pass matching rows"
        )
    return x_array, y_array


def _parts_rows(value: Any) -> int | None:
    """The rows of each part of a list or tuple of arrays (a multi-input model's inputs)
    when they agree; None for anything else."""
    if not isinstance(value, (list, tuple)) or not value:
        return None
    shapes = [tuple(getattr(part, "shape", None) or ()) for part in value]
    if not all(shapes):
        return None
    rows = {shape[0] for shape in shapes}
    return int(rows.pop()) if len(rows) == 1 else None


def _length(value: Any) -> int | None:
    """The rows of ``value``: for a list or tuple of arrays that each have more rows than
    it has arrays, their rows (a multi-input or multi-output model's parts); else its length
    (an array's, a list of rows'); None for what has none."""
    rows = _parts_rows(value)
    if rows is not None and rows > len(value):
        return rows
    return len(value) if hasattr(value, "__len__") else None


def _refuse_several(value: Any, other: Any, what: str, targets: bool) -> None:
    """DataError for several arrays (a list, tuple or dict of them: a multi-input model's
    inputs or a multi-output model's targets) where ``search.run`` takes one. A list of
    arrays is taken as several when each has the rows of ``other`` (see ``_length``), and
    those are not as many as the arrays in the list (a list of rows, each an array, stays
    rows)."""
    if isinstance(value, Mapping):
        several = f"a dict of {len(value)} arrays ({', '.join(repr(key) for key in value)})"
    else:
        rows = _parts_rows(value)
        if rows is None or rows != _length(other) or rows == len(value):
            return
        several = f"{a_kind(value)} of {len(value)} arrays of {rows} rows each"
    if targets:
        role, fix = "a multi-output model's targets", "give the model one output"
    else:
        role = "a multi-input model's inputs"
        fix = "join them into one array (e.g. np.concatenate(parts, axis=-1)) and split it inside the model"
    raise DataError(
        f"{what}: {several} ({role}); search.run takes one array for {'y' if targets else 'x'},"
        f" which it splits and keeps in the run folder: {fix}"
    )


def _strata(y: np.ndarray) -> np.ndarray | None:
    """Class labels to stratify on: integer labels (in a column of their own too) or
    one-hot rows; None for targets."""
    if y.ndim == 2 and y.shape[1] > 1 and np.isin(y, (0, 1)).all():
        return y.argmax(axis=1)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim == 1 and np.issubdtype(y.dtype, np.integer) and len(np.unique(y)) <= MAX_CLASSES:
        return y
    return None


def _refuse_one_class(y: np.ndarray) -> None:
    """DataError for class labels (integers, or one-hot rows) of a single class."""
    labels = _strata(y)
    if labels is None or (y.ndim == 2 and y.shape[1] > 1 and not (y.sum(axis=1) == 1).all()):
        return  # values, or several labels a row
    classes = np.unique(labels)
    if len(classes) == 1:
        raise DataError(
            f"y: every label is {classes[0]} (one class); a classifier learns nothing from it: pass"
            " rows of two classes or more"
        )


def class_names(splits: Splits, outputs: int) -> tuple[str, ...]:
    """The names of a classifier's ``outputs`` classes.

    Args:
        splits: the data; its own ``class_names`` win when it has them.
        outputs: the model's outputs (the last layer's units).

    Returns:
        The data's names; else, for class labels (integers, one-hot rows) that all fit in
        ``outputs``, each class's index as text; () for other targets, and for one output
        (a sigmoid's or a value: no class each).
    """
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
    """Checked train, validation and test splits of arrays (callers refuse streams first).

    Args:
        x: the inputs (NumPy arrays, pandas frames or anything ``np.asarray`` takes).
        y: the targets, one row per row of ``x``.
        validation_data: ``(x_val, y_val)``; None: hold out ``validation_split`` of x, y.
        validation_split: the share of x, y held out when ``validation_data`` is None (stratified
            for class labels when there are no more classes than held-out rows).
        test_data: ``(x_test, y_test)``; None: empty test splits.
        seed: the seed of the held-out rows.

    Returns:
        The splits, without class names (see :func:`class_names`).

    Raises:
        DataError: an input is not one array (or pair) of finite numbers, rows or shapes differ, the
            labels are of one class, or ``validation_split`` is not in (0, 1) or leaves no rows.
    """
    x_all, y_all = _rows(x, y, ("x", "y", "x and y"))
    _refuse_one_class(y_all)
    if validation_data is not None:
        x_train, y_train = x_all, y_all
        x_val, y_val = _pair(validation_data, "validation_data")
    else:
        share = validation_split
        if isinstance(share, bool) or not isinstance(share, numbers.Real) or not 0 < share < 1:
            raise DataError(
                f"validation_split ({share!r}) must be a number between 0 and 1 (the share held"
                " out, e.g. 0.2); or pass validation_data"
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
    _same_targets(y_train, y_val, "validation_data")
    _same_targets(y_train, y_test, "test_data")
    return Splits(x_train, y_train, x_val, y_val, x_test, y_test, (), "arrays", unit="rows")


def _same_shape(x: np.ndarray, other: np.ndarray, what: str) -> None:
    if len(other) and other.shape[1:] != x.shape[1:]:
        raise DataError(
            f"{what}: rows of shape {other.shape[1:]}, but x has {x.shape[1:]}; pass rows of one shape"
        )


def _same_targets(y: np.ndarray, other: np.ndarray, what: str) -> None:
    """DataError for targets of ``what`` shaped unlike ``y``'s (a model compiled once takes
    one shape: Keras fails on the other after a search)."""
    shape = y.shape[1:]
    if not len(other) or other.shape[1:] == shape:
        return
    name = PARTS_NAMED[what][1]
    if math.prod(other.shape[1:]) == math.prod(shape):
        fix = f", e.g. {name}.reshape({', '.join(str(size) for size in (-1, *shape))})"
    else:
        fix = ": class labels in every split, or one-hot rows in every split"
    raise DataError(
        f"{what}: targets of shape {other.shape[1:]} a row, but y has {shape}; pass targets of one"
        f" shape{fix}"
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
        refuse_streams(self.x, self.y, self.validation_data, self.test_data)
        return array_splits(
            self.x, self.y, self.validation_data, self.validation_split, self.test_data, seed
        )


def save_arrays(splits: Splits, run_dir: Path) -> None:
    """Keep the splits in ``run_dir/data/`` for other processes of the run.

    Args:
        splits: the run's splits; each of its six arrays goes to a ``.npy`` file.
        run_dir: the run folder (``data/`` is created in it).
    """
    folder = run_dir / ARRAYS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    for part in PARTS:
        target = folder / f"{part}.npy"
        temporary = target.with_suffix(".tmp.npy")
        np.save(temporary, getattr(splits, part), allow_pickle=False)
        temporary.replace(target)


def missing_arrays(run_dir: Path) -> Path | None:
    """The first of the files ``run_dir``'s run on arrays kept that is not there.

    Args:
        run_dir: the run folder.

    Returns:
        The path of the first missing ``.npy`` file; None: all are there.
    """
    return next((path for path in _array_files(run_dir) if not path.is_file()), None)


def _array_files(run_dir: Path) -> list[Path]:
    """The files :func:`save_arrays` keeps in ``run_dir``, one per split."""
    return [run_dir / ARRAYS_DIR / f"{part}.npy" for part in PARTS]


def load_arrays(run_dir: Path) -> Splits:
    """The splits a run on arrays kept (:func:`save_arrays`).

    Args:
        run_dir: the run folder.

    Returns:
        The splits, without class names, their source naming ``run_dir/data``.

    Raises:
        DataError: a file is missing or damaged (one line naming it and what to do).
    """
    folder = run_dir / ARRAYS_DIR
    gone = missing_arrays(run_dir)
    if gone is not None:
        raise DataError(
            f"{gone}: missing; this run's arrays are gone, so it cannot go on in another"
            " process (resume it from Python with the same data: search.run(..., name=RUN))"
        )
    arrays = {}
    for part, path in zip(PARTS, _array_files(run_dir), strict=True):
        try:
            arrays[part] = np.load(path, allow_pickle=False)
        except (OSError, ValueError, EOFError) as exc:
            reason = str(exc).split(". ")[0].rstrip(".")
            raise DataError(
                f"{path}: not a readable NumPy array ({reason}); the file is damaged: restore it, or"
                " search again in a run of another name"
            ) from None
    return Splits(**arrays, class_names=(), source=f"arrays in {folder}", unit="rows")
