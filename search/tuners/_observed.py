"""Tuner hooks forwarded to observers (progress display, trial recorder).

Observers are attached to the tuner rather than passed as Keras callbacks, because
KerasTuner deep-copies callbacks for every trial.
"""

from __future__ import annotations

import contextlib
import math
import time
import traceback
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import keras
import keras_tuner as kt

from hypermodels import DataFidelity, NonFiniteLossError, state_damage
from search.compat import keras_tuner as compat_kt
from search.environment import environment_error
from search.errors import SearchError
from search.failures import exception_line, failure_reason

OUT_OF_MEMORY = "out of memory"
"""How ``failure_reason`` begins for a trial that ran out of memory."""


class Observer:
    """Base class of the search's observers: subclass it and override the hooks you need.

    The engine calls every observer's hooks in order, its own first (the trial recorder,
    the checkpoint keeper, the progress display, the trackers), then those given to
    ``search.run(observers=...)`` / ``run_search``. ``trial`` is KerasTuner's Trial
    (``trial.trial_id``, ``trial.hyperparameters.values``). Every hook does nothing here.
    """

    def trial_wanted(self) -> None:
        """The search is about to ask for its next trial: before the first, after each, and
        again after each wait while other workers run the last trials; stop signals are
        honoured here too."""

    def trial_begin(self, trial: kt.engine.trial.Trial) -> None:
        """A trial starts (or starts again after a resume)."""

    def epoch_begin(self, trial: kt.engine.trial.Trial, epoch: int) -> None:
        """An epoch of ``trial`` starts (``epoch`` counts from 0)."""

    def batch_end(self, trial: kt.engine.trial.Trial, batch: int) -> None:
        """A training batch ended; stop signals are honoured here."""

    def epoch_end(self, trial: kt.engine.trial.Trial, epoch: int, logs: dict[str, float]) -> None:
        """An epoch ended with ``logs`` (loss, accuracy, val_accuracy...)."""

    def epoch_restored(self, trial: kt.engine.trial.Trial, epoch: int, logs: dict[str, float]) -> None:
        """An epoch a resumed trial had already trained, replayed from its saved state;
        by default the same as :meth:`epoch_end`."""
        self.epoch_end(trial, epoch, logs)

    def trial_end(self, trial: kt.engine.trial.Trial) -> None:
        """A trial ended: completed, failed, or cut by a pruner (``trial.status``)."""

    def stale_trials(self, stale: list[dict[str, Any]]) -> None:
        """Trials of dead workers, marked failed by this process's oracle (Optuna)."""


class ObserverError(SearchError, kt.errors.FatalError):
    """A caller's observer raised: the search stops at once, in whichever hook it was (as a
    FatalError, KerasTuner lets it through a trial instead of failing the trial)."""


class Guarded(Observer):
    """A caller's observer (``search.run(observers=...)``) whose errors stop the search as an
    :class:`ObserverError` naming it and the hook; KeyboardInterrupt and the like go through."""

    def __init__(self, observer: Observer) -> None:
        self.observer = observer

    def _call(self, hook: str, *args: Any) -> None:
        try:
            getattr(self.observer, hook)(*args)
        except Exception as exc:
            raise ObserverError(
                f"observers: {type(self.observer).__name__}.{hook} raised {_named(exc)}; fix it,"
                " or leave it out of observers="
            ) from exc

    def trial_wanted(self) -> None:
        self._call("trial_wanted")

    def trial_begin(self, trial: kt.engine.trial.Trial) -> None:
        self._call("trial_begin", trial)

    def epoch_begin(self, trial: kt.engine.trial.Trial, epoch: int) -> None:
        self._call("epoch_begin", trial, epoch)

    def batch_end(self, trial: kt.engine.trial.Trial, batch: int) -> None:
        self._call("batch_end", trial, batch)

    def epoch_end(self, trial: kt.engine.trial.Trial, epoch: int, logs: dict[str, float]) -> None:
        self._call("epoch_end", trial, epoch, logs)

    def epoch_restored(self, trial: kt.engine.trial.Trial, epoch: int, logs: dict[str, float]) -> None:
        self._call("epoch_restored", trial, epoch, logs)

    def trial_end(self, trial: kt.engine.trial.Trial) -> None:
        self._call("trial_end", trial)

    def stale_trials(self, stale: list[dict[str, Any]]) -> None:
        self._call("stale_trials", stale)


MAX_CONSECUTIVE_FAILURES = 3
"""Trials failing in a row before a search stops: the configuration, not the trial, is wrong."""
ORACLE_FAILURE_LIMIT = None
"""The oracles' own limit on failures in a row, off: KerasTuner raises inside ``end_trial``
before it saves the trial's end, and a resumed search started that trial again. The engine
stops the search as the next trial begins instead."""


class TrialsKeepFailing(Exception):
    """:data:`MAX_CONSECUTIVE_FAILURES` trials failed in a row (``trial_ids``, their ends
    saved), and another was about to begin: the search stops, and a resume goes on with new
    trials."""

    def __init__(self, trial_ids: list[str]) -> None:
        super().__init__(f"trials {', '.join(trial_ids)} failed in a row")
        self.trial_ids = trial_ids


class TrialQuotaReached(Exception):
    """This process ran the trials it was given (``--isolate``); others will run the rest."""


class SearchTimeUp(Exception):
    """The search ran for its time limit: no new trial starts; what finished is chosen from."""


class EnvironmentStop(kt.errors.FatalError):
    """A file could not be written (disk full, size limit, permission, read-only): the
    search stops, the running trial is neither ended nor counted, and resume runs it again.
    KerasTuner lets FatalError through instead of recording a failed trial."""

    def __init__(self, error: OSError) -> None:
        super().__init__(str(error))
        self.error = error


def _stop_if_environment(exc: BaseException) -> None:
    error = environment_error(exc)
    if error is not None:
        raise EnvironmentStop(error) from exc


class ObservedTuner(compat_kt.TunerHooks):
    """Mixin placed before a KerasTuner tuner class in the bases."""

    observers: list[Observer]
    trial_quota: int | None = None
    """Trials this process may start; None: as many as the search needs."""
    search_ends_at: float | None = None
    """``time.time()`` after which no new trial starts (the budget's time limit), once one
    has completed; None: never."""
    fidelity: DataFidelity | None = None
    """``--fidelity data``: given to the hypermodel's ``fit`` with the trial's epoch budget."""
    say: Callable[[str], None] | None = None
    """Lines for the user (the run's, silent when quiet); None: nothing is said."""
    _trials_started = 0

    def pre_create_trial(self) -> None:
        # Checked before the oracle is asked: a process that stops here changes nothing.
        for observer in self.observers:
            observer.trial_wanted()
        if self.trial_quota is not None and self._trials_started >= self.trial_quota:
            raise TrialQuotaReached(f"{self._trials_started} trials run in this process")
        if self._time_is_up():
            raise SearchTimeUp(f"the time limit came after {self._trials_started} trials in this process")
        super().pre_create_trial()  # type: ignore[misc]

    def _time_is_up(self) -> bool:
        """The search's time limit has passed and a trial has completed: a search that has
        none to choose from goes on to its first, the trial an earlier process was running
        (which the oracle's reload queues to run again) finishes, and one that ran all its
        planned trials ends by itself."""
        if self.search_ends_at is None or time.time() < self.search_ends_at:
            return False
        if compat_kt.retry_queue(self.oracle):  # type: ignore[attr-defined]
            return False
        planned = getattr(self.oracle, "max_trials", None)  # type: ignore[attr-defined]
        ran_all = planned is not None and len(self.oracle.trials) >= planned  # type: ignore[attr-defined]
        if ran_all or compat_kt.schedule_done(self.oracle):  # type: ignore[attr-defined]
            return False  # every trial ran: the search ends by itself, not at its limit
        trials = self.oracle.trials.values()  # type: ignore[attr-defined]
        return any(t.status == kt.engine.trial.TrialStatus.COMPLETED for t in trials)

    def run_trial(self, trial: Any, *args: Any, **kwargs: Any) -> Any:
        # The trial's per-epoch state lives in its own KerasTuner folder (see hypermodels).
        kwargs["state_path"] = Path(self.get_trial_dir(trial.trial_id)) / "epoch_state.npz"  # type: ignore[attr-defined]
        _remove_partial_writes(kwargs["state_path"].parent)
        self._tell_damaged_state(trial, kwargs["state_path"])
        if self.fidelity is not None:  # Hyperband's round: its epochs; others: each epoch's
            budget = trial.hyperparameters.values.get("tuner/epochs")
            kwargs["fidelity"] = replace(self.fidelity, budget=budget)
        try:
            results = super().run_trial(trial, *args, **kwargs)  # type: ignore[misc]
        except Exception as exc:
            _stop_if_environment(exc)
            raise
        for result in results if isinstance(results, list) else [results]:
            diverged = _non_finite(_final_loss(result))
            if diverged is not None:
                raise NonFiniteLossError.at(diverged, "at the end of the trial's fit")
        return results

    def _tell_damaged_state(self, trial: Any, path: Path) -> None:
        """Say that the epoch state a resumed trial left cannot be read: the fit ignores it,
        and the trial trains again from its first epoch."""
        if self.say is None or state_damage(path) is None:
            return
        first = int(trial.hyperparameters.values.get("tuner/initial_epoch", 0)) + 1
        self.say(
            f"trial {trial.trial_id}: its saved epoch state {path} is damaged; the trial"
            f" restarts from epoch {first}"
        )

    def populate_initial_space(self) -> None:
        # KerasTuner builds the model of the space's defaults here, before any trial.
        try:
            super().populate_initial_space()
        except Exception as exc:
            reason = failure_reason("".join(traceback.format_exception_only(exc))) or ""
            if reason.startswith(OUT_OF_MEMORY):
                raise SearchError(f"the model of the space's defaults cannot be built: {reason}") from exc
            raise

    def search(self, *args: Any, **kwargs: Any) -> None:
        # The oracle's and the observers' writes between trials.
        try:
            super().search(*args, **kwargs)  # type: ignore[misc]
        except OSError as exc:
            _stop_if_environment(exc)
            raise
        finally:  # a trial stopped by an error or a signal: its process no longer runs it
            stop = getattr(self.oracle, "stop_heartbeats", None)  # type: ignore[attr-defined]
            if stop is not None:
                stop()

    def keep_interrupted(self, owners: dict[Path, int]) -> None:
        """Called by a run's own process as it starts or resumes the search: the trials its
        stopped processes left running go to the processes (PIDs) that take back their tuner
        folders' trials, not failed as dead workers' (Optuna)."""
        keep = getattr(self.oracle, "keep_interrupted", None)  # type: ignore[attr-defined]
        if keep is not None:
            keep(owners)

    def space_spent(self) -> bool:
        """Whether the oracle stopped the search for want of an untried configuration."""
        return bool(getattr(self.oracle, "space_spent", False))  # type: ignore[attr-defined]

    def on_trial_begin(self, trial: Any) -> None:
        self._trials_started += 1
        # KerasTuner writes tuner0.json, which a resume needs to reload the oracle and run
        # the trial it was running again, only when a trial ends: a run stopped in its first
        # trial (a fit that returned None, kill -9) would start a fresh oracle, and Optuna's
        # study trial would be left running until its heartbeat grace, then failed.
        self.save()  # type: ignore[attr-defined]
        super().on_trial_begin(trial)  # type: ignore[misc]
        # Trials of dead workers that this process's oracle marked failed (Optuna).
        stale = getattr(self.oracle, "stale", None)  # type: ignore[attr-defined]
        if stale:
            for observer in self.observers:
                observer.stale_trials(list(stale))
            stale.clear()
        for observer in self.observers:
            observer.trial_begin(trial)

    def on_epoch_begin(self, trial: Any, model: keras.Model, epoch: int, logs: Any = None) -> None:
        super().on_epoch_begin(trial, model, epoch, logs)  # type: ignore[misc]
        for observer in self.observers:
            observer.epoch_begin(trial, epoch)

    def on_batch_end(self, trial: Any, model: keras.Model, batch: int, logs: Any = None) -> None:
        super().on_batch_end(trial, model, batch, logs)  # type: ignore[misc]
        for observer in self.observers:
            observer.batch_end(trial, batch)

    def on_epoch_end(self, trial: Any, model: keras.Model, epoch: int, logs: Any = None) -> None:
        super().on_epoch_end(trial, model, epoch, logs)  # type: ignore[misc]
        # A model trained by model.fit goes on after its weights turn NaN (this package's
        # loop stops itself): the trial fails once the epoch is recorded, not pruned first,
        # nor chosen for the majority class it predicts.
        diverged = _non_finite((logs or {}).get("loss"))
        # Oracles that judge trials per epoch (Optuna's pruners) say when to stop one.
        report = getattr(self.oracle, "report_epoch", None)  # type: ignore[attr-defined]
        if diverged is None and report is not None and report(trial.trial_id, epoch, dict(logs or {})):
            model.stop_training = True
        restored = bool(getattr(model, "restored_epochs", False))
        for observer in self.observers:
            if restored:
                observer.epoch_restored(trial, epoch, dict(logs or {}))
            else:
                observer.epoch_end(trial, epoch, dict(logs or {}))
        if diverged is not None:
            raise NonFiniteLossError.at(diverged, f"in epoch {epoch + 1}")

    def on_trial_end(self, trial: Any) -> None:
        super().on_trial_end(trial)  # type: ignore[misc]
        for observer in self.observers:
            observer.trial_end(trial)


PARTIAL_WRITES = (".*.tmp", ".*.tmp.weights.h5")
"""The temporary files a trial's state and checkpoint are written through, then renamed."""


def _remove_partial_writes(trial_dir: Path) -> None:
    """Remove what a process that died mid-write (a full disk, a kill) left in the folder of
    a trial about to run: only the process running a trial writes there, so none is live."""
    for pattern in PARTIAL_WRITES:
        for path in trial_dir.glob(pattern):
            with contextlib.suppress(OSError):  # left there, it costs space, not the trial
                path.unlink(missing_ok=True)


def _named(exc: Exception) -> str:
    """``exc`` as "Type: message", its type once (a KeyError's line already starts with it)."""
    line, kind = exception_line(exc), type(exc).__name__
    return line if line.startswith(f"{kind}:") or line == kind else f"{kind}: {line}"


def _final_loss(result: Any) -> Any:
    """The training loss a trial's fit reported last: a History's, or a dict's; None for
    anything else (a float is the objective, which KerasTuner checks)."""
    if isinstance(result, keras.callbacks.History):
        losses = result.history.get("loss") or [None]
        return losses[-1]
    return result.get("loss") if isinstance(result, dict) else None


def _non_finite(loss: Any) -> float | None:
    """``loss`` where it is NaN or infinite (a diverged model's); None for a number, or for
    none reported."""
    try:
        value = float(loss)
    except (TypeError, ValueError):  # none reported, or not one number
        return None
    return None if math.isfinite(value) else value
