"""Pixels of images as a model takes them: 8 bits per channel, whatever the file holds."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from PIL import Image

PILLOW_MODULES = r"PIL\."
"""Pillow's modules (a regular expression for ``warnings``' ``module``): their UserWarnings of
damaged metadata ("Corrupt EXIF data", "Truncated File Read", a tag of too many entries),
which :func:`upright` reads, say nothing of the pixels; training and ``predict`` ignore them."""
ORIENTATION = 0x0112
"""The EXIF tag of a photo's orientation (1 to 8)."""
IMAGE_MODES = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}
OPAQUE = 255
"""Pillow's mode for an image of each number of channels a model may take."""


def upright(image: Image.Image) -> Image.Image:
    """``image`` turned as its EXIF orientation says (a photo taken with the camera turned
    stores its pixels sideways); training and ``predict`` read every image through it, with
    the warnings of :data:`PILLOW_MODULES` ignored. Pillow's ``ImageOps.exif_transpose`` also
    rewrites the EXIF data, which raises on damaged tags: only the pixels are wanted here.

    Args:
        image: an image Pillow opened.

    Returns:
        The image as it is meant to be seen: a new one where the orientation turns it; the
        image itself where it has none, or EXIF data too damaged to read.
    """
    from PIL import Image

    try:
        orientation = image.getexif().get(ORIENTATION)
    except Exception:  # struct.error, TypeError, ... of damaged EXIF: the pixels read all the same
        return image
    turns = {
        2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180,
        4: Image.Transpose.FLIP_TOP_BOTTOM, 5: Image.Transpose.TRANSPOSE, 6: Image.Transpose.ROTATE_270,
        7: Image.Transpose.TRANSVERSE, 8: Image.Transpose.ROTATE_90,
    }  # fmt: skip
    turn = turns.get(orientation) if isinstance(orientation, int) else None
    return image if turn is None else image.transpose(turn)


def is_deep_gray(mode: str) -> bool:
    """Whether Pillow's ``mode`` holds gray pixels past 8 bits (``I;16`` modes, ``I``) or
    floats (``F``), which Pillow's own conversion to 8 bits clips.

    Args:
        mode: Pillow's mode of an image.

    Returns:
        True where :func:`deep_gray` must read the image, not Pillow's ``convert``.
    """
    return mode.startswith("I") or mode == "F"


def deep_gray(pixels: np.ndarray, mode: str, channels: int) -> np.ndarray:
    """A grayscale image of 16-bit pixels (Pillow's ``I;16`` modes, or ``I`` holding values
    past 255) or of floats in [0, 1] (``F``) as 8-bit pixels, scaled (Pillow's own
    conversion clips them: nearly all white, or all black), as ``channels`` take it (RGB
    repeats the gray; an alpha channel is opaque).

    Args:
        pixels: the image as Pillow holds it, (height, width).
        mode: Pillow's mode of the image.
        channels: a key of :data:`IMAGE_MODES`.

    Returns:
        The image as uint8, (height, width) for one channel, else (height, width, channels).
    """
    values = np.nan_to_num(pixels.astype(np.float64))
    high = float(values.max()) if values.size else 0.0
    if mode == "F":
        scale = 1 / 255 if high <= 1 else 1
    else:
        scale = 257 if mode.startswith("I;16") or high > 255 else 1
    gray = np.clip(np.round(values / scale), 0, 255).astype(np.uint8)
    if channels == 1:
        return gray
    alpha = IMAGE_MODES[channels].endswith("A")
    color = np.repeat(gray[..., None], channels - alpha, axis=-1)
    if alpha:
        color = np.concatenate([color, np.full_like(color[..., :1], OPAQUE)], axis=-1)
    return color
