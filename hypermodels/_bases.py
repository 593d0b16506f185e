"""Pretrained convolutional bases from ``keras.applications``, and their weights."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras


@dataclass(frozen=True)
class Base:
    """One ``keras.applications`` network used without its top, pooled to a vector."""

    name: str
    constructor: Callable[..., keras.Model]
    preprocess: Callable[[Any], Any]
    native_size: int
    min_size: int

    def create(self, size: int, weights: str | Path | None) -> keras.Model:
        """The base for ``size`` x ``size`` RGB images; ``weights``: "imagenet" (Keras
        downloads them once), a weights file of this base without its top, or None."""
        if size < self.min_size:
            raise ValueError(f"{self.name} needs images of at least {self.min_size} pixels, got {size}")
        local = weights is not None and weights != "imagenet"
        base = self.constructor(
            include_top=False,
            weights=None if local else weights,
            input_shape=(size, size, 3),
            pooling="avg",
        )
        if local:
            # Keras loads a file of another network partly, with warnings: refuse it instead.
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                base.load_weights(str(weights))
            skipped = [str(w.message) for w in caught if "Skipping" in str(w.message)]
            if skipped:
                raise ValueError(f"{weights} does not match {self.name}: {skipped[0]}")
        return base


def _bases() -> dict[str, Base]:
    apps = keras.applications
    return {
        "xception": Base("xception", apps.Xception, apps.xception.preprocess_input, 299, 71),
        "mobilenet_v2": Base(
            "mobilenet_v2", apps.MobileNetV2, apps.mobilenet_v2.preprocess_input, 224, 32
        ),
        # EfficientNet rescales and normalizes inside the network: its preprocess_input is
        # the identity, kept for symmetry.
        "efficientnet_b0": Base(
            "efficientnet_b0", apps.EfficientNetB0, apps.efficientnet.preprocess_input, 224, 32
        ),
    }


BASES: dict[str, Base] = _bases()


@keras.saving.register_keras_serializable(package="hypermodels")
class BasePreprocess(keras.layers.Layer):
    """The base's own ``preprocess_input``, as a layer of the model (raw pixels 0-255 in)."""

    def __init__(
        self,
        base: str,
        name: str | None = None,
        trainable: bool = False,
        dtype: Any = None,
    ) -> None:
        super().__init__(name=name, trainable=trainable, dtype=dtype)
        if base not in BASES:
            raise ValueError(f"base {base!r} is not one of {', '.join(BASES)}")
        self.base = base

    def call(self, inputs: Any) -> Any:
        return BASES[self.base].preprocess(keras.ops.cast(inputs, self.compute_dtype))

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "base": self.base}
