"""Faults a search must survive without losing what is on disk: lost tuner state, a full or
unwritable disk, signals, failing and out-of-memory trials, a kill during a write."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import keras_tuner as kt
import pytest

from search.cli import main
from tests.test_resume import wait_mid_trial

TRAIN_SIZE = "4000"
"""Large enough that a trial's epochs take long enough to be caught mid-way on a fast machine."""


def run_args(tmp_path: Path, data_dir: Path, tuner: str, *extra: str) -> list[str]:
    return ["run", "fashion", "--tuner", tuner, "--train-size", TRAIN_SIZE, "--val-size", "300",
            "--max-epochs", "3", "--fix", "filters=16", "--no-retrain", "--data-dir",
            str(data_dir), "--results", str(tmp_path), "--name", "r", "--seed", "1",
            *extra]  # fmt: skip


def start(args: list[str], **popen: object) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "search", *args], stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, **popen,  # type: ignore[arg-type]
    )  # fmt: skip


def records(folder: Path) -> list[dict]:
    return json.loads((folder / "trials.json").read_text())["trials"]


@pytest.mark.parametrize(
    ("tuner", "state"), [("random", "tuner/oracle.json"), ("optuna", "optuna.journal")]
)
def test_resume_without_tuner_state_refuses_and_keeps_records(
    tuner: str, state: str, tmp_path: Path, fashion_dir: Path, capsys
) -> None:
    args = run_args(tmp_path, fashion_dir, tuner, "--max-trials", "4")
    proc = start(args)
    folder = tmp_path / "fashion" / "r"
    wait_mid_trial(proc, folder / "trials.json", done=2)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    shutil.rmtree(folder / "tuner")
    (folder / "optuna.journal").unlink(missing_ok=True)
    before = (folder / "trials.json").read_text()
    capsys.readouterr()
    assert main(["resume", str(folder), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert f"{folder / state}: missing" in err and "another --name" in err
    assert len(err.strip().splitlines()) == 1
    assert (folder / "trials.json").read_text() == before


def _trial(trial_id: str) -> kt.engine.trial.Trial:
    hps = kt.HyperParameters()
    hps.Int("units", 1, 4)
    return kt.engine.trial.Trial(hyperparameters=hps, trial_id=trial_id)


def test_recorder_never_overwrites_an_ended_trial(tmp_path: Path) -> None:
    from search.engine._records import TrialRecorder
    from search.errors import RunFolderError
    from search.storage import RunFolder

    folder = RunFolder(tmp_path)
    objective = kt.Objective("val_accuracy", "max")
    first = TrialRecorder(folder, objective)
    trial = _trial("0")
    first.trial_begin(trial)
    first.epoch_begin(trial, 0)
    first.epoch_end(trial, 0, {"val_accuracy": 0.5})
    trial.status = kt.engine.trial.TrialStatus.COMPLETED
    first.trial_end(trial)
    before = folder.trials_file.read_text()

    again = TrialRecorder(folder, objective)  # a later process whose tuner lost its state
    with pytest.raises(RunFolderError, match="trial 0 again, which is already completed"):
        again.trial_begin(_trial("0"))
    assert folder.trials_file.read_text() == before
    again.trial_begin(_trial("1"))  # a new id is recorded as usual
    assert [r["id"] for r in folder.read_trials()] == ["0", "1"]
