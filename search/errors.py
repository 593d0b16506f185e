"""Errors a user can act on: printed as one line, exit code 2, no traceback."""

from __future__ import annotations


class SearchError(Exception):
    """A problem with the user's input or environment, explained with its fix.

    The CLI prints the message alone (no traceback unless ``--debug``) and exits with
    ``exit_code``.
    """

    exit_code = 2


class DataError(SearchError):
    """Missing, unreadable or corrupt data."""


class SpaceError(SearchError):
    """A search-space file that cannot be loaded or is invalid."""


class RunFolderError(SearchError):
    """A results folder that cannot be used for this run."""


class SearchInterrupted(SearchError):
    """A search stopped by a signal; resumable. Printed without the ``error:`` prefix."""

    plain = True

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code
