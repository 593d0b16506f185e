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
import re
import tarfile
import warnings
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from search._text import plural
from search.cache import CACHE_ENV, cache_dir
from search.data._pixels import PILLOW_MODULES, deep_gray, is_deep_gray, upright
from search.errors import DataError, option
from search.storage import write_atomic

SPLITS = ("train", "validation", "test")
SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp"})
CACHE_VERSION = 3


SKIPPED_SHOWN = 3
"""How many skipped images a warning names."""


class DataWarning(UserWarning):
    """Something about the data that does not stop the run: the engine says it in a line of
    its progress (``warning: ...``), not as Python's warning with its source line."""


class SkippedImagesWarning(DataWarning):
    """Some image files could not be read and were left out."""


class UncachedImagesWarning(DataWarning):
    """The decoded images could not be cached: every run decodes them again."""


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
        DataError: ``root`` or a split is missing, it holds other folders beside the splits,
            there are fewer than 2 classes, the class lists differ between splits, or a class
            has no images in train.
    """
    check_folder(root, fix)
    _refuse_other_folders(root)
    missing = [s for s in SPLITS if not (root / s).is_dir()]
    if missing:
        raise DataError(
            f"{root}: missing the split folder(s) {', '.join(missing)} (expected"
            f" {'/, '.join(SPLITS)}/, each with one folder per class); {fix}"
        )
    classes = {s: class_folders(root / s) for s in SPLITS}
    names = classes["train"]
    if len(names) < 2:
        counted = plural(len(names), "class folder")
        raise DataError(f"{root / 'train'}: found {counted}, need at least 2; {fix}")
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
            found = image_files(root / split / name)
            if not found and split == "train":
                raise DataError(f"{root / split / name}: no images (.jpg, .png, ...) in this class")
            files[split].extend((p, label) for p in found)
    return ImageFolders(root, tuple(names), files)


def check_folder(root: Path, fix: str) -> None:
    """Refuse a data folder that is none.

    Args:
        root: the data folder given.
        fix: what the user can do, ending the message.

    Raises:
        DataError: ``root`` is missing, or a file (an archive named as one to unpack).
    """
    if root.is_dir():
        return
    if not root.exists():
        raise DataError(f"{root}: no such folder; {fix}")
    archive = False
    if root.is_file():  # read: a pipe or a device would block
        try:
            archive = zipfile.is_zipfile(root) or tarfile.is_tarfile(root)
        except OSError:  # unreadable: a file all the same
            pass
    raise DataError(f"{root}: a file{' (an archive: unpack it)' if archive else ''}, not a folder; {fix}")


SYSTEM_FOLDERS = frozenset({"__MACOSX"})
"""Folders an operating system adds beside one's own: macOS's zip archives hold the
resource forks of their files in ``__MACOSX``."""


def is_hidden(path: Path) -> bool:
    """Whether ``path`` is hidden (its name starts with a dot: ``.git``, Jupyter's
    ``.ipynb_checkpoints``, macOS's ``._photo.jpg``) or a system's (:data:`SYSTEM_FOLDERS`):
    no class, split or image."""
    return path.name.startswith(".") or path.name in SYSTEM_FOLDERS


def class_folders(folder: Path) -> list[str]:
    """The names of ``folder``'s sub-folders, hidden ones left out, sorted."""
    return sorted(p.name for p in folder.iterdir() if p.is_dir() and not is_hidden(p))


def image_files(folder: Path) -> list[Path]:
    """``folder``'s image files (by their suffix), hidden ones left out, sorted."""
    return sorted(
        p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in SUFFIXES and not is_hidden(p)
    )  # fmt: skip


def _refuse_other_folders(root: Path) -> None:
    """DataError where ``root`` holds, beside split folders, other folders (not hidden ones,
    such as ``.git``): class folders there would be left out of every split."""
    others = [name for name in class_folders(root) if name not in SPLITS]
    if others:
        present = [s for s in SPLITS if (root / s).is_dir()]
        raise DataError(
            f"{root}: holds the split folder(s) {', '.join(present)} and other folders"
            f" ({', '.join(others[:SKIPPED_SHOWN])}{', ...' if len(others) > SKIPPED_SHOWN else ''}),"
            f" whose images no split would use; move them into {'/, '.join(SPLITS)}/, or, for one"
            f" folder of class folders, rename the classes named {', '.join(present)}"
        )


def check_memory(root: Path, count: int, size: int) -> None:
    """DataError where ``count`` images decoded at ``size`` x ``size`` (RGB, uint8) would
    not fit in this machine's memory: decoding holds them twice (the images, then their
    array), so more than half of it is refused now, not by the system killing the process.

    Args:
        root: the data folder, for the message.
        count: how many images will be decoded.
        size: the side, in pixels, of each.

    Raises:
        DataError: naming the size, the memory needed and the machine's, and the fix.
    """
    try:
        memory = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):  # no such figure on this system: not checked
        return
    needed = count * size * size * 3
    if memory > 0 and needed * 2 > memory:
        raise DataError(
            f"{option('image_size')} {size}: the {plural(count, 'image')} of {root} would take"
            f" {needed / 2**30:,.1f} GiB decoded at {size}x{size}, more than half of this machine's"
            f" {memory / 2**30:,.1f} GiB of memory (decoding holds them twice); use a smaller"
            f" {option('image_size')}"
        )


def _decode(path: Path, size: int) -> np.ndarray | str:
    """The image as (size, size, 3) uint8, turned upright as its EXIF orientation says, or the
    reason it cannot be read: 16-bit gray scaled to 8 bits (Pillow's own conversion clips it,
    nearly all white), an image of more pixels than Pillow's limit against decompression bombs
    refused as ``predict`` refuses it."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as opened:
            limit = Image.MAX_IMAGE_PIXELS
            if limit and opened.width * opened.height > limit:
                return _too_large(opened.width * opened.height, limit)
            turned = upright(opened)
            if is_deep_gray(turned.mode):
                image = Image.fromarray(deep_gray(np.asarray(turned), turned.mode, 3))
            else:
                image = turned.convert("RGB")
            return np.asarray(image.resize((size, size), Image.Resampling.BILINEAR), dtype=np.uint8)
    except Image.DecompressionBombError as exc:
        found = re.search(r"\((\d+) pixels\)", str(exc))
        return _too_large(int(found[1]) if found else None, Image.MAX_IMAGE_PIXELS)
    except (OSError, UnidentifiedImageError, ValueError, SyntaxError) as exc:
        return f"{type(exc).__name__}: {exc}"


def _too_large(pixels: int | None, limit: int | None) -> str:
    """Why an image of ``pixels`` is skipped, over Pillow's ``limit``."""
    return (
        f"{f'{pixels:,}' if pixels else 'more'} pixels, more than {limit or 0:,} (Pillow's limit,"
        " against decompression bombs): resize it"
    )


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
    decoded = _decode_all(entries, size, workers)
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
        warnings.warn(
            f"could not cache the decoded images in {cache.parent} ({type(exc).__name__}:"
            f" {exc.strerror or exc}), so every run decodes them again; set ${CACHE_ENV} to a"
            " folder you can write",
            UncachedImagesWarning,
            stacklevel=2,
        )
    return result


def _decode_all(entries: list[tuple[Path, int]], size: int, workers: int | None) -> list[np.ndarray | str]:
    """:func:`_decode` of every entry, in threads; Pillow's warnings of an image past its
    limit (:func:`_decode` skips it, saying why) and of damaged EXIF data kept out."""
    from PIL import Image

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        warnings.filterwarnings("ignore", category=UserWarning, module=PILLOW_MODULES)
        with ThreadPoolExecutor(max_workers=workers or min(8, (os.cpu_count() or 2) * 2)) as pool:
            return list(pool.map(lambda entry: _decode(entry[0], size), entries))


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
        f"skipped {plural(len(skipped), 'unreadable image')} of {total} in {root}: {shown}{more}",
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
        DataError: :func:`scan`'s, a class has no readable image left in train, validation
            has no readable image, or the images would not fit in memory at ``size``.
    """
    folders = scan(root, fix)
    check_memory(root, sum(len(folders.files[s]) for s in SPLITS), size)
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
    validation = splits["validation"]
    if not len(validation.y):
        unread = f" ({plural(len(validation.skipped), 'unreadable file')})" if validation.skipped else ""
        raise DataError(
            f"{root / 'validation'}: no images{unread}; every trial is scored on them: put images"
            " of each class in its class folders"
        )
    return folders, splits
