"""KerasTuner's oracles as the backends build them: the baseline trial (the space's defaults
first, once, resumes included) and seeds that repeat, 0 included."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import keras_tuner as kt
import pytest

from search.tuners import Budget, get
from search.tuners._keras_tuner import BayesianOracle, HyperbandOracle, RandomOracle, listed_values

ORACLES = {
    "random": lambda: RandomOracle(objective=OBJECTIVE, max_trials=5, seed=3),
    "hyperband": lambda: HyperbandOracle(objective=OBJECTIVE, max_epochs=9, factor=3, seed=3),
    "bayesian": lambda: BayesianOracle(objective=OBJECTIVE, max_trials=5, seed=3),
}
OBJECTIVE = kt.Objective("val_accuracy", "max")
DEFAULTS = {"learning_rate": 1e-3, "augment": False, "units": 128}


def space() -> kt.HyperParameters:
    hp = kt.HyperParameters()
    hp.Float("learning_rate", 1e-4, 1e-1, sampling="log", default=1e-3)
    hp.Boolean("augment", default=False)
    with hp.conditional_scope("augment", [True]):
        hp.Float("shift", 0.0, 0.2, step=0.05, default=0.1)
    hp.Int("units", 32, 512, step=32, default=128)
    return hp


def oracle(kind: str, folder: Path, baseline: bool = True) -> kt.Oracle:
    made = ORACLES[kind]()
    made.baseline = baseline
    made.hyperparameters = space()
    made._set_project_dir(str(folder), "search")
    return made


def values(trial: kt.engine.trial.Trial) -> dict:
    return {k: v for k, v in trial.hyperparameters.values.items() if not k.startswith("tuner/")}


@pytest.mark.parametrize("kind", sorted(ORACLES))
def test_the_defaults_come_first_then_sampled_values(kind: str, tmp_path: Path) -> None:
    first = oracle(kind, tmp_path).create_trial("tuner0")
    assert values(first) == DEFAULTS
    second = oracle(kind, tmp_path / "other").create_trial("tuner0")
    assert values(second) == DEFAULTS  # a new search: its own baseline

    search = oracle(kind, tmp_path / "one")
    trials = [search.create_trial(f"tuner{i}") for i in range(3)]
    assert [values(t) == DEFAULTS for t in trials] == [True, False, False]


@pytest.mark.parametrize("kind", sorted(ORACLES))
def test_a_resumed_search_does_not_run_the_baseline_again(kind: str, tmp_path: Path) -> None:
    search = oracle(kind, tmp_path)
    trial = search.create_trial("tuner0")
    assert values(trial) == DEFAULTS
    search.update_trial(trial.trial_id, {"val_accuracy": 0.5})
    trial.status = "COMPLETED"
    search.end_trial(trial)
    search.save()
    again = oracle(kind, tmp_path)
    again.reload()
    assert values(again.create_trial("tuner1")) != DEFAULTS


@pytest.mark.parametrize("kind", sorted(ORACLES))
def test_no_baseline_samples_the_first_trial_too(kind: str, tmp_path: Path) -> None:
    assert values(oracle(kind, tmp_path, baseline=False).create_trial("tuner0")) != DEFAULTS


class TinyModel(kt.HyperModel):
    def build(self, hp: kt.HyperParameters):
        import keras

        hp.Float("learning_rate", 1e-4, 1e-1, sampling="log", default=1e-3)
        hp.Int("units", 32, 512, step=32, default=128)
        model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
        model.compile(optimizer="adam", loss="mse")
        return model


@pytest.mark.parametrize("kind", sorted(ORACLES))
@pytest.mark.parametrize("seed", [0, 7])
def test_the_same_seed_samples_the_same_trials(kind: str, seed: int, tmp_path: Path) -> None:
    """KerasTuner's oracles treat seed 0 as "no seed": --seed 0 must still repeat."""
    from search.tuners import TunerOptions

    def sampled(folder: str) -> list[dict]:
        tuner = get(kind).create(
            TinyModel(), OBJECTIVE, Budget(max_trials=4, max_epochs=9), seed,
            tmp_path / folder, [], TunerOptions(baseline=False),
        )  # fmt: skip
        return [values(tuner.oracle.create_trial(f"t{i}")) for i in range(3)]

    first = sampled("a")
    assert sampled("b") == first
    assert len({str(v) for v in first}) == 3


def _small_space() -> kt.HyperParameters:
    hp = kt.HyperParameters()
    hp.Choice("units", [4, 8, 16], default=4)
    return hp


def _finish(search: kt.Oracle, trial: kt.engine.trial.Trial, score: float) -> None:
    search.update_trial(trial.trial_id, {"val_accuracy": score})
    trial.status = "COMPLETED"
    search.end_trial(trial)


def _run_until_stopped(search: kt.Oracle, trials: int, name: str, score: Callable[[Any], float]) -> list:
    """The values of ``name`` each trial ran with, ``score`` of them as each one's result,
    until the oracle stops giving trials (or ``trials`` ran)."""
    ran: list = []
    for i in range(trials):
        trial = search.create_trial(f"tuner{i}")
        if trial.status != "RUNNING":
            return ran
        ran.append(values(trial)[name])
        _finish(search, trial, score(ran[-1]))
    return ran


def test_bayesian_runs_each_configuration_of_a_small_space_once(tmp_path: Path) -> None:
    """Its Gaussian process proposes the best configuration again once the random points
    are done; KerasTuner's own oracle would train it again for the rest of the budget."""
    search = BayesianOracle(objective=OBJECTIVE, max_trials=8, num_initial_points=2, seed=3)
    search.hyperparameters = _small_space()
    search._set_project_dir(str(tmp_path), "search")
    ran = _run_until_stopped(search, 8, "units", lambda units: 0.9 if units == 8 else 0.5)
    assert sorted(ran) == [4, 8, 16]


@pytest.mark.parametrize("kind", ["random", "bayesian"])
def test_a_stepped_float_default_is_the_grid_value_the_oracle_draws(kind: str, tmp_path: Path) -> None:
    """The baseline's dropout 0.3 is the 0.30000000000000004 the oracle draws as 0 + 3 * 0.1:
    the same configuration, not run again; the 9 values run once each."""
    search = ORACLES[kind]()
    search.max_trials = 12
    hp = kt.HyperParameters()
    hp.Float("dropout", 0.0, 0.8, step=0.1, default=0.3)
    search.hyperparameters = hp
    search._set_project_dir(str(tmp_path), "search")
    ran = _run_until_stopped(search, 12, "dropout", lambda dropout: 0.5 + dropout / 10)
    assert sorted(round(d, 6) for d in ran) == [round(i / 10, 6) for i in range(9)]


@pytest.mark.parametrize("kind", ["random", "bayesian"])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_search_stops_only_when_every_configuration_ran(kind: str, seed: int, tmp_path: Path) -> None:
    """KerasTuner gives up after 20 draws of tried values in a row: with one of 40
    configurations left it would stop early more often than not. The last ones are listed."""
    made = {"random": RandomOracle, "bayesian": BayesianOracle}[kind]
    search = made(objective=OBJECTIVE, max_trials=60, seed=seed)
    hp = kt.HyperParameters()
    hp.Boolean("wide", default=False)
    with hp.conditional_scope("wide", [True]):
        hp.Int("units", 1, 38, default=1)
    hp.Choice("act", ["relu"], default="relu")
    search.hyperparameters = hp
    search._set_project_dir(str(tmp_path), "search")
    ran = _run_until_stopped(search, 60, "wide", lambda wide: 0.5)
    assert len(ran) == 39
    assert search.space_spent


def test_a_continuous_space_is_not_listed() -> None:
    hp = kt.HyperParameters()
    hp.Float("learning_rate", 1e-4, 1e-1, sampling="log")
    assert listed_values(hp) is None
    hp = kt.HyperParameters()
    hp.Int("units", 1, 10_000)
    hp.Choice("act", ["relu", "gelu"])
    assert listed_values(hp, limit=10_000) is None
    hp = kt.HyperParameters()
    hp.Int("units", 16, 512, sampling="log")  # any int between, not 10 of them
    assert listed_values(hp) is None
    hp = kt.HyperParameters()
    hp.Int("units", 1, 10**12, step=1)  # listed whole, its values would take hours and terabytes
    assert listed_values(hp) is None


def test_a_listed_space_holds_each_active_configuration_once() -> None:
    hp = kt.HyperParameters()
    hp.Boolean("augment", default=False)
    with hp.conditional_scope("augment", [True]):
        hp.Float("shift", 0.0, 0.1, step=0.05)
    hp.Int("filters", 16, 64, step=2, sampling="log")
    hp.Fixed("blocks", 2)
    listed = listed_values(hp)
    assert listed is not None and len(listed) == (1 + 3) * 3
    assert {"augment": False, "filters": 32, "blocks": 2} in listed
    assert all(isinstance(v["filters"], int) for v in listed)
    assert sum(1 for v in listed if "shift" in v) == 9


def _ended(search: kt.Oracle, trial: kt.engine.trial.Trial, score: float | None) -> None:
    """The trial completed with ``score``, or failed (None)."""
    if score is not None:
        search.update_trial(trial.trial_id, {"val_accuracy": score})
    trial.status = "COMPLETED" if score is not None else "FAILED"
    search.end_trial(trial)


def _choice_oracle(folder: Path, values: list[float]) -> HyperbandOracle:
    search = HyperbandOracle(objective=OBJECTIVE, max_epochs=9, factor=3, seed=3)
    hp = kt.HyperParameters()
    hp.Choice("dropout", values, default=values[0])
    search.hyperparameters = hp
    search._set_project_dir(str(folder), "search")
    return search


def test_hyperband_trains_on_the_best_of_a_space_spent_before_its_first_round_is_full(tmp_path: Path) -> None:
    """Three configurations (one fails) where the first bracket's first round wants nine:
    KerasTuner's own oracle stopped with each at 1 epoch; the best now trains on to 9."""
    search = _choice_oracle(tmp_path, [0.1, 0.2, 0.3])
    first = []
    for score in (0.5, None, 0.7):
        first.append(search.create_trial("tuner0"))
        _ended(search, first[-1], score)
    assert [t.hyperparameters.values["tuner/epochs"] for t in first] == [1, 1, 1]
    best = first[2]
    for epochs, initial in ((3, 1), (9, 3)):
        trial = search.create_trial("tuner0")
        assert trial.status == "RUNNING"
        assert trial.hyperparameters.values["dropout"] == best.hyperparameters.values["dropout"]
        assert trial.hyperparameters.values["tuner/epochs"] == epochs
        assert trial.hyperparameters.values["tuner/initial_epoch"] == initial
        _ended(search, trial, 0.8)
    assert search.create_trial("tuner0").status == "STOPPED"
    search.save()
    again = _choice_oracle(tmp_path, [0.1, 0.2, 0.3])
    again.reload()
    assert again.create_trial("tuner0").status == "STOPPED"
