"""Argument types shared by the benchmarks' command lines: comma-separated lists, checked
when the line is parsed, so that a bad item stops a benchmark before its first measurement
(not after an hour of it)."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence


def _items(text: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in text.split(",") if item.strip())


def names(choices: Sequence[str], what: str) -> Callable[[str], tuple[str, ...]]:
    """An argparse ``type``: a comma-separated, non-empty subset of ``choices``.

    Args:
        choices: the names allowed.
        what: what one name is, for the message when none is given ("peer").

    Returns:
        The parser, which returns the names in the order given.
    """

    def parse(text: str) -> tuple[str, ...]:
        given = _items(text)
        unknown = [name for name in given if name not in choices]
        if unknown or not given:
            raise argparse.ArgumentTypeError(
                f"{text!r}: {unknown[0] if unknown else f'no {what}'} is not one of"
                f" {', '.join(choices)}"
            )
        return given

    return parse


def counts(text: str) -> tuple[int, ...]:
    """An argparse ``type``: comma-separated whole numbers of at least 0 ("0,1,2")."""
    given = _items(text)
    bad = [item for item in given if not item.isdigit()]
    if bad or not given:
        raise argparse.ArgumentTypeError(
            f"{text!r}: {bad[0] if bad else 'nothing'} is not a whole number; give e.g. 0,1,2"
        )
    return tuple(int(item) for item in given)


def multiples(text: str) -> tuple[str, ...]:
    """An argparse ``type``: comma-separated multiples of a budget, ``Kx`` with K at least 1
    ("1x,3x")."""
    given = _items(text)
    bad = [item for item in given if not (item.endswith("x") and item[:-1].isdigit()
                                          and int(item[:-1]) >= 1)]  # fmt: skip
    if bad or not given:
        raise argparse.ArgumentTypeError(
            f"{text!r}: {bad[0] if bad else 'nothing'} is not a multiple like 1x or 3x"
        )
    return given
