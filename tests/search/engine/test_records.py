"""What trials.json records of each trial."""

from __future__ import annotations

import json
from pathlib import Path

import search
from tests import user_models as um


def test_the_baseline_records_the_hyperparameters_its_fit_declared(tmp_path: Path) -> None:
    """TunedFit's fit declares shuffle and batch_size: the first trial (the baseline) trains
    with their defaults, and says so, as KerasTuner's trial does."""
    x, y = um.tiny_data(60)
    search.run(um.TunedFit(), x, y, tuner="random", max_trials=1, max_epochs=1, retrain=False,
               results=tmp_path, name="r", quiet=True)  # fmt: skip
    trials = json.loads((tmp_path / "TunedFit" / "r" / "trials.json").read_text())["trials"]
    assert trials[0]["baseline"] and trials[0]["hyperparameters"]["batch_size"] == 16
    assert trials[0]["hyperparameters"]["shuffle"] is False


def test_failures_in_a_row_are_counted_over_every_process_by_when_they_ended(tmp_path: Path) -> None:
    """A worker's completed trials between this process's failures break the row: each
    process's own oracle saw only its own, and stopped a healthy run."""
    import keras_tuner as kt

    from search.engine._records import TrialRecorder
    from tests.helpers.runs import epochs, trial, write_run

    def ended(tid: str, status: str, second: int) -> dict:
        return trial(tid, epochs((0.5, 0.5, 1.0, 1.0)), status=status,
                     finished=f"2026-01-01T00:00:{second:02d}+00:00")  # fmt: skip

    folder = write_run(tmp_path, "w", [ended("0", "failed", 1), ended("1", "completed", 2),
                                       ended("2", "completed", 3), ended("3", "failed", 4),
                                       ended("4", "failed", 9), ended("5", "failed", 5)])  # fmt: skip
    recorder = TrialRecorder(folder, kt.Objective("val_accuracy", "max"))
    recorder._mine.update({"0", "3", "4"})  # this process ran them; a worker ran the others
    assert recorder.failed_in_a_row() == ["3", "5", "4"]  # by when they ended, not by id
    recorder._mine.discard("4")
    assert recorder.failed_in_a_row() == []  # the last to fail is a worker's: it stops itself
