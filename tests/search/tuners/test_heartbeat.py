"""The heartbeat thread of a running Optuna trial."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

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


def test_a_resume_hands_its_interrupted_trials_to_the_processes_that_continue_them(tmp_path: Path) -> None:
    """Trials left running by a stopped run's processes, silent past the grace, go to the
    process that takes back their tuner folder: not failed as a dead worker's. One in a
    folder no process takes back is failed (its configuration is run again)."""
    import optuna

    from search.tuners.optuna._heartbeat import fail_stale_trials, hand_over

    study = optuna.create_study(storage=optuna.storages.InMemoryStorage())
    folders = [tmp_path / "tuner", tmp_path / "tuner" / "worker-1", tmp_path / "tuner" / "worker-7"]
    for number, folder in enumerate(folders):
        trial = study.ask()
        trial.set_user_attr("keras_tuner_trial_id", str(number))
        for key, value in (("heartbeat", time.time() - 3600), ("pid", 2**22 + 1), ("host", "gone")):
            trial.set_user_attr(key, value)
        (folder / f"trial_{number}").mkdir(parents=True)
    owners = {folders[0]: os.getpid(), folders[1]: os.getpid()}  # worker 7 is not resumed
    assert hand_over(study, owners) == [0, 1]
    assert [t.number for t in fail_stale_trials(study, grace=1.0)] == [2]
    states = [t.state.name for t in study.get_trials(deepcopy=False)]
    assert states[:3] == ["RUNNING", "RUNNING", "FAIL"]


def test_a_trial_handed_to_a_process_that_does_not_take_it_back_is_failed(tmp_path: Path) -> None:
    """Its tuner folder's state did not list it (lost, or killed before it was written): the
    process it went to would never run it, and the search would wait for it forever."""
    import optuna

    from search.tuners.optuna._heartbeat import fail_stale_trials, hand_over

    study = optuna.create_study(storage=optuna.storages.InMemoryStorage())
    for number in range(2):
        study.ask().set_user_attr("keras_tuner_trial_id", str(number))
        (tmp_path / f"trial_{number}").mkdir()
    assert hand_over(study, {tmp_path: os.getpid()}) == [0, 1]
    assert fail_stale_trials(study, grace=60.0) == []  # not its process: it is someone's
    assert [t.number for t in fail_stale_trials(study, grace=60.0, taken=frozenset({0}))] == [1]
