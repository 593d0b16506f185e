"""Retrain the chosen configuration on more data, then evaluate it once on the test set."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras
import keras_tuner as kt
import numpy as np
from rich.console import Console

from hypermodels import EVAL_BATCH_SIZE, evaluate_model, state_damage
from search._text import UNREADABLE, plural, retrain_call
from search.data import Inputs, Splits, join, rows, single
from search.engine._checkpoints import search_checkpoint
from search.engine._context import RunContext, Say
from search.engine._plan import final_setup, final_training
from search.engine._request import RunRequest, starts_from_checkpoint
from search.engine._resumable import SavedOptimizerMismatch, TrainingState
from search.engine._schedule import MIN_LEARNING_RATE, CosineRates, PlateauCuts, keep_best
from search.engine._signals import StopOnSignal
from search.environment import raise_naming
from search.errors import RunFolderError, SearchError, option
from search.experiments import UserHyperModel
from search.failures import exception_line
from search.storage import RunFolder, damaged_file, replace_synced, trained_epochs


class EpochLine(keras.callbacks.Callback):
    """One printed line per epoch of a final training (``label``: what trains): its loss,
    its accuracy where the model logs one, and the validation ``monitor`` it watches;
    ``stops``: the training may stop before its ``epochs`` (it says "at most")."""

    def __init__(
        self, console: Console, epochs: int, stops: bool, label: str = "retrain",
        monitor: str = "val_accuracy",
    ) -> None:  # fmt: skip
        super().__init__()
        self.console, self.epochs, self.stops = console, epochs, stops
        self.label, self.monitor = label, monitor
        self._start = 0.0

    def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
        logs = logs or {}
        of = f"at most {self.epochs}" if self.stops else str(self.epochs)
        shown = [name for name in ("loss", "accuracy", "val_accuracy") if name in logs]
        shown += [self.monitor] if self.monitor in logs and self.monitor not in shown else []
        words = ", ".join(f"{name.replace('_', ' ')} {float(logs[name]):.4f}" for name in shown)
        self.console.print(
            f"  {self.label} epoch {epoch + 1} ({of}): {words} ({time.perf_counter() - self._start:.0f} s)"
        )


class _LearningRates(keras.callbacks.Callback):
    """The learning rate each epoch trained at."""

    def __init__(self) -> None:
        super().__init__()
        self.rates: list[float] = []

    def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
        rate = keras.ops.convert_to_numpy(self.model.optimizer.learning_rate)
        self.rates.append(float(f"{float(rate):.6g}"))  # float32 noise left out


VALIDATED_PATIENCE = 3
"""Validated retrains stop after this many epochs without a better validation accuracy ..."""
VALIDATED_PATIENCE_AFTER_CUT = 2
"""... or this many, once ``VALIDATED_CUTS_BEFORE_SHRINK`` epochs without a better one (and so
as many cuts) came before their best epoch: one epoch at the next cut rate tells, and a
further cut rarely gives a better epoch (``bench/retrain_stop.py`` reads what each rule
costs off finished runs' curves)."""
VALIDATED_CUTS_BEFORE_SHRINK = 2
"""After a single cut, a rate still high enough to improve on further cuts is common."""
VALIDATED_FACTOR = 0.3
"""... and multiply the learning rate by this after each epoch without one."""
VALIDATED_MIN_DELTA = 0.001
"""A validation accuracy is better when it is more than this much higher (11 of 10,000
images): smaller steps are noise, and a retrain that keeps creeping up by them never stops.
So is any score maximized (AUC, precision...: shares); a minimized one (a loss, an error) has
the scale of its targets, so any lower value is better (:func:`validated_min_delta`)."""


def validated_min_delta(monitor: kt.Objective) -> float:
    """How much better ``monitor`` must get to count as better in a validated retrain."""
    return VALIDATED_MIN_DELTA if monitor.direction == "max" else 0.0


def retrain_data(splits: Splits, which: str) -> tuple[Inputs, np.ndarray, np.ndarray | None]:
    """The inputs, targets and row weights (their own and their classes'; None: rows weigh
    alike) a retrain trains on. ``full``: every labelled training image; ``search``: the
    search's train + validation; ``validated``: every training image outside the
    validation split."""
    if which == "validated":
        if splits.x_unsplit is not None and splits.y_unsplit is not None:
            return splits.x_unsplit, splits.y_unsplit, None  # an experiment's images: no weights
        return splits.x_train, splits.y_train, splits.training_weights(splits.y_train, splits.w_train)
    if which == "full" and splits.x_full is not None and splits.y_full is not None:
        return splits.x_full, splits.y_full, None
    y = np.concatenate([splits.y_train, splits.y_val])
    weights = None
    if splits.w_train is not None or splits.w_val is not None:  # a part without weights: 1 a row
        parts = ((splits.w_train, splits.x_train), (splits.w_val, splits.x_val))
        weights = np.concatenate([np.ones(rows(x), np.float32) if w is None else w for w, x in parts])
    return join(splits.x_train, splits.x_val), y, splits.training_weights(y, weights)


def retrain_epochs(record: dict[str, Any], tolerance: float) -> int:
    """How many epochs the retrain trains: the last epoch of the trial whose validation
    accuracy is within ``tolerance`` of the accuracy at its best epoch.

    A plateau, not its single best epoch: the retrain sees several times the search's
    images, and stopping at an early peak that later epochs matched within noise leaves
    the final model undertrained. The best epoch where no accuracy was recorded.
    """
    best = int(record["best_epoch"])
    scores = {
        int(e["epoch"]): float(e["val_accuracy"])
        for e in record.get("epochs", [])
        if isinstance(e.get("val_accuracy"), (int, float)) and math.isfinite(e["val_accuracy"])
    }
    if best not in scores:
        return best
    return max(epoch for epoch, score in scores.items() if score >= scores[best] - tolerance
               or epoch == best)  # fmt: skip


def _accuracy_scored(record: dict[str, Any]) -> bool:
    """Whether :func:`retrain_epochs` goes by the record's validation accuracy (logged at
    its best epoch), rather than by the best epoch alone."""
    best = record.get("best_epoch")
    return any(
        e.get("epoch") == best and isinstance(e.get("val_accuracy"), (int, float))
        and math.isfinite(e["val_accuracy"]) for e in record.get("epochs", [])
    )  # fmt: skip


VAL_ACCURACY = kt.Objective("val_accuracy", "max")
_TRAIN_KEYS = (("train_loss", "loss"), ("train_accuracy", "accuracy"))
TEST_NOTE = "test set evaluated once, after the search; never used to choose"


def _validated_summary(
    curve: dict[str, list[float]], monitor: str, kept: int, max_epochs: int, rates: list[float]
) -> dict[str, Any]:
    """What a validated retrain records: the kept epoch, its validation scores, the curve."""
    out: dict[str, Any] = {
        "max_epochs": max_epochs,
        "kept_epoch": kept,
        "monitor": monitor,
        "val_score": curve[monitor][kept - 1],
        "learning_rates": rates,
    }
    if "val_accuracy" in curve:
        out.update(
            val_accuracy=curve["val_accuracy"][kept - 1],
            val_accuracy_per_epoch=[round(float(v), 5) for v in curve["val_accuracy"]],
        )
    if monitor != "val_accuracy":  # the report's curve of what chose the kept epoch
        out["val_score_per_epoch"] = [float(f"{float(v):.6g}") for v in curve[monitor]]  # any scale
    if "val_loss" in curve:
        out["val_loss"] = curve["val_loss"][kept - 1]
    return out


def test_metrics(
    hypermodel: kt.HyperModel,
    model: keras.Model,
    x: Inputs,
    y: np.ndarray,
    sample_weight: np.ndarray | None = None,
) -> dict[str, float] | None:
    """The final model's loss and metrics on the test set (evaluated once); None without
    test data. The project's hypermodels use their own compiled evaluation step; a user's
    model its own compiled loss and metrics (``model.evaluate``, the loss and weighted
    metrics weighted by ``sample_weight`` where given)."""
    if len(y) == 0:
        return None
    if isinstance(hypermodel, UserHyperModel):
        results = model.evaluate(x, y, sample_weight=sample_weight, return_dict=True, verbose=0)
        return {name: float(value) for name, value in results.items() if np.ndim(value) == 0}
    batch = getattr(hypermodel, "eval_batch_size", EVAL_BATCH_SIZE)  # big bases need small batches
    loss, accuracy = evaluate_model(model, single(x, "test data"), y, batch)
    return {"loss": float(loss), "accuracy": float(accuracy)}


def retrain_best(
    hypermodel: kt.HyperModel,
    best: dict[str, Any],
    splits: Splits,
    which: str,
    folder: RunFolder,
    console: Console,
    quiet: bool,
    tolerance: float,
    max_epochs: int,
    save_to: Path | None = None,
    monitor: kt.Objective = VAL_ACCURACY,
    state: Path | None = None,
    start: Path | None = None,
    stop: StopOnSignal | None = None,
    schedule: str = "plateau",
) -> dict[str, Any]:
    """Train trial ``best``'s configuration on more data; test it once; save it (to the
    run's best_model.keras, or ``save_to``). ``state``: where the training keeps its state
    after every epoch, and continues from after an interruption. ``start``: the weights it
    starts from (:func:`retrain_start`); None: new ones. ``stop``: the run's stop on a
    signal, checked at every batch boundary and before the test. ``schedule``: how the
    learning rate moves (:func:`fit_configuration`).

    ``validated`` trains on the images outside the validation split and keeps the best
    epoch's weights: with ``plateau``, for as long as validation accuracy improves (at most
    ``max_epochs``), the learning rate cut after every epoch without a better one; with
    ``cosine``, for ``max_epochs``, the rate decayed along a half cosine. ``full`` and
    ``search`` train on their images for the end of the trial's plateau in the search
    (:func:`retrain_epochs`), at most ``max_epochs``. The test set is touched here only,
    after every choice has been made on validation. ``monitor``: the validation metric a
    ``validated`` retrain watches (the run's objective).
    """
    # From the record, not the tuner: with workers, another process may have run the trial.
    hp = kt.HyperParameters()
    hp.values = dict(best["hyperparameters"])
    validated = which == "validated"
    planned = best.get("best_epoch") is not None and not validated
    plateau = retrain_epochs(best, tolerance) if planned else None
    epochs = max_epochs if plateau is None else min(plateau, max_epochs)
    x, y, weights = retrain_data(splits, which)
    if not quiet:
        how = _how_long(best, monitor, (epochs, plateau), f"{rows(splits.x_val):,} validation {splits.unit}",
                        tolerance, (validated, schedule))
        done = trained_epochs(state) if state is not None else 0
        console.print(f"retraining trial {best['id']}'s configuration{start_words(best, start)} on"
                      f" {len(y):,} {splits.unit} {how}"
                      + (f", continued after epoch {done}" if done else ""))  # fmt: skip
    started = time.perf_counter()
    stops = validated and schedule == "plateau"
    line = None if quiet else EpochLine(console, epochs, stops, monitor=monitor.name)
    validation = splits.validation_data() if validated else None
    fitted = fit_configuration(
        hypermodel, hp, x, y, validation, epochs, monitor, line, state, start,
        say=None if quiet else console.print, stop=stop, sample_weight=weights, schedule=schedule,
    )  # fmt: skip
    train_seconds = fitted.earlier_seconds + time.perf_counter() - started
    if stop is not None:
        stop.check()  # a signal after the last batch: the test waits for the resumed run
    out = trained_record(best, which, (len(y), splits.unit), fitted, monitor.name, max_epochs)
    out.update(tested(hypermodel, fitted.model, splits, save_to or folder.model_file))
    seconds = fitted.earlier_seconds + time.perf_counter() - started
    out.update(seconds=round(seconds, 1), train_seconds=round(train_seconds, 1))
    return out


def tested(hypermodel: kt.HyperModel, model: keras.Model, splits: Splits, target: Path) -> dict[str, Any]:
    """The final model evaluated once on the test set and saved to ``target``: what
    run.json's ``final`` says of it."""
    test = test_metrics(hypermodel, model, splits.x_test, splits.y_test, splits.w_test)
    save_model(model, target)
    return {
        "test_metrics": test,
        "test_loss": (test or {}).get("loss"),
        "test_accuracy": (test or {}).get("accuracy"),
        "test_images": rows(splits.x_test),
        "model": target.name,
        "note": TEST_NOTE,
    }


def save_model(model: keras.Model, target: Path) -> None:
    """``model`` saved whole to ``target``, or not at all: written beside it (Keras wants
    the ``.keras`` ending), synced, then renamed over it; a kill mid-save leaves the model
    that was there, not a cut-short file where the run's model is read."""
    staged = target.with_name(f".{target.stem}.tmp.keras")  # the run's lock: one writer
    try:
        model.save(staged)
        replace_synced(staged, target)
    except OSError as exc:  # Keras' zip writer names no file: a full disk names the model's
        staged.unlink(missing_ok=True)
        raise_naming(exc, target)
    except BaseException:
        staged.unlink(missing_ok=True)
        raise


def trained_record(
    best: dict[str, Any], which: str, trained: tuple[int, str], fitted: Fitted, monitor: str,
    max_epochs: int,
) -> dict[str, Any]:
    """What run.json's ``final`` says of the training (the test figures come after);
    ``trained``: how many examples it trained on, and what one is ("images" or "rows")."""
    out: dict[str, Any] = {
        "trial": best["id"],
        "hyperparameters": best["hyperparameters"],
        "epochs": fitted.epochs,
        "best_epoch": best.get("best_epoch"),
        "train_images": trained[0],
        "train_unit": trained[1],
        "retrain_data": which,
        "started_from": fitted.started_from,
        "schedule": fitted.schedule,
    }
    if fitted.start_problem is not None:
        out["start_problem"] = fitted.start_problem
    if fitted.kept is None:
        return out
    if fitted.chosen_by_validation:
        out.update(_validated_summary(fitted.curve, monitor, fitted.kept, max_epochs, fitted.rates))
    out.update({
        key: fitted.curve[name][fitted.kept - 1]
        for key, name in _TRAIN_KEYS if len(fitted.curve.get(name, [])) >= fitted.kept
    })  # fmt: skip
    return out


@dataclass(frozen=True)
class Fitted:
    """A configuration trained: the model (the kept epoch's weights), its curves, the
    epochs trained, the epoch kept (chosen by validation, or the last), and the learning
    rate of each epoch."""

    model: keras.Model
    curve: dict[str, list[float]]
    epochs: int | None
    """None: a fit of the model's own that told nothing of its epochs."""
    kept: int | None
    rates: list[float]
    chosen_by_validation: bool
    earlier_seconds: float = 0.0
    """Seconds trained by earlier processes (a resumed training)."""
    started_from: str = "scratch"
    """``checkpoint`` (a search checkpoint's weights) or ``scratch`` (new weights)."""
    start_problem: str | None = None
    """Why the search checkpoint it was to start from was not used (it did not fit)."""
    schedule: str = "plateau"
    """How the learning rate moved: ``plateau`` (cut when validation stalled), ``cosine``
    (decayed over the planned epochs), ``constant`` (neither: a fixed-length training on
    ``plateau``) or ``own`` (the optimizer's own ``LearningRateSchedule``, which a cosine
    leaves alone)."""


def _tell_damaged(state: Path, say: Callable[[str], None] | None) -> None:
    """Say that the saved state of a training interrupted earlier cannot be read: the
    training starts again from its first epoch."""
    damage = state_damage(state)
    if damage is not None and say is not None:
        say(f"{state}: this training's saved state is damaged ({damage}); it restarts from epoch 1")


def _restored(
    keeper: TrainingState | None, model: keras.Model, hypermodel: kt.HyperModel,
    say: Callable[[str], None] | None,
) -> int:  # fmt: skip
    """The epochs a training interrupted earlier had done, its state loaded into ``model``
    and ``keeper``; 0: none (no state, a damaged one, or a fit of the model's own that takes
    no ``initial_epoch``, which trains from its first epoch again), said so."""
    if keeper is None:
        return 0
    if isinstance(hypermodel, UserHyperModel) and not hypermodel.continues_epochs():
        if keeper.path.exists() and say is not None:
            say(f"{keeper.path}: {hypermodel.name}.fit takes no initial_epoch to continue this training"
                " after its saved epochs; it restarts from epoch 1")  # fmt: skip
        return 0
    done = keeper.restore(model)
    if not done:
        _tell_damaged(keeper.path, say)
    return done


def fit_configuration(
    hypermodel: kt.HyperModel,
    hp: kt.HyperParameters,
    x: Inputs,
    y: np.ndarray,
    validation: tuple[Inputs, ...] | None,
    epochs: int,
    monitor: kt.Objective,
    line: keras.callbacks.Callback | None,
    state: Path | None = None,
    start: Path | None = None,
    say: Callable[[str], None] | None = None,
    stop: StopOnSignal | None = None,
    sample_weight: np.ndarray | None = None,
    schedule: str = "plateau",
) -> Fitted:
    """Build and train one configuration; with ``validation``, keeping the best epoch's
    weights by ``monitor``: while it improves, the learning rate cut after each epoch
    without a better one (``schedule`` ``plateau``), or for all ``epochs``, the rate decayed
    along a half cosine (``cosine``, which decays it without ``validation`` too); without
    ``validation`` and with ``plateau``, for ``epochs`` epochs at the model's rate.
    ``state``: where the training keeps its state after every epoch, and continues from if
    it is there; else ``start``: a weights file of this configuration (its search
    checkpoint) to start from. ``say``: where to print that ``start`` did not fit, or that
    ``state`` was damaged or its optimizer fit no phase of the fit (the training then starts
    anew). ``stop``: the run's stop on a signal, checked at every
    batch boundary (after the epoch's state is saved). ``sample_weight``: a weight per row
    of ``x`` (None: rows weigh alike)."""
    keras.backend.clear_session()
    model = hypermodel.build(hp)
    rates = _LearningRates()
    cosine, cuts, stopper = _schedule_callbacks(schedule, monitor, epochs, validation is not None)
    # The cosine sets the epoch's rate before it is recorded; the cuts act at its end.
    callbacks: list[keras.callbacks.Callback] = [
        c for c in (cosine, rates, cuts, stopper) if c is not None
    ]  # fmt: skip
    keeper = None if state is None else TrainingState(state, rates, cuts, stopper, cosine)
    callbacks += [c for c in (keeper, line, None if stop is None else stop.callback()) if c is not None]
    done = _restored(keeper, model, hypermodel, say)
    model, started_from, problem = _started(hypermodel, hp, model, None if done else start, say)
    if keeper is not None:  # a resumed training began as its state says
        keeper.started_from = started_from = keeper.started_from if done else started_from
    curve: dict[str, list[float]] = {}
    if keeper is None or not keeper.over(epochs):
        more: dict[str, Any] = {"initial_epoch": done} if done else {}  # a fit of its own may not take it
        if sample_weight is not None:
            more["sample_weight"] = sample_weight
        try:
            history = hypermodel.fit(hp, model, x, y, validation_data=validation, epochs=epochs,
                                     callbacks=callbacks, **more)  # fmt: skip
        except SavedOptimizerMismatch as mismatch:  # the state is gone: train anew
            if say is not None:
                say(str(mismatch))
            return fit_configuration(hypermodel, hp, x, y, validation, epochs, monitor, line, state,
                                     start, say, stop, sample_weight, schedule)  # fmt: skip
        curve = history.history if isinstance(history, keras.callbacks.History) else {}
    elif stopper is not None and stopper.best_weights is not None:
        model.set_weights(stopper.best_weights)  # what EarlyStopping did at the end
    if keeper is not None and keeper.curve:  # empty: a fit of its own never called it
        curve = keeper.curve  # the epochs of earlier processes too
    # A fit of the model's own that neither returns a History nor calls the callbacks: unknown.
    trained = max(map(len, curve.values()), default=0) or len(rates.rates) or None
    earlier = keeper.seconds if keeper is not None else 0.0
    # None where the fit never called the stopper (a History filled by a fit of its own).
    best = getattr(stopper, "best_epoch", None) if curve.get(monitor.name) else None
    kept = trained if best is None else int(best) + 1  # whose weights EarlyStopping restored
    return Fitted(model, curve, trained, kept, rates.rates, chosen_by_validation=best is not None,
                  earlier_seconds=earlier, started_from=started_from, start_problem=problem,
                  schedule=_schedule_name(schedule, cosine, cuts, validation is not None))  # fmt: skip


def _schedule_name(
    asked: str, cosine: CosineRates | None, cuts: PlateauCuts | None, validated: bool
) -> str:
    """What the learning rate did (:attr:`Fitted.schedule`)."""
    if cosine is not None:
        return "cosine" if cosine.last_set is not None else "own"
    if cuts is not None and cuts.owned:
        return "own"
    return asked if validated else "constant"


_ScheduleCallbacks = tuple[
    CosineRates | None, PlateauCuts | None, keras.callbacks.EarlyStopping | None
]


def _schedule_callbacks(
    schedule: str, monitor: kt.Objective, epochs: int, validated: bool
) -> _ScheduleCallbacks:
    """The callbacks that set a final training's learning rate and keep its best epoch:
    the cosine's rates, the plateau's cuts, the stopper (each None where not used)."""
    cosine = CosineRates(epochs) if schedule == "cosine" else None
    if not validated:
        return cosine, None, None
    if cosine is not None:
        return cosine, None, keep_best(monitor, epochs)
    return None, _validated_cuts(monitor), ValidatedStop(monitor)


def retrain_start(
    request: RunRequest,
    folder: RunFolder,
    record: dict[str, Any],
    search: tuple[Splits, bool],
    say: Callable[[str], None] | None = None,
) -> Path | None:
    """Where a validated training of ``record``'s configuration starts: its search
    checkpoint (where :func:`starts_from_checkpoint` says so for the search's splits, the
    final model is the search's, not one at another image size, the trial logged epochs,
    and ``--keep-best`` kept the checkpoint), else None: new weights.

    Args:
        search: the search's splits, and whether the final model is built as the search's.
        say: where to print why a checkpoint asked for (``checkpoint``) is not used, or
            that ``auto``'s is gone.

    Raises:
        SearchError: ``checkpoint`` asked for a checkpoint that is gone.
    """
    splits, same_model = search
    if not starts_from_checkpoint(request, splits):
        return None
    asked = request.retrain_from == "checkpoint"
    found = search_checkpoint(folder, record["id"])
    tell = asked  # why a start asked for is not used; auto's own choices go unsaid
    if not same_model:
        why = "the final model is built at another image size than the search's"
    elif record.get("best_epoch") is None:
        why = "it logged no epochs, so its checkpoint is not its best epoch"
    elif found is None:
        if asked:
            raise SearchError(_missing_checkpoint(folder, record))
        why = f"its search checkpoint is not in {folder.tuner_dir} (removed, or never written)"
        tell = True  # auto expected to start from it: the fallback is said
    else:
        return found
    if say is not None and tell:
        say(f"trial {record['id']} starts from new weights: {why}")
    return None


def refuse_missing_checkpoint(
    request: RunRequest, folder: RunFolder, record: dict[str, Any], same_model: bool
) -> None:
    """SearchError, before any data loads, where ``--retrain-from checkpoint`` would start
    ``record``'s validated training from a search checkpoint that is gone (what
    :func:`retrain_start` refuses once the data are loaded).

    Args:
        request: the run's request, with the retrain options in force.
        folder: the run folder.
        record: the trial to retrain.
        same_model: whether the final model is built as the search's (not at another image
            size, where no checkpoint is used).
    """
    if request.retrain_data != "validated" or request.retrain_from != "checkpoint" or not same_model:
        return
    if record.get("best_epoch") is not None and search_checkpoint(folder, record["id"]) is None:
        raise SearchError(_missing_checkpoint(folder, record))


def _missing_checkpoint(folder: RunFolder, record: dict[str, Any]) -> str:
    """Why ``--retrain-from checkpoint`` cannot start ``record``'s training, with the fixes."""
    return (
        f"trial {record['id']}: its search checkpoint is not in {folder.tuner_dir} (removed by"
        f" {option('keep_best')}, or deleted), so {option('retrain_from')} checkpoint cannot start"
        f" from it: retrain from new weights with {option('retrain_from')} scratch, or search"
        f" again keeping the checkpoints with {option('keep_best')} all"
    )


def start_words(record: dict[str, Any], start: Path | None) -> str:
    """Where a final training of ``record``'s configuration starts, for its first line."""
    return "" if start is None else f" from its search checkpoint (epoch {record.get('best_epoch')})"


def _started(
    hypermodel: kt.HyperModel,
    hp: kt.HyperParameters,
    model: keras.Model,
    start: Path | None,
    say: Callable[[str], None] | None,
) -> tuple[keras.Model, str, str | None]:
    """``model`` with ``start``'s weights: ``checkpoint``; without ``start``: ``scratch``.
    Where the weights do not fit (Keras may have loaded some layers before it failed) or
    cannot be read, a new build, ``scratch``, and why (the error's first line, after
    ``UNREADABLE`` for a file that cannot be read; also given to ``say``)."""
    if start is None:
        return model, "scratch", None
    try:
        model.load_weights(start)
    except (OSError, ValueError) as exc:
        keras.backend.clear_session()
        reason = exception_line(exc)
        unreadable = isinstance(exc, OSError)  # h5py: no HDF5 file there (empty, cut short)
        if say is not None:
            problem = "cannot be read" if unreadable else "does not fit this model"
            say(f"  its search checkpoint {start} {problem} ({reason}): new weights instead")
        return hypermodel.build(hp), "scratch", (UNREADABLE if unreadable else "") + reason
    return model, "checkpoint", None


def _how_long(
    best: dict[str, Any],
    monitor: kt.Objective,
    epochs: tuple[int, int | None],
    held_out: str,
    tolerance: float,
    how: tuple[bool, str],
) -> str:
    """How long the retrain trains, in words. ``epochs``: the most it trains, and the end
    of the trial's plateau it goes by (None: by validation, or no epochs logged);
    ``held_out``: the validation split in words; ``how``: whether it is validated, and its
    schedule."""
    validated, schedule = how
    watched = monitor.name.replace("_", " ")
    if validated and schedule == "cosine":
        return (
            f"for {plural(epochs[0], 'epoch')}, the learning rate decayed along a cosine, keeping"
            f" the epoch with the best {watched} (the {held_out} are held out)"
        )
    if validated:
        return f"while {watched} improves (at most {plural(epochs[0], 'epoch')}; the {held_out} are held out)"
    decayed = ", the learning rate decayed along a cosine" if schedule == "cosine" else ""
    return _planned_words(best, monitor, epochs, tolerance) + decayed


def _planned_words(
    best: dict[str, Any], monitor: kt.Objective, epochs: tuple[int, int | None], tolerance: float
) -> str:
    """How long a retrain without validation trains, in words (:func:`_how_long`)."""
    most, plateau = epochs
    if plateau is None:
        return f"for {plural(most, 'epoch')} (its trials logged no epochs to go by)"
    end = (
        f"its last epoch within {tolerance} of its best validation accuracy, epoch {best['best_epoch']}"
        if _accuracy_scored(best) else f"its best epoch by {monitor.name}, epoch {best['best_epoch']}"
    )  # fmt: skip
    if plateau > most:
        return f"for {plural(most, 'epoch')}, the most a retrain trains ({end}, is epoch {plateau})"
    return f"for {plural(most, 'epoch')} ({end})"


class ValidatedStop(keras.callbacks.EarlyStopping):
    """Stop once ``monitor`` stops improving; keep the best epoch's weights.

    The patience is ``VALIDATED_PATIENCE``, or ``VALIDATED_PATIENCE_AFTER_CUT`` once
    ``VALIDATED_CUTS_BEFORE_SHRINK`` epochs without a better score (after each of which the
    learning rate was cut) came before the best epoch so far. ``misses`` counts the epochs
    without a better score,
    ``misses_at_best`` those before the best epoch; a resumed training gets them back with
    the other counters (``STATE_FIELDS``).
    """

    STATE_FIELDS = ("misses", "misses_at_best")

    def __init__(self, monitor: kt.Objective) -> None:
        super().__init__(
            monitor.name, patience=VALIDATED_PATIENCE, mode=monitor.direction,
            min_delta=validated_min_delta(monitor), restore_best_weights=True,
        )  # fmt: skip
        self.misses = self.misses_at_best = 0

    def on_train_begin(self, logs: Any = None) -> None:
        super().on_train_begin(logs)
        self.misses = self.misses_at_best = 0

    def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
        if self.get_monitor_value(logs or {}) is None:
            super().on_epoch_end(epoch, logs)
            return
        shrunk = self.misses_at_best >= VALIDATED_CUTS_BEFORE_SHRINK
        self.patience = VALIDATED_PATIENCE_AFTER_CUT if shrunk else VALIDATED_PATIENCE
        super().on_epoch_end(epoch, logs)
        if self.wait == 0:  # a better score: the best epoch
            self.misses_at_best = self.misses
        else:
            self.misses += 1


def _validated_cuts(monitor: kt.Objective) -> PlateauCuts:
    """Cut the learning rate after every epoch that does not improve ``monitor``."""
    return PlateauCuts(
        monitor.name, factor=VALIDATED_FACTOR, patience=1, mode=monitor.direction,
        min_delta=validated_min_delta(monitor), min_lr=MIN_LEARNING_RATE,
    )  # fmt: skip


def final_model(ctx: RunContext, hypermodel: Any, best: dict[str, Any]) -> dict[str, Any] | None:
    """The step after choosing: retrain the chosen configuration (``--retrain-data``) and
    test it once; its training and test figures (None without ``retrain``, where the
    chosen trial's best-epoch checkpoint is saved as the run's model instead)."""
    request = ctx.request
    if not request.retrain:
        _say_untested(ctx, best, save_search_model(hypermodel, best, ctx.folder))
        return None
    final_splits, final_hypermodel = final_setup(
        ctx.plan, ctx.splits, hypermodel, best, ctx.console, ctx.quiet
    )
    schedule, epochs = final_training(request, ctx.plan.experiment, ctx.plan.profile)
    return retrain_best(
        final_hypermodel, best, final_splits, request.retrain_data, ctx.folder, ctx.console,
        ctx.quiet, request.tolerance, epochs, monitor=request.kt_objective(),
        state=ctx.folder.retrain_state(best["id"], request.retrain_data),
        start=retrain_start(
            request, ctx.folder, best, (ctx.splits, final_hypermodel is hypermodel),
            Say(ctx.console, ctx.quiet),
        ),
        stop=ctx.stopper, schedule=schedule,
    )  # fmt: skip


def _say_untested(ctx: RunContext, best: dict[str, Any], saved: bool) -> None:
    """Say what a run without a retrain leaves: no model where the chosen trial kept no
    checkpoint, else one the test split has not touched; and what retrains and tests one."""
    retrain = retrain_call(ctx.folder.path, ctx.folder.read_meta().get("request") or {})
    if not saved:
        Say(ctx.console, ctx.quiet)(
            f"no model saved: trial {best['id']}'s fit kept no checkpoint (e.g. a fit of its own"
            f" that calls none of the callbacks it is given); {retrain} retrains its configuration"
            " into a model and tests it"
        )
    elif rows(ctx.splits.y_test):
        Say(ctx.console, ctx.quiet)(
            f"model: trial {best['id']}'s checkpoint, untested (no retrain); {retrain} retrains its"
            f" configuration and tests it on the {rows(ctx.splits.y_test):,} test examples"
        )


def save_search_model(hypermodel: Any, best: dict[str, Any], folder: RunFolder) -> bool:
    """Save the chosen trial's best-epoch checkpoint (whichever worker wrote it) as .keras.

    Returns:
        Whether there was one to save (a fit of its own that calls no callback keeps none).

    Raises:
        SearchError: The checkpoint does not load into a new build of the trial's model (a
            model whose variables exist only once its own ``fit`` has called it).
        RunFolderError: The checkpoint cannot be read (damaged, truncated).
    """
    found = search_checkpoint(folder, best["id"])
    if found is None:
        return False
    hp = kt.HyperParameters()
    hp.values = dict(best["hyperparameters"])
    keras.backend.clear_session()
    model = hypermodel.build(hp)
    try:
        model.load_weights(found)
    except OSError as exc:
        raise RunFolderError(
            f"trial {best['id']}'s checkpoint {found} cannot be read ({exception_line(exc)});"
            f" {damaged_file()}"
        ) from None
    except ValueError as exc:
        reason = exception_line(exc)
        raise SearchError(
            f"trial {best['id']}'s checkpoint {found} does not load into a new build of its"
            f" model ({reason}); create the model's variables in build (e.g. model.build("
            "input_shape)), or let the run retrain its final model (the default)"
        ) from None
    if model.optimizer is not None and not model.optimizer.built:
        model.optimizer.build(model.trainable_variables)  # else loading it warns of its variables
    save_model(model, folder.model_file)
    return True
