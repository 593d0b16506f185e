"""Joining a run as a worker: refused, before any work, where there is nothing to join, the
storage or backend given is not the run's, or the index is a live worker's; and joining again."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import keras
import pytest

from search.cli import main
from search.engine import plan
from search.engine._worker import _joined
from search.storage import RunFolder, WorkerSlot
from tests.helpers.processes import wait_mid_trials
from tests.helpers.runs import optuna_run


def _optuna_run(root: Path, status: str, storage: str | None = None) -> RunFolder:
    return optuna_run(root, "my run", status, storage)


def test_joining_an_interrupted_run_says_how_to_resume_it_with_workers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _optuna_run(tmp_path, "interrupted")
    assert main(["worker", str(folder.path)]) == 2
    assert capsys.readouterr().err == (
        f"error: {folder.path}: the run is interrupted; nothing to join; resume it with its"
        f" workers (N processes in all): `python -m search resume '{folder.path}' --workers N`\n"
    )


def test_a_worker_joins_a_warm_started_run_whose_earlier_run_is_gone(tmp_path: Path) -> None:
    """The study holds the earlier run's trials: a worker needs neither them nor that run's
    folder, and is not refused for a --warm-start it was never given."""
    folder = optuna_run(tmp_path, "stage-two", "running")  # a name a run may have
    meta = folder.read_meta()
    meta["request"]["warm_start"] = [str(tmp_path / "fashion" / "gone")]
    folder.write_meta(meta)
    _, request = _joined(folder, None)
    assert request.warm_start == ()
    assert plan(request).options.warm is None  # no SearchError naming --warm-start


def test_a_worker_given_another_database_than_the_runs_journal_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """It trained a trial in a new study there, then failed advising a new --name."""
    folder = _optuna_run(tmp_path, "running")
    url = "postgresql+psycopg://u:secret@127.0.0.1:9/other"
    assert main(["worker", str(folder.path), "--storage", url]) == 2
    assert capsys.readouterr().err == (
        "error: --storage postgresql+psycopg://u:***@127.0.0.1:9/other: the run"
        f" {folder.path} keeps its Optuna study in its journal file"
        f" {folder.path}/optuna.journal, not there; leave out --storage to continue it (start a"
        " new run with another --name to search in another storage)\n"
    )
    assert not (folder.path / "worker").exists() and not (folder.path / "tuner").exists()


def test_a_worker_given_a_url_whose_port_is_no_number_is_told_so_without_its_password(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _optuna_run(tmp_path, "running", "postgresql+psycopg://u:secret@127.0.0.1:9/pk")
    assert main(["worker", str(folder.path), "--storage", "postgresql+psycopg://u:secret@h:x/pk"]) == 2
    assert capsys.readouterr().err == (
        "error: --storage '...@h:x/pk': its port is not a number; give host:PORT (an IPv6 host in"
        " brackets: [::1]:5432), e.g. postgresql+psycopg://user:password@host:5432/dbname\n"
    )


def test_a_worker_on_another_keras_backend_than_the_runs_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Its trials would have trained on another backend than the run's others."""
    folder = _optuna_run(tmp_path, "running")
    other = "jax" if keras.backend.backend() == "tensorflow" else "tensorflow"
    folder.update_meta(versions={"keras_backend": other})
    assert main(["worker", str(folder.path)]) == 2
    assert capsys.readouterr().err == (
        f"error: {folder.path}: the run trains on Keras' {other} backend, this worker on"
        f" {keras.backend.backend()}; start it with --backend {other}\n"
    )
    assert not list(folder.path.glob(".worker-*"))


def test_a_worker_given_the_index_of_a_live_one_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two workers of one index would write one tuner folder."""
    folder = _optuna_run(tmp_path, "running")
    with WorkerSlot(folder.path, 1):
        assert main(["worker", str(folder.path), "--index", "1"]) == 2
    assert capsys.readouterr().err == (
        f"error: {folder.path}: worker index 1 is taken by a running worker (PID {os.getpid()});"
        " give another --index, or leave --index out to take a free one\n"
    )
    assert not (folder.path / "tuner").exists()


def test_a_worker_started_again_after_ctrl_c_takes_back_its_trial(
    tmp_path: Path, fashion_dir: Path
) -> None:
    """Its default index was its PID: started again, it used a new tuner folder, and its trial
    was failed as a dead worker's a minute later and trained again from scratch."""
    # A long heartbeat: the run must not fail the trial while the worker starts again (its
    # Keras import alone takes up to a minute on a loaded machine); six epochs a trial give
    # the joining worker time to be mid-trial while the run is.
    env = {**os.environ, "SEARCH_HEARTBEAT_SECONDS": "600"}
    run = subprocess.Popen(
        [sys.executable, "-m", "search", "run", "fashion", "--tuner", "optuna", "--max-trials", "6",
         "--sampler", "random", "--pruner", "none", "--train-size", "4000", "--val-size", "300",
         "--max-epochs", "6", "--fix", "filters=16", "--no-retrain", "--data-dir", str(fashion_dir),
         "--results", str(tmp_path), "--name", "w", "--seed", "1", "--quiet"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
    )  # fmt: skip
    folder = tmp_path / "fashion" / "w"
    deadline = time.monotonic() + 120
    while run.poll() is None and time.monotonic() < deadline and not _says_running(folder):
        time.sleep(0.1)
    join = [sys.executable, "-m", "search", "worker", str(folder), "--quiet"]
    worker = subprocess.Popen(join, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    mid = wait_mid_trials(worker, folder / "trials.json", done=0, processes=2)
    victim = next(t for t in mid if t["pid"] == worker.pid)
    worker.send_signal(signal.SIGINT)
    out, _ = worker.communicate(timeout=120)
    assert worker.returncode == 130, out
    again = subprocess.run(join, capture_output=True, text=True, timeout=300, env=env)
    assert again.returncode == 0, again.stdout + again.stderr
    assert again.stdout.startswith("worker 1: "), again.stdout
    out, _ = run.communicate(timeout=300)
    assert run.returncode == 0, out
    trials = {t["id"]: t for t in json.loads((folder / "trials.json").read_text())["trials"]}
    assert len(trials) == 6 and {t["status"] for t in trials.values()} == {"completed"}
    restored = [e["epoch"] for e in trials[victim["id"]]["epochs"] if e.get("restored")]
    assert len(restored) >= len(victim["epochs"]), trials[victim["id"]]


def _says_running(folder: Path) -> bool:
    """Whether the run.json in ``folder`` says the run is running (a worker may join)."""
    try:
        return json.loads((folder / "run.json").read_text())["status"] == "running"
    except (OSError, ValueError, KeyError):
        return False


def test_a_worker_reads_the_data_where_run_json_says_or_where_given_and_checks_them(
    tmp_path: Path, fashion_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A worker loaded whatever lay at run.json's data folder (another machine's files there
    trained its trials unchecked), and a folder gone was refused with "pass --data-dir",
    which worker did not take."""
    folder = optuna_run(tmp_path, "r", "running")
    meta = folder.read_meta()
    gone = tmp_path / "gone"
    meta["request"]["data_dir"] = str(gone)
    meta["data"] = {"source": "Fashion-MNIST elsewhere", "fingerprint": "0" * 16}
    meta["space"] = {"params": plan(_joined(folder, None)[1]).space.to_dict()}
    folder.write_meta(meta)
    assert main(["worker", str(folder.path)]) == 2
    assert capsys.readouterr().err == (
        f"error: {folder.path}: its data folder {gone} is gone; put the data back there (the run goes"
        " on with the data it began with), give their new place with --data-dir, or start a new run"
        " with another --name\n"
    )
    _, request = _joined(folder, None, fashion_dir)
    assert request.data_dir == fashion_dir.resolve()
    assert main(["worker", str(folder.path), "--data-dir", str(fashion_dir)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {folder.path}: the data differ from the ones this run started with"), err
    assert folder.read_meta()["request"]["data_dir"] == str(gone)  # a worker's --data-dir is its own
