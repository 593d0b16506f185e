"""Database and tracking URLs as run.json keeps them: without their password."""

from __future__ import annotations

MASK = "***"
"""What stands for the password in a URL run.json keeps."""


def is_masked(url: str | None) -> bool:
    """Whether ``url`` is one run.json keeps, its password hidden: it cannot connect."""
    return url is not None and MASK in url
