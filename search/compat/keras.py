"""Keras' private internals, in one place: the weights store ``save_weights`` writes a
``.weights.h5`` file through, here given a buffer in memory instead of a path."""

from __future__ import annotations

import importlib
import io
from types import ModuleType
from typing import Any

from search.compat._versions import within

SAVING_LIB = "keras.src.saving.saving_lib"

KERAS_TESTED = (">=3.15", "<3.16")
"""The Keras versions this adapter is tested with (pip specifiers): on another one,
:func:`weights_file` leaves the write to Keras' own ``save_weights``."""
DISTRIBUTIONS = ("keras",)


def _import_saving_lib() -> ModuleType | None:
    """Keras' saving internals (None: a Keras that moved them)."""
    try:
        return importlib.import_module(SAVING_LIB)
    except ImportError:
        return None


saving_lib = _import_saving_lib()


def check_version() -> bool:
    """Whether the installed Keras is a tested one (:data:`KERAS_TESTED`) that has the
    weights store and the state writer this adapter uses (else :func:`weights_file` returns
    None: checkpoints are then written by ``save_weights``, as Keras itself writes them)."""
    return (
        within(DISTRIBUTIONS, KERAS_TESTED)
        and hasattr(saving_lib, "H5IOStore")
        and hasattr(saving_lib, "_save_state")
    )


def weights_file(model: Any) -> bytes | None:
    """The ``.weights.h5`` file ``model.save_weights`` would write, built in memory: HDF5
    then never writes to a disk that can fail it (a write it cannot make, on a full disk or
    past a file-size limit, can crash the process as HDF5 closes the file). None on a Keras
    this adapter is not tested with (:func:`check_version`): write the file with
    ``save_weights``."""
    if saving_lib is None or not check_version() or not getattr(model, "built", False):
        return None  # (an unbuilt model: save_weights says why)
    buffer = io.BytesIO()
    try:
        store = saving_lib.H5IOStore(buffer, mode="w")
    except TypeError:  # a Keras whose store takes only paths
        return None
    saving_lib._save_state(model, store, None, "", set())
    store.close()
    return buffer.getvalue()
