"""The heartbeat thread of a running Optuna trial."""

from __future__ import annotations

import threading

import pytest
from optuna.exceptions import StorageInternalError, UpdateFinishedTrialError

from search.tuners.optuna._heartbeat import Heartbeat

INTERVAL = 0.01


class _Trial:
    """A trial whose storage fails the beats listed in ``failures`` (by beat number)."""

    def __init__(self, failures: dict[int, Exception]) -> None:
        self.failures, self.beats = failures, 0
        self.enough = threading.Event()

    def set_user_attr(self, key: str, value: object) -> None:
        if key != "heartbeat":
            return
        self.beats += 1
        if self.beats >= 5:
            self.enough.set()
        if self.beats in self.failures:
            raise self.failures[self.beats]


@pytest.mark.parametrize("error", [OSError("journal file busy"), StorageInternalError("db restarting")])
def test_a_storage_failure_skips_one_beat_and_the_heartbeat_goes_on(error: Exception) -> None:
    trial = _Trial({2: error})
    heartbeat = Heartbeat(trial, interval=INTERVAL)  # type: ignore[arg-type]
    try:
        assert trial.enough.wait(5), f"the heartbeat stopped after beat {trial.beats}"
    finally:
        heartbeat.stop()


def test_the_heartbeat_ends_with_its_trial() -> None:
    trial = _Trial({2: UpdateFinishedTrialError("finished")})
    heartbeat = Heartbeat(trial, interval=INTERVAL)  # type: ignore[arg-type]
    heartbeat._thread.join(5)
    assert not heartbeat._thread.is_alive()
    assert trial.beats == 2
    heartbeat.stop()
