"""A run interrupted in its retrain (one finalist: the chosen configuration retrained alone)
continues the retrain after its last epoch, validated or not, and records what an
uninterrupted run records."""

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
from search.errors import SearchInterrupted
from search.storage import trained_epochs
from tests import user_models as um
from tests.helpers.callbacks import Trains
from tests.helpers.processes import run_killed
from tests.helpers.retrains import EPOCHS, INTERRUPTED_AT, Retrains, run_retrain


def _training(final: dict[str, Any], close: bool = False) -> tuple[Any, ...]:
    """What the retrain came to (``close``: its figures to within float noise)."""
    near = (lambda v: pytest.approx(v, abs=1e-6)) if close else (lambda v: v)
    keys = ("trial", "epochs", "kept_epoch", "learning_rates", "retrain_data", "train_images", "schedule")
    figures = ("val_accuracy_per_epoch", "val_score", "val_loss", "train_loss", "train_accuracy",
               "test_accuracy", "test_loss")  # fmt: skip
    return (*(final.get(k) for k in keys), *(near(final.get(k)) for k in figures))


def _state(folder: Path) -> Path:
    (state,) = folder.glob("retrain.*.state.npz")
    return state


def _seconds(state: Path) -> float:
    with np.load(state) as arrays:
        return float(json.loads(bytes(arrays["meta"]).decode())["seconds"])


@pytest.mark.parametrize(("data", "schedule"), [("validated", "auto"), ("search", "plateau"),
                                                ("validated", "cosine"), ("search", "cosine")])  # fmt: skip
def test_an_interrupted_retrain_continues_after_its_last_epoch(
    data: str, schedule: str, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    whole = Retrains()
    done = run_retrain(whole, tmp_path / "whole", "w", data, schedule)
    resolved = "plateau" if schedule == "auto" else schedule  # the cpu budget's
    assert done.meta["request"]["retrain_schedule"] == resolved
    reference = done.meta["final"]
    assert reference["schedule"] == ("constant" if (data, resolved) == ("search", "plateau") else resolved)
    ((_, trained),) = whole.fits
    assert len(trained) > INTERRUPTED_AT  # the interruption lands inside the retrain

    with pytest.raises(SearchInterrupted):  # a second Ctrl-C, as in the search
        run_retrain(Retrains.interrupting(1), tmp_path / "cut", "c", data, schedule)
    folder = next((tmp_path / "cut").glob("*/c"))
    assert json.loads((folder / "run.json").read_text())["status"] == "interrupted"
    state = _state(folder)
    assert trained_epochs(state) == INTERRUPTED_AT
    earlier = _seconds(state)

    assert main(["status", str(folder)]) == 0
    trial = reference["trial"]
    said = capsys.readouterr().out
    assert f"retrain: trial {trial} interrupted after {INTERRUPTED_AT} epochs (resume continues it)" in said

    again = Retrains()
    run = search.resume(folder, hypermodel=again, quiet=True)
    assert run.status == "finished"
    assert again.fits == [(whole.fits[0][0], list(range(INTERRUPTED_AT, len(trained))))]
    final = run.meta["final"]
    assert _training(final) == _training(reference, close=True)
    assert final["train_seconds"] >= round(earlier, 1) and final["seconds"] >= final["train_seconds"]
    assert not list(folder.glob("*.npz"))  # the state goes when the run finishes


def test_a_retrain_killed_with_9_continues_when_the_run_is_run_again(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    whole = Retrains()
    reference = run_retrain(whole, tmp_path / "whole", "w").meta["final"]
    ((_, trained),) = whole.fits

    code = (
        "from pathlib import Path; from tests.helpers.retrains import Retrains, run_retrain;"
        f" run_retrain(Retrains.interrupting(1, kill=True), Path({str(tmp_path / 'cut')!r}), 'k')"
    )
    run_killed(code)
    folder = next((tmp_path / "cut").glob("*/k"))
    assert trained_epochs(_state(folder)) == INTERRUPTED_AT

    assert main(["status", str(folder)]) == 0
    said = capsys.readouterr().out
    assert f"interrupted after {INTERRUPTED_AT} epochs (resume continues it)" in said
    trials = sum(t["seconds"] for t in json.loads((folder / "trials.json").read_text())["trials"])
    spent = (trials + _seconds(_state(folder))) / 60  # no process lived to record the run's time
    assert f"time: {spent:.1f} min in trials and the final training" in said, said

    again = Retrains()
    run = run_retrain(again, tmp_path / "cut", "k")  # the same run again
    assert again.fits == [(whole.fits[0][0], list(range(INTERRUPTED_AT, len(trained))))]
    assert run.status == "finished"
    assert _training(run.meta["final"]) == _training(reference, close=True)
    assert not list(folder.glob("*.npz"))


def test_the_custom_loop_continues_a_planned_retrain_as_if_never_stopped(tmp_path: Path) -> None:
    """ImageCNN's own loop trained a planned number of epochs without validation
    (``--retrain-data search|full``), interrupted, continues to the same curve and weights."""
    from hypermodels import ImageCNN, ImageStats
    from search.engine._retrain import VAL_ACCURACY, fit_configuration
    from search.space import Fixed, Space
    from tests.helpers.images import tiny_data

    x, y = tiny_data(192)
    values = {"filters": 8, "conv_blocks": 2, "dense_units": 32, "batch_size": 32,
              "learning_rate": 1e-2, "augment": True}  # fmt: skip
    hypermodel = ImageCNN(Space(tuple(Fixed(k, v) for k, v in values.items())), (28, 28, 1), 10,
                          ImageStats.of(x), seed=7)  # fmt: skip
    hp = kt.HyperParameters()

    def fit(line: Trains, state: Path | None) -> Any:
        return fit_configuration(hypermodel, hp, x, y, None, EPOCHS, VAL_ACCURACY, line, state)

    whole = fit(Trains(), None)
    state = tmp_path / "retrain.state.npz"
    with pytest.raises(KeyboardInterrupt):
        fit(Trains(stop_at=INTERRUPTED_AT), state)
    rest = Trains()
    again = fit(rest, state)
    assert rest.epochs == list(range(INTERRUPTED_AT, EPOCHS))
    assert (again.epochs, again.kept, again.rates) == (whole.epochs, whole.kept, whole.rates)
    assert again.curve["loss"] == pytest.approx(whole.curve["loss"], abs=1e-6)
    for mine, theirs in zip(again.model.get_weights(), whole.model.get_weights()):
        np.testing.assert_allclose(mine, theirs, atol=1e-6)


def _validated_fit(hypermodel: kt.HyperModel, tmp_path: Path) -> tuple[Any, Path, list[str]]:
    """A validated final training of ``hypermodel``'s defaults on tiny data, keeping its state
    in ``tmp_path``: the call training it (given the line callback), the state, what it said."""
    from search.engine._retrain import VAL_ACCURACY, fit_configuration

    x, y = um.tiny_data()
    state, said, hp = tmp_path / "retrain.state.npz", [], kt.HyperParameters()

    def fit(line: Trains) -> Any:
        return fit_configuration(hypermodel, hp, x, y, (x, y), EPOCHS, VAL_ACCURACY, line, state,
                                 say=said.append)  # fmt: skip

    return fit, state, said


def test_a_damaged_state_of_a_final_training_is_told_and_the_training_starts_anew(tmp_path: Path) -> None:
    from search.experiments import UserHyperModel

    fit, state, said = _validated_fit(UserHyperModel(um.build, seed=0), tmp_path)
    with pytest.raises(KeyboardInterrupt):
        fit(Trains(stop_at=INTERRUPTED_AT))
    assert said == [] and state.is_file()
    state.write_bytes(state.read_bytes()[:100])  # cut short, as a full disk leaves it
    rest = Trains()
    fit(rest)
    assert rest.epochs[0] == 0
    assert len(said) == 1 and said[0].startswith(f"{state}: this training's saved state is damaged (")
    assert said[0].endswith("); it restarts from epoch 1")


def test_a_state_file_cut_short_anywhere_counts_no_epochs(tmp_path: Path) -> None:
    """A cut inside the zip's entries raised BadZipFile: `resume` ended in 'unexpected'."""
    from search.storage import trained_seconds

    state = tmp_path / "retrain.0.validated.state.npz"
    meta = json.dumps({"epochs": 3, "seconds": 12.5}).encode()
    np.savez(state, meta=np.frombuffer(meta, dtype=np.uint8), weights=np.zeros(4096))
    whole = state.read_bytes()
    assert trained_epochs(state) == 3 and trained_seconds(state) == 12.5
    for size in (0, 10, 100, 1000, len(whole) // 2, len(whole) - 1):
        state.write_bytes(whole[:size])
        assert (trained_epochs(state), trained_seconds(state)) == (0, 0.0), size


class _CutShort:
    """A model whose save is stopped midway, as a kill or a full disk stops it."""

    def __init__(self, error: BaseException) -> None:
        self.error = error

    def save(self, path: Path) -> None:
        Path(path).write_bytes(b"PK\x03\x04 cut short")
        raise self.error


@pytest.mark.parametrize("error", [KeyboardInterrupt(), OSError(28, "No space left on device")])
def test_a_model_save_cut_short_leaves_the_model_that_was_there(tmp_path: Path, error: BaseException) -> None:
    """best_model.keras was written in place: a kill mid-save left a cut-short file that
    best_model() called damaged."""
    from search.engine._retrain import save_model

    target = tmp_path / "best_model.keras"
    target.write_bytes(b"the model before")
    with pytest.raises(type(error)) as caught:
        save_model(_CutShort(error), target)
    assert target.read_bytes() == b"the model before"
    assert [p.name for p in tmp_path.iterdir()] == ["best_model.keras"]
    if isinstance(error, OSError):
        assert caught.value.filename == str(target)
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    save_model(model, target)
    assert keras.models.load_model(target).count_params() == 3


def test_a_fine_tuning_retrain_interrupted_after_its_switch_continues_after_its_last_epoch(
    tmp_path: Path,
) -> None:
    """The transfer model's optimizer after the fine-tuning switch has variables a new build
    lacks: the saved training still continues, on the fine-tuning rates, to the same end."""
    from search.engine._retrain import VAL_ACCURACY, fit_configuration
    from tests.hypermodels.test_transfer import FINE_TUNE, data, model

    x, y = data()

    def fit(line: Trains, state: Path | None) -> Any:
        hypermodel, hp, _ = model(FINE_TUNE)
        return fit_configuration(hypermodel, hp, x, y, (x, y), EPOCHS, VAL_ACCURACY, line, state,
                                 say=pytest.fail)  # fmt: skip

    whole = fit(Trains(), None)
    assert whole.rates[:2] == pytest.approx([1e-2, FINE_TUNE["fine_tune_learning_rate"]])
    state = tmp_path / "retrain.state.npz"
    with pytest.raises(KeyboardInterrupt):
        fit(Trains(stop_at=INTERRUPTED_AT), state)  # the switch came after epoch 1
    rest = Trains()
    again = fit(rest, state)
    assert rest.epochs == list(range(INTERRUPTED_AT, whole.epochs or 0))
    assert (again.epochs, again.kept) == (whole.epochs, whole.kept)
    assert again.rates == pytest.approx(whole.rates)
    assert again.curve["val_loss"] == pytest.approx(whole.curve["val_loss"], rel=1e-3)
    for mine, theirs in zip(again.model.get_weights(), whole.model.get_weights()):
        np.testing.assert_allclose(mine, theirs, rtol=1e-3, atol=1e-4)


def test_a_saved_optimizer_that_fits_no_phase_of_a_users_fit_restarts_the_training(
    tmp_path: Path,
) -> None:
    """A fit of the user's own reconfigures the optimizer only after its first ``model.fit``
    began: the state saved after that switch cannot be continued, which is said, and the
    training starts anew (as a damaged state's does)."""
    from search.engine._retrain import VAL_ACCURACY, fit_configuration

    x, y = um.tiny_data()
    hypermodel, hp, state, said = um.TwoPhases(), kt.HyperParameters(), tmp_path / "retrain.state.npz", []

    def fit(line: Trains) -> Any:
        return fit_configuration(hypermodel, hp, x, y, (x, y), EPOCHS, VAL_ACCURACY, line, state,
                                 say=said.append)  # fmt: skip

    with pytest.raises(KeyboardInterrupt):
        fit(Trains(stop_at=INTERRUPTED_AT))
    assert said == [] and state.is_file()
    rest = Trains()
    again = fit(rest)
    assert rest.epochs == list(range(EPOCHS))
    assert said == [f"{state}: the saved optimizer does not fit the model's when its fit begins (a fit"
                    " that recompiles after it began cannot be continued); the training restarts"
                    " from epoch 1"]  # fmt: skip
    assert again.epochs == EPOCHS and trained_epochs(state) == EPOCHS  # the new training's state


class NamedArgumentsFit(um.BuildOnly):
    """A fit naming what KerasTuner's trials pass it, without Hyperband's ``initial_epoch``."""

    def fit(self, hp, model, x, y, validation_data=None, epochs=1, callbacks=None):  # type: ignore[no-untyped-def]
        return model.fit(x, y, validation_data=validation_data, epochs=epochs, callbacks=callbacks,
                         verbose=0)  # fmt: skip


def test_a_users_fit_without_initial_epoch_restarts_an_interrupted_retrain_said_so(tmp_path: Path) -> None:
    """Continued, the retrain passed initial_epoch= to a fit that takes none, which was
    refused as a fit that "cannot take the call each trial makes" (in a random search)."""
    from search.experiments import UserHyperModel

    fit, state, said = _validated_fit(UserHyperModel(NamedArgumentsFit(), objective="val_accuracy"), tmp_path)
    with pytest.raises(KeyboardInterrupt):
        fit(Trains(stop_at=INTERRUPTED_AT))
    assert state.is_file()
    rest = Trains()
    again = fit(rest)
    assert rest.epochs == list(range(len(rest.epochs))) and len(rest.epochs) > INTERRUPTED_AT  # from epoch 1
    assert said == [f"{state}: NamedArgumentsFit.fit takes no initial_epoch to continue this training"
                    " after its saved epochs; it restarts from epoch 1"]  # fmt: skip
    assert again.epochs == len(rest.epochs)
