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


def test_random_kill_points_then_completion(tmp_path: Path, fashion_dir: Path) -> None:
    rng = random.Random(20261123)
    args = ["run", "fashion", "--tuner", "hyperband", "--train-size", "3000", "--val-size",
            "300", "--max-epochs", "3", "--fix", "filters=16", "--no-retrain", "--data-dir",
            str(fashion_dir), "--results", str(tmp_path), "--name", "k", "--seed", "3",
            "--quiet"]  # fmt: skip
    folder = tmp_path / "fashion" / "k"
    kills = 0
    for _ in range(KILL_POINTS):
        proc = subprocess.Popen([sys.executable, "-m", "search", *args],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        # Startup (imports, data) takes a few seconds; kill anywhere after it.
        time.sleep(rng.uniform(6.0, 14.0))
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
