"""``--tuner optuna``: an Optuna study behind KerasTuner's Tuner, same results format."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Literal

import keras_tuner as kt
import optuna

from search.compat import optuna as compat_optuna
from search.errors import SearchError
from search.tuners._libraries import prepare
from search.tuners._observed import ORACLE_FAILURE_LIMIT, ObservedTuner, Observer
from search.tuners._registry import Budget, TunerOptions, register
from search.tuners._seeds import offset_seed
from search.tuners.optuna._choices import make_pruner, make_sampler, make_storage
from search.tuners.optuna._oracle import WARM_ATTR, OptunaOracle, warm_trials
from search.tuners.optuna._translate import distributions

StudyGoal = Literal["maximize", "minimize"]
"""An Optuna study direction, as ``optuna.create_study`` takes it."""
DEFAULT_TRIALS = 10
"""Trials of an Optuna search whose budget gives none."""
PARETO_NOTE = (
    "--objective pareto: Optuna does not prune studies with two objectives, so every"
    " trial runs all its epochs"
)


class OptunaTuner(ObservedTuner, kt.Tuner):
    """KerasTuner's Tuner driven by an :class:`OptunaOracle`, with observers."""


def _study(
    options: TunerOptions, budget: Budget, seed: int, run_dir: Path, objective: kt.Objective
) -> optuna.Study:
    space = options.space
    assert space is not None
    sampler = make_sampler(options.sampler or "tpe", seed, options.pareto)
    pruner = make_pruner("none" if options.pareto else options.pruner or "median",
                         budget.max_epochs)  # fmt: skip
    storage = make_storage(options.storage, run_dir)
    single: StudyGoal = "maximize" if objective.direction == "max" else "minimize"
    directions: list[StudyGoal] = ["maximize", "minimize"] if options.pareto else [single]
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        storage=storage, sampler=sampler, pruner=pruner, study_name=options.study_name,
        directions=directions, load_if_exists=True,
    )  # fmt: skip
    fingerprint = study.user_attrs.get("space_fingerprint")
    if fingerprint is None and options.joining:  # its first trials are the run's to add
        raise SearchError(
            f"study {options.study_name!r} in {options.storage or run_dir}: the run has not set it up"
            " yet (its baseline, its earlier runs' trials); start the worker again once the run's"
            " search has begun (a run stopped before that: resume it first)"
        )
    if fingerprint is None:
        _first_trials(study, options, objective)
        # Last: a study with its space recorded is a resumed one, which has its first trials.
        study.set_user_attr("space", space.to_dict())
        study.set_user_attr("space_fingerprint", space.fingerprint())
    elif fingerprint != space.fingerprint():
        raise SearchError(
            f"study {options.study_name!r} in {options.storage or run_dir} belongs to another"
            f" space ({fingerprint}, this one is {space.fingerprint()}); use another run name"
        )
    if len(study.directions) != len(directions):
        raise SearchError(
            f"study {options.study_name!r} has {len(study.directions)} objective(s), this"
            f" search {len(directions)}; use another run name"
        )
    if fingerprint is not None and study.trials:  # resumed: seeded as new, it would repeat them
        resumed = offset_seed(seed, len(study.trials))
        study.sampler = make_sampler(options.sampler or "tpe", resumed, options.pareto)
    return study


def _first_trials(study: optuna.Study, options: TunerOptions, objective: kt.Objective) -> None:
    """A new study's first trials: the earlier runs' finished ones (``--warm-start``) and
    the baseline (the space's defaults) queued to run first, as with KerasTuner's; those a
    process killed while adding them had already added are not added again."""
    space = options.space
    assert space is not None
    trials = study.get_trials(deepcopy=False)
    if options.warm is not None:
        added = sum(WARM_ATTR in t.user_attrs for t in trials)
        study.add_trials(warm_trials(options.warm.records, space, objective)[added:])
    if options.baseline and not any(t.user_attrs.get("baseline") for t in trials):
        searched = distributions(space)
        defaults = {k: v for k, v in space.defaults().items() if k in searched}
        study.enqueue_trial(defaults, user_attrs={"baseline": True})


@dataclass(frozen=True)
class OptunaBackend:
    """The ``--tuner optuna`` backend: an :class:`OptunaTuner` on the run's study."""

    name: str = "optuna"
    description: str = "Optuna: TPE (or another sampler), epoch-level pruning, Pareto search"

    def check(self, options: TunerOptions, budget: Budget) -> None:
        if options.space is None:
            raise SearchError("the Optuna backend needs the search space")
        distributions(options.space)  # a space Optuna cannot express is refused here
        make_sampler(options.sampler or "tpe", 0, options.pareto)
        make_pruner(options.pruner or "median", budget.max_epochs)
        if options.storage is not None:
            make_storage(options.storage, Path("."))  # reachable, before any work

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
        compat_optuna.check_version()
        prepare()
        directory.mkdir(parents=True, exist_ok=True)
        assert options.space is not None
        oracle = OptunaOracle(
            objective=objective,
            max_trials=budget.max_trials or DEFAULT_TRIALS,
            space=options.space,
            study=_study(options, budget, seed, options.run_dir or directory.parent, objective),
            seed=seed,
            pareto=options.pareto,
            converged_epochs=options.converged_epochs,
            max_consecutive_failed_trials=ORACLE_FAILURE_LIMIT,
            max_epochs=budget.max_epochs,
            sampler_for=partial(make_sampler, options.sampler or "tpe", multi_objective=options.pareto),
        )
        tuner = OptunaTuner(
            oracle=oracle, hypermodel=hypermodel, directory=str(directory.parent),
            project_name=directory.name, overwrite=False,
        )  # fmt: skip
        tuner.observers = list(observers)
        tuner.fidelity = options.fidelity
        return tuner

    def plan(self, budget: Budget) -> tuple[int, int]:
        trials = budget.max_trials or DEFAULT_TRIALS
        return trials, trials * budget.max_epochs


register(OptunaBackend())
