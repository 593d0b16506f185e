"""The plan of a run: what a resumed run takes from its folder."""

from __future__ import annotations

from pathlib import Path

from search.engine import RunRequest
from search.engine._plan import plan
from search.storage import RunFolder


def test_a_renamed_optuna_run_keeps_the_study_its_run_json_names(tmp_path: Path) -> None:
    """A run folder copied or moved under another name resumes its own study (run.json's
    ``optuna.study``), not a new empty one named after the folder, which would train trial 0
    again and stop the run."""
    folder = RunFolder(tmp_path / "fashion" / "renamed")
    folder.path.mkdir(parents=True)
    folder.write_meta({"experiment": "fashion", "tuner": "optuna", "status": "interrupted",
                       "optuna": {"study": "fashion-original", "storage": "optuna.journal"}})  # fmt: skip
    request = RunRequest(experiment="fashion", tuner="optuna", results=tmp_path, name="renamed")
    assert plan(request).options.study_name == "fashion-original"
    fresh = RunRequest(experiment="fashion", tuner="optuna", results=tmp_path, name="new")
    assert plan(fresh).options.study_name == "fashion-new"
