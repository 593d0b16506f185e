"""A download's announcement held back until its progress shows."""

from __future__ import annotations

import sys

import pytest

from search.quiet import first_line_held


def test_a_line_followed_by_progress_is_shown_whole(capsys: pytest.CaptureFixture[str]) -> None:
    with first_line_held():
        sys.stdout.write("Downloading data from https://x/w.h5\n")
        sys.stdout.flush()
        assert capsys.readouterr().out == ""
        sys.stdout.write("  1/10 [==>...]")
        sys.stdout.write("\r 10/10 [=====]\n")
    shown = "Downloading data from https://x/w.h5\n  1/10 [==>...]\r 10/10 [=====]\n"
    assert capsys.readouterr().out == shown


def test_a_line_the_block_raises_after_is_dropped(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(OSError), first_line_held():
        print("Downloading data from https://x/w.h5")
        raise OSError("no network")
    assert capsys.readouterr().out == ""


def test_a_line_alone_of_a_block_that_ends_well_is_shown(capsys: pytest.CaptureFixture[str]) -> None:
    with first_line_held():
        print("done", end="")
    assert capsys.readouterr().out == "done"
    assert sys.stdout is not None and "HeldLine" not in type(sys.stdout).__name__


def test_without_a_stdout_nothing_is_held(monkeypatch: pytest.MonkeyPatch) -> None:
    """pythonw: ``sys.stdout`` is None, and ``print`` writes nowhere."""
    monkeypatch.setattr(sys, "stdout", None)
    with first_line_held():
        print("Downloading data from https://x/w.h5")
    assert sys.stdout is None
