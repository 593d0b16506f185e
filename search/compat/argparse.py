"""argparse's private internals, in one place: the pattern by which a parser tells a value
that starts with a dash (``-5``) from an option."""

from __future__ import annotations

import argparse
import re
import sys

PYTHON_TESTED = ((3, 10), (3, 14))
"""The Python versions (lowest, highest) whose argparse these adapters are tested with."""
MATCHER = "_negative_number_matcher"
"""The parser attribute holding the pattern of words argparse takes as values."""


def check_version() -> bool:
    """Whether this Python's argparse is a tested one that has the pattern."""
    low, high = PYTHON_TESTED
    return low <= sys.version_info[:2] <= high and hasattr(argparse.ArgumentParser(), MATCHER)


def take_as_values(parser: argparse.ArgumentParser, pattern: re.Pattern[str]) -> None:
    """Make ``parser`` take a word matching ``pattern`` (``-5s``) as the value of the option
    before it, not as an option of its own; on an untested argparse, nothing changes (such a
    word is then refused as an unknown option, as argparse does).

    Args:
        parser: the parser (or subparser) to change.
        pattern: what a value that starts with a dash looks like.
    """
    if check_version():
        setattr(parser, MATCHER, pattern)
