"""Everything a report shows about one run, read from its folder alone."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from search._text import UNREADABLE, duration_words, plural
from search.errors import RunFolderError
from search.ranking import (
    ACCURACY_OBJECTIVES,
    CONVERGED_EPOCHS,
    TOLERANCE,
    Choice,
    ValueChoice,
    against_baseline,
    against_baseline_by_value,
    baseline_row,
    full_history,
    rank_run,
    trials_table,
)
from search.report._importance import param_importances
from search.report._kept import finalists_pending, kept_trial
from search.storage import ENDED, STOPPED, RunFolder, run_state, status_counts, tracked_objective

MAX_CATEGORIES = 10
"""An int hyperparameter with at most this many values is plotted on a category axis."""


@dataclass(frozen=True)
class RankRule:
    """The ranking rule's options a report ranks with, and how they differ from the run's."""

    converged_epochs: int
    tolerance: float
    note: str | None = None
    """Which given option differs from the run's own (None: the run's rule)."""

    @property
    def words(self) -> str:
        return f"converged epochs {self.converged_epochs}, tolerance {self.tolerance:g}"


def rank_rule(
    meta: Mapping[str, Any], converged_epochs: int | None = None, tolerance: float | None = None
) -> RankRule:
    """The run's own rule (run.json's request: ``--converged-epochs``, ``--tolerance``),
    where an option given here wins; the note says which given one differs from the run's."""
    request = meta.get("request") or {}
    own_epochs = int(request.get("converged_epochs", CONVERGED_EPOCHS))
    own_tolerance = float(request.get("tolerance", TOLERANCE))
    epochs = own_epochs if converged_epochs is None else converged_epochs
    tol = own_tolerance if tolerance is None else tolerance
    differ = [
        f"--{name} {used:g} (the run chose with {own:g})"
        for name, used, own in (("converged-epochs", epochs, own_epochs), ("tolerance", tol, own_tolerance))
        if used != own
    ]  # fmt: skip
    note = None
    if differ:
        note = (
            f"Ranked with {' and '.join(differ)}, not the run's own rule: this order and"
            " choice may differ from the run's."
        )
    return RankRule(epochs, tol, note)


@dataclass(frozen=True)
class ReportMetric:
    """The metric a report's figures plot: the run's objective, validation accuracy by
    default. ``train`` is its training counterpart where the trials logged one."""

    name: str = "val_accuracy"
    direction: str = "max"
    train: str | None = "accuracy"

    @property
    def is_accuracy(self) -> bool:
        return self.name == "val_accuracy"

    @property
    def column(self) -> str:
        """The table's column of each trial's converged value."""
        return "converged_val_accuracy" if self.is_accuracy else "converged_objective"

    @property
    def gap_column(self) -> str:
        """The table's column of each trial's gap (positive: train better than validation)."""
        return "gap_accuracy" if self.is_accuracy else "gap_objective"

    @property
    def short_label(self) -> str:
        """The metric's name in a heading: "validation accuracy", else as logged ("val_loss")."""
        return "validation accuracy" if self.is_accuracy else self.name

    @property
    def label(self) -> str:
        """The metric in words, e.g. "validation accuracy", "val_loss (lower is better)"."""
        if self.is_accuracy:
            return "validation accuracy"
        return f"{self.name} ({'lower' if self.direction == 'min' else 'higher'} is better)"


def report_metric(
    meta: Mapping[str, Any], curves: Mapping[str, Sequence[Mapping[str, Any]]]
) -> ReportMetric:
    """The metric the figures plot: run.json's objective (the metric KerasTuner tracks) and
    its direction; its training counterpart (``loss`` for ``val_loss``) where logged."""
    objective = meta.get("objective") or {}
    name = tracked_objective(meta)
    if name in ACCURACY_OBJECTIVES or objective.get("name") in ACCURACY_OBJECTIVES:
        return ReportMetric()
    train = name[len("val_"):] if name.startswith("val_") else None
    logged = train is not None and any(
        _finite(e.get(train)) for epochs in curves.values() for e in epochs
    )
    return ReportMetric(name, str(objective.get("direction", "max")), train if logged else None)


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


RULE_COLUMNS = (
    "best_val_accuracy", "best_epoch", "converged_val_accuracy", "converged_train_accuracy",
    "gap_accuracy", "converged_val_loss", "converged_train_loss", "gap_loss", "test_accuracy",
    "within_tolerance", "pareto",
)  # fmt: skip
"""The trials table's columns of the accuracy rule."""


def empty_rule_columns(table: pd.DataFrame) -> list[str]:
    """The accuracy rule's columns of ``table`` that hold nothing (no number in any row, no
    True flag): a run of another objective whose trials logged no accuracy.

    Args:
        table: a ranked trials table.

    Returns:
        Those columns' names, in :data:`RULE_COLUMNS`' order (to drop from what is shown).
    """

    def filled(column: pd.Series) -> bool:
        return bool(column.any()) if column.dtype == bool else bool(column.notna().any())

    return [c for c in RULE_COLUMNS if c in table and not filled(table[c])]


def objective_columns(
    table: pd.DataFrame, curves: Mapping[str, Sequence[Mapping[str, Any]]], metric: ReportMetric, k: int
) -> pd.DataFrame:
    """``table`` with each trial's converged objective (mean of the last ``k`` epochs up to
    its best one by the objective's direction, which is its ``best_epoch``), its training
    counterpart and the gap (positive where train is better than validation); unchanged
    for validation accuracy."""
    if metric.is_accuracy:
        return table
    sign = 1.0 if metric.direction == "max" else -1.0
    rows = []
    for trial_id in table["trial"]:
        scored = [e for e in curves.get(str(trial_id), []) if _finite(e.get(metric.name))]
        if not scored:
            rows.append((math.nan, math.nan, math.nan))
            continue
        best = max(scored, key=lambda e: sign * e[metric.name])  # max keeps the earliest tie
        window = [e for e in scored if e["epoch"] <= best["epoch"]][-k:]
        train = [e[metric.train] for e in window if metric.train and _finite(e.get(metric.train))]
        rows.append((
            float(np.mean([e[metric.name] for e in window])),
            float(np.mean(train)) if train else math.nan,
            float(best["epoch"]),
        ))  # fmt: skip
    table = table.copy()
    table["best_epoch"] = [epoch for _, _, epoch in rows]
    table["converged_objective"] = [value for value, _, _ in rows]
    table["converged_train_objective"] = [train for _, train, _ in rows]
    table["gap_objective"] = sign * (table["converged_train_objective"] - table["converged_objective"])
    return table


@dataclass(frozen=True)
class RunReport:
    """A run's metadata, ranked table, choice, importances and learning curves."""

    folder: RunFolder
    meta: dict[str, Any]
    table: pd.DataFrame
    choice: Choice | ValueChoice | None
    importances: dict[str, float]
    curves: dict[str, list[dict[str, Any]]]
    running: bool
    converged_epochs: int
    tolerance: float
    counts: dict[str, int] = field(default_factory=dict)
    state: str = "unknown"
    """run.json's status, or ``stopped (no process is running it)`` for a killed run."""
    baseline: str | None = None
    """How the choice compares with the baseline trial (the space's defaults), if it ran."""
    by_value: str | None = None
    """Why the trials are ranked by the objective alone (None: by the accuracy rule)."""
    rule_note: str | None = None
    """How the rule differs from the run's own, when the report was given other options."""
    metric: ReportMetric = field(default_factory=ReportMetric)
    """The metric the figures plot: the run's objective."""

    @property
    def rule(self) -> RankRule:
        """The rule's options this report ranked with."""
        return RankRule(self.converged_epochs, self.tolerance, self.rule_note)

    @property
    def label(self) -> str:
        return f"{self.meta.get('experiment')}/{self.folder.name} ({self.meta.get('tuner')})"


def load_report(
    folder: RunFolder, converged_epochs: int | None = None, tolerance: float | None = None
) -> RunReport:
    """Read and analyse a run; RunFolderError if it is missing or holds no trials.

    The trials are ranked by the run's own rule (its ``--converged-epochs`` and
    ``--tolerance``, from run.json's request); an option given here wins, and the report
    says it differs from the run's.

    Args:
        folder: the run folder, finished or not.
        converged_epochs: the rule's converged epochs; None: the run's own.
        tolerance: the rule's tolerance on converged validation accuracy; None: the run's own.

    Returns:
        Everything the report shows of the run.

    Raises:
        RunFolderError: run.json or trials.json is missing or damaged, or no trial was recorded.
    """
    meta = folder.read_meta(require=("experiment", "tuner"))  # as status and export need them
    trials = folder.read_trials()
    if not trials:
        raise RunFolderError(
            f"{folder.path}: holds no trials yet; a report needs at least one trial"
        )
    rule = rank_rule(meta, converged_epochs, tolerance)
    objective = meta.get("objective") or {}
    final = meta.get("final")
    ranking = rank_run(
        trials, trials_table(trials, rule.converged_epochs, final),
        str(objective.get("name", "val_accuracy")), str(objective.get("direction", "max")),
        rule.tolerance,
    )  # fmt: skip
    by_id = {t["id"]: t for t in trials}
    curves = {t["id"]: full_history(t, by_id) for t in trials}
    metric = report_metric(meta, curves)
    table = objective_columns(ranking.table, curves, metric, rule.converged_epochs)
    table, choice = mark_final(table, meta, ranking.choice), ranking.choice
    importances = param_importances(
        table, meta.get("space", {}).get("params", {}), metric.column, direction=metric.direction
    )
    state = run_state(folder, str(meta.get("status", "unknown")))
    if state != "running":
        table = _left_running(table, state)
    return RunReport(
        folder=folder, meta=meta, table=table, choice=choice,
        importances=importances, curves=curves, running=state == "running", state=state,
        converged_epochs=rule.converged_epochs, tolerance=rule.tolerance,
        counts=status_counts(trials), baseline=baseline_line(table, choice, final),
        by_value=ranking.by_value, rule_note=_note(rule.note, ranking.by_value), metric=metric,
    )  # fmt: skip


DISPLAY_DECIMALS = 4
"""The decimals a score or a gain is shown to; scores equal to them are a tie."""

UNFINISHED = (
    "its choice is only the best of the trials so far, not the run's (resuming it continues"
    " the search)."
)
"""What a report says of a run that stopped in its search (interrupted, failed, its process gone)."""

_HOW_STOPPED = {
    "interrupted": "it was interrupted",
    "failed": "it failed",
    STOPPED: "its process ended and none is running it",
}
"""How a run that did not finish stopped, by its state, in words without brackets."""


def unfinished_note(report: RunReport) -> str | None:
    """What the report says of a run that stopped before it finished: in its search, that
    its choice is only the best of the trials so far (:data:`UNFINISHED`); after the search
    chose (run.json's ``best``), in its finalists or retrain, that the choice is the run's
    and resuming continues that final training, not the search.

    Args:
        report: the run's analysis.

    Returns:
        The note; None for a finished or running run (the latter is said to be still
        running), and for a failed one with no scored trial (nothing was chosen; the page
        says why no trial scored).
    """
    if report.running or report.state == "finished":
        return None
    how = _HOW_STOPPED.get(report.state, report.state)
    searched = (report.meta.get("best") or {}).get("trial")
    if searched is not None:
        if finalists_pending(report.meta) and not (report.meta.get("best") or {}).get("search_choice"):
            return (
                f"The run did not finish: {how} in its finalists. Its search is over and ranked"
                f" trial {searched} first; resuming it continues the finalists, which choose at"
                " full fidelity, not the search."
            )
        return (
            f"The run did not finish: {how} in its final training. Its search is over and"
            f" trial {searched} is the run's choice; resuming it continues the final training,"
            " not the search."
        )
    if report.choice is None:
        return None if report.state == "failed" else (
            f"The run did not finish: {how}; resuming it continues the search."
        )
    return f"The run did not finish: {how}; {UNFINISHED}"


def nothing_scored(report: RunReport) -> str:
    """Why a run has no choice: no trial scored yet, or, in a run that ended, how many
    failed and the first one's reason.

    Args:
        report: the run's analysis, with no choice.

    Returns:
        E.g. "no trial scored: 2 of 2 failed (trial 0: ValueError: bad)".
    """
    if report.running or report.state not in ENDED:
        return "no trial scored yet"
    failed = report.table[report.table["status"] == "failed"]
    if failed.empty:
        return "no trial scored"
    first = failed.iloc[0]
    why = f"trial {first['trial']}: {first['reason']}"
    return f"no trial scored: {len(failed)} of {len(report.table)} failed ({why})"


LEFT_RUNNING = "the run stopped in it; resume continues it"
LEFT_BY_WORKER = "its worker stopped in it; the run finished without it"


def _left_running(table: pd.DataFrame, state: str) -> pd.DataFrame:
    """The trials a run in ``state`` (not running) left ``running`` in trials.json shown as
    what they are: interrupted, nothing runs them (resume continues them, or, in a finished
    run, a worker killed in one left it)."""
    left = table["status"] == "running"
    if not left.any():
        return table
    table = table.copy()
    table.loc[left, "status"] = "interrupted"
    table.loc[left, "reason"] = LEFT_BY_WORKER if state == "finished" else LEFT_RUNNING
    return table


def _note(given: str | None, by_value: str | None) -> str | None:
    """The report's word on ranking options given to it: the rule's note, or, for a run
    ranked by its objective's value, that they change nothing."""
    if given is None or by_value is None:
        return given
    return f"The ranking options given to the report do not change this run's order or choice: {by_value}."


def mark_final(
    table: pd.DataFrame, meta: Mapping[str, Any], choice: Choice | ValueChoice | None
) -> pd.DataFrame:
    """The ranked table with ``chosen`` (the trial the run keeps, :func:`kept_trial`: its
    final model's, else run.json's ``best`` once the search chose, which a report given
    other ranking options may not rank first; else the rule's choice) and
    ``finalist_val_score`` (each finalist's validation score at full fidelity; NaN for the
    others)."""
    finalists = (meta.get("final") or {}).get("finalists") or []
    scores = {str(f["trial"]): f.get("val_score", math.nan) for f in finalists}
    table = table.copy()
    table["chosen"] = table["trial"] == kept_trial(meta, choice)
    table["finalist_val_score"] = [float(scores.get(t, math.nan)) for t in table["trial"]]
    return table


def search_first(meta: Mapping[str, Any], choice: Choice | ValueChoice | None) -> str | None:
    """The trial the search ranked first: run.json's ``best.search_choice`` where the
    finalists chose after it, else the rule's choice."""
    return (meta.get("best") or {}).get("search_choice") or (choice.trial if choice else None)


def fewer_finalists(trained: int, asked: int) -> str:
    """Words after the finalists' count where the search had fewer distinct configurations
    than ``--finalists`` asked for; "" otherwise.

    Args:
        trained: the finalists trained.
        asked: ``--finalists``.

    Returns:
        E.g. " (4 asked; the search scored only 2 distinct configurations)".
    """
    if trained >= asked:
        return ""
    return f" ({asked} asked; the search scored only {plural(trained, 'distinct configuration')})"


def choice_lines(report: RunReport) -> list[str]:
    """What the run chose, in lines: the finalists' choice at full fidelity first (and
    what they found) where they chose, then the search's first choice by the rule.

    Args:
        report: the run's analysis.

    Returns:
        Sentences to print one a line; empty where nothing was chosen (no trial scored).
    """
    choice, final = report.choice, report.meta.get("final") or {}
    if not final.get("finalists"):
        return [choice.sentence()] if choice is not None else []
    first = search_first(report.meta, choice)
    by = (
        "validation at full fidelity" if math.isfinite(float(final.get("val_score", math.nan)))
        else "the search's rank (no finalist logged its validation score)"
    ) + tie_words(final)
    after = (
        "the search had ranked it first too" if first == final["trial"]
        else f"the search had ranked trial {first} first"
    )
    lines = [
        f"Chose trial {final['trial']} among {plural(len(final['finalists']), 'finalist')}"
        f"{fewer_finalists(len(final['finalists']), int(final.get('finalists_asked') or 0))},"
        f" by {by}; {after}."
    ]
    lines += [f"Then {text}." for text in [describe_finalists(final)] if text is not None]
    if choice is not None:
        lines.append(f"In the search, trial {choice.trial} ranked first: {choice.details()}.")
    return lines


def tie_words(final: Mapping[str, Any]) -> str:
    """Words after how the finalists chose where the chosen one's validation score equals
    another finalist's at the decimals shown (:data:`DISPLAY_DECIMALS`), as :func:`versus`
    reads a tie: the finalists' order (the search's rank) broke the tie; "" otherwise.

    Args:
        final: run.json's ``final`` with its ``finalists``.

    Returns:
        E.g. " (tied with trial 0; the search's rank broke the tie)".
    """
    score = final.get("val_score")
    if not isinstance(score, (int, float)) or not math.isfinite(score):
        return ""
    tied = [
        str(f["trial"]) for f in final.get("finalists") or []
        if f["trial"] != final["trial"] and "failure" not in f
        and isinstance(f.get("val_score"), (int, float))
        and round(f["val_score"] - score, DISPLAY_DECIMALS) == 0
    ]  # fmt: skip
    if not tied:
        return ""
    who = "trial" if len(tied) == 1 else "trials"
    return f" (tied with {who} {', '.join(tied)}; the search's rank broke the tie)"


def baseline_line(
    table: pd.DataFrame, choice: Choice | ValueChoice | None, final: Mapping[str, Any] | None
) -> str | None:
    """How the choice compares with the baseline: in the search (:func:`against_baseline`)
    and, where the finalists chose, with the baseline's finalist at full fidelity."""
    if isinstance(choice, ValueChoice):
        line = against_baseline_by_value(table, choice)
        if line is None or not (final or {}).get("finalists"):
            return line
        if bool(table.loc[table["trial"] == choice.trial, "baseline"].astype(bool).any()):
            line = f"In the search, {line[0].lower()}{line[1:]}"  # the finalists may choose another
        return f"{line.rstrip('.')}; {finalists_verdict(final or {})}."
    if not isinstance(choice, Choice):
        return None
    base = baseline_row(table, choice.trial)
    if base is None or not (final or {}).get("finalists"):
        return against_baseline(table, choice)
    acc, gap = float(base["converged_val_accuracy"]), float(base["gap_accuracy"])
    if choice.trial == base["trial"]:
        search = (
            f"The baseline (the space's defaults, trial {base['trial']}) ranked first in the"
            f" search (val acc {acc:.3f}, gap {gap:.3f})"
        )
    else:
        search = (
            f"In the search, trial {choice.trial} ranked above the baseline (the space's"
            f" defaults, trial {base['trial']}): converged val acc"
            f" {choice.val_accuracy - acc:+.3f} ({acc:.3f} -> {choice.val_accuracy:.3f}),"
            f" gap {choice.gap - gap:+.3f} ({gap:.3f} -> {choice.gap:.3f})"
        )
    return f"{search}; {finalists_verdict(final or {})}."


def finalists_verdict(final: Mapping[str, Any]) -> str:
    """What the finalists chose, against the baseline's finalist."""
    chosen = final["trial"]
    base = next((f for f in final["finalists"] if f.get("baseline")), None)
    if base is None:
        return f"the finalists chose trial {chosen} (the baseline was not among them)"
    if "failure" in base:
        return f"the finalists chose trial {chosen} (the baseline's finalist failed: {base['failure']})"
    if base["trial"] == chosen:
        return f"the finalists chose the baseline (trial {chosen}) at full fidelity"
    gain = final.get("gain_over_baseline")
    if gain is None:
        return f"the finalists chose trial {chosen}"
    watched = str(final.get("monitor", "val_accuracy")).replace("_", " ")
    return (
        f"the finalists chose trial {chosen} ({versus(gain, watched)} the baseline's"
        f" finalist, trial {base['trial']})"
    )


def versus(gain: float, watched: str) -> str:
    """A gain over the baseline in words, for either direction of the objective (``gain``
    is positive where the chosen one is better: higher accuracy, lower loss); a tie at the
    four decimals shown (:data:`DISPLAY_DECIMALS`) reads as one, not as "0.0000 better"."""
    if round(gain, DISPLAY_DECIMALS) == 0:
        return f"equal in {watched} to"
    return f"{abs(gain):.4f} {'better' if gain > 0 else 'worse'} in {watched} than"


def best_so_far(
    table: pd.DataFrame, created: str | None, metric: ReportMetric | None = None,
    resumed: Sequence[str] = (),
) -> pd.DataFrame:
    """Best converged value of ``metric`` (validation accuracy by default) after each
    finished trial, by trial and by the run's time: the running max, or min for a minimized
    one.

    Columns: ``n`` (trials finished), ``minutes`` (since the run was created, less the time
    between each stop and its resume), ``best``.

    Args:
        table: a report's ranked table (``finished``, ``status`` and the metric's converged
            column).
        created: run.json's ``created`` time; None: minutes count from the first trial's end.
        metric: the metric and its direction; None: validation accuracy.
        resumed: run.json's ``resumed`` times. The time from the last trial that finished
            before each to the resume is left out (a stopped run may wait days; the part of
            the interrupted trial trained before the stop is left out with it).

    Returns:
        One row per finished trial, in order of finishing; ``best`` is NaN until one scored.
        Only completed trials set it, as only they are ranked: a pruned or failed trial's
        partial epochs never make the best (the chosen trial would fall short of it).
    """
    done = table[table["finished"].notna()].copy()
    if done.empty:
        return pd.DataFrame(columns=["n", "minutes", "best"])
    done["_t"] = pd.to_datetime(done["finished"], utc=True)
    done = done.sort_values("_t", kind="stable")
    start = pd.to_datetime(created, utc=True) if created else done["_t"].iloc[0]
    metric = metric or ReportMetric()
    sign = 1.0 if metric.direction == "max" else -1.0
    value = done[metric.column].astype(float).where(done["status"] == "completed")
    acc = (sign * value).fillna(-math.inf).cummax()
    elapsed = (done["_t"] - start).dt.total_seconds() - _idle_seconds(done["_t"], start, resumed)
    return pd.DataFrame({
        "n": range(1, len(done) + 1),
        "minutes": (elapsed / 60).to_numpy(),
        "best": (sign * acc.replace(-math.inf, math.nan)).to_numpy(),
    })  # fmt: skip


def _idle_seconds(finished: pd.Series, start: pd.Timestamp, resumed: Sequence[str]) -> pd.Series:
    """For each time in ``finished`` (sorted), the seconds of the gaps before it between a
    stop and a resume: from the last finish (or the previous process's start) before each
    time in ``resumed`` to it."""
    idle = pd.Series(0.0, index=finished.index)
    since = start
    for resume in sorted(pd.to_datetime(list(resumed), utc=True)):
        before = finished[finished < resume]
        last = max(since, before.iloc[-1]) if not before.empty else since
        idle[finished >= resume] += max(0.0, (resume - last).total_seconds())
        since = resume
    return idle


def best_title(metrics: Sequence[ReportMetric]) -> str:
    """The best-so-far axis title for runs of these metrics: "best converged val accuracy",
    "best converged val_loss (lowest)", or, for runs of different objectives, each run's
    own. Converged, as :func:`best_so_far` plots it: not the table's best epoch."""
    names = {(m.name, m.direction) for m in metrics} or {("val_accuracy", "max")}
    if len(names) > 1:
        return "best converged objective (each run's own)"
    name, direction = names.pop()
    if name == "val_accuracy":
        return "best converged val accuracy"
    return f"best converged {name} ({'lowest' if direction == 'min' else 'highest'})"


def best_objective_words(report: RunReport) -> str | None:
    """The chosen trial's objective value, for a comparison of runs of different objectives:
    "val_loss 0.45 (trial 1)", "val_accuracy 0.8 (trial 0)" (converged); None without a choice."""
    choice = report.choice
    if isinstance(choice, ValueChoice):
        return f"{choice.objective} {choice.value:.4g} (trial {choice.trial})"
    if isinstance(choice, Choice):
        return f"val_accuracy {choice.val_accuracy:.4g} (trial {choice.trial})"
    return None


def wall_minutes(meta: dict[str, Any]) -> float | None:
    if meta.get("seconds"):
        return float(meta["seconds"]) / 60
    created = meta.get("created")
    if not created:
        return None
    start = datetime.fromisoformat(created)
    return (datetime.now(start.tzinfo) - start).total_seconds() / 60


def _test_results(final: dict[str, Any]) -> list[tuple[str, float]]:
    """The final model's test metrics, accuracy first and loss last; empty without test data."""
    metrics = final.get("test_metrics")
    if metrics is None and final.get("test_accuracy") is not None:
        metrics = {"accuracy": final["test_accuracy"]}
    if not metrics:
        return []
    first = ["accuracy"] if "accuracy" in metrics else []
    names = first + [n for n in metrics if n not in first and n != "loss"] + ["loss"] * ("loss" in metrics)
    return [(name, float(metrics[name])) for name in names]


def describe_test(final: dict[str, Any]) -> str:
    """The final model's test result in words, e.g. "accuracy 0.9257" or "auc 0.9412,
    loss 0.2811"; "no test data" when none was given.

    Args:
        final: run.json's ``final`` (its ``test_metrics``, else ``test_accuracy``).

    Returns:
        Every test metric, accuracy first and loss last, to four decimals.
    """
    results = _test_results(final)
    return ", ".join(f"{name} {value:.4f}" for name, value in results) or "no test data"


def first_test(final: dict[str, Any]) -> str | None:
    """The final model's first test metric in words ("accuracy 0.9257", a regression's
    "mean_absolute_error 0.7880"); None when it was not tested.

    Args:
        final: run.json's ``final``; empty for a run not retrained.

    Returns:
        Accuracy where it was measured, else the first other metric, to four decimals.
    """
    results = _test_results(final)
    return f"{results[0][0]} {results[0][1]:.4f}" if results else None


def tested_line(final: dict[str, Any]) -> str:
    """The final model's test result as ``run`` and ``status`` print it, named by the
    model's own first metric: "TEST accuracy of the retrained model: 0.9257", "TEST
    mean_absolute_error of the retrained model: 0.7880, loss 1.1970".

    Args:
        final: run.json's ``final``.

    Returns:
        The line: accuracy alone where it was measured, else the first metric and then the
        others; "none (no test data)" where there was none.
    """
    results = _test_results(final)
    if not results:
        return "TEST of the retrained model: none (no test data)"
    (name, value), rest = results[0], results[1:]
    others = "".join(f", {other} {score:.4f}" for other, score in rest if name != "accuracy")
    return f"TEST {name} of the retrained model: {value:.4f}{others}"


def category_label(value: Any) -> str:
    """A hyperparameter value as an axis category: 32.0 (an int column holding NaN) is "32"."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def slice_categories(spec: Mapping[str, Any], values: pd.Series) -> list[str] | None:
    """The categories of a hyperparameter's axis, in the space's order, or None for a
    continuous axis. Choices, booleans and ints with at most :data:`MAX_CATEGORIES` values
    get exactly their values; other non-numeric values, those seen."""
    kind = spec.get("type")
    if kind == "bool":
        return [category_label(v) for v in (False, True)]
    if kind == "choice":
        return [category_label(v) for v in spec["values"]]
    if kind == "int":
        grid = range(int(spec["low"]), int(spec["high"]) + 1, int(spec.get("step") or 1))
        return [category_label(v) for v in grid] if len(grid) <= MAX_CATEGORIES else None
    if pd.api.types.is_bool_dtype(values) or not pd.api.types.is_numeric_dtype(values):
        return sorted({category_label(v) for v in values.dropna()})
    return None


def describe_budget(meta: dict[str, Any]) -> str:
    """The run's budget in words: Hyperband's schedule (and its cap, if any), or trials
    and epochs, e.g. "Hyperband schedule, max_epochs 6, factor 3", and the fidelity when
    the training images grew with the epochs (``--fidelity data``/``both``), and the
    search's time limit, if it had one.

    Args:
        meta: run.json's content (its ``tuner``, ``budget`` and ``search_time_up``).

    Returns:
        One line of text for the report's run summary.
    """
    budget = meta.get("budget") or {}
    trials, epochs = budget.get("max_trials"), budget.get("max_epochs")
    fidelity = budget.get("fidelity", "epochs")
    grows = "" if fidelity == "epochs" else f"; fidelity {fidelity} (training images grow with epochs)"
    grows += time_limit_words(meta) + space_spent_words(meta)
    if meta.get("tuner") == "hyperband":
        text = f"Hyperband schedule, max_epochs {epochs}, factor {budget.get('factor')}"
        return (text if trials is None else f"{text}, capped at {trials} trials") + grows
    shown = "the backend's default" if trials is None else trials
    return f"max_trials {shown}, max_epochs {epochs}{grows}"


SPACE_SPENT = "stopped early: no untried configuration of the space found"
"""Why a search ran fewer trials than its ``max_trials``: its tuner drew only tried
configurations (Optuna lists a finite space's; KerasTuner's oracles stop after 20 draws)."""


def time_limit_words(meta: dict[str, Any]) -> str:
    """``; at most 6 min of search (reached)`` for a run with a time limit; empty otherwise.

    Args:
        meta: run.json's content (its ``budget.max_search_seconds`` and ``search_time_up``).

    Returns:
        The words, to append to a budget's; "(reached)" where the limit stopped the search.
    """
    limit = (meta.get("budget") or {}).get("max_search_seconds")
    if limit is None:
        return ""
    reached = " (reached)" if meta.get("search_time_up") else ""
    return f"; at most {duration_words(limit)} of search{reached}"


def space_spent_words(meta: dict[str, Any]) -> str:
    """``; stopped early: ...`` for a search that ran out of untried configurations before
    its ``max_trials``; empty otherwise.

    Args:
        meta: run.json's content (its ``space_spent``).

    Returns:
        The words, to append to a budget's.
    """
    return f"; {SPACE_SPENT}" if meta.get("space_spent") else ""


def describe_training(final: dict[str, Any]) -> str:
    """How the final model was trained, e.g. "12 epochs on 50,000 images from its search
    checkpoint, kept epoch 9 (val accuracy 0.9235)", "6 epochs on 60,000 images" or "20
    epochs on 50,000 images, the learning rate along a cosine, kept epoch 19 (...)".

    Args:
        final: run.json's ``final`` of a retrained model (it must hold ``train_images``).

    Returns:
        The epochs and examples, where it started from, and the epoch kept with its score.
    """
    unit = final.get("train_unit", "images")
    epochs = final.get("epochs")
    trained = "epochs its own fit did not report" if epochs is None else plural(epochs, "epoch")
    text = f"{trained} on {final['train_images']:,} {unit}"
    if final.get("started_from") == "checkpoint":
        text += " from its search checkpoint"
    elif final.get("start_problem"):
        problem = "cannot be read" if final["start_problem"].startswith(UNREADABLE) else "did not fit"
        text += f" from new weights (its search checkpoint {problem})"
    if final.get("schedule") == "cosine":
        text += ", the learning rate along a cosine"
    if final.get("kept_epoch") is not None:
        watched = final.get("monitor", "val_accuracy").replace("_", " ")
        score = final.get("val_score", final.get("val_accuracy"))
        text += f", kept epoch {final['kept_epoch']} ({watched} {score:.4f})"
    return text


def watched_curve(record: Mapping[str, Any] | None) -> tuple[str, list[float]]:
    """The metric a validated training (the retrain, a finalist) recorded per epoch and its
    values: the one it watched (``val_score_per_epoch``) where recorded, else validation
    accuracy; ``("val_accuracy", [])`` for a training that watched nothing."""
    record = record or {}
    if record.get("val_score_per_epoch"):
        return str(record.get("monitor")), [float(v) for v in record["val_score_per_epoch"]]
    return "val_accuracy", [float(v) for v in record.get("val_accuracy_per_epoch") or []]


def retrain_curve(final: dict[str, Any] | None) -> pd.DataFrame | None:
    """A validated retrain's epochs: ``epoch``, the watched metric (:func:`watched_curve`:
    ``val_accuracy``, ``val_loss``...), ``learning_rate``; None for other retrains (they
    train for a fixed number of epochs and watch nothing)."""
    metric, scores = watched_curve(final)
    if not scores:
        return None
    rates = list((final or {}).get("learning_rates") or [])
    rates += [math.nan] * (len(scores) - len(rates))
    return pd.DataFrame({
        "epoch": range(1, len(scores) + 1),
        metric: scores,
        "learning_rate": [float(r) for r in rates[: len(scores)]],
    })  # fmt: skip


def final_curve_note(final: Mapping[str, Any] | None) -> str | None:
    """Why a validated retrain (or its finalists) that watched another metric than
    val_accuracy has no curve to plot (the run records it per epoch for val_accuracy
    only); None where there is a curve, or nothing was watched."""
    final = final or {}
    monitor, finalists = str(final.get("monitor", "val_accuracy")), final.get("finalists") or []
    if monitor == "val_accuracy" or final.get("kept_epoch") is None:
        return None
    if watched_curve(final)[1] or any(watched_curve(f)[1] for f in finalists):
        return None
    who = f"The {plural(len(finalists), 'finalist')}" if finalists else "The final retrain"
    score = final.get("val_score")
    kept = f"kept epoch {final['kept_epoch']}" + (
        f", {monitor} {float(score):.4f}" if isinstance(score, (int, float)) else ""
    )
    return (
        f"{who} watched {monitor} ({kept}); the run recorded no curve of it per epoch, so"
        " there is none to plot."
    )


def finalists_table(final: Mapping[str, Any] | None) -> pd.DataFrame | None:
    """The finalists (``--finalists``), in their search rank's order: ``trial``,
    ``search_rank``, ``baseline``, ``epochs``, ``kept_epoch``, ``val_score``,
    ``train_seconds``, ``chosen``; None when the run had none."""
    finalists = (final or {}).get("finalists")
    if not finalists:
        return None
    chosen = (final or {}).get("trial")
    return pd.DataFrame([
        {
            "trial": f["trial"], "search_rank": f.get("search_rank"),
            "baseline": bool(f.get("baseline")), "epochs": f.get("epochs"),
            "kept_epoch": f.get("kept_epoch"), "val_score": f.get("val_score"),
            "train_seconds": f.get("train_seconds"), "chosen": f["trial"] == chosen,
        }
        for f in finalists
    ])  # fmt: skip


def finalist_curves(final: Mapping[str, Any] | None) -> pd.DataFrame | None:
    """Each finalist's watched metric per epoch (:func:`watched_curve`): ``trial``,
    ``epoch`` and the metric's column (``val_accuracy``, ``val_loss``...); None when the run
    had no finalists or they recorded no curve."""
    rows = [
        {"trial": f["trial"], "epoch": epoch, metric: score}
        for f in (final or {}).get("finalists") or []
        for metric, scores in [watched_curve(f)]
        for epoch, score in enumerate(scores, 1)
    ]
    return pd.DataFrame(rows) if rows else None


def describe_finalists(final: Mapping[str, Any] | None) -> str | None:
    """What the finalists found, e.g. "3 finalists trained on 50,000 images: trial 7 kept
    (val accuracy 0.9312), 0.0041 better in val accuracy than the baseline (trial 0)"; None
    without finalists."""
    table = finalists_table(final)
    if table is None or final is None:
        return None
    watched = str(final.get("monitor", "val_accuracy")).replace("_", " ")
    text = (
        f"{plural(len(table), 'finalist')} trained on {final['train_images']:,}"
        f" {final.get('train_unit', 'images')}:"
        f" trial {final['trial']} kept ({watched} {final['val_score']:.4f})"
    )
    baseline = table[table["baseline"]]
    if final.get("gain_over_baseline") is not None and not baseline.empty:
        gain = final["gain_over_baseline"]
        trial = baseline.iloc[0]["trial"]
        text += (
            f", {versus(gain, watched)} the baseline (trial {trial})"
            if trial != final["trial"] else ", the baseline itself"
        )
    return text
