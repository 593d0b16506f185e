"""Fashion-MNIST: find the four IDX files, check them, and split them."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from search.data._dataset import Splits
from search.data._idx import read_idx
from search.data._split import DEFAULT_VAL_SIZE, check_size, split_off, stratified_indices
from search.errors import DataError, option

CLASS_NAMES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)  # fmt: skip
FILES = {
    "x_train": ("train-images-idx3-ubyte", (60000, 28, 28)),
    "y_train": ("train-labels-idx1-ubyte", (60000,)),
    "x_test": ("t10k-images-idx3-ubyte", (10000, 28, 28)),
    "y_test": ("t10k-labels-idx1-ubyte", (10000,)),
}
DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")
FIX = (
    f"fix: `apt-get install dataset-fashion-mnist`, pass {option('data_dir')} with the four original"
    " IDX files, or run once on a machine with internet so that Keras downloads them"
)


def keras_cache_dir() -> Path:
    """Where ``keras.datasets.fashion_mnist`` keeps its download."""
    home = os.environ.get("KERAS_HOME") or Path.home() / ".keras"
    return Path(home) / "datasets" / "fashion-mnist"


def default_locations() -> list[Path]:
    """Folders searched when no --data-dir is given, in order."""
    return [keras_cache_dir(), DEBIAN_DIR]


def _file_in(folder: Path, stem: str) -> Path | None:
    for name in (stem + ".gz", stem):
        if (folder / name).is_file():
            return folder / name
    return None


def read_folder(folder: Path) -> dict[str, np.ndarray]:
    """The four arrays from ``folder``, each checked.

    Args:
        folder: a folder holding the four original IDX files (gzipped or not).

    Returns:
        ``x_train``, ``y_train``, ``x_test`` and ``y_test`` by name, as the files hold them
        (images 28 x 28, no channel axis).

    Raises:
        DataError: a file is missing, unreadable, of another shape, or has a label above 9.
    """
    found = {key: _file_in(folder, stem) for key, (stem, _) in FILES.items()}
    missing = [FILES[key][0] + ".gz" for key, path in found.items() if path is None]
    if missing:
        raise DataError(f"{folder}: missing {', '.join(missing)}; {FIX}")
    arrays = {
        key: read_idx(path, FILES[key][1], FIX) for key, path in found.items() if path is not None
    }
    for key in ("y_train", "y_test"):
        top = int(arrays[key].max())
        if top > 9:
            raise DataError(f"{found[key]}: label {top} found, labels must be 0-9; {FIX}")
    return arrays


def _has_any(folder: Path) -> bool:
    return any(_file_in(folder, stem) for stem, _ in FILES.values())


def _download() -> Path:
    import keras

    try:
        keras.datasets.fashion_mnist.load_data()
    except Exception as exc:  # any network or HTTP failure from keras.utils.get_file
        raise DataError(
            f"Fashion-MNIST is not in {keras_cache_dir()} nor {DEBIAN_DIR}, and the download"
            f" failed ({type(exc).__name__}: {exc}); {FIX}"
        ) from None
    return keras_cache_dir()


def locate(data_dir: Path | None, locations: Sequence[Path] | None = None,
           download: bool = True) -> Path:
    """The folder to read Fashion-MNIST from.

    Args:
        data_dir: the folder the user gave; None: look in ``locations``.
        locations: the folders searched, in order; None: Keras' cache, then the Debian package's.
        download: when no location holds the files, have Keras download them.

    Returns:
        ``data_dir`` if given, else the first location holding any of the files, else Keras' cache
        after the download.

    Raises:
        DataError: ``data_dir`` is not a folder or holds none of the files; or nothing was found
            and ``download`` is False or the download failed.
    """
    if data_dir is not None:
        if not data_dir.is_dir():
            raise DataError(f"{data_dir}: {option('data_dir')} is not a folder; {FIX}")
        if not _has_any(data_dir):
            raise DataError(f"{data_dir}: holds none of the Fashion-MNIST IDX files; {FIX}")
        return data_dir
    candidates = default_locations() if locations is None else list(locations)
    for folder in candidates:
        if folder.is_dir() and _has_any(folder):
            return folder
    if not download:
        shown = ", ".join(str(c) for c in candidates)
        raise DataError(f"Fashion-MNIST not found in {shown}; {FIX}")
    return _download()


def load_fashion(
    data_dir: Path | None = None,
    *,
    val_size: int = DEFAULT_VAL_SIZE,
    train_size: int | None = None,
    seed: int = 0,
    locations: Sequence[Path] | None = None,
    download: bool = True,
) -> Splits:
    """Fashion-MNIST with a seeded stratified validation split carved from the training set.
    The test set is returned untouched, for the final model only.

    Args:
        data_dir: the folder of the IDX files; None: found by :func:`locate`.
        val_size: the validation images taken from the training set.
        train_size: a stratified subset of what remains kept for training; None: all of it.
        seed: the seed of the split and the subset.
        locations: the folders searched when ``data_dir`` is None (see :func:`locate`).
        download: whether Keras may download the set when it is found nowhere.

    Returns:
        The splits, images 28 x 28 x 1 uint8, with the ten class names and ``x_full``
        (every training image) and ``x_unsplit`` (those outside the validation split).

    Raises:
        DataError: the files are missing or damaged, or a size does not fit the training set.
    """
    folder = locate(data_dir, locations, download)
    arrays = read_folder(folder)
    x, y = arrays["x_train"][..., None], arrays["y_train"]
    check_size(val_size, y, option("val_size"), " (one image of each class left to train on)", spare=1)
    rest, held = split_off(y, val_size, seed)
    unsplit = rest
    if train_size is not None:
        where = f" ({len(x):,} minus the {val_size:,} validation images)"
        check_size(train_size, y[rest], option("train_size"), where)
        rest = rest[stratified_indices(y[rest], train_size, seed + 2)]
    return Splits(
        x_train=x[rest], y_train=y[rest], x_val=x[held], y_val=y[held],
        x_test=arrays["x_test"][..., None], y_test=arrays["y_test"],
        class_names=CLASS_NAMES, source=str(folder), x_full=x, y_full=y,
        x_unsplit=x[unsplit], y_unsplit=y[unsplit],
    )  # fmt: skip
