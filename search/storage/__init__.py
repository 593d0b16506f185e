"""The on-disk results format shared by every backend."""

from search.storage._atomic import replace_synced, utc_now, write_atomic, write_json
from search.storage._finalists import FINALISTS_DIR, FinalistFiles, trained_epochs, trained_seconds
from search.storage._lock import ENDED, LOCK_FD_ENV, STOPPED, RunLock, lock_holder, run_state
from search.storage._run import (
    ARRAYS_DIR,
    EXPORT_FILE,
    FORMAT_VERSION,
    RUN_FILE,
    RunFolder,
    damaged_file,
    enclosing_run,
    find_runs,
    not_a_run,
    owning_run,
    prepare_run_folder,
    status_counts,
)
from search.storage._schema import (
    BudgetMeta,
    DataMeta,
    ObjectiveMeta,
    OptunaMeta,
    RunMeta,
    SpaceMeta,
    tracked_objective,
)
from search.storage._urls import MASK, is_masked, masked_url, same_storage
from search.storage._writable import check_writable

__all__ = [
    "ARRAYS_DIR",
    "ENDED",
    "EXPORT_FILE",
    "FINALISTS_DIR",
    "FORMAT_VERSION",
    "LOCK_FD_ENV",
    "MASK",
    "RUN_FILE",
    "STOPPED",
    "BudgetMeta",
    "DataMeta",
    "FinalistFiles",
    "ObjectiveMeta",
    "OptunaMeta",
    "RunFolder",
    "RunLock",
    "RunMeta",
    "SpaceMeta",
    "check_writable",
    "damaged_file",
    "enclosing_run",
    "find_runs",
    "is_masked",
    "lock_holder",
    "masked_url",
    "not_a_run",
    "owning_run",
    "prepare_run_folder",
    "replace_synced",
    "run_state",
    "same_storage",
    "status_counts",
    "tracked_objective",
    "trained_epochs",
    "trained_seconds",
    "utc_now",
    "write_atomic",
    "write_json",
]
