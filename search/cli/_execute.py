"""Run a search request in this process, or trial by trial in fresh ones (``--isolate``)."""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
import time
from datetime import datetime, timezone
from types import FrameType

from rich.console import Console

from search.engine import RunOutcome, RunRequest, run_search
from search.engine._signals import EXIT_CODES
from search.engine._worker import STORAGE_ENV
from search.errors import SearchError, SearchInterrupted
from search.storage import RunFolder
from search.tuners import TrialQuotaReached

CHILD_ENV = "SEARCH_ISOLATED_TRIAL"
"""Set in the processes that ``--isolate`` starts (to the run's start, ``time.time()``):
each runs one trial and exits."""
MORE_TRIALS = 75
"""A trial process's exit code when it ran its trial and the search goes on (EX_TEMPFAIL)."""


def execute(
    request: RunRequest, console: Console, quiet: bool, debug: bool, devices: tuple[str, ...] = ()
) -> int:
    """Run ``request`` and print what it found; the exit code. ``devices``: the GPU of each
    worker (``CUDA_VISIBLE_DEVICES`` entries; this process is already pinned to the first)."""
    if os.environ.get(CHILD_ENV):
        started_at = float(os.environ[CHILD_ENV])
        try:
            outcome = run_search(request, console, quiet, trials_per_process=1, started_at=started_at)
        except TrialQuotaReached:
            return MORE_TRIALS
        return report_outcome(outcome, request, console)
    if request.isolate:
        return _drive(request, console, quiet, debug)
    return report_outcome(run_search(request, console, quiet, devices=devices), request, console)


def _drive(request: RunRequest, console: Console, quiet: bool, debug: bool) -> int:
    """Check and create (or check and reopen) the run here, then start one process per
    trial until one of them finishes the search, stops, or fails."""
    started_at = time.time()
    try:
        outcome = run_search(request, console, quiet, trials_per_process=0)
    except TrialQuotaReached as exc:
        folder: RunFolder = exc.folder  # type: ignore[attr-defined]
    else:  # pragma: no cover - a quota of 0 stops before the first trial
        return report_outcome(outcome, request, console)
    command = [sys.executable, "-m", "search", "resume", str(folder.path.resolve())]
    command += ["--quiet"] * quiet + ["--debug"] * debug
    env = {**os.environ, CHILD_ENV: repr(started_at)}
    if request.storage:  # with its password, which run.json does not keep
        env[STORAGE_ENV] = request.storage
    while True:
        code, seconds, peak_mib, signals = _run_child(command, env)
        if code != MORE_TRIALS:
            break
        if not quiet:
            console.print(f"[dim]  trial process: {seconds:.1f} s, peak memory {peak_mib:,.0f} MiB[/]")
        if signals:  # the trial ended before its process saw the signal: stop here
            folder.update_meta(status="interrupted", finished=_now())
            done = sum(t["status"] == "completed" for t in folder.read_trials())
            raise SearchInterrupted(
                f"stopped after {done} trials; resume with: python -m search resume"
                f" {shlex.quote(str(folder.path))}",
                EXIT_CODES.get(signals[0], 130),
            )
    if code < 0:
        name = signal.Signals(-code).name
        hint = " (out of memory?)" if -code == signal.SIGKILL else ""
        raise SearchError(
            f"the trial process was killed by {name}{hint}; the run is kept and resumable:"
            f" python -m search resume {shlex.quote(str(folder.path))}"
        )
    return code


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _run_child(command: list[str], env: dict[str, str]) -> tuple[int, float, float, list[int]]:
    """Run one trial process; (exit code, seconds, peak RSS in MiB, signals passed on).

    The child has its own session, so a Ctrl-C at the terminal reaches only this process,
    which passes it on once: the child then stops at the next batch, and a second Ctrl-C
    stops it at once, as without ``--isolate``.
    """
    started = time.perf_counter()
    received: list[int] = []
    procs: list[subprocess.Popen] = []

    def forward(signum: int, frame: FrameType | None) -> None:
        received.append(signum)
        for proc in procs:
            proc.send_signal(signum)

    # Handlers first: a signal between the start and the handlers must not be lost.
    previous = {sig: signal.signal(sig, forward) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        proc = subprocess.Popen(command, env=env, start_new_session=True)
        procs.append(proc)
        if received:  # arrived while the process was starting
            proc.send_signal(received[0])
        _, status, usage = os.wait4(proc.pid, 0)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return proc.returncode, time.perf_counter() - started, usage.ru_maxrss / 1024, received


def _write_report(folder, console: Console) -> None:
    """Every search ends with its HTML report; a report failure never fails the run."""
    from search.report import write_report

    try:
        output, reports = write_report([folder])
    except (SearchError, ValueError, OSError) as exc:
        console.print(f"report not written ({exc}); try: python -m search report {folder.path}")
        return
    if reports[0].choice is not None:
        console.print(reports[0].choice.sentence())
    if reports[0].baseline is not None:
        console.print(reports[0].baseline)
    console.print(f"report: {output}")




def report_outcome(outcome: RunOutcome, request: RunRequest, console: Console) -> int:
    """Print what a finished search found, write its report; the exit code (0)."""
    best = outcome.best or {}
    metric = request.kt_objective().name
    console.print(
        f"chosen trial {best.get('id')}: {metric} {best['best'][metric]:.4f}"
        f" at epoch {best.get('best_epoch')}; hyperparameters {best.get('hyperparameters')}"
    )
    if outcome.final:
        from search.report import describe_training

        console.print(
            f"TEST accuracy of the retrained model: {outcome.final['test_accuracy']:.4f}"
            f" ({describe_training(outcome.final)})"
        )
    console.print(f"run {outcome.folder.name} finished in {outcome.seconds / 60:.1f} min;"
                  f" results in {outcome.folder.path}")
    _write_report(outcome.folder, console)
    if request.track:
        from search.tracking import finish_tracking

        finish_tracking(outcome.folder, request, console)
    console.print(f"status: python -m search status {shlex.quote(str(outcome.folder.path))}")
    return 0
