"""``images``: any folder of class folders, a CNN from scratch or a pretrained base."""

from __future__ import annotations

from dataclasses import replace

import keras_tuner as kt

from hypermodels import ImageCNN, ImageStats
from search.data import Splits, load_images
from search.errors import DataError
from search.experiments._clothing import CLOTHING, SEARCH_SIZE
from search.experiments._registry import DataOptions, Experiment, ModelOptions, register_variants
from search.space import Space

CNN_SIZE = 64
"""A CNN from scratch searches images at 64 x 64 unless --image-size says otherwise."""
FIX = (
    "pass --data-dir FOLDER: a folder with one sub-folder of images per class, or"
    " train/, validation/ and test/ folders holding such sub-folders"
)


def _loader(default_size: int):  # type: ignore[no-untyped-def]
    def load(options: DataOptions) -> Splits:
        if options.data_dir is None:
            raise DataError(f"images: no data folder; {FIX}")
        return load_images(
            options.data_dir, options.image_size or default_size, FIX,
            options.train_size, options.val_size, options.seed,
        )  # fmt: skip

    return load


def _cnn(space: Space, splits: Splits, options: ModelOptions) -> kt.HyperModel:
    return ImageCNN(
        space,
        input_shape=splits.x_train.shape[1:],
        num_classes=len(splits.class_names),
        stats=ImageStats.of(splits.x_train),
        seed=options.seed,
        dtype_policy=options.dtype_policy,
    )


IMAGES_CNN = Experiment(
    name="images",
    description="any image folder (--data-dir): a CNN from scratch (--model cnn, the default)"
    " or a pretrained base with a tuned head (--model transfer)",
    space_file="images.toml",
    load=_loader(CNN_SIZE),
    check_space=ImageCNN.check_space,
    hypermodel=_cnn,
    budgets={"hyperband": (None, 6), "random": (6, 6), "bayesian": (6, 6), "optuna": (10, 6)},
    default_val_size=None,
    default_image_size=CNN_SIZE,
)
IMAGES_TRANSFER = replace(CLOTHING, name="images", description=IMAGES_CNN.description,
                          load=_loader(SEARCH_SIZE))  # fmt: skip
register_variants({"cnn": IMAGES_CNN, "transfer": IMAGES_TRANSFER})
