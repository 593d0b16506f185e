"""Choosing the run's trial: the ranking rule applied to the recorded trials."""

from __future__ import annotations

from typing import Any

from search._text import plural
from search.engine._records import TrialRecorder, failure_summary
from search.engine._request import RunRequest
from search.errors import SearchError, option
from search.ranking import Ranking, rank_run, trials_table
from search.storage import RunFolder


def ranking(records: list[dict[str, Any]], request: RunRequest) -> Ranking:
    """The run's trials ranked as the report ranks them: by the rule (converged accuracy
    within the tolerance, then the least overfitting) for val_accuracy, by the best value
    of the objective otherwise, or when the trials logged no epochs."""
    objective = request.kt_objective()
    table = trials_table(records, request.converged_epochs)
    name = request.objective if request.accuracy_rule else objective.name
    return rank_run(records, table, name, objective.direction, request.tolerance)


def ranked_ids(records: list[dict[str, Any]], request: RunRequest) -> list[str]:
    """Completed trials, best first (see :func:`ranking`)."""
    table = ranking(records, request).table
    return [str(t) for t in table.loc[table["rank"].notna(), "trial"]]


def choose_trial(
    recorder: TrialRecorder, request: RunRequest, folder: RunFolder, study: Any = None
) -> dict[str, Any]:
    """The step after the search: the trial to keep, recorded in run.json as ``best`` with
    the rule's sentence (and, for ``--objective pareto``, the Optuna ``study``'s front).

    Raises:
        SearchError: No trial completed; the message counts the failures by reason.
    """
    choice = ranking(list(recorder.records.values()), request).choice
    if choice is None:
        raise SearchError(_none_completed(recorder, request, folder))
    best = recorder.records[choice.trial]
    objective = request.kt_objective().name
    folder.update_meta(best={**best_summary(best, objective), "rule": choice.sentence()})
    if study is not None:
        folder.update_meta(pareto_front=pareto_front(study))
    return best


def _none_completed(recorder: TrialRecorder, request: RunRequest, folder: RunFolder) -> str:
    """Why no trial completed: the failures' reasons, and whether they are an earlier
    process's (a run continued after a fix, whose budget they had spent: none ran now)."""
    summary = failure_summary(recorder)
    alone = request.workers == 1 and not request.isolate  # else other processes ran the trials
    if recorder.records and not recorder.own_trials and alone:
        return (
            f"no trial completed: the run's {plural(len(recorder.records), 'trial')} failed before this"
            f" process went on with it ({summary}), which ran none (failed trials count against the"
            f" run's budget); search again under another {option('name')}, or delete {folder.path}"
        )
    return f"no trial completed ({summary}); see {folder.trials_file}"


def pareto_front(study: Any) -> list[dict[str, Any]]:
    """An Optuna study's Pareto-optimal trials: KerasTuner id, accuracy and overfitting."""
    return [
        {
            "trial": t.user_attrs.get("keras_tuner_trial_id"),
            "converged_val_accuracy": t.values[0],
            "overfitting": t.values[1],
        }
        for t in study.best_trials
    ]


def best_summary(best: dict[str, Any], objective: str) -> dict[str, Any]:
    """The chosen trial as run.json's ``best`` keeps it."""
    return {
        "trial": best["id"],
        "hyperparameters": best["hyperparameters"],
        "best_epoch": best["best_epoch"],
        objective: best["best"][objective],
        "metrics": best["best"],
    }


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


def start_points(
    records: list[dict[str, Any]], request: RunRequest, count: int, from_checkpoint: bool
) -> set[str]:
    """The trials whose search checkpoints the final step may need, whatever their rank now:
    every trial within the rule's tolerance of the best (a later trial can reorder them, by
    their overfitting) for ``--no-retrain``'s saved checkpoint; where the final trainings
    start from checkpoints (``from_checkpoint``: :func:`starts_from_checkpoint`) also the
    ``count`` finalists and the best baseline trial (retrained to compare, by ``export
    --trial`` or the gain bench)."""
    table = ranking(records, request).table
    close = {str(t) for t in table.loc[table["within_tolerance"].astype(bool), "trial"]}
    if not request.retrain:
        return close
    if not from_checkpoint:
        return set()
    ranked = [str(t) for t in table.loc[table["rank"].notna(), "trial"]]
    picked = {r["id"] for r in pick_finalists(records, ranked, count)}
    by_id = {r["id"]: r for r in records}
    baseline = next((t for t in ranked if by_id[t].get("baseline")), None)
    return close | picked | ({baseline} if baseline is not None else set())


__all__ = ["choose_trial", "pick_finalists", "ranked_ids", "ranking", "start_points"]
