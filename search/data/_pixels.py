"""Pixels of images as a model takes them: 8 bits per channel, whatever the file holds."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from PIL import Image

CORRUPT_EXIF = r".*[Cc]orrupt EXIF"
"""Pillow's warnings of damaged EXIF data (a regular expression): the pixels still read, so
:func:`upright` is kept from printing one per file."""
IMAGE_MODES = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}
OPAQUE = 255
"""Pillow's mode for an image of each number of channels a model may take."""


def upright(image: Image.Image) -> Image.Image:
    """``image`` turned as its EXIF orientation says (a photo taken with the camera turned
    stores its pixels sideways); training and ``predict`` read every image through it, with
    :data:`CORRUPT_EXIF` warnings ignored.

    Args:
        image: an image Pillow opened.

    Returns:
        The image as it is meant to be seen: a new one where the orientation turns it.
    """
    from PIL import ImageOps

    return ImageOps.exif_transpose(image)


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
