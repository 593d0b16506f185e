"""One process per run folder, enforced with an OS file lock that dies with its holder."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from types import TracebackType
from typing import Protocol

from search.errors import RunFolderError

LOCK_FD_ENV = "SEARCH_RUN_LOCK_FD"
"""Set by a process that holds a run's lock for the processes it starts (``--isolate``):
the descriptor, inherited by them, through which it holds the lock."""
_PID_BYTES = 64
"""The most bytes of the lock file read for its holder's PID."""


class RunFolderLike(Protocol):
    """Anything with the run folder's ``path`` (a RunFolder)."""

    path: Path


class RunLock:
    """An exclusive ``flock`` on ``<run>/.lock``; the file records the holder's PID.

    The kernel releases the lock when the process dies (even by ``kill -9``), so a lock
    file left behind by a dead process is simply taken over.
    """

    def __init__(self, run_dir: Path) -> None:
        self.path = run_dir / ".lock"
        self._fd: int | None = None
        self._inherited = False
        self.taken_over: int | None = None
        """PID of a dead process whose lock file this one took over, if any."""

    @property
    def fd(self) -> int | None:
        """The descriptor holding the lock (for the processes this one starts to inherit)."""
        return self._fd

    def acquire(self) -> None:
        inherited = self._inherited_fd()
        if inherited is not None:  # the parent holds the lock for this process
            self._fd, self._inherited = inherited, True
            return
        fd = open_lock_file(self.path)
        self._take(fd)
        previous = _read_pid(fd)
        if previous.isdigit() and int(previous) != os.getpid():
            self.taken_over = int(previous)
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd

    def check_free(self) -> None:
        """Raise RunFolderError now if another process holds the lock, or a worker still runs
        on the run: before slow work (loading data) that they make pointless. Takes nothing."""
        if self._inherited_fd() is not None:
            return
        holder = _probe(self.path)
        if holder is not None:
            raise self._held_by(holder)
        workers = live_workers(self.path.parent)
        if workers:
            index, pid = next(iter(workers.items()))
            raise RunFolderError(
                f"{self.path.parent}: worker {index} (PID {pid}) still runs on this run; wait for"
                " it to finish or stop it first"
            )

    def _take(self, fd: int) -> None:
        """Lock ``fd`` or close it and raise RunFolderError naming the holder's PID."""
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_pid(fd)
            os.close(fd)
            raise self._held_by(holder) from None

    def _held_by(self, holder: str) -> RunFolderError:
        """The error of a run whose lock another process holds (``holder``: its PID, as the
        lock file says): this very process where it holds it already (a search of the run
        in another thread, or one that a search's own observer asks for)."""
        if holder == str(os.getpid()):
            return RunFolderError(
                f"{self.path.parent}: this process (PID {holder}) is working on this run already (in"
                " another thread, or the search whose observer asks); wait for that search to end"
            )
        return RunFolderError(
            f"{self.path.parent}: another process (PID {holder or 'unknown'}) is working on this"
            " run; wait for it to finish or stop it first"
        )

    def _inherited_fd(self) -> int | None:
        """The descriptor named by ``$SEARCH_RUN_LOCK_FD`` if it holds this run's lock."""
        raw = os.environ.get(LOCK_FD_ENV, "")
        if not raw.isdigit():
            return None
        try:
            if not os.path.samestat(os.fstat(int(raw)), os.stat(self.path)):
                return None
            # Granted at once when the descriptor's open file already holds the lock.
            fcntl.flock(int(raw), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return None
        return int(raw)

    def release(self) -> None:
        if self._inherited:  # the parent keeps holding it
            self._fd, self._inherited = None, False
            return
        if self._fd is not None:
            _let_go(self._fd)
            self._fd = None

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()


WORKER_LOCK = ".worker-{}.lock"
"""A worker's lock file in the run folder, by its index: held while the worker runs."""
SPAWNED_LOG = "worker-{}.log"
"""The log of a worker that ``run --workers`` started, by its index: its index is that run's."""


class WorkerSlot:
    """A worker's index on a run, held with an exclusive ``flock`` on ``<run>/.worker-K.lock``
    while the worker runs: no two live processes share an index, hence a tuner folder.

    Without an index given, the lowest free one from 1 is taken, skipping those of the
    workers ``run --workers`` starts (they have a ``worker-K.log``); a worker restarted after
    Ctrl-C so takes its old index back, and with it the trial it left in its tuner folder.
    """

    def __init__(self, run_dir: Path, index: int | None = None) -> None:
        self.run_dir = run_dir
        self.given = index
        self.index = -1
        """The index held (after :meth:`acquire`)."""
        self._fd: int | None = None

    def acquire(self) -> None:
        if self.given is not None:
            if not self._try(self.given):
                holder = _probe(self._path(self.given)) or "unknown"
                raise RunFolderError(
                    f"{self.run_dir}: worker index {self.given} is taken by a running worker (PID"
                    f" {holder}); give another --index, or leave --index out to take a free one"
                )
            return
        index = 1
        while (self.run_dir / SPAWNED_LOG.format(index)).exists() or not self._try(index):
            index += 1

    def _path(self, index: int) -> Path:
        return self.run_dir / WORKER_LOCK.format(index)

    def _try(self, index: int) -> bool:
        """Take index ``index`` if no live process holds it; whether it was taken."""
        fd = open_lock_file(self._path(index))
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd, self.index = fd, index
        return True

    def release(self) -> None:
        if self._fd is not None:
            _let_go(self._fd)
            self._fd = None

    def __enter__(self) -> int:
        self.acquire()
        return self.index

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()


def live_workers(run_dir: Path) -> dict[int, int]:
    """The workers running on the run on any machine that shares its folder's locks.

    Args:
        run_dir: the run folder; nothing is locked.

    Returns:
        Each live worker's index and PID (-1 where its lock file names none).
    """
    live = {}
    for path in run_dir.glob(WORKER_LOCK.format("*")):
        index = path.name.removeprefix(".worker-").removesuffix(".lock")
        holder = _probe(path) if index.isdigit() else None
        if holder is not None:
            live[int(index)] = int(holder) if holder.isdigit() else -1
    return dict(sorted(live.items()))


def check_lock_file(path: Path) -> None:
    """Raise RunFolderError where the run's lock file ``path`` exists as something else (a
    folder), which no process could lock."""
    if path.exists() and not path.is_file():
        kind = "a folder" if path.is_dir() else "not a regular file"
        raise RunFolderError(f"{path}: is {kind}, not the run's lock file; remove or rename it")


def open_lock_file(path: Path) -> int:
    """A read-write descriptor of the run's lock file ``path``, made if missing; RunFolderError
    where something else is there."""
    check_lock_file(path)
    return os.open(path, os.O_RDWR | os.O_CREAT, 0o644)


def lock_holder(folder: Path | RunFolderLike) -> int | None:
    """The PID working on the run now, or None if no live process holds its lock.

    Args:
        folder: the run folder (its path or a :class:`RunFolder`); nothing is locked.

    Returns:
        The holder's PID as its lock file records it; -1 where the lock is held but the file
        names no PID; None where no live process holds it (or there is no lock file).
    """
    holder = _probe((folder if isinstance(folder, Path) else folder.path) / ".lock")
    if holder is None:
        return None
    return int(holder) if holder.isdigit() else -1


def _probe(path: Path) -> str | None:
    """What the lock file ``path`` says of the live process holding it (its PID; "" when it
    says nothing), or None where no process holds it (or there is none). Takes nothing."""
    if not path.exists():
        return None
    fd = os.open(path, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _read_pid(fd)
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def _let_go(fd: int) -> None:
    """Unlock and close the lock file open at ``fd``, emptied first: a clean exit leaves no
    PID to "take over"."""
    os.ftruncate(fd, 0)
    fcntl.flock(fd, fcntl.LOCK_UN)
    os.close(fd)


def _read_pid(fd: int) -> str:
    """The holder's PID as the lock file open at ``fd`` records it ("" if none)."""
    return os.read(fd, _PID_BYTES).decode(errors="replace").strip()


STOPPED = "stopped (no process is running it)"
"""A run that run.json says is running, whose lock no live process holds: killed."""
ENDED = ("finished", "failed")
"""The statuses of a run that will complete no more trials."""


def run_state(folder: Path | RunFolderLike, status: str) -> str:
    """run.json's ``status`` of the run in ``folder``, or :data:`STOPPED` where it says
    ``running`` but no live process holds the run's lock (its process was killed).

    Args:
        folder: the run folder (its path or a :class:`RunFolder`).
        status: the ``status`` its run.json records.

    Returns:
        ``status`` as given, or :data:`STOPPED` in place of a ``running`` nobody is running.
    """
    return STOPPED if status == "running" and lock_holder(folder) is None else status
