"""What a HyperModel's own ``fit`` may return, as the search takes it."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import keras
import keras_tuner as kt
import numpy as np
import pytest

import search
from search.errors import SearchError
from search.experiments import UserHyperModel
from search.experiments._user import FitCallError, FitResultError
from tests import user_models as um


def _fit(user: kt.HyperModel, objective: str) -> object:
    x, y = um.tiny_data(40)
    hypermodel = UserHyperModel(user, objective=objective)
    hp = kt.HyperParameters()
    model = hypermodel.build(hp)
    return hypermodel.fit(hp, model, x, y.astype("float32"), validation_data=(x, y), epochs=1)


def test_a_float_of_a_metric_the_model_does_not_log_is_not_taken_as_the_objective() -> None:
    """A regression's fit returns its loss; taken as val_accuracy (the default objective),
    the search would maximize the loss."""
    with pytest.raises(FitResultError, match=r"LossFloatFit's fit returned a float, taken as 'val_accuracy'"
                       r" \(the default objective\), a metric its model does not log \(it logs"
                       r" .*mean_absolute_error.*\); .* val_loss:min \(Python:"
                       r" keras_tuner.Objective\('val_loss', 'min'\)\), or compile the model with"
                       r" metrics=\['accuracy'\]$"):  # fmt: skip
        _fit(um.LossFloatFit(), "val_accuracy")


class EpochsClash(um.BuildOnly):
    """KerasTuner's habit of tuning epochs in fit, which works there when ``tuner.search``
    was given no ``epochs``."""

    def fit(self, hp: kt.HyperParameters, model: object, x: object, y: object, **kwargs: object) -> object:
        return model.fit(x, y, epochs=hp.Int("epochs", 1, 2), **kwargs)  # type: ignore[attr-defined]


class BatchClash(um.BuildOnly):
    def fit(self, hp: kt.HyperParameters, model: object, x: object, y: object, **kwargs: object) -> object:
        return model.fit(x, y, callbacks=[], **kwargs)  # type: ignore[attr-defined]


def test_a_fit_passing_a_keyword_the_search_passes_too_stops_with_how_to_set_it() -> None:
    """(verbose=, which the search adds and KerasTuner does not, a fit may set itself.)"""
    with pytest.raises(FitCallError, match=r"^BatchClash's fit passes callbacks= to model.fit besides the"
                       r" \*\*kwargs it is given, which hold it already \(the search passes"
                       r" callbacks, epochs, validation_data\): set kwargs\['callbacks'\] = \.\.\. before"
                       r" model.fit\(\*args, \*\*kwargs\) instead$"):  # fmt: skip
        _fit(BatchClash(), "val_accuracy")


def test_a_fit_passing_epochs_stops_with_where_the_epochs_are_set() -> None:
    with pytest.raises(FitCallError, match=r"^EpochsClash's fit passes epochs= to model.fit besides the"
                       r" \*\*kwargs it is given, which hold it already: the search sets each"
                       r" training's epochs \(up to max_epochs, Hyperband's rungs, the retrain's"
                       r" cap\); drop epochs= and give max_epochs to train longer$"):  # fmt: skip
        _fit(EpochsClash(), "val_accuracy")


class LongerFit(um.BuildOnly):
    """Sets more epochs than the search gives it."""

    def fit(self, hp: kt.HyperParameters, model: object, *args: object, **kwargs: object) -> object:
        kwargs["epochs"] = 3
        return model.fit(*args, **kwargs)  # type: ignore[attr-defined]


class ShorterFit(um.BuildOnly):
    def fit(self, hp: kt.HyperParameters, model: object, *args: object, **kwargs: object) -> object:
        kwargs["epochs"] = 1
        return model.fit(*args, **kwargs)  # type: ignore[attr-defined]


def test_a_fit_training_past_the_epochs_it_is_given_stops_at_the_first_one_over() -> None:
    """The budget, the progress and the retrain's cap count the epochs the search gives."""
    with pytest.raises(FitCallError, match=r"^LongerFit's fit trains epoch 2 where the search gave it 1:"
                       r" the search sets each training's epochs \(up to max_epochs, Hyperband's"
                       r" rungs, the retrain's cap\); leave kwargs\['epochs'\] as given, and give"
                       r" max_epochs to train longer$"):  # fmt: skip
        _fit(LongerFit(), "val_accuracy")


def test_a_fit_may_train_fewer_epochs_than_it_is_given() -> None:
    x, y = um.tiny_data(40)
    hypermodel = UserHyperModel(ShorterFit(), objective="val_accuracy")
    hp = kt.HyperParameters()
    history = hypermodel.fit(hp, hypermodel.build(hp), x, y, validation_data=(x, y), epochs=2)
    assert history.epoch == [0]


class NamedArgumentsFit(um.BuildOnly):
    """A fit without ``**kwargs``, naming what KerasTuner passes it: x, y, validation_data,
    epochs, callbacks (and no ``verbose``)."""

    def fit(self, hp, model, x, y, validation_data=None, epochs=1, callbacks=None):  # type: ignore[no-untyped-def]
        return model.fit(x, y, validation_data=validation_data, epochs=epochs, callbacks=callbacks,
                         verbose=0)  # fmt: skip


def test_a_fit_without_kwargs_is_not_passed_the_verbose_keras_tuner_never_passes() -> None:
    """Every trial failed: ``TypeError: fit() got an unexpected keyword argument 'verbose'``."""
    history = _fit(NamedArgumentsFit(), "val_accuracy")
    assert "val_accuracy" in history.history


class NoDataFit(um.BuildOnly):
    """A fit that takes no data: every trial failed with a TypeError, and the search ended
    only after all of them with 'no trial completed'."""

    def fit(self, hp, model):  # type: ignore[no-untyped-def]
        return 1.0


def test_a_fit_that_cannot_take_the_call_of_a_trial_is_refused_before_any_work(tmp_path: Path) -> None:
    x, y = um.tiny_data(40)
    refused = (r"^NoDataFit.fit cannot take the call each trial makes, as KerasTuner does, fit\(hp,"
               r" model, x, y, validation_data=\.\.\., epochs=\.\.\., callbacks=\.\.\.\) \(too many"
               r" positional arguments\); give it .*\*\*kwargs")  # fmt: skip
    for tuner in ("random", "hyperband"):  # not "tuner hyperband: ...", as if another tuner would do
        with pytest.raises(SearchError, match=refused):
            search.run(NoDataFit(), x, y, tuner=tuner, max_trials=1, max_epochs=1, retrain=False,
                       results=tmp_path / "r", quiet=True)  # fmt: skip
    assert not (tmp_path / "r").exists()


def test_hyperbands_initial_epoch_to_a_fit_without_it_stops_at_the_first_trial() -> None:
    """KerasTuner's Hyperband passes initial_epoch=: a fit naming its parameters without it
    failed every trial with a TypeError, one by one, as if each configuration were at fault."""
    x, y = um.tiny_data(40)
    hypermodel = UserHyperModel(NamedArgumentsFit(), objective="val_accuracy")
    hp = kt.HyperParameters()
    refused = (r"^NamedArgumentsFit.fit cannot take .* initial_epoch=\.\.\., callbacks=\.\.\.\)"
               r" \(got an unexpected keyword argument 'initial_epoch'\)")  # fmt: skip
    with pytest.raises(FitCallError, match=refused):
        hypermodel.fit(hp, hypermodel.build(hp), x, y, validation_data=(x, y), epochs=2,
                       initial_epoch=1, callbacks=[])  # fmt: skip


def test_hyperbands_initial_epoch_to_a_fit_without_it_is_refused_before_any_work(tmp_path: Path) -> None:
    x, y = um.tiny_data(40)
    with pytest.raises(SearchError, match=r"^tuner hyperband: NamedArgumentsFit.fit cannot take the call"
                       r" .* \(got an unexpected keyword argument 'initial_epoch'\)"):  # fmt: skip
        search.run(NamedArgumentsFit(), x, y, tuner="hyperband", max_epochs=2, retrain=False,
                   results=tmp_path / "r", quiet=True)  # fmt: skip
    assert not (tmp_path / "r").exists()


class SilentFit(um.BuildOnly):
    """KerasTuner users' way to silence training: verbose=0 beside the **kwargs, after a
    first stage of Keras' own verbosity."""

    def __init__(self) -> None:
        super().__init__()
        self.stages = 0

    def fit(self, hp, model, x, y, **kwargs):  # type: ignore[no-untyped-def]
        self.stages += 1
        model.fit(x, y, epochs=1)  # Keras' progress bar: the search keeps it off the terminal
        return model.fit(x, y, verbose=0, **kwargs)


def test_a_fit_setting_verbose_itself_is_called_once_and_prints_nothing(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """It stopped the run: "passes verbose= to model.fit besides the **kwargs it is given,
    which hold it already"; then it ran the whole fit again, its first stage twice."""
    user = SilentFit()
    history = _fit(user, "val_accuracy")
    assert "val_accuracy" in history.history
    assert user.stages == 1
    assert capsys.readouterr().out == ""
    assert keras.config.is_interactive_logging_enabled()  # given back after the fit


class RaisingFit(um.BuildOnly):
    def fit(self, hp, model, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("this test's fit fails")


def test_keras_output_is_given_back_after_a_fit_that_raises() -> None:
    with pytest.raises(RuntimeError, match="this test's fit fails"):
        _fit(RaisingFit(), "val_accuracy")
    assert keras.config.is_interactive_logging_enabled()


def test_a_float_is_taken_as_an_objective_the_model_logs() -> None:
    assert isinstance(_fit(um.LossFloatFit(), "val_loss"), float)
    assert np.isfinite(_fit(um.FloatFit(), "val_accuracy"))


def test_a_float_is_taken_as_the_objective_the_user_named_or_where_the_model_logs_its_loss_alone() -> None:
    """The check guards the default objective against a float of another metric: a named
    objective is the user's word for what the float is, and a model that logs only its
    loss tells nothing either way."""
    assert isinstance(_fit(um.LossFloatFit(), "val_rmse"), float)
    assert 0.0 <= _fit(um.LossOnlyAccuracyFit(), "val_accuracy") <= 1.0
    assert 0.0 <= _fit(um.LossOnlyAccuracyFit(metrics=["acc"]), "val_accuracy") <= 1.0  # Keras keeps "acc"


def test_a_space_file_naming_what_the_build_never_declares_is_refused(tmp_path) -> None:
    """As for the built-in experiments: a TOML hyperparameter the model never reads would be
    searched for nothing. A fit of its own may declare it: not refused there."""
    toml = tmp_path / "mine.toml"
    toml.write_text('[momentum]\ntype = "float"\nlow = 0.1\nhigh = 0.9\ndefault = 0.5\n')
    x, y = um.tiny_data(40)
    with pytest.raises(SearchError, match=r"mine.toml: momentum: not a hyperparameter build declares"
                       r" \(it declares units, dropout, learning_rate\)"):  # fmt: skip
        search.run(um.build, x, y, space=toml, results=tmp_path / "r", quiet=True)
    assert not (tmp_path / "r").exists()
    own = search.Experiment.from_hypermodel("own", um.TunedFit(), lambda: None).load_space(toml)
    assert "momentum" in own.names


def test_the_epoch_past_the_given_ones_is_not_recorded(tmp_path: Path) -> None:
    """The cap speaks before the search's own callbacks record the epoch."""
    with pytest.raises(FitCallError, match="LongerFit's fit trains epoch 2 where the search gave it 1"):
        search.run(LongerFit(), *um.tiny_data(), tuner="random", max_trials=1, max_epochs=1,
                   results=tmp_path, quiet=True, retrain=False)  # fmt: skip
    (trials,) = tmp_path.glob("*/*/trials.json")
    assert [len(t["epochs"]) for t in json.loads(trials.read_text())["trials"]] == [1]


class ScoresItself(um.BuildOnly):
    """A fit that trains with the callbacks it is given, then returns a score the model
    does not log: KerasTuner ranks by it."""

    def fit(self, hp: kt.HyperParameters, model: object, x: object, y: object, **kwargs: object) -> object:
        model.fit(x, y, **kwargs)  # type: ignore[attr-defined]
        return {"val_score": float(hp.get("units"))}  # the larger network scores higher


def test_a_fit_that_calls_back_and_returns_its_own_objective_is_ranked_by_it(tmp_path: Path) -> None:
    """Every trial was 'completed' with no best value: 'no trial completed'."""
    x, y = um.tiny_data()
    run = search.run(ScoresItself(), x, y, tuner="random", objective=kt.Objective("val_score", "max"),
                     max_trials=3, max_epochs=1, results=tmp_path, retrain=False, quiet=True)  # fmt: skip
    trials = json.loads((Path(run.folder) / "trials.json").read_text())["trials"]
    scores = {t["id"]: t["best"]["val_score"] for t in trials}
    assert len(scores) == 3 and all(t["epochs"] for t in trials)
    assert scores[run.meta["best"]["trial"]] == max(scores.values())


def test_hyperband_continues_a_trial_of_a_fit_that_calls_no_callbacks_from_new_weights(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Such a fit saves no checkpoint: every continued trial failed with 'trial N's
    checkpoint ... cannot be read (No such file); restore the file'."""
    x, y = um.tiny_data()
    run = search.run(um.DictFit(), x, y, tuner="hyperband", max_trials=6, max_epochs=4, results=tmp_path,
                     retrain=False)  # fmt: skip
    trials = json.loads((Path(run.folder) / "trials.json").read_text())["trials"]
    continued = [t for t in trials if t["continues"] is not None]
    assert continued and all(t["status"] == "completed" for t in trials), [t["failure"] for t in trials]
    out = capsys.readouterr().out
    assert f"Hyperband continues trial {continued[0]['continues']}, which kept no checkpoint (" in out
    assert "a fit of its own that calls no callbacks saves none, or it was removed): from new weights" in out


def _warns(hp: kt.HyperParameters) -> object:
    warnings.warn("a layer given input_shape, in this test's build", UserWarning, stacklevel=1)
    return um.build(hp)


def test_a_warning_of_the_users_build_is_shown_once_not_in_every_build(
    tmp_path: Path, recwarn: pytest.WarningsRecorder
) -> None:
    """Keras' input_shape warning was printed four times: the space's build, the data
    check's, the initial space's and each trial's."""
    x, y = um.tiny_data()
    search.run(_warns, x, y, tuner="random", max_trials=3, max_epochs=1, results=tmp_path, retrain=False,
               quiet=True)  # fmt: skip
    shown = [w for w in recwarn if "in this test's build" in str(w.message)]
    assert len(shown) == 1 and shown[0].category is UserWarning, [str(w.message) for w in recwarn]


class _WarnsInTraining(keras.layers.Layer):
    """A layer warning as its call is traced: once per trial's model, in its training."""

    def call(self, inputs: object) -> object:
        warnings.warn("this test's layer, traced in a training", UserWarning, stacklevel=1)
        return inputs


def _warns_in_training(hp: kt.HyperParameters) -> keras.Model:
    model = keras.Sequential([keras.Input((um.FEATURES,)), _WarnsInTraining(),
                              keras.layers.Dense(hp.Int("units", 2, 8)),
                              keras.layers.Dense(3, activation="softmax")])  # fmt: skip
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def test_a_warning_of_the_users_training_is_shown_once_not_in_every_trial(
    tmp_path: Path, recwarn: pytest.WarningsRecorder
) -> None:
    """A layer's warning came again in every trial: each build's ``catch_warnings`` reset
    Python's record of the warnings it had shown."""
    x, y = um.tiny_data()
    search.run(_warns_in_training, x, y, tuner="random", max_trials=3, max_epochs=1, results=tmp_path,
               retrain=False, quiet=True)  # fmt: skip
    shown = [w for w in recwarn if "traced in a training" in str(w.message)]
    assert len(shown) == 1, [str(w.message) for w in recwarn]


class FailsFromTheFourth(um.BuildOnly):
    """A fit that trains the first three trials, then fails every one."""

    fits = 0

    def fit(self, hp: kt.HyperParameters, model: object, x: object, y: object, **kwargs: object) -> object:
        type(self).fits += 1
        if type(self).fits > 3:
            raise RuntimeError("the data server went away")
        return model.fit(x, y, **kwargs)  # type: ignore[attr-defined]


def test_failures_in_a_row_at_the_end_of_the_budget_end_the_search_as_it_would(tmp_path: Path) -> None:
    """The last three trials of six failed: the run was 'failed' (resume it), though no
    trial was left to run; now it chooses among the three that completed."""
    x, y = um.tiny_data()
    run = search.run(FailsFromTheFourth(), x, y, tuner="random", max_trials=6, max_epochs=1,
                     results=tmp_path, retrain=False, quiet=True)  # fmt: skip
    trials = json.loads((Path(run.folder) / "trials.json").read_text())["trials"]
    assert [t["status"] for t in trials] == ["completed"] * 3 + ["failed"] * 3
    assert run.meta["status"] == "finished" and run.meta["best"]["trial"] in {"0", "1", "2"}


def _warns_then_fails(hp: kt.HyperParameters) -> object:
    warnings.warn("this test's layer cannot take that shape", UserWarning, stacklevel=1)
    raise ValueError("shapes do not match")


def test_the_warning_of_a_build_that_fails_is_shown(tmp_path: Path, recwarn: pytest.WarningsRecorder) -> None:
    x, y = um.tiny_data()
    with pytest.raises(SearchError, match="does not build with its default hyperparameters: ValueError"):
        search.run(_warns_then_fails, x, y, tuner="random", max_trials=1, results=tmp_path, quiet=True)
    assert any("this test's layer cannot take that shape" in str(w.message) for w in recwarn)
