"""The Python API: every shape of hypermodel a KerasTuner user has, on every backend."""

from __future__ import annotations

import json
import logging
import os
import random
import re
import warnings
from dataclasses import replace
from pathlib import Path
from typing import Any, ClassVar

import keras
import keras_tuner as kt
import numpy as np
import pytest

import search
import search.api
from search.cli import main
from search.data import array_splits, form_words
from search.engine import RunRequest
from search.errors import DataError, SearchError, SearchInterrupted
from search.storage import RunFolder
from tests import user_models as um
from tests.conftest import ROOT, import_or_missing

TUNERS = ["random", "hyperband", "bayesian", "optuna"]


def _run(hypermodel: Any, tmp_path: Path, tuner: str, **options: Any) -> search.Run:
    x, y = um.tiny_data()
    settings: dict[str, Any] = {
        "tuner": tuner, "max_trials": 2, "max_epochs": 2, "results": tmp_path / "results",
        "name": "r", "retrain": False, "quiet": True, "seed": 3,
    }  # fmt: skip
    settings.update(options)
    return search.run(hypermodel, x, y, **settings)


def _trials(run: search.Run) -> list[dict[str, Any]]:
    return json.loads((run.folder / "trials.json").read_text())["trials"]


@pytest.mark.parametrize("tuner", TUNERS)
@pytest.mark.parametrize(
    "hypermodel", [um.build, um.BuildOnly(), um.TunedFit()], ids=["build", "build-only", "tuned-fit"]
)
def test_hypermodels_through_model_fit(hypermodel: Any, tuner: str, tmp_path: Path) -> None:
    run = _run(hypermodel, tmp_path, tuner)
    assert run.status == "finished"
    trials = _trials(run)
    assert 1 <= len(trials) <= 2 and all(t["status"] == "completed" for t in trials)
    for trial in trials:  # per-epoch records come through KerasTuner's callbacks
        logged = set(trial["epochs"][0]) if trial["epochs"] else set()
        assert {"loss", "accuracy", "val_loss", "val_accuracy"} <= logged
    first = min(trials, key=lambda t: int(t["id"]))
    assert first["baseline"]  # the code's defaults run first, as for the built-in spaces
    chosen = run.best_hyperparameters
    assert {"units", "dropout", "learning_rate"} <= set(chosen)
    if isinstance(hypermodel, um.TunedFit) and tuner != "hyperband":
        # fit's own hyperparameters join the space after the first trial (Optuna too).
        assert any("batch_size" in t["hyperparameters"] for t in trials)
    assert run.trials["rank"].iloc[0] == 1
    meta = json.loads((run.folder / "run.json").read_text())
    assert meta["hypermodel"]["hypermodel"]["target"].startswith("tests.user_models:")


@pytest.mark.parametrize("tuner", TUNERS)
@pytest.mark.parametrize("cls", [um.FloatFit, um.DictFit, um.HistoryFit], ids=["float", "dict", "history"])
def test_hypermodels_with_their_own_loop(cls: type, tuner: str, tmp_path: Path) -> None:
    run = _run(cls(), tmp_path, tuner)
    trials = _trials(run)
    assert trials and all(t["status"] == "completed" for t in trials)
    for trial in trials:  # no epochs logged: the reported final values are kept
        assert trial["epochs"] == [] and 0 <= trial["best"]["val_accuracy"] <= 1
    table = run.trials
    assert table["rank"].iloc[0] == 1
    best = max(trials, key=lambda t: t["best"]["val_accuracy"])
    assert table["objective"].iloc[0] == pytest.approx(best["best"]["val_accuracy"])
    html = run.report().read_text()
    assert "ranked by val_accuracy alone" in html


def test_retrain_and_one_test_evaluation_use_the_models_own_metrics(tmp_path: Path) -> None:
    x_test, y_test = um.tiny_data(30, seed=9)
    run = _run(um.build, tmp_path, "random", retrain=True, retrain_max_epochs=2,
               test_data=(x_test, y_test))  # fmt: skip
    metrics = run.test_metrics
    assert metrics is not None and set(metrics) == {"loss", "accuracy"}
    model = run.best_model()
    again = model.evaluate(x_test, y_test, return_dict=True, verbose=0)
    assert again["accuracy"] == pytest.approx(metrics["accuracy"], abs=1e-6)
    final = run.meta["final"]
    assert final["kept_epoch"] in (1, 2) and final["monitor"] == "val_accuracy"


def test_a_run_without_retrain_whose_fit_kept_no_checkpoint_says_so(tmp_path: Path, capsys) -> None:
    """It finished in silence; best_model() then said the model 'was deleted or moved'."""
    run = _run(um.FloatFit(), tmp_path, "random", quiet=False)
    export = f"`python -m search export {run.folder}`"
    out = " ".join(capsys.readouterr().out.split())
    assert re.search(r"no model saved: trial \d+'s fit kept no checkpoint \(e.g. a fit of its own that calls"
                     rf" none of the callbacks it is given\); {re.escape(export)} retrains its configuration"
                     r" into a model and tests it", out), out
    with pytest.raises(SearchError, match=r"best_model.keras: no model saved: without a retrain the run saves"
                       r" its chosen trial's checkpoint, and the trial kept none \(e.g. .*\);"
                       rf" {re.escape(export)} retrains its configuration into a model$"):  # fmt: skip
        run.best_model()

    class Local(um.FloatFit):
        """Defined here: no import finds it, so export cannot retrain its run."""

    local = _run(Local(), tmp_path, "random", name="local")
    with pytest.raises(SearchError, match=r"; a new search with retrain=True \(the default; export cannot"
                       r" import this run's hypermodel\) retrains its configuration into a model$"):
        local.best_model()


def test_a_fit_of_its_own_that_needs_validation_data_in_a_full_retrain_is_told_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """FloatFit evaluates on validation_data, which the retrain on every row does not give:
    'builtins.TypeError: ... evaluate() argument after * must be an iterable, not NoneType'
    after the whole search, no word of why."""
    with pytest.raises(SearchError, match=r"^FloatFit's fit raised TypeError \(.*NoneType\) in the final"
                       r" retrain, which calls it without validation_data \(every row trains, none is"
                       r" held out\); let fit train without it and resume the run, or retrain on the"
                       r" validated split: `python -m search export RUN --retrain-data validated`$"
                       ) as caught:  # fmt: skip
        _run(um.FloatFit(), tmp_path, "random", retrain=True, retrain_data="full", retrain_max_epochs=1)
    assert isinstance(caught.value.__cause__, TypeError)
    (folder,) = (tmp_path / "results").glob("*/r")
    assert [t["status"] for t in _trials(search.load(folder))] == ["completed", "completed"]

    def trains_without(self: Any, hp: Any, model: keras.Model, x: Any, y: Any, validation_data: Any = None,
                       epochs: int = 1, **kwargs: Any) -> float:  # fmt: skip
        um._own_loop(model, x, y, epochs)
        return float(model.evaluate(*(validation_data or (x, y)), return_dict=True, verbose=0)["accuracy"])

    monkeypatch.setattr(um.FloatFit, "fit", trains_without)  # the user's fix
    run = search.resume(folder, hypermodel=um.FloatFit(), quiet=True)
    assert run.status == "finished" and run.best_model() is not None


def test_a_run_without_retrain_says_its_model_is_untested(tmp_path: Path, capsys) -> None:
    """test_data was split off and kept, but nothing said that no model was tested on it."""
    run = _run(um.build, tmp_path, "random", quiet=False, test_data=um.tiny_data(30, seed=9))
    out = " ".join(capsys.readouterr().out.split())
    assert re.search(r"model: trial \d+'s checkpoint, untested \(no retrain\); `python -m search export"
                     r" .*` retrains its configuration and tests it on the 30 test examples", out), out
    assert run.test_metrics is None and run.best_model() is not None


def test_the_best_model_of_a_run_without_retrain_loads_without_warnings(tmp_path: Path) -> None:
    run = _run(um.build, tmp_path, "random", max_trials=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = run.best_model()
    assert model.optimizer is not None and model.optimizer.built


def test_the_trials_of_a_regression_hold_no_accuracy_columns(tmp_path: Path) -> None:
    x, y = um.tiny_data()
    run = search.run(um.build_regression, x, y.astype("float32"), tuner="random", max_trials=2,
                     max_epochs=2, objective=kt.Objective("val_mean_absolute_error", "min"),
                     results=tmp_path, retrain=False, quiet=True)  # fmt: skip
    table = run.trials
    assert not [c for c in table.columns if "accuracy" in c], list(table.columns)
    assert {"objective", "converged_objective", "gap_objective", "best_epoch"} <= set(table.columns)
    assert table["best_epoch"].notna().all()


def test_any_compiled_metric_is_an_objective(tmp_path: Path) -> None:
    x, y = um.tiny_data()
    run = search.run(um.build_binary_auc, x, (y > 0).astype("float32"), tuner="optuna",
                     objective="val_auc", max_trials=2, max_epochs=2, results=tmp_path,
                     name="auc", retrain=False, quiet=True)  # fmt: skip
    meta = run.meta
    assert meta["objective"] == {"name": "val_auc", "direction": "max", "tracked": "val_auc"}
    trials = _trials(run)
    best = max(trials, key=lambda t: t["best"]["val_auc"])
    assert run.trials["trial"].iloc[0] == best["id"]
    assert "ranked by val_auc alone" in run.report().read_text()


def test_objective_given_as_keras_tuner_objective(tmp_path: Path) -> None:
    run = _run(um.build, tmp_path, "random", objective=kt.Objective("val_loss", "min"))
    assert run.meta["objective"]["direction"] == "min"
    trials = _trials(run)
    best = min(trials, key=lambda t: t["best"]["val_loss"])
    assert run.best_hyperparameters == best["hyperparameters"]


def test_validation_split_is_seeded_and_stratified(tmp_path: Path) -> None:
    run = _run(um.build, tmp_path, "random", max_trials=1, validation_split=0.3)
    folder = run.folder / "data"
    y_train, y_val = np.load(folder / "y_train.npy"), np.load(folder / "y_val.npy")
    _, y = um.tiny_data()
    assert len(y_val) == 27 and len(y_train) == 63
    for label in np.unique(y):  # class shares kept within one row
        assert abs((y_val == label).sum() - 0.3 * (y == label).sum()) <= 1


def test_conditional_scopes_are_searched_by_optuna(tmp_path: Path) -> None:
    run = _run(um.build_with_branch, tmp_path, "optuna", max_trials=5)
    params = run.meta["space"]["params"]
    assert params["width"]["condition"] == {"arch": ["wide"]}
    for trial in _trials(run):
        assert ("width" in trial["hyperparameters"]) == (trial["hyperparameters"]["arch"] == "wide")


def test_a_toml_space_replaces_the_codes_own(tmp_path: Path) -> None:
    space = tmp_path / "space.toml"
    space.write_text('[units]\ntype = "choice"\nvalues = [5, 7]\ndefault = 7\n')
    run = _run(um.build, tmp_path, "optuna", space=space, max_trials=3)
    assert run.meta["space"]["params"]["units"]["values"] == [5, 7]
    assert {t["hyperparameters"]["units"] for t in _trials(run)} <= {5, 7}


@pytest.mark.parametrize("tuner", TUNERS)
def test_keras_tuners_premade_hyper_resnet(tuner: str, tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    x = rng.integers(0, 255, (24, 32, 32, 3)).astype("float32")
    y = keras.utils.to_categorical(np.arange(24) % 2, 2)
    hypermodel = kt.applications.HyperResNet(input_shape=(32, 32, 3), classes=2)
    run = search.run(hypermodel, x, y, tuner=tuner, max_trials=1, max_epochs=1,
                     results=tmp_path, name="resnet", retrain=False, quiet=True)  # fmt: skip
    trials = _trials(run)
    assert [t["status"] for t in trials] == ["completed"]
    assert "version" in trials[0]["hyperparameters"]
    meta = run.meta
    assert meta["hypermodel"]["hypermodel"]["args"]["classes"] == 2


@pytest.mark.parametrize("tuner", TUNERS)
def test_the_projects_image_cnn_driven_by_a_toml_space(tuner: str, tmp_path: Path) -> None:
    from hypermodels import ImageCNN, ImageStats
    from search.space import load_space

    space = load_space(ROOT / "spaces" / "fashion.toml").fix({"conv_blocks": 2, "filters": 16})
    rng = np.random.default_rng(0)
    x = rng.integers(0, 255, (60, 28, 28, 1)).astype("uint8")
    y = np.arange(60) % 3
    hypermodel = ImageCNN(space, input_shape=(28, 28, 1), num_classes=3, stats=ImageStats.of(x))
    run = search.run(hypermodel, x, y, tuner=tuner, max_trials=2, max_epochs=1,
                     results=tmp_path, name="cnn", retrain=False, quiet=True)  # fmt: skip
    trials = _trials(run)
    assert trials and all(t["status"] == "completed" and t["epochs"] for t in trials)
    assert run.meta["hypermodel"] is None  # a Space argument is not plain data: in-process only


def test_best_hp_rebuilds_the_chosen_model_as_keras_tuners_best_hyperparameters_do(tmp_path: Path) -> None:
    run = _run(um.build_with_branch, tmp_path, "random", max_epochs=1, fix={"arch": "wide"})
    chosen = run.best_hyperparameters
    assert isinstance(run.best_hp, kt.HyperParameters) and run.best_hp.values == chosen
    model = um.build_with_branch(search.load(run.folder).best_hp)  # KerasTuner's build(best_hps[0])
    assert model.layers[0].units == chosen["width"]


def test_an_experiment_by_name_is_the_main_command(tmp_path: Path, synthetic_fashion: Path) -> None:
    run = search.run("fashion", tuner="random", max_trials=1, max_epochs=1, train_size=200,
                     val_size=100, data_dir=synthetic_fashion, results=tmp_path, name="f",
                     retrain=False, quiet=True, fix={"conv_blocks": 2, "filters": 16})  # fmt: skip
    assert run.status == "finished" and run.meta["experiment"] == "fashion"
    assert search.load(run.folder).best_hyperparameters == run.best_hyperparameters


# Bad input: one clear error, before any work (no run folder is left behind).


def _refused(tmp_path: Path, error: type, match: str, hypermodel: Any = um.build, **data: Any) -> None:
    x, y = um.tiny_data()
    arguments = {"tuner": "random", "max_trials": 1, "max_epochs": 1, "results": tmp_path / "r",
                 "name": "bad", "quiet": True, "x": x, "y": y, **data}  # fmt: skip
    with pytest.raises(error, match=match):
        search.run(hypermodel, arguments.pop("x"), arguments.pop("y"), **arguments)
    assert not (tmp_path / "r").exists() or not any((tmp_path / "r").rglob("run.json"))


def _message(tmp_path: Path, **data: Any) -> str:
    """The message search.run refuses ``data`` with (the tiny data's x, y otherwise)."""
    x, y = um.tiny_data()
    arguments = {"tuner": "random", "results": tmp_path / "r", "quiet": True, "x": x, "y": y, **data}
    with pytest.raises(SearchError) as refused:
        search.run(um.build, arguments.pop("x"), arguments.pop("y"), **arguments)
    return str(refused.value)


def test_bad_hypermodels_are_refused(tmp_path: Path) -> None:
    _refused(tmp_path, SearchError, "not compiled", um.build_uncompiled)
    _refused(tmp_path, SearchError, "does not build with its default.*do not add up", um.build_broken)
    _refused(tmp_path, SearchError, "neither a build", 42)
    model = um.build(kt.HyperParameters())
    _refused(tmp_path, SearchError, r"^hypermodel: a keras.Model \(Sequential\), built already; pass the"
             r" function that builds it, search.run\(build, x, y\), where build\(hp\) returns",
             model)  # fmt: skip


def _two_outputs(hp: kt.HyperParameters) -> keras.Model:
    inputs = keras.Input((8,))
    hidden = keras.layers.Dense(hp.Int("units", 4, 8, step=4))(inputs)
    model = keras.Model(inputs, [keras.layers.Dense(um.CLASSES, activation="softmax")(hidden),
                                 keras.layers.Dense(1)(hidden)])  # fmt: skip
    model.compile("adam", ["sparse_categorical_crossentropy", "mse"])
    return model


def test_a_model_of_several_outputs_is_refused_as_such(tmp_path: Path) -> None:
    _refused(tmp_path, SearchError, r"^_two_outputs's model has 2 outputs; search.run takes one array for y:"
             r" give the model one output", _two_outputs)  # fmt: skip


def test_objective_not_among_the_models_metrics_names_the_ones_it_has(tmp_path: Path) -> None:
    _refused(tmp_path, SearchError, r"'val_auc' is not among .*val_accuracy", objective="val_auc")
    _refused(tmp_path, SearchError, "cannot tell whether to maximize", objective="val_fancy_thing")
    _refused(tmp_path, SearchError, "test set is never an objective", objective="test_accuracy")


def test_an_objective_of_unknown_direction_is_told_the_form_python_takes(tmp_path: Path) -> None:
    _refused(tmp_path, SearchError, r"^objective 'val_rmse': cannot tell whether to maximize or minimize"
             r" it; say so with objective val_rmse:min or val_rmse:max \(from Python also"
             r" keras_tuner.Objective\('val_rmse', 'min'\)\)$", objective="val_rmse")  # fmt: skip
    _refused(tmp_path, SearchError, r"^objective 'VAL_ACCURACY': Keras' metric names are case-sensitive; give"
             r" objective val_accuracy, or VAL_ACCURACY:max", objective="VAL_ACCURACY")  # fmt: skip
    _refused(tmp_path, SearchError, r"^objective direction 'low': choose", objective="val_rmse:low")
    _refused(tmp_path, SearchError, r"'val_fancy' is not among .*val_accuracy", objective="val_fancy:min")


def test_a_regression_under_the_default_objective_is_told_which_objective_to_set(tmp_path: Path) -> None:
    x, y = um.tiny_data()
    with pytest.raises(SearchError) as refused:
        search.run(um.build_regression, x, y.astype("float32"), tuner="random", results=tmp_path, quiet=True)
    message = str(refused.value)
    assert "set objective to one of these, e.g. 'val_mean_absolute_error'" in message, message


def test_bad_data_is_refused(tmp_path: Path) -> None:
    x, y = um.tiny_data()
    wide_labels = np.zeros((len(y), 5), "float32")
    _refused(tmp_path, DataError, "differ in length", x=x, y=y[:-1])
    _refused(tmp_path, SearchError, "labels its loss takes", x=x, y=wide_labels)
    _refused(tmp_path, DataError, "test_data: rows of shape", test_data=(x[:, :5], y))
    _refused(tmp_path, SearchError, "validation_data does not fit", validation_data=(x, np.full_like(y, 7)))
    _refused(tmp_path, DataError, r"^validation_data: targets of shape \(5,\) a row, but y has \(\);",
             validation_data=(x, wide_labels))  # fmt: skip
    # a subclassed model is first called on the data by this check, which names the misfit
    _refused(tmp_path, SearchError, r"^x, y does not fit build_subclassed_cnn's model",
             um.build_subclassed_cnn)  # fmt: skip


def test_a_lambda_works_in_process_but_not_across_processes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    x, y = um.tiny_data()
    run = search.run(lambda hp: um.build(hp), x, y, tuner="random", max_trials=1, max_epochs=1,
                     results=tmp_path, name="ok", retrain=False, quiet=True)  # fmt: skip
    assert run.status == "finished" and run.meta["hypermodel"] is None
    assert run.folder.parent.name == "lambda"  # a folder name, not "<lambda>"
    with pytest.raises(SearchError, match="isolate=True .*lambda"):
        search.run(lambda hp: um.build(hp), x, y, tuner="random", isolate=True,
                   results=tmp_path, name="iso", quiet=True)  # fmt: skip
    with pytest.raises(SearchError, match="is already finished: nothing to resume"):
        search.resume(run.folder)
    meta = json.loads((run.folder / "run.json").read_text())
    (run.folder / "run.json").write_text(json.dumps({**meta, "status": "interrupted"}))
    with pytest.raises(SearchError, match="cannot be imported again.*hypermodel="):
        search.resume(run.folder)
    resume = re.escape(f"search.resume({str(run.folder)!r}, hypermodel=...)")
    RunFolder(run.folder).model_file.unlink(missing_ok=True)  # as a run interrupted before it
    with pytest.raises(SearchError, match=rf"no model saved \(the run is interrupted\); .*: {resume}$"):
        search.load(run.folder).best_model()
    with pytest.raises(SearchError, match=rf"other settings \(seed 0 -> 1\); .*, or `{resume}`$"):
        search.run(lambda hp: um.build(hp), x, y, tuner="random", max_trials=1, max_epochs=1,
                   results=tmp_path, name="ok", retrain=False, quiet=True, seed=1)  # fmt: skip
    (run.folder / "run.json").write_text(json.dumps({**meta, "status": "running", "pid": 2**22 + 1}))
    assert main(["status", str(run.folder)]) == 0
    said = capsys.readouterr().out
    assert f"unannounced; resume with: search.resume({str(run.folder)!r}, hypermodel=...)" in said


class _CtrlC(search.Observer):
    """Ctrl-C as the first epoch ends."""

    def epoch_end(self, trial: Any, epoch: int, logs: dict[str, float]) -> None:
        raise KeyboardInterrupt


def test_a_stopped_run_that_only_python_can_continue_says_so(tmp_path: Path) -> None:
    x, y = um.tiny_data()
    with pytest.raises(SearchInterrupted) as stopped:
        search.run(lambda hp: um.build(hp), x, y, tuner="random", max_trials=2, max_epochs=2,
                   results=tmp_path, name="l", retrain=False, quiet=True, observers=[_CtrlC()])  # fmt: skip
    folder = tmp_path / "lambda" / "l"
    assert str(stopped.value).endswith(f"; resume with: search.resume({str(folder)!r}, hypermodel=...)")
    assert search.resume(folder, hypermodel=lambda hp: um.build(hp), quiet=True).status == "finished"


def test_a_stop_run_json_cannot_record_names_the_python_resume(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The file-size limit that stops run.json's record of a stop: the one line named
    ``python -m search resume``, which cannot import this run's hypermodel."""
    import errno

    from search.environment import EnvironmentFailure

    update = RunFolder.update_meta

    def too_large(self: RunFolder, **fields: Any) -> None:
        if fields.get("status") == "interrupted":
            raise OSError(errno.EFBIG, os.strerror(errno.EFBIG), str(self.run_file))
        update(self, **fields)

    monkeypatch.setattr(RunFolder, "update_meta", too_large)
    x, y = um.tiny_data()
    with pytest.raises(EnvironmentFailure) as stopped:
        search.run(lambda hp: um.build(hp), x, y, tuner="random", max_trials=2, max_epochs=2,
                   results=tmp_path, name="l", retrain=False, quiet=True, observers=[_CtrlC()])  # fmt: skip
    folder = tmp_path / "lambda" / "l"
    assert str(stopped.value) == (
        f"{folder / 'run.json'}: file too large for the file-size limit (`ulimit -f`); raise the"
        f" limit; then resume with: search.resume({str(folder)!r}, hypermodel=...)"
    )


def test_an_api_run_is_tracked_in_tensorboard_and_mlflow(tmp_path: Path) -> None:
    mlflow = import_or_missing("mlflow")
    store = f"sqlite:///{tmp_path / 'mlflow.db'}"
    run = _run(um.build, tmp_path, "random", track=["tensorboard", f"mlflow={store}"])
    assert any((run.folder / "tensorboard").rglob("events.out.tfevents*"))
    mlflow.set_tracking_uri(store)
    runs = mlflow.search_runs(experiment_names=["build"], output_format="list")
    assert len(runs) == 1 + len(_trials(run))  # the parent and one nested run per trial


def test_bad_options_are_refused_before_the_data_is_touched(tmp_path: Path) -> None:
    _refused(tmp_path, SearchError, r"^seed \(-1\) must be at least 0", seed=-1)
    _refused(tmp_path, SearchError, "objective: a list", objective=["val_accuracy"])
    _refused(tmp_path, SearchError, "train_size 'most'", train_size="most")


def test_keras_tuners_search_keywords_are_refused_with_what_to_give_instead(tmp_path: Path) -> None:
    _refused(tmp_path, SearchError, r"^epochs \(2\): search\.run trains a trial for at most max_epochs;"
             r" give max_epochs=2$", epochs=2)  # fmt: skip
    _refused(tmp_path, SearchError, r"^verbose \(0\): .*give quiet=True", verbose=0)
    _refused(tmp_path, SearchError, r"^directory \('d'\): .*give results='d'", directory="d")
    _refused(tmp_path, SearchError, r"^project_name \('p'\): .*give name='p'", project_name="p")
    _refused(tmp_path, SearchError, r"^hyperparameters \(a HyperParameters\): the search space is space="
             r" .*fix=\{name: value\}$", hyperparameters=kt.HyperParameters())  # fmt: skip
    for keyword in ("tune_new_entries", "allow_new_entries", "executions_per_trial",
                    "max_retries_per_trial", "max_consecutive_failed_trials"):  # fmt: skip
        _refused(tmp_path, SearchError, rf"^{keyword} \(2\): search\.run ", **{keyword: 2})
    for keyword, value in (("batch_size", 16), ("steps_per_epoch", 3), ("shuffle", False)):
        _refused(tmp_path, SearchError, rf"^{keyword} \({re.escape(repr(value))}\): search\.run calls"
                 r" model\.fit itself; pass it to model\.fit in a keras_tuner\.HyperModel's"
                 r" fit\(self, hp, model, \*args, \*\*kwargs\)", **{keyword: value})  # fmt: skip
    _refused(tmp_path, SearchError, r"^batch_size \(32\): search\.run calls", batch_size=np.int64(32))
    _refused(tmp_path, SearchError, r"^epochs \(3\): .*; give max_epochs=3$", epochs=np.int64(3))
    _refused(tmp_path, SearchError, r"^callbacks \(\[EarlyStopping\]\): .*observers=", callbacks=[
        keras.callbacks.EarlyStopping()])  # fmt: skip
    _refused(tmp_path, DataError, r"^sample_weight: 3 weights for 90 rows; pass one weight a row$",
             sample_weight=np.ones(3))  # fmt: skip
    with pytest.raises(TypeError, match=r"^run\(\) got an unexpected keyword argument 'epochz'$"):
        search.run(um.build, *um.tiny_data(), epochz=2)


def test_bad_warm_start_values_are_one_line_errors(tmp_path: Path) -> None:
    _refused(tmp_path, SearchError, r"^warm_start: 123 \(int\) is not a run", warm_start=123)
    _refused(tmp_path, SearchError, r"^warm_start: None \(NoneType\) is not a run", warm_start=[None])
    _refused(tmp_path, SearchError, r"^warm_start: \[123\] \(list\) is not a run", warm_start=[[123]])
    _refused(tmp_path, SearchError, r"^warm_start: '' is an empty path; give", warm_start="")
    _refused(tmp_path, SearchError, r"^warm_start: ' ' is an empty path; give", warm_start=[" "])


def test_a_space_file_that_spaces_lists_is_found_by_its_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, synthetic_fashion: Path
) -> None:
    """``space="fashion-gpu.toml"`` from any folder is the package's file, as ``--space``
    reads it (a fix of a name only that space has shows which space was read)."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SearchError, match="'nosuch': not in the space .*'convs_per_block'"):
        search.run("fashion", space="fashion-gpu.toml", fix={"nosuch": 1}, data_dir=synthetic_fashion,
                   results=tmp_path / "r", quiet=True)  # fmt: skip
    assert not (tmp_path / "r").exists()


def test_a_space_that_is_not_a_path_is_one_line(tmp_path: Path) -> None:
    _refused(tmp_path, SearchError, r"^space: 12 \(int\) is not a path; give a TOML space file", space=12)
    _refused(tmp_path, SearchError, r"^space: \{'lr': 1\} \(dict\) is not a path", space={"lr": 1})


def test_a_fix_that_is_not_a_mapping_is_one_line(tmp_path: Path) -> None:
    _refused(tmp_path, SearchError, r"^fix: 'units=64' \(str\) is not a mapping; give a dict such as"
             r" fix=\{'learning_rate': 0.001\}", fix="units=64")  # fmt: skip
    _refused(tmp_path, SearchError, r"^fix: \['units=64'\] \(list\) is not a mapping", fix=["units=64"])


def test_a_fix_keyed_by_other_than_names_is_one_line(tmp_path: Path) -> None:
    _refused(tmp_path, SearchError, r"^fix: the key 1 \(int\) is not a hyperparameter's name; give"
             r" names as str", fix={1: 2, "nope": 3})  # fmt: skip


def test_a_space_without_the_condition_the_build_declares_says_which(tmp_path: Path) -> None:
    space = tmp_path / "space.toml"
    space.write_text('[width]\ntype = "int"\nlow = 8\nhigh = 16\nstep = 8\ndefault = 8\n')
    _refused(tmp_path, SearchError, r"space.toml: width: build_with_branch declares it active only when"
             r" arch == 'wide', the space file always; add condition = \{ arch = \"wide\" \} to \[width\]$",
             hypermodel=um.build_with_branch, space=space)  # fmt: skip


def test_labels_with_fractions_for_a_sparse_loss_are_refused_before_the_search(tmp_path: Path) -> None:
    """Keras truncates them and trains; its accuracy would be 0 in every trial."""
    x, y = um.tiny_data()
    _refused(tmp_path, SearchError, r"^y: labels with fractions \(e\.g\. 0\.5\) for build's"
             r" sparse_categorical_crossentropy, which takes class indices; pass integer class labels",
             y=y.astype("float32") + 0.5)  # fmt: skip
    search.run(um.build, x, y.astype("float32"), tuner="random", max_trials=1, max_epochs=1,
               results=tmp_path / "whole", retrain=False, quiet=True)  # whole floats: class indices


def regression_scored_by_accuracy(hp: kt.HyperParameters) -> keras.Model:
    """A regression compiled with metrics=["accuracy"]: Keras' binary accuracy, one output."""
    model = keras.Sequential([keras.Input((um.FEATURES,)), keras.layers.Dense(hp.Int("units", 2, 4)),
                              keras.layers.Dense(1)])  # fmt: skip
    model.compile("adam", "mse", metrics=["accuracy"])
    return model


def test_an_accuracy_objective_of_values_with_fractions_is_refused(tmp_path: Path) -> None:
    """A regression's targets never equal a predicted label: every trial scored 0.0 and the
    search chose among them at random, silently."""
    x, _ = um.tiny_data()
    _refused(tmp_path, SearchError, r"^objective 'val_accuracy': y holds values with fractions \(e\.g\. .*\),"
             r" which regression_scored_by_accuracy's accuracy never matches .* set objective to 'val_loss'",
             hypermodel=regression_scored_by_accuracy, y=x[:, 0] * 3 + 1)  # fmt: skip
    run = search.run(regression_scored_by_accuracy, x, x[:, 0] * 3 + 1, objective="val_loss",
                     tuner="random", max_trials=1, max_epochs=1, results=tmp_path / "loss",
                     retrain=False, quiet=True)  # fmt: skip
    assert run.trials["status"].tolist() == ["completed"]


def multi_label_scored_by_accuracy(hp: kt.HyperParameters) -> keras.Model:
    """Three sigmoid labels compiled with metrics=["accuracy"]: Keras' categorical accuracy."""
    model = keras.Sequential([keras.Input((um.FEATURES,)), keras.layers.Dense(hp.Int("units", 2, 4)),
                              keras.layers.Dense(3, activation="sigmoid")])  # fmt: skip
    model.compile("adam", "binary_crossentropy", metrics=["accuracy"])
    return model


def test_keras_accuracy_of_multi_label_rows_is_refused_as_the_objective(tmp_path: Path) -> None:
    """It compares each row's likeliest label alone: the search ranked by it, silently."""
    x, _ = um.tiny_data()
    _refused(tmp_path, SearchError, r"^objective 'val_accuracy': y holds rows of several labels, or none"
             r" \(multi-label\), .* Keras' categorical accuracy, .* set objective to 'val_binary_accuracy'$",
             hypermodel=multi_label_scored_by_accuracy, y=(x[:, :3] > 0).astype("int64"))  # fmt: skip


def accuracy(y_true: Any, y_pred: Any) -> Any:
    """A regression's own accuracy: the share of predictions within 0.5 of the target."""
    return keras.ops.mean(keras.ops.cast(keras.ops.abs(y_true - y_pred) < 0.5, "float32"))


def regression_of_its_own_accuracy(hp: kt.HyperParameters) -> keras.Model:
    model = keras.Sequential([keras.Input((um.FEATURES,)), keras.layers.Dense(hp.Int("units", 2, 4)),
                              keras.layers.Dense(1)])  # fmt: skip
    model.compile("adam", "mse", metrics=[accuracy])
    return model


def multi_label_of_binary_accuracy(hp: kt.HyperParameters) -> keras.Model:
    model = keras.Sequential([keras.Input((um.FEATURES,)), keras.layers.Dense(hp.Int("units", 2, 4)),
                              keras.layers.Dense(3, activation="sigmoid")])  # fmt: skip
    model.compile("adam", "binary_crossentropy", metrics=[keras.metrics.BinaryAccuracy(name="accuracy")])
    return model


def test_an_accuracy_of_the_users_own_is_taken_as_the_objective(tmp_path: Path) -> None:
    """Metrics the user compiled under the name "accuracy" were refused by that name alone:
    a regression's own as values with fractions, a multi-label binary accuracy as Keras'
    categorical one."""
    x, _ = um.tiny_data()
    cases = ((regression_of_its_own_accuracy, x[:, 0] * 3 + 1),
             (multi_label_of_binary_accuracy, (x[:, :3] > 0).astype("float32")))  # fmt: skip
    for build, y in cases:
        run = search.run(build, x, y, tuner="random", max_trials=1, max_epochs=1,
                         results=tmp_path / build.__name__, retrain=False, quiet=True)  # fmt: skip
        assert run.trials["status"].tolist() == ["completed"]


def test_one_hot_labels_for_a_sparse_loss_name_the_fix_not_keras_ranks(tmp_path: Path) -> None:
    """Keras said "Argument `output` must have rank (ndim) `target.ndim - 1`", no fix."""
    _, y = um.tiny_data()
    _refused(tmp_path, SearchError, rf"^y: one-hot rows \({y.max() + 1} columns\) for build's"
             r" sparse_categorical_crossentropy, which takes class indices; pass the indices"
             r" \(y.argmax\(axis=1\)\), or compile the model with 'categorical_crossentropy'$",
             y=np.eye(y.max() + 1, dtype="float32")[y])  # fmt: skip


def test_none_where_a_number_is_needed_is_refused_before_the_search(tmp_path: Path) -> None:
    _refused(tmp_path, SearchError, r"^retrain_max_epochs \('20'\) must be a whole number",
             retrain_max_epochs="20")  # fmt: skip
    _refused(tmp_path, SearchError, r"^converged_epochs \(None\) must be a whole number",
             converged_epochs=None)  # fmt: skip
    _refused(tmp_path, SearchError, r"^retrain \('no'\): give True or False", retrain="no")


@pytest.mark.parametrize(
    ("keyword", "value", "match"),
    [
        ("name", 5, r"^name \(5\): give the run's name as a str, e.g. name='lr-stage'$"),
        ("name", b"r", r"^name \(b'r'\): give the run's name as a str"),
        ("experiment", 5, r"^experiment \(5\): give the experiment's name as a str"),
        ("results", 5, r"^results \(5\): give the results root, e.g. 'results', as a str or pathlib.Path$"),
        ("results", None, r"^results \(None\): give the results root"),
        ("data_dir", 123, r"^data_dir \(123\): give the data's folder, as a str or pathlib.Path$"),
        ("track", 5, r"^track \(5\): give 'mlflow', 'mlflow=URI', 'tensorboard', or a list of these$"),
        ("track", [5], r"^track \(\[5\]\): give 'mlflow'"),
        ("tolerance", "x", r"^tolerance \('x'\) must be a number in \[0, 1\)$"),
        ("tolerance", None, r"^tolerance \(None\) must be a number in \[0, 1\)$"),
    ],
)
def test_options_of_the_wrong_type_are_one_line_errors(
    keyword: str, value: Any, match: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not a TypeError from a regular expression or pathlib inside the library."""
    monkeypatch.chdir(tmp_path)  # results=None must not land a run in the tests' folder
    _refused(tmp_path, SearchError, match, **{keyword: value})


def test_resume_given_a_storage_that_is_not_a_str_says_so(tmp_path: Path) -> None:
    from tests.helpers.runs import epochs, trial, write_run

    folder = write_run(tmp_path, "stopped", [trial("0", epochs((0.9, 0.8, 1, 1)))], status="interrupted")
    with pytest.raises(SearchError, match=r"^storage \(5\): give the Optuna database URL as a str, e.g."
                       r" 'postgresql\+psycopg://user:password@host:5432/dbname'$"):  # fmt: skip
        search.resume(folder.path, storage=5)  # type: ignore[arg-type]


def test_keep_best_all_keeps_every_checkpoint_as_on_the_command_line(tmp_path: Path) -> None:
    run = _run(um.build, tmp_path, "random", max_trials=2, max_epochs=1, keep_best="all")
    assert run.meta["request"]["keep_best"] is None
    _refused(tmp_path, SearchError, r"^keep_best 'most': give a number of trials, 'all' or None",
             keep_best="most")  # fmt: skip


def test_none_warm_start_is_no_warm_start(tmp_path: Path) -> None:
    run = _run(um.build, tmp_path, "random", max_trials=1, max_epochs=1, warm_start=None)
    assert run.meta["request"]["warm_start"] == []


@pytest.mark.parametrize("name", ["obj", "fashion"])  # a built-in's name finds the built-in
def test_an_experiment_object_stays_in_this_process(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    experiment = search.Experiment.from_hypermodel(name, um.build, lambda: search.Data(*um.tiny_data()))
    with pytest.raises(SearchError, match="pass it as 'file.py:NAME'"):
        search.run(experiment, tuner="optuna", workers=2, results=tmp_path, quiet=True)
    one_model = f"^model 'cnn': experiment '{name}' is given as one model already; leave model out$"
    with pytest.raises(SearchError, match=one_model):
        search.run(experiment, tuner="random", model="cnn", results=tmp_path, quiet=True)
    folder = tmp_path / name / "o"
    resume = f"search.resume({str(folder)!r}, hypermodel=experiment)"
    with pytest.raises(SearchInterrupted) as stopped:
        search.run(experiment, tuner="random", max_trials=2, max_epochs=2, results=tmp_path, name="o",
                   retrain=False, quiet=True, observers=[_CtrlC()])  # fmt: skip
    assert str(stopped.value).endswith(f"; resume with: {resume}")
    assert main(["resume", str(folder)]) == 2
    assert capsys.readouterr().err.rstrip().endswith(f"continue it from Python: {resume}")
    with pytest.raises(SearchError, match=re.escape(f"continue it from Python: {resume}")):
        search.resume(folder)
    with pytest.raises(SearchError, match=re.escape(f"started with an Experiment object; pass it: {resume}")):
        search.resume(folder, hypermodel=um.build)
    other = search.Experiment.from_hypermodel("other", um.build, lambda: search.Data(*um.tiny_data()))
    other_one = (f"is 'other', made in its process, but {re.escape(str(folder))}'s run.json names"
                 f" '{name}', made in its process; pass the Experiment")
    with pytest.raises(SearchError, match=other_one):
        search.resume(folder, hypermodel=other)
    assert search.resume(folder, hypermodel=experiment, quiet=True).status == "finished"
    assert sorted(path.name for path in tmp_path.iterdir()) == [name]
    with pytest.raises(SearchError, match="returned a tuple"):
        search.run(search.Experiment.from_hypermodel("bad", um.build, um.tiny_data),
                   tuner="random", results=tmp_path, quiet=True)  # fmt: skip


def test_a_built_in_experiment_object_is_found_by_its_name_and_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    requests: list[RunRequest] = []
    monkeypatch.setattr(search.api, "_execute", lambda request, *args: requests.append(request))
    for experiment in (search.experiments.get("fashion"), search.experiments.get("images", "transfer")):
        search.run(experiment, tuner="optuna", workers=2, results=tmp_path, quiet=True)
    mine = search.Experiment.from_hypermodel("mine", um.build, lambda: search.Data(*um.tiny_data()))
    monkeypatch.setitem(search.experiments._registry._EXPERIMENTS, "mine", mine)
    search.run("mine", tuner="random", results=tmp_path, quiet=True)  # registered in this process
    with pytest.raises(SearchError, match="^experiment 'mine': workers and isolate .* do not find"):
        search.run("mine", tuner="random", isolate=True, results=tmp_path, quiet=True)
    assert [(r.experiment, r.model, r.from_object) for r in requests] == [
        ("fashion", None, False), ("images", "transfer", False), ("mine", None, True)
    ]
    for given in ("fashion", search.experiments.get("fashion")):
        with pytest.raises(SearchError, match=r"^experiment \('foo'\): names a run on arrays; "):
            search.run(given, experiment="foo", results=tmp_path, quiet=True)


def test_a_run_resumes_with_the_experiment_and_model_it_started_with(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    get, check = search.experiments.get, search.api._check_resumed_with
    cli_run = RunRequest(experiment="images", tuner="random")  # --model left out: cnn
    check(tmp_path, cli_run, get("images", "cnn"))
    check(tmp_path, replace(cli_run, model="transfer"), get("images", "transfer"))
    wrong = r"is 'images' \(model 'transfer'\), but .*'s run.json names 'images' \(model 'cnn'\); resume it"
    with pytest.raises(SearchError, match=wrong):
        check(tmp_path, cli_run, get("images", "transfer"))
    look_alike = search.Experiment.from_hypermodel("fashion", um.build, lambda: search.Data(*um.tiny_data()))
    built_in_run = RunRequest(experiment="fashion", tuner="random")
    with pytest.raises(SearchError, match="'fashion', made in its process, but .* names 'fashion'; resume"):
        check(tmp_path, built_in_run, look_alike)
    with pytest.raises(SearchError, match="is 'fashion', but .* names 'fashion', made in its process; pass"):
        check(tmp_path, replace(built_in_run, from_object=True), get("fashion"))
    with pytest.raises(SearchError, match=r"is a run on arrays, which resumes with the hypermodel it ran"):
        check(tmp_path, replace(built_in_run, arrays=True), look_alike)
    monkeypatch.chdir(tmp_path)  # a reference as typed, against run.json's absolute one
    referenced = replace(look_alike, reference={"experiment": "exp.py:E"})
    check(tmp_path, RunRequest(experiment=f"{tmp_path / 'exp.py'}:E", tuner="random"), referenced)
    by_name = (r"^model 'transfer': experiment 'images' is given as one model already; leave model out, or"
               r" name the experiment instead: search.run\('images', model='transfer'\)$")
    with pytest.raises(SearchError, match=by_name):
        search.run(get("images"), model="transfer", results=tmp_path, quiet=True)


def test_probed_inputs_are_refused(tmp_path: Path) -> None:
    x, y = um.tiny_data()
    holes = x.copy()
    holes[5, 3] = np.nan
    _refused(tmp_path, DataError, "1 NaN or infinite values", x=holes)
    _refused(tmp_path, SearchError, r"^max_trials \(1.5\) must be a whole number", max_trials=1.5)
    _refused(tmp_path, SearchError, "BuildOnly is a class; pass an instance", um.BuildOnly)
    _refused(tmp_path, SearchError, "'val_accuracy' .the default and pareto objectives.",
             um.build_binary_auc, y=(y > 0).astype("float32"))  # fmt: skip


def test_the_same_name_with_other_data_is_refused(tmp_path: Path) -> None:
    x, y = um.tiny_data()
    first = _run(um.build, tmp_path, "random", max_trials=1, max_epochs=1)
    meta = first.meta
    first._folder.update_meta(status="interrupted")  # as if stopped, to be continued
    with pytest.raises(SearchError, match="the data differ from the ones this run started with"):
        search.run(um.build, x * 100 + 7, y, tuner="random", max_trials=1, max_epochs=1,
                   results=tmp_path / "results", name="r", quiet=True, seed=3, retrain=False)  # fmt: skip
    assert first.meta["data"] == meta["data"]
    assert search.load(first.folder).status == "interrupted"


def test_the_same_name_with_a_hypermodel_of_other_arguments_is_refused(tmp_path: Path) -> None:
    """Its trials would mix with the first model's, and resume would rebuild the first."""
    first = _run(um.Sized(units=8), tmp_path, "random", max_trials=1, max_epochs=1)
    first._folder.update_meta(status="interrupted")  # as if stopped, to be continued
    with pytest.raises(SearchError, match=r"other settings \(hypermodel Sized\(units=8, name=None\) ->"
                       r" Sized\(units=16, name=None\)\); start a new run with another name"):  # fmt: skip
        _run(um.Sized(units=16), tmp_path, "random", max_trials=1, max_epochs=1)
    assert first.meta["hypermodel"]["hypermodel"]["args"]["units"] == 8
    with pytest.raises(SearchError, match=r"\(hypermodel Sized\(units=8, name=None\) -> one that cannot be"):
        _run(lambda hp: um.Sized(units=8).build(hp), tmp_path, "random", max_trials=1, max_epochs=1,
             experiment="Sized")  # fmt: skip
    assert _run(um.Sized(units=8), tmp_path, "random", max_trials=1, max_epochs=1).status == "finished"


_MINE = """
import keras


def build(hp):
    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(hp.Int("units", 2, 4), activation="relu"),
                              keras.layers.Dense(3, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model
"""


def test_a_run_continued_after_its_build_file_was_edited_says_so(tmp_path: Path, capsys) -> None:
    """Its trials would mix two versions of the model unannounced: run.json kept the build's
    name only."""
    mine = tmp_path / "mine.py"
    mine.write_text(_MINE)
    build = search.experiments.resolve(f"{mine}:build")
    first = _run(build, tmp_path, "random", max_trials=1, max_epochs=1)
    assert first.meta["code"]["file"] == str(mine.resolve())
    first._folder.update_meta(status="interrupted")  # as if stopped, to be continued
    mine.write_text(_MINE.replace('"relu"', '"tanh"'))  # the same space, another model
    capsys.readouterr()
    _run(build, tmp_path, "random", max_trials=1, max_epochs=1, quiet=False)
    said = " ".join(capsys.readouterr().out.split())
    assert (f"warning: {mine.resolve()} changed since this run last started: its trials so far"
            " trained the earlier code, the next ones train this; restore the code, or start a new run"
            " under another name to compare like with like") in said, said  # fmt: skip
    search.load(first.folder)._folder.update_meta(status="interrupted")
    _run(build, tmp_path, "random", max_trials=1, max_epochs=1, quiet=False)
    assert "warning" not in capsys.readouterr().out  # run.json now holds the edited file's digest
    mine.write_text(_MINE.replace('"relu"', '"elu"'))
    assert main(["export", str(first.folder), "--output", str(tmp_path / "m.keras")]) == 0
    assert (f"warning: {mine.resolve()} changed since this run last started: the export builds trial 0's"
            " model from the file as it is now") in " ".join(capsys.readouterr().out.split())  # fmt: skip


class _Counter(search.Observer):
    """Counts the hooks it is told of; overrides two of them only."""

    def __init__(self) -> None:
        self.begun: list[str] = []
        self.epochs: dict[str, int] = {}

    def trial_begin(self, trial: Any) -> None:
        self.begun.append(trial.trial_id)

    def epoch_end(self, trial: Any, epoch: int, logs: dict[str, float]) -> None:
        assert "val_accuracy" in logs
        self.epochs[trial.trial_id] = self.epochs.get(trial.trial_id, 0) + 1


def test_observers_are_told_of_every_trial_and_epoch(tmp_path: Path) -> None:
    counter = _Counter()
    run = _run(um.build, tmp_path, "random", observers=[counter])
    trials = _trials(run)
    assert sorted(counter.begun) == sorted(t["id"] for t in trials)
    assert counter.epochs == {t["id"]: len(t["epochs"]) for t in trials}


class _Broken(search.Observer):
    """Raises in the hook it is made for."""

    def __init__(self, hook: str) -> None:
        self.hook = hook

    def trial_begin(self, trial: Any) -> None:
        if self.hook == "trial_begin":
            raise RuntimeError("no trials today")

    def epoch_end(self, trial: Any, epoch: int, logs: dict[str, float]) -> None:
        if self.hook == "epoch_end":
            raise ValueError("bad epoch")

    def trial_end(self, trial: Any) -> None:
        if self.hook == "trial_end":
            raise KeyError("oops")


@pytest.mark.parametrize(("hook", "raised"), [("trial_begin", "RuntimeError: no trials today"),
                                              ("epoch_end", "ValueError: bad epoch"),
                                              ("trial_end", "KeyError: oops")])  # fmt: skip
def test_an_observer_that_raises_stops_the_search_at_once_naming_itself(
    tmp_path: Path, hook: str, raised: str
) -> None:
    """Wherever it raises: not trials recorded failed one after another for its fault. Its
    type once ('raised KeyError: KeyError: oops' named it twice)."""
    with pytest.raises(SearchError, match=rf"^observers: _Broken.{hook} raised {raised}; fix it, or leave"
                       r" it out of observers=$"):  # fmt: skip
        _run(um.build, tmp_path, "random", max_trials=2, max_epochs=1, observers=[_Broken(hook)], name="b")
    (folder,) = (tmp_path / "results").glob("*/b")
    assert not [t for t in _trials(search.load(folder)) if t["status"] == "failed"]


def _diverging_build(hp: kt.HyperParameters) -> keras.Model:
    """A model of two configurations: plain SGD at a learning rate that makes its weights
    NaN at once, or at one that trains."""
    model = keras.Sequential([keras.Input((um.FEATURES,)), keras.layers.Dense(8, activation="relu"),
                              keras.layers.Dense(3, activation="softmax")])  # fmt: skip
    rate = hp.Choice("sgd_rate", [1e-2, 1e30])
    model.compile(optimizer=keras.optimizers.SGD(rate), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])  # fmt: skip
    return model


@pytest.mark.parametrize("tuner", ["random", "optuna"])
def test_a_trial_whose_model_fit_loss_turns_nan_fails_and_is_not_chosen(tmp_path: Path, tuner: str) -> None:
    """model.fit trained on with NaN weights: the trial completed at the majority class's
    validation accuracy, could be chosen and its NaN model saved as the run's."""
    run = _run(_diverging_build, tmp_path, tuner, retrain=True, retrain_max_epochs=1)
    trials = {t["hyperparameters"]["sgd_rate"]: t for t in _trials(run)}
    assert trials[1e30]["status"] in ("failed", "invalid"), trials[1e30]
    assert trials[1e30]["failure"] == "loss became nan in epoch 1; lower the learning rate"
    assert trials[1e30]["epochs"][0]["loss"] != trials[1e30]["epochs"][0]["loss"]  # NaN, recorded
    assert (run.best_hyperparameters or {})["sgd_rate"] == 1e-2
    assert all(np.isfinite(w).all() for w in run.best_model().get_weights())


class _NaNLossReported(kt.HyperModel):
    """A fit of its own that reports its metrics in a dict, its loss NaN."""

    def build(self, hp: kt.HyperParameters) -> keras.Model:
        return um.build(hp)

    def fit(self, hp: kt.HyperParameters, model: keras.Model, *args: Any, **kwargs: Any) -> dict[str, float]:
        return {"val_accuracy": 0.5, "loss": float("nan")}


def test_a_fit_of_its_own_reporting_a_nan_loss_fails_its_trial(tmp_path: Path) -> None:
    with pytest.raises(SearchError, match=r"loss became nan at the end of the trial's fit; lower the"):
        _run(_NaNLossReported(), tmp_path, "random", max_trials=1)


class _Exits(search.Observer):
    """Exits as rich does where its output pipe closed (``| head``)."""

    def epoch_end(self, trial: Any, epoch: int, logs: dict[str, float]) -> None:
        raise SystemExit(1)


def test_a_run_made_to_exit_is_interrupted_and_resumable_not_failed_with_reason_1(tmp_path: Path) -> None:
    """`python -m search run ... | head -4` left run.json 'failed' with the reason '1'."""
    with pytest.raises(SystemExit):
        _run(um.build, tmp_path, "random", max_trials=2, max_epochs=1, observers=[_Exits()], name="piped")
    (folder,) = (tmp_path / "results").glob("*/piped")
    meta = json.loads((folder / "run.json").read_text())
    assert meta["status"] == "interrupted"
    assert meta["reason"].startswith("the process was made to exit (SystemExit 1): its output closed")
    run = search.resume(folder, quiet=True)
    assert run.status == "finished"


def test_observers_with_isolate_are_refused(tmp_path: Path) -> None:
    with pytest.raises(SearchError, match="observers: isolate=True"):
        _run(um.build, tmp_path, "random", observers=[_Counter()], isolate=True)
    with pytest.raises(SearchError, match="observers: an object is not a search.Observer"):
        _run(um.build, tmp_path, "random", observers=[object()])
    assert not (tmp_path / "results").exists()


def test_one_observer_given_alone_is_taken(tmp_path: Path) -> None:
    """As ``track=`` takes one name: ``observers=Counter()``, not a TypeError."""
    counter = _Counter()
    run = _run(um.build, tmp_path, "random", max_trials=1, max_epochs=1, observers=counter)
    assert counter.begun == [t["id"] for t in _trials(run)]
    with pytest.raises(SearchError, match="observers: a function is not a search.Observer"):
        _run(um.build, tmp_path / "other", "random", observers=lambda trial: None)


def test_a_run_on_arrays_speaks_of_rows_not_images(tmp_path: Path, capsys) -> None:
    run = _run(um.build, tmp_path, "random", max_trials=1, retrain=True, retrain_max_epochs=2,
               quiet=False, test_data=um.tiny_data(n=30, seed=1))  # fmt: skip
    out = capsys.readouterr().out
    data = run.meta["data"]
    assert data["unit"] == "rows" and run.meta["final"]["train_unit"] == "rows"
    assert f"on {data['train']:,} rows while val accuracy improves" in out
    assert f"the {data['validation']:,} validation rows are held out" in out
    assert "images" not in out
    assert main(["report", str(run.folder), "--quiet"]) == 0
    page = (run.folder / "report.html").read_text()
    assert f"{data['train']} train / {data['validation']} validation rows" in page
    # how the final model trained: from the search's checkpoint, which saw every row
    assert f" on {data['train']:,} rows from its search checkpoint, kept epoch " in page
    assert run.meta["final"]["started_from"] == "checkpoint"


@pytest.mark.parametrize("which", ["full", "search"])
def test_a_fixed_length_retrain_trains_at_most_retrain_max_epochs(
    tmp_path: Path, which: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """``full`` and ``search`` train to the end of the trial's plateau (with a tolerance
    of 0.99, its last epoch: 3), capped like a validated retrain."""
    x, y = um.tiny_data()
    run = search.run(um.build, x, y, tuner="random", max_trials=1, max_epochs=3, results=tmp_path,
                     name=which, retrain_data=which, retrain_max_epochs=2, tolerance=0.99)  # fmt: skip
    final = run.meta["final"]
    assert (final["retrain_data"], final["epochs"]) == (which, 2)
    out = capsys.readouterr().out
    assert "for 2 epochs, the most a retrain trains (its last epoch within 0.99 of its best" in out
    assert "is epoch 3)" in out


class _Batches(keras.utils.PyDataset):
    """A keras.utils.PyDataset of two batches of the tiny data."""

    def __len__(self) -> int:
        return 2

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        x, y = um.tiny_data()
        return x[index * 45 : (index + 1) * 45], y[index * 45 : (index + 1) * 45]


def test_datasets_and_generators_are_refused_with_how_to_get_arrays(tmp_path: Path) -> None:
    tf = import_or_missing("tensorflow")
    x, y = um.tiny_data()
    dataset = tf.data.Dataset.from_tensor_slices((x, y)).batch(16)
    tf_fix = r"collect a finite one first, e.g. x, y = map\(np.stack, zip\(\*dataset.unbatch"
    _refused(tmp_path, DataError, rf"^x: a tf.data.Dataset \(_BatchDataset\); search.run takes .*{tf_fix}",
             x=dataset, y=None)  # fmt: skip
    _refused(tmp_path, DataError, r"^x: a tf.data.Dataset .* x = np.stack\(list\(dataset.unbatch",
             x=tf.data.Dataset.from_tensor_slices(x))  # fmt: skip
    _refused(tmp_path, DataError, r"^x: a keras.utils.PyDataset \(_Batches\);.*np.concatenate",
             x=_Batches(), y=None)  # fmt: skip
    _refused(tmp_path, DataError, r"^x: a generator \(generator\);", x=(b for b in [(x, y)]), y=None)
    _refused(tmp_path, DataError, r"^validation_data: a tf.data.Dataset .* x_val, y_val = map",
             validation_data=dataset)  # fmt: skip
    _refused(tmp_path, DataError, r"^test_data: a keras.utils.PyDataset", test_data=_Batches())
    _refused(tmp_path, DataError, r"^y: an iterator \(iterator\); .*y = np.concatenate", y=iter(y))
    for message in _message(tmp_path, x=dataset, y=None), _message(tmp_path, validation_data=_Batches()):
        assert "\n" not in message


def test_streams_are_looked_for_once_per_run_and_refused_by_data_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """search.run looks for a stream once, before any work; an experiment's search.Data
    still refuses one when it splits."""
    import search.data._arrays as arrays

    calls: list[tuple[Any, ...]] = []
    looked = arrays.refuse_streams

    def counted(*args: Any) -> None:
        calls.append(args)
        looked(*args)

    monkeypatch.setattr(search.api, "refuse_streams", counted)
    monkeypatch.setattr(arrays, "refuse_streams", counted)
    monkeypatch.setattr(search.api, "_execute", lambda *args: "searched")
    x, y = um.tiny_data()
    assert search.run(um.build, x, y, tuner="random", results=tmp_path / "r", quiet=True) == "searched"
    assert len(calls) == 1
    with pytest.raises(DataError, match=r"^x: a generator \(generator\); search.run takes NumPy arrays"):
        search.Data(x=(row for row in x), y=y).splits()


def test_x_and_y_are_named_as_the_user_passed_them(tmp_path: Path) -> None:
    x, y = um.tiny_data()
    _refused(tmp_path, DataError, r"^x: holds Python objects \(object, e.g. object\); pass numeric",
             x=np.array([object()] * len(y)))  # fmt: skip
    _refused(tmp_path, DataError, r"^y: holds strings \(object\); encode the labels as integers first",
             y=np.array(["a", "b", "c"], dtype=object)[y])  # a pandas column of text gives these
    _refused(tmp_path, DataError, r"^y: holds strings \(<U1\); encode the labels as integers first,"
             r" by one mapping for every split, e.g. classes = np.unique\(np.concatenate\(\[y, y_val,"
             r" y_test\]\)\), then np.searchsorted\(classes, labels\) for each split's labels$",
             y=np.array(["a", "b", "c"])[y])  # fmt: skip
    _refused(tmp_path, DataError, r"^validation_data\[1\] \(y\): holds strings .* by one mapping",
             validation_data=(x, np.array(["a", "b", "c"])[y]))  # fmt: skip
    _refused(tmp_path, DataError, r"^x: holds strings \(<U\d+\); pass numbers", x=x.astype(str))
    _refused(tmp_path, DataError, r"^x: holds complex numbers \(complex128\); pass real", x=x.astype(complex))
    _refused(tmp_path, DataError, r"^x: a single value \(int\), not rows; pass an array", x=5)
    _refused(tmp_path, DataError, r"^x: is empty", x=x[:0])
    _refused(tmp_path, DataError, r"^x and y differ in length \(90 vs 89 rows\); pass", y=y[:-1])
    _refused(tmp_path, SearchError, r"^y: missing; pass the targets too: search.run\(hypermod", y=None)
    _refused(tmp_path, SearchError, r"^x: missing; pass the inputs too", x=None)
    _refused(tmp_path, SearchError, r"^x and y: missing; pass search.run\(hypermodel, x, y", x=None, y=None)
    _refused(tmp_path, SearchError, r"^x, y: an experiment \('fashion'\) loads its own data; drop x and y",
             "fashion")  # fmt: skip
    _refused(tmp_path, SearchError, r"^test_data: an experiment \('fashion'\) loads its own data; drop test_",
             "fashion", x=None, y=None, test_data=(x, y))  # fmt: skip


def test_workers_with_another_tuner_than_optuna_name_no_command_line_option(tmp_path: Path) -> None:
    """The fix named "gpus 0", which search.run does not take (``--gpus`` is the command line's)."""
    _refused(tmp_path, SearchError, r"^workers 2 needs tuner optuna \(several workers share an Optuna"
             r" study\), not random; workers 1 works with any tuner$", workers=2)  # fmt: skip


def test_a_validation_split_that_would_change_nothing_is_refused(tmp_path: Path) -> None:
    """With validation_data, or with an experiment (which loads its own), validation_split
    was ignored: the run held out no 30 % of x."""
    x, y = um.tiny_data()
    _refused(tmp_path, DataError, r"^validation_split \(0\.3\) is the share of x held out where no"
             r" validation_data is given; .* leave out validation_split, or validation_data$",
             validation_data=(x, y), validation_split=0.3)  # fmt: skip
    _refused(tmp_path, SearchError, r"^validation_split \(0\.3\): holds out rows of the arrays given"
             r" to search.run; experiment 'fashion' loads its own validation rows .*: leave out"
             r" validation_split$",
             "fashion", x=None, y=None, validation_split=0.3)  # fmt: skip


def test_a_validation_split_that_is_not_a_number_is_one_line(tmp_path: Path) -> None:
    for bad in ("0.2", None, True):
        _refused(tmp_path, DataError, rf"^validation_split \({bad!r}\) must be a number between 0 and 1",
                 validation_split=bad)  # fmt: skip
    _refused(tmp_path, DataError, r"^validation_split \(1\) must be a number between 0 and 1",
             validation_split=1)  # fmt: skip


def test_targets_of_several_arrays_are_refused_and_inputs_of_several_must_fit(tmp_path: Path) -> None:
    x, y = um.tiny_data()
    several = r" \(a multi-output model's targets\); search.run takes one array for y, .*: give the model"
    _refused(tmp_path, DataError, r"^y: a tuple of 2 arrays of 90 rows each" + several, y=(y, y))
    _refused(tmp_path, DataError, r"^y: a dict of 1 arrays \('out'\)" + several, y={"out": y})
    one = r"but build's model takes 1 input, not a list; pass x as one array$"
    _refused(tmp_path, SearchError, r"^x: a list of 2 arrays, " + one, x=[x, x[:, :3]])
    _refused(tmp_path, SearchError, r"^x: a dict of arrays 'a', but build's model takes 1 input, not a dict;"
             r" pass x as one array \(x\['a'\]\)$", x={"a": x})  # fmt: skip
    _refused(tmp_path, SearchError, r"^x: a list of 1 array, but build's model takes 1 input, not a list;"
             r" pass x as one array \(x\[0\]\)$", x=[x])  # fmt: skip
    two = r"but build_two_inputs's model takes a dict of 2 inputs; pass x as a dict of arrays 'a', 'b'$"
    _refused(tmp_path, SearchError, r"^x: a list of 2 arrays, but build_two_inputs's model takes a dict of 2"
             r" inputs \(Keras would match a list to them by position, not by name\); pass x as a dict",
             hypermodel=um.build_two_inputs, x=[x[:, :5], x[:, 5:]])  # fmt: skip
    _refused(tmp_path, SearchError, r"^x: a dict of arrays 'a', 'c', " + two, hypermodel=um.build_two_inputs,
             x={"a": x[:, :5], "c": x[:, 5:]})  # fmt: skip
    listed = r"but build_two_listed_inputs's model takes 2 inputs; pass x as a list of 2 arrays, in its"
    _refused(tmp_path, SearchError, r"^x: a dict of arrays 'a', 'c', " + listed + r" inputs' order, or a dict"
             r" of arrays 'a', 'b'$", hypermodel=um.build_two_listed_inputs,
             x={"a": x[:, :5], "c": x[:, 5:]})  # fmt: skip
    _refused(tmp_path, DataError, r"^validation_data: a list of 2 arrays as inputs, but x is one array;",
             validation_data=([x[:30], x[:30]], y[:30]))  # fmt: skip
    one_listed = r"build_one_listed_input's model takes 1 input; pass x as one array, a list of 1, or a dict"
    for wrong in ([x, x], {"b": x}):
        _refused(tmp_path, SearchError, rf"^x: {form_words(wrong)}, but {one_listed} of arrays 'a'$",
                 hypermodel=um.build_one_listed_input, x=wrong)  # fmt: skip
    for given in ([x], {"a": x}):  # a model of one input in a list takes it as Keras does
        run = search.run(um.build_one_listed_input, given, y, tuner="random", max_trials=1, max_epochs=1,
                         results=tmp_path, name=type(given).__name__, retrain=False, quiet=True)  # fmt: skip
        assert run.status == "finished"
    rows = [row for row in x]  # a list of rows, each an array, is rows: no refusal
    run = search.run(um.build, rows, y, tuner="random", max_trials=1, max_epochs=1, results=tmp_path,
                     retrain=False, quiet=True)  # fmt: skip
    assert run.status == "finished"


def test_labels_out_of_the_models_range_are_refused_before_any_trial(tmp_path: Path) -> None:
    x, y = um.tiny_data()
    order = np.argsort(y == 2, kind="stable")  # the first rows tried hold labels 0 and 1 only
    _refused(tmp_path, SearchError, r"^x, y does not fit build's model .*label value of 4",
             x=x[order], y=y[order] * 2)  # fmt: skip


@pytest.mark.parametrize(
    ("value", "said"),
    [
        (None, r"None \(does it end with a return statement\?\)"),
        ("0.9", r"a str \('0.9'\)"),
        ({"accuracy": 0.5, "loss": 1.0}, r"a dict without 'val_accuracy' \(keys: 'accuracy', 'loss'\)"),
    ],
    ids=["none", "str", "dict"],
)
def test_an_own_fit_returning_what_keras_tuner_cannot_take_stops_the_run(
    value: Any, said: str, tmp_path: Path
) -> None:
    with pytest.raises(SearchError) as refused:
        _run(um.ReturnsFit(value), tmp_path, "random")
    message = str(refused.value)
    assert "\n" not in message
    assert re.match(rf"ReturnsFit's fit returned {said}; .*History.*float.*dict", message), message
    folder = tmp_path / "results" / "ReturnsFit" / "r"
    assert json.loads((folder / "run.json").read_text())["status"] == "failed"
    trials = json.loads((folder / "trials.json").read_text())["trials"]
    assert len(trials) == 1  # the first trial stops the run: no other configuration is tried


def test_the_trial_a_run_stopped_by_its_fit_left_is_shown_as_interrupted(tmp_path: Path, capsys) -> None:
    """Its record stays "running" for resume to run it again as itself (recorded failed, it
    could not be): status and the report both say so, neither that it is running."""
    with pytest.raises(SearchError, match=r"^ReturnsFit's fit returned None"):
        _run(um.ReturnsFit(None), tmp_path, "random")
    folder = tmp_path / "results" / "ReturnsFit" / "r"
    trials = json.loads((folder / "trials.json").read_text())["trials"]
    assert [t["status"] for t in trials] == ["running"]
    reason = json.loads((folder / "run.json").read_text())["reason"]
    assert reason.startswith("ReturnsFit's fit returned None") and "\n" not in reason
    assert main(["status", str(folder)]) == 0
    out = capsys.readouterr().out
    assert "0 completed, 1 interrupted (resume continues it), 0 pruned" in out
    assert "  failed: ReturnsFit's fit returned None" in out
    assert main(["report", str(folder)]) == 0
    page = (folder / "report.html").read_text()
    assert "0 failed, 1 interrupted (resume continues it)</dd>" in page and "1 running" not in page
    assert "<dd>failed: ReturnsFit&#x27;s fit returned None" in page


@pytest.mark.parametrize("tuner", ["optuna", "random"])
def test_a_run_stopped_by_its_fit_goes_on_with_its_first_trial_once_fit_is_fixed(
    tuner: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fixed = um.ReturnsFit.fit

    def broken(self: um.ReturnsFit, *args: Any, **kwargs: Any) -> Any:
        fixed(self, *args, **kwargs)
        return None

    with monkeypatch.context() as patched:  # the user's code: fit forgets its return
        patched.setattr(um.ReturnsFit, "fit", broken)
        with pytest.raises(SearchError, match=r"^ReturnsFit's fit returned None"):
            _run(um.ReturnsFit(0.5), tmp_path, tuner)
    run = _run(um.ReturnsFit(0.5), tmp_path, tuner)  # the user fixed fit: the same run goes on
    assert run.meta["status"] == "finished" and run.meta["reason"] is None  # the failure's, cleared
    # The stopped first trial is run again as itself (the baseline, Optuna's study trial 0):
    # not left to a dead worker's heartbeat grace, then failed as "worker died" (a third trial).
    trials = _trials(run)
    assert [(t["id"], t["status"]) for t in trials] == [("0", "completed"), ("1", "completed")], trials
    assert trials[0]["baseline"]


def test_an_own_fit_returning_what_keras_tuner_cannot_take_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "none_fit.py").write_text(
        "import search\nfrom tests import user_models as um\n\n"
        "experiment = search.Experiment.from_hypermodel(\n"
        "    'none_fit', um.ReturnsFit(None), lambda: search.Data(*um.tiny_data()),\n"
        "    max_trials=2, max_epochs=1,\n"
        ")\n"
    )
    code = main(["run", str(tmp_path / "none_fit.py") + ":experiment", "--tuner", "random",
                 "--results", str(tmp_path / "results"), "--name", "n", "--quiet"])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.startswith("error: ReturnsFit's fit returned None (") and "Traceback" not in err


def test_an_own_fit_returning_nan_says_the_trials_ran_and_their_objective_was_nan(tmp_path: Path) -> None:
    with warnings.catch_warnings(record=True) as caught, pytest.raises(SearchError) as refused:
        warnings.simplefilter("always")
        _run(um.ReturnsFit(float("nan")), tmp_path, "random")
    said = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]
    assert said == []  # not NumPy's "All-NaN axis encountered", from KerasTuner
    message = str(refused.value)
    assert "no trial ran" not in message and "\n" not in message
    said = r"no trial completed \(2x ran to the end, but its val_accuracy was NaN; .*learning rate.*data"
    assert re.match(said, message), message
    trials = json.loads((tmp_path / "results" / "ReturnsFit" / "r" / "trials.json").read_text())["trials"]
    assert [t["status"] for t in trials] == ["failed"] * 2
    assert all("val_accuracy was NaN" in t["failure"] for t in trials)


def test_pandas_nullable_numbers_and_booleans_are_numbers(tmp_path: Path) -> None:
    pd = pytest.importorskip("pandas")
    x, y = um.tiny_data()
    frame = pd.DataFrame(x, columns=[f"f{i}" for i in range(x.shape[1])]).astype("Float32")
    labels = pd.Series(y, dtype="Int64")
    splits = array_splits(frame, labels)
    assert splits.x_train.dtype == np.float32 and splits.y_train.dtype == np.int64
    flags = pd.Series(y > 0, dtype="boolean")
    assert array_splits(frame.astype({"f0": "Int64"}), flags).y_train.dtype == bool
    run = search.run(um.build, frame, labels, tuner="random", max_trials=1, max_epochs=1,
                     results=tmp_path, retrain=False, quiet=True)  # fmt: skip
    assert run.status == "finished"


def test_pandas_missing_values_and_columns_not_numbers_are_one_line(tmp_path: Path) -> None:
    pd = pytest.importorskip("pandas")
    x, y = um.tiny_data()
    frame = pd.DataFrame(x, columns=[f"f{i}" for i in range(x.shape[1])]).astype("Float32")
    holed = frame.copy()
    holed.iloc[3, 1] = pd.NA
    with pytest.raises(DataError, match=r"^x: holds 1 NaN or infinite values; clean or impute"):
        array_splits(holed, y)
    with pytest.raises(DataError, match=r"^y: holds 1 NaN"):
        array_splits(frame, pd.Series([None, *y[1:]], dtype="Int64"))
    mixed = frame.assign(city="Oslo", size=pd.Categorical(["s", "m", "l"] * 30))
    with pytest.raises(DataError) as refused:
        array_splits(mixed, y)
    text = r"(str|object)"  # pandas 3's strings, pandas 2's objects
    said = rf"x: a DataFrame with 2 columns not of numbers \('city' \({text}\), 'size' \(category\)\); "
    assert re.match(said + "encode them .*get_dummies", str(refused.value)), refused.value
    with pytest.raises(DataError, match=rf"^y: a pandas Series of {text} values.*encode the labels as"):
        array_splits(frame, pd.Series(np.array(["a", "b", "c"])[y], dtype="str"))


@pytest.mark.parametrize("retrain_data", ["full", "search"])
def test_an_own_fit_retrained_without_validation_data_is_not_asked_for_the_objective(
    tmp_path: Path, retrain_data: str
) -> None:
    """The retrain reads the History's curves: without validation data there is no
    val_accuracy to log, and none is needed."""
    run = _run(um.TunedFit(), tmp_path, "random", retrain=True, retrain_data=retrain_data, max_trials=1)
    assert run.meta["status"] == "finished" and run.best_model() is not None


def test_rows_without_values_are_refused(tmp_path: Path) -> None:
    _refused(tmp_path, DataError, r"^y: its rows hold no values \(shape \(90, 0\)\); pass one value",
             y=np.zeros((90, 0)))  # fmt: skip
    _refused(tmp_path, DataError, r"^x: its rows hold no values \(shape \(90, 0\)\)", x=np.zeros((90, 0)))


def test_lists_of_rows_are_rows_whatever_their_widths() -> None:
    """Rows of x and of y as lists (of as many values as there are rows of the other, or
    not) are rows; lists of whole arrays for both are a multi-input, multi-output model's
    (the targets refused)."""
    rng = np.random.default_rng(0)
    x, targets = rng.normal(size=(90, 2)).astype("float32"), rng.normal(size=(90, 2))
    one_hot = np.eye(3)[rng.integers(0, 3, 90)]
    for inputs, outputs in ((x, targets), (rng.normal(size=(90, 3)), one_hot)):
        splits = array_splits(list(inputs), list(outputs), validation_split=0.2)
        assert splits.x_train.shape == (72, inputs.shape[1]) and len(splits.y_val) == 18
    with pytest.raises(DataError, match=r"^y: a list of 2 arrays of 90 rows each"):
        array_splits([x, x], [targets, targets])


def test_a_seed_makes_a_user_s_search_repeat_itself(tmp_path: Path) -> None:
    """``seed`` seeds the models too: the same configurations train alike (initial weights,
    dropout, shuffling), epoch for epoch; another seed trains them otherwise."""

    def curves(run: search.Run) -> list[list[float]]:
        return [[e["val_loss"] for e in t["epochs"]] for t in _trials(run)]

    first = curves(_run(um.build, tmp_path, "random", name="a"))
    assert curves(_run(um.build, tmp_path, "random", name="b")) == first
    # One configuration on one given split: only the models' seed differs.
    pinned = {"fix": {"units": 8, "dropout": 0.2, "learning_rate": 0.01}, "max_trials": 1,
              "validation_data": um.tiny_data(30, seed=1)}  # fmt: skip
    three = curves(_run(um.build, tmp_path, "random", name="d", **pinned))
    assert curves(_run(um.build, tmp_path, "random", name="e", **pinned)) == three
    assert curves(_run(um.build, tmp_path, "random", name="f", seed=4, **pinned)) != three


@pytest.mark.parametrize("call", ["load", "resume"])
def test_a_file_of_a_run_given_as_the_run_names_the_runs_folder(tmp_path: Path, call: str) -> None:
    (tmp_path / "run.json").write_text("{}")
    given, folder = re.escape(str(tmp_path / "run.json")), re.escape(str(tmp_path))
    with pytest.raises(search.RunFolderError, match=rf"^{given}: a file, not a run folder; give the run's"
                       rf" folder: search.{call}\('{folder}'\)$"):  # fmt: skip
        getattr(search, call)(tmp_path / "run.json")


@pytest.mark.parametrize("call", ["load", "resume"])
def test_a_results_root_an_experiment_folder_or_a_file_given_as_the_run_says_what_it_is(
    tmp_path: Path, call: str
) -> None:
    """Not 'run.json is unreadable (Not a directory); chmod u+r' for a file, nor 'not a run
    folder' alone for the folder of runs above one."""
    from tests.helpers.runs import write_run

    run = write_run(tmp_path, "a", [], status="interrupted")
    (tmp_path / "notes.txt").write_text("x")
    shown = re.escape(str(run.path))
    cases = {
        tmp_path: rf"is a results root; give one of its runs, e.g. {shown}$",
        tmp_path / "fashion": rf"is an experiment's folder of runs; give one of them, e.g. {shown}$",
        tmp_path / "notes.txt": r"is a file, not a run folder; give a run's folder \(the one holding run.json\)$",  # noqa: E501
    }
    for given, match in cases.items():
        with pytest.raises(search.RunFolderError, match=rf"^{re.escape(str(given))}: {match}"):
            getattr(search, call)(given)


def test_load_of_no_run_says_so(tmp_path: Path) -> None:
    with pytest.raises(search.RunFolderError, match=r"not a run folder \(no run.json\)"):
        search.load(tmp_path / "nope")


def test_load_of_a_damaged_run_json_says_so_and_a_runs_repr_never_raises(tmp_path: Path) -> None:
    """``search.load`` of a corrupt run.json succeeded, then ``print(run)`` raised."""
    from tests.helpers.runs import epochs, trial, write_run

    folder = write_run(tmp_path, "r", [trial("0", epochs((0.9, 0.8, 1, 1)))])
    run = search.load(folder.path)
    good = folder.run_file.read_text()
    folder.run_file.write_text("{not json")
    assert repr(run) == f"Run({str(folder.path)!r}, status='unreadable')"
    with pytest.raises(search.RunFolderError, match=r"run.json"):
        search.load(folder.path)
    folder.run_file.write_text(good.replace('"experiment"', '"was"'))
    with pytest.raises(search.RunFolderError, match=r"'experiment' is missing"):
        search.load(folder.path)


def test_a_run_of_a_relative_folder_stays_itself_after_a_change_of_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A notebook's ``%cd`` after ``run = search.run(..., results="results")``: the Run
    read ``results/...`` from the new folder ('run.json: missing; this is not a run folder')."""
    from tests.helpers.runs import epochs, trial, write_run

    folder = write_run(tmp_path, "r", [trial("0", epochs((0.9, 0.8, 1, 1)))])
    monkeypatch.chdir(tmp_path)
    run = search.load(Path("fashion") / "r")
    monkeypatch.chdir(tmp_path / "fashion")
    assert run.folder == folder.path and run.status == "finished"
    assert list(run.trials["trial"]) == ["0"] and run.report() == folder.path / "report.html"


def test_a_run_and_its_report_leave_the_libraries_logs_as_they_were(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A notebook's own TensorFlow warnings and Optuna trial lines were silenced for good
    by a search (TensorFlow's at ERROR, Optuna's at WARNING) and by its report's fANOVA
    (Optuna's at ERROR)."""
    for name, level in (("tensorflow", logging.INFO), ("optuna", logging.DEBUG)):
        monkeypatch.setattr(logging.getLogger(name), "level", level)
    run = _run(um.build, tmp_path, "optuna", max_trials=1, max_epochs=1)
    assert (logging.getLogger("tensorflow").level, logging.getLogger("optuna").level) == (20, 10)
    from tests.helpers.runs import epochs, trial, write_run

    hps = [{"learning_rate": 10.0**-i, "units": 32 * i, "augment": i > 2, "mode": "a"} for i in range(1, 5)]
    many = write_run(tmp_path, "many", [trial(str(i), epochs((0.9, 0.5 + i / 20, 1, 1)), hp=hp)
                                        for i, hp in enumerate(hps)])  # fANOVA's 4 trials at least
    assert search.load(many.path).report().is_file() and run.report().is_file()
    assert (logging.getLogger("tensorflow").level, logging.getLogger("optuna").level) == (20, 10)


def test_a_run_leaves_pythons_and_numpys_global_generators_as_they_were(tmp_path: Path) -> None:
    """Each build seeds them (keras.utils.set_random_seed): a notebook's own draws after a
    search were the same after every search, whatever it had drawn or seeded before."""
    random.seed(123)
    np.random.seed(123)
    expected = (random.Random(123).random(), np.random.RandomState(123).random_sample())
    _run(um.build, tmp_path, "random", max_trials=1, max_epochs=1)
    assert (random.random(), np.random.random_sample()) == expected


_POLICIES: list[str] = []


def _build_noting_the_policy(hp: kt.HyperParameters) -> keras.Model:
    _POLICIES.append(keras.mixed_precision.global_policy().name)
    return um.build(hp)


def test_a_users_trials_and_final_model_are_built_in_the_precision_asked(tmp_path: Path) -> None:
    """KerasTuner clears the Keras session before every build, and with it the global
    policy: precision='mixed' (and 'auto' on a GPU) built every trial and the final model in
    float32, while run.json said mixed_bfloat16."""
    _POLICIES.clear()
    run = _run(_build_noting_the_policy, tmp_path, "random", max_trials=1, max_epochs=1, precision="mixed",
               retrain=True, retrain_max_epochs=1)  # fmt: skip
    assert run.meta["precision"] == "mixed_bfloat16"
    assert _POLICIES[-2:] == ["mixed_bfloat16"] * 2  # the trial's build, the retrain's
    assert run.best_model().layers[0].dtype_policy.name == "mixed_bfloat16"


def test_a_run_leaves_the_callers_own_dtype_policy_as_it_was(tmp_path: Path) -> None:
    """The session its checks clear before the run's precision is set reset a notebook's
    own mixed_bfloat16 to float32 for good."""
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        run = _run(um.build, tmp_path, "random", max_trials=1, max_epochs=1, precision="float32")
        assert keras.mixed_precision.global_policy().name == "mixed_bfloat16"
    finally:
        keras.mixed_precision.set_global_policy("float32")
    assert run.meta["precision"] == "float32"


def test_options_of_experiments_that_load_their_own_data_are_refused_on_arrays(tmp_path: Path) -> None:
    """train_size, val_size, data_dir and model choose what an experiment loads; a run on
    arrays would ignore them."""
    own = r": a run on arrays searches the x, y \(and validation_data\) given; the option applies to"
    _refused(tmp_path, SearchError, r"^train_size 10" + own + r" experiments that load their own data"
             r" \(fashion, clothing, images\): leave it out, or pass fewer rows \(x\[:N\], y\[:N\]\)$",
             train_size=10)  # fmt: skip
    _refused(tmp_path, SearchError, r"^train_size 'all'" + own, train_size="all")
    _refused(tmp_path, SearchError, r"^val_size 20" + own, val_size=20)
    _refused(tmp_path, SearchError, r"^data_dir '/tmp'" + own, data_dir="/tmp")
    _refused(tmp_path, SearchError, r"^model 'resnet50': a run on arrays searches the hypermodel given;"
             r" the option applies to experiments of several models \(images\): leave it out$",
             model="resnet50")  # fmt: skip


class _Doubled(keras.layers.Layer):
    """A layer of the user's, not registered with Keras: a saved model names it only."""

    def call(self, inputs: Any) -> Any:
        return inputs * 2.0


def _build_unregistered(hp: kt.HyperParameters) -> keras.Model:
    units = hp.Int("units", 4, 8, step=4)
    model = keras.Sequential([keras.Input((8,)), _Doubled(), keras.layers.Dense(units),
                              keras.layers.Dense(um.CLASSES, activation="softmax")])  # fmt: skip
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def test_a_best_model_of_the_users_own_layers_loads_with_them(tmp_path: Path) -> None:
    """Keras loads a layer it cannot find by name only when told of it: best_model finds
    it in the module that defines the build (as export does), takes load_model's
    custom_objects and safe_mode, and says so when they are missing."""
    run = _run(_build_unregistered, tmp_path, "random", max_trials=1)
    assert isinstance(search.load(run.folder).best_model().layers[0], _Doubled)
    model = run.best_model(custom_objects={"_Doubled": _Doubled})
    assert isinstance(model.layers[0], _Doubled)
    closure = _run(lambda hp: _build_unregistered(hp), tmp_path, "random", max_trials=1, name="c")
    file = re.escape(str(closure.folder / "best_model.keras"))
    with pytest.raises(SearchError, match=rf"^{file}: Keras cannot load it \(Could not locate class"
                       r" '_Doubled'\); pass your own classes and functions: run.best_model\(custom_"):
        closure.best_model()  # no module to look in


def test_a_report_path_that_cannot_be_written_is_one_line(tmp_path: Path) -> None:
    from tests.helpers.runs import epochs, trial, write_run

    run = search.load(write_run(tmp_path, "r", [trial("0", epochs((0.9, 0.8, 1, 1)))]).path)
    folder = re.escape(str(tmp_path))
    with pytest.raises(SearchError, match=rf"^path {folder}: is a folder; give a file name, e.g."
                       rf" {folder}/report.html$"):  # fmt: skip
        run.report(tmp_path)
    (tmp_path / "file").write_text("")
    with pytest.raises(SearchError, match=rf"^path {folder}/file/r.html: {folder}/file is a file, not a"
                       " folder; give a file in a folder you can write to$"):  # fmt: skip
        run.report(tmp_path / "file" / "r.html")


def test_the_report_of_a_read_only_run_names_the_folder_and_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It raised OSError: [Errno 30] Read-only file system: '.../report.html'."""
    from tests.helpers.runs import epochs, read_only, trial, write_run

    folder = write_run(tmp_path, "r", [trial("0", epochs((0.9, 0.8, 1, 1)))])
    read_only(monkeypatch, folder.path)
    with pytest.raises(SearchError) as caught:
        search.load(folder.path).report()
    assert str(caught.value).startswith(f"run folder {folder.path}: cannot write in {folder.path}")
    assert str(caught.value).endswith("pass path= a file in a folder you can write to"), caught.value
    assert not (folder.path / "report.html").exists()


def test_best_model_of_a_finished_run_whose_model_file_is_gone_says_how_to_get_one(tmp_path: Path) -> None:
    """Resuming a finished run is refused, so the message must not send the user there."""
    from tests.helpers.runs import epochs, trial, write_run

    folder = write_run(tmp_path, "done", [trial("0", epochs((0.9, 0.8, 1, 1)))])
    with pytest.raises(SearchError) as caught:
        search.load(folder.path).best_model()
    message = str(caught.value)
    assert "resume" not in message and f"python -m search export {folder.path}" in message, message
    assert message.startswith(f"{folder.model_file}: missing"), message


@pytest.mark.parametrize("given", [5, None, ["results/fashion/r1"]])
def test_a_run_folder_or_report_path_that_is_not_a_path_is_named(given: Any, tmp_path: Path) -> None:
    from tests.helpers.runs import epochs, trial, write_run

    for call in (search.load, search.resume):
        with pytest.raises(SearchError, match=rf"^folder \({re.escape(repr(given))}\): give a run's folder"):
            call(given)
    if given is not None:
        folder = write_run(tmp_path, "done", [trial("0", epochs((0.9, 0.8, 1, 1)))])
        with pytest.raises(SearchError, match=rf"^path \({re.escape(repr(given))}\): give a file"):
            search.load(folder.path).report(given)


def test_the_api_loading_keras_itself_prints_nothing(tmp_path: Path) -> None:
    """TensorFlow's native libraries log through absl as they load, whatever
    TF_CPP_MIN_LOG_LEVEL says: where the API is what loads them, none of it is shown."""
    import subprocess
    import sys

    from tests.helpers.runs import epochs, trial, write_run

    folder = write_run(tmp_path, "done", [trial("0", epochs((0.9, 0.8, 1, 1)))])
    code = f"import search; print(search.load({str(folder.path)!r}).status)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                          cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})  # fmt: skip
    assert (done.returncode, done.stdout, done.stderr) == (0, "finished\n", ""), done.stderr


def test_run_report_names_its_own_keyword_when_it_refuses_a_path(tmp_path: Path) -> None:
    """``Run.report(path)`` writing its table over the run's run.json: the message names
    ``path``, the keyword the caller used, not the command line's ``output``."""
    from tests.helpers.runs import epochs, trial, write_run

    folder = write_run(tmp_path, "done", [trial("0", epochs((0.9, 0.8, 1, 1)))])
    with pytest.raises(SearchError, match=rf"^path {re.escape(str(folder.path / 'run.html'))}: would write"):
        search.load(folder.path).report(folder.path / "run.html")


@pytest.mark.parametrize("given", [5, ["Layer"]])
def test_best_model_given_custom_objects_that_are_not_a_mapping_says_so(given: Any, tmp_path: Path) -> None:
    """Not "Keras cannot load it ('int' object is not iterable)" with a hint to do what was done."""
    from tests.helpers.runs import epochs, trial, write_run

    folder = write_run(tmp_path, "done", [trial("0", epochs((0.9, 0.8, 1, 1)))])
    folder.model_file.write_bytes(b"PK")
    with pytest.raises(SearchError, match=rf"^custom_objects \({re.escape(repr(given))}\): give a dict"):
        search.load(folder.path).best_model(custom_objects=given)


def test_best_model_given_a_safe_mode_that_is_not_a_bool_says_so(tmp_path: Path) -> None:
    """Not safe_mode='no' loading in safe mode silently: a str is always true."""
    from tests.helpers.runs import epochs, trial, write_run

    folder = write_run(tmp_path, "done", [trial("0", epochs((0.9, 0.8, 1, 1)))])
    folder.model_file.write_bytes(b"PK")
    with pytest.raises(SearchError, match=r"^safe_mode \('no'\): give True or False$"):
        search.load(folder.path).best_model(safe_mode="no")  # type: ignore[arg-type]


def test_quiet_that_is_not_a_bool_is_refused(tmp_path: Path) -> None:
    """Not quiet='no' silencing the run: a str is always true."""
    from tests.helpers.runs import epochs, trial, write_run

    with pytest.raises(SearchError, match=r"^quiet \('no'\): give True or False$"):
        search.run(um.build, *um.tiny_data(), results=tmp_path, quiet="no")  # type: ignore[arg-type]
    folder = write_run(tmp_path, "r1", [trial("0", epochs((0.9, 0.8, 1, 1)))], status="interrupted")
    folder.update_meta(request=RunRequest(experiment="fashion", tuner="random").to_json("r1"))
    with pytest.raises(SearchError, match=r"^quiet \(1\): give True or False$"):
        search.resume(folder.path, quiet=1)  # type: ignore[arg-type]


def test_the_trials_of_a_run_before_its_first_trial_are_an_empty_table(tmp_path: Path) -> None:
    """``run.trials`` of a run stopped before any trial raised 'a report needs at least one
    trial'; it is the table's columns without rows, as best_hyperparameters is None."""
    from tests.helpers.runs import write_run

    folder = write_run(tmp_path, "early", [], status="interrupted")
    run = search.load(folder.path)
    assert run.best_hyperparameters is None
    table = run.trials
    assert len(table) == 0 and {"trial", "status", "epochs"} <= set(table.columns)


def test_the_model_of_a_failed_run_is_refused_in_words_that_fit(tmp_path: Path) -> None:
    """'no model saved (the run is failed); resume it ... to finish it', which reran none of
    its failed trials: a failed run says that it failed and where to read why."""
    from tests.helpers.runs import trial, write_run

    folder = write_run(tmp_path, "nan", [trial("0", [], "failed", failure="its val_loss was NaN")], "failed")
    with pytest.raises(SearchError, match=r"best_model.keras: no model saved: the run failed \(see the reason"
                       r" column of run.trials\); fix the cause and search again$"):  # fmt: skip
        search.load(folder.path).best_model()



def test_the_model_of_a_live_run_says_to_wait_for_its_process_not_to_resume(tmp_path: Path) -> None:
    """'resume it to finish it', which is refused while the process holds the run."""
    from search.storage import RunLock
    from tests.helpers.runs import epochs, trial, write_run

    folder = write_run(tmp_path, "live", [trial("0", epochs((0.9, 0.8, 1, 1)))], "running")
    with RunLock(folder.path), pytest.raises(SearchError, match=(
            rf"best_model.keras: no model saved yet: process {os.getpid()} is running the search;"
            r" wait for it to finish \(search.load\(folder\).status says 'finished'\)$")):  # fmt: skip
        search.load(folder.path).best_model()
    with pytest.raises(SearchError) as caught:
        search.load(folder.path).best_model()
    assert str(caught.value).endswith(  # asked from Python: the call there too
        f"no model saved (the run is interrupted); resume it to finish it: python -m search resume"
        f" {folder.path} (search.resume({str(folder.path)!r}) from Python)"
    ), caught.value


def test_the_model_of_a_stopped_run_another_process_holds_does_not_say_it_searches(tmp_path: Path) -> None:
    """An export of an interrupted run holds its lock: it never writes best_model.keras, so
    'wait for it to finish' would wait for nothing."""
    from search.storage import RunLock
    from tests.helpers.runs import epochs, trial, write_run

    folder = write_run(tmp_path, "stopped", [trial("0", epochs((0.9, 0.8, 1, 1)))], "interrupted")
    with RunLock(folder.path), pytest.raises(SearchError) as caught:
        search.load(folder.path).best_model()
    assert str(caught.value).startswith(
        f"{folder.model_file}: no model saved (the run is interrupted); process {os.getpid()} is"
        " working on the run now (an export?); once it ends, resume the run to finish it:"
    ), caught.value


def _contradicted(n: int = 200) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each row of a learnable rule twice, the second time with the other label and weight 0."""
    x, y = um.tiny_data(n)
    y = (y > 0).astype("int64")
    return np.concatenate([x, x]), np.concatenate([y, 1 - y]), np.repeat([1.0, 0.0], n)


def _weighted_build(hp: kt.HyperParameters) -> keras.Model:
    model = keras.Sequential([keras.Input((um.FEATURES,)), keras.layers.Dense(2, activation="softmax")])
    model.compile(optimizer=keras.optimizers.Adam(hp.Float("learning_rate", 0.01, 0.1, default=0.05)),
                  loss="sparse_categorical_crossentropy", weighted_metrics=["accuracy"])  # fmt: skip
    return model


def test_sample_weight_trains_the_search_and_the_retrain_as_model_fit_does(tmp_path: Path) -> None:
    x, y, weights = _contradicted()
    x_test, y_test = um.tiny_data(100, seed=1)
    run = search.run(_weighted_build, x, y, sample_weight=weights, test_data=(x_test, (y_test > 0) * 1),
                     tuner="random", max_trials=2, max_epochs=8, results=tmp_path, quiet=True)  # fmt: skip
    assert run.meta["data"]["weighted"] == ["train", "validation"]
    assert run.test_metrics["accuracy"] > 0.85  # unweighted, each row's labels contradict: about 0.5
    assert run.meta["best"]["val_accuracy"] > 0.85  # the validation rows weighted too
    assert "weighted rows (train, validation)" in run.report(tmp_path / "report.html").read_text()
    assert (run.folder / "data" / "w_val.npy").is_file()  # for resume, workers and trial processes


class _RecordsWeights(kt.HyperModel):
    """A HyperModel whose own fit passes the weights on, noting the rows and weights it was given."""

    seen: ClassVar[list[tuple[int, int, int]]] = []

    def build(self, hp: kt.HyperParameters) -> keras.Model:
        return um.build(hp)

    def fit(self, hp: Any, model: keras.Model, x: Any, y: Any, sample_weight: Any = None,
            validation_data: Any = None, **kwargs: Any) -> Any:  # fmt: skip
        val_weights = validation_data[2] if validation_data is not None and len(validation_data) == 3 else ()
        _RecordsWeights.seen.append((len(x), len(sample_weight), len(val_weights)))
        return model.fit(x, y, sample_weight=sample_weight, validation_data=validation_data, **kwargs)


def test_a_hypermodels_own_fit_is_given_the_weights_in_the_search_and_the_finalists(tmp_path: Path) -> None:
    _RecordsWeights.seen = []
    x, y = um.tiny_data()
    search.run(_RecordsWeights(), x, y, sample_weight=np.linspace(0.5, 1.5, len(x)), tuner="random",
               max_trials=2, max_epochs=2, finalists=2, results=tmp_path, quiet=True)  # fmt: skip
    assert len(_RecordsWeights.seen) >= 4  # 2 trials, then 2 finalists
    assert set(_RecordsWeights.seen) == {(72, 72, 18)}  # 90 rows, 18 held out with their weights


class _NoWeights(kt.HyperModel):
    def build(self, hp: kt.HyperParameters) -> keras.Model:
        return um.build(hp)

    def fit(self, hp: Any, model: keras.Model, x: Any, y: Any, validation_data: Any = None,
            epochs: int = 1, callbacks: Any = None, verbose: int = 0) -> Any:  # fmt: skip
        return model.fit(x, y, validation_data=validation_data, epochs=epochs, callbacks=callbacks)


def test_weights_a_hypermodels_own_fit_cannot_take_are_refused_before_any_work(tmp_path: Path) -> None:
    _refused(tmp_path, SearchError, r"^sample_weight: _NoWeights's own fit takes no sample_weight, which"
             r" brings the rows' weights \(class_weight's too\); give it a sample_weight parameter"
             r" \(passed on to model\.fit\), or search without sample_weight and class_weight in a new run$",
             hypermodel=_NoWeights(), sample_weight=np.ones(90))  # fmt: skip
    _refused(tmp_path, SearchError, r"^sample_weight: _NoWeights's own fit", hypermodel=_NoWeights(),
             class_weight={0: 2.0})  # fmt: skip
    with pytest.raises(SearchError, match=r"^sample_weight: an experiment \('fashion'\) loads its own data"):
        search.run("fashion", sample_weight=np.ones(3), results=tmp_path, quiet=True)
    with pytest.raises(SearchError, match=r"^class_weight: an experiment \('fashion'\) loads its own data"):
        search.run("fashion", class_weight={0: 2.0}, results=tmp_path, quiet=True)


class _RecordsClassWeights(kt.HyperModel):
    """A HyperModel whose own fit passes the weights on, noting each fit's labels and weights."""

    seen: ClassVar[list[tuple[np.ndarray, np.ndarray, int]]] = []

    def build(self, hp: kt.HyperParameters) -> keras.Model:
        return um.build(hp)

    def fit(self, hp: Any, model: keras.Model, x: Any, y: Any, sample_weight: Any = None,
            validation_data: Any = None, **kwargs: Any) -> Any:  # fmt: skip
        _RecordsClassWeights.seen.append((y, sample_weight, len(validation_data or ())))
        return model.fit(x, y, sample_weight=sample_weight, validation_data=validation_data, **kwargs)


def test_class_weight_weighs_each_training_row_by_its_class_as_model_fit_does(tmp_path: Path) -> None:
    _RecordsClassWeights.seen = []
    x, y = um.tiny_data()
    run = search.run(_RecordsClassWeights(), x, y, class_weight={0: 2.0, 2: 0.5}, tuner="random",
                     max_trials=1, max_epochs=1, results=tmp_path, quiet=True)  # fmt: skip
    assert len(_RecordsClassWeights.seen) == 2  # the trial, then the retrain
    for labels, weights, validation in _RecordsClassWeights.seen:
        np.testing.assert_allclose(weights, np.select([labels == 0, labels == 2], [2.0, 0.5], 1.0))
        assert validation == 2  # (x_val, y_val): validation rows are not weighted by class
    assert run.meta["data"]["weighted"] == ["classes"]


@pytest.mark.parametrize("form", ["dict", "list", "list by name"])
def test_a_multi_input_model_is_searched_retrained_and_exported(form: str, tmp_path: Path) -> None:
    """"list by name": a model on a list of inputs given a dict keyed by their names, as
    ``model.fit`` takes it."""
    x, y = um.tiny_data()
    inputs = {"a": x[:, :5], "b": x[:, 5:]}
    given = list(inputs.values()) if form == "list" else inputs
    run = search.run(um.build_two_inputs if form == "dict" else um.build_two_listed_inputs, given, y,
                     test_data=(given, y), tuner="random", max_trials=2, max_epochs=2, finalists=2,
                     results=tmp_path, quiet=True)  # fmt: skip
    assert run.status == "finished" and run.test_metrics["accuracy"] > 0
    names = ["0", "1"] if form == "list" else ["a", "b"]
    assert run.meta["data"]["inputs"] == dict(zip(names, [[5], [3]], strict=True))
    assert run.best_model().predict(given, verbose=0).shape == (90, um.CLASSES)
    assert main(["export", str(run.folder), "--quiet"]) == 0  # retrained from the arrays in RUN/data


def test_numpy_numbers_are_taken_as_pythons(tmp_path: Path) -> None:
    """Values read off a DataFrame or an array (``np.int64``) reached KerasTuner's oracle,
    whose JSON state file cannot hold them: a TypeError after the run folder was made."""
    run = _run(um.build, tmp_path, "hyperband", factor=np.int64(2), max_epochs=np.int64(2),
               max_trials=np.int64(1), seed=np.uint32(3), tolerance=np.float32(0.01),
               quiet=np.bool_(True), baseline=np.bool_(True), validation_split=np.float32(0.3),
               class_weight={np.int64(0): np.float32(2.0)})  # fmt: skip
    assert run.status == "finished"
    budget = run.meta["budget"]
    assert (budget["factor"], budget["max_epochs"], budget["max_trials"]) == (2, 2, 1)
    assert run.meta["request"]["tolerance"] == 0.01  # as it prints, not float32's 0.009999999776...
    assert run.meta["request"]["baseline"] is True
    _refused(tmp_path, SearchError, r"^tolerance \(-0.1\) must be", tolerance=np.float32(-0.1))
    _refused(tmp_path, DataError, r"^class_weight\[0\]: -1.0; give",
             class_weight={np.int64(0): np.float32(-1)})  # fmt: skip
    _refused(tmp_path, SearchError, r"^validation_split \(1.5\) must be", validation_split=np.float32(1.5))
    _refused(tmp_path, SearchError, r"^class_weight: the keys np.float32\(0.1\) and 0.1 are the same",
             class_weight={np.float32(0.1): 1.0, 0.1: 2.0})  # fmt: skip


@pytest.mark.parametrize("kept", ["null", "missing"])
def test_best_hyperparameters_of_a_run_json_without_its_copy_of_them_come_from_the_trial(
    kept: str, tmp_path: Path
) -> None:
    """run.json's ``best`` whose ``hyperparameters`` are null (which its schema allows) or
    gone raised TypeError or KeyError; they are the chosen trial's record's."""
    from tests.helpers.runs import epochs, trial, write_run

    hp = {"units": 64}
    folder = write_run(tmp_path, "r", [trial("0", epochs((0.9, 0.8, 1, 1)), hp={"units": 32}),
                                       trial("1", epochs((0.9, 0.7, 1, 1)), hp=hp)])  # fmt: skip
    best = {"trial": "1", "hyperparameters": None}
    if kept == "missing":
        del best["hyperparameters"]
    folder.update_meta(best=best)
    assert search.load(folder.path).best_hyperparameters == hp


def test_an_empty_run_folder_or_report_path_is_refused_as_itself(tmp_path: Path) -> None:
    """search.load('') was the current folder (': is a results root; give one of its runs'),
    run.report('') wrote 'path .: is a folder'; an empty path is refused as itself."""
    from tests.helpers.runs import epochs, trial, write_run

    folder = write_run(tmp_path, "done", [trial("0", epochs((0.9, 0.8, 1, 1)))])
    for call in (search.load, search.resume):
        with pytest.raises(SearchError, match=r"^folder \(''\): an empty path; give a run's folder"):
            call("")
    with pytest.raises(SearchError, match=r"^path \(' '\): an empty path; give a file name"):
        search.load(folder.path).report(" ")


def test_a_worker_joining_a_run_whose_build_file_was_edited_says_so(tmp_path: Path, capsys) -> None:
    mine = tmp_path / "mine.py"
    mine.write_text(_MINE)
    first = _run(search.experiments.resolve(f"{mine}:build"), tmp_path, "optuna", max_trials=1, max_epochs=1)
    first._folder.update_meta(status="running")  # as if a worker joined while it ran
    mine.write_text(_MINE.replace('"relu"', '"tanh"'))
    capsys.readouterr()
    assert main(["worker", str(first.folder)]) == 0
    assert (f"warning: {mine.resolve()} changed since this run last started: this worker's trials"
            " train the code as it is now, the run's others the code it started with"
            ) in " ".join(capsys.readouterr().out.split())  # fmt: skip


def test_resume_of_a_run_killed_before_its_report_prints_the_report_lines(tmp_path: Path, capsys) -> None:
    """As a run does (quiet=False): what it chose and where its report is, now written."""
    x, y = um.tiny_data(40)
    run = search.run(um.build, x, y, tuner="random", max_trials=1, max_epochs=1, retrain=False,
                     results=tmp_path, name="r1", quiet=True)  # fmt: skip
    (run.folder / "report.json").unlink()  # as the kill left it
    capsys.readouterr()
    search.resume(run.folder, quiet=True)
    assert capsys.readouterr().out == ""
    (run.folder / "report.json").unlink()
    search.resume(run.folder)
    assert f"report: {run.folder / 'report.html'}" in capsys.readouterr().out.splitlines()
