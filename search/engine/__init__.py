"""The search engine: a request in, a finished run folder out."""

from search.engine._checkpoints import search_checkpoint
from search.engine._export import EXPORT_FILE, Export, ExportOptions, export_run
from search.engine._isolate import CHILD_ENV, LAUNCHED_ENV, MORE_TRIALS, drive_isolated
from search.engine._pipeline import RunContinues, RunOutcome, finish_cut_short, run_search
from search.engine._plan import Plan, plan
from search.engine._precision import policy_kept
from search.engine._predict import classify, classify_all, load_exported
from search.engine._records import TrialRecorder, active_values, best_epoch, failure_reason
from search.engine._request import (
    OBJECTIVES,
    RETRAIN_DATA,
    RETRAIN_FROM,
    RETRAIN_MAX_EPOCHS,
    RETRAIN_SCHEDULES,
    STORAGE_ENV,
    RunRequest,
    check_stored,
    check_warm_sources,
    stored_request,
)
from search.engine._saved import load_saved
from search.engine._worker import run_worker, spawn_workers, wait_workers

__all__ = [
    "CHILD_ENV",
    "EXPORT_FILE",
    "LAUNCHED_ENV",
    "MORE_TRIALS",
    "OBJECTIVES",
    "RETRAIN_DATA",
    "RETRAIN_FROM",
    "RETRAIN_MAX_EPOCHS",
    "RETRAIN_SCHEDULES",
    "STORAGE_ENV",
    "Export",
    "ExportOptions",
    "Plan",
    "RunContinues",
    "RunOutcome",
    "RunRequest",
    "TrialRecorder",
    "active_values",
    "best_epoch",
    "check_stored",
    "check_warm_sources",
    "classify",
    "classify_all",
    "drive_isolated",
    "export_run",
    "failure_reason",
    "finish_cut_short",
    "load_exported",
    "load_saved",
    "plan",
    "policy_kept",
    "run_search",
    "run_worker",
    "search_checkpoint",
    "spawn_workers",
    "stored_request",
    "wait_workers",
]
