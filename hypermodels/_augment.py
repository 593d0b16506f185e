"""On-device image augmentation: one random affine transform per image, in the step."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from keras import ops

from hypermodels._random import uniform


@dataclass(frozen=True)
class Augmentation:
    """Strengths of each random transform; zero turns a transform off.

    ``shift`` and ``zoom`` are fractions of the image size, ``rotation`` is in degrees,
    ``flip`` mirrors half of the images left to right.
    """

    flip: bool = False
    shift: float = 0.0
    zoom: float = 0.0
    rotation: float = 0.0

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Augmentation:
        """The transforms a hypermodel's configuration asks for (none unless ``augment``)."""
        if not config["augment"]:
            return cls()
        return cls(
            flip=config["flip"], shift=config["shift"], zoom=config["zoom"],
            rotation=config["rotation"],
        )  # fmt: skip

    @property
    def active(self) -> bool:
        return self.flip or self.shift > 0 or self.zoom > 0 or self.rotation > 0

    def __call__(self, images: Any, seed: Any) -> Any:
        """Transform a float NHWC batch with randomness drawn from ``seed`` (int32, shape 2)."""
        if not self.active:
            return images
        batch, height, width = images.shape[0], images.shape[1], images.shape[2]
        if batch is None:
            batch = ops.shape(images)[0]
        u = uniform((batch, 5), seed, -1.0, 1.0)
        sign = ops.where(u[:, 0] < 0, -1.0, 1.0) if self.flip else ops.ones_like(u[:, 0])
        scale = 1.0 / (1.0 + self.zoom * u[:, 1])
        angle = (self.rotation * math.pi / 180.0) * u[:, 2]
        tx = self.shift * width * u[:, 3]
        ty = self.shift * height * u[:, 4]
        cos, sin = ops.cos(angle) * scale, ops.sin(angle) * scale
        # Output pixel (x, y) samples input C + M (p - C) + t, M = R(angle) / zoom @ diag(sign, 1).
        m00, m01, m10, m11 = cos * sign, -sin, sin * sign, cos
        cx, cy = (width - 1) / 2.0, (height - 1) / 2.0
        a2 = cx - m00 * cx - m01 * cy + tx
        b2 = cy - m10 * cx - m11 * cy + ty
        zeros = ops.zeros_like(m00)
        transform = ops.stack([m00, m01, a2, m10, m11, b2, zeros, zeros], axis=1)
        return ops.image.affine_transform(
            images, transform, interpolation="bilinear", fill_mode="constant", fill_value=0.0
        )
