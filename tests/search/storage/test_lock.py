"""Worker slots: one live process per worker index on a run, the lowest free one by default."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from search.errors import RunFolderError
from search.storage import SPAWNED_LOG, RunLock, WorkerSlot, live_workers


def test_a_worker_takes_the_lowest_index_free_and_again_after_it_ends(tmp_path: Path) -> None:
    with WorkerSlot(tmp_path) as first, WorkerSlot(tmp_path) as second:
        assert (first, second) == (1, 2)
        assert live_workers(tmp_path) == {1: os.getpid(), 2: os.getpid()}
    assert live_workers(tmp_path) == {}
    with WorkerSlot(tmp_path) as again:  # started again, it finds its tuner folder
        assert again == 1


def test_the_indices_of_spawned_workers_are_left_to_them(tmp_path: Path) -> None:
    """``run --workers 3`` starts workers 1 and 2, each with its log; a worker started by hand
    would otherwise share a tuner folder with one of them."""
    for index in (1, 2):
        (tmp_path / SPAWNED_LOG.format(index)).touch()
    with WorkerSlot(tmp_path) as index:
        assert index == 3
    with WorkerSlot(tmp_path, 2) as given:  # the spawned worker itself
        assert given == 2


def test_an_index_a_live_worker_holds_is_refused_naming_its_pid(tmp_path: Path) -> None:
    with WorkerSlot(tmp_path, 4), pytest.raises(RunFolderError) as caught:
        WorkerSlot(tmp_path, 4).acquire()
    assert str(caught.value) == (
        f"{tmp_path}: worker index 4 is taken by a running worker (PID {os.getpid()}); give"
        " another --index, or leave --index out to take a free one"
    )


def test_a_run_is_not_free_while_a_worker_runs_on_it(tmp_path: Path) -> None:
    """A resume then would start workers on the folders live ones write."""
    lock = RunLock(tmp_path)
    with WorkerSlot(tmp_path, 1), pytest.raises(RunFolderError) as caught:
        lock.check_free()
    assert str(caught.value) == (
        f"{tmp_path}: worker 1 (PID {os.getpid()}) still runs on this run; wait for it to"
        " finish or stop it first"
    )
    lock.check_free()  # the worker ended


def test_a_run_this_process_holds_already_is_refused_as_this_processs(tmp_path: Path) -> None:
    """A notebook's search in a thread, or an observer that resumes its own run: the lock
    is flock's, which this process's second open does not share, and the refusal named this
    very process 'another process'."""
    said = (f"{tmp_path}: this process (PID {os.getpid()}) is working on this run already (in"
            " another thread, or the search whose observer asks); wait for that search to end")  # fmt: skip
    with RunLock(tmp_path):
        for attempt in (RunLock(tmp_path).check_free, RunLock(tmp_path).acquire):
            with pytest.raises(RunFolderError) as caught:
                attempt()
            assert str(caught.value) == said
