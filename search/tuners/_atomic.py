"""KerasTuner's own files (oracle.json, tuner0.json, trial.json, the trials' best-epoch
checkpoints), written atomically.

KerasTuner 1.4.8 writes them in place (``open(path, "w")``, ``model.save_weights(path)``),
so a ``kill -9`` or a power cut during a write leaves a truncated oracle.json and a run
that cannot be resumed, or a truncated checkpoint that Hyperband cannot continue from and
``export`` cannot load. Every KerasTuner state file goes through
``keras_tuner.src.utils.save_json`` and every checkpoint through the ``SaveBestEpoch``
callback that ``Tuner.run_trial`` builds; this module routes both through a temporary
file, fsync and ``os.replace``. There is no public hook for either, hence the
replacement of that function and that class (both looked up at call time).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from keras_tuner.src import utils as kt_utils
from keras_tuner.src.engine import tuner_utils

from search.environment import named
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


class AtomicSaveBestEpoch(tuner_utils.SaveBestEpoch):
    """KerasTuner's best-epoch checkpoint callback; the weights go to a temporary file in
    the same folder (Keras wants the ``.weights.h5`` ending), then replace the checkpoint."""

    def _save_model(self) -> None:
        target = str(self.filepath)
        if "://" in target:
            super()._save_model()
            return
        path = Path(target)
        tmp = path.with_name(f".{path.name.removesuffix('.weights.h5')}.{os.getpid()}.tmp.weights.h5")
        try:
            self.model.save_weights(str(tmp))
            with open(tmp, "rb+") as handle:
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except OSError as exc:  # name the checkpoint, not the temporary file
            tmp.unlink(missing_ok=True)
            raise named(exc, path) from exc
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise


def install() -> None:
    """Make KerasTuner's state and checkpoint writes atomic (idempotent)."""
    kt_utils.save_json = save_json_atomic
    tuner_utils.SaveBestEpoch = AtomicSaveBestEpoch


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
