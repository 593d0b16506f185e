"""A search killed with SIGKILL at several seeded random moments still completes."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from search.cli import main

KILL_POINTS = 5


def _fresh_epochs(trials_file: Path) -> int:
    """Epochs trained (not restored) so far, as the run folder records them."""
    try:
        trials = json.loads(trials_file.read_text())["trials"]
    except (OSError, ValueError, KeyError):
        return 0
    return sum(1 for t in trials for e in t["epochs"] if not e.get("restored"))


def test_random_kill_points_then_completion(tmp_path: Path, fashion_dir: Path) -> None:
    rng = random.Random(20261123)
    args = ["run", "fashion", "--tuner", "hyperband", "--train-size", "3000", "--val-size",
            "300", "--max-epochs", "3", "--fix", "filters=16", "--no-retrain", "--data-dir",
            str(fashion_dir), "--results", str(tmp_path), "--name", "k", "--seed", "3",
            "--quiet"]  # fmt: skip
    folder = tmp_path / "fashion" / "k"
    kills = 0
    for _ in range(KILL_POINTS):
        # Kill points follow the search's progress, not the clock (machines differ in speed):
        # after 1 or 2 newly trained epochs, then a random part of the next epoch.
        start = _fresh_epochs(folder / "trials.json")
        target = start + rng.randint(1, 2)
        delay = rng.uniform(0.0, 1.5)
        proc = subprocess.Popen([sys.executable, "-m", "search", *args],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        deadline = time.monotonic() + 300
        while proc.poll() is None and _fresh_epochs(folder / "trials.json") < target:
            assert time.monotonic() < deadline, "the search made no progress in 5 minutes"
            time.sleep(0.05)
        time.sleep(delay)
        if proc.poll() is not None:
            break
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        kills += 1
    assert kills >= 3, "the search finished before it could be killed a few times"
    assert main(args) == 0 or json.loads((folder / "run.json").read_text())["status"] == "finished"
    trials = json.loads((folder / "trials.json").read_text())["trials"]
    assert len(trials) == 6 and len({t["id"] for t in trials}) == 6
    for t in trials:
        assert t["status"] == "completed"
        epochs = [e["epoch"] for e in t["epochs"]]
        assert epochs == sorted(set(epochs))
