"""Stop signals: where a search honours them."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

import search
from search.engine._signals import SearchStopped, StopOnSignal
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
