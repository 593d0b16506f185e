"""The search engine: a request in, a finished run folder out."""

from search.engine._records import TrialRecorder, active_values, best_epoch, failure_reason
from search.engine._request import OBJECTIVES, RunRequest
from search.engine._search import RunOutcome, plan, run_search
from search.engine._worker import run_worker, spawn_workers, wait_workers

__all__ = [
    "OBJECTIVES",
    "RunOutcome",
    "RunRequest",
    "TrialRecorder",
    "active_values",
    "best_epoch",
    "failure_reason",
    "plan",
    "run_search",
    "run_worker",
    "spawn_workers",
    "wait_workers",
]
