"""Stop signals: where a search honours them."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import pytest

import search
from search.engine import _signals
from search.engine._signals import STOPPING_GRACE, SearchStopped, StopOnSignal
from search.errors import SearchInterrupted
from search.storage import RunFolder
from tests import user_models as um


def test_a_stop_asked_while_the_search_waits_for_a_trial_stops_it_there() -> None:
    """A worker whose oracle has no trial for it yet (others run the last ones) waits
    between requests: a stop signal ends it at its next request, not at a batch it never
    reaches."""
    stop = StopOnSignal()
    stop.trial_wanted()  # nothing asked: nothing happens
    stop.requested = signal.SIGTERM
    with pytest.raises(SearchStopped):
        stop.trial_wanted()


def test_a_signal_while_a_stop_is_recorded_lets_it_finish_and_a_later_one_stops_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The run writes run.json and its resume message in milliseconds after the batch
    boundary: an impatient second Ctrl-C landing there would lose both."""
    clock = [100.0]
    monkeypatch.setattr(_signals.time, "monotonic", lambda: clock[0])
    stop = StopOnSignal()
    stop._handle(signal.SIGINT, None)  # asks to stop at the next batch boundary
    with pytest.raises(SearchStopped):
        stop.check()  # the boundary: the stop begins
    clock[0] += STOPPING_GRACE / 2
    stop._handle(signal.SIGINT, None)  # let pass: the stop is being recorded
    clock[0] += STOPPING_GRACE
    with pytest.raises(KeyboardInterrupt):  # the recording hangs: stop at once
        stop._handle(signal.SIGINT, None)


def test_a_second_signal_before_the_batch_boundary_stops_at_once() -> None:
    stop = StopOnSignal()
    stop._handle(signal.SIGINT, None)
    with pytest.raises(KeyboardInterrupt):  # a long batch: the user will not wait for it
        stop._handle(signal.SIGINT, None)
    stop._handle(signal.SIGINT, None)  # a third, as that KeyboardInterrupt is recorded


class _Finalized:
    """A library object whose finalizer runs when the second Ctrl-C arrives."""

    def __init__(self, stop: StopOnSignal) -> None:
        self.stop = stop

    def __del__(self) -> None:
        self.stop._handle(signal.SIGINT, None)


def test_a_second_signal_inside_a_finalizer_is_quiet_and_stops_at_the_next_check(
    capfd: pytest.CaptureFixture[str],
) -> None:
    """Python prints 'Exception ignored in ... KeyboardInterrupt' with a traceback and goes
    on when the interrupt lands in a ``__del__`` (TensorFlow's, during garbage collection)."""
    with StopOnSignal() as stop:
        stop._handle(signal.SIGINT, None)
        _Finalized(stop)  # dropped at once: its __del__ raises KeyboardInterrupt
        assert capfd.readouterr().err == ""
        with pytest.raises(KeyboardInterrupt):
            stop.check()
    with pytest.raises(SearchStopped):
        stop.check()  # the first signal's stop still stands


def test_an_ignored_error_other_than_an_interrupt_goes_to_the_previous_hook(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class Broken:
        def __del__(self) -> None:
            raise ValueError("finalizer failed")

    seen: list[BaseException | None] = []
    monkeypatch.setattr(sys, "unraisablehook", lambda unraisable: seen.append(unraisable.exc_value))
    with StopOnSignal() as stop:
        Broken()
    assert [str(e) for e in seen] == ["finalizer failed"] and not stop.swallowed
    assert sys.unraisablehook != stop._unraisable  # given back on exit


def test_a_hook_set_while_the_stop_was_held_is_left_in_place(monkeypatch: pytest.MonkeyPatch) -> None:
    """Another library's hook, set inside the block, is not replaced by the one before it."""
    monkeypatch.setattr(sys, "unraisablehook", sys.__unraisablehook__)

    def theirs(unraisable: object) -> None:
        pass

    with StopOnSignal():
        sys.unraisablehook = theirs
    assert sys.unraisablehook is theirs


class _TermAfterFirst(search.Observer):
    """Sends this process SIGTERM as its first trial ends, as `kill` would."""

    def trial_end(self, trial) -> None:  # type: ignore[no-untyped-def]
        os.kill(os.getpid(), signal.SIGTERM)


def test_a_stop_between_trials_ends_the_search_before_it_asks_for_another(tmp_path: Path) -> None:
    x, y = um.tiny_data()
    with pytest.raises(SearchInterrupted) as stopped:
        search.run(um.build, x, y, tuner="random", max_trials=3, max_epochs=1, results=tmp_path,
                   name="r", retrain=False, quiet=True, observers=[_TermAfterFirst()])  # fmt: skip
    assert stopped.value.signum == signal.SIGTERM
    folder = RunFolder(tmp_path / "build" / "r")
    assert folder.read_meta()["status"] == "interrupted"
    assert folder.read_meta()["reason"] == f"SIGTERM: {stopped.value}"  # status and report show it
    assert [t["status"] for t in folder.read_trials()] == ["completed"]
