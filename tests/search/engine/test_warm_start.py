"""``--warm-start RUN``: tuning in stages, one run building on another's finished trials."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import keras
import keras_tuner as kt
import optuna
import pytest
from rich.console import Console

import search
from search.api import experiment_for
from search.cli import main
from search.cli._run import warm_folders
from search.data import array_splits
from search.engine import RunContinues, RunRequest, plan, run_search
from search.errors import SearchError
from search.storage import RunFolder
from search.tuners.optuna._choices import make_storage
from search.tuners.optuna._oracle import WARM_ATTR
from tests import user_models as um

SEED = 3
STAGE_ONE_TRIALS = 3
LR_ONLY = {"units": 8, "dropout": 0.0}
"""Stage one tunes the learning rate alone, the other parameters fixed."""


def _run(tmp_path: Path, tuner: str, name: str, **options: Any) -> search.Run:
    x, y = um.tiny_data()
    settings: dict[str, Any] = {
        "tuner": tuner, "max_trials": 2, "max_epochs": 2, "results": tmp_path / "results",
        "name": name, "retrain": False, "quiet": True, "seed": SEED,
    }  # fmt: skip
    hypermodel = options.pop("hypermodel", um.build)
    settings.update(options)
    return search.run(hypermodel, x, y, **settings)


def _build_with_extra(hp: kt.HyperParameters) -> keras.Model:
    """``um.build`` declaring one more hyperparameter, which it does not use."""
    hp.Float("extra", 0.0, 1.0, default=0.5)
    return um.build(hp)


def _trials(run: search.Run | Path) -> list[dict[str, Any]]:
    folder = run.folder if isinstance(run, search.Run) else run
    return json.loads((folder / "trials.json").read_text())["trials"]


@pytest.fixture(scope="module")
def stage_one(tmp_path_factory: pytest.TempPathFactory) -> search.Run:
    """A learning-rate-only run: the first stage."""
    root = tmp_path_factory.mktemp("stage-one")
    return _run(root, "random", "lr", max_trials=STAGE_ONE_TRIALS, fix=LR_ONLY)


def _study(run: search.Run) -> optuna.Study:
    return optuna.load_study(
        study_name=run.meta["optuna"]["study"], storage=make_storage(None, run.folder)
    )


def _warm(study: optuna.Study) -> list[optuna.trial.FrozenTrial]:
    return [t for t in study.get_trials() if WARM_ATTR in t.user_attrs]


def test_optuna_study_holds_the_earlier_trials_and_the_run_only_its_own(
    stage_one: search.Run, tmp_path: Path
) -> None:
    earlier = _trials(stage_one)
    assert len(earlier) == STAGE_ONE_TRIALS
    run = _run(tmp_path, "optuna", "stage2", warm_start=[stage_one])
    warm = _warm(_study(run))
    assert len(warm) == STAGE_ONE_TRIALS
    assert all(t.state == optuna.trial.TrialState.COMPLETE for t in warm)
    by_rate = {round(t.params["learning_rate"], 9): t for t in warm}
    for record in earlier:  # each earlier trial, its values, score and learning curve
        trial = by_rate[round(record["hyperparameters"]["learning_rate"], 9)]
        assert trial.params["units"] == LR_ONLY["units"]
        assert trial.value == pytest.approx(record["best"]["val_accuracy"])
        assert trial.intermediate_values == {
            e["epoch"]: pytest.approx(e["val_accuracy"]) for e in record["epochs"]
        }
        assert trial.user_attrs[WARM_ATTR] == str(stage_one.folder)
    own = _trials(run)  # max_trials counts this run's trials only; none of them is warm
    assert len(own) == 2 and all(t["status"] in ("completed", "pruned") for t in own)
    # The study numbers every trial it holds, the earlier ones first (README says so).
    assert [t["id"] for t in own] == [str(STAGE_ONE_TRIALS), str(STAGE_ONE_TRIALS + 1)]
    baseline = [t for t in own if t["baseline"]]  # compared with, so never pruned
    assert len(baseline) == 1 and baseline[0]["status"] == "completed"
    assert set(run.trials["trial"]) == {t["id"] for t in own}
    assert f"from {stage_one.folder.resolve()} (their trials guided" in run.report().read_text()
    assert json.loads((run.folder / "run.json").read_text())["request"]["warm_start"] == [
        str(stage_one.folder.resolve())
    ]


def test_an_earlier_run_whose_epochs_saw_other_shares_of_the_images_gives_no_curves_to_prune_by(
    stage_one: search.Run, tmp_path: Path
) -> None:
    """Stage one's epochs each trained on every image; under --fidelity data this search's
    first epoch trains on half of them: the pruner must not judge it by stage one's."""
    run = _run(tmp_path, "optuna", "stage2", fidelity="data", warm_start=[stage_one])
    warm = _warm(_study(run))
    assert len(warm) == STAGE_ONE_TRIALS  # the sampler still learns from their scores
    assert all(t.intermediate_values == {} for t in warm)
    scores = sorted(t["best"]["val_accuracy"] for t in _trials(stage_one))
    assert sorted(t.value for t in warm) == pytest.approx(scores)


@pytest.mark.parametrize("tuner", ["bayesian", "random"])
def test_keras_tuner_oracles_see_the_earlier_trials(
    tuner: str, stage_one: search.Run, tmp_path: Path
) -> None:
    run = _run(tmp_path, tuner, "stage2", warm_start=[stage_one.folder])
    own = _trials(run)
    assert len(own) == 2 and {t["id"] for t in own} == {"0", "1"}
    assert own[0]["baseline"]  # the run's own baseline still comes first
    oracle = _reloaded_oracle(run.folder)
    warm = oracle.warm_trials()
    assert len(warm) == STAGE_ONE_TRIALS
    rates = sorted(t.hyperparameters.values["learning_rate"] for t in warm)
    earlier = sorted(t["hyperparameters"]["learning_rate"] for t in _trials(stage_one))
    assert rates == pytest.approx(earlier)
    assert all(t.hyperparameters.values["dropout"] == LR_ONLY["dropout"] for t in warm)
    assert all(oracle._duplicate(t.hyperparameters.values) for t in warm)  # not repeated
    oracle.populate_space("probe")
    if tuner == "bayesian":  # its Gaussian process was fitted on its own and the earlier trials
        assert len(oracle.gpr.X_train_) == len(own) + STAGE_ONE_TRIALS
    assert not any(str(t).startswith("warm") for t in oracle.trials)


def _reloaded_oracle(folder: Path) -> Any:
    """The run's oracle, reloaded from its folder as a resume rebuilds it (the run is
    finished, which ``stored_request`` refuses to continue)."""
    request = RunRequest.from_json(RunFolder(folder).read_meta()["request"])
    p = plan(request)
    splits = p.experiment.load(p.data)
    hypermodel = p.experiment.hypermodel(p.options.space, splits, p.model)
    tuner = p.backend.create(
        hypermodel, request.kt_objective(), p.budget, request.seed,
        RunFolder(folder).tuner_dir, [], p.options,
    )  # fmt: skip
    return tuner.oracle


def test_trials_outside_the_new_space_are_skipped_and_counted(
    stage_one: search.Run, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = _run(tmp_path, "random", "stage2", max_trials=1, max_epochs=1, quiet=False,
               fix={"units": 12}, warm_start=[stage_one])  # fmt: skip
    out = capsys.readouterr().out
    assert f"warm start: 0 trials from {stage_one.folder}; 3 outside this space skipped" in out
    assert len(_trials(run)) == 1


@pytest.mark.parametrize(("extra", "given"), [(0.9, 0), (0.5, STAGE_ONE_TRIALS)])
def test_trials_of_a_run_without_a_parameter_ran_with_its_default_not_the_fixed_value(
    stage_one: search.Run, tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: float, given: int
) -> None:
    """Stage one had no ``extra``, so its trials ran with extra's default, 0.5: a search
    fixing it at 0.9 is not told they ran at 0.9."""
    _run(tmp_path, "random", "stage2", max_trials=1, max_epochs=1, quiet=False,
         hypermodel=_build_with_extra, experiment="build", fix={**LR_ONLY, "extra": extra},
         warm_start=[stage_one])  # fmt: skip
    out = capsys.readouterr().out
    assert f"warm start: {given} trials from {stage_one.folder}" in out


def _build_with_wide(hp: kt.HyperParameters) -> keras.Model:
    """``um.build`` declaring a parent and, active under one of its values, a child."""
    hp.Boolean("wide", default=False)
    with hp.conditional_scope("wide", [True]):
        hp.Boolean("flip", default=False)
    return um.build(hp)


def _build_with_wide_only(hp: kt.HyperParameters) -> keras.Model:
    hp.Boolean("wide", default=False)
    return um.build(hp)


def test_a_child_the_earlier_run_lacked_counts_at_its_default_under_a_parent_it_had(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Stage one had ``wide`` but no ``flip``: its wide trials trained with flip's default
    (false), not with the true that stage two fixes it to; its narrow ones have no flip."""
    one = _run(tmp_path, "random", "one", max_trials=6, max_epochs=1, hypermodel=_build_with_wide_only,
               experiment="build", fix=LR_ONLY)  # fmt: skip
    narrow = sum(not t["hyperparameters"]["wide"] for t in _trials(one) if t["status"] == "completed")
    assert 0 < narrow < 6
    _run(tmp_path, "random", "two", max_trials=1, max_epochs=1, hypermodel=_build_with_wide, quiet=False,
         experiment="build", fix={**LR_ONLY, "flip": True}, warm_start=[one])  # fmt: skip
    assert f"warm start: {narrow} trials from {one.folder}; {6 - narrow} outside" in capsys.readouterr().out


def _request(tmp_path: Path, name: str, **options: Any) -> tuple[RunRequest, Any]:
    """A run on arrays as ``search.run`` builds it, to drive the engine a trial at a time."""
    x, y = um.tiny_data()
    splits = array_splits(x, y, None, 0.2, None, SEED)
    user = experiment_for(um.build, None, None, lambda options_: splits)
    request = RunRequest(
        experiment=user.name, hypermodel=(user.reference or {}).get("hypermodel"), arrays=True,
        tuner="optuna", max_trials=2, max_epochs=2, results=tmp_path / "results", name=name,
        retrain=False, seed=SEED, command=("search.run",), **options,
    )  # fmt: skip
    return request, user


def test_a_resumed_run_does_not_add_the_trials_twice(stage_one: search.Run, tmp_path: Path) -> None:
    request, user = _request(tmp_path, "stage2", warm_start=(stage_one.folder,))
    with pytest.raises(RunContinues):  # one trial, then the run is left to resume
        run_search(request, Console(quiet=True), quiet=True, trials_per_process=1, experiment=user)
    folder = tmp_path / "results" / user.name / "stage2"
    assert len(_trials(folder)) == 1
    run = search.resume(folder, quiet=True)
    assert run.status == "finished"
    assert len(_warm(_study(run))) == STAGE_ONE_TRIALS
    assert len(_trials(run)) == 2


def test_resuming_a_run_whose_warm_start_run_is_gone_says_to_put_it_back(tmp_path: Path) -> None:
    source = _run(tmp_path / "src", "random", "first", max_trials=1, max_epochs=1)
    request, user = _request(tmp_path, "second", warm_start=(source.folder,))
    with pytest.raises(RunContinues):
        run_search(request, Console(quiet=True), quiet=True, trials_per_process=1, experiment=user)
    moved = source.folder.rename(source.folder.with_name("moved"))
    folder = tmp_path / "results" / user.name / "second"
    with pytest.raises(SearchError, match=rf"^{folder}/run.json: this run was warm-started from"
                       rf" {source.folder}, which is no longer a run folder .no run.json.; move"
                       " that run back there to resume this one$"):  # fmt: skip
        search.resume(folder, quiet=True)
    assert main(["resume", str(folder), "--quiet"]) == 2
    moved.rename(source.folder)
    assert search.resume(folder, quiet=True).status == "finished"


def test_resuming_a_finished_run_whose_warm_start_run_is_gone_says_it_is_finished(tmp_path: Path) -> None:
    source = _run(tmp_path / "src", "random", "first", max_trials=1, max_epochs=1)
    done = _run(tmp_path, "random", "second", max_trials=1, max_epochs=1, warm_start=[source.folder])
    source.folder.rename(source.folder.with_name("moved"))
    with pytest.raises(SearchError, match="is already finished: nothing to resume"):
        search.resume(done.folder, quiet=True)


def test_an_interrupted_run_continues_only_with_its_own_warm_start(
    stage_one: search.Run, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    request, user = _request(tmp_path, "again", warm_start=(stage_one.folder,))
    with pytest.raises(RunContinues):
        run_search(request, Console(quiet=True), quiet=True, trials_per_process=1, experiment=user)
    with pytest.raises(SearchError, match="warm_start"):  # the same name, no warm start now
        _run(tmp_path, "optuna", "again", experiment=user.name)


def _one_line_error(capsys: pytest.CaptureFixture[str], *phrases: str) -> None:
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    for phrase in phrases:
        assert phrase in err


def test_bad_warm_start_folders_are_one_line_errors(
    stage_one: search.Run, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["run", "fashion", "--tuner", "random", "--results", str(tmp_path / "r")]
    assert main([*base, "--warm-start", str(tmp_path)]) == 2
    _one_line_error(capsys, str(tmp_path), "not a run folder", "results/EXPERIMENT/RUN")
    assert main([*base, "--warm-start", str(stage_one.folder)]) == 2
    _one_line_error(capsys, str(stage_one.folder), "'build', not 'fashion'", "same experiment")
    assert main([*base, "--warm-start", str(stage_one.folder), f"{stage_one.folder}/"]) == 2
    _one_line_error(capsys, str(stage_one.folder), "given twice", "give each run once")
    assert not (tmp_path / "r").exists()  # refused before any work
    results = str(stage_one.folder.parent.parent)  # a run's name is its folder under --results
    assert main(["run", "fashion", "--tuner", "random", "--results", results, "--warm-start", "lr"]) == 2
    _one_line_error(capsys, str(stage_one.folder), "'build', not 'fashion'", "same experiment")
    assert main(["run", "fashion", "--tuner", "random", "--results", results, "--warm-start", "nope"]) == 2
    _one_line_error(capsys, "--warm-start nope", "not a run folder", "results/EXPERIMENT/RUN")

    cases = [
        ("random", {"name": stage_one.folder.name, "results": stage_one.folder.parent.parent},
         "is this run itself"),
        ("random", {"objective": "val_loss"}, "same objective"),
        ("hyperband", {}, "^warm_start with tuner hyperband: .*; use tuner bayesian or optuna"),
        ("optuna", {"objective": "pareto"}, "two objectives"),
    ]
    for tuner, options, phrase in cases:
        with pytest.raises(SearchError, match=phrase) as caught:
            _run(tmp_path, tuner, options.pop("name", "stage2"), warm_start=[stage_one], **options)
        assert "\n" not in str(caught.value)
        assert "--" not in str(caught.value) and "warm_start" in str(caught.value)  # Python's words


def test_a_run_with_parameters_the_new_space_lacks_or_no_finished_trial_is_refused(
    tmp_path: Path,
) -> None:
    wider = _run(tmp_path, "random", "wider", max_trials=1, max_epochs=1, hypermodel=_build_with_extra,
                 experiment="build")  # the same experiment, a wider space
    with pytest.raises(SearchError, match=r"its space has extra, which this search's space"):
        _run(tmp_path, "random", "stage2", warm_start=[wider])
    request, user = _request(tmp_path, "empty")
    with pytest.raises(RunContinues):  # a run created, no trial run yet
        run_search(request, Console(quiet=True), quiet=True, trials_per_process=0, experiment=user)
    empty = tmp_path / "results" / user.name / "empty"
    with pytest.raises(SearchError, match="holds no completed trial"):
        _run(tmp_path, "optuna", "stage2", warm_start=[empty])


def test_a_run_name_is_this_experiments_run_where_others_have_one_of_that_name(tmp_path: Path) -> None:
    for experiment in ("fashion", "mine"):
        (tmp_path / experiment / "lr").mkdir(parents=True)
        (tmp_path / experiment / "lr" / "run.json").write_text("{}")
    assert warm_folders([Path("lr")], tmp_path, "mine") == (tmp_path / "mine" / "lr",)
    assert warm_folders([Path("lr")], tmp_path, "fashion") == (tmp_path / "fashion" / "lr",)
    assert warm_folders([Path("lr")], tmp_path, "other") == (Path("lr"),)  # ambiguous: named by the checks


def test_a_warm_start_path_that_is_no_folder_says_what_it_is(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A run's run.json given for its folder names the folder to give; a path that is not
    there says so, rather than that it holds no run.json."""
    run = RunFolder(tmp_path / "r" / "fashion" / "old")
    run.path.mkdir(parents=True)
    run.write_meta({"experiment": "fashion", "tuner": "random", "status": "finished"})
    base = ["run", "fashion", "--tuner", "random", "--results", str(tmp_path / "new")]
    assert main([*base, "--warm-start", str(run.run_file)]) == 2
    _one_line_error(capsys, f"{run.run_file}: a file, not a run folder", f"give its folder, {run.path}")
    assert main([*base, "--warm-start", str(tmp_path / "gone")]) == 2
    gone = tmp_path / "gone"
    _one_line_error(capsys, f"{gone}: not a run folder (no such folder)", "results/EXPERIMENT/RUN")
    assert not (tmp_path / "new").exists()


def _fashion_lr_run(results: Path) -> Path:
    """A finished fashion run whose space had only the learning rate: its one trial trained
    with the CNN's own defaults for the rest (32 filters, 128 dense units)."""
    run = RunFolder(results / "fashion" / "lr")
    run.path.mkdir(parents=True)
    run.write_meta({
        "experiment": "fashion", "tuner": "random", "status": "finished",
        "objective": {"name": "val_accuracy", "direction": "max"},
        "space": {"params": {"learning_rate": {"type": "float", "low": 1e-4, "high": 0.1, "log": True,
                                               "default": 0.001}}},
    })  # fmt: skip
    run.write_trials([{
        "id": "0", "status": "completed", "hyperparameters": {"learning_rate": 0.002},
        "best": {"val_accuracy": 0.8}, "epochs": [{"epoch": 1, "val_accuracy": 0.8}],
    }])  # fmt: skip
    return run.path


@pytest.mark.parametrize(("filters", "kept"), [("[16, 32]", 1), ("[8, 16]", 0)])
def test_a_parameter_the_earlier_run_lacked_counts_at_the_models_default_not_this_spaces(
    tmp_path: Path, filters: str, kept: int
) -> None:
    """The fashion CNN builds 32 filters where a space leaves them out: the earlier trial is
    told to the new search at 32 (not at this space's default, 16), or skipped where 32 is
    outside this space."""
    earlier = _fashion_lr_run(tmp_path / "results")
    space = tmp_path / "wide.toml"
    space.write_text(
        '[learning_rate]\ntype = "float"\nlow = 1e-4\nhigh = 0.1\nlog = true\ndefault = 0.001\n'
        f'[filters]\ntype = "choice"\nvalues = {filters}\ndefault = 16\n'
    )
    request = RunRequest(experiment="fashion", tuner="bayesian", max_trials=2, max_epochs=1, space=space,
                         results=tmp_path / "results", name="two", warm_start=(earlier,))  # fmt: skip
    warm = plan(request).options.warm
    assert warm is not None and (len(warm.records), warm.skipped) == (kept, 1 - kept)
    assert [r["hyperparameters"]["filters"] for r in warm.records] == [32] * kept


def test_the_warm_start_line_names_the_earlier_runs_scored_on_other_data(
    stage_one: search.Run, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An earlier stage on another validation split (another seed) or subset gave its
    scores to the sampler as if they were this run's, without a word."""
    _run(tmp_path, "random", "same", warm_start=[stage_one.folder], quiet=False, max_trials=1)
    same = " ".join(capsys.readouterr().out.split())
    assert f"warm start: 3 trials from {stage_one.folder}" in same and "other data" not in same
    run = _run(tmp_path, "random", "other", warm_start=[stage_one.folder], quiet=False, max_trials=1,
               seed=SEED + 1)  # fmt: skip
    other = " ".join(capsys.readouterr().out.split())
    theirs, ours = stage_one.meta["data"], run.meta["data"]
    assert f"warm start: 3 trials from {stage_one.folder}; scored on other data than this run's" in other
    assert (
        f"(train {ours['train']:,} rows, validation {ours['validation']:,}, seed {SEED + 1}):"
        f" {stage_one.folder} (train {theirs['train']:,} rows, validation {theirs['validation']:,},"
        f" seed {SEED}); their values guide the search as they are" in other
    ), other
