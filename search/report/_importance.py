"""Hyperparameter importance from any run's table, with Optuna's fANOVA evaluator.

Optuna's evaluators take a study; a throwaway in-memory study is filled with the table's
completed trials (``create_trial`` + ``add_trials``), so KerasTuner runs get the same
analysis as Optuna runs.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import optuna
import pandas as pd

from search.compat import optuna as compat_optuna
from search.quiet import library_logs_kept
from search.ranking import HP_PREFIX

MIN_TRIALS = 4


def distributions(space: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """Optuna distributions for a space as stored in run.json (fixed entries left out).

    Args:
        space: run.json's ``space.params``: each hyperparameter's entry by name.

    Returns:
        Each float, int, choice or bool hyperparameter's distribution by name.
    """
    out: dict[str, Any] = {}
    for name, entry in space.items():
        kind = entry.get("type")
        if kind == "float":
            out[name] = optuna.distributions.FloatDistribution(
                entry["low"], entry["high"], log=entry.get("log", False),
                step=entry.get("step"),
            )  # fmt: skip
        elif kind == "int":
            log = entry.get("log", False)
            out[name] = optuna.distributions.IntDistribution(
                entry["low"], entry["high"], log=log, step=1 if log else entry.get("step", 1)
            )
        elif kind == "choice":
            out[name] = optuna.distributions.CategoricalDistribution(list(entry["values"]))
        elif kind == "bool":
            out[name] = optuna.distributions.CategoricalDistribution([False, True])
    return out


def importance_inputs(
    frame: pd.DataFrame, space: Mapping[str, Mapping[str, Any]], target: str
) -> list[optuna.trial.FrozenTrial]:
    """Completed trials with a finite ``target`` as Optuna trials over the space's searched
    parameters; values outside a distribution (e.g. from an edited space) are dropped.

    Args:
        frame: a ranked trials table (``status``, ``hp_NAME`` columns and ``target``).
        space: run.json's ``space.params``.
        target: the column the trials are scored by, e.g. ``converged_val_accuracy``.

    Returns:
        One completed Optuna trial per row kept, holding the values that fit the space.
    """
    compat_optuna.check_version()
    dists = distributions(space)
    trials = []
    for _, row in frame.iterrows():
        value = row.get(target)
        if row["status"] != "completed" or value is None or not math.isfinite(float(value)):
            continue
        params, used = {}, {}
        for name, dist in dists.items():
            raw = row.get(HP_PREFIX + name)
            if raw is None or (isinstance(raw, float) and math.isnan(raw)):
                continue
            raw = raw.item() if hasattr(raw, "item") else raw
            if not compat_optuna.contains(dist, raw):
                continue
            params[name], used[name] = raw, dist
        trials.append(
            optuna.trial.create_trial(value=float(value), params=params, distributions=used)
        )
    return trials


def param_importances(
    frame: pd.DataFrame, space: Mapping[str, Mapping[str, Any]], target: str, seed: int = 0,
    direction: str = "max",
) -> dict[str, float]:
    """Normalized fANOVA importances of the searched hyperparameters for ``target``, in
    a study of its ``direction`` (``max`` or ``min``).

    Empty when fewer than MIN_TRIALS completed trials exist or nothing varies.

    Args:
        frame: a ranked trials table (see :func:`importance_inputs`).
        space: run.json's ``space.params``.
        target: the column the trials are scored by.
        seed: the fANOVA evaluator's seed.
        direction: ``max`` or ``min``: the direction of ``target``.

    Returns:
        Each hyperparameter's importance by name, summing to 1, most important first.
    """
    trials = importance_inputs(frame, space, target)
    if len(trials) < MIN_TRIALS:
        return {}
    with library_logs_kept():  # Optuna logs as the caller had it, after
        optuna.logging.set_verbosity(optuna.logging.ERROR)
        study = optuna.create_study(direction="maximize" if direction == "max" else "minimize")
        study.add_trials(trials)
        try:
            return optuna.importance.get_param_importances(
                study, evaluator=optuna.importance.FanovaImportanceEvaluator(seed=seed)
            )
        except (ValueError, RuntimeError):
            return {}
