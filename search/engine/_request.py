"""What a user asked ``run`` to do, validated before any work starts."""

from __future__ import annotations

import math
import numbers
import os
import re
import shlex
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import keras_tuner as kt

from search import experiments
from search._text import NO_LIMIT, plural
from search.compat import keras_tuner as compat_kt
from search.data import Splits, rows
from search.engine._precision import PRECISIONS
from search.errors import RunFolderError, SearchError, named_options, option
from search.experiments import refuse_search_on_import
from search.ranking import ACCURACY_OBJECTIVES, CONVERGED_EPOCHS, TOLERANCE
from search.report import report_written
from search.storage import (
    RunFolder,
    absolute_url,
    check_writable,
    damaged_file,
    is_masked,
    masked_url,
    same_storage,
)
from search.tracking import parse_track
from search.tuners.optuna import JOURNAL_FILE, check_url

STORAGE_ENV = "SEARCH_OPTUNA_STORAGE"
"""The storage URL handed to spawned workers (run.json keeps it without its password)."""

OBJECTIVES = {"val_accuracy": "max", "val_loss": "min", "pareto": "max"}
"""The named objectives of the built-in experiments. ``pareto`` (Optuna only): converged
val accuracy up and train/val gap down, together. Any other metric the model logs
(``val_auc``, ``val_mean_absolute_error``...) is an objective too, its direction inferred
as KerasTuner infers it, or given (``--objective NAME:max``)."""
DIRECTIONS = ("max", "min")
_LOSS = re.compile(r"^(loss|mse|mae|mape|msle|rmse)$|error|crossentropy|hinge|divergence|log_cosh|poisson")
"""Metric names that fall as the model improves: maximizing one is a mistake."""
_NEGATED = ("neg_", "negative_")
"""How a metric that negates a loss or an error is named (``neg_mean_squared_error``)."""
_METRIC = re.compile(r"^[A-Za-z_][A-Za-z0-9_./-]{0,99}$")
RETRAIN_DATA = ("validated", "full", "search")
RETRAIN_MAX_EPOCHS = 20
"""The most epochs a retrain trains unless ``--retrain-max-epochs`` says (or, for a
validated one along a cosine on the ``cpu`` budget, the experiment's ``cpu_cosine_epochs``)."""
RETRAIN_DEFAULTS: dict[str, Any] = {
    "retrain_data": "validated", "retrain_max_epochs": None, "retrain_from": "auto",
    "retrain_schedule": "auto"}
"""The options of a retrain that a run without one leaves as they are."""
RETRAIN_FROM = ("auto", "checkpoint", "scratch")
"""Where a validated retrain or finalist starts: its trial's best search checkpoint (when
one is on disk and fits the final model), or new weights; ``auto``: the checkpoint where the
search trained on every example the retrain trains on (:func:`starts_from_checkpoint`)."""
RETRAIN_SCHEDULES = ("auto", "plateau", "cosine")
"""How the learning rate moves in the final trainings (the finalists', the retrain's):
``plateau`` cuts it after every epoch without a better validation score and stops once
none comes; ``cosine`` trains every epoch up to ``--retrain-max-epochs``, the rate decayed
along a half cosine, keeping the best epoch by validation; ``auto``: ``cosine`` on the
``gpu`` budget, and on the ``cpu`` one for an experiment with ``cpu_cosine_epochs``,
else ``plateau``."""
BUDGETS = ("auto", "cpu", "gpu")
FIDELITIES = ("epochs", "data", "both")
"""What a trial's budget grows in: ``epochs`` (every epoch sees all the search's training
images), ``data`` (the images grow with the epoch budget, up to all at the top rung),
``both`` (``data``, searching on every training image unless a train size is given)."""
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
GPU_SEARCH_SECONDS = 360.0
"""The ``gpu`` budget's search time: 6 minutes, which leaves its finalists the rest of 10."""
MAX_SEED = 2**32 - 1
"""The largest seed NumPy's and Keras' generators take."""
FACTOR = 3
"""Hyperband's reduction factor unless ``--factor`` says; the other tuners have none."""
MAX_TRIALS = 10**6
"""The most trials a search may be given: more than any search runs (KerasTuner names each
trial's folder with as many digits as the cap, too long for a file system at 10**300)."""


@dataclass(frozen=True)
class RunRequest:
    """Every option of ``python -m search run``; None means the experiment's default."""

    experiment: str
    tuner: str
    max_trials: int | None = None
    max_epochs: int | None = None
    factor: int | None = None
    """Hyperband's reduction factor (``--factor``; None: :data:`FACTOR`); refused with
    another tuner."""
    seed: int = 0
    results: Path = Path("results")
    name: str | None = None
    train_size: int | None = None
    full_train: bool = False
    val_size: int | None = None
    space: Path | None = None
    fix: dict[str, object] = field(default_factory=dict)
    baseline: bool = True
    """Run the space's defaults as the first trial (``--no-baseline``: every trial sampled)."""
    objective: str = "val_accuracy"
    direction: str | None = None
    """``max`` or ``min`` for the objective; None: inferred from its name."""
    hypermodel: dict[str, object] | None = None
    """How to import the user's hypermodel again (runs from Python on arrays kept in
    RUN/data); None for experiments found by name."""
    arrays: bool = False
    """The data are arrays given from Python, kept in the run folder's ``data/``."""
    from_object: bool = False
    """Started from Python with an Experiment object that no name finds again: only
    ``search.resume(folder, hypermodel=experiment)`` continues it."""
    data_dir: Path | None = None
    retrain: bool = True
    retrain_data: str = "validated"
    retrain_max_epochs: int | None = None
    """The most epochs a ``validated`` retrain trains (on ``plateau`` it stops earlier when
    validation accuracy stops improving; a ``cosine`` trains them all); None: the plan's
    (:data:`RETRAIN_MAX_EPOCHS`, or the experiment's ``cpu_cosine_epochs``)."""
    retrain_from: str = "auto"
    """One of :data:`RETRAIN_FROM` (``--retrain-from``)."""
    retrain_schedule: str = "auto"
    """One of :data:`RETRAIN_SCHEDULES` (``--retrain-schedule``)."""
    converged_epochs: int = CONVERGED_EPOCHS
    tolerance: float = TOLERANCE
    sampler: str | None = None
    pruner: str | None = None
    storage: str | None = None
    workers: int = 1
    gpus: tuple[str, ...] = ()
    """GPU numbers, one worker each (``--gpus``); the run's own process takes the first."""
    image_size: int | None = None
    """Image-folder experiments: the square size searched at (the final model: the base's)."""
    weights: str | None = None
    """Transfer-learning experiments: "imagenet", "none" or a weights file."""
    model: str | None = None
    """Experiments with a choice of model (``images``): cnn or transfer; None: the default."""
    precision: str = "auto"
    """auto (mixed on a GPU, float32 on a CPU), float32, or mixed (bfloat16 compute)."""
    keep_best: int | None = 3
    """Checkpoints kept of finished trials (the best by the ranking); None keeps every one."""
    isolate: bool = False
    """Run each trial in a fresh process (memory is given back to the system after each)."""
    track: tuple[str, ...] = ()
    """``--track`` values: ``mlflow``, ``mlflow=URI``, ``tensorboard``."""
    budget: str = "auto"
    """The named budget when trials, epochs or train size are not given: ``cpu``, ``gpu``
    (more trials and epochs, every training image, finalists), or ``auto`` (``gpu``
    where Keras' backend sees a GPU)."""
    finalists: int | None = None
    """Configurations trained on the full training data before choosing (``--finalists``);
    None: the budget's (1 on ``cpu``: the chosen one is retrained alone; 3 on ``gpu``)."""
    warm_start: tuple[Path, ...] = ()
    """Run folders whose finished trials the search starts from (``--warm-start``)."""
    fidelity: str = "epochs"
    """One of :data:`FIDELITIES` (``--fidelity``)."""
    max_search_time: float | None = None
    """Seconds of searching after which no new trial starts (the running ones finish);
    ``math.inf``: no limit; None: the budget's (``gpu``: :data:`GPU_SEARCH_SECONDS` unless
    ``max_trials`` is given; ``cpu``: no limit)."""
    command: tuple[str, ...] = ()

    def check(self) -> None:
        """Raise SearchError for any out-of-range value, naming the option and the fix (and
        for a search started by a script imported for its objects)."""
        refuse_search_on_import("search.run")
        self._check_numbers()
        if self.max_search_time is not None and not 0 < self.max_search_time:
            raise SearchError(
                f"{option('max_search_time')} ({self.max_search_time:g} s) must be more than 0 s;"
                f" give e.g. 10m, or {NO_LIMIT} for no limit"
            )
        self._check_choices()
        self._check_finalists()
        self._check_retrain_from()
        self._check_retrain_options()
        if self.gpus and self.workers != len(self.gpus):
            raise SearchError(
                f"{option('gpus')} {','.join(self.gpus)} starts one worker per GPU ({len(self.gpus)});"
                f" leave out {option('workers')} {self.workers}"
            )
        if self.isolate and self.workers > 1:
            raise SearchError(
                f"{option('isolate')} runs one process at a time; it cannot be combined with"
                f" {option('workers')} {self.workers} (start more with `python -m search worker RUN`)"
            )
        if isinstance(self.tolerance, bool) or not isinstance(self.tolerance, numbers.Real):
            raise SearchError(f"{option('tolerance')} ({self.tolerance!r}) must be a number in [0, 1)")
        if not 0 <= self.tolerance < 1:
            raise SearchError(f"{option('tolerance')} ({self.tolerance}) must be in [0, 1)")
        self._check_objective()
        self._check_tolerance_used()
        if self.track:
            parse_track(self.track)
        seen: set[Path] = set()
        for folder in self.warm_start:
            if Path(folder).resolve() in seen:
                raise SearchError(f"{option('warm_start')} {folder}: given twice; give each run once")
            seen.add(Path(folder).resolve())
            if Path(folder).is_file():
                parent = Path(folder).parent
                where = f"its folder, {parent}" if RunFolder(parent).exists() else (
                    "a run's folder, results/EXPERIMENT/RUN")
                raise SearchError(f"{option('warm_start')} {folder}: a file, not a run folder; give {where}")
            if not RunFolder(Path(folder)).exists():
                what = "no run.json" if Path(folder).is_dir() else "no such folder"
                raise SearchError(
                    f"{option('warm_start')} {folder}: not a run folder ({what}); give a run's"
                    " folder, results/EXPERIMENT/RUN"
                )
        if self.name is not None and not isinstance(self.name, str):
            raise SearchError(f"name ({self.name!r}): give the run's name as a str, e.g. name='lr-stage'")
        if self.name is not None and not _NAME.match(self.name):
            raise SearchError(
                f"{option('name')} {self.name!r}: use ASCII letters, digits, '.', '_' and '-' (at most 100),"
                " starting with a letter or digit"
            )

    def _check_numbers(self) -> None:
        """Whole numbers in range (those without a default of None given), and yes/no
        options given as True or False."""
        for name, low in (("max_trials", 1), ("max_epochs", 1), ("train_size", 1), ("val_size", 1),
                          ("keep_best", 1), ("image_size", 16), ("finalists", 1),
                          ("retrain_max_epochs", 1), ("factor", 2)):  # fmt: skip
            _at_least(option(name), getattr(self, name), low)
        for name, low in (("seed", 0), ("converged_epochs", 1), ("workers", 1)):
            _at_least(option(name), getattr(self, name), low, required=True)
        if self.seed > MAX_SEED:
            raise SearchError(f"{option('seed')} ({self.seed}) must be at most {MAX_SEED} (2**32 - 1)")
        if self.max_trials is not None and self.max_trials > MAX_TRIALS:
            raise SearchError(
                f"{option('max_trials')} ({self.max_trials}) must be at most {MAX_TRIALS}; give"
                f" {option('max_search_time')} (e.g. 8h) to search for a while rather than a count"
            )
        for name in ("retrain", "baseline", "isolate"):
            if not isinstance(getattr(self, name), bool):
                raise SearchError(f"{option(name)} ({getattr(self, name)!r}): give True or False")

    def _check_retrain_options(self) -> None:
        """No retrain option where the retrain is skipped: nothing would use it."""
        if self.retrain:
            return
        for name, default in RETRAIN_DEFAULTS.items():
            value = getattr(self, name)
            if value != default:
                raise SearchError(
                    f"{option(name)} {value} says how the final model retrains; with the retrain"
                    f" skipped nothing would use it: leave out {option(name)}, or do not skip the retrain"
                )

    def _check_retrain_from(self) -> None:
        """``checkpoint`` only where a validated retrain (or finalists) will start from it."""
        if self.retrain_from != "checkpoint" or (self.retrain and self.retrain_data == "validated"):
            return
        raise SearchError(
            f"{option('retrain_from')} checkpoint starts the validated retrain from the chosen"
            f" trial's search checkpoint; with {self._retrain_words()} nothing would use it: leave out"
            f" {option('retrain_from')}, or retrain with {option('retrain_data')} validated (the default)"
        )

    def _check_tolerance_used(self) -> None:
        """``--tolerance`` where nothing would read it: an objective ranked by its value
        alone, and no retrain that sets its epochs by the plateau of validation accuracy."""
        if self.tolerance == TOLERANCE or not _tolerance_unused(self.objective, self.retrain_data):
            return
        final = "the validated retrain stops on that objective" if self.retrain else "the retrain is skipped"
        raise SearchError(
            f"{option('tolerance')} {self.tolerance:g} widens the accuracy rule, but"
            f" {option('objective')} {self.objective} ranks trials by its value alone and {final},"
            f" so nothing would use it: leave out {option('tolerance')}, or search with"
            f" {option('objective')} val_accuracy"
        )

    def _check_finalists(self) -> None:
        """More than one finalist train as the validated retrain does: refused without one."""
        if (self.finalists or 1) <= 1 or (self.retrain and self.retrain_data == "validated"):
            return
        given = f"{option('finalists')} {self.finalists} trains the finalists validated on the full data"
        if not self.retrain:
            raise SearchError(
                f"{given}, as the retrain does, which this run skips: leave out {option('finalists')},"
                " or let the run retrain (the default)"
            )
        raise SearchError(
            f"{given}, which {self._retrain_words()} does not: leave out {option('finalists')}, or"
            f" retrain with {option('retrain_data')} validated (the default)"
        )

    def _retrain_words(self) -> str:
        """The final step this request asks for, when it is not a validated retrain."""
        return f"{option('retrain_data')} {self.retrain_data}" if self.retrain else "the retrain skipped"

    def _check_choices(self) -> None:
        """The options that name one of a few values."""
        for name, choices in (("budget", BUDGETS), ("fidelity", FIDELITIES),
                              ("precision", PRECISIONS), ("retrain_data", RETRAIN_DATA),
                              ("retrain_from", RETRAIN_FROM),
                              ("retrain_schedule", RETRAIN_SCHEDULES)):  # fmt: skip
            value = getattr(self, name)
            if value not in choices:
                raise SearchError(f"{option(name)} {value!r}: choose one of {', '.join(choices)}")

    def _check_objective(self) -> None:
        if self.objective.startswith("test"):
            raise SearchError(
                f"{option('objective')} {self.objective!r}: the test set is never an objective; use a"
                " validation metric such as val_accuracy"
            )
        if self.objective not in OBJECTIVES and not _METRIC.match(self.objective):
            raise SearchError(
                f"{option('objective')} {self.objective!r} is not a metric name; use one the model logs,"
                f" e.g. {', '.join(OBJECTIVES)}, val_auc"
            )
        if self.direction is not None and self.direction not in DIRECTIONS:
            raise SearchError(
                f"{option('objective')} direction {self.direction!r}: choose max or min"
            )
        if self.objective == "pareto" and self.direction not in (None, "max"):
            raise SearchError(f"{option('objective')} pareto has its own directions; leave out the direction")
        objective = self.kt_objective()  # the direction must be known
        name = objective.name.removeprefix("val_")
        if objective.direction == "max" and _LOSS.search(name) and not name.startswith(_NEGATED):
            _refuse_direction(objective.name, "max")
        if objective.direction == "min" and infer_direction(objective.name) == "max":
            _refuse_direction(objective.name, "min")

    def data_options(self) -> dict[str, object]:
        """The options that choose what an experiment loads, by name, None where not given:
        ``train_size`` (``"all"`` for ``--train-size all``), ``val_size``, ``data_dir`` (a str)."""
        return {
            "train_size": "all" if self.full_train else self.train_size,
            "val_size": self.val_size,
            "data_dir": None if self.data_dir is None else str(self.data_dir),
        }

    def to_json(self, name: str) -> dict[str, object]:
        """The request as stored in run.json, for workers (and resumes) to rebuild it."""
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out.update(name=name, command=list(self.command), fix=dict(self.fix), gpus=list(self.gpus))
        out["results"] = str(self.results)
        for key in ("space", "data_dir"):  # absolute: a resume may start in another folder
            out[key] = None if out[key] is None else str(Path(out[key]).resolve())
        out["warm_start"] = [str(Path(folder).resolve()) for folder in self.warm_start]
        out["storage"] = masked_url(absolute_url(self.storage))  # the file a relative SQLite path names
        out["track"] = [_masked_track(value) for value in self.track]
        if self.max_search_time == math.inf:  # JSON has no infinity
            out["max_search_time"] = NO_LIMIT
        return out

    @classmethod
    def from_json(cls, stored: Mapping[str, Any]) -> RunRequest:
        """The request :meth:`to_json` stored (JSON: paths and tuples are rebuilt)."""
        values: dict[str, Any] = dict(stored)
        values.setdefault("budget", "cpu")  # runs stored before budgets had the cpu one
        for key in ("results", "space", "data_dir"):
            if values.get(key) is not None:
                values[key] = Path(str(values[key]))
        values["command"] = tuple(values.get("command") or ())
        values["gpus"] = tuple(str(gpu) for gpu in values.get("gpus") or ())
        values["track"] = tuple(str(value) for value in values.get("track") or ())
        values["warm_start"] = tuple(Path(str(f)) for f in values.get("warm_start") or ())
        if values.get("max_search_time") == NO_LIMIT:
            values["max_search_time"] = math.inf
        if values.get("retrain") is False:  # runs stored before unused retrain options were refused
            values.update(RETRAIN_DEFAULTS)
        if values.get("tuner") != "hyperband":  # runs stored when an unused factor was 3
            values["factor"] = None
        retrain_data = values.get("retrain_data", RETRAIN_DEFAULTS["retrain_data"])
        if _tolerance_unused(values.get("objective", "val_accuracy"), retrain_data):
            values["tolerance"] = TOLERANCE  # runs stored before an unused tolerance was refused
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in known})

    def kt_objective(self) -> kt.Objective:
        """What KerasTuner tracks; a Pareto search ranks its trials by val accuracy there."""
        name = "val_accuracy" if self.objective == "pareto" else self.objective
        direction = self.direction or OBJECTIVES.get(name) or infer_direction(name)
        lower = name.lower()
        if direction is None and lower != name and (OBJECTIVES.get(lower) or infer_direction(lower)):
            raise SearchError(
                f"{option('objective')} {name!r}: Keras' metric names are case-sensitive; give"
                f" {option('objective')} {lower}, or {name}:max or {name}:min for a metric of"
                " your own so named"
            )
        if direction is None:
            raise SearchError(
                f"{option('objective')} {name!r}: cannot tell whether to maximize or minimize it; say so"
                f" with {option('objective')} {name}:min or {name}:max (from Python also"
                f" keras_tuner.Objective({name!r}, 'min'))"
            )
        return kt.Objective(name, direction)

    @property
    def accuracy_rule(self) -> bool:
        """Whether trials are ranked by the accuracy rule (converged accuracy, then the
        least overfitting); other objectives rank by their best value."""
        return self.objective in ACCURACY_OBJECTIVES


def _tolerance_unused(objective: Any, retrain_data: Any) -> bool:
    """Whether a run's tolerance goes unread: its objective is ranked by value (not the
    accuracy rule), and its retrain is validated or skipped (a skipped one is stored as
    ``validated``), not one trained for the plateau of a trial's validation accuracy."""
    return objective not in ACCURACY_OBJECTIVES and retrain_data == "validated"


def stored_request(
    folder: RunFolder,
    storage: str | None = None,
    given: Mapping[str, Any] | None = None,
    imports: bool = True,
) -> RunRequest:
    """The request a run was started with, to continue it where its folder is now, checked.

    Args:
        folder: the run folder.
        storage: the Optuna database URL with its password (else $SEARCH_OPTUNA_STORAGE,
            else run.json's, which must then have none).
        given: options given again to continue the run (``workers``, ``gpus``,
            ``keep_best``, ``isolate``, ``data_dir``), replacing the run's own; a value of these that
            fails the check is the user's, any other run.json's (RunFolderError).
        imports: the run imports its script again (``file.py:NAME``), which must be there;
            False where the caller passes the hypermodel instead.

    Returns:
        The request, its results folder and name where the folder is now.

    Raises:
        RunFolderError: run.json holds no request, or an invalid value the user did not give.
        SearchError: the storage URL's password is needed, a run it was warm-started from,
            its data folder or its script is gone, or a value given again is invalid.
    """
    folder = RunFolder(folder.path.resolve())  # `resume .` or a link too: its name and results root
    meta = folder.read_meta()
    refuse_finished(folder, meta)  # before the checks of a request that nothing will run
    refuse_moved(folder, meta)
    _refuse_read_only(folder, meta)
    if "request" not in meta:
        raise RunFolderError(f"{folder.run_file}: holds no request to resume the search from")
    stored = dict(meta["request"])
    url = storage or os.environ.get(STORAGE_ENV) or stored.get("storage")
    if stored.get("tuner") == "optuna":  # the others keep no study (their check refuses a URL)
        refuse_other_storage(folder, stored.get("storage"), url, given=storage is not None)
    if is_masked(url):
        raise SearchError(
            f"{folder.run_file} keeps the storage URL without its password; pass it"
            f" with {option('storage')}"
        )
    stored.update(given or {})
    stored.update(results=str(folder.path.parent.parent), name=folder.name, storage=url)
    request = RunRequest.from_json(stored)
    check_warm_sources(folder, request.warm_start)  # first: its message says where to put it
    check_stored(folder, request, [*(given or {}), *(["storage"] if storage else [])])
    request = data_found(folder, request, given="data_dir" in (given or {}))
    if imports:
        refuse_gone_code(folder, request, "resume")
    if "workers" in (given or {}) and request.workers != meta["request"].get("workers"):
        check_cores(request)
    return request


def refuse_other_storage(folder: RunFolder, stored: str | None, url: str | None, given: bool) -> None:
    """SearchError where ``url`` is not the storage of the Optuna run in ``folder``: the
    search would go on in another study, its own left behind, before failing or finishing.

    Args:
        folder: the run folder, named in the error.
        stored: the storage run.json keeps (password hidden); None: the run's journal file.
        url: the storage given to continue the run (with its password); None: none.
        given: ``url`` came from ``storage`` (else from $SEARCH_OPTUNA_STORAGE).
    """
    check_url(url)  # its port a number: compared with the run's, and shown, password hidden
    if same_storage(stored, url):
        return
    source = option("storage") if given else f"${STORAGE_ENV}"
    if stored is None:
        own = f"its journal file {folder.path / JOURNAL_FILE}"
        fix = f"leave out {source}" if given else f"unset {source}"
    else:
        own, fix = stored, f"give {source} that URL, with its password"
    raise SearchError(
        f"{source} {masked_url(url)}: the run {folder.path} keeps its Optuna study in {own},"
        f" not there; {fix} to continue it (start a new run with another {option('name')} to"
        " search in another storage)"
    )


def check_cores(request: RunRequest) -> None:
    """SearchError where ``request`` starts more workers than this machine has CPU cores
    (or GPUs to pin them to): each is a process training its own model.

    Args:
        request: a new run's, or a continued one's with ``workers`` given again.
    """
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    if request.workers > max(cores, len(request.gpus)):
        raise SearchError(
            f"{option('workers')} {request.workers}: each worker is a process training its own model"
            f" on this machine's {plural(cores, 'CPU core')}; give at most {option('workers')} {cores}"
            " (more only share them, and each holds Keras and its backend in memory), or start"
            " more with `python -m search worker RUN` on other machines"
        )


def data_found(folder: RunFolder, request: RunRequest, given: bool = False) -> RunRequest:
    """``request`` with the data folder the run in ``folder`` reads now: the one given again
    (``given``: where the data moved), else its own (``--data-dir``, or its experiment's
    default, both kept absolute); where that is gone and was the default, the default under
    the working folder (a project moved whole). Either way the data's fingerprint is checked
    as they load. A run.json from before the default was kept holds none: the default is read
    from the working folder. A gone folder that a user's experiment ignored (its own code
    reads the data) is dropped.

    Args:
        folder: the run folder, named in the error.
        request: its stored request, with ``data_dir`` given again where ``given``.
        given: ``request.data_dir`` is the user's, given to this command.

    Returns:
        The request, its data folder where the run reads it.

    Raises:
        SearchError: the folder given is not one, or the run reads its own arrays; or the
            run's own folder is gone and none was given.
    """
    if given:
        return _given_data(request)
    default = _default_data_dir(request.experiment)
    if request.data_dir is None:
        if default is not None and not default.is_dir():
            raise SearchError(
                f"{folder.path}: its data folder is the default {default}, read from the working"
                f" folder (its run.json predates keeping it absolute), and {default.resolve()} does"
                f" not exist; run this command in the folder the run started in, put the data there,"
                f" or give their new place with {option('data_dir')}"
            )
        return request
    if request.data_dir.is_dir():
        return request
    if _reads_no_folder(request):  # kept from before data options were refused: never read
        return replace(request, data_dir=None)
    moved = default is not None and request.data_dir.parts[-len(default.parts):] == default.parts
    if moved and default is not None and default.is_dir():
        return replace(request, data_dir=default.resolve())
    fixes = [
        "put the data back there (the run goes on with the data it began with)",
        f"give their new place with {option('data_dir')}",
        *([f"run this command in a folder holding {default}"] if moved else []),
    ]
    raise SearchError(
        f"{folder.path}: its data folder {request.data_dir} is gone; {', '.join(fixes)}, or start"
        f" a new run with another {option('name')}"
    )


def _reads_no_folder(request: RunRequest) -> bool:
    """Whether the request's experiment (``file.py:NAME``, ``module:NAME``) gets its data from
    the user's own code, which takes no data folder: one run.json kept for it was ignored."""
    if request.arrays or request.from_object or ":" not in request.experiment:
        return False
    try:
        return bool(experiments.get(request.experiment).data_options_refused)
    except SearchError:  # its code is gone or broken: the checks that name it say so
        return False


def _given_data(request: RunRequest) -> RunRequest:
    """``request`` with the data folder given to continue or export its run, made absolute
    (run.json keeps it for later processes); SearchError where it is no folder, or where
    the run reads the arrays it saved, which no folder replaces."""
    given = request.data_dir
    if given is None:
        return request
    if request.arrays:
        raise SearchError(
            f"{option('data_dir')} {given}: this run reads the arrays it saved in its own folder,"
            f" not a data folder; leave out {option('data_dir')}"
        )
    if not given.is_dir():
        raise SearchError(
            f"{option('data_dir')} {given}: is not a folder; give the folder the run's data moved"
            " to (the same data it began with: they are checked as they load)"
        )
    return replace(request, data_dir=given.resolve())


def refuse_gone_code(folder: RunFolder, request: RunRequest, command: str) -> None:
    """SearchError where the script the run in ``folder`` imports again (a ``file.py:NAME``
    experiment or hypermodel) is no longer a file: ``command`` builds the model with it, and
    none of its options gives another (it said "give the path of a Python file (file.py:NAME)",
    which neither ``export`` nor ``resume`` takes).

    Args:
        folder: the run folder, named in the error.
        request: its stored request.
        command: what needs the script, e.g. "export".
    """
    hypermodel = request.hypermodel if isinstance(request.hypermodel, dict) else {}
    for target in (request.experiment, hypermodel.get("target")):
        script = str(target or "").rpartition(":")[0]
        if script.endswith(".py") and not Path(script).is_file():
            raise SearchError(
                f"{folder.path}: its code {script} is gone (run.json imports {target} from it);"
                f" put the file back there: {command} builds the run's model with it"
            )


def _default_data_dir(name: str) -> Path | None:
    """The data folder built-in experiment ``name`` reads where no ``--data-dir`` is given
    (relative); None for one that has none, or a user's (not imported for this)."""
    if name not in experiments.names():
        return None
    return experiments.get(name).default_data_dir


def refuse_finished(folder: RunFolder, meta: Mapping[str, Any]) -> None:
    """SearchError for continuing the run in ``folder`` (run.json's ``meta``) once it has
    finished, saying where to read it instead (or, where a kill stopped it before its
    report, that resume writes it).

    Args:
        folder: the run folder.
        meta: its run.json.

    Raises:
        SearchError: the run is finished.
    """
    if meta.get("status") == "finished" and not report_written(folder):  # a kill came between
        raise SearchError(
            f"{folder.path}: run {folder.name!r} finished, but was stopped before its report; write"
            f" it with `python -m search resume {shlex.quote(str(folder.path))}` (search.resume(folder)"
            " from Python), or search again in a run of another name"
        )
    if meta.get("status") == "finished":
        command = f"python -m search status {shlex.quote(str(folder.path))}"
        raise SearchError(
            f"{folder.path}: run {folder.name!r} is already finished: nothing to resume; read it"
            f" with `{command}` (search.load(folder) from Python),"
            " or search again in a run of another name"
        )


def refuse_moved(folder: RunFolder, meta: Mapping[str, Any]) -> None:
    """SearchError for a run folder not in a folder named after its experiment: continued
    or exported, the run would be RESULTS/EXPERIMENT/NAME beside it, a new one.

    Args:
        folder: the run's folder.
        meta: its run.json.
    """
    experiment = meta.get("experiment")
    if isinstance(experiment, str) and folder.path.parent.name != experiment:
        place = folder.path.parent / experiment / folder.name
        raise SearchError(
            f"{folder.path}: a run of experiment {experiment!r} is resumed and exported only in a"
            f" folder named {experiment}; move it to {place}"
        )


def _refuse_read_only(folder: RunFolder, meta: Mapping[str, Any]) -> None:
    """SearchError naming the run folder, before its results root is checked, where files
    cannot be written in it: what to make writable, or where a copy resumes."""
    where, chmod = f"a folder named {meta.get('experiment')}", shlex.quote(str(folder.path))
    copy = f"copy it into {where} that you can write to and resume it there"
    check_writable(
        folder.path,
        f"run folder {folder.path}",
        f"make it writable (chmod -R u+w {chmod}), or {copy}",
        read_only_fix=f"remount its file system writable, or {copy}",
    )


def check_stored(folder: RunFolder, request: RunRequest, given: Collection[str] = ()) -> None:
    """``request.check()`` of a request rebuilt from run.json.

    Args:
        folder: the run folder, named in the error.
        request: the rebuilt request.
        given: the options given again to continue the run.

    Raises:
        SearchError: the check failed on a value one of ``given`` set (the user's to fix).
        RunFolderError: it failed on any other value: run.json is damaged or was edited (the
            message must not name an option the user never typed).
    """
    try:
        request.check()
    except SearchError as exc:
        if named_options(exc.template) & set(given):
            raise
        raise RunFolderError(
            f"{folder.run_file}: the request stored there is not valid ({exc});"
            f" {damaged_file('damaged or was edited')}"
        ) from None


def check_warm_sources(folder: RunFolder, warm_start: tuple[Path, ...]) -> None:
    """Check, before a resume of the run in ``folder`` starts, that the runs it was
    warm-started from are still where run.json says (their trials are given again).

    Args:
        folder: the run to resume, named in the error.
        warm_start: the run folders it was warm-started from.

    Raises:
        SearchError: one of them is no longer a run folder (no run.json).
    """
    for source in warm_start:
        if not RunFolder(Path(source)).exists():
            raise SearchError(
                f"{folder.run_file}: this run was warm-started from {source}, which is no longer a"
                " run folder (no run.json); move that run back there to resume this one"
            )


def starts_from_checkpoint(request: RunRequest, splits: Splits) -> bool:
    """Whether the validated final trainings (the retrain, each finalist) start from their
    trial's search checkpoint: with ``checkpoint``, and with ``auto`` where the search trained
    on every example outside the validation split (a user's arrays, ``--train-size all``),
    so that the checkpoint has already learned from what the retrain trains on. A search
    on a subset (the built-in experiments' default) starts them from new weights: measured
    no better from its checkpoint (``bench/RESULTS.md``, fifth stop)."""
    if request.retrain_data != "validated" or request.retrain_from == "scratch":
        return False
    every_row = splits.x_unsplit is None or rows(splits.x_unsplit) == rows(splits.x_train)
    return request.retrain_from == "checkpoint" or every_row


def _refuse_direction(metric: str, direction: str) -> None:
    """SearchError for ``metric`` given the ``direction`` that would choose the worst model."""
    most, other = ("largest", "min") if direction == "max" else ("smallest", "max")
    verb = "minimize" if other == "min" else "maximize"
    raise SearchError(
        f"{option('objective')} {metric}:{direction} would choose the worst model, the one whose"
        f" {metric} is the {most}; {verb} it: {option('objective')} {metric}:{other}"
        f" (Python: keras_tuner.Objective({metric!r}, {other!r}))"
    )


def infer_direction(metric: str) -> str | None:
    """``max`` or ``min`` for a metric name, as KerasTuner infers it (corrected where it
    gets a Keras metric wrong); None if unknown."""
    return compat_kt.infer_metric_direction(metric)


def _masked_track(value: str) -> str:
    """A ``--track`` value with the password of its URI hidden, a relative SQLite file's path
    made absolute (a resume may start in another folder)."""
    name, sep, uri = value.partition("=")
    return f"{name}={masked_url(absolute_url(uri))}" if sep and uri else value


def _at_least(option: str, value: int | None, low: int, required: bool = False) -> None:
    """SearchError unless ``value`` is a whole number of at least ``low`` (or None, where
    not ``required``)."""
    if (value is not None or required) and (
        isinstance(value, bool) or not isinstance(value, numbers.Integral)
    ):
        raise SearchError(f"{option} ({value!r}) must be a whole number")
    if value is not None and value < low:
        raise SearchError(f"{option} ({value}) must be at least {low}")
