"""MLflow: one experiment per search experiment, one parent run per search run, one nested
run per trial, logged from the trial records (``trials.json``) without duplicates.

MLflow is an optional extra (``.[mlflow]``): it is imported inside the functions that use
it, so that a search without ``--track mlflow`` runs without it."""

from __future__ import annotations

import logging
import os
import shlex
import time
import warnings
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import keras_tuner as kt

from search._text import one_line
from search.environment import SQLITE_DISK_FIX, sqlite_disk_error
from search.errors import SearchError, option
from search.storage import MASK, RunFolder
from search.tracking._spec import RecordSource, experiment_name, local_artifact_root, stamp_seconds
from search.tuners import Observer

ATTEMPTS = 3
"""Tries of one logging call before the store is given up for this process."""
FIRST_BACKOFF_S = 0.5
"""Wait after the first failed try; doubled after each further one."""
HTTP_TIMEOUT_S = "10"
"""Seconds MLflow's HTTP client waits for a server (its default is 120)."""
MAX_TAG_CHARS = 5000
"""MLflow's limit on a tag's value."""
SEARCH_PAGE = 1000
TRIAL_TAG = "search.trial"
RUN_KEY_TAG = "search.run_key"
CHOSEN_TAG = "chosen"
"""Tag of the trial's run the search chose (``true``); the parent names it in ``chosen_trial``."""
PARENT_TAG = "mlflow.parentRunId"
NOT_FOUND = "RESOURCE_DOES_NOT_EXIST"
EXPERIMENT_TAGS = {"mlflow.experimentKind": "custom_model_development"}
"""MLflow 3's UI shows such an experiment as model training (runs, metrics), not GenAI."""
_NOT_METRICS = ("epoch", "seconds", "restored")
_END_STATUS = {"completed": "FINISHED", "pruned": "FINISHED"}
_ARTIFACTS = ("best_model.keras", "report.html", "report.csv", "run.json", "trials.json")


def _quiet_mlflow() -> None:
    """No MLflow or Alembic log lines in the search's output; our own retries, not MLflow's."""
    import mlflow  # noqa: F401 - its import sets its loggers' levels, which we then override

    for name in ("mlflow", "alembic"):
        logging.getLogger(name).setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", module="mlflow")
    os.environ.setdefault("MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT", "true")  # "View run at URL"
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", HTTP_TIMEOUT_S)


def _transient() -> tuple[type[BaseException], ...]:
    from mlflow.exceptions import MlflowException
    from sqlalchemy.exc import SQLAlchemyError

    # requests' errors are OSErrors.
    return (MlflowException, OSError, SQLAlchemyError)


RUN_GIVEN = (f"{option('track')} mlflow", "the URI")
"""How a run's errors name where its tracking URI came from, and what to fix."""


def _refused_store(text: str, shown: str, given: tuple[str, str] = RUN_GIVEN) -> str:
    """The one-line error for a tracking store MLflow will not open (``text``: its reason;
    ``given``: the option that gave the URI, and what to fix)."""
    reason = one_line(text.strip().split(". ")[0].splitlines()[0], 200) if text.strip() else "no reason given"
    if "MLFLOW_ALLOW_FILE_STORE" in text:
        fix = (
            f"fix {given[1]}: a database, e.g. sqlite:///results/mlflow.db, or set"
            " MLFLOW_ALLOW_FILE_STORE=true to use the folder"
        )
    elif sqlite_disk_error(text):  # the database's disk refused the write, not the URI
        fix = SQLITE_DISK_FIX
    else:
        fix = f"fix {given[1]}, or use a database, e.g. sqlite:///results/mlflow.db"
    return f"{given[0]}: MLflow cannot use {shown} ({reason}); {fix}"


def _deleted_experiment(name: str, experiment_id: str, shown: str) -> str:
    """The one-line error for an experiment deleted in MLflow (where runs cannot be made),
    with the commands that restore it or remove it for good."""
    return (
        f"MLflow at {shown}: the experiment {name!r} (id {experiment_id}) is deleted; restore it"
        f" or delete it for good, then run again: export MLFLOW_TRACKING_URI={shown}, then"
        f" mlflow experiments restore -x {experiment_id} or mlflow gc --experiment-ids {experiment_id}"
    )


def run_key(meta: dict[str, Any]) -> str:
    """What identifies a search run in MLflow whatever its folder is called now."""
    return f"{meta['experiment']}/{meta['name']}/{meta['created']}"


class MlflowSink:
    """One tracking store, written with retries and backoff; once a call fails every try,
    the failure is named once and every later call is skipped (the search goes on)."""

    def __init__(
        self, uri: str, shown: str, say: Callable[[str], None], hint: str, given: tuple[str, str] = RUN_GIVEN
    ) -> None:
        _quiet_mlflow()
        from mlflow import MlflowClient

        self.uri, self.shown, self.hint = uri, shown, hint
        try:
            self.client = MlflowClient(tracking_uri=uri)
        except _transient() as exc:  # a store MLflow refuses (a folder, on MLflow 3)
            raise SearchError(_refused_store(self._scrub(str(exc)), shown, given)) from None
        self.failed: str | None = None
        self.silent = False
        self._say = say
        self.experiment_id: str | None = None
        self.experiment_name: str | None = None
        self.parent_id: str | None = None
        self._trials: dict[str, str] = {}
        self._steps: dict[str, set[int]] = {}
        self.new_steps = 0

    def call(self, what: str, fn: Callable[..., Any], *args: Any, **named: Any) -> Any:
        """``fn(*args, **named)``, tried ATTEMPTS times; None once the store has failed."""
        if self.failed is not None:
            return None
        delay, error = FIRST_BACKOFF_S, None
        for attempt in range(ATTEMPTS):
            try:
                return fn(*args, **named)
            except _transient() as exc:
                error = exc
                if attempt + 1 < ATTEMPTS:
                    time.sleep(delay)
                    delay *= 2
        first = self._scrub(str(error).strip().splitlines()[0] if str(error).strip() else "")
        self.failed = f"{what} failed {ATTEMPTS} times: {type(error).__name__}: {one_line(first, 300)}"
        if not self.silent:
            self._say(
                f"MLflow at {self.shown}: {self.failed}; the search goes on without MLflow;"
                f" send the run later with: {self.hint}"
            )
        return None

    def _scrub(self, text: str) -> str:
        """``text`` with the URI's password hidden."""
        password = urlsplit(self.uri).password
        text = text.replace(self.uri, self.shown)
        return text.replace(password, MASK) if password else text

    def open_parent(self, meta: dict[str, Any], folder: RunFolder, stored: dict[str, Any] | None) -> bool:
        """Find or create the experiment and the run's parent run; True when both are there."""
        self.parent_id = None
        if not self.reach(experiment_name(meta["experiment"], stored)):
            return False
        if stored and stored.get("experiment_id") == self.experiment_id:
            self.parent_id = self.call("reading the parent run", self._stored_parent, stored["run_id"])
        if self.parent_id is None and self.failed is None:
            self.parent_id = self.call("finding the parent run", self._find_parent, meta)
        if self.parent_id is None and self.failed is None:
            self.parent_id = self.call("creating the parent run", self._create_parent, meta, folder)
        if self.parent_id is None:
            return False
        self.refresh_trials()
        return self.failed is None

    def reach(self, experiment: str) -> bool:
        """Find or make ``experiment``: True when the store answers and takes writes."""
        self.experiment_name = experiment
        self.experiment_id = self.call("finding the experiment", self._experiment, experiment)
        return self.experiment_id is not None

    def refresh_trials(self) -> None:
        """Take in the trial runs under the parent run, those other processes made too."""
        found = self.call("listing the trial runs", self._trial_runs)
        self._trials.update(found or {})

    def _experiment_found(self) -> str:
        """The experiment's id; :meth:`open_parent` finds it before any run is looked up."""
        assert self.experiment_id is not None, "open_parent finds the experiment first"
        return self.experiment_id

    def _experiment(self, name: str) -> str:
        found = self.client.get_experiment_by_name(name)
        if found is not None and found.lifecycle_stage == "deleted":
            raise SearchError(_deleted_experiment(name, found.experiment_id, self.shown))
        if found is not None:
            return found.experiment_id
        root = local_artifact_root(self.uri)
        location = None if root is None else (root.resolve() / name).as_uri()
        return self.client.create_experiment(name, artifact_location=location, tags=EXPERIMENT_TAGS)

    def _stored_parent(self, run_id: str) -> str | None:
        """The parent run run.json names, if the store still has it (not deleted)."""
        from mlflow.exceptions import MlflowException

        try:
            run = self.client.get_run(run_id)
        except MlflowException as exc:
            if exc.error_code == NOT_FOUND:
                return None
            raise
        return run.info.run_id if run.info.lifecycle_stage == "active" else None

    def _find_parent(self, meta: dict[str, Any]) -> str | None:
        runs = self.client.search_runs(
            [self._experiment_found()], f"tags.`{RUN_KEY_TAG}` = '{run_key(meta)}'", max_results=1
        )
        return runs[0].info.run_id if runs else None

    def _create_parent(self, meta: dict[str, Any], folder: RunFolder) -> str:
        from mlflow.entities import Param

        tags = {
            "mlflow.runName": meta["name"], RUN_KEY_TAG: run_key(meta), "tuner": meta["tuner"],
            "seed": str(meta["seed"]), "space_fingerprint": meta["space"]["fingerprint"],
            "command": shlex.join(meta.get("command") or [])[:MAX_TAG_CHARS],
            "run_folder": str(folder.path.resolve()),
        }  # fmt: skip
        if meta.get("optuna"):
            tags.update(sampler=meta["optuna"]["sampler"], pruner=meta["optuna"]["pruner"])
        run = self.client.create_run(
            self._experiment_found(), start_time=_millis(meta.get("created")), tags=tags
        )
        data = meta.get("data") or {}
        params = {
            **meta["budget"], "objective": meta["objective"]["name"],
            "train_images": data.get("train"), "validation_images": data.get("validation"),
            "test_images": data.get("test"),
        }  # fmt: skip
        self.client.log_batch(run.info.run_id, params=[Param(k, str(v)) for k, v in params.items()])
        return run.info.run_id

    def _trial_runs(self) -> dict[str, str]:
        """The nested runs already under the parent run, by trial id."""
        found: dict[str, str] = {}
        token = None
        while True:
            page = self.client.search_runs(
                [self._experiment_found()], f"tags.`{PARENT_TAG}` = '{self.parent_id}'",
                max_results=SEARCH_PAGE, page_token=token,
            )  # fmt: skip
            for run in page:
                trial = run.data.tags.get(TRIAL_TAG)
                if trial is not None:
                    found.setdefault(trial, run.info.run_id)
            token = page.token
            if not token:
                return found

    def trial_run(self, record: dict[str, Any], attempt: bool) -> str | None:
        """The trial's nested run, created (with its parameters) if it has none; ``attempt``:
        the trial starts (again) now, counted in its ``attempts`` tag."""
        if self.parent_id is None:
            return None
        trial = record["id"]
        run_id = self._trials.get(trial)
        if run_id is None:
            run_id = self.call(f"creating the run of trial {trial}", self._create_trial, record)
            if run_id is None:
                return None
            self._trials[trial] = run_id
            self._steps[run_id] = set()
        elif run_id not in self._steps:
            steps = self.call(f"reading the metrics of trial {trial}", self._logged_steps, run_id)
            if steps is None:
                return None
            self._steps[run_id] = steps
        if attempt:
            self.call(f"tagging trial {trial}", self._count_attempt, run_id)
        return run_id

    def _create_trial(self, record: dict[str, Any]) -> str:
        from mlflow.entities import Param

        tags = {"mlflow.runName": f"trial {record['id']}", PARENT_TAG: self.parent_id,
                TRIAL_TAG: record["id"], **trial_tags(record)}  # fmt: skip
        run = self.client.create_run(
            self._experiment_found(), start_time=_millis(record.get("started")), tags=tags
        )
        params = [Param(k, str(v)) for k, v in record["hyperparameters"].items()]
        self.client.log_batch(run.info.run_id, params=params)
        return run.info.run_id

    def _logged_steps(self, run_id: str) -> set[int]:
        run = self.client.get_run(run_id)
        steps: set[int] = set()
        for key in run.data.metrics:
            steps.update(m.step for m in self.client.get_metric_history(run_id, key))
        return steps

    def _count_attempt(self, run_id: str) -> None:
        """One more ``attempts``; a run a stopped search ended marked running again."""
        run = self.client.get_run(run_id)
        self.client.set_tag(run_id, "attempts", str(int(run.data.tags.get("attempts", "0")) + 1))
        if run.info.status != "RUNNING":
            self.client.update_run(run_id, status="RUNNING")

    def log_epochs(self, run_id: str, epochs: list[dict[str, Any]]) -> None:
        """Each epoch's metrics at ``step=epoch``, skipping the steps the run already has."""
        from mlflow.entities import Metric

        steps = self._steps.setdefault(run_id, set())
        now = int(time.time() * 1000)
        new = [e for e in epochs if e["epoch"] not in steps]
        metrics = [
            Metric(key, float(value), now, int(entry["epoch"]))
            for entry in new
            for key, value in entry.items()
            if key not in _NOT_METRICS and isinstance(value, (int, float))
        ]
        if metrics and not self.call("logging epoch metrics", self._log_metrics, run_id, metrics):
            return
        steps.update(e["epoch"] for e in new)
        self.new_steps += len(new)

    def _log_metrics(self, run_id: str, metrics: list[Any]) -> bool:
        self.client.log_batch(run_id, metrics=metrics)
        return True

    def end_trial(self, run_id: str, record: dict[str, Any]) -> None:
        """The trial's final tags, and its run ended unless the trial is still running."""
        from mlflow.entities import RunTag

        tags = [RunTag(k, v) for k, v in trial_tags(record).items()]
        self.call("tagging a trial", self.client.log_batch, run_id, tags=tags)
        if record["status"] != "running":
            status = _END_STATUS.get(record["status"], "FAILED")
            ended = _millis(record.get("finished"))
            self.call("ending a trial's run", self.client.set_terminated, run_id, status, ended)

    def finish(self, meta: dict[str, Any], folder: RunFolder) -> None:
        """The parent run's outcome: the chosen trial, the retrain, the test, the files."""
        if self.parent_id is None:
            return
        run_id = self.parent_id
        self.call("logging the outcome", self._log_outcome, run_id, meta)
        for name in _ARTIFACTS:
            path = folder.path / name
            if path.is_file():
                self.call(f"uploading {name}", self.client.log_artifact, run_id, str(path))
        if meta.get("status") == "finished":
            self.call("ending the parent run", self.client.set_terminated, run_id, "FINISHED")
        self.call("marking the chosen trial's run", self._mark_chosen, run_id, meta)

    def stop(self, status: str, trials: list[dict[str, Any]]) -> None:
        """The parent run, and the runs of the trials left running, ended as ``status``
        (``KILLED``: the search was interrupted; ``FAILED``); a resume opens them again."""
        if self.parent_id is None:
            return
        for record in trials:
            run_id = self._trials.get(record["id"])
            if run_id is not None and record["status"] == "running":
                what = f"ending the run of trial {record['id']}"
                self.call(what, self.client.set_terminated, run_id, status)
        self.call("ending the parent run", self.client.set_terminated, self.parent_id, status)

    def reopen(self) -> None:
        """The parent run marked running again, where a stopped search ended it."""
        if self.parent_id is not None:
            self.call("reopening the parent run", self._running, self.parent_id)

    def _running(self, run_id: str) -> None:
        if self.client.get_run(run_id).info.status != "RUNNING":
            self.client.update_run(run_id, status="RUNNING")

    def _mark_chosen(self, parent_id: str, meta: dict[str, Any]) -> None:
        """The chosen trial's run tagged ``chosen = true``, the mark taken from every other
        trial run of the parent (an earlier finish may have chosen another)."""
        chosen = str((meta.get("best") or {}).get("trial", ""))
        marked = f"tags.`{PARENT_TAG}` = '{parent_id}' and tags.`{CHOSEN_TAG}` = 'true'"
        for run in self.client.search_runs([self._experiment_found()], marked, max_results=SEARCH_PAGE):
            if run.data.tags.get(TRIAL_TAG) != chosen:
                self.client.delete_tag(run.info.run_id, CHOSEN_TAG)
        if chosen in self._trials:
            self.client.set_tag(self._trials[chosen], CHOSEN_TAG, "true")

    def _log_outcome(self, run_id: str, meta: dict[str, Any]) -> None:
        from mlflow.entities import Metric, RunTag

        now = int(time.time() * 1000)
        best, final = meta.get("best") or {}, meta.get("final") or {}
        metrics = [Metric(f"chosen_{k}", float(v), now, 0) for k, v in (best.get("metrics") or {}).items()]
        metrics += [Metric(f"test_{name}", value, now, 0) for name, value in _tested(final).items()]
        for key in ("train_accuracy", "train_loss"):
            if final.get(key) is not None:
                metrics.append(Metric(key, float(final[key]), now, 0))
        watched = str(final.get("monitor", "val_accuracy"))
        for key, curve in (("retrain_val_accuracy", "val_accuracy_per_epoch"),
                           (f"retrain_{watched}", "val_score_per_epoch"),
                           ("retrain_learning_rate", "learning_rates")):  # fmt: skip
            metrics += [Metric(key, float(v), now, i + 1) for i, v in enumerate(final.get(curve) or [])]
        tags = [RunTag("status", str(meta.get("status")))]
        if best:
            tags += [RunTag("chosen_trial", str(best.get("trial"))),
                     RunTag("chosen_rule", str(best.get("rule", ""))[:MAX_TAG_CHARS])]  # fmt: skip
        if final and final.get("epochs") is not None:
            tags.append(RunTag("retrain_epochs", str(final["epochs"])))
        # The outcome is logged once per finish: steps already there are not sent again.
        have = set(self.client.get_run(run_id).data.metrics)
        metrics = [m for m in metrics if m.key not in have]
        self.client.log_batch(run_id, metrics=metrics, tags=tags)


def _tested(final: dict[str, Any]) -> dict[str, float]:
    """The final model's test metrics by name (``accuracy``, a regression's
    ``mean_absolute_error``...): run.json's ``test_metrics``, else its test accuracy and loss."""
    if final.get("test_metrics"):
        return {str(name): float(value) for name, value in final["test_metrics"].items()}
    named = {"accuracy": final.get("test_accuracy"), "loss": final.get("test_loss")}
    return {name: float(value) for name, value in named.items() if value is not None}


def trial_tags(record: dict[str, Any]) -> dict[str, str]:
    """A trial record's tags: status, baseline, pruning, failure, Hyperband's schedule.

    Args:
        record: one trial record of trials.json.

    Returns:
        The tags by name, as text; absent optional ones left out, long ones cut to MLflow's limit.
    """
    tags = {"status": record["status"], "baseline": str(bool(record.get("baseline"))).lower()}
    schedule = record.get("schedule") or {}
    for key in ("bracket", "round"):
        if key in schedule:
            tags[f"hyperband_{key}"] = str(schedule[key])
    optional = {
        "continues_trial": record.get("continues"),
        "pruned_at_epoch": record.get("pruned_at_epoch"),
        "failure": record.get("failure"),
        "best_epoch": record.get("best_epoch"),
    }
    tags.update({k: str(v)[:MAX_TAG_CHARS] for k, v in optional.items() if v is not None})
    return tags


class MlflowTracker(Observer):
    """An observer of the search logging each trial to its nested run as it trains."""

    def __init__(self, sink: MlflowSink, recorder: RecordSource) -> None:
        """``recorder`` comes first among the observers: its records are what is logged."""
        self.sink = sink
        self.recorder = recorder
        self._runs: dict[str, str] = {}

    def trial_begin(self, trial: kt.engine.trial.Trial) -> None:
        run_id = self.sink.trial_run(self.recorder.records[trial.trial_id], attempt=True)
        if run_id is not None:
            self._runs[trial.trial_id] = run_id


    def epoch_end(self, trial: kt.engine.trial.Trial, epoch: int, logs: dict[str, float]) -> None:
        run_id = self._runs.get(trial.trial_id)
        if run_id is not None:
            self.sink.log_epochs(run_id, self.recorder.records[trial.trial_id]["epochs"][-1:])

    def trial_end(self, trial: kt.engine.trial.Trial) -> None:
        run_id = self._runs.pop(trial.trial_id, None)
        record = self.recorder.records.get(trial.trial_id)
        if run_id is not None and record is not None:
            self.sink.end_trial(run_id, record)


def replay(sink: MlflowSink, trials: list[dict[str, Any]]) -> int:
    """Log every trial record to its nested run (created if missing), only the epochs its
    run lacks; the number of trials sent.

    Args:
        sink: the store, its parent run opened (:meth:`MlflowSink.open_parent`).
        trials: trials.json's records, in order.

    Returns:
        How many trials were sent in full before the store failed (all of them if it did not).
    """
    sent = 0
    sink.refresh_trials()
    for record in trials:
        run_id = sink.trial_run(record, attempt=False)
        if run_id is None:
            break
        sink.log_epochs(run_id, record["epochs"])
        sink.end_trial(run_id, record)
        sent += sink.failed is None
    return sent


def _millis(stamp: str | None) -> int | None:
    """:func:`stamp_seconds` in milliseconds, as MLflow takes times (None: now)."""
    seconds = stamp_seconds(stamp)
    return None if seconds is None else int(seconds * 1000)
