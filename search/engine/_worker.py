"""Several processes on one Optuna search: ``run --workers N`` and ``search worker RUN``.

Each worker rebuilds the run's request from run.json, loads the same data split, and runs
its own KerasTuner Tuner on the shared study. Trial ids are the study's trial numbers;
trials.json is merged under a lock; each worker keeps its tuner state in
``tuner/worker-K`` and its log in ``worker-K.log``, so no two processes write one file.
"""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import keras
import keras_tuner as kt
from rich.console import Console

from search._heap import heap_frozen
from search._text import resume_call
from search.data import Splits, rows
from search.engine._checkpoints import checkpoint_keeper
from search.engine._context import Say
from search.engine._plan import Plan, check_same_data, code_edited, load_data, plan
from search.engine._precision import precision
from search.engine._progress import SearchProgress, search_progress
from search.engine._records import FailureStreak, TrialRecorder, failures_stop
from search.engine._request import (
    STORAGE_ENV,
    RunRequest,
    data_found,
    refuse_other_storage,
    starts_from_checkpoint,
)
from search.errors import RunFolderError, SearchError, option
from search.experiments import UserHyperModel
from search.gpus import worker_env
from search.space import space_from_dict
from search.storage import SPAWNED_LOG, RunFolder, WorkerSlot, is_masked
from search.tracking import tracking_observers
from search.tuners import Observer, SearchTimeUp, offset_seed

WORKER_SEED_STRIDE = 1000




def spawn_workers(
    folder: RunFolder,
    count: int,
    first_index: int = 1,
    storage: str | None = None,
    devices: tuple[str, ...] = (),
) -> list[subprocess.Popen]:
    """Start ``count`` worker processes on the run (``python -m search worker``), each
    logging to ``worker-K.log`` in the run folder, K its index.

    Args:
        folder: the run to join.
        count: how many workers to start.
        first_index: the first worker's index; the others follow.
        storage: the Optuna database URL with its password, passed in the environment; None:
            the workers read it from $SEARCH_OPTUNA_STORAGE or run.json.
        devices: one GPU per worker: the i-th started sees only ``devices[i]``; (): all GPUs.

    Returns:
        The started processes, in the order of their indices.

    Raises:
        ValueError: ``devices`` is given but not one per worker.
    """
    if devices and len(devices) != count:
        raise ValueError(f"{count} workers need {count} devices, got {len(devices)}")
    env = {**os.environ, **({STORAGE_ENV: storage} if storage else {})}
    procs = []
    for offset, index in enumerate(range(first_index, first_index + count)):
        log = open(folder.path / SPAWNED_LOG.format(index), "ab")
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "search", "worker", str(folder.path), "--index", str(index),
             "--quiet"],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env={**env, **worker_env(devices[offset])} if devices else env,
        ))  # fmt: skip
        log.close()
    return procs


def wait_workers(procs: list[subprocess.Popen], stop: bool = False, timeout: float = 30) -> None:
    """Wait for the workers to finish (or stop them first).

    Args:
        procs: the worker processes :func:`spawn_workers` started.
        stop: send each SIGTERM first, and kill those still running after ``timeout``.
        timeout: with ``stop``, the seconds all of them together get to exit; without, unused
            (the wait lasts as long as they run).
    """
    if stop:
        for proc in procs:
            proc.terminate()
    deadline = time.monotonic() + timeout
    for proc in procs:
        try:
            proc.wait(timeout=None if not stop else max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def run_worker(
    folder: RunFolder, index: int | None, console: Console, quiet: bool = True,
    storage: str | None = None, data_dir: Path | None = None,
) -> tuple[int, int]:
    """Join the search of ``folder`` as a worker until its budget or time limit is spent.

    Args:
        folder: a running ``--tuner optuna`` run.
        index: this worker's index: it seeds its sampler and names its tuner folder; None: the
            lowest free one (:class:`~search.storage.WorkerSlot`), the same after a restart.
        console: where the search's lines are printed (the caller prints the closing one).
        quiet: print nothing.
        storage: the database URL with its password; None: $SEARCH_OPTUNA_STORAGE, else run.json's.
        data_dir: where the run's data are on this machine (the same data: checked as they
            load; not recorded); None: run.json's.

    Returns:
        This worker's index, and how many trials it ran.

    Raises:
        SearchError: the run is not an Optuna one, not running, trains on another Keras
            backend, or keeps its storage URL without the password and none was given.
        RunFolderError: run.json holds no request to rebuild the search from, or another
            running worker holds ``index``.
    """
    meta, request = _joined(folder, storage, data_dir)
    with WorkerSlot(folder.path, index) as held, heap_frozen():
        return held, _work(folder, held, meta, request, console, quiet)


def _work(
    folder: RunFolder, index: int, meta: dict[str, Any], request: RunRequest, console: Console,
    quiet: bool,
) -> int:
    """Run trials of the joined search as worker ``index``; how many it ran."""
    space = space_from_dict(meta["space"]["params"], source=str(folder.run_file))
    p = plan(request, space)
    # The run folder is where this worker found it, whatever --results said at the start.
    options = replace(p.options, run_dir=folder.path, joining=True)
    edited = code_edited(meta, p.experiment)
    if edited:
        Say(console, quiet)(f"warning: {edited}: this worker's trials train the code as it is now,"
                            " the run's others the code it started with")
    splits = load_data(p, p.data, Say(console, quiet))
    check_same_data(folder, meta, splits)  # another machine's files at that path, maybe
    objective = request.kt_objective()
    baseline = space.defaults() if request.baseline else None
    recorder = TrialRecorder(folder, objective, baseline)
    hypermodel = p.experiment.hypermodel(space, splits, p.model)
    # Each worker samples with its own seed, or all would propose the same first trials.
    sampler_seed = offset_seed(request.seed, WORKER_SEED_STRIDE * index)
    keeper = checkpoint_keeper(folder, request, p.finalists, starts_from_checkpoint(request, splits))
    observers: list[Observer] = [FailureStreak(recorder), recorder] + ([] if keeper is None else [keeper])
    if request.track:
        observers += tracking_observers(
            request.track, request.results, folder, recorder, console, catch_up=False
        )
    progress = None if quiet else _progress(p, objective, splits, hypermodel, recorder, console)
    observers += [] if progress is None else [progress]
    with contextlib.redirect_stdout(io.StringIO()):  # KerasTuner prints "Reloading Tuner"
        tuner = p.backend.create(
            hypermodel, objective, p.budget, sampler_seed,
            folder.tuner_dir / f"worker-{index}", observers, options,
        )  # fmt: skip
    ends_at = meta.get("search_ends_at")  # the run's time limit, as its process set it
    tuner.search_ends_at = float(ends_at) if isinstance(ends_at, (int, float)) else None
    if progress is not None:
        progress.ends_at = tuner.search_ends_at
    tuner.say = Say(console, quiet)
    before = len(recorder.own_trials)
    stopped = f"worker {index} stopped; fix the cause, then resume the run"
    with precision(request.precision), contextlib.suppress(SearchTimeUp), failures_stop(recorder, stopped), \
            progress or contextlib.nullcontext():
        tuner.search(
            splits.x_train, splits.y_train, validation_data=splits.validation_data(),
            epochs=p.budget.max_epochs, verbose=0, **splits.weight_keyword(),
        )  # fmt: skip
    return len(recorder.own_trials) - before


def _progress(
    p: Plan, objective: kt.Objective, splits: Splits, hypermodel: kt.HyperModel, recorder: TrialRecorder,
    console: Console,
) -> SearchProgress:
    """The progress a worker started by hand draws (those ``--workers`` starts log quietly)."""
    model_fit = isinstance(hypermodel, UserHyperModel)  # else the custom loop
    return search_progress(p, objective, rows(splits.x_train), console, recorder, model_fit)


def _joined(
    folder: RunFolder, storage: str | None, data_dir: Path | None = None
) -> tuple[dict[str, Any], RunRequest]:
    """The run.json of the run a worker joins, and its request as this worker runs it (one
    process, no GPU pinned, the storage URL with its password, ``data_dir`` where given);
    SearchError or RunFolderError where the run cannot be joined."""
    meta = folder.read_meta()
    if meta.get("tuner") != "optuna":
        raise SearchError(
            f"{folder.path}: a {meta.get('tuner')} run cannot take workers; only {option('tuner')} optuna"
            " runs share their search"
        )
    if meta.get("status") == "interrupted":
        call = resume_call(folder.path, meta.get("request") or {})
        more = " --workers N" if call.startswith("python") else ""
        raise SearchError(
            f"{folder.path}: the run is interrupted; nothing to join; resume it with its workers"
            f" (N processes in all): `{call}{more}`"
        )
    if meta.get("status") != "running":
        raise SearchError(f"{folder.path}: the run is {meta.get('status')}; nothing to join")
    if "request" not in meta:
        raise RunFolderError(f"{folder.run_file}: holds no request to rebuild the search from")
    trained_on = meta.get("versions", {}).get("keras_backend")
    if trained_on is not None and trained_on != keras.backend.backend():
        raise SearchError(
            f"{folder.path}: the run trains on Keras' {trained_on} backend, this worker on"
            f" {keras.backend.backend()}; start it with {option('backend')} {trained_on}"
        )
    stored = meta["request"].get("storage")
    url = storage or os.environ.get(STORAGE_ENV) or stored
    refuse_other_storage(folder, stored, url, given=storage is not None)
    if is_masked(url):
        raise SearchError(
            f"{folder.run_file} keeps the storage URL without its password ({stored});"
            f" pass the full URL with {option('storage')}"
        )
    # No warm start: the study already holds the earlier runs' trials, so a worker needs
    # neither them nor their folders (gone or moved since, they must not stop it joining).
    given = {} if data_dir is None else {"data_dir": str(data_dir)}
    request = RunRequest.from_json(
        {**meta["request"], "workers": 1, "gpus": [], "storage": url, "warm_start": [], **given}
    )
    return meta, data_found(folder, request, given=data_dir is not None)


__all__ = ["run_worker", "spawn_workers", "wait_workers"]
