"""Interchangeable search backends behind one interface."""

from search.tuners import (
    _keras_tuner,  # noqa: F401  (registers random, hyperband, bayesian)
    optuna,  # noqa: F401  (registers optuna)
)
from search.tuners._atomic import check_tuner_state
from search.tuners._keras_tuner import hyperband_schedule, show_trial_tracebacks
from search.tuners._observed import (
    MAX_CONSECUTIVE_FAILURES,
    EnvironmentStop,
    Guarded,
    ObservedTuner,
    Observer,
    ObserverError,
    SearchTimeUp,
    TrialQuotaReached,
    TrialsKeepFailing,
)
from search.tuners._registry import Backend, Budget, TunerOptions, WarmTrials, get, names, register
from search.tuners._seeds import global_randomness_kept, offset_seed
from search.tuners._state import check_state_present

__all__ = [
    "MAX_CONSECUTIVE_FAILURES",
    "Backend",
    "Budget",
    "EnvironmentStop",
    "Guarded",
    "ObservedTuner",
    "Observer",
    "ObserverError",
    "SearchTimeUp",
    "TrialQuotaReached",
    "TrialsKeepFailing",
    "TunerOptions",
    "WarmTrials",
    "check_state_present",
    "check_tuner_state",
    "get",
    "global_randomness_kept",
    "hyperband_schedule",
    "names",
    "offset_seed",
    "register",
    "show_trial_tracebacks",
]
