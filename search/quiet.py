"""Library noise kept out of the way (unless ``--debug``): the CLI and the API call this."""

from __future__ import annotations

import logging
import os
import warnings

LIBRARY_WARNINGS = (
    # Keras, loading a checkpoint into a model whose optimizer is not built yet (the chosen
    # trial's model, a continued Hyperband trial): only the weights are wanted.
    "Skipping variable loading for optimizer",
    # scikit-learn, fitting BayesianOptimization's Gaussian process on few trials.
    "The optimal value found for dimension",
)
NAN_WARNINGS = "All-NaN (axis|slice) encountered"
"""NumPy's, from KerasTuner's metric history when a trial's objective is NaN: the trial
is recorded failed with why, which the progress line says."""


def quiet_libraries() -> None:
    """Keep TensorFlow's C++ and Python logs (e.g. per-trial retracing notes) and the
    libraries' housekeeping warnings out of the way."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("ABSL_MIN_LOG_LEVEL", "2")
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    for message in LIBRARY_WARNINGS:
        warnings.filterwarnings("ignore", message=message, category=UserWarning)
    warnings.filterwarnings("ignore", message=NAN_WARNINGS, category=RuntimeWarning, module="keras_tuner")
