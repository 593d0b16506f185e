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
