"""Crash-safe replacement of a run's files: what is synced, and in which order."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from search.storage import replace_synced, write_atomic


def _record_syncs(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The inode of everything ``os.fsync`` is given from now on."""
    synced: list[int] = []
    real = os.fsync

    def fsync(fd: int) -> None:
        synced.append(os.fstat(fd).st_ino)
        real(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    return synced


def test_a_replaced_file_is_synced_then_its_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the folder's sync, a power cut after the rename may bring back the old file
    (or none) although the new one was synced."""
    target, staged = tmp_path / "best_model.keras", tmp_path / ".best_model.tmp.keras"
    target.write_bytes(b"old")
    staged.write_bytes(b"new")
    file_inode = staged.stat().st_ino
    synced = _record_syncs(monkeypatch)
    replace_synced(staged, target)
    assert synced == [file_inode, tmp_path.stat().st_ino]
    assert target.read_bytes() == b"new" and not staged.exists()


def test_write_atomic_syncs_its_folder_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    synced = _record_syncs(monkeypatch)
    write_atomic(tmp_path / "run.json", b"{}")
    assert synced[-1] == tmp_path.stat().st_ino and len(synced) == 2


def test_a_staged_file_that_is_missing_leaves_the_target(tmp_path: Path) -> None:
    target = tmp_path / "best_model.keras"
    target.write_bytes(b"old")
    with pytest.raises(FileNotFoundError):
        replace_synced(tmp_path / ".gone.tmp.keras", target)
    assert target.read_bytes() == b"old"
