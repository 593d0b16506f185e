"""Database and tracking URLs as run.json keeps them: without their password."""

from __future__ import annotations

from pathlib import Path

MASK = "***"
"""What stands for the password in a URL run.json keeps."""


def is_masked(url: str | None) -> bool:
    """Whether ``url`` is one run.json keeps, its password hidden: it cannot connect.

    Args:
        url: a database or tracking URL; None: none was given.

    Returns:
        True where it holds :data:`MASK`; False for None.
    """
    return url is not None and MASK in url


def masked_url(url: str | None) -> str | None:
    """``url`` with its password hidden; a value that is not a URL comes back as it is.

    Args:
        url: a database or tracking URL; None: none was given.

    Returns:
        The URL with :data:`MASK` for its password (as it was where it has none); None for None.
    """
    if url is None:
        return None
    from sqlalchemy.engine import make_url  # slow to import: only where a URL is given
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):  # not a URL (ValueError: a port that is not a number)
        return url  # the storage check refuses it anyway


def same_storage(stored: str | None, url: str | None) -> bool:
    """Whether ``url`` names the storage run.json keeps as ``stored``: compared with their
    passwords hidden (run.json holds none to compare).

    Args:
        stored: the storage as run.json keeps it (masked); None: the run's journal file.
        url: the storage given to continue the run, with its password; None: none given.

    Returns:
        True where both are None, or both name the same database (a relative SQLite path
        taken from the current folder).
    """
    return masked_url(absolute_url(stored)) == masked_url(absolute_url(url))


def absolute_url(url: str | None) -> str | None:
    """``url`` with a SQLite file's relative path made absolute (from the current folder), so
    that the run records the file it opened, whatever folder it is resumed or joined from.

    Args:
        url: a database URL; None: none was given.

    Returns:
        The URL as given where it is not a SQLite file's on a relative path (or not a URL).
    """
    if url is None or not url.startswith("sqlite"):
        return url
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        return url
    if parsed.database in (None, "", ":memory:") or Path(parsed.database).is_absolute():
        return url
    return parsed.set(database=str(Path.cwd() / parsed.database)).render_as_string(hide_password=False)
