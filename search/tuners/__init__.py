"""Interchangeable search backends behind one interface."""

from search.tuners import (
    _keras_tuner,  # noqa: F401  (registers random, hyperband, bayesian)
    optuna,  # noqa: F401  (registers optuna)
)
from search.tuners._keras_tuner import hyperband_schedule
from search.tuners._observed import ObservedTuner, Observer
from search.tuners._registry import Backend, Budget, TunerOptions, get, names, register

__all__ = [
    "Backend",
    "Budget",
    "ObservedTuner",
    "Observer",
    "TunerOptions",
    "get",
    "hyperband_schedule",
    "names",
    "register",
]
