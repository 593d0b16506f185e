"""Finalists at full fidelity (``--finalists K``): the search's best configurations each
train on the full training data, validated, and the best of them at that fidelity is the
final model.

A search judges configurations on a share of the images and a few epochs; what pays off
over a long run on all of them (a wider network, more dropout, augmentation) can lose
there. The top K distinct configurations by the ranking rule, the baseline among them,
each train as the validated retrain does (the learning rate cut on plateaus, stopped
when the validation metric stops improving, at most ``--retrain-max-epochs``). The one
with the best validation score at its kept epoch wins; its weights are the final model,
tested once. The test set still decides nothing.
"""

from __future__ import annotations

import math
import time
import traceback
from dataclasses import dataclass
from typing import Any

import keras
import keras_tuner as kt

from search._text import plural
from search.data import Splits
from search.engine._choose import best_summary, ranked_ids
from search.engine._context import RunContext, Say
from search.engine._plan import final_setup
from search.engine._retrain import (
    EpochLine,
    Fitted,
    fit_configuration,
    retrain_data,
    tested,
    trained_record,
)
from search.environment import environment_error
from search.errors import SearchError
from search.failures import failure_reason


def pick_finalists(records: list[dict[str, Any]], ranked: list[str], count: int) -> list[dict[str, Any]]:
    """The ``count`` best distinct configurations, best first, by ``ranked`` (trial ids by
    the ranking rule); the baseline (the space's defaults) takes the last place if it is
    not among them."""
    by_id = {r["id"]: r for r in records}
    picked: list[dict[str, Any]] = []
    seen: set[str] = set()
    for trial in ranked:
        key = repr(sorted(by_id[trial]["hyperparameters"].items()))
        if key not in seen:
            seen.add(key)
            picked.append(by_id[trial])
    finalists = picked[:count]
    baseline = next((r for r in picked if r.get("baseline")), None)
    if baseline is not None and baseline not in finalists and count > 1:
        finalists[-1] = baseline
    return finalists


@dataclass(frozen=True)
class Finalist:
    """One finalist trained: its search record, what its training says, its model."""

    record: dict[str, Any]
    summary: dict[str, Any]
    fitted: Fitted | None
    """None: it failed (``summary["failure"]`` says why)."""
    score: float
    splits: Splits
    hypermodel: Any


def run_finalists(
    ctx: RunContext, hypermodel: Any, records: list[dict[str, Any]], count: int
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Train the finalists, keep the best at full fidelity, test it once and save it.

    A finalist that fails (its loss diverges on the full data, it runs out of memory) is
    recorded with its reason and left out; the others go on.

    Returns:
        The chosen trial's record and run.json's ``final`` (with ``finalists``: each one's
        training, and ``gain_over_baseline``: how much better the chosen one's validation
        score is than the baseline's, where the baseline was a finalist).

    Raises:
        SearchError: Every finalist failed.
    """
    request, say = ctx.request, Say(ctx.console, ctx.quiet)
    ranked = ranked_ids(records, request)
    finalists = pick_finalists(records, ranked, count)
    monitor = request.kt_objective()
    names = ", ".join(f"{r['id']}{' (baseline)' if r.get('baseline') else ''}" for r in finalists)
    say(
        f"{plural(len(finalists), 'finalist')} at full fidelity (trials {names}): each trains"
        f" while {monitor.name.replace('_', ' ')} improves, at most"
        f" {plural(request.retrain_max_epochs, 'epoch')}"
    )
    started = time.perf_counter()
    rank = {trial: place for place, trial in enumerate(ranked, 1)}
    setups: dict[Any, tuple[Splits, Any]] = {}
    leader: Finalist | None = None
    summaries = []
    for place, record in enumerate(finalists, 1):
        label = f"finalist {place}/{len(finalists)}"
        finalist = _train(ctx, _setup(ctx, hypermodel, record, setups), record, label, say)
        summaries.append({**finalist.summary, "search_rank": rank[record["id"]]})
        if finalist.fitted is not None and (leader is None or _better(finalist, leader, monitor)):
            leader = finalist
        del finalist  # a losing finalist's model goes before the next one is built
    if leader is None:
        reasons = "; ".join(f"trial {f['trial']}: {f['failure']}" for f in summaries)
        raise SearchError(f"every finalist failed ({reasons}); see {ctx.folder.run_file}")
    final = _test_and_save(ctx, leader, started)
    final["finalists"] = summaries
    baseline = next((f for f in summaries if f.get("baseline") and "failure" not in f), None)
    if baseline is not None and math.isfinite(leader.score):
        sign = 1 if monitor.direction == "max" else -1
        final["gain_over_baseline"] = round(sign * (leader.score - baseline["val_score"]), 5)
    return leader.record, final


def _better(finalist: Finalist, than: Finalist, monitor: kt.Objective) -> bool:
    """Whether ``finalist`` validates better than ``than``; a score beats no score (NaN)."""
    score, other = finalist.score, than.score
    if not math.isfinite(other):
        return math.isfinite(score)
    if not math.isfinite(score):
        return False
    return score > other if monitor.direction == "max" else score < other


def _setup(
    ctx: RunContext, hypermodel: Any, record: dict[str, Any], setups: dict[Any, tuple[Splits, Any]]
) -> tuple[Splits, Any]:
    """The data and hypermodel a finalist trains with (:func:`final_setup`), loaded once per
    image size among the finalists."""
    size_of = ctx.plan.experiment.final_image_size
    key = None if size_of is None else size_of(record["hyperparameters"])
    if key not in setups:
        setups[key] = final_setup(ctx.plan, ctx.splits, hypermodel, record, ctx.console, ctx.quiet)
    return setups[key]


def _train(
    ctx: RunContext, setup: tuple[Splits, Any], record: dict[str, Any], label: str, say: Say
) -> Finalist:
    """One finalist trained validated on the full training data; a failure is recorded
    with its one-line reason (``fitted`` None), the environment's stops the run."""
    splits, final_hypermodel = setup
    x, y = retrain_data(splits, "validated")
    hp = kt.HyperParameters()
    hp.values = dict(record["hyperparameters"])
    epochs, monitor = ctx.request.retrain_max_epochs, ctx.request.kt_objective()
    say(f"{label}: trial {record['id']}'s configuration on {len(x):,} images")
    line = None if ctx.quiet else EpochLine(ctx.console, epochs, validated=True, label=label)
    started = time.perf_counter()
    try:
        fitted = fit_configuration(
            final_hypermodel, hp, x, y, (splits.x_val, splits.y_val), epochs, monitor, line
        )
    except Exception as exc:
        if environment_error(exc) is not None:
            raise
        reason = failure_reason("".join(traceback.format_exception_only(exc))) or repr(exc)
        say(f"{label}: failed ({reason})")
        failed = {"trial": record["id"], "baseline": bool(record.get("baseline")), "failure": reason}
        return Finalist(record, failed, None, math.nan, splits, final_hypermodel)
    summary = trained_record(record, "validated", len(x), fitted, monitor.name, epochs)
    score = float(summary.get("val_score", fitted.curve.get(monitor.name, [math.nan])[-1]))
    summary.update(
        baseline=bool(record.get("baseline")), val_score=score,
        train_seconds=round(time.perf_counter() - started, 1),
    )  # fmt: skip
    say(f"{label}: {monitor.name} {score:.4f} at epoch {fitted.kept} of {fitted.epochs}")
    return Finalist(record, summary, fitted, score, splits, final_hypermodel)


def _test_and_save(ctx: RunContext, leader: Finalist, started: float) -> dict[str, Any]:
    """The chosen finalist evaluated once on the test set, saved as the run's model."""
    assert leader.fitted is not None
    out = tested(leader.hypermodel, leader.fitted.model, leader.splits, ctx.folder.model_file)
    keras.backend.clear_session()
    return {
        **leader.summary,
        **out,
        "chosen_by": (
            "validation at full fidelity among the finalists" if math.isfinite(leader.score)
            else "the search's rank: no finalist logged its validation score"
        ),
        "seconds": round(time.perf_counter() - started, 1),
    }


def chosen_summary(
    record: dict[str, Any], objective: str, count: int, search_choice: str
) -> dict[str, Any]:
    """run.json's ``best`` when the finalists chose: the trial, and why."""
    changed = record["id"] != search_choice
    rule = (
        f"Trial {record['id']} was chosen among {count} finalists trained on the full training"
        f" data, by validation {objective} at its kept epoch"
        + (f" (the search had ranked trial {search_choice} first)." if changed else ".")
    )
    return {**best_summary(record, objective), "rule": rule, "search_choice": search_choice}


__all__ = ["chosen_summary", "pick_finalists", "run_finalists"]
