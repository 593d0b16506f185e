"""Opening a run: its folder made (or checked to continue), its data loaded and checked,
and run.json written (or updated) once the run's lock is held."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, replace
from typing import Any

from search import experiments, tuners
from search.data import Inputs, Splits, row_shape, row_shapes, rows, save_arrays
from search.engine._context import Say
from search.engine._plan import (
    Plan,
    check_resumable,
    check_same_data,
    code_edited,
    final_training,
    load_data,
)
from search.engine._request import RunRequest
from search.engine._versions import package_versions
from search.errors import option
from search.storage import (
    BudgetMeta,
    DataMeta,
    ObjectiveMeta,
    OptunaMeta,
    RunFolder,
    RunLock,
    RunMeta,
    SpaceMeta,
    check_writable,
    masked_url,
    prepare_run_folder,
    utc_now,
)

WRITABLE_FIX = f"give a {option('results')} folder you can write to (or make this one writable)"


class NameTaken(Exception):
    """Another process made the folder of the name a run not given one was to take."""


@dataclass(frozen=True)
class OpenRun:
    """A run's folder and data; ``previous``: its run.json when it continues."""

    folder: RunFolder
    splits: Splits
    previous: dict[str, Any] | None

    @property
    def resuming(self) -> bool:
        return self.previous is not None


def open_run(request: RunRequest, p: Plan, say: Say) -> OpenRun:
    """Make the run's folder, or check that the existing one may continue with ``p``
    (same experiment, tuner, space, budget, data); then load and check the data.

    Raises:
        SearchError: The run cannot start or continue; a refused new run leaves no folder.
    """
    existing = RunFolder(request.results / p.experiment.name / p.name)
    previous = None
    if request.name is not None and existing.exists():
        existing.check_lock_files()
        RunLock(existing.path).check_free()  # before the data loads: the lock is taken after
        previous = existing.read_meta()
        check_resumable(existing, previous, p, request)
        edited = code_edited(previous, p.experiment)
        if edited:
            say(f"warning: {edited}: its trials so far trained the earlier code, the next ones train this;"
                " restore the code, or start a new run under another name to compare like with like")
        tuners.check_tuner_state(existing.tuner_dir)
        tuners.check_state_present(existing, p.backend.name, request.storage)
        check_writable(existing.path, f"run folder {existing.path}", WRITABLE_FIX)
        folder = existing
    else:
        folder = prepare_run_folder(request.results, p.experiment.name, p.name)
        if request.name is None:
            _claim(folder)
    say(f"loading {p.experiment.name} data…")
    splits = _load_checked(p, request, folder, previous is not None, say)
    if previous is not None:
        check_same_data(folder, previous, splits)
    say(f"data: {splits.describe()}")
    folder.path.mkdir(parents=True, exist_ok=True)
    return OpenRun(folder, splits, previous)


def _claim(folder: RunFolder) -> None:
    """Make the folder of a run not given a name before its data loads, so that a process
    starting in the same second takes the next name.

    Raises:
        NameTaken: Another process made it first.
    """
    try:
        folder.path.mkdir(parents=True)
    except FileExistsError:
        raise NameTaken(folder.path.name) from None


def _load_checked(p: Plan, request: RunRequest, folder: RunFolder, resuming: bool, say: Say) -> Splits:
    """The experiment's data, checked against its model before any trial; a new run on
    arrays keeps them in its folder for other processes."""
    try:
        splits = load_data(p, p.data, say)
        if p.experiment.check_data is not None:
            p.experiment.check_data(splits, request.kt_objective())
    except BaseException:  # a refusal, an interrupt: a new run leaves no folder
        if not resuming:
            for made in (folder.path, *folder.path.parents[:2]):  # the experiment's, the root
                with contextlib.suppress(OSError):
                    made.rmdir()  # only when empty: nothing of a run is lost
        raise
    if request.arrays and not resuming:
        save_arrays(splits, folder.path)
    return splits


def record_start(opened: OpenRun, request: RunRequest, p: Plan, policy: str, child: bool) -> None:
    """Write run.json for a new run; for a continued one, mark it running again with the
    options that may change between processes (``child``: one trial process of many,
    which does not count as a resume)."""
    folder, previous = opened.folder, opened.previous
    if previous is None:
        folder.write_meta(new_meta(request, p, opened.splits, policy).to_json())
        return
    stored = {
        **previous.get("request", {}),
        "keep_best": request.keep_best,
        "isolate": request.isolate,
        "workers": request.workers,
        "gpus": list(request.gpus),
        "hypermodel": request.hypermodel,  # given again from Python, maybe
        "track": request.to_json(p.name)["track"],  # as given again: a later resume tracks it too
    }
    if request.data_dir is not None:  # where it is now: a project moved whole (workers read it here)
        stored["data_dir"] = str(request.data_dir.resolve())
    resumed = previous.get("resumed", [])
    # A run from before the time limit goes on with the one planned now: run.json says it.
    budget = {**previous.get("budget", {}), "max_search_seconds": p.budget.max_search_seconds}
    folder.update_meta(
        status="running", finished=None, reason=None, stopped_in=None, request=stored, precision=policy,
        budget=budget,
        resumed=resumed if child else [*resumed, utc_now()], code=experiments.code_of(p.experiment.reference),
    )  # fmt: skip


def new_meta(request: RunRequest, p: Plan, splits: Splits, policy: str) -> RunMeta:
    """run.json of a run that starts now."""
    objective = request.kt_objective()
    space = p.space
    return RunMeta(
        experiment=p.experiment.name,
        tuner=p.backend.name,
        name=p.name,
        created=utc_now(),
        seed=request.seed,
        objective=ObjectiveMeta(request.objective, objective.direction, objective.name),
        hypermodel=p.experiment.reference,
        code=experiments.code_of(p.experiment.reference),
        optuna=_optuna_meta(request, p) if p.backend.name == "optuna" else None,
        budget=BudgetMeta(
            p.budget.max_trials, p.budget.max_epochs,
            p.budget.factor if p.backend.name == "hyperband" else None, p.profile, p.finalists,
            request.fidelity, p.budget.max_search_seconds,
        ),
        space=SpaceMeta(space.source, space.fingerprint(), space.to_dict()),
        data=DataMeta(
            source=splits.source, train=rows(splits.x_train), validation=rows(splits.x_val),
            test=rows(splits.x_test), seed=request.seed,
            image_shape=list(row_shape(splits.x_train)), inputs=_several_shapes(splits.x_train),
            class_names=list(splits.class_names),
            fingerprint=splits.fingerprint(), unit=splits.unit,
            weighted=splits.weighted(),
        ),
        model={"weights": p.model.weights},
        precision=policy,
        command=list(request.command),
        request=_as_planned(request, p).to_json(p.name),
        versions=package_versions(),
    )


def _as_planned(request: RunRequest, p: Plan) -> RunRequest:
    """``request`` with the defaults its plan resolved (budget, finalists, the experiment's
    default data folder, absolute, and, with a retrain, its schedule and length), so that
    the run goes on with them, a resume or an export from any working folder too."""
    data_dir = request.data_dir or p.experiment.default_data_dir
    request = replace(request, budget=p.profile, finalists=p.finalists, data_dir=data_dir)
    if not request.retrain:
        return request
    schedule, epochs = final_training(request, p.experiment, p.profile)
    return replace(request, retrain_schedule=schedule, retrain_max_epochs=epochs)


def _optuna_meta(request: RunRequest, p: Plan) -> OptunaMeta:
    return OptunaMeta(
        sampler=request.sampler or "tpe",
        pruner="none" if request.objective == "pareto" else request.pruner or "median",
        storage=masked_url(request.storage) or "optuna.journal",
        study=p.options.study_name,
    )



def _several_shapes(x: Inputs) -> dict[str, list[int]]:
    """The shape of a row of each array of a multi-input model's inputs ``x``, by name;
    {} for one array."""
    return {name: list(shape) for name, shape in row_shapes(x).items() if name}


__all__ = ["OpenRun", "open_run", "record_start"]
