"""Whether a run's tuner state is there to continue from, before a resume starts any work.

Without it the tuner starts its search over, hands out the finished trials' ids again and
their records in trials.json would be overwritten. KerasTuner's oracles keep their state in
``tuner/oracle.json``; the Optuna backend's lives in its study (the run's ``optuna.journal``
by default), from which its oracle takes up the count and the trial numbers again.
"""

from __future__ import annotations

import shlex
from pathlib import Path

from search.errors import RunFolderError, option
from search.storage import RunFolder
from search.tuners.optuna import JOURNAL_FILE

ORACLE_FILE = "oracle.json"
OPTUNA = "optuna"


def missing_state(folder: RunFolder, tuner: str, storage: str | None) -> Path | None:
    """The file the tuner ``tuner`` needs to continue the run in ``folder``, if it is missing."""
    if tuner == OPTUNA:
        if storage is not None:  # a database: the study is loaded by name
            return None
        needed = folder.path / JOURNAL_FILE
    else:
        needed = folder.tuner_dir / ORACLE_FILE
    return None if needed.is_file() else needed


def check_state_present(folder: RunFolder, tuner: str, storage: str | None) -> None:
    """Raise RunFolderError, naming the missing file and the way out, when trials.json holds
    finished trials but the tuner's state to continue after them is gone.

    Args:
        folder: the run folder being resumed.
        tuner: the run's ``--tuner``: ``optuna`` needs its journal, the others ``tuner/oracle.json``.
        storage: Optuna's database URL; None: its journal in the run folder. A database is
            not checked here.

    Raises:
        RunFolderError: The state file is missing though trials finished (or trials.json is
            damaged).
    """
    finished = [r for r in folder.read_trials() if r.get("status") != "running"]
    if not finished:
        return
    needed = missing_state(folder, tuner, storage)
    if needed is None:
        return
    raise RunFolderError(
        f"{needed}: missing, so the tuner would start over and run the {len(finished)} finished"
        " trials again, overwriting their records. They are still in trials.json:"
        f" `python -m search report {shlex.quote(str(folder.path))}` reads them. To search on,"
        f" start a new run with another {option('name')} (this run's folder is left as it is)."
    )
