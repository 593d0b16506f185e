"""The ranking rule's words about the baseline, by another objective than accuracy."""

from __future__ import annotations

import pandas as pd

from search.ranking import ValueChoice
from search.ranking._rule import against_baseline_by_value, why_by_value


def _ranked(*rows: tuple[str, bool, float | None]) -> pd.DataFrame:
    return pd.DataFrame(
        [{"trial": t, "baseline": b, "objective": v, "rank": None if v is None else i}
         for i, (t, b, v) in enumerate(rows, 1)]
    )  # fmt: skip


def test_the_baseline_alone_completed_is_not_said_to_have_beaten_anything() -> None:
    choice = ValueChoice("0", "val_mae", 0.41, "lowest val_mae")
    alone = _ranked(("0", True, 0.41), ("1", False, None))
    assert against_baseline_by_value(alone, choice) == (
        "The baseline (the space's defaults, trial 0) was chosen: no sampled configuration"
        " completed to compare with its val_mae (0.41)."
    )
    beaten = _ranked(("0", True, 0.41), ("1", False, 0.52))
    assert "no sampled configuration beat its val_mae (0.41)" in against_baseline_by_value(beaten, choice)


def test_a_sampled_choice_is_compared_with_the_baseline_s_value() -> None:
    choice = ValueChoice("1", "val_mae", 0.33, "lowest val_mae")
    ranked = _ranked(("1", False, 0.33), ("0", True, 0.41))
    assert against_baseline_by_value(ranked, choice) == (
        "Against the baseline in the search (the space's defaults, trial 0): val_mae 0.41 -> 0.33."
    )
    assert against_baseline_by_value(_ranked(("1", False, 0.33)), choice) is None  # no baseline



def test_trials_without_epochs_say_how_their_fit_would_log_them() -> None:
    """A fit returning a float, a dict or a History of its own alike: the search sees epochs
    only through the callbacks it gives fit."""
    frame = pd.DataFrame({"trial": ["0", "1"], "status": ["completed"] * 2, "epochs": [0, 0],
                          "converged_val_accuracy": [float("nan")] * 2})  # fmt: skip
    assert why_by_value(frame, "val_accuracy") == (
        "ranked by val_accuracy alone: the trials logged no epochs (their fit called none of the"
        " callbacks it is given; pass them to model.fit for per-epoch records), so there is no"
        " train/validation gap to judge"
    )
