"""Ctrl-C and SIGTERM stop a run (its search, its final training) at the next batch
boundary, leaving it resumable."""

from __future__ import annotations

import signal
import sys
import threading
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any

import keras
import keras_tuner as kt

from search._text import plural, resume_call
from search.errors import SearchInterrupted
from search.failures import exception_line
from search.tuners import Observer

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
"""The signals that stop a search at the next batch boundary."""
STOPPING_GRACE = 2.0
"""Seconds after a stop began (at a batch boundary, or a second Ctrl-C) during which more
signals are let pass: the run records its state in milliseconds, and a KeyboardInterrupt
raised inside that recording would lose its resume message. A later one still stops at once."""


def interrupted(
    trials: Iterable[Mapping[str, Any]], folder: Path, signum: int, final: bool = False,
    command: str | None = None,
) -> SearchInterrupted:
    """What a search stopped by ``signum`` ends with: the trials it completed, whether it
    stopped in its ``final`` training (a finalist, the retrain), and how to resume it
    (``command``; None: ``python -m search resume FOLDER``). The command line turns the
    signal into its exit code."""
    done = plural(sum(t["status"] == "completed" for t in trials), "trial")
    command = command or resume_call(folder, {})
    if final:
        said = f"stopped in the final training, after {done}; resume continues it: {command}"
        return SearchInterrupted(said, signum)
    return SearchInterrupted(f"stopped after {done}; resume with: {command}", signum)


def stop_reason(error: BaseException) -> str:
    """run.json's ``reason`` for a run that ``error`` stopped, in one line: the signal and
    what the run says to do, Ctrl-C for a KeyboardInterrupt, else the error's line."""
    if isinstance(error, SearchInterrupted):
        return f"{signal.Signals(error.signum).name}: {error}"
    if isinstance(error, KeyboardInterrupt):
        return "Ctrl-C (KeyboardInterrupt)"
    if isinstance(error, SystemExit):  # rich exits so where its output pipe closed (`| head`)
        return (
            f"the process was made to exit (SystemExit {error.code}): its output closed (a broken"
            " pipe, as `| head` leaves), or a call of sys.exit"
        )
    return exception_line(error)


class SearchStopped(kt.errors.FatalError):
    """Raised at a batch boundary after a stop signal; KerasTuner lets FatalError through."""

    def __init__(self, signum: int) -> None:
        super().__init__(f"stopped by {signal.Signals(signum).name}")
        self.signum = signum


class StopOnSignal(Observer):
    """An observer (and context manager) that turns SIGINT/SIGTERM into a clean stop.

    The first signal asks to stop at the next batch boundary; a second Ctrl-C stops at once
    (KeyboardInterrupt), unless the stop began less than :data:`STOPPING_GRACE` ago (it is
    being recorded, which a KeyboardInterrupt would cut short). A KeyboardInterrupt that
    lands in a finalizer (a library's ``__del__``), where Python would print it and go on,
    is kept quiet and raised at the next batch boundary instead (none comes once the last
    epoch ended: the work then finishes as the first signal left it). Either way the run stays
    resumable: finished trials are on disk, the interrupted trial is run again on resume,
    and a final training (:meth:`callback`) continues after its last epoch.
    """

    def __init__(self) -> None:
        self.requested: int | None = None
        self.stopping_since: float | None = None
        """When the stop began (``time.monotonic()``); None: it has not."""
        self.swallowed = False
        """Whether a KeyboardInterrupt was raised where Python ignores it (a finalizer)."""
        self._previous: dict[int, Any] = {}
        self._previous_hook: Any = None

    def __enter__(self) -> StopOnSignal:
        if threading.current_thread() is threading.main_thread():
            for signum in STOP_SIGNALS:
                self._previous[signum] = signal.signal(signum, self._handle)
            self._previous_hook = sys.unraisablehook
            sys.unraisablehook = self._unraisable
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous.clear()
        if self._previous_hook is not None and sys.unraisablehook == self._unraisable:
            sys.unraisablehook = self._previous_hook  # not over a hook set since
        self._previous_hook = None

    def _unraisable(self, unraisable: Any) -> None:
        """Keeps an ignored KeyboardInterrupt for :meth:`check`; passes on anything else."""
        if issubclass(unraisable.exc_type, KeyboardInterrupt):
            self.swallowed = True
            return
        (self._previous_hook or sys.__unraisablehook__)(unraisable)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.requested is None:
            self.requested = signum
            return
        now = time.monotonic()
        if self.stopping_since is not None and now - self.stopping_since < STOPPING_GRACE:
            return  # the stop is being recorded
        self.stopping_since = now
        raise KeyboardInterrupt

    def check(self) -> None:
        if self.swallowed:
            self.swallowed = False
            raise KeyboardInterrupt
        if self.requested is not None:
            if self.stopping_since is None:
                self.stopping_since = time.monotonic()
            raise SearchStopped(self.requested)

    def trial_wanted(self) -> None:
        self.check()

    def trial_begin(self, trial: Any) -> None:
        self.check()

    def epoch_begin(self, trial: Any, epoch: int) -> None:
        self.check()

    def batch_end(self, trial: Any, batch: int) -> None:
        self.check()

    def epoch_end(self, trial: Any, epoch: int, logs: dict[str, float]) -> None:
        self.check()

    def callback(self) -> keras.callbacks.Callback:
        """The same stop for a final training (the retrain, a finalist): a Keras callback."""
        return StopCheck(self)


class StopCheck(keras.callbacks.Callback):
    """Raises :class:`SearchStopped` at the batch boundary after a stop signal, in training
    and in its validation; placed last, so that an epoch's state is saved before it stops."""

    reads_model_per_batch = False
    """Its batch checks touch no variable: the training loop need not sync them per step."""

    def __init__(self, stopper: StopOnSignal) -> None:
        super().__init__()
        self.stopper = stopper

    def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
        self.stopper.check()

    def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
        self.stopper.check()

    def on_test_batch_end(self, batch: int, logs: Any = None) -> None:
        self.stopper.check()

    def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
        self.stopper.check()

