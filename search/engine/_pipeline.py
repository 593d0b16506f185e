"""A run end to end, as a pipeline of named steps:

plan -> open the run -> search -> choose -> retrain and test -> write the report.

The API, the CLI, ``--isolate``'s trial processes all call :func:`run_search`; workers
(``search worker``) join a run's search step with the same plan.
"""

from __future__ import annotations

import contextlib
import math
import signal
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

from rich.console import Console

from search import experiments
from search._heap import heap_frozen
from search._text import plural
from search.engine._choose import choose_trial
from search.engine._context import RunContext, Say
from search.engine._finalists import chosen_summary, run_finalists
from search.engine._open import WRITABLE_FIX, NameTaken, OpenRun, open_run, record_start
from search.engine._plan import Plan, own_final_step, plan
from search.engine._precision import precision
from search.engine._request import RunRequest
from search.engine._retrain import final_model
from search.engine._search import RunContinues, Searched, search_trials
from search.engine._signals import SearchStopped, interrupted, stop_reason
from search.environment import EnvironmentFailure, environment_error
from search.errors import SearchError, SearchInterrupted, option
from search.report import report_lines, report_written
from search.storage import FinalistFiles, RunFolder, RunLock, check_writable, utc_now
from search.tracking import check_stores, finish_tracking, stop_tracking
from search.tuners import Observer
from search.tuners.optuna import PARETO_NOTE

NAME_TRIES = 20
"""How many times a run not given a name is planned again when others take its name."""


@dataclass(frozen=True)
class RunOutcome:
    """Where the run lives, what it chose, how the final model did, and the report's lines
    (what it chose and why, against the baseline, where the report is)."""

    folder: RunFolder
    best: dict[str, Any] | None
    final: dict[str, Any] | None
    seconds: float
    report: tuple[str, ...] = ()


def run_search(
    request: RunRequest,
    console: Console,
    quiet: bool = False,
    trials_per_process: int | None = None,
    started_at: float | None = None,
    launched_at: float | None = None,
    devices: tuple[str, ...] = (),
    experiment: experiments.Experiment | None = None,
    observers: Sequence[Observer] = (),
) -> RunOutcome:
    """Run the search described by ``request``; every input is checked before work starts.

    Args:
        request: What to run.
        console: Where progress and results are printed.
        quiet: Print nothing but errors.
        trials_per_process: ``--isolate``: start at most that many trials here, then raise
            :class:`RunContinues`, the run left resumable (0: only create or check the run;
            1: one trial process of many, which says less).
        started_at: ``time.time()`` when the run's first process began, if not this one.
        launched_at: ``time.time()`` when this trial process of ``--isolate`` was started:
            its start-up counts as search time.
        devices: ``--gpus``: each worker's ``CUDA_VISIBLE_DEVICES`` entry; this process,
            worker 0, must already be pinned to the first (``search.gpus.claim``).
        experiment: The experiment itself (a user's hypermodel from Python); None: the one
            the request names.
        observers: The caller's observers of the search, after the engine's own.

    Returns:
        The finished run.
    """
    started = time.perf_counter() - (0.0 if started_at is None else time.time() - started_at)
    with heap_frozen():
        say = Say(console, quiet or trials_per_process == 1)
        check_writable(request.results, f"{option('results')} {request.results}", WRITABLE_FIX)
        p, opened = _plan_and_open(request, experiment, say, tracked=trials_per_process != 1)
        request = own_final_step(request, opened.previous)
        with RunLock(opened.folder.path) as lock, precision(request.precision) as policy:
            if lock.taken_over is not None:
                say(f"took over the lock of PID {lock.taken_over}, which is not running")
            record_start(opened, request, p, policy, child=trials_per_process == 1)
            if opened.resuming:
                done = sum(t["status"] == "completed" for t in opened.folder.read_trials())
                say(f"resuming run {p.name}: {plural(done, 'trial')} already completed")
            ctx = _context(request, p, opened, console, quiet, trials_per_process, devices, observers)
            if launched_at is not None:
                ctx = replace(ctx, launched_at=launched_at)
            with _trackers_told(ctx):
                outcome = _search_and_finish(ctx, RunClock(started, earlier_seconds(opened.previous)))
            # Under the lock: a resume would take a finished run without its report for one
            # killed before it (finish_cut_short), and write it beside this process.
            return _with_report(outcome, request, console)


def _plan_and_open(
    request: RunRequest, experiment: experiments.Experiment | None, say: Say, tracked: bool
) -> tuple[Plan, OpenRun]:
    """Plan the run and open its folder (``tracked``: check the tracking stores between).

    A run not given a name whose name another process took in the same second is planned
    again, under the next free name.
    """
    for _ in range(NAME_TRIES):
        p = plan(request, experiment=experiment)
        if p.options.pareto and request.pruner not in (None, "none"):
            say(PARETO_NOTE)
        if request.track and tracked:
            folder = RunFolder(request.results / p.experiment.name / p.name)
            check_stores(request.track, request.results, folder, p.experiment.name)
        try:
            return p, open_run(request, p, say)
        except NameTaken:
            continue
    raise SearchError(
        f"{request.results}: other processes took {NAME_TRIES} run names in a row;"
        f" give the run a name with {option('name')}"
    )


def _context(
    request: RunRequest,
    p: Plan,
    opened: OpenRun,
    console: Console,
    quiet: bool,
    trials_per_process: int | None,
    devices: tuple[str, ...],
    observers: Sequence[Observer],
) -> RunContext:
    return RunContext(
        request=request, plan=p, folder=opened.folder, splits=opened.splits, console=console,
        quiet=quiet, trials_per_process=trials_per_process, devices=devices,
        observers=tuple(observers),
    )  # fmt: skip


@dataclass(frozen=True)
class RunClock:
    """A run's time: ``earlier`` seconds its earlier processes recorded, and this process's
    since ``started`` (``time.perf_counter()``)."""

    started: float
    earlier: float = 0.0

    def seconds(self) -> float:
        """The run's seconds so far, in all its processes that recorded theirs."""
        return round(self.earlier + time.perf_counter() - self.started, 1)


def earlier_seconds(previous: dict[str, Any] | None) -> float:
    """The seconds a continued run's earlier processes recorded in run.json (0: a new run)."""
    seconds = (previous or {}).get("seconds")
    return float(seconds) if isinstance(seconds, (int, float)) else 0.0


def recorded_seconds(folder: RunFolder, final: dict[str, Any] | None, workers: int) -> float:
    """What a run's own records add up to: its trials' seconds (one after another: not with
    workers, where they overlap) and its final training's, earlier processes' epochs
    included; a floor for a run whose earlier process was killed before it recorded its
    time."""
    trials = sum(t.get("seconds") or 0 for t in folder.read_trials()) if workers <= 1 else 0
    final = final or {}
    finalists = sum(f.get("train_seconds") or 0 for f in final.get("finalists", []))
    return round(trials + max(final.get("seconds") or 0, finalists), 1)


def _search_and_finish(ctx: RunContext, clock: RunClock) -> RunOutcome:
    """Search, choose, retrain and test, then mark the run finished; a stop signal stops
    the search or the final training at its next batch boundary (one that comes during
    the test lets the run finish)."""
    with ctx.stopper, run_status(ctx.folder, clock, ctx.resume):  # recorded while the stop's handler holds
        with _stops(ctx, final=False):
            searched = search_trials(ctx)
        with _stops(ctx, final=True):
            study = searched.tuner.oracle.study if ctx.plan.options.pareto else None
            best = choose_trial(searched.recorder, ctx.request, ctx.folder, study)
            final: dict[str, Any] | None
            if ctx.plan.finalists > 1:
                best, final = _finalists(ctx, searched, best)
            else:
                final = final_model(ctx, searched.hypermodel, best)
            seconds = max(clock.seconds(), recorded_seconds(ctx.folder, final, ctx.request.workers))
            ctx.folder.update_meta(status="finished", finished=utc_now(), final=final, seconds=seconds)
    if ctx.plan.finalists > 1:
        FinalistFiles(ctx.folder.path).remove_weights()  # the chosen one's are the model now
    ctx.folder.remove_retrain_states()
    return RunOutcome(ctx.folder, best, final, seconds)


def _finalists(
    ctx: RunContext, searched: Searched, search_choice: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The finalists step: the best at full fidelity replaces the search's choice."""
    records = list(searched.recorder.records.values())
    best, final = run_finalists(ctx, searched.hypermodel, records, ctx.plan.finalists)
    count = len(final["finalists"])
    scored = math.isfinite(float(final.get("val_score", math.nan)))
    objective = ctx.request.kt_objective().name
    summary = chosen_summary(best, objective, count, search_choice["id"], scored, final)
    ctx.folder.update_meta(best=summary)
    return best, final


@contextlib.contextmanager
def _stops(ctx: RunContext, final: bool) -> Iterator[None]:
    """A stop signal the search's own handling did not turn into its message (one while it
    sets up or waits for other workers; in the ``final`` training: the retrain, a
    finalist): the run's resumable :func:`interrupted`, saying in which step it stopped. A
    file the machine would not let it write (the final model past a file-size limit): the
    resumable :class:`EnvironmentFailure` naming it, not a failed run."""
    try:
        yield
    except (SearchStopped, KeyboardInterrupt) as exc:
        signum = getattr(exc, "signum", signal.SIGINT)
        raise interrupted(ctx.folder.read_trials(), ctx.folder.path, signum, final, ctx.resume) from None
    except Exception as exc:
        error = None if isinstance(exc, (SearchError, RunContinues)) else environment_error(exc)
        if error is None:
            raise
        raise EnvironmentFailure(error, ctx.folder.path, ctx.resume) from exc


@contextlib.contextmanager
def _trackers_told(ctx: RunContext) -> Iterator[None]:
    """A run that stops early: the trackers this process opened told how (MLflow's runs
    ended as killed or failed), after run.json recorded it."""
    try:
        yield
    except RunContinues:
        raise
    except BaseException:
        if ctx.request.track and ctx.trials_per_process != 1:
            stop_tracking(ctx.folder, ctx.request.track, ctx.request.results)
        raise


@contextlib.contextmanager
def run_status(
    folder: RunFolder, clock: RunClock | None = None, resume: str | None = None
) -> Iterator[None]:
    """Record in run.json how a run's steps stopped, if they did not finish: ``interrupted``
    (a signal, a file that could not be written, an exit (a broken pipe): resumable),
    ``running`` (other processes go on with it), else ``failed``; with its ``reason`` (the
    error's line), the folder it stopped in as its commands name it (``stopped_in``: status
    finds the resume command in the reason by it) and the run's ``seconds`` so far
    (``clock``), which a resumed run goes on from; ``resume``: how the run goes on, said
    where run.json cannot record the stop (None: ``python -m search resume``)."""
    try:
        yield
    except RunContinues:
        raise
    except (SearchInterrupted, EnvironmentFailure, KeyboardInterrupt, SystemExit) as exc:
        record_stop(folder, "interrupted", exc, None if clock is None else clock.seconds(), resume)
        raise
    except BaseException as exc:
        record_stop(folder, "failed", exc, None if clock is None else clock.seconds(), resume)
        raise


def record_stop(
    folder: RunFolder, status: str, exc: BaseException, seconds: float | None = None,
    resume: str | None = None,
) -> None:  # fmt: skip
    """Record in run.json how the run stopped: ``status``, ``exc``'s reason, the folder and
    the run's ``seconds`` so far (None: left as recorded).

    Raises:
        EnvironmentFailure: The machine will not let run.json be written (the file-size limit
            that stopped the run stops its longer run.json too): it names run.json and the
            ``resume`` command (None: ``python -m search resume``), not the bare OSError.
    """
    times = {} if seconds is None else {"seconds": seconds}
    try:
        folder.update_meta(
            status=status, finished=utc_now(), reason=stop_reason(exc),
            stopped_in=str(folder.path), **times,
        )  # fmt: skip
    except OSError as written:
        error = environment_error(written)
        if error is None:
            raise
        raise EnvironmentFailure(error, folder.path, resume) from exc


def finish_cut_short(folder: RunFolder, console: Console) -> list[str] | None:
    """The steps after run.json says "finished" (the final training's files removed, the
    report written, the trackers given the outcome), done now for a run stopped between
    them (a kill).

    Args:
        folder: the run folder.
        console: where a tracking store's failure is printed.

    Returns:
        The report's lines (:func:`report_lines`); None where the run is not finished, or its
        report was written.
    """
    meta = folder.read_meta()
    if meta.get("status") != "finished" or report_written(folder):
        return None
    with RunLock(folder.path):
        if report_written(folder):  # by the run's own process, which held the lock until then
            return None
        FinalistFiles(folder.path).remove_weights()
        folder.remove_retrain_states()
        lines = report_lines(folder)
    track = (meta.get("request") or {}).get("track") or []
    if track:  # its MLflow run, left running by the kill, ended with the report
        finish_tracking(folder, track, folder.path.resolve().parent.parent, console)
    return lines


def _with_report(outcome: RunOutcome, request: RunRequest, console: Console) -> RunOutcome:
    """The last step: the report written (its lines kept for the caller to print), the
    trackers given the run's outcome."""
    lines = tuple(report_lines(outcome.folder))
    if request.track:
        finish_tracking(outcome.folder, request.track, request.results, console)
    return RunOutcome(outcome.folder, outcome.best, outcome.final, outcome.seconds, lines)


__all__ = ["RunContinues", "RunOutcome", "finish_cut_short", "run_search", "run_status"]
