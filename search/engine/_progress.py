"""Live progress of a search: trials done/left, epoch, batch, best so far, time left."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any

import keras_tuner as kt
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from hypermodels import DataFidelity
from search._text import SECONDS_PER_MINUTE
from search.engine._plan import Plan
from search.engine._records import TrialRecorder, failure_reason
from search.experiments import KERAS_BATCH_SIZE
from search.tuners import Observer


class TimeLeftColumn(TimeRemainingColumn):
    """Rich's estimate of a task's time left, capped where ``cap(task)`` gives seconds
    (the search's time limit): a search that stops at its limit ends sooner than its
    planned epochs would."""

    def __init__(self, cap: Callable[[Task], float | None]) -> None:
        super().__init__()
        self.cap = cap

    def render(self, task: Task) -> Text:
        cap = self.cap(task)
        if cap is None or (task.time_remaining is not None and task.time_remaining <= cap):
            return super().render(task)
        minutes, seconds = divmod(int(cap), int(SECONDS_PER_MINUTE))
        hours, minutes = divmod(minutes, int(SECONDS_PER_MINUTE))
        return Text(f"{hours:d}:{minutes:02d}:{seconds:02d}", style="progress.remaining")


class SearchProgress(Observer):
    """An observer drawing two bars: the search (in epochs) and the current epoch (in batches).

    Time left is estimated from epochs done against the epochs the budget plans, so it
    accounts for Hyperband's short and long trials alike, and capped at the search's time
    limit (``ends_at``, ``time.time()``). A line is also printed per finished trial, which
    is what a log file (no terminal) keeps.
    """

    ends_at: float | None = None

    def __init__(
        self,
        console: Console,
        planned_trials: int,
        planned_epochs: int,
        objective: kt.Objective,
        steps_per_epoch: Callable[[dict[str, Any], int], int],
        max_epochs: int,
    ) -> None:
        self.console = console
        self.max_epochs = max_epochs
        self.planned_trials = planned_trials
        self.objective = objective
        self.steps_per_epoch = steps_per_epoch
        self.trials_done = 0
        self.best: tuple[float, str] | None = None
        """The best objective value of a completed trial, and that trial."""
        self._trial_best: tuple[float, str] | None = None
        """The running trial's best epoch so far: shown, kept only if the trial completes."""
        self._trial_index = 0
        self._progress = Progress(
            TextColumn("{task.description}", markup=False),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("left"),
            TimeLeftColumn(self._time_cap),
            console=console,
            transient=False,
        )
        self._planned_epochs = planned_epochs
        self._search = self._progress.add_task("search", total=planned_epochs)
        self._epoch = self._progress.add_task("epoch", total=1, visible=False)
        self._values: dict[str, Any] = {}
        self._epochs_done = 0
        """Epochs the running trial logged."""
        self._start = time.perf_counter()

    def start_from(self, records: Iterable[dict[str, Any]]) -> None:
        """Count what earlier processes of this run did (a resumed or isolated search)."""
        done = [r for r in records if r.get("status") not in (None, "running")]
        if not done:
            return
        self._trial_index = self.trials_done = len(done)
        epochs = sum(len(r.get("epochs") or []) for r in done)
        # A fresh task: rich estimates the speed only from what this process advances.
        self._progress.remove_task(self._search)
        self._search = self._progress.add_task(
            "search", total=self._planned_epochs, completed=epochs
        )
        self._progress.remove_task(self._epoch)
        self._epoch = self._progress.add_task("epoch", total=1, visible=False)
        for record in done:
            value = (record.get("best") or {}).get(self.objective.name)
            if record.get("status") == "completed" and value is not None and self._better(value):
                self.best = (value, record["id"])
        self._progress.update(self._search, description=self._describe(""))

    def _time_cap(self, task: Task) -> float | None:
        """The search's seconds left before its time limit; None: no limit, or another task."""
        if self.ends_at is None or task.id != self._search:
            return None
        return max(0.0, self.ends_at - time.time())

    def __enter__(self) -> SearchProgress:
        self._progress.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._progress.stop()

    def _shown_best(self) -> tuple[float, str] | None:
        if self._trial_best is not None and self._better(self._trial_best[0]):
            return self._trial_best
        return self.best

    def _best_text(self) -> str:
        best = self._shown_best()
        if best is None:
            return "best: none yet"
        return f"best {self.objective.name} {best[0]:.4f} (trial {best[1]})"

    def _describe(self, trial_id: str, epoch: int | None = None, epochs: int | None = None) -> str:
        trial = f"trial {self._trial_index}/{max(self.planned_trials, self._trial_index)}"
        where = f" epoch {epoch}/{epochs}" if epoch is not None else ""
        return f"{trial}{where} · {self._best_text()}"

    def trial_begin(self, trial: kt.engine.trial.Trial) -> None:
        self._trial_index += 1
        self._epochs = trial.hyperparameters.values.get("tuner/epochs", self.max_epochs)
        self._epochs_done = 0
        self._values = trial.hyperparameters.values
        self._progress.update(self._search, description=self._describe(trial.trial_id))

    def epoch_begin(self, trial: kt.engine.trial.Trial, epoch: int) -> None:
        self._progress.update(
            self._search, description=self._describe(trial.trial_id, epoch + 1, self._epochs)
        )
        steps = self.steps_per_epoch(self._values, epoch)
        self._progress.reset(self._epoch, total=steps, visible=True)
        self._progress.update(self._epoch, description=f"  epoch {epoch + 1}")

    def batch_end(self, trial: kt.engine.trial.Trial, batch: int) -> None:
        task = next(task for task in self._progress.tasks if task.id == self._epoch)
        if task.total is not None and batch + 1 > task.total:
            task.total = None  # a fit of the model's own, with its own batch size: unknown
        self._progress.update(self._epoch, completed=batch + 1)

    def epoch_end(self, trial: kt.engine.trial.Trial, epoch: int, logs: dict[str, float]) -> None:
        self._progress.advance(self._search)
        self._epochs_done += 1
        value = logs.get(self.objective.name)
        if value is not None and (self._trial_best is None or self._better(value, self._trial_best)):
            self._trial_best = (value, trial.trial_id)
            self._progress.update(
                self._search, description=self._describe(trial.trial_id, epoch + 1, self._epochs)
            )

    def trial_end(self, trial: kt.engine.trial.Trial) -> None:
        self.trials_done += 1
        self._progress.update(self._epoch, visible=False)
        status = str(trial.status).lower()
        if status == "completed" and not self._epochs_done:  # a fit that told no epochs
            planned = self._epochs - int(self._values.get("tuner/initial_epoch", 0))
            self._progress.advance(self._search, planned)
        if self._trial_best is None and trial.score is not None:
            self._trial_best = (trial.score, trial.trial_id)  # a fit that returned final values
        if status == "completed" and self._shown_best() is self._trial_best:
            self.best = self._trial_best
        self._trial_best = None  # a failed trial's epochs are no one's best
        self._progress.update(self._search, description=self._describe(trial.trial_id))
        if getattr(trial, "pruned_at", None) is not None:
            status = f"pruned after epoch {trial.pruned_at}"
        score = f"{trial.score:.4f}" if trial.score is not None else "-"
        reason = failure_reason(trial.message) if status != "completed" else None
        extra = f" ({reason})" if reason else ""
        elapsed = time.perf_counter() - self._start
        self.console.print(
            f"trial {trial.trial_id} {status}: {self.objective.name} {score}{extra}"
            f" · {self._best_text()} · {elapsed / 60:.1f} min elapsed"
        )

    def _better(self, value: float, than: tuple[float, str] | None = None) -> bool:
        """Whether ``value`` beats ``than`` (default: the best completed trial's)."""
        than = self.best if than is None else than
        return than is None or self.objective.better_than(value, than[0])


def batches_per_epoch(
    n_train: int, fidelity: DataFidelity | None, model_fit: bool, default: int = KERAS_BATCH_SIZE
) -> Callable[[dict[str, Any], int], int]:
    """How many batches a trial's epoch trains, from its hyperparameters and the epoch: of
    its ``batch_size``, else ``default`` (``model.fit``'s, for a user's model that declares
    none; the built-in model's where its space leaves it out), on the ``n_train`` images or
    the share ``fidelity`` gives that epoch. ``model_fit``: the trials train with
    ``model.fit``, whose last batch may be partial; else with the custom loop, which
    trains whole batches only."""
    count = math.ceil if model_fit else math.floor

    def steps(values: dict[str, Any], epoch: int) -> int:
        batch = min(_batch_size(values, default), n_train)
        if fidelity is None:
            return max(1, count(n_train / batch))
        at = replace(fidelity, budget=values.get("tuner/epochs"))  # as the tuner tells fit
        return max(1, count(at.images(epoch, n_train, batch) / batch))

    return steps


def _batch_size(values: dict[str, Any], default: int) -> int:
    """A trial's ``batch_size`` where it is a number of at least 1 (its whole part), else
    ``default``: a model of one's own may tune a ``batch_size`` of another meaning."""
    value = values.get("batch_size")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return default
    return int(value) if math.isfinite(value) and value >= 1 else default


def search_progress(
    p: Plan, objective: kt.Objective, n_train: int, console: Console, recorder: TrialRecorder,
    model_fit: bool,
) -> SearchProgress:
    """The progress of ``p``'s search, counting what the run's processes did so far.

    Args:
        p: the run's plan: its budget, backend and fidelity.
        objective: what the best-so-far is.
        n_train: the training rows a trial's epoch goes over (before a data fidelity).
        console: where it is drawn.
        recorder: the run's trials.
        model_fit: the trials train with ``model.fit`` (see :func:`batches_per_epoch`).

    Returns:
        The observer, to be entered while the search runs.
    """
    planned_trials, planned_epochs = p.backend.plan(p.budget)
    default = p.experiment.model_defaults.get("batch_size", KERAS_BATCH_SIZE)
    steps = batches_per_epoch(n_train, p.options.fidelity, model_fit, int(default))
    progress = SearchProgress(console, planned_trials, planned_epochs, objective, steps, p.budget.max_epochs)
    progress.start_from(recorder.records.values())
    return progress
