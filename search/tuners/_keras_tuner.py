"""KerasTuner's own algorithms: RandomSearch, Hyperband and BayesianOptimization."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import keras_tuner as kt

from search.tuners._observed import ObservedTuner, Observer
from search.tuners._registry import Budget, TunerOptions, register

PROJECT = "tuner"
MAX_CONSECUTIVE_FAILURES = 3


class RandomTuner(ObservedTuner, kt.RandomSearch):
    """RandomSearch with observers."""


class HyperbandTuner(ObservedTuner, kt.Hyperband):
    """Hyperband with observers."""


class BayesianTuner(ObservedTuner, kt.BayesianOptimization):
    """BayesianOptimization with observers."""


def _common(directory: Path, seed: int) -> dict:
    return {
        "seed": seed,
        "directory": str(directory.parent),
        "project_name": directory.name,
        "overwrite": False,
        "max_consecutive_failed_trials": MAX_CONSECUTIVE_FAILURES,
    }


@dataclass(frozen=True)
class RandomBackend:
    name: str = "random"
    description: str = "KerasTuner RandomSearch: independent random configurations"

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
        tuner = RandomTuner(
            hypermodel, objective=objective, max_trials=budget.max_trials,
            **_common(directory, seed),
        )  # fmt: skip
        tuner.observers = list(observers)
        return tuner

    def check(self, options: TunerOptions, budget: Budget) -> None:
        options.refuse_optuna_only(self.name)

    def plan(self, budget: Budget) -> tuple[int, int]:
        trials = budget.max_trials or 1
        return trials, trials * budget.max_epochs


@dataclass(frozen=True)
class BayesianBackend:
    name: str = "bayesian"
    description: str = "KerasTuner BayesianOptimization: a Gaussian process picks what to try"

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
        trials = budget.max_trials or 1
        tuner = BayesianTuner(
            hypermodel, objective=objective, max_trials=trials,
            num_initial_points=max(2, min(trials // 3, 10)), **_common(directory, seed),
        )  # fmt: skip
        tuner.observers = list(observers)
        return tuner

    def check(self, options: TunerOptions, budget: Budget) -> None:
        options.refuse_optuna_only(self.name)

    def plan(self, budget: Budget) -> tuple[int, int]:
        trials = budget.max_trials or 1
        return trials, trials * budget.max_epochs


@dataclass(frozen=True)
class HyperbandBackend:
    name: str = "hyperband"
    description: str = "KerasTuner Hyperband: many short trials, the best trained longer"

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
        tuner = HyperbandTuner(
            hypermodel, objective=objective, max_epochs=budget.max_epochs,
            factor=budget.factor, **_common(directory, seed),
        )  # fmt: skip
        # Hyperband runs its whole schedule; --max-trials caps it (the oracle honours it).
        tuner.oracle.max_trials = budget.max_trials
        tuner.observers = list(observers)
        return tuner

    def check(self, options: TunerOptions, budget: Budget) -> None:
        options.refuse_optuna_only(self.name)

    def plan(self, budget: Budget) -> tuple[int, int]:
        return hyperband_schedule(budget)


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


for _backend in (RandomBackend(), HyperbandBackend(), BayesianBackend()):
    register(_backend)
