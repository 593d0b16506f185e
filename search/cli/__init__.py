"""Command line: ``python -m search run|resume|worker|status|list|report|export|predict|spaces|track``."""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import os
import signal
import sys
from collections.abc import Callable
from types import FrameType
from typing import NoReturn

from rich.console import Console

from search._text import output_width
from search.cli import (
    _export,
    _list,
    _predict,
    _report,
    _resume,
    _run,
    _spaces,
    _status,
    _track,
    _worker,
)
from search.cli._imports import guard_heavy_imports
from search.cli._parser import BACKENDS, Parser, UsageError
from search.environment import EnvironmentFailure, environment_error
from search.errors import ERROR_FILE_ENV, SearchError, SearchInterrupted, render
from search.quiet import quiet_libraries

__all__ = ["command", "exit_quietly", "main"]

ERROR_EXIT = 2
"""The exit code of a usage or input error (and of an environment failure)."""
SIGNAL_EXIT_BASE = 128
"""A run stopped by signal N exits with 128 + N, as the shell reports a killed process."""
INTERRUPTED_EXIT = SIGNAL_EXIT_BASE + signal.SIGINT
"""Ctrl-C: 130."""


def build_parser() -> Parser:
    parser = Parser(
        prog="search",
        description=(
            "Hyperparameter search for Keras models, on KerasTuner: built-in image experiments"
            " or your own."
        ),
    )
    subparsers = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    for module in (
        _run, _resume, _worker, _status, _list, _report, _export, _predict, _spaces, _track,
    ):
        module.add_parser(subparsers)
    return parser


def use_backend(name: str) -> None:
    """Make Keras use backend ``name`` (before Keras is imported; child processes inherit it)."""
    if name == "jax" and importlib.util.find_spec("jax") is None:
        raise SearchError("--backend jax: JAX is not installed; install it with the `jax` extra"
                          ' (pip install -e ".[jax]")')  # fmt: skip
    if "keras" in sys.modules:
        import keras

        if keras.backend.backend() != name:
            raise SearchError(
                f"--backend {name}: Keras is already running on {keras.backend.backend()} in"
                f" this process; start a new one (or set KERAS_BACKEND={name})"
            )
    os.environ["KERAS_BACKEND"] = name


def check_backend_variable() -> None:
    """SearchError, before any work, where ``$KERAS_BACKEND`` names a backend this tool does
    not run on (``torch``, a typo): Keras would fail on import, or train nothing."""
    name = os.environ.get("KERAS_BACKEND", "")
    if name and name not in BACKENDS:
        raise SearchError(
            f"KERAS_BACKEND={name}: this tool runs Keras on {' or '.join(BACKENDS)}; unset it, set"
            f" it to one of them, or pass --backend {'|'.join(BACKENDS)}"
        )


def flags(parser: argparse.ArgumentParser) -> dict[str, str]:
    """Each option's flag by its destination (``max_trials`` -> ``--max-trials``), over
    the parser and its subcommands."""
    found: dict[str, str] = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                for dest, flag in flags(sub).items():
                    found.setdefault(dest, flag)
        elif action.option_strings:
            found.setdefault(action.dest, max(action.option_strings, key=len))
    return found


def flag_of(parser: argparse.ArgumentParser) -> Callable[[str], str]:
    """A parameter's name as this command line spells it: its flag, else ``--name-with-dashes``."""
    known = flags(parser)
    return lambda name: known.get(name, "--" + name.replace("_", "-"))


def exit_code(exc: SearchError) -> int:
    """The exit code of a run that ended with ``exc``."""
    if isinstance(exc, SearchInterrupted):
        return SIGNAL_EXIT_BASE + exc.signum
    return ERROR_EXIT


def _hand_error(exc: SearchError) -> bool:
    """A trial process of ``search.run(isolate=True)``: give its error to the caller, which
    raises it (in Python's words) instead of this process printing it; False elsewhere."""
    path = os.environ.get(ERROR_FILE_ENV)
    if not path or isinstance(exc, SearchInterrupted):
        return False
    try:
        with open(path, "w", encoding="utf-8") as file:
            file.write(exc.template)
    except OSError:
        return False
    return True


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code (2 for usage and input errors)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except UsageError:
        return ERROR_EXIT
    except SystemExit as exc:  # --help
        return int(exc.code or 0)
    args.argv = argv
    if not args.debug:
        quiet_libraries()
    guard_heavy_imports(quiet=not args.debug)
    backend = getattr(args, "backend", None)
    width = output_width(sys.stdout)
    # No markup: paths, run names, class names and reasons are printed as they are.
    console = Console(highlight=False, markup=False, soft_wrap=True, width=width)
    err = Console(stderr=True, highlight=False, markup=False, soft_wrap=True)
    try:
        if backend is not None:
            use_backend(backend)
        elif hasattr(args, "backend"):
            check_backend_variable()
        return args.handler(args, console)
    except SearchError as exc:
        if args.debug:
            raise
        if not _hand_error(exc):
            prefix = "" if isinstance(exc, SearchInterrupted) else "error: "
            err.print(f"{prefix}{render(exc.template, flag_of(parser))}", markup=False, soft_wrap=True)
        return exit_code(exc)
    except KeyboardInterrupt:
        err.print("interrupted", markup=False)
        return INTERRUPTED_EXIT
    except Exception as exc:
        if args.debug:
            raise
        failure = environment_error(exc)  # e.g. run.json on a full disk, after the search stopped
        if failure is not None:
            err.print(f"error: {EnvironmentFailure(failure)}", markup=False, soft_wrap=True)
            return ERROR_EXIT
        err.print(
            f"error: unexpected {type(exc).__name__}: {exc} (run again with --debug for the"
            " traceback)",
            markup=False,
            soft_wrap=True,
        )
        return 1


def exit_quietly(code: int) -> NoReturn:
    """End the process with ``code`` once the command has finished and said so.

    A Ctrl-C from here on (while the output is flushed, or the interpreter shuts down:
    exit handlers, libraries' finalizers) ends the process at once with the same code,
    where Python would print a KeyboardInterrupt traceback.

    Args:
        code: the exit code, as :func:`main` returned it.
    """

    def end_now(signum: int, frame: FrameType | None) -> None:
        os._exit(code)

    signal.signal(signal.SIGINT, end_now)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(AttributeError, OSError):  # none, or a closed pipe
            stream.flush()
    sys.exit(code)


def command() -> NoReturn:
    """The ``search`` console script and ``python -m search``: :func:`main`, then exit.

    A Ctrl-C that lands after :func:`main` has handled the first one, but before
    :func:`exit_quietly` takes over the signal, ends the process with the same code.
    """
    code = INTERRUPTED_EXIT
    try:
        code = main()
        exit_quietly(code)
    except KeyboardInterrupt:
        exit_quietly(code)


if __name__ == "__main__":  # pragma: no cover
    command()
