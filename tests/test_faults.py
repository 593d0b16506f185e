"""Faults a search must survive without losing what is on disk: lost tuner state, a full or
unwritable disk, signals, failing and out-of-memory trials, a kill during a write."""

from __future__ import annotations

import errno
import json
import os
import resource
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


FILE_SIZE_LIMIT = 100_000
"""Bytes: room for run.json and trials.json, not for a trial's epoch state or checkpoint."""


def _file_size_limit() -> None:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write beyond the limit then fails (EFBIG)
    resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_SIZE_LIMIT, FILE_SIZE_LIMIT))


def test_file_too_large_stops_the_search_resumably(tmp_path: Path, synthetic_fashion: Path) -> None:
    args = ["run", "fashion", "--tuner", "random", "--train-size", "600", "--val-size", "100",
            "--max-trials", "3", "--max-epochs", "2", "--fix", "filters=16", "--no-retrain",
            "--data-dir", str(synthetic_fashion), "--results", str(tmp_path), "--name", "r",
            "--seed", "1"]  # fmt: skip
    proc = start(args, preexec_fn=_file_size_limit)
    out, _ = proc.communicate(timeout=600)
    folder = tmp_path / "fashion" / "r"
    assert proc.returncode == 2, out
    errors = [line for line in out.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, out
    assert f"{folder}/tuner/trial_0/" in errors[0] and "ulimit -f" in errors[0]
    assert errors[0].endswith(f"resume with: python -m search resume {folder}")
    assert "Traceback" not in out
    assert [(t["id"], t["status"]) for t in records(folder)] == [("0", "running")]
    assert json.loads((folder / "run.json").read_text())["status"] == "interrupted"
    assert not list(folder.rglob("*.tmp*"))  # no temporary file left behind

    assert main(["resume", str(folder), "--quiet"]) == 0  # the limit lifted
    trials = records(folder)
    assert [t["status"] for t in trials] == ["completed"] * 3
    assert all(t["failure"] is None for t in trials)


@pytest.mark.parametrize(
    ("code", "fix"),
    [(errno.ENOSPC, "free some space"), (errno.EFBIG, "ulimit -f"), (errno.EACCES, "writable"),
     (errno.EPERM, "writable"), (errno.EROFS, "remount it writable")],
)  # fmt: skip
def test_environment_errors_name_the_path_and_the_fix(code: int, fix: str, tmp_path: Path) -> None:
    from search.environment import EnvironmentFailure, environment_error

    try:
        try:
            raise OSError(code, os.strerror(code))
        except OSError as exc:
            raise RuntimeError("a library's own error on top") from exc
    except RuntimeError as exc:
        error = environment_error(exc)
    assert error is not None and error.errno == code
    target = tmp_path / "trials.json"
    message = str(EnvironmentFailure(OSError(code, os.strerror(code), str(target)), tmp_path))
    assert message.startswith(f"{target}: ") and fix in message
    assert message.endswith(f"resume with: python -m search resume {tmp_path}")


def test_configuration_errors_are_not_environment_errors() -> None:
    from search.environment import environment_error

    assert environment_error(ValueError("batch_size")) is None
    assert environment_error(OSError(errno.ENOENT, "missing")) is None
    assert environment_error(MemoryError()) is None


def test_a_failed_atomic_write_names_its_file(tmp_path: Path) -> None:
    from search.storage import write_atomic

    target = tmp_path / "trials.json"
    target.write_text("previous")
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    previous = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_SIZE_LIMIT, hard))
    try:
        with pytest.raises(OSError) as caught:
            write_atomic(target, b"x" * (2 * FILE_SIZE_LIMIT))
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, previous)
    assert caught.value.errno == errno.EFBIG and caught.value.filename == str(target)
    assert target.read_text() == "previous"
    assert [p.name for p in tmp_path.iterdir()] == [target.name]
