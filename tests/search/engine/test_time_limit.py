"""``--max-search-time``: no new trial starts once the search has run that long."""

from __future__ import annotations

import io
import json
import math
import re
import time
from pathlib import Path
from typing import Any

import keras_tuner as kt
import numpy as np
import pytest
from rich.console import Console

import search
from search._text import SECONDS_PER_HOUR, duration_words, parse_duration
from search.cli import main
from search.engine import RunRequest, plan
from search.engine._progress import SearchProgress, TimeLeftColumn
from search.engine._request import GPU_SEARCH_SECONDS
from search.engine._search import earlier_search_seconds, trials_span
from search.errors import SearchError, SearchInterrupted
from search.report import describe_budget
from search.storage import RunFolder
from tests import user_models as um

MANY_TRIALS = 40
"""More trials than a search stopped by its time limit can run."""
NO_TIME = 0.001
"""A limit that has passed by the time the first trial ends."""
PROCESS_START_UP = 0.5
"""Less than any trial process takes to start: it imports Keras."""


def _run(tmp_path: Path, **options: Any) -> search.Run:
    x, y = um.tiny_data()
    settings: dict[str, Any] = {
        "tuner": "random", "max_trials": MANY_TRIALS, "max_epochs": 1,
        "results": tmp_path / "results", "name": "r", "retrain": False, "quiet": True,
    }  # fmt: skip
    settings.update(options)
    return search.run(um.build, x, y, **settings)


@pytest.mark.parametrize(
    ("raw", "seconds", "words"),
    [("90s", 90, "90 s"), ("10m", 600, "10 min"), ("1.5h", 5400, "1.5 h"), ("300", 300, "5 min"),
     ("2 min", 120, "2 min"), ("3h", 10800, "3 h"), ("0.5s", 0.5, "0.5 s"),
     ("0.001s", 0.001, "0.001 s")],
)  # fmt: skip
def test_durations_are_read_and_said(raw: str, seconds: float, words: str) -> None:
    assert parse_duration(raw) == seconds
    assert duration_words(seconds) == words


@pytest.mark.parametrize("raw", ["", "ten", "--5m", "10d", "5 m s", "5-"])
def test_a_malformed_duration_is_refused(raw: str) -> None:
    with pytest.raises(ValueError, match="is not a duration: write a number with s, m or h"):
        parse_duration(raw)


@pytest.mark.parametrize("raw", ["-5", "-5m", " - 1.5h"])
def test_a_negative_duration_is_refused_as_negative(raw: str) -> None:
    with pytest.raises(ValueError, match=f"^{re.escape(repr(raw))} is negative: give a time above 0,"):
        parse_duration(raw)


@pytest.mark.parametrize(
    ("value", "message"),
    [("10d", "--max-search-time: '10d' is not a duration: write a number with s, m or h"),
     ("-5", "--max-search-time: '-5' is negative: give a time above 0, a number with s, m or h"),
     ("0", "--max-search-time (0 s) must be more than 0 s; give e.g. 10m, or none for no limit")],
)  # fmt: skip
def test_the_cli_refuses_a_bad_limit_before_any_work(
    tmp_path: Path, capsys, value: str, message: str
) -> None:
    args = ["run", "fashion", "--tuner", "random", "--results", str(tmp_path / "results")]
    assert main([*args, "--max-search-time", value]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not (tmp_path / "results").exists()


@pytest.mark.parametrize("value", [float("nan"), -1.0, -math.inf, [10], True, "10 parsecs"])
def test_the_api_refuses_a_bad_limit(tmp_path: Path, value: Any) -> None:
    with pytest.raises(SearchError, match="max_search_time"):
        _run(tmp_path, max_search_time=value)
    assert not (tmp_path / "results").exists()


@pytest.mark.parametrize(
    ("value", "limit"),
    [(np.float32(3600.0), SECONDS_PER_HOUR), (np.int64(3600), SECONDS_PER_HOUR),
     (10**400, None)],  # more seconds than a float holds: no limit, as math.inf
)  # fmt: skip
def test_the_api_takes_numpys_numbers_and_huge_ones(
    tmp_path: Path, value: Any, limit: float | None
) -> None:
    run = _run(tmp_path, max_trials=1, max_search_time=value)
    assert run.meta["budget"]["max_search_seconds"] == limit


@pytest.mark.parametrize(
    ("budget", "options", "limit"),
    [("gpu", {}, GPU_SEARCH_SECONDS), ("gpu", {"max_trials": 5}, None), ("cpu", {}, None),
     ("cpu", {"max_search_time": 90.0}, 90.0), ("gpu", {"max_search_time": 30.0}, 30.0),
     ("gpu", {"max_search_time": math.inf}, None)],
)  # fmt: skip
def test_the_gpu_budget_limits_its_search_unless_trials_are_given(
    budget: str, options: dict[str, Any], limit: float | None
) -> None:
    p = plan(RunRequest(experiment="fashion", tuner="hyperband", budget=budget, **options))
    assert p.budget.max_search_seconds == limit


def test_no_limit_is_said_none_and_kept_so() -> None:
    assert parse_duration(" None ") == math.inf
    request = RunRequest(experiment="fashion", tuner="hyperband", max_search_time=math.inf)
    stored = request.to_json("r")
    assert stored["max_search_time"] == "none"
    json.dumps(stored, allow_nan=False)  # run.json stays plain JSON
    assert RunRequest.from_json(stored).max_search_time == math.inf


def test_the_search_stops_starting_trials_at_its_limit(tmp_path: Path, capsys) -> None:
    run = _run(tmp_path, max_search_time=NO_TIME, quiet=False)
    trials = json.loads((run.folder / "trials.json").read_text())["trials"]
    assert [t["status"] for t in trials] == ["completed"]  # the first ends, then no other starts
    meta = run.meta
    assert run.status == "finished" and meta["search_time_up"] is True
    assert meta["budget"]["max_search_seconds"] == NO_TIME
    assert meta["search_seconds"] >= round(trials[0]["seconds"], 1)  # both rounded alike
    out = capsys.readouterr().out
    assert "for at most 0.001 s" in out
    assert "the search reached its time limit (0.001 s) with 1 trial completed; no new trial starts" in out
    assert describe_budget(meta).endswith("; at most 0.001 s of search (reached)")
    assert main(["status", str(run.folder)]) == 0
    assert "at most 0.001 s of search (reached))" in capsys.readouterr().out


def test_a_limit_not_reached_changes_nothing(tmp_path: Path) -> None:
    run = _run(tmp_path, max_trials=2, max_search_time="1h")
    assert len(json.loads((run.folder / "trials.json").read_text())["trials"]) == 2
    assert run.meta["search_time_up"] is False
    assert describe_budget(run.meta).endswith("; at most 1 h of search")


def test_a_search_that_ran_every_trial_did_not_reach_its_limit(tmp_path: Path, capsys) -> None:
    run = _run(tmp_path, max_trials=1, max_search_time=NO_TIME, quiet=False)
    assert run.meta["search_time_up"] is False  # no trial was left to start
    assert "time limit" not in capsys.readouterr().out


def test_a_run_is_not_continued_with_another_limit(tmp_path: Path) -> None:
    run = _run(tmp_path, max_trials=1, max_search_time="1h")
    folder = RunFolder(run.folder)
    folder.update_meta(status="interrupted")
    with pytest.raises(SearchError, match="max_search_time 1 h -> 2 h"):
        _run(tmp_path, max_trials=1, max_search_time="2h")


def test_a_run_from_before_the_limit_records_the_one_it_goes_on_with(tmp_path: Path) -> None:
    run = _run(tmp_path, max_trials=1)
    meta = json.loads((run.folder / "run.json").read_text())
    del meta["budget"]["max_search_seconds"], meta["request"]["max_search_time"]
    meta["status"] = "interrupted"
    (run.folder / "run.json").write_text(json.dumps(meta))
    run = _run(tmp_path, max_trials=1, max_search_time="1h")
    assert run.meta["budget"]["max_search_seconds"] == SECONDS_PER_HOUR
    assert describe_budget(run.meta).endswith("; at most 1 h of search")


def test_limits_said_alike_are_told_apart_in_seconds(tmp_path: Path) -> None:
    run = _run(tmp_path, max_trials=1, max_search_time="10m")
    RunFolder(run.folder).update_meta(status="interrupted")
    with pytest.raises(SearchError, match="max_search_time 600 s -> 601 s"):
        _run(tmp_path, max_trials=1, max_search_time=601)


def test_a_continued_search_counts_its_earlier_time(tmp_path: Path) -> None:
    folder = RunFolder(tmp_path / "run")
    folder.path.mkdir()
    folder.write_meta({"search_seconds": 12.5})
    assert earlier_search_seconds(folder) == 12.5
    # A process killed before it recorded its time: the time its trials ran, at least.
    folder.write_trials([
        {"id": "0", "status": "completed", "hyperparameters": {}, "seconds": 10.0,
         "finished": "2026-01-01T00:00:10+00:00"},
        {"id": "1", "status": "completed", "hyperparameters": {}, "seconds": 10.0,
         "finished": "2026-01-01T00:00:20+00:00"},
        {"id": "2", "status": "running", "hyperparameters": {}, "seconds": None, "finished": None},
    ])  # fmt: skip
    assert earlier_search_seconds(folder) == 20.0


def test_trials_of_workers_that_overlapped_count_once(tmp_path: Path) -> None:
    """Whatever the workers are now: a run of 2 workers continued with one."""
    folder = RunFolder(tmp_path / "run")
    folder.path.mkdir()
    folder.write_meta({"search_seconds": 12.5})
    folder.write_trials([
        {"id": "0", "status": "completed", "hyperparameters": {}, "seconds": 10.0,
         "finished": "2026-01-01T00:00:10+00:00"},
        {"id": "1", "status": "completed", "hyperparameters": {}, "seconds": 10.0,
         "finished": "2026-01-01T00:00:11+00:00"},
    ])  # fmt: skip
    assert earlier_search_seconds(folder) == 12.5  # 11 s of trials, not 20
    assert trials_span(folder.read_trials()) == 11.0


def test_isolated_trials_count_their_processes_start_up(tmp_path: Path) -> None:
    """Each trial process takes the limit its run's first process set: a process that
    starts after it runs no trial but the first."""
    run = _run(tmp_path, isolate=True, max_search_time=NO_TIME)
    trials = json.loads((run.folder / "trials.json").read_text())["trials"]
    assert [t["status"] for t in trials] == ["completed"]
    assert run.meta["search_time_up"] is True
    # The search's time holds the trial's process start-up (importing Keras), not the trial alone.
    assert run.meta["search_seconds"] > trials[0]["seconds"] + PROCESS_START_UP


def test_workers_stop_at_the_limit_their_run_set(tmp_path: Path) -> None:
    run = _run(tmp_path, tuner="optuna", workers=2, max_search_time=NO_TIME)
    trials = json.loads((run.folder / "trials.json").read_text())["trials"]
    assert 1 <= len(trials) <= 2  # each process's first trial at most, not the 40 planned
    assert run.meta["search_time_up"] is True


class _StopAtSecondTrial(search.Observer):
    """Stops the search as its second trial begins, as a Ctrl-C there would."""

    def __init__(self) -> None:
        self.begun = 0

    def trial_begin(self, trial: Any) -> None:
        self.begun += 1
        if self.begun == 2:
            raise KeyboardInterrupt


def test_a_trial_stopped_before_the_limit_finishes_on_resume(tmp_path: Path, capsys) -> None:
    """A trial that was running when the run stopped is run again on resume, even once
    the limit has passed: it started before it; the run is not left with a trial running."""
    with pytest.raises(SearchInterrupted):
        _run(tmp_path, max_trials=3, max_search_time="1h", observers=[_StopAtSecondTrial()])
    folder = RunFolder(tmp_path / "results" / "build" / "r")
    assert [t["status"] for t in folder.read_trials()] == ["completed", "running"]
    folder.update_meta(search_seconds=2 * SECONDS_PER_HOUR)  # the limit passed before the resume
    run = search.resume(folder.path)
    assert [t["status"] for t in folder.read_trials()] == ["completed", "completed"]
    assert run.meta["search_time_up"] is True
    assert "for at most 1 h (0 s left)" in capsys.readouterr().out  # the resume says so


def test_status_and_list_show_a_retrained_run_without_test_data(tmp_path: Path, capsys) -> None:
    run = _run(tmp_path, max_trials=1, retrain=True, retrain_max_epochs=1, max_search_time=NO_TIME)
    assert run.meta["final"]["test_accuracy"] is None  # arrays given without test data
    assert main(["status", str(run.folder)]) == 0
    assert main(["list", "--results", str(tmp_path / "results")]) == 0
    out = capsys.readouterr().out
    assert "TEST of the retrained model: none (no test data)" in out


def test_finalists_cut_to_one_by_the_limit_are_said_so(tmp_path: Path) -> None:
    run = _run(tmp_path, finalists=2, retrain=True, retrain_max_epochs=1, max_search_time=NO_TIME)
    assert len(run.meta["final"]["finalists"]) == 1  # one trial completed in the time
    assert "chosen among 1 finalist trained on" in run.meta["best"]["rule"]


def test_the_progress_caps_the_searchs_time_left_at_its_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now)  # the clock the cap reads, held still
    progress = SearchProgress(
        Console(file=io.StringIO()), 10, 100, kt.Objective("val_accuracy", "max"),
        lambda values, epoch: 1, 3,
    )  # fmt: skip
    column = TimeLeftColumn(progress._time_cap)
    search_task, epoch_task = progress._progress.tasks
    assert column.render(search_task).plain == "-:--:--"  # no limit, no estimate yet
    progress.ends_at = now + 90.9
    assert column.render(search_task).plain == "0:01:30"
    assert column.render(epoch_task).plain == "-:--:--"  # the running epoch ends past it


def test_a_hyperband_search_that_ran_its_schedule_did_not_reach_its_limit(tmp_path: Path, capsys) -> None:
    """Hyperband plans no max_trials: its schedule's end, not the limit, ends it."""
    run = _run(tmp_path, tuner="hyperband", max_trials=None, max_epochs=1, max_search_time=NO_TIME,
               quiet=False)  # fmt: skip
    trials = json.loads((run.folder / "trials.json").read_text())["trials"]
    assert [t["status"] for t in trials] == ["completed"]  # the whole schedule: one trial
    assert run.meta["search_time_up"] is False
    assert "time limit" not in capsys.readouterr().out
