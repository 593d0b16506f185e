"""Report data functions on hand-made trials, with exact numbers; figures smoke-tested."""

from __future__ import annotations

import errno
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import search
from search.cli import main
from search.errors import SearchError
from search.ranking import ValueChoice
from search.report import (
    against_baseline,
    best_so_far,
    choose,
    converged_metrics,
    distributions,
    finalists_pending,
    full_history,
    importance_inputs,
    kept_trial,
    load_report,
    overfitting,
    pareto_mask,
    rank_trials,
    report_lines,
    trials_table,
    write_report,
)
from search.report._data import baseline_line
from search.report._figures import (
    accuracy_vs_gap_plot,
    best_so_far_plot,
    importance_plot,
    learning_curves_plot,
    parallel_coordinates_plot,
    retrain_plot,
    slice_plot,
)
from search.report._html import render_run
from search.storage import RunFolder
from tests.helpers.runs import SPACE, epochs, read_only, trial, write_run


def test_converged_metrics_average_up_to_the_best_epoch() -> None:
    eps = epochs(
        (0.5, 0.40, 1.0, 1.2), (0.7, 0.60, 0.8, 0.9), (0.8, 0.70, 0.6, 0.8),
        (0.9, 0.80, 0.4, 0.7), (0.95, 0.75, 0.3, 0.9),
    )  # fmt: skip
    m = converged_metrics(eps, k=3)
    assert m["best_epoch"] == 4 and m["best_val_accuracy"] == 0.80
    assert m["converged_val_accuracy"] == pytest.approx((0.6 + 0.7 + 0.8) / 3)
    assert m["converged_train_accuracy"] == pytest.approx((0.7 + 0.8 + 0.9) / 3)
    assert m["gap_accuracy"] == pytest.approx(0.1)
    assert m["gap_loss"] == pytest.approx((0.8 + 0.6 + 0.4) / 3 - (0.9 + 0.8 + 0.7) / 3)


def test_converged_metrics_ties_nan_and_short_histories() -> None:
    eps = epochs((0.6, 0.7, 1, 1), (0.8, 0.7, 1, 1), (0.9, float("nan"), 1, 1))
    m = converged_metrics(eps, k=3)
    assert m["best_epoch"] == 1  # ties go to the earlier epoch; NaN epochs are skipped
    assert m["converged_val_accuracy"] == pytest.approx(0.7)
    assert m["gap_accuracy"] == pytest.approx(-0.1)
    empty = converged_metrics([], k=3)
    assert all(math.isnan(v) for v in empty.values())
    nan_only = converged_metrics(epochs((0.5, float("nan"), 1, float("nan"))), k=3)
    assert math.isnan(nan_only["converged_val_accuracy"])


def test_full_history_prepends_the_continued_trial() -> None:
    parent = trial("a", epochs((0.5, 0.5, 1, 1), (0.6, 0.6, 1, 1)))
    child_eps = [{"epoch": 3, "accuracy": 0.7, "val_accuracy": 0.7, "loss": 1, "val_loss": 1}]
    child = trial("b", child_eps, continues="a")
    history = full_history(child, {"a": parent, "b": child})
    assert [e["epoch"] for e in history] == [1, 2, 3]


def _ranked_fixture() -> pd.DataFrame:
    trials = [
        trial("0", epochs((0.99, 0.920, 1, 1))),   # best accuracy, big gap 0.070
        trial("1", epochs((0.93, 0.917, 1, 1))),   # within 0.005, gap 0.013
        trial("2", epochs((0.92, 0.916, 1, 1))),   # within 0.005, gap 0.004 -> chosen
        trial("3", epochs((0.90, 0.900, 1, 1))),   # outside tolerance, gap 0
        trial("4", epochs((0.95, 0.910, 1, 1))),   # outside tolerance
        trial("5", [], status="failed", failure="FloatingPointError: loss became nan"),
        trial("6", epochs((0.93, 0.917, 1, 1))),   # tie with 1: earlier trial first
    ]  # fmt: skip
    return rank_trials(trials_table(trials, converged_epochs=3), tolerance=0.005)


def test_rank_within_tolerance_by_gap_then_rest_by_accuracy() -> None:
    ranked = _ranked_fixture()
    assert list(ranked["trial"]) == ["2", "1", "6", "0", "4", "3", "5"]
    assert ranked["rank"].tolist()[:6] == [1, 2, 3, 4, 5, 6]
    assert math.isnan(ranked["rank"].iloc[6])
    assert ranked.set_index("trial")["within_tolerance"].to_dict() == {
        "2": True, "1": True, "6": True, "0": True, "4": False, "3": False, "5": False,
    }  # fmt: skip


def test_choice_sentence_names_trial_accuracy_and_gaps() -> None:
    choice = choose(_ranked_fixture())
    assert choice is not None and choice.trial == "2" and choice.best_trial == "0"
    assert choice.sentence() == (
        "Chose trial 2: converged val acc 0.916 (best 0.920), gap 0.004 vs 0.070"
    )


def test_a_negative_gap_is_no_merit() -> None:
    """Train below validation (dropout, augmentation) counts as no overfitting, not less."""
    trials = [
        trial("0", epochs((0.840, 0.866, 1, 1))),  # gap -0.026: underfit, not better
        trial("1", epochs((0.857, 0.867, 1, 1))),  # gap -0.010, more accurate -> chosen
        trial("2", epochs((0.875, 0.868, 1, 1))),  # gap +0.007: overfits
    ]  # fmt: skip
    ranked = rank_trials(trials_table(trials, converged_epochs=1), tolerance=0.005)
    assert list(ranked["trial"]) == ["1", "0", "2"]


def test_choice_against_the_baseline() -> None:
    trials = [
        trial("0", epochs((0.90, 0.850, 1, 1)), baseline=True),   # the defaults, 1 epoch
        trial("1", epochs((0.93, 0.917, 1, 1))),                  # chosen
        trial("2", epochs((0.88, 0.850, 1, 1), (0.90, 0.870, 1, 1), (0.91, 0.880, 1, 1)),
              baseline=True, continues="0"),                      # the defaults, continued
    ]  # fmt: skip
    ranked = rank_trials(trials_table(trials, converged_epochs=1), tolerance=0.005)
    choice = choose(ranked, 0.005)
    assert choice is not None and choice.trial == "1"
    assert against_baseline(ranked, choice) == (
        "Against the baseline in the search (the space's defaults, trial 2): converged val acc"
        " +0.037 (0.880 -> 0.917), gap -0.017 (0.030 -> 0.013)."
    )
    won = rank_trials(trials_table(trials[:1] + trials[2:], converged_epochs=1), 0.005)
    assert against_baseline(won, choose(won, 0.005)).startswith(
        "The baseline (the space's defaults, trial 2) was chosen"
    )
    unmarked = [{k: v for k, v in t.items() if k != "baseline"} for t in trials]
    plain = rank_trials(trials_table(unmarked, converged_epochs=1), 0.005)
    assert against_baseline(plain, choose(plain, 0.005)) is None  # --no-baseline


def test_the_rule_may_choose_a_shorter_run_of_the_baseline() -> None:
    """Hyperband ran the defaults twice; the rule chose the shorter run (within the
    tolerance, less overfitting): the baseline lines speak of that run, not the other."""
    trials = [
        trial("0", epochs((0.850, 0.850, 1, 1)), baseline=True),   # chosen: gap 0
        trial("1", epochs((0.800, 0.800, 1, 1)), hp={"lr": 0.01}),
        trial("2", epochs((0.900, 0.853, 1, 1)), baseline=True, continues="0"),  # gap 0.047
    ]  # fmt: skip
    ranked = rank_trials(trials_table(trials, converged_epochs=1), tolerance=0.005)
    choice = choose(ranked, 0.005)
    assert choice is not None and choice.trial == "0"
    assert against_baseline(ranked, choice) == (
        "The baseline (the space's defaults, trial 0) was chosen: no sampled configuration"
        " beat it by the rule (val acc 0.850, gap 0.000)."
    )
    final = {"trial": "1", "gain_over_baseline": 0.01, "finalists": [
        {"trial": "0", "baseline": True, "val_score": 0.90},
        {"trial": "1", "baseline": False, "val_score": 0.91},
    ]}  # fmt: skip
    assert baseline_line(ranked, choice, final) == (
        "The baseline (the space's defaults, trial 0) ranked first in the search (val acc"
        " 0.850, gap 0.000); the finalists chose trial 1 (0.0100 better in val accuracy than the"
        " baseline's finalist, trial 0)."
    )


def test_a_baseline_that_ran_alone_is_not_said_to_have_beaten_anything() -> None:
    """A search that completed only the baseline (a tiny --max-search-time, --max-trials 1)
    compared it with nothing: the report says so, not that no sampled one beat it."""
    alone = [trial("0", epochs((0.90, 0.850, 1, 1)), baseline=True)]
    ranked = rank_trials(trials_table(alone, converged_epochs=1), 0.005)
    assert against_baseline(ranked, choose(ranked, 0.005)) == (
        "The baseline (the space's defaults, trial 0) was chosen: no sampled configuration"
        " completed to compare it with (val acc 0.850, gap 0.050)."
    )
    beaten = [*alone, trial("1", epochs((0.80, 0.800, 1, 1)))]
    ranked = rank_trials(trials_table(beaten, converged_epochs=1), 0.005)
    assert "no sampled configuration beat it by the rule" in against_baseline(ranked, choose(ranked, 0.005))


def test_pareto_front() -> None:
    acc = np.array([0.92, 0.917, 0.916, 0.90, 0.91, np.nan, 0.917])
    gap = np.array([0.07, 0.013, 0.004, 0.0, 0.04, np.nan, 0.013])
    assert pareto_mask(acc, gap).tolist() == [True, True, True, True, False, False, True]


def test_a_negative_gap_is_no_merit_on_the_pareto_front() -> None:
    # Both underfit trials overfit by 0: the more accurate one dominates the other.
    acc = np.array([0.90, 0.91, 0.92])
    gap = np.array([-0.03, -0.01, 0.02])
    assert pareto_mask(acc, gap).tolist() == [False, True, True]
    assert overfitting(-0.03) == 0.0 and overfitting(0.02) == 0.02


def test_only_failed_trials() -> None:
    trials = [trial("0", [], status="failed", failure="boom"), trial("1", [], status="failed")]
    ranked = rank_trials(trials_table(trials))
    assert ranked["rank"].isna().all() and not ranked["pareto"].any()
    assert choose(ranked) is None
    assert ranked["reason"][0] == "boom" and pd.isna(ranked["reason"][1])


def test_test_accuracy_only_on_the_retrained_trial() -> None:
    trials = [trial("0", epochs((0.9, 0.8, 1, 1))), trial("1", epochs((0.9, 0.85, 1, 1)))]
    table = trials_table(trials, final={"trial": "1", "test_accuracy": 0.88})
    assert math.isnan(table["test_accuracy"][0]) and table["test_accuracy"][1] == 0.88


def test_best_so_far_by_trials_and_minutes() -> None:
    trials = [
        trial("0", epochs((0.9, 0.80, 1, 1)), finished="2026-01-01T00:02:00+00:00"),
        trial("1", epochs((0.9, 0.70, 1, 1)), finished="2026-01-01T00:05:00+00:00"),
        trial("2", epochs((0.9, 0.85, 1, 1)), finished="2026-01-01T00:09:00+00:00"),
    ]
    frame = best_so_far(trials_table(trials), "2026-01-01T00:00:00+00:00")
    assert frame["n"].tolist() == [1, 2, 3]
    assert frame["minutes"].tolist() == [2.0, 5.0, 9.0]
    assert frame["best"].tolist() == [0.80, 0.80, 0.85]


def test_best_so_far_counts_only_completed_trials() -> None:
    trials = [
        trial("0", epochs((0.9, 0.80, 1, 1)), finished="2026-01-01T00:02:00+00:00"),
        trial("1", epochs((0.95, 0.90, 1, 1)), status="pruned", finished="2026-01-01T00:03:00+00:00"),
        trial("2", epochs((0.9, 0.88, 1, 1)), status="failed", finished="2026-01-01T00:04:00+00:00"),
        trial("3", epochs((0.9, 0.85, 1, 1)), finished="2026-01-01T00:05:00+00:00"),
    ]  # fmt: skip
    frame = best_so_far(rank_trials(trials_table(trials)), "2026-01-01T00:00:00+00:00")
    assert frame["n"].tolist() == [1, 2, 3, 4]  # every finished trial counts as one
    assert frame["best"].tolist() == [0.80, 0.80, 0.80, 0.85]  # never above the ranked best


def test_accuracy_vs_gap_shows_unranked_trials_apart_from_the_front() -> None:
    """A pruned trial's partial epochs plotted as one of the "trials" sat above the Pareto
    front (which leaves it out), as if the front were wrong."""
    trials = [
        trial("0", epochs((0.9, 0.80, 1, 1))),
        trial("1", epochs((0.95, 0.95, 1, 1)), status="pruned"),
    ]
    fig = accuracy_vs_gap_plot(rank_trials(trials_table(trials)))
    by_name = {t.name: t for t in fig.data}
    assert list(by_name["trials"].text) == ["trial 0"]
    assert list(by_name["not ranked (not completed)"].text) == ["trial 1 (pruned)"]
    assert list(by_name["Pareto front"].text) == ["trial 0"]
    only = accuracy_vs_gap_plot(rank_trials(trials_table(trials[:1])))
    assert [t.name for t in only.data] == ["trials", "Pareto front"]


def test_importance_inputs_translate_the_space() -> None:
    dists = distributions(SPACE)
    assert set(dists) == {"learning_rate", "units", "augment", "mode"}
    assert dists["learning_rate"].log and dists["units"].step == 32
    rng = np.random.default_rng(0)
    trials = []
    for i in range(8):
        lr = float(10 ** rng.uniform(-4, -1))
        hp = {"learning_rate": lr, "units": 32 * (1 + i % 4), "augment": bool(i % 2),
              "mode": "ab"[i % 2], "fixed": 3}  # fmt: skip
        trials.append(trial(str(i), epochs((0.9, 0.5 + 0.1 * math.log10(lr), 1, 1)), hp=hp))
    trials.append(trial("x", [], status="failed", hp={"learning_rate": 0.01}))
    table = rank_trials(trials_table(trials))
    frozen = importance_inputs(table, SPACE, "converged_val_accuracy")
    assert len(frozen) == 8
    assert set(frozen[0].params) == {"learning_rate", "units", "augment", "mode"}
    from search.report import param_importances

    importances = param_importances(table, SPACE, "converged_val_accuracy")
    assert max(importances, key=importances.get) == "learning_rate"
    assert sum(importances.values()) == pytest.approx(1.0)


def test_figures_smoke() -> None:
    ranked = _ranked_fixture()
    curves = {"0": epochs((0.5, 0.4, 1, 1), (0.9, 0.8, 1, 1)), "1": epochs((0.6, 0.5, 1, 1))}
    figures = [
        learning_curves_plot(curves, ["0"]),
        accuracy_vs_gap_plot(ranked),
        parallel_coordinates_plot(ranked),
        importance_plot({"learning_rate": 0.7, "units": 0.3}),
        best_so_far_plot({"run": pd.DataFrame({"n": [1, 2], "minutes": [1.0, 2.0],
                                                "best": [0.5, 0.6]})}, "minutes"),
    ]
    for fig in figures:
        assert fig.to_dict()["data"]
    front = figures[1].data[1]
    assert sorted(front.text) == sorted(f"trial {t}" for t in ["0", "1", "2", "3", "6"])
    table = trials_table([trial("0", epochs((0.9, 0.8, 1, 1)), hp={"lr": 0.01}),
                          trial("1", epochs((0.9, 0.7, 1, 1)), hp={"lr": 0.1})])  # fmt: skip
    assert slice_plot(table, "lr", log=True).layout.xaxis.type == "log"


def test_report_files_and_cli(tmp_path: Path, capsys) -> None:
    trials = [trial(str(i), epochs((0.9, 0.8 + 0.01 * i, 1, 1)), hp={"units": 32 * (i + 1)},
                    baseline=i == 0) for i in range(3)]  # fmt: skip
    folder = write_run(tmp_path, "r1", trials)
    assert main(["report", str(folder.path)]) == 0
    out = capsys.readouterr().out
    assert "Chose trial 2" in out
    said = "Against the baseline in the search (the space's defaults, trial 0): converged val acc +0.020"
    assert said in out
    page = (folder.path / "report.html").read_text()
    assert "0 (baseline)" in page and "Against the baseline" in page
    assert "<script src=" not in page and "<link" not in page  # nothing loaded from outside
    assert page.count('class="plotly-graph-div"') >= 6
    csv = pd.read_csv(folder.path / "report.csv")
    assert csv["trial"].tolist() == [2, 1, 0] and "converged_val_accuracy" in csv
    rows = json.loads((folder.path / "report.json").read_text())
    assert [r["trial"] for r in rows] == ["2", "1", "0"]


def test_compare_runs(tmp_path: Path) -> None:
    a = write_run(tmp_path, "a", [trial("0", epochs((0.9, 0.8, 1, 1)))])
    b = write_run(tmp_path, "b", [trial("0", epochs((0.9, 0.85, 1, 1)))])
    output, _ = write_report([a, b], tmp_path / "cmp.html")
    page = output.read_text()
    assert "Comparison of runs" in page and "fashion/a" in page and "fashion/b" in page
    assert (tmp_path / "cmp-a.csv").exists() and (tmp_path / "cmp-b.json").exists()
    assert "<th>best converged val acc</th>" in page  # the choice's converged best, not an epoch's
    b.update_meta(seconds=216)
    page = write_report([a, b], tmp_path / "cmp2.html")[0].read_text()
    assert '<td class="text" data-v="3.6">3.6</td>' in page and "3.6000" not in page
    assert "<th>best val acc</th>" not in page


@pytest.mark.parametrize("names", [("a", "a"), ("v1.2", "v1.3")])
def test_compare_runs_of_the_same_name_keeps_each_table(names: tuple[str, str], tmp_path: Path) -> None:
    """Two runs named a (in two results roots), or v1.2 and v1.3 (whose tables were both
    cmp-v1.csv): each run's table in its own files; the second overwrote the first's."""
    a = write_run(tmp_path / "one", names[0], [trial("0", epochs((0.9, 0.8, 1, 1)))])
    two = [trial("0", epochs((0.9, 0.85, 1, 1))), trial("1", epochs((0.9, 0.7, 1, 1)))]
    b = write_run(tmp_path / "two", names[1], two)
    write_report([a, b], tmp_path / "cmp.html")
    tables = sorted(tmp_path.glob("cmp-*.json"))
    assert len(tables) == 2 and sorted(len(json.loads(t.read_text())) for t in tables) == [1, 2]
    assert len(list(tmp_path.glob("cmp-*.csv"))) == 2


def test_an_output_name_with_dots_keeps_them_in_its_tables(tmp_path: Path) -> None:
    """``report.v2.html``: ``report.v2.csv``, not ``report.csv`` (another report's)."""
    folder = write_run(tmp_path, "r1", [trial("0", epochs((0.9, 0.8, 1, 1)))])
    write_report([folder], tmp_path / "report.v2.html")
    written = sorted(p.name for p in tmp_path.glob("report*"))
    assert written == ["report.v2.csv", "report.v2.html", "report.v2.json"]


def test_report_errors(tmp_path: Path, capsys) -> None:
    assert main(["report", str(tmp_path / "missing")]) == 2
    assert "no such run folder" in capsys.readouterr().err
    empty = write_run(tmp_path, "empty", [])
    assert main(["report", str(empty.path)]) == 2
    assert "holds no trials yet" in capsys.readouterr().err
    assert main(["report", str(empty.path), "--tolerance", "-1"]) == 2


def test_running_run_is_shown_as_running(tmp_path: Path) -> None:
    from search.storage import RunLock

    folder = write_run(tmp_path, "live", [trial("0", epochs((0.9, 0.8, 1, 1)))], "running")
    folder.update_meta(budget={"max_trials": 3, "max_epochs": 2, "finalists": 2}, request={"retrain": True})
    with RunLock(folder.path):
        output, reports = write_report([folder])
    assert reports[0].running
    page = output.read_text()
    assert "still RUNNING" in page and "did not finish" not in page  # it has not, yet
    assert "<dd>not yet (2 asked; the run has not finished yet)</dd>" in page
    assert "<dd>not yet (the run has not finished yet)</dd>" in page


def test_a_killed_run_is_shown_as_stopped(tmp_path: Path, capsys) -> None:
    """run.json still says running, but no live process holds the run's lock."""
    folder = write_run(tmp_path, "killed", [trial("0", epochs((0.9, 0.8, 1, 1)))], "running")
    assert main(["report", str(folder.path)]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "fashion/killed (random) (stopped): " in out
    said = "The run did not finish: its process ended and none is running it; its choice is only"
    assert said in out  # not "(stopped (no process is running it))" in brackets in brackets
    page = (folder.path / "report.html").read_text()
    assert "stopped (no process is running it)" in page and "still RUNNING" not in page
    assert said in page


@pytest.mark.parametrize("status", ["interrupted", "failed"])
def test_an_unfinished_run_says_its_choice_is_of_the_trials_so_far(
    tmp_path: Path, status: str, capsys
) -> None:
    """An interrupted run's report said "Chose trial 0" and "finalists: none", "test: not
    retrained" as a finished run's would, though the run chose nothing yet."""
    folder = write_run(tmp_path, "cut", [trial("0", epochs((0.9, 0.8, 1, 1)))], status)
    folder.update_meta(budget={"max_trials": 30, "max_epochs": 2, "finalists": 2},
                       request={"retrain": True})  # fmt: skip
    assert main(["report", str(folder.path)]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert f"fashion/cut (random) ({status}): Chose trial 0" in out
    how = {"interrupted": "it was interrupted", "failed": "it failed"}[status]
    said = f"The run did not finish: {how}; its choice is only the best of the trials so far"
    assert said in out
    page = (folder.path / "report.html").read_text()
    assert said in page and "not yet (2 asked; the run did not finish)" in page
    assert "<dd>not yet (the run did not finish)</dd>" in page
    done = write_run(tmp_path, "done", [trial("0", epochs((0.9, 0.8, 1, 1)))])
    assert main(["report", str(done.path)]) == 0
    assert "did not finish" not in capsys.readouterr().out
    assert "did not finish" not in (done.path / "report.html").read_text()


@pytest.mark.parametrize("finalists", [1, 2])
def test_a_run_stopped_after_its_search_chose_says_resume_continues_the_final_training(
    tmp_path: Path, finalists: int, capsys
) -> None:
    """A run interrupted in its retrain (or its finalists), run.json's ``best`` set, was said
    to have a choice "only the best of the trials so far" and resuming to continue "the
    search", which is over."""
    trials = [trial("0", epochs((0.9, 0.8, 1, 1))), trial("1", epochs((0.8, 0.7, 1, 1)))]
    folder = write_run(tmp_path, "cut", trials, "interrupted")
    folder.update_meta(budget={"max_trials": 2, "max_epochs": 2, "finalists": finalists},
                       best={"id": "0", "trial": "0", "rule": "Chose trial 0: x."})  # fmt: skip
    assert main(["report", str(folder.path)]) == 0
    out = " ".join(capsys.readouterr().out.split())
    page = " ".join((folder.path / "report.html").read_text().replace("&#x27;", "'").split())
    step = "finalists" if finalists > 1 else "final training"
    said = f"The run did not finish: it was interrupted in its {step}. Its search is over"
    for text in (out, page):
        assert said in text and f"resuming it continues the {step}" in text
        assert "only the best of the trials so far" not in text


def test_finalists_pending_while_more_than_one_was_asked_and_no_final_model() -> None:
    """One check of "the finalists are still to choose", where status and the report
    wrote it three ways."""
    asked = {"budget": {"finalists": 2}, "final": None}
    assert finalists_pending(asked)
    assert not finalists_pending({**asked, "final": {"trial": "1"}})
    assert not finalists_pending({"budget": {"finalists": 1}}) and not finalists_pending({})


def test_other_ranking_options_do_not_move_the_final_model(tmp_path: Path) -> None:
    """Given --tolerance 0.5, the report ranked trial 0 first and called it the chosen
    configuration, "retrained alone", beside the test of trial 1's retrained model."""
    trials = [trial("0", epochs((0.80, 0.80, 1, 1)), hp={"units": 32}, baseline=True),
              trial("1", epochs((0.95, 0.90, 1, 1)), hp={"units": 64})]  # fmt: skip
    folder = write_run(tmp_path, "r", trials)
    folder.update_meta(final={"trial": "1", "epochs": 1, "train_images": 100, "test_accuracy": 0.85})
    page = write_report([folder], tolerance=0.5)[0].read_text().replace("&#x27;", "'")
    assert "Chose trial 0" in page  # the ranking under the given options, as its note says
    assert ("<dd>trial 1: units=64 (the run's final model; by the report's ranking options"
            " trial 0 ranks first)</dd>") in page  # fmt: skip
    assert '<tr class="chosen"><td data-v="2">2</td><td class="text" data-v="1">1<' in page
    own = write_report([folder])[0].read_text()
    assert "<dd>trial 1: units=64</dd>" in own


def test_other_ranking_options_do_not_move_a_no_retrain_runs_kept_trial(tmp_path: Path) -> None:
    """A --no-retrain run has no ``final``: given --tolerance 0.5, the report called its own
    rank-1 trial 0 the chosen configuration, while the run's model.keras holds run.json's
    ``best.trial`` 1."""
    trials = [trial("0", epochs((0.80, 0.80, 1, 1)), hp={"units": 32}, baseline=True),
              trial("1", epochs((0.95, 0.90, 1, 1)), hp={"units": 64})]  # fmt: skip
    folder = write_run(tmp_path, "r", trials)
    folder.update_meta(request={"retrain": False}, best={"trial": "1", "hyperparameters": {"units": 64}})
    output, (report,) = write_report([folder], tolerance=0.5)
    page = output.read_text().replace("&#x27;", "'")
    assert report.choice is not None and report.choice.trial == "0"
    assert list(report.table.loc[report.table["chosen"], "trial"]) == ["1"]
    assert ("<dd>trial 1: units=64 (the run's final model; by the report's ranking options"
            " trial 0 ranks first)</dd>") in page  # fmt: skip
    assert kept_trial(folder.read_meta(), report.choice) == "1"
    assert kept_trial({"best": None, "final": None}, report.choice) == "0"


def test_a_run_whose_trials_all_failed_says_why_in_the_page_too(tmp_path: Path, capsys) -> None:
    """The page said "No trial has a validation accuracy yet." of an ended run, in which
    none ever will, where `search report` printed the failures; the engine records such a
    run as failed (no trial to choose), and the report said its "choice is only the best of
    the trials so far", of a run with no choice."""
    failed = [trial(str(i), [], "failed", failure="ValueError: bad") for i in range(2)]
    folder = write_run(tmp_path, "failed", failed, "failed")
    assert main(["report", str(folder.path)]) == 0
    out = " ".join(capsys.readouterr().out.split())
    said = "no trial scored: 2 of 2 failed (trial 0: ValueError: bad)"
    assert said in out and "choice" not in out and "The run did not finish" not in out
    page = (folder.path / "report.html").read_text()
    assert f'<p class="choice">N{said[1:]}.</p>' in page and "yet" not in page.split("Summary")[0]
    assert "its choice is only" not in page and "The run did not finish" not in page
    going = write_run(tmp_path, "going", failed[:1], "running")
    assert "No trial has a validation accuracy yet." in write_report([going])[0].read_text()


@pytest.mark.parametrize("status", ["running", "interrupted"])
def test_a_trial_a_stopped_run_left_running_is_shown_interrupted(tmp_path: Path, status: str) -> None:
    """The table, report.csv and Run.trials say what status says: nothing runs it."""
    trials = [trial("0", epochs((0.9, 0.8, 1, 1))), trial("1", epochs((0.9, 0.8, 1, 1)), "running")]
    folder = write_run(tmp_path, status, trials, status)
    output, (report,) = write_report([folder])
    shown = report.table.set_index("trial").loc["1"]
    assert (shown["status"], shown["reason"]) == ("interrupted", "the run stopped in it; resume continues it")
    page = output.read_text()
    assert "the run stopped in it; resume continues it" in page
    finished = write_run(tmp_path, f"{status}-done", trials, "finished")
    _, (done,) = write_report([finished])
    reason = done.table.set_index("trial").loc["1", "reason"]
    assert reason == "its worker stopped in it; the run finished without it"


def test_describe_training_names_the_kept_epoch_of_a_validated_retrain() -> None:
    from search.report import describe_training

    plateau = {"epochs": 6, "train_images": 60000}
    assert describe_training(plateau) == "6 epochs on 60,000 images"
    validated = {**plateau, "epochs": 12, "train_images": 50000, "kept_epoch": 9,
                 "val_accuracy": 0.92351}  # fmt: skip
    assert describe_training(validated) == (
        "12 epochs on 50,000 images, kept epoch 9 (val accuracy 0.9235)"
    )
    rows = {**plateau, "train_images": 800, "train_unit": "rows"}  # a user's arrays
    assert describe_training(rows) == "6 epochs on 800 rows"
    cosine = {**validated, "epochs": 20, "kept_epoch": 19, "schedule": "cosine"}
    assert describe_training(cosine) == (
        "20 epochs on 50,000 images, the learning rate along a cosine, kept epoch 19 (val accuracy 0.9235)"
    )


def test_retrain_curve_of_a_validated_retrain_only() -> None:
    from search.report._data import retrain_curve

    final = {"epochs": 4, "kept_epoch": 2, "val_accuracy": 0.9,
             "val_accuracy_per_epoch": [0.8, 0.9, 0.89, 0.88],
             "learning_rates": [1e-3, 1e-3, 3e-4, 9e-5]}  # fmt: skip
    curve = retrain_curve(final)
    assert curve is not None
    assert curve["epoch"].tolist() == [1, 2, 3, 4]
    assert curve["learning_rate"].tolist() == pytest.approx([1e-3, 1e-3, 3e-4, 9e-5])
    assert retrain_curve({"epochs": 6, "train_images": 60000}) is None  # full / search
    assert retrain_curve(None) is None
    fig = retrain_plot(curve, 2)
    assert fig.data[-1].x.tolist() == [2] and fig.data[-1].y.tolist() == [0.9]  # the kept one


def test_budget_names_hyperbands_schedule(tmp_path: Path) -> None:
    from search.report import describe_budget

    hyperband = {"tuner": "hyperband", "budget": {"max_trials": None, "max_epochs": 6,
                                                  "factor": 3}}  # fmt: skip
    assert describe_budget(hyperband) == "Hyperband schedule, max_epochs 6, factor 3"
    capped = {**hyperband, "budget": {**hyperband["budget"], "max_trials": 5}}
    assert describe_budget(capped) == "Hyperband schedule, max_epochs 6, factor 3, capped at 5 trials"
    random = {"tuner": "random", "budget": {"max_trials": 4, "max_epochs": 2, "factor": 3}}
    assert describe_budget(random) == "max_trials 4, max_epochs 2"
    folder = write_run(tmp_path, "hb", [trial("0", epochs((0.9, 0.8, 1, 1)))])
    folder.write_meta({**folder.read_meta(), **hyperband})
    page = write_report([folder])[0].read_text()
    assert "Hyperband schedule, max_epochs 6, factor 3" in page and "max_trials None" not in page


def test_slices_of_discrete_hyperparameters_show_exactly_their_values(tmp_path: Path) -> None:
    from search.report import load_report
    from search.report._html import run_figures

    space = {**SPACE,
             "filters": {"type": "choice", "values": [16, 32], "default": 32},
             "batch_size": {"type": "choice", "values": [32, 64, 128], "default": 64},
             "conv_blocks": {"type": "int", "low": 2, "high": 3, "default": 2},
             "dense_units": {"type": "int", "low": 32, "high": 512, "step": 32, "default": 128}}
    trials = []
    for i in range(4):
        hp = {"learning_rate": 10.0 ** -(i + 1), "units": 32 * (1 + i % 2), "augment": i % 2 == 0,
              "mode": "ab"[i % 2], "filters": 16 * (1 + i % 2), "batch_size": (32, 128)[i % 2],
              "conv_blocks": 2 + i % 2, "dense_units": 32 * (1 + 5 * i)}  # fmt: skip
        trials.append(trial(str(i), epochs((0.9, 0.6 + 0.05 * i, 1, 1)), hp=hp))
    folder = write_run(tmp_path, "slices", trials)
    folder.write_meta({**folder.read_meta(), "space": {"params": space}})
    figures = dict(run_figures(load_report(folder), top_k=2))
    axes = {name: figures[f"Slice: {name}"].layout.xaxis for name in space
            if f"Slice: {name}" in figures}  # fmt: skip
    expected = {"filters": ["16", "32"], "batch_size": ["32", "64", "128"],
                "conv_blocks": ["2", "3"], "units": ["32", "64", "96", "128"],
                "augment": ["False", "True"], "mode": ["a", "b"]}  # fmt: skip
    for name, categories in expected.items():
        assert axes[name].type == "category", name
        assert list(axes[name].categoryarray) == categories, name
        assert list(axes[name].range) == [-0.5, len(categories) - 0.5], name
    assert list(figures["Slice: batch_size"].data[0].x) == ["128", "32", "128", "32"]
    assert axes["learning_rate"].type == "log" and axes["dense_units"].type is None


def test_the_learning_curves_colour_the_finalists_choice_below_the_top(tmp_path: Path) -> None:
    """The finalists kept the baseline, ranked 3rd in the search: with --top-k 2 its curve
    was one of the grey "other trials"."""
    from search.report import load_report
    from search.report._html import run_figures

    trials = [trial(str(i), epochs((0.9, 0.8 - 0.05 * i, 1, 1)), baseline=i == 2) for i in range(4)]
    folder = write_run(tmp_path, "kept", trials)
    finalists = [{"trial": "0", "val_score": 0.8}, {"trial": "2", "baseline": True, "val_score": 0.9}]
    folder.update_meta(final={"trial": "2", "val_score": 0.9, "train_images": 100, "finalists": finalists})
    figures = dict(run_figures(load_report(folder), top_k=2))
    names = {t.name for t in figures["Learning curves"].data}
    assert {"trial 0 val", "trial 1 val", "trial 2 val"} <= names and "trial 3 val" not in names


def test_slice_titles_sit_below_the_modebar() -> None:
    from search.report._figures import MODEBAR_PX

    table = trials_table([trial("0", epochs((0.9, 0.8, 1, 1)), hp={"lr": 0.01}),
                          trial("1", epochs((0.9, 0.7, 1, 1)), hp={"lr": 0.1})])  # fmt: skip
    layout = slice_plot(table, "lr", log=True).layout
    assert layout.title.text == "lr vs validation accuracy"
    assert (layout.title.yref, layout.title.y, layout.title.yanchor) == ("paper", 1, "bottom")
    # Between the figure's top and the plot: the modebar's band, then the title above its pad.
    assert layout.margin.t - layout.title.pad.b - layout.title.font.size >= MODEBAR_PX


def test_epoch_and_trial_axes_tick_at_whole_numbers() -> None:
    from search.report._data import retrain_curve

    short = learning_curves_plot({"0": epochs((0.5, 0.4, 1, 1), (0.9, 0.8, 1, 1))}, ["0"])
    axis = short.layout.xaxis
    assert (axis.title.text, axis.tickmode, axis.tick0, axis.dtick, axis.tickformat) == (
        "epoch", "linear", 0, 1, "d")  # fmt: skip
    long = learning_curves_plot({"0": epochs(*[(0.5, 0.4, 1, 1)] * 60)}, ["0"])
    assert long.layout.xaxis.dtick == 5 and long.layout.xaxis.tickformat == "d"
    curve = retrain_curve({"epochs": 3, "kept_epoch": 2, "val_accuracy": 0.9,
                           "val_accuracy_per_epoch": [0.8, 0.9, 0.85]})  # fmt: skip
    assert retrain_plot(curve, 2).layout.xaxis.dtick == 1
    progress = {"run": pd.DataFrame({"n": [1, 2, 3], "minutes": [1.0, 2.0, 3.0],
                                     "best": [0.5, 0.6, 0.6]})}  # fmt: skip
    assert best_so_far_plot(progress, "n").layout.xaxis.dtick == 1
    assert best_so_far_plot(progress, "minutes").layout.xaxis.dtick is None


def test_table_shows_seconds_to_a_tenth() -> None:
    from search.report._html import table_html

    trials = [trial("0", epochs((0.9, 0.8, 1, 1)), seconds=12.3456),
              trial("1", epochs((0.9, 0.7, 1, 1)), seconds=10.0)]  # fmt: skip
    page = table_html(rank_trials(trials_table(trials)), chosen="0")
    assert 'data-v="12.3456">12.3</td>' in page and 'data-v="10.0">10.0</td>' in page
    assert "12.3456<" not in page


def test_table_says_which_trial_a_continuation_continues() -> None:
    from search.report._html import CONTINUES_NOTE, table_html

    trials = [
        trial("0000", epochs((0.9, 0.8, 1, 1)), baseline=True),
        trial("0001", epochs((0.9, 0.7, 1, 1))),
        trial("0002", [{"epoch": 2, "accuracy": 0.9, "val_accuracy": 0.85, "loss": 1,
                        "val_loss": 1}], baseline=True, continues="0000"),
    ]  # fmt: skip
    page = table_html(rank_trials(trials_table(trials)), chosen="0002")
    assert "<th>trial</th><th>continues</th>" in page
    cells = [row.split("</td>")[1:3] for row in page.split("<tr")[2:]]  # trial, continues
    assert sorted(cells) == [
        ['<td class="text" data-v="0000">0000 (baseline)', '<td class="text" data-v="">'],
        ['<td class="text" data-v="0001">0001', '<td class="text" data-v="">'],
        ['<td class="text" data-v="0002">0002 (baseline)', '<td class="text" data-v="0000">0000'],
    ]
    assert CONTINUES_NOTE in page
    assert "its seconds are its own" in CONTINUES_NOTE  # 2 epochs, but the seconds of one
    assert CONTINUES_NOTE not in table_html(rank_trials(trials_table(trials[:2])), chosen=None)


def _write_finalists_run(root: Path) -> RunFolder:
    """The search ranks the baseline (trial 0) first; the finalists choose trial 1."""
    trials = [trial("0", epochs((0.85, 0.80, 1, 1)), hp={"units": 32}, baseline=True),
              trial("1", epochs((0.80, 0.78, 1, 1)), hp={"units": 64})]  # fmt: skip
    folder = write_run(root, "f5", trials)
    finalists = [
        {"trial": "0", "baseline": True, "search_rank": 1, "epochs": 1, "kept_epoch": 1,
         "val_score": 0.70, "val_accuracy_per_epoch": [0.70]},
        {"trial": "1", "baseline": False, "search_rank": 2, "epochs": 1, "kept_epoch": 1,
         "val_score": 0.705, "val_accuracy_per_epoch": [0.705]},
    ]  # fmt: skip
    final = {"trial": "1", "epochs": 1, "kept_epoch": 1, "train_images": 50000,
             "monitor": "val_accuracy", "val_score": 0.705, "test_accuracy": 0.7,
             "chosen_by": "validation at full fidelity among the finalists",
             "finalists": finalists, "gain_over_baseline": 0.005}  # fmt: skip
    best = {"trial": "1", "search_choice": "0", "hyperparameters": {"units": 64},
            "rule": "Trial 1 was chosen among 2 finalists trained on the full training data,"
                    " by validation val_accuracy at its kept epoch (the search had ranked"
                    " trial 0 first)."}  # fmt: skip
    folder.update_meta(final=final, best=best)
    return folder


def test_the_report_says_the_finalists_overturned_the_search(tmp_path: Path, capsys) -> None:
    folder = _write_finalists_run(tmp_path)
    assert main(["report", str(folder.path)]) == 0
    out = " ".join(capsys.readouterr().out.split())
    chose = ("Chose trial 1 among 2 finalists, by validation at full fidelity; the search had"
             " ranked trial 0 first.")  # fmt: skip
    base = ("The baseline (the space's defaults, trial 0) ranked first in the search (val acc"
            " 0.800, gap 0.050); the finalists chose trial 1 (0.0050 better in val accuracy than the"
            " baseline's finalist, trial 0).")  # fmt: skip
    assert chose in out and base in out
    assert "In the search, trial 0 ranked first: converged val acc 0.800" in out
    assert "Chose trial 0" not in out and "was chosen: no sampled" not in out
    page = (folder.path / "report.html").read_text()
    assert chose in page.replace("&#x27;", "'") and base in page.replace("&#x27;", "'")
    assert "Chose trial 0" not in page and "was chosen: no sampled" not in page
    assert '<tr class="chosen"><td data-v="2">2</td><td class="text" data-v="1">1<' in page
    csv = pd.read_csv(folder.path / "report.csv", dtype={"trial": str})
    assert csv["trial"].tolist() == ["0", "1"]  # the search's order
    assert csv["chosen"].tolist() == [False, True]  # the finalists' choice
    assert csv["finalist_val_score"].tolist() == [0.70, 0.705]
    lines = report_lines(folder)
    assert lines[0] == chose and base in lines


def test_the_report_ranks_by_the_runs_own_rule(tmp_path: Path, capsys) -> None:
    # trial 1 is the more accurate; within a 0.9 tolerance trial 0 overfits less.
    trials = [trial("0", epochs((0.70, 0.65, 1, 1))), trial("1", epochs((0.95, 0.70, 1, 1)))]
    folder = write_run(tmp_path, "tol", trials)
    folder.update_meta(request={"tolerance": 0.9, "converged_epochs": 3})
    report = load_report(folder)
    assert (report.tolerance, report.choice.trial, report.rule_note) == (0.9, "0", None)
    assert report_lines(folder)[0].startswith("Chose trial 0")
    assert pd.read_csv(folder.path / "report.csv")["trial"].tolist() == [0, 1]
    assert "within 0.9 of the best" in (folder.path / "report.html").read_text()
    assert main(["report", str(folder.path), "--tolerance", "0.005"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "Chose trial 1" in out
    assert "Ranked with --tolerance 0.005 (the run chose with 0.9), not the run's own rule" in out
    assert pd.read_csv(folder.path / "report.csv")["trial"].tolist() == [1, 0]


def test_the_runs_own_converged_epochs(tmp_path: Path) -> None:
    # the last epoch alone: trial 0 (0.85); the mean of 3: trial 1 (0.80 against 0.733).
    trials = [trial("0", epochs((0.7, 0.70, 1, 1), (0.7, 0.65, 1, 1), (0.9, 0.85, 1, 1))),
              trial("1", epochs((0.8, 0.80, 1, 1), (0.8, 0.80, 1, 1), (0.8, 0.80, 1, 1)))]  # fmt: skip
    folder = write_run(tmp_path, "conv", trials)
    folder.update_meta(request={"tolerance": 0.005, "converged_epochs": 1})
    assert load_report(folder).choice.trial == "0"
    assert "(mean of the last 1 epoch up to the best one)" in render_run(load_report(folder))
    given = load_report(folder, converged_epochs=3)
    assert given.choice.trial == "1"
    assert "(mean of the last 3 epochs up to the best one)" in render_run(given)
    assert given.rule_note.startswith("Ranked with --converged-epochs 3 (the run chose with 1)")


def test_a_comparison_ranks_each_run_by_its_own_rule_and_says_they_differ(tmp_path: Path) -> None:
    trials = [trial("0", epochs((0.70, 0.65, 1, 1))), trial("1", epochs((0.95, 0.70, 1, 1)))]
    loose = write_run(tmp_path, "loose", trials)
    loose.update_meta(request={"tolerance": 0.9, "converged_epochs": 3})
    strict = write_run(tmp_path, "strict", trials)
    output, reports = write_report([loose, strict], tmp_path / "cmp.html")
    assert [r.choice.trial for r in reports] == ["0", "1"]
    page = output.read_text()
    assert "These runs chose by different ranking rules; each is ranked by its own" in page
    assert "converged epochs 3, tolerance 0.9" in page and "tolerance 0.005" in page
    _, given = write_report([loose, strict], tmp_path / "cmp.html", tolerance=0.005)
    assert [r.choice.trial for r in given] == ["1", "1"]
    assert "ranked with the rule given to the report" in (tmp_path / "cmp.html").read_text()


@pytest.mark.parametrize("name", ["run.json", "run.html", "trials.html", "run", "best_model.keras",
                                  "tuner/x.html", "data/x.html"])
def test_output_never_replaces_the_runs_own_files(name: str, tmp_path: Path, capsys) -> None:
    """``--output RUN/run.html`` would write its JSON table over RUN/run.json."""
    folder = write_run(tmp_path, "r1", [trial("0", epochs((0.9, 0.8, 1, 1)))])
    (folder.tuner_dir).mkdir()
    (folder.tuner_dir / "x.json").write_text("{}")
    folder.model_file.write_bytes(b"model")
    before = {p: p.read_bytes() for p in folder.path.rglob("*") if p.is_file()}
    assert main(["report", str(folder.path), "--output", str(folder.path / name)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--output" in err and "a file of run" in err
    assert {p: p.read_bytes() for p in folder.path.rglob("*") if p.is_file()} == before


def test_output_never_writes_into_another_runs_folder(tmp_path: Path, capsys) -> None:
    """r1's report at r2/report.html replaced r2's page and tables with r1's trials."""
    r1 = write_run(tmp_path, "r1", [trial("0", epochs((0.9, 0.8, 1, 1)))])
    r2 = write_run(tmp_path, "r2", [trial("0", epochs((0.7, 0.6, 1, 1)))])
    assert main(["report", str(r2.path)]) == 0
    capsys.readouterr()
    before = {p: p.read_bytes() for p in r2.path.rglob("*") if p.is_file()}
    assert main(["report", str(r1.path), "--output", str(r2.path / "report.html")]) == 2
    err = capsys.readouterr().err
    assert err == (
        f"error: --output {r2.path / 'report.html'}: would write {r2.path.resolve() / 'report.html'}"
        f" in the folder of run {r2.path.resolve()}, which this report is not of; give a file"
        f" outside it, e.g. {r1.path / 'report.html'}\n"
    ), err
    assert {p: p.read_bytes() for p in r2.path.rglob("*") if p.is_file()} == before
    assert main(["report", str(r1.path), str(r2.path), "--output", str(r2.path / "both.html")]) == 0


@pytest.mark.parametrize("name", ["data.npy", "notes.html", "results.html", "results.json.html"])
def test_output_never_replaces_a_users_own_files(name: str, tmp_path: Path, capsys) -> None:
    """``--output data.npy`` wrote HTML over data.npy; ``--output results.html`` wrote its
    table over the user's results.csv: a file that is not a report's is kept, and named."""
    folder = write_run(tmp_path, "r1", [trial("0", epochs((0.9, 0.8, 1, 1)))])
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "data.npy").write_bytes(b"\x93NUMPY")
    (mine / "notes.html").write_text("<p>my notes</p>")
    (mine / "results.csv").write_text("a,b\n1,2\n")
    (mine / "results.json.json").write_text('{"mine": 1}')
    before = {p: p.read_bytes() for p in mine.iterdir()}
    assert main(["report", str(folder.path), "--output", str(mine / name)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--output" in err and "not a report's" in err
    assert {p: p.read_bytes() for p in mine.iterdir()} == before


@pytest.mark.parametrize("suffix", [".csv", ".json"])
def test_output_named_like_the_table_is_refused_not_overwritten_by_it(suffix: str, tmp_path: Path,
                                                                     capsys) -> None:  # fmt: skip
    """``--output t.csv`` wrote the page, then the table over it, and said ``report: t.csv``."""
    folder = write_run(tmp_path, "r1", [trial("0", epochs((0.9, 0.8, 1, 1)))])
    for output in (tmp_path / f"t{suffix}", folder.path / f"report{suffix}"):
        assert main(["report", str(folder.path), "--output", str(output)]) == 2
        assert capsys.readouterr().err == (
            f"error: --output {output}: the report's ranked table is written beside its page, as"
            f" .csv and .json; give the page's file name, e.g. {output.with_suffix('.html')}\n"
        )
        assert not output.exists()
    with pytest.raises(SearchError, match=r"t\.csv: the report's ranked table"):
        search.load(folder.path).report(tmp_path / "t.csv")


def test_a_run_json_without_its_experiment_or_tuner_is_named_as_status_names_it(tmp_path: Path,
                                                                                capsys) -> None:  # fmt: skip
    """The report wrote "None/r1 (None): Chose trial 0" where status refused the run."""
    folder = write_run(tmp_path, "r1", [trial("0", epochs((0.9, 0.8, 1, 1)))])
    meta = folder.read_meta()
    del meta["experiment"]
    folder.write_meta(meta)
    for command in ("report", "status"):
        assert main([command, str(folder.path)]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and f"{folder.run_file}" in err and "'experiment' is missing" in err
    assert not (folder.path / "report.html").exists()


def test_output_replaces_an_earlier_report(tmp_path: Path) -> None:
    """A report written again to the same file replaces the first, tables included."""
    folder = write_run(tmp_path, "r1", [trial("0", epochs((0.9, 0.8, 1, 1)))])
    other = write_run(tmp_path, "r2", [trial("0", epochs((0.9, 0.8, 1, 1)))])
    write_report([folder], tmp_path / "out.html")
    write_report([folder], tmp_path / "out.html")
    write_report([folder, other], tmp_path / "cmp.html")
    write_report([folder, other], tmp_path / "cmp.html")
    assert main(["report", str(folder.path)]) == 0
    assert main(["report", str(folder.path)]) == 0


def test_a_read_only_run_folder_is_named_with_output_as_the_fix(
    tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before any work: the run folder, why, and --output; not a temporary file's name."""
    folder = write_run(tmp_path, "r1", [trial("0", epochs((0.9, 0.8, 1, 1)))])
    read_only(monkeypatch, folder.path)
    assert main(["report", str(folder.path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"run folder {folder.path}: cannot write in {folder.path}" in err
    assert "Read-only file system" in err and "--output FILE" in err
    assert not (folder.path / "report.html").exists()


def _regression_run(chosen_is_baseline: bool) -> tuple[pd.DataFrame, Any]:
    """Three trials of a regression ranked by val_mae (min); trial 0 the baseline."""
    maes = {"0": 0.5 if chosen_is_baseline else 1.5, "1": 0.6, "2": 1.4}
    trials = [
        trial(tid, [{"epoch": 1, "loss": 2.0, "val_loss": 2.0, "val_mae": mae}], baseline=tid == "0",
              best={"val_mae": mae}, hp={"units": 4})
        for tid, mae in maes.items()
    ]  # fmt: skip
    from search.ranking import rank_run

    ranking = rank_run(trials, trials_table(trials), "val_mae", "min")
    return ranking.table, ranking.choice


def test_a_run_ranked_by_another_objective_names_its_baseline_and_shows_the_objective() -> None:
    from search.report._html import table_html

    table, choice = _regression_run(chosen_is_baseline=False)
    assert choice.trial == "1"
    assert baseline_line(table, choice, None) == (
        "Against the baseline in the search (the space's defaults, trial 0): val_mae 1.5 -> 0.6."
    )
    shown = table_html(table, choice.trial, "val_mae")
    assert "<th>val_mae</th>" in shown and 'data-v="0.6"' in shown
    table, choice = _regression_run(chosen_is_baseline=True)
    assert baseline_line(table, choice, None) == (
        "The baseline (the space's defaults, trial 0) was chosen: no sampled configuration"
        " beat its val_mae (0.5)."
    )


def _objective_run(root: Path, objective: dict[str, str], train: str | None) -> RunFolder:
    """Six regression trials (no accuracy logged) of ``objective``: trial 0's three epochs
    by hand, then the objective growing as the learning rate falls; ``train`` (the
    training counterpart) logged unless None."""
    name = objective["tracked"]
    hand = [(1.0, 0.9), (0.6, 0.5), (0.8, 0.3)]  # (validation, train) per epoch
    trials = [trial("0", [{"epoch": i + 1, name: v, **({train: t} if train else {})}
                          for i, (v, t) in enumerate(hand)],
                    hp={"learning_rate": 1e-4, "units": 32}, best={name: 0.6},
                    finished="2026-01-01T00:01:00+00:00")]
    for i in range(1, 6):
        lr = 10 ** (-1 - 0.5 * i)
        v = 0.3 - 0.1 * math.log10(lr)
        eps = [{"epoch": 1, name: v + 0.2, **({train: v + 0.1} if train else {})},
               {"epoch": 2, name: v, **({train: v - 0.1} if train else {})}]
        trials.append(trial(str(i), eps, hp={"learning_rate": lr, "units": 32 * (1 + i % 4)},
                            best={name: v}, finished=f"2026-01-01T00:0{i + 1}:00+00:00"))
    folder = write_run(root, "regression", trials)
    folder.write_meta({**folder.read_meta(), "objective": objective})
    return folder


def test_a_run_ranked_by_another_objective_gives_its_figures_that_objective(tmp_path: Path) -> None:
    from search.report._data import ReportMetric

    folder = _objective_run(tmp_path, {"name": "val_loss", "direction": "min", "tracked": "val_loss"}, "loss")
    report = load_report(folder)
    assert report.metric == ReportMetric("val_loss", "min", "loss")
    assert report.metric.column == "converged_objective" and report.metric.gap_column == "gap_objective"
    row = report.table.set_index("trial").loc["0"]  # best epoch 2 (lowest): epochs 1-2 averaged
    assert row["converged_objective"] == pytest.approx(0.8)
    assert row["converged_train_objective"] == pytest.approx(0.7)
    assert row["gap_objective"] == pytest.approx(0.1)  # train better (lower) than validation
    progress = best_so_far(report.table, report.meta["created"], report.metric)
    values = report.table.set_index("trial")["converged_objective"]
    expected = np.minimum.accumulate([values[str(i)] for i in range(6)])
    assert progress["best"].tolist() == pytest.approx(expected.tolist())  # the running min
    assert report.importances and max(report.importances, key=report.importances.get) == "learning_rate"


def test_an_objective_without_a_logged_training_counterpart_has_no_gap(tmp_path: Path) -> None:
    from search.report._data import ReportMetric, objective_columns, report_metric

    mae = {"name": "val_mae", "direction": "min", "tracked": "val_mean_absolute_error"}
    report = load_report(_objective_run(tmp_path, mae, None))
    assert report.metric == ReportMetric("val_mean_absolute_error", "min", None)
    assert report.table["converged_objective"].notna().all()
    assert report.table["gap_objective"].isna().all()
    assert report_metric({}, {}) == ReportMetric()  # an accuracy run: as it always was
    assert report_metric({"objective": {"name": "pareto", "tracked": "val_accuracy"}}, {}).is_accuracy
    table = trials_table([trial("0", epochs((0.9, 0.8, 1, 1)))])
    assert objective_columns(table, {}, ReportMetric(), 3) is table


def test_a_run_of_another_objective_gives_each_trials_best_epoch_by_it_and_no_empty_columns(
    tmp_path: Path,
) -> None:
    from search.report._html import table_html

    mae = {"name": "val_mae", "direction": "min", "tracked": "val_mean_absolute_error"}
    report = load_report(_objective_run(tmp_path, mae, None))
    best = report.table.set_index("trial")["best_epoch"]
    assert best["0"] == 2 and best["3"] == 2  # the lowest epoch of each, as run.json's best says
    shown = table_html(report.table, "5", "val_mean_absolute_error", report.metric)
    assert "<th>best epoch</th>" in shown
    assert "gap loss" not in shown and "Pareto" not in shown  # nothing to show in either


def test_ranking_options_given_to_the_report_of_a_run_ranked_by_its_objective_say_they_change_nothing(
    tmp_path: Path,
) -> None:
    loss = {"name": "val_loss", "direction": "min", "tracked": "val_loss"}
    folder = _objective_run(tmp_path, loss, "loss")
    own = load_report(folder)
    given = load_report(folder, tolerance=0.05)
    assert given.table["trial"].tolist() == own.table["trial"].tolist()
    assert given.rule_note is not None and "may differ" not in given.rule_note
    assert "do not change this run's order" in given.rule_note and "val_loss alone" in given.rule_note


def test_the_best_so_far_axis_names_the_objective() -> None:
    from search.report._data import ReportMetric, best_title

    loss, auc = ReportMetric("val_loss", "min", "loss"), ReportMetric("val_auc", "max", "auc")
    # converged, as plotted: the table's "best val acc" is the best epoch's, another number
    assert best_title([ReportMetric()]) == best_title([]) == "best converged val accuracy"
    assert best_title([loss, loss]) == "best converged val_loss (lowest)"
    assert best_title([auc]) == "best converged val_auc (highest)"
    assert best_title([loss, ReportMetric()]) == "best converged objective (each run's own)"


def test_figures_of_another_objective_smoke(tmp_path: Path) -> None:
    from search.report._html import run_figures

    loss = {"name": "val_loss", "direction": "min", "tracked": "val_loss"}
    report = load_report(_objective_run(tmp_path / "loss", loss, "loss"))
    figures = dict(run_figures(report, 3))
    for title, fig in figures.items():
        assert fig.to_dict()["data"], title
        assert "accuracy" not in json.dumps(fig.to_dict()["layout"]), title
    assert "val_loss" in figures["Learning curves"].layout.title.text
    assert {t.name for t in figures["Learning curves"].data} >= {"trial 1 val", "trial 1 train"}
    assert figures["val_loss vs gap"].layout.xaxis.title.text.startswith("gap (validation - train loss")
    assert figures["Parallel coordinates"].data[0].line.reversescale
    assert figures["Slice: learning_rate"].layout.title.text == "learning_rate vs val_loss"
    assert figures["Best so far vs trials"].layout.yaxis.title.text == "best converged val_loss (lowest)"
    mae = {"name": "val_mae", "direction": "min", "tracked": "val_mean_absolute_error"}
    report = load_report(_objective_run(tmp_path / "mae", mae, None))
    figures = dict(run_figures(report, 3))
    gap = figures["val_mean_absolute_error vs gap"]
    assert "no training mean_absolute_error" in gap.layout.annotations[0].text
    assert "validation only" in figures["Learning curves"].layout.title.text
    page = render_run(report)
    assert "<h2>Slices: each hyperparameter vs val_mean_absolute_error</h2>" in page
    assert "<th>val acc (converged)</th>" not in page and "<th>best val acc</th>" not in page
    assert "<th>val_mean_absolute_error (converged)</th><th>gap val_mean_absolute_error</th>" in page


def test_a_final_retrain_that_watched_another_objective_says_its_curve_is_not_recorded() -> None:
    from search.report._data import final_curve_note

    validated = {"epochs": 4, "kept_epoch": 2, "monitor": "val_loss", "val_score": 0.31}
    assert final_curve_note(validated) == (
        "The final retrain watched val_loss (kept epoch 2, val_loss 0.3100); the run recorded"
        " no curve of it per epoch, so there is none to plot."
    )
    finalists = {**validated, "trial": "3", "finalists": [{"trial": "3"}, {"trial": "1"}]}
    assert final_curve_note(finalists).startswith("The 2 finalists watched val_loss (kept epoch 2")
    assert final_curve_note({**validated, "monitor": "val_accuracy"}) is None
    assert final_curve_note({**validated, "val_accuracy_per_epoch": [0.8, 0.9]}) is None
    assert final_curve_note({**validated, "val_score_per_epoch": [0.5, 0.31, 0.4, 0.45]}) is None
    assert final_curve_note({"epochs": 6, "train_images": 600}) is None  # not validated
    assert final_curve_note(None) is None
    from search.report._figures import note_plot

    fig = note_plot("Final retrain: no curve recorded", final_curve_note(validated) or "")
    assert "watched val_loss" in fig.layout.annotations[0].text and not fig.layout.xaxis.visible


def test_a_comparison_names_each_runs_best_objective(tmp_path: Path) -> None:
    from search.report._data import best_objective_words
    from search.report._html import render_compare

    loss = {"name": "val_loss", "direction": "min", "tracked": "val_loss"}
    report = load_report(_objective_run(tmp_path / "loss", loss, "loss"))
    assert best_objective_words(report) == "val_loss 0.45 (trial 1)"
    accuracy = load_report(write_run(tmp_path, "acc", [trial("0", epochs((0.9, 0.8, 1, 1)))]))
    assert best_objective_words(accuracy) == "val_accuracy 0.8 (trial 0)"
    page = render_compare([accuracy, report])
    assert "<th>best objective</th>" in page and "val_loss 0.45 (trial 1)" in page
    assert "<th>best objective</th>" not in render_compare([accuracy])


def test_a_comparison_says_how_each_run_ranked_and_which_was_not_retrained(tmp_path: Path) -> None:
    from search.report._html import compare_note, render_compare

    loss = {"name": "val_loss", "direction": "min", "tracked": "val_loss"}
    report = load_report(_objective_run(tmp_path / "loss", loss, "loss"))
    accuracy = load_report(write_run(tmp_path, "acc", [trial("0", epochs((0.9, 0.8, 1, 1)))]))
    page = render_compare([accuracy, report])
    assert "ranked by val_loss alone" in page
    assert "no test data" not in page and page.count(">not retrained<") == 2  # neither has a final
    assert "the same for all" not in compare_note([accuracy, report])
    assert "the same for all" in compare_note([accuracy, accuracy])


def test_a_comparison_says_a_run_did_not_finish_as_its_own_page_does(tmp_path: Path) -> None:
    """The comparison said "Chose trial 0" of an interrupted run without the note its own
    page gives, and "not retrained" for its test, which is only not yet."""
    from search.report._html import render_compare

    loss = {"name": "val_loss", "direction": "min", "tracked": "val_loss"}
    report = load_report(_objective_run(tmp_path / "loss", loss, "loss"))
    cut = write_run(tmp_path, "cut", [trial("0", epochs((0.9, 0.8, 1, 1)))], "interrupted")
    cut.update_meta(request={"retrain": True})
    page = render_compare([load_report(cut), report]).replace("&#x27;", "'")
    assert "Chose trial 0" in page
    assert "The run did not finish: it was interrupted; its choice is only the best of" in page
    assert page.count(">not retrained<") == 1 and ">not yet (the run did not finish)<" in page


def test_the_final_curves_plot_the_metric_the_trainings_watched() -> None:
    """A retrain (or finalists) ranked by val_loss keeps the epoch val_loss chose: its
    curve is val_loss's, named so, not validation accuracy's."""
    from search.report._data import finalist_curves, retrain_curve
    from search.report._figures import finalists_plot

    final = {"epochs": 3, "kept_epoch": 2, "monitor": "val_loss", "val_score": 0.31,
             "val_score_per_epoch": [0.5, 0.31, 0.4], "val_accuracy_per_epoch": [0.8, 0.9, 0.85],
             "learning_rates": [1e-3, 1e-3, 3e-4]}  # fmt: skip
    curve = retrain_curve(final)
    assert curve is not None and curve["val_loss"].tolist() == [0.5, 0.31, 0.4]
    fig = retrain_plot(curve, 2, "val_loss")
    assert fig.layout.yaxis.title.text == "val_loss" and "val_loss (kept epoch 2)" in fig.layout.title.text
    assert list(fig.data[-1].y) == [0.31]  # the kept epoch's star
    failed = {"trial": "4", "failure": "out of memory"}
    finalists = {**final, "trial": "3", "finalists": [failed, {**final, "trial": "3"}]}
    curves = finalist_curves(finalists)
    assert curves is not None and curves["val_loss"].tolist() == [0.5, 0.31, 0.4]
    assert finalists_plot(curves, "3", "val_loss").layout.yaxis.title.text == "val_loss"
    accuracy = {k: v for k, v in final.items() if k not in ("monitor", "val_score_per_epoch")}
    assert retrain_curve(accuracy)["val_accuracy"].tolist() == [0.8, 0.9, 0.85]  # as before


def test_by_another_objective_with_finalists_the_baseline_line_says_what_they_chose() -> None:
    """The finalists' winner is the final model: the line does not stop at the search's
    first choice."""
    choice = ValueChoice("1", "val_mae", 0.33, "lowest val_mae")
    ranked = pd.DataFrame({"trial": ["1", "0"], "baseline": [False, True], "objective": [0.33, 0.41],
                           "rank": [1, 2]})  # fmt: skip
    final = {"trial": "0", "monitor": "val_mae", "finalists": [
        {"trial": "1", "baseline": False}, {"trial": "0", "baseline": True}]}  # fmt: skip
    assert baseline_line(ranked, choice, final) == (
        "Against the baseline in the search (the space's defaults, trial 0): val_mae 0.41 ->"
        " 0.33; the finalists chose the baseline (trial 0) at full fidelity."
    )
    assert baseline_line(ranked, choice, None).startswith("Against the baseline")


def test_by_another_objective_a_baseline_the_finalists_passed_over_is_said_chosen_in_the_search() -> None:
    """The search chose the baseline and the finalists another trial: the line said 'The
    baseline ... was chosen' and then 'the finalists chose trial 1'."""
    choice = ValueChoice("0", "val_mae", 0.33, "lowest val_mae")
    ranked = pd.DataFrame({"trial": ["0", "1"], "baseline": [True, False], "objective": [0.33, 0.41],
                           "rank": [1, 2]})  # fmt: skip
    final = {"trial": "1", "monitor": "val_mae", "gain_over_baseline": 0.02, "finalists": [
        {"trial": "0", "baseline": True}, {"trial": "1", "baseline": False}]}  # fmt: skip
    assert baseline_line(ranked, choice, final) == (
        "In the search, the baseline (the space's defaults, trial 0) was chosen: no sampled"
        " configuration beat its val_mae (0.33); the finalists chose trial 1 (0.0200 better in"
        " val mae than the baseline's finalist, trial 0)."
    )
    assert baseline_line(ranked, choice, None).startswith("The baseline (the space's defaults, trial 0) was")


def test_a_full_disk_at_output_names_output_and_its_fix_not_the_run(
    tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`report RUN --output /usb/r.html` on a full USB stick said 'free some space or move the
    run to a larger disk': the run's disk had room."""
    folder = write_run(tmp_path, "r1", [trial("0", epochs((0.9, 0.8, 1, 1)))])

    def full(path: Path, data: bytes) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr("search.report._write.write_atomic", full)
    output = tmp_path / "usb" / "r.html"
    assert main(["report", str(folder.path), "--output", str(output), "--quiet"]) == 2
    assert capsys.readouterr().err == (
        f"error: --output {output}: the report could not be written there (no space left on the"
        " device); free some space there, or give a file on another disk\n"
    )


@pytest.mark.parametrize("given", [True, False])
def test_a_file_size_limit_at_output_is_said_as_export_says_it(
    given: bool, tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It said 'free some space there, or give a file on another disk' where export said to
    raise `ulimit -f`; with no --output, the run folder's file and the environment's fix."""
    folder = write_run(tmp_path, "r1", [trial("0", epochs((0.9, 0.8, 1, 1)))])

    def limited(path: Path, data: bytes) -> None:
        raise OSError(errno.EFBIG, "File too large", str(path))

    monkeypatch.setattr("search.report._write.write_atomic", limited)
    output = tmp_path / "usb" / "r.html" if given else folder.path / "report.html"
    argv = ["report", str(folder.path), "--quiet"]
    assert main([*argv, "--output", str(output)] if given else argv) == 2
    reason = "file too large for the file-size limit (`ulimit -f`)"
    assert capsys.readouterr().err == (
        f"error: --output {output}: the report could not be written there ({reason}); raise the limit\n"
        if given else f"error: {output}: {reason}; raise the limit\n"
    )


def test_best_so_far_leaves_out_the_wait_before_a_resume() -> None:
    """A run stopped after 5 minutes and resumed a day later: its later trials are plotted
    at the minutes the run spent, not a day on (which squashed the curve against the axis)."""
    trials = [
        trial("0", epochs((0.9, 0.80, 1, 1)), finished="2026-01-01T00:02:00+00:00"),
        trial("1", epochs((0.9, 0.70, 1, 1)), finished="2026-01-01T00:05:00+00:00"),
        # stopped at 00:06 in trial 2; resumed the next day at 00:00, trial 2 ran again
        trial("2", epochs((0.9, 0.85, 1, 1)), finished="2026-01-02T00:04:00+00:00"),
        trial("3", epochs((0.9, 0.86, 1, 1)), finished="2026-01-02T00:07:00+00:00"),
    ]
    created = "2026-01-01T00:00:00+00:00"
    frame = best_so_far(trials_table(trials), created, resumed=["2026-01-02T00:00:00+00:00"])
    assert frame["minutes"].tolist() == [2.0, 5.0, 9.0, 12.0]
    twice = best_so_far(
        trials_table(trials[:2] + trials[3:]), created,
        resumed=["2026-01-01T12:00:00+00:00", "2026-01-02T00:05:00+00:00"],  # no trial ended between
    )
    assert twice["minutes"].tolist() == [2.0, 5.0, 7.0]
    assert best_so_far(trials_table(trials), created)["minutes"].tolist()[-1] == 1447.0  # no resumes given
