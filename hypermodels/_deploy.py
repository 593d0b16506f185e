"""A trained model wrapped for use: raw uint8 images of any size in, class probabilities out.

The class names travel inside the ``.keras`` file, in the last layer's config. Loading it
needs this package imported (``import hypermodels``), which registers the custom layers.
"""

from __future__ import annotations

from typing import Any

import keras


@keras.saving.register_keras_serializable(package="hypermodels")
class ClassNames(keras.layers.Layer):
    """Passes class probabilities through; keeps the names of the classes in its config."""

    def __init__(
        self,
        class_names: list[str],
        name: str | None = "class_names",
        trainable: bool = False,
        dtype: Any = None,
    ) -> None:
        super().__init__(name=name, trainable=trainable, dtype=dtype)
        self.class_names = [str(c) for c in class_names]

    def call(self, inputs: Any) -> Any:
        return inputs

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "class_names": self.class_names}


def deployable(
    model: keras.Model,
    class_names: list[str] | tuple[str, ...],
    image_shape: tuple[int, ...],
    scale: float = 1.0,
) -> keras.Model:
    """``model`` (trained on ``image_shape``, H x W x C, images) behind a uint8 input of any
    height and width, resized inside (bilinear) to H x W and multiplied by ``scale`` (the
    model's inputs per pixel value, e.g. 1/255 for images in [0, 1]), with the class names
    as the last layer.

    Args:
        model: the trained classifier, one output (probability) per class.
        class_names: the names of its outputs, in order; stored in the returned model.
        image_shape: the (height, width, channels) the model was trained on.
        scale: what each pixel value is multiplied by before the model (1.0: nothing).

    Returns:
        A new model taking uint8 images of shape (batch, any height, any width, channels).

    Raises:
        ValueError: the model has not one output per class name.
    """
    height, width, channels = image_shape
    pixels = keras.Input((None, None, channels), dtype="uint8", name="image")
    resized = keras.layers.Resizing(height, width, name="resize")(pixels)
    if scale != 1.0:
        resized = keras.layers.Rescaling(scale, name="rescale")(resized)
    outputs = model(resized)  # a Sequential model loaded from a file has no input until called
    if len(class_names) != outputs.shape[-1]:
        raise ValueError(f"{len(class_names)} class names for a model with {outputs.shape[-1]} outputs")
    probabilities = ClassNames(list(class_names))(outputs)
    return keras.Model(pixels, probabilities, name=f"{model.name}_deployable")


def class_names_of(model: keras.Model) -> list[str]:
    """The class names stored by :func:`deployable`.

    Args:
        model: a model :func:`deployable` built (or one loaded from its ``.keras`` file).

    Returns:
        The names of its outputs, in order.

    Raises:
        ValueError: the model has no ``class_names`` layer (one :func:`deployable` did not build).
    """
    try:
        return list(model.get_layer("class_names").class_names)
    except ValueError:
        raise ValueError(
            "the model has no class names: predict takes only the image classifiers that"
            " `python -m search export RUN` writes; it saves other models (this one) as they"
            " trained: load them with keras.saving.load_model and call its predict"
        ) from None
