"""``search resume RUN``: continue an interrupted search where it stopped."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rich.console import Console

from search.cli._parser import add_backend, add_common, path_value, path_word
from search.cli._run import add_process_options
from search.cli._run_settings import add_run_settings, refuse_run_settings
from search.cli._runs import resolve_run
from search.gpus import claim, parse_gpus
from search.report import report_written
from search.storage import RunFolder


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "resume",
        help="continue an interrupted search",
        description="Continue RUN with the settings it was started with: finished trials are"
        " kept, Hyperband's brackets and the Optuna study carry on, and the trial that was"
        " running continues from its last completed epoch. Running the same"
        " `search run ... --name RUN` does the same.",
    )
    p.add_argument("run", nargs="?", type=path_word, help="run folder or name (default: the newest run)")
    p.add_argument("--results", type=path_value, default=Path("results"), help="results root")
    p.add_argument("--storage", help="the run's database URL with its password, if it has one")
    p.add_argument(
        "--gpus",
        default=argparse.SUPPRESS,
        help="move the run to these GPUs (e.g. 2,3, or 'all'; one worker each), or 'none' to"
        " go on without pinning (default: the GPUs it was started with)",
    )
    p.add_argument(
        "--workers",
        type=int,
        default=argparse.SUPPRESS,
        help="processes sharing its Optuna search from now on (default: as it was started)",
    )
    p.add_argument(
        "--data-dir",
        type=path_value,
        default=argparse.SUPPRESS,
        help="the folder the run's data moved to (the same data: checked as they load; the run"
        " reads them there from now on)",
    )
    add_process_options(p, resume=True)
    add_backend(p)
    add_common(p)
    add_run_settings(p)
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace, console: Console) -> int:
    refuse_run_settings(args, "resume")
    folder = resolve_run(args.run, args.results)
    stored = folder.read_meta().get("request")
    given = _given_again(args, stored if isinstance(stored, dict) else {})
    gpus, workers = _processes(given, stored if isinstance(stored, dict) else {})
    # Before Keras starts, as in `run`.
    devices = claim(gpus) if gpus and workers == len(gpus) else ()

    from search.cli._execute import execute
    from search.engine import finish_cut_short, stored_request

    whole = RunFolder(folder.path.resolve())  # `resume .`: the run's own name
    lines = finish_cut_short(whole, console)
    if lines is not None:
        _say_report_written(whole, lines, console)
        return 0
    request = stored_request(folder, args.storage, given)
    return execute(request, console, quiet=args.quiet, debug=args.debug, devices=devices)


def _say_report_written(folder: RunFolder, lines: list[str], console: Console) -> None:
    """Say that ``folder``'s run was stopped after it finished and before its report, and
    whether that is written now (``lines``: the report's, or why it is not)."""
    now = ", written now" if report_written(folder) else ""
    console.print(f"run {folder.name} had finished; it was stopped before its report{now}")
    for line in lines:
        console.print(line)


def _given_again(args: argparse.Namespace, stored: dict[str, Any]) -> dict[str, Any]:
    """The options given again, which replace the run's own; ``--gpus`` moves the run to
    those GPUs, one worker each unless ``--workers`` says otherwise."""
    given: dict[str, Any] = {
        name: getattr(args, name) for name in ("keep_best", "isolate", "workers", "data_dir")
        if name in vars(args)
    }
    if "gpus" in vars(args):
        gpus = () if args.gpus.strip() == "none" else parse_gpus(args.gpus)
        given["gpus"] = list(gpus)
        given.setdefault("workers", len(gpus) or stored.get("workers", 1))
    return given


def _processes(given: dict[str, Any], stored: dict[str, Any]) -> tuple[tuple[str, ...], Any]:
    """The GPUs and the workers the continued run has: as given again, else as it was
    started (a damaged value is named when the request is checked)."""
    gpus = given.get("gpus", stored.get("gpus"))
    workers = given.get("workers", stored.get("workers", 1))
    return (tuple(str(gpu) for gpu in gpus) if isinstance(gpus, list) else ()), workers
