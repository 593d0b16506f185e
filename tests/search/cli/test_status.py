"""``search status`` on a run whose final step (a retrain, a finalist) is in training, or
whose workers run on."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from search.cli import main
from search.engine._pipeline import run_status
from search.errors import SearchInterrupted
from search.storage import FinalistFiles, RunLock, WorkerSlot
from tests.helpers.runs import epochs, trial, write_run


def _state(path: Path, trained: int) -> None:
    """A training state file holding ``trained`` epochs."""
    meta = np.frombuffer(json.dumps({"epochs": trained}).encode(), dtype=np.uint8)
    with path.open("wb") as file:
        np.savez(file, meta=meta)


@pytest.mark.parametrize("step", ["retrain", "finalist"])
def test_status_of_a_live_run_says_its_final_step_is_training_not_interrupted(
    step: str, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """While the run's process trains the retrain (or a finalist), status says it is in
    training; only a run no process holds was interrupted and resumes."""
    folder = write_run(tmp_path, "live", [trial("0", epochs((0.9, 0.8, 1, 1)))], "running")
    state = folder.retrain_state("0", "validated") if step == "retrain" else FinalistFiles(
        folder.path).state_file("0")
    _state(state, 2)

    with RunLock(folder.path):
        assert main(["status", str(folder.path)]) == 0
    live = capsys.readouterr().out
    assert "trial 0 training: 2 epochs done" in live, live
    assert "interrupted" not in live and "resume" not in live, live

    assert main(["status", str(folder.path)]) == 0
    stopped = capsys.readouterr().out
    assert "trial 0 interrupted after 2 epochs (resume continues it)" in stopped, stopped


@pytest.mark.parametrize("status", ["running", "failed"])
def test_best_so_far_counts_completed_trials_only(
    status: str, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """A trial killed mid-way (or failed) that had scored higher is not the best so far: it
    is run again on resume (or was discarded), and the run's choice is among completed ones."""
    done = trial("0", epochs((0.7, 0.6, 1, 1)), best={"val_accuracy": 0.6}, best_epoch=1)
    cut = trial("1", epochs((0.95, 0.9, 1, 1)), status, best={"val_accuracy": 0.9}, best_epoch=1)
    folder = write_run(tmp_path, "killed", [done, cut], "running")
    assert main(["status", str(folder.path)]) == 0
    out = capsys.readouterr().out
    assert "best so far: trial 0, val_accuracy 0.6000" in out, out


def test_status_names_the_kept_configuration_where_another_trial_had_the_best_epoch(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """Trial 0 spiked to the highest single epoch; the rule keeps trial 1 (converged). Status
    named only trial 0's configuration, as "best", and never the one to keep."""
    spike = trial("0", epochs((0.9, 0.80, 1, 1), (1.0, 0.90, 1, 1)), best={"val_accuracy": 0.9},
                  best_epoch=2, hp={"units": 64})  # fmt: skip
    steady = trial("1", epochs((0.88, 0.88, 1, 1), (0.89, 0.89, 1, 1)), best={"val_accuracy": 0.89},
                   best_epoch=2, hp={"units": 32})  # fmt: skip
    folder = write_run(tmp_path, "r", [spike, steady])
    rule = "Chose trial 1: converged val acc 0.885 (the best), gap 0.000"
    folder.update_meta(best={"trial": "1", "hyperparameters": {"units": 32}, "rule": rule})
    assert main(["status", str(folder.path)]) == 0
    out = capsys.readouterr().out
    assert "best so far: trial 0, val_accuracy 0.9000" in out, out
    assert "the run keeps trial 1, not trial 0 (by the ranking rule: converged validation" in out, out
    assert "{'units': 32}" in out, out
    folder.update_meta(budget={"max_trials": 2, "max_epochs": 2, "finalists": 2}, status="interrupted")
    assert main(["status", str(folder.path)]) == 0  # the finalists have yet to choose
    assert "the search ranks trial 1 first, not trial 0" in capsys.readouterr().out
    folder.update_meta(best={"trial": "0", "hyperparameters": {"units": 64}, "rule": "Chose trial 0"})
    assert main(["status", str(folder.path)]) == 0
    out = capsys.readouterr().out
    assert "the run keeps" not in out and "the search ranks" not in out


def test_list_shows_the_kept_trials_score_not_another_trials_best_epoch(
    tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """list's "best" was the highest single epoch of any trial (trial 0's 0.9), beside the
    test score of the model of another trial, the one the run kept."""
    monkeypatch.setenv("COLUMNS", "250")
    spike = trial("0", epochs((1.0, 0.90, 1, 1)), best={"val_accuracy": 0.9}, best_epoch=1)
    steady = trial("1", epochs((0.89, 0.89, 1, 1)), best={"val_accuracy": 0.89}, best_epoch=1)
    write_run(tmp_path, "going", [spike, steady], "interrupted")
    kept = write_run(tmp_path, "kept", [spike, steady])
    kept.update_meta(best={"trial": "1", "val_accuracy": 0.89, "rule": "Chose trial 1"})
    cut = write_run(tmp_path, "cut", [spike, steady], "interrupted")  # in its finalists
    cut.update_meta(best={"trial": "1", "val_accuracy": 0.89, "rule": "Chose trial 1"})
    assert main(["list", "--results", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "val_accuracy 0.8900 (trial 1, kept)" in out, out
    assert "val_accuracy 0.9000 (trial 0, so far)" in out, out
    assert "val_accuracy 0.8900 (trial 1, so far)" in out, out


def test_status_gives_hyperbands_budget_as_its_schedule(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """A Hyperband run's budget read "max_trials None, max_epochs 4"."""
    folder = write_run(tmp_path, "hb", [trial("0", epochs((0.9, 0.8, 1, 1)))])
    folder.update_meta(tuner="hyperband", budget={"max_trials": None, "max_epochs": 4, "factor": 2})
    assert main(["status", str(folder.path)]) == 0
    out = capsys.readouterr().out
    assert "(budget: Hyperband schedule, max_epochs 4, factor 2)" in out and "None" not in out, out
    folder.update_meta(tuner="random", budget={"max_trials": None, "max_epochs": 4})
    assert main(["status", str(folder.path)]) == 0
    assert "(budget: max_trials the backend's default, max_epochs 4)" in capsys.readouterr().out


def test_a_run_whose_trials_all_failed_has_no_best_not_none_yet(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """"best so far: none yet" promised a best to a finished run that will have none."""
    failed = [trial(str(i), epochs((0.5, 0.4, 1, 1)), "failed", failure="ValueError: bad") for i in range(3)]
    write_run(tmp_path, "ended", failed, "finished")
    write_run(tmp_path, "stopped", failed, "failed")  # resumed once its fit is fixed
    write_run(tmp_path, "going", failed[:1], "interrupted")
    said_of = {"ended": "  best: none, no trial completed\n",
               "stopped": "  best so far: none yet (no trial completed)\n",
               "going": "  best so far: none yet\n"}  # fmt: skip
    for name, said in said_of.items():
        assert main(["status", str(tmp_path / "fashion" / name)]) == 0
        assert said in capsys.readouterr().out


def test_a_trial_whose_best_score_is_null_is_not_the_best_and_status_and_list_go_on(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """A trials.json with ``"val_accuracy": null`` in a trial's best (which its check lets
    through) crashed ``status`` and ``list`` with "unexpected TypeError", exit 1."""
    done = trial("0", epochs((0.7, 0.6, 1, 1)), best={"val_accuracy": 0.6}, best_epoch=1)
    null = trial("1", epochs((0.95, 0.9, 1, 1)), best={"val_accuracy": None}, best_epoch=1)
    folder = write_run(tmp_path, "nulls", [null, done])
    assert main(["status", str(folder.path)]) == 0
    assert "best so far: trial 0, val_accuracy 0.6000" in capsys.readouterr().out
    assert main(["list", "--results", str(tmp_path)]) == 0
    assert "nulls" in capsys.readouterr().out


def test_the_commands_status_and_run_print_are_quoted_for_the_shell(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """A run under a path with a space: the resume and status commands the messages give
    can be pasted into a shell as they are."""
    root = tmp_path / "my results"
    folder = write_run(root, "cut", [trial("0", epochs((0.9, 0.8, 1, 1)))], "running")
    quoted = f"'{folder.path}'"
    assert main(["status", str(folder.path)]) == 0
    assert f"resume with: python -m search resume {quoted}\n" in capsys.readouterr().out
    args = ["run", "fashion", "--tuner", "random", "--results", str(root), "--name", "cut", "--quiet"]
    assert main([*args, "--max-trials", "5"]) == 2
    assert f"`python -m search resume {quoted}`" in capsys.readouterr().err
    folder.update_meta(status="finished")  # a kill before its report: resume writes it
    assert main(args) == 2
    assert f"`python -m search resume {quoted}`" in capsys.readouterr().err
    (folder.path / "report.json").write_text("[]")  # the report's last file: finished whole
    assert main(args) == 2
    assert f"`python -m search status {quoted}`" in capsys.readouterr().err


FINAL = {
    "trial": "0", "hyperparameters": {}, "epochs": 1, "best_epoch": 1, "train_images": 900,
    "train_unit": "images", "retrain_data": "validated", "started_from": "scratch", "max_epochs": 1,
    "kept_epoch": 1, "monitor": "val_accuracy", "val_score": 0.88, "val_accuracy": 0.88,
    "test_metrics": {"accuracy": 0.86}, "test_accuracy": 0.86, "test_images": 100,
    "model": "best_model.keras", "seconds": 3.0, "train_seconds": 2.0,
}  # fmt: skip


@pytest.mark.parametrize("command", ["status", "report"])
def test_a_finished_runs_deleted_model_is_named_with_the_fix(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    folder = write_run(tmp_path, "done", [trial("0", epochs((0.9, 0.8, 1, 1)))])
    folder.update_meta(final=FINAL)
    folder.model_file.write_bytes(b"kept")
    assert main([command, str(folder.path)]) == 0
    assert "missing" not in capsys.readouterr().out

    folder.model_file.unlink()
    assert main([command, str(folder.path)]) == 0
    out = capsys.readouterr().out
    assert (
        f"final model {folder.model_file}: missing (deleted or moved); restore it, or retrain the"
        f" chosen configuration into {folder.path / 'export.keras'} with"
        f" `python -m search export {folder.path}`"
    ) in out, out


def test_the_newest_run_is_the_last_created_not_the_last_written(tmp_path: Path, capsys) -> None:
    """An export of an older run writes its run.json: status, report, resume and export
    without a run then took that run for the newest."""
    older = write_run(tmp_path, "older", [trial("0", epochs((0.9, 0.8, 1, 1)))])
    newer = write_run(tmp_path, "newer", [trial("0", epochs((0.9, 0.8, 1, 1)))], "interrupted")
    older.update_meta(created="2026-01-01T00:00:00+00:00")
    newer.update_meta(created="2026-01-02T00:00:00+00:00")
    older.update_meta(exports=[])  # written last, as an export writes it
    assert main(["status", "--results", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "newer" in out and "older" not in out, out


def test_status_lists_the_live_workers_and_waits_for_them_before_a_resume(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """After a kill -9 of the run's process a worker it started trains on; status said only
    "stopped" and advised a resume, which would have started a worker on its folder."""
    folder = write_run(tmp_path, "orphans", [trial("0", epochs((0.9, 0.8, 1, 1)))], "running")
    with WorkerSlot(folder.path, 2):
        assert main(["status", str(folder.path)]) == 0
        out = capsys.readouterr().out
    assert f"  workers running: 2 (PID {os.getpid()})\n" in out
    assert "ended unannounced; once its workers end (or you stop them), resume with:" in out
    assert main(["status", str(folder.path)]) == 0
    out = capsys.readouterr().out
    assert "workers running" not in out and "ended unannounced; resume with:" in out


def test_the_searchs_first_is_not_called_the_choice_while_finalists_train(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """Status printed "Chose trial 1" before the finalists had chosen, which may be another."""
    folder = write_run(tmp_path, "f", [trial("0", epochs((0.9, 0.8, 1, 1))),
                                       trial("1", epochs((0.95, 0.9, 1, 1)))], "interrupted")  # fmt: skip
    meta = folder.read_meta()
    rule = "Chose trial 1: converged val acc 0.900 (best 0.900), gap 0.050."
    budget = {**meta["budget"], "finalists": 2}
    folder.write_meta({**meta, "budget": budget, "best": {"trial": "1", "rule": rule}})
    assert main(["status", str(folder.path)]) == 0
    out = capsys.readouterr().out
    assert "Chose" not in out, out
    assert ("In the search, trial 1 ranked first: converged val acc 0.900 (best 0.900), gap 0.050; the"
            " finalists choose at full fidelity.") in " ".join(out.split()), out  # fmt: skip
    folder.write_meta({**folder.read_meta(), "budget": {**meta["budget"], "finalists": 1}})
    assert main(["status", str(folder.path)]) == 0
    assert rule in " ".join(capsys.readouterr().out.split())  # one finalist: the search's choice is the run's


def test_a_moved_runs_stop_reason_names_where_it_lies_now(tmp_path: Path, capsys) -> None:
    """A run copied or moved after Ctrl-C (which the README says resumes where it lies) was
    told, by status and its report, to resume the folder it stopped in: the old place, gone
    or another run."""
    was = write_run(tmp_path / "was", "r", [trial("0", epochs((0.9, 0.8, 1, 1)))], "interrupted")
    stopped = "SIGINT: stopped after 1 trial; resume with: python -m search resume"
    was.update_meta(name="r", request={"results": str(tmp_path / "was")},
                    reason=f"{stopped} {was.path}")  # fmt: skip
    now = tmp_path / "now 1" / "fashion" / "r"
    now.parent.mkdir(parents=True)
    was.path.rename(now)
    assert main(["status", str(now)]) == 0
    out = capsys.readouterr().out
    assert f"  interrupted: {stopped} '{now}'\n" in out, out
    assert main(["report", str(now), "--quiet"]) == 0
    page = (now / "report.html").read_text()
    assert f"{stopped} &#x27;{now}&#x27;" in page and str(was.path) not in page


def test_a_moved_runs_stop_reason_is_found_by_the_folder_it_stopped_in(tmp_path: Path, capsys) -> None:
    """A run started with `--results results` and resumed as `/abs/results/fashion/r` (its
    reason names that folder; run.json's request keeps the first start's `results`) was
    rebuilt at the relative path once moved: status named the old folder."""
    was = write_run(tmp_path / "was", "r", [trial("0", epochs((0.9, 0.8, 1, 1)))], "interrupted")
    with pytest.raises(SearchInterrupted), run_status(was):
        raise SearchInterrupted(f"stopped after 1 trial; resume with: python -m search resume {was.path}", 2)
    assert was.read_meta()["stopped_in"] == str(was.path)
    was.update_meta(name="r", request={"results": "results"})
    now = tmp_path / "now" / "fashion" / "r"
    now.parent.mkdir(parents=True)
    was.path.rename(now)
    assert main(["status", str(now)]) == 0
    out = capsys.readouterr().out
    said = "SIGINT: stopped after 1 trial; resume with: python -m search resume"
    assert f"  interrupted: {said} {now}\n" in out, out


def test_a_run_named_under_an_experiments_folder_given_as_results_says_which_root(
    tmp_path: Path, capsys
) -> None:
    """`status r --results RESULTS/fashion` said 'r: no such run folder, nor a run of that
    name under RESULTS/fashion', though r is there: the root was one level too deep."""
    write_run(tmp_path, "r", [trial("0", epochs((0.9, 0.8, 1, 1)))])
    experiment = tmp_path / "fashion"
    assert main(["status", "r", "--results", str(experiment)]) == 2
    assert capsys.readouterr().err == (
        f"error: --results {experiment}: is an experiment's folder, not a results root; pass {tmp_path}\n"
    )


def test_status_says_the_finalists_chose_the_kept_configuration(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """Where the finalists chose trial 1 at full fidelity, status said it was "judged on
    converged epochs, not one epoch", which is how the search ranks, not how they chose."""
    spike = trial("0", epochs((0.9, 0.80, 1, 1), (1.0, 0.90, 1, 1)), best={"val_accuracy": 0.9},
                  best_epoch=2, hp={"units": 64})  # fmt: skip
    steady = trial("1", epochs((0.88, 0.88, 1, 1), (0.89, 0.89, 1, 1)), best={"val_accuracy": 0.89},
                   best_epoch=2, hp={"units": 32})  # fmt: skip
    folder = write_run(tmp_path, "r", [spike, steady])
    folder.update_meta(
        budget={"max_trials": 2, "max_epochs": 2, "finalists": 2},
        best={"trial": "1", "hyperparameters": {"units": 32}, "search_choice": "0",
              "rule": "Chose trial 1 among 2 finalists."},
        final={"trial": "1", "epochs": 2, "train_images": 100, "test_accuracy": 0.9,
               "finalists": [{"trial": "0"}, {"trial": "1"}]},
    )  # fmt: skip
    assert main(["status", str(folder.path)]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "the run keeps trial 1, not trial 0 (chosen by the finalists at full fidelity)" in out, out
    assert "converged" not in out.split("the run keeps")[1].split(":")[0]
