"""A KerasTuner Oracle backed by an Optuna study: ``study.ask`` / ``study.tell``."""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Sequence
from functools import reduce
from pathlib import Path
from typing import Any

import keras_tuner as kt
import optuna
from keras_tuner.engine.trial import TrialStatus

from search.compat import keras_tuner as compat_kt
from search.compat import optuna as compat_optuna
from search.ranking import converged_metrics, overfitting
from search.space import Fixed, Space, comparable, space_from_hyperparameters
from search.tuners._observed import ORACLE_FAILURE_LIMIT
from search.tuners._seeds import offset_seed
from search.tuners.optuna._heartbeat import STALE_AFTER, Heartbeat, fail_stale_trials, hand_over
from search.tuners.optuna._translate import distributions, grid, sample, unconditional

IDLE_SECONDS = 1.0
WARM_ATTR = "warm_start"
"""User attribute of a study's warm-start trials: the run folder each came from."""
DUPLICATE_ATTR = "duplicate_of"
"""User attribute of a trial told FAIL unrun: the number of the earlier trial whose
configuration the sampler proposed again."""
MAX_COLLISIONS = 20
"""Proposals in a row of configurations already tried after which the search stops. In a
space whose configurations :func:`grid` lists, it stops as soon as none is left untried."""
_NOT_COUNTED = ("surplus", "stale", DUPLICATE_ATTR, WARM_ATTR)
"""User attributes of the study's trials that are not this run's trials."""
_TRIED = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED, optuna.trial.TrialState.RUNNING)


def _counts(trial: optuna.trial.FrozenTrial) -> bool:
    """Whether a trial of the study counts against ``max_trials``."""
    unrun = any(key in trial.user_attrs for key in _NOT_COUNTED)
    return not unrun and trial.state != optuna.trial.TrialState.WAITING


def _trials_for(space: Space, max_trials: int) -> int:
    """``max_trials``, or one where ``space`` has nothing to search (every hyperparameter
    fixed: each trial would train the same configuration, and KerasTuner's tuners stop
    after one too) until the hypermodel declares more (:meth:`OptunaOracle.update_space`)."""
    searched = any(not isinstance(param, Fixed) for param in space)
    return max_trials if searched else min(max_trials, 1)


class OptunaOracle(kt.Oracle):
    """Each trial is ``study.ask(fixed_distributions)``, then define-by-run suggestions for
    the conditional parameters; results go back with ``study.tell``.

    With one objective, each epoch's value is reported to the study's pruner and a trial
    it prunes stops at that epoch. With ``pareto``, the study has two objectives:
    converged validation accuracy (maximized) and overfitting, the train/validation
    accuracy gap counted as 0 below 0 (minimized); Optuna does not prune such studies.
    """

    def __init__(
        self,
        objective: kt.Objective,
        max_trials: int,
        space: Space,
        study: optuna.Study,
        seed: int = 0,
        pareto: bool = False,
        converged_epochs: int = 3,
        max_consecutive_failed_trials: int | None = ORACLE_FAILURE_LIMIT,
        max_epochs: int | None = None,
        sampler_for: Callable[[int], optuna.samplers.BaseSampler] | None = None,
    ) -> None:
        self.max_trials_given = max_trials
        self.sampler_for = sampler_for
        """The study's sampler seeded with a given seed: each new trial is asked of one seeded
        for its place in the study, so that a resumed run samples what an unstopped one does
        (one generator per process would start afresh at a resume); None: the study's own."""
        self.total_trials = _trials_for(space, max_trials)
        super().__init__(
            objective=objective,
            max_trials=None,  # counted across workers in create_trial
            seed=seed,
            max_consecutive_failed_trials=max_consecutive_failed_trials,
        )
        self.space = space
        self.study = study
        self.pareto = pareto
        self.converged_epochs = converged_epochs
        self.max_epochs = max_epochs
        """A trial's epochs: it is not pruned after the last (None: unknown)."""
        self._fixed = unconditional(space)
        self._searched = frozenset(distributions(space))
        self._asked: dict[str, optuna.Trial] = {}
        self._history: dict[str, list[dict[str, float]]] = {}
        self._pruned: dict[str, int] = {}
        self._told: dict[str, set[int]] = {}
        """Steps (epochs) each trial reported to the study, a resumed one's earlier ones too."""
        self._beats: dict[str, Heartbeat] = {}
        self.stale: list[dict[str, Any]] = []
        """Trials of dead workers this process marked failed: number, KerasTuner id, retry."""
        self.space_spent = False
        """The search stopped for want of an untried configuration (:meth:`_ask_new`)."""

    def _counted(self) -> tuple[int, int]:
        """(trials that count against max_trials, of which still running)."""
        trials = [t for t in self.study.get_trials(deepcopy=False) if _counts(t)]
        running = sum(t.state == optuna.trial.TrialState.RUNNING for t in trials)
        return len(trials), running

    def _position(self, number: int) -> int:
        """How many counted trials the study numbered before ``number``: trial numbers are
        handed out atomically by the storage, so exactly the first max_trials are run."""
        return sum(1 for t in self.study.get_trials(deepcopy=False) if t.number < number and _counts(t))

    def _adopt(self, trial_id: str) -> bool:
        """Take back an interrupted trial after a resume, if the study still has it running
        (no other worker judged it stale); it is then run again from its first epoch."""
        if not trial_id.isdigit():
            return False
        for frozen in self.study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,)):
            if frozen.number == int(trial_id):
                ask = compat_optuna.running_trial(self.study, frozen)
                self._told[trial_id] = set(frozen.intermediate_values)
                self._asked[trial_id] = ask
                self._history[trial_id] = []
                self._beats[trial_id] = Heartbeat(ask)
                return True
        return False

    def stop_heartbeats(self) -> None:
        """Stop the heartbeats of the trials this process left running (the search stopped
        in one): a resume in this same process (a notebook) can then adopt them, and other
        workers judge them by their age."""
        for beat in self._beats.values():
            beat.stop()
        self._beats.clear()

    def keep_interrupted(self, owners: dict[Path, int]) -> None:
        """At a run's start or resume (not a worker's joining): the trials its stopped
        processes left running are interrupted; each goes to the process (PID) that takes
        back its tuner folder's trials (:func:`hand_over`), not failed as a dead worker's."""
        hand_over(self.study, owners)

    def _recover_stale(self) -> None:
        taken = frozenset(ask.number for ask in self._asked.values())
        for trial in fail_stale_trials(self.study, grace=STALE_AFTER, taken=taken):
            self.stale.append({
                "number": trial.number,
                "id": trial.user_attrs.get("keras_tuner_trial_id", str(trial.number)),
                "retried": "retry_of" not in trial.user_attrs,
                "seconds_silent": STALE_AFTER,
            })  # fmt: skip

    def _key(self, params: dict[str, Any]) -> tuple[tuple[str, Any], ...]:
        """A trial's configuration as configurations are compared (floats as
        :func:`~search.space.comparable` gives them); a searched parameter it lacks is taken
        at its default: one declared after the trial ran (:meth:`update_space`), which it
        ran with, or one the space of the earlier run it came from had not."""
        values = self.space.resolve({**{p.name: p.default for p in self.space}, **params})
        searched = {k: v for k, v in values.items() if k in self._searched}
        return tuple(sorted(comparable(searched).items()))

    def _tried_as(self, ask: optuna.Trial) -> int | None:
        """The number of an earlier trial (finished, pruned, running, or an earlier run's)
        with ``ask``'s configuration; None for a new one, the baseline, or a retry."""
        if "baseline" in ask.user_attrs or "retry_of" in ask.user_attrs:
            return None
        key = self._key(ask.params)
        for trial in self.study.get_trials(deepcopy=False, states=_TRIED):
            if trial.number != ask.number and self._key(trial.params) == key:
                return trial.number
        return None

    def _ask_new(self) -> tuple[optuna.Trial, dict[str, Any]] | None:
        """A study trial and its values, of a configuration not tried yet; a proposal of a
        tried one is told FAIL (:data:`DUPLICATE_ATTR`) unrun, and another is asked for
        (:meth:`_instead`). None once none is left, or after :data:`MAX_COLLISIONS` such
        proposals in a row."""
        sampler = self.study.sampler
        if self.sampler_for is not None:
            asked = len(self.study.get_trials(deepcopy=False))
            self.study.sampler = self.sampler_for(offset_seed(self.seed, asked))
        try:
            for _ in range(MAX_COLLISIONS):
                ask = self.study.ask(self._fixed)
                values = sample(ask, self.space)
                earlier = self._tried_as(ask)
                if earlier is None:
                    return ask, values
                ask.set_user_attr(DUPLICATE_ATTR, earlier)
                self.study.tell(ask, state=optuna.trial.TrialState.FAIL)
                if not self._instead(ask.number):
                    return None
        finally:
            self.study.sampler = sampler
        return None

    def _instead(self, number: int) -> bool:
        """Prepare the next ask after trial ``number`` proposed a tried configuration (a
        sampler such as TPE, which learns nothing from a FAIL, proposes it again): one of the
        untried configurations enqueued, where :func:`grid` lists the space's (False: none is
        left), else random values, seeded for the next trial's place: seeded for ``number``'s,
        as its sampler was (:attr:`sampler_for`), they would propose the same one again."""
        untried = self._untried()
        if untried is None:
            self.study.sampler = optuna.samplers.RandomSampler(seed=offset_seed(self.seed, number + 1))
            return True
        if untried:
            chosen = random.Random(offset_seed(self.seed, number)).choice(untried)
            self.study.enqueue_trial(chosen, skip_if_exists=False)
        return bool(untried)

    def _untried(self) -> list[dict[str, Any]] | None:
        """The space's configurations no trial has tried or is running; None where
        :func:`grid` does not list them."""
        configs = grid(self.space)
        if configs is None:
            return None
        tried = {self._key(t.params) for t in self.study.get_trials(deepcopy=False, states=_TRIED)}
        return [config for config in configs if self._key(config) not in tried]

    def populate_space(self, trial_id: str) -> dict[str, Any]:
        trial = self.study.ask(self._fixed)
        self._asked[trial_id] = trial
        self._history[trial_id] = []
        trial.set_user_attr("keras_tuner_trial_id", trial_id)
        return {"status": TrialStatus.RUNNING, "values": sample(trial, self.space)}

    def _start(self, ask: optuna.Trial, values: dict[str, Any]) -> tuple[str, dict[str, Any] | None, str]:
        """Status, values and id of a new trial: RUNNING, unless another worker took the
        budget's last trial between our count and our ask (``surplus``: told FAIL)."""
        trial_id = str(ask.number)
        if self._position(ask.number) >= self.total_trials:
            ask.set_user_attr("surplus", True)
            self.study.tell(ask, state=optuna.trial.TrialState.FAIL)
            return TrialStatus.STOPPED, None, trial_id
        ask.set_user_attr("keras_tuner_trial_id", trial_id)
        self._asked[trial_id] = ask
        self._history[trial_id] = []
        self._beats[trial_id] = Heartbeat(ask)
        return TrialStatus.RUNNING, values, trial_id

    def _next(self) -> tuple[str, dict[str, Any] | None, str]:
        """Status, values and id of the next trial: a new configuration while the budget
        lasts and the space has one; IDLE while other workers run the last trials (one may
        die, and its trial have to be run again); else STOPPED."""
        waiting = self.study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.WAITING,))
        counted, running = self._counted()
        if counted < self.total_trials or waiting:
            # A listed space with nothing untried left stops unasked: an idle worker asks nothing.
            new = None if not waiting and self._untried() == [] else self._ask_new()
            self.space_spent = new is None
            if new is not None:
                return self._start(*new)
        if running and (self.space_spent or counted >= self.total_trials):
            time.sleep(IDLE_SECONDS)
            return TrialStatus.IDLE, None, "stopped"
        return TrialStatus.STOPPED, None, "stopped"

    @kt.synchronized
    def create_trial(self, tuner_id: str) -> kt.engine.trial.Trial:
        """A trial numbered by the study, so that workers sharing it never reuse an id, and
        stopped once the study holds ``max_trials`` trials (across all workers) or the
        sampler proposes only configurations tried already (:meth:`_ask_new`).

        This replaces KerasTuner's ``create_trial``, whose ids count this process's trials
        only; the bookkeeping after the values are chosen is KerasTuner's own.
        """
        if tuner_id in self.ongoing_trials:
            return self.ongoing_trials[tuner_id]
        self.tuner_ids.add(tuner_id)
        # KerasTuner's reload puts the trial that was running into the retry queue: run it
        # again under its study trial, if the study still has it running.
        retry = compat_kt.retry_queue(self)
        while retry:
            trial = self.trials[retry.pop()]
            if self._adopt(trial.trial_id):
                trial.status = TrialStatus.RUNNING
                self.ongoing_trials[tuner_id] = trial
                self.save()
                return trial
        self._recover_stale()
        status, values, trial_id = self._next()
        hyperparameters = self.hyperparameters.copy()
        hyperparameters.values = values or {}
        trial = kt.engine.trial.Trial(
            hyperparameters=hyperparameters, trial_id=trial_id, status=status
        )
        if status == TrialStatus.RUNNING:
            compat_kt.record_values(self, trial)
            self.ongoing_trials[tuner_id] = trial
            self.trials[trial_id] = trial
            self.start_order.append(trial_id)
            compat_kt.save_trial(self, trial)
            self.save()
            compat_kt.show_trial_begin(self, trial)
        return trial

    def report_epoch(self, trial_id: str, epoch: int, logs: dict[str, float]) -> bool:
        """Record an epoch; True when the pruner says to stop the trial here (never after
        its last epoch, :attr:`max_epochs`)."""
        self._history.setdefault(trial_id, []).append({"epoch": epoch + 1, **logs})
        trial = self._asked.get(trial_id)
        value = logs.get(self.objective.name)
        if self.pareto or trial is None or value is None or not math.isfinite(value):
            return False
        last = self.max_epochs is not None and epoch + 1 >= self.max_epochs
        told = self._told.setdefault(trial_id, set())
        try:
            if epoch + 1 not in told:  # run again after a resume: Optuna keeps the first
                trial.report(float(value), step=epoch + 1)
                told.add(epoch + 1)
        except optuna.exceptions.UpdateFinishedTrialError:
            return False  # another worker judged this trial stale; see end_trial
        if not last and trial.should_prune() and not trial.user_attrs.get("baseline"):
            # The baseline runs all its epochs: it is what the run's choice is compared with
            # (after a warm start the pruner already knows better trials). After its last
            # epoch a trial has nothing left to save: it completed.
            self._pruned[trial_id] = epoch + 1
            return True
        return False

    def _values(self, trial_id: str) -> list[float] | None:
        history = self._history.get(trial_id, [])
        if self.pareto:
            metrics = converged_metrics(history, self.converged_epochs)
            values = [metrics["converged_val_accuracy"], overfitting(metrics["gap_accuracy"])]
        else:
            scores = [h[self.objective.name] for h in history if self.objective.name in h]
            finite = [s for s in scores if math.isfinite(s)]
            if not finite:
                return None
            values = [reduce(lambda best, s: s if self.objective.better_than(s, best) else best, finite)]
        return values if all(math.isfinite(v) for v in values) else None

    def _reported(self, trial: kt.engine.trial.Trial) -> float | None:
        """The objective a trial reported once, without epochs (a ``fit`` of its own)."""
        if self.pareto or not trial.metrics.exists(self.objective.name):
            return None
        value = trial.metrics.get_best_value(self.objective.name)
        return float(value) if value is not None and math.isfinite(value) else None

    def update_space(self, hyperparameters: kt.HyperParameters) -> None:
        """Take in hyperparameters the hypermodel declared late (in ``fit``, or in a
        branch of ``build`` the defaults do not reach): later trials sample them too."""
        super().update_space(hyperparameters)
        try:
            declared = space_from_hyperparameters(self.hyperparameters, self.space.source)
            new = [param for param in declared if param.name not in self.space]
            grown = Space((*self.space.params, *new), self.space.source) if new else None
        except ValueError:  # one Optuna cannot express: its default is used, as before
            return
        if grown is not None:
            self.space = grown
            self._fixed = unconditional(grown)
            self._searched = frozenset(distributions(grown))
            self.total_trials = _trials_for(grown, self.max_trials_given)

    @kt.synchronized
    def end_trial(self, trial: kt.engine.trial.Trial) -> None:
        ask = self._asked.pop(trial.trial_id, None)
        beat = self._beats.pop(trial.trial_id, None)
        if beat is not None:
            beat.stop()
        if ask is not None:
            try:
                self._tell(trial, ask)
            except optuna.exceptions.UpdateFinishedTrialError:
                # Another worker saw no heartbeat for the grace period and failed it (this
                # process stalled): the study keeps that verdict and runs the retry.
                trial.status = TrialStatus.FAILED
                trial.message = (
                    "another worker marked this trial stale (no heartbeat in time);"
                    " its configuration was run again"
                )
        super().end_trial(trial)

    def _tell(self, trial: kt.engine.trial.Trial, ask: optuna.Trial) -> None:
        values = self._values(trial.trial_id)
        if trial.trial_id in self._pruned:
            trial.pruned_at = self._pruned[trial.trial_id]
            self.study.tell(ask, state=optuna.trial.TrialState.PRUNED)
        elif trial.status == TrialStatus.COMPLETED and values is not None:
            self.study.tell(ask, values)
        elif trial.status == TrialStatus.COMPLETED and self._reported(trial) is not None:
            self.study.tell(ask, self._reported(trial))
        else:
            self.study.tell(ask, state=optuna.trial.TrialState.FAIL)


def warm_trials(
    records: Sequence[dict[str, Any]], space: Space, objective: kt.Objective
) -> list[optuna.trial.FrozenTrial]:
    """Earlier runs' finished trials (``--warm-start``) as completed Optuna trials: the
    values of this space's searched parameters they had (the sampler, TPE by default, takes
    trials with some parameters missing), their objective value, and one intermediate value
    per epoch for the pruner (none where their run's epochs saw other shares of the images:
    ``load_warm_start``). Marked with :data:`WARM_ATTR`: not counted against
    ``max_trials``, never run or recorded by this run."""
    searched = distributions(space)
    out = []
    for record in records:
        params = {
            name: value for name, value in space.resolve(record["hyperparameters"]).items()
            if name in searched
        }  # fmt: skip
        steps = {
            int(epoch["epoch"]): float(epoch[objective.name])
            for epoch in record.get("epochs") or []
            if isinstance(epoch.get(objective.name), (int, float))
            and math.isfinite(epoch[objective.name])
        }  # fmt: skip
        try:
            out.append(optuna.trial.create_trial(
                params=params, distributions={name: searched[name] for name in params},
                value=float(record["best"][objective.name]), intermediate_values=steps,
                user_attrs={WARM_ATTR: record.get("run", "")},
            ))  # fmt: skip
        except ValueError:  # a value Optuna finds off its grid: the trial is left out
            continue
    return out
