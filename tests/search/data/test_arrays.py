"""Arrays given from Python: what array_splits takes, and the one line it refuses with."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse

from search.data import ArrayData, array_splits, load_arrays, missing_arrays, parts, rows, save_arrays
from search.errors import DataError

X = np.arange(80, dtype="float32").reshape(20, 4)
Y = np.arange(20) % 2


def test_a_sparse_matrix_is_named_with_its_fix() -> None:
    with pytest.raises(DataError, match=r"^x: a SciPy sparse matrix \(csr_matrix, 20x4\); .*x.toarray\(\)"):
        array_splits(scipy.sparse.csr_matrix(X), Y)
    with pytest.raises(DataError, match=r"^test_data\[0\] \(x\): a SciPy sparse matrix \(coo_array, 20x4\)"):
        array_splits(X, Y, test_data=(scipy.sparse.coo_array(X), Y))


def test_a_pair_of_another_length_or_one_array_is_named_with_its_fix() -> None:
    with pytest.raises(DataError, match=r"^validation_data: a tuple of 4, not a pair \(x, y\) nor a triple"
                       r" \(x, y, sample_weight\); pass validation_data=\(x_val, y_val\)$"):  # fmt: skip
        array_splits(X, Y, validation_data=(X, Y, np.ones(20), None))
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


W = np.linspace(0.5, 2.0, 20)


def test_row_weights_follow_their_rows_into_each_split() -> None:
    splits = array_splits(X, Y, validation_split=0.25, sample_weight=W)
    assert splits.w_train is not None and splits.w_val is not None and splits.w_test is None
    for x, w in ((splits.x_train, splits.w_train), (splits.x_val, splits.w_val)):
        rows = (x[:, 0] / 4).astype(int)  # X's row i starts with 4 * i
        np.testing.assert_allclose(w, W[rows].astype("float32"))
    assert splits.weighted() == ["train", "validation"]
    assert splits.validation_data()[2] is splits.w_val
    assert splits.weight_keyword() == {"sample_weight": splits.w_train}


def test_validation_and_test_triples_carry_their_own_weights() -> None:
    splits = array_splits(X, Y, validation_data=(X, Y, W), test_data=(X, Y, 2 * W))
    assert splits.w_train is None and splits.weight_keyword() == {}
    np.testing.assert_allclose(splits.w_test, 2 * W)
    assert splits.weighted() == ["validation", "test"]
    plain = array_splits(X, Y, validation_data=(X, Y, None))
    assert plain.weights() == {} and len(plain.validation_data()) == 2


def test_weights_change_the_fingerprint_and_survive_the_run_folder(tmp_path) -> None:
    weighted = array_splits(X, Y, sample_weight=W)
    assert weighted.fingerprint() != array_splits(X, Y).fingerprint()
    save_arrays(weighted, tmp_path)
    kept = load_arrays(tmp_path)
    assert kept.fingerprint() == weighted.fingerprint() and kept.weighted() == ["train", "validation"]
    save_arrays(array_splits(X, Y), tmp_path)  # the same folder, now without weights
    assert load_arrays(tmp_path).weights() == {}


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        (np.ones(19), r"^sample_weight: 19 weights for 20 rows; pass one weight a row$"),
        (np.ones((20, 2)), r"^sample_weight: an array of shape \(20, 2\); pass one weight a row, shape"),
        (-W, r"^sample_weight: holds 20 negative weights; pass weights of 0 or more$"),
        (np.zeros(20), r"^sample_weight: every weight is 0, so no row counts; .* above 0$"),
        (np.array(["a"] * 20), r"^sample_weight: holds strings"),
        (np.full(20, np.nan), r"^sample_weight: holds 20 NaN or infinite values"),
        (iter(W), r"^sample_weight: an iterator"),
    ],
)
def test_bad_weights_are_named_with_their_fix(weights, message) -> None:
    with pytest.raises(DataError, match=message):
        array_splits(X, Y, sample_weight=weights)


def test_bad_weights_of_a_triple_are_named_by_their_place() -> None:
    with pytest.raises(DataError, match=r"^test_data\[2\] \(sample weights\): 3 weights for 20 rows;"):
        array_splits(X, Y, test_data=(X, Y, np.ones(3)))


def test_an_experiments_data_carries_its_weights() -> None:
    splits = ArrayData(X, Y, validation_split=0.25, sample_weight=W).splits(seed=1)
    assert splits.weighted() == ["train", "validation"] and len(splits.w_val) == 5


def test_class_weights_multiply_the_training_rows_weights_only() -> None:
    splits = array_splits(X, Y, validation_split=0.25, sample_weight=W, class_weight={1: 3.0})
    assert splits.weighted() == ["train", "validation", "classes"]
    trained = splits.weight_keyword()["sample_weight"]
    np.testing.assert_allclose(trained, splits.w_train * np.where(splits.y_train == 1, 3.0, 1.0))
    assert splits.validation_data()[2] is splits.w_val  # validation rows: their own weights only
    one_hot = array_splits(X, np.eye(2)[Y], class_weight={0: 0.5})
    expected = np.where(one_hot.y_train[:, 0] == 1, 0.5, 1)
    np.testing.assert_allclose(one_hot.weight_keyword()["sample_weight"], expected)
    soft = array_splits(X, np.stack([0.8 - 0.6 * Y, 0.2 + 0.6 * Y], 1), class_weight={0: 0.5})
    likeliest = np.where(soft.y_train[:, 0] > 0.5, 0.5, 1)  # soft labels: their likeliest class, as Keras
    np.testing.assert_allclose(soft.weight_keyword()["sample_weight"], likeliest)


def test_class_weights_survive_the_run_folder_and_change_the_fingerprint(tmp_path) -> None:
    weighted = array_splits(X, Y, class_weight={0: 2.0, 1: 0.5})
    assert weighted.fingerprint() != array_splits(X, Y, class_weight={0: 2.0}).fingerprint()
    save_arrays(weighted, tmp_path)
    assert load_arrays(tmp_path).class_weight == {0: 2.0, 1: 0.5}
    assert load_arrays(tmp_path).fingerprint() == weighted.fingerprint()


@pytest.mark.parametrize(
    ("class_weight", "y", "message"),
    [
        ([1.0, 2.0], Y, r"^class_weight: a list; pass a dict of class label to weight, e.g. \{0: 1.0"),
        ({"cat": 2.0}, Y, r"^class_weight: key 'cat' is not a class label; give the labels y holds"),
        ({0: -1.0}, Y, r"^class_weight\[0\]: -1.0; give each class a finite weight of 0 or more$"),
        ({0: float("nan")}, Y, r"^class_weight\[0\]: nan; give each class a finite weight"),
        ({0: 0, 1: 0.0}, Y, r"^class_weight: every class y holds weighs 0, so no row counts"),
        ({0: 2.0}, Y + 0.5, r"^class_weight: y holds values, not class labels .*; weigh rows with"),
        ({0: 1.0, 2: 5.0}, Y, r"^class_weight: key 2 is no label of y \(its labels run from 0 to 1\), so"),
        ({1: 1.0, 2: 5.0}, np.eye(2)[Y], r"^class_weight: key 2 is no label of y \(its labels run from 0"),
        ({0: 2.0}, np.stack([Y, Y], 1), r"^class_weight: y holds rows of several labels, or none .multi"),
        ({0: 2.0}, np.stack([Y, Y * 0.5 + 2], 1), r"^class_weight: y holds values, not class labels"),
        ({0: 2.0}, np.stack([Y, Y], 1)[:, :, None], r"^class_weight: y holds values, not class labels"),
    ],
)
def test_bad_class_weights_are_named_with_their_fix(class_weight, y, message) -> None:
    with pytest.raises(DataError, match=message):
        array_splits(X, y, class_weight=class_weight)


XA, XB = X[:, :2], X[:, 2:] * 10


@pytest.mark.parametrize("several", [[XA, XB], (XA, XB), {"a": XA, "b": XB}])
def test_a_multi_input_models_arrays_are_split_row_by_row(several) -> None:
    splits = array_splits(several, Y, validation_split=0.25, sample_weight=W)
    assert type(splits.x_train) is (dict if isinstance(several, dict) else list)
    first, second = parts(splits.x_train).values()
    np.testing.assert_array_equal(second, first * 10 + 20)  # each row's parts stay together
    rows_taken = (first[:, 0] / 4).astype(int)
    np.testing.assert_allclose(splits.w_train, W[rows_taken].astype("float32"))
    assert rows(splits.x_val) == 5 and rows(splits.x_test) == 0


@pytest.mark.parametrize("several", [[XA, XB], {"a": XA, "b": XB}])
def test_a_multi_input_run_folder_gives_back_the_same_inputs(several, tmp_path) -> None:
    splits = array_splits(several, Y, test_data=(several, Y))
    save_arrays(splits, tmp_path)
    kept = load_arrays(tmp_path)
    assert kept.fingerprint() == splits.fingerprint() and type(kept.x_test) is type(splits.x_test)
    assert list(parts(kept.x_train)) == list(parts(splits.x_train))
    (tmp_path / "data" / "x_val.1.npy").unlink()
    assert missing_arrays(tmp_path) == tmp_path / "data" / "x_val.1.npy"
    save_arrays(array_splits(X, Y), tmp_path)  # one array again: the inputs' files go
    assert not list((tmp_path / "data").glob("x_train.*.npy"))
    assert load_arrays(tmp_path).x_train.shape == (16, 4)


def test_a_multi_input_fingerprint_differs_from_its_joined_array() -> None:
    joined, named = array_splits(X, Y).fingerprint(), array_splits({"a": XA, "b": XB}, Y).fingerprint()
    assert array_splits([XA, XB], Y).fingerprint() != joined != named


@pytest.mark.parametrize(
    ("several", "data", "message"),
    [
        ({"a": XA, "b": XB[:19]}, {}, r"^x\['b'\] and y differ in length \(19 vs 20 rows\); pass matching"),
        ({"a": XA, "b": np.array(["s"] * 20)}, {}, r"^x\['b'\]: holds strings"),
        ([XA, XB], {"validation_data": (XA, Y)},
         r"^validation_data: one array as inputs, but x is a list of 2 arrays; pass inputs in x's form$"),
        ({"a": XA, "b": XB}, {"test_data": ({"a": XA, "c": XB}, Y)},
         r"^test_data: a dict of arrays 'a', 'c' as inputs, but x is a dict of arrays 'a', 'b'; pass"),
        ([XA, XB], {"test_data": ([XA, X], Y)},
         r"^test_data\[1\]: rows of shape \(4,\), but x\[1\] has \(2,\); pass rows of one shape$"),
    ],
)
def test_multi_input_arrays_that_do_not_fit_are_named(several, data, message) -> None:
    with pytest.raises(DataError, match=message):
        array_splits(several, Y, **data)


def test_dict_inputs_of_another_key_order_are_taken_in_xs_order(tmp_path) -> None:
    """Keras feeds a dict by its keys: validation and test inputs keyed alike, in another
    order, are the same inputs, kept in x's order so that each array keeps its name."""
    val, test = {"b": XB[:6], "a": XA[:6]}, {"b": XB[6:], "a": XA[6:]}
    splits = array_splits({"a": XA, "b": XB}, Y, validation_data=(val, Y[:6]), test_data=(test, Y[6:]))
    assert list(splits.x_val) == list(splits.x_test) == ["a", "b"]
    save_arrays(splits, tmp_path)
    kept = load_arrays(tmp_path)
    for x, given in ((kept.x_val, val), (kept.x_test, test)):
        assert all(np.array_equal(x[name], given[name]) for name in ("a", "b"))


@pytest.mark.parametrize(
    ("x", "message"),
    [
        ({}, r"^x: an empty dict; pass one array per input of the model, keyed by its name$"),
        ([XA, XB[:19]], r"^x\[1\] and y differ in length \(19 vs 20 rows\); pass matching rows$"),
        ((XA[:18], XB[:19]), r"^x\[0\] and y differ in length \(18 vs 20 rows\); pass matching rows$"),
    ],
)
def test_inputs_of_no_array_or_of_unequal_rows_are_named(x, message) -> None:
    with pytest.raises(DataError, match=message):
        array_splits(x, Y)
    with pytest.raises(DataError, match=r"^test_data\[0\] \(x\)\[1\] and test_data\[1\] \(y\) differ"):
        array_splits([XA, XB], Y, test_data=([XA, XB[:19]], Y))


def test_a_split_that_leaves_one_side_weighing_nothing_is_refused() -> None:
    held = array_splits(X, Y, validation_split=0.25).x_val[:, 0] / 4  # the rows held out
    only_held, only_kept = np.zeros(20), np.ones(20)
    only_held[held.astype(int)], only_kept[held.astype(int)] = 1.0, 0.0
    with pytest.raises(DataError, match=r"^sample_weight: every training row weighs 0 once validation_split"
                       r" held out its 5 rows \(the rows above 0 all went to validation\)"):  # fmt: skip
        array_splits(X, Y, validation_split=0.25, sample_weight=only_held)
    with pytest.raises(DataError, match=r"^sample_weight: every one of the 5 validation rows validation_split"
                       r" held out weighs 0, so validation measures nothing; give more rows"):  # fmt: skip
        array_splits(X, Y, validation_split=0.25, sample_weight=only_kept)
    with pytest.raises(DataError, match=r"^class_weight: every training row with a sample_weight above 0 is"
                       r" of a class that weighs 0, so no row counts"):  # fmt: skip
        array_splits(X, Y, validation_data=(X, Y), sample_weight=Y, class_weight={1: 0.0})


def test_dataframes_of_other_columns_than_xs_are_refused() -> None:
    """Keras reads a DataFrame's columns by position: validation rows of x's columns in
    another order were validated with one feature read as another, silently."""
    x = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    reordered = (r"^validation_data: a DataFrame of x's columns in another order \('d', 'c', 'b', 'a';"
                 r" x has 'a', 'b', 'c', 'd'\), .*; pass x_val\[x.columns\]$")  # fmt: skip
    with pytest.raises(DataError, match=reordered):
        array_splits(x, Y, validation_data=(x[["d", "c", "b", "a"]], Y))
    renamed = x.set_axis(["w", "x", "y", "z"], axis=1)
    other = (r"^test_data: a DataFrame of other columns than x's \('w', 'x', 'y', 'z'; x has 'a', .*"
             r"x_test.to_numpy\(\) to feed these by position\)$")  # fmt: skip
    with pytest.raises(DataError, match=other):
        array_splits(x, Y, test_data=(renamed, Y))
    splits = array_splits(x, Y, validation_data=(x[::-1], Y[::-1]), test_data=(renamed.to_numpy(), Y))
    np.testing.assert_array_equal(splits.x_val, X[::-1])


def test_columns_named_alike_but_of_another_type_are_other_columns() -> None:
    """Columns 0, 1, 2, 3 against '0', '1', '2', '3' are other columns, not x's in another
    order: ``x_val[x.columns]``, the fix for a reordering, would raise a KeyError."""
    x = pd.DataFrame(X)
    texts = x.set_axis(["0", "1", "2", "3"], axis=1)
    other = (r"^validation_data: a DataFrame of other columns than x's"
             r" \('0', '1', '2', '3'; x has 0, 1, 2, 3\)")  # fmt: skip
    with pytest.raises(DataError, match=other):
        array_splits(x, Y, validation_data=(texts, Y))
