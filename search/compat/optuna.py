"""Optuna's private internals, in one place: failing or marking another process's trial,
taking up a running trial again, and whether a value lies in a distribution."""

from __future__ import annotations

from typing import Any

import optuna
from optuna.distributions import BaseDistribution
from optuna.trial import FrozenTrial, TrialState

from search.compat._versions import require

OPTUNA_TESTED = (">=4", "<6")
"""The Optuna versions these adapters are tested with (pip specifiers)."""
DISTRIBUTIONS = ("optuna",)


def check_version() -> None:
    """Raise SearchError unless the installed Optuna is a tested version."""
    require("Optuna", DISTRIBUTIONS, OPTUNA_TESTED)


def running_trial(study: optuna.Study, frozen: FrozenTrial) -> optuna.Trial:
    """The live handle of a trial the study holds as running (to report to and tell)."""
    return optuna.Trial(study, frozen._trial_id)


def fail_trial(study: optuna.Study, frozen: FrozenTrial, user_attrs: dict[str, Any]) -> bool:
    """Set ``user_attrs`` on a running trial of another process, then mark it FAIL; False
    when it is not running any more (another process finished or failed it first).

    Optuna offers no public way to fail another process's trial: its storage does it.
    """
    storage = study._storage
    try:  # attributes can only be set while the trial runs: mark it, then fail it
        for key, value in user_attrs.items():
            storage.set_trial_user_attr(frozen._trial_id, key, value)
        return bool(storage.set_trial_state_values(frozen._trial_id, TrialState.FAIL))
    except RuntimeError:  # UpdateFinishedTrialError
        return False


def set_running_attr(study: optuna.Study, frozen: FrozenTrial, key: str, value: Any) -> bool:
    """Set a user attribute of a running trial of another process (Optuna offers no public
    way); False when it is not running any more."""
    try:
        study._storage.set_trial_user_attr(frozen._trial_id, key, value)
    except RuntimeError:  # UpdateFinishedTrialError
        return False
    return True


def contains(distribution: BaseDistribution, value: Any) -> bool:
    """Whether ``value`` (external representation) lies in ``distribution``: False for a
    value it cannot even represent (a choice it lacks, an int past 64 bits, a list)."""
    try:
        return bool(distribution._contains(distribution.to_internal_repr(value)))
    except (ValueError, TypeError, OverflowError):
        return False
