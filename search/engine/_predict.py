"""Classify image files with a model written by ``export``."""

from __future__ import annotations

import re
import shlex
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import keras
import numpy as np

from hypermodels import class_names_of  # importing hypermodels registers the layers exported models use
from search._text import one_line
from search.data import IMAGE_MODES, PILLOW_MODULES, deep_gray, is_deep_gray, upright
from search.engine._export import EXPORT_FILE
from search.engine._saved import check_archive
from search.errors import RunFolderError, SearchError
from search.storage import RunFolder

BATCH = 64
"""Images read, and those of one size predicted together, at most at a time."""
REASON_WIDTH = 200
"""At most this many characters of Keras' reason for not loading a file (it can run to
paragraphs), cut between words."""


EXPORTED = "give the .keras file that `python -m search export RUN` wrote"
"""What ``predict`` takes as its model, for its errors."""
UNREADABLE = "cannot be read: permission denied; make it readable for this user"
"""A file ``predict`` may not open (``chmod``), for its errors."""


def load_exported(path: Path) -> tuple[Any, list[str]]:
    """A model ``export`` wrote, loaded uncompiled.

    Args:
        path: its ``.keras`` file.

    Returns:
        The model and its class names.

    Raises:
        SearchError: naming ``path`` when it is a folder, missing, not a readable Keras model,
            or a model without class names.
    """
    if path.is_dir():
        inside = path / EXPORT_FILE
        if inside.is_file():
            raise SearchError(f"{path}: is a folder; give its model file, e.g. {inside}")
        raise SearchError(
            f"{path}: is a folder, not a model file; give the .keras file that"
            " `python -m search export RUN` wrote"
        )
    if not path.is_file():
        raise SearchError(f"{path}: no such model file; write one with `python -m search export RUN`")
    try:
        with open(path, "rb"):
            pass
    except PermissionError:  # else named "not a Keras model file", as zipfile cannot open it
        raise SearchError(f"{path}: {UNREADABLE}") from None
    _refuse_run_model(path)
    check_archive(path, str(path), EXPORTED)
    try:
        model = keras.models.load_model(path, compile=False)
    except Exception as exc:  # Keras raises ValueError, OSError, zipfile errors, ...
        reason = one_line(str(exc), REASON_WIDTH)
        raise SearchError(
            f"{path}: not a readable Keras model ({type(exc).__name__}: {reason}); {EXPORTED}"
        ) from None
    try:
        names = class_names_of(model)
    except ValueError as exc:
        raise SearchError(f"{path}: {exc}") from None
    channels = model.input.shape[-1]
    if channels not in IMAGE_MODES:
        raise SearchError(
            f"{path}: the model takes images of {channels} channels; predict reads image files"
            " of 1 to 4 (gray, gray and alpha, RGB, RGBA): call the model from Python on your arrays"
        )
    return model, names


def _refuse_run_model(path: Path) -> None:
    """SearchError when ``path`` is an image run's own model (``best_model.keras``), which
    holds no class names: it names the export that writes the model predict takes."""
    run = RunFolder(path.parent)
    if not (run.exists() and path.resolve() == run.model_file.resolve()):
        return
    try:
        unit = (run.read_meta().get("data") or {}).get("unit", "images")
    except RunFolderError:  # a damaged run.json: the model's own check speaks
        return
    if unit != "images":  # export saves a model of rows as it trained: predict takes none
        return
    export = shlex.quote(str(run.path))
    raise SearchError(
        f"{path}: the run's own model, saved as it trained (no class names, no resizing);"
        f" predict takes the model `python -m search export {export}` writes from the run"
    )


IMAGE_FILES = "give image files Pillow reads: PNG, JPEG, BMP, GIF, TIFF, WebP, ..."
"""What ``predict`` takes, for its errors."""


def read_image(path: Path, channels: int) -> np.ndarray:
    """The image as uint8 (height, width, channels), turned upright as training turns it:
    grayscale, with alpha, RGB or RGBA, as the model takes (``channels``: a key of
    :data:`IMAGE_MODES`)."""
    from PIL import Image, UnidentifiedImageError

    if path.exists() and not path.is_dir() and not path.is_file():  # read, a pipe would block
        raise SearchError(f"not a regular file (a device, pipe or socket); {IMAGE_FILES}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            warnings.filterwarnings("ignore", category=UserWarning, module=PILLOW_MODULES)
            with Image.open(path) as opened:
                image = upright(opened)
                if is_deep_gray(image.mode):
                    return deep_gray(np.asarray(image), image.mode, channels)
                return np.asarray(image.convert(IMAGE_MODES[channels]), dtype=np.uint8)
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
        size = re.search(r"\((\d+) pixels\)", str(exc))
        raise SearchError(
            f"{f'{int(size[1]):,}' if size else 'more'} pixels, more than {Image.MAX_IMAGE_PIXELS:,}"
            " (Pillow's limit, against decompression bombs): resize it; the model resizes every image"
            " to its own input size anyway"
        ) from None
    except FileNotFoundError:
        raise SearchError("no such file") from None
    except IsADirectoryError:
        raise SearchError(f"is a folder; give the image files in it, e.g. {path / '*.png'}") from None
    except UnidentifiedImageError:
        raise SearchError(_not_an_image(path)) from None
    except PermissionError:  # an OSError, but no damage: a file of another user
        raise SearchError(UNREADABLE) from None
    except (OSError, ValueError, SyntaxError) as exc:
        raise SearchError(
            f"not a readable image ({type(exc).__name__}: {exc}): damaged or cut short; give the"
            " whole file (or save it again from an image editor)"
        ) from None


def _not_an_image(path: Path) -> str:
    """Why the file Pillow knows no image format in is refused: empty, not an image, or gone."""
    try:
        empty = path.stat().st_size == 0
    except FileNotFoundError:
        return "no such file"
    what = "an empty file (0 bytes)" if empty else "not an image (Pillow knows no image format in it)"
    return f"{what}; {IMAGE_FILES}"


def classify(model: Any, class_names: list[str], path: Path, top: int) -> list[tuple[str, float]]:
    """The ``top`` most probable classes of the image at ``path``, best first.

    Args:
        model: a model :func:`load_exported` loaded (its input's last axis: the channels).
        class_names: its class names, one per output.
        path: the image file, read as grayscale or RGB as the model takes.
        top: how many classes to return (all of them when there are fewer).

    Returns:
        (class name, probability) pairs.

    Raises:
        SearchError: the image is missing, a folder, unreadable or too large; the message
            does not name ``path``.
    """
    pixels = _pixels(path, int(model.input.shape[-1]))
    return _ranked(np.asarray(model.predict(pixels[None], verbose=0))[0], class_names, top)


def classify_all(
    model: Any, class_names: list[str], paths: Sequence[Path], top: int, batch: int = BATCH
) -> Iterator[tuple[Path, list[tuple[str, float]] | SearchError]]:
    """:func:`classify` of many images, in their order: those of one size in one call to
    the model (at most ``batch`` images read at a time), an image's error in its place.

    Args:
        model: a model :func:`load_exported` loaded.
        class_names: its class names, one per output.
        paths: the image files.
        top: how many classes each result holds.
        batch: how many images are read, and predicted together, at most.

    Yields:
        (path, its ranked classes, or the SearchError that says why it was not classified).
    """
    channels = int(model.input.shape[-1])
    for start in range(0, len(paths), batch):
        chunk = paths[start : start + batch]
        results: dict[int, list[tuple[str, float]] | SearchError] = {}
        sizes: dict[tuple[int, ...], list[tuple[int, np.ndarray]]] = {}
        for i, path in enumerate(chunk):
            try:
                pixels = _pixels(path, channels)
            except SearchError as exc:
                results[i] = exc
                continue
            sizes.setdefault(pixels.shape, []).append((i, pixels))
        for same in sizes.values():
            probabilities = np.asarray(model.predict(np.stack([p for _, p in same]), verbose=0))
            for (i, _), row in zip(same, probabilities, strict=True):
                results[i] = _ranked(row, class_names, top)
        yield from ((path, results[i]) for i, path in enumerate(chunk))


def _pixels(path: Path, channels: int) -> np.ndarray:
    """The image at ``path`` as uint8 (height, width, channels)."""
    pixels = read_image(path, channels)
    return pixels[..., None] if pixels.ndim == 2 else pixels


def _ranked(probabilities: np.ndarray, class_names: list[str], top: int) -> list[tuple[str, float]]:
    """The ``top`` (class name, probability) pairs of one image's ``probabilities``, best first."""
    order = np.argsort(-probabilities)[:top]
    return [(class_names[i], float(probabilities[i])) for i in order]
