"""What `export` exports: the run's own choice; where it writes: never over the run's model."""

from __future__ import annotations

import errno
import json
import os
import signal
from pathlib import Path
from typing import Any

import keras
import keras_tuner
import numpy as np
import pytest
from PIL import Image

import search
from hypermodels import class_names_of
from search.cli import main
from search.data import Splits
from search.engine import RunRequest
from search.engine import _export as export_engine
from search.errors import RunFolderError, SearchError, render
from search.storage import RunFolder
from tests import user_models as um


def _trial(trial: str, val: float) -> dict[str, Any]:
    epoch = {"epoch": 1, "val_accuracy": val, "accuracy": val, "val_loss": 1 - val, "loss": 1 - val}
    return {"id": trial, "status": "completed", "epochs": [epoch], "hyperparameters": {"lr": val},
            "best": epoch, "best_epoch": 1}  # fmt: skip


def _run(tmp_path: Path, best: str | None) -> tuple[RunFolder, list[dict[str, Any]]]:
    """A run whose search ranks trial 0 first; ``best``: the trial run.json says it chose."""
    folder = RunFolder(tmp_path / "fashion" / "run")
    folder.path.mkdir(parents=True)
    trials = [_trial("0", 0.90), _trial("1", 0.85), _trial("2", 0.80)]
    folder.write_trials(trials)
    folder.write_meta({} if best is None else {"best": {"trial": best}})
    return folder, trials


@pytest.mark.parametrize(
    "best, asked, exported",
    [
        (None, None, "0"),  # no choice recorded yet (a running search): the rule's first
        ("0", None, "0"),
        ("1", None, "1"),  # the finalists overturned the search's first
        ("1", "2", "2"),  # --trial wins
        ("7", None, "0"),  # a choice that is not a completed trial: the rule's first
    ],
)
def test_the_run_s_own_choice_is_exported(
    best: str | None, asked: str | None, exported: str, tmp_path: Path
) -> None:
    folder, trials = _run(tmp_path, best)
    request = RunRequest(experiment="fashion", tuner="random")
    assert export_engine._chosen(folder, trials, request, asked)["id"] == exported


@pytest.mark.parametrize("asked", ["1", "01", "001"])
def test_a_trial_number_finds_its_padded_id(asked: str, tmp_path: Path) -> None:
    """KerasTuner pads trial ids to --max-trials' width (``01`` of 50 trials): ``--trial 1``
    names the same trial, as the progress lines count it."""
    folder = RunFolder(tmp_path / "fashion" / "run")
    folder.path.mkdir(parents=True)
    trials = [_trial("00", 0.90), _trial("01", 0.85)]
    folder.write_trials(trials)
    folder.write_meta({"best": {"trial": "00"}})
    request = RunRequest(experiment="fashion", tuner="random")
    assert export_engine._chosen(folder, trials, request, asked)["id"] == "01"


def test_a_trial_that_did_not_complete_is_refused(tmp_path: Path) -> None:
    folder, trials = _run(tmp_path, "1")
    with pytest.raises(SearchError, match="trial 9: not a completed trial of .*; completed: 0, 1, 2"):
        export_engine._chosen(folder, trials, RunRequest(experiment="fashion", tuner="random"), "9")


@pytest.mark.parametrize(
    "status, said",
    [
        ("running", "no trial completed yet"),
        ("failed", "no trial completed: the run failed with 2 failed trials"),
    ],
)
def test_a_run_without_a_completed_trial_says_whether_one_may_come(
    status: str, said: str, tmp_path: Path
) -> None:
    """A failed run (every trial NaN) said 'no trial completed yet', as if one might."""
    folder = RunFolder(tmp_path / "fashion" / "run")
    folder.path.mkdir(parents=True)
    trials = [{**_trial(i, 0.5), "status": "failed"} for i in ("0", "1")]
    folder.write_trials(trials)
    folder.write_meta({"status": status})
    with pytest.raises(SearchError, match=f"run: {said}; nothing to export"):
        export_engine._chosen(folder, trials, RunRequest(experiment="fashion", tuner="random"), None)


def test_an_interrupted_run_without_a_completed_trial_is_told_to_resume_first(tmp_path: Path) -> None:
    folder = RunFolder(tmp_path / "fashion" / "run")
    folder.path.mkdir(parents=True)
    folder.write_trials([])
    folder.write_meta({"status": "interrupted"})
    with pytest.raises(SearchError) as caught:
        export_engine._chosen(folder, [], RunRequest(experiment="fashion", tuner="random"), None)
    assert str(caught.value) == (f"{folder.path}: no trial completed yet; nothing to export; resume it"
                                 f" first: python -m search resume {folder.path}")  # fmt: skip


@pytest.mark.parametrize(
    "output, message",
    [
        ("best_model.keras", "is the run's own model, which run.json's final describes; give another file"),
        (".keras", "give a file name ending in .keras, e.g. model.keras"),
        ("model.h5", "give a file name ending in .keras, e.g. model.keras"),
    ],
)
def test_a_bad_output_is_refused_before_any_work(output: str, message: str, tmp_path: Path, capsys) -> None:
    folder, _ = _run(tmp_path, "1")
    folder.model_file.write_bytes(b"the run's model")
    target = str(folder.path / output)
    assert main(["export", str(folder.path), "--output", target]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert folder.model_file.read_bytes() == b"the run's model"
    assert sorted(p.name for p in folder.path.iterdir()) == ["best_model.keras", "run.json", "trials.json"]


def test_an_output_that_is_not_a_model_is_never_replaced(tmp_path: Path, capsys) -> None:
    """``--output notes.keras`` over a file that is not a Keras model wrote the model over
    it: an earlier export (a Keras archive) is replaced, anything else is kept and named."""
    folder, _ = _run(tmp_path, "1")
    mine = tmp_path / "notes.keras"
    mine.write_text("my notes")
    assert main(["export", str(folder.path), "--output", str(mine)]) == 2
    err = capsys.readouterr().err
    assert f"--output {mine}: would replace a file that is not a Keras model" in err
    assert len(err.strip().splitlines()) == 1 and mine.read_text() == "my notes"
    default = folder.path / "export.keras"  # no --output given: not named as one
    default.write_text("my notes")
    assert main(["export", str(folder.path)]) == 2
    assert capsys.readouterr().err.startswith(
        f"error: {default} (export's default; --output names another): would replace a file that is not"
    )


@pytest.mark.parametrize("name", ["best_model.keras", "tuner/trial_0/model.keras", "export.keras",
                                  "data/x.keras"])
def test_an_output_over_another_runs_files_is_refused(name: str, tmp_path: Path, capsys) -> None:
    """Another run's model or export (which its run.json describes) or a file in its tuner state."""
    folder, _ = _run(tmp_path, "1")
    other = RunFolder(tmp_path / "fashion" / "other")
    other.path.mkdir()
    other.write_meta({})
    other.model_file.write_bytes(b"the other run's model")
    assert main(["export", str(folder.path), "--output", str(other.path / name)]) == 2
    err = capsys.readouterr().err
    said = "would replace" if name == "best_model.keras" else "would be"  # not there yet
    assert f"{name}: {said} a file of run {other.path}; give another file" in err
    assert len(err.strip().splitlines()) == 1
    assert other.model_file.read_bytes() == b"the other run's model"
    assert sorted(p.name for p in other.path.iterdir()) == ["best_model.keras", "run.json"]


def test_a_users_own_keras_model_is_replaced_only_with_overwrite(tmp_path: Path, capsys) -> None:
    """``--output mine.keras`` over a model of the user's own replaced it, as model.save does;
    a model this run exported is replaced by a new export without being asked."""
    x, y = um.tiny_data()
    run = search.run(um.build, x, y, tuner="random", max_trials=1, max_epochs=1, results=tmp_path,
                     name="rows", retrain=False, quiet=True)  # fmt: skip
    mine = tmp_path / "mine.keras"
    um.build(keras_tuner.HyperParameters()).save(mine)
    before = mine.read_bytes()
    args = ["export", str(run.folder), "--output", str(mine), "--retrain-max-epochs", "1", "--quiet"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.strip() == (f"error: --output {mine}: would replace a Keras model this run did not export;"
                           " give another file name, or --overwrite to replace it")  # fmt: skip
    assert mine.read_bytes() == before and "exports" not in RunFolder(run.folder).read_meta()
    assert main([*args, "--overwrite"]) == 0
    assert mine.read_bytes() != before
    assert main(args) == 0  # its own export now
    assert [Path(e["output"]) for e in RunFolder(run.folder).read_meta()["exports"]] == [mine.resolve()] * 2


def test_a_run_on_arrays_exports_its_own_model(tmp_path: Path, capsys) -> None:
    """A user's model of other inputs than images is saved as it trained, to load with Keras."""
    x, y = um.tiny_data()
    run = search.run(um.build, x, y, tuner="random", max_trials=1, max_epochs=1, results=tmp_path,
                     name="rows", retrain=False, quiet=True,
                     test_data=um.tiny_data(n=30, seed=1))  # fmt: skip
    assert main(["export", str(run.folder), "--retrain-max-epochs", "2", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "TEST accuracy" in out and "on 30 rows" in out
    assert f"epochs on {run.meta['data']['train']:,} rows" in out
    assert "images" not in out and "trained at" not in out  # rows are not images
    assert json.loads((run.folder / "run.json").read_text())["exports"][0]["train_unit"] == "rows"
    assert "(inputs of shape 8, as it trained; load it with keras.saving.load_model)" in out
    model = keras.saving.load_model(run.folder / "export.keras")
    assert model.predict(x[:4], verbose=0).shape == (4, um.CLASSES)
    Image.fromarray(np.zeros((8, 8, 3), "uint8")).save(tmp_path / "any.png")
    assert main(["predict", str(run.folder / "export.keras"), str(tmp_path / "any.png")]) == 2
    err = capsys.readouterr().err
    assert "predict takes only the image classifiers that `python -m search export RUN` writes" in err
    assert "load them with keras.saving.load_model" in err


class _Doubled(keras.layers.Layer):
    """A layer of the user's own, not registered with Keras: a saved model names it only."""

    def call(self, inputs: Any) -> Any:
        return inputs * 2.0


def _build_with_own_layer(hp: Any, layer: type[keras.layers.Layer] = _Doubled) -> keras.Model:
    model = keras.Sequential([keras.Input((8,)), layer(), keras.layers.Dense(hp.Int("units", 4, 8, step=4)),
                              keras.layers.Dense(um.CLASSES, activation="softmax")])  # fmt: skip
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def _build_with_hidden_layer(hp: Any) -> keras.Model:
    class Hidden(_Doubled):
        """Defined where Keras cannot find it by name, not even in this module."""

    return _build_with_own_layer(hp, Hidden)


def test_a_model_of_the_users_own_unregistered_layers_exports(tmp_path: Path, capsys) -> None:
    """The retrained model is read back with the classes of the build's own module."""
    x, y = um.tiny_data()
    run = search.run(_build_with_own_layer, x, y, tuner="random", max_trials=1, max_epochs=1,
                     results=tmp_path, name="own", retrain=False, quiet=True)  # fmt: skip
    assert main(["export", str(run.folder), "--retrain-max-epochs", "1", "--quiet"]) == 0
    model = keras.saving.load_model(run.folder / "export.keras", custom_objects={"_Doubled": _Doubled})
    assert isinstance(model.layers[0], _Doubled)


def test_a_model_keras_cannot_load_back_is_one_line(tmp_path: Path, capsys) -> None:
    x, y = um.tiny_data()
    run = search.run(_build_with_hidden_layer, x, y, tuner="random", max_trials=1, max_epochs=1,
                     results=tmp_path, name="hidden", retrain=False, quiet=True)  # fmt: skip
    assert main(["export", str(run.folder), "--retrain-max-epochs", "1", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.splitlines() == [
        "error: the retrained model: Keras cannot load it (Could not locate class 'Hidden');"
        " register your own classes and functions with @keras.saving.register_keras_serializable()"
        " where they are defined, or define them in the module of your build(hp) or HyperModel"
    ]
    assert not (run.folder / "export.keras").exists()


def test_a_sequential_image_classifier_exports_for_predict(tmp_path: Path, capsys) -> None:
    """A Sequential model loaded from a file has no input until called: the wrapper calls it."""
    x, y = um.tiny_images()
    run = search.run(um.build_sequential_cnn, x, y, tuner="random", max_trials=1, max_epochs=1,
                     results=tmp_path, name="cnn", retrain=False, quiet=True,
                     test_data=um.tiny_images(n=30, seed=1))  # fmt: skip
    assert main(["export", str(run.folder), "--retrain-max-epochs", "1", "--quiet"]) == 0
    assert "try: python -m search predict" in capsys.readouterr().out
    model = keras.saving.load_model(run.folder / "export.keras")
    assert class_names_of(model) == ["0", "1", "2"]
    pixels = np.full((1, 12, 16, 1), 200, dtype="uint8")  # any size: resized inside
    assert model.predict(pixels, verbose=0).shape == (1, um.CLASSES)


def test_a_subclassed_image_classifier_exports_for_predict(tmp_path: Path) -> None:
    """A subclassed model has no output shape until called: export asks it for one row."""
    x, y = um.tiny_images()
    run = search.run(um.build_subclassed_cnn, x, y, tuner="random", max_trials=1, max_epochs=1,
                     results=tmp_path, name="sub", retrain=False, quiet=True)  # fmt: skip
    assert main(["export", str(run.folder), "--retrain-max-epochs", "1", "--quiet"]) == 0
    model = keras.saving.load_model(run.folder / "export.keras")
    assert class_names_of(model) == ["0", "1", "2"]
    pixels = np.full((2, 10, 10, 1), 100, dtype="uint8")
    assert model.predict(pixels, verbose=0).shape == (2, um.CLASSES)


def test_an_export_of_images_in_0_1_scales_the_pixels_it_takes(tmp_path: Path) -> None:
    """Images given in [0, 1]: the exported model takes 0-255 pixels, as predict gives
    them, and classifies them as the trained model does the images it trained on."""
    x, y = um.tiny_images()
    run = search.run(um.build_sequential_cnn, x, y, tuner="random", max_trials=1, max_epochs=1,
                     results=tmp_path, name="cnn", retrain=False, quiet=True)  # fmt: skip
    assert main(["export", str(run.folder), "--retrain-max-epochs", "1", "--quiet"]) == 0
    model = keras.saving.load_model(run.folder / "export.keras")
    trained = next(layer for layer in model.layers if isinstance(layer, keras.Sequential))
    pixels = np.round(x[:5] * 255).astype("uint8")
    expected = trained.predict(pixels.astype("float32") / 255, verbose=0)
    np.testing.assert_allclose(model.predict(pixels, verbose=0), expected, rtol=1e-4, atol=1e-5)


def test_a_binary_classifier_of_one_output_is_saved_as_it_trained(tmp_path: Path, capsys) -> None:
    """One sigmoid output is no distribution over classes: named "0" its probability of
    class 1 would read as class 0's."""
    x, y = um.tiny_images()
    run = search.run(um.build_binary_cnn, x, (y > 0).astype("int64"), tuner="random", max_trials=1,
                     max_epochs=1, results=tmp_path, name="binary", retrain=False, quiet=True)  # fmt: skip
    assert main(["export", str(run.folder), "--retrain-max-epochs", "1", "--quiet"]) == 0
    assert "as it trained; load it with keras.saving.load_model" in capsys.readouterr().out
    model = keras.saving.load_model(run.folder / "export.keras")
    with pytest.raises(ValueError, match="the model has no class names"):
        class_names_of(model)


def test_a_signal_once_the_model_is_written_waits_for_its_record(tmp_path: Path, monkeypatch) -> None:
    """Ctrl-C just after the model is moved into place: the export ends listed in run.json."""
    x, y = um.tiny_data()
    run = search.run(um.build, x, y, tuner="random", max_trials=1, max_epochs=1, results=tmp_path,
                     name="rows", retrain=False, quiet=True)  # fmt: skip
    record = export_engine._record_export

    def signalled(*args: Any) -> None:
        os.kill(os.getpid(), signal.SIGINT)
        record(*args)

    monkeypatch.setattr(export_engine, "_record_export", signalled)
    assert main(["export", str(run.folder), "--retrain-max-epochs", "1", "--quiet"]) == 0
    (listed,) = run.meta["exports"]
    assert Path(listed["output"]) == (run.folder / "export.keras").resolve()
    assert (run.folder / "export.keras").is_file()


@pytest.mark.parametrize("where", ["run", "experiment"])
def test_a_run_given_relative_to_where_the_user_stands_is_exported(
    where: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`export .` inside the run folder, `export rows` in its experiment's folder: the request
    rebuilt from the run (its results root, its name) comes from the folder's real parents."""
    x, y = um.tiny_data()
    run = search.run(um.build, x, y, tuner="random", max_trials=1, max_epochs=1, results=tmp_path,
                     name="rows", retrain=False, quiet=True)  # fmt: skip
    monkeypatch.chdir(run.folder if where == "run" else run.folder.parent)
    given = "." if where == "run" else "rows"
    assert main(["export", given, "--retrain-max-epochs", "1", "--quiet"]) == 0
    (listed,) = run.meta["exports"]
    assert Path(listed["output"]) == (run.folder / "export.keras").resolve()


def test_an_invalid_value_stored_in_run_json_is_named_there_not_as_an_option(tmp_path: Path) -> None:
    """run.json edited to retrain_max_epochs -4: '--retrain-max-epochs (-4) must be at least
    1' named an option the user never gave; a value given to the export keeps its name."""
    folder, _ = _run(tmp_path, "0")
    request = RunRequest(experiment="fashion", tuner="random").to_json("run")
    folder.update_meta(request={**request, "retrain_max_epochs": -4}, space={"params": {}})
    with pytest.raises(RunFolderError) as caught:
        export_engine._stored(folder, {})
    said = str(caught.value)
    assert said.startswith(f"{folder.run_file}: the request stored there is not valid ("), said
    folder.update_meta(request=request)
    with pytest.raises(SearchError) as caught:
        export_engine._stored(folder, {"retrain_max_epochs": 0})
    assert caught.value.template.startswith("{opt:retrain_max_epochs} (0) must be at least 1"), caught.value


def test_a_run_whose_data_folder_is_gone_is_refused_before_its_data_loads(tmp_path: Path) -> None:
    """Named as the run's folder that is gone, with the fixes, before the data load (the
    loader said '--data-dir is not a folder', though the user gave none)."""
    folder, _ = _run(tmp_path, "0")
    gone = tmp_path / "fashion-mnist"
    request = RunRequest(experiment="fashion", tuner="random", data_dir=gone).to_json("run")
    folder.update_meta(request=request, space={"params": {}})
    with pytest.raises(SearchError) as caught:
        export_engine._stored(folder, {})
    assert str(caught.value) == (
        f"{folder.path}: its data folder {gone} is gone; put the data back there (the run goes on"
        " with the data it began with), give their new place with data_dir, or start a new run with"
        " another name"
    )


def test_a_run_whose_script_is_gone_is_refused_naming_it(tmp_path: Path, capsys) -> None:
    """A run on arrays whose build's script was moved away: it said 'SCRIPT: no such file;
    give the path of a Python file (file.py:NAME)', which export does not take."""
    x, y = um.tiny_data()
    run = search.run(um.build, x, y, tuner="random", max_trials=1, max_epochs=1, results=tmp_path,
                     name="rows", retrain=False, quiet=True)  # fmt: skip
    script = tmp_path / "mymod.py"
    target = f"{script}:build"
    request = run.meta["request"]
    RunFolder(run.folder).update_meta(request={**request, "hypermodel": {"target": target, "args": None}})
    capsys.readouterr()
    assert main(["export", str(run.folder)]) == 2
    assert capsys.readouterr().err == (
        f"error: {run.folder}: its code {script} is gone (run.json imports {target} from it);"
        " put the file back there: export builds the run's model with it\n"
    )
    assert "exports" not in run.meta


def test_a_clothing_run_on_its_default_data_exported_from_elsewhere_says_where_to_run_it(
    tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Clothing's default data folder is relative, and a run.json from before it was kept
    absolute holds none; exported from another working folder it said
    'data/clothing-dataset-small: no such folder; ... or pass --data-dir FOLDER', without
    saying which folder the run began with."""
    folder = RunFolder(tmp_path / "results" / "clothing" / "run")
    folder.path.mkdir(parents=True)
    folder.write_trials([_trial("0", 0.9)])
    request = RunRequest(experiment="clothing", tuner="random", weights="none").to_json("run")
    folder.write_meta({"experiment": "clothing", "tuner": "random", "status": "finished",
                       "request": request, "space": {"params": {}}})  # fmt: skip
    monkeypatch.chdir(tmp_path)
    assert main(["export", str(folder.path)]) == 2
    assert capsys.readouterr().err == (
        f"error: {folder.path}: its data folder is the default data/clothing-dataset-small, read"
        " from the working folder (its run.json predates keeping it absolute), and"
        f" {tmp_path / 'data' / 'clothing-dataset-small'} does not exist; run this command in the folder"
        " the run started in, put the data there, or give their new place with --data-dir\n"
    )


_KEYS = ("retrain_data", "retrain_max_epochs", "retrain_from", "retrain_schedule")


@pytest.mark.parametrize(
    "given, expected",
    [
        ({}, ("full", 3, "scratch", "cosine")),  # as the run retrained
        ({"retrain_data": "validated", "retrain_max_epochs": 7, "retrain_from": "checkpoint",
          "retrain_schedule": "plateau"}, ("validated", 7, "checkpoint", "plateau")),  # what the export says
        ({"retrain_max_epochs": 5}, ("full", 5, "scratch", "cosine")),
    ],
)  # fmt: skip
def test_an_export_retrains_as_its_run_did_unless_told_otherwise(
    given: dict[str, Any], expected: tuple[Any, ...], tmp_path: Path
) -> None:
    folder, _ = _run(tmp_path, "0")
    request = RunRequest(
        experiment="fashion", tuner="random", retrain_data="full", retrain_max_epochs=3,
        retrain_from="scratch", retrain_schedule="cosine",
    )  # fmt: skip
    folder.update_meta(request=request.to_json("run"), space={"params": {}})
    stored, _ = export_engine._stored(folder, given)
    assert tuple(getattr(stored, key) for key in _KEYS) == expected


def test_an_export_of_a_run_from_before_the_schedule_option_keeps_its_plateau(tmp_path: Path) -> None:
    folder, _ = _run(tmp_path, "0")
    stored = RunRequest(experiment="fashion", tuner="random", budget="gpu").to_json("run")
    del stored["retrain_schedule"]
    folder.update_meta(request=stored, space={"params": {}})
    assert export_engine._stored(folder, {})[0].retrain_schedule == "plateau"


@pytest.mark.parametrize("gone", ["folder", "x_train.npy"])
def test_an_arrays_run_whose_saved_arrays_are_gone_says_export_cannot_retrain_it(
    gone: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    x, y = um.tiny_data()
    run = search.run(um.build, x, y, tuner="random", max_trials=1, max_epochs=1, results=tmp_path,
                     name="arrays", retrain=False, quiet=True)  # fmt: skip
    data = Path(run.folder) / "data"
    if gone == "folder":
        for file in data.iterdir():
            file.unlink()
        data.rmdir()
    else:
        (data / gone).unlink()
    capsys.readouterr()
    assert main(["export", str(run.folder)]) == 2
    out, err = capsys.readouterr()
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err and "retraining" not in out
    assert f"{data}" in err and "saved arrays" in err and "export cannot retrain" in err
    assert "restore" in err and "search.run" in err and "best_model()" in err
    assert "resume" not in err and "another process" not in err
    assert not (Path(run.folder) / "export.keras").exists()


def test_an_export_of_edited_values_or_changed_arrays_is_refused_before_it_retrains(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An edited value failed the retrain after the data loaded ('unexpected ValueError'),
    arrays of another row shape after it began (Keras' multi-line error)."""
    x, y = um.tiny_data()
    run = search.run(um.build, x, y, tuner="random", max_trials=1, max_epochs=1, results=tmp_path,
                     name="arrays", retrain=False, quiet=True)  # fmt: skip
    folder = RunFolder(Path(run.folder))
    trials = folder.read_trials()
    name = next(iter(trials[0]["hyperparameters"]))
    edited = [{**trials[0], "hyperparameters": {**trials[0]["hyperparameters"], name: "bogus"}}]
    folder.write_trials(edited)
    capsys.readouterr()
    assert main(["export", str(folder.path)]) == 2
    out, err = capsys.readouterr()
    assert err.startswith(f"error: {folder.trials_file}: trial {trials[0]['id']}'s {name} is 'bogus',"
                          " outside the run's space (") and err.count("\n") == 1, err  # fmt: skip
    assert "loading" not in out
    folder.write_trials(trials)
    saved = folder.path / "data" / "x_train.npy"
    np.save(saved, np.load(saved)[:, :3])
    assert main(["export", str(folder.path)]) == 2
    out, err = capsys.readouterr()
    assert err == (f"error: {folder.path}: the data (arrays in {folder.path / 'data'}) differ from the"
                   " ones this run searched on; export retrains on the run's own data: restore them,"
                   " or search again in a run of another name\n")  # fmt: skip
    assert "retraining" not in out and not (folder.path / "export.keras").exists()


def test_an_export_says_and_records_its_schedule(tmp_path: Path, capsys) -> None:
    x, y = um.tiny_data()
    run = search.run(um.build, x, y, tuner="random", max_trials=1, max_epochs=1, results=tmp_path,
                     name="rows", retrain=False, quiet=True,
                     test_data=um.tiny_data(n=30, seed=1))  # fmt: skip
    assert main(["export", str(run.folder), "--retrain-schedule", "fast"]) == 2
    err = capsys.readouterr().err
    assert err.strip() == "error: --retrain-schedule 'fast': choose one of auto, plateau, cosine"
    args = ["export", str(run.folder), "--retrain-max-epochs", "2", "--retrain-schedule", "cosine", "--quiet"]
    assert main(args) == 0
    assert "2 epochs on " in (out := capsys.readouterr().out) and "the learning rate along a cosine" in out
    assert [e["schedule"] for e in RunFolder(run.folder).read_meta()["exports"]] == ["cosine"]


def _channels_model(hp: Any, channels: int) -> keras.Model:
    model = keras.Sequential([keras.Input((8, 8, channels)), keras.layers.Rescaling(1 / 255),
                              keras.layers.Conv2D(hp.Int("filters", 2, 4, step=2), 3),
                              keras.layers.Flatten(),
                              keras.layers.Dense(3, activation="softmax")])  # fmt: skip
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def _build_2(hp: Any) -> keras.Model:
    return _channels_model(hp, 2)


def _build_4(hp: Any) -> keras.Model:
    return _channels_model(hp, 4)


def _build_5(hp: Any) -> keras.Model:
    return _channels_model(hp, 5)


@pytest.mark.parametrize(("channels", "mode"), [(2, "LA"), (4, "RGBA"), (5, None)])
def test_an_export_of_images_of_other_channels_than_gray_or_rgb_predicts_or_says_why(
    channels: int, mode: str | None, tmp_path: Path, capsys
) -> None:
    """An export of a model of RGBA (or gray and alpha) images was written, then predict fed
    it RGB: 'unexpected ValueError', exit 1. Other channel counts are refused by name."""
    rng = np.random.default_rng(0)
    x = rng.integers(0, 255, size=(60, 8, 8, channels)).astype("uint8")
    y = np.arange(60) % 3
    run = search.run(globals()[f"_build_{channels}"], x, y, tuner="random", max_trials=1, max_epochs=1,
                     results=tmp_path, name="channels", retrain=False, quiet=True)  # fmt: skip
    assert main(["export", str(run.folder), "--retrain-max-epochs", "1", "--quiet"]) == 0
    image = tmp_path / "photo.png"
    Image.fromarray(rng.integers(0, 255, size=(12, 10, 3)).astype("uint8")).save(image)
    capsys.readouterr()
    exported = run.folder / "export.keras"
    if mode is None:
        assert main(["predict", str(exported), str(image)]) == 2
        assert capsys.readouterr().err.strip() == (
            f"error: {exported}: the model takes images of 5 channels; predict reads image files of"
            " 1 to 4 (gray, gray and alpha, RGB, RGBA): call the model from Python on your arrays"
        )
        return
    assert main(["predict", str(exported), str(image)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"{image}: ") and out.count(" 0.") + out.count(" 1.") == 3


def test_an_export_that_run_json_cannot_record_says_the_file_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A full disk after the model was written: the user keeps a usable file and learns why
    the next export to it is refused without --overwrite."""
    folder, trials = _run(tmp_path, "0")

    def full(**fields: Any) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", str(folder.run_file))

    monkeypatch.setattr(folder, "update_meta", full)
    final = {"test_accuracy": 0.9, "test_images": 10, "train_images": 20, "epochs": 3}
    rows = np.zeros((4, 2), "float32")
    splits = Splits(rows, rows[:, 0], rows, rows[:, 0], rows, rows[:, 0], (), "test")
    fix = "no space left on the device; free some space or move the run to a larger disk"
    outside, inside = tmp_path / "model.keras", folder.path / "export.keras"
    for output, after in ((outside, "; until it is recorded, a new export replaces this file only"
                           " with --overwrite"), (inside, "")):  # fmt: skip
        with pytest.raises(SearchError) as caught:
            export_engine._record_export(folder, output, trials[0], final, splits)
        assert render(caught.value.template, lambda name: f"--{name}") == (
            f"{output}: exported and usable, but {folder.run_file} could not record it: {fix}{after}"
        )


def test_a_full_disk_where_the_model_is_written_names_output_not_a_temporary_file(
    tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It said 'OUTPUT_DIR/tmpXXXX/trained.keras: no space left on the device; free some space or
    move the run to a larger disk': a file gone since, and a run whose disk was not full."""
    x, y = um.tiny_data()
    run = search.run(um.build, x, y, tuner="random", max_trials=1, max_epochs=1, results=tmp_path / "runs",
                     name="rows", retrain=False, quiet=True)  # fmt: skip

    def full(model: Any, splits: Splits, output: Path, tmp: Path, stop: Any) -> tuple[str, ...]:
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp / "export.keras"))

    monkeypatch.setattr(export_engine, "_write", full)
    output = tmp_path / "usb" / "model.keras"
    capsys.readouterr()
    argv = ["export", str(run.folder), "--output", str(output), "--retrain-max-epochs", "1", "--quiet"]
    assert main(argv) == 2
    assert capsys.readouterr().err == (
        f"error: --output {output}: the model could not be written there (no space left on the device);"
        " free some space there, or give a file on another disk; nothing was written, and the run is"
        " unchanged\n"
    )
    assert list(output.parent.iterdir()) == [] and "exports" not in run.meta


@pytest.mark.parametrize("number, given", [(errno.EFBIG, True), (errno.ENOSPC, False)])
def test_a_failed_write_of_the_model_is_said_as_the_report_says_it(
    number: int, given: bool, tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One wording with the report's: a file-size limit said 'or give a file on another disk'
    (the limit is the process's, on every disk); with no --output it named '--output
    RUN/export.keras', an option never given, where the run folder's disk failed."""
    x, y = um.tiny_data()
    run = search.run(um.build, x, y, tuner="random", max_trials=1, max_epochs=1, results=tmp_path / "runs",
                     name="rows", retrain=False, quiet=True)  # fmt: skip

    def failed(model: Any, splits: Splits, output: Path, tmp: Path, stop: Any) -> tuple[str, ...]:
        raise OSError(number, os.strerror(number), str(tmp / "export.keras"))

    monkeypatch.setattr(export_engine, "_write", failed)
    output = tmp_path / "usb" / "model.keras" if given else run.folder.resolve() / "export.keras"
    capsys.readouterr()
    argv = ["export", str(run.folder), "--retrain-max-epochs", "1", "--quiet"]
    assert main([*argv, "--output", str(output)] if given else argv) == 2
    assert capsys.readouterr().err == (
        f"error: --output {output}: the model could not be written there (file too large for the"
        " file-size limit (`ulimit -f`)); raise the limit; nothing was written, and the run is unchanged\n"
        if given else
        f"error: {output}: no space left on the device; free some space or move the run to a larger disk\n"
    )  # fmt: skip
    assert not output.exists() and "exports" not in run.meta


@pytest.mark.parametrize(
    "number, made, reason, fix",
    [
        (errno.EACCES, False, "permission denied", "give a file in a folder you can write to"),
        (errno.ENOSPC, True, "no space left on the device",
         "free some space there, or give a file on another disk"),
    ],
)
def test_output_s_folder_that_cannot_be_made_or_staged_in_names_output(
    number: int, made: bool, reason: str, fix: str, tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Making --output's folder, or the temporary folder beside it, failed outside the
    handling: it named 'OUT_DIR/tmpXXXX', never made, and for a full disk said to move the run."""
    x, y = um.tiny_data()
    run = search.run(um.build, x, y, tuner="random", max_trials=1, max_epochs=1, results=tmp_path / "runs",
                     name="rows", retrain=False, quiet=True)  # fmt: skip
    usb = tmp_path / "usb"
    usb.mkdir()
    output = (usb if made else usb / "new") / "model.keras"
    mkdir = os.mkdir

    def refused(path: Any, *args: Any, **kwargs: Any) -> None:
        if Path(path).is_relative_to(usb):
            raise OSError(number, os.strerror(number), str(path))
        mkdir(path, *args, **kwargs)

    before = {p: p.read_bytes() for p in run.folder.rglob("*") if p.is_file()}
    monkeypatch.setattr(os, "mkdir", refused)
    capsys.readouterr()
    argv = ["export", str(run.folder), "--output", str(output), "--retrain-max-epochs", "1", "--quiet"]
    assert main(argv) == 2
    assert capsys.readouterr().err == (
        f"error: --output {output}: the model could not be written there ({reason}); {fix};"
        " nothing was written, and the run is unchanged\n"
    )
    assert list(usb.iterdir()) == []
    assert {p: p.read_bytes() for p in run.folder.rglob("*") if p.is_file()} == before


def test_a_checkpoint_asked_for_and_gone_is_refused_before_the_data_load(tmp_path: Path, capsys) -> None:
    """It was refused after 'loading ... data…' (images decoded, for an image folder): the
    checkpoint's absence is known from the run folder alone."""
    x, y = um.tiny_data()
    run = search.run(um.build, x, y, tuner="random", max_trials=1, max_epochs=1, results=tmp_path,
                     name="rows", retrain=False, quiet=True)  # fmt: skip
    (checkpoint,) = (run.folder / "tuner").glob("trial_*/checkpoint.weights.h5")
    checkpoint.unlink()
    capsys.readouterr()
    assert main(["export", str(run.folder), "--retrain-from", "checkpoint"]) == 2
    said = capsys.readouterr()
    assert said.out == ""
    assert said.err == (
        f"error: trial 0: its search checkpoint is not in {run.folder / 'tuner'} (removed by --keep-best,"
        " or deleted), so --retrain-from checkpoint cannot start from it: retrain from new weights with"
        " --retrain-from scratch, or search again keeping the checkpoints with --keep-best all\n"
    )


def test_an_export_takes_a_float_as_trials_json_rounds_it(tmp_path: Path) -> None:
    """trials.json keeps 12 digits: 1/3 is 0.333333333333, which no choice of 1/3 equals."""
    from search.space import Choice, Fixed, Space

    space = Space((Choice("rate", 1 / 3, (1 / 3, 0.5)), Fixed("clip", 0.1 + 0.2)))
    folder = RunFolder(tmp_path / "fashion" / "run")
    best = {"id": "0", "hyperparameters": {"rate": 0.333333333333, "clip": 0.3}}
    export_engine._check_values(folder, best, space)
    best["hyperparameters"]["rate"] = 0.3333
    with pytest.raises(RunFolderError, match=r"trial 0's rate is 0\.3333, outside the run's space"):
        export_engine._check_values(folder, best, space)
