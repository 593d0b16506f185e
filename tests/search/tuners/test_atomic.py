"""KerasTuner's files written atomically: a best-epoch checkpoint on a disk that fills up."""

from __future__ import annotations

import errno
import subprocess
import sys
from pathlib import Path

ROOM = 8192
"""Bytes the simulated disk takes of a checkpoint: its header, not its weights."""

_FULL_DISK = f"""
import errno, io, os, sys
import h5py, keras
from search.tuners._atomic import save_weights_atomic

class FullDisk(io.FileIO):
    def write(self, data):
        if self.tell() + len(data) > {ROOM}:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return super().write(data)

opened = h5py.File
h5py.File = lambda name, mode="r", **kw: opened(FullDisk(name, "w+b") if mode == "w" else name, mode, **kw)
model = keras.Sequential([keras.Input((100,)), keras.layers.Dense(1000)])
try:
    save_weights_atomic(model, os.path.join(sys.argv[1], "checkpoint.weights.h5"))
except OSError as exc:
    caught = exc  # held to the end, as the engine's exception chain holds it
    print(exc.errno, exc.filename)
print("open", len(h5py.h5f.get_obj_ids(types=h5py.h5f.OBJ_FILE)))
"""


def test_a_checkpoint_on_a_full_disk_leaves_no_file_open(tmp_path: Path) -> None:
    """A disk that fills while the checkpoint's weights are written: the error names the
    checkpoint, nothing is left behind or open, and the process exits normally (an HDF5 file
    left open was flushed again at exit, and the process died of a segmentation fault)."""
    result = subprocess.run(
        [sys.executable, "-c", _FULL_DISK, str(tmp_path)], capture_output=True, text=True, timeout=300
    )
    target = tmp_path / "checkpoint.weights.h5"
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.splitlines() == [f"{errno.ENOSPC} {target}", "open 0"]
    assert "Exception ignored" not in result.stderr
    assert list(tmp_path.iterdir()) == []


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
