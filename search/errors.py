"""Errors a user can act on, each explained in one line with its fix.

A message names a parameter with :func:`option`: ``str(error)`` shows it as Python's
keyword (``max_trials``); the command line shows its flag (``--max-trials``), see
:func:`render`. Exit codes belong to the command line, not to these exceptions.
"""

from __future__ import annotations

import re
from collections.abc import Callable

_OPTION = re.compile(r"\{opt:([A-Za-z_][A-Za-z0-9_]*)\}")
"""A parameter's marker in a message: ``{opt:NAME}``."""
ERROR_FILE_ENV = "SEARCH_ERROR_FILE"
"""Set by ``search.run(isolate=True)`` in its trial processes: the file where one writes the
error it stopped with (its template), for the caller to raise instead of it being printed."""


def option(name: str) -> str:
    """Parameter ``name`` (the Python keyword, e.g. ``"max_trials"``) in an error message:
    shown as ``max_trials`` by ``str(error)``, as ``--max-trials`` by the command line."""
    return f"{{opt:{name}}}"


def keyword(name: str) -> str:
    """A parameter as Python names it: its keyword."""
    return name


def named_options(message: str) -> set[str]:
    """The parameters ``message`` names with :func:`option` (their Python keywords)."""
    return set(_OPTION.findall(message))


def render(message: str, spell: Callable[[str], str] = keyword) -> str:
    """``message`` with each :func:`option` marker replaced by ``spell(name)``."""
    return _OPTION.sub(lambda found: spell(found.group(1)), message)


class SearchError(Exception):
    """A problem with the user's input or environment, explained with its fix.

    ``str(error)`` names parameters as Python keywords; :attr:`template` keeps the
    :func:`option` markers for the command line to name them as flags.
    """

    @property
    def template(self) -> str:
        """The message with its parameter markers."""
        return super().__str__()

    def __str__(self) -> str:
        return render(self.template)


class DataError(SearchError, ValueError):
    """Missing, unreadable or corrupt data."""


class SpaceError(SearchError, ValueError):
    """A search-space file that cannot be loaded or is invalid."""


class RunFolderError(SearchError, RuntimeError):
    """A results folder that cannot be used for this run."""


class SearchInterrupted(SearchError, RuntimeError):
    """A search stopped by signal ``signum`` (SIGINT, SIGTERM); resumable."""

    def __init__(self, message: str, signum: int) -> None:
        super().__init__(message)
        self.signum = signum
