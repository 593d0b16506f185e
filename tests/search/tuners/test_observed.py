"""The tuner's hooks as observers see them: when each is called, in a real search."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

import search
from hypermodels import NonFiniteLossError
from search.tuners import ObservedTuner
from tests import user_models as um


class _Asks(search.Observer):
    """Records the hooks around the search's requests for trials."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def trial_wanted(self) -> None:
        self.calls.append("wanted")

    def trial_begin(self, trial) -> None:  # type: ignore[no-untyped-def]
        self.calls.append("begin")


def test_trial_wanted_comes_before_every_request_for_a_trial(tmp_path: Path) -> None:
    """Before the first trial, after each, and before the request that ends the search."""
    asks = _Asks()
    x, y = um.tiny_data()
    search.run(um.build, x, y, tuner="random", max_trials=2, max_epochs=1, results=tmp_path,
               retrain=False, quiet=True, observers=[asks])  # fmt: skip
    assert asks.calls == ["wanted", "begin", "wanted", "begin", "wanted"]


class _StopAfterFirstEpoch(search.Observer):
    """Interrupts the search as trial 0's second epoch begins (its first saved), as a Ctrl-C would."""

    def epoch_begin(self, trial, epoch: int) -> None:  # type: ignore[no-untyped-def]
        if epoch == 1:
            raise KeyboardInterrupt


def _interrupted_run(tmp_path: Path) -> Path:
    x, y = um.tiny_data()
    with pytest.raises(search.SearchInterrupted):
        search.run(um.build, x, y, tuner="random", max_trials=1, max_epochs=3, results=tmp_path,
                   name="r", retrain=False, quiet=True, observers=[_StopAfterFirstEpoch()])  # fmt: skip
    return tmp_path / "build" / "r"


@pytest.mark.parametrize("quiet", [False, True])
def test_a_damaged_epoch_state_is_said_on_resume(quiet: bool, tmp_path: Path, capsys) -> None:
    """The interrupted trial's saved epoch, damaged, is named in one line (not when quiet):
    the trial restarts from epoch 1 rather than continuing."""
    folder = _interrupted_run(tmp_path)
    (state,) = folder.rglob("epoch_state.npz")
    state.write_bytes(b"garbage")
    capsys.readouterr()
    search.resume(folder, quiet=quiet)
    said = [line for line in capsys.readouterr().out.splitlines() if "epoch_state.npz" in line]
    expected = [f"trial 0: its saved epoch state {state} is damaged; the trial restarts from epoch 1"]
    assert said == ([] if quiet else expected)
    (trial,) = json.loads((folder / "trials.json").read_text())["trials"]
    assert trial["status"] == "completed" and len(trial["epochs"]) == 3
    assert not any(e.get("restored") for e in trial["epochs"])


def test_a_missing_epoch_state_is_not_said(tmp_path: Path, capsys) -> None:
    folder = _interrupted_run(tmp_path)
    (state,) = folder.rglob("epoch_state.npz")
    state.unlink()
    capsys.readouterr()
    search.resume(folder)
    assert "epoch state" not in capsys.readouterr().out


class _Hooks:
    """KerasTuner's epoch hook, as the tuner below ObservedTuner has it."""

    def on_epoch_end(self, trial: Any, model: Any, epoch: int, logs: Any = None) -> None:
        """Nothing to save here."""


class _Judging:
    """An oracle that judges each epoch as Optuna's pruners do: every one it is told of is cut."""

    def __init__(self) -> None:
        self.judged: list[int] = []

    def report_epoch(self, trial_id: str, epoch: int, logs: dict[str, float]) -> bool:
        self.judged.append(epoch)
        return True


class _Epochs(search.Observer):
    def __init__(self) -> None:
        self.ended: list[int] = []

    def epoch_end(self, trial: Any, epoch: int, logs: dict[str, float]) -> None:
        self.ended.append(epoch)


def test_a_diverged_epoch_is_recorded_and_fails_its_trial_before_a_pruner_judges_it() -> None:
    """A NaN model's val_accuracy (its majority class) is a number: the pruner cut the trial
    first, which was then recorded pruned, and why it stopped was lost."""

    class Tuner(ObservedTuner, _Hooks):
        def __init__(self) -> None:
            self.oracle, self.observers = _Judging(), [_Epochs()]

    tuner, trial, model = Tuner(), SimpleNamespace(trial_id="0"), SimpleNamespace(stop_training=False)
    tuner.on_epoch_end(trial, model, 0, {"loss": 0.5, "val_accuracy": 0.6})
    assert model.stop_training and tuner.oracle.judged == [0]
    with pytest.raises(NonFiniteLossError, match=r"^loss became nan in epoch 2; lower the learning rate$"):
        tuner.on_epoch_end(trial, model, 1, {"loss": float("nan"), "val_accuracy": 0.5})
    assert tuner.oracle.judged == [0] and tuner.observers[0].ended == [0, 1]


def test_a_trial_about_to_run_drops_what_a_dead_process_half_wrote_in_its_folder(tmp_path: Path) -> None:
    """A full disk left a 19.6 MB checkpoint and a 17.6 MB epoch state, half written, for
    good: a resumed run that finished still held them."""
    from search.tuners._observed import _remove_partial_writes

    kept = ["checkpoint.weights.h5", "epoch_state.npz", "trial.json"]
    partial = [".checkpoint.4242.tmp.weights.h5", ".epoch_state.npz.k2j4h1.tmp", ".trial.json.x.tmp"]
    for name in kept + partial:
        (tmp_path / name).write_bytes(b"x")
    _remove_partial_writes(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(kept)
