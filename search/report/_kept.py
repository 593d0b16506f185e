"""Which trial a run keeps, and whether its finalists have yet to choose: one answer for
the report, ``search status`` and ``search list``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from search.ranking import Choice, ValueChoice


def kept_trial(meta: Mapping[str, Any], choice: Choice | ValueChoice | None) -> str | None:
    """The trial a run keeps: its final model's (run.json's ``final.trial``), else, once
    the search chose, run.json's ``best.trial`` (the model a ``--no-retrain`` run saved, or
    the search's first while finalists or a retrain are still to come), else ``choice``
    (the best of the trials so far, by the rule the report ranks with).

    Args:
        meta: the run's run.json.
        choice: the ranking's choice; None where none (or where the caller ranks nothing).

    Returns:
        The trial's id; None where no trial is kept yet.
    """
    for trial in ((meta.get("final") or {}).get("trial"), (meta.get("best") or {}).get("trial")):
        if trial is not None:
            return str(trial)
    return choice.trial if choice is not None else None


def finalists_pending(meta: Mapping[str, Any]) -> bool:
    """Whether a run's finalists are still to choose: it asked for more than one
    (``--finalists``) and has no final model yet; until then its search's first choice is
    not the run's.

    Args:
        meta: the run's run.json.

    Returns:
        True while the finalists have yet to choose.
    """
    asked = int((meta.get("budget") or {}).get("finalists") or 1)
    return asked > 1 and not meta.get("final")
