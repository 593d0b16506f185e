"""``--track`` values: which trackers a run logs to, checked before any work starts."""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

from search.compat import mlflow as compat_mlflow
from search.errors import SearchError, option
from search.storage import absolute_url, masked_url

TRACKERS = ("mlflow", "tensorboard")
URI_ENV = "MLFLOW_TRACKING_URI"
"""MLflow's own variable: the tracking URI when ``--track mlflow`` names none."""
FULL_URI_ENV = "SEARCH_MLFLOW_TRACKING_URI"
"""The tracking URI with its password, handed to the run's other processes (run.json
keeps it masked)."""
EXPERIMENT_ENV = "MLFLOW_EXPERIMENT_NAME"
"""MLflow's own variable: the experiment a new run logs to, instead of the search experiment's name."""
DEFAULT_STORE = "mlflow.db"
"""The SQLite store next to the results when no URI is given."""
_PATH_SCHEMES = ("", "file", "sqlite")
_HOST_SCHEMES = ("http", "https", "postgresql", "mysql", "mssql")
_SQLITE_SIDE_FILES = ("-journal", "-wal", "-shm")
"""What SQLite keeps beside a database while it writes."""
_INSTALL = 'install the mlflow extra: pip install -e ".[mlflow]"'


def stamp_seconds(stamp: str | None) -> float | None:
    """An ISO time of run.json or trials.json in seconds since the epoch (None: none, or unreadable)."""
    try:
        return datetime.fromisoformat(stamp).timestamp() if stamp else None
    except ValueError:
        return None


def experiment_name(search_experiment: str, stored: dict[str, Any] | None) -> str:
    """The MLflow experiment a run logs to: the one its run.json names (``stored``, its
    ``tracking.mlflow`` entry), else ``$MLFLOW_EXPERIMENT_NAME``, else ``search_experiment``.

    Args:
        search_experiment: the search experiment's name (``fashion``).
        stored: run.json's MLflow entry (None: not tracked yet, or in another store).

    Returns:
        The experiment's name; a resume keeps the first one, as it keeps the store (a run
        tracked before run.json kept the name logged to ``search_experiment``).
    """
    if stored:
        return str(stored.get("experiment") or search_experiment)
    return os.environ.get(EXPERIMENT_ENV, "").strip() or search_experiment


class RecordSource(Protocol):
    """What the trackers read a trial's record from (the engine's trial recorder, which
    comes before them among the observers)."""

    records: dict[str, dict[str, Any]]


@dataclass(frozen=True)
class TrackSpec:
    """One ``--track`` value: ``mlflow``, ``mlflow=URI`` or ``tensorboard``."""

    tracker: str
    uri: str | None = None

    def __str__(self) -> str:
        return self.tracker if self.uri is None else f"{self.tracker}={self.uri}"


def parse_track(values: Sequence[str]) -> list[TrackSpec]:
    """The trackers named by ``--track`` values; SearchError (one line) for a bad one.

    Args:
        values: the ``--track`` values as given.

    Returns:
        One spec per value, in order.

    Raises:
        SearchError: An unknown tracker, a URI where none or an empty one is given, a tracker
            named twice, or (for MLflow) what :func:`check_mlflow` refuses.
    """
    specs: list[TrackSpec] = []
    for raw in values:
        name, sep, uri = raw.partition("=")
        if name not in TRACKERS:
            raise SearchError(
                f"{option('track')} {raw!r}: unknown tracker {name!r}; choose mlflow, mlflow=URI"
                " or tensorboard"
            )
        if sep and name != "mlflow":
            raise SearchError(
                f"{option('track')} {raw!r}: {name} takes no URI; write {option('track')} {name}"
            )
        if sep and not uri:
            raise SearchError(
                f"{option('track')} {raw!r}: give the tracking URI after '=', or write"
                f" {option('track')} mlflow"
            )
        if any(spec.tracker == name for spec in specs):
            raise SearchError(f"{option('track')} {raw!r}: {name} is named twice; give it once")
        specs.append(TrackSpec(name, uri or None))
    for spec in specs:
        if spec.tracker == "mlflow":
            check_mlflow(spec.uri)
    return specs


def check_mlflow(uri: str | None, given: str | None = None, named: str | None = None) -> None:
    """MLflow installed and ``uri`` (if given) well formed, with a scheme MLflow knows
    (``given``: the option that names MLflow in errors; ``--track mlflow`` by default).

    Args:
        uri: the tracking URI given; None: none, so only the install is checked.
        given: what the not-installed error starts with; None: ``--track mlflow``.
        named: what the URI's errors start with; None: ``--track mlflow=URI: tracking URI``.

    Raises:
        SearchError: MLflow is not installed, or :func:`check_uri` refuses ``uri``.
    """
    if importlib.util.find_spec("mlflow") is None:
        raise SearchError(f"{given or option('track') + ' mlflow'}: MLflow is not installed; {_INSTALL}")
    if uri is None:
        return
    check_uri(uri, named or f"{option('track')} mlflow=URI: tracking URI")


def check_uri(uri: str, named: str = "tracking URI") -> None:
    """Raise SearchError naming a malformed URI or one whose scheme MLflow does not know.

    Args:
        uri: the tracking URI; messages show it with its password hidden.
        named: what messages call it (where it came from: ``$MLFLOW_TRACKING_URI``).

    Raises:
        SearchError: Malformed, a scheme MLflow does not know, no host or file (a SQLite
            folder too), port 0, or an MLflow version that was not tested.
    """
    shown = masked_url(uri)
    try:
        parts = urlsplit(uri)
        port = parts.port
    except ValueError as exc:
        raise SearchError(
            f"{named} {shown!r} is malformed ({exc}); e.g. http://127.0.0.1:5000"
        ) from None
    scheme = parts.scheme.split("+")[0]
    compat_mlflow.check_version()
    known = compat_mlflow.tracking_schemes()
    if scheme not in known:
        raise SearchError(
            f"{named} {shown!r}: MLflow does not know the scheme {parts.scheme!r}; give a database"
            " (e.g. sqlite:///results/mlflow.db) or a server (e.g. http://127.0.0.1:5000); the"
            f" schemes it knows: {', '.join(s + '://' for s in known if s)}"
        )
    if scheme in _HOST_SCHEMES and not parts.hostname:
        raise SearchError(f"{named} {shown!r} names no host; e.g. http://127.0.0.1:5000")
    if scheme in _PATH_SCHEMES and not (parts.path or parts.netloc):
        raise SearchError(f"{named} {shown!r} names no file; e.g. sqlite:///results/mlflow.db")
    if scheme == "sqlite" and parts.path.endswith("/"):
        raise SearchError(f"{named} {shown!r} names a folder, not a database file; e.g. sqlite:///results/mlflow.db")
    if port == 0:
        raise SearchError(f"{named} {shown!r}: port 0 is not a server's port")


def resolve_uri(spec_uri: str | None, results: Path) -> str:
    """The tracking URI a run uses: the one given, else $MLFLOW_TRACKING_URI, else a
    SQLite store in the results root; a local store's path absolute, so that every process
    (a resume started elsewhere too) finds the same store.

    Args:
        spec_uri: the URI ``--track mlflow=URI`` gave (unchecked here); None or empty: none.
        results: the results root.

    Returns:
        The URI, with its password where it has one.

    Raises:
        SearchError: ``$MLFLOW_TRACKING_URI`` is used and :func:`check_uri` refuses it.
    """
    if spec_uri:
        return absolute_url(spec_uri) or spec_uri
    from_env = os.environ.get(URI_ENV)
    if from_env:
        check_uri(from_env, f"${URI_ENV}")
        return absolute_url(from_env) or from_env
    return f"sqlite:///{(results / DEFAULT_STORE).resolve()}"


def local_artifact_root(uri: str) -> Path | None:
    """Where a local store (SQLite file or folder) keeps its artifacts: beside it.

    None for a server, which has its own artifact root."""
    prefix = "sqlite:///"
    if uri.startswith(prefix):  # sqlite:///relative.db or sqlite:////absolute.db
        return Path(uri[len(prefix) :].split("?")[0]).parent / "mlartifacts"
    return None


def local_store_paths(uri: str) -> list[Path]:
    """The files and folders opening a local store makes: a SQLite database with its journals
    and artifact root, or a file store's folder; none for a server."""
    parts = urlsplit(uri)
    if parts.scheme in ("", "file"):
        return [Path(parts.path)]
    root = local_artifact_root(uri)
    if root is None:
        return []
    database = root.parent / Path(parts.path).name
    return [database, *(database.with_name(database.name + end) for end in _SQLITE_SIDE_FILES), root]

