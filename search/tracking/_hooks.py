"""What the search calls: the tracker observers of a run, and its outcome at the end."""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from rich.console import Console

from search.errors import SearchError, option
from search.storage import RunFolder, is_masked, masked_url, tracked_objective, utc_now
from search.tracking._mlflow import RUN_GIVEN, MlflowSink, MlflowTracker, replay
from search.tracking._spec import (
    DEFAULT_STORE,
    FULL_URI_ENV,
    URI_ENV,
    RecordSource,
    experiment_name,
    local_store_paths,
    parse_track,
    resolve_uri,
)
from search.tracking._tensorboard import LOGDIR, TensorBoardTracker

_SINKS: dict[tuple[str, Path], MlflowSink] = {}
"""This process's sinks by URI and run folder: a store that failed is named once, not once
per caller."""


def _masked(uri: str) -> str:
    return masked_url(uri) or uri


TRACKED_FIELDS = (
    "experiment", "name", "created", "tuner", "seed", "space.fingerprint", "budget", "objective.name",
)
"""The fields of run.json a run's MLflow parent run is made of."""


def _sink(
    uri: str, folder: RunFolder, console: Console, fresh: bool = False, given: tuple[str, str] = RUN_GIVEN
) -> MlflowSink:
    key = (uri, folder.path.resolve())
    if fresh or key not in _SINKS:
        hint = f"python -m search track {shlex.quote(str(folder.path))} --to {shlex.quote(_masked(uri))}"
        say = lambda line: console.print(line, markup=False)  # noqa: E731
        _SINKS[key] = MlflowSink(uri, _masked(uri), say, hint, given)
    return _SINKS[key]


def _run_uri(spec_uri: str | None, results: Path, stored: dict[str, Any] | None) -> str:
    """The run's tracking URI with its password: the one run.json keeps, else the one
    ``--track`` gives or resolves to; a masked password is taken from the environment."""
    candidate = (stored or {}).get("uri") or resolve_uri(spec_uri, results)
    if not is_masked(candidate):
        return candidate
    for full in (os.environ.get(FULL_URI_ENV), os.environ.get(URI_ENV)):
        if full and _masked(full) == candidate:
            return full
    raise SearchError(
        f"run.json keeps the MLflow URI without its password ({candidate}); set {URI_ENV} to the full URI"
    )


def check_stores(track: Sequence[str], results: Path, folder: RunFolder, experiment: str) -> None:
    """Every MLflow store ``track`` names reached and its experiment found or made, before
    the run loads data or makes ``folder``; SearchError (one line) for one that is not.

    Args:
        track: the ``--track`` values; TensorBoard and the default store need no check.
        results: the results root, where the default SQLite store lives.
        folder: the run folder; a run being resumed gives the store its run.json keeps.
        experiment: the MLflow experiment's name (the search experiment's).

    Raises:
        SearchError: A store cannot be reached or written, or its URI is unusable (a bad
            ``$MLFLOW_TRACKING_URI``, or run.json's masked one with no full one in the environment).
    """
    stored = (folder.read_meta().get("tracking") or {}).get("mlflow") if folder.exists() else None
    for spec in parse_track(track):
        if spec.tracker == "mlflow" and spec.uri is not None:
            _check_same_store(spec.uri, results, (stored or {}).get("uri"), folder)
        uri = _run_uri(spec.uri, results, stored) if spec.tracker == "mlflow" else None
        default = results / DEFAULT_STORE
        if uri is None or (uri == f"sqlite:///{default.resolve()}" and not default.exists()):
            continue  # a new default store, in the results root already checked writable
        from_env = spec.uri is None and not (stored or {}).get("uri")  # $MLFLOW_TRACKING_URI's
        env = (f"{option('track')} mlflow (${URI_ENV})", f"${URI_ENV} (or unset it)")
        given = env if from_env else RUN_GIVEN
        with _removed_if_failed(uri):
            sink = MlflowSink(uri, _masked(uri), lambda line: None, "", given)
            sink.silent = True
            if not sink.reach(experiment_name(experiment, stored)):
                raise SearchError(f"{given[0]}: cannot log to {_masked(uri)} ({sink.failed});"
                                  f" start the tracking server or fix {given[1]}")  # fmt: skip


def _check_same_store(spec_uri: str, results: Path, stored_uri: str | None, folder: RunFolder) -> None:
    """SearchError where ``--track mlflow=URI`` names another store than the one the run
    being continued logs to (``stored_uri``, masked as run.json keeps it; None: none yet)."""
    if stored_uri is None or stored_uri in (_masked(spec_uri), _masked(resolve_uri(spec_uri, results))):
        return
    raise SearchError(
        f"{option('track')} mlflow={_masked(spec_uri)}: run {folder.name!r} logs to {stored_uri}"
        f" (its run.json); leave the URI out to go on there, or start a new run with another"
        f" {option('name')} (`python -m search track RUN --to URI` sends a run to another store)"
    )


def tracking_observers(
    track: Sequence[str], results: Path, folder: RunFolder, recorder: RecordSource, console: Console,
    catch_up: bool = True,
) -> list[Any]:
    """The observers ``track`` (``--track`` values) asks for, after ``recorder`` in the list
    (``results``: the results root, where the default MLflow store lives); the MLflow
    parent run is found or created here (a new run whose store cannot be reached stops
    with a SearchError before any trial).

    Args:
        track: the ``--track`` values.
        results: the results root.
        folder: the run folder; run.json gets the trackers' ``tracking`` entry.
        recorder: the trial recorder whose records the trackers log.
        console: where MLflow's failures are printed (once per store).
        catch_up: write to TensorBoard the trials earlier processes ended untracked (the
            run's own process only: workers and trial processes would write them again).

    Returns:
        A :class:`TensorBoardTracker` and/or :class:`MlflowTracker`, in ``track``'s order.

    Raises:
        SearchError: A new run's store cannot be reached (the run is then marked failed), or a
            store's URI is refused.
    """
    observers: list[Any] = []
    meta = folder.read_meta()
    tracking = dict(meta.get("tracking") or {})
    for spec in parse_track(track):
        if spec.tracker == "tensorboard":
            objective = tracked_objective(meta)
            board = TensorBoardTracker(folder, recorder, meta["space"]["params"], objective)
            if catch_up:
                board.catch_up(folder.read_trials())
            observers.append(board)
            tracking["tensorboard"] = LOGDIR
            continue
        stored = tracking.get("mlflow")
        uri = _run_uri(spec.uri, results, stored)
        if _masked(uri) != uri:
            os.environ[FULL_URI_ENV] = uri  # with its password, for workers and trial processes
        sink = _sink(uri, folder, console, fresh=True)
        sink.silent = stored is None
        opened = sink.open_parent(meta, folder, stored)
        sink.silent = False
        if not opened and stored is None:
            folder.update_meta(
                status="failed", finished=utc_now()
            )
            raise SearchError(f"{option('track')} mlflow: cannot log to {_masked(uri)} ({sink.failed});"
                              " start the tracking server or fix the URI")  # fmt: skip
        if opened:
            sink.reopen()
            tracking["mlflow"] = {"uri": _masked(uri), "experiment": sink.experiment_name,
                                  "experiment_id": sink.experiment_id, "run_id": sink.parent_id}  # fmt: skip
        observers.append(MlflowTracker(sink, recorder))
    if tracking != (meta.get("tracking") or {}):
        folder.update_meta(tracking=tracking)
    return observers


def finish_tracking(
    folder: RunFolder, track: Sequence[str], results: Path, console: Console
) -> None:
    """At the end of a run: every trial sent (the missing ones), then the parent run's
    outcome and files (the report, the model).

    Args:
        folder: the finished (or stopped) run's folder.
        track: the ``--track`` values; only MLflow's are finished.
        results: the results root.
        console: where a store's failure is printed; a store that fails is skipped.
    """
    meta = folder.read_meta()
    stored = (meta.get("tracking") or {}).get("mlflow")
    for spec in parse_track(track):
        if spec.tracker != "mlflow":
            continue
        sink = _sink(_run_uri(spec.uri, results, stored), folder, console)
        if sink.parent_id is None and not sink.open_parent(meta, folder, stored):
            continue
        replay(sink, folder.read_trials())
        sink.finish(meta, folder)


STOPPED_STATUS = {"interrupted": "KILLED", "failed": "FAILED"}
"""A stopped run's status in run.json, and its MLflow runs' status."""


def stop_tracking(folder: RunFolder, track: Sequence[str], results: Path) -> None:
    """A run that stopped early (run.json says interrupted or failed, not running on in
    other processes): the MLflow runs this process opened ended as such (``KILLED``,
    ``FAILED``), the parent and the trials left running; a resume opens them again. A store
    that failed is not tried again, and a second Ctrl-C stops the ending, not the exit.

    Args:
        folder: the run's folder.
        track: the ``--track`` values; only MLflow's are ended.
        results: the results root.
    """
    meta = folder.read_meta()
    status = STOPPED_STATUS.get(str(meta.get("status")))
    stored = (meta.get("tracking") or {}).get("mlflow")
    if status is None or stored is None:
        return
    trials = folder.read_trials()
    try:
        for spec in parse_track(track):
            sink = _SINKS.get((_run_uri(spec.uri, results, stored), folder.path.resolve()))
            if spec.tracker == "mlflow" and sink is not None:
                sink.stop(status, trials)
    except KeyboardInterrupt:
        return


def tracking_uri(folder: RunFolder) -> str:
    """Where ``search track`` sends a run by default: its own store, else
    $MLFLOW_TRACKING_URI, else the SQLite store in its results root.

    Args:
        folder: the run folder, in ``<results>/<experiment>/``.

    Returns:
        The URI with its password (taken from the environment where run.json keeps it masked).

    Raises:
        SearchError: run.json's URI is masked and the environment has no full one, or
            ``$MLFLOW_TRACKING_URI`` is malformed.
    """
    stored = (folder.read_meta().get("tracking") or {}).get("mlflow")
    return _run_uri(None, folder.path.parent.parent, stored)


@contextlib.contextmanager
def _removed_if_failed(uri: str) -> Iterator[None]:
    """Where the block fails, remove the files and folders of ``uri``'s local store that it
    made (each missing one's outermost missing folder); what existed before stays.

    Args:
        uri: the tracking URI; a server's store has nothing here to remove.
    """
    made = {new for new in map(_outermost_missing, local_store_paths(uri)) if new is not None}
    try:
        yield
    except BaseException:
        for path in made:
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                with contextlib.suppress(OSError):
                    path.unlink(missing_ok=True)
        raise


def _outermost_missing(path: Path) -> Path | None:
    """The outermost of ``path`` and its folders that does not exist; None if ``path`` exists."""
    if path.exists() or path.is_symlink():
        return None
    while path.parent != path and not path.parent.exists():
        path = path.parent
    return path


def send_run(folder: RunFolder, uri: str, console: Console) -> tuple[MlflowSink, int]:
    """``search track RUN --to URI``: the run's trials (and outcome, if it finished) logged
    to ``uri``, only what is not there yet; (the sink, trials sent).

    Args:
        folder: the run folder.
        uri: the tracking URI with its password; run.json's MLflow ids are used only if it
            keeps the same URI.
        console: the sink's output, silent here: its failures are raised instead.

    Returns:
        The sink (its experiment and parent run ids, ``new_steps``: epochs new to the store)
        and the number of trials sent.

    Raises:
        SearchError: The store refuses the URI, cannot be reached, or fails part way.
    """
    meta = folder.read_meta(require=TRACKED_FIELDS)
    trials = folder.read_trials()  # a damaged run is refused before the store is made
    stored = (meta.get("tracking") or {}).get("mlflow")
    if stored and stored.get("uri") != _masked(uri):
        stored = {"experiment": experiment_name(meta["experiment"], stored)}  # the ids are another store's
    given = f"{option('to')} {_masked(uri)}"
    with _removed_if_failed(uri):
        sink = _sink(uri, folder, console, fresh=True, given=(given, option("to")))
        sink.silent = True
        if not sink.open_parent(meta, folder, stored):
            raise SearchError(
                f"{given}: cannot log to it ({sink.failed}); start the tracking server or fix {option('to')}"
            )
    sent = replay(sink, trials)
    if sink.failed is None:
        sink.finish(meta, folder)
    if sink.failed is not None:
        raise SearchError(f"{_masked(uri)}: {sink.failed}; {sent} trials were sent; run the command again")
    return sink, sent
