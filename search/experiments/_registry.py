"""Experiments: a data set, a hypermodel and a default space, under one name."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import keras_tuner as kt

from search.data import Splits
from search.errors import SearchError, SpaceError
from search.space import Space, load_space


@dataclass(frozen=True)
class DataOptions:
    """How the user asked for the data to be read and split."""

    data_dir: Path | None = None
    train_size: int | None = None
    val_size: int | None = 10000
    seed: int = 0
    image_size: int | None = None
    """Square size images are resized to (image-folder experiments)."""


@dataclass(frozen=True)
class ModelOptions:
    """How the user asked models to be built."""

    seed: int = 0
    weights: str | None = None
    """Pretrained weights of a transfer-learning base: "imagenet", a file, or "none"."""
    dtype_policy: str = "float32"
    """Keras' dtype policy for the models built ("float32" or "mixed_bfloat16")."""


@dataclass(frozen=True)
class Experiment:
    """What ``python -m search run NAME`` searches."""

    name: str
    description: str
    space_file: str
    load: Callable[[DataOptions], Splits]
    check_space: Callable[[Space], None]
    hypermodel: Callable[[Space, Splits, ModelOptions], kt.HyperModel]
    default_train_size: int | None = None
    default_val_size: int | None = 10000
    budgets: dict[str, tuple[int | None, int]] = field(default_factory=dict)
    """Per tuner: (max_trials, max_epochs) when the user gives neither."""
    default_image_size: int | None = None
    """None: the images have one size (``--image-size`` is refused)."""
    default_weights: str | None = None
    """None: models start from random weights (``--weights`` is refused)."""
    check_options: Callable[[Space, DataOptions, ModelOptions], None] | None = None
    """Checks that need the space (e.g. that weights exist for every base); before any work."""
    final_image_size: Callable[[dict[str, object]], int] | None = None
    """The image size the final model is trained at, from the chosen hyperparameters."""

    def default_space_path(self) -> Path:
        return Path(str(resources.files("spaces") / self.space_file))

    def load_space(self, path: Path | None = None) -> Space:
        """The user's space file (or the default), checked against the hypermodel."""
        space = load_space(path or self.default_space_path())
        try:
            self.check_space(space)
        except ValueError as exc:
            raise SpaceError(str(exc)) from None
        return space


_EXPERIMENTS: dict[str, Experiment] = {}


def register(experiment: Experiment) -> None:
    _EXPERIMENTS[experiment.name] = experiment


def names() -> list[str]:
    return sorted(_EXPERIMENTS)


def get(name: str) -> Experiment:
    """The experiment called ``name``; SearchError listing the valid names otherwise."""
    try:
        return _EXPERIMENTS[name]
    except KeyError:
        raise SearchError(
            f"unknown experiment {name!r}; choose one of: {', '.join(names())}"
        ) from None
