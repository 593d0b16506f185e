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
import time
from pathlib import Path
from types import SimpleNamespace

import keras_tuner as kt
import pytest

from search.cli import main
from tests.helpers.processes import wait_mid_trial

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


def test_optuna_resumes_from_its_study_without_the_tuner_folder(
    tmp_path: Path, fashion_dir: Path
) -> None:
    env = {**os.environ, "SEARCH_HEARTBEAT_SECONDS": "1"}  # the killed trial is stale in 3 s
    args = run_args(tmp_path, fashion_dir, "optuna", "--max-trials", "3", "--pruner", "none")
    proc = start(args, env=env)
    folder = tmp_path / "fashion" / "r"
    victim = wait_mid_trial(proc, folder / "trials.json", done=1)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    shutil.rmtree(folder / "tuner")
    finished = {t["id"]: t for t in records(folder) if t["status"] == "completed"}
    resumed = start(["resume", str(folder), "--quiet"], env=env)
    out, _ = resumed.communicate(timeout=600)
    assert resumed.returncode == 0, out
    trials = {t["id"]: t for t in records(folder)}
    assert all(trials[i] == record for i, record in finished.items())  # kept as they were
    assert sum(t["status"] == "completed" for t in trials.values()) == 3
    assert trials[victim["id"]]["status"] == "failed"  # its worker died; run again under a new id
    assert "died" in trials[victim["id"]]["failure"]


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


def test_a_failed_trial_the_tuner_starts_again_is_run_again(tmp_path: Path) -> None:
    """KerasTuner's own stop after three failures left the third running in the oracle's
    saved state: a resume after the fix started it again and was refused."""
    from search.engine._records import TrialRecorder
    from search.storage import RunFolder

    folder = RunFolder(tmp_path)
    objective = kt.Objective("val_accuracy", "max")
    first = TrialRecorder(folder, objective)
    trial = _trial("2")
    first.trial_begin(trial)
    trial.status = kt.engine.trial.TrialStatus.FAILED
    first.trial_end(trial)
    again = TrialRecorder(folder, objective)
    again.trial_begin(_trial("2"))
    assert [(r["id"], r["status"]) for r in folder.read_trials()] == [("2", "running")]


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


def test_a_final_model_that_a_full_disk_cannot_save_names_its_file(tmp_path: Path, monkeypatch) -> None:
    """Keras' zip writer raised ENOSPC naming no file: ``error: a file: no space left``."""
    import keras

    from search.engine import _retrain
    from search.environment import EnvironmentFailure

    def full(self: keras.Model, path: object) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(_retrain, "test_metrics", lambda *args: None)
    monkeypatch.setattr(keras.Model, "save", full)
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    splits = SimpleNamespace(x_test=None, y_test=None, w_test=None)
    target = tmp_path / "export.keras"
    with pytest.raises(OSError) as caught:
        _retrain.tested(kt.HyperModel(), model, splits, target)  # type: ignore[arg-type]
    assert caught.value.errno == errno.ENOSPC and caught.value.filename == str(target)
    assert str(EnvironmentFailure(caught.value)).startswith(f"{target}: no space left on the device")


def test_a_final_model_past_the_file_size_limit_stops_the_run_resumably(
    tmp_path: Path, synthetic_fashion: Path, capsys, monkeypatch
) -> None:
    """The retrain's model that cannot be written: one line naming it and how to resume, the
    run interrupted (it was failed, its reason Python's ``[Errno 27] File too large``, and
    the line said nothing of resuming); resume then writes it."""
    import keras

    save = keras.Model.save

    def too_large(self: keras.Model, *args: object, **kwargs: object) -> None:
        raise OSError(errno.EFBIG, os.strerror(errno.EFBIG))

    monkeypatch.setattr(keras.Model, "save", too_large)
    args = ["run", "fashion", "--tuner", "random", "--train-size", "600", "--val-size", "100",
            "--max-trials", "1", "--max-epochs", "1", "--fix", "filters=16", "--retrain-data",
            "search", "--retrain-max-epochs", "1", "--data-dir", str(synthetic_fashion),
            "--results", str(tmp_path), "--name", "r", "--seed", "1", "--quiet"]  # fmt: skip
    assert main(args) == 2
    folder = tmp_path / "fashion" / "r"
    model = folder / "best_model.keras"
    assert capsys.readouterr().err.splitlines() == [
        f"error: {model}: file too large for the file-size limit (`ulimit -f`); raise the limit;"
        f" then resume with: python -m search resume {folder}"
    ]
    assert json.loads((folder / "run.json").read_text())["status"] == "interrupted"
    monkeypatch.setattr(keras.Model, "save", save)
    assert main(["resume", str(folder), "--quiet"]) == 0
    assert [t["status"] for t in records(folder)] == ["completed"] and model.is_file()


def test_a_stop_run_json_cannot_record_is_still_resumable_in_one_line(
    tmp_path: Path, monkeypatch
) -> None:
    """The file-size limit that stopped the search stops run.json's longer record of it
    too: the error names run.json and how to resume (it was the bare OSError, said without
    the resume), and run.json is left as it was."""
    from search.engine._pipeline import run_status
    from search.environment import EnvironmentFailure
    from search.storage import RunFolder
    from tests.helpers.runs import write_run

    folder = write_run(tmp_path, "r", [], status="running")
    before = folder.run_file.read_bytes()

    def too_large(self: RunFolder, **fields: object) -> None:
        raise OSError(errno.EFBIG, os.strerror(errno.EFBIG), str(self.run_file))

    monkeypatch.setattr(RunFolder, "update_meta", too_large)
    state = folder.path / "epoch_state.npz"
    stopped = EnvironmentFailure(OSError(errno.EFBIG, os.strerror(errno.EFBIG), str(state)), folder.path)
    with pytest.raises(EnvironmentFailure) as caught:
        with run_status(folder):
            raise stopped
    assert str(caught.value) == (
        f"{folder.run_file}: file too large for the file-size limit (`ulimit -f`); raise the"
        f" limit; then resume with: python -m search resume {folder.path}"
    )
    assert caught.value.__cause__ is stopped and folder.run_file.read_bytes() == before


def test_a_stop_between_trial_processes_run_json_cannot_record_is_resumable(
    tmp_path: Path, monkeypatch
) -> None:
    """An ``--isolate`` run stopped between two trial processes, on a machine that will not
    let run.json be written: the resumable one line naming run.json and the resume (it was
    the bare OSError)."""
    from search.engine._isolate import _stopped_between
    from search.environment import EnvironmentFailure
    from search.storage import RunFolder
    from tests.helpers.runs import write_run

    folder = write_run(tmp_path, "r", [], status="running")
    stopped = _stopped_between(folder, signal.SIGINT, time.time())  # recorded where it can be
    assert folder.read_meta()["status"] == "interrupted" and stopped.signum == signal.SIGINT

    def too_large(self: RunFolder, **fields: object) -> None:
        raise OSError(errno.EFBIG, os.strerror(errno.EFBIG), str(self.run_file))

    monkeypatch.setattr(RunFolder, "update_meta", too_large)
    with pytest.raises(EnvironmentFailure) as caught:
        _stopped_between(folder, signal.SIGTERM, time.time())
    assert str(caught.value) == (
        f"{folder.run_file}: file too large for the file-size limit (`ulimit -f`); raise the"
        f" limit; then resume with: python -m search resume {folder.path}"
    )


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


def test_an_atomic_write_into_a_folder_gone_names_its_file(tmp_path: Path) -> None:
    """The temporary file cannot even be made (the run folder was deleted under the run)."""
    from search.storage import write_atomic

    target = tmp_path / "run" / "trials.json"
    with pytest.raises(OSError) as caught:
        write_atomic(target, b"{}")
    assert caught.value.errno == errno.ENOENT and caught.value.filename == str(target)


def _interrupted_then_resumed(
    folder: Path, proc: subprocess.Popen, codes: tuple[int, ...], trials: int
) -> None:
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode in codes, out
    assert f"resume with: python -m search resume {folder}" in out
    assert "Traceback" not in out
    assert json.loads((folder / "run.json").read_text())["status"] == "interrupted"
    assert main(["resume", str(folder), "--quiet"]) == 0
    done = records(folder)
    assert [t["status"] for t in done] == ["completed"] * trials
    for t in done:
        epochs = [e["epoch"] for e in t["epochs"]]
        assert epochs == sorted(set(epochs))  # each epoch exactly once


def test_sigterm_stops_cleanly_and_resume_finishes(tmp_path: Path, fashion_dir: Path) -> None:
    proc = start(run_args(tmp_path, fashion_dir, "random", "--max-trials", "3"))
    folder = tmp_path / "fashion" / "r"
    wait_mid_trial(proc, folder / "trials.json", done=1)
    proc.send_signal(signal.SIGTERM)
    _interrupted_then_resumed(folder, proc, (143,), trials=3)


SECOND_SIGNAL_AFTER = 0.05
"""Seconds between the two Ctrl-C: two signals sent at once can arrive as one."""


def test_second_ctrl_c_stops_at_once_and_resume_finishes(tmp_path: Path, fashion_dir: Path) -> None:
    proc = start(run_args(tmp_path, fashion_dir, "random", "--max-trials", "3"))
    folder = tmp_path / "fashion" / "r"
    wait_mid_trial(proc, folder / "trials.json", done=1)
    proc.send_signal(signal.SIGINT)
    time.sleep(SECOND_SIGNAL_AFTER)
    proc.send_signal(signal.SIGINT)  # impatient: the first asked to stop at the next batch
    # 130; or, when the second lands as the process exits, death by SIGINT (130 to a shell).
    _interrupted_then_resumed(folder, proc, (130, -signal.SIGINT), trials=3)


def _search(tmp_path: Path, data_dir: Path, space: str, trials: int) -> int:
    space_file = tmp_path / "space.toml"
    space_file.write_text(space)
    return main([
        "run", "fashion", "--tuner", "random", "--train-size", "300", "--val-size", "100",
        "--max-trials", str(trials), "--max-epochs", "1", "--no-retrain", "--space",
        str(space_file), "--data-dir", str(data_dir), "--results", str(tmp_path), "--name", "f",
        "--quiet",
    ])  # fmt: skip


def _error_lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("error:")]


def test_three_failed_trials_in_a_row_stop_the_search(
    tmp_path: Path, synthetic_fashion: Path, capsys
) -> None:
    rates = "[1e9, 2e9, 5e9, 1e10, 2e10, 5e10]"  # the loss overflows at once with each
    space = (f'[learning_rate]\ntype = "choice"\nvalues = {rates}\ndefault = 1e9\n'
             '[batch_norm]\ntype = "fixed"\nvalue = false\n')  # fmt: skip
    assert _search(tmp_path, synthetic_fashion, space, trials=6) == 2
    trials = records(tmp_path / "fashion" / "f")
    assert [t["status"] for t in trials] == ["failed"] * 3  # not 6: three in a row stop it
    (line,) = _error_lines(capsys.readouterr().err)
    assert "no trial completed (3x" in line and "loss became" in line
    assert json.loads((tmp_path / "fashion" / "f" / "run.json").read_text())["status"] == "failed"
    # KerasTuner's own stop left the third trial running in its saved state: a resume
    # started it again ("the tuner started trial 2 again, which is already failed").
    assert main(["resume", str(tmp_path / "fashion" / "f"), "--quiet"]) == 2
    assert [t["status"] for t in records(tmp_path / "fashion" / "f")] == ["failed"] * 4
    (line,) = _error_lines(capsys.readouterr().err)
    assert "no trial completed (4x" in line, line


def test_failures_in_a_row_after_a_completed_trial_stop_the_search_resumably(
    tmp_path: Path, synthetic_fashion: Path, capsys
) -> None:
    """The search went on to the retrain in silence, with 1 of 6 trials completed."""
    rates = "[1e-3, 1e9, 2e9, 5e9, 1e10, 2e10]"  # the default trains; the others overflow
    space = (f'[learning_rate]\ntype = "choice"\nvalues = {rates}\ndefault = 1e-3\n'
             '[batch_norm]\ntype = "fixed"\nvalue = false\n')  # fmt: skip
    assert _search(tmp_path, synthetic_fashion, space, trials=6) == 2
    folder = tmp_path / "fashion" / "f"
    assert [t["status"] for t in records(folder)] == ["completed"] + ["failed"] * 3
    (line,) = _error_lines(capsys.readouterr().err)
    assert line.startswith("error: trials 1, 2, 3 failed in a row (") and "loss became" in line, line
    assert line.endswith(f"so the search stopped after 1 completed trial of 6; fix the cause, then"
                         f" resume with: python -m search resume {folder}")  # fmt: skip
    meta = json.loads((folder / "run.json").read_text())
    assert meta["status"] == "failed" and meta["reason"] == line.removeprefix("error: ")
    assert main(["resume", str(folder), "--quiet"]) == 2  # a new trial runs, and fails too
    assert [t["status"] for t in records(folder)] == ["completed"] + ["failed"] * 4
    assert _error_lines(capsys.readouterr().err)[0].startswith("error: trials 1, 2, 3, 4 failed in a row")


DENSE_UNITS_BEYOND_MEMORY = 10**9
"""A dense layer of 3136 x 10**9 float32 weights: 11 TiB, refused by the allocator at once."""


def test_out_of_memory_is_a_failed_trial_with_the_batch_hint(
    tmp_path: Path, synthetic_fashion: Path
) -> None:
    # The default (the baseline, trial 0) fits; the other value, trial 1, cannot.
    space = (f'[dense_units]\ntype = "choice"\nvalues = [32, {DENSE_UNITS_BEYOND_MEMORY}]\n'
             "default = 32\n")  # fmt: skip
    assert _search(tmp_path, synthetic_fashion, space, trials=2) == 0
    first, second = records(tmp_path / "fashion" / "f")
    assert first["status"] == "completed"
    assert second["hyperparameters"]["dense_units"] == DENSE_UNITS_BEYOND_MEMORY
    assert second["status"] == "failed"
    assert second["failure"].startswith("out of memory (")
    assert second["failure"].endswith("hint: a smaller batch_size or model")


def test_defaults_beyond_memory_are_one_line_with_the_hint(
    tmp_path: Path, synthetic_fashion: Path, capsys
) -> None:
    # KerasTuner builds the model of the space's defaults before the first trial.
    space = f'[dense_units]\ntype = "fixed"\nvalue = {DENSE_UNITS_BEYOND_MEMORY}\n'
    assert _search(tmp_path, synthetic_fashion, space, trials=1) == 2
    (line,) = _error_lines(capsys.readouterr().err)
    assert line.startswith("error: the model of the space's defaults cannot be built: out of memory")
    assert line.endswith("hint: a smaller batch_size or model")


PAYLOAD_CHARS = 1_000_000
"""The new content's size: the temporary file holds it all once the writer stalls in fsync."""
WRITE_WAIT_S = 120
POLL_S = 0.01

_WRITER = """
import os
import sys
import time
from pathlib import Path
from search.storage import RunFolder
os.fsync = lambda fd: time.sleep(600)  # the content written, not yet in place: the kill lands here
folder = RunFolder(Path(sys.argv[1]))
blob = "y" * int(sys.argv[3])
if sys.argv[2] == "run.json":
    folder.write_meta({"blob": blob})
else:
    folder.write_trials([{"id": "0", "status": "completed", "hyperparameters": {}, "blob": blob}])
"""


@pytest.mark.parametrize("name", ["run.json", "trials.json"])
def test_kill_during_an_atomic_write_leaves_the_previous_file_whole(
    name: str, tmp_path: Path
) -> None:
    from search.storage import RunFolder

    folder = RunFolder(tmp_path)
    folder.write_meta({"blob": "x"})
    folder.write_trials([{"id": "0", "status": "completed", "hyperparameters": {}, "blob": "x"}])
    before = (tmp_path / name).read_bytes()
    proc = subprocess.Popen([sys.executable, "-c", _WRITER, str(tmp_path), name,
                             str(PAYLOAD_CHARS)])  # fmt: skip
    deadline, killed = time.monotonic() + WRITE_WAIT_S, False
    while not killed and proc.poll() is None and time.monotonic() < deadline:
        killed = any(_size(p) >= PAYLOAD_CHARS for p in tmp_path.glob(f".{name}.*.tmp"))
        if killed:  # all written to the temporary file, the writer held in fsync, before the rename
            os.kill(proc.pid, signal.SIGKILL)
        time.sleep(POLL_S)
    if not killed:
        proc.kill()
        pytest.fail(f"the writer never filled its temporary file (exit {proc.wait(timeout=60)})")
    assert proc.wait(timeout=60) == -signal.SIGKILL
    assert (tmp_path / name).read_bytes() == before  # the old file, whole
    assert folder.read_meta()["blob"] == folder.read_trials()[0]["blob"] == "x"


def _size(path: Path) -> int:
    """The file's size; 0 where it is gone (renamed in place)."""
    try:
        return path.stat().st_size
    except OSError:
        return 0


def test_a_run_without_results_writes_into_the_test_folder(
    tmp_path: Path, synthetic_fashion: Path
) -> None:
    from tests.conftest import ROOT

    assert main(["run", "fashion", "--tuner", "random", "--train-size", "300", "--val-size",
                 "100", "--max-trials", "1", "--max-epochs", "1", "--no-retrain", "--data-dir",
                 str(synthetic_fashion), "--name", "nowhere", "--quiet"]) == 0  # fmt: skip
    assert (tmp_path / "results" / "fashion" / "nowhere" / "run.json").is_file()
    assert not (ROOT / "results" / "fashion" / "nowhere").exists()


_NEEDS_A_COMPONENT = """
from tests.conftest import missing

def test_needs_chromium():
    missing("chromium is not installed")
"""


@pytest.mark.parametrize(("ci", "outcome"), [("true", "1 failed"), ("", "1 skipped")])
def test_a_missing_component_fails_under_ci(ci: str, outcome: str, tmp_path: Path) -> None:
    test_file = tmp_path / "test_component.py"
    test_file.write_text(_NEEDS_A_COMPONENT)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(test_file)],
        env={**os.environ, "CI": ci}, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert outcome in result.stdout, result.stdout
    assert result.returncode == (1 if ci else 0)


def test_a_run_writes_its_report_holding_its_lock(tmp_path: Path, monkeypatch) -> None:
    """run.json says finished before the report is written: a resume (or a run of that
    name) arriving then would take the run for one killed before its report, and write
    the report and end its MLflow run too, beside this process."""
    import search
    from search.engine import _pipeline
    from search.storage import lock_holder
    from tests import user_models as um

    holders = []
    write = _pipeline.report_lines

    def probed(folder: object) -> list[str]:
        holders.append(lock_holder(folder))  # type: ignore[arg-type]
        return write(folder)  # type: ignore[arg-type]

    monkeypatch.setattr(_pipeline, "report_lines", probed)
    search.run(um.build, *um.tiny_data(40), tuner="random", max_trials=1, max_epochs=1, retrain=False,
               results=tmp_path, name="r", quiet=True)  # fmt: skip
    assert holders == [os.getpid()]


def test_a_report_written_before_the_resume_took_the_lock_is_not_written_again(
    tmp_path: Path, monkeypatch
) -> None:
    """The run's own process wrote its report between the resume's look and its taking the
    lock: the resume writes nothing (nor ends its MLflow run again)."""
    from rich.console import Console

    from search.engine import _pipeline
    from tests.helpers.runs import write_run

    folder = write_run(tmp_path, "r", [], status="finished")
    looks = iter([False, True])  # not written yet; written once the lock is free
    monkeypatch.setattr(_pipeline, "report_written", lambda folder: next(looks))
    monkeypatch.setattr(_pipeline, "report_lines", lambda folder: pytest.fail("written again"))
    assert _pipeline.finish_cut_short(folder, Console()) is None
