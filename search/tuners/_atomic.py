"""KerasTuner's own state files (oracle.json, tuner0.json, trial.json), written atomically.

KerasTuner 1.4.8 writes them in place (``open(path, "w")``), so a ``kill -9`` or a power
cut during a write leaves a truncated oracle.json and a run that cannot be resumed. Every
KerasTuner state file goes through ``keras_tuner.src.utils.save_json``; this module routes
it through our ``write_atomic`` (temporary file, fsync, ``os.replace``). There is no
public hook for this, hence the replacement of that one function.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from keras_tuner.src import utils as kt_utils

from search.errors import RunFolderError
from search.storage import write_atomic

_original_save_json = kt_utils.save_json


def save_json_atomic(path: str, obj: Any) -> str:
    """``keras_tuner.src.utils.save_json``, atomic for local paths."""
    if "://" in str(path):  # gs:// and other remote file systems: KerasTuner's own way
        return _original_save_json(path, obj)
    text = json.dumps(obj)
    write_atomic(Path(path), text.encode())
    return text


def install() -> None:
    """Make KerasTuner's state writes atomic (idempotent)."""
    kt_utils.save_json = save_json_atomic


def check_tuner_state(directory: Path) -> None:
    """Raise RunFolderError naming the first KerasTuner state file that is not valid JSON."""
    if not directory.is_dir():
        return
    for path in sorted(directory.rglob("*.json")):
        try:
            json.loads(path.read_text())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise RunFolderError(
                f"{path}: the tuner's saved state is damaged ({exc}), so the search cannot"
                " continue from it. Its finished trials are still in trials.json: `python -m"
                " search report` reads them. To search on, start a new run with another --name"
                " (this run's folder is left as it is)."
            ) from None
