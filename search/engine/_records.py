"""Trial records for trials.json, built from the tuner's events."""

from __future__ import annotations

import contextlib
import math
import os
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import keras_tuner as kt

from search._text import plural
from search.errors import RunFolderError, SearchError, option
from search.failures import failure_reason
from search.gpus import PINNED
from search.space import TUNER_PREFIX
from search.storage import RunFolder, utc_now
from search.tuners import MAX_CONSECUTIVE_FAILURES, Observer, TrialsKeepFailing


def active_values(hps: kt.HyperParameters) -> dict[str, Any]:
    """The hyperparameters a trial really used (inactive conditional ones left out).

    Floats are shown to 12 significant digits: KerasTuner's stepped floats carry
    binary noise (0.30000000000000004) that would only clutter the results.

    Args:
        hps: a trial's hyperparameters.

    Returns:
        Each active hyperparameter's value by name, KerasTuner's own (``tuner/...``) left out.
    """
    return {
        hp.name: tidy(hps.values[hp.name])
        for hp in hps.space
        if hps.is_active(hp) and not hp.name.startswith(TUNER_PREFIX) and hp.name in hps.values
    }


def tidy(value: Any) -> Any:
    """A hyperparameter's value as trials.json records it: a float to 12 significant digits."""
    if isinstance(value, float) and math.isfinite(value):
        return float(f"{value:.12g}")
    return value


def best_epoch(epochs: list[dict[str, Any]], objective: kt.Objective) -> dict[str, Any] | None:
    """The epoch record with the best objective value (earliest on ties).

    Args:
        epochs: a trial's epoch records, in order.
        objective: what "best" means: the metric's name and direction.

    Returns:
        That record; None when no record has a finite value of the objective.
    """
    best = None
    for record in epochs:
        value = record.get(objective.name)
        if value is None or not math.isfinite(value):
            continue
        if best is None or objective.better_than(value, best[objective.name]):
            best = record
    return best


def reported_metrics(trial: kt.engine.trial.Trial) -> dict[str, float]:
    """The best value of each metric a trial reported to KerasTuner (a hypermodel whose own
    ``fit`` returned a float, a dict or a History without calling the epoch callbacks)."""
    tracker = trial.metrics
    out = {}
    for name in tracker.metrics:
        value = tracker.get_best_value(name)
        if value is not None and math.isfinite(float(value)):
            out[name] = float(value)
    return out


class TrialRecorder(Observer):
    """An observer that keeps ``trials.json`` current: written at every trial and epoch end."""

    def __init__(
        self, folder: RunFolder, objective: kt.Objective, baseline: dict[str, Any] | None = None
    ) -> None:
        """``baseline``: the space's defaults, when the search runs them first; a trial with
        these values is marked ``"baseline": true``."""
        self.folder = folder
        self.objective = objective
        self.baseline = None if baseline is None else {k: tidy(v) for k, v in baseline.items()}
        self.records: dict[str, dict[str, Any]] = {
            r["id"]: r for r in folder.read_trials()
        }
        self._started: dict[str, float] = {}
        self._epoch_started = 0.0
        self._mine: set[str] = set()
        self._previous: dict[str, list[dict[str, Any]]] = {}

    def trial_begin(self, trial: kt.engine.trial.Trial) -> None:
        values = trial.hyperparameters.values
        schedule = {
            key[len(TUNER_PREFIX) :]: value
            for key, value in values.items()
            if key.startswith(TUNER_PREFIX)
        }
        self._refuse_rerun(trial.trial_id)
        self._started[trial.trial_id] = time.perf_counter()
        self._mine.add(trial.trial_id)
        if trial.trial_id in self.records:  # run again after an interruption
            self._previous[trial.trial_id] = self.records[trial.trial_id]["epochs"]
        hyperparameters = active_values(trial.hyperparameters)
        self.records[trial.trial_id] = {
            "id": trial.trial_id,
            "status": "running",
            "hyperparameters": hyperparameters,
            "baseline": hyperparameters == self.baseline,
            "schedule": schedule,
            "continues": schedule.get("trial_id"),
            "epochs": [],
            "best_epoch": None,
            "best": None,
            "seconds": None,
            "started": utc_now(),
            "finished": None,
            "failure": None,
            "pid": os.getpid(),
            "gpu": os.environ.get(PINNED),
        }
        self._save()

    def _refuse_rerun(self, trial_id: str) -> None:
        """RunFolderError if trial ``trial_id`` already ended, but failed: a failed trial
        KerasTuner's own limit on failures in a row left running in its saved state (runs
        stopped by it before this project's own limit) runs again on resume."""
        record = self.records.get(trial_id)
        if record is None or record["status"] in ("running", "failed"):
            return
        raise RunFolderError(
            f"{self.folder.trials_file}: the tuner started trial {trial_id} again, which is"
            f" already {record['status']} there; its record is kept and the search stopped"
            " (the tuner's state does not match this run's trials). To search on, start a new"
            f" run with another {option('name')}."
        )

    def epoch_begin(self, trial: kt.engine.trial.Trial, epoch: int) -> None:
        self._epoch_started = time.perf_counter()


    def epoch_end(self, trial: kt.engine.trial.Trial, epoch: int, logs: dict[str, float]) -> None:
        record = self.records[trial.trial_id]
        entry = {"epoch": epoch + 1, **{k: float(v) for k, v in logs.items()}}
        entry["seconds"] = round(time.perf_counter() - self._epoch_started, 3)
        record["epochs"].append(entry)
        self._set_best(record)
        self._save()

    def epoch_restored(
        self, trial: kt.engine.trial.Trial, epoch: int, logs: dict[str, float]
    ) -> None:
        """An epoch done before an interruption, taken back from the trial's saved state."""
        record = self.records[trial.trial_id]
        earlier = {e["epoch"]: e for e in self._previous.get(trial.trial_id, [])}
        entry: dict[str, float | None] = {"epoch": epoch + 1, **{k: float(v) for k, v in logs.items()}}
        entry["seconds"] = earlier.get(epoch + 1, {}).get("seconds")
        entry["restored"] = True
        record["epochs"].append(entry)
        self._set_best(record)
        self._save()

    def trial_end(self, trial: kt.engine.trial.Trial) -> None:
        record = self.records[trial.trial_id]
        record["status"] = str(trial.status).lower()
        pruned_at = getattr(trial, "pruned_at", None)
        if pruned_at is not None:
            record["status"] = "pruned"
            record["pruned_at_epoch"] = pruned_at
        record["finished"] = utc_now()
        # Hyperparameters a fit of its own declared in its first trial (the baseline): their
        # defaults trained it, as KerasTuner's trial records.
        for name, value in active_values(trial.hyperparameters).items():
            record["hyperparameters"].setdefault(name, value)
        started = self._started.pop(trial.trial_id, None)
        if started is not None:
            record["seconds"] = round(time.perf_counter() - started, 3)
        if record["status"] not in ("completed", "pruned"):
            record["failure"] = failure_reason(trial.message) or self._not_finite(trial)
        elif record["status"] == "pruned":
            record["failure"] = f"pruned by the Optuna pruner after epoch {pruned_at}"
        if record["epochs"]:
            self._set_best(record)
        if record["best"] is None and record["status"] == "completed":
            # A fit of its own that reported final values: with no epochs, or with epochs
            # that log no objective (it returned its own, as KerasTuner takes it).
            record["best"] = reported_metrics(trial) or None
        self._save()

    def _not_finite(self, trial: kt.engine.trial.Trial) -> str | None:
        """Why a trial that ran to its end failed: KerasTuner fails one whose objective is
        NaN, with no message; None when its score is a number."""
        score = getattr(trial, "score", None)
        if score is None or math.isfinite(float(score)):
            return None
        value = "NaN" if math.isnan(float(score)) else f"{float(score)} (not finite)"
        return (
            f"ran to the end, but its {self.objective.name} was {value}; check the loss, the"
            " learning rate (try a smaller one) and the data for NaN or huge values"
        )

    def stale_trials(self, stale: list[dict[str, Any]]) -> None:
        """Mark failed the trials whose worker died (no heartbeat), written by that worker."""
        with self.folder.trials_lock():
            self.refresh()
            for item in stale:
                record = self.records.get(item["id"])
                if record is None or record["status"] != "running":
                    continue
                retry = "its configuration is run again" if item["retried"] else "not retried"
                record["status"] = "failed"
                record["finished"] = utc_now()
                record["failure"] = (
                    f"worker (PID {record.get('pid')}) died: no heartbeat for"
                    f" {item['seconds_silent']:.0f} s; {retry}"
                )
            ordered = sorted(self.records.values(), key=lambda r: _order_key(r["id"]))
            self.folder.write_trials(ordered)

    def _set_best(self, record: dict[str, Any]) -> None:
        best = best_epoch(record["epochs"], self.objective)
        record["best_epoch"] = best["epoch"] if best else None
        record["best"] = (
            {k: v for k, v in best.items() if k not in ("epoch", "seconds")} if best else None
        )

    def failed_in_a_row(self) -> list[str]:
        """The trials that ended last and failed, in the order they ended, every process's
        (trials.json's ``finished``); none unless this process ran the last of them."""
        self.refresh()
        ended = [r for r in self.records.values() if r["status"] != "running" and r.get("finished")]
        ended.sort(key=lambda r: (str(r["finished"]), _order_key(r["id"])))
        failed: list[str] = []
        for record in reversed(ended):
            if record["status"] != "failed":
                break
            failed.insert(0, record["id"])
        return failed if failed and failed[-1] in self._mine else []

    @property
    def own_trials(self) -> set[str]:
        """Ids of the trials this process ran."""
        return set(self._mine)

    def refresh(self) -> None:
        """Take in the records other processes (workers) wrote to trials.json."""
        for record in self.folder.read_trials():
            if record["id"] not in self._mine:
                self.records[record["id"]] = record

    def _save(self) -> None:
        # Several worker processes may share trials.json: under its lock, read theirs,
        # replace ours, write the whole file atomically.
        with self.folder.trials_lock():
            self.refresh()
            ordered = sorted(self.records.values(), key=lambda r: _order_key(r["id"]))
            self.folder.write_trials(ordered)


def _order_key(trial_id: str) -> tuple[int, str]:
    return (int(trial_id), "") if trial_id.isdigit() else (1 << 62, trial_id)


def failure_summary(recorder: TrialRecorder, trial_ids: list[str] | None = None) -> str:
    """Why the trials (those of ``trial_ids``, else all) failed, counted by reason
    (``2x out of memory; 1x ...``)."""
    records = recorder.records.values() if trial_ids is None else [recorder.records[t] for t in trial_ids]
    reasons = Counter(r["failure"] for r in records if r.get("failure"))
    if not reasons:
        return f"{plural(len(records), 'trial')} ran, none to the end" if records else "no trial ran"
    return "; ".join(f"{n}x {reason}" for reason, n in reasons.items())


class FailureStreak(Observer):
    """Stop the search as a trial begins once :data:`MAX_CONSECUTIVE_FAILURES` trials in a
    row failed (:meth:`TrialRecorder.failed_in_a_row`): a search whose budget is spent ends
    as it would, with no trial begun; a resumed run, and each worker, tries once more first.
    Placed before the recorder, it stops before the trial is recorded."""

    def __init__(self, recorder: TrialRecorder) -> None:
        self.recorder = recorder

    def trial_begin(self, trial: kt.engine.trial.Trial) -> None:
        failed = self.recorder.failed_in_a_row()
        if len(failed) >= MAX_CONSECUTIVE_FAILURES:
            raise TrialsKeepFailing(failed)


@contextlib.contextmanager
def failures_stop(recorder: TrialRecorder, then: str) -> Iterator[None]:
    """Turn :class:`FailureStreak`'s stop into a SearchError: the failed trials' reasons,
    and ``then``, what this process did and what to do (e.g. how to resume)."""
    try:
        yield
    except TrialsKeepFailing as exc:
        summary = failure_summary(recorder, exc.trial_ids)
        raise SearchError(
            f"trials {', '.join(exc.trial_ids)} failed in a row ({summary}), so {then}"
        ) from None
