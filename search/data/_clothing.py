"""The clothing photo set: 10 classes of clothes, in train/validation/test folders."""

from __future__ import annotations

from pathlib import Path

from search.data._dataset import Splits
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
    """The set's own splits at ``image_size``; ``train_size``/``val_size`` take stratified,
    seeded subsets of its train and validation folders. The test folder is kept whole."""
    return load_images(data_dir or DEFAULT_DIR, image_size, FIX, train_size, val_size, seed)
