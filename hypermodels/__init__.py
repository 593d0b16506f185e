"""KerasTuner hypermodels whose ``fit`` is a custom, compiled training loop."""

from hypermodels._augment import Augmentation
from hypermodels._bases import BASES, BasePreprocess
from hypermodels._deploy import ClassNames, class_names_of, deployable
from hypermodels._fidelity import DataFidelity, fidelity_images
from hypermodels._loop import (
    EVAL_BATCH_SIZE,
    LoopConfig,
    NonFiniteLossError,
    evaluate_model,
    fit_loop,
    replay_epochs,
)
from hypermodels._state import (
    assign_optimizer_variables,
    assign_variables,
    load_state,
    read_arrays,
    save_state,
    state_damage,
    variable_arrays,
    write_arrays,
)
from hypermodels.cnn import DEFAULTS, ImageCNN, ImageStats
from hypermodels.transfer import TransferModel, unfreeze_top

__all__ = [
    "BASES",
    "DEFAULTS",
    "EVAL_BATCH_SIZE",
    "Augmentation",
    "BasePreprocess",
    "ClassNames",
    "DataFidelity",
    "ImageCNN",
    "ImageStats",
    "LoopConfig",
    "NonFiniteLossError",
    "TransferModel",
    "assign_optimizer_variables",
    "assign_variables",
    "class_names_of",
    "deployable",
    "evaluate_model",
    "fidelity_images",
    "fit_loop",
    "load_state",
    "read_arrays",
    "replay_epochs",
    "save_state",
    "state_damage",
    "unfreeze_top",
    "variable_arrays",
    "write_arrays",
]
