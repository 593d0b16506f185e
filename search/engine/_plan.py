"""The first step of a run: a request resolved against its experiment, every input checked."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from rich.console import Console

from hypermodels import DataFidelity
from search import experiments, tuners
from search._text import duration_words, resume_call
from search.data import DataWarning, Splits
from search.engine._precision import has_gpu, policy_for
from search.engine._request import (
    FACTOR,
    GPU_SEARCH_SECONDS,
    RETRAIN_DEFAULTS,
    RETRAIN_FROM,
    RETRAIN_MAX_EPOCHS,
    RETRAIN_SCHEDULES,
    RunRequest,
    check_cores,
    refuse_finished,
)
from search.engine._warm import load_warm_start
from search.errors import RunFolderError, SearchError, option
from search.experiments import DataOptions, ModelOptions
from search.ranking import CONVERGED_EPOCHS
from search.space import Space, space_from_dict
from search.storage import RunFolder, masked_url, same_storage
from search.tuners.optuna import JOURNAL_FILE

DEFAULT_BUDGET = (10, 6)
"""(max trials, max epochs) of a tuner the experiment names no budget for."""
CPU_FINALISTS = 1
"""Finalists on the ``cpu`` budget: the chosen configuration alone, retrained."""
GPU_FINALISTS = 3
"""Finalists on the ``gpu`` budget."""


@dataclass(frozen=True)
class Plan:
    """A request resolved against the experiment's defaults, every input checked."""

    experiment: experiments.Experiment
    backend: tuners.Backend
    budget: tuners.Budget
    options: tuners.TunerOptions
    data: DataOptions
    model: ModelOptions
    name: str
    profile: str = "cpu"
    """The named budget the defaults came from: ``cpu`` or ``gpu``."""
    finalists: int = CPU_FINALISTS
    """Configurations trained on the full training data before the final choice."""

    @property
    def space(self) -> Space:
        """The space searched (``options.space``, which :func:`plan` always sets)."""
        assert self.options.space is not None
        return self.options.space


def experiment_of(request: RunRequest) -> experiments.Experiment:
    """The experiment a request names: a registered one, ``file.py:NAME`` /
    ``module:NAME``, or a run from Python on arrays kept in its folder."""
    if request.from_object:
        folder = request.results / request.experiment / str(request.name)
        raise SearchError(
            f"{folder}: was started from Python with an Experiment object, which no name finds"
            f" again; continue it from Python: {resume_call(folder, {'from_object': True})}"
        )
    if not request.arrays:
        return experiments.get(request.experiment, request.model)
    if request.name is None:
        raise SearchError("a run on arrays from Python is continued by its folder; give its name")
    run_dir = request.results / request.experiment / request.name
    space = None if request.space is None else str(request.space)
    return experiments.from_run(request.experiment, request.hypermodel, run_dir, space)


def plan(
    request: RunRequest,
    space: Space | None = None,
    experiment: experiments.Experiment | None = None,
) -> Plan:
    """Check ``request`` and resolve its defaults; raises SearchError before any work.

    Args:
        request: What the user asked for.
        space: The space to search (a worker's, read from run.json); None: the
            experiment's, with ``request.space`` and ``request.fix`` applied.
        experiment: The experiment object itself (a user's hypermodel from Python);
            None: the one the request names (:func:`experiment_of`).

    Returns:
        The plan every later step runs on.
    """
    request.check()
    experiment = experiment or experiment_of(request)
    backend = tuners.get(request.tuner)
    _check_experiment(request, experiment, backend)
    profile = budget_profile(request.budget)
    name = request.name or _new_name(request.results / experiment.name, request.tuner)
    run_dir = request.results / experiment.name / name
    space, unfixed = _space_and_defaults(request, experiment, profile, RunFolder(run_dir), space)
    budget = _budget_of(request, experiment, profile)
    _check_fidelity(request, budget)
    options = tuners.TunerOptions(
        space=space, sampler=request.sampler, pruner=request.pruner, storage=request.storage,
        pareto=request.objective == "pareto", converged_epochs=request.converged_epochs,
        study_name=_study_name(run_dir, f"{experiment.name}-{name}"), run_dir=run_dir,
        baseline=request.baseline,
        warm=load_warm_start(request.warm_start, run_dir, experiment.name, request.objective,
                             request.kt_objective().direction, space, unfixed,
                             experiment.model_defaults, (request.fidelity, budget.max_epochs)),
        fidelity=None if request.fidelity == "epochs" else DataFidelity(budget.max_epochs, request.seed),
    )  # fmt: skip
    backend.check(options, budget)
    resumed = RunFolder(run_dir).exists()
    _check_workers(request, backend, budget, resumed)
    _check_data_options(request, experiment, RunFolder(run_dir))
    if not resumed:  # a run already on disk goes on as it began
        _check_converged(request, budget)
        _check_precision(request)
        _check_lone_finalist(request)
    _check_factor(request, backend)
    _check_model_options(request, experiment)
    data, model = _data_options(request, experiment, profile), _model_options(request, experiment)
    if experiment.check_options is not None:
        experiment.check_options(space, data, model)
    finalists = request.finalists or _default_finalists(request, profile)
    return Plan(experiment, backend, budget, options, data, model, name, profile, finalists)


def _study_name(run_dir: Path, default: str) -> str:
    """The Optuna study of the run in ``run_dir``: the one its run.json names (a run folder
    copied or moved under another name keeps its study), else ``default``, a new run's; a
    run.json that cannot be read is left to the checks that name it."""
    folder = RunFolder(run_dir)
    if not folder.exists():
        return default
    try:
        optuna_meta = folder.read_meta().get("optuna")
    except RunFolderError:
        return default
    study = optuna_meta.get("study") if isinstance(optuna_meta, dict) else None
    return study if isinstance(study, str) and study else default


def _check_objective_logged(request: RunRequest, experiment: experiments.Experiment) -> None:
    """An objective the experiment's models do not log is refused (a user's model is tried
    on its data instead, by ``check_data``)."""
    if not experiment.metrics or request.objective == "pareto":
        return
    logged = [f"val_{name}" for name in experiment.metrics] + list(experiment.metrics)
    if request.kt_objective().name not in logged:
        raise SearchError(
            f"{option('objective')} {request.objective!r}: the {experiment.name} experiment's models log"
            f" only {', '.join(logged)}; choose one of these"
        )


def budget_profile(budget: str) -> str:
    """``cpu`` or ``gpu``: the named budget, ``auto`` resolved by the device Keras sees."""
    if budget != "auto":
        return budget
    return "gpu" if has_gpu() else "cpu"


def _default_finalists(request: RunRequest, profile: str) -> int:
    if profile != "gpu" or not request.retrain or request.retrain_data != "validated":
        return CPU_FINALISTS
    return GPU_FINALISTS


def final_training(
    request: RunRequest, experiment: experiments.Experiment, profile: str
) -> tuple[str, int]:
    """The final trainings' learning-rate schedule (``plateau`` or ``cosine``) and most
    epochs: the request's, else those of ``auto`` and of the named budget ``profile``.

    ``auto`` is ``cosine`` on the ``gpu`` budget (a GPU trains every epoch of a cosine in
    the time a CPU stops early on a plateau) and, for a validated retrain on the ``cpu`` one,
    where the experiment has a measured ``cpu_cosine_epochs``, which is then the length of a
    cosine; else ``plateau``, within :data:`RETRAIN_MAX_EPOCHS`.
    """
    validated = request.retrain_data == "validated"
    own = experiment.cpu_cosine_epochs if profile == "cpu" and validated else None
    schedule = request.retrain_schedule
    if schedule == "auto":
        schedule = "cosine" if profile == "gpu" or own else "plateau"
    if request.retrain_max_epochs is not None:
        return schedule, request.retrain_max_epochs
    return schedule, own if own and schedule == "cosine" else RETRAIN_MAX_EPOCHS


def _space_of(
    request: RunRequest, experiment: experiments.Experiment, profile: str
) -> tuple[Space, dict[str, Any]]:
    """The space to search, ``--fix`` applied, and every parameter's default before that
    (the children of a parent's other values too)."""
    path = request.space
    if profile == "gpu" and path is None and experiment.gpu_space_file is not None:
        path = experiment.default_space_path(experiment.gpu_space_file)
    space = experiment.load_space(path, request.fix)
    if not request.fix:
        return space, space.all_defaults()
    try:
        return space.fix(request.fix), space.all_defaults()
    except ValueError as exc:
        unknown = [name for name in request.fix if name not in space.names]
        hint = _fix_hint(experiment, unknown) if unknown and "not in the space" in str(exc) else ""
        raise SearchError(f"{option('fix')}: {exc}{hint}") from None


def _check_experiment(
    request: RunRequest, experiment: experiments.Experiment, backend: tuners.Backend
) -> None:
    """SearchError where the experiment cannot run as asked: its hypermodel not importable
    where another process needs it, the objective not logged, a fit of its own that the
    trials (Hyperband's, or ``--fidelity``'s) cannot call."""
    _check_importable(request, experiment)
    _check_objective_logged(request, experiment)
    if experiment.fit_refused:  # every tuner's trials: not Hyperband's alone
        raise SearchError(experiment.fit_refused)
    if request.fidelity != "epochs" and experiment.fidelity_refused:
        raise SearchError(f"{option('fidelity')} {request.fidelity}: {experiment.fidelity_refused}")
    if backend.name == "hyperband" and experiment.hyperband_refused:
        raise SearchError(f"{option('tuner')} hyperband: {experiment.hyperband_refused}")


def _check_data_options(request: RunRequest, experiment: experiments.Experiment, folder: RunFolder) -> None:
    """SearchError for a data option (``--data-dir``, ``--train-size``, ``--val-size``) given
    to an experiment whose data come from the user's own code: it would be ignored. A run
    already on disk in ``folder`` goes on with the options it began with (ignored as they
    were then); only another data folder given to it now is refused."""
    if not experiment.data_options_refused:
        return
    given = request.data_options()
    if folder.exists():  # only another folder
        if request.data_dir is not None and request.data_dir.resolve() == _stored_data_dir(folder):
            return
        given = {"data_dir": given["data_dir"]}
    for name, value in given.items():
        if value is not None:
            raise SearchError(
                f"{option(name)} {value}: {experiment.data_options_refused}: leave out"
                f" {option(name)}, or choose the data's rows (and their folder) in that code"
            )


def _stored_data_dir(folder: RunFolder) -> Path | None:
    """The data folder run.json's request holds (absolute), None where it holds none."""
    stored = (folder.read_meta().get("request") or {}).get("data_dir")
    return Path(stored).resolve() if isinstance(stored, str) else None


def _space_and_defaults(
    request: RunRequest, experiment: experiments.Experiment, profile: str, folder: RunFolder,
    given: Space | None,
) -> tuple[Space, dict[str, Any]]:  # fmt: skip
    """The space to search and its parameters' defaults before ``--fix``: ``given`` (a
    worker's, an export's: fixed already), else run.json's where the run's space file is
    gone, else the experiment's, ``--fix`` applied."""
    space = given if given is not None else kept_space(folder, request)  # an empty Space is falsy
    if space is not None:  # run.json's: the defaults of the parameters --fix fixed are not kept
        return space, space.all_defaults()
    return _space_of(request, experiment, profile)


def _started_on(stored: Any, request: RunRequest) -> bool:
    """Whether run.json's request ``stored`` started the run on ``request``'s space file,
    with its ``--fix`` (a damaged value: not)."""
    if not isinstance(stored, Mapping):
        return False
    space, fix = stored.get("space"), stored.get("fix") or {}
    if request.space is None or not isinstance(space, str) or not isinstance(fix, dict):
        return False
    return Path(space) == request.space.resolve() and fix == dict(request.fix)


def kept_space(folder: RunFolder, request: RunRequest) -> Space | None:
    """The space run.json keeps, where the run in ``folder`` goes on with the space file it
    started with and that file is gone; None otherwise (the file is read).

    Args:
        folder: the run's folder (it may not exist yet).
        request: the request continuing it.

    Returns:
        The searched space, ``--fix`` applied as the run started, or None.
    """
    path = request.space
    if path is None or path.exists() or not folder.run_file.exists():
        return None
    meta = folder.read_meta()
    stored, space = meta.get("request") or {}, meta.get("space")
    params = space.get("params") if isinstance(space, dict) else None
    if not _started_on(stored, request) or not isinstance(params, dict) or not params:
        return None  # another file, or another --fix: the file named is read (and refused)
    return space_from_dict(params, source=str(folder.run_file))


def _fix_hint(experiment: experiments.Experiment, unknown: list[str]) -> str:
    """The fix for ``--fix`` of names the space lacks where the model has them: one its
    own ``fit`` declares as a trial runs, or one the built-in model sets where a space
    leaves it out; empty otherwise (a typo)."""
    if experiment.own_fit:
        return (
            f"; one that {experiment.own_fit} declares joins the space only once a trial runs: declare"
            f" it in a space= TOML file too ([{unknown[0]}] with its type and values), then fix it"
        )
    known = [name for name in unknown if name in experiment.model_defaults]
    if not known:
        return ""
    name = known[0]
    return (
        f"; the {experiment.name} model has {name!r}, at {experiment.model_defaults[name]!r} where a"
        f" space leaves it out as this one does: pass {option('space')}=FILE.toml declaring [{name}]"
        " (`search spaces` lists the package's), then fix it"
    )


def _budget_of(
    request: RunRequest, experiment: experiments.Experiment, profile: str
) -> tuners.Budget:
    budgets = experiment.gpu_budgets if profile == "gpu" and experiment.gpu_budgets else experiment.budgets
    default_trials, default_epochs = budgets.get(request.tuner, DEFAULT_BUDGET)
    limit = request.max_search_time
    if limit is None and profile == "gpu" and request.max_trials is None:
        limit = GPU_SEARCH_SECONDS
    if limit == math.inf:
        limit = None
    return tuners.Budget(
        max_trials=request.max_trials if request.max_trials is not None else default_trials,
        max_epochs=request.max_epochs or default_epochs,
        factor=request.factor or FACTOR,
        max_search_seconds=limit,
    )


def _data_options(
    request: RunRequest, experiment: experiments.Experiment, profile: str
) -> DataOptions:
    default = experiment.default_train_size
    if profile == "gpu" or request.fidelity == "both":  # every image
        default = None
    train_size = None if request.full_train else request.train_size or default
    return DataOptions(
        data_dir=request.data_dir,
        train_size=train_size,
        val_size=request.val_size or experiment.default_val_size,
        seed=request.seed,
        image_size=request.image_size or experiment.default_image_size,
    )


def _model_options(request: RunRequest, experiment: experiments.Experiment) -> ModelOptions:
    return ModelOptions(
        seed=request.seed,
        weights=request.weights or experiment.default_weights,
        dtype_policy=policy_for(request.precision),
        objective=request.kt_objective().name,
    )


def _check_importable(request: RunRequest, experiment: experiments.Experiment) -> None:
    """Other processes must import a user's hypermodel again: refuse before any work."""
    if not experiment.not_importable:
        return
    if request.workers > 1 or request.isolate:
        # Only from Python: the command line names importable experiments.
        given = f"workers={request.workers}" if request.workers > 1 else "isolate=True"
        raise SearchError(
            f"{given} runs trials in other processes, which cannot import the hypermodel:"
            f" {experiment.not_importable}"
        )


def _new_name(runs: Path, tuner: str) -> str:
    """A name for a run not given one: the tuner and the time, to the second, then ``-2``,
    ``-3``... where a folder of that name exists (the run opening it makes it at once, so
    a process starting in the same second plans again and takes the next)."""
    base = f"{tuner}-{datetime.now():%Y%m%d-%H%M%S}"
    name, number = base, 1
    while (runs / name).exists():
        number += 1
        name = f"{base}-{number}"
    return name


def _check_workers(
    request: RunRequest, backend: tuners.Backend, budget: tuners.Budget, resumed: bool
) -> None:
    """Several workers share an Optuna study, each a process of this machine with trials to
    run (a new run's: a ``resumed`` one goes on as it began, on whatever machine)."""
    if request.workers > 1 and backend.name != "optuna":
        given = (
            f"{option('gpus')} {','.join(request.gpus)}" if request.gpus
            else f"{option('workers')} {request.workers}"
        )  # fmt: skip
        other = (
            f"one GPU (e.g. {option('gpus')} 0)" if request.gpus else f"{option('workers')} 1"
        )  # gpus: the command line's alone
        raise SearchError(
            f"{given} needs {option('tuner')} optuna (several workers share an Optuna study),"
            f" not {backend.name}; {other} works with any tuner"
        )
    if resumed:
        return
    if request.workers > 1 and budget.max_trials is not None and request.workers > budget.max_trials:
        raise SearchError(
            f"{option('workers')} {request.workers}: the search runs {budget.max_trials} trials, so"
            f" {request.workers - budget.max_trials} of the workers would have none; give at most"
            f" {option('workers')} {budget.max_trials}, or more {option('max_trials')}"
        )
    check_cores(request)


def _check_lone_finalist(request: RunRequest) -> None:
    """``--finalists 1`` is the chosen configuration retrained alone: without a retrain it
    would do nothing (more finalists are refused by the request's own check)."""
    if request.finalists == 1 and not request.retrain:
        raise SearchError(
            f"{option('finalists')} 1 retrains the chosen configuration alone, which this run"
            f" skips: leave out {option('finalists')}, or let the run retrain (the default)"
        )


def _check_converged(request: RunRequest, budget: tuners.Budget) -> None:
    """The rule averages a trial's last ``--converged-epochs``: more than a trial trains
    would average every epoch, the first ones included (the default, 3, holds for short
    budgets too: a trial of fewer epochs averages them all)."""
    if request.converged_epochs <= max(budget.max_epochs, CONVERGED_EPOCHS):
        return
    given = "" if request.max_epochs else " (the budget's)"
    raise SearchError(
        f"{option('converged_epochs')} {request.converged_epochs} averages each trial's last"
        f" {request.converged_epochs} epochs, but a trial trains at most {option('max_epochs')}"
        f" {budget.max_epochs}{given}: give {option('converged_epochs')} {budget.max_epochs} or less,"
        f" or more {option('max_epochs')}"
    )


def _check_precision(request: RunRequest) -> None:
    """float16 is computed in software on a CPU: measured 50x slower than float32 there."""
    if request.precision != "float16" or has_gpu():
        return
    raise SearchError(
        f"{option('precision')} float16 is for GPUs without bfloat16, and Keras sees no GPU here:"
        f" on a CPU float16 trains about 50x slower than float32; leave out {option('precision')}"
        " (float32 on a CPU)"
    )


def _check_factor(request: RunRequest, backend: tuners.Backend) -> None:
    """``--factor`` shapes Hyperband's brackets; another tuner would ignore it."""
    if request.factor is not None and backend.name != "hyperband":
        raise SearchError(
            f"{option('factor')} {request.factor} is Hyperband's reduction factor;"
            f" {option('tuner')} {backend.name} has none and would ignore it: leave out"
            f" {option('factor')}, or search with {option('tuner')} hyperband"
        )


def _check_fidelity(request: RunRequest, budget: tuners.Budget) -> None:
    """``--fidelity data`` grows a trial's images with its epochs: one epoch has no smaller
    budget to grow from (``both`` still searches on every image, which is used, unless a
    train size is given)."""
    sized = request.fidelity == "both" and request.train_size is not None
    if (request.fidelity != "data" and not sized) or budget.max_epochs > 1:
        return
    raise SearchError(
        f"{option('fidelity')} {request.fidelity} grows a trial's training images with its epochs, up to all"
        f" of them at {option('max_epochs')}; with {option('max_epochs')} 1 every trial trains"
        f" one epoch on all of them, so nothing would grow: leave out {option('fidelity')}, or"
        f" give {option('max_epochs')} 2 or more"
    )


def _check_model_options(request: RunRequest, experiment: experiments.Experiment) -> None:
    """Refuse ``--image-size`` and ``--weights`` where ``experiment`` (with ``--model``) has no
    use for them, naming the experiments (and models) that take them."""
    variants = experiments.models(experiment.name)
    label = (
        f"{experiment.name} ({option('model')} {request.model or variants[0]})" if variants
        else experiment.name
    )  # fmt: skip
    if request.image_size is not None and experiment.default_image_size is None:
        raise SearchError(
            f"{option('image_size')} {request.image_size}: {label} images have one size;"
            " the option applies to image-folder experiments (clothing, images)"
        )
    if request.weights is not None and experiment.default_weights is None:
        raise SearchError(
            f"{option('weights')} {request.weights}: {label} trains from scratch; the option"
            f" applies to transfer-learning experiments (clothing; images with {option('model')} transfer)"
        )


_FINAL_STEP = ("converged_epochs", "tolerance", "retrain", "retrain_data", "retrain_max_epochs",
               "retrain_from")  # fmt: skip
"""How a run chooses and trains its final model: a continued run keeps them (its keeper, its
retrain's saved state and run.json were made with them); ``export`` retrains otherwise."""


def check_resumable(folder: RunFolder, meta: dict[str, Any], p: Plan, request: RunRequest) -> None:
    """Refuse to continue a run of another experiment, a finished one, or one with another
    tuner, space, budget, data options or final step, showing the difference."""
    if meta.get("experiment") != p.experiment.name:
        raise SearchError(
            f"{folder.path}: holds a run of experiment {meta.get('experiment')!r}, not"
            f" {p.experiment.name!r}; pass another {option('results')} folder or {option('name')}"
        )
    refuse_finished(folder, meta)
    differences = _differences(meta, p, request)
    if differences:
        changed = (meta.get("space") or {}).get("fingerprint") != p.space.fingerprint()
        resume = f", or `{resume_call(folder.path, meta.get('request') or {})}`"
        again = "" if changed and _edited(meta, request) else resume  # resume reads the edited file too
        raise SearchError(
            f"{folder.path}: run {folder.name!r} exists with other settings"
            f" ({'; '.join(differences)}); start a new run with another {option('name')}{again}"
        )


def _edited(meta: dict[str, Any], request: RunRequest) -> str:
    """Where the run's own space file was edited since it started: that file, to restore."""
    if not _started_on(meta.get("request") or {}, request):
        return ""  # another file; another --fix changes the fingerprint too, not the file
    return f": its space file {request.space} is not the one the run started with; restore it to continue"


def _differences(meta: dict[str, Any], p: Plan, request: RunRequest) -> list[str]:
    space, budget = p.space, p.budget
    differences = []
    if meta.get("tuner") != p.backend.name:
        differences.append(f"{option('tuner')} {meta.get('tuner')} -> {p.backend.name}")
    stored = (meta.get("space") or {}).get("params", {})
    if (meta.get("space") or {}).get("fingerprint") != space.fingerprint():
        changed = sorted(
            k for k in set(stored) | set(space.names)
            if stored.get(k) != space.to_dict().get(k)
        )  # fmt: skip
        edited = _edited(meta, request)
        differences.append(f"space differs in {', '.join(changed) or 'its definition'}{edited}")
    old_budget = meta.get("budget") or {}
    for key in ("max_trials", "max_epochs", "factor"):
        if key == "factor" and p.backend.name != "hyperband":
            continue  # the others have none (a run from before it was refused may hold one)
        if old_budget.get(key) != getattr(budget, key):
            differences.append(f"{option(key)} {old_budget.get(key)} -> {getattr(budget, key)}")
    limit = budget.max_search_seconds  # runs from before the limit: the one planned now
    if old_budget.get("max_search_seconds", limit) != limit:
        differences.append(f"{option('max_search_time')} {_limits(old_budget['max_search_seconds'], limit)}")
    stored_request = meta.get("request") or {}
    unused = () if stored_request.get("retrain", True) or request.retrain else tuple(RETRAIN_DEFAULTS)
    kept = ("seed", "objective", "train_size", "val_size", "image_size", "weights", "precision")
    for key in (*kept, *_FINAL_STEP):
        if (key, getattr(request, key)) in (("retrain_from", "auto"), ("retrain_max_epochs", None)):
            continue  # the default: the run goes on as it began (own_final_step)
        if key in stored_request and key not in unused and stored_request[key] != getattr(request, key):
            differences.append(_change(key, stored_request[key], getattr(request, key)))
    if stored_request.get("finalists", p.finalists) != p.finalists:  # stored as the plan resolved it
        differences.append(f"{option('finalists')} {stored_request['finalists']} -> {p.finalists}")
    schedule = stored_request.get("retrain_schedule", "plateau")  # runs from before the option: plateau
    asked = request.retrain_schedule  # auto: the run goes on as it began (own_final_step)
    if request.retrain and asked != "auto" and schedule in RETRAIN_SCHEDULES and schedule != asked:
        differences.append(_change("retrain_schedule", schedule, asked))
    if stored_request.get("budget", p.profile) != p.profile:
        differences.append(f"{option('budget')} {stored_request['budget']} -> {p.profile}")
    fidelity = stored_request.get("fidelity", "epochs")  # runs from before the option: epochs
    if fidelity != request.fidelity:
        differences.append(f"{option('fidelity')} {fidelity} -> {request.fidelity}")
    differences.extend(_optuna_differences(stored_request, request))
    differences.extend(_hypermodel_differences(meta.get("hypermodel"), p.experiment.reference))
    warm = [str(Path(folder).resolve()) for folder in request.warm_start]
    if "warm_start" in stored_request and stored_request["warm_start"] != warm:
        differences.append(f"{option('warm_start')} {stored_request['warm_start']} -> {warm}")
    return differences


def _hypermodel_differences(stored: Any, now: Mapping[str, Any] | None) -> list[str]:
    """Another build function or HyperModel, or one built with other arguments, than the
    user's run started with: its trials so far would be mixed with the new model's, while
    run.json names the first (resume, export and workers would rebuild that one)."""
    old, new = (stored or {}).get("hypermodel"), (now or {}).get("hypermodel")
    if not old or (new and (old.get("target"), old.get("args")) == (new.get("target"), new.get("args"))):
        return []  # a run whose hypermodel cannot be imported again keeps none to compare
    if not new:
        return [f"hypermodel {_call(old)} -> one that cannot be imported again"]
    where = _call(old) == _call(new)  # the same name, from another module or script: say which
    return [f"hypermodel {_call(old, where)} -> {_call(new, where)}"]


def _call(reference: dict[str, Any], where: bool = False) -> str:
    """A hypermodel reference as the call that makes it: ``Sized(units=8)``, ``build``
    (``where``: with its module or script, ``models:Sized(units=8)``)."""
    target = str(reference.get("target", ""))
    name = target if where else target.rpartition(":")[2]
    args = reference.get("args")
    if args is None:
        return name
    return f"{name}({', '.join(f'{key}={value!r}' for key, value in args.items())})"


_OPTUNA_DEFAULTS = {"sampler": "tpe", "pruner": "median"}
"""What an Optuna run that names no sampler or pruner uses (run.json's request keeps None)."""


def _optuna_differences(stored_request: dict[str, Any], request: RunRequest) -> list[str]:
    """Another ``--sampler`` or ``--pruner`` than an Optuna run was started with: the
    continued study would sample or prune with it, while run.json names the first."""
    if stored_request.get("tuner", request.tuner) != "optuna":
        return []
    changes = []
    for key, default in _OPTUNA_DEFAULTS.items():
        if key == "pruner" and request.objective == "pareto":
            continue  # two objectives are never pruned, whatever was given
        old, new = stored_request.get(key) or default, getattr(request, key) or default
        if old != new:
            changes.append(_change(key, old, new))
    if not same_storage(stored_request.get("storage"), request.storage):  # a new study there
        old, new = stored_request.get("storage"), masked_url(request.storage)
        changes.append(f"{option('storage')} {old or JOURNAL_FILE} -> {new or JOURNAL_FILE}")
    return changes


def _change(key: str, old: Any, new: Any) -> str:
    """A changed setting named by its option; the final retrain skipped or done in words
    (its flag, ``--no-retrain``, has no keyword of its own)."""
    if key == "retrain":
        return f"the final retrain {'done' if old else 'skipped'} -> {'done' if new else 'skipped'}"
    return f"{option(key)} {old} -> {new}"


def own_final_step(request: RunRequest, meta: dict[str, Any] | None) -> RunRequest:
    """``request`` continuing the run ``meta`` describes (None: a new run) with that run's
    own ``retrain_from``, ``retrain_schedule`` and ``retrain_max_epochs`` where it asks for
    the default (``auto``, None): a run stored with ``scratch`` before ``auto`` existed keeps
    starting its retrain from new weights, one stored before the schedule was an option
    keeps its ``plateau``, and each keeps the length its plan gave its final trainings."""
    if meta is None:
        return request
    stored = meta.get("request") or {}
    epochs = stored.get("retrain_max_epochs")
    if request.retrain_max_epochs is None and isinstance(epochs, int) and epochs >= 1:
        request = replace(request, retrain_max_epochs=epochs)
    if request.retrain_from == "auto" and stored.get("retrain_from") in RETRAIN_FROM:
        request = replace(request, retrain_from=stored["retrain_from"])
    schedule = stored.get("retrain_schedule", "plateau")
    if request.retrain and request.retrain_schedule == "auto" and schedule in RETRAIN_SCHEDULES:
        request = replace(request, retrain_schedule=schedule)
    return request


def _seconds(limit: float | None) -> str:
    return "none" if limit is None else duration_words(limit)


def _limits(old: float | None, new: float | None) -> str:
    """``10 min -> 20 min``; in seconds where the words round two limits alike."""
    words = _seconds(old), _seconds(new)
    if words[0] == words[1]:
        words = f"{old:g} s", f"{new:g} s"
    return f"{words[0]} -> {words[1]}"


def same_source(stored: Any, now: str) -> bool:
    """Whether run.json's data ``source`` (``stored``) names where the data were read
    ``now``: the same, or its saved arrays ("arrays" then, "arrays in FOLDER" now); True
    where run.json names none (nothing to compare)."""
    return stored is None or now == stored or now.startswith(f"{stored} in ")


def check_same_data(folder: RunFolder, meta: dict[str, Any], splits: Splits) -> None:
    """Refuse to continue a run on other data than it started with (another folder, other
    arrays under the same name): its trials would mix two data sets."""
    data = meta.get("data") or {}
    stored = data.get("fingerprint")
    if stored is not None and stored != splits.fingerprint():
        then, now = (", ".join(kinds) or "none" for kinds in (data.get("weighted") or [], splits.weighted()))
        weights = "" if then == now else f"; weighted rows: {then} then, {now} now"
        read = "" if same_source(data.get("source"), splits.source) else f"; read now from {splits.source}"
        raise SearchError(
            f"{folder.path}: the data differ from the ones this run started with"
            f" ({data.get('source')}{read}{weights}); continue it on the same data (and weights),"
            " or start a new run with another name"
        )


def load_data(p: Plan, data: DataOptions, say: Callable[[str], object]) -> Splits:
    """The experiment's data; what it warns about them (images skipped as unreadable, a
    cache it could not write) said once each in a line of progress (``warning: ...``), not
    as Python's warning with its source line."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DataWarning)
        splits = p.experiment.load(data)
    said: set[str] = set()
    for warning in caught:
        if not issubclass(warning.category, DataWarning):  # not this project's: shown as it would have been
            warnings.showwarning(warning.message, warning.category, warning.filename, warning.lineno)
        elif str(warning.message) not in said:
            said.add(str(warning.message))
            say(f"warning: {warning.message}")
    return splits


def code_edited(meta: Mapping[str, Any], experiment: experiments.Experiment) -> str | None:
    """Where the user's file that the run imports (its build, HyperModel or experiment)
    differs from the one run.json recorded when the run last started: so much said, for the
    caller to tell what follows from it. Not refused: fixing one's build and going on is common.

    Returns:
        E.g. "/home/me/model.py changed since this run last started"; None where it did not.
    """
    recorded, now = meta.get("code") or {}, experiments.code_of(experiment.reference)
    if not recorded or now is None:
        return None
    edited = experiments.edited_files(recorded, now)
    if not edited:
        return None
    files = edited[0] if len(edited) == 1 else f"{', '.join(edited[:-1])} and {edited[-1]}"
    return f"{files} changed since this run last started"


def _silent(line: str) -> None:
    """Say nothing: a quiet run."""


def final_setup(
    p: Plan, splits: Splits, hypermodel: Any, best: dict[str, Any], console: Console, quiet: bool
) -> tuple[Splits, Any]:
    """The data and hypermodel the final model trains with: the search's, or, for
    experiments that search at a smaller image size, both at the chosen base's size."""
    size_of = p.experiment.final_image_size
    if size_of is None:
        return splits, hypermodel
    size = size_of(best["hyperparameters"])
    if size == p.data.image_size:
        return splits, hypermodel
    if not quiet:
        console.print(f"loading the images at {size}x{size} for the final model…")
    final_splits = load_data(p, replace(p.data, image_size=size), _silent if quiet else console.print)
    return final_splits, p.experiment.hypermodel(p.space, final_splits, p.model)


__all__ = [
    "CPU_FINALISTS",
    "DEFAULT_BUDGET",
    "GPU_FINALISTS",
    "Plan",
    "budget_profile", "check_resumable", "check_same_data", "final_setup", "final_training", "load_data",
    "own_final_step", "plan", "same_source",
]
