"""Plotly figures of a report; each takes prepared data and only draws it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from search.ranking import HP_PREFIX, hp_columns
from search.report._data import ReportMetric, category_label

_GREY = "rgba(150,150,150,0.35)"
_CATEGORY_PAD = 0.5
"""Room either side of a category axis's first and last value, in categories."""
MODEBAR_PX = 32
"""Height of plotly's modebar (the tool buttons at the top right of every figure)."""
_SLICE_TITLE_PX = 15
_SLICE_TITLE_PAD_PX = 8
_SLICE_HEIGHT = 350
MAX_INTEGER_TICKS = 20
_INTEGER_STEPS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000)
_MARGIN = {"l": 60, "r": 20, "t": 50, "b": 50}
_LAYOUT = {"template": "plotly_white", "height": 380, "margin": _MARGIN}


def integer_axis(last: float) -> dict[str, Any]:
    """Ticks of an axis counting whole things (epochs, trials) up to ``last``: whole
    numbers only, every 1, 2, 5, 10, ... so that at most :data:`MAX_INTEGER_TICKS` show."""
    for step in _INTEGER_STEPS:
        if last / step <= MAX_INTEGER_TICKS:
            return {"tickmode": "linear", "tick0": 0, "dtick": step, "tickformat": "d"}
    return {"tickformat": "d"}


def _fig(title: str, **layout: Any) -> go.Figure:
    fig = go.Figure()
    fig.update_layout(title=title, **{**_LAYOUT, **layout})
    return fig


def _curve_title(metric: ReportMetric) -> str:
    if metric.is_accuracy:
        return "Learning curves (top trials in colour)"
    alone = "" if metric.train else f"; validation only: no training {_train_name(metric)} logged"
    return f"Learning curves: {metric.label} (top trials in colour{alone})"


def _train_name(metric: ReportMetric) -> str:
    """The training counterpart a validation metric would have (``loss`` for ``val_loss``)."""
    return metric.name[len("val_"):] if metric.name.startswith("val_") else f"counterpart of {metric.name}"


def learning_curves_plot(
    curves: Mapping[str, Sequence[Mapping[str, Any]]], top: Sequence[str],
    metric: ReportMetric | None = None,
) -> go.Figure:
    """Train (dashed) and validation ``metric`` (accuracy by default) per epoch; ``top``
    trials in colour; validation alone where no training counterpart was logged.

    Other trials share one grey trace each for train and validation (gaps split the
    lines), which keeps the page light at hundreds of trials.
    """
    metric = metric or ReportMetric()
    pairs = [(metric.name, "solid", "val"), (metric.train, "dot", "train")]
    keys = [(key, dash, label) for key, dash, label in pairs if key is not None]
    last = max((e["epoch"] for epochs in curves.values() for e in epochs), default=1)
    fig = _fig(_curve_title(metric), xaxis_title="epoch",
               yaxis_title="accuracy" if metric.is_accuracy else metric.name,
               xaxis=integer_axis(last))  # fmt: skip
    for key, dash, label in keys:
        xs: list[Any] = []
        ys: list[Any] = []
        for trial_id, epochs in curves.items():
            if trial_id in top:
                continue
            xs += [e["epoch"] for e in epochs] + [None]
            ys += [e.get(key) for e in epochs] + [None]
        if xs:
            fig.add_trace(go.Scatter(
                x=xs, y=ys, mode="lines", line={"color": _GREY, "width": 1, "dash": dash},
                name=f"other trials ({'validation' if label == 'val' else 'train'})",
                hoverinfo="skip",
            ))  # fmt: skip
    for i, trial_id in enumerate(top):
        epochs = curves.get(trial_id, [])
        color = _palette(i)
        for key, dash, label in keys:
            fig.add_trace(go.Scatter(
                x=[e["epoch"] for e in epochs], y=[e.get(key) for e in epochs],
                mode="lines+markers", line={"color": color, "dash": dash},
                name=f"trial {trial_id} {label}", legendgroup=trial_id,
            ))  # fmt: skip
    return fig


def _watched_label(metric: str) -> str:
    """How a figure names the metric a validated training watched."""
    return "validation accuracy" if metric == "val_accuracy" else metric


def retrain_plot(curve: pd.DataFrame, kept: int, metric: str = "val_accuracy") -> go.Figure:
    """The final retrain's watched ``metric`` per epoch (the kept epoch marked) and the
    learning rate it trained at (right axis, log scale)."""
    label = _watched_label(metric)
    fig = _fig(f"Final retrain: {label} (kept epoch {kept}) and learning rate",
               xaxis_title="epoch", xaxis=integer_axis(curve["epoch"].max()),
               yaxis_title=label,
               yaxis2={"title": "learning rate", "type": "log", "overlaying": "y",
                       "side": "right"})  # fmt: skip
    fig.add_trace(go.Scatter(x=curve["epoch"], y=curve[metric], mode="lines+markers",
                             name=label, line={"color": "#1f77b4"}))  # fmt: skip
    if curve["learning_rate"].notna().any():
        fig.add_trace(go.Scatter(x=curve["epoch"], y=curve["learning_rate"], mode="lines",
                                 name="learning rate", yaxis="y2",
                                 line={"color": "#888", "shape": "hv", "dash": "dot"}))  # fmt: skip
    at = curve[curve["epoch"] == kept]
    fig.add_trace(go.Scatter(x=at["epoch"], y=at[metric], mode="markers",
                             name="kept", marker={"size": 13, "symbol": "star",
                                                  "color": "#d62728"}))  # fmt: skip
    return fig


def finalists_plot(curves: pd.DataFrame, chosen: str, metric: str = "val_accuracy") -> go.Figure:
    """Each finalist's watched ``metric`` per epoch on the full training data; the chosen
    one drawn thick."""
    label = _watched_label(metric)
    fig = _fig(f"Finalists at full fidelity: {label} per epoch",
               xaxis_title="epoch", xaxis=integer_axis(curves["epoch"].max()),
               yaxis_title=label)  # fmt: skip
    for trial, rows in curves.groupby("trial", sort=False):
        mine = str(trial) == str(chosen)
        fig.add_trace(go.Scatter(
            x=rows["epoch"], y=rows[metric], mode="lines+markers",
            name=f"trial {trial}{' (chosen)' if mine else ''}",
            line={"width": 3 if mine else 1.5},
        ))  # fmt: skip
    return fig


def note_plot(title: str, text: str) -> go.Figure:
    """A figure that says in words why there is nothing to plot."""
    fig = _fig(title, xaxis={"visible": False}, yaxis={"visible": False})
    fig.add_annotation(text=text, showarrow=False, xref="paper", yref="paper", x=0.5, y=0.5)
    return fig


def objective_vs_gap_plot(table: pd.DataFrame, metric: ReportMetric) -> go.Figure:
    """Converged ``metric`` (not accuracy) against its gap, positive where train is better
    than validation; where no training counterpart was logged, a figure that says so."""
    train = _train_name(metric)
    if metric.train is None:
        return note_plot(
            f"{metric.name} vs train-validation gap: not available",
            f"The trials logged no training {train}, so there is no train-validation gap of"
            f" {metric.name} to plot.",
        )
    order = "validation - train" if metric.direction == "min" else "train - validation"
    fig = _fig(f"{metric.label} vs train-validation gap",
               xaxis_title=f"gap ({order} {train}; > 0: overfitting)",
               yaxis_title=f"converged {metric.name}")  # fmt: skip
    _gap_points(fig, table[table[metric.column].notna()], metric.column, metric.gap_column)
    fig.add_vline(x=0.0, line={"color": "#888", "dash": "dot"},
                  annotation_text="below 0: no overfitting")  # fmt: skip
    return fig


def _gap_points(fig: go.Figure, scored: pd.DataFrame, value: str, gap: str) -> None:
    """The ranked trials in blue; the others (pruned, failed after some epochs: their
    values are of partial epochs, not converged, and the ranking and the Pareto front leave
    them out) in grey, named as such."""
    ranked = scored["rank"].notna() if "rank" in scored else scored["status"] == "completed"
    for rows, name, color in ((scored[ranked], "trials", "#1f77b4"),
                              (scored[~ranked], "not ranked (not completed)", _GREY)):  # fmt: skip
        if name == "trials" or not rows.empty:
            fig.add_trace(go.Scatter(
                x=rows[gap], y=rows[value], mode="markers",
                text=[f"trial {t} ({s})" if name != "trials" else f"trial {t}"
                      for t, s in zip(rows["trial"], rows["status"], strict=True)],
                name=name, marker={"color": color, "size": 8, "opacity": 0.7},
            ))  # fmt: skip


def accuracy_vs_gap_plot(table: pd.DataFrame, metric: ReportMetric | None = None) -> go.Figure:
    """Converged validation accuracy against the gap; the Pareto front joined by a line.
    Another ``metric`` is drawn by :func:`objective_vs_gap_plot`.

    The front is judged on overfitting (gaps below 0 count as 0), so of the trials left of
    the dotted line only the most accurate can be on it.
    """
    if metric is not None and not metric.is_accuracy:
        return objective_vs_gap_plot(table, metric)
    fig = _fig("Validation accuracy vs train-validation gap",
               xaxis_title="gap (train - validation accuracy)",
               yaxis_title="converged validation accuracy")  # fmt: skip
    scored = table[table["converged_val_accuracy"].notna()]
    _gap_points(fig, scored, "converged_val_accuracy", "gap_accuracy")
    fig.add_vline(x=0.0, line={"color": "#888", "dash": "dot"},
                  annotation_text="below 0: no overfitting (counted as 0)")  # fmt: skip
    front = scored[scored["pareto"]].sort_values("gap_accuracy")
    fig.add_trace(go.Scatter(
        x=front["gap_accuracy"], y=front["converged_val_accuracy"], mode="lines+markers",
        text=[f"trial {t}" for t in front["trial"]], name="Pareto front",
        line={"color": "#d62728"}, marker={"size": 11, "symbol": "diamond"},
    ))  # fmt: skip
    return fig


def _numeric(series: pd.Series) -> tuple[list[float], dict[str, Any]]:
    """Values for an axis: numbers as they are, other values as codes with tick labels."""
    if pd.api.types.is_bool_dtype(series) or not pd.api.types.is_numeric_dtype(series):
        labels = [str(v) for v in series]
        levels = sorted(set(labels))
        codes = {label: i for i, label in enumerate(levels)}
        return [codes[label] for label in labels], {
            "tickvals": list(range(len(levels))), "ticktext": levels,
        }  # fmt: skip
    return [float(v) for v in series], {}


def parallel_coordinates_plot(table: pd.DataFrame, metric: ReportMetric | None = None) -> go.Figure:
    """Every searched hyperparameter and the converged ``metric`` (accuracy by default),
    one line per trial; the better trials in the scale's bright end whatever the direction."""
    metric = metric or ReportMetric()
    scored = table[table[metric.column].notna()]
    dims = []
    for column in hp_columns(scored):
        series = scored[column]
        if series.isna().any():
            series = series.astype(object).where(series.notna(), "inactive")
        if series.nunique() < 2:
            continue
        values, ticks = _numeric(series)
        dims.append({"label": column[len(HP_PREFIX):], "values": values, **ticks})
    label = "val acc" if metric.is_accuracy else metric.name
    dims.append({"label": label, "values": list(scored[metric.column])})
    fig = _fig("Parallel coordinates", height=460, margin={"l": 60, "r": 40, "t": 110, "b": 40})
    fig.add_trace(go.Parcoords(
        dimensions=dims,
        line={"color": list(scored[metric.column]), "colorscale": "Viridis",
              "showscale": True, **({"reversescale": True} if metric.direction == "min" else {})},
    ))  # fmt: skip
    return fig


def importance_plot(importances: Mapping[str, float], metric: ReportMetric | None = None) -> go.Figure:
    """fANOVA importance of each hyperparameter for the converged ``metric`` (validation
    accuracy by default)."""
    metric = metric or ReportMetric()
    target = "val accuracy" if metric.is_accuracy else metric.name
    fig = _fig(f"Hyperparameter importance (fANOVA, converged {target})",
               xaxis_title="importance")  # fmt: skip
    items = sorted(importances.items(), key=lambda kv: kv[1])
    fig.add_trace(go.Bar(x=[v for _, v in items], y=[k for k, _ in items], orientation="h"))
    return fig


def slice_plot(
    table: pd.DataFrame, name: str, log: bool, categories: Sequence[str] | None = None,
    metric: ReportMetric | None = None,
) -> go.Figure:
    """One hyperparameter's values against the converged ``metric`` (validation accuracy by
    default); with ``categories``, on a category axis showing exactly those values, in order."""
    metric = metric or ReportMetric()
    scored = table[table[metric.column].notna() & table[HP_PREFIX + name].notna()]
    against = metric.short_label
    # A slice is narrow: its title sits under the modebar's band, just above the plot.
    title = {"text": f"{name} vs {against}", "font": {"size": _SLICE_TITLE_PX},
             "yref": "paper", "y": 1, "yanchor": "bottom", "pad": {"b": _SLICE_TITLE_PAD_PX}}
    top = MODEBAR_PX + _SLICE_TITLE_PX + 2 * _SLICE_TITLE_PAD_PX
    y_title = "converged val accuracy" if metric.is_accuracy else f"converged {metric.name}"
    fig = _fig("", xaxis_title=name, yaxis_title=y_title, height=_SLICE_HEIGHT,
               margin={**_MARGIN, "t": top})  # fmt: skip
    fig.update_layout(title=title)
    x: Any = scored[HP_PREFIX + name]
    if categories is not None:
        x = [category_label(v) for v in x]
        fig.update_xaxes(type="category", categoryorder="array", categoryarray=list(categories),
                         range=[-_CATEGORY_PAD, len(categories) - 1 + _CATEGORY_PAD])  # fmt: skip
    elif log:
        fig.update_xaxes(type="log")
    fig.add_trace(go.Scatter(
        x=x, y=scored[metric.column], mode="markers",
        text=[f"trial {t}" for t in scored["trial"]], marker={"size": 8, "opacity": 0.7},
    ))  # fmt: skip
    return fig


def best_so_far_plot(
    series: Mapping[str, pd.DataFrame], x: str, y_title: str = "best converged val accuracy"
) -> go.Figure:
    """Best converged objective so far (its :func:`best_so_far`) against ``x`` (``minutes``
    or ``n``), a line per run; ``y_title`` names the objective."""
    label = "wall time" if x == "minutes" else "trials finished"
    axis = "wall time (minutes; a wait between a stop and its resume left out)" if x == "minutes" else label
    fig = _fig(f"Best so far vs {label}", xaxis_title=axis, yaxis_title=y_title)
    if x == "n":
        fig.update_xaxes(**integer_axis(max((len(f) for f in series.values()), default=1)))
    for i, (name, frame) in enumerate(series.items()):
        fig.add_trace(go.Scatter(
            x=frame[x], y=frame["best"], mode="lines+markers", line={"shape": "hv",
            "color": _palette(i)}, name=name,
        ))  # fmt: skip
    return fig


def _palette(i: int) -> str:
    colors = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
              "#17becf", "#bcbd22", "#7f7f7f")  # fmt: skip
    return colors[i % len(colors)]


def is_log(space: Mapping[str, Mapping[str, Any]], name: str) -> bool:
    return bool(space.get(name, {}).get("log"))
