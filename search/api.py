"""The Python API: ``search.run``, ``search.resume``, ``search.load`` and :class:`Run`.

The engine's front door from Python, shaped like KerasTuner's ``tuner.search`` and
Keras' ``model.fit``; the CLI runs the same engine. A run lands in the same folder format
as the CLI's, so ``python -m search status|report RUN`` read it too.
"""

from __future__ import annotations

import math
import numbers
import os
import shlex
import sys
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import keras
import keras_tuner as kt
import numpy as np
import pandas as pd
from rich.console import Console

from search._shipped import shipped_space
from search._text import a_kind, output_width, parse_duration, resume_call, retrain_call
from search.data import VALIDATION_SPLIT, array_splits, load_arrays, refuse_streams
from search.engine import (
    RunRequest,
    drive_isolated,
    finish_cut_short,
    load_saved,
    policy_kept,
    run_search,
    search_checkpoint,
    stored_request,
)
from search.errors import RunFolderError, SearchError, named_options, render
from search.experiments import (
    Experiment,
    Reference,
    absolute_reference,
    built_in_as,
    describe,
    folder_name,
    is_hypermodel,
    models,
    names,
    own_objects,
    refuse_search_on_import,
    user_experiment,
)
from search.experiments import get as get_experiment
from search.quiet import library_logs_kept, quiet_libraries
from search.ranking import CONVERGED_EPOCHS, TOLERANCE, trials_table
from search.report import empty_rule_columns, load_report, write_report
from search.storage import RunFolder, check_writable, lock_holder, not_a_run
from search.tuners import Observer, global_randomness_kept

ARRAY_COMMAND = "search.run"
"""What run.json records as the command of a run started from Python."""


class Run:
    """A run folder, read-only: what a search found. ``search.run`` returns one;
    :func:`load` opens one from disk (finished or interrupted)."""

    def __init__(self, folder: str | Path) -> None:
        given = _as_path(folder, "folder", "a run's folder, e.g. 'results/fashion/NAME'")
        self._folder = RunFolder(given.absolute())  # the same run after os.chdir (a notebook's %cd)
        _refuse_run_file(folder, "search.load")
        if not self._folder.exists():
            raise RunFolderError(f"{folder}: not a run folder (no run.json); give a run's folder")
        self._folder.read_meta(require=("experiment", "tuner"))  # a damaged run.json: said now

    def __repr__(self) -> str:
        try:
            status = self.status
        except RunFolderError:  # run.json damaged since: a repr never raises
            status = "unreadable"
        return f"Run({str(self.folder)!r}, status={status!r})"

    @property
    def folder(self) -> Path:
        """The run folder (the same format as the CLI's)."""
        return self._folder.path

    @property
    def meta(self) -> dict[str, Any]:
        """run.json, as it is now."""
        return self._folder.read_meta()

    @property
    def status(self) -> str:
        """``running`` (a live process works on it), ``interrupted``, ``failed`` or
        ``finished``."""
        status = str(self.meta.get("status"))
        if status == "running" and lock_holder(self._folder) is None:
            return "interrupted"  # killed: no process holds its lock
        return status

    @property
    def best_hyperparameters(self) -> dict[str, Any] | None:
        """The chosen trial's hyperparameters (of a run still going or stopped: the trial the
        rule chooses so far, as the report and ``status`` show); None before any trial
        completed."""
        best = self.meta.get("best") or {}
        if isinstance(best.get("hyperparameters"), dict):
            return dict(best["hyperparameters"])
        trials = {t["id"]: t for t in self._folder.read_trials()}
        if best.get("trial") in trials:  # run.json's choice, its copy of the values lost
            return dict(trials[best["trial"]]["hyperparameters"])
        if not trials:
            return None
        choice = load_report(self._folder).choice
        return None if choice is None else dict(trials[choice.trial]["hyperparameters"])

    @property
    def best_hp(self) -> kt.HyperParameters | None:
        """:attr:`best_hyperparameters` as a ``keras_tuner.HyperParameters``, what
        ``build(hp)`` takes (as KerasTuner's ``get_best_hyperparameters()[0]``):
        ``build(run.best_hp)`` builds the chosen model, untrained. None before any trial
        completed."""
        chosen = self.best_hyperparameters
        if chosen is None:
            return None
        hp = kt.HyperParameters()
        hp.values = dict(chosen)  # build's hp.* calls return these values
        return hp

    def best_model(
        self, custom_objects: Mapping[str, Any] | None = None, safe_mode: bool = True
    ) -> keras.Model:
        """The final model: the retrained one if there was a retrain, else the chosen
        trial's best-epoch checkpoint; your own classes and functions that Keras does not
        know by name are looked for, without custom_objects, in the module that defines
        the run's build or HyperModel. SearchError when the run saved none (yet), or when
        Keras cannot load it.

        Args:
            custom_objects: your own layers, losses and metrics that Keras does not know by
                name (not registered with ``keras.saving.register_keras_serializable``).
            safe_mode: False loads a ``Lambda`` layer's Python code (a file you trust).
        """
        if custom_objects is not None and not isinstance(custom_objects, Mapping):
            raise SearchError(
                f"custom_objects ({custom_objects!r}): give a dict of the names Keras looks up to your"
                " classes and functions, e.g. {'Name': Name}"
            )
        if not isinstance(safe_mode, bool):  # 'no' is truthy: it would load safely, unasked
            raise SearchError(f"safe_mode ({safe_mode!r}): give True or False")
        file = self._folder.model_file
        if not file.is_file():
            raise self._no_model(file)
        fix = (
            "pass your own classes and functions: run.best_model(custom_objects={'Name': Name}), or"
            " register them with @keras.saving.register_keras_serializable(); a lambda (a Lambda"
            " layer, a loss) you trust: safe_mode=False"
        )
        try:
            return load_saved(file, str(file), fix, custom_objects, safe_mode)
        except SearchError:
            found = self._own_objects() if custom_objects is None else {}
            if not found:
                raise
        return load_saved(file, str(file), fix, found, safe_mode)

    def _no_model(self, file: Path) -> SearchError:
        """Why :meth:`best_model` finds no ``file`` to load, and what gets one."""
        status = self.status
        export = f"`python -m search export {shlex.quote(str(self._folder.path))}`"
        if status == "finished" and not self._checkpoint_kept():
            retrain = retrain_call(self._folder.path, self.meta.get("request") or {})
            return SearchError(
                f"{file}: no model saved: without a retrain the run saves its chosen trial's"
                " checkpoint, and the trial kept none (e.g. a fit of its own that calls none of"
                f" the callbacks it is given); {retrain} retrains its configuration into a model"
            )
        if status == "finished":
            return SearchError(
                f"{file}: missing, though the run finished (the file was deleted or moved); restore it,"
                f" or retrain the chosen configuration with {export}"
                " and load the file it writes with keras.saving.load_model"
            )
        if status == "failed":
            return SearchError(
                f"{file}: no model saved: the run failed (see the reason column of run.trials);"
                " fix the cause and search again"
            )
        pid = lock_holder(self._folder)
        who = "another process" if pid == -1 else f"process {pid}"
        if pid is not None and status == "running":
            return SearchError(
                f"{file}: no model saved yet: {who} is running the search; wait for it to finish"
                " (search.load(folder).status says 'finished')"
            )
        resume = resume_call(self._folder.path, self.meta.get("request") or {})
        if pid is not None:  # an export of the stopped run, say
            return SearchError(
                f"{file}: no model saved (the run is {status}); {who} is working on the run now"
                f" (an export?); once it ends, resume the run to finish it: {resume}"
            )
        if resume.startswith("python"):  # asked from Python: its call too
            resume += f" (search.resume({str(self._folder.path)!r}) from Python)"
        return SearchError(f"{file}: no model saved (the run is {status}); resume it to finish it: {resume}")

    def _checkpoint_kept(self) -> bool:
        """Whether the run saved, or could have saved, a model: its final one is retrained,
        or the chosen trial's search checkpoint is there to save (without a retrain)."""
        chosen = (self.meta.get("best") or {}).get("trial")
        if (self.meta.get("request") or {}).get("retrain") is not False or chosen is None:
            return True
        return search_checkpoint(self._folder, str(chosen)) is not None

    def _own_objects(self) -> dict[str, Any]:
        """The classes and functions of the module that defines the run's build or
        HyperModel, imported again as ``resume`` and ``export`` do; {} where it cannot be."""
        stored = (self.meta.get("hypermodel") or {}).get("hypermodel")
        if not stored:
            return {}
        try:
            return own_objects(Reference.from_json(stored).load())
        except SearchError:  # gone or broken since: the caller's message stands
            return {}

    @property
    def trials(self) -> pd.DataFrame:
        """The report's ranked table: one row per trial in the ranking rule's order, its
        ``chosen`` column marking the final model's trial (the finalists may have kept one
        ranked below the first); a run of another objective than val_accuracy without the
        accuracy rule's empty columns; no rows before the first trial."""
        if not self._folder.read_trials():
            empty = trials_table([], CONVERGED_EPOCHS, None)
            if (self.meta.get("objective") or {}).get("name", "val_accuracy") == "val_accuracy":
                return empty
            return empty.drop(columns=empty_rule_columns(empty))
        report = load_report(self._folder)
        if report.metric.is_accuracy:
            return report.table
        return report.table.drop(columns=empty_rule_columns(report.table))

    @property
    def test_metrics(self) -> dict[str, float] | None:
        """The final model's test metrics (evaluated once, after a retrain with test
        data); None otherwise."""
        final = self.meta.get("final") or {}
        if final.get("test_metrics") is not None:
            return dict(final["test_metrics"])
        if final.get("test_accuracy") is not None:
            return {"loss": final.get("test_loss"), "accuracy": final["test_accuracy"]}
        return None

    def report(self, path: str | Path | None = None) -> Path:
        """Write the HTML report (and its CSV and JSON tables next to it).

        Args:
            path: the HTML file; None: ``report.html`` in the run folder.

        Returns:
            The HTML file's path.
        """
        if path is not None:
            path = _as_path(path, "path", "a file name, e.g. 'report.html'")
            _check_report_path(path)
        else:
            check_writable(self._folder.path, f"run folder {self._folder.path}",
                           "pass path= a file in a folder you can write to")  # fmt: skip
        try:
            output, _ = write_report([self._folder], None if path is None else path)
        except SearchError as exc:
            if type(exc) is not SearchError or "output" not in named_options(exc.template):
                raise
            spelled = render(exc.template, lambda name: "path" if name == "output" else name)
            raise SearchError(spelled) from None
        return output


def _as_path(given: Any, keyword: str, wanted: str) -> Path:
    """``given`` as a Path; SearchError naming ``keyword`` unless it is a str or os.PathLike,
    or where it is an empty str (Path would take it as the current folder)."""
    if not isinstance(given, str | os.PathLike):
        raise SearchError(f"{keyword} ({given!r}): give {wanted}, as a str or pathlib.Path")
    if isinstance(given, str) and not given.strip():
        raise SearchError(f"{keyword} ({given!r}): an empty path; give {wanted}")
    return Path(given)


def _refuse_run_file(given: str | Path, call: str) -> None:
    """RunFolderError for a file of a run (its run.json, its report), or another existing
    path that is not a run folder (a file, a results root), given as the run."""
    path = Path(given)
    if path.is_file() and RunFolder(path.parent).exists():
        raise RunFolderError(
            f"{given}: a file, not a run folder; give the run's folder: {call}({str(path.parent)!r})"
        )
    if path.exists() and not RunFolder(path).exists():
        raise RunFolderError(f"{given}: {not_a_run(path, by_name=False)}")


def _check_report_path(path: Path) -> None:
    """SearchError unless ``path`` is a file in a folder that can be written."""
    if path.is_dir():
        raise SearchError(f"path {path}: is a folder; give a file name, e.g. {path / 'report.html'}")
    check_writable(path.parent, f"path {path}", "give a file in a folder you can write to")


def run(
    hypermodel: Any, x: Any = None, y: Any = None, *, sample_weight: Any = None,
    class_weight: Mapping[int, float] | None = None,
    validation_data: Any = None, validation_split: float = VALIDATION_SPLIT, test_data: Any = None,
    tuner: str = "hyperband", objective: str | kt.Objective = "val_accuracy",
    max_trials: int | None = None, max_epochs: int | None = None,
    results: str | Path = "results", name: str | None = None, seed: int = 0,
    experiment: str | None = None, space: str | Path | None = None,
    fix: Mapping[str, Any] | None = None, factor: int | None = None, baseline: bool = True,
    retrain: bool = True, retrain_data: str = "validated",
    retrain_max_epochs: int | None = None, retrain_from: str = "auto", retrain_schedule: str = "auto",
    converged_epochs: int = CONVERGED_EPOCHS, tolerance: float = TOLERANCE,
    sampler: str | None = None, pruner: str | None = None, storage: str | None = None,
    workers: int = 1, isolate: bool = False, keep_best: int | str | None = 3,
    precision: str = "auto", train_size: int | str | None = None, val_size: int | None = None,
    data_dir: str | Path | None = None, image_size: int | None = None,
    weights: str | None = None, model: str | None = None, track: str | Sequence[str] = (),
    budget: str = "auto", finalists: int | None = None, fidelity: str = "epochs",
    max_search_time: float | str | None = None, observers: Sequence[Observer] = (),
    warm_start: str | Path | Run | Sequence[str | Path | Run] | None = (),
    quiet: bool = False, **keras_tuner_options: Any,
) -> Run:
    """Search ``hypermodel``'s space, choose a configuration, retrain it and test it once.

    Args:
        hypermodel: a ``build(hp)`` function returning a compiled model, a
            ``keras_tuner.HyperModel`` (its own ``fit`` too), or an experiment: a built-in
            experiment's name (``"fashion"``), ``"file.py:NAME"`` or a
            :class:`search.Experiment`, with no arrays.
        x: training inputs (with a hypermodel): one array, or a multi-input model's list
            or dict of arrays (keyed by its inputs' names), each holding every row.
        y: training targets: class labels, one-hot rows, or values.
        sample_weight: a weight of 0 or more per row of x, as ``model.fit`` takes it (with a
            ``build(hp)``, or a HyperModel whose own ``fit`` takes it): the loss, and the
            metrics compiled as ``weighted_metrics``, weigh each row by it; None: rows
            weigh alike.
        class_weight: a weight of 0 or more per class label (``{0: 1.0, 1: 5.0}``), as
            ``model.fit`` takes it: each training row's weight is multiplied by its class's
            (1 for a class without one); validation and test rows are not weighted by it.
        validation_data: ``(x_val, y_val)`` or ``(x_val, y_val, val_sample_weight)``; None:
            a seeded ``validation_split`` of x, y and sample_weight (stratified for class
            labels).
        validation_split: the share of x, y held out for validation.
        test_data: ``(x_test, y_test)`` or ``(x_test, y_test, test_sample_weight)``,
            evaluated once by the final model, never to choose.
        tuner: ``hyperband``, ``random``, ``bayesian`` or ``optuna``.
        objective: a metric name the model logs (``val_accuracy``, ``val_auc``...), with
            ``:min`` or ``:max`` where its direction is not obvious (``"val_rmse:min"``), a
            ``keras_tuner.Objective``, or ``"pareto"`` (Optuna).
        max_trials: trials to run (Hyperband: a cap on its schedule); None: the default.
        max_epochs: epochs of the longest trial; None: the default.
        results: the results root; the run lands in ``results/EXPERIMENT/NAME``.
        name: the run's name; None: ``TUNER-DATE-TIME``. An existing interrupted run of
            that name is continued.
        seed: seeds the split, the tuner and the models.
        experiment: the experiment name of a run on arrays; None: the hypermodel's name.
        space: a TOML space file; its hyperparameters replace the code's own.
        fix: hyperparameters fixed at a value (tuning in stages).
        factor, baseline, retrain, retrain_data, retrain_max_epochs, retrain_from,
        retrain_schedule, converged_epochs, tolerance, sampler, pruner, storage, workers,
        isolate, keep_best, precision, train_size, val_size, data_dir, image_size, weights,
        model: as the CLI's
            options of the same names (``python -m search run --help``); keep_best:
            a number, or ``"all"`` or None (every checkpoint kept).
        track: ``"mlflow"``, ``"mlflow=URI"``, ``"tensorboard"``, or several of these:
            where the search is tracked besides its folder.
        budget: ``"cpu"``, ``"gpu"`` (more trials and epochs, every training image, 3
            finalists on a cosine schedule) or ``"auto"`` (``gpu`` where Keras sees a GPU):
            the defaults of what is not given.
        finalists: train the K best distinct configurations (the baseline among them) on
            all the training data, validated, and keep the best at that fidelity; None:
            the budget's (1: the chosen one retrained alone; 3 on ``gpu``).
        fidelity: what a trial's budget grows in: ``"epochs"`` (every epoch sees all the
            search's training images), ``"data"`` (at an epoch budget b of max_epochs R, the
            first ceil(N * b / R) of the N images, at least one batch; the top rung sees all
            N) or ``"both"`` (``"data"`` on every training image unless train_size is given).
        max_search_time: seconds (or ``"90s"``, ``"10m"``, ``"1.5h"``) of searching after
            which no new trial starts; the running ones finish, then the finalists and the
            retrain. ``"none"`` or ``math.inf``: no limit; None: the budget's (6 minutes on
            ``gpu`` unless max_trials is given).
        observers: your own :class:`search.Observer` subclasses, told of every trial and
            epoch of the search in this process (not in workers or trial processes).
        warm_start: earlier runs (folders or :class:`Run` objects) of the same experiment
            and objective whose finished trials the search starts from (tuning in stages);
            their parameters must be this space's or a subset of them.
        quiet: print nothing (progress shows by default, in a terminal or Jupyter).
        **keras_tuner_options: none taken: KerasTuner's ``tuner.search`` and ``model.fit``
            keywords (``epochs``, ``callbacks``, ``batch_size``...) are refused with what to
            give instead; any other is a TypeError, as for any function.

    Returns:
        The :class:`Run`.
    """
    _refuse_keras_tuner_options(keras_tuner_options)
    objective, direction = _objective(objective)
    options = RunRequest(
        experiment="check", tuner=tuner, objective=objective, direction=direction,
        max_trials=_plain(max_trials), max_epochs=_plain(max_epochs), name=name, seed=_plain(seed),
        fix=_fixed(fix), results=_as_path(results, "results", "the results root, e.g. 'results'"),
        space=_space_path(space), factor=_plain(factor), baseline=_plain(baseline), retrain=_plain(retrain),
        retrain_data=retrain_data, retrain_max_epochs=_plain(retrain_max_epochs), retrain_from=retrain_from,
        retrain_schedule=retrain_schedule,
        converged_epochs=_plain(converged_epochs), tolerance=_plain(tolerance), sampler=sampler,
        pruner=pruner, storage=storage, workers=_plain(workers), isolate=_plain(isolate),
        keep_best=_kept(_plain(keep_best)), precision=precision,
        train_size=_train_size(_plain(train_size)), full_train=train_size == "all",
        val_size=_plain(val_size),
        data_dir=None if data_dir is None else _as_path(data_dir, "data_dir", "the data's folder"),
        image_size=_plain(image_size), weights=weights, model=model,
        track=_trackers(track), budget=budget, finalists=_plain(finalists), fidelity=fidelity,
        warm_start=_run_folders(warm_start), max_search_time=_seconds(max_search_time),
    )  # fmt: skip
    options.check()  # every option, before any work
    data = {"x": x, "y": y, "validation_data": validation_data, "test_data": test_data,
            "sample_weight": sample_weight, "class_weight": class_weight}  # fmt: skip
    if isinstance(hypermodel, (str, Experiment)) and all(value is None for value in data.values()):
        _refuse_split_of_experiment(hypermodel, _plain(validation_split))
        return _run_experiment(hypermodel, options, quiet, observers, experiment)
    _check_given(hypermodel, data, options)
    splits = array_splits(
        x, y, validation_data, _plain(validation_split), test_data, seed, sample_weight,
        _plain_mapping("class_weight", class_weight),
    )
    user = experiment_for(hypermodel, experiment, options.space, lambda options_: splits)
    reference = (user.reference or {}).get("hypermodel")
    request = replace(
        options, experiment=user.name, hypermodel=reference, arrays=True,
        command=(ARRAY_COMMAND, describe(hypermodel)),
    )  # fmt: skip
    return _execute(request, user, quiet, observers)


def _plain(value: Any) -> Any:
    """A NumPy scalar (``run.trials["epochs"].max()``, ``np.int64(3)``) as the Python value
    it shows as, as Keras takes it: KerasTuner's state files are JSON, which has no NumPy
    types; anything else as it is (the request's check names what is wrong with it).

    Args:
        value: a keyword's value.

    Returns:
        ``value``: a NumPy bool as a bool, integer as an int, float as the float it prints
        as (``np.float32(0.2)``: 0.2, not 0.20000000298023224).
    """
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.float64):
        return float(value)
    if isinstance(value, np.floating):  # the shortest digits that read back as this value
        return float(np.format_float_positional(value, unique=True))
    return value


def _plain_mapping(name: str, value: Any) -> Any:
    """The mapping ``name`` (``fix``, ``class_weight``) with its NumPy keys and values as
    Python's (:func:`_plain`); anything else as it is. SearchError where two keys become one
    (``np.float32(0.1)`` and ``0.1``)."""
    if not isinstance(value, Mapping):
        return value
    plain: dict[Any, Any] = {}
    given: dict[Any, Any] = {}
    for key, item in value.items():
        if _plain(key) in plain:
            raise SearchError(
                f"{name}: the keys {given[_plain(key)]!r} and {key!r} are the same key once"
                " read as Python numbers; give each key once"
            )
        plain[_plain(key)], given[_plain(key)] = _plain(item), key
    return plain


def _kept(keep_best: int | str | None) -> int | None:
    """``keep_best``'s number of checkpoints (None: every one); SearchError for any other text."""
    if keep_best == "all":
        return None
    if isinstance(keep_best, str):
        raise SearchError(f"keep_best {keep_best!r}: give a number of trials, 'all' or None (every one)")
    return keep_best


def _train_size(train_size: int | str | None) -> int | None:
    """``train_size``'s number of images (None for ``"all"``: every one); SearchError for any
    other text."""
    if isinstance(train_size, str):
        if train_size != "all":
            raise SearchError(f"train_size {train_size!r}: give a number of images or 'all'")
        return None
    return train_size


def _objective(objective: Any) -> tuple[str, str | None]:
    """``objective``'s metric name and direction (None: inferred), from a
    ``keras_tuner.Objective`` or a name with an optional ``:min``/``:max`` as on the
    command line; SearchError for anything else."""
    if isinstance(objective, kt.Objective):
        return objective.name, objective.direction
    if not isinstance(objective, str):
        raise SearchError(
            f"objective: {a_kind(objective)}; give one metric name, a"
            " keras_tuner.Objective, or 'pareto'"
        )
    name, _, direction = objective.partition(":")
    return name, direction or None


FIT_KEYWORDS = (
    "batch_size", "shuffle", "steps_per_epoch", "validation_steps",
    "validation_batch_size", "validation_freq", "initial_epoch",
)  # fmt: skip
"""``model.fit`` keywords a ``HyperModel``'s own ``fit`` can pass on."""

RENAMED = {
    "epochs": "search.run trains a trial for at most max_epochs; give max_epochs={value!r}",
    "verbose": "search.run shows its own progress; give quiet=True to print nothing",
    "directory": "the runs' root folder is results=; give results={value!r}",
    "project_name": "a run's folder is named by name=; give name={value!r}",
    "overwrite": "a run of an existing name= is continued, never overwritten; give another name=,"
    " or delete its folder",
    "hyperparameters": "the search space is space= (a TOML file) or what build declares; fix values"
    " with fix={{name: value}}",
    "tune_new_entries": "search.run tunes every hyperparameter build declares; fix the others with"
    " fix={{name: value}}",
    "allow_new_entries": "search.run takes every hyperparameter build declares; fix the others with"
    " fix={{name: value}}",
    "executions_per_trial": "search.run trains each configuration once; give seed= and compare"
    " runs, or more max_trials=",
    "max_retries_per_trial": "search.run records a failing trial as failed, with its reason, and"
    " goes on; leave it out",
    "max_consecutive_failed_trials": "search.run stops after 3 trials in a row failed (resume it"
    " once the cause is fixed); leave it out",
    "callbacks": "search.run stops trials itself (Hyperband, Optuna's pruner, the retrain's early"
    " stop); follow the epochs with observers=[...] (search.Observer subclasses), or pass them to"
    " model.fit, with the callbacks it is given, in a keras_tuner.HyperModel's"
    " fit(self, hp, model, *args, **kwargs)",
}
"""KerasTuner's ``tuner.search`` (and tuner) keywords ``search.run`` does not take, and what to give."""


def _shown(value: Any) -> str:
    """``value`` in a message: an array as such (a NumPy scalar as its number), callbacks
    by their class."""
    if isinstance(value, np.number | np.bool_):
        return repr(_plain(value))
    if isinstance(value, np.generic):
        return repr(value.item())
    if hasattr(value, "shape"):
        return "an array"
    if isinstance(value, (list, tuple)) and not all(isinstance(v, (int, float, str)) for v in value):
        return "[" + ", ".join(type(v).__name__ for v in value) + "]"
    text = repr(value)
    if text.startswith("<"):  # an object's default repr: its class says more
        return f"a {type(value).__name__}"
    return text if len(text) <= 60 else text[:57] + "..."


def _refuse_keras_tuner_options(given: Mapping[str, Any]) -> None:
    """SearchError for a KerasTuner keyword, saying what to give instead; TypeError for
    any other keyword ``search.run`` does not take."""
    for keyword, value in given.items():
        if keyword in FIT_KEYWORDS:
            raise SearchError(
                f"{keyword} ({_shown(value)}): search.run calls model.fit itself; pass it to"
                " model.fit in a keras_tuner.HyperModel's fit(self, hp, model, *args, **kwargs)"
                " (or tune it there with hp.*)"
            )
        if keyword in RENAMED:
            raise SearchError(f"{keyword} ({_shown(value)}): " + RENAMED[keyword].format(value=_plain(value)))
        raise TypeError(f"run() got an unexpected keyword argument {keyword!r}")


def _check_given(hypermodel: Any, data: dict[str, Any], options: RunRequest) -> None:
    """SearchError for ``data`` (x, y, validation_data, test_data, the weights) given in a form
    ``search.run`` cannot take, or not given: a stream (before "missing": x may be one),
    a missing x or y, arrays with an experiment, which loads its own; or given with
    ``options`` that choose what an experiment loads."""
    x, y = data["x"], data["y"]
    refuse_streams(x, y, data["validation_data"], data["test_data"])
    if isinstance(hypermodel, (str, Experiment)):
        name = hypermodel if isinstance(hypermodel, str) else hypermodel.name
        given = [what for what, value in data.items() if value is not None]
        raise SearchError(
            f"{', '.join(given)}: an experiment ({name!r}) loads its own data; drop"
            f" {' and '.join(given)}, or pass a build(hp) function or keras_tuner.HyperModel"
            " with them"
        )
    usage = "search.run(hypermodel, x, y, ...)"
    if x is None and y is None:
        raise SearchError(f"x and y: missing; pass {usage}, or an experiment's name without arrays")
    if x is None or y is None:
        what, role = ("x", "inputs") if x is None else ("y", "targets")
        raise SearchError(f"{what}: missing; pass the {role} too: {usage}")
    _refuse_loading_options(options)


def _refuse_split_of_experiment(experiment: str | Experiment, validation_split: Any) -> None:
    """SearchError for ``validation_split`` given with an experiment: it holds out rows of
    the arrays given to ``search.run``, and an experiment loads its own validation rows."""
    if validation_split == VALIDATION_SPLIT:
        return
    name = experiment if isinstance(experiment, str) else experiment.name
    raise SearchError(
        f"validation_split ({validation_split!r}): holds out rows of the arrays given to"
        f" search.run; experiment {name!r} loads its own validation rows (its search.Data's"
        " validation_split or validation_data; val_size= where it takes one): leave out validation_split"
    )


def _refuse_loading_options(options: RunRequest) -> None:
    """SearchError for an option that chooses what an experiment loads (its data, its
    model), given with arrays: a run on them would ignore it."""
    for name, value in options.data_options().items():
        if value is not None:
            raise SearchError(
                f"{name} {value!r}: a run on arrays searches the x, y (and validation_data) given; the"
                " option applies to experiments that load their own data (fashion, clothing, images):"
                " leave it out, or pass fewer rows (x[:N], y[:N])"
            )
    if options.model is not None:
        raise SearchError(
            f"model {options.model!r}: a run on arrays searches the hypermodel given; the option"
            " applies to experiments of several models (images): leave it out"
        )


def _trackers(track: Any) -> tuple[str, ...]:
    """``track`` as a tuple of tracker specs (one given alone too); SearchError for anything
    but a str or a list or tuple of them."""
    given = (track,) if isinstance(track, str) else track
    if not isinstance(given, (list, tuple)) or not all(isinstance(spec, str) for spec in given):
        raise SearchError(
            f"track ({_shown(track)}): give 'mlflow', 'mlflow=URI', 'tensorboard', or a list of these"
        )
    return tuple(given)


def _seconds(duration: float | str | None) -> float | None:
    """``max_search_time`` in seconds: a number as it is, a string as ``"10m"`` says."""
    if duration is None:
        return None
    if isinstance(duration, str):
        try:
            return parse_duration(duration)
        except ValueError as exc:
            raise SearchError(f"max_search_time: {exc}") from None
    if isinstance(duration, bool) or not isinstance(duration, numbers.Real):  # NumPy's too
        raise SearchError(
            f"max_search_time: {duration!r} ({type(duration).__name__}); give seconds or a"
            " duration such as '10m'"
        )
    try:
        return float(duration)
    except OverflowError:  # an int too large for a float: no limit, as math.inf
        return math.inf


def _space_path(space: Any) -> Path | None:
    """``space`` as the path of a space file (None: the code's own); SearchError for anything else."""
    if space is None:
        return None
    if not isinstance(space, (str, os.PathLike)):
        raise SearchError(
            f"space: {space!r} ({type(space).__name__}) is not a path; give a TOML space file"
            " (str or Path), e.g. space='spaces/fashion.toml'"
        )
    return shipped_space(os.fsdecode(space))


def _fixed(fix: Any) -> dict[str, Any]:
    """``fix`` as a dict of values by name (None: none); SearchError for anything else."""
    if fix is None:
        return {}
    if not isinstance(fix, Mapping):
        raise SearchError(
            f"fix: {fix!r} ({type(fix).__name__}) is not a mapping; give a dict such as"
            " fix={'learning_rate': 0.001}"
        )
    for name in fix:
        if not isinstance(name, str):
            raise SearchError(
                f"fix: the key {name!r} ({type(name).__name__}) is not a hyperparameter's name;"
                " give names as str, e.g. fix={'learning_rate': 0.001}"
            )
    return _plain_mapping("fix", fix)


def _run_folders(runs: str | Path | Run | Sequence[str | Path | Run] | None) -> tuple[Path, ...]:
    """``warm_start``'s run folders: one or several paths or :class:`Run` objects (None:
    none); SearchError for anything else."""
    if runs is None:
        return ()
    single = isinstance(runs, (str, os.PathLike, Run))
    items: list[Any] = [runs] if single or not isinstance(runs, Sequence) else list(runs)
    folders = []
    for item in items:
        if not isinstance(item, (str, os.PathLike, Run)):
            raise SearchError(
                f"warm_start: {item!r} ({type(item).__name__}) is not a run; give run folders"
                " (str or Path) or search.Run objects, e.g. warm_start=[earlier_run]"
            )
        if isinstance(item, str) and not item.strip():  # Path("") would be the current folder
            raise SearchError(
                f"warm_start: {item!r} is an empty path; give an earlier run's folder or its"
                " search.Run, e.g. warm_start=[earlier_run]"
            )
        folders.append(item.folder if isinstance(item, Run) else Path(item))
    return tuple(folders)


def experiment_for(
    hypermodel: Any, name: str | None, space: str | Path | None, load: Any
) -> Experiment:
    """The experiment around a user's hypermodel; SearchError when it is none."""
    if isinstance(hypermodel, type) and issubclass(hypermodel, kt.HyperModel):
        raise SearchError(
            f"hypermodel: {hypermodel.__name__} is a class; pass an instance,"
            f" {hypermodel.__name__}(...)"
        )
    if isinstance(hypermodel, keras.Model):
        raise SearchError(
            f"hypermodel: a keras.Model ({type(hypermodel).__name__}), built already; pass the function"
            " that builds it, search.run(build, x, y), where build(hp) returns a compiled model"
        )
    if not is_hypermodel(hypermodel):
        raise SearchError(
            f"hypermodel: {a_kind(hypermodel)} is neither a build(hp) function, a"
            " keras_tuner.HyperModel, nor an experiment; pass one of these"
        )
    if name is not None and not isinstance(name, str):
        raise SearchError(
            f"experiment ({name!r}): give the experiment's name as a str, e.g. experiment='mnist'"
        )
    return user_experiment(
        name or folder_name(describe(hypermodel)), hypermodel, load,
        space_file=None if space is None else str(space),
    )  # fmt: skip


def _run_experiment(
    experiment: str | Experiment,
    options: RunRequest,
    quiet: bool,
    observers: Sequence[Observer] = (),
    filed_as: str | None = None,
) -> Run:
    """``search.run("fashion", ...)``: the main command from Python. An Experiment object
    runs in this process; other processes (workers, isolate, resume) find an experiment by
    its name or reference (``"file.py:NAME"``) only. ``filed_as``: ``search.run``'s
    ``experiment``, which names runs on arrays only."""
    if filed_as is not None:
        named = experiment if isinstance(experiment, str) else experiment.name
        raise SearchError(
            f"experiment ({filed_as!r}): names a run on arrays; a run of experiment {named!r} is"
            " filed under that name: leave experiment out (name= names the run)"
        )
    if isinstance(experiment, str):
        target = absolute_reference(experiment)
        if target not in names() or built_in_as(get_experiment(target)) is not None:
            request = replace(options, experiment=target, command=(ARRAY_COMMAND, target))
            return _execute(request, None, quiet, observers)
        experiment = get_experiment(target)  # registered in this process only
    if options.model is not None:
        raise SearchError(_model_refusal(experiment, options.model))
    target, model, in_process = _recorded_as(experiment)
    if in_process and (options.workers > 1 or options.isolate):
        raise SearchError(
            f"experiment {experiment.name!r}: workers and isolate run trials in other processes,"
            " which do not find an experiment made in this one; pass it as 'file.py:NAME' or"
            " 'package.module:NAME'"
        )
    request = replace(
        options, experiment=target, model=model, command=(ARRAY_COMMAND, target), from_object=in_process
    )
    return _execute(request, experiment, quiet, observers)


def _model_refusal(experiment: Experiment, model: str) -> str:
    """Why ``model=`` does not go with an Experiment object, and the call that picks it
    where a built-in experiment has that model."""
    built_in = built_in_as(experiment)
    if built_in is not None and model in models(built_in[0]):
        instead = f", or name the experiment instead: search.run({built_in[0]!r}, model={model!r})"
    else:
        instead = ""
    named = f"experiment {experiment.name!r}"
    return f"model {model!r}: {named} is given as one model already; leave model out{instead}"


def _recorded_as(experiment: Experiment) -> tuple[str, str | None, bool]:
    """How run.json names an Experiment object's run: the experiment, its model, and whether
    only this process finds it (neither a reference nor a built-in's very object)."""
    found = (experiment.reference or {}).get("experiment")
    if found is not None:
        return absolute_reference(str(found)), None, False
    built_in = built_in_as(experiment)
    return (experiment.name, None, True) if built_in is None else (*built_in, False)


def _started_as(name: str, model: str | None, in_process: bool) -> str:
    """An experiment as a run names it, for a message and to compare: its model (the
    default one of several where ``--model`` was left out), and whether it was made in its
    process."""
    model = model if in_process else model or next(iter(models(name)), None)
    shown = repr(name) + ("" if model is None else f" (model {model!r})")
    return f"{shown}, made in its process" if in_process else shown


def _check_resumed_with(folder: Path, request: RunRequest, experiment: Experiment) -> None:
    """The Experiment object given to resume a run is the one it was started with (by name,
    model, and where it was made), not one that would go on with other data or start a new
    run elsewhere."""
    if request.arrays:
        raise SearchError(
            f"hypermodel: {folder} is a run on arrays, which resumes with the hypermodel it ran"
            f" (search.resume({str(folder)!r}, hypermodel=...)), not an Experiment"
        )
    given = _started_as(*_recorded_as(experiment))
    started = _started_as(absolute_reference(request.experiment), request.model, request.from_object)
    if given != started:
        fix = "pass the Experiment it was started with" if request.from_object else (
            "resume it without hypermodel= (its experiment is found by name)"
        )
        raise SearchError(
            f"hypermodel: the Experiment given is {given}, but {folder}'s run.json names {started}; {fix}"
        )


def _execute(
    request: RunRequest,
    experiment: Experiment | None,
    quiet: bool,
    observers: Sequence[Observer] = (),
) -> Run:
    quiet = _quiet_flag(quiet)
    with library_logs_kept(), global_randomness_kept(), policy_kept():  # the caller's goes on as it was
        quiet_libraries()
        return _execute_quietly(request, experiment, quiet, observers)


def _execute_quietly(
    request: RunRequest, experiment: Experiment | None, quiet: bool, observers: Sequence[Observer]
) -> Run:
    """The run itself (in this process, or ``isolate``'s trial processes), its libraries quieted."""
    console = _console(quiet)
    observers = _observer_list(observers)
    if request.isolate and observers:
        raise SearchError(
            "observers: isolate=True runs each trial in another process, where they cannot"
            " follow it; drop isolate=True, or track the run (track='mlflow')"
        )
    if request.isolate:  # each trial process prints its outcome and writes the report
        with tempfile.TemporaryDirectory(prefix="search-isolate-") as scratch:
            error_file = Path(scratch) / "error"
            code, folder = drive_isolated(
                request, console, quiet, debug=False, experiment=experiment, error_file=error_file,
                silent=quiet,
            )  # fmt: skip
            handed = error_file.read_text(encoding="utf-8") if error_file.exists() else ""
        if code != 0 and handed:  # the trial process's own error, in Python's words
            raise SearchError(handed)
        if code != 0:
            call = f"search.resume({str(folder.path)!r})"
            if request.from_object:
                call = resume_call(folder.path, {"from_object": True})
            raise SearchError(f"the last trial process exited with code {code}; the run is kept: {call}")
        return Run(folder.path)
    outcome = run_search(request, console, quiet, experiment=experiment, observers=observers)
    for line in outcome.report:
        console.print(line)
    return Run(outcome.folder.path)


def _observer_list(observers: Any) -> list[Observer]:
    """``observers`` as a list (one Observer given alone too); SearchError naming what is
    not a search.Observer."""
    iterable = isinstance(observers, Iterable) and not isinstance(observers, (str, Observer))
    many = list(observers) if iterable else [observers]
    for observer in many:
        if not isinstance(observer, Observer):
            raise SearchError(
                f"observers: {a_kind(observer)} is not a search.Observer; subclass"
                " search.Observer and override the hooks you need"
            )
    return many


def _quiet_flag(quiet: Any) -> bool:
    """``quiet`` as a bool (a NumPy bool too); SearchError for anything else."""
    quiet = _plain(quiet)
    if not isinstance(quiet, bool):
        raise SearchError(f"quiet ({quiet!r}): give True or False")
    return quiet


def _console(quiet: bool) -> Console:
    """Where a run from Python prints: stdout, plain text, as wide as it is."""
    width = output_width(sys.stdout)
    return Console(quiet=quiet, highlight=False, soft_wrap=True, markup=False, width=width)


def _finished_now(folder: RunFolder, quiet: Any) -> Run | None:
    """A run killed after it finished, before its report: finished now, its report's lines
    printed as a run's (None: any other run)."""
    console = _console(_quiet_flag(quiet))
    with library_logs_kept():  # the trackers' libraries say nothing, as in a run
        quiet_libraries()
        lines = finish_cut_short(folder, console)
    if lines is None:
        return None
    for line in lines:
        console.print(line)
    return load(folder.path)


def resume(
    folder: str | Path,
    hypermodel: Any = None,
    *,
    storage: str | None = None,
    data_dir: str | Path | None = None,
    observers: Sequence[Observer] = (),
    quiet: bool = False,
) -> Run:
    """Continue an interrupted run where it stopped (finished trials are kept).

    Args:
        folder: the run folder.
        hypermodel: the run's hypermodel, for a run on arrays whose hypermodel cannot be
            imported again (a lambda, a notebook's function), or the Experiment object a
            run was started with; None: import what run.json names.
        storage: the Optuna database URL with its password (run.json keeps it masked).
        data_dir: the folder the run's data moved to (the same data: checked as they load;
            the run reads them there from now on); None: where the run read them.
        observers: your own :class:`search.Observer` subclasses (see :func:`run`).
        quiet: print nothing.

    Returns:
        The finished :class:`Run`.
    """
    refuse_search_on_import("search.resume")
    _as_path(folder, "folder", "a run's folder, e.g. 'results/fashion/NAME'")
    if storage is not None and not isinstance(storage, str):
        raise SearchError(
            f"storage ({storage!r}): give the Optuna database URL as a str, e.g."
            " 'postgresql+psycopg://user:password@host:5432/dbname'"
        )
    _refuse_run_file(folder, "search.resume")
    given = {} if data_dir is None else {"data_dir": _as_path(data_dir, "data_dir", "the data's folder")}
    run_folder = RunFolder(Path(folder))
    finished = _finished_now(run_folder, quiet)
    if finished is not None:
        return finished
    request = stored_request(run_folder, storage, given, imports=hypermodel is None)  # else: not imported
    if hypermodel is None:
        return _execute(request, None, quiet, observers)
    if isinstance(hypermodel, Experiment):
        _check_resumed_with(run_folder.path, request, hypermodel)
        return _execute(request, hypermodel, quiet, observers)
    if request.from_object:
        raise SearchError(
            f"hypermodel ({a_kind(hypermodel)}): {run_folder.path} was started with an Experiment"
            f" object; pass it: {resume_call(run_folder.path, {'from_object': True})}"
        )
    if not request.arrays:
        raise SearchError(
            f"{run_folder.path}: a run of experiment {request.experiment!r} rebuilds its own"
            " hypermodel; resume it without hypermodel="
        )
    experiment = experiment_for(
        hypermodel, request.experiment, request.space, lambda options: load_arrays(run_folder.path)
    )  # fmt: skip
    reference = (experiment.reference or {}).get("hypermodel")
    return _execute(replace(request, hypermodel=reference), experiment, quiet, observers)


def load(folder: str | Path) -> Run:
    """A run on disk, finished or interrupted, read-only.

    Args:
        folder: the run folder.

    Returns:
        The :class:`Run`.

    Raises:
        RunFolderError: ``folder`` is not a run's, or its run.json cannot be read.
    """
    return Run(folder)


__all__ = ["Run", "load", "resume", "run"]
