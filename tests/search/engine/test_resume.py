"""Stopping and resuming real search processes (signals, kill -9), and refused changes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest

from search.cli import main
from tests.helpers.processes import wait_mid_trial, wait_mid_trials

TRAIN_SIZE = "4000"
"""Training images of these searches: epochs long enough (about two seconds) for the tests to
see a trial between two epochs, after its epoch state is written (in the background, fsynced:
slow on a busy disk) and before the next ends. At 2,400 (about a second) a loaded machine
missed every such moment of a search about once in fifteen runs."""


def start(
    tmp_path: Path, fashion_dir: Path, tuner: str, *extra: str, env: dict[str, str] | None = None
) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "search", "run", "fashion", "--tuner", tuner,
         "--train-size", TRAIN_SIZE, "--val-size", "300", "--max-epochs", "3",
         "--fix", "filters=16", "--no-retrain", "--data-dir", str(fashion_dir),
         "--results", str(tmp_path), "--name", "r", "--seed", "1", *extra],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
        start_new_session=env is not None,
    )  # fmt: skip


def check_complete(folder: Path, expected: int) -> list[dict]:
    trials = json.loads((folder / "trials.json").read_text())["trials"]
    assert len(trials) == expected
    assert len({t["id"] for t in trials}) == expected
    for t in trials:
        assert t["status"] == "completed"
        epochs = [e["epoch"] for e in t["epochs"]]
        assert epochs == sorted(set(epochs))  # each epoch exactly once
    assert json.loads((folder / "run.json").read_text())["status"] == "finished"
    return trials


def test_sigint_stops_cleanly_and_resume_finishes(tmp_path: Path, fashion_dir: Path) -> None:
    proc = start(tmp_path, fashion_dir, "hyperband")
    folder = tmp_path / "fashion" / "r"
    victim = wait_mid_trial(proc, folder / "trials.json", done=2)
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 130, out
    assert f"resume with: python -m search resume {folder}" in out
    assert "Traceback" not in out
    meta = json.loads((folder / "run.json").read_text())
    assert meta["status"] == "interrupted"

    assert main(["resume", str(folder), "--quiet"]) == 0
    trials = check_complete(folder, expected=6)  # Hyperband's schedule for max_epochs 3
    again = next(t for t in trials if t["id"] == victim["id"])
    assert again["schedule"] == victim["schedule"]
    assert [e["epoch"] for e in again["epochs"] if e.get("restored")]  # continued, not rerun
    assert json.loads((folder / "run.json").read_text())["resumed"]


@pytest.mark.parametrize("tuner", ["hyperband", "optuna"])
def test_kill_9_mid_trial_then_resume(tuner: str, tmp_path: Path, fashion_dir: Path) -> None:
    extra = ("--max-trials", "4", "--pruner", "none") if tuner == "optuna" else ()
    proc = start(tmp_path, fashion_dir, tuner, *extra)
    folder = tmp_path / "fashion" / "r"
    victim = wait_mid_trial(proc, folder / "trials.json", done=1)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)
    # The same command again continues the run.
    assert main([
        "run", "fashion", "--tuner", tuner, "--train-size", TRAIN_SIZE, "--val-size", "300",
        "--max-epochs", "3", "--fix", "filters=16", "--no-retrain", "--data-dir",
        str(fashion_dir), "--results", str(tmp_path), "--name", "r", "--seed", "1", "--quiet",
        *extra,
    ]) == 0  # fmt: skip
    trials = check_complete(folder, expected=4 if tuner == "optuna" else 6)
    # The killed trial continued from its last saved epoch instead of starting over.
    resumed = next(t for t in trials if t["id"] == victim["id"])
    restored = [e["epoch"] for e in resumed["epochs"] if e.get("restored")]
    assert len(restored) >= len(victim["epochs"])
    assert restored == [e["epoch"] for e in resumed["epochs"]][: len(restored)]
    if tuner == "optuna":
        import optuna

        storage = optuna.storages.JournalStorage(
            optuna.storages.journal.JournalFileBackend(str(folder / "optuna.journal"))
        )
        study = optuna.load_study(study_name="fashion-r", storage=storage)
        assert [t.state.name for t in study.trials] == ["COMPLETE"] * 4


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGKILL])
def test_a_resume_after_the_heartbeat_grace_continues_every_workers_trial(
    stop: signal.Signals, tmp_path: Path, fashion_dir: Path
) -> None:
    """Resumed after the grace (3 s here, 60 s by default), the trials the run's worker
    processes were training are continued from their last epochs; they were recorded failed
    ("worker died: no heartbeat") and trained again from scratch."""
    import time

    env = {**os.environ, "SEARCH_HEARTBEAT_SECONDS": "1"}
    # Six epochs a trial, not three: both processes must be mid-trial at once (wider windows).
    extra = ("--max-trials", "4", "--max-epochs", "6", "--pruner", "none", "--sampler", "random",
             "--workers", "2")  # fmt: skip
    proc = start(tmp_path, fashion_dir, "optuna", *extra, env=env)  # a session of its own
    folder = tmp_path / "fashion" / "r"
    victims = wait_mid_trials(proc, folder / "trials.json", done=0, processes=2)
    os.killpg(proc.pid, stop)  # the run's process and its worker, as Ctrl-C in a terminal
    proc.communicate(timeout=120)
    time.sleep(5)  # past the grace of every trial's last heartbeat
    resumed = subprocess.run(
        [sys.executable, "-m", "search", "resume", str(folder), "--quiet"],
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    trials = {t["id"]: t for t in check_complete(folder, expected=4)}
    for victim in victims:
        restored = [e["epoch"] for e in trials[victim["id"]]["epochs"] if e.get("restored")]
        assert len(restored) >= len(victim["epochs"]), trials[victim["id"]]


def test_trackers_given_on_a_rerun_stay_for_its_resume(tmp_path: Path, synthetic_fashion: Path) -> None:
    """run.json kept the first command's --track: a run given --track tensorboard on its
    rerun (as after a forgotten flag) was no longer tracked after a later `search resume`."""
    proc = start(tmp_path, synthetic_fashion, "random", "--max-trials", "2")
    folder = tmp_path / "fashion" / "r"
    while proc.poll() is None and not (folder / "trials.json").exists():
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 130, out
    assert main(rerun_args(tmp_path, synthetic_fashion, "--max-trials", "2", "--track", "tensorboard")) == 0
    assert json.loads((folder / "run.json").read_text())["request"]["track"] == ["tensorboard"]


def test_a_run_whose_space_file_is_gone_resumes_on_the_space_its_run_json_keeps(
    tmp_path: Path, synthetic_fashion: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A run given ``--space`` in a folder since cleaned was refused on resume, its space
    being in run.json all along."""
    space = tmp_path / "mine.toml"
    space.write_text((Path(__file__).parents[3] / "spaces" / "fashion.toml").read_text())
    proc = start(tmp_path, synthetic_fashion, "random", "--max-trials", "2", "--space", str(space))
    folder = tmp_path / "fashion" / "r"
    wait_mid_trial(proc, folder / "trials.json", done=1)
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 130, out
    space.unlink()
    assert main(["resume", str(folder)]) == 0
    assert f"space: {space} (gone: searching the copy in {folder / 'run.json'})" in capsys.readouterr().out
    trials = check_complete(folder, expected=2)
    assert {t["hyperparameters"]["filters"] for t in trials} == {16}  # the run's --fix too


def rerun_args(tmp_path: Path, fashion_dir: Path, *extra: str) -> list[str]:
    """:func:`start`'s command for ``main``: the run started again."""
    return ["run", "fashion", "--tuner", "random", "--train-size", TRAIN_SIZE, "--val-size", "300",
            "--max-epochs", "3", "--fix", "filters=16", "--no-retrain", "--data-dir", str(fashion_dir),
            "--results", str(tmp_path), "--name", "r", "--seed", "1", *extra]  # fmt: skip


def test_tensorboard_given_on_a_rerun_shows_every_epoch_of_the_earlier_process(
    tmp_path: Path, synthetic_fashion: Path
) -> None:
    """Trials that ended before ``--track tensorboard`` was given never appeared in
    TensorBoard, and a continued trial lacked the scalars of its epochs from before."""
    from tensorboard.backend.event_processing import event_accumulator as ea
    from tensorboard.plugins.hparams import metadata

    proc = start(tmp_path, synthetic_fashion, "random", "--max-trials", "3")
    folder = tmp_path / "fashion" / "r"
    wait_mid_trial(proc, folder / "trials.json", done=1)
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 130, out
    assert main(rerun_args(tmp_path, synthetic_fashion, "--max-trials", "3", "--track", "tensorboard")) == 0
    trials = check_complete(folder, expected=3)
    assert any(e.get("restored") for t in trials for e in t["epochs"])
    for trial in trials:
        board = ea.EventAccumulator(str(folder / "tensorboard" / f"trial_{trial['id']}"),
                                    size_guidance={ea.TENSORS: 0})  # fmt: skip
        board.Reload()
        assert [e.step for e in board.Tensors("val_accuracy")] == [e["epoch"] for e in trial["epochs"]]
        session = board.PluginTagToContent(metadata.PLUGIN_NAME)
        began = metadata.parse_session_start_info_plugin_data(session[metadata.SESSION_START_INFO_TAG])
        assert began.start_time_secs == pytest.approx(datetime.fromisoformat(trial["started"]).timestamp())


def test_changed_settings_are_refused(tmp_path: Path, fashion_dir: Path, capsys) -> None:
    args = ["run", "fashion", "--tuner", "random", "--train-size", "300", "--val-size", "100",
            "--max-trials", "1", "--max-epochs", "1", "--fix", "filters=16", "--no-retrain",
            "--data-dir", str(fashion_dir), "--results", str(tmp_path), "--name", "c",
            "--quiet"]  # fmt: skip
    assert main(args) == 0
    assert main(args) == 2
    assert "is already finished" in capsys.readouterr().err
    meta_file = tmp_path / "fashion" / "c" / "run.json"
    meta = json.loads(meta_file.read_text())
    meta["status"] = "interrupted"
    meta_file.write_text(json.dumps(meta))
    changed = [a if a != "filters=16" else "filters=32" for a in args]
    changed[changed.index("random")] = "bayesian"
    assert main(changed) == 2
    err = capsys.readouterr().err
    assert "tuner random -> bayesian" in err and "space differs in filters" in err
    assert "start a new run with another --name" in err


def test_another_optuna_sampler_or_pruner_is_refused(tmp_path: Path, fashion_dir: Path, capsys) -> None:
    """The same --name with another sampler would continue the study with it, while
    run.json says the first."""
    args = ["run", "fashion", "--tuner", "optuna", "--train-size", "300", "--val-size", "100",
            "--max-trials", "1", "--max-epochs", "1", "--fix", "filters=16", "--no-retrain",
            "--data-dir", str(fashion_dir), "--results", str(tmp_path), "--name", "o",
            "--quiet"]  # fmt: skip
    assert main(args) == 0
    meta_file = tmp_path / "fashion" / "o" / "run.json"
    meta = json.loads(meta_file.read_text())
    meta["status"] = "interrupted"
    meta_file.write_text(json.dumps(meta))
    capsys.readouterr()
    assert main([*args, "--sampler", "random", "--pruner", "none"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert "--sampler tpe -> random" in err and "--pruner median -> none" in err, err
    assert main([*args, "--sampler", "tpe", "--pruner", "median"]) == 0  # the defaults, spelled out


def test_damaged_tuner_state_is_named_and_nothing_is_lost(
    tmp_path: Path, fashion_dir: Path, capsys
) -> None:
    proc = start(tmp_path, fashion_dir, "random", "--max-trials", "3")
    wait_mid_trial(proc, tmp_path / "fashion" / "r" / "trials.json", done=1)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    folder = tmp_path / "fashion" / "r"
    oracle = folder / "tuner" / "oracle.json"
    oracle.write_text(oracle.read_text()[:25])  # as a non-atomic write cut short would leave it
    before = sorted(p.relative_to(folder) for p in folder.rglob("*"))
    trials = (folder / "trials.json").read_text()
    capsys.readouterr()
    assert main(["resume", str(folder)]) == 2
    err = capsys.readouterr().err
    assert "oracle.json: the tuner's saved state is damaged" in err and "--name" in err
    assert sorted(p.relative_to(folder) for p in folder.rglob("*")) == before
    assert (folder / "trials.json").read_text() == trials


def test_kerastuner_state_files_are_written_atomically(tmp_path: Path) -> None:
    from keras_tuner.src import utils as kt_utils

    from search.tuners._atomic import install

    install()  # what the backends do before they create a tuner
    path = tmp_path / "oracle.json"
    kt_utils.save_json(str(path), {"a": 1})
    assert json.loads(path.read_text()) == {"a": 1}
    with pytest.raises(TypeError):
        kt_utils.save_json(str(path), {"a": object()})  # fails before touching the file
    assert json.loads(path.read_text()) == {"a": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["oracle.json"]  # no temporary left


@pytest.mark.parametrize("writer", ["in_memory", "save_weights"])
def test_best_epoch_checkpoints_are_written_atomically(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, writer: str
) -> None:
    """A checkpoint write that dies halfway leaves the last whole checkpoint and no temporary
    file, whether it is built in memory or (where Keras' internals moved) by save_weights."""
    import keras
    import keras_tuner as kt
    import numpy as np
    from keras_tuner.src.engine import tuner_utils

    from search.compat import keras as compat_keras
    from search.tuners._atomic import install

    install()  # what the backends do before they create a tuner
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    path = tmp_path / "checkpoint.weights.h5"
    saver = tuner_utils.SaveBestEpoch(kt.Objective("val_accuracy", "max"), str(path))
    saver.set_model(model)
    saver.on_epoch_end(0, {"val_accuracy": 0.5})
    saved = [w.copy() for w in model.get_weights()]
    model.set_weights([w + 0.5 for w in saved])
    saver.on_epoch_end(1, {"val_accuracy": 0.4})  # not better: nothing written (checked below)

    def cut_short(filepath: str) -> None:  # a write that dies halfway, as a full disk would
        Path(filepath).write_bytes(b"\x89HDF\r\n")
        raise OSError("disk full")

    def sync_fails(fd: int) -> None:  # the bytes are in the temporary file; the disk refuses them
        raise OSError("disk full")

    model.set_weights([w + 1.0 for w in saved])
    if writer == "in_memory":
        assert compat_keras.weights_file(model) is not None  # this Keras has the internals
        monkeypatch.setattr("search.storage._atomic.os.fsync", sync_fails)
    else:
        monkeypatch.setattr(compat_keras, "weights_file", lambda model: None)
        monkeypatch.setattr(model, "save_weights", cut_short)
    with pytest.raises(OSError, match="disk full"):
        saver.on_epoch_end(2, {"val_accuracy": 0.9})
    monkeypatch.undo()
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary left
    fresh = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    fresh.load_weights(str(path))  # the last whole checkpoint, untouched
    for got, want in zip(fresh.get_weights(), saved, strict=True):
        np.testing.assert_array_equal(got, want)
