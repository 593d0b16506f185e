"""KerasTuner hypermodels whose ``fit`` is a custom, compiled training loop."""

from hypermodels._augment import Augmentation
from hypermodels._loop import LoopConfig, NonFiniteLossError, evaluate_model, fit_loop
from hypermodels.cnn import DEFAULTS, ImageCNN, ImageStats

__all__ = [
    "DEFAULTS",
    "Augmentation",
    "ImageCNN",
    "ImageStats",
    "LoopConfig",
    "NonFiniteLossError",
    "evaluate_model",
    "fit_loop",
]
