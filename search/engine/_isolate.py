"""``--isolate``: each trial in a fresh process, so memory cannot grow from trial to trial."""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType

from rich.console import Console

from search.engine._pipeline import RunContinues, earlier_seconds, record_stop, run_search
from search.engine._request import STORAGE_ENV, RunRequest
from search.engine._signals import interrupted
from search.errors import ERROR_FILE_ENV, SearchError, SearchInterrupted
from search.experiments import Experiment
from search.storage import LOCK_FD_ENV, RunFolder, RunLock

CHILD_ENV = "SEARCH_ISOLATED_TRIAL"
"""Set in the processes that ``--isolate`` starts (to the run's start, ``time.time()``):
each runs one trial and exits."""
LAUNCHED_ENV = "SEARCH_TRIAL_PROCESS_LAUNCHED"
"""Set in each of those processes to when it was started (``time.time()``): its start-up
(importing Keras, loading the data) counts as search time."""
MORE_TRIALS = 75
"""A trial process's exit code when it ran its trial and the search goes on (EX_TEMPFAIL)."""


def drive_isolated(
    request: RunRequest,
    console: Console,
    quiet: bool,
    debug: bool,
    experiment: Experiment | None = None,
    error_file: Path | None = None,
    silent: bool = False,
) -> tuple[int, RunFolder]:
    """``--isolate``: check and create (or check and reopen) the run here, then start one
    process per trial (``python -m search resume RUN``) until one of them finishes the
    search, stops, or fails.

    Args:
        request: what to run.
        console: where progress is printed.
        quiet: print no progress (passed on as ``--quiet``).
        debug: passed on to the trial processes as ``--debug``.
        experiment: the experiment object itself (a user's hypermodel from Python); None:
            the one the request names.
        error_file: where a trial process writes the error it stopped with, instead of
            printing it (``search.run``, which raises it); None: printed.
        silent: discard the trial processes' output (their results lines; ``search.run(quiet=True)``).

    Returns:
        The last trial process's exit code (0: the search finished, and that process
        printed its outcome) and the run folder.

    Raises:
        SearchError: a trial process was killed by a signal (the run is kept, resumable).
        SearchInterrupted: a signal came between two trial processes, or while one started
            (recorded in run.json).
    """
    started_at = time.time()
    try:
        outcome = run_search(request, console, quiet, trials_per_process=0, experiment=experiment)
    except RunContinues as exc:
        folder = exc.folder
    else:  # pragma: no cover - a quota of 0 stops before the first trial
        return 0, outcome.folder
    command = [sys.executable, "-m", "search", "resume", str(folder.path.resolve())]
    command += ["--quiet"] * quiet + ["--debug"] * debug
    env = _child_env(started_at, request.storage, error_file)
    # This process holds the run's lock from the first trial process to the last; each
    # inherits it, so that no other process can take the run between two of them.
    with RunLock(folder.path) as lock:
        env[LOCK_FD_ENV] = str(lock.fd)
        while True:
            env[LAUNCHED_ENV] = repr(time.time())
            code, seconds, peak_mib, signals = _run_child(command, env, lock.fd, silent)
            if code != MORE_TRIALS:
                break
            if not quiet:
                console.print(
                    f"  trial process: {seconds:.1f} s, peak memory {peak_mib:,.0f} MiB",
                    style="dim",
                )
            if signals:  # the trial ended before its process saw the signal: stop here
                raise _stopped_between(folder, signals[0], started_at)
    if signals and folder.read_meta().get("status") == "running":
        # The process stopped while it was starting (importing Keras): it recorded nothing.
        raise _stopped_between(folder, signals[0], started_at)
    if code < 0:
        name = signal.Signals(-code).name
        hint = " (out of memory?)" if -code == signal.SIGKILL else ""
        raise SearchError(
            f"the trial process was killed by {name}{hint}; the run is kept and resumable:"
            f" python -m search resume {shlex.quote(str(folder.path))}"
        )
    return code, folder


def _stopped_between(folder: RunFolder, signum: int, started_at: float) -> SearchInterrupted:
    """A run stopped by ``signum`` between two trial processes, recorded as interrupted
    in run.json (with its reason and time so far): the error to raise (or EnvironmentFailure,
    resumable, where run.json cannot be written)."""
    seconds = earlier_seconds(folder.read_meta()) + time.time() - started_at
    stop = interrupted(folder.read_trials(), folder.path, signum)
    record_stop(folder, "interrupted", stop, round(seconds, 1))
    return stop


def _child_env(started_at: float, storage: str | None, error_file: Path | None) -> dict[str, str]:
    """The trial processes' environment: the search's start, the storage URL with its
    password (which run.json does not keep), the file for the error a process stops with."""
    env = {**os.environ, CHILD_ENV: repr(started_at)}
    if error_file is not None:
        env[ERROR_FILE_ENV] = str(error_file)
    if storage:
        env[STORAGE_ENV] = storage
    else:  # the run's journal: not a database the user's environment names
        env.pop(STORAGE_ENV, None)
    return env


def _run_child(
    command: list[str], env: dict[str, str], lock_fd: int | None, silent: bool = False
) -> tuple[int, float, float, list[int]]:
    """Run one trial process, which inherits ``lock_fd`` (``silent``: its standard output
    discarded); (exit code, seconds, peak RSS in MiB, signals passed on).

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
        fds = () if lock_fd is None else (lock_fd,)
        out = subprocess.DEVNULL if silent else None
        proc = subprocess.Popen(command, env=env, start_new_session=True, pass_fds=fds, stdout=out)
        procs.append(proc)
        if received:  # arrived while the process was starting
            proc.send_signal(received[0])
        _, status, usage = os.wait4(proc.pid, 0)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return proc.returncode, time.perf_counter() - started, usage.ru_maxrss / 1024, received
