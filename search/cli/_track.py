"""``search track RUN --to URI``: send a finished or interrupted run's trials to MLflow."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console

from search.cli._parser import add_common, path_value, path_word
from search.cli._runs import resolve_run
from search.errors import SearchError, option
from search.storage import lock_holder


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "track",
        help="send a run's trials to MLflow",
        description="Log RUN to MLflow as if it had been searched with --track mlflow: one"
        " parent run, one nested run per trial with its per-epoch metrics, and, for a finished"
        " run, its outcome, report and model. What the store already has is not sent twice.",
    )
    p.add_argument("run", nargs="?", type=path_word, help="run folder or name (default: the newest run)")
    p.add_argument("--results", type=path_value, default=Path("results"), help="results root")
    p.add_argument(
        "--to",
        metavar="URI",
        help="MLflow tracking URI (default: the run's own, else $MLFLOW_TRACKING_URI, else"
        " sqlite:///RESULTS/mlflow.db beside the run)",
    )
    add_common(p)
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace, console: Console) -> int:
    from search.tracking import check_mlflow, send_run, tracking_uri

    if args.to is not None and not args.to.strip():
        raise SearchError(
            f"{option('to')} {args.to!r}: give a tracking URI, e.g. sqlite:///results/mlflow.db"
            " or http://127.0.0.1:5000 (or leave --to out for the run's own store)"
        )
    given = f"{option('to')} {args.to}" if args.to else option("to")
    check_mlflow(args.to, given, f"{option('to')}: tracking URI")
    folder = resolve_run(args.run, args.results)
    pid = lock_holder(folder)
    if pid:
        raise SearchError(
            f"{folder.path}: the run is running (PID {pid}); track it once it finished or stopped"
            " (a run started with --track mlflow logs itself as it goes)"
        )
    uri = args.to or tracking_uri(folder)
    sink, sent = send_run(folder, uri, console)
    console.print(
        f"{sent} trials of {folder.name} in MLflow at {sink.shown} (experiment id"
        f" {sink.experiment_id}, parent run {sink.parent_id}); {sink.new_steps} epochs were new"
    )
    return 0
