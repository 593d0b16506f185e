"""The clothing photo set: 10 classes of clothes, in train/validation/test folders."""

from __future__ import annotations

from pathlib import Path

from search.data._dataset import Splits
from search.data._folders import check_folder
from search.data._images import load_images
from search.errors import option

DEFAULT_DIR = Path("data/clothing-dataset-small")
FIX = (
    "get the data with `git clone https://github.com/alexeygrigorev/clothing-dataset-small"
    f" data/clothing-dataset-small`, or pass {option('data_dir')} FOLDER"
)


def load_clothing(
    data_dir: Path | None,
    image_size: int,
    train_size: int | None = None,
    val_size: int | None = None,
    seed: int = 0,
) -> Splits:
    """The set's own splits at ``image_size``. The test folder is kept whole.

    Args:
        data_dir: the set's folder; None: ``data/clothing-dataset-small``.
        image_size: the side, in pixels, every image is resized to (square, RGB).
        train_size: a stratified, seeded subset of the train folder's images; None: all of them.
        val_size: a stratified, seeded subset of the validation folder's images; None: all of them.
        seed: the seed of the subsets.

    Returns:
        The splits, with the class folders' names as class names.

    Raises:
        DataError: the folder is missing or malformed, or a size does not fit (naming how to get the set).
    """
    return load_images(data_dir or DEFAULT_DIR, image_size, FIX, train_size, val_size, seed)


def check_clothing_dir(data_dir: Path | None) -> None:
    """Refuse a missing clothing folder now, before slower checks (the pretrained weights).

    Args:
        data_dir: the set's folder; None: ``data/clothing-dataset-small``.

    Raises:
        DataError: the folder is missing or a file, naming how to get the set.
    """
    root = data_dir or DEFAULT_DIR
    check_folder(root, FIX)
