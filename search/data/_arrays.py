"""Arrays given from Python: checked, split, and kept in the run folder for other processes.

A run on arrays keeps them in ``RUN/data/`` (NumPy ``.npy`` files), so that ``resume`` in
a new process, workers and ``--isolate`` trial processes read exactly the same split.
"""

from __future__ import annotations

import math
import numbers
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeAlias

import numpy as np

from search._text import a_kind, plural
from search.data._dataset import Splits
from search.data._inputs import Inputs, form_words, parts, row_shapes, rows, take
from search.data._split import split_off
from search.errors import DataError
from search.storage import ARRAYS_DIR

PARTS = ("x_train", "y_train", "x_val", "y_val", "x_test", "y_test")
WEIGHTS = ("w_train", "w_val", "w_test")
"""The row weights a run keeps beside ``PARTS`` when they were given."""
CLASS_WEIGHT = "class_weight"
"""The file (``.npy``, rows of label and weight) a run keeps its ``class_weight`` in."""
INPUTS = "inputs"
"""The file naming a multi-input run's inputs: their form (``list`` or ``dict``), then
each array's name, in the order of the ``x_train.0.npy``, ``x_train.1.npy``... files."""
MAX_CLASSES = 1000
"""Integer labels with at most this many distinct values are split stratified."""
FLOAT32_MAX = float(np.finfo(np.float32).max)
FLOAT32_BYTES = 4
MIN_CLASSES = 2
"""The fewest outputs of a model that gives one probability per class."""
VALIDATION_SPLIT = 0.2
"""The share of x held out for validation where no ``validation_data`` is given."""
SHOWN_COLUMNS = 5
"""How many column names a message about a DataFrame's columns shows."""
PROBABILITY_SUM = 1e-3
"""How far from 1 a row of class probabilities (soft labels) may sum, for rounding."""


_Rows: TypeAlias = "tuple[Inputs, np.ndarray, np.ndarray | None]"
"""Inputs, their targets and their weights (None: rows weigh alike)."""


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
        if isinstance(pair, (tuple, list)) and len(pair) in (2, 3):
            for index, part in enumerate(pair[:2]):
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
        raise DataError(f"{what}: {_not_numbers(array, targets)}")
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


def _not_numbers(array: np.ndarray, targets: bool) -> str:
    """What ``array`` holds instead of real numbers, and the fix."""
    dtype, first = array.dtype, next(iter(array.flat), None)
    strings = dtype.kind in "US" or (dtype.kind == "O" and isinstance(first, (str, bytes)))
    if strings and targets:
        return (
            f"holds strings ({dtype}); encode the labels as integers first, by one mapping for"
            " every split, e.g. classes = np.unique(np.concatenate([y, y_val, y_test])), then"
            " np.searchsorted(classes, labels) for each split's labels"
        )
    if strings:
        return f"holds strings ({dtype}); pass numbers (encode text or categories first)"
    if dtype.kind == "c":
        return f"holds complex numbers ({dtype}); pass real numbers (e.g. np.real(x), np.abs(x))"
    if dtype.kind == "O":
        return f"holds Python objects ({dtype}, e.g. {type(first).__name__}); pass numeric NumPy arrays"
    return f"holds {dtype} values; pass numbers"


def _pair(pair: Any, what: str) -> _Rows:
    """``what``'s ``(x, y)`` or ``(x, y, sample_weight)`` as arrays (None: no weights)."""
    if not isinstance(pair, (tuple, list)) or len(pair) not in (2, 3):
        raise DataError(f"{what}: {_not_pair(pair)}; pass {what}=({', '.join(PARTS_NAMED[what])})")
    x, y = _rows(pair[0], pair[1], (f"{what}[0] (x)", f"{what}[1] (y)", f"{what}: x and y"))
    if len(pair) == 2 or pair[2] is None:
        return x, y, None
    return x, y, _weights(pair[2], len(y), f"{what}[2] (sample weights)")


def _not_pair(value: Any) -> str:
    """What ``value``, given where a pair (x, y) is due, is instead."""
    kind = type(value).__name__
    if not isinstance(value, (tuple, list)):
        return f"one {kind}, not a pair"
    return f"a {kind} of {len(value)}, not a pair (x, y) nor a triple (x, y, sample_weight)"


def _weights(value: Any, rows: int, what: str) -> np.ndarray:
    """``value`` as one finite weight of 0 or more for each of ``rows`` rows (float32, as
    Keras weighs the loss); DataError naming ``what`` and the fix otherwise."""
    _refuse_stream(value, what, (what,))
    weights = _array(value, what)
    if weights.ndim == 2 and weights.shape[1] == 1:
        weights = weights[:, 0]
    if weights.ndim != 1:
        raise DataError(f"{what}: an array of shape {weights.shape}; pass one weight a row, shape ({rows},)")
    if len(weights) != rows:
        raise DataError(f"{what}: {len(weights)} weights for {rows} rows; pass one weight a row")
    negative = int((weights < 0).sum())
    if negative:
        raise DataError(f"{what}: holds {plural(negative, 'negative weight')}; pass weights of 0 or more")
    if not weights.any():
        raise DataError(
            f"{what}: every weight is 0, so no row counts; give the rows that count a weight above 0"
        )
    return weights.astype(np.float32)


def _rows(x: Any, y: Any, names: tuple[str, str, str]) -> tuple[Inputs, np.ndarray]:
    """Inputs ``x`` (one array, or a multi-input model's list or dict of them) and targets
    ``y`` as arrays of as many rows; ``names``: how a message names x, y and the two together."""
    _refuse_several(y, x, names[1])
    if isinstance(x, Mapping) and not x:
        raise DataError(
            f"{names[0]}: an empty dict; pass one array per input of the model, keyed by its name"
        )
    if isinstance(x, Mapping) or _several(x, y) or _uneven(x, y):
        keyed = x.items() if isinstance(x, Mapping) else enumerate(x)
        arrays = {key: _array(part, f"{names[0]}[{key!r}]") for key, part in keyed}
        y_array = _array(y, names[1], targets=True)
        for key, array in arrays.items():
            _same_length(array, y_array, (f"{names[0]}[{key!r}]", names[1]))
        if isinstance(x, Mapping):
            return {str(key): array for key, array in arrays.items()}, y_array
        return list(arrays.values()), y_array
    x_array, y_array = _array(x, names[0]), _array(y, names[1], targets=True)
    _same_length(x_array, y_array, (names[2], ""))
    return x_array, y_array


def _same_length(x: np.ndarray, y: np.ndarray, names: tuple[str, str]) -> None:
    """DataError for an input array of another length than the targets ``y``; ``names``:
    the input's and the targets' (empty: the first names both)."""
    if len(x) != len(y):
        both = f"{names[0]} and {names[1]}" if names[1] else names[0]
        raise DataError(f"{both} differ in length ({len(x)} vs {len(y)} rows); pass matching rows")


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


def _several(value: Any, other: Any) -> bool:
    """Whether ``value`` is a list or tuple of several arrays (a multi-input model's inputs,
    a multi-output model's targets): each has the rows of ``other`` (see ``_length``), and
    those are not as many as the arrays in the list (a list of rows, each an array, stays
    rows)."""
    rows = _parts_rows(value)
    return rows is not None and rows == _length(other) and rows != len(value)


def _uneven(value: Any, other: Any) -> bool:
    """Whether ``value`` is a list or tuple of arrays of unequal rows, not one per row of
    ``other``: a multi-input model's inputs, one of another length (as one array, NumPy
    would refuse them as inhomogeneous, naming none)."""
    if not isinstance(value, (list, tuple)) or len(value) == _length(other):
        return False
    shapes = [tuple(getattr(part, "shape", None) or ()) for part in value]
    return all(shapes) and len({shape[0] for shape in shapes}) > 1


def _refuse_several(value: Any, other: Any, what: str) -> None:
    """DataError for several arrays (a list, tuple or dict of them: a multi-output model's
    targets) where ``search.run`` takes one for y."""
    if isinstance(value, Mapping):
        several = f"a dict of {len(value)} arrays ({', '.join(repr(key) for key in value)})"
    elif _several(value, other):
        several = f"{a_kind(value)} of {len(value)} arrays of {_parts_rows(value)} rows each"
    else:
        return
    raise DataError(
        f"{what}: {several} (a multi-output model's targets); search.run takes one array for y,"
        " which it splits and keeps in the run folder: give the model one output"
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
    validation_split: float = VALIDATION_SPLIT,
    test_data: Any = None,
    seed: int = 0,
    sample_weight: Any = None,
    class_weight: Any = None,
) -> Splits:
    """Checked train, validation and test splits of arrays (callers refuse streams first).

    Args:
        x: the inputs (NumPy arrays, pandas frames or anything ``np.asarray`` takes).
        y: the targets, one row per row of ``x``.
        validation_data: ``(x_val, y_val)`` or ``(x_val, y_val, val_sample_weight)``; None:
            hold out ``validation_split`` of x, y (and of ``sample_weight``).
        validation_split: the share of x, y held out when ``validation_data`` is None (stratified
            for class labels when there are no more classes than held-out rows).
        test_data: ``(x_test, y_test)`` or ``(x_test, y_test, test_sample_weight)``; None:
            empty test splits.
        seed: the seed of the held-out rows.
        sample_weight: a weight of 0 or more per row of x, as ``model.fit`` takes it; None:
            rows weigh alike.
        class_weight: a weight of 0 or more per class label of y, for the training rows, as
            ``model.fit`` takes it (a class without one weighs 1); None: classes weigh alike.

    Returns:
        The splits, without class names (see :func:`class_names`).

    Raises:
        DataError: an input is not one array (or pair) of finite numbers, rows or shapes differ, the
            labels are of one class, a weight is negative or not one a row (or class), or
            ``validation_split`` is not in (0, 1) or leaves no rows.
    """
    _refuse_other_columns(x, validation_data, "validation_data")
    _refuse_other_columns(x, test_data, "test_data")
    x_all, y_all = _rows(x, y, ("x", "y", "x and y"))
    w_all = None if sample_weight is None else _weights(sample_weight, len(y_all), "sample_weight")
    classes = None if class_weight is None else _class_weight(class_weight, y_all)
    _refuse_one_class(y_all)
    (x_train, y_train, w_train), (x_val, y_val, w_val) = _train_and_validation(
        (x_all, y_all, w_all), validation_data, validation_split, seed
    )
    if test_data is not None:
        x_test, y_test, w_test = _pair(test_data, "test_data")
    else:
        x_test, y_test, w_test = take(x_all, slice(0)), y_all[:0], None
    x_val, x_test = _in_order_of(x_train, x_val), _in_order_of(x_train, x_test)
    _same_shape(x_train, x_val, "validation_data")
    _same_shape(x_train, x_test, "test_data")
    _same_targets(y_train, y_val, "validation_data")
    _same_targets(y_train, y_test, "test_data")
    splits = Splits(
        x_train, y_train, x_val, y_val, x_test, y_test, (), "arrays", unit="rows",
        w_train=w_train, w_val=w_val, w_test=w_test, class_weight=classes,
    )  # fmt: skip
    _refuse_weightless(splits)
    return splits


def _columns(value: Any) -> list[Any] | None:
    """A pandas DataFrame's column names; None for anything else (duck-typed)."""
    if type(value).__module__.startswith("pandas") and hasattr(value, "columns"):
        return list(value.columns)
    return None


def _refuse_other_columns(x: Any, pair: Any, what: str) -> None:
    """DataError where ``x`` and the inputs of ``pair`` (``what``'s) are DataFrames of other
    columns, or of the same in another order: Keras reads columns by position, so the model
    would take one feature for another."""
    mine = _columns(x)
    theirs = _columns(pair[0]) if isinstance(pair, (tuple, list)) and pair else None
    if mine is None or theirs is None or mine == theirs:
        return
    name, listed = PARTS_NAMED[what][0], f"{_shown_columns(theirs)}; x has {_shown_columns(mine)}"
    if _same_names(mine, theirs):
        raise DataError(
            f"{what}: a DataFrame of x's columns in another order ({listed}), which the model"
            f" reads by position, one feature as another; pass {name}[x.columns]"
        )
    raise DataError(
        f"{what}: a DataFrame of other columns than x's ({listed}), which the model reads by"
        f" position; pass the columns x has, in x's order (or {name}.to_numpy() to feed these"
        " by position)"
    )


def _same_names(mine: list[Any], theirs: list[Any]) -> bool:
    """Whether two lists hold the same column names, each as often, in any order; compared
    as they are, so the column 0 is not the column '0' (``x_val[x.columns]`` would not find
    it)."""
    return Counter(mine) == Counter(theirs)  # pandas' labels are hashable


def _shown_columns(names: list[Any]) -> str:
    """The first ``SHOWN_COLUMNS`` column names, for a message."""
    shown = ", ".join(repr(name) for name in names[:SHOWN_COLUMNS])
    return shown + (", ..." if len(names) > SHOWN_COLUMNS else "")


def _train_and_validation(
    given: _Rows, validation_data: Any, validation_split: float, seed: int
) -> tuple[_Rows, _Rows]:
    """The training and validation rows: all of ``given`` and ``validation_data``'s, or a
    seeded ``validation_split`` of ``given``'s rows held out (their weights with them)."""
    x_all, y_all, w_all = given
    if validation_data is not None and validation_split != VALIDATION_SPLIT:
        raise DataError(
            f"validation_split ({validation_split!r}) is the share of x held out where no"
            " validation_data is given; with validation_data every row of x trains, so it would"
            " change nothing: leave out validation_split, or validation_data"
        )
    if validation_data is not None:
        return given, _pair(validation_data, "validation_data")
    rest, held = _held_out(y_all, validation_split, seed)
    w_train, w_val = (None, None) if w_all is None else (w_all[rest], w_all[held])
    return (take(x_all, rest), y_all[rest], w_train), (take(x_all, held), y_all[held], w_val)


def _refuse_weightless(splits: Splits) -> None:
    """DataError where every training row weighs 0 (its own weight times its class's), or
    every validation row: the rows above 0 all went to the other side of the validation
    split, or are all of classes that weigh 0. The training would learn nothing, or the
    validation measure nothing."""
    fix = "give more rows a weight above 0, or pass validation_data"
    if splits.w_train is not None and not splits.w_train.any():
        raise DataError(
            f"sample_weight: every training row weighs 0 once validation_split held out its"
            f" {len(splits.y_val)} rows (the rows above 0 all went to validation); {fix}"
        )
    trained = splits.training_weights(splits.y_train, splits.w_train)
    if trained is not None and not trained.any():
        raise DataError(
            "class_weight: every training row with a sample_weight above 0 is of a class that"
            " weighs 0, so no row counts; give one of those classes a weight above 0"
        )
    if splits.w_val is not None and not splits.w_val.any():
        raise DataError(
            f"sample_weight: every one of the {len(splits.y_val)} validation rows validation_split"
            f" held out weighs 0, so validation measures nothing; {fix}"
        )


def _class_weight(value: Any, y: np.ndarray) -> dict[int, float]:
    """``value`` as ``model.fit``'s ``class_weight`` for the class labels ``y`` (integers,
    whole floats or one-hot rows); DataError naming the key or value and the fix otherwise."""
    if not isinstance(value, Mapping) or not value:
        raise DataError(
            f"class_weight: {a_kind(value)}; pass a dict of class label to weight, e.g. {{0: 1.0, 1: 5.0}}"
        )
    labels = _class_labels(y)
    top = y.shape[1] - 1 if y.ndim == 2 and y.shape[1] > 1 else int(labels.max())
    weights = {}
    for label, weight in value.items():
        if isinstance(label, bool) or not isinstance(label, numbers.Integral) or label < 0:
            raise DataError(
                f"class_weight: key {label!r} is not a class label; give the labels y holds, 0, 1, ..."
            )
        if int(label) > top:
            raise DataError(
                f"class_weight: key {label!r} is no label of y (its labels run from 0 to {top}), so it"
                " weighs no row; give the labels y holds (counted from 0), or drop the key"
            )
        number = isinstance(weight, numbers.Real) and not isinstance(weight, bool)
        if not number or not 0 <= float(weight) < math.inf:
            raise DataError(
                f"class_weight[{label}]: {weight!r}; give each class a finite weight of 0 or more"
            )
        weights[int(label)] = float(weight)
    if not any(weights.get(int(label), 1.0) for label in np.unique(labels)):
        raise DataError(
            "class_weight: every class y holds weighs 0, so no row counts; give one a weight above 0"
        )
    return weights


def _class_labels(y: np.ndarray) -> np.ndarray:
    """The class label of each row of ``y`` (integers, whole floats, one-hot rows, or rows of
    class probabilities: their likeliest class, as Keras takes them), as ``class_weight``
    weighs the rows; DataError for targets of no single class a row (values,
    several labels a row), which no class's weight can weigh."""
    rows = y.ndim == 2 and y.shape[1] > 1
    if rows and np.isin(y, (0, 1)).all() and not (y.sum(axis=1) == 1).all():
        raise DataError(
            "class_weight: y holds rows of several labels, or none (multi-label), not one class a"
            " row; weigh rows with sample_weight instead"
        )
    rows_of_labels = rows and bool((y >= 0).all()) and np.allclose(y.sum(axis=1), 1.0, atol=PROBABILITY_SUM)
    labels = y.argmax(axis=1) if rows_of_labels else y.reshape(-1)
    whole = labels.dtype.kind != "f" or np.array_equal(labels, np.round(labels))
    if len(labels) != len(y) or not whole or labels.min() < 0:
        raise DataError(
            "class_weight: y holds values, not class labels (integers 0, 1, ... or one-hot rows);"
            " weigh rows with sample_weight instead"
        )
    return labels


def _held_out(y: np.ndarray, share: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The rows kept for training and the ``share`` of ``y``'s rows held out for validation
    (stratified for class labels when there are no more classes than held-out rows)."""
    if isinstance(share, bool) or not isinstance(share, numbers.Real) or not 0 < share < 1:
        raise DataError(
            f"validation_split ({share!r}) must be a number between 0 and 1 (the share held"
            " out, e.g. 0.2); or pass validation_data"
        )
    size = round(len(y) * share)
    if not 1 <= size < len(y):
        raise DataError(
            f"validation_split {share} of {len(y)} rows leaves no"
            " training or validation rows; pass more rows or validation_data"
        )
    strata = _strata(y)
    if strata is not None and len(np.unique(strata)) <= size:
        return split_off(strata, size, seed)
    order = np.random.default_rng(seed).permutation(len(y))
    return order[size:], order[:size]


def _in_order_of(x: Inputs, other: Inputs) -> Inputs:
    """``other``'s arrays in the order of ``x``'s keys where both are dicts of the same keys
    (Keras feeds a dict by its keys, whatever their order; the run folder keeps one order for
    every split); ``other`` as it is otherwise."""
    if isinstance(x, dict) and isinstance(other, dict) and sorted(x) == sorted(other):
        return {key: other[key] for key in x}
    return other


def _same_shape(x: Inputs, other: Inputs, what: str) -> None:
    """DataError for inputs of ``what`` shaped unlike ``x``'s: other arrays (names, count)
    for a multi-input model, or rows of another shape."""
    shapes, others = row_shapes(x), row_shapes(other)
    if list(others) != list(shapes):
        raise DataError(
            f"{what}: {form_words(other)} as inputs, but x is {form_words(x)}; pass inputs in x's form"
        )
    if not rows(other):
        return
    for name, shape in shapes.items():
        if others[name] != shape:
            where = "" if not name else f"[{name}]" if isinstance(x, list) else f"[{name!r}]"
            raise DataError(
                f"{what}{where}: rows of shape {others[name]}, but x{where} has {shape};"
                " pass rows of one shape"
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
        validation_data: ``(x_val, y_val)`` or ``(x_val, y_val, val_sample_weight)``; None:
            a seeded ``validation_split`` of x, y (stratified for class labels).
        test_data: ``(x_test, y_test)`` or ``(x_test, y_test, test_sample_weight)``,
            evaluated once by the final model; never used to choose.
        validation_split: the share of x, y held out when validation_data is None.
        sample_weight: a weight of 0 or more per row of x (``model.fit``'s); None: rows
            weigh alike. ``validation_data`` and ``test_data`` may hold their own as a
            third part.
        class_weight: a weight of 0 or more per class label of y, for the training rows
            (``model.fit``'s); None: classes weigh alike.
    """

    x: Any
    y: Any
    validation_data: Any = None
    test_data: Any = None
    validation_split: float = VALIDATION_SPLIT
    sample_weight: Any = None
    class_weight: Any = None

    def splits(self, seed: int = 0) -> Splits:
        """The train, validation and test splits (checked: DataError on bad input)."""
        refuse_streams(self.x, self.y, self.validation_data, self.test_data)
        return array_splits(
            self.x, self.y, self.validation_data, self.validation_split, self.test_data, seed,
            self.sample_weight, self.class_weight,
        )  # fmt: skip


def save_arrays(splits: Splits, run_dir: Path) -> None:
    """Keep the splits in ``run_dir/data/`` for other processes of the run.

    Args:
        splits: the run's splits; each of its arrays (each input of a multi-input model's),
            and its weights where given, goes to a ``.npy`` file.
        run_dir: the run folder (``data/`` is created in it).
    """
    folder = run_dir / ARRAYS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    files = _files_of(splits)
    for stem, array in files.items():
        target = folder / f"{stem}.npy"
        temporary = target.with_suffix(".tmp.npy")
        np.save(temporary, array, allow_pickle=False)
        temporary.replace(target)
    for path in folder.glob("*.npy"):
        if path.stem not in files:  # another data's, from a run of the same name
            path.unlink(missing_ok=True)


def _files_of(splits: Splits) -> dict[str, np.ndarray]:
    """The arrays :func:`save_arrays` keeps, by file name (without ``.npy``)."""
    files: dict[str, np.ndarray] = {}
    for part in PARTS:
        value = getattr(splits, part)
        if isinstance(value, np.ndarray):
            files[part] = value
            continue
        for index, array in enumerate(parts(value).values()):
            files[f"{part}.{index}"] = array
        files[INPUTS] = np.array(["dict" if isinstance(value, dict) else "list", *parts(value)])
    files.update(splits.weights())
    if splits.class_weight is not None:
        files[CLASS_WEIGHT] = np.array(sorted(splits.class_weight.items()), np.float64)
    return files


def missing_arrays(run_dir: Path) -> Path | None:
    """The first of the files ``run_dir``'s run on arrays kept that is not there.

    Args:
        run_dir: the run folder.

    Returns:
        The path of the first missing ``.npy`` file; None: all are there.
    """
    files = [path for paths in _array_files(run_dir).values() for path in paths]
    return next((path for path in files if not path.is_file()), None)


def _array_files(run_dir: Path) -> dict[str, list[Path]]:
    """The files :func:`save_arrays` keeps in ``run_dir`` for each split: one, or one per
    input of a multi-input model's (as its ``inputs.npy`` names them)."""
    folder = run_dir / ARRAYS_DIR
    names = _input_form(folder)[1]
    return {
        part: [folder / f"{part}.{index}.npy" for index in range(len(names))]
        if names and part.startswith("x_") else [folder / f"{part}.npy"]
        for part in PARTS
    }  # fmt: skip


def _input_form(folder: Path) -> tuple[str, list[str]]:
    """A multi-input run's form of inputs (``list`` or ``dict``) and their names;
    ``("", [])`` for a run on one array."""
    path = folder / f"{INPUTS}.npy"
    if not path.is_file():
        return "", []
    form, *names = (str(name) for name in _load(path))
    return form, names


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
    form, names = _input_form(folder)
    arrays: dict[str, Any] = {}
    for part, paths in _array_files(run_dir).items():
        loaded = [_load(path) for path in paths]
        if not names or not part.startswith("x_"):
            arrays[part] = loaded[0]
        else:
            arrays[part] = dict(zip(names, loaded, strict=True)) if form == "dict" else loaded
    for part in WEIGHTS:
        path = folder / f"{part}.npy"
        if path.is_file():
            arrays[part] = _load(path)
    path = folder / f"{CLASS_WEIGHT}.npy"
    classes = {int(label): float(weight) for label, weight in _load(path)} if path.is_file() else None
    return Splits(**arrays, class_weight=classes, class_names=(), source=f"arrays in {folder}", unit="rows")


def _load(path: Path) -> np.ndarray:
    """The array kept in ``path``; DataError for a damaged file."""
    try:
        return np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as exc:
        reason = str(exc).split(". ")[0].rstrip(".")
        raise DataError(
            f"{path}: not a readable NumPy array ({reason}); the file is damaged: restore it, or"
            " search again in a run of another name"
        ) from None
