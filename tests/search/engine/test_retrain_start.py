"""A validated retrain, and each finalist, starts from its trial's best search checkpoint
(``--retrain-from checkpoint``; ``auto``, the default, where the search trained on every
example) or from new weights (``scratch``); the checkpoints it needs survive ``--keep-best``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import keras
import keras_tuner as kt
import numpy as np
import pytest

import search
from hypermodels import load_state, save_state
from search.cli import main
from search.data import Splits
from search.engine import RunRequest
from search.engine._checkpoints import search_checkpoint
from search.engine._choose import ranked_ids, start_points
from search.engine._export import _stored as stored_request
from search.engine._request import starts_from_checkpoint
from search.engine._retrain import fit_configuration, retrain_start, save_search_model, trained_record
from search.errors import SearchError
from search.experiments import UserHyperModel
from search.experiments._user import first_row
from search.report import describe_training
from search.storage import RunFolder
from tests import user_models as um
from tests.helpers.finalists import Finalists

VAL_ACCURACY = kt.Objective("val_accuracy", "max")


class _FirstWeights(keras.callbacks.Callback):
    """Keeps the model's weights as training begins."""

    def __init__(self) -> None:
        super().__init__()
        self.weights: list[np.ndarray] = []

    def on_train_begin(self, logs: Any = None) -> None:
        self.weights = [np.array(w) for w in self.model.get_weights()]


class Starts(Finalists):
    """``Finalists``' models; each full-fidelity training records its configuration and its
    weights as it begins."""

    def __init__(self) -> None:
        super().__init__()
        self.starts: list[tuple[dict[str, Any], list[np.ndarray]]] = []

    def fit(self, hp: kt.HyperParameters, model: keras.Model, *args: Any, **kwargs: Any) -> Any:
        callbacks = list(kwargs.pop("callbacks", []))
        if any(isinstance(c, keras.callbacks.EarlyStopping) for c in callbacks):
            first = _FirstWeights()
            callbacks.append(first)
            history = model.fit(*args, callbacks=callbacks, shuffle=False, **kwargs)
            self.starts.append((dict(hp.values), first.weights))
            return history
        return model.fit(*args, callbacks=callbacks, shuffle=False, **kwargs)


def _hp(units: int) -> kt.HyperParameters:
    hp = kt.HyperParameters()
    hp.values = {"units": units, "dropout": 0.0, "learning_rate": 0.01}
    return hp


def _same(left: list[np.ndarray], right: list[np.ndarray]) -> bool:
    return len(left) == len(right) and all(np.array_equal(a, b) for a, b in zip(left, right))


def _saved(units: int, path: Path) -> list[np.ndarray]:
    """A trained-looking model of ``units`` saved to ``path``; its weights."""
    model = um.build(_hp(units))
    model.set_weights([np.full(w.shape, 0.01 * i, "float32") for i, w in enumerate(model.get_weights())])
    model.save_weights(path)
    return model.get_weights()


def _first_layer_only(path: Path) -> None:
    """A checkpoint whose first layer fits ``_hp(8)``'s model and nothing after it."""
    model = keras.Sequential([keras.Input((um.FEATURES,)), keras.layers.Dense(8)])
    model.save_weights(path)


def test_a_training_starts_from_a_checkpoint_that_fits(tmp_path: Path) -> None:
    checkpoint = tmp_path / "checkpoint.weights.h5"
    weights = _saved(8, checkpoint)
    x, y = um.tiny_data()
    first = _FirstWeights()
    fitted = fit_configuration(Finalists(), _hp(8), x, y, (x, y), 1, VAL_ACCURACY, first, start=checkpoint)
    assert fitted.started_from == "checkpoint"
    assert _same(first.weights, weights)


@pytest.mark.parametrize("write", [lambda path: _saved(12, path), _first_layer_only])
def test_a_checkpoint_that_does_not_fit_leaves_new_weights(write: Any, tmp_path: Path) -> None:
    checkpoint = tmp_path / "checkpoint.weights.h5"
    write(checkpoint)
    x, y = um.tiny_data()
    first, said = _FirstWeights(), []
    fitted = fit_configuration(
        Finalists(), _hp(8), x, y, (x, y), 1, VAL_ACCURACY, first, start=checkpoint, say=said.append
    )
    assert fitted.started_from == "scratch" and fitted.start_problem
    assert _same(first.weights, Finalists().build(_hp(8)).get_weights())  # seeded: a fresh build's, whole
    assert said == [f"  its search checkpoint {checkpoint} does not fit this model ({fitted.start_problem}):"
                    " new weights instead"]  # fmt: skip
    trial = {"id": "0001", "hyperparameters": {}}
    record = trained_record(trial, "validated", (len(x), "rows"), fitted, "val_accuracy", 1)
    assert record["started_from"] == "scratch" and record["start_problem"] == fitted.start_problem
    assert "from new weights (its search checkpoint did not fit)" in describe_training(record)


@pytest.mark.parametrize("size", [0, 300])
def test_a_damaged_checkpoint_is_said_to_be_unreadable_not_to_not_fit(size: int, tmp_path: Path) -> None:
    """A zero-byte or truncated checkpoint (a full disk, a copy cut short) cannot be read;
    "does not fit this model" would send the user looking at the model."""
    checkpoint = tmp_path / "checkpoint.weights.h5"
    _saved(8, checkpoint)
    checkpoint.write_bytes(checkpoint.read_bytes()[:size])
    x, y = um.tiny_data()
    said: list[str] = []
    fitted = fit_configuration(
        Finalists(), _hp(8), x, y, (x, y), 1, VAL_ACCURACY, _FirstWeights(), start=checkpoint, say=said.append
    )
    assert fitted.started_from == "scratch" and fitted.start_problem.startswith("unreadable: ")
    reason = fitted.start_problem.removeprefix("unreadable: ")
    assert said == [f"  its search checkpoint {checkpoint} cannot be read ({reason}): new weights instead"]
    record = trained_record({"id": "0", "hyperparameters": {}}, "validated", (len(x), "rows"), fitted,
                            "val_accuracy", 1)  # fmt: skip
    assert "from new weights (its search checkpoint cannot be read)" in describe_training(record)


@pytest.mark.parametrize("first_start", ["checkpoint", "scratch"])
def test_a_resumed_training_continues_its_state_and_says_how_it_began(
    first_start: str, tmp_path: Path
) -> None:
    checkpoint, state = tmp_path / "checkpoint.weights.h5", tmp_path / "retrain.state.npz"
    _saved(8, checkpoint)
    x, y = um.tiny_data()
    begun = fit_configuration(
        Finalists(), _hp(8), x, y, (x, y), 1, VAL_ACCURACY, None, state=state,
        start=checkpoint if first_start == "checkpoint" else None,
    )  # fmt: skip
    first = _FirstWeights()
    resumed = fit_configuration(
        Finalists(), _hp(8), x, y, (x, y), 2, VAL_ACCURACY, first, state=state, start=checkpoint
    )
    assert resumed.started_from == begun.started_from == first_start
    assert _same(first.weights, begun.model.get_weights())  # the state's, not the checkpoint's
    assert resumed.epochs == 2


def _folder_with_checkpoint(tmp_path: Path, trial: str) -> RunFolder:
    folder = RunFolder(tmp_path / "run")
    path = folder.tuner_dir / "search" / f"trial_{trial}" / "checkpoint.weights.h5"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"weights")
    return folder


def _splits(searched: int, outside_validation: int | None) -> Splits:
    """Splits whose search trains on ``searched`` rows of ``outside_validation`` (None: the
    search's rows are all of them, as for a user's arrays)."""
    rows = np.zeros((searched, 2), "float32")
    unsplit = None if outside_validation is None else np.zeros((outside_validation, 2), "float32")
    return Splits(rows, rows[:, 0], rows[:2], rows[:2, 0], rows[:0], rows[:0, 0], (), "test",
                  x_unsplit=unsplit, y_unsplit=None if unsplit is None else unsplit[:, 0])  # fmt: skip


EVERY_ROW, SUBSET = _splits(8, None), _splits(8, 20)


@pytest.mark.parametrize(
    "options, search, why",
    [
        ({}, (SUBSET, True), None),
        ({"retrain_from": "scratch"}, (EVERY_ROW, True), ""),  # asked for new weights: nothing to say
        ({}, (SUBSET, False), "the final model is built at another image size than the search's"),
        ({"retrain_from": "auto"}, (EVERY_ROW, True), None),  # the search saw every row
        ({"retrain_from": "auto"}, (_splits(8, 8), True), None),  # --train-size all
        ({"retrain_from": "auto"}, (SUBSET, True), ""),  # a subset: new weights, said by none
        ({"retrain_from": "auto"}, (EVERY_ROW, False), ""),  # not asked for: nothing said
    ],
)
def test_retrain_start_is_the_search_checkpoint_only_where_it_fits(
    options: dict[str, str], search: tuple[Splits, bool], why: str | None, tmp_path: Path
) -> None:
    folder = _folder_with_checkpoint(tmp_path, "0003")
    chosen = {"retrain_from": "checkpoint", **options}
    request = RunRequest(experiment="fashion", tuner="random", **chosen)  # type: ignore[arg-type]
    said: list[str] = []
    start = retrain_start(request, folder, {"id": "0003", "best_epoch": 2}, search, said.append)
    assert (start == search_checkpoint(folder, "0003")) if why is None else start is None
    assert said == ([f"trial 0003 starts from new weights: {why}"] if why else [])


@pytest.mark.parametrize("data", ["full", "search"])
def test_auto_starts_a_fixed_length_retrain_anew(data: str) -> None:
    request = RunRequest(experiment="fashion", tuner="random", retrain_data=data)
    request.check()  # auto is the default with every retrain
    assert request.retrain_from == "auto" and not starts_from_checkpoint(request, EVERY_ROW)


def test_a_checkpoint_that_is_not_the_best_epoch_is_not_used(tmp_path: Path) -> None:
    folder = _folder_with_checkpoint(tmp_path, "0003")
    request = RunRequest(experiment="fashion", tuner="random", retrain_from="checkpoint")
    said: list[str] = []
    search = (SUBSET, True)
    assert retrain_start(request, folder, {"id": "0003", "best_epoch": None}, search, said.append) is None
    assert said == [
        "trial 0003 starts from new weights: it logged no epochs, so its checkpoint is not its best epoch",
    ]


def test_a_checkpoint_asked_for_that_is_gone_is_refused_before_any_training(tmp_path: Path) -> None:
    folder = _folder_with_checkpoint(tmp_path, "0003")
    request = RunRequest(experiment="fashion", tuner="random", retrain_from="checkpoint")
    said: list[str] = []
    with pytest.raises(SearchError) as raised:
        retrain_start(request, folder, {"id": "0004", "best_epoch": 2}, (SUBSET, True), said.append)
    message = str(raised.value)
    assert "\n" not in message and said == []
    assert message.startswith(f"trial 0004: its search checkpoint is not in {folder.tuner_dir}")
    assert "retrain_from scratch" in message and "keep_best" in message


def test_auto_says_that_a_missing_checkpoint_leaves_new_weights(tmp_path: Path) -> None:
    folder = _folder_with_checkpoint(tmp_path, "0003")
    request = RunRequest(experiment="fashion", tuner="random", retrain_from="auto")
    said: list[str] = []
    search = (EVERY_ROW, True)
    assert retrain_start(request, folder, {"id": "0004", "best_epoch": 2}, search, said.append) is None
    assert said == [
        f"trial 0004 starts from new weights: its search checkpoint is not in {folder.tuner_dir}"
        " (removed, or never written)",
    ]


def _exported_run(tmp_path: Path) -> RunFolder:
    """A tiny finished run on arrays, its checkpoints kept."""
    x, y = um.tiny_data()
    run = search.run(um.build, x, y, tuner="random", max_trials=2, max_epochs=2, results=tmp_path,
                     name="gone", retrain=False, quiet=True, keep_best=None)  # fmt: skip
    return RunFolder(run.folder)


def test_export_refuses_a_checkpoint_that_is_gone(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = _exported_run(tmp_path)
    for path in folder.tuner_dir.glob("**/checkpoint.weights.h5"):
        path.unlink()
    assert main(["export", str(folder.path), "--retrain-from", "checkpoint"]) == 2
    out, err = capsys.readouterr()
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err and "retraining" not in out
    assert "its search checkpoint is not in" in err and "--retrain-from scratch" in err
    assert "--keep-best all" in err
    assert main(["export", str(folder.path), "--retrain-max-epochs", "1"]) == 0  # auto: new weights, said
    assert f"trial {folder.read_meta()['best']['trial']} starts from new weights" in capsys.readouterr().out


@pytest.mark.parametrize(
    "options, used",
    [({"retrain": False}, "the retrain skipped"), ({"retrain_data": "full"}, "retrain_data full")],
)
def test_retrain_from_checkpoint_or_finalists_without_a_validated_retrain_are_refused(
    options: dict[str, Any], used: str
) -> None:
    request = RunRequest(experiment="fashion", tuner="random", retrain_from="checkpoint", **options)
    with pytest.raises(SearchError, match=f"with {used} nothing would use it: leave out retrain_from"):
        request.check()
    request = RunRequest(experiment="fashion", tuner="random", finalists=2, **options)
    skipped = "as the retrain does, which this run skips"  # not 'which the retrain skipped does not'
    instead = skipped if used.endswith("skipped") else f"which {used} does not"
    with pytest.raises(SearchError, match=f"full data, {instead}: leave out finalists"):
        request.check()


def _record(trial: str, val: float, baseline: bool = False, train: float | None = None) -> dict[str, Any]:
    fit = val if train is None else train
    epoch = {"epoch": 1, "val_accuracy": val, "accuracy": fit, "val_loss": 1 - val, "loss": 1 - fit}
    return {"id": trial, "status": "completed", "baseline": baseline, "epochs": [epoch],
            "hyperparameters": {"lr": val}, "best": epoch, "best_epoch": 1}  # fmt: skip


def test_start_points_are_the_finalists_and_the_baseline() -> None:
    records = [_record("0", 0.5, baseline=True), _record("1", 0.9), _record("2", 0.8), _record("3", 0.7),
               _record("4", 0.4, baseline=True)]  # fmt: skip
    request = RunRequest(experiment="fashion", tuner="random", retrain_from="checkpoint")
    assert ranked_ids(records, request)[:2] == ["1", "2"]
    assert start_points(records, request, 1, True) == {"1", "0"}  # the best baseline trial only
    assert start_points(records, request, 3, True) == {"1", "2", "0"}
    assert start_points(records, RunRequest(experiment="f", tuner="random"), 3, False) == set()  # scratch
    unused = RunRequest(experiment="f", tuner="random", retrain_from="checkpoint", retrain=False)
    assert start_points(records, unused, 3, False) == {"1"}  # --no-retrain: only the choice's


def test_start_points_keep_every_trial_the_rule_may_still_choose() -> None:
    # Within the tolerance of the best, the least overfitting ranks first; a later best can
    # push some of them out of the tolerance and reorder the rest.
    records = [_record("0", 0.900, train=0.90), _record("1", 0.898, train=0.95),
               _record("2", 0.897, train=0.99), _record("3", 0.80)]  # fmt: skip
    request = RunRequest(experiment="fashion", tuner="random", retrain=False)
    assert ranked_ids(records, request) == ["0", "1", "2", "3"]
    assert start_points(records, request, 1, False) == {"0", "1", "2"}
    checkpoint = RunRequest(experiment="fashion", tuner="random", retrain_from="checkpoint")
    assert start_points(records, checkpoint, 1, True) == {"0", "1", "2"}
    assert start_points(records, RunRequest(experiment="fashion", tuner="random"), 1, False) == set()


def _run(hypermodel: Starts, results: Path, finalists: int, start: str) -> search.Run:
    x, y = um.tiny_data()
    rng = np.random.default_rng(1)
    test = rng.normal(size=(30, x.shape[1])).astype("float32"), rng.integers(0, 3, 30)
    return search.run(
        hypermodel, x, y, test_data=test, tuner="random", max_trials=4, max_epochs=2,
        finalists=finalists, retrain_max_epochs=2, retrain_from=start, keep_best=1,
        results=results, name=start, quiet=True, seed=3,
    )  # fmt: skip


def _checkpoint_weights(folder: RunFolder, trial: dict[str, Any]) -> list[np.ndarray]:
    hp = kt.HyperParameters()
    hp.values = dict(trial["hyperparameters"])
    model = um.build(hp)
    path = search_checkpoint(folder, trial["id"])
    assert path is not None, f"trial {trial['id']}'s checkpoint was removed"
    model.load_weights(path)
    return model.get_weights()


@pytest.mark.parametrize("finalists", [1, 2])
def test_the_final_trainings_start_from_their_trials_checkpoints(finalists: int, tmp_path: Path) -> None:
    hypermodel = Starts()
    run = _run(hypermodel, tmp_path, finalists, "checkpoint")
    folder = RunFolder(run.folder)
    meta, trials = folder.read_meta(), {t["id"]: t for t in folder.read_trials()}
    trained = meta["final"].get("finalists") or [meta["final"]]
    assert len(hypermodel.starts) == len(trained) == finalists
    for summary, (values, weights) in zip(trained, hypermodel.starts):
        trial = trials[summary["trial"]]
        assert values == trial["hyperparameters"] and summary["started_from"] == "checkpoint"
        assert _same(weights, _checkpoint_weights(folder, trial))
    assert meta["final"]["started_from"] == "checkpoint"
    assert "from its search checkpoint" in describe_training(meta["final"])
    baseline = next(t for t in trials.values() if t.get("baseline"))
    assert search_checkpoint(folder, baseline["id"]) is not None  # kept to compare with


def test_scratch_starts_from_new_weights_and_keeps_only_the_best(tmp_path: Path) -> None:
    hypermodel = Starts()
    run = _run(hypermodel, tmp_path, 1, "scratch")
    folder = RunFolder(run.folder)
    meta, trials = folder.read_meta(), folder.read_trials()
    ((values, weights),) = hypermodel.starts
    hp = kt.HyperParameters()
    hp.values = values
    assert _same(weights, hypermodel.build(hp).get_weights())  # seeded: a fresh build's
    assert meta["final"]["started_from"] == "scratch"
    kept = {p.parent.name.removeprefix("trial_") for p in folder.tuner_dir.glob("**/checkpoint.weights.h5")}
    assert kept == {ranked_ids(trials, RunRequest(experiment="f", tuner="random"))[0]}


def test_a_subclassed_model_starts_from_its_checkpoint_and_is_saved_without_a_retrain(
    tmp_path: Path,
) -> None:
    """A ``keras.Model`` subclass has no variables until called: the search builds it on a
    row of the data, so that its checkpoint loads (the retrain's start, the saved model)."""
    x, y = um.tiny_images()
    options = {"tuner": "random", "max_trials": 2, "max_epochs": 2, "results": tmp_path,
               "quiet": True}  # fmt: skip
    run = search.run(um.build_subclassed_cnn, x, y, name="start", retrain_from="checkpoint",
                     retrain_max_epochs=2, **options)  # fmt: skip
    final = RunFolder(run.folder).read_meta()["final"]
    assert final["started_from"] == "checkpoint" and "start_problem" not in final
    kept = search.run(um.build_subclassed_cnn, x, y, name="kept", retrain=False, **options)
    model = kept.best_model()
    assert isinstance(model, um.SubclassedCNN)
    assert model.predict(x[:2], verbose=0).shape == (2, um.CLASSES)


def test_a_subclassed_models_epoch_state_loads_into_a_new_build(tmp_path: Path) -> None:
    """What a resumed trial does: a new build of the subclass (called on the sample row by
    the search's build) takes the state saved after an epoch, weights and optimizer."""
    x, y = um.tiny_images()
    hypermodel = UserHyperModel(um.build_subclassed_cnn, None, first_row(x))
    trained = hypermodel.build(kt.HyperParameters())
    trained.fit(x, y, epochs=1, verbose=0)
    save_state(tmp_path / "state.npz", trained, [0], [{"loss": 1.0}])
    fresh = hypermodel.build(kt.HyperParameters())
    restored = load_state(tmp_path / "state.npz", fresh)
    assert restored is not None and restored.epochs == [0]
    assert _same(fresh.get_weights(), trained.get_weights())
    unbuilt = UserHyperModel(um.build_subclassed_cnn).build(kt.HyperParameters())
    assert load_state(tmp_path / "state.npz", unbuilt) is None  # why the sample is needed


def test_a_checkpoint_that_does_not_load_into_a_new_build_says_what_to_do(tmp_path: Path) -> None:
    x, y = um.tiny_images()
    with pytest.raises(SearchError, match=r"trial \S+'s checkpoint .* does not load into a new"
                       r" build of its model \(.*\); create the model's variables in build"):  # fmt: skip
        search.run(um.SubclassedOwnFit(), x, y, tuner="random", max_trials=1, max_epochs=1,
                   results=tmp_path, name="own", retrain=False, quiet=True)  # fmt: skip


def test_a_bad_retrain_from_is_refused_before_any_work(tmp_path: Path, capsys) -> None:
    for command in (["run", "fashion", "--tuner", "random"], ["export", str(tmp_path / "nowhere")]):
        assert main([*command, "--retrain-from", "warm", "--results", str(tmp_path)]) == 2
        err = capsys.readouterr().err
        assert "--retrain-from 'warm'" in err and "checkpoint, scratch" in err
        assert "Traceback" not in err
    assert not any(tmp_path.iterdir())
    assert main(["run", "fashion", "--tuner", "random", "--no-retrain", "--retrain-from", "checkpoint",
                 "--results", str(tmp_path)]) == 2  # fmt: skip
    err = capsys.readouterr().err
    assert "--retrain-from checkpoint starts the validated retrain" in err
    assert "leave out --retrain-from, or retrain with --retrain-data validated (the default)" in err
    assert not any(tmp_path.iterdir())



@pytest.mark.parametrize("retrain", [{"retrain": False}, {"finalists": 3}])
def test_an_export_retrains_its_choice_whatever_the_run_did(retrain: dict[str, Any], tmp_path: Path) -> None:
    """A run without a retrain, or with finalists, is exported with any retrain and start."""
    folder = RunFolder(tmp_path / "fashion" / "run")
    folder.path.mkdir(parents=True)
    run = RunRequest(experiment="fashion", tuner="random", **retrain)  # type: ignore[arg-type]
    run.check()
    folder.write_meta({"request": run.to_json("run"), "space": {"params": {}}})
    for data, start in (("full", "scratch"), ("search", "scratch"), ("validated", "checkpoint")):
        given = {"retrain_data": data, "retrain_max_epochs": 5, "retrain_from": start}
        request, _ = stored_request(folder, given)
        request.check()
        assert (request.retrain, request.retrain_data, request.retrain_from) == (True, data, start)


def test_a_run_stored_before_auto_goes_on_from_new_weights(tmp_path: Path) -> None:
    """A run from before ``auto`` (its run.json says scratch, then the default) continued
    with the default is not refused as 'other settings', and keeps its own start (on
    arrays, auto would start from the checkpoint)."""
    x, y = um.tiny_data()
    options: dict[str, Any] = {
        "tuner": "random", "max_trials": 1, "max_epochs": 2, "results": tmp_path, "name": "old",
        "quiet": True, "test_data": um.tiny_data(30, seed=1),
    }  # fmt: skip
    run = search.run(um.build, x, y, retrain=False, **options)
    request = {**run.meta["request"], "retrain": True, "retrain_from": "scratch", "retrain_max_epochs": 1}
    RunFolder(run.folder).update_meta(status="interrupted", request=request, final=None)
    with pytest.raises(SearchError, match=r"other settings \(retrain_from scratch -> checkpoint\)"):
        search.run(um.build, x, y, retrain_from="checkpoint", retrain_max_epochs=1, **options)
    again = search.run(um.build, x, y, retrain_max_epochs=1, **options)
    assert again.meta["final"]["started_from"] == "scratch"
    assert again.meta["request"]["retrain_from"] == "scratch"


def test_a_damaged_checkpoint_saved_as_the_model_is_named_not_an_unexpected_error(tmp_path: Path) -> None:
    """Without a retrain the chosen trial's checkpoint becomes the model: a truncated one
    (a disk that filled, a copy cut short) is a one-line RunFolderError naming it, not
    h5py's OSError (exit 1, 'unexpected')."""
    folder = RunFolder(tmp_path / "fashion" / "r")
    checkpoint = folder.tuner_dir / "trial_1" / "checkpoint.weights.h5"
    checkpoint.parent.mkdir(parents=True)
    checkpoint.write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(100))
    best = {"id": "1", "hyperparameters": {"units": 8, "dropout": 0.0, "learning_rate": 0.01}}
    with pytest.raises(search.RunFolderError) as caught:
        save_search_model(_Built(), best, folder)
    message = str(caught.value)
    assert message.startswith(f"trial 1's checkpoint {checkpoint} cannot be read (")
    assert message.endswith("; the file is damaged: restore it, or start a new run with another name")
    assert "\n" not in message and not folder.model_file.exists()


class _Built(kt.HyperModel):
    def build(self, hp: kt.HyperParameters) -> keras.Model:
        return um.build(hp)
