"""Benchmarks that a test runs in their smoke mode, so that they stay ready to run."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT


def test_search_gain_smoke(tmp_path: Path, fashion_dir: Path) -> None:
    out = tmp_path / "gain.csv"
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "search_gain.py"), "--smoke", "--tuners",
         "hyperband", "--seeds", "0", "--csv", str(out), "--data-dir", str(fashion_dir)],
        capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == 1 and rows[0]["tuner"] == "hyperband"
    row = rows[0]
    assert abs(float(row["gain"]) - (float(row["test_chosen"]) - float(row["test_baseline"]))) < 1e-3
    assert (row["baseline_chosen"] == "True") == (float(row["baseline_seconds"]) == 0.0)
    assert "hyperband 1x: median gain" in done.stdout
