"""Arrays given from Python: what array_splits takes, and the one line it refuses with."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse

from search.data import array_splits
from search.errors import DataError

X = np.arange(80, dtype="float32").reshape(20, 4)
Y = np.arange(20) % 2


def test_a_sparse_matrix_is_named_with_its_fix() -> None:
    with pytest.raises(DataError, match=r"^x: a SciPy sparse matrix \(csr_matrix, 20x4\); .*x.toarray\(\)"):
        array_splits(scipy.sparse.csr_matrix(X), Y)
    with pytest.raises(DataError, match=r"^test_data\[0\] \(x\): a SciPy sparse matrix \(coo_array, 20x4\)"):
        array_splits(X, Y, test_data=(scipy.sparse.coo_array(X), Y))


def test_a_pair_of_another_length_or_one_array_is_named_with_its_fix() -> None:
    with pytest.raises(DataError, match=r"^validation_data: a tuple of 3 \(x, y and sample weights\?\);"
                       r" search.run takes \(x, y\)"):  # fmt: skip
        array_splits(X, Y, validation_data=(X, Y, np.ones(20)))
    with pytest.raises(DataError, match=r"^test_data: one ndarray, not a pair; pass test_data=\(x_test,"):
        array_splits(X, Y, test_data=X)


def test_targets_of_another_shape_than_ys_are_refused() -> None:
    with pytest.raises(DataError, match=r"^test_data: targets of shape \(1,\) a row, but y has \(\);"
                       r" pass targets of one shape, e.g. y_test.reshape\(-1\)"):  # fmt: skip
        array_splits(X, Y, test_data=(X, Y[:, None]))
    with pytest.raises(DataError, match=r"^validation_data: targets of shape \(\) a row, but y has \(1,\);"
                       r" .* e.g. y_val.reshape\(-1, 1\)"):  # fmt: skip
        array_splits(X, Y[:, None], validation_data=(X, Y))
    splits = array_splits(X, Y[:, None], test_data=(X, Y[:, None]))
    assert splits.y_test.shape == (20, 1)
    with pytest.raises(DataError, match=r"^test_data: targets of shape \(3,\) a row, but y has \(\); .*"
                       r": class labels in every split, or one-hot rows in every split$"):  # fmt: skip
        array_splits(X, Y, test_data=(X, np.eye(3)[Y]))


def test_labels_in_a_column_are_split_stratified_as_labels_are() -> None:
    labels = np.repeat([0, 1, 2], [50, 30, 20])
    x = np.zeros((100, 4), "float32")
    flat = array_splits(x, labels, validation_split=0.2)
    column = array_splits(x, labels[:, None], validation_split=0.2)
    assert np.bincount(flat.y_val).tolist() == [10, 6, 4]
    assert np.bincount(column.y_val[:, 0]).tolist() == [10, 6, 4]


def test_labels_of_one_class_are_refused() -> None:
    with pytest.raises(DataError, match=r"^y: every label is 2 \(one class\); a classifier learns nothing"
                       r" from it: pass rows of two classes or more$"):  # fmt: skip
        array_splits(X, np.full(20, 2))
    with pytest.raises(DataError, match=r"^y: every label is 0 \(one class\)"):
        array_splits(X, np.eye(3)[np.zeros(20, int)], validation_data=(X, np.eye(3)[Y]))
    assert len(array_splits(X, np.full(20, 2.5)).y_train) == 16  # a constant target is no label


def test_floats_beyond_float32_are_refused_before_keras_makes_them_infinite() -> None:
    huge = X.astype("float64")
    huge[3, 1] = -1e40
    with pytest.raises(DataError, match=r"^x: holds values up to 1e\+40, beyond float32's 3.4e\+38, which"
                       r" Keras trains in; rescale them first"):  # fmt: skip
        array_splits(huge, Y)
    with pytest.raises(DataError, match=r"^test_data\[1\] \(y\): holds values up to 1e\+39"):
        array_splits(X, Y.astype("float64"), test_data=(X, np.full(20, 1e39)))
    assert array_splits(huge / 1e10, Y).x_train.dtype == np.float64  # in range: taken as given


@pytest.mark.parametrize("content", [b"junk\n", b"\x93NUMPY\x01\x00"])
def test_a_kept_array_that_is_damaged_is_named(content: bytes, tmp_path) -> None:
    """A run's data/*.npy overwritten or cut short: one DataError naming the file."""
    from search.data._arrays import PARTS, load_arrays

    folder = tmp_path / "data"
    folder.mkdir()
    for part in PARTS:
        np.save(folder / f"{part}.npy", np.zeros((4, 2), np.float32))
    (folder / "x_val.npy").write_bytes(content)
    damaged = r"x_val\.npy: not a readable NumPy array \(.*\); the file is damaged"
    with pytest.raises(DataError, match=damaged):
        load_arrays(tmp_path)
