"""The tuner's hooks as observers see them: when each is called, in a real search."""

from __future__ import annotations

from pathlib import Path

import search
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
