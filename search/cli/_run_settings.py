"""``run``'s settings given to a command that continues a run (``resume``, ``worker``):
parsed as ``run`` parses them, so that a value is not taken for the run, then refused in
one line naming the option."""

from __future__ import annotations

import argparse

from search.cli import _run
from search.errors import SearchError

REFUSED = "refused:"
"""Prefix of the hidden destinations of ``run``'s settings, which the command refuses by name."""


def add_run_settings(p: argparse.ArgumentParser) -> None:
    """Add ``run``'s options that ``p`` does not take to it, hidden from its help.

    Args:
        p: the parser of a command that continues a run; its own options are left alone.
    """
    scratch = argparse.ArgumentParser(add_help=False)
    _run.add_parser(scratch.add_subparsers())
    own = {flag for action in p._actions for flag in action.option_strings}
    for action in _run_parser(scratch)._actions:
        flags = [flag for flag in action.option_strings if flag not in own]
        if not flags:
            continue
        dest, hidden = REFUSED + max(flags, key=len), argparse.SUPPRESS
        if action.nargs == 0:
            p.add_argument(*flags, dest=dest, action="store_const", const="", default=hidden, help=hidden)
        else:
            p.add_argument(*flags, dest=dest, nargs=action.nargs, default=hidden, help=hidden)


def _run_parser(scratch: argparse.ArgumentParser) -> argparse.ArgumentParser:
    subparsers = next(a for a in scratch._actions if isinstance(a, argparse._SubParsersAction))
    return subparsers.choices["run"]


def refuse_run_settings(args: argparse.Namespace, command: str) -> None:
    """Refuse the first of ``run``'s settings given to ``command``.

    Args:
        args: the command's parsed arguments.
        command: its name, as ``search COMMAND --help`` takes it.

    Raises:
        SearchError: one of ``run``'s settings was given, named with its value.
    """
    for dest, value in vars(args).items():
        if dest.startswith(REFUSED):
            shown = " ".join([dest.removeprefix(REFUSED), *([value] if isinstance(value, str) else value)])
            raise SearchError(
                f"{shown.strip()}: a setting of the run, kept from its start; {command} takes only"
                f" what `search {command} --help` lists (where the run lives and how it uses the"
                " machine); to search with other settings, start a new run (--warm-start RUN"
                " starts it from this one's trials)"
            )
