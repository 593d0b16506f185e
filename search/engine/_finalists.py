"""Finalists at full fidelity (``--finalists K``): the search's best configurations each
train on the full training data, validated, and the best of them at that fidelity is the
final model.

A search judges configurations on a share of the images and a few epochs; what pays off
over a long run on all of them (a wider network, more dropout, augmentation) can lose
there. The top K distinct configurations by the ranking rule, the baseline among them,
each train as the validated retrain does (``--retrain-schedule``: the learning rate cut
on plateaus, stopped when the validation metric stops improving, at most
``--retrain-max-epochs``; or every one of those epochs along a cosine). The one
with the best validation score at its kept epoch wins; its weights are the final model,
tested once. The test set still decides nothing.
"""

from __future__ import annotations

import math
import time
import traceback
from pathlib import Path
from typing import Any

import keras
import keras_tuner as kt

from hypermodels import load_state, save_state
from search._text import plural
from search.data import Splits
from search.engine._choose import best_summary, pick_finalists, ranked_ids
from search.engine._context import RunContext, Say
from search.engine._plan import final_setup, final_training
from search.engine._retrain import (
    EpochLine,
    fit_configuration,
    retrain_data,
    retrain_start,
    start_words,
    tested,
    trained_record,
)
from search.engine._signals import SearchStopped
from search.environment import environment_error
from search.errors import RunFolderError, SearchError
from search.failures import failure_reason
from search.report import fewer_finalists, tie_words
from search.storage import FinalistFiles, trained_epochs


def run_finalists(
    ctx: RunContext, hypermodel: Any, records: list[dict[str, Any]], count: int
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Train the finalists, keep the best at full fidelity, test it once and save it.

    A finalist that fails (its loss diverges on the full data, it runs out of memory) is
    recorded with its reason and left out; the others go on. Each finished finalist is
    kept on disk (:class:`FinalistFiles`) as it finishes: a resumed run trains only the
    ones left, the interrupted one from its last epoch, and chooses as it would have.

    Returns:
        The chosen trial's record and run.json's ``final`` (with ``finalists``: each one's
        training, and ``gain_over_baseline``: how much better the chosen one's validation
        score is than the baseline's, where the baseline was a finalist and both logged
        their score).

    Raises:
        SearchError: Every finalist failed.
    """
    request, say = ctx.request, Say(ctx.console, ctx.quiet)
    ranked = ranked_ids(records, request)
    finalists = pick_finalists(records, ranked, count)
    monitor = request.kt_objective()
    files = FinalistFiles(ctx.folder.path)
    names = ", ".join(f"{r['id']}{' (baseline)' if r.get('baseline') else ''}" for r in finalists)
    how = _how_long(*final_training(request, ctx.plan.experiment, ctx.plan.profile), monitor)
    say(
        f"{plural(len(finalists), 'finalist')}{fewer_finalists(len(finalists), count)} at full fidelity"
        f" (trials {names}): {how}"
    )
    # The finalists' time counts what earlier processes trained of them, as a retrain's does.
    started = time.perf_counter() - files.seconds()
    rank = {trial: place for place, trial in enumerate(ranked, 1)}
    setups: dict[Any, tuple[Splits, Any]] = {}
    summaries = []
    for place, record in enumerate(finalists, 1):
        label = f"finalist {place}/{len(finalists)}"
        summary = files.finished(record)
        if summary is None:
            setup = _setup(ctx, hypermodel, record, setups)
            start = retrain_start(request, ctx.folder, record, (ctx.splits, setup[1] is hypermodel), say)
            summary = _train(ctx, setup, record, label, say, start)
        else:
            say(f"{label}: trial {record['id']} already trained: {_outcome(summary, monitor.name)}")
        summary.pop("weights", None)
        summaries.append({**summary, "search_rank": rank[record["id"]]})
    leader = _leader(summaries, monitor)
    if leader is None:
        reasons = "; ".join(f"trial {f['trial']}: {f['failure']}" for f in summaries)
        raise SearchError(f"every finalist failed ({reasons}); see {ctx.folder.run_file}")
    chosen = next(r for r in finalists if r["id"] == leader["trial"])
    final = _test_and_save(ctx, _setup(ctx, hypermodel, chosen, setups), leader, started)
    final["finalists"], final["finalists_asked"] = summaries, count
    baseline = next((f for f in summaries if f.get("baseline") and "failure" not in f), None)
    if baseline is not None and math.isfinite(leader["val_score"]) and math.isfinite(baseline["val_score"]):
        sign = 1 if monitor.direction == "max" else -1
        gain = round(sign * (leader["val_score"] - baseline["val_score"]), 5)
        final["gain_over_baseline"] = gain + 0.0  # a minimized objective's tie: 0.0, not -0.0
    return chosen, final


def _outcome(summary: dict[str, Any], monitor: str) -> str:
    """A finished finalist in words: its score and kept epoch, or why it failed."""
    if "failure" in summary:
        return f"failed ({summary['failure']})"
    kept = summary.get("kept_epoch", summary["epochs"])
    if kept is None:  # a fit of the model's own that reported no epochs
        return f"{monitor} {summary['val_score']:.4f}"
    return f"{monitor} {summary['val_score']:.4f} at epoch {kept} of {summary['epochs']}"


def _leader(summaries: list[dict[str, Any]], monitor: kt.Objective) -> dict[str, Any] | None:
    """The finalist that validates best (the first of equals, in the finalists' order);
    None if every one failed."""
    leader = None
    for summary in summaries:
        if "failure" not in summary and (
            leader is None or _better(summary["val_score"], leader["val_score"], monitor)
        ):
            leader = summary
    return leader


def _better(score: float, other: float, monitor: kt.Objective) -> bool:
    """Whether ``score`` validates better than ``other``; a score beats no score (NaN)."""
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


def _how_long(schedule: str, epochs: int, monitor: kt.Objective) -> str:
    """How long each finalist trains, in words."""
    watched = monitor.name.replace("_", " ")
    if schedule == "cosine":
        return (
            f"each trains {plural(epochs, 'epoch')}, the learning rate decayed along a cosine,"
            f" keeping its epoch with the best {watched}"
        )
    return f"each trains while {watched} improves, at most {plural(epochs, 'epoch')}"


def _train(
    ctx: RunContext,
    setup: tuple[Splits, Any],
    record: dict[str, Any],
    label: str,
    say: Say,
    start: Path | None,
) -> dict[str, Any]:
    """One finalist trained validated on the full training data (from ``start``, its search
    checkpoint, or new weights; continued from its last epoch if a run was interrupted in
    it), its summary and weights kept on disk; a failure is recorded with its one-line
    reason, the environment's stop the run."""
    splits, final_hypermodel = setup
    files = FinalistFiles(ctx.folder.path)
    x, y, weights = retrain_data(splits, "validated")
    schedule, epochs = final_training(ctx.request, ctx.plan.experiment, ctx.plan.profile)
    monitor = ctx.request.kt_objective()
    state = files.state_file(record["id"])
    done = trained_epochs(state)
    say(f"{label}: trial {record['id']}'s configuration{start_words(record, start)} on"
        f" {len(y):,} {splits.unit}" + (f", continued after epoch {done}" if done else ""))  # fmt: skip
    line = None if ctx.quiet else EpochLine(ctx.console, epochs, schedule == "plateau", label, monitor.name)
    started = time.perf_counter()
    try:
        fitted = fit_configuration(
            final_hypermodel, _hyperparameters(record), x, y, splits.validation_data(),
            epochs, monitor, line, state=state, start=start, say=say, stop=ctx.stopper,
            sample_weight=weights, schedule=schedule,
        )  # fmt: skip
    except SearchStopped:
        raise  # a signal, not the finalist's failure: it goes on after its last epoch on resume
    except Exception as exc:
        if environment_error(exc) is not None:
            raise
        reason = failure_reason("".join(traceback.format_exception_only(exc))) or repr(exc)
        say(f"{label}: failed ({reason})")
        failed = {"trial": record["id"], "hyperparameters": record["hyperparameters"],
                  "baseline": bool(record.get("baseline")), "failure": reason}  # fmt: skip
        files.record(failed)
        return failed
    trained = (len(y), splits.unit)
    summary = trained_record(record, "validated", trained, fitted, monitor.name, epochs)
    score = float(summary.get("val_score", fitted.curve.get(monitor.name, [math.nan])[-1]))
    seconds = fitted.earlier_seconds + time.perf_counter() - started
    summary.update(baseline=bool(record.get("baseline")), val_score=score,
                   train_seconds=round(seconds, 1))  # fmt: skip
    save_state(files.weights_file(record["id"]), fitted.model, [], [])
    files.record({**summary, "weights": files.weights_file(record["id"]).name})
    say(f"{label}: {_outcome(summary, monitor.name)}")
    return summary


def _hyperparameters(record: dict[str, Any]) -> kt.HyperParameters:
    hp = kt.HyperParameters()
    hp.values = dict(record["hyperparameters"])
    return hp


def _test_and_save(
    ctx: RunContext, setup: tuple[Splits, Any], leader: dict[str, Any], started: float
) -> dict[str, Any]:
    """The chosen finalist's kept weights evaluated once on the test set, saved as the
    run's model."""
    splits, final_hypermodel = setup
    ctx.stopper.check()  # a signal after the last finalist's last batch: the resumed run tests
    keras.backend.clear_session()
    model = final_hypermodel.build(_hyperparameters(leader))
    weights = FinalistFiles(ctx.folder.path).weights_file(leader["trial"])
    # Evaluated only: the optimizer that trained it may be another (fine-tuning's).
    if load_state(weights, model, optimizer=False) is None:
        raise RunFolderError(f"{weights}: the chosen finalist's weights are unreadable;"
                             f" remove {weights.with_suffix('').with_suffix('.json')} and resume"
                             " to train it again")  # fmt: skip
    out = tested(final_hypermodel, model, splits, ctx.folder.model_file)
    keras.backend.clear_session()
    return {
        **{key: value for key, value in leader.items() if key != "search_rank"},
        **out,
        "chosen_by": (
            "validation at full fidelity among the finalists" if math.isfinite(leader["val_score"])
            else "the search's rank: no finalist logged its validation score"
        ),
        "seconds": round(time.perf_counter() - started, 1),
    }


def chosen_summary(
    record: dict[str, Any], objective: str, count: int, search_choice: str, scored: bool = True,
    final: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """run.json's ``best`` when the finalists chose: the trial, and why (``scored``: by
    their validation scores; False: no finalist logged one, so by the search's rank; a tie
    of scores among the ``final`` step's finalists is said to be broken by that rank)."""
    changed = record["id"] != search_choice
    how = (
        f"by validation {objective} at its kept epoch{tie_words(final or {})}" if scored
        else "by the search's rank (no finalist logged its validation score)"
    )
    rule = (
        f"Trial {record['id']} was chosen among {plural(count, 'finalist')} trained on the full training"
        f" data, {how}"
        + (f" (the search had ranked trial {search_choice} first)." if changed else ".")
    )
    return {**best_summary(record, objective), "rule": rule, "search_choice": search_choice}


__all__ = ["chosen_summary", "run_finalists"]
