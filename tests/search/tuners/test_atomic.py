"""KerasTuner's files written atomically: a best-epoch checkpoint past a file-size limit or
on a disk that fills up."""

from __future__ import annotations

import errno
import subprocess
import sys
from pathlib import Path

ROOM = 8192
"""Bytes a file may grow to (``ulimit -f``): a checkpoint's header, not its weights."""

_FILE_SIZE_LIMIT = f"""
import errno, os, resource, signal, sys
import h5py, keras
from search.tuners._atomic import save_weights_atomic

signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit then fails (EFBIG)
resource.setrlimit(resource.RLIMIT_FSIZE, ({ROOM}, {ROOM}))
model = keras.Sequential([  # fashion's CNN, small: HDF5 crashed on its groups, not on one layer's
    keras.Input((28, 28, 1)), keras.layers.Conv2D(16, 3), keras.layers.BatchNormalization(),
    keras.layers.Flatten(), keras.layers.Dense(128), keras.layers.Dense(10),
])
try:
    save_weights_atomic(model, os.path.join(sys.argv[1], "checkpoint.weights.h5"))
except OSError as exc:
    caught = exc  # held to the end, as the engine's exception chain holds it
    print(exc.errno, exc.filename)
print("open", len(h5py.h5f.get_obj_ids(types=h5py.h5f.OBJ_FILE)))
"""


def test_a_checkpoint_past_the_file_size_limit_leaves_no_file_open(tmp_path: Path) -> None:
    """A file-size limit the checkpoint's header already passes: the error names the
    checkpoint, nothing is left behind or open, and the process exits normally (HDF5,
    writing the file itself, died of a segmentation fault as the file was closed)."""
    result = subprocess.run(
        [sys.executable, "-c", _FILE_SIZE_LIMIT, str(tmp_path)], capture_output=True, text=True,
        timeout=300,
    )  # fmt: skip
    target = tmp_path / "checkpoint.weights.h5"
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.splitlines() == [f"{errno.EFBIG} {target}", "open 0"]
    assert "Exception ignored" not in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_checkpoint_reloads_as_keras_saved_it(tmp_path: Path) -> None:
    """The checkpoint built in memory is the file ``save_weights`` writes: it loads."""
    import keras
    import numpy as np

    from search.tuners._atomic import save_weights_atomic

    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    target = tmp_path / "checkpoint.weights.h5"
    save_weights_atomic(model, str(target))
    again = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    again.load_weights(str(target))
    assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), again.get_weights()))
    assert list(tmp_path.iterdir()) == [target]


H5_CLOSE_ERROR = (
    "Can't decrement id ref count (file write failed: time = Sun Dec  6 09:00:00 2026\n,"
    " filename = '{tmp}', file descriptor = 7, errno = 28, error message = 'No space left on"
    " device', buf = 0x1, total write size = 4096, bytes this sub-write = 4096, bytes actually"
    " written = 18446744073709551615, offset = 0)"
)
"""What h5py raises where the disk fills as Keras closes the weights file: a RuntimeError."""


class _ClosesOnAFullDisk:
    """A model whose ``save_weights`` writes part of the file, then fails as h5py does."""

    def save_weights(self, name: str) -> None:
        Path(name).write_bytes(b"\0" * 4096)
        raise RuntimeError(H5_CLOSE_ERROR.format(tmp=name))


def test_a_full_disk_h5py_reports_as_a_runtime_error_is_the_environments(tmp_path: Path) -> None:
    """It was a trial's failure (or an unexpected error), not a resumable stop."""
    from search.environment import EnvironmentFailure, environment_error
    from search.tuners._atomic import save_weights_atomic

    target = tmp_path / "checkpoint.weights.h5"
    try:
        save_weights_atomic(_ClosesOnAFullDisk(), str(target))
    except OSError as exc:
        error = environment_error(exc)
    assert error is not None and (error.errno, error.filename) == (errno.ENOSPC, str(target))
    assert list(tmp_path.iterdir()) == []
    said = str(EnvironmentFailure(error, tmp_path))
    assert said.startswith(f"{target}: no space left on the device; free some space"), said
    assert environment_error(RuntimeError("Can't decrement id ref count (errno = 2)")) is None
