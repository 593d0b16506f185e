"""KerasTuner's private internals, in one place: the Hyperband schedule, the oracle's
bookkeeping, the hooks a subclass overrides, its debug flag and the writes of its state
files and checkpoints."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from functools import cache
from typing import Any

import keras_tuner as kt
from keras_tuner.src import config as kt_config
from keras_tuner.src import utils as kt_utils
from keras_tuner.src.engine import tuner_utils

from search.compat._versions import require

KERAS_TUNER_TESTED = (">=1.4.7", "<1.5")
"""The KerasTuner versions these adapters are tested with (pip specifiers)."""
DISTRIBUTIONS = ("keras-tuner",)

_ORIGINAL_SAVE_JSON = kt_utils.save_json
_ORIGINAL_SAVE_BEST_EPOCH = tuner_utils.SaveBestEpoch


def check_version() -> None:
    """Raise SearchError unless the installed KerasTuner is a tested version."""
    require("KerasTuner", DISTRIBUTIONS, KERAS_TUNER_TESTED)


def is_tuner_callback(callback: Any) -> bool:
    """Whether ``callback`` is the one KerasTuner adds to every trial's fit to call its
    tuner's ``on_epoch_*`` and ``on_batch_*`` hooks (``tuner_utils.TunerCallback``)."""
    return isinstance(callback, tuner_utils.TunerCallback)


def set_debug(show: bool) -> None:
    """KerasTuner's ``DEBUG`` flag: whether a failed trial's traceback is printed as it
    fails (on by default, with no public switch)."""
    kt_config.DEBUG = show


def bracket_count(oracle: kt.oracles.HyperbandOracle) -> int:
    """How many brackets one Hyperband iteration has."""
    return int(oracle._get_num_brackets())


def round_count(oracle: kt.oracles.HyperbandOracle, bracket: int) -> int:
    """How many rounds Hyperband's ``bracket`` has."""
    return int(oracle._get_num_rounds(bracket))


def round_size(oracle: kt.oracles.HyperbandOracle, bracket: int, round_: int) -> int:
    """How many trials round ``round_`` of Hyperband's ``bracket`` holds."""
    return int(oracle._get_size(bracket, round_))


def round_epochs(oracle: kt.oracles.HyperbandOracle, bracket: int, round_: int) -> int:
    """The epochs each trial of round ``round_`` of Hyperband's ``bracket`` trains to."""
    return int(oracle._get_epochs(bracket, round_))


def brackets(oracle: Any) -> list[dict[str, Any]]:
    """A Hyperband oracle's brackets in progress (``bracket_num`` and ``rounds``, each a
    list of ``{"id": trial_id, ...}``); empty for any other oracle."""
    return list(getattr(oracle, "_brackets", None) or [])


def schedule_done(oracle: kt.Oracle) -> bool:
    """Whether a Hyperband oracle has created every trial of its schedule (it would stop
    rather than create another); False for any other oracle."""
    if not isinstance(oracle, kt.oracles.HyperbandOracle):
        return False
    started = [
        b for b in oracle._brackets
        if len(b["rounds"][-1]) != oracle._get_size(b["bracket_num"], len(b["rounds"]) - 1)
    ]  # fmt: skip
    last_bracket = oracle._current_bracket == 0
    return not started and last_bracket and oracle._current_iteration + 1 == oracle.hyperband_iterations


def retry_queue(oracle: kt.Oracle) -> list[str]:
    """The oracle's queue of trial ids to run again (a reload puts the trial that was
    running there); the list itself, so popping an id takes it off the queue."""
    queue: list[str] = oracle._retry_queue
    return queue


def record_values(oracle: kt.Oracle, trial: kt.engine.trial.Trial) -> None:
    """Note a new trial's values as tried (so the oracle does not propose them again)."""
    oracle._record_values(trial)


def save_trial(oracle: kt.Oracle, trial: kt.engine.trial.Trial) -> None:
    """Write a new trial's ``trial.json`` into its folder."""
    oracle._save_trial(trial)


def show_trial_begin(oracle: kt.Oracle, trial: kt.engine.trial.Trial) -> None:
    """Show a new trial's start on the oracle's display, as KerasTuner's own oracles do."""
    oracle._display.on_trial_begin(trial)


def _remote(path: str) -> bool:
    """A path on another file system (``gs://``...), written KerasTuner's own way."""
    return "://" in path


def _checkpoint_class(save_weights: Callable[[Any, str], None]) -> type:
    class SaveBestEpoch(_ORIGINAL_SAVE_BEST_EPOCH):  # type: ignore[misc, valid-type]
        """KerasTuner's best-epoch checkpoint callback, saving local checkpoints with
        ``save_weights(model, path)``."""

        def _save_model(self) -> None:
            if _remote(str(self.filepath)):
                super()._save_model()
            else:
                save_weights(self.model, str(self.filepath))

    return SaveBestEpoch


@cache
def _routes(
    save_json: Callable[[str, Any], str], save_weights: Callable[[Any, str], None]
) -> tuple[Callable[[str, Any], str], type]:
    """KerasTuner's ``save_json`` and ``SaveBestEpoch`` going through the given functions."""

    def routed_save_json(path: str, obj: Any) -> str:
        if _remote(str(path)):
            return str(_ORIGINAL_SAVE_JSON(path, obj))
        return save_json(path, obj)

    return routed_save_json, _checkpoint_class(save_weights)


def patch(save_json: Callable[[str, Any], str], save_weights: Callable[[Any, str], None]) -> None:
    """Route KerasTuner's state-file writes (``oracle.json``, ``trial.json``...: its
    ``save_json(path, obj) -> text``) and its trials' best-epoch checkpoints
    (``save_weights(model, path)``) through the given functions, for local paths.

    There is no public hook for either, so KerasTuner's ``save_json`` and the
    ``SaveBestEpoch`` class ``Tuner.run_trial`` builds are replaced (both are looked up at
    call time). Checks the version first; idempotent.
    """
    check_version()
    kt_utils.save_json, tuner_utils.SaveBestEpoch = _routes(save_json, save_weights)


def patched() -> bool:
    """Whether :func:`patch` replaced KerasTuner's writes in this process."""
    return kt_utils.save_json is not _ORIGINAL_SAVE_JSON


def ran_values(oracle: kt.Oracle, values: dict[str, Any]) -> bool:
    """Whether the oracle ran these values itself (KerasTuner's own duplicate check, not
    a subclass's)."""
    return bool(kt.Oracle._duplicate(oracle, values))


def values_hash(oracle: kt.Oracle, values: dict[str, Any]) -> str:
    """The oracle's hash of a configuration, as it compares tried values."""
    return str(oracle._compute_values_hash(values))


class OracleHooks(kt.Oracle):
    """An Oracle whose private hooks a subclass overrides under public names:
    :meth:`random_values` (``_random_values``), :meth:`is_duplicate` (``_duplicate``) and
    :meth:`hash_values` (``_compute_values_hash``)."""

    def _compute_values_hash(self, values: dict[str, Any]) -> str:
        return self.hash_values(values)

    def hash_values(self, values: dict[str, Any]) -> str:
        """The hash by which the oracle compares configurations."""
        return str(super()._compute_values_hash(values))

    def _random_values(self) -> dict[str, Any] | None:
        return self.random_values()

    def _duplicate(self, values: dict[str, Any]) -> bool:
        return self.is_duplicate(values)

    def random_values(self) -> dict[str, Any] | None:
        """Values for a new trial by the oracle's own rule; None when it finds none untried."""
        values: dict[str, Any] | None = super()._random_values()
        return values

    def is_duplicate(self, values: dict[str, Any]) -> bool:
        """Whether the oracle takes ``values`` for ones it has tried (and draws again)."""
        return bool(super()._duplicate(values))


SHRUNK = "first_round_trials"
"""The key of a Hyperband bracket that holds how many of its first round's trials completed
before the space ran out (kept with the oracle's state: KerasTuner saves its brackets as
they are)."""


class HyperbandHooks(kt.oracles.HyperbandOracle):
    """A Hyperband oracle whose private round size (``_get_size``) a subclass overrides as
    :meth:`round_target`, and whose short brackets it marks (:meth:`mark_short_brackets`)."""

    def _get_size(self, bracket_num: int, round_num: int) -> int:
        return self.round_target(bracket_num, round_num)

    def round_target(self, bracket: int, round_: int) -> int:
        """How many trials round ``round_`` of ``bracket`` holds, by Hyperband's rule."""
        return int(super()._get_size(bracket, round_))

    def mark_short_brackets(self) -> bool:
        """Mark each bracket whose first round holds fewer trials than Hyperband's rule asks
        with the number of them that completed (none: left as it is); whether any was."""
        marked = False
        for bracket in self._brackets:
            first = bracket["rounds"][0]
            statuses = [getattr(self.trials.get(entry["id"]), "status", None) for entry in first]
            done = statuses.count("COMPLETED")
            if SHRUNK not in bracket and done and len(first) < self.round_target(bracket["bracket_num"], 0):
                bracket[SHRUNK] = done
                marked = True
        return marked

    def first_round_done(self, bracket: int) -> int | None:
        """The mark of ``bracket`` (its number: one bracket of a number at a time, as the
        backends run one Hyperband iteration); None where it has none."""
        marks = [b[SHRUNK] for b in self._brackets if b["bracket_num"] == bracket and SHRUNK in b]
        return int(marks[0]) if marks else None


class TunerHooks:
    """A Tuner mixin whose private hooks a subclass overrides under public names:
    :meth:`populate_initial_space` (``_populate_initial_space``) and :meth:`build_model`
    (``_build_hypermodel``)."""

    def _populate_initial_space(self) -> None:
        self.populate_initial_space()

    def populate_initial_space(self) -> None:
        """KerasTuner's own: the space of the hypermodel's defaults, its model built once."""
        super()._populate_initial_space()  # type: ignore[misc]

    def _build_hypermodel(self, hp: kt.HyperParameters) -> Any:
        return self.build_model(hp)

    def build_model(self, hp: kt.HyperParameters) -> Any:
        """KerasTuner's own: the trial's model (Hyperband's continuation loads its parent
        trial's checkpoint, :func:`checkpoint_file`)."""
        return super()._build_hypermodel(hp)  # type: ignore[misc]

    def build_new_model(self, hp: kt.HyperParameters) -> Any:
        """The trial's model with new weights: a Hyperband continuation's parent checkpoint
        is not loaded."""
        return kt.Tuner._build_hypermodel(self, hp)


def checkpoint_file(tuner: kt.Tuner, trial_id: str) -> str:
    """Where ``tuner`` keeps trial ``trial_id``'s best-epoch checkpoint."""
    return str(tuner._get_checkpoint_fname(trial_id))


@contextlib.contextmanager
def trials_shown(oracle: kt.Oracle, trials: list[kt.engine.trial.Trial]) -> Iterator[None]:
    """The oracle's ``trials`` hold ``trials`` too, for the time it picks values (earlier
    runs' trials, which it must not save or number)."""
    for trial in trials:
        oracle.trials[trial.trial_id] = trial
    try:
        yield
    finally:
        for trial in trials:
            oracle.trials.pop(trial.trial_id, None)


MAXIMIZED = frozenset({
    "r2_score", "f1_score", "fbeta_score", "iou", "mean_iou", "binary_iou", "one_hot_iou",
    "one_hot_mean_iou", "io_u", "mean_io_u", "binary_io_u", "one_hot_io_u", "one_hot_mean_io_u",
    "cosine_similarity", "pearson_correlation", "concordance_correlation",
    "precision_at_recall", "recall_at_precision", "sensitivity_at_specificity",
    "specificity_at_sensitivity",
})  # fmt: skip
"""Keras metrics that grow as the model improves, which KerasTuner 1.4 would minimize (any
metric Keras knows but its list does not) or fails on (one that needs an argument); the
IoUs both as their classes log them (``binary_io_u``) and as they are spelled."""


def infer_metric_direction(metric: str) -> str | None:
    """``max`` or ``min`` for a metric name as KerasTuner's private inference gives it,
    with :data:`MAXIMIZED` corrected; None if unknown, or where the inference fails (a
    metric class Keras cannot make without arguments)."""
    name = metric.removeprefix("val_").removeprefix("weighted_")
    if name in MAXIMIZED:
        return "max"
    try:
        return kt.engine.metrics_tracking.infer_metric_direction(metric)
    except (TypeError, ValueError):
        return None
