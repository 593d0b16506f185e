"""run.json's schema: what a run writes when it starts is the dataclass's, key for key."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from search.cli import main
from search.storage import FORMAT_VERSION, RunMeta


def test_a_new_run_writes_every_field_of_the_schema(tmp_path: Path, synthetic_fashion: Path) -> None:
    code = main([
        "run", "fashion", "--tuner", "random", "--max-trials", "1", "--max-epochs", "1",
        "--train-size", "64", "--val-size", "32", "--no-retrain", "--results", str(tmp_path),
        "--name", "s", "--data-dir", str(synthetic_fashion), "--quiet",
    ])  # fmt: skip
    assert code == 0
    meta = json.loads((tmp_path / "fashion" / "s" / "run.json").read_text())
    assert meta["format_version"] == FORMAT_VERSION
    fields = {f.name for f in dataclasses.fields(RunMeta)}
    assert fields <= set(meta)
    assert set(meta["objective"]) == {"name", "direction", "tracked"}
    assert set(meta["data"]) >= {"train", "validation", "test", "fingerprint", "class_names"}
    assert meta["status"] == "finished" and meta["best"]["trial"] == "0"
