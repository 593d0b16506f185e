"""Run a search end to end: check inputs, load data, search, record, retrain, evaluate."""

from __future__ import annotations

import contextlib
import io
import shlex
import signal
import time
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from rich.console import Console

from search import experiments, tuners
from search._text import plural
from search.data import Splits, save_arrays
from search.engine._checkpoints import CheckpointKeeper
from search.engine._precision import policy_for, precision
from search.engine._records import TrialRecorder
from search.engine._request import RunRequest, masked_url
from search.engine._retrain import retrain_best
from search.engine._signals import EXIT_CODES, SearchStopped, StopOnSignal
from search.engine._versions import package_versions
from search.engine._warm import load_warm_start
from search.environment import EnvironmentFailure
from search.errors import SearchError, SearchInterrupted
from search.experiments import DataOptions, ModelOptions
from search.report import Ranking, rank_run, trials_table
from search.space import Space
from search.storage import RunFolder, RunLock, check_writable, prepare_run_folder, utc_now
from search.tuners import EnvironmentStop, TrialQuotaReached
from search.tuners.optuna import PARETO_NOTE

WRITABLE_FIX = "give a --results folder you can write to (or make this one writable)"


@dataclass(frozen=True)
class RunOutcome:
    """Where the run lives and what it found."""

    folder: RunFolder
    best: dict[str, Any] | None
    final: dict[str, Any] | None
    seconds: float



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


def experiment_of(request: RunRequest) -> experiments.Experiment:
    """The experiment a request names: a registered one, ``file.py:NAME`` /
    ``module:NAME``, or a run from Python on arrays kept in its folder."""
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

    ``experiment``: the experiment object itself (a user's hypermodel from Python);
    None: the one the request names (:func:`experiment_of`).
    """
    request.check()
    experiment = experiment or experiment_of(request)
    backend = tuners.get(request.tuner)
    _check_importable(request, experiment)
    if space is None:
        space = experiment.load_space(request.space)
        if request.fix:
            try:
                space = space.fix(request.fix)
            except ValueError as exc:
                raise SearchError(f"--fix: {exc}") from None
    default_trials, default_epochs = experiment.budgets.get(request.tuner, (10, 6))
    budget = tuners.Budget(
        max_trials=request.max_trials if request.max_trials is not None else default_trials,
        max_epochs=request.max_epochs or default_epochs,
        factor=request.factor,
    )
    name = request.name or f"{request.tuner}-{datetime.now():%Y%m%d-%H%M%S}"
    run_dir = request.results / experiment.name / name
    options = tuners.TunerOptions(
        space=space, sampler=request.sampler, pruner=request.pruner, storage=request.storage,
        pareto=request.objective == "pareto", converged_epochs=request.converged_epochs,
        study_name=f"{experiment.name}-{name}", run_dir=run_dir, baseline=request.baseline,
        warm=load_warm_start(request.warm_start, run_dir, experiment.name, request.objective,
                             request.kt_objective().direction, space),
    )  # fmt: skip
    backend.check(options, budget)
    if request.workers > 1 and backend.name != "optuna":
        option = f"--gpus {','.join(request.gpus)}" if request.gpus else f"--workers {request.workers}"
        raise SearchError(
            f"{option} needs --tuner optuna (several workers share an Optuna study),"
            f" not {backend.name}; one GPU (e.g. --gpus 0) works with any tuner"
        )
    train_size = None if request.full_train else (
        request.train_size or experiment.default_train_size
    )
    if request.image_size is not None and experiment.default_image_size is None:
        raise SearchError(
            f"--image-size {request.image_size}: {experiment.name} images have one size;"
            " the option applies to image-folder experiments (clothing)"
        )
    if request.weights is not None and experiment.default_weights is None:
        raise SearchError(
            f"--weights {request.weights}: {experiment.name} models are trained from scratch;"
            " the option applies to transfer-learning experiments (clothing)"
        )
    data = DataOptions(
        data_dir=request.data_dir,
        train_size=train_size,
        val_size=request.val_size or experiment.default_val_size,
        seed=request.seed,
        image_size=request.image_size or experiment.default_image_size,
    )
    model = ModelOptions(
        seed=request.seed,
        weights=request.weights or experiment.default_weights,
        dtype_policy=policy_for(request.precision),
    )
    if experiment.check_options is not None:
        experiment.check_options(space, data, model)
    return Plan(experiment, backend, budget, options, data, model, name)


def _check_importable(request: RunRequest, experiment: experiments.Experiment) -> None:
    """Other processes must import a user's hypermodel again: refuse before any work."""
    if not experiment.not_importable:
        return
    if request.workers > 1 or request.isolate:
        option = f"workers={request.workers}" if request.workers > 1 else "isolate=True"
        raise SearchError(
            f"{option} runs trials in other processes, which cannot import the hypermodel:"
            f" {experiment.not_importable}"
        )


def run_search(
    request: RunRequest,
    console: Console,
    quiet: bool = False,
    trials_per_process: int | None = None,
    started_at: float | None = None,
    devices: tuple[str, ...] = (),
    experiment: experiments.Experiment | None = None,
) -> RunOutcome:
    """Run the search described by ``request``; every input is checked before work starts.

    ``experiment``: the experiment itself (a user's hypermodel given from Python); None:
    the one the request names. ``devices`` (``--gpus``): each worker's
    ``CUDA_VISIBLE_DEVICES`` entry; this process, worker 0, must already be pinned to the
    first (``search.gpus.claim``).

    ``trials_per_process`` (``--isolate``) makes this process start at most that many
    trials and then raise TrialQuotaReached, the run left resumable; 0 only creates (or
    checks) the run. A process given 1 trial is one of many: it says less. ``started_at``
    (``time.time()``) is when the run's first process began, if not this one.
    """
    started = time.perf_counter() - (0.0 if started_at is None else time.time() - started_at)
    child = trials_per_process == 1
    chatty = not quiet and not child
    check_writable(request.results, f"--results {request.results}", WRITABLE_FIX)
    p = plan(request, experiment=experiment)
    experiment, backend, budget, options = p.experiment, p.backend, p.budget, p.options
    space, name = options.space, p.name
    if options.pareto and request.pruner not in (None, "none") and chatty:
        console.print(PARETO_NOTE)
    existing = RunFolder(request.results / experiment.name / name)
    resuming = request.name is not None and existing.exists()
    if resuming:
        previous = existing.read_meta()
        _check_resumable(existing, previous, p, request)
        tuners.check_tuner_state(existing.tuner_dir)
        tuners.check_state_present(existing, backend.name, request.storage)
        check_writable(existing.path, f"run folder {existing.path}", WRITABLE_FIX)
        folder = existing
    else:
        folder = prepare_run_folder(request.results, experiment.name, name)
    if chatty:
        console.print(f"loading {experiment.name} data…")
    splits = _load_checked(p, request, folder, resuming)
    if resuming:
        _check_same_data(folder, previous, splits)
    if chatty:
        console.print(f"data: {splits.describe()}")

    folder.path.mkdir(parents=True, exist_ok=True)
    with RunLock(folder.path) as lock, precision(request.precision) as policy:
        if lock.taken_over is not None and chatty:
            console.print(f"took over the lock of PID {lock.taken_over}, which is not running")
        if resuming:
            done = sum(t["status"] == "completed" for t in folder.read_trials())
            stored_request = {
                **previous.get("request", {}),
                "keep_best": request.keep_best,
                "isolate": request.isolate,
                "workers": request.workers,
                "gpus": list(request.gpus),
                "hypermodel": request.hypermodel,  # given again from Python, maybe
            }
            resumed = previous.get("resumed", [])
            folder.update_meta(
                status="running", finished=None, request=stored_request, precision=policy,
                resumed=resumed if child else [*resumed, utc_now()],
            )  # fmt: skip
            if chatty:
                console.print(f"resuming run {name}: {plural(done, 'trial')} already completed")
            return _search_and_retrain(
                request, p, folder, splits, console, quiet, started, trials_per_process, devices
            )
        meta = {
            "experiment": experiment.name,
            "tuner": backend.name,
            "name": name,
            "status": "running",
            "created": utc_now(),
            "finished": None,
            "seed": request.seed,
            "objective": {
                "name": request.objective,
                "direction": request.kt_objective().direction,
                "tracked": request.kt_objective().name,
            },
            "hypermodel": experiment.reference,
            "optuna": {
                "sampler": request.sampler or "tpe",
                "pruner": "none" if request.objective == "pareto" else request.pruner or "median",
                "storage": masked_url(request.storage) or "optuna.journal",
                "study": options.study_name,
            } if backend.name == "optuna" else None,
            "budget": {
                "max_trials": budget.max_trials,
                "max_epochs": budget.max_epochs,
                "factor": budget.factor,
            },
            "space": {
                "source": space.source,
                "fingerprint": space.fingerprint(),
                "params": space.to_dict(),
            },
            "data": {
                "source": splits.source,
                "train": len(splits.x_train),
                "validation": len(splits.x_val),
                "test": len(splits.x_test),
                "seed": request.seed,
                "image_shape": list(splits.x_train.shape[1:]),
                "class_names": list(splits.class_names),
                "fingerprint": splits.fingerprint(),
            },
            "model": {"weights": p.model.weights},
            "precision": policy,
            "command": list(request.command),
            "request": request.to_json(name),
            "versions": package_versions(),
            "best": None,
            "final": None,
            "seconds": None,
        }
        folder.write_meta(meta)
        return _search_and_retrain(
            request, p, folder, splits, console, quiet, started, trials_per_process, devices
        )


def _load_checked(p: Plan, request: RunRequest, folder: RunFolder, resuming: bool) -> Splits:
    """The experiment's data, checked against its model before any trial; a new run on
    arrays keeps them in its folder for other processes. A refused new run leaves no folder."""
    try:
        splits = p.experiment.load(p.data)
        if p.experiment.check_data is not None:
            p.experiment.check_data(splits, request.kt_objective())
    except SearchError:
        if not resuming:
            with contextlib.suppress(OSError):
                folder.path.rmdir()  # only when empty: nothing of a run is lost
        raise
    if request.arrays and not resuming:
        save_arrays(splits, folder.path)
    return splits


def _check_same_data(folder: RunFolder, meta: dict[str, Any], splits: Splits) -> None:
    """Refuse to continue a run on other data than it started with (another folder, other
    arrays under the same name): its trials would mix two data sets."""
    stored = (meta.get("data") or {}).get("fingerprint")
    if stored is not None and stored != splits.fingerprint():
        raise SearchError(
            f"{folder.path}: the data differ from the ones this run started with"
            f" ({(meta.get('data') or {}).get('source')}); continue it on the same data,"
            " or start a new run with another name"
        )


def _search_and_retrain(
    request: RunRequest,
    p: Plan,
    folder: RunFolder,
    splits: Splits,
    console: Console,
    quiet: bool,
    started: float,
    trials_per_process: int | None = None,
    devices: tuple[str, ...] = (),
) -> RunOutcome:
    backend, options, budget = p.backend, p.options, p.budget
    objective = request.kt_objective()
    baseline = options.space.defaults() if request.baseline else None
    recorder = TrialRecorder(folder, objective, baseline)
    hypermodel = p.experiment.hypermodel(options.space, splits, p.model)
    planned_trials, planned_epochs = backend.plan(budget)
    stopper = StopOnSignal()
    observers: list[Any] = [recorder, stopper]
    progress = None
    if not quiet and trials_per_process != 1:
        isolated = " (each trial in its own process)" if trials_per_process == 0 else ""
        console.print(
            f"searching with {backend.name}: up to {plural(planned_trials, 'trial')},"
            f" {plural(planned_epochs, 'epoch')} in all{isolated}; results in {folder.path}"
        )
        if options.warm is not None:
            console.print(options.warm.describe())
    if not quiet and trials_per_process != 0:
        from search.engine._progress import SearchProgress

        n_train = len(splits.x_train)

        def steps(values: dict[str, Any]) -> int:
            return max(1, n_train // min(int(values.get("batch_size", 64)), n_train))

        progress = SearchProgress(
            console, planned_trials, planned_epochs, objective, steps, budget.max_epochs
        )
        progress.start_from(recorder.records.values())
        observers.append(progress)
    if request.track:
        from search.tracking import tracking_observers

        observers += tracking_observers(request, folder, recorder, console)
    keeper = None
    if request.keep_best is not None:
        keeper = CheckpointKeeper(
            folder, request.keep_best, lambda records: ranked_ids(records, request)
        )
        observers.insert(1, keeper)  # after the recorder: it ranks what was just recorded
    with contextlib.redirect_stdout(io.StringIO()):  # KerasTuner prints "Reloading Tuner"
        tuner = backend.create(
            hypermodel, objective, budget, request.seed, folder.tuner_dir, observers, options
        )
    if keeper is not None:
        keeper.oracle = tuner.oracle
    tuner.trial_quota = trials_per_process
    workers = []
    if request.workers > 1:
        from search.engine._worker import spawn_workers

        workers = spawn_workers(
            folder, request.workers - 1, storage=request.storage, devices=devices[1:]
        )
        if not quiet:
            on = f" on GPUs {', '.join(devices[1:])}" if devices else ""
            console.print(
                f"started {plural(len(workers), 'worker process', 'worker processes')}{on}"
                " (logs: worker-K.log)"
            )
    status = "failed"
    try:
        search_args = (splits.x_train, splits.y_train)
        search_kwargs = {
            "validation_data": (splits.x_val, splits.y_val),
            "epochs": budget.max_epochs,
            "verbose": 0,
        }
        try:
            with stopper:
                if progress is not None:
                    with progress:
                        _search(tuner, search_args, search_kwargs)
                else:
                    _search(tuner, search_args, search_kwargs)
        except TrialQuotaReached as exc:
            status = "running"  # other processes go on with it
            exc.folder = folder  # type: ignore[attr-defined]
            raise
        except EnvironmentStop as exc:
            status = "interrupted"  # the running trial is run again on resume
            raise EnvironmentFailure(exc.error, folder.path) from None
        except (SearchStopped, KeyboardInterrupt) as exc:
            status = "interrupted"
            done = sum(r["status"] == "completed" for r in recorder.records.values())
            code = EXIT_CODES.get(getattr(exc, "signum", signal.SIGINT), 130)
            raise SearchInterrupted(
                f"stopped after {plural(done, 'trial')}; resume with: python -m search resume"
                f" {shlex.quote(str(folder.path))}",
                code,
            ) from None
        if workers:
            from search.engine._worker import wait_workers

            wait_workers(workers)
            workers = []
        recorder.refresh()
        if keeper is not None:
            keeper.prune(search_over=True)  # no bracket continues now, even one cut short
        best, rule = _choose(recorder, request)
        if best is None:
            raise SearchError(
                f"no trial completed ({_failure_summary(recorder)}); see {folder.trials_file}"
            )
        folder.update_meta(best={**_best_summary(best, objective.name), "rule": rule})
        if options.pareto:
            folder.update_meta(pareto_front=_pareto_front(tuner))
        final = None
        if request.retrain:
            final_splits, final_hypermodel = final_setup(p, splits, hypermodel, best, console, quiet)
            final = retrain_best(
                final_hypermodel, best, final_splits, request.retrain_data, folder, console, quiet,
                request.tolerance, request.retrain_max_epochs, monitor=objective,
            )  # fmt: skip
        else:
            _save_search_model(hypermodel, best, folder)
        status = "finished"
        seconds = round(time.perf_counter() - started, 1)
        folder.update_meta(status=status, finished=utc_now(), final=final, seconds=seconds)
        return RunOutcome(folder, best, final, seconds)
    except KeyboardInterrupt:
        status = "interrupted"
        raise
    finally:
        if workers:
            from search.engine._worker import wait_workers

            wait_workers(workers, stop=True)
        if status not in ("finished", "running"):
            folder.update_meta(status=status, finished=utc_now())


def final_setup(
    p: Plan,
    splits: Splits,
    hypermodel: Any,
    best: dict[str, Any],
    console: Console,
    quiet: bool,
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
    final_splits = p.experiment.load(replace(p.data, image_size=size))
    return final_splits, p.experiment.hypermodel(p.options.space, final_splits, p.model)


def _search(tuner: Any, args: tuple, kwargs: dict[str, Any]) -> None:
    try:
        tuner.search(*args, **kwargs)
    except RuntimeError as exc:
        # KerasTuner's oracle ends the search after too many consecutive failed trials;
        # the trials are recorded, and the caller reports what completed.
        if not str(exc).startswith("Number of consecutive failures"):
            raise


def ranking(records: list[dict[str, Any]], request: RunRequest) -> Ranking:
    """The run's trials ranked as the report ranks them: by the rule (converged accuracy
    within the tolerance, then the least overfitting) for val_accuracy, by the best value
    of the objective otherwise, or when the trials logged no epochs."""
    objective = request.kt_objective()
    table = trials_table(records, request.converged_epochs)
    name = request.objective if request.accuracy_rule else objective.name
    return rank_run(records, table, name, objective.direction, request.tolerance)


def ranked_ids(records: list[dict[str, Any]], request: RunRequest) -> list[str]:
    """Completed trials, best first (see :func:`ranking`)."""
    table = ranking(records, request).table
    return [str(t) for t in table.loc[table["rank"].notna(), "trial"]]


def _choose(recorder: TrialRecorder, request: RunRequest) -> tuple[dict[str, Any] | None, str]:
    """The trial to keep, and the rule's sentence saying why."""
    choice = ranking(list(recorder.records.values()), request).choice
    if choice is None:
        return None, ""
    return recorder.records[choice.trial], choice.sentence()


def _pareto_front(tuner: Any) -> list[dict[str, Any]]:
    """The study's Pareto-optimal trials: KerasTuner id, accuracy and overfitting."""
    study = tuner.oracle.study
    return [
        {
            "trial": t.user_attrs.get("keras_tuner_trial_id"),
            "converged_val_accuracy": t.values[0],
            "overfitting": t.values[1],
        }
        for t in study.best_trials
    ]


def _check_resumable(folder: RunFolder, meta: dict[str, Any], p: Plan, request: RunRequest) -> None:
    """Refuse to continue a run with another tuner, space or budget, showing the difference."""
    name = folder.name
    tuner, space, budget = p.backend.name, p.options.space, p.budget
    assert space is not None
    fix = f"start a new run with another --name, or `python -m search resume {folder.path}`"
    if meta.get("experiment") != p.experiment.name:
        raise SearchError(
            f"{folder.path}: holds a run of experiment {meta.get('experiment')!r}, not"
            f" {p.experiment.name!r}; pass another --results folder or --name"
        )
    if meta.get("status") == "finished":
        raise SearchError(f"{folder.path}: run {name!r} is already finished; to search again,"
                          " choose another --name")  # fmt: skip
    differences = []
    if meta.get("tuner") != tuner:
        differences.append(f"tuner {meta.get('tuner')} -> {tuner}")
    stored = (meta.get("space") or {}).get("params", {})
    if (meta.get("space") or {}).get("fingerprint") != space.fingerprint():
        changed = sorted(
            k for k in set(stored) | set(space.names)
            if stored.get(k) != space.to_dict().get(k)
        )  # fmt: skip
        differences.append(f"space differs in {', '.join(changed) or 'its definition'}")
    old_budget = meta.get("budget") or {}
    for key in ("max_trials", "max_epochs", "factor"):
        if old_budget.get(key) != getattr(budget, key):
            differences.append(f"{key} {old_budget.get(key)} -> {getattr(budget, key)}")
    stored_request = meta.get("request") or {}
    for key in ("seed", "objective", "train_size", "val_size", "image_size", "weights"):
        if key in stored_request and stored_request[key] != getattr(request, key):
            differences.append(f"{key} {stored_request[key]} -> {getattr(request, key)}")
    if differences:
        raise SearchError(
            f"{folder.path}: run {name!r} exists with other settings ({'; '.join(differences)});"
            f" {fix}"
        )


def _failure_summary(recorder: TrialRecorder) -> str:
    reasons = [r["failure"] for r in recorder.records.values() if r.get("failure")]
    if not reasons:
        return "no trial ran"
    counts: dict[str, int] = {}
    for reason in reasons:
        counts[reason] = counts.get(reason, 0) + 1
    return "; ".join(f"{n}x {reason}" for reason, n in counts.items())


def _best_summary(best: dict[str, Any], objective: str) -> dict[str, Any]:
    return {
        "trial": best["id"],
        "hyperparameters": best["hyperparameters"],
        "best_epoch": best["best_epoch"],
        objective: best["best"][objective],
        "metrics": best["best"],
    }


def _save_search_model(hypermodel: Any, best: dict[str, Any], folder: RunFolder) -> None:
    """Save the chosen trial's best-epoch checkpoint (whichever worker wrote it) as .keras."""
    import keras
    import keras_tuner as kt

    found = sorted(folder.tuner_dir.glob(f"**/trial_{best['id']}/checkpoint.weights.h5"))
    if not found:
        return
    hp = kt.HyperParameters()
    hp.values = dict(best["hyperparameters"])
    keras.backend.clear_session()
    model = hypermodel.build(hp)
    model.load_weights(found[0])
    model.save(folder.model_file)


__all__ = ["RunOutcome", "run_search"]
