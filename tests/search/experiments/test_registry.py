"""Experiments: a user's own, made with ``search.Experiment.from_hypermodel``."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import search
from search.errors import SearchError
from tests import user_models as um


def _data() -> search.Data:
    return search.Data(*um.tiny_data())


@pytest.mark.parametrize(
    ("keyword", "value", "match"),
    [
        ("name", 5, r"^name \(5\): give the experiment's name as a str, e.g. 'mnist'$"),
        ("data", _data(), r"^data \(a search.Data\): give a function that returns"
         r" search.Data\(x, y, \.\.\.\), called once per process, e.g. data=load where def load\(\):"
         r" return search.Data\(x, y\)$"),
        ("max_trials", 0, r"^max_trials \(0\) must be at least 1$"),
        ("max_trials", 2.5, r"^max_trials \(2.5\) must be a whole number$"),
        ("max_epochs", "3", r"^max_epochs \('3'\) must be a whole number$"),
        ("max_epochs", None, r"^max_epochs \(None\) must be a whole number$"),
    ],
)
def test_from_hypermodel_refuses_what_a_run_could_not_take_at_once(
    keyword: str, value: Any, match: str
) -> None:
    """Not a TypeError once the run calls data, nor trials that fail on a max_epochs of '3',
    nor max_trials 0 taken for the default."""
    given: dict[str, Any] = {"name": "mine", "hypermodel": um.build, "data": _data, keyword: value}
    with pytest.raises(SearchError, match=match):
        search.Experiment.from_hypermodel(**given)


def test_from_hypermodel_takes_numpy_numbers() -> None:
    experiment = search.Experiment.from_hypermodel("mine", um.build, _data, max_trials=np.int64(2))
    assert experiment.budgets["random"] == (2, 6)


def test_built_in_as_finds_the_very_object_only(monkeypatch: pytest.MonkeyPatch) -> None:
    get, built_in_as = search.experiments.get, search.experiments.built_in_as
    assert built_in_as(get("fashion")) == ("fashion", None)
    assert built_in_as(get("images", "transfer")) == ("images", "transfer")
    assert built_in_as(get("images")) == ("images", "cnn")
    look_alike = search.Experiment.from_hypermodel("fashion", um.build, lambda: search.Data(*um.tiny_data()))
    assert built_in_as(look_alike) is None
    monkeypatch.setattr(search.experiments._registry, "_EXPERIMENTS", {})
    search.experiments.register(look_alike)  # in this process only
    assert get("fashion") is look_alike
    assert built_in_as(look_alike) is None
