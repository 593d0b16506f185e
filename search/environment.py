"""Failures of the machine, not of the configuration: a full disk, a file-size limit, a
folder without write permission, a read-only file system.

A trial that hits one is not a failed trial: the search stops with one line naming the
path and the fix, the trial stays resumable, and ``resume`` runs it again.
"""

from __future__ import annotations

import errno
import os
import re
from pathlib import Path
from typing import NoReturn

from search._text import resume_call
from search.errors import SearchError, option

FIXES = {
    errno.ENOSPC: "no space left on the device; free some space or move the run to a larger disk",
    errno.EDQUOT: "the disk quota is used up; free some space or raise the quota",
    errno.EFBIG: "file too large for the file-size limit (`ulimit -f`); raise the limit",
    errno.EACCES: "permission denied; make it writable for this user",
    errno.EPERM: "operation not permitted; make it writable for this user",
    errno.EROFS: "read-only file system; remount it writable or move the run to a writable disk",
}
"""What each environment errno means for the user, and the fix."""

_OUTPUT_FIXES = {
    errno.ENOSPC: "free some space there, or give a file on another disk",
    errno.EDQUOT: "free some space there, or give a file on another disk",
    errno.EFBIG: "raise the limit",
}
"""What to do where a file at the user's ``--output`` could not be written, by errno (else:
a folder that cannot be written)."""

SQLITE_DISK_REASONS = ("disk I/O error", "database or disk is full", "readonly database")
"""What SQLite says where the disk refused its write (a file-size limit, a full disk, a
read-only one, or a file or folder without write permission): its reason names no errno."""
SQLITE_DISK_FIX = (
    "make the file and its folder writable, free some space there, or raise the file-size limit"
    " (`ulimit -f`)"
)
"""The fix where SQLite says :data:`SQLITE_DISK_REASONS`."""

_H5_FILENAME = re.compile(r"filename = '([^']+)'")
"""Where h5py (Keras' weights files) names the file in its error message."""
_H5_ERRNO = re.compile(r"\berrno = (\d+)")
"""Where h5py names the system's error in a RuntimeError (a write failed as a file closed)."""


def environment_error(exc: BaseException) -> OSError | None:
    """The OSError caused by the environment (``FIXES``) in ``exc`` or what led to it."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno in FIXES:
            return current
        if isinstance(current, RuntimeError) and (error := _h5_os_error(current)) is not None:
            return error
        current = current.__cause__ or current.__context__
    return None


def _h5_os_error(exc: RuntimeError) -> OSError | None:
    """The environment's OSError an h5py RuntimeError reports (``errno = 28`` in its text:
    the disk filled as Keras closed a weights file), naming the file it names."""
    found = _H5_ERRNO.search(str(exc))
    if found is None or int(found.group(1)) not in FIXES:
        return None
    number, named = int(found.group(1)), _H5_FILENAME.search(str(exc))
    return OSError(number, os.strerror(number), named.group(1) if named else None)


def sqlite_disk_error(reason: str) -> bool:
    """Whether SQLite's ``reason`` is the disk refusing a write (:data:`SQLITE_DISK_REASONS`),
    not a URL or a file that is no database."""
    return any(said in reason for said in SQLITE_DISK_REASONS)


def error_path(error: OSError) -> str | None:
    """The file an OSError is about: its filename, or the one h5py names in its message."""
    if error.filename is not None:
        return str(error.filename)
    found = _H5_FILENAME.search(str(error))
    return found.group(1) if found else None


class EnvironmentFailure(SearchError, RuntimeError):
    """The search stopped because the machine could not write a file; resumable."""

    def __init__(self, error: OSError, run: Path | None = None, command: str | None = None) -> None:
        """``run``: the run folder to resume, ``command`` how (None: :func:`resume_call`'s
        command line)."""
        where = error_path(error) or (str(run) if run is not None else "a file")
        message = f"{where}: {FIXES.get(error.errno or 0, error.strerror)}"
        if run is not None:
            message += f"; then resume with: {command or resume_call(run, {})}"
        super().__init__(message)
        self.error = error


def raise_naming(exc: OSError, path: Path) -> NoReturn:
    """Raise ``exc`` naming ``path``, the file being written, rather than nothing (a failed
    ``write``) or the temporary file it was written through: a new OSError caused by
    ``exc``, or ``exc`` itself where it names ``path`` already (or has no errno)."""
    if exc.errno is None or exc.filename == str(path):
        raise exc
    raise OSError(exc.errno, exc.strerror or str(exc), str(path)) from exc


def output_failure(
    exc: BaseException, output: Path, what: str, given: bool, then: str = ""
) -> SearchError | None:
    """The error to raise for ``exc``, caught while ``what`` was written at ``output``: a
    full disk, a file-size limit or a folder that cannot be written there, said one way by
    every command that writes a file the user may name with ``--output``.

    Args:
        exc: the error caught (or one it led to).
        output: the file being written.
        what: what was written, e.g. "the report".
        given: the user gave ``output`` with ``--output``; else it is the run folder's own
            file, and the failure the environment's (named as a run's disk is).
        then: what the message ends with where ``given``, e.g. that nothing was written.

    Returns:
        A SearchError naming ``--output``, its value and the fix where ``given``; else an
        EnvironmentFailure naming ``output`` and the environment's fix; None where ``exc``
        is no failure of the environment (raise it as it is).
    """
    failure = environment_error(exc)
    if failure is None:
        return None
    number = failure.errno or 0
    if not given:
        return EnvironmentFailure(OSError(number, failure.strerror or os.strerror(number), str(output)))
    reason = FIXES[number].partition(";")[0]
    fix = _OUTPUT_FIXES.get(number, "give a file in a folder you can write to")
    return SearchError(
        f"{option('output')} {output}: {what} could not be written there ({reason}); {fix}"
        + (f"; {then}" if then else "")
    )
