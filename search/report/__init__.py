"""The HTML report: trials ranked by accuracy and train/validation gap, for every backend."""

from search.ranking import (
    Choice,
    Ranking,
    ValueChoice,
    against_baseline,
    choose,
    converged_metrics,
    full_history,
    overfitting,
    pareto_mask,
    rank_run,
    rank_trials,
    trials_table,
)
from search.report._data import (
    RunReport,
    best_so_far,
    choice_lines,
    describe_budget,
    describe_test,
    describe_training,
    load_report,
    tested_line,
    time_limit_words,
)
from search.report._importance import distributions, importance_inputs, param_importances
from search.report._write import default_output, report_lines, write_report

__all__ = [
    "Choice",
    "Ranking",
    "RunReport",
    "ValueChoice",
    "against_baseline",
    "best_so_far",
    "choice_lines",
    "choose",
    "converged_metrics",
    "default_output",
    "describe_budget",
    "describe_test",
    "describe_training",
    "distributions",
    "full_history",
    "importance_inputs",
    "load_report",
    "overfitting",
    "param_importances",
    "pareto_mask",
    "rank_run",
    "rank_trials",
    "report_lines",
    "tested_line",
    "time_limit_words",
    "trials_table",
    "write_report",
]
