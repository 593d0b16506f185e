"""Choosing the run's trial, and saying why there is none."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import keras_tuner as kt
import pytest

import search
from search.errors import SearchError
from tests import user_models as um


class Buggy(kt.HyperModel):
    """A fit with a bug its user fixes between two runs of the same script (``bug``)."""

    bug = True

    def build(self, hp: kt.HyperParameters) -> Any:
        return um.build(hp)

    def fit(self, hp: kt.HyperParameters, model: Any, *args: Any, **kwargs: Any) -> Any:
        if Buggy.bug:
            raise ValueError("a bug in my fit")
        return model.fit(*args, **kwargs)


def test_a_rerun_whose_budget_earlier_failures_spent_says_nothing_ran_now(tmp_path: Path) -> None:
    x, y = um.tiny_data()
    options = {"tuner": "random", "max_trials": 2, "max_epochs": 1, "results": tmp_path,
               "name": "r", "retrain": False, "quiet": True}  # fmt: skip
    with pytest.raises(SearchError, match=r"^no trial completed \(2x ValueError: a bug in my fit\); see"):
        search.run(Buggy(), x, y, **options)
    Buggy.bug = False  # fixed, and the same script run again
    try:
        with pytest.raises(SearchError, match=r"^no trial completed: the run's 2 trials failed before"
                           r" this process went on with it \(2x ValueError: a bug in my fit\), which ran"
                           r" none \(failed trials count against the run's budget\); search again under"
                           r" another name, or delete "):  # fmt: skip
            search.run(Buggy(), x, y, **options)
    finally:
        Buggy.bug = True
