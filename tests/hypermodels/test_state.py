"""A trial's epoch state file: a damaged one is ignored, never a crash of the resume."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest

from hypermodels import read_arrays
from hypermodels._state import saved_epochs


def _state_bytes() -> bytes:
    buffer = io.BytesIO()
    meta = np.frombuffer(json.dumps({"epochs": [0], "logs": [{"loss": 1.0}]}).encode(), "uint8")
    np.savez(buffer, m0=np.zeros(100), meta=meta)
    return buffer.getvalue()


def test_a_whole_state_file_is_read(tmp_path: Path) -> None:
    state = tmp_path / "epoch_state.npz"
    state.write_bytes(_state_bytes())
    arrays = read_arrays(state)
    assert arrays is not None and sorted(arrays) == ["m0", "meta"]
    assert saved_epochs(state) == [0]


@pytest.mark.parametrize("keep", [0.0, 0.5, 0.99])
def test_a_truncated_state_file_is_no_state(keep: float, tmp_path: Path) -> None:
    """A zero-byte or cut-short file (a copy of the run folder cut short) cannot be read."""
    whole = _state_bytes()
    state = tmp_path / "epoch_state.npz"
    state.write_bytes(whole[: int(len(whole) * keep)])
    assert read_arrays(state) is None
    assert saved_epochs(state) == []
