"""The search step: the tuner and its observers made, the trials run (by this process and
its workers), stops turned into resumable errors."""

from __future__ import annotations

import contextlib
import io
import math
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from search._text import duration_words, plural
from search.data import rows
from search.engine._checkpoints import CheckpointKeeper, checkpoint_keeper
from search.engine._context import RunContext, Say
from search.engine._progress import SearchProgress, search_progress
from search.engine._records import FailureStreak, TrialRecorder, failures_stop
from search.engine._request import starts_from_checkpoint
from search.engine._signals import SearchStopped, StopOnSignal, interrupted
from search.engine._warm import other_data
from search.engine._worker import spawn_workers, wait_workers
from search.environment import EnvironmentFailure
from search.experiments import UserHyperModel
from search.storage import RunFolder
from search.tracking import tracking_observers
from search.tuners import (
    EnvironmentStop,
    Guarded,
    Observer,
    SearchTimeUp,
    TrialQuotaReached,
    TrialsKeepFailing,
)


class RunContinues(Exception):
    """This process ran the trials it was given (``--isolate``); the run, left
    ``running``, goes on in other processes."""

    def __init__(self, folder: RunFolder) -> None:
        super().__init__(f"{folder.path}: this process ran its trials; the run goes on")
        self.folder = folder


@dataclass(frozen=True)
class Searched:
    """What the search step leaves for the next ones: the recorded trials, the tuner (its
    oracle holds Optuna's study) and the hypermodel the trials were built by."""

    recorder: TrialRecorder
    tuner: Any
    hypermodel: Any


def search_trials(ctx: RunContext) -> Searched:
    """Run the search's trials, in this process and in its workers (``--workers``).

    Raises:
        RunContinues: This process ran its quota of trials (``--isolate``).
        SearchInterrupted: A stop signal (Ctrl-C, SIGTERM; ``ctx.stopper``, which the
            caller has entered); the run is resumable.
        EnvironmentFailure: A file could not be written; the run is resumable.
    """
    request, p, folder = ctx.request, ctx.plan, ctx.folder
    baseline = p.space.defaults() if request.baseline else None
    recorder = TrialRecorder(folder, request.kt_objective(), baseline)
    hypermodel = p.experiment.hypermodel(p.space, ctx.splits, p.model)
    stopper = ctx.stopper
    model_fit = isinstance(hypermodel, UserHyperModel)  # else the custom loop
    progress = _progress(ctx, recorder, model_fit) if ctx.shows_progress else None
    keeper = checkpoint_keeper(folder, request, p.finalists, starts_from_checkpoint(request, ctx.splits))
    observers = _observers(ctx, recorder, stopper, keeper, progress)
    with contextlib.redirect_stdout(io.StringIO()):  # KerasTuner prints "Reloading Tuner"
        tuner = p.backend.create(
            hypermodel, request.kt_objective(), p.budget, request.seed, folder.tuner_dir,
            observers, p.options,
        )  # fmt: skip
    if keeper is not None:
        keeper.oracle = tuner.oracle
    tuner.trial_quota = ctx.trials_per_process
    tuner.say = Say(ctx.console, ctx.quiet)  # a trial process of --isolate too
    start_up = 0.0 if ctx.launched_at is None else max(0.0, time.time() - ctx.launched_at)
    clock = SearchClock(earlier_search_seconds(folder), time.perf_counter() - start_up)
    tuner.search_ends_at = _time_limit(ctx, clock)
    if progress is not None:
        progress.ends_at = tuner.search_ends_at
    _announce(ctx, clock.earlier)
    try:
        with _workers(ctx) as workers:
            # This process holds the run's lock: the trials the run's stopped processes left
            # running were interrupted, and each goes to the process that continues it.
            owners = {folder.tuner_dir: os.getpid()}
            owners.update({folder.tuner_dir / f"worker-{k}": w.pid for k, w in enumerate(workers, 1)})
            tuner.keep_interrupted(owners)
            time_up = _run(ctx, tuner, progress, recorder)
    except BaseException:
        with contextlib.suppress(OSError):  # the error on its way is the one to report
            folder.update_meta(search_seconds=clock.seconds())
        raise
    recorder.refresh()
    spent = not time_up and tuner.space_spent() and len(recorder.records) < _asked(ctx)
    folder.update_meta(search_seconds=clock.seconds(), search_time_up=time_up, space_spent=spent)
    if time_up:
        _say_time_up(ctx, recorder)
    elif spent:
        _say_space_spent(ctx, recorder)
    if keeper is not None:
        keeper.prune(search_over=True)  # no bracket continues now, even one cut short
    return Searched(recorder, tuner, hypermodel)


@dataclass(frozen=True)
class SearchClock:
    """The search step's time in all of a run's processes: ``earlier`` seconds that its
    earlier processes recorded, and this one's since ``started`` (``time.perf_counter()``)."""

    earlier: float
    started: float = field(default_factory=time.perf_counter)

    def seconds(self) -> float:
        """The search's seconds so far."""
        return round(self.earlier + time.perf_counter() - self.started, 1)


def earlier_search_seconds(folder: RunFolder) -> float:
    """The seconds a continued run has searched: what run.json recorded, or, where a
    process was killed before it recorded its time, at least the time its trials ran in
    (trials of workers that overlapped count once, whatever the workers are now)."""
    recorded = folder.read_meta().get("search_seconds")
    earlier = float(recorded) if isinstance(recorded, (int, float)) else 0.0
    return max(earlier, trials_span(folder.read_trials()))


def trials_span(trials: list[dict[str, Any]]) -> float:
    """The seconds in which at least one of ``trials`` ran: the union of each finished
    one's span, its ``seconds`` up to its ``finished`` time."""
    spans = sorted(
        (end - float(t["seconds"]), end)
        for t in trials
        if t.get("seconds") and t.get("finished")
        for end in [datetime.fromisoformat(t["finished"]).timestamp()]
    )
    total, reached = 0.0, -math.inf
    for start, end in spans:
        total += max(0.0, end - max(start, reached))
        reached = max(reached, end)
    return round(total, 1)


def _time_limit(ctx: RunContext, clock: SearchClock) -> float | None:
    """When (``time.time()``) the search starts no new trial, kept in run.json for the
    workers that join it and the trial processes of ``--isolate`` (which take the one their
    first process set: their start-up counts); None: no limit."""
    limit = ctx.plan.budget.max_search_seconds
    if limit is None:
        return None
    if ctx.trials_per_process == 1:
        ends_at = ctx.folder.read_meta().get("search_ends_at")
        if isinstance(ends_at, (int, float)):
            return float(ends_at)
    ends_at = time.time() + max(0.0, limit - clock.earlier)
    ctx.folder.update_meta(search_ends_at=round(ends_at, 3))
    return ends_at


def _say_time_up(ctx: RunContext, recorder: TrialRecorder) -> None:
    limit = ctx.plan.budget.max_search_seconds or 0.0
    done = sum(r.get("status") == "completed" for r in recorder.records.values())
    if not ctx.quiet:  # a trial process of --isolate's too: the one that ends the search
        ctx.console.print(
            f"the search reached its time limit ({duration_words(limit)}) with"
            f" {plural(done, 'trial')} completed; no new trial starts"
        )


def _asked(ctx: RunContext) -> int:
    """The trials the run's budget plans (Hyperband: its schedule's, or the cap)."""
    asked, _ = ctx.plan.backend.plan(ctx.plan.budget)
    return asked


def _say_space_spent(ctx: RunContext, recorder: TrialRecorder) -> None:
    if not ctx.quiet:
        ctx.console.print(
            f"the search stopped after {plural(len(recorder.records), 'trial')} of the {_asked(ctx)}"
            " asked for: the tuner found no configuration of its space left untried"
        )


def _observers(
    ctx: RunContext,
    recorder: TrialRecorder,
    stopper: StopOnSignal,
    keeper: CheckpointKeeper | None,
    progress: SearchProgress | None,
) -> list[Observer]:
    """The failure streak's stop, the recorder (the others read its records), the keeper
    after it (it ranks what was just recorded), then the stop handler, progress, trackers,
    the caller's (each :class:`~search.tuners.Guarded`: its errors stop the search, naming it)."""
    observers: list[Observer] = [FailureStreak(recorder), recorder, *([keeper] if keeper else []), stopper]
    if progress is not None:
        observers.append(progress)
    if ctx.request.track:
        observers += tracking_observers(
            ctx.request.track, ctx.request.results, ctx.folder, recorder, ctx.console,
            catch_up=ctx.trials_per_process != 1,  # not in each trial process of --isolate
        )
    return [*observers, *(Guarded(observer) for observer in ctx.observers)]


def _progress(ctx: RunContext, recorder: TrialRecorder, model_fit: bool) -> SearchProgress:
    return search_progress(ctx.plan, ctx.request.kt_objective(), rows(ctx.splits.x_train), ctx.console,
                           recorder, model_fit)  # fmt: skip


def _announce(ctx: RunContext, searched: float) -> None:
    """What the search will run; a continued one's time left under its limit, after the
    ``searched`` seconds of its earlier processes."""
    planned_trials, planned_epochs = ctx.plan.backend.plan(ctx.plan.budget)
    isolated = " (each trial in its own process)" if ctx.trials_per_process == 0 else ""
    limit = ctx.plan.budget.max_search_seconds
    within = "" if limit is None else f", for at most {duration_words(limit)}"
    if limit is not None and searched > 0:
        within += f" ({duration_words(max(0.0, limit - searched))} left)"
    if ctx.request.space is not None:  # a bare name may have been the package's file
        gone = "" if ctx.request.space.exists() else f" (gone: searching the copy in {ctx.plan.space.source})"
        ctx.say(f"space: {ctx.request.space}{gone}")
    ctx.say(
        f"searching with {ctx.plan.backend.name}: up to {plural(planned_trials, 'trial')},"
        f" {plural(planned_epochs, 'epoch')} in all{within}{isolated}; results in {ctx.folder.path}"
    )
    warm = ctx.plan.options.warm
    if warm is not None:
        ctx.say(warm.describe() + other_data(warm.sources, ctx.folder.read_meta().get("data") or {}))


@contextlib.contextmanager
def _workers(ctx: RunContext) -> Iterator[list[subprocess.Popen]]:
    """Worker processes (``--workers N``: N-1 besides this one) for the search's length:
    waited for when it ends, stopped when it fails."""
    if ctx.request.workers <= 1:
        yield []
        return
    workers = spawn_workers(
        ctx.folder, ctx.request.workers - 1, storage=ctx.request.storage, devices=ctx.devices[1:]
    )
    on = f" on GPUs {', '.join(ctx.devices[1:])}" if ctx.devices else ""
    ctx.say(
        f"started {plural(len(workers), 'worker process', 'worker processes')}{on}"
        " (logs: worker-K.log)"
    )
    try:
        yield workers
        wait_workers(workers)
    except BaseException:
        wait_workers(workers, stop=True)
        raise


def _run(
    ctx: RunContext,
    tuner: Any,
    progress: SearchProgress | None,
    recorder: TrialRecorder,
) -> bool:
    """``tuner.search`` on the run's data, with stops turned into the engine's errors.

    Returns:
        Whether the search ended at its time limit.
    """
    splits = ctx.splits
    try:
        with progress if progress is not None else contextlib.nullcontext():
            tuner.search(
                splits.x_train, splits.y_train, validation_data=splits.validation_data(),
                epochs=ctx.plan.budget.max_epochs, verbose=0, **splits.weight_keyword(),
            )  # fmt: skip
    except SearchTimeUp:
        return True
    except TrialQuotaReached:
        raise RunContinues(ctx.folder) from None
    except EnvironmentStop as exc:  # the running trial is run again on resume
        raise EnvironmentFailure(exc.error, ctx.folder.path, ctx.resume) from None
    except (SearchStopped, KeyboardInterrupt) as exc:
        signum = getattr(exc, "signum", signal.SIGINT)
        raise interrupted(recorder.records.values(), ctx.folder.path, signum, command=ctx.resume) from None
    except TrialsKeepFailing:
        completed = sum(r["status"] == "completed" for r in recorder.records.values())
        if not completed:
            return False  # the next step names the failures: no trial completed
        then = (f"the search stopped after {plural(completed, 'completed trial')} of {_asked(ctx)};"
                f" fix the cause, then resume with: {ctx.resume}")  # fmt: skip
        with failures_stop(recorder, then):
            raise
    return False


__all__ = ["RunContinues", "Searched", "search_trials"]
