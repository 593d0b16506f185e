"""``--gpus``: parsing, the GPUs a machine shows, pinning, and one worker per GPU.

This machine has no GPU. The end-to-end test gives the run ``CUDA_VISIBLE_DEVICES`` entries
that no GPU answers to: CPU backends ignore them, so the test sees which worker was given
which GPU (``trials.json`` records it per trial) without needing one.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from search import gpus
from search.cli import main
from search.errors import SearchError


@pytest.fixture
def env() -> Iterator[None]:
    """Give back the environment as it was: pinning writes to ``os.environ``."""
    saved = dict(os.environ)
    for name in (gpus.VISIBLE, gpus.PINNED, "CUDA_DEVICE_ORDER"):
        os.environ.pop(name, None)
    yield
    os.environ.clear()
    os.environ.update(saved)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("a,b", "give GPU numbers separated by commas"),
        ("0,,1", "give GPU numbers separated by commas"),
        ("0,1,0", "GPU 0 is listed twice"),
        ("-1", "give GPU numbers separated by commas"),
    ],
)
def test_bad_gpu_lists_are_refused(raw: str, message: str) -> None:
    with pytest.raises(SearchError, match=message):
        gpus.parse_gpus(raw)


def test_parse_gpus(env: None) -> None:
    assert gpus.parse_gpus("0, 2,1") == ("0", "2", "1")
    os.environ[gpus.VISIBLE] = "4,5,6"
    assert gpus.parse_gpus("all") == ("0", "1", "2")


def test_available_gpus_follow_cuda_visible_devices(env: None) -> None:
    os.environ[gpus.VISIBLE] = "2,3"
    assert gpus.available_gpus() == ["2", "3"]
    os.environ[gpus.VISIBLE] = "0,-1,1"  # CUDA stops at the first invalid entry
    assert gpus.available_gpus() == ["0"]
    os.environ[gpus.VISIBLE] = "-1"
    assert gpus.available_gpus() == []


def test_gpu_numbers_count_within_the_visible_ones(env: None) -> None:
    os.environ[gpus.VISIBLE] = "4,GPU-5a"
    assert gpus.resolve_gpus(("1", "0")) == ("GPU-5a", "4")
    with pytest.raises(SearchError, match=r"there is no GPU 2; this machine shows 2 \(numbers 0-1\)"):
        gpus.resolve_gpus(("0", "2"))


def test_no_gpu_names_the_cpu_way(env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gpus.shutil, "which", lambda name: None)
    with pytest.raises(SearchError, match="shows no GPU .*use workers N"):
        gpus.resolve_gpus(("0",))
    os.environ[gpus.VISIBLE] = "-1"
    with pytest.raises(SearchError, match="CUDA_VISIBLE_DEVICES='-1' hides every GPU"):
        gpus.parse_gpus("all")


def test_claim_pins_this_process_to_the_first(env: None) -> None:
    os.environ[gpus.VISIBLE] = "3,7"
    assert gpus.claim(("1", "0")) == ("7", "3")
    assert os.environ[gpus.VISIBLE] == "7"
    assert os.environ[gpus.PINNED] == "7"
    assert os.environ["CUDA_DEVICE_ORDER"] == "PCI_BUS_ID"
    # A process started by a pinned one (--isolate's trial processes) keeps its GPU.
    assert gpus.claim(("1", "0")) == ("7",)
    assert gpus.claim(()) == ()


def test_gpus_are_checked_before_any_work(env: None, tmp_path: Path, capsys) -> None:
    os.environ[gpus.VISIBLE] = "-1"
    assert main(["run", "fashion", "--tuner", "optuna", "--gpus", "0,1",
                 "--results", str(tmp_path)]) == 2  # fmt: skip
    assert "--gpus 0,1: this machine shows no GPU" in capsys.readouterr().err
    os.environ[gpus.VISIBLE] = "0,1"
    assert main(["run", "fashion", "--tuner", "hyperband", "--gpus", "0,1",
                 "--results", str(tmp_path)]) == 2  # fmt: skip
    assert "--gpus 0,1 needs --tuner optuna" in capsys.readouterr().err
    assert main(["run", "fashion", "--tuner", "optuna", "--gpus", "0,1", "--workers", "3",
                 "--results", str(tmp_path)]) == 2  # fmt: skip
    assert "starts one worker per GPU (2); leave out --workers 3" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())


def test_one_worker_per_gpu(env: None, tmp_path: Path, fashion_dir: Path) -> None:
    os.environ[gpus.VISIBLE] = "7,9"  # no GPU answers to these: CPU backends ignore them
    code = main([
        "run", "fashion", "--tuner", "optuna", "--gpus", "1,0", "--sampler", "random",
        "--pruner", "none", "--train-size", "300", "--val-size", "200", "--max-trials", "4",
        "--max-epochs", "1", "--fix", "filters=16", "--fix", "conv_blocks=2", "--no-retrain",
        "--data-dir", str(fashion_dir), "--results", str(tmp_path), "--name", "gpus",
        "--quiet",
    ])  # fmt: skip
    assert code == 0
    folder = tmp_path / "fashion" / "gpus"
    meta = json.loads((folder / "run.json").read_text())
    assert meta["request"]["gpus"] == ["1", "0"]
    assert meta["request"]["workers"] == 2
    trials = json.loads((folder / "trials.json").read_text())["trials"]
    assert sorted(int(t["id"]) for t in trials) == list(range(4))
    by_pid: dict[int, set[str]] = {}
    for t in trials:
        by_pid.setdefault(t["pid"], set()).add(t["gpu"])
    assert by_pid[os.getpid()] == {"9"}  # this process is worker 0, on the first GPU listed
    worker_gpus = {gpu for pid, used in by_pid.items() if pid != os.getpid() for gpu in used}
    assert worker_gpus <= {"7"}
    assert "worker 1 (GPU 7):" in (folder / "worker-1.log").read_text()


def test_status_lists_running_trials_with_their_gpu(tmp_path: Path, capsys) -> None:
    from search.storage import RunFolder, RunLock

    run = RunFolder(tmp_path / "fashion" / "multi")
    run.path.mkdir(parents=True)
    run.write_meta({"experiment": "fashion", "tuner": "optuna", "status": "running",
                    "objective": {"name": "val_accuracy", "direction": "max"}})  # fmt: skip
    run.write_trials([
        {"id": "0", "status": "completed", "pid": 11, "gpu": "0", "epochs": [],
         "best": {"val_accuracy": 0.8}, "best_epoch": 1, "hyperparameters": {}},
        {"id": "1", "status": "running", "pid": 12, "gpu": "1", "epochs": [], "hyperparameters": {}},
        {"id": "2", "status": "running", "pid": 13, "gpu": None, "epochs": [], "hyperparameters": {}},
    ])  # fmt: skip
    with RunLock(run.path):
        assert main(["status", str(run.path)]) == 0
    out = capsys.readouterr().out
    assert "running: trial 1 (PID 12, GPU 1), trial 2 (PID 13)" in out


def _interrupt_after_one_trial(tmp_path: Path, fashion_dir: Path, name: str, *options: str):
    """Start a small Optuna run in a subprocess and SIGINT it once a trial has completed.

    Returns the stopped process and the trials completed before the stop.
    """
    import signal
    import subprocess
    import sys
    import time

    folder = tmp_path / "fashion" / name
    proc = subprocess.Popen(
        [sys.executable, "-m", "search", "run", "fashion", "--tuner", "optuna", *options,
         "--sampler", "random", "--pruner", "none", "--train-size", "1000", "--val-size",
         "200", "--max-trials", "5", "--max-epochs", "2", "--fix", "filters=16", "--fix",
         "conv_blocks=2", "--no-retrain", "--data-dir", str(fashion_dir), "--results",
         str(tmp_path), "--name", name, "--quiet"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 240
    done: list[dict] = []
    while not done and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.3)
        try:
            trials = json.loads((folder / "trials.json").read_text())["trials"]
        except (OSError, ValueError):
            continue
        done = [t for t in trials if t["status"] == "completed"]
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 130, out
    assert done, out
    return proc, done


def test_resume_moves_the_run_to_other_gpus(env: None, tmp_path: Path, fashion_dir: Path) -> None:
    os.environ[gpus.VISIBLE] = "7,9"
    folder = tmp_path / "fashion" / "moved"
    proc, done = _interrupt_after_one_trial(tmp_path, fashion_dir, "moved", "--gpus", "0")
    assert {t["gpu"] for t in done} == {"7"}  # --gpus 0: the first of CUDA_VISIBLE_DEVICES

    assert main(["resume", str(folder), "--gpus", "1,0", "--quiet"]) == 0
    meta = json.loads((folder / "run.json").read_text())
    assert meta["status"] == "finished"
    assert meta["request"]["gpus"] == ["1", "0"] and meta["request"]["workers"] == 2
    trials = json.loads((folder / "trials.json").read_text())["trials"]
    assert sorted(int(t["id"]) for t in trials if t["status"] == "completed") == list(range(5))
    after = [t for t in trials if t["pid"] != proc.pid]
    assert after
    assert {t["gpu"] for t in after if t["pid"] == os.getpid()} <= {"9"}
    assert {t["gpu"] for t in after if t["pid"] != os.getpid()} <= {"7"}
    assert "worker 1 (GPU 7):" in (folder / "worker-1.log").read_text()


def test_resume_adds_cpu_workers(env: None, tmp_path: Path, fashion_dir: Path) -> None:
    folder = tmp_path / "fashion" / "more"
    _interrupt_after_one_trial(tmp_path, fashion_dir, "more")
    assert json.loads((folder / "run.json").read_text())["request"]["workers"] == 1

    assert main(["resume", str(folder), "--workers", "2", "--quiet"]) == 0
    meta = json.loads((folder / "run.json").read_text())
    assert meta["status"] == "finished" and meta["request"]["workers"] == 2
    assert meta["request"]["gpus"] == []
    trials = json.loads((folder / "trials.json").read_text())["trials"]
    assert sorted(int(t["id"]) for t in trials if t["status"] == "completed") == list(range(5))
    assert "worker 1:" in (folder / "worker-1.log").read_text()
    assert {t["gpu"] for t in trials} == {None}


def test_resume_refuses_a_gpu_list_it_cannot_use(env: None, tmp_path: Path, capsys) -> None:
    from search.storage import RunFolder

    run = RunFolder(tmp_path / "fashion" / "old")
    run.path.mkdir(parents=True)
    run.write_meta({"experiment": "fashion", "tuner": "hyperband", "status": "interrupted",
                    "request": {"experiment": "fashion", "tuner": "hyperband", "gpus": ["0"],
                                "workers": 1}})  # fmt: skip
    before = (run.path / "run.json").read_text()
    os.environ[gpus.VISIBLE] = "3"
    assert main(["resume", str(run.path), "--gpus", "1"]) == 2
    assert "--gpus 1: there is no GPU 1; this machine shows 1 (numbers 0-0)" in (
        capsys.readouterr().err
    )
    os.environ[gpus.VISIBLE] = "3,4"
    assert main(["resume", str(run.path), "--gpus", "0,1", "--workers", "3"]) == 2
    assert "starts one worker per GPU (2); leave out --workers 3" in capsys.readouterr().err
    assert (run.path / "run.json").read_text() == before


def test_resume_refuses_workers_a_kerastuner_run_cannot_share(
    env: None, tmp_path: Path, capsys
) -> None:
    from search.storage import RunFolder

    run = RunFolder(tmp_path / "fashion" / "bands")
    run.path.mkdir(parents=True)
    run.write_meta({"experiment": "fashion", "tuner": "hyperband", "status": "interrupted",
                    "request": {"experiment": "fashion", "tuner": "hyperband", "workers": 1}})  # fmt: skip
    before = (run.path / "run.json").read_text()
    assert main(["resume", str(run.path), "--workers", "2"]) == 2
    assert "--workers 2 needs --tuner optuna" in capsys.readouterr().err
    assert (run.path / "run.json").read_text() == before
