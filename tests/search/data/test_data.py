from __future__ import annotations

import gzip
import re
from pathlib import Path

import numpy as np
import pytest

from search.data import load_fashion, locate, read_idx, stratified_indices
from search.errors import DataError
from tests.conftest import idx_bytes, write_idx


def test_read_idx_roundtrip_plain_and_gzip(tmp_path: Path) -> None:
    array = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    plain = write_idx(tmp_path / "a", array, compress=False)
    packed = write_idx(tmp_path / "b", array)
    np.testing.assert_array_equal(read_idx(plain, (2, 3, 4), "fix"), array)
    np.testing.assert_array_equal(read_idx(packed, (2, 3, 4), "fix"), array)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x00\x00", "truncated (2 bytes"),
        (b"\x00\x00\x0d\x03" + b"\x00" * 12, "not an unsigned-byte IDX file"),
        (idx_bytes(np.zeros((2, 3), np.uint8)), "2-dimensional array, expected 3"),
        (idx_bytes(np.zeros((2, 3, 5), np.uint8)), "shape (2, 3, 5), expected (2, 3, 4)"),
        (idx_bytes(np.zeros((2, 3, 4), np.uint8))[:-5], "19 bytes of data, expected 24"),
        (b"\x1f\x8b" + b"garbage" * 10, "cannot be read or decompressed"),
    ],
)
def test_read_idx_names_path_problem_and_fix(tmp_path: Path, data: bytes, message: str) -> None:
    path = tmp_path / "bad-idx"
    path.write_bytes(data)
    with pytest.raises(DataError) as info:
        read_idx(path, (2, 3, 4), "fix: apt-get install x")
    text = str(info.value)
    assert str(path) in text and message in text and "apt-get install x" in text


def test_stratified_indices_exact_counts_and_determinism() -> None:
    labels = np.repeat(np.arange(3), [50, 30, 20])
    chosen = stratified_indices(labels, 10, seed=1)
    assert np.bincount(labels[chosen]).tolist() == [5, 3, 2]
    assert len(set(chosen.tolist())) == 10
    np.testing.assert_array_equal(chosen, stratified_indices(labels, 10, seed=1))
    assert not np.array_equal(chosen, stratified_indices(labels, 10, seed=2))


def test_load_fashion_splits_are_stratified_and_disjoint(synthetic_fashion: Path) -> None:
    splits = load_fashion(synthetic_fashion, val_size=1000, train_size=500, seed=3)
    assert splits.x_train.shape == (500, 28, 28, 1) and splits.x_val.shape == (1000, 28, 28, 1)
    assert splits.x_test.shape == (10000, 28, 28, 1)
    assert np.bincount(splits.y_val).tolist() == [100] * 10
    assert np.bincount(splits.y_train).tolist() == [50] * 10
    # Image pixels encode the label in the synthetic files: rows stay aligned.
    assert (splits.x_train[:, 0, 0, 0] == splits.y_train * 20).all()
    assert splits.x_full is not None and len(splits.x_full) == 60000
    again = load_fashion(synthetic_fashion, val_size=1000, train_size=500, seed=3)
    np.testing.assert_array_equal(again.y_train, splits.y_train)


def test_validation_never_overlaps_training(synthetic_fashion: Path) -> None:
    import search.data._fashion as fashion

    arrays = fashion.read_folder(synthetic_fashion)
    rest, held = fashion.split_off(arrays["y_train"], 10000, seed=0)
    assert len(rest) == 50000 and len(held) == 10000
    assert not set(rest.tolist()) & set(held.tolist())


def test_missing_files_are_listed(tmp_path: Path) -> None:
    write_idx(tmp_path / "train-labels-idx1-ubyte", np.zeros(60000, np.uint8))
    with pytest.raises(DataError) as info:
        load_fashion(tmp_path)
    text = str(info.value)
    assert "missing train-images-idx3-ubyte.gz" in text
    assert "apt-get install dataset-fashion-mnist" in text and "pass data_dir" in text


def test_label_out_of_range_is_refused(tmp_path: Path, synthetic_fashion: Path) -> None:
    for path in synthetic_fashion.iterdir():
        (tmp_path / path.name).write_bytes(path.read_bytes())
    labels = np.full(10000, 11, np.uint8)
    (tmp_path / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(idx_bytes(labels)))
    with pytest.raises(DataError, match="label 11 found"):
        load_fashion(tmp_path)


def test_locate_order_and_errors(tmp_path: Path, synthetic_fashion: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    assert locate(None, [empty, synthetic_fashion], download=False) == synthetic_fashion
    with pytest.raises(DataError, match="holds none of the Fashion-MNIST IDX files"):
        locate(empty)
    with pytest.raises(DataError, match="is not a folder"):
        locate(tmp_path / "nowhere")
    with pytest.raises(DataError, match="not found in"):
        locate(None, [empty], download=False)


def test_keras_home_is_searched_first(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from search.data._fashion import default_locations

    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    assert default_locations()[0] == tmp_path / "datasets" / "fashion-mnist"


def test_sizes_out_of_range(synthetic_fashion: Path) -> None:
    with pytest.raises(DataError, match="^val_size"):
        load_fashion(synthetic_fashion, val_size=60000)
    with pytest.raises(DataError, match="^train_size"):
        load_fashion(synthetic_fashion, val_size=10000, train_size=50001)


@pytest.mark.parametrize(
    ("sizes", "message"),
    [({"val_size": 9}, "val_size (9) must be between 10 (one image of each class) and"),
     ({"val_size": 59995}, "val_size (59995) must be between 10 (one image of each class) and 59990"
      " (one image of each class left to train on)"),
     ({"val_size": 100, "train_size": 5}, "train_size (5) must be between 10 (one image of each class)"
      " and 59900 (60,000 minus the 100 validation images)")],
)  # fmt: skip
def test_a_subset_too_small_for_every_class_is_refused(
    synthetic_fashion: Path, sizes: dict[str, int], message: str
) -> None:
    with pytest.raises(DataError, match=f"^{re.escape(message)}"):
        load_fashion(synthetic_fashion, **sizes)
