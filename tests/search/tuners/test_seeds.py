"""Seeds derived from the run's stay within what the generators take."""

from __future__ import annotations

from pathlib import Path

import pytest

import search
from search.tuners import offset_seed
from search.tuners._keras_tuner import oracle_seed
from tests import user_models as um

LARGEST = 2**32 - 1
"""The largest --seed: NumPy's generators take no larger."""


def test_a_derived_seed_wraps_past_the_largest() -> None:
    assert offset_seed(LARGEST, 1) == 0 and offset_seed(5, 1000) == 1005
    assert oracle_seed(0) == 1 and oracle_seed(LARGEST) == 1 and oracle_seed(LARGEST - 1) == LARGEST


@pytest.mark.parametrize("tuner", ["bayesian", "optuna"])
def test_the_largest_seed_searches(tmp_path: Path, tuner: str) -> None:
    """bayesian failed with 'unexpected ValueError: Seed must be between 0 and 2**32 - 1'
    (its oracle's seed is one more); Optuna's later samplers added trial numbers."""
    x, y = um.tiny_data()
    run = search.run(um.build, x, y, tuner=tuner, seed=LARGEST, max_trials=3, max_epochs=1,
                     results=tmp_path, retrain=False, quiet=True)  # fmt: skip
    assert list(run.trials["status"]) == ["completed"] * 3
