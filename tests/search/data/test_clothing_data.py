"""The image-folder loader: split and class checks, unreadable files, the decoded cache."""

from __future__ import annotations

import os
import shutil
import threading
import warnings
import zipfile
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
    with pytest.warns(SkippedImagesWarning, match="skipped 1 unreadable image of 55") as caught:
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


def test_a_16_bit_grayscale_image_keeps_its_shades(clothing_dir: Path) -> None:
    """Pillow's own conversion of 16-bit gray to RGB clips it (nearly all white): the search
    must train on the shades that ``predict`` reads from the same file."""
    from PIL import Image

    from search.data._folders import decode_split

    ramp = np.linspace(0, 65535, 24 * 24).reshape(24, 24).astype(np.uint16)
    Image.fromarray(ramp).save(clothing_dir / "train" / "hat" / "deep.png")
    folders = scan(clothing_dir, FIX)
    index = [path.name for path, _ in folders.files["train"]].index("deep.png")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SkippedImagesWarning)
        decoded = decode_split(folders, "train", 24)
    row = index - sum(1 for path, _ in folders.files["train"][:index] if path.name == "broken.jpg")
    image = decoded.x[row]
    assert image.shape == (24, 24, 3)
    np.testing.assert_allclose(image[..., 0], np.round(ramp / 257), atol=2)


def test_an_image_past_pillows_pixel_limit_is_skipped_saying_its_size(
    clothing_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past Pillow's limit it warns (printed with its source line), past twice that it raises
    its own error (a traceback): either way the image is skipped, its size the reason."""
    from PIL import Image

    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 3000)
    Image.new("RGB", (60, 60)).save(clothing_dir / "train" / "hat" / "warned.png")  # 3,600 pixels
    Image.new("RGB", (80, 80)).save(clothing_dir / "train" / "pants" / "raised.png")  # 6,400
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _, splits = load_image_folders(clothing_dir, 24, FIX)
    assert [w.category for w in caught] == [SkippedImagesWarning], [str(w.message) for w in caught]
    reasons = {Path(path).name: reason for path, reason in splits["train"].skipped}
    assert reasons["warned.png"] == (
        "3,600 pixels, more than 3,000 (Pillow's limit, against decompression bombs): resize it"
    )
    assert reasons["raised.png"].startswith("6,400 pixels, more than 3,000")
    assert len(splits["train"].y) == 30


def test_other_folders_beside_the_splits_are_refused(clothing_dir: Path) -> None:
    """Class folders beside train/ validation/ test/ would be left out of every split;
    hidden folders (a git clone's .git) are not data."""
    (clothing_dir / ".git").mkdir()
    assert scan(clothing_dir, FIX).class_names == ("hat", "pants", "shoes")
    (clothing_dir / "socks").mkdir()
    with pytest.raises(DataError) as caught:
        scan(clothing_dir, FIX)
    assert str(caught.value) == (
        f"{clothing_dir}: holds the split folder(s) train, validation, test and other folders"
        " (socks), whose images no split would use; move them into train/, validation/, test/,"
        " or, for one folder of class folders, rename the classes named train, validation, test"
    )


def test_a_validation_split_without_images_is_refused(clothing_dir: Path) -> None:
    """Every trial is scored on validation: none there is refused before the search, not
    failed trial by trial."""
    for image in (clothing_dir / "validation").glob("*/*"):
        image.write_bytes(b"not an image")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SkippedImagesWarning)
        with pytest.raises(DataError, match=r"validation: no images \(12 unreadable files\); every trial"):
            load_image_folders(clothing_dir, 24, FIX)


def test_images_that_would_not_fit_in_memory_are_refused_before_decoding(
    clothing_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A huge --image-size: refused in one line, not killed by the system mid-decoding."""
    from search.data import _folders

    pages = {"SC_PHYS_PAGES": 2**18, "SC_PAGE_SIZE": 4096}  # a machine of 1 GiB
    monkeypatch.setattr(_folders.os, "sysconf", pages.__getitem__)
    monkeypatch.setattr(_folders, "decode_split", lambda *a: pytest.fail("decoded"))
    with pytest.raises(DataError) as caught:
        load_image_folders(clothing_dir, 2048, FIX)
    assert str(caught.value) == (
        f"image_size 2048: the 55 images of {clothing_dir} would take 0.6 GiB decoded at"
        " 2048x2048, more than half of this machine's 1.0 GiB of memory (decoding holds them"
        " twice); use a smaller image_size"
    )


def test_hidden_folders_and_files_in_the_splits_are_no_classes_nor_images(clothing_dir: Path) -> None:
    """Jupyter's .ipynb_checkpoints in a split was a class of its own (then a class without
    images, or classes differing between splits); macOS's ._photo.jpg an unreadable image."""
    (clothing_dir / "train" / ".ipynb_checkpoints").mkdir()
    (clothing_dir / "test" / ".DS_Store.d").mkdir()
    (clothing_dir / "train" / "hat" / "._train-0.jpg").write_bytes(b"\x00\x05\x16\x07 AppleDouble")
    folders = scan(clothing_dir, FIX)
    assert folders.class_names == ("hat", "pants", "shoes")
    assert not [path for path, _ in folders.files["train"] if path.name.startswith(".")]
    assert len(folders.files["train"]) == 31


@pytest.mark.parametrize(("orientation", "bright"), [(6, "right"), (8, "left")])
def test_a_photo_taken_turned_is_decoded_upright(orientation: int, bright: str, clothing_dir: Path) -> None:
    """A JPEG whose EXIF orientation turns it (a phone held sideways) was decoded as stored:
    sideways. Stored with its top half white, it is seen with that half to the right (6) or
    to the left (8)."""
    from PIL import Image

    pixels = np.zeros((32, 48, 3), np.uint8)
    pixels[:16] = 255
    exif = Image.Exif()
    exif[0x0112] = orientation  # Orientation
    Image.fromarray(pixels).save(clothing_dir / "train" / "hat" / "train-0.jpg", exif=exif.tobytes())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SkippedImagesWarning)
        folders, splits = load_image_folders(clothing_dir, 16, FIX)
    index = [path.name for path, _ in folders.files["train"]].index("train-0.jpg") - 1  # broken.jpg skipped
    image = splits["train"].x[index].mean(axis=-1)
    left, right = image[:, :6].mean(), image[:, -6:].mean()
    assert (left, right) == pytest.approx((0, 255) if bright == "right" else (255, 0), abs=10)
    assert image[:6].mean() == pytest.approx(image[-6:].mean(), abs=10)


def test_one_class_folder_is_counted_in_the_singular(clothing_dir: Path) -> None:
    for split in ("train", "validation", "test"):
        for name in ("pants", "shoes"):
            shutil.rmtree(clothing_dir / split / name)
    with pytest.raises(DataError) as caught:
        scan(clothing_dir, FIX)
    assert str(caught.value) == f"{clothing_dir / 'train'}: found 1 class folder, need at least 2; the fix"


HANG = 60
"""Seconds after which a scan that should take none is taken to hang."""


def _refusal(root: Path) -> str:
    """What :func:`scan` refuses ``root`` with."""
    with pytest.raises(DataError) as caught:
        scan(root, FIX)
    return str(caught.value)


def test_a_file_given_as_the_data_folder_is_named_as_a_file(tmp_path: Path) -> None:
    """A file given as the data folder was said to be no such folder; an archive is named as
    one to unpack."""
    notes = tmp_path / "notes.txt"
    notes.write_text("not a folder")
    with pytest.raises(DataError) as caught:
        scan(notes, FIX)
    assert str(caught.value) == f"{notes}: a file, not a folder; the fix"
    archive = tmp_path / "photos.zip"
    with zipfile.ZipFile(archive, "w") as opened:
        opened.writestr("train/hat/0.jpg", b"")
    with pytest.raises(DataError) as caught:
        scan(archive, FIX)
    assert str(caught.value) == f"{archive}: a file (an archive: unpack it), not a folder; the fix"
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)  # reading it to tell an archive blocked for ever: a thread, so a hang fails
    refused: list[str] = []
    scanning = threading.Thread(target=lambda: refused.append(_refusal(pipe)), daemon=True)
    scanning.start()
    scanning.join(HANG)
    assert refused == [f"{pipe}: a file, not a folder; the fix"]
