"""``images``: any folder of class folders, a CNN from scratch or a pretrained base."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from hypermodels import DEFAULTS, ImageCNN
from search.data import Splits, load_images
from search.errors import DataError, SpaceError, option
from search.experiments._clothing import CLOTHING, SEARCH_SIZE
from search.experiments._fashion import image_cnn
from search.experiments._registry import DataOptions, Experiment, ModelOptions, register_variants
from search.space import Space

CNN_SIZE = 64
"""A CNN from scratch searches images at 64 x 64 unless --image-size says otherwise."""
FIX = (
    f"pass {option('data_dir')} FOLDER: a folder with one sub-folder of images per class, or"
    " train/, validation/ and test/ folders holding such sub-folders"
)


def _loader(default_size: int) -> Callable[[DataOptions], Splits]:
    """The data loader at ``default_size`` unless --image-size says otherwise."""

    def load(options: DataOptions) -> Splits:
        if options.data_dir is None:
            raise DataError(f"images: no data folder; {FIX}")
        return load_images(
            options.data_dir, options.image_size or default_size, FIX,
            options.train_size, options.val_size, options.seed,
        )  # fmt: skip

    return load


def _check_cnn_options(space: Space, data: DataOptions, model: ModelOptions) -> None:
    """The CNN's blocks fit the images at the size searched (``--image-size``)."""
    try:
        ImageCNN.check_image_size(space, data.image_size or CNN_SIZE)
    except ValueError as exc:
        raise SpaceError(f"{exc}, or search larger images ({option('image_size')})") from None


IMAGES_CNN = Experiment(
    name="images",
    description="any image folder (--data-dir): a CNN from scratch (--model cnn, the default)"
    " or a pretrained base with a tuned head (--model transfer)",
    space_file="images.toml",
    load=_loader(CNN_SIZE),
    check_space=ImageCNN.check_space,
    check_options=_check_cnn_options,
    hypermodel=image_cnn,
    budgets={"hyperband": (None, 6), "random": (6, 6), "bayesian": (6, 6), "optuna": (10, 6)},
    default_val_size=None,
    default_image_size=CNN_SIZE,
    metrics=("accuracy", "loss"),
    model_defaults=DEFAULTS,
)
IMAGES_TRANSFER = replace(CLOTHING, name="images", description=IMAGES_CNN.description,
                          load=_loader(SEARCH_SIZE))  # fmt: skip
register_variants({"cnn": IMAGES_CNN, "transfer": IMAGES_TRANSFER})
