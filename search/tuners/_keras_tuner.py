"""KerasTuner's own algorithms: RandomSearch, Hyperband and BayesianOptimization."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras_tuner as kt
from keras_tuner.src import config as kt_config

from search.tuners._observed import ObservedTuner, Observer
from search.tuners._registry import MAX_CONSECUTIVE_FAILURES, Budget, TunerOptions, register

MIN_INITIAL_POINTS = 2
MAX_INITIAL_POINTS = 10
INITIAL_SHARE = 3
"""BayesianOptimization starts from random points: a third of the trials, 2 to 10."""


def show_trial_tracebacks(show: bool) -> None:
    """Whether KerasTuner prints a failed trial's traceback as it fails: its ``DEBUG`` flag,
    on by default, with no public switch. Off unless ``--debug``: each trial's record and
    progress line keep a one-line reason, and --debug still shows the whole traceback."""
    kt_config.DEBUG = show


show_trial_tracebacks(False)


def oracle_seed(seed: int) -> int:
    """The seed for a KerasTuner oracle: they take 0 as no seed at all (a random one each
    run), so ``--seed 0``, the default, would not repeat; every seed is shifted by one."""
    return seed + 1


def default_values(space: kt.HyperParameters) -> dict[str, Any]:
    """The defaults of a KerasTuner space's active hyperparameters."""
    hps = kt.HyperParameters()
    for hp in space.space:
        hps.merge([hp])
        if hps.is_active(hp):
            hps.values[hp.name] = hp.default
    return hps.values


class BaselineFirst(kt.Oracle):
    """Oracle mixin: the first configuration tried is the space's defaults, the baseline a
    search has to beat; after it (and after a resume), the oracle's own random values."""

    baseline: bool = True

    def _random_values(self) -> dict[str, Any] | None:
        if self.baseline:
            values = default_values(self.hyperparameters)
            if not self._duplicate(values):
                return values
        return super()._random_values()


class RandomOracle(BaselineFirst, kt.oracles.RandomSearchOracle):
    """RandomSearch's oracle, baseline first."""


class HyperbandOracle(BaselineFirst, kt.oracles.HyperbandOracle):
    """Hyperband's oracle; the baseline opens the first bracket."""


class BayesianOracle(BaselineFirst, kt.oracles.BayesianOptimizationOracle):
    """BayesianOptimization's oracle; the baseline is the first of its random points."""


class RandomTuner(ObservedTuner, kt.Tuner):
    """RandomSearch (KerasTuner's plain Tuner with its oracle) with observers."""


class HyperbandTuner(ObservedTuner, kt.Hyperband):
    """Hyperband with observers; built on a given oracle, so ``kt.Hyperband.__init__`` (which
    makes its own) is skipped and only its epoch-scheduling methods are used."""

    def __init__(self, hypermodel: kt.HyperModel, oracle: kt.Oracle, directory: Path) -> None:
        kt.Tuner.__init__(
            self, oracle=oracle, hypermodel=hypermodel, directory=str(directory.parent),
            project_name=directory.name, overwrite=False,
        )  # fmt: skip


class BayesianTuner(ObservedTuner, kt.Tuner):
    """BayesianOptimization (KerasTuner's plain Tuner with its oracle) with observers."""


def _tuner(cls: type[kt.Tuner], hypermodel: kt.HyperModel, oracle: kt.Oracle,
           directory: Path) -> kt.Tuner:  # fmt: skip
    return cls(
        oracle=oracle, hypermodel=hypermodel, directory=str(directory.parent),
        project_name=directory.name, overwrite=False,
    )  # fmt: skip


def _random(hypermodel: kt.HyperModel, objective: kt.Objective, budget: Budget, seed: int,
            directory: Path, baseline: bool) -> kt.Tuner:  # fmt: skip
    oracle = RandomOracle(
        objective=objective, max_trials=budget.max_trials or 1, seed=oracle_seed(seed),
        max_consecutive_failed_trials=MAX_CONSECUTIVE_FAILURES,
    )  # fmt: skip
    oracle.baseline = baseline
    return _tuner(RandomTuner, hypermodel, oracle, directory)


def initial_points(trials: int) -> int:
    """The random points BayesianOptimization fits its first Gaussian process on."""
    return max(MIN_INITIAL_POINTS, min(trials // INITIAL_SHARE, MAX_INITIAL_POINTS))


def _bayesian(hypermodel: kt.HyperModel, objective: kt.Objective, budget: Budget, seed: int,
              directory: Path, baseline: bool) -> kt.Tuner:  # fmt: skip
    trials = budget.max_trials or 1
    oracle = BayesianOracle(
        objective=objective, max_trials=trials, num_initial_points=initial_points(trials),
        seed=oracle_seed(seed), max_consecutive_failed_trials=MAX_CONSECUTIVE_FAILURES,
    )  # fmt: skip
    oracle.baseline = baseline
    return _tuner(BayesianTuner, hypermodel, oracle, directory)


def _hyperband(hypermodel: kt.HyperModel, objective: kt.Objective, budget: Budget, seed: int,
               directory: Path, baseline: bool) -> kt.Tuner:  # fmt: skip
    oracle = HyperbandOracle(
        objective=objective, max_epochs=budget.max_epochs, factor=budget.factor,
        seed=oracle_seed(seed),
        max_consecutive_failed_trials=MAX_CONSECUTIVE_FAILURES,
    )  # fmt: skip
    oracle.baseline = baseline
    # Hyperband runs its whole schedule; --max-trials caps it (the oracle honours it).
    oracle.max_trials = budget.max_trials
    return HyperbandTuner(hypermodel, oracle, directory)


def _trials_times_epochs(budget: Budget) -> tuple[int, int]:
    trials = budget.max_trials or 1
    return trials, trials * budget.max_epochs


@dataclass(frozen=True)
class KerasTunerBackend:
    """One of KerasTuner's tuners; ``overwrite=False`` lets a run reload its own state."""

    name: str
    description: str
    factory: Callable[[kt.HyperModel, kt.Objective, Budget, int, Path, bool], kt.Tuner]
    planner: Callable[[Budget], tuple[int, int]]

    def check(self, options: TunerOptions, budget: Budget) -> None:
        options.refuse_optuna_only(self.name)

    def create(
        self,
        hypermodel: kt.HyperModel,
        objective: kt.Objective,
        budget: Budget,
        seed: int,
        directory: Path,
        observers: Sequence[Observer],
        options: TunerOptions,
    ) -> kt.Tuner:
        tuner = self.factory(hypermodel, objective, budget, seed, directory, options.baseline)
        tuner.observers = list(observers)
        return tuner

    def plan(self, budget: Budget) -> tuple[int, int]:
        return self.planner(budget)


def hyperband_schedule(budget: Budget) -> tuple[int, int]:
    """(trials, epochs) of one Hyperband iteration, as KerasTuner's oracle schedules it."""
    oracle = kt.oracles.HyperbandOracle(
        objective=kt.Objective("val_accuracy", "max"),
        max_epochs=budget.max_epochs,
        factor=budget.factor,
    )
    trials = epochs = 0
    for bracket in reversed(range(oracle._get_num_brackets())):
        previous = 0
        for round_ in range(oracle._get_num_rounds(bracket)):
            size = oracle._get_size(bracket, round_)
            round_epochs = oracle._get_epochs(bracket, round_)
            trials += size
            epochs += size * (round_epochs - previous)
            previous = round_epochs
    if budget.max_trials is not None and budget.max_trials < trials:
        epochs = round(epochs * budget.max_trials / trials)
        trials = budget.max_trials
    return trials, epochs


for _backend in (
    KerasTunerBackend("random", "KerasTuner RandomSearch: independent random configurations",
                      _random, _trials_times_epochs),
    KerasTunerBackend("hyperband", "KerasTuner Hyperband: many short trials, the best trained"
                      " longer", _hyperband, hyperband_schedule),
    KerasTunerBackend("bayesian", "KerasTuner BayesianOptimization: a Gaussian process picks"
                      " what to try", _bayesian, _trials_times_epochs),
):  # fmt: skip
    register(_backend)
