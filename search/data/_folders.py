"""Image-folder data sets: ``ROOT/{train,validation,test}/CLASS/*.jpg``.

Images are decoded once with Pillow (in threads; Pillow releases the GIL while decoding),
resized to a square ``size``, and kept as uint8 arrays, cached on disk per size: later runs
and trial processes (``--isolate``) read the arrays back in a fraction of a second. Arrays
rather than a tf.data pipeline because the same custom loop runs on TensorFlow and JAX
(the JAX machines have no TensorFlow), and because each unreadable file can be named and
skipped before any training starts instead of failing mid-trial.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import warnings
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from search.cache import cache_dir
from search.errors import DataError
from search.storage import write_atomic

SPLITS = ("train", "validation", "test")
SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp"})
CACHE_VERSION = 1


SKIPPED_SHOWN = 3
"""How many skipped images a warning names."""


class SkippedImagesWarning(UserWarning):
    """Some image files could not be read and were left out."""


@dataclass(frozen=True)
class ImageFolders:
    """The files of each split, with labels indexing ``class_names``."""

    root: Path
    class_names: tuple[str, ...]
    files: dict[str, list[tuple[Path, int]]]


@dataclass(frozen=True)
class DecodedSplit:
    """A split's images as one uint8 array (N, size, size, 3), and what was skipped."""

    x: np.ndarray
    y: np.ndarray
    skipped: list[tuple[str, str]]
    """(file, reason) for each image left out."""


def scan(root: Path, fix: str) -> ImageFolders:
    """List the images of ``root``'s splits, without reading them.

    Args:
        root: a folder holding ``train/``, ``validation/`` and ``test/``, each one folder per class.
        fix: what the user can do, appended to a message on a missing folder.

    Returns:
        The class names (train's folders, sorted) and each split's (file, label) list.

    Raises:
        DataError: ``root`` or a split is missing, there are fewer than 2 classes, the class
            lists differ between splits, or a class has no images in train.
    """
    if not root.is_dir():
        raise DataError(f"{root}: no such folder; {fix}")
    missing = [s for s in SPLITS if not (root / s).is_dir()]
    if missing:
        raise DataError(
            f"{root}: missing the split folder(s) {', '.join(missing)} (expected"
            f" {'/, '.join(SPLITS)}/, each with one folder per class); {fix}"
        )
    classes = {s: sorted(p.name for p in (root / s).iterdir() if p.is_dir()) for s in SPLITS}
    names = classes["train"]
    if len(names) < 2:
        raise DataError(f"{root / 'train'}: found {len(names)} class folders, need at least 2; {fix}")
    for split in SPLITS[1:]:
        if classes[split] != names:
            only_train = sorted(set(names) - set(classes[split]))
            only_here = sorted(set(classes[split]) - set(names))
            raise DataError(
                f"{root / split}: its classes differ from train's (missing here: "
                f"{', '.join(only_train) or 'none'}; not in train: {', '.join(only_here) or 'none'});"
                " every split needs the same class folders"
            )
    files: dict[str, list[tuple[Path, int]]] = {}
    for split in SPLITS:
        files[split] = []
        for label, name in enumerate(names):
            found = sorted(
                p for p in (root / split / name).iterdir()
                if p.is_file() and p.suffix.lower() in SUFFIXES
            )  # fmt: skip
            if not found and split == "train":
                raise DataError(f"{root / split / name}: no images (.jpg, .png, ...) in this class")
            files[split].extend((p, label) for p in found)
    return ImageFolders(root, tuple(names), files)


def _decode(path: Path, size: int) -> np.ndarray | str:
    """The image as (size, size, 3) uint8, or the reason it cannot be read."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as opened:
            image = opened.convert("RGB").resize((size, size), Image.Resampling.BILINEAR)
            return np.asarray(image, dtype=np.uint8)
    except (OSError, UnidentifiedImageError, ValueError, SyntaxError) as exc:
        return f"{type(exc).__name__}: {exc}"


def _cache_file(folders: ImageFolders, split: str, size: int) -> Path:
    digest = hashlib.sha256()
    digest.update(f"{CACHE_VERSION}\n{folders.root.resolve()}\n{split}\n{size}\n".encode())
    digest.update("\n".join(folders.class_names).encode())
    for path, label in folders.files[split]:
        try:
            stat = path.stat()
        except FileNotFoundError:
            raise DataError(
                f"{path}: deleted while the data set was read; run again once its folders stay as they are"
            ) from None
        digest.update(f"\n{path.name}\t{label}\t{stat.st_size}\t{stat.st_mtime_ns}".encode())
    return cache_dir("images") / f"{folders.root.name}-{split}-{size}-{digest.hexdigest()[:16]}.npz"


def decode_split(folders: ImageFolders, split: str, size: int, workers: int | None = None) -> DecodedSplit:
    """Decode (or read from the cache) one split at ``size`` x ``size``."""
    cache = _cache_file(folders, split, size)
    if cache.is_file():
        try:
            with np.load(cache, allow_pickle=False) as stored:
                skipped = json.loads(str(stored["skipped"]))
                return DecodedSplit(stored["x"], stored["y"], [tuple(s) for s in skipped])
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
            pass  # a damaged cache is rebuilt below
    entries = folders.files[split]
    with ThreadPoolExecutor(max_workers=workers or min(8, (os.cpu_count() or 2) * 2)) as pool:
        decoded = list(pool.map(lambda entry: _decode(entry[0], size), entries))
    keep = [i for i, image in enumerate(decoded) if isinstance(image, np.ndarray)]
    kept = set(keep)
    skipped = [(str(entries[i][0]), str(decoded[i])) for i in range(len(entries)) if i not in kept]
    x = np.stack([decoded[i] for i in keep]) if keep else np.zeros((0, size, size, 3), np.uint8)
    y = np.array([entries[i][1] for i in keep], dtype=np.uint8)
    result = DecodedSplit(x, y, skipped)
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        _write_npz(cache, result)
    except OSError as exc:  # a read-only home: work on without the cache
        warnings.warn(f"could not cache decoded images in {cache.parent}: {exc}", stacklevel=2)
    return result


def _write_npz(path: Path, split: DecodedSplit) -> None:
    buffer = io.BytesIO()
    np.savez(buffer, x=split.x, y=split.y, skipped=np.array(json.dumps(split.skipped)))
    write_atomic(path, buffer.getvalue())


def warn_skipped(root: Path, skipped: list[tuple[str, str]], total: int) -> None:
    """A :class:`SkippedImagesWarning` that counts the unreadable images of ``root`` (of
    ``total``) and names the first ones with their reasons; none when none was skipped."""
    if not skipped:
        return
    shown = "; ".join(f"{path} ({reason})" for path, reason in skipped[:SKIPPED_SHOWN])
    more = f" and {len(skipped) - SKIPPED_SHOWN} more" if len(skipped) > SKIPPED_SHOWN else ""
    warnings.warn(
        f"skipped {len(skipped)} unreadable image(s) of {total} in {root}: {shown}{more}",
        SkippedImagesWarning,
        stacklevel=3,
    )


def load_image_folders(
    root: Path, size: int, fix: str
) -> tuple[ImageFolders, dict[str, DecodedSplit]]:
    """Every split of ``root`` at ``size``; unreadable images are skipped with a
    :class:`SkippedImagesWarning` that counts them and names the first ones.

    Args:
        root: a folder laid out as :func:`scan` expects.
        size: the side, in pixels, every image is resized to (square, RGB).
        fix: what the user can do, for :func:`scan`'s messages.

    Returns:
        The folders :func:`scan` found, and each split's decoded images by split name.

    Raises:
        DataError: :func:`scan`'s, or a class has no readable image left in train.
    """
    folders = scan(root, fix)
    splits = {split: decode_split(folders, split, size) for split in SPLITS}
    skipped = [item for split in SPLITS for item in splits[split].skipped]
    warn_skipped(root, skipped, sum(len(folders.files[s]) for s in SPLITS))
    present = set(splits["train"].y.tolist())
    empty = [name for i, name in enumerate(folders.class_names) if i not in present]
    if empty:
        raise DataError(
            f"{root / 'train' / empty[0]}: none of its images could be read; replace or"
            " remove the damaged files"
        )
    return folders, splits
