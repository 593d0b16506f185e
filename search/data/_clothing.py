"""The clothing photo set: 10 classes of clothes, in train/validation/test folders."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from search.data._dataset import Splits
from search.data._folders import load_image_folders
from search.data._split import stratified_indices
from search.errors import DataError

DEFAULT_DIR = Path("data/clothing-dataset-small")
FIX = (
    "get the data with `git clone https://github.com/alexeygrigorev/clothing-dataset-small"
    " data/clothing-dataset-small`, or pass --data-dir FOLDER"
)


def load_clothing(
    data_dir: Path | None,
    image_size: int,
    train_size: int | None = None,
    val_size: int | None = None,
    seed: int = 0,
) -> Splits:
    """The set's own splits at ``image_size``; ``train_size``/``val_size`` take stratified,
    seeded subsets of its train and validation folders. The test folder is kept whole."""
    root = data_dir or DEFAULT_DIR
    folders, splits = load_image_folders(root, image_size, FIX)
    train, val, test = splits["train"], splits["validation"], splits["test"]
    x_train, y_train = _subset(train.x, train.y, train_size, seed, "--train-size")
    x_val, y_val = _subset(val.x, val.y, val_size, seed + 1, "--val-size")
    skipped = sum(len(s.skipped) for s in splits.values())
    note = f" ({skipped} unreadable images skipped)" if skipped else ""
    return Splits(
        x_train, y_train, x_val, y_val, test.x, test.y,
        class_names=folders.class_names,
        source=f"{root} at {image_size}x{image_size}{note}",
        # The final model learns from every labelled image: both folders, whole.
        x_full=np.concatenate([train.x, val.x]),
        y_full=np.concatenate([train.y, val.y]),
        x_unsplit=train.x, y_unsplit=train.y,
    )  # fmt: skip


def _subset(
    x: np.ndarray, y: np.ndarray, size: int | None, seed: int, option: str
) -> tuple[np.ndarray, np.ndarray]:
    if size is None or size == len(x):
        return x, y
    if not 0 < size <= len(x):
        raise DataError(f"{option} ({size}) must be between 1 and {len(x)}, the images there")
    index = np.sort(stratified_indices(y, size, seed))
    return x[index], y[index]
