"""The search engine: a request in, a finished run folder out."""

from search.engine._records import TrialRecorder, active_values, best_epoch, failure_reason
from search.engine._request import OBJECTIVES, RunRequest
from search.engine._search import RunOutcome, run_search

__all__ = [
    "OBJECTIVES",
    "RunOutcome",
    "RunRequest",
    "TrialRecorder",
    "active_values",
    "best_epoch",
    "failure_reason",
    "run_search",
]
