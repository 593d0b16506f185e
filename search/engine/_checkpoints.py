"""Keep the best trials' checkpoints, remove the rest as the search goes (``--keep-best``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import keras_tuner as kt

from search.compat import keras_tuner as compat_kt
from search.engine._choose import ranked_ids, start_points
from search.engine._request import RunRequest
from search.storage import RunFolder
from search.tuners import Observer

CHECKPOINT = "checkpoint.weights.h5"
FINISHED = ("completed", "pruned", "failed", "invalid")


def search_checkpoint(folder: RunFolder, trial: str) -> Path | None:
    """Trial ``trial``'s best-epoch checkpoint from the search (whichever worker wrote it).

    Args:
        folder: the run folder.
        trial: the trial's id.

    Returns:
        The checkpoint's path; None once ``--keep-best`` removed it, or where the trial kept
        none (a fit of its own that calls no callback).
    """
    found = sorted(folder.tuner_dir.glob(f"**/trial_{trial}/{CHECKPOINT}"))
    return found[0] if found else None


def pending_parents(oracle: Any) -> set[str]:
    """Trials Hyperband may still continue: every trial of a bracket that is not complete.

    KerasTuner's Hyperband builds a continued trial from its parent's checkpoint, so those
    must stay until their bracket ends. Other oracles continue nothing.
    """
    brackets = compat_kt.brackets(oracle)
    if not brackets:
        return set()
    keep: set[str] = set()
    for bracket in brackets:
        rounds = bracket["rounds"]
        last = len(rounds) - 1
        if len(rounds[last]) == compat_kt.round_size(oracle, bracket["bracket_num"], last):
            continue  # complete: nothing of it will be continued
        for round_info in rounds:
            keep.update(info["id"] for info in round_info)
    return keep


class CheckpointKeeper(Observer):
    """An observer that, after each trial, removes the checkpoints of finished trials that
    are neither among the ``keep`` best (by the run's ranking), nor in ``also``, nor needed
    by the tuner."""

    def __init__(
        self,
        folder: RunFolder,
        keep: int,
        ranked: Callable[[list[dict[str, Any]]], list[str]],
        also: Callable[[list[dict[str, Any]]], set[str]] | None = None,
    ) -> None:
        self.folder = folder
        self.keep = keep
        self.ranked = ranked
        self.also = also
        """The trials kept whatever their rank (those the final step starts from)."""
        self.oracle: Any = None


    def trial_end(self, trial: kt.engine.trial.Trial) -> None:
        self.prune()

    def prune(self, search_over: bool = False) -> list[str]:
        """Remove what is no longer needed; the ids of the trials whose checkpoint went.

        ``search_over``: nothing will be continued any more, even from a bracket that
        ``--max-trials`` cut short.
        """
        records = self.folder.read_trials()
        finished = {r["id"] for r in records if r.get("status") in FINISHED}
        keep = set(self.ranked(records)[: self.keep])
        if self.also is not None:
            keep |= self.also(records)
        if not search_over:
            keep |= pending_parents(self.oracle)
        removed = []
        for path in self._checkpoints():
            trial_id = path.parent.name.removeprefix("trial_")
            if trial_id in finished and trial_id not in keep:
                path.unlink(missing_ok=True)
                removed.append(trial_id)
        return removed

    def _checkpoints(self) -> list[Path]:
        # Every worker's tuner folder: trials are shared, so is the ranking.
        return sorted(self.folder.tuner_dir.glob(f"**/trial_*/{CHECKPOINT}"))


def checkpoint_keeper(
    folder: RunFolder, request: RunRequest, finalists: int, from_checkpoint: bool
) -> CheckpointKeeper | None:
    """The run's keeper (None with ``--keep-best all``): the best trials by its ranking, and
    those its final step starts from (:func:`start_points` of its ``finalists``, where
    ``from_checkpoint``)."""
    if request.keep_best is None:
        return None
    return CheckpointKeeper(
        folder, request.keep_best, lambda records: ranked_ids(records, request),
        also=lambda records: start_points(records, request, finalists, from_checkpoint),
    )  # fmt: skip
