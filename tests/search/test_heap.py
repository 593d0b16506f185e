"""A run keeps the heap it started with out of its garbage collections."""

from __future__ import annotations

import gc
import threading
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import search
from search._heap import heap_frozen
from search.cli import main
from search.engine import _export
from tests import user_models as um

WAIT = 60.0
"""Seconds a thread of the test waits for the other: a bug fails the test, not hangs it."""

LATER_OBJECTS = 1000
"""Objects made after the caller's freeze: more than frozen ones could be freed meanwhile."""


class _Cycle:
    def __init__(self) -> None:
        self.me = self


@pytest.fixture
def thawed() -> Iterator[None]:
    """The collector as the test found it, whatever the test froze."""
    yield
    gc.unfreeze()


@pytest.fixture
def collected_by_hand(thawed: None) -> Iterator[None]:
    """No automatic collection: only the ones the test and the block make free a cycle."""
    gc.disable()
    yield
    gc.enable()


class _FreezeSeen(search.Observer):
    def __init__(self) -> None:
        self.counts: list[int] = []

    def trial_begin(self, trial: Any) -> None:
        self.counts.append(gc.get_freeze_count())


def test_a_run_freezes_the_heap_it_found_and_gives_it_back_after(tmp_path: Path, thawed: None) -> None:
    seen = _FreezeSeen()
    x, y = um.tiny_data()
    run = search.run(um.build, x, y, tuner="random", max_trials=2, max_epochs=1, results=tmp_path,
                     retrain=False, quiet=True, observers=[seen])  # fmt: skip
    assert run.status == "finished"
    assert seen.counts and all(count > 0 for count in seen.counts)
    assert gc.get_freeze_count() == 0


def test_an_export_retrains_with_the_heap_frozen(
    tmp_path: Path, thawed: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    x, y = um.tiny_data()
    run = search.run(um.build, x, y, tuner="random", max_trials=1, max_epochs=1, results=tmp_path,
                     retrain=False, quiet=True)  # fmt: skip
    seen: list[int] = []
    retrain = _export.retrain_best

    def counted(*args: Any, **named: Any) -> Any:
        seen.append(gc.get_freeze_count())
        return retrain(*args, **named)

    monkeypatch.setattr(_export, "retrain_best", counted)
    assert main(["export", str(run.folder), "--quiet"]) == 0
    assert seen and seen[0] > 0
    assert gc.get_freeze_count() == 0


def test_garbage_from_before_is_collected_on_entry_and_the_frozen_heap_is_thawed_on_exit(
    collected_by_hand: None,
) -> None:
    garbage = weakref.ref(_Cycle())
    assert garbage() is not None  # a cycle: only a collection frees it
    with heap_frozen():
        assert garbage() is None
        assert gc.get_freeze_count() > 0
        made = weakref.ref(_Cycle())
        gc.collect()
        assert made() is None  # what the block makes is collected as before
    assert gc.get_freeze_count() == 0


def test_a_heap_the_caller_froze_stays_frozen(collected_by_hand: None) -> None:
    gc.freeze()
    frozen = gc.get_freeze_count()
    later = [_Cycle() for _ in range(LATER_OBJECTS)]  # a freeze by the block would take them too
    garbage = weakref.ref(_Cycle())
    with heap_frozen():
        # Frozen objects another thread drops leave the count: it may fall, never rise or empty.
        assert 0 < gc.get_freeze_count() <= frozen
        assert garbage() is not None  # no collection either
    assert 0 < gc.get_freeze_count() <= frozen
    assert later


def test_blocks_in_two_threads_keep_the_heap_frozen_until_the_last_one_ends(thawed: None) -> None:
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()
    seen: list[int] = []

    def second() -> None:
        first_in.wait(WAIT)
        with heap_frozen():
            second_in.set()
            first_out.wait(WAIT)
            seen.append(gc.get_freeze_count())

    thread = threading.Thread(target=second)
    thread.start()
    with heap_frozen():
        first_in.set()
        assert second_in.wait(WAIT)
    first_out.set()
    thread.join()
    assert seen and seen[0] > 0  # the first block's end did not thaw the second's heap
    assert gc.get_freeze_count() == 0
