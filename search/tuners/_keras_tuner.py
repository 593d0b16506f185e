"""KerasTuner's own algorithms: RandomSearch, Hyperband and BayesianOptimization."""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras_tuner as kt
from keras_tuner.engine.trial import TrialStatus

from search.compat import keras_tuner as compat_kt
from search.errors import SearchError, option
from search.failures import exception_line
from search.space import comparable, cross_product
from search.tuners._libraries import prepare
from search.tuners._observed import ORACLE_FAILURE_LIMIT, ObservedTuner, Observer
from search.tuners._registry import MAX_LISTED, Budget, TunerOptions, register
from search.tuners._seeds import SEEDS

WARM_ID = "warm-"
"""Prefix of the ids warm-start trials have while an oracle sees them (never a run's id)."""
HYPERBAND_WARM = (
    f"{option('warm_start')} with {option('tuner')} hyperband: Hyperband's brackets promote only"
    f" trials they ran themselves, so earlier trials would be ignored; use {option('tuner')}"
    " bayesian or optuna (they learn from them) or random (it does not repeat them)"
)
MIN_INITIAL_POINTS = 2
MAX_INITIAL_POINTS = 10
INITIAL_SHARE = 3
"""BayesianOptimization starts from random points: a third of the trials, 2 to 10."""

PARENT = "tuner/trial_id"
"""The hyperparameter by which KerasTuner's Hyperband names the trial a continuation
trains on from (its checkpoint)."""


def show_trial_tracebacks(show: bool) -> None:
    """Whether KerasTuner prints a failed trial's traceback as it fails: its ``DEBUG`` flag,
    on by default, with no public switch. Off unless ``--debug``: each trial's record and
    progress line keep a one-line reason, and --debug still shows the whole traceback.

    Args:
        show: print the tracebacks (``--debug``); False: only the one-line reasons.
    """
    compat_kt.set_debug(show)


show_trial_tracebacks(False)


def oracle_seed(seed: int) -> int:
    """The seed for a KerasTuner oracle: they take 0 as no seed at all (a random one each
    run), so ``--seed 0``, the default, would not repeat; every seed is shifted by one. The
    largest, 2**32 - 1, has no seed above it that the oracles take: it gives 1, as 0 does."""
    return seed % (SEEDS - 1) + 1


def default_values(space: kt.HyperParameters) -> dict[str, Any]:
    """The defaults of a KerasTuner space's active hyperparameters."""
    hps = kt.HyperParameters()
    for hp in space.space:
        hps.merge([hp])
        if hps.is_active(hp):
            hps.values[hp.name] = hp.default
    return hps.values


def filled_values(space: kt.HyperParameters, given: dict[str, Any]) -> dict[str, Any]:
    """The active values of a KerasTuner space: ``given``'s, else the defaults."""
    hps = kt.HyperParameters()
    for hp in space.space:
        hps.merge([hp])
        if hps.is_active(hp):
            hps.values[hp.name] = given.get(hp.name, hp.default)
    return hps.values


def _hp_values(hp: Any, limit: int) -> list[Any] | None:
    """Every value a KerasTuner hyperparameter draws; None for a number without a step, one of
    more values than ``limit`` (or a type of its own)."""
    if isinstance(hp, kt.engine.hyperparameters.Fixed):
        return [hp.value]
    numerical = (kt.engine.hyperparameters.Float, kt.engine.hyperparameters.Int)
    if isinstance(hp, numerical) and hp.step is None:  # a log-scale int has no step either
        return None
    if not isinstance(hp, (*numerical, kt.engine.hyperparameters.Choice, kt.engine.hyperparameters.Boolean)):
        return None
    values = list(itertools.islice(hp.values, limit + 1))  # a stepped number's is a generator
    if len(values) > limit:
        return None  # more than a listed space holds: not listed whole (1e12 steps would hang)
    return [int(value) for value in values] if isinstance(hp, kt.engine.hyperparameters.Int) else values


def listed_values(space: kt.HyperParameters, limit: int = MAX_LISTED) -> list[dict[str, Any]] | None:
    """Every configuration of a KerasTuner space, each with its active values only.

    Args:
        space: the space, its conditional hyperparameters after their parents.
        limit: the most configurations listed.

    Returns:
        The configurations; None where a number has no step, or they (or one
        hyperparameter's values) are more than ``limit``.
    """
    return cross_product(
        space.space, lambda hp: _hp_values(hp, limit), lambda hp: hp.name,
        lambda hp, config: all(condition.is_active(config) for condition in hp.conditions), limit,
    )  # fmt: skip


class BaselineFirst(compat_kt.OracleHooks):
    """Oracle mixin: the first configuration tried is the space's defaults, the baseline a
    search has to beat; after it (and after a resume), the oracle's own random values.
    The baseline runs even when an earlier run's trial (``--warm-start``) had its values:
    each run is judged against its own baseline."""

    baseline: bool = True
    space_spent: bool = False
    """The oracle found no untried values (:meth:`random_values`): the search stopped."""

    def hash_values(self, values: dict[str, Any]) -> str:
        """KerasTuner's hash of the values as :func:`~search.space.comparable` gives them: a
        stepped float it drew (0.30000000000000004) is the default (0.3)."""
        return super().hash_values(comparable(values))

    def baseline_due(self) -> dict[str, Any] | None:
        """The defaults, while this run has not tried them and is asked to; else None."""
        if self.baseline:
            values = default_values(self.hyperparameters)
            if not compat_kt.ran_values(self, values):
                return values
        return None

    def random_values(self) -> dict[str, Any] | None:
        """The defaults while they are due (:meth:`baseline_due`), then the oracle's own;
        when it draws only tried ones, an untried configuration of a listed space
        (:meth:`untried_values`); None (and :attr:`space_spent`) when none is left."""
        values = self.baseline_due()
        if values is None:
            values = super().random_values()
            if values is None:
                values = self.untried_values()
            self.space_spent = values is None
        return values

    def untried_values(self) -> dict[str, Any] | None:
        """A configuration of the space not tried yet, drawn with the oracle's seed; None
        when every one was tried, or the space cannot be listed (:func:`listed_values`).
        KerasTuner gives up after a run of tried draws, with untried ones left."""
        listed = listed_values(self.hyperparameters)
        untried = [values for values in listed or [] if not self.is_duplicate(values)]
        if not untried:
            return None
        return random.Random(f"{self.seed}/{len(self.trials)}").choice(untried)


class WarmStarted(BaselineFirst):
    """Oracle mixin: earlier runs' finished trials (``--warm-start``) as what the oracle
    already knows. They are not its trials: never run, saved, numbered or counted against
    ``max_trials``. While it picks a trial's values they are shown to it as completed
    trials (BayesianOptimization fits its Gaussian process on them, and needs that many
    fewer random points), and random values equal to one of them are drawn again. Values
    the earlier run did not have are the space's defaults."""

    warm: tuple[dict[str, Any], ...] = ()
    """trials.json records of the earlier runs, checked against this space."""
    warm_hashes: tuple[tuple[dict[str, Any], ...], frozenset[str]] | None = None
    """:attr:`warm` and its trials' hashes, once :meth:`is_duplicate` has made them."""

    def populate_space(self, trial_id: str) -> dict[str, Any]:
        if not self.warm:
            return super().populate_space(trial_id)
        values = self.baseline_due()
        if values is not None:
            return {"status": TrialStatus.RUNNING, "values": values}
        with compat_kt.trials_shown(self, self.warm_trials()):
            return super().populate_space(trial_id)

    def warm_trials(self) -> list[kt.engine.trial.Trial]:
        """The earlier trials as completed KerasTuner trials of this space, with their score."""
        space: kt.HyperParameters = self.hyperparameters
        name = self.objective.name
        trials = []
        for number, record in enumerate(self.warm):
            hps = space.copy()
            hps.values = filled_values(space, record["hyperparameters"])
            trial = kt.engine.trial.Trial(
                hyperparameters=hps, trial_id=f"{WARM_ID}{number}", status=TrialStatus.COMPLETED
            )
            trial.score = float(record["best"][name])
            trials.append(trial)
        return trials

    def is_duplicate(self, values: dict[str, Any]) -> bool:
        """Tried by this oracle, or equal to one of the earlier runs' trials."""
        if super().is_duplicate(values):
            return True
        if self.warm_hashes is None or self.warm_hashes[0] is not self.warm:  # hashed once
            hashes = {compat_kt.values_hash(self, t.hyperparameters.values) for t in self.warm_trials()}
            self.warm_hashes = (self.warm, frozenset(hashes))
        return compat_kt.values_hash(self, values) in self.warm_hashes[1]


class RandomOracle(WarmStarted, kt.oracles.RandomSearchOracle):
    """RandomSearch's oracle, baseline first; it does not repeat warm-start trials."""


class HyperbandOracle(BaselineFirst, compat_kt.HyperbandHooks):
    """Hyperband's oracle; the baseline opens the first bracket. Where the space has no
    untried configuration left before a bracket's first round is full, that bracket's rounds
    shrink in proportion to the trials of its first round that completed, so that the best
    of them still train on to the longer rounds (KerasTuner's own stopped there: every
    configuration at the first round's epochs)."""

    def populate_space(self, trial_id: str) -> dict[str, Any]:
        response: dict[str, Any] = super().populate_space(trial_id)
        if response["status"] == TrialStatus.STOPPED and self.space_spent and self.mark_short_brackets():
            response = super().populate_space(trial_id)
        return response

    def round_target(self, bracket: int, round_: int) -> int:
        """Hyperband's size, or for a shrunk bracket that size scaled to its first round's
        completed trials, rounded up as Hyperband rounds (at least one a round)."""
        size = super().round_target(bracket, round_)
        done = self.first_round_done(bracket)
        return size if done is None else max(1, math.ceil(done * size / super().round_target(bracket, 0)))


class BayesianOracle(WarmStarted, kt.oracles.BayesianOptimizationOracle):
    """BayesianOptimization's oracle; the baseline is the first of its random points; its
    Gaussian process is fitted on the warm-start trials too. A configuration the process
    proposes again is replaced by random untried values, and the search stops when none
    are left (KerasTuner's own would train it again)."""

    def populate_space(self, trial_id: str) -> dict[str, Any]:
        response: dict[str, Any] = super().populate_space(trial_id)
        values = response.get("values")
        if response["status"] != TrialStatus.RUNNING or values is None or self.baseline_due() is not None:
            return response
        if self.is_duplicate(values):
            values = self.random_values()
            status = TrialStatus.STOPPED if values is None else TrialStatus.RUNNING
            return {"status": status, "values": values}
        return response


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

    def build_model(self, hp: kt.HyperParameters) -> Any:
        """The trial's model; a continuation's parent checkpoint that cannot be read fails
        the trial with an OSError naming that trial and its file; a missing one (never
        written by a fit of its own that calls no callbacks, or removed) gives new weights."""
        try:
            return super().build_model(hp)
        except OSError as exc:
            parent = hp.values.get(PARENT)
            if parent is None:
                raise
            file = compat_kt.checkpoint_file(self, parent)
            if not Path(file).exists():
                if self.say is not None:
                    self.say(
                        f"Hyperband continues trial {parent}, which kept no checkpoint ({file}:"
                        " missing; a fit of its own that calls no callbacks saves none, or it was"
                        " removed): from new weights"
                    )
                return self.build_new_model(hp)
            raise OSError(
                f"trial {parent}'s checkpoint {file} cannot be"
                f" read ({exception_line(exc)}); Hyperband continues this trial from it: restore"
                " the file, or search on in a new run"
            ) from None


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
        max_consecutive_failed_trials=ORACLE_FAILURE_LIMIT,
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
        seed=oracle_seed(seed), max_consecutive_failed_trials=ORACLE_FAILURE_LIMIT,
    )  # fmt: skip
    oracle.baseline = baseline
    return _tuner(BayesianTuner, hypermodel, oracle, directory)


def _hyperband(hypermodel: kt.HyperModel, objective: kt.Objective, budget: Budget, seed: int,
               directory: Path, baseline: bool) -> kt.Tuner:  # fmt: skip
    oracle = HyperbandOracle(
        objective=objective, max_epochs=budget.max_epochs, factor=budget.factor,
        seed=oracle_seed(seed),
        max_consecutive_failed_trials=ORACLE_FAILURE_LIMIT,
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
    warm_refused: str | None = None
    """Why ``--warm-start`` is refused (None: the oracle takes earlier trials)."""

    def check(self, options: TunerOptions, budget: Budget) -> None:
        options.refuse_optuna_only(self.name)
        if options.warm is not None and self.warm_refused is not None:
            raise SearchError(self.warm_refused)

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
        prepare()
        tuner = self.factory(hypermodel, objective, budget, seed, directory, options.baseline)
        tuner.observers = list(observers)
        tuner.fidelity = options.fidelity
        if options.warm is not None:
            tuner.oracle.warm = options.warm.records
        return tuner

    def plan(self, budget: Budget) -> tuple[int, int]:
        return self.planner(budget)


def hyperband_schedule(budget: Budget) -> tuple[int, int]:
    """(trials, epochs) of one Hyperband iteration, as KerasTuner's oracle schedules it.

    Args:
        budget: its ``max_epochs`` and ``factor`` shape the brackets; its ``max_trials``, if
            fewer, cuts the iteration short.

    Returns:
        The trials, and the epochs they train in all (a trial continued in a later round
        counts only its new epochs), both scaled down to ``max_trials`` where it is fewer.
    """
    oracle = kt.oracles.HyperbandOracle(
        objective=kt.Objective("val_accuracy", "max"),
        max_epochs=budget.max_epochs,
        factor=budget.factor,
    )
    trials = epochs = 0
    compat_kt.check_version()
    for bracket in reversed(range(compat_kt.bracket_count(oracle))):
        previous = 0
        for round_ in range(compat_kt.round_count(oracle, bracket)):
            size = compat_kt.round_size(oracle, bracket, round_)
            round_epochs = compat_kt.round_epochs(oracle, bracket, round_)
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
                      " longer", _hyperband, hyperband_schedule, HYPERBAND_WARM),
    KerasTunerBackend("bayesian", "KerasTuner BayesianOptimization: a Gaussian process picks"
                      " what to try", _bayesian, _trials_times_epochs),
):  # fmt: skip
    register(_backend)
