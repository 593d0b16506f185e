"""Heartbeats for running trials and recovery of trials whose worker died.

Optuna's own heartbeat works with RDB storages only, and runs inside ``study.optimize``;
with ask/tell and the default journal file it is not available. So each running trial
records a ``heartbeat`` user attribute every ``interval`` seconds from a daemon thread,
on any storage. A trial whose heartbeat is older than ``grace`` seconds belonged to a
dead worker: it is marked FAIL (``stale``) and its configuration is enqueued once. A worker
on this machine whose process still runs is only slow (a loaded machine can delay its
heartbeat thread past any grace): its trials are left running. A resume holds the run's
lock, so none of its processes runs: the trials they left running were interrupted, not
lost, and :func:`hand_over` gives them to the resumed processes that take them back.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from pathlib import Path
from typing import Any

import optuna
from optuna.exceptions import StorageInternalError, UpdateFinishedTrialError
from optuna.trial import TrialState

from search.compat import optuna as compat_optuna

INTERVAL = float(os.environ.get("SEARCH_HEARTBEAT_SECONDS", "20"))
"""Seconds between heartbeats (an environment variable, so tests can shorten it)."""
STALE_AFTER = 3 * INTERVAL
"""Seconds without a heartbeat after which a running trial's worker is taken for dead."""

HANDED = "handed_to"
"""User attribute of a trial :func:`hand_over` gave to a process: that process's PID."""


class Heartbeat:
    """Beats for one running trial until :meth:`stop`."""

    def __init__(self, trial: optuna.Trial, interval: float = INTERVAL) -> None:
        self._trial = trial
        self._interval = interval
        self._stop = threading.Event()
        self._beat()
        self._thread = threading.Thread(target=self._run, daemon=True, name="heartbeat")
        self._thread.start()

    def _beat(self) -> None:
        self._trial.set_user_attr("heartbeat", time.time())
        self._trial.set_user_attr("pid", os.getpid())
        self._trial.set_user_attr("host", socket.gethostname())

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self._beat()
            except UpdateFinishedTrialError:  # the trial ended in between: nothing left to keep alive
                return
            except (OSError, StorageInternalError):  # the storage failed this beat: try the next
                continue

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=self._interval + 5)


_GONE = ("Z", "X")
"""Process states in /proc/PID/stat of a process that has ended (zombie, dead)."""


def _runs_here(attrs: dict[str, Any]) -> bool:
    """Whether the trial's worker process runs on this machine (Linux's /proc tells; elsewhere,
    or on another machine, only the heartbeat's age does)."""
    pid = attrs.get("pid")
    if attrs.get("host") != socket.gethostname() or not isinstance(pid, int):
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:  # no such process, or no /proc
        return False
    return stat.rsplit(")", 1)[-1].split()[0] not in _GONE


def _left(trial: optuna.trial.FrozenTrial, taken: frozenset[int]) -> bool:
    """Whether :func:`hand_over` gave ``trial`` to this process, which did not take it back
    (its tuner folder's state did not list it): no other process will."""
    return trial.user_attrs.get(HANDED) == os.getpid() and trial.number not in taken


def fail_stale_trials(
    study: optuna.Study, grace: float, taken: frozenset[int] | None = None
) -> list[optuna.trial.FrozenTrial]:
    """Mark FAIL the running trials without a heartbeat for ``grace`` seconds, and enqueue
    each one's configuration once (a retry is not retried again). Returns the failed ones.
    With ``taken`` (the trials this process runs), a trial handed to this process that it
    did not take back is failed too, however recent its beat.
    """
    now = time.time()
    failed = []
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        beat = trial.user_attrs.get("heartbeat")
        started = trial.datetime_start.timestamp() if trial.datetime_start else now
        silent = now - (beat if beat is not None else started) > grace
        left = taken is not None and _left(trial, taken)
        if not left and (not silent or _runs_here(trial.user_attrs)):
            continue
        if not compat_optuna.fail_trial(study, trial, {"stale": True}):
            continue  # another worker failed it first
        failed.append(trial)
        if "retry_of" not in trial.user_attrs:
            study.enqueue_trial(
                trial.params, user_attrs={"retry_of": trial.number}, skip_if_exists=False
            )
    return failed


def hand_over(study: optuna.Study, owners: dict[Path, int]) -> list[int]:
    """Give each running trial whose folder (``trial_N``) lies in one of ``owners``' tuner
    folders to that folder's process (its PID, this host, a new beat): a resume's start,
    whose stopped processes left their trials interrupted. While that process runs, the
    trial is not a dead worker's (:func:`_runs_here`); it takes the trial back and continues
    it from its last saved epoch. Returns the numbers of the trials handed over.
    """
    handed = []
    host, now = socket.gethostname(), time.time()
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        trial_id = trial.user_attrs.get("keras_tuner_trial_id", str(trial.number))
        pid = next((p for d, p in owners.items() if (d / f"trial_{trial_id}").is_dir()), None)
        attrs = {"pid": pid, HANDED: pid, "host": host, "heartbeat": now}
        if pid is not None and all(
            compat_optuna.set_running_attr(study, trial, key, value) for key, value in attrs.items()
        ):
            handed.append(trial.number)
    return handed
