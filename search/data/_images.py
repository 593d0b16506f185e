"""Any folder of images, one sub-folder per class: with ``train/ validation/ test/``
splits of its own, or as one folder that is split here (seeded and stratified)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from search._text import plural
from search.data._dataset import Splits
from search.data._folders import (
    SPLITS,
    ImageFolders,
    check_folder,
    check_memory,
    class_folders,
    decode_split,
    image_files,
    load_image_folders,
    warn_skipped,
)
from search.data._split import check_size, split_off, stratified_indices
from search.errors import DataError, option

TEST_SHARE = 0.15
VAL_SHARE = 0.15
"""A folder without splits of its own: these shares of each class are held out."""
FLAT = "all"
MIN_PER_CLASS = 3
"""Images a class of one folder needs: train, validation and test take one each."""


def has_splits(root: Path) -> bool:
    """Whether ``root`` is laid out in split folders (any of them: a missing one is named)."""
    return any((root / split).is_dir() for split in SPLITS)


def load_images(
    root: Path,
    image_size: int,
    fix: str,
    train_size: int | None = None,
    val_size: int | None = None,
    seed: int = 0,
) -> Splits:
    """The images of ``root`` at ``image_size``: its own splits when it has them (the
    test folder kept whole), else a seeded, stratified split of its class folders.

    Args:
        root: a folder of ``train/``, ``validation/`` and ``test/`` folders, or of class folders.
        image_size: the side, in pixels, every image is resized to (square, RGB).
        fix: what the user can do, appended to a message on a missing or malformed folder.
        train_size: a stratified, seeded subset of the training images; None: all of them.
        val_size: a stratified, seeded subset of the validation images; None: all of them.
        seed: the seed of the split and the subsets.

    Returns:
        The splits, with the class folders' names, and ``x_full`` (train and validation whole).

    Raises:
        DataError: the folder is missing or malformed, a class has too few images, or a size
            does not fit.
    """
    check_folder(root, fix)
    if has_splits(root):
        folders, decoded = load_image_folders(root, image_size, fix)
        train, val, test = decoded["train"], decoded["validation"], decoded["test"]
        parts = (train.x, train.y, val.x, val.y, test.x, test.y)
        skipped = sum(len(s.skipped) for s in decoded.values())
    else:
        folders = _scan_flat(root, fix)
        check_memory(root, len(folders.files[FLAT]), image_size)
        flat = decode_split(folders, FLAT, image_size)
        warn_skipped(root, flat.skipped, len(folders.files[FLAT]))
        _check_readable(folders, flat.y)
        parts = _split_flat(flat.x, flat.y, seed)
        skipped = len(flat.skipped)
    x_train, y_train = subset(parts[0], parts[1], train_size, seed, option("train_size"))
    x_val, y_val = subset(parts[2], parts[3], val_size, seed + 1, option("val_size"))
    note = f" ({plural(skipped, 'unreadable image')} skipped)" if skipped else ""
    return Splits(
        x_train, y_train, x_val, y_val, parts[4], parts[5],
        class_names=folders.class_names,
        source=f"{root} at {image_size}x{image_size}{note}",
        # The final model learns from every labelled image: train and validation, whole.
        x_full=np.concatenate([parts[0], parts[2]]),
        y_full=np.concatenate([parts[1], parts[3]]),
        x_unsplit=parts[0], y_unsplit=parts[1],
    )  # fmt: skip


def _scan_flat(root: Path, fix: str) -> ImageFolders:
    names = class_folders(root)
    if len(names) < 2:
        raise DataError(
            f"{root}: found {plural(len(names), 'class folder')}, need at least 2 (one folder of images"
            f" per class, or {'/, '.join(SPLITS)}/ folders holding them); {fix}"
        )
    files: list[tuple[Path, int]] = []
    for label, name in enumerate(names):
        found = image_files(root / name)
        if len(found) < MIN_PER_CLASS:
            raise DataError(
                f"{root / name}: {plural(len(found), 'image')}; a class needs at least {MIN_PER_CLASS}"
                " (train, validation and test take one each)"
            )
        files.extend((p, label) for p in found)
    return ImageFolders(root, tuple(names), {FLAT: files})


def _check_readable(folders: ImageFolders, labels: np.ndarray) -> None:
    """DataError where unreadable images left a class fewer than the 3 images a split of
    one folder gives train, validation and test one each."""
    found = np.bincount(labels, minlength=len(folders.class_names))
    files = np.bincount([label for _, label in folders.files[FLAT]], minlength=len(folders.class_names))
    for name, readable, total in zip(folders.class_names, found, files):
        if readable < MIN_PER_CLASS:
            raise DataError(
                f"{folders.root / name}: {readable} of its {total} images could be read; a class needs"
                f" at least {MIN_PER_CLASS} (train, validation and test take one each): replace or"
                " remove the damaged files"
            )


def _split_flat(
    x: np.ndarray, y: np.ndarray, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Train, validation and test of one folder's images, each class in proportion and in
    each of them (a class of few images among large ones would round to none)."""
    classes = len(np.unique(y))
    test_n = max(classes, round(len(y) * TEST_SHARE))
    rest, test = split_off(y, test_n, seed, at_least=1)
    val_n = max(classes, round(len(y) * VAL_SHARE))
    train, val = split_off(y[rest], val_n, seed + 1, at_least=1)
    train, val = rest[train], rest[val]
    return x[train], y[train], x[val], y[val], x[test], y[test]


def subset(
    x: np.ndarray, y: np.ndarray, size: int | None, seed: int, option: str
) -> tuple[np.ndarray, np.ndarray]:
    """A stratified, seeded subset of ``size`` rows (all of them when None), every class in it."""
    if size is None or size == len(x):
        return x, y
    check_size(size, y, option, ", the images there")
    index = np.sort(stratified_indices(y, size, seed, at_least=1))
    return x[index], y[index]
