"""Whether files can be written where the user asked, checked before any work starts."""

from __future__ import annotations

import errno
import tempfile
from pathlib import Path

from search.errors import SearchError


def check_writable(path: Path, label: str, fix: str, read_only_fix: str | None = None) -> None:
    """Raise SearchError unless files can be created in the folder ``path`` (made if missing).

    The nearest existing folder at or above ``path`` is tried with a temporary file, so a
    read-only file system, a missing permission and a path through a file are all found.
    ``label`` starts the message (e.g. "--results PATH"), ``fix`` says what to do.

    Args:
        path: the folder files will be written in; it need not exist (nothing is made here).
        label: what the user gave, starting the message.
        fix: what to do instead, ending the message.
        read_only_fix: what to do where the folder is on a read-only file system (a fix
            that changes permissions cannot work there); None: ``fix``.

    Raises:
        SearchError: The nearest existing folder is a file, or no file can be created in it.
    """
    existing = next(p for p in (path, *path.parents) if p.exists() or p == Path(p.anchor))
    if not existing.is_dir():
        raise SearchError(f"{label}: {existing} is a file, not a folder; {fix}")
    try:
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as exc:
        told = read_only_fix if exc.errno == errno.EROFS and read_only_fix is not None else fix
        raise SearchError(
            f"{label}: cannot write in {existing} ({exc.strerror or exc}); {told}"
        ) from None
