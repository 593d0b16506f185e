"""The ranking rule, in one place for the engine, the tuners and the report.

A trial is judged on its converged epochs (the mean of the last few): among the trials
whose converged validation accuracy is within a tolerance of the best, the one that
overfits least comes first. Any other objective ranks by its own best value.
"""

from search.ranking._rule import (
    ACCURACY_OBJECTIVES,
    CHOSE,
    RULE,
    TOLERANCE,
    Choice,
    Ranking,
    ValueChoice,
    against_baseline,
    against_baseline_by_value,
    baseline_row,
    choose,
    overfitting,
    pareto_mask,
    rank_run,
    rank_trials,
)
from search.ranking._table import (
    CONVERGED_EPOCHS,
    HP_PREFIX,
    METRIC_COLUMNS,
    converged_metrics,
    full_history,
    hp_columns,
    trials_table,
)

__all__ = [
    "ACCURACY_OBJECTIVES",
    "CHOSE",
    "CONVERGED_EPOCHS",
    "HP_PREFIX",
    "METRIC_COLUMNS",
    "RULE",
    "TOLERANCE",
    "Choice",
    "Ranking",
    "ValueChoice",
    "against_baseline",
    "against_baseline_by_value",
    "baseline_row",
    "choose",
    "converged_metrics",
    "full_history",
    "hp_columns",
    "overfitting",
    "pareto_mask",
    "rank_run",
    "rank_trials",
    "trials_table",
]
