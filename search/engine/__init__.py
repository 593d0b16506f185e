"""The search engine: a request in, a finished run folder out."""

from search.engine._export import Export, export_run
from search.engine._pipeline import RunContinues, RunOutcome, run_search, run_status
from search.engine._plan import Plan, plan
from search.engine._predict import classify, load_exported
from search.engine._records import TrialRecorder, active_values, best_epoch, failure_reason
from search.engine._request import OBJECTIVES, RETRAIN_DATA, STORAGE_ENV, RunRequest, stored_request
from search.engine._worker import run_worker, spawn_workers, wait_workers

__all__ = [
    "OBJECTIVES",
    "RETRAIN_DATA",
    "STORAGE_ENV",
    "Export",
    "Plan",
    "RunContinues",
    "RunOutcome",
    "RunRequest",
    "TrialRecorder",
    "active_values",
    "best_epoch",
    "classify",
    "export_run",
    "failure_reason",
    "load_exported",
    "plan",
    "run_search",
    "run_status",
    "run_worker",
    "spawn_workers",
    "stored_request",
    "wait_workers",
]
