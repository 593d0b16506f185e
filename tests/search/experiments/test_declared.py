"""The space a user's build declares, hyperparameters under a plain ``if`` included."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import keras
import keras_tuner as kt
import pytest

import search
from search.errors import SearchError
from search.experiments._declared import MAX_DECLARING_BUILDS, declared_with
from search.space import load_space
from tests import user_models as um


def layered(hp: kt.HyperParameters) -> keras.Model:
    """KerasTuner's tutorial shape: a number of layers, each with its own units, and a
    head that only a boolean's other value adds."""
    model = keras.Sequential([keras.Input((um.FEATURES,))])
    for i in range(hp.Int("layers", 1, 3)):
        model.add(keras.layers.Dense(hp.Int(f"units_{i}", 4, 16, step=4), activation="relu"))
    if hp.Boolean("head"):
        model.add(keras.layers.Dense(hp.Choice("head_units", [4, 8]), activation="relu"))
    model.add(keras.layers.Dense(3, activation="softmax"))
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


class Counted:
    """``build`` with the builds it was asked for counted."""

    def __init__(self, build: Callable[[kt.HyperParameters], keras.Model] = layered) -> None:
        self.build, self.calls = build, 0

    def __call__(self, hp: kt.HyperParameters) -> keras.Model:
        self.calls += 1
        return self.build(hp)


def test_fix_names_a_hyperparameter_a_plain_if_declares_and_the_trials_use_it(tmp_path: Path) -> None:
    """``fix={"layers": 3, "units_2": 12}`` was refused: units_2 is declared only once a
    build makes three layers, which the defaults (one) never do."""
    x, y = um.tiny_data()
    result = search.run(layered, x, y, fix={"layers": 3, "units_2": 12, "head_units": 8},
                        tuner="random", max_trials=2, max_epochs=1, retrain=False,
                        results=tmp_path / "r", quiet=True)  # fmt: skip
    assert (result.trials["hp_layers"] == 3).all()
    assert (result.trials["hp_units_2"] == 12).all()
    assert (result.trials["hp_head_units"] == 8).all()


def test_a_name_no_branch_declares_is_refused_after_a_bounded_number_of_builds(tmp_path: Path) -> None:
    counted = Counted()
    with pytest.raises(SearchError, match=r"^fix: 'units_9': not in the space \(it has \[.*'units_2'"):
        search.run(counted, *um.tiny_data(), fix={"units_9": 4}, results=tmp_path / "r", quiet=True)
    assert not (tmp_path / "r").exists()
    assert counted.calls <= 2 * MAX_DECLARING_BUILDS  # the space, then the space with fix
    assert counted.calls > 2


def test_names_the_defaults_declare_take_no_other_build() -> None:
    counted = Counted()
    declared_with(counted, None, {})
    alone = counted.calls
    declared_with(counted, None, {"layers": 2, "units_0": 8})
    assert counted.calls - alone == alone


def test_a_branch_whose_build_fails_is_passed_over_for_the_next(tmp_path: Path) -> None:
    """The head's build fails with three layers: the name is still reached with one."""
    def fragile(hp: kt.HyperParameters) -> keras.Model:
        if hp.values.get("layers") == 3:
            raise ValueError("three layers do not fit")
        return layered(hp)

    space = declared_with(fragile, None, {"head_units": 8})
    assert "head_units" in space.names


def test_a_name_only_failing_builds_declare_stays_unknown() -> None:
    """Trials that reach it would fail: a value fixed for it would be fixed for nothing."""
    def failing(hp: kt.HyperParameters) -> keras.Model:
        model = layered(hp)
        if hp.get("layers") == 3:
            raise ValueError("three layers do not fit")
        return model

    assert "units_2" not in declared_with(failing, None, {"units_2": 8}).names


def test_a_space_file_may_redefine_a_hyperparameter_a_plain_if_declares(tmp_path: Path) -> None:
    toml = tmp_path / "mine.toml"
    toml.write_text('[units_2]\ntype = "int"\nlow = 8\nhigh = 32\nstep = 8\ndefault = 16\n')
    space = declared_with(layered, load_space(toml), {})
    assert (space["units_2"].low, space["units_2"].high, space["units_2"].default) == (8, 32, 16)


def test_a_space_file_giving_a_plain_if_name_a_condition_is_told_what_keras_tuner_sees(
    tmp_path: Path,
) -> None:
    toml = tmp_path / "mine.toml"
    toml.write_text(
        '[layers]\ntype = "choice"\nvalues = [1, 2, 3]\ndefault = 1\n\n'
        '[units_2]\ntype = "int"\nlow = 8\nhigh = 32\nstep = 8\ndefault = 16\n'
        "condition = { layers = [3] }\n"
    )
    with pytest.raises(SearchError, match=r"^.*mine.toml: units_2: layered declares it under a plain"
                       r" `if`, which KerasTuner sees as no condition, and the space file only when"
                       r" layers == 3; remove the condition of \[units_2\], or declare it in build"
                       r" inside `with hp.conditional_scope\(...\)`$"):  # fmt: skip
        declared_with(layered, load_space(toml), {})


def scoped_under_if(hp: kt.HyperParameters) -> keras.Model:
    """A conditional scope inside a plain ``if``: KerasTuner sees that scope's condition."""
    hp.Choice("kind", ["a", "b"])
    if hp.Boolean("extra"):
        with hp.conditional_scope("kind", ["b"]):
            hp.Int("z", 1, 3)
    return layered(hp)


def test_a_scope_under_a_plain_if_is_named_as_the_condition_keras_tuner_sees(tmp_path: Path) -> None:
    toml = tmp_path / "mine.toml"
    toml.write_text('[kind]\ntype = "choice"\nvalues = ["a", "b"]\ndefault = "a"\n\n'
                    '[z]\ntype = "int"\nlow = 1\nhigh = 3\ndefault = 1\ncondition = { kind = ["a"] }\n')
    with pytest.raises(SearchError, match=r'make it condition = \{ kind = "b" \} in \[z\]$'):
        declared_with(scoped_under_if, load_space(toml), {})


def test_a_hyperparameter_named_as_keras_tuner_names_its_own_is_refused(tmp_path: Path) -> None:
    """``hp.Int("tuner/epochs", ...)`` ran, Hyperband overwriting it and the results leaving
    it out: ``best_hyperparameters`` was {} for a model built with it."""
    def clashing(hp: kt.HyperParameters) -> keras.Model:
        model = keras.Sequential([
            keras.Input((um.FEATURES,)),
            keras.layers.Dense(hp.Int("tuner/epochs", 4, 8, step=4), activation="relu"),
            keras.layers.Dense(3, activation="softmax"),
        ])  # fmt: skip
        model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
        return model

    refused = r"^clashing: hyperparameter 'tuner/epochs': .* rename it, e\.g\. 'epochs'$"
    with pytest.raises(SearchError, match=refused):
        search.run(clashing, *um.tiny_data(), tuner="random", max_trials=1, max_epochs=1,
                   retrain=False, results=tmp_path / "r", quiet=True)  # fmt: skip
    assert not (tmp_path / "r").exists()
