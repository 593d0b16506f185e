"""The Optuna backend: an Oracle on ``study.ask`` / ``study.tell``."""

from search.tuners.optuna._backend import PARETO_NOTE, OptunaBackend, OptunaTuner
from search.tuners.optuna._choices import (
    JOURNAL_FILE,
    PRUNERS,
    SAMPLERS,
    check_url,
    make_pruner,
    make_sampler,
    make_storage,
)
from search.tuners.optuna._oracle import OptunaOracle
from search.tuners.optuna._translate import distribution, distributions, sample, unconditional

__all__ = [
    "JOURNAL_FILE",
    "PARETO_NOTE",
    "PRUNERS",
    "SAMPLERS",
    "OptunaBackend",
    "OptunaOracle",
    "OptunaTuner",
    "check_url",
    "distribution",
    "distributions",
    "make_pruner",
    "make_sampler",
    "make_storage",
    "sample",
    "unconditional",
]
