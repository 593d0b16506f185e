"""``export``: the chosen configuration of a run, retrained, tested once, saved for use."""

from __future__ import annotations

import contextlib
import signal
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras
import numpy as np
from rich.console import Console

from hypermodels import deployable
from search._heap import heap_frozen
from search._text import plural, resume_call
from search.data import Splits, class_names, missing_arrays, row_shape, single
from search.engine._choose import ranked_ids
from search.engine._context import Say
from search.engine._plan import Plan, code_edited, final_setup, final_training, load_data, plan, same_source
from search.engine._precision import precision
from search.engine._records import tidy
from search.engine._request import RunRequest, check_stored, data_found, refuse_gone_code, refuse_moved
from search.engine._retrain import refuse_missing_checkpoint, retrain_best, retrain_start
from search.engine._saved import load_saved
from search.engine._signals import SearchStopped, StopOnSignal
from search.environment import FIXES, environment_error, error_path, output_failure
from search.errors import DataError, RunFolderError, SearchError, SearchInterrupted, option
from search.experiments import own_objects
from search.space import Choice, Fixed, Param, Space, space_from_dict
from search.storage import (
    ENDED,
    EXPORT_FILE,
    RunFolder,
    RunLock,
    check_writable,
    damaged_file,
    is_masked,
    owning_run,
    utc_now,
)

IMAGE_DIMS = 3
"""An image's dimensions: height, width, channels."""
MAX_PIXEL = 255
"""The largest value of a pixel as ``predict`` reads it (uint8)."""


@dataclass(frozen=True)
class Export:
    """What ``export`` wrote."""

    output: Path
    trial: str
    final: dict[str, Any]
    image_shape: tuple[int, ...]
    class_names: tuple[str, ...]
    takes_images: bool = True
    """The model takes uint8 images of any size and knows its class names (``predict``);
    False: a model of other inputs or outputs, saved as it trained."""


@dataclass(frozen=True)
class ExportOptions:
    """Which trial an export retrains, and how: each None is as the run did."""

    trial: str | None = None
    """A completed trial's id; None: the run's choice (the finalists' winner where they
    chose, else the rule's first)."""
    retrain_data: str | None = None
    """``validated``, ``full`` or ``search``."""
    retrain_max_epochs: int | None = None
    """The most epochs of the retrain."""
    retrain_from: str | None = None
    """``auto``, ``checkpoint`` or ``scratch``."""
    retrain_schedule: str | None = None
    """``auto``, ``plateau`` or ``cosine``; a run whose retrain was skipped: as its budget
    schedules one."""
    data_dir: Path | None = None
    """The folder the run's data moved to (the same data: checked as they load; not
    recorded in run.json)."""
    overwrite: bool = False
    """Replace a Keras model at the output that this run did not export (one it exported is
    replaced by a new export of it anyway)."""

    def given(self) -> dict[str, Any]:
        """The options of the run's request given to replace its own."""
        replacing = ("retrain_data", "retrain_max_epochs", "retrain_from", "retrain_schedule", "data_dir")
        return {key: getattr(self, key) for key in replacing if getattr(self, key) is not None}


def export_run(
    folder: RunFolder,
    output: Path | None,
    console: Console,
    quiet: bool,
    options: ExportOptions = ExportOptions(),
) -> Export:
    """Retrain the run's chosen trial, evaluate it once on the test set, and write it to
    ``output``: an image classifier as a model that takes uint8 images of any size and stores
    the class names; any other model as it trained. The export is recorded in run.json.

    Args:
        folder: the run folder.
        output: the ``.keras`` file to write (replaced whole, or not at all); None: the run
            folder's ``export.keras``.
        console: where progress is printed.
        quiet: print no progress.
        options: the trial to export and how to retrain it (by default, as the run did).

    Returns:
        What was written: the file, the trial, the retrain's results, image shape and class names.

    Raises:
        SearchError: ``output`` is not a writable ``.keras`` file of its own, the run folder is
            not writable, ``trial`` is not a completed trial, or no trial completed.
        RunFolderError: run.json holds no request to rebuild the search from.
        DataError: the run's saved arrays are gone.
        SearchInterrupted: Ctrl-C or SIGTERM stopped it; nothing was written.
    """
    folder = RunFolder(folder.path.resolve())  # `export .`, `export r1`: the request needs its parents
    given_output, output = output is not None, output or folder.path / EXPORT_FILE
    default = f"{output} (export's default; {option('output')} names another)"
    named = f"{option('output')} {output}" if given_output else default
    request, space, p = _planned(folder, (output, named), options)
    say = Say(console, quiet)
    with RunLock(folder.path), heap_frozen(), precision(request.precision), _stops(output) as stop:
        best = _chosen(folder, folder.read_trials(), request, options.trial)
        _check_values(folder, best, space)
        _say_edited(folder, p, best["id"], say)
        refuse_missing_checkpoint(request, folder, best, _same_model(p, best))
        say(f"loading {p.experiment.name} data…")
        splits = load_data(p, p.data, say)
        _check_same_data(folder, splits)
        hypermodel = p.experiment.hypermodel(space, splits, p.model)
        final_splits, final_hypermodel = final_setup(p, splits, hypermodel, best, console, quiet)
        schedule, epochs = final_training(request, p.experiment, p.profile)
        start = retrain_start(request, folder, best, (splits, final_hypermodel is hypermodel), say)
        with _staged(output, given_output) as tmp:  # removed on a stop too
            trained = tmp / "trained.keras"
            final = retrain_best(
                final_hypermodel, best, final_splits, request.retrain_data, folder, console, quiet,
                request.tolerance, epochs, save_to=trained, monitor=request.kt_objective(), start=start,
                stop=stop, schedule=schedule,
            )  # fmt: skip
            model = _load_trained(trained, final_hypermodel)
            names = _write(model, final_splits, output, tmp, stop)
            # Still under the stop: a first signal from here on waits for the record.
            _record_export(folder, output, best, final, final_splits)
    return Export(
        output, best["id"], final, row_shape(final_splits.x_train), names,
        takes_images=bool(names),
    )  # fmt: skip


def _planned(
    folder: RunFolder, written: tuple[Path, str], options: ExportOptions
) -> tuple[RunRequest, Space, Plan]:
    """The checks before any work (``written``: the output file, a file of its own to write,
    and its name in messages; the run's request and arrays there), then the run's request
    with the options given, its space and plan."""
    output, named = written
    _check_output(output, folder, named)
    if not options.overwrite:
        _check_not_foreign(output, folder)
    request, space = _stored(folder, options.given())
    if request.arrays:
        _check_arrays(folder)
    return request, space, plan(request, space)


def _write(
    model: keras.Model, splits: Splits, output: Path, tmp: Path, stop: StopOnSignal
) -> tuple[str, ...]:
    """Write ``model``, wrapped for use, to ``output``: staged in ``tmp``, then moved whole (a
    signal meanwhile: nothing written). Returns the class names the wrapper stores."""
    wrapped, names = for_use(model, splits)
    staged = tmp / "export.keras"
    wrapped.save(staged)
    stop.check()  # a signal while it tested and saved: still nothing written
    staged.replace(output)  # whole or not at all
    return names


def _same_model(p: Plan, best: dict[str, Any]) -> bool:
    """Whether ``best``'s final model is built at the search's image size (as
    :func:`final_setup` builds it), so that its search checkpoint fits it."""
    size_of = p.experiment.final_image_size
    return size_of is None or size_of(best["hyperparameters"]) == p.data.image_size


def _say_edited(folder: RunFolder, p: Plan, trial: str, say: Say) -> None:
    """Where the user's file was edited since the run: the export builds from it as it is."""
    edited = code_edited(folder.read_meta(), p.experiment)
    if edited:
        say(f"warning: {edited}: the export builds trial {trial}'s model from the file as it is now")


def _load_trained(file: Path, hypermodel: Any) -> keras.Model:
    """The retrained model, read back to be wrapped for use; the layers of a user's own
    that Keras does not know by name are taken from the module that defines the user's
    build or HyperModel."""
    return load_saved(
        file, "the retrained model", "register your own classes and functions with"
        " @keras.saving.register_keras_serializable() where they are defined, or define them in the"
        " module of your build(hp) or HyperModel", own_objects(hypermodel), compile=False,
    )  # fmt: skip


def for_use(model: keras.Model, splits: Splits) -> tuple[keras.Model, tuple[str, ...]]:
    """An image classifier behind uint8 images of any size, with its class names (what
    ``predict`` takes), and the names; any other model (a user's, on other inputs or
    targets) as it is, and no names."""
    shape = row_shape(splits.x_train)
    if len(shape) != IMAGE_DIMS:  # several inputs too
        return model, ()
    images = single(splits.x_train, "images")
    names = class_names(splits, _outputs(model, images[:1]))
    scale = 1.0 if splits.class_names else pixel_scale(images)  # the experiments': pixels
    if not names or scale is None:
        return model, ()
    try:
        return deployable(model, names, shape, scale), names
    except ValueError:  # not one output per class
        return model, ()


def _outputs(model: keras.Model, row: np.ndarray) -> int:
    """The size of ``model``'s output for one ``row`` (a batch of one), asked of the model
    itself: a subclassed one does not know its output shape before a call; 0 for a
    model of several outputs."""
    output = model.predict(row, verbose=0)
    return int(output.shape[-1]) if isinstance(output, np.ndarray) and output.ndim > 1 else 0


def pixel_scale(x: np.ndarray) -> float | None:
    """What a model trained on the images ``x`` takes per pixel value (0-255): 1 where
    ``x`` holds pixels, 1/255 where it holds floats in [0, 1]; None for other values
    (standardized images), which no fixed scale turns pixels into."""
    low, high = float(x.min()), float(x.max())
    if low < 0 or high > MAX_PIXEL:
        return None
    return 1.0 / MAX_PIXEL if np.issubdtype(x.dtype, np.floating) and high <= 1 else 1.0


@contextlib.contextmanager
def _staged(output: Path, given: bool) -> Iterator[Path]:
    """A temporary folder beside ``output`` (its folder made if missing), where the model is
    written first (removed on any exit). A full disk (or a folder that cannot be written)
    there or at ``output`` is named as ``--output``'s where the user ``given`` it, with its
    fix (:func:`output_failure`): it named the temporary file, gone since (or never made),
    and said to move the run, whose disk it need not be."""
    staging: list[Path] = []
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=output.parent) as tmp:
            staging.append(Path(tmp).resolve())
            yield Path(tmp)
    except (OSError, RuntimeError) as exc:
        failure = environment_error(exc)
        where = None if failure is None else error_path(failure)
        if failure is None or (staging and where is None):
            raise
        places = (output.resolve(), *staging)
        if staging and not any(Path(str(where)).resolve().is_relative_to(place) for place in places):
            raise  # the run folder's (the retrain's state): the engine's own message
        error = output_failure(
            exc, output, "the model", given, "nothing was written, and the run is unchanged"
        )
        if error is None:
            raise
        raise error from None


@contextlib.contextmanager
def _stops(output: Path) -> Iterator[StopOnSignal]:
    """Ctrl-C and SIGTERM stop the export at the next batch boundary (a second Ctrl-C at
    once), before it writes ``output``: SearchInterrupted, saying that nothing was written."""
    with StopOnSignal() as stop:
        try:
            yield stop
        except (SearchStopped, KeyboardInterrupt) as exc:
            signum = getattr(exc, "signum", signal.SIGINT)
            raise SearchInterrupted(
                f"export stopped by {signal.Signals(signum).name}: nothing written to {output};"
                " the run is unchanged",
                signum,
            ) from None


def _check_output(output: Path, folder: RunFolder, named: str) -> None:
    """``output`` a .keras file that can be written and is not the run's own model, nor a
    file of another run (or in this run's subfolders); the run folder writable (the export
    is recorded in its run.json). ``named``: how messages name it (``--output FILE``, or the default)."""
    if output.suffix != ".keras":
        raise SearchError(f"{named}: give a file name ending in .keras, e.g. model.keras")
    if output.exists() and output.is_dir():
        raise SearchError(f"{named}: is a folder; give a file name ending in .keras")
    if output.resolve() == folder.model_file.resolve():
        raise SearchError(
            f"{named}: is the run's own model, which run.json's final describes;"
            f" give another file, e.g. {folder.path / EXPORT_FILE}"
        )
    owner = owning_run(output)
    if owner is not None and (owner.path.resolve(), output.parent.resolve()) != (folder.path.resolve(),) * 2:
        raise SearchError(
            f"{named}: {'would replace' if output.exists() else 'would be'} a file"
            f" of run {owner.path}; give another file,"
            f" e.g. {folder.path / EXPORT_FILE}"
        )
    if output.exists() and not zipfile.is_zipfile(output):
        raise SearchError(
            f"{named}: would replace a file that is not a Keras model (not a"
            " .keras zip archive); give another file name, or move that file away"
        )
    check_writable(output.parent, named, "give a file in a folder you can write to")
    check_writable(
        folder.path, f"run folder {folder.path}", "an export is recorded in its run.json: make it writable"
    )


def _check_not_foreign(output: Path, folder: RunFolder) -> None:
    """``output`` is new, or a model this run exported before (run.json's ``exports``): a
    Keras model of the user's own is not replaced without ``--overwrite``. A file in the
    run folder itself is the run's (:func:`_check_output` guards its own model)."""
    if not output.exists() or output.parent.resolve() == folder.path.resolve():
        return
    exported = {Path(e["output"]) for e in folder.read_meta().get("exports", []) if isinstance(e, dict)
                and isinstance(e.get("output"), str)}  # fmt: skip
    if output.resolve() in exported:
        return
    raise SearchError(
        f"{option('output')} {output}: would replace a Keras model this run did not export;"
        f" give another file name, or {option('overwrite')} to replace it"
    )


def _check_arrays(folder: RunFolder) -> None:
    """DataError where the arrays a run from Python on arrays kept in its folder are gone:
    the export retrains on them."""
    gone = missing_arrays(folder.path)
    if gone is None:
        return
    model = (f", or use the model it saved: search.load({str(folder.path)!r}).best_model()"
             if folder.model_file.is_file() else "")  # fmt: skip
    raise DataError(
        f"{gone}: missing; the run's saved arrays ({gone.parent}) are gone, so export cannot retrain"
        f" it: restore that folder, or call search.run(build, x, y, name={folder.name!r}) again with"
        f" the arrays{model}"
    )


def _stored(folder: RunFolder, given: dict[str, Any]) -> tuple[RunRequest, Space]:
    """The run's request, with the export's retrain options and data folder ``given`` (else
    the run's own: ``plateau`` for a run from before the schedule was an option), and its space."""
    meta = folder.read_meta()
    refuse_moved(folder, meta)
    if "request" not in meta or "space" not in meta:
        raise RunFolderError(f"{folder.run_file}: holds no request to rebuild the search from")
    stored = {"retrain_schedule": "plateau", **meta["request"], "results": str(folder.path.parent.parent),
              "name": folder.name, **given,
              "retrain": True, "finalists": None,  # an export retrains its one choice, whatever the run did
              "workers": 1, "gpus": [], "isolate": False, "warm_start": [], "track": []}  # fmt: skip
    if is_masked(stored.get("storage")):
        stored["storage"] = None  # the study is not needed to export
    request = RunRequest.from_json(stored)
    check_stored(folder, request, given)
    request = data_found(folder, request, given="data_dir" in given)
    refuse_gone_code(folder, request, "export")
    return request, space_from_dict(meta["space"]["params"], source=str(folder.run_file))


def _chosen(
    folder: RunFolder, trials: list[dict[str, Any]], request: RunRequest, trial: str | None
) -> dict[str, Any]:
    """The trial to export: ``trial`` if it completed, else the run's choice (run.json's
    ``best``: the finalists' winner where they chose), else the rule's first."""
    ranked = ranked_ids(trials, request)
    if not ranked:
        status = folder.read_meta().get("status")
        failed = sum(t.get("status") == "failed" for t in trials)
        said = f": the run {status} with {plural(failed, 'failed trial')}" if status in ENDED else " yet"
        then = f"; resume it first: {resume_call(folder.path, {})}" if status == "interrupted" else ""
        raise SearchError(f"{folder.path}: no trial completed{said}; nothing to export{then}")
    if trial is not None and trial not in ranked:
        trial = _same_number(trial, ranked)
    if trial is not None and trial not in ranked:
        raise SearchError(
            f"{option('trial')} {trial}: not a completed trial of {folder.path}; completed:"
            f" {', '.join(sorted(ranked)) or 'none'}"
        )
    chosen = (folder.read_meta().get("best") or {}).get("trial")
    return next(t for t in trials if t["id"] == (trial or (chosen if chosen in ranked else ranked[0])))


def _check_values(folder: RunFolder, best: dict[str, Any], space: Space) -> None:
    """RunFolderError where a value of the trial to export lies outside the run's space
    (trials.json was edited): the retrain would build another model, or fail after loading."""
    for name, value in best["hyperparameters"].items():
        if name in space and not _recorded(space[name], value):
            raise RunFolderError(
                f"{folder.trials_file}: trial {best['id']}'s {name} is {value!r}, outside the run's"
                f" space ({space[name].describe()}); {damaged_file('damaged or was edited')}"
            )


def _recorded(param: Param, value: Any) -> bool:
    """Whether ``value``, as trials.json records it (a float to 12 digits), is ``param``'s."""
    if param.contains(value):
        return True
    held = param.values if isinstance(param, Choice) else (param.default,) if isinstance(param, Fixed) else ()
    return any(isinstance(v, float) and tidy(v) == value for v in held)


def _check_same_data(folder: RunFolder, splits: Splits) -> None:
    """DataError where the data differ from the ones the run searched on (its saved arrays
    or data folder changed since): the export would retrain on other data."""
    data = folder.read_meta().get("data") or {}
    stored = data.get("fingerprint")
    if stored is not None and stored != splits.fingerprint():
        searched = "" if same_source(data.get("source"), splits.source) else f" ({data['source']})"
        raise DataError(
            f"{folder.path}: the data ({splits.source}) differ from the ones this run searched on{searched};"
            " export retrains on the run's own data: restore them, or search again in a run of"
            " another name"
        )


def _same_number(trial: str, ids: list[str]) -> str:
    """The one of ``ids`` that is ``trial`` as a number (``1`` for KerasTuner's padded ``01``),
    else ``trial`` itself."""
    if not trial.isdecimal():
        return trial
    same = [i for i in ids if i.isdecimal() and int(i) == int(trial)]
    return same[0] if len(same) == 1 else trial


def _record_export(
    folder: RunFolder, output: Path, best: dict[str, Any], final: dict[str, Any], splits: Splits
) -> None:
    """Add the export to run.json's ``exports``."""
    record = {
        "output": str(output.resolve()),
        "trial": best["id"],
        "image_shape": list(row_shape(splits.x_train)),
        "test_accuracy": final["test_accuracy"],
        "test_images": final["test_images"],
        "train_images": final["train_images"],
        "train_unit": final.get("train_unit", splits.unit),
        "epochs": final["epochs"],
        "kept_epoch": final.get("kept_epoch"),
        "started_from": final.get("started_from", "scratch"),
        "schedule": final.get("schedule"),
        "created": utc_now(),
    }
    try:
        folder.update_meta(exports=[*folder.read_meta().get("exports", []), record])
    except OSError as exc:
        failure = environment_error(exc)
        if failure is None:
            raise
        where = error_path(failure) or str(folder.run_file)
        fix = FIXES[failure.errno or 0]
        message = f"{output}: exported and usable, but {where} could not record it: {fix}"
        if output.parent.resolve() != folder.path.resolve():  # see _check_not_foreign
            overwrite = option("overwrite")
            message += f"; until it is recorded, a new export replaces this file only with {overwrite}"
        raise SearchError(message) from exc

