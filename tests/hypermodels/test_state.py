"""A trial's epoch state file: a damaged one is ignored, never a crash of the resume."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest

from hypermodels import read_arrays
from hypermodels._state import saved_epochs, state_damage


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


@pytest.mark.parametrize("damage", [b"", b"garbage, not an npz", "cut"])
def test_a_damaged_state_file_says_why(damage: bytes | str, tmp_path: Path) -> None:
    """A file there that cannot be read is damaged (a missing one is not: nothing saved yet)."""
    whole = _state_bytes()
    state = tmp_path / "epoch_state.npz"
    assert state_damage(state) is None
    state.write_bytes(whole)
    assert state_damage(state) is None
    state.write_bytes(whole[: len(whole) // 2] if damage == "cut" else damage)  # type: ignore[arg-type]
    reason = state_damage(state)
    assert reason and "\n" not in reason
