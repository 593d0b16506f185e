"""The Optuna backend: translation, choices, pruning, Pareto search and bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from dataclasses import replace
from pathlib import Path
from typing import Any

import keras_tuner as kt
import optuna
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

from search.cli import main
from search.errors import SearchError, SearchInterrupted
from search.report import trials_table
from search.space import parse_space
from search.tuners import Budget, Observer, TunerOptions, WarmTrials
from search.tuners.optuna import distributions, make_pruner, make_sampler, sample, unconditional
from search.tuners.optuna._backend import _study
from search.tuners.optuna._choices import connect
from search.tuners.optuna._oracle import OptunaOracle
from search.tuners.optuna._translate import grid

SPACE = """
[learning_rate]
type = "float"
low = 1e-4
high = 1e-1
log = true
default = 1e-3

[dropout]
type = "float"
low = 0.0
high = 0.8
step = 0.1
default = 0.3

[units]
type = "int"
low = 32
high = 128
step = 32
default = 64

[blocks]
type = "int"
low = 1
high = 8
log = true
default = 2

[augment]
type = "bool"
default = false

[shift]
type = "float"
low = 0.0
high = 0.2
default = 0.1
condition = { augment = true }

[mode]
type = "choice"
values = ["scale", "standardize"]
default = "scale"

[epochs]
type = "fixed"
value = 3
"""


def test_every_type_translates() -> None:
    dists = distributions(parse_space(SPACE))
    assert dists["learning_rate"] == FloatDistribution(1e-4, 1e-1, log=True)
    assert dists["dropout"] == FloatDistribution(0.0, 0.8, step=0.1)
    assert dists["units"] == IntDistribution(32, 128, step=32)
    assert dists["blocks"] == IntDistribution(1, 8, log=True)
    assert dists["augment"] == CategoricalDistribution([False, True])
    assert dists["mode"] == CategoricalDistribution(["scale", "standardize"])
    assert "epochs" not in dists
    assert "shift" not in unconditional(parse_space(SPACE))


def test_conditions_are_suggested_only_when_active(seed: int) -> None:
    space = parse_space(SPACE)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=seed))
    study.enqueue_trial({"augment": True})
    study.enqueue_trial({"augment": False})
    on = sample(study.ask(unconditional(space)), space)
    off = sample(study.ask(unconditional(space)), space)
    assert on["augment"] is True and 0.0 <= on["shift"] <= 0.2
    assert off["augment"] is False and "shift" not in off
    assert on["epochs"] == off["epochs"] == 3
    assert set(on) == set(space.names)


@pytest.mark.parametrize("name", ["tpe", "random", "qmc", "cmaes", "nsga2"])
def test_a_sampler_is_made_without_a_warning(name: str) -> None:
    """Optuna's "experimental" warnings would print among the progress lines."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        make_sampler(name, 1, False)
    assert [str(w.message) for w in caught] == []


def test_a_space_with_nothing_to_search_runs_one_trial(tmp_path: Path) -> None:
    """Every trial of an all-fixed space would train the same configuration again."""
    space = parse_space('[units]\ntype = "fixed"\nvalue = 8\n[augment]\ntype = "fixed"\nvalue = true\n')
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.RandomSampler(seed=0))
    oracle = OptunaOracle(kt.Objective("val_accuracy", "max"), 3, space, study)
    oracle._set_project_dir(str(tmp_path), "p")
    first = oracle.create_trial("a")
    assert first.status == "RUNNING" and first.hyperparameters.values == {"units": 8, "augment": True}
    assert oracle.create_trial("b").status != "RUNNING"


def test_a_space_grown_by_fit_is_searched_after_its_first_trial(tmp_path: Path) -> None:
    """A HyperModel that declares its hyperparameters in ``fit`` starts with nothing to
    search; once its first trial declared them, the budget's trials run."""
    space = parse_space('[units]\ntype = "fixed"\nvalue = 8\n')
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.RandomSampler(seed=0))
    oracle = OptunaOracle(kt.Objective("val_accuracy", "max"), 3, space, study)
    oracle._set_project_dir(str(tmp_path), "p")
    declared = oracle.create_trial("a").hyperparameters.copy()
    declared.Choice("batch_size", [8, 16, 32])
    oracle.update_space(declared)
    second = oracle.create_trial("b")
    assert second.status == "RUNNING" and second.hyperparameters.values["batch_size"] in (8, 16, 32)


def _finished(oracle: OptunaOracle, tuner_id: str, score: float) -> kt.engine.trial.Trial:
    trial = oracle.create_trial(tuner_id)
    if trial.status == "RUNNING":
        oracle.report_epoch(trial.trial_id, 0, {"val_accuracy": score})
        oracle.update_trial(trial.trial_id, {"val_accuracy": score})
        trial.status = "COMPLETED"
        oracle.end_trial(trial)
    return trial


@pytest.mark.parametrize("sampler", ["tpe", "random"])
def test_each_configuration_of_a_small_space_runs_once(sampler: str, tmp_path: Path) -> None:
    """Samplers propose configurations again; each proposal of a tried one is told FAIL
    unrun (not counted), and the search stops once only tried ones are proposed."""
    space = parse_space('[units]\ntype = "choice"\nvalues = [4, 8, 16]\ndefault = 4\n')
    study = optuna.create_study(direction="maximize", sampler=make_sampler(sampler, 0, False))
    oracle = OptunaOracle(kt.Objective("val_accuracy", "max"), 8, space, study)
    oracle._set_project_dir(str(tmp_path), "p")
    trials = [_finished(oracle, f"t{i}", 0.5) for i in range(8)]
    ran = [t.hyperparameters.values["units"] for t in trials if t.status == "COMPLETED"]
    assert sorted(ran) == [4, 8, 16]
    assert trials[-1].status == "STOPPED"
    unrun = [t for t in study.trials if "duplicate_of" in t.user_attrs]
    assert unrun and all(t.state == optuna.trial.TrialState.FAIL for t in unrun)
    assert oracle._counted() == (3, 0)


def test_a_sampler_keeping_to_what_it_has_seen_does_not_end_a_large_space_early(tmp_path: Path) -> None:
    """TPE proposes its best configuration again and again (told FAIL, it learns nothing);
    with 125 configurations and 30 trials asked for, all 30 run, each a new one."""
    space = parse_space("".join(
        f'[{name}]\ntype = "choice"\nvalues = [1, 2, 3, 4, 5]\ndefault = 1\n' for name in "abc"
    ))  # fmt: skip
    study = optuna.create_study(direction="maximize", sampler=make_sampler("tpe", 0, False))
    oracle = OptunaOracle(kt.Objective("val_accuracy", "max"), 30, space, study)
    oracle._set_project_dir(str(tmp_path), "p")
    ran = []
    for i in range(31):
        values = oracle.create_trial(f"t{i}").hyperparameters.values
        if values:
            ran.append(tuple(values[name] for name in "abc"))
            _finished(oracle, f"t{i}", 1.0 - sum(abs(v - 4) for v in ran[-1]) / 30)
    assert len(ran) == 30 and len(set(ran)) == 30


@pytest.mark.parametrize("sampler", ["tpe", "random"])
def test_a_stepped_float_default_is_the_grid_value_the_sampler_draws(sampler: str, tmp_path: Path) -> None:
    """The baseline's dropout 0.3 is the 0.30000000000000004 Optuna draws as 0 + 3 * 0.1:
    the same configuration, not run again; the 9 values run once each."""
    space = parse_space('[dropout]\ntype = "float"\nlow = 0.0\nhigh = 0.8\nstep = 0.1\ndefault = 0.3\n')
    study = optuna.create_study(direction="maximize", sampler=make_sampler(sampler, 0, False))
    study.enqueue_trial(space.defaults(), user_attrs={"baseline": True})
    oracle = OptunaOracle(kt.Objective("val_accuracy", "max"), 12, space, study)
    oracle._set_project_dir(str(tmp_path), "p")
    trials = [_finished(oracle, f"t{i}", 0.5) for i in range(12)]
    ran = [round(t.hyperparameters.values["dropout"], 6) for t in trials if t.status == "COMPLETED"]
    assert sorted(ran) == [round(i / 10, 6) for i in range(9)]


CONDITIONAL = """
[augment]
type = "bool"
default = false

[shift]
type = "choice"
values = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
default = 1
condition = { augment = true }
"""


def test_the_grid_lists_a_finite_space_only() -> None:
    configs = grid(parse_space(CONDITIONAL))
    assert configs is not None and len(configs) == 11
    assert {"augment": False} in configs and {"augment": True, "shift": 10} in configs
    assert grid(parse_space(SPACE)) is None  # learning_rate is continuous
    assert grid(parse_space(CONDITIONAL), limit=10) is None
    wide = parse_space('[seed]\ntype = "int"\nlow = 0\nhigh = 9223372036854775807\ndefault = 1\n')
    assert grid(wide) is None  # counted, not listed: len(range(...)) overflowed, for every trial


@pytest.mark.parametrize("seed", range(4))
def test_a_small_space_stops_only_once_every_configuration_ran(seed: int, tmp_path: Path) -> None:
    """11 configurations: augment off, or on with one of 10 shifts. Random draws find the
    last shifts rarely (1 in 20 draws), so 20 tried ones in a row did not mean none was left."""
    space = parse_space(CONDITIONAL)
    study = optuna.create_study(direction="maximize", sampler=make_sampler("random", seed, False))
    oracle = OptunaOracle(kt.Objective("val_accuracy", "max"), 15, space, study)
    oracle._set_project_dir(str(tmp_path), "p")
    ran = []
    for i in range(15):  # as a tuner does: until the first trial that does not run
        trial = _finished(oracle, f"t{i}", 0.5)
        if trial.status != "COMPLETED":
            break
        ran.append(tuple(sorted(trial.hyperparameters.values.items())))
    assert len(ran) == len(set(ran)) == 11
    assert trial.status == "STOPPED" and oracle.space_spent


def test_the_first_trial_of_a_space_grown_by_fit_ran_its_defaults(tmp_path: Path) -> None:
    """The first trial declared batch_size in ``fit`` and ran its default, 16: a later
    proposal of 16 is that configuration again, so 3 batch sizes make 3 trials."""
    space = parse_space('[units]\ntype = "fixed"\nvalue = 8\n')
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.RandomSampler(seed=0))
    oracle = OptunaOracle(kt.Objective("val_accuracy", "max"), 6, space, study)
    oracle._set_project_dir(str(tmp_path), "p")
    first = oracle.create_trial("t0")
    declared = first.hyperparameters.copy()
    declared.Choice("batch_size", [8, 16, 32], default=16)
    oracle.update_space(declared)
    oracle.report_epoch(first.trial_id, 0, {"val_accuracy": 0.5})
    oracle.update_trial(first.trial_id, {"val_accuracy": 0.5})
    first.status = "COMPLETED"
    oracle.end_trial(first)
    ran = [16]
    for i in range(1, 6):
        trial = _finished(oracle, f"t{i}", 0.5)
        if trial.status != "COMPLETED":
            break
        ran.append(trial.hyperparameters.values["batch_size"])
    assert sorted(ran) == [8, 16, 32]


def test_a_worker_whose_space_is_spent_waits_while_another_runs(tmp_path: Path, monkeypatch) -> None:
    """Two workers, two configurations: the one that finds none left untried waits (its
    trial may have to be run again, if the other worker dies), asking the sampler nothing,
    and stops once the other's trial ended."""
    monkeypatch.setattr("search.tuners.optuna._oracle.IDLE_SECONDS", 0.0)
    space = parse_space('[units]\ntype = "choice"\nvalues = [4, 8]\ndefault = 4\n')
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.RandomSampler(seed=0))
    first, second = (OptunaOracle(kt.Objective("val_accuracy", "max"), 6, space, study) for _ in range(2))
    first._set_project_dir(str(tmp_path / "a"), "p")
    second._set_project_dir(str(tmp_path / "b"), "p")
    running = first.create_trial("a0")
    assert _finished(second, "b0", 0.5).status == "COMPLETED"
    asked = len(study.trials)
    assert second.create_trial("b1").status == "IDLE"
    assert len(study.trials) == asked
    first.update_trial(running.trial_id, {"val_accuracy": 0.5})
    running.status = "COMPLETED"
    first.end_trial(running)
    assert second.create_trial("b2").status == "STOPPED" and second.space_spent
    first.stop_heartbeats()


def test_an_earlier_runs_configuration_is_not_run_again(tmp_path: Path) -> None:
    space = parse_space('[units]\ntype = "choice"\nvalues = [4, 8]\ndefault = 4\n')
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.RandomSampler(seed=0))
    study.add_trial(optuna.trial.create_trial(
        params={"units": 8}, distributions=distributions(space), value=0.9,
        user_attrs={"warm_start": "earlier"},
    ))  # fmt: skip
    oracle = OptunaOracle(kt.Objective("val_accuracy", "max"), 4, space, study)
    oracle._set_project_dir(str(tmp_path), "p")
    trials = [_finished(oracle, f"t{i}", 0.5) for i in range(3)]
    assert [t.hyperparameters.values.get("units") for t in trials if t.status == "COMPLETED"] == [4]


@pytest.mark.parametrize(("max_epochs", "pruned"), [(1, False), (2, True)])
def test_a_trial_is_not_pruned_after_its_last_epoch(max_epochs: int, pruned: bool, tmp_path: Path) -> None:
    """Stopping after the last epoch saves nothing: the trial ran all its epochs and is
    recorded as completed (a pruned one is never chosen)."""
    space = parse_space('[units]\ntype = "choice"\nvalues = [4, 8]\ndefault = 4\n')
    study = optuna.create_study(direction="maximize", pruner=optuna.pruners.ThresholdPruner(lower=0.9))
    oracle = OptunaOracle(kt.Objective("val_accuracy", "max"), 2, space, study, max_epochs=max_epochs)
    oracle._set_project_dir(str(tmp_path), "p")
    trial = oracle.create_trial("a")
    assert oracle.report_epoch(trial.trial_id, 0, {"val_accuracy": 0.5}) is pruned


def test_an_epoch_reported_again_warns_nothing(tmp_path: Path) -> None:
    """A trial adopted after a resume runs again from its first epoch: Optuna would warn
    (on the user's console) of each step it had already been told."""
    space = parse_space('[units]\ntype = "choice"\nvalues = [4, 8]\ndefault = 4\n')
    study = optuna.create_study(direction="maximize")
    oracle = OptunaOracle(kt.Objective("val_accuracy", "max"), 2, space, study, max_epochs=3)
    oracle._set_project_dir(str(tmp_path), "p")
    trial = oracle.create_trial("a")
    oracle.report_epoch(trial.trial_id, 0, {"val_accuracy": 0.5})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        oracle.report_epoch(trial.trial_id, 0, {"val_accuracy": 0.5})
    assert [str(w.message) for w in caught] == []


def test_samplers_and_pruners_by_name() -> None:
    assert isinstance(make_sampler("tpe", 1, False), optuna.samplers.TPESampler)
    assert isinstance(make_sampler("random", 1, False), optuna.samplers.RandomSampler)
    assert isinstance(make_sampler("qmc", 1, False), optuna.samplers.QMCSampler)
    assert isinstance(make_sampler("cmaes", 1, False), optuna.samplers.CmaEsSampler)
    assert isinstance(make_pruner("median", 5), optuna.pruners.MedianPruner)
    assert isinstance(make_pruner("successive-halving", 5), optuna.pruners.SuccessiveHalvingPruner)
    assert isinstance(make_pruner("hyperband", 5), optuna.pruners.HyperbandPruner)
    assert isinstance(make_pruner("none", 5), optuna.pruners.NopPruner)
    with pytest.raises(SearchError, match="sampler 'anneal' does not exist; choose one of: tpe"):
        make_sampler("anneal", 1, False)
    with pytest.raises(SearchError, match="cannot optimize two objectives"):
        make_sampler("cmaes", 1, True)


def test_study_of_another_space_is_refused(tmp_path: Path) -> None:
    budget = Budget(max_trials=2, max_epochs=2)
    first = TunerOptions(space=parse_space(SPACE), study_name="s")
    objective = kt.Objective("val_accuracy", "max")
    _study(first, budget, 0, tmp_path, objective)
    other = TunerOptions(space=parse_space(SPACE.replace("high = 128", "high = 160")),
                         study_name="s")  # fmt: skip
    with pytest.raises(SearchError, match="belongs to another space"):
        _study(other, budget, 0, tmp_path, objective)
    loaded = optuna.load_study(
        study_name="s",
        storage=optuna.storages.JournalStorage(
            optuna.storages.journal.JournalFileBackend(str(tmp_path / "optuna.journal"))
        ),
    )
    assert loaded.user_attrs["space_fingerprint"] == parse_space(SPACE).fingerprint()


def test_a_study_killed_while_adding_its_first_trials_gets_them_on_resume(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A process killed after the study began, before its baseline was queued: the resumed
    run still runs the baseline first and holds the earlier run's trials, each once."""
    budget = Budget(max_trials=2, max_epochs=2)
    earlier = {"hyperparameters": {"learning_rate": 0.01, "dropout": 0.1, "units": 96, "blocks": 2},
               "best": {"val_accuracy": 0.8}, "epochs": [], "run": "stage-one"}  # fmt: skip
    options = TunerOptions(space=parse_space(SPACE), study_name="s",
                           warm=WarmTrials(records=(earlier,), sources=("stage-one",)))  # fmt: skip
    objective = kt.Objective("val_accuracy", "max")

    def killed(*args: object, **kwargs: object) -> None:
        raise SystemExit("killed")

    with monkeypatch.context() as patched:
        patched.setattr(optuna.Study, "enqueue_trial", killed)
        with pytest.raises(SystemExit):
            _study(options, budget, 0, tmp_path, objective)
    study = _study(options, budget, 0, tmp_path, objective)
    trials = study.get_trials()
    assert [t.state for t in trials if t.user_attrs.get("baseline")] == [optuna.trial.TrialState.WAITING]
    assert len([t for t in trials if "warm_start" in t.user_attrs]) == 1
    assert study.user_attrs["space_fingerprint"] == parse_space(SPACE).fingerprint()


def test_a_study_killed_between_two_warm_trials_adds_only_the_missing_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Killed after the first of two earlier trials was added: the resumed study adds the
    second alone, and the baseline."""
    budget = Budget(max_trials=2, max_epochs=2)
    records = tuple(
        {"hyperparameters": {"learning_rate": rate, "dropout": 0.1, "units": 96, "blocks": 2},
         "best": {"val_accuracy": 0.8}, "epochs": [], "run": "stage-one"}
        for rate in (0.01, 0.001)
    )  # fmt: skip
    options = TunerOptions(space=parse_space(SPACE), study_name="s",
                           warm=WarmTrials(records=records, sources=("stage-one",)))  # fmt: skip
    objective = kt.Objective("val_accuracy", "max")
    add_trial = optuna.Study.add_trial

    def killed_at_the_second(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        if study.get_trials(deepcopy=False):
            raise SystemExit("killed")
        add_trial(study, trial)

    with monkeypatch.context() as patched:
        patched.setattr(optuna.Study, "add_trial", killed_at_the_second)
        with pytest.raises(SystemExit):
            _study(options, budget, 0, tmp_path, objective)
    trials = _study(options, budget, 0, tmp_path, objective).get_trials()
    rates = sorted(t.params["learning_rate"] for t in trials if "warm_start" in t.user_attrs)
    assert rates == [0.001, 0.01]
    assert len([t for t in trials if t.user_attrs.get("baseline")]) == 1


def test_a_worker_does_not_set_up_a_study_the_run_has_not(tmp_path: Path) -> None:
    """A worker joining before the run's process added its first trials (or after it was
    killed doing so) set the study up itself without the earlier runs' trials, and a resume
    then took it as complete."""
    options = TunerOptions(space=parse_space(SPACE), study_name="s", joining=True)
    with pytest.raises(SearchError, match=r"^study 's' in .*: the run has not set it up yet"):
        _study(options, Budget(max_trials=2, max_epochs=2), 0, tmp_path, kt.Objective("val_accuracy", "max"))
    study = _study(replace(options, joining=False), Budget(max_trials=2, max_epochs=2), 0, tmp_path,
                   kt.Objective("val_accuracy", "max"))  # fmt: skip
    assert _study(options, Budget(max_trials=2, max_epochs=2), 0, tmp_path,
                  kt.Objective("val_accuracy", "max")).study_name == study.study_name  # fmt: skip


@pytest.mark.parametrize("sampler", ["tpe", "random"])
def test_a_resumed_study_does_not_sample_its_first_trials_again(sampler: str, tmp_path: Path) -> None:
    """A resume creates the seeded sampler again: with the run's own seed it would propose
    the configurations the search began with, trying them twice."""
    budget = Budget(max_trials=6, max_epochs=2)
    options = TunerOptions(space=parse_space(SPACE), study_name="s", sampler=sampler, baseline=False)
    objective = kt.Objective("val_accuracy", "max")
    space = distributions(options.space)

    def ask_and_tell(study: optuna.Study, count: int) -> list[dict]:
        asked = [study.ask(space) for _ in range(count)]
        for trial in asked:
            study.tell(trial, 0.5)
        return [trial.params for trial in asked]

    before = ask_and_tell(_study(options, budget, 0, tmp_path, objective), 3)
    after = ask_and_tell(_study(options, budget, 0, tmp_path, objective), 3)
    assert not [params for params in after if params in before]
    again = ask_and_tell(_study(TunerOptions(space=parse_space(SPACE), study_name="t", sampler=sampler,
                                             baseline=False), budget, 0, tmp_path, objective), 3)  # fmt: skip
    assert again == before  # a new study with the same seed: the same search


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--tuner", "optuna", "--sampler", "anneal"], "--sampler 'anneal' does not exist"),
        (["--tuner", "optuna", "--pruner", "early"], "--pruner 'early' does not exist"),
        (["--tuner", "hyperband", "--sampler", "tpe"], "--sampler applies to --tuner optuna only"),
        (["--tuner", "random", "--objective", "pareto"], "--objective pareto applies to --tuner"),
        (["--tuner", "optuna", "--storage", "postgresql+psycopg://u:p@127.0.0.1:9/db"],
         "cannot reach the database at 127.0.0.1:9"),
        (["--tuner", "optuna", "--storage", "not a url"], "is not a database URL"),
    ],
)
def test_bad_optuna_input(tmp_path: Path, capsys, args: list[str], message: str) -> None:
    assert main(["run", "fashion", *args, "--results", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not (tmp_path / "fashion").exists()


# Half the configurations learn slowly: the median pruner judges them against the fast ones
# (sixteen configurations, so that the ten trials asked for are ten different ones).
SLOW_LR = """
[learning_rate]
type = "choice"
values = [0.002, 0.00001]
default = 0.002

[dense_units]
type = "int"
low = 32
high = 256
step = 32
default = 64

[filters]
type = "fixed"
value = 8

[batch_size]
type = "fixed"
value = 32
"""


def test_pruning_stops_bad_trials_early(tmp_path: Path, fashion_dir: Path, capsys) -> None:
    space = tmp_path / "space.toml"
    space.write_text(SLOW_LR)
    code = main([
        "run", "fashion", "--tuner", "optuna", "--sampler", "random", "--pruner", "median",
        "--train-size", "1000", "--val-size", "300", "--max-trials", "10", "--max-epochs", "3",
        "--space", str(space), "--no-retrain", "--data-dir", str(fashion_dir),
        "--results", str(tmp_path), "--name", "prune", "--seed", "4", "--quiet",
    ])  # fmt: skip
    assert code == 0
    folder = tmp_path / "fashion" / "prune"
    trials = json.loads((folder / "trials.json").read_text())["trials"]
    assert len(trials) == 10
    pruned = [t for t in trials if t["status"] == "pruned"]
    assert pruned, [(t["status"], t["hyperparameters"]) for t in trials]
    for t in pruned:
        assert len(t["epochs"]) == t["pruned_at_epoch"] < 3
        assert t["failure"].startswith("pruned by the Optuna pruner")
    assert all(len(t["epochs"]) == 3 for t in trials if t["status"] == "completed")
    meta = json.loads((folder / "run.json").read_text())
    assert meta["optuna"]["pruner"] == "median" and meta["best"]["trial"] not in {
        t["id"] for t in pruned
    }
    storage = optuna.storages.JournalStorage(
        optuna.storages.journal.JournalFileBackend(str(folder / "optuna.journal"))
    )
    study = optuna.load_study(study_name="fashion-prune", storage=storage)
    states = [t.state.name for t in study.trials]
    assert states.count("PRUNED") == len(pruned) and states.count("COMPLETE") == 10 - len(pruned)
    capsys.readouterr()
    assert main(["status", str(folder)]) == 0
    assert f"{len(pruned)} pruned" in capsys.readouterr().out


def test_pareto_search_returns_its_front(tmp_path: Path, fashion_dir: Path, capsys) -> None:
    code = main([
        "run", "fashion", "--tuner", "optuna", "--objective", "pareto", "--pruner", "median",
        "--train-size", "600", "--val-size", "300", "--max-trials", "3", "--max-epochs", "2",
        "--fix", "filters=16", "--no-retrain", "--data-dir", str(fashion_dir),
        "--results", str(tmp_path), "--name", "pareto", "--seed", "1",
    ])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0
    assert "Optuna does not prune studies with two objectives" in out
    meta = json.loads((tmp_path / "fashion" / "pareto" / "run.json").read_text())
    front = meta["pareto_front"]
    assert front and all({"trial", "converged_val_accuracy", "overfitting"} <= set(f) for f in front)
    # The second objective is the gap counted as 0 below 0, as in the ranking rule.
    table = trials_table(json.loads((tmp_path / "fashion" / "pareto" / "trials.json").read_text())["trials"])
    gaps = dict(zip(table["trial"], table["gap_accuracy"], strict=True))
    assert all(f["overfitting"] == pytest.approx(max(gaps[f["trial"]], 0.0)) for f in front)
    storage = optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(
        str(tmp_path / "fashion" / "pareto" / "optuna.journal")))  # fmt: skip
    study = optuna.load_study(study_name="fashion-pareto", storage=storage)
    assert len(study.directions) == 2
    assert {t.number for t in study.best_trials} == {int(f["trial"]) for f in front}


def test_two_workers_share_one_search(tmp_path: Path, fashion_dir: Path, capsys) -> None:
    code = main([
        "run", "fashion", "--tuner", "optuna", "--workers", "2", "--sampler", "random",
        "--train-size", "600", "--val-size", "300", "--max-trials", "6", "--max-epochs", "2",
        "--fix", "filters=16", "--no-retrain", "--data-dir", str(fashion_dir),
        "--results", str(tmp_path), "--name", "shared", "--seed", "2", "--quiet",
    ])  # fmt: skip
    assert code == 0
    folder = tmp_path / "fashion" / "shared"
    trials = json.loads((folder / "trials.json").read_text())["trials"]
    assert sorted(int(t["id"]) for t in trials) == list(range(6))  # none lost, none twice
    assert all(t["status"] in ("completed", "pruned") for t in trials)
    assert "worker 1:" in (folder / "worker-1.log").read_text()
    storage = optuna.storages.JournalStorage(
        optuna.storages.journal.JournalFileBackend(str(folder / "optuna.journal"))
    )
    study = optuna.load_study(study_name="fashion-shared", storage=storage)
    real = [t for t in study.trials if not t.user_attrs.get("surplus")]
    assert len(real) == 6
    assert {t.user_attrs["keras_tuner_trial_id"] for t in real} == {t["id"] for t in trials}
    assert (folder / "best_model.keras").is_file()
    capsys.readouterr()
    assert main(["worker", str(folder)]) == 2
    assert "the run is finished; nothing to join" in capsys.readouterr().err


def test_worker_needs_an_optuna_run(tmp_path: Path, capsys) -> None:
    from search.storage import RunFolder

    run = RunFolder(tmp_path / "fashion" / "hb")
    run.path.mkdir(parents=True)
    run.write_meta({"experiment": "fashion", "tuner": "hyperband", "status": "running"})
    assert main(["worker", str(run.path)]) == 2
    assert "a hyperband run cannot take workers" in capsys.readouterr().err
    assert main(["run", "fashion", "--tuner", "random", "--workers", "2"]) == 2
    assert "--workers 2 needs --tuner optuna" in capsys.readouterr().err


def test_more_workers_than_trials_or_cores_are_refused_before_any_work(tmp_path: Path, capsys) -> None:
    """--workers 1000 started 943 processes, each loading TensorFlow, on a 2-core machine."""
    cores = len(os.sched_getaffinity(0))
    assert main(["run", "fashion", "--tuner", "optuna", "--workers", "3", "--max-trials", "2"]) == 2
    assert "--workers 3: the search runs 2 trials, so 1 of the workers would have none; give at most" \
        " --workers 2, or more --max-trials" in capsys.readouterr().err
    assert main(["run", "fashion", "--tuner", "optuna", "--workers", str(cores + 1),
                 "--max-trials", "100"]) == 2  # fmt: skip
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"on this machine's {cores} CPU core" in err, err
    assert f"give at most --workers {cores} (more only share them" in err
    assert not list(tmp_path.rglob("run.json"))


def test_more_workers_than_cores_given_again_to_a_resume_are_refused(tmp_path: Path, capsys) -> None:
    """A resume keeps the workers it was started with on any machine; more given again are
    held to this machine's cores, as a new run's are."""
    from search.engine import RunRequest, stored_request
    from search.storage import RunFolder

    cores = len(os.sched_getaffinity(0))
    folder = RunFolder(tmp_path / "fashion" / "r")
    folder.path.mkdir(parents=True)
    request = RunRequest(experiment="fashion", tuner="optuna", workers=cores + 2, results=tmp_path)
    folder.write_meta({"experiment": "fashion", "tuner": "optuna", "status": "interrupted",
                       "request": request.to_json("r")})  # fmt: skip
    assert stored_request(folder).workers == cores + 2  # as it was started, elsewhere maybe
    assert stored_request(folder, given={"workers": cores + 2}).workers == cores + 2
    assert stored_request(folder, given={"workers": cores}).workers == cores
    before = folder.run_file.read_bytes()
    assert main(["resume", str(folder.path), "--workers", str(cores + 1)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"error: --workers {cores + 1}: each worker is"), err
    assert folder.run_file.read_bytes() == before


def test_a_worker_of_a_negative_index_is_refused(tmp_path: Path, capsys) -> None:
    """It failed with 'unexpected ValueError: Seed must be between 0 and 2**32 - 1'."""
    assert main(["worker", "anything", "--index", "-1"]) == 2
    assert capsys.readouterr().err.startswith("error: --index (-1) must be at least 0;")


def test_killed_worker_trial_is_failed_and_retried(tmp_path: Path, fashion_dir: Path) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    # The killed worker's trial is stale 6 s after its last beat; a live worker's never is,
    # however late a loaded machine lets its heartbeat thread run (its process runs).
    env = {**os.environ, "SEARCH_HEARTBEAT_SECONDS": "2"}
    main_proc = subprocess.Popen(
        [sys.executable, "-m", "search", "run", "fashion", "--tuner", "optuna", "--workers", "2",
         "--sampler", "random", "--pruner", "none", "--train-size", "1500", "--val-size", "300",
         "--max-trials", "8", "--max-epochs", "3", "--fix", "filters=16", "--no-retrain",
         "--data-dir", str(fashion_dir), "--results", str(tmp_path), "--name", "kill",
         "--seed", "5", "--quiet"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    trials_file = tmp_path / "fashion" / "kill" / "trials.json"
    victim = None
    deadline = time.monotonic() + 240
    while victim is None and time.monotonic() < deadline and main_proc.poll() is None:
        time.sleep(0.05)
        try:
            trials = json.loads(trials_file.read_text())["trials"]
        except (OSError, ValueError):
            continue
        for t in trials:  # mid-trial: a kill after its last epoch may find it told COMPLETE already
            if t["status"] == "running" and t["pid"] != main_proc.pid and 0 < len(t["epochs"]) < 3:
                victim = t
    assert victim is not None, "no worker trial was seen mid-trial"
    os.kill(victim["pid"], signal.SIGKILL)
    out, _ = main_proc.communicate(timeout=300)
    assert main_proc.returncode == 0, out

    trials = json.loads(trials_file.read_text())["trials"]
    killed = next(t for t in trials if t["id"] == victim["id"])
    assert killed["status"] == "failed"
    assert f"worker (PID {victim['pid']}) died" in killed["failure"]
    assert "its configuration is run again" in killed["failure"]
    done = [t for t in trials if t["status"] == "completed"]
    assert len(done) == 8
    storage = optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(
        str(tmp_path / "fashion" / "kill" / "optuna.journal")))  # fmt: skip
    study = optuna.load_study(study_name="fashion-kill", storage=storage)
    stale = [t for t in study.trials if t.user_attrs.get("stale")]
    assert [t.number for t in stale] == [int(victim["id"])]
    retries = [t for t in study.trials if t.user_attrs.get("retry_of") == stale[0].number]
    assert len(retries) == 1 and retries[0].params == stale[0].params
    assert retries[0].state == optuna.trial.TrialState.COMPLETE
    assert not [t for t in study.trials if t.state == optuna.trial.TrialState.RUNNING]


def test_a_slow_live_worker_is_not_stale_a_dead_one_is() -> None:
    import os
    import socket
    import subprocess
    import sys
    import time

    from search.tuners.optuna._heartbeat import fail_stale_trials

    study = optuna.create_study(storage=optuna.storages.InMemoryStorage())
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    silent_since = time.time() - 3600  # no heartbeat for an hour
    for pid in (os.getpid(), int(dead.stdout)):
        trial = study.ask()
        for key, value in (("heartbeat", silent_since), ("pid", pid), ("host", socket.gethostname())):
            trial.set_user_attr(key, value)
    failed = fail_stale_trials(study, grace=1.0)
    assert [t.user_attrs["pid"] for t in failed] == [int(dead.stdout)]
    states = [t.state for t in study.get_trials(deepcopy=False)]
    assert states[:2] == [optuna.trial.TrialState.RUNNING, optuna.trial.TrialState.FAIL]


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("postgresql+psycopg://u:secret@127.0.0.1:notaport/study",
         "storage '...@127.0.0.1:notaport/study': its port is not a number; give host:PORT (an IPv6"
         " host in brackets: [::1]:5432), e.g. postgresql+psycopg://user:password@host:5432/dbname"),
        ("postgresql+psycopg://u:secret@[::1:55432/study",
         "storage '...@[::1:55432/study': its port is not a number; give host:PORT (an IPv6"
         " host in brackets: [::1]:5432), e.g. postgresql+psycopg://user:password@host:5432/dbname"),
        ("redis://localhost",
         "storage redis://localhost: redis:// is not a database Optuna can keep a study in; use one"
         " of: postgresql+psycopg://, mysql+pymysql://, sqlite:////ABSOLUTE/PATH"),
        ("mysql://u:secret@h/db",
         "storage mysql://u:***@h/db: its database driver, the 'MySQLdb' module, is not"
         " installed; pip install mysqlclient"),
        ("postgresql+psycopg2://u:secret@h/db",
         "storage postgresql+psycopg2://u:***@h/db: its database driver, the 'psycopg2' module, is"
         " not installed; pip install psycopg2-binary, or use postgresql+psycopg://, whose driver"
         " is installed"),
        ("sqlite:////no-such-folder/x.db",
         "storage sqlite:////no-such-folder/x.db: no folder /no-such-folder for the SQLite file"
         " /no-such-folder/x.db; create the folder first"),
    ],
)
def test_a_storage_url_that_cannot_work_is_named_with_its_fix(url: str, message: str) -> None:
    """They said 'unexpected ValueError', 'cannot reach the database at localhost:default port
    (Can't load plugin...)' or 'the database driver is missing (Failed to import...)'."""
    with pytest.raises(SearchError) as caught:
        connect(url)
    assert str(caught.value) == message


_SQLITE_PAST_THE_LIMIT = """
import resource, signal, sys
from search.errors import SearchError
from search.tuners.optuna._choices import connect

signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit then fails (EFBIG)
resource.setrlimit(resource.RLIMIT_FSIZE, (8192, 8192))
try:
    connect(sys.argv[1])
except SearchError as exc:
    print(exc)
"""


def test_a_sqlite_file_past_the_file_size_limit_names_the_limit(tmp_path: Path) -> None:
    """SQLite says 'disk I/O error' where the file-size limit stops its file: the fix said
    only to make the folder writable, which it was."""
    url = f"sqlite:///{tmp_path}/study.db"
    said = subprocess.run(
        [sys.executable, "-c", _SQLITE_PAST_THE_LIMIT, url], capture_output=True, text=True, timeout=120
    )
    assert said.returncode == 0, said.stderr[-2000:]
    assert said.stdout == (
        f"storage {url}: cannot open the SQLite file {tmp_path}/study.db (disk I/O error); make"
        " the file and its folder writable, free some space there, or raise the file-size limit"
        " (`ulimit -f`)\n"
    )


def test_a_relative_sqlite_path_names_the_file_tried_and_four_slashes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.chdir(tmp_path)
    url = "sqlite:///tmp/x.db"
    assert main(["run", "fashion", "--tuner", "optuna", "--storage", url, "--results", str(tmp_path)]) == 2
    assert capsys.readouterr().err == (
        f"error: --storage sqlite:///tmp/x.db: no folder {tmp_path}/tmp for the SQLite file"
        f" {tmp_path}/tmp/x.db (three slashes take a path relative to the current folder; for"
        " /tmp/x.db give four: sqlite:////tmp/x.db); create the folder first\n"
    )
    assert not (tmp_path / "fashion").exists()


class _CtrlCAfterSecondTrial(Observer):
    """Ctrl-C as the second trial ends: the run stops between trials."""

    def __init__(self) -> None:
        self.ended = 0

    def trial_end(self, trial: Any) -> None:
        self.ended += 1
        if self.ended == 2:
            raise KeyboardInterrupt


@pytest.mark.parametrize("sampler", ["tpe", "random"])
def test_a_stopped_and_resumed_study_samples_what_an_unstopped_one_does(sampler: str, tmp_path: Path) -> None:
    """A seeded run stopped and resumed tries the configurations the same run never stopped
    tries: the sampler is seeded for each trial, not once per process."""
    import search
    from tests import user_models as um

    x, y = um.tiny_data()
    common = {"tuner": "optuna", "sampler": sampler, "pruner": "none", "max_trials": 5, "max_epochs": 1,
              "seed": 3, "results": tmp_path, "retrain": False, "quiet": True}  # fmt: skip
    whole = search.run(um.build, x, y, name="whole", **common)
    with pytest.raises(SearchInterrupted):
        search.run(um.build, x, y, name="stopped", observers=[_CtrlCAfterSecondTrial()], **common)
    resumed = search.resume(tmp_path / "build" / "stopped", quiet=True)

    def tried(run: Any) -> list[dict]:
        return [t["hyperparameters"] for t in json.loads((run.folder / "trials.json").read_text())["trials"]]

    assert tried(resumed) == tried(whole)


def test_a_proposal_of_a_tried_configuration_is_followed_by_another(tmp_path: Path) -> None:
    """Trial 1's sampler (seeded for place 1) proposes trial 0's configuration: the random
    draw asked instead is seeded apart from it, not the same draw told FAIL a second time."""
    from functools import partial

    space = parse_space(SPACE)
    scratch = optuna.create_study(sampler=make_sampler("random", 8, False))
    drawn = scratch.ask(unconditional(space))
    sample(drawn, space)  # what the sampler seeded 7 + 1 proposes at place 1
    study = optuna.create_study(direction="maximize")
    tried = optuna.trial.create_trial(params=drawn.params, distributions=drawn.distributions, value=0.5)
    study.add_trial(tried)
    oracle = OptunaOracle(kt.Objective("val_accuracy", "max"), 3, space, study, seed=7,
                          sampler_for=partial(make_sampler, "random", multi_objective=False))  # fmt: skip
    oracle._set_project_dir(str(tmp_path), "p")
    assert oracle.create_trial("a").status == "RUNNING"
    assert [t.user_attrs.get("duplicate_of") for t in study.trials[1:]] == [0, None]
