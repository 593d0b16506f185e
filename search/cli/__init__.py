"""Command line: ``python -m search run|resume|worker|status|list|report|export|predict|spaces|track``."""

from __future__ import annotations

import importlib.util
import os
import sys

from rich.console import Console

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
from search.cli._parser import Parser, UsageError
from search.environment import EnvironmentFailure, environment_error
from search.errors import SearchError
from search.quiet import quiet_libraries

__all__ = ["main"]


def build_parser() -> Parser:
    parser = Parser(
        prog="search",
        description="Hyperparameter search for Keras image classifiers.",
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


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code (2 for usage and input errors)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except UsageError:
        return 2
    except SystemExit as exc:  # --help
        return int(exc.code or 0)
    args.argv = argv
    if not args.debug:
        quiet_libraries()
    guard_heavy_imports(quiet=not args.debug)
    backend = getattr(args, "backend", None)
    # Logs and pipes get wide lines rather than rich's 80-column default.
    width = None if sys.stdout.isatty() else 160
    # No markup: paths, run names, class names and reasons are printed as they are.
    console = Console(highlight=False, markup=False, soft_wrap=True, width=width)
    err = Console(stderr=True, highlight=False, markup=False, soft_wrap=True)
    try:
        if backend is not None:
            use_backend(backend)
        return args.handler(args, console)
    except SearchError as exc:
        if args.debug:
            raise
        prefix = "" if getattr(exc, "plain", False) else "error: "
        err.print(f"{prefix}{exc}", markup=False, soft_wrap=True)
        return exc.exit_code
    except KeyboardInterrupt:
        err.print("interrupted", markup=False)
        return 130
    except Exception as exc:
        if args.debug:
            raise
        failure = environment_error(exc)  # e.g. run.json on a full disk, after the search stopped
        if failure is not None:
            err.print(f"error: {EnvironmentFailure(failure)}", markup=False, soft_wrap=True)
            return EnvironmentFailure.exit_code
        err.print(
            f"error: unexpected {type(exc).__name__}: {exc} (run again with --debug for the"
            " traceback)",
            markup=False,
            soft_wrap=True,
        )
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
