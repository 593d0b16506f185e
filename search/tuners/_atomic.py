"""KerasTuner's own files (oracle.json, tuner0.json, trial.json, the trials' best-epoch
checkpoints), written atomically.

KerasTuner 1.4.8 writes them in place (``open(path, "w")``, ``model.save_weights(path)``),
so a ``kill -9`` or a power cut during a write leaves a truncated oracle.json and a run
that cannot be resumed, or a truncated checkpoint that Hyperband cannot continue from and
``export`` cannot load. :func:`install` routes both through a temporary file, fsync and
``os.replace`` (``search.compat.keras_tuner.patch``); the backends call it where they
create a tuner.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any

import h5py

from search.compat import keras as compat_keras
from search.compat import keras_tuner as compat_kt
from search.environment import environment_error, raise_naming
from search.errors import RunFolderError, option
from search.storage import replace_synced, write_atomic


def save_json_atomic(path: str, obj: Any) -> str:
    """KerasTuner's ``save_json(path, obj)``, atomic: the JSON text written."""
    text = json.dumps(obj)
    write_atomic(Path(path), text.encode())
    return text


def save_weights_atomic(model: Any, target: str) -> None:
    """A best-epoch checkpoint, built in memory and written atomically (HDF5 never writes
    the disk: one it cannot write can crash it); through a temporary file in the same
    folder (Keras wants the ``.weights.h5`` ending) where Keras' internals moved."""
    path = Path(target)
    data = compat_keras.weights_file(model)
    if data is not None:
        write_atomic(path, data)  # a failed write names the checkpoint
        return
    tmp = path.with_name(f".{path.name.removesuffix('.weights.h5')}.{os.getpid()}.tmp.weights.h5")
    before = _open_h5_files()
    try:
        model.save_weights(str(tmp))
        replace_synced(tmp, path)
    except OSError as exc:  # name the checkpoint, not the temporary file
        _close_h5_files(before)
        tmp.unlink(missing_ok=True)
        raise_naming(exc, path)
    except BaseException as exc:
        _close_h5_files(before)
        tmp.unlink(missing_ok=True)
        error = environment_error(exc)  # h5py says a full disk in a RuntimeError
        if error is not None:
            raise_naming(error, path)
        raise


def _open_h5_files() -> set[int]:
    """The identifiers of the HDF5 files this process holds open."""
    return {fid.id for fid in h5py.h5f.get_obj_ids(types=h5py.h5f.OBJ_FILE)}


def _close_h5_files(before: set[int]) -> None:
    """Close the HDF5 files opened since ``before`` (:func:`_open_h5_files`): Keras closes the
    file ``save_weights`` writes only when every write succeeded. One left open after a write
    failed (a full disk) holds its space, and is flushed again when the interpreter exits,
    which then dies of a segmentation fault instead of exiting with the run's code."""
    for fid in h5py.h5f.get_obj_ids(types=h5py.h5f.OBJ_FILE):
        if fid.id not in before:
            with contextlib.suppress(Exception):  # its last flush fails too, as its driver says
                h5py.File(fid).close()


def install() -> None:
    """Make KerasTuner's state and checkpoint writes atomic (checks KerasTuner's version;
    idempotent)."""
    compat_kt.patch(save_json_atomic, save_weights_atomic)


def check_tuner_state(directory: Path) -> None:
    """Raise RunFolderError naming the first KerasTuner state file that is not valid JSON.

    Args:
        directory: the run's ``tuner/`` folder, searched at every depth; missing: nothing to check.

    Raises:
        RunFolderError: A ``.json`` file in it is unreadable or not JSON (the run cannot resume).
    """
    if not directory.is_dir():
        return
    for path in sorted(directory.rglob("*.json")):
        try:
            json.loads(path.read_text())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise RunFolderError(
                f"{path}: the tuner's saved state is damaged ({exc}), so the search cannot"
                " continue from it. Its finished trials are still in trials.json: `python -m"
                f" search report` reads them. To search on, start a new run with another {option('name')}"
                " (this run's folder is left as it is)."
            ) from None
