"""KerasTuner's own algorithms: RandomSearch, Hyperband and BayesianOptimization."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import keras_tuner as kt

from search.tuners._observed import ObservedTuner, Observer
from search.tuners._registry import Budget, TunerOptions, register

MAX_CONSECUTIVE_FAILURES = 3


class RandomTuner(ObservedTuner, kt.RandomSearch):
    """RandomSearch with observers."""


class HyperbandTuner(ObservedTuner, kt.Hyperband):
    """Hyperband with observers."""


class BayesianTuner(ObservedTuner, kt.BayesianOptimization):
    """BayesianOptimization with observers."""


def _random(hypermodel: kt.HyperModel, objective: kt.Objective, budget: Budget, seed: int,
            directory: Path) -> kt.Tuner:  # fmt: skip
    return RandomTuner(
        hypermodel, objective=objective, max_trials=budget.max_trials or 1, seed=seed,
        directory=str(directory.parent), project_name=directory.name, overwrite=False,
        max_consecutive_failed_trials=MAX_CONSECUTIVE_FAILURES,
    )  # fmt: skip


def _bayesian(hypermodel: kt.HyperModel, objective: kt.Objective, budget: Budget, seed: int,
              directory: Path) -> kt.Tuner:  # fmt: skip
    trials = budget.max_trials or 1
    return BayesianTuner(
        hypermodel, objective=objective, max_trials=trials,
        num_initial_points=max(2, min(trials // 3, 10)), seed=seed,
        directory=str(directory.parent), project_name=directory.name, overwrite=False,
        max_consecutive_failed_trials=MAX_CONSECUTIVE_FAILURES,
    )  # fmt: skip


def _hyperband(hypermodel: kt.HyperModel, objective: kt.Objective, budget: Budget, seed: int,
               directory: Path) -> kt.Tuner:  # fmt: skip
    tuner = HyperbandTuner(
        hypermodel, objective=objective, max_epochs=budget.max_epochs, factor=budget.factor,
        seed=seed, directory=str(directory.parent), project_name=directory.name,
        overwrite=False, max_consecutive_failed_trials=MAX_CONSECUTIVE_FAILURES,
    )  # fmt: skip
    # Hyperband runs its whole schedule; --max-trials caps it (the oracle honours it).
    tuner.oracle.max_trials = budget.max_trials
    return tuner


def _trials_times_epochs(budget: Budget) -> tuple[int, int]:
    trials = budget.max_trials or 1
    return trials, trials * budget.max_epochs


@dataclass(frozen=True)
class KerasTunerBackend:
    """One of KerasTuner's tuners; ``overwrite=False`` lets a run reload its own state."""

    name: str
    description: str
    factory: Callable[[kt.HyperModel, kt.Objective, Budget, int, Path], kt.Tuner]
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
        tuner = self.factory(hypermodel, objective, budget, seed, directory)
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
