"""The image-folder loader: split and class checks, unreadable files, the decoded cache."""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest

from search.data import SkippedImagesWarning, load_clothing, load_image_folders, scan
from search.errors import DataError

FIX = "the fix"


def test_splits_and_classes_are_read(clothing_dir: Path) -> None:
    folders = scan(clothing_dir, FIX)
    assert folders.class_names == ("hat", "pants", "shoes")
    assert len(folders.files["train"]) == 31 and len(folders.files["test"]) == 12


def test_missing_split_is_named_with_the_fix(clothing_dir: Path) -> None:
    shutil.rmtree(clothing_dir / "validation")
    with pytest.raises(DataError, match=r"missing the split folder\(s\) validation.*the fix"):
        scan(clothing_dir, FIX)


def test_missing_root_is_named_with_the_fix(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=rf"{tmp_path / 'nope'}: no such folder; the fix"):
        scan(tmp_path / "nope", FIX)


def test_class_lists_must_agree(clothing_dir: Path) -> None:
    shutil.rmtree(clothing_dir / "test" / "shoes")
    (clothing_dir / "test" / "socks").mkdir()
    with pytest.raises(DataError, match="missing here: shoes; not in train: socks"):
        scan(clothing_dir, FIX)


def test_empty_class_is_refused(clothing_dir: Path) -> None:
    for image in (clothing_dir / "train" / "pants").iterdir():
        image.unlink()
    with pytest.raises(DataError, match=r"train/pants: no images"):
        scan(clothing_dir, FIX)


def test_unreadable_image_is_skipped_with_a_warning(clothing_dir: Path) -> None:
    with pytest.warns(SkippedImagesWarning, match=r"skipped 1 unreadable image\(s\) of 55") as caught:
        _, splits = load_image_folders(clothing_dir, 24, FIX)
    assert "broken.jpg" in str(caught[0].message)
    assert splits["train"].x.shape == (30, 24, 24, 3) and splits["train"].x.dtype == np.uint8
    assert splits["train"].skipped[0][0].endswith("broken.jpg")
    assert np.bincount(splits["train"].y).tolist() == [10, 10, 10]
    # The second load comes from the cache: same arrays, same warning.
    assert list((clothing_dir.parent / "cache" / "images").glob("*.npz"))
    with pytest.warns(SkippedImagesWarning):
        _, again = load_image_folders(clothing_dir, 24, FIX)
    np.testing.assert_array_equal(again["train"].x, splits["train"].x)


def test_an_image_deleted_after_the_scan_is_named(clothing_dir: Path) -> None:
    """A file removed between the listing and the reading: one line naming it, not a raw
    FileNotFoundError."""
    from search.data._folders import decode_split

    folders = scan(clothing_dir, FIX)
    gone = folders.files["train"][3][0]
    gone.unlink()
    with pytest.raises(DataError) as caught:
        decode_split(folders, "train", 24)
    assert str(caught.value) == (
        f"{gone}: deleted while the data set was read; run again once its folders stay as they are"
    )


@pytest.mark.parametrize("keep", [0.0, 0.5])
def test_a_cut_short_cache_is_decoded_again(keep: float, clothing_dir: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SkippedImagesWarning)
        _, splits = load_image_folders(clothing_dir, 24, FIX)
        for cache in (clothing_dir.parent / "cache" / "images").glob("*.npz"):
            whole = cache.read_bytes()
            cache.write_bytes(whole[: int(len(whole) * keep)])
        _, again = load_image_folders(clothing_dir, 24, FIX)
    np.testing.assert_array_equal(again["train"].x, splits["train"].x)


def test_a_class_whose_images_are_all_unreadable_is_refused(clothing_dir: Path) -> None:
    for image in (clothing_dir / "train" / "shoes").iterdir():
        image.write_bytes(b"not an image")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SkippedImagesWarning)
        with pytest.raises(DataError, match="shoes: none of its images could be read"):
            load_image_folders(clothing_dir, 24, FIX)


def test_subsets_are_stratified_and_the_full_set_kept(clothing_dir: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SkippedImagesWarning)
        splits = load_clothing(clothing_dir, 32, train_size=15, val_size=6, seed=1)
    assert np.bincount(splits.y_train).tolist() == [5, 5, 5]
    assert np.bincount(splits.y_val).tolist() == [2, 2, 2]
    assert len(splits.x_test) == 12 and splits.x_full is not None and len(splits.x_full) == 30 + 12
    each = r"must be between 3 \(one image of each class\)"
    with pytest.raises(DataError, match=rf"^train_size \(99\) {each} and 30"):
        load_clothing(clothing_dir, 32, train_size=99)
    with pytest.raises(DataError, match=rf"^val_size \(2\) {each}"):
        load_clothing(clothing_dir, 32, val_size=2)
