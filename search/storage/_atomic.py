"""Crash-safe file writes: a temporary file, fsync, then an atomic rename."""

from __future__ import annotations

import json
import os
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from search.environment import raise_naming


def write_atomic(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` so that readers see the old or the new file, never half.

    Args:
        path: the file to write, in an existing folder; its permissions become 0644.
        data: its whole new content.

    Raises:
        OSError: The write failed; ``path`` is left as it was.
    """
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:  # no folder, or not writable: name the file, not a temporary one
        raise_naming(exc, path)
    try:
        os.fchmod(fd, 0o644)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError as exc:  # name the file being replaced, not none or the temporary one
        Path(tmp).unlink(missing_ok=True)
        raise_naming(exc, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _sync_folder(path.parent)


def replace_synced(staged: Path, target: Path) -> None:
    """Move a file written whole beside ``target`` over it, durably: ``staged`` synced,
    renamed, then the folder synced, so that a crash leaves the old file or the new one.

    Args:
        staged: the new content, in ``target``'s folder.
        target: the file it replaces.

    Raises:
        OSError: A sync or the rename failed; ``staged`` is left for the caller to remove.
    """
    with open(staged, "rb+") as handle:
        os.fsync(handle.fileno())
    os.replace(staged, target)
    _sync_folder(target.parent)


def _sync_folder(folder: Path) -> None:
    """Make the renames in ``folder`` durable."""
    dir_fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def write_json(path: Path, value: Any) -> None:
    """Write ``value`` as indented JSON, atomically.

    Args:
        path: the file to replace (see :func:`write_atomic`).
        value: what to store; NumPy scalars and paths are stored as numbers and text, NaN as ``NaN``.

    Raises:
        TypeError: ``value`` holds something else JSON cannot store.
    """
    text = json.dumps(value, indent=2, sort_keys=False, allow_nan=True, default=_default)
    write_atomic(path, (text + "\n").encode("utf-8"))


def _default(value: Any) -> Any:
    if hasattr(value, "item"):  # NumPy scalars
        return value.item()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot store {type(value).__name__} in JSON")


def utc_now() -> str:
    """The time now, as run.json and trials.json record it (UTC, to the second).

    Returns:
        ISO 8601 text with its offset, e.g. ``2026-01-31T12:00:00+00:00``.
    """
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
