"""``--isolate``: every trial in a fresh process, stoppable and resumable like any run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import search
from search.cli import main
from search.errors import SearchError
from search.storage import RunFolder
from tests import user_models as um


def _args(fashion_dir: Path, results: Path, tuner: str = "hyperband") -> list[str]:
    return ["run", "fashion", "--tuner", tuner, "--train-size", "600", "--val-size", "300",
            "--max-trials", "4", "--max-epochs", "3", "--fix", "filters=16", "--no-retrain",
            "--data-dir", str(fashion_dir), "--results", str(results), "--name", "iso",
            "--isolate"]  # fmt: skip


def _trials(folder: Path) -> list[dict]:
    try:
        return json.loads((folder / "trials.json").read_text())["trials"]
    except (OSError, ValueError):
        return []


def test_each_trial_runs_in_its_own_process(tmp_path: Path, fashion_dir: Path, capfd) -> None:
    assert main(_args(fashion_dir, tmp_path)) == 0
    out = capfd.readouterr().out
    folder = tmp_path / "fashion" / "iso"
    trials = _trials(folder)
    assert len(trials) == 4 and all(t["status"] == "completed" for t in trials)
    pids = [t["pid"] for t in trials]
    assert len(set(pids)) == 4 and os.getpid() not in pids
    assert out.count("trial process:") == 4 and "peak memory" in out
    assert "each trial in its own process" in out
    meta = json.loads((folder / "run.json").read_text())
    assert meta["status"] == "finished" and meta["request"]["isolate"] is True
    assert not meta.get("resumed")  # trial processes are not resumes
    assert (folder / "best_model.keras").is_file() and (folder / "report.html").is_file()


def test_sigint_stops_an_isolated_search_which_resumes(tmp_path: Path, fashion_dir: Path) -> None:
    folder = tmp_path / "fashion" / "iso"
    args = _args(fashion_dir, tmp_path, tuner="random")  # every trial 3 epochs long
    proc = subprocess.Popen([sys.executable, "-m", "search", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    deadline = time.monotonic() + 300
    # Wait until the second trial process has trained an epoch, then press Ctrl-C (the parent).
    while not any(t["status"] == "running" and t["epochs"] for t in _trials(folder)[1:]):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, (out, err)
    assert "resume with: python -m search resume" in err
    meta = json.loads((folder / "run.json").read_text())
    assert meta["status"] == "interrupted" and meta["reason"].startswith("SIGINT: stopped after"), meta

    assert main(["resume", str(folder), "--quiet"]) == 0
    trials = _trials(folder)
    assert len(trials) == 4 and all(t["status"] == "completed" for t in trials)
    for trial in trials:
        epochs = [e["epoch"] for e in trial["epochs"]]
        assert epochs == sorted(set(epochs))
    assert len({t["pid"] for t in trials}) == 4


def test_sigint_while_a_trial_process_starts_is_recorded(
    tmp_path: Path, fashion_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    """A Ctrl-C while the trial process imports Keras ends it before it records anything
    (it prints "interrupted", exit 130): the run is still recorded as interrupted, with the
    resume call, not left "running" as if its process had died unannounced."""
    stopped = (130, 0.5, 100.0, [signal.SIGINT])
    monkeypatch.setattr("search.engine._isolate._run_child", lambda *args, **kwargs: stopped)
    assert main(_args(fashion_dir, tmp_path)) == 130
    assert "resume with: python -m search resume" in capsys.readouterr().err
    meta = json.loads((tmp_path / "fashion" / "iso" / "run.json").read_text())
    assert meta["status"] == "interrupted", meta
    assert meta["reason"].startswith("SIGINT: stopped after 0 trials"), meta


def test_isolate_refuses_workers(tmp_path: Path, capsys) -> None:
    code = main(["run", "fashion", "--tuner", "optuna", "--isolate", "--workers", "2",
                 "--results", str(tmp_path)])  # fmt: skip
    assert code == 2
    assert "--isolate" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())


def test_an_isolated_trials_error_is_the_one_search_run_raises(tmp_path: Path, capfd) -> None:
    x, y = um.tiny_data()
    with pytest.raises(SearchError) as refused:
        search.run(um.ReturnsFit(None), x, y, tuner="random", max_trials=2, max_epochs=1,
                   results=tmp_path, name="r", retrain=False, quiet=True, isolate=True)  # fmt: skip
    message = str(refused.value)
    assert message.startswith("ReturnsFit's fit returned None ("), message  # why, not an exit code
    err = capfd.readouterr().err
    assert "ReturnsFit's fit returned" not in err, err  # said once: the trial process did not print it
    assert json.loads((tmp_path / "ReturnsFit" / "r" / "run.json").read_text())["status"] == "failed"


def test_quiet_isolated_search_run_prints_nothing(tmp_path: Path, capfd) -> None:
    x, y = um.tiny_data()
    run = search.run(um.build, x, y, tuner="random", max_trials=1, max_epochs=1, results=tmp_path,
                     name="q", retrain=False, quiet=True, isolate=True)  # fmt: skip
    assert run.status == "finished"
    out = capfd.readouterr().out
    assert out == "", out  # quiet=True silences the trial processes too (their results lines)


def test_a_trial_process_killed_without_a_word_leaves_the_resume_call(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Killed by the kernel's out-of-memory killer, say: no error file, only an exit code."""
    killed = RunFolder(tmp_path / "build" / "r")
    monkeypatch.setattr("search.api.drive_isolated", lambda *args, **kwargs: (137, killed))
    x, y = um.tiny_data()
    with pytest.raises(SearchError) as refused:
        search.run(um.build, x, y, tuner="random", max_trials=1, max_epochs=1, results=tmp_path,
                   name="r", retrain=False, quiet=True, isolate=True)  # fmt: skip
    assert str(refused.value) == (
        f"the last trial process exited with code 137; the run is kept: search.resume({str(killed.path)!r})"
    )
