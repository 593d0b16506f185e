"""Keras' private internals, in one place: the weights store ``save_weights`` writes a
``.weights.h5`` file through, here given a buffer in memory instead of a path."""

from __future__ import annotations

import io
from typing import Any

from keras.src.saving import saving_lib

KERAS_TESTED = (">=3.15", "<3.16")
"""The Keras versions this adapter is tested with (pip specifiers); :func:`check_version`
looks for the internals themselves, which older Keras 3 versions have too."""


def check_version() -> bool:
    """Whether Keras has the weights store and the state writer this adapter uses (on
    another Keras, :func:`weights_file` returns None: checkpoints are then written by
    ``save_weights``, as Keras itself writes them)."""
    return hasattr(saving_lib, "H5IOStore") and hasattr(saving_lib, "_save_state")


def weights_file(model: Any) -> bytes | None:
    """The ``.weights.h5`` file ``model.save_weights`` would write, built in memory: HDF5
    then never writes to a disk that can fail it (a write it cannot make, on a full disk or
    past a file-size limit, can crash the process as HDF5 closes the file). None where
    Keras' internals moved (:func:`check_version`): write the file with ``save_weights``."""
    if not check_version() or not getattr(model, "built", False):  # save_weights says why
        return None
    buffer = io.BytesIO()
    try:
        store = saving_lib.H5IOStore(buffer, mode="w")
    except TypeError:  # a Keras whose store takes only paths
        return None
    saving_lib._save_state(model, store, None, "", set())
    store.close()
    return buffer.getvalue()
