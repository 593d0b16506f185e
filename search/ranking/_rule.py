"""The ranking rule: accurate enough first, then the least overfitting (train above
validation)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

CHOSE = "Chose trial "
"""How a choice's sentence begins (``Chose trial 3: ...``), before the trial's id."""


TOLERANCE = 0.005
"""The rule's default tolerance (``--tolerance``): a converged validation accuracy this
close to the best one counts as accurate enough."""


def overfitting(gap: float) -> float:
    """How much a trial overfits: its train-val accuracy gap, 0 where train is not above.

    A negative gap comes from dropout and augmentation being on while training accuracy is
    measured; being further below validation is no merit. The ranking rule, the Pareto
    front and Optuna's ``--objective pareto`` all judge this, not the raw gap.

    Args:
        gap: converged train minus validation accuracy.

    Returns:
        The gap where positive, else 0.0; NaN for a NaN or infinite gap.
    """
    return max(float(gap), 0.0) if math.isfinite(gap) else math.nan


def rank_trials(frame: pd.DataFrame, tolerance: float = TOLERANCE) -> pd.DataFrame:
    """``frame`` sorted by the rule, with ``rank``, ``within_tolerance`` and ``pareto`` columns.

    Trials whose converged validation accuracy is within ``tolerance`` of the best come
    first, by least :func:`overfitting`; then the rest, by accuracy. Ties go to the higher
    accuracy, then the earlier trial. Only completed trials are ranked: failed, pruned and
    running ones never converged.

    Args:
        frame: a :func:`trials_table` (its ``status``, ``converged_val_accuracy`` and
            ``gap_accuracy`` columns are used).
        tolerance: how far below the best converged validation accuracy is accurate enough.

    Returns:
        A new table, reindexed from 0; ``rank`` is 1, 2, ... for completed trials with a
        converged accuracy, NaN for the others (last).

    Raises:
        ValueError: ``tolerance`` is negative.
    """
    if tolerance < 0:
        raise ValueError(f"tolerance ({tolerance}) must be at least 0")
    frame = frame.copy()
    acc = frame["converged_val_accuracy"].astype(float)
    gap = frame["gap_accuracy"].astype(float)
    scored = acc.notna() & (frame["status"] == "completed")
    best = acc[scored].max() if scored.any() else math.nan  # pruned trials never set the bar
    frame["within_tolerance"] = scored & (acc >= best - tolerance - 1e-12)
    frame["pareto"] = pareto_mask(acc.where(scored).to_numpy(), gap.to_numpy())
    frame["_group"] = np.where(frame["within_tolerance"], 0, np.where(scored, 1, 2))
    overfit = gap.clip(lower=0.0).fillna(math.inf)
    frame["_gap"] = np.where(frame["within_tolerance"], overfit, 0.0)
    frame["_acc"] = -acc.fillna(-math.inf)
    frame["_order"] = range(len(frame))
    frame = frame.sort_values(["_group", "_gap", "_acc", "_order"], kind="stable")
    frame["rank"] = [i + 1 if g < 2 else math.nan for i, g in enumerate(frame["_group"])]
    return frame.drop(columns=["_group", "_gap", "_acc", "_order"]).reset_index(drop=True)


def pareto_mask(acc: np.ndarray, gap: np.ndarray) -> np.ndarray:
    """True for trials no other trial beats on both (higher accuracy, less overfitting).

    Gaps are judged as :func:`overfitting`: two trials below 0 overfit equally (0).

    Args:
        acc: each trial's converged validation accuracy (NaN: not judged).
        gap: each trial's accuracy gap, in the same order (NaN: not judged).

    Returns:
        A boolean array, one per trial; False for a trial with a NaN or infinite value.
    """
    acc, gap = np.asarray(acc, float), np.clip(np.asarray(gap, float), 0.0, None)
    valid = np.isfinite(acc) & np.isfinite(gap)
    mask = np.zeros(len(acc), dtype=bool)
    for i in np.flatnonzero(valid):
        others = valid & ((acc >= acc[i]) & (gap <= gap[i])) & ((acc > acc[i]) | (gap < gap[i]))
        mask[i] = not others.any()
    return mask


@dataclass(frozen=True)
class Choice:
    """The configuration the rule keeps, and how it compares with the most accurate one."""

    trial: str
    val_accuracy: float
    gap: float
    best_trial: str
    best_val_accuracy: float
    best_gap: float
    tolerance: float

    def sentence(self) -> str:
        """The choice in a line; its accuracies are converged ones (the mean of the epochs
        up to the best), not the best epoch's."""
        return f"{CHOSE}{self.trial}: {self.details()}"

    def details(self) -> str:
        """The chosen trial's scores, e.g. "converged val acc 0.921 (best 0.924), gap 0.012
        vs 0.048"."""
        if self.trial == self.best_trial:
            return f"converged val acc {self.val_accuracy:.3f} (the best), gap {self.gap:.3f}"
        return (
            f"converged val acc {self.val_accuracy:.3f} (best {self.best_val_accuracy:.3f}),"
            f" gap {self.gap:.3f} vs {self.best_gap:.3f}"
        )


def choose(ranked: pd.DataFrame, tolerance: float = TOLERANCE) -> Choice | None:
    """The rank-1 trial of a ranked table, compared with the most accurate one.

    Args:
        ranked: what :func:`rank_trials` returned.
        tolerance: the tolerance it ranked with, kept in the choice.

    Returns:
        The choice; None when no trial has a rank (none completed with a converged accuracy).
    """
    scored = ranked[ranked["rank"].notna()]
    if scored.empty:
        return None
    top = scored.iloc[0]
    best = scored.loc[scored["converged_val_accuracy"].astype(float).idxmax()]
    return Choice(
        trial=str(top["trial"]),
        val_accuracy=float(top["converged_val_accuracy"]),
        gap=float(top["gap_accuracy"]),
        best_trial=str(best["trial"]),
        best_val_accuracy=float(best["converged_val_accuracy"]),
        best_gap=float(best["gap_accuracy"]),
        tolerance=tolerance,
    )


def baseline_row(ranked: pd.DataFrame, chosen: str | None = None) -> pd.Series | None:
    """The ranked row that speaks for the baseline (the space's defaults): trial
    ``chosen`` where it is one of the baseline's runs (the rule may choose a shorter run of
    the defaults that overfits less), else its best converged run, as Hyperband may have
    continued it.

    Args:
        ranked: a ranked table (:func:`rank_trials`) with a ``baseline`` column.
        chosen: the chosen trial's id; None: none chosen.

    Returns:
        The row; None when the table has no ``baseline`` column or no ranked baseline run.
    """
    if "baseline" not in ranked:
        return None
    runs = ranked[ranked["baseline"].astype(bool) & ranked["rank"].notna()]
    if runs.empty:
        return None
    mine = runs[runs["trial"] == chosen]
    if not mine.empty:
        return mine.iloc[0]
    return runs.loc[runs["converged_val_accuracy"].astype(float).idxmax()]


def against_baseline(ranked: pd.DataFrame, choice: Choice | None) -> str | None:
    """How the chosen trial compares with the baseline (the space's defaults, run first).

    Args:
        ranked: a ranked table (:func:`rank_trials`) with a ``baseline`` column.
        choice: what :func:`choose` returned.

    Returns:
        One sentence: the differences in converged validation accuracy and gap in the
        search (not the final model's: the retrain or finalists may move both), or that the
        baseline itself was chosen; None when the run has no ranked baseline trial or nothing
        was chosen.
    """
    base = baseline_row(ranked, None if choice is None else choice.trial)
    if choice is None or base is None:
        return None
    acc, gap = float(base["converged_val_accuracy"]), float(base["gap_accuracy"])
    if bool(ranked.loc[ranked["trial"] == choice.trial, "baseline"].any()):
        sampled = ranked["rank"].notna() & ~ranked["baseline"].astype(bool)
        why = "beat it by the rule" if sampled.any() else "completed to compare it with"
        return (
            f"The baseline (the space's defaults, trial {base['trial']}) was chosen: no"
            f" sampled configuration {why} (val acc {acc:.3f}, gap {gap:.3f})."
        )
    return (
        f"Against the baseline in the search (the space's defaults, trial {base['trial']}):"
        f" converged val acc {choice.val_accuracy - acc:+.3f} ({acc:.3f} -> {choice.val_accuracy:.3f}),"
        f" gap {choice.gap - gap:+.3f} ({gap:.3f} -> {choice.gap:.3f})."
    )


def against_baseline_by_value(ranked: pd.DataFrame, choice: ValueChoice) -> str | None:
    """How the chosen trial's objective value compares with the baseline's (its best run,
    the first ranked).

    Args:
        ranked: a table ranked by value (with ``baseline`` and ``objective`` columns).
        choice: the trial chosen by its value.

    Returns:
        One sentence: the baseline's value and the chosen one's, or that the baseline itself
        was chosen; None when the table has no such columns or no baseline run has a rank.
    """
    if "baseline" not in ranked or "objective" not in ranked:
        return None
    runs = ranked[ranked["baseline"].astype(bool) & ranked["rank"].notna()]
    if runs.empty:
        return None
    base = runs.iloc[0]
    where = f"the space's defaults, trial {base['trial']}"
    if choice.trial in set(runs["trial"]):
        sampled = ranked["rank"].notna() & ~ranked["baseline"].astype(bool)
        why = "beat" if sampled.any() else "completed to compare with"
        return (
            f"The baseline ({where}) was chosen: no sampled configuration {why} its"
            f" {choice.objective} ({float(base['objective']):.4g})."
        )
    value = float(base["objective"])
    return (
        f"Against the baseline in the search ({where}): {choice.objective}"
        f" {value:.4g} -> {choice.value:.4g}."
    )


RULE = (
    "Ranking rule: among trials whose converged validation accuracy (mean of the last"
    " {epochs} up to the best one) is within {tol} of the best, the least overfitting wins"
    " (train minus validation accuracy, counted as 0 when train is not above validation),"
    " then the higher accuracy; the other trials follow by accuracy."
)


ACCURACY_OBJECTIVES = ("val_accuracy", "pareto")


@dataclass(frozen=True)
class ValueChoice:
    """The trial with the best objective value, when the rule cannot judge (another
    objective than accuracy, or trials that logged no epochs)."""

    trial: str
    objective: str
    value: float
    why: str

    @property
    def best_val_accuracy(self) -> float:
        return math.nan

    def sentence(self) -> str:
        return f"{CHOSE}{self.trial}: {self.details()}"

    def details(self) -> str:
        return f"{self.objective} {self.value:.4g} (the best; {self.why})"


def objective_values(trials: list[dict], objective: str) -> dict[str, float]:
    """Each trial's best value of ``objective`` (from its best epoch or its final report)."""
    out = {}
    for trial in trials:
        value = (trial.get("best") or {}).get(objective)
        if isinstance(value, (int, float)) and math.isfinite(value):
            out[str(trial["id"])] = float(value)
    return out


def why_by_value(frame: pd.DataFrame, objective: str) -> str | None:
    """Why the table is ranked by the objective alone; None when the rule applies."""
    if objective not in ACCURACY_OBJECTIVES:
        return f"ranked by {objective} alone; the gap rule judges accuracy"
    done = frame[frame["status"] == "completed"]
    if not done.empty and done["converged_val_accuracy"].astype(float).notna().any():
        return None
    if done.empty or (done["epochs"] > 0).any():
        return None
    return (
        "ranked by val_accuracy alone: the trials logged no epochs (their fit called none of the"
        " callbacks it is given; pass them to model.fit for per-epoch records), so there is no"
        " train/validation gap to judge"
    )


def rank_by_value(
    frame: pd.DataFrame, values: dict[str, float], direction: str
) -> pd.DataFrame:
    """``frame`` with an ``objective`` column, completed trials first, best value first."""
    frame = frame.copy()
    frame["objective"] = [values.get(str(t), math.nan) for t in frame["trial"]]
    scored = frame["objective"].notna() & (frame["status"] == "completed")
    sign = -1.0 if direction == "max" else 1.0
    frame["_key"] = np.where(scored, sign * frame["objective"].fillna(0.0), math.inf)
    frame["_order"] = range(len(frame))
    frame = frame.sort_values(["_key", "_order"], kind="stable")
    frame["rank"] = [i + 1 if s else math.nan for i, s in enumerate(scored[frame.index])]
    frame["within_tolerance"] = False
    frame["pareto"] = False
    return frame.drop(columns=["_key", "_order"]).reset_index(drop=True)


def choose_by_value(ranked: pd.DataFrame, objective: str, why: str) -> ValueChoice | None:
    scored = ranked[ranked["rank"].notna()]
    if scored.empty:
        return None
    top = scored.iloc[0]
    return ValueChoice(str(top["trial"]), objective, float(top["objective"]), why)


@dataclass(frozen=True)
class Ranking:
    """A run's trials ranked, the choice, and why the objective alone ranks them (if so)."""

    table: pd.DataFrame
    choice: Choice | ValueChoice | None
    by_value: str | None


def rank_run(
    trials: list[dict],
    table: pd.DataFrame,
    objective: str = "val_accuracy",
    direction: str = "max",
    tolerance: float = TOLERANCE,
) -> Ranking:
    """The ranking the engine chooses by and the report shows, for any objective.

    Args:
        trials: the run's trial records.
        table: their :func:`trials_table`.
        objective: the run's objective (``pareto`` ranks by the accuracy rule).
        direction: ``max`` or ``min``.
        tolerance: the rule's tolerance on converged validation accuracy.

    Returns:
        The ranked table, the choice and, when the rule does not apply, the reason.
    """
    why = why_by_value(table, objective)
    if why is None:
        ranked = rank_trials(table, tolerance)
        return Ranking(ranked, choose(ranked, tolerance), None)
    name = "val_accuracy" if objective in ACCURACY_OBJECTIVES else objective
    ranked = rank_by_value(table, objective_values(trials, name), direction)
    return Ranking(ranked, choose_by_value(ranked, name, why), why)
