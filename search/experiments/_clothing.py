"""The clothing photo set: transfer learning from a pretrained base, then fine-tuning."""

from __future__ import annotations

from pathlib import Path

import keras_tuner as kt

from hypermodels import BASES, TransferModel
from hypermodels.transfer import DEFAULTS, base_names
from search.data import CLOTHING_DIR, Splits, check_clothing_dir, load_clothing, single
from search.errors import SearchError, option
from search.experiments._registry import DataOptions, Experiment, ModelOptions, register
from search.quiet import first_line_held
from search.space import Space

SEARCH_SIZE = 150
"""Images are searched at 150 x 150 (a cheap fidelity); the final model at the base's own."""


def _load(options: DataOptions) -> Splits:
    return load_clothing(
        options.data_dir,
        image_size=options.image_size or SEARCH_SIZE,
        train_size=options.train_size,
        val_size=options.val_size,
        seed=options.seed,
    )


def _check_space(space: Space) -> None:
    TransferModel.check_space(space)


def weights_argument(weights: str | None) -> str | Path | None:
    """``--weights`` as ``keras.applications`` takes it: "imagenet", a Path, or None."""
    if weights in (None, "imagenet"):
        return "imagenet"
    if weights == "none":
        return None
    return Path(weights)


def _check_options(space: Space, data: DataOptions, model: ModelOptions) -> None:
    """Every base the space may pick can be built at the search size with these weights:
    the ImageNet download (or the local file) is tried now, not in the first trial, and
    after the data folder's presence."""
    check_clothing_dir(data.data_dir)
    size = data.image_size or SEARCH_SIZE
    bases = base_names(space)
    weights = weights_argument(model.weights)
    for name in bases:
        if size < BASES[name].min_size:
            raise SearchError(
                f"{option('image_size')} {size}: {name} needs at least {BASES[name].min_size} pixels;"
                f" use a larger size or another base ({option('fix')} base=...)"
            )
    if isinstance(weights, Path):
        if len(bases) > 1:
            raise SearchError(
                f"{option('weights')} {weights}: one weights file fits one base, but the space chooses"
                f" among {', '.join(bases)}; fix the base with {option('fix')} base=NAME"
            )
        if not weights.is_file():
            what = "a folder, not a weights file" if weights.is_dir() else "no such file"
            raise SearchError(
                f"{option('weights')} {weights}: {what}; give a weights file of {bases[0]} without"
                f" its top (e.g. saved with base.save_weights), {option('weights')} imagenet, or"
                f" {option('weights')} none"
            )
    if weights is None:
        return
    for name in bases:
        try:
            with first_line_held():
                BASES[name].create(max(BASES[name].min_size, 75), weights)
        except Exception as exc:  # Keras raises a bare Exception for a failed download
            reason = " ".join(str(exc).split())[:300]
            if isinstance(weights, Path):
                raise SearchError(
                    f"{option('weights')} {weights}: not loadable into {name} without its top ({reason});"
                    f" give that base's weights file, {option('weights')} imagenet, or"
                    f" {option('weights')} none"
                ) from None
            raise SearchError(
                f"{option('weights')} imagenet: could not get the ImageNet weights of {name} ({reason})."
                " Keras downloads them once into ~/.keras/models; without internet access,"
                f" pass a local weights file with {option('weights')} PATH, or start from random weights"
                f" with {option('weights')} none"
            ) from None


def _hypermodel(space: Space, splits: Splits, options: ModelOptions) -> kt.HyperModel:
    return TransferModel(
        space,
        image_size=int(single(splits.x_train, "clothing").shape[1]),
        num_classes=len(splits.class_names),
        weights=weights_argument(options.weights),
        seed=options.seed,
        dtype_policy=options.dtype_policy,
    )


def _final_image_size(hyperparameters: dict[str, object]) -> int:
    return BASES[str(hyperparameters.get("base", DEFAULTS["base"]))].native_size


CLOTHING = Experiment(
    name="clothing",
    description="clothing photos (10 classes): a pretrained base (Xception by default) with a"
    " tuned head, searched at 150x150, the final model at the base's size",
    space_file="clothing.toml",
    load=_load,
    check_space=_check_space,
    hypermodel=_hypermodel,
    default_train_size=None,
    default_val_size=None,
    budgets={"hyperband": (None, 6), "random": (8, 6), "bayesian": (8, 6), "optuna": (12, 6)},
    default_image_size=SEARCH_SIZE,
    default_weights="imagenet",
    default_data_dir=CLOTHING_DIR,
    check_options=_check_options,
    final_image_size=_final_image_size,
    metrics=("accuracy", "loss"),
    model_defaults=DEFAULTS,
)
register(CLOTHING)
