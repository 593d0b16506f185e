"""``search report RUN [RUN ...]``: the HTML report of a run, or a comparison of runs."""

from __future__ import annotations

import argparse
import webbrowser
from pathlib import Path

from rich.console import Console

from search.cli._parser import add_common, path_value, path_word
from search.cli._runs import missing_model, resolve_run
from search.errors import SearchError
from search.storage import STOPPED, RunFolder, check_writable


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "report",
        help="write a self-contained HTML report of runs",
        description="Write one self-contained HTML file (plus CSV and JSON tables) that ranks"
        " trials by converged validation accuracy and train/validation gap. Several runs:"
        " a comparison.",
    )
    p.add_argument("runs", nargs="*", type=path_word, help="run folders or names (default: the newest run)")
    p.add_argument("--results", type=path_value, default=Path("results"), help="results root")
    p.add_argument("--output", type=path_value, help="HTML file (default: RUN/report.html; several"
                   " runs: compare-RUN1-RUN2.html next to the first run)")  # fmt: skip
    p.add_argument("--open", action="store_true", help="open the report in a browser")
    p.add_argument("--converged-epochs", type=int,
                   help="epochs averaged up to the best one (default: the run's own)")  # fmt: skip
    p.add_argument("--tolerance", type=float,
                   help="accuracy within which the less overfitting trial wins (default: the"
                   " run's own)")  # fmt: skip
    p.add_argument("--top-k", type=int, default=5, help="trials highlighted in the curves")
    add_common(p)
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace, console: Console) -> int:
    from search.report import (
        choice_lines,
        default_output,
        nothing_scored,
        unfinished_note,
        write_report,
    )

    if args.converged_epochs is not None and args.converged_epochs < 1:
        raise SearchError(f"--converged-epochs ({args.converged_epochs}) must be at least 1")
    if args.tolerance is not None and not 0 <= args.tolerance < 1:
        raise SearchError(f"--tolerance ({args.tolerance}) must be in [0, 1)")
    if args.top_k < 1:
        raise SearchError(f"--top-k ({args.top_k}) must be at least 1")
    if args.output is not None:
        check_output(args.output)
    folders = [resolve_run(ref, args.results) for ref in (args.runs or [None])]
    check_distinct(args.runs, folders)
    if args.output is None:
        where = default_output(folders).parent
        label = f"run folder {where}" if len(folders) == 1 else f"folder {where}"
        check_writable(where, label, "pass --output FILE in a folder you can write to")
    output, reports = write_report(
        folders, args.output, args.converged_epochs, args.tolerance, args.top_k
    )
    for report in reports:
        lines = choice_lines(report) or [nothing_scored(report)]
        console.print(f"{report.label}{_state_words(report.running, report.state)}: {lines[0]}")
        for line in [*lines[1:], report.baseline, report.rule_note, unfinished_note(report)]:
            if line is not None:
                console.print(f"  {line}")
    for folder in folders:
        gone = missing_model(folder, folder.read_meta())
        if gone:
            console.print(gone)
    console.print(f"report: {output}")
    if args.open and not webbrowser.open(output.resolve().as_uri()):  # False: no browser found
        err = Console(stderr=True, highlight=False, markup=False, soft_wrap=True)
        err.print(f"--open: no browser found to open {output}; open the file yourself, or set $BROWSER")
    return 0


def check_distinct(refs: list[str], folders: list[RunFolder]) -> None:
    """SearchError where two of ``refs`` (as given) name the same run folder: a run is
    not compared with itself."""
    seen: dict[Path, str] = {}
    for ref, folder in zip(refs, folders, strict=False):
        where = folder.path.resolve()
        if where in seen:
            raise SearchError(f"{where}: given twice ({seen[where]}, {ref}); name each run once")
        seen[where] = ref


def check_output(output: Path) -> None:
    """``--output``: a file (not a folder) in a folder that can be written, or SearchError."""
    if output.is_dir():
        raise SearchError(f"--output {output}: is a folder; give a file name, e.g. {output / 'report.html'}")
    check_writable(output.parent, f"--output {output}", "give a file in a folder you can write to")


def _state_words(running: bool, state: str) -> str:
    """A run's state after its label (``running``: a live process holds it; ``state``: its
    status), none for a finished run; a run that no process is running reads "stopped"
    (the note under it says why)."""
    if running:
        return " (still running)"
    if state == "finished":
        return ""
    return " (stopped)" if state == STOPPED else f" ({state})"
