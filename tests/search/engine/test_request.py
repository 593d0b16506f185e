"""The objective's direction: inferred as KerasTuner does, where KerasTuner knows it."""

from __future__ import annotations

import errno
from pathlib import Path
from typing import Any

import pytest

import search
import search.api
from search.cli import main
from search.engine import STORAGE_ENV, RunRequest, stored_request
from search.engine._request import infer_direction
from search.errors import SearchError
from search.storage import RunFolder
from search.storage import _writable as writable
from tests import user_models as um
from tests.helpers.runs import epochs, optuna_run, read_only, trial, write_run

HIGHER_IS_BETTER = (
    "val_r2_score", "val_f1_score", "val_fbeta_score", "val_iou", "val_mean_iou", "val_binary_iou",
    "val_one_hot_iou", "val_one_hot_mean_iou", "val_io_u", "val_mean_io_u", "val_binary_io_u",
    "val_one_hot_io_u", "val_one_hot_mean_io_u", "val_cosine_similarity", "val_pearson_correlation",
    "val_concordance_correlation", "val_precision_at_recall", "val_recall_at_precision",
    "val_sensitivity_at_specificity", "val_specificity_at_sensitivity",
)  # fmt: skip


@pytest.mark.parametrize("metric", HIGHER_IS_BETTER)
def test_a_keras_metric_that_grows_as_the_model_improves_is_maximized(metric: str) -> None:
    assert infer_direction(metric) == "max"
    request = RunRequest(experiment="fashion", tuner="random", objective=metric)
    assert request.kt_objective().direction == "max"


@pytest.mark.parametrize(
    ("metric", "direction"),
    [("val_mean_absolute_error", "min"), ("val_loss", "min"), ("val_auc", "max"),
     ("val_root_mean_squared_error", "min"), ("val_fancy_thing", None)],
)  # fmt: skip
def test_other_directions_are_keras_tuners(metric: str, direction: str | None) -> None:
    assert infer_direction(metric) == direction

LOSSES = ["val_loss", "val_mean_absolute_error", "val_mse", "val_binary_crossentropy"]


@pytest.mark.parametrize("metric", LOSSES)
def test_an_error_or_a_loss_to_maximize_is_refused(metric: str) -> None:
    with pytest.raises(SearchError, match=rf"^objective {metric}:max would choose the worst model"):
        RunRequest(experiment="fashion", tuner="random", objective=metric, direction="max").check()
    RunRequest(experiment="fashion", tuner="random", objective=metric, direction="min").check()


@pytest.mark.parametrize("metric", ["val_neg_mean_squared_error", "val_negative_log_cosh"])
def test_a_negated_error_may_be_maximized(metric: str) -> None:
    request = RunRequest(experiment="fashion", tuner="random", objective=metric, direction="max")
    request.check()
    assert request.kt_objective().direction == "max"


@pytest.mark.parametrize("metric", ["val_accuracy", "val_auc", "val_f1_score", "val_precision"])
def test_a_score_to_minimize_is_refused(metric: str) -> None:
    """A metric that grows as the model improves, given min, would choose the worst model
    (and the accuracy rule would still choose the best by val_accuracy: two directions)."""
    with pytest.raises(SearchError, match=rf"^objective {metric}:min would choose the worst model, the one"
                       rf" whose {metric} is the smallest; maximize it: .*Objective\('{metric}', 'max'\)"):
        RunRequest(experiment="fashion", tuner="random", objective=metric, direction="min").check()
    RunRequest(experiment="fashion", tuner="random", objective=metric, direction="max").check()
    RunRequest(experiment="fashion", tuner="random", objective="val_fancy_thing", direction="min").check()


def test_warm_start_given_a_file_points_at_a_run_folder(tmp_path, monkeypatch) -> None:
    """A run's own file (run.json) points at its folder; any other file at the form a run
    folder takes, not at the folder the file lies in (``.``), which holds no run."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes.txt").write_text("")
    request = RunRequest(experiment="fashion", tuner="random", warm_start=("notes.txt",))
    with pytest.raises(SearchError) as caught:
        request.check()
    assert str(caught.value) == (
        "warm_start notes.txt: a file, not a run folder; give a run's folder, results/EXPERIMENT/RUN")
    run = tmp_path / "fashion" / "a"
    run.mkdir(parents=True)
    (run / "run.json").write_text("{}")
    request = RunRequest(experiment="fashion", tuner="random", warm_start=(str(run / "run.json"),))
    with pytest.raises(SearchError) as caught:
        request.check()
    expected = f"warm_start {run / 'run.json'}: a file, not a run folder; give its folder, {run}"
    assert str(caught.value) == expected


@pytest.mark.parametrize("trials", [10**6 + 1, 10**12, 99999999999999999999, 10**300])
def test_more_trials_than_any_search_runs_are_refused(trials: int) -> None:
    """KerasTuner names a trial's folder with as many digits as the cap has: 10**300 made a
    name too long for the file system, after the search had started."""
    request = RunRequest(experiment="fashion", tuner="random", max_trials=trials)
    refused = rf"^max_trials \({trials}\) must be at most 1000000; .*max_search_time"
    with pytest.raises(SearchError, match=refused):
        request.check()


def test_a_million_trials_are_taken() -> None:
    RunRequest(experiment="fashion", tuner="random", max_trials=10**6).check()
def test_resuming_a_read_only_run_names_the_run_folder_not_the_results_root(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not '--results ROOT: cannot write ...; give a --results folder': resume is given the
    run, which is what to make writable or copy elsewhere; on a read-only file system, where
    chmod cannot help (it was told to chmod), by remounting it."""
    folder = write_run(tmp_path, "r1", [trial("0", epochs((0.9, 0.8, 1, 1)))], status="interrupted")
    read_only(monkeypatch, folder.path)
    assert main(["resume", str(folder.path)]) == 2
    err = capsys.readouterr().err
    assert err == (
        f"error: run folder {folder.path}: cannot write in {folder.path} (Read-only file system);"
        " remount its file system writable, or copy it into a folder named fashion"
        " that you can write to and resume it there\n"
    )
    monkeypatch.setattr(writable.tempfile, "TemporaryFile", _denied)
    assert main(["resume", str(folder.path)]) == 2
    assert capsys.readouterr().err == (
        f"error: run folder {folder.path}: cannot write in {folder.path} (Permission denied);"
        f" make it writable (chmod -R u+w {folder.path}), or copy it into a folder named fashion"
        " that you can write to and resume it there\n"
    )


def _denied(*args: Any, **kwargs: Any) -> Any:
    raise OSError(errno.EACCES, "Permission denied")


def _optuna_run(root: Path, storage: str | None, status: str = "interrupted") -> RunFolder:
    return optuna_run(root, "o", status, storage)


def test_resuming_a_journal_run_in_a_database_is_refused_before_any_work(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """It exited 0, the search moved into a new study there, the journal's trial left running."""
    folder = _optuna_run(tmp_path, None)
    before = folder.run_file.read_bytes()
    url = "postgresql+psycopg://u:secret@127.0.0.1:9/study"
    assert main(["resume", str(folder.path), "--storage", url]) == 2
    assert capsys.readouterr().err == (
        "error: --storage postgresql+psycopg://u:***@127.0.0.1:9/study: the run"
        f" {folder.path} keeps its Optuna study in its journal file {folder.path}/optuna.journal,"
        " not there; leave out --storage to continue it (start a new run with another --name to"
        " search in another storage)\n"
    )
    assert folder.run_file.read_bytes() == before


def test_resuming_a_database_run_in_another_database_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """It trained, then failed the run advising a new --name (trial 0 'already completed')."""
    folder = _optuna_run(tmp_path, "postgresql+psycopg://u:secret@127.0.0.1:9/pk")
    other = "postgresql+psycopg://u:secret@127.0.0.1:9/other"
    assert main(["resume", str(folder.path), "--storage", other]) == 2
    assert capsys.readouterr().err == (
        "error: --storage postgresql+psycopg://u:***@127.0.0.1:9/other: the run"
        f" {folder.path} keeps its Optuna study in postgresql+psycopg://u:***@127.0.0.1:9/pk,"
        " not there; give --storage that URL, with its password to continue it (start a new run"
        " with another --name to search in another storage)\n"
    )
    same = "postgresql+psycopg://u:secret@127.0.0.1:9/pk"
    assert stored_request(folder, same).storage == same  # the password run.json does not keep


def test_a_database_in_the_environment_for_a_journal_run_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = _optuna_run(tmp_path, None)
    monkeypatch.setenv(STORAGE_ENV, "sqlite:////tmp/x.db")
    with pytest.raises(SearchError, match=r"^\$SEARCH_OPTUNA_STORAGE sqlite:////tmp/x.db: .*; unset"):
        stored_request(folder)


def test_a_relative_sqlite_storage_is_the_file_the_run_began_with_from_any_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """run.json kept `sqlite:///study.db`: a resume from another folder opened a new, empty
    study there and searched again from the start."""
    began, elsewhere = tmp_path / "began", tmp_path / "elsewhere"
    began.mkdir(), elsewhere.mkdir()
    monkeypatch.chdir(began)
    run = search.run(um.build, *um.tiny_data(), tuner="optuna", max_trials=1, max_epochs=1,
                     storage="sqlite:///study.db", results=tmp_path, name="s", quiet=True)  # fmt: skip
    kept = f"sqlite:///{began}/study.db"
    assert run.meta["request"]["storage"] == kept
    folder = RunFolder(run.folder)
    folder.update_meta(status="interrupted")
    monkeypatch.chdir(elsewhere)
    assert stored_request(folder).storage == kept
    with pytest.raises(SearchError, match="keeps its Optuna study in sqlite:///"):
        stored_request(folder, storage="sqlite:///study.db")  # the same words, another file


def _script_gone(tmp_path: Path) -> tuple[Path, Path, str]:
    """An interrupted run on arrays whose build's script was moved away: its folder, the
    script and what run.json imports from it."""
    x, y = um.tiny_data()
    run = search.run(um.build, x, y, tuner="random", max_trials=1, max_epochs=1, results=tmp_path,
                     name="rows", retrain=False, quiet=True)  # fmt: skip
    script = tmp_path / "mymod.py"
    target = f"{script}:build"
    request = {**run.meta["request"], "hypermodel": {"target": target, "args": None}}
    RunFolder(run.folder).update_meta(request=request, status="interrupted")
    return run.folder, script, target


def test_resuming_a_run_whose_script_is_gone_names_it_not_an_option(tmp_path: Path, capsys) -> None:
    """It said 'SCRIPT: no such file; give the path of a Python file (file.py:NAME)', which
    resume does not take."""
    folder, script, target = _script_gone(tmp_path)
    capsys.readouterr()
    assert main(["resume", str(folder)]) == 2
    assert capsys.readouterr().err == (
        f"error: {folder}: its code {script} is gone (run.json imports {target} from it);"
        " put the file back there: resume builds the run's model with it\n"
    )


def test_resuming_from_python_with_the_hypermodel_needs_no_script(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The hypermodel passed is used, not the script: its absence is not refused."""
    folder, _, _ = _script_gone(tmp_path)
    continued: list[RunRequest] = []
    monkeypatch.setattr(search.api, "_execute", lambda request, *args: continued.append(request))
    search.resume(folder, hypermodel=um.build, quiet=True)
    assert [request.name for request in continued] == ["rows"]
    with pytest.raises(SearchError, match="its code .* is gone"):
        search.resume(folder, quiet=True)
