"""One self-contained HTML file: plotly.js embedded once, no network needed."""

from __future__ import annotations

import html
import math
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

from search._text import plural, running_trials, stopped_because
from search.ranking import HP_PREFIX, RULE, ValueChoice, hp_columns
from search.report._data import (
    ReportMetric,
    RunReport,
    best_objective_words,
    best_so_far,
    best_title,
    choice_lines,
    describe_budget,
    describe_finalists,
    describe_test,
    describe_training,
    empty_rule_columns,
    final_curve_note,
    finalist_curves,
    nothing_scored,
    retrain_curve,
    slice_categories,
    unfinished_note,
    wall_minutes,
    watched_curve,
)
from search.report._figures import (
    accuracy_vs_gap_plot,
    best_so_far_plot,
    finalists_plot,
    importance_plot,
    is_log,
    learning_curves_plot,
    note_plot,
    parallel_coordinates_plot,
    retrain_plot,
    slice_plot,
)
from search.report._kept import finalists_pending
from search.storage import ENDED

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 24px; color: #222; max-width: 1400px; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 2em; }
.choice { font-size: 1.15em; background: #eef6ee; padding: 10px 14px; border-left: 4px solid #2ca02c; }
.running { background: #fff4e0; border-left: 4px solid #ff7f0e; padding: 8px 14px; }
table { border-collapse: collapse; font-size: 0.85em; }
th, td { border: 1px solid #ddd; padding: 3px 6px; text-align: right; white-space: nowrap; }
th { background: #f4f4f4; cursor: pointer; position: sticky; top: 0; }
td.text { text-align: left; } tr.chosen { background: #eef6ee; font-weight: bold; }
.scroll { max-height: 520px; overflow: auto; border: 1px solid #ddd; }
dl.summary { display: grid; grid-template-columns: max-content auto; gap: 4px 16px; }
dl.summary dt { font-weight: bold; }
p.note { font-size: 0.85em; color: #555; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(420px, 1fr)); gap: 8px; }
"""

_SORT_JS = """
document.querySelectorAll('table.sortable').forEach(function (table) {
  table.querySelectorAll('th').forEach(function (th, col) {
    th.addEventListener('click', function () {
      var body = table.tBodies[0], rows = Array.from(body.rows);
      var asc = th.dataset.order !== 'asc'; th.dataset.order = asc ? 'asc' : 'desc';
      rows.sort(function (a, b) {
        var x = a.cells[col].dataset.v, y = b.cells[col].dataset.v;
        var nx = parseFloat(x), ny = parseFloat(y);
        var c = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : String(x).localeCompare(String(y));
        return asc ? c : -c;
      });
      rows.forEach(function (r) { body.appendChild(r); });
    });
  });
});
"""

_DRAW_JS = """
window.addEventListener('load', function () {
  var specs = Array.from(document.querySelectorAll('script.figure')), i = 0;
  function next() {
    if (i >= specs.length) { document.body.dataset.drawn = 'all'; return; }
    var node = specs[i++], spec = JSON.parse(node.textContent);
    Plotly.newPlot(document.getElementById(node.dataset.target), spec.data, spec.layout,
                   {displaylogo: false, responsive: true}).then(function () { setTimeout(next, 0); });
  }
  setTimeout(next, 0);
});
"""

TABLE_COLUMNS = (
    ("rank", "rank"), ("trial", "trial"), ("continues", "continues"), ("status", "status"),
    ("converged_val_accuracy", "val acc (converged)"), ("gap_accuracy", "gap acc"),
    ("best_val_accuracy", "best val acc"), ("best_epoch", "best epoch"),
    ("converged_train_accuracy", "train acc"), ("gap_loss", "gap loss"),
    ("pareto", "Pareto"), ("epochs", "epochs"), ("seconds", "seconds"),
    ("test_accuracy", "TEST acc"),
)  # fmt: skip

SECONDS_DECIMALS = 1
CONTINUES_NOTE = (
    "continues: Hyperband trains a promising configuration further in its next round as a"
    " new trial, which resumes the named trial's checkpoint; its epochs and learning curve"
    " include those of the trial it continues, its seconds are its own."
)


def _fmt(value: Any) -> tuple[str, str]:
    """(shown text, sort key) of a cell."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "", ""
    if isinstance(value, bool):
        return ("yes" if value else ""), str(int(value))
    if isinstance(value, float):
        text = f"{value:.4g}" if abs(value) < 1e-3 or abs(value) >= 1e4 else f"{value:.4f}"
        if value == int(value) and abs(value) < 1e6:
            text = str(int(value))
        return text, repr(value)
    return html.escape(str(value)), html.escape(str(value))


def table_html(
    table: pd.DataFrame, chosen: str | None, objective: str | None = None,
    metric: ReportMetric | None = None,
) -> str:
    """The ranked trials as a sortable HTML table (click a header to sort); ``objective``:
    the metric of the table's ``objective`` column, shown after the status, where it ranks;
    another ``metric`` than accuracy adds its converged value and gap after it."""
    hps = hp_columns(table)
    columns = list(TABLE_COLUMNS)
    if objective is not None and "objective" in table:
        columns.insert(4, ("objective", objective))
    if metric is not None and not metric.is_accuracy and metric.column in table:
        at = 5 if columns[4][0] == "objective" else 4
        columns[at:at] = [
            (metric.column, f"{metric.name} (converged)"), (metric.gap_column, f"gap {metric.name}")
        ]
        empty = empty_rule_columns(table)
        columns = [(c, label) for c, label in columns if c not in empty]
    head = [label for _, label in columns] + [c[len(HP_PREFIX):] for c in hps]
    rows = []
    for _, row in table.iterrows():
        cells = []
        for column in [c for c, _ in columns] + hps:
            shown, key = _fmt(row.get(column))
            if column == "seconds" and shown:
                shown = f"{row[column]:.{SECONDS_DECIMALS}f}"
            if column == "trial" and bool(row.get("baseline", False)):
                shown += " (baseline)"
            cls = ' class="text"' if column in ("trial", "continues", "status") else ""
            cells.append(f'<td{cls} data-v="{key}">{shown}</td>')
        attr = ' class="chosen"' if chosen is not None and row["trial"] == chosen else ""
        rows.append(f"<tr{attr}>{''.join(cells)}</tr>")
    header = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    note = f'<p class="note">{CONTINUES_NOTE}</p>' if table["continues"].notna().any() else ""
    return (
        f'<div class="scroll"><table class="sortable" id="trials"><thead><tr>{header}</tr>'
        f"</thead><tbody>{''.join(rows)}</tbody></table></div>{note}"
    )


def _figure_div(fig: go.Figure) -> str:
    """A placeholder div and the figure's JSON; drawn after the page is shown (_DRAW_JS)."""
    div_id = f"fig-{uuid.uuid4().hex[:12]}"
    height = fig.layout.height or 400
    spec = fig.to_json().replace("</", "<\\/")  # no "</script>" inside the script element
    return (
        f'<div class="plotly-graph-div" id="{div_id}" style="height:{height}px"></div>'
        f'<script type="application/json" class="figure" data-target="{div_id}">{spec}</script>'
    )


def _state(state: str, meta: dict[str, Any], folder: Path) -> str:
    """The run's state, with why it stopped where it failed or was interrupted (its resume
    command naming ``folder``, where the run lies now)."""
    reason = stopped_because(meta, state, folder)
    return f"{state}: {reason}" if reason else state


def _summary(report: RunReport) -> str:
    meta = report.meta
    counts = report.counts
    minutes = wall_minutes(meta)
    final = meta.get("final") or {}
    data = meta.get("data") or {}
    test = (
        f"{describe_test(final)} (trial {final['trial']}, retrained"
        f" {describe_training(final)}; test set used once, never to choose)"
        if final else _not_tested(report)
    )  # fmt: skip
    items = {
        "experiment": meta.get("experiment"),
        "backend": meta.get("tuner"),
        "status": "RUNNING" if report.running else _state(report.state, meta, report.folder.path),
        "budget": describe_budget(meta),
        "wall time": f"{minutes:.1f} min" if minutes is not None else "?",
        "trials": f"{counts.get('completed', 0)} completed, {counts.get('pruned', 0)} pruned,"
        f" {counts.get('failed', 0) + counts.get('invalid', 0)} failed,"
        f" {running_trials(counts.get('running', 0), report.running)}",
        "chosen configuration": _chosen_words(report),
        "baseline": report.baseline or "not run (--no-baseline, or it did not complete)",
        "finalists": describe_finalists(final)
        or ("none (the chosen configuration retrained alone)" if final else _no_finalists(report)),
        "test": test,
        "data": f"{data.get('train')} train / {data.get('validation')} validation"
        f" {data.get('unit', 'images')}" + _weighted(data),
    }
    warm = (meta.get("request") or {}).get("warm_start") or []
    if warm:
        items["warm start"] = (
            f"from {', '.join(str(folder) for folder in warm)} (their trials guided the search;"
            " only this run's are ranked)"
        )
    body = "".join(
        f"<dt>{html.escape(k)}</dt><dd>{html.escape(str(v))}</dd>" for k, v in items.items()
    )
    return f'<dl class="summary">{body}</dl>'


def _not_tested(report: RunReport) -> str:
    """The summary's test for a run without a final model: not retrained (``--no-retrain``,
    or a finished run), or not yet where the run stopped before its retrain."""
    retrain = (report.meta.get("request") or {}).get("retrain", True)
    if not retrain or report.state == "finished":
        return "not retrained"
    return f"not yet ({_not_finished(report)})"


def _not_finished(report: RunReport) -> str:
    """That a run has no final model yet: it has not finished yet (it runs), or it did not
    finish (it stopped)."""
    return "the run has not finished yet" if report.running else "the run did not finish"


def _chosen_words(report: RunReport) -> str:
    """The summary's chosen configuration: the trial :func:`mark_final` marked ``chosen``
    (the one the run keeps) and its values. A report given other ranking options than the
    run's says which trial they rank first."""
    row = report.table[report.table["chosen"].astype(bool)]
    if row.empty:
        return "none (no trial scored)"
    chosen = row.iloc[0]["trial"]
    values = {c[len(HP_PREFIX):]: row.iloc[0][c] for c in hp_columns(report.table)}
    config = ", ".join(f"{k}={_fmt(v)[0]}" for k, v in values.items() if _fmt(v)[0] != "")
    other = report.choice.trial if report.choice else chosen
    if report.rule_note and other != chosen and not (report.meta.get("final") or {}).get("finalists"):
        kept = "final model" if report.meta.get("final") or report.state == "finished" else "choice"
        config += f" (the run's {kept}; by the report's ranking options trial {other} ranks first)"
    return f"trial {chosen}: {config}"


def _no_finalists(report: RunReport) -> str:
    """The summary's finalists for a run without a final model: none, or, where the run
    stopped before its ``--finalists`` trained, not yet."""
    if finalists_pending(report.meta) and report.state != "finished":
        asked = int(report.meta["budget"]["finalists"])
        return f"not yet ({asked} asked; {_not_finished(report)})"
    return "none"


def _weighted(data: dict[str, Any]) -> str:
    """What the summary's data line adds for rows given weights (``sample_weight``)."""
    weighted = data.get("weighted") or []
    return f", weighted rows ({', '.join(map(str, weighted))})" if weighted else ""


def _failures(table: pd.DataFrame) -> str:
    bad = table[~table["status"].isin(["completed", "running"])]
    if bad.empty:
        return "<p>None.</p>"
    rows = "".join(
        f'<tr><td class="text">{html.escape(str(r.trial))}</td>'
        f'<td class="text">{html.escape(str(r.status))}</td><td>{r.epochs}</td>'
        f'<td class="text">{html.escape(str(r.reason or ""))}</td></tr>'
        for r in bad.itertuples()
    )
    return (
        "<table><thead><tr><th>trial</th><th>status</th><th>epochs</th><th>reason</th></tr>"
        f"</thead><tbody>{rows}</tbody></table>"
    )


def run_figures(report: RunReport, top_k: int) -> list[tuple[str, go.Figure]]:
    """Every figure of a one-run report, with its section title."""
    table, space = report.table, report.meta.get("space", {}).get("params", {})
    metric = report.metric
    ranked = table[table["rank"].notna()]
    top = list(ranked["trial"].head(top_k))
    # The kept trial is drawn in colour even where the finalists chose it from below the top.
    top += [t for t in table.loc[table["chosen"].astype(bool), "trial"] if t not in top]
    figures: list[tuple[str, go.Figure]] = [
        ("Learning curves", learning_curves_plot(report.curves, top, metric)),
        ("Accuracy vs gap" if metric.is_accuracy else f"{metric.name} vs gap",
         accuracy_vs_gap_plot(table, metric)),
        ("Parallel coordinates", parallel_coordinates_plot(table, metric)),
    ]  # fmt: skip
    if report.importances:
        figures.append(("Hyperparameter importance", importance_plot(report.importances, metric)))
    for column in hp_columns(table):
        name = column[len(HP_PREFIX):]
        if table[column].nunique(dropna=True) > 1:
            categories = slice_categories(space.get(name, {}), table[column])
            fig = slice_plot(table, name, is_log(space, name), categories, metric)
            figures.append((f"Slice: {name}", fig))
    final: dict[str, Any] = report.meta.get("final") or {}
    curve = retrain_curve(final)
    finalists = finalist_curves(final)
    if finalists is not None:
        watched = next(metric for metric, scores in map(watched_curve, final["finalists"]) if scores)
        figures.append(("Finalists at full fidelity", finalists_plot(finalists, final["trial"], watched)))
    elif curve is not None:
        watched = watched_curve(final)[0]
        figures.append(("Final retrain", retrain_plot(curve, int(final["kept_epoch"]), watched)))
    elif (note := final_curve_note(final)) is not None:
        figures.append(("Final retrain", note_plot("Final retrain: no curve recorded", note)))
    progress = {report.folder.name: best_so_far(
        table, report.meta.get("created"), metric, report.meta.get("resumed") or ()
    )}
    title = best_title([metric])
    figures.append(("Best so far vs wall time", best_so_far_plot(progress, "minutes", title)))
    figures.append(("Best so far vs trials", best_so_far_plot(progress, "n", title)))
    return figures


PAGE_START = '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>'
"""How every report page begins, up to its title."""
REPORT_TITLES = ("Search report ", "Comparison of runs")
"""How a one-run report's title and a comparison's begin."""


def is_report_page(head: str) -> bool:
    """Whether ``head``, the start of a file, is the start of a page this module wrote."""
    return head.startswith(PAGE_START) and head[len(PAGE_START):].startswith(REPORT_TITLES)


def _page(title: str, body: str) -> str:
    # plotly.js (4.6 MB) comes after the content, and figures are drawn one by one after the
    # load event, so the summary and the table show before the charts are ready.
    return (
        f"{PAGE_START}{html.escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body>{body}<script>{_SORT_JS}</script>"
        f'<script type="text/javascript">{get_plotlyjs()}</script>'
        f"<script>{_DRAW_JS}</script></body></html>\n"
    )


def render_run(report: RunReport, top_k: int = 5) -> str:
    """The whole HTML page for one run."""
    rule = RULE.format(epochs=plural(report.converged_epochs, "epoch"), tol=report.tolerance)
    if report.by_value is not None:
        rule = f"Ranking: {report.by_value}."
    if report.rule_note is not None:
        rule += f" {report.rule_note}"
    said = choice_lines(report)
    scored = "validation accuracy" if report.metric.is_accuracy else f"{report.metric.name} value"
    if not said and (report.running or report.state not in ENDED):
        said = [f"No trial has a {scored} yet."]
    elif not said:  # an ended run: as `search report` prints it, with why none scored
        words = nothing_scored(report)
        said = [f"{words[0].upper()}{words[1:]}."]
    headline = html.escape(" ".join(said))
    chosen = report.table.loc[report.table["chosen"].astype(bool), "trial"]
    ranked_by = report.choice.objective if isinstance(report.choice, ValueChoice) else None
    parts = [f"<h1>Search report: {html.escape(report.label)}</h1>"]
    if report.running:
        parts.append('<p class="running">This run is still RUNNING: the report shows the'
                     " trials finished so far.</p>")  # fmt: skip
    elif (note := unfinished_note(report)) is not None:
        parts.append(f'<p class="running">{html.escape(note)}</p>')
    parts += [
        f'<p class="choice">{headline}</p>',
        f"<p>{html.escape(rule)}</p>",
        "<h2>Summary</h2>", _summary(report),
        "<h2>Trials, ranked</h2>",
        table_html(report.table, chosen.iloc[0] if len(chosen) else None, ranked_by, report.metric),
    ]  # fmt: skip
    figures = run_figures(report, top_k)
    slices = [(t, f) for t, f in figures if t.startswith("Slice")]
    for title, fig in figures:
        if title.startswith("Slice"):
            continue
        parts.append(f"<h2>{html.escape(title)}</h2>{_figure_div(fig)}")
    if slices:
        against = report.metric.short_label
        parts.append(f"<h2>Slices: each hyperparameter vs {against}</h2><div class='grid'>")
        parts += [_figure_div(fig) for _, fig in slices]
        parts.append("</div>")
    parts += ["<h2>Failed and pruned trials</h2>", _failures(report.table)]
    return _page(f"Search report {report.label}", "".join(parts))


def render_compare(reports: Sequence[RunReport]) -> str:
    """One page comparing runs: best so far against wall time and trials, side by side."""
    progress = {
        r.label: best_so_far(r.table, r.meta.get("created"), r.metric, r.meta.get("resumed") or ())
        for r in reports
    }
    title = best_title([r.metric for r in reports])
    others = any(not r.metric.is_accuracy for r in reports)
    rows = []
    for r in reports:
        final = r.meta.get("final") or {}
        minutes = wall_minutes(r.meta)
        rows.append({
            "run": r.label, "backend": r.meta.get("tuner"),
            "trials": int(r.counts.get("completed", 0)),
            "wall minutes": f"{minutes:.1f}" if minutes is not None else None,  # not "3.6000"
            "chosen": _compare_chosen(r),
            "ranking rule": _rule_words(r) + (" (given to the report)" if r.rule_note else ""),
            "best converged val acc": r.choice.best_val_accuracy if r.choice else None,
            "TEST acc": final.get("test_accuracy"),
        })  # fmt: skip
        if others:  # runs of another objective: each one's own, and its model's test metrics
            test = describe_test(final) if final else _not_tested(r)
            rows[-1].update({"best objective": best_objective_words(r), "test": test})
    head = "".join(f"<th>{html.escape(k)}</th>" for k in rows[0])
    body = "".join(
        "<tr>" + "".join(
            f'<td class="text" data-v="{_fmt(v)[1]}">{_fmt(v)[0]}</td>' for v in row.values()
        ) + "</tr>"
        for row in rows
    )  # fmt: skip
    parts = [
        "<h1>Comparison of runs</h1>",
        f"<p>{html.escape(compare_note(reports))}</p>",
        f'<table class="sortable" id="trials"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>',
        "<h2>Best so far vs wall time</h2>", _figure_div(best_so_far_plot(progress, "minutes", title)),
        "<h2>Best so far vs trials</h2>", _figure_div(best_so_far_plot(progress, "n", title)),
    ]  # fmt: skip
    return _page("Comparison of runs", "".join(parts))


def _compare_chosen(report: RunReport) -> str:
    """A comparison's chosen cell: what the run chose, as the run's own page says it, with
    the same note where the run is still running or did not finish."""
    said = " ".join(choice_lines(report)) or nothing_scored(report)
    if report.running:
        return f"{said} (the run is still running: the trials finished so far)"
    note = unfinished_note(report)
    return said if note is None else f"{said} {note}"


def compare_note(reports: Sequence[RunReport]) -> str:
    """Which ranking rule ranks each run: its own, unless the report was given one."""
    given = any(r.rule_note is not None for r in reports)
    if given:
        return (
            "Every run is ranked with the rule given to the report (its ranking rule column),"
            " not by each run's own: a run's order and choice may differ from its own."
        )
    if len({_rule_words(r) for r in reports}) > 1:
        return (
            "These runs chose by different ranking rules; each is ranked by its own (its"
            " ranking rule column), so their choices are not judged alike."
        )
    return f"Every run is ranked by its own rule, the same for all: {_rule_words(reports[0])}."


def _rule_words(report: RunReport) -> str:
    """How a run is ranked: the accuracy rule's options, or why by its objective alone."""
    return report.by_value or report.rule.words
