"""``search worker RUN``: join a running Optuna search from another process or machine."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from rich.console import Console

from search._text import plural
from search.cli._parser import add_backend, add_common, path_value, path_word
from search.cli._run_settings import add_run_settings, refuse_run_settings
from search.cli._runs import resolve_run
from search.errors import SearchError


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "worker",
        help="join a running Optuna search (several processes share its study)",
        description="Join the search of RUN (a --tuner optuna run that is still running) as"
        " one more worker: it rebuilds the run's data and space from run.json and runs"
        " trials of the shared study until the study holds --max-trials trials.",
    )
    p.add_argument("run", type=path_word, help="run folder or name")
    p.add_argument("--results", type=path_value, default=Path("results"), help="results root")
    p.add_argument(
        "--index",
        type=int,
        help="worker number: it names the worker's tuner folder (default: the lowest free one;"
        " a worker started again within 60 s takes back the trial it left)",
    )
    p.add_argument("--storage", help="the run's database URL with its password, if it has one")
    p.add_argument(
        "--data-dir",
        type=path_value,
        help="where the run's data are on this machine (the same data: checked as they load;"
        " default: where run.json says)",
    )
    add_backend(p)
    add_common(p)
    add_run_settings(p)
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace, console: Console) -> int:
    from search.engine import run_worker
    from search.tuners import show_trial_tracebacks

    show_trial_tracebacks(args.debug)
    refuse_run_settings(args, "worker")

    if args.index is not None and args.index < 0:
        raise SearchError(f"--index ({args.index}) must be at least 0; give each worker its own number")
    folder = resolve_run(args.run, args.results)
    from search.gpus import PINNED

    index, ran = run_worker(
        folder, args.index, console, quiet=args.quiet, storage=args.storage, data_dir=args.data_dir
    )
    gpu = os.environ.get(PINNED)
    pinned = f" (GPU {gpu})" if gpu else ""
    console.print(f"worker {index}{pinned}: {plural(ran, 'trial')} run on {folder.path}")
    return 0
