"""Fashion-MNIST: 28x28 grayscale clothes, 10 classes, a CNN with a custom loop."""

from __future__ import annotations

import keras_tuner as kt

from hypermodels import DEFAULTS, ImageCNN, ImageStats
from search.data import DEFAULT_VAL_SIZE, Splits, load_fashion, single
from search.errors import SpaceError
from search.experiments._registry import DataOptions, Experiment, ModelOptions, register
from search.space import Space

IMAGE_SIZE = 28
"""Fashion-MNIST's images are 28 x 28 (the loader checks it)."""


def _load(options: DataOptions) -> Splits:
    return load_fashion(
        options.data_dir,
        val_size=options.val_size or DEFAULT_VAL_SIZE,
        train_size=options.train_size,
        seed=options.seed,
    )


def _check_space(space: Space) -> None:
    ImageCNN.check_space(space)


def _check_options(space: Space, data: DataOptions, model: ModelOptions) -> None:
    """The CNN's blocks fit the 28 x 28 images (the search's space, ``--fix`` applied)."""
    try:
        ImageCNN.check_image_size(space, IMAGE_SIZE)
    except ValueError as exc:
        raise SpaceError(str(exc)) from None


def image_cnn(space: Space, splits: Splits, options: ModelOptions) -> kt.HyperModel:
    """The CNN from scratch for the splits' image shape and classes."""
    return ImageCNN(
        space,
        input_shape=single(splits.x_train, "fashion").shape[1:],
        num_classes=len(splits.class_names),
        stats=ImageStats.of(single(splits.x_train, "fashion")),
        seed=options.seed,
        dtype_policy=options.dtype_policy,
    )


GPU_BUDGETS = {"hyperband": (None, 9), "random": (12, 9), "bayesian": (12, 9), "optuna": (20, 9)}
"""On one H100/H200 (every training image, 1-3 s an epoch): the search, then 3 finalists
of at most 20 epochs, in about 10 minutes."""

CPU_COSINE_EPOCHS = 10
"""The final trainings' length on the CPU: over seeds 0-2 of the default command (2 cores),
a cosine of 10 epochs tested 0.9236, 0.9252 and 0.9271 against the plateau's 0.9207, 0.9192
and 0.9282 after 12, 11 and 10 epochs (bench/RESULTS.md, 2026-12-05)."""

FASHION = Experiment(
    name="fashion",
    description="Fashion-MNIST (28x28 grayscale, 10 classes): a CNN searched from scratch",
    space_file="fashion.toml",
    load=_load,
    check_space=_check_space,
    check_options=_check_options,
    hypermodel=image_cnn,
    default_train_size=10000,
    default_val_size=DEFAULT_VAL_SIZE,
    budgets={"hyperband": (None, 6), "random": (6, 6), "bayesian": (6, 6), "optuna": (10, 6)},
    gpu_budgets=GPU_BUDGETS,
    gpu_space_file="fashion-gpu.toml",
    cpu_cosine_epochs=CPU_COSINE_EPOCHS,
    metrics=("accuracy", "loss"),
    model_defaults=DEFAULTS,
)
register(FASHION)
