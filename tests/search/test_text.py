"""Words for messages: one_line, article."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest

from search._text import ELLIPSIS, PIPE_WIDTH, a_kind, article, one_line, output_width, resume_call


def test_a_short_text_is_folded_onto_one_line_whole() -> None:
    assert one_line("a  reason\nover\tlines", 40) == "a reason over lines"


def test_a_long_text_is_cut_after_a_whole_word_and_marked() -> None:
    cut = one_line("word " * 30, 40)
    assert len(cut) <= 40 and cut.endswith(ELLIPSIS) and cut[: -len(ELLIPSIS)].split(" ")[-1] == "word"


def test_a_long_last_word_is_cut_inside_so_the_start_of_what_it_names_stays() -> None:
    """A path after a short first word: cutting before it would leave "File not found: …"."""
    path = "/results/fashion/" + "a" * 300 + ".keras"
    cut = one_line(f"File not found: filepath={path}. Please check it", 100)
    assert len(cut) <= 100 and cut.startswith("File not found: filepath=/results/fashion/aaa")
    assert cut.endswith("aaa…")  # the mark right after the cut word: it did not end there
    assert one_line("x" * 300, 50) == "x" * (50 - len(ELLIPSIS)) + "…"


@pytest.mark.parametrize(
    "phrase",
    ["a uint8", "a unit", "a user", "a one", "a uniform", "a unique", "a union", "a ufunc",
     "a European", "a float", "a str", "an int", "an object", "an unknown", "an uninitialized",
     "an ndarray", "an hour", "an HTTPError", "an ellipsis"],
)  # fmt: skip
def test_a_words_article_follows_its_first_sound_not_its_first_letter(phrase: str) -> None:
    assert article(phrase.split(" ", 1)[1]) == phrase


def test_a_numpy_scalars_kind_reads_a_uint8() -> None:
    assert (a_kind(np.uint8(1)), a_kind(np.int64(1)), a_kind(np.zeros(1))) == (
        "a uint8", "an int64", "an ndarray")


@pytest.mark.parametrize(
    ("request_", "said"),
    [
        ({}, "python -m search resume '/r/my run'"),  # a built-in experiment's
        ({"arrays": True, "hypermodel": {"target": "m:build"}}, "python -m search resume '/r/my run'"),
        ({"arrays": True, "hypermodel": None}, "search.resume('/r/my run', hypermodel=...)"),
        ({"from_object": True}, "search.resume('/r/my run', hypermodel=experiment)"),
    ],
    ids=["by name", "importable", "python only", "an experiment object"],
)
def test_a_stopped_run_is_resumed_where_its_hypermodel_can_be_found(request_: dict, said: str) -> None:
    assert resume_call(Path("/r/my run"), request_) == said


def test_a_log_or_pipe_gets_wide_lines_and_a_terminal_its_own() -> None:
    """rich's 80 columns cut the search's progress line short in a log: ``0:00… left 0:00…``."""

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert output_width(io.StringIO()) == PIPE_WIDTH == 160
    assert output_width(Terminal()) is None
