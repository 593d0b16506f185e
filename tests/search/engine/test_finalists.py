"""Finalists at full fidelity (``--finalists K``) and the named budgets (``--budget``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import keras
import keras_tuner as kt
import numpy as np
import pytest

import search
from search.cli import main
from search.engine import RunRequest, plan
from search.engine._choose import pick_finalists
from search.engine._finalists import chosen_summary
from search.report import choice_lines, fewer_finalists, load_report
from search.report._data import (
    describe_finalists,
    finalist_curves,
    finalists_table,
    finalists_verdict,
    tie_words,
)
from search.report._html import render_run, run_figures
from search.storage import RunFolder
from tests import user_models as um


def _record(trial: str, lr: float, baseline: bool = False) -> dict[str, Any]:
    return {"id": trial, "hyperparameters": {"learning_rate": lr}, "baseline": baseline}


def test_finalists_are_distinct_and_include_the_baseline() -> None:
    records = [_record("0", 1e-3, baseline=True), _record("1", 1e-2), _record("2", 1e-2),
               _record("3", 3e-3), _record("4", 5e-4)]  # fmt: skip
    ranked = ["1", "2", "3", "4", "0"]  # "2" repeats "1"'s configuration
    assert [r["id"] for r in pick_finalists(records, ranked, 3)] == ["1", "3", "0"]
    assert [r["id"] for r in pick_finalists(records, ranked, 4)] == ["1", "3", "4", "0"]
    assert [r["id"] for r in pick_finalists(records, ["0", "1"], 3)] == ["0", "1"]
    assert [r["id"] for r in pick_finalists(records, ranked, 1)] == ["1"]  # one: no baseline


def test_the_best_finalist_at_full_fidelity_is_the_final_model(tmp_path: Path) -> None:
    x, y = um.tiny_data()
    rng = np.random.default_rng(1)
    x_test, y_test = rng.normal(size=(40, x.shape[1])).astype("float32"), rng.integers(0, 3, 40)
    run = search.run(
        um.build, x, y, test_data=(x_test, y_test), tuner="random", max_trials=4, max_epochs=2,
        finalists=3, retrain_max_epochs=3, results=tmp_path, name="f", quiet=True, seed=2,
    )  # fmt: skip
    meta = json.loads((run.folder / "run.json").read_text())
    final, best = meta["final"], meta["best"]
    finalists = final["finalists"]
    assert 2 <= len(finalists) <= 3
    assert any(f["baseline"] for f in finalists)  # the defaults are judged at full fidelity too
    assert len({f["trial"] for f in finalists}) == len(finalists)
    scores = {f["trial"]: f["val_score"] for f in finalists}
    assert best["trial"] == final["trial"] == max(scores, key=lambda t: scores[t])
    assert "finalists" in best["rule"] and best["search_choice"] in scores
    assert all(1 <= f["epochs"] <= 3 and f["val_accuracy_per_epoch"] for f in finalists)
    baseline = next(f for f in finalists if f["baseline"])
    assert final["gain_over_baseline"] == pytest.approx(
        scores[final["trial"]] - baseline["val_score"], abs=1e-5
    )
    assert final["test_images"] == 40 and final["test_accuracy"] is not None
    assert meta["budget"]["finalists"] == 3
    assert (run.folder / "best_model.keras").is_file()


def test_fewer_finalists_than_asked_say_so(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """Two trials give two distinct configurations: four finalists asked, two trained,
    and the progress line, run.json and the report say why (nothing did with quiet=True)."""
    run = search.run(um.build, *um.tiny_data(), tuner="random", max_trials=2, max_epochs=1, finalists=4,
                     retrain_max_epochs=1, results=tmp_path, name="few", seed=2)  # fmt: skip
    words = "(4 asked; the search scored only 2 distinct configurations)"
    assert f"2 finalists {words} at full fidelity" in capsys.readouterr().out
    final = run.meta["final"]
    assert len(final["finalists"]) == 2 and final["finalists_asked"] == 4
    (line, *_) = choice_lines(load_report(RunFolder(run.folder)))
    assert line.startswith(f"Chose trial {final['trial']} among 2 finalists {words}, by validation")
    assert fewer_finalists(3, 3) == ""


def test_finalists_need_the_validated_retrain(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    code = main(["run", "fashion", "--tuner", "random", "--finalists", "2", "--no-retrain",
                 "--results", str(tmp_path)])  # fmt: skip
    assert code == 2
    err = capsys.readouterr().err
    assert "--finalists 2" in err and "validated" in err and "Traceback" not in err
    assert not any(tmp_path.iterdir())
    code = main(["run", "fashion", "--tuner", "random", "--finalists", "1", "--no-retrain",
                 "--results", str(tmp_path)])  # fmt: skip
    assert code == 2  # it would do nothing
    assert capsys.readouterr().err == (
        "error: --finalists 1 retrains the chosen configuration alone, which this run skips:"
        " leave out --finalists, or let the run retrain (the default)\n"
    )
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize("bad", [["--finalists", "0"], ["--budget", "huge"]])
def test_bad_budget_options_are_refused(bad: list[str], tmp_path: Path, capsys) -> None:
    assert main(["run", "fashion", "--tuner", "random", *bad, "--results", str(tmp_path)]) == 2
    assert bad[0] in capsys.readouterr().err


def test_the_gpu_budget_searches_more_on_every_image() -> None:
    cpu = plan(RunRequest(experiment="fashion", tuner="optuna", budget="cpu"))
    gpu = plan(RunRequest(experiment="fashion", tuner="optuna", budget="gpu"))
    assert (cpu.profile, cpu.finalists, cpu.data.train_size) == ("cpu", 1, 10000)
    assert (gpu.profile, gpu.finalists, gpu.data.train_size) == ("gpu", 3, None)
    assert gpu.budget.max_trials > cpu.budget.max_trials
    assert gpu.budget.max_epochs > cpu.budget.max_epochs
    assert max(gpu.space["filters"].values) > max(cpu.space["filters"].values)
    given = plan(RunRequest(experiment="fashion", tuner="optuna", budget="gpu", finalists=1,
                            train_size=500, max_trials=2))  # fmt: skip
    assert (given.finalists, given.data.train_size, given.budget.max_trials) == (1, 500, 2)
    auto = plan(RunRequest(experiment="fashion", tuner="optuna"))
    assert auto.profile == "cpu"  # CI and this machine have no GPU


@pytest.mark.parametrize(("gain", "words"), [
    (0.0042, "0.0042 better in val loss than"),  # the chosen one's loss is lower
    (-0.0042, "0.0042 worse in val loss than"),
])  # fmt: skip
def test_a_gain_on_a_loss_reads_as_better_or_worse(gain: float, words: str) -> None:
    """run.json's gain is positive where the chosen one is better, whatever the direction:
    for a loss the words say better or worse, not "+0.0042 val loss" (a higher loss)."""
    finalists = [{"trial": "3", "val_score": 0.30, "train_images": 800},
                 {"trial": "0", "baseline": True, "val_score": 0.30 + gain, "train_images": 800}]  # fmt: skip
    final = {"trial": "3", "monitor": "val_loss", "val_score": 0.30, "train_images": 800,
             "finalists": finalists, "gain_over_baseline": gain}  # fmt: skip
    assert f"({words} the baseline's finalist, trial 0)" in finalists_verdict(final)
    said = describe_finalists(final)
    assert said is not None and f"{words} the baseline (trial 0)" in said


def test_a_tie_with_the_baseline_reads_as_one() -> None:
    """Finalists of equal validation scores: the search's rank chose, and the report says
    so, not that the chosen one was "0.0000 better" by its validation."""
    finalists = [{"trial": "1", "val_score": 0.9140625, "train_images": 800},
                 {"trial": "0", "baseline": True, "val_score": 0.9140625, "train_images": 800}]  # fmt: skip
    final = {"trial": "1", "monitor": "val_accuracy", "val_score": 0.9140625, "train_images": 800,
             "finalists": finalists, "gain_over_baseline": 0.0}  # fmt: skip
    assert "(equal in val accuracy to the baseline's finalist, trial 0)" in finalists_verdict(final)
    said = describe_finalists(final)
    assert said is not None and "equal in val accuracy to the baseline (trial 0)" in said
    assert "better" not in said
    assert tie_words(final) == " (tied with trial 0; the search's rank broke the tie)"
    assert tie_words({**final, "finalists": [finalists[0], {**finalists[1], "val_score": 0.9}]}) == ""
    record = {"id": "1", "hyperparameters": {}, "best_epoch": 1, "best": {"val_accuracy": 0.6}}
    rule = chosen_summary(record, "val_accuracy", 2, "1", True, final)["rule"]  # what status prints
    assert rule.endswith("at its kept epoch (tied with trial 0; the search's rank broke the tie).")


def test_the_report_shows_the_finalists(tmp_path: Path) -> None:
    x, y = um.tiny_data()
    run = search.run(um.build, x, y, tuner="random", max_trials=3, max_epochs=1, finalists=2,
                     retrain_max_epochs=2, results=tmp_path, name="r", quiet=True)  # fmt: skip
    report = load_report(RunFolder(run.folder))
    final = report.meta["final"]
    table = finalists_table(final)
    assert table is not None and len(table) == 2 and table["chosen"].sum() == 1
    assert table["baseline"].any()
    curves = finalist_curves(final)
    assert curves is not None and set(curves["trial"]) == set(table["trial"])
    said = describe_finalists(final)
    assert said is not None and f"trial {final['trial']} kept" in said
    titles = [title for title, _ in run_figures(report, 5)]
    assert "Finalists at full fidelity" in titles and "Final retrain" not in titles
    page = render_run(report)
    assert "2 finalists trained on" in page
    assert describe_finalists({"trial": "1", "epochs": 2}) is None


class FailsAtFullFidelity(kt.HyperModel):
    """Trains in the search; at full fidelity (validated, EarlyStopping given) every
    configuration but the defaults diverges."""

    def build(self, hp: kt.HyperParameters) -> keras.Model:
        return um.build(hp)

    def fit(self, hp: kt.HyperParameters, model: keras.Model, *args: Any, **kwargs: Any) -> Any:
        validated = any(isinstance(c, keras.callbacks.EarlyStopping) for c in kwargs["callbacks"])
        defaults = {p.name: p.default for p in hp.space}
        if validated and hp.values != defaults:
            raise FloatingPointError("loss became nan in epoch 1; lower the learning rate")
        return model.fit(*args, **kwargs)


def test_a_failing_finalist_is_recorded_and_the_others_go_on(tmp_path: Path) -> None:
    x, y = um.tiny_data()
    run = search.run(FailsAtFullFidelity(), x, y, tuner="random", max_trials=4, max_epochs=1,
                     finalists=3, retrain_max_epochs=2, results=tmp_path, name="x", quiet=True)  # fmt: skip
    assert run.status == "finished"
    final = run.meta["final"]
    failed = [f for f in final["finalists"] if "failure" in f]
    assert failed and all("loss became nan" in f["failure"] for f in failed)
    assert final["trial"] == next(f["trial"] for f in final["finalists"] if f["baseline"])
    assert "gain_over_baseline" in final


class BaselineUnscoredAtFullFidelity(kt.HyperModel):
    """At full fidelity the defaults log no validation accuracy (NaN); the others do."""

    every = False

    def build(self, hp: kt.HyperParameters) -> keras.Model:
        return um.build(hp)

    def fit(self, hp: kt.HyperParameters, model: keras.Model, *args: Any, **kwargs: Any) -> Any:
        validated = any(isinstance(c, keras.callbacks.EarlyStopping) for c in kwargs["callbacks"])
        if validated and (self.every or hp.values == {p.name: p.default for p in hp.space}):
            kwargs["callbacks"] = [_Unscored(), *kwargs["callbacks"]]
        return model.fit(*args, **kwargs)


class _Unscored(keras.callbacks.Callback):
    def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
        logs["val_accuracy"] = float("nan")  # what the callbacks after it see


def test_no_gain_is_stated_over_a_baseline_without_a_score(tmp_path: Path) -> None:
    x, y = um.tiny_data()
    run = search.run(BaselineUnscoredAtFullFidelity(), x, y, tuner="random", max_trials=3,
                     max_epochs=1, finalists=2, retrain_max_epochs=1, results=tmp_path,
                     name="x", quiet=True)  # fmt: skip
    final = run.meta["final"]
    base = next(f for f in final["finalists"] if f["baseline"])
    assert np.isnan(base["val_score"]) and final["trial"] != base["trial"]
    assert final.get("gain_over_baseline") is None  # not NaN
    line = load_report(RunFolder(run.folder)).baseline
    assert line is not None and "nan" not in line, line


def test_a_baseline_chosen_on_a_loss_gains_zero_not_minus_zero(tmp_path: Path) -> None:
    """A minimized objective's tie was negated into -0.0, written so in run.json."""
    x, y = um.tiny_data()
    run = search.run(um.build, x, y, tuner="random", max_trials=1, max_epochs=1, finalists=2,
                     objective="val_loss", retrain_max_epochs=1, results=tmp_path, quiet=True)  # fmt: skip
    final = run.meta["final"]
    assert [f["baseline"] for f in final["finalists"]] == [True]
    assert '"gain_over_baseline": 0.0' in (run.folder / "run.json").read_text()


class NoneScoredAtFullFidelity(BaselineUnscoredAtFullFidelity):
    every = True


def test_finalists_without_scores_are_said_to_be_chosen_by_rank(tmp_path: Path) -> None:
    x, y = um.tiny_data()
    run = search.run(NoneScoredAtFullFidelity(), x, y, tuner="random", max_trials=3,
                     max_epochs=1, finalists=2, retrain_max_epochs=1, results=tmp_path,
                     name="x", quiet=True)  # fmt: skip
    final, best = run.meta["final"], run.meta["best"]
    assert final["chosen_by"] == "the search's rank: no finalist logged its validation score"
    assert "by the search's rank" in best["rule"] and "by validation" not in best["rule"]


def test_the_chosen_finalist_of_a_fit_that_recompiles_is_tested(tmp_path: Path) -> None:
    """A finalist saved with the optimizer of its fit's second phase (fine-tuning's, with
    more variables than a new build's) is loaded for its one test all the same."""
    x, y = um.tiny_data()
    run = search.run(
        um.TwoPhases(), x, y, test_data=(x[:30], y[:30]), tuner="random", max_trials=2,
        max_epochs=3, finalists=2, retrain_max_epochs=3, results=tmp_path, name="two", quiet=True,
        seed=3,
    )  # fmt: skip
    assert run.status == "finished"
    assert len(run.meta["final"]["finalists"]) == 2
    assert run.test_metrics is not None and 0 <= run.test_metrics["accuracy"] <= 1


def test_a_gain_below_the_shown_decimals_reads_as_a_tie() -> None:
    """A gain of 0.00003 read "0.0000 better", and the headline did not say the search's
    rank broke what reads as a tie."""
    finalists = [{"trial": "1", "val_score": 0.91409, "train_images": 800},
                 {"trial": "0", "baseline": True, "val_score": 0.91406, "train_images": 800}]  # fmt: skip
    final = {"trial": "1", "monitor": "val_accuracy", "val_score": 0.91409, "train_images": 800,
             "finalists": finalists, "gain_over_baseline": 0.00003}  # fmt: skip
    said = describe_finalists(final)
    assert said is not None and "equal in val accuracy to the baseline (trial 0)" in said, said
    assert "0.0000" not in said and "better" not in said
    assert tie_words(final) == " (tied with trial 0; the search's rank broke the tie)"
