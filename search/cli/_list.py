"""``search list``: experiments, tuners and runs."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from search.cli._parser import add_common, path_value
from search.cli._runs import check_results, summarize
from search.errors import RunFolderError
from search.storage import find_runs

DEFAULT_RESULTS = Path("results")
"""The results root when none is given: before the first run it does not exist yet."""


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("list", help="list experiments, tuners and runs")
    p.add_argument(
        "--results", type=path_value, default=None,
        help=f"results root (default: {DEFAULT_RESULTS}; when given, it must exist)",
    )  # fmt: skip
    add_common(p)
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace, console: Console) -> int:
    from search import experiments, tuners

    results = DEFAULT_RESULTS if args.results is None else args.results
    check_results(results, missing_ok=args.results is None)
    table = Table(title="experiments")
    table.add_column("name")
    table.add_column("description")
    for name in experiments.names():
        table.add_row(name, experiments.get(name).description)
    console.print(table)
    table = Table(title="tuners")
    table.add_column("name")
    table.add_column("description")
    for name in tuners.names():
        table.add_row(name, tuners.get(name).description)
    console.print(table)
    runs = find_runs(results)
    if not runs:
        console.print(f"no runs under {results}")
        return 0
    table = Table(title=f"runs under {results}")
    for column in ("run", "experiment", "tuner", "status", "trials", "best", "test"):
        table.add_column(column)
    for run in runs:
        try:
            info = summarize(run)
        except RunFolderError as exc:
            table.add_row(str(run.path), "?", "?", f"unreadable: {exc}", "", "", "")
            continue
        meta, final = info["meta"], info["meta"].get("final")
        table.add_row(
            run.name,
            meta["experiment"],
            meta["tuner"],
            info["status"],
            str(info["trials"]),
            _best_cell(info),
            _first_test(final),
        )
    console.print(table)
    return 0


def _best_cell(info: dict[str, Any]) -> str:
    """The run's "best" cell: the trial the run keeps (run.json's ``best``, whose model the
    test column scores) where it chose, else the best trial so far, each with its id; the
    highest single epoch may be another trial's, which the rule did not keep.

    Args:
        info: :func:`summarize`'s summary of the run.

    Returns:
        E.g. "val_accuracy 0.9100 (trial 7, kept)"; "-" without a scored trial.
    """
    from search.report import kept_trial

    objective, meta = info["objective"], info["meta"]
    trial, kept = kept_trial(meta, None), meta.get("best") or {}
    value = kept.get(objective)
    if trial is not None and str(kept.get("trial")) == trial and isinstance(value, (int, float)):
        ended = info["status"] == "finished"  # else the finalists, or a resume, may choose again
        return f"{objective} {value:.4f} (trial {trial}, {'kept' if ended else 'so far'})"
    best = info["best"]
    if best is None:
        return "-"
    return f"{objective} {best['best'][objective]:.4f} (trial {best['id']}, so far)"


def _first_test(final: dict[str, Any] | None) -> str:
    """The final model's first test metric ("accuracy 0.9257", a regression's
    "mean_absolute_error 0.7880"); "-" when it was not tested."""
    from search.report import first_test

    return first_test(final or {}) or "-"
