"""``search resume RUN``: continue an interrupted search where it stopped."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from rich.console import Console

from search.cli._parser import add_backend, add_common
from search.cli._run import add_process_options
from search.cli._runs import resolve_run
from search.errors import RunFolderError, SearchError
from search.storage import is_masked

RESUME_OPTIONS = ("gpus", "workers", "keep_best", "isolate", "storage")
"""The options that ``resume`` takes again, replacing the run's own."""


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "resume",
        help="continue an interrupted search",
        description="Continue RUN with the settings it was started with: finished trials are"
        " kept, Hyperband's brackets and the Optuna study carry on, and the trial that was"
        " running is run again. Running the same `search run ... --name RUN` does the same.",
    )
    p.add_argument("run", nargs="?", help="run folder or name (default: the newest run)")
    p.add_argument("--results", type=Path, default=Path("results"), help="results root")
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
    add_process_options(p, resume=True)
    add_backend(p)
    add_common(p)
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace, console: Console) -> int:
    from search.gpus import claim, parse_gpus

    folder = resolve_run(args.run, args.results)
    meta = folder.read_meta()
    if "request" not in meta:
        raise RunFolderError(f"{folder.run_file}: holds no request to resume the search from")
    stored = dict(meta["request"])
    gpus = tuple(str(gpu) for gpu in stored.get("gpus") or ())
    workers = int(stored.get("workers", 1))
    if "gpus" in vars(args):  # given again: the run moves to them
        gpus = () if args.gpus.strip() == "none" else parse_gpus(args.gpus)
        workers = len(gpus) or workers
    workers = getattr(args, "workers", workers)
    # Before Keras starts, as in `run`.
    devices = claim(gpus) if gpus and workers == len(gpus) else ()

    from search.cli._execute import execute
    from search.engine import STORAGE_ENV, RunRequest, check_stored, check_warm_sources

    storage = args.storage or os.environ.get(STORAGE_ENV) or stored.get("storage")
    if is_masked(storage):
        raise SearchError(
            f"{folder.run_file} keeps the storage URL without its password; pass it with --storage"
        )
    stored.update(
        results=str(folder.path.parent.parent), name=folder.name, storage=storage,
        gpus=list(gpus), workers=workers,
    )  # fmt: skip
    for option in ("keep_best", "isolate"):  # given again: they replace the run's own
        if option in vars(args):
            stored[option] = getattr(args, option)
    request = RunRequest.from_json(stored)
    given = [name for name in RESUME_OPTIONS if getattr(args, name, None) is not None]
    check_stored(folder, request, given)
    check_warm_sources(folder, request.warm_start)
    return execute(request, console, quiet=args.quiet, debug=args.debug, devices=devices)
