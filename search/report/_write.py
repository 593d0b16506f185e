"""Write a report's HTML, CSV and JSON files."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from search.environment import output_failure
from search.errors import SearchError, option
from search.report._data import RunReport, choice_lines, load_report
from search.report._html import is_report_page, render_compare, render_run
from search.storage import RunFolder, enclosing_run, owning_run, write_atomic


def default_output(folders: Sequence[RunFolder]) -> Path:
    """RUN/report.html for one run; a comparison goes next to the first run (in its
    experiment's folder), never into the current folder.

    Args:
        folders: the runs of the report; one: its own report.

    Returns:
        ``RUN/report.html``, or ``compare-RUN1-RUN2....html`` in the first run's experiment folder.
    """
    if len(folders) == 1:
        return folders[0].path / "report.html"
    name = "compare-" + "-".join(f.name for f in folders)[:150] + ".html"
    return folders[0].path.parent / name


def report_files(output: Path, reports: Sequence[RunReport]) -> dict[Path, tuple[Path, Path]]:
    """Where each run's ranked table goes next to the HTML file ``output``: (CSV, JSON) by
    run folder; ``OUT.csv`` for one run, ``OUT-RUN.csv`` in a comparison (``OUT-RUN-2.csv``
    for a second run of the same name, from another experiment or results root)."""
    if len(reports) == 1:  # report.v2.html: report.v2.csv
        return {reports[0].folder.path: (output.with_suffix(".csv"), output.with_suffix(".json"))}
    files: dict[Path, tuple[Path, Path]] = {}
    labels: set[str] = set()
    for report in reports:
        if report.folder.path in files:  # the same run given twice
            continue
        label, count = report.folder.name, 1
        while label in labels:
            count += 1
            label = f"{report.folder.name}-{count}"
        labels.add(label)
        name = f"{output.stem}-{label}"  # a run's name may hold dots (v1.2): no with_suffix
        files[report.folder.path] = (output.parent / f"{name}.csv", output.parent / f"{name}.json")
    return files


def _check_targets(output: Path, targets: Sequence[Path], reported: Sequence[RunFolder]) -> None:
    """SearchError, before anything is written, where a file the report would write is one
    of a run's own (``--output RUN/run.html`` would write its table over RUN/run.json), lies
    in the folder of a run not ``reported`` (its own report would be replaced), or is the
    page itself (``--output t.csv``: the table would replace it)."""
    ours = {folder.path.resolve() for folder in reported}
    for target in targets:
        run = owning_run(target)
        if run is not None:
            raise SearchError(
                f"{option('output')} {output}: would write {target}, a file of run {run.path};"
                f" give another file name, e.g. {run.path / 'report.html'}"
            )
        other = enclosing_run(target)
        if other is not None and other.path not in ours:
            raise SearchError(
                f"{option('output')} {output}: would write {target} in the folder of run {other.path},"
                f" which this report is not of; give a file outside it, e.g."
                f" {reported[0].path / 'report.html'}"
            )
    if targets.count(output) > 1:
        raise SearchError(
            f"{option('output')} {output}: the report's ranked table is written beside its page,"
            f" as .csv and .json; give the page's file name, e.g. {output.with_suffix('.html')}"
        )


HEAD_CHARS = 4096
"""How much of an existing file is read to tell whether a report wrote it."""
TABLE_HEADER = "trial,"
"""How the first line of a report's CSV table begins."""


def _is_report_file(path: Path) -> bool:
    """Whether the existing file ``path`` is one a report wrote (its page, or a ranked
    table as CSV or JSON), which a report written again may replace."""
    try:
        if path.suffix == ".json":
            rows = json.loads(path.read_text(encoding="utf-8"))
            return isinstance(rows, list) and all(isinstance(r, dict) and "trial" in r for r in rows)
        with path.open(encoding="utf-8") as file:
            head = file.read(HEAD_CHARS)
    except (OSError, UnicodeDecodeError, ValueError):
        return False
    return head.startswith(TABLE_HEADER) if path.suffix == ".csv" else is_report_page(head)


def _check_replaced(output: Path, targets: Sequence[Path]) -> None:
    """SearchError, before anything is written, where a file the report would write exists
    and is not a report's: a user's own file is never replaced."""
    for target in targets:
        if (target.exists() or target.is_symlink()) and not _is_report_file(target):
            raise SearchError(
                f"{option('output')} {output}: would replace {target}, which is not a report's;"
                " give another file name (a report writes NAME.html, NAME.csv and NAME.json)"
            )


def _table_json(table: pd.DataFrame) -> str:
    records = json.loads(table.to_json(orient="records"))
    return json.dumps(records, indent=1) + "\n"


def write_report(
    folders: Sequence[RunFolder],
    output: Path | None = None,
    converged_epochs: int | None = None,
    tolerance: float | None = None,
    top_k: int = 5,
) -> tuple[Path, list[RunReport]]:
    """Write the HTML report (one run, or a comparison of several) and, next to it, each
    run's ranked table as CSV and JSON.

    Each run is ranked by its own rule unless ``converged_epochs`` or ``tolerance`` is
    given (see :func:`load_report`).

    Args:
        folders: the runs; one gets its own report, several a comparison.
        output: the HTML file (its folder made if missing); None: :func:`default_output`.
        converged_epochs: the rule's converged epochs for every run; None: each run's own.
        tolerance: the rule's tolerance for every run; None: each run's own.
        top_k: how many top-ranked trials a one-run report plots the learning curves of.

    Returns:
        The HTML file's path, and each run's analysis in the order of ``folders``.

    Raises:
        RunFolderError: A run cannot be read or holds no trials.
        SearchError: A file the report would write is one of a run's own (nothing is written).
    """
    reports = [load_report(f, converged_epochs, tolerance) for f in folders]
    given = output is not None
    output = Path(output) if output is not None else default_output(folders)
    files = report_files(output, reports)
    targets = [output, *(path for pair in files.values() for path in pair)]
    _check_targets(output, targets, folders)
    _check_replaced(output, targets)
    page = render_run(reports[0], top_k) if len(reports) == 1 else render_compare(reports)
    _write_files(output, page, [(files[r.folder.path], r.table) for r in reports], given)
    return output, reports


def _write_files(
    output: Path, page: str, tables: list[tuple[tuple[Path, Path], pd.DataFrame]], given: bool
) -> None:
    """Write the page to ``output`` and each ranked table to its CSV and JSON files. A full
    disk (or a folder that cannot be written) at an ``output`` the user ``given`` is named
    as ``--output``'s, with its fix (:func:`output_failure`): it said to move the run, whose
    disk it need not be."""
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(output, page.encode("utf-8"))
        for (csv, table_json), table in tables:
            write_atomic(csv, table.to_csv(index=False).encode())
            write_atomic(table_json, _table_json(table).encode())
    except OSError as exc:
        error = output_failure(exc, output, "the report", given)
        if error is None:
            raise
        raise error from None


def report_written(folder: RunFolder) -> bool:
    """Whether a run's own report (``RUN/report.html`` and its ranked table) was written
    whole: its table's JSON file, which is written last, is there.

    Args:
        folder: the run folder.

    Returns:
        True where ``RUN/report.json`` exists.
    """
    return default_output([folder]).with_suffix(".json").is_file()


def report_lines(folder: RunFolder) -> list[str]:
    """Write a finished run's report; the lines that say what it chose, against the
    baseline, and where the report is. A report that cannot be written never fails the
    run: the line says so and how to write it later.

    Args:
        folder: the run folder; the report goes to ``RUN/report.html``.

    Returns:
        The choice's lines, the baseline's (if it ran) and the report's path; or one line
        saying why the report was not written.
    """
    try:
        output, reports = write_report([folder])
    except (SearchError, ValueError, OSError) as exc:
        return [f"report not written ({exc}); try: python -m search report {folder.path}"]
    report = reports[0]
    said = [*choice_lines(report), report.baseline]
    return [*(line for line in said if line is not None), f"report: {output}"]
