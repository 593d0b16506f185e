"""Wording shared by the messages."""

from __future__ import annotations


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    """``count`` and ``noun``, the noun in the plural unless the count is one: "1 trial",
    "0 trials", "3 epochs"; ``nouns``: the plural where it is not the noun and an s."""
    return f"{count} {noun}" if count == 1 else f"{count} {nouns or noun + 's'}"
