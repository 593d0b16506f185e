"""Search processes of their own, caught mid-trial, or killed with 9."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

from hypermodels._state import saved_epochs
from tests.conftest import ROOT

POLL_SECONDS = 0.05
"""How often ``wait_mid_trial`` reads the trials file. Keras is imported above, not in the
loop: its first import took the poll 14 to 49 s, past every window where both workers of a
run were mid-trial."""


def wait_mid_trial(proc: subprocess.Popen, trials_file: Path, done: int) -> dict:
    """Wait until ``done`` trials completed and another has finished an epoch, not its last."""
    return wait_mid_trials(proc, trials_file, done)[0]


def wait_mid_trials(proc: subprocess.Popen, trials_file: Path, done: int, processes: int = 1) -> list[dict]:
    """Wait until ``done`` trials completed and trials of ``processes`` processes (workers)
    have each finished an epoch, not their last; those trials."""
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and proc.poll() is None:
        time.sleep(POLL_SECONDS)
        try:
            trials = json.loads(trials_file.read_text())["trials"]
        except (OSError, ValueError):
            continue
        # Mid-way: an epoch done and at least one still to run (else the trial may end
        # normally before the signal lands).
        running = [
            t for t in trials
            if t["status"] == "running" and t["epochs"]
            and t["epochs"][-1]["epoch"] < _last_epoch(trials_file.parent, t)
        ]  # fmt: skip
        # Epoch states are written in the background after the epoch is recorded: kill only
        # once the file holds the recorded epoch (a kill before that redoes the epoch).
        saved = [t for t in running if t["epochs"][-1]["epoch"] - 1 in _saved(trials_file.parent, t)]
        done_now = sum(t["status"] == "completed" for t in trials) >= done
        if done_now and len({t.get("pid") for t in saved}) >= processes:
            return saved
    if proc.poll() is None:
        proc.kill()
    output = proc.communicate(timeout=60)[0] or ""
    raise AssertionError(f"never saw a trial mid-way; output: {output[-2000:]}")


def _last_epoch(folder: Path, trial: dict) -> int:
    """The epoch the trial trains to: its schedule's (Hyperband's), else the run's maximum."""
    scheduled = trial["schedule"].get("epochs")
    return scheduled or json.loads((folder / "run.json").read_text())["budget"]["max_epochs"]


def _saved(folder: Path, trial: dict) -> list[int]:
    """The epochs (from 0) the trial's epoch-state file holds."""
    files = list(folder.rglob(f"trial_{trial['id']}/epoch_state.npz"))
    return saved_epochs(files[0]) if files else []


def run_killed(code: str) -> None:
    """Run ``code`` in a fresh Python at the repository's root; it must die of SIGKILL."""
    root = ROOT
    killed = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
