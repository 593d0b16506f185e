"""Samplers, pruners and storages by name, each refused with a clear message."""

from __future__ import annotations

import importlib.util
import warnings
from pathlib import Path

import optuna
import sqlalchemy.exc
from sqlalchemy.engine import URL, make_url

from search.environment import SQLITE_DISK_FIX, sqlite_disk_error
from search.errors import SearchError, option
from search.storage import masked_url

SAMPLERS = ("tpe", "random", "gp", "cmaes", "qmc", "nsga2")
PRUNERS = ("median", "successive-halving", "hyperband", "none")
JOURNAL_FILE = "optuna.journal"
"""The study's journal file in the run folder, when no ``--storage`` database is given."""
MEDIAN_STARTUP_TRIALS = 3
"""Trials that run whole before the median pruner judges any (it needs a median)."""


def make_sampler(name: str, seed: int, multi_objective: bool) -> optuna.samplers.BaseSampler:
    """The sampler called ``name``, seeded; TPE is multivariate (grouped for conditions).

    Args:
        name: a ``--sampler`` value, one of :data:`SAMPLERS`.
        seed: the sampler's seed.
        multi_objective: the study has two objectives (``--objective pareto``).

    Returns:
        A new sampler.

    Raises:
        SearchError: An unknown name, ``cmaes`` or ``gp`` with two objectives, or the package
            the sampler needs (``cmaes``, ``torch``) is not installed.
    """
    if name not in SAMPLERS:
        raise SearchError(
            f"{option('sampler')} {name!r} does not exist; choose one of: {', '.join(SAMPLERS)}"
        )
    if multi_objective and name in ("cmaes", "gp"):
        raise SearchError(
            f"{option('sampler')} {name} cannot optimize two objectives; with"
            f" {option('objective')} pareto use tpe, nsga2, random or qmc"
        )
    if name == "tpe":
        with warnings.catch_warnings():  # multivariate and group are "experimental" in name only
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return optuna.samplers.TPESampler(seed=seed, multivariate=True, group=True)
    if name == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if name == "nsga2":
        return optuna.samplers.NSGAIISampler(seed=seed)
    if name == "qmc":
        with warnings.catch_warnings():  # a sampler of Optuna's since 3.0, "experimental" in name
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return optuna.samplers.QMCSampler(seed=seed, warn_independent_sampling=False)
    if name == "cmaes":
        _require("cmaes", "cmaes", name)
        return optuna.samplers.CmaEsSampler(seed=seed, warn_independent_sampling=False)
    _require("torch", "torch", name)
    return optuna.samplers.GPSampler(seed=seed)


def _require(module: str, package: str, sampler: str) -> None:
    try:
        __import__(module)
    except ImportError:
        raise SearchError(
            f"{option('sampler')} {sampler} needs the {package!r} package: pip install {package}"
        ) from None


def make_pruner(name: str, max_epochs: int) -> optuna.pruners.BasePruner:
    """The pruner called ``name``; epochs are the steps it judges trials on.

    Args:
        name: a ``--pruner`` value, one of :data:`PRUNERS` (``none``: no pruning).
        max_epochs: a trial's most epochs: the ``hyperband`` pruner's largest resource.

    Returns:
        A new pruner.

    Raises:
        SearchError: An unknown name.
    """
    if name not in PRUNERS:
        raise SearchError(f"{option('pruner')} {name!r} does not exist; choose one of: {', '.join(PRUNERS)}")
    if name == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=MEDIAN_STARTUP_TRIALS, n_warmup_steps=1)
    if name == "successive-halving":
        return optuna.pruners.SuccessiveHalvingPruner(min_resource=1, reduction_factor=3)
    if name == "hyperband":
        return optuna.pruners.HyperbandPruner(min_resource=1, max_resource=max_epochs)
    return optuna.pruners.NopPruner()


def make_storage(url: str | None, run_dir: Path) -> optuna.storages.BaseStorage:
    """The study's storage: a journal file in the run folder, or a database URL.

    The journal file (append-only, with a file lock) is safe for several processes on
    one machine and is read by ``optuna.load_study`` and optuna-dashboard.

    Args:
        url: the database URL (``--storage``), with its password; None: the journal file.
        run_dir: the run folder, where the journal file lives.

    Returns:
        The storage; a database is connected to now.

    Raises:
        SearchError: The URL is not a database URL, its driver is missing, or the database
            cannot be reached.
    """
    if url is None:
        from optuna.storages.journal import JournalFileBackend, JournalFileOpenLock

        path = run_dir / JOURNAL_FILE
        backend = JournalFileBackend(str(path), lock_obj=JournalFileOpenLock(str(path)))
        return optuna.storages.JournalStorage(backend)
    return connect(url)


SCHEMES = ("postgresql+psycopg://", "mysql+pymysql://", "sqlite:////ABSOLUTE/PATH")
"""Storage URL schemes to suggest: databases Optuna keeps studies in, each with its driver."""
_PACKAGES = {"psycopg": "'psycopg[binary]'", "psycopg2": "psycopg2-binary", "pymysql": "pymysql",
             "MySQLdb": "mysqlclient", "mysql": "mysql-connector-python", "pg8000": "pg8000",
             "asyncpg": "asyncpg", "cx_Oracle": "cx_Oracle", "oracledb": "oracledb",
             "pyodbc": "pyodbc", "pymssql": "pymssql"}  # fmt: skip
"""The pip package that installs each database driver module."""


def connect(url: str) -> optuna.storages.BaseStorage:
    """An RDB storage, checked now: an unreachable or wrong URL is one clear line."""
    parsed = _parsed(url)
    shown = masked_url(url)
    _check_driver(parsed, shown)
    path = _sqlite_file(parsed, shown)
    where = f"{parsed.host or 'localhost'}:{parsed.port or 'default port'}"
    try:
        return optuna.storages.RDBStorage(url)  # heartbeats: our own, see _heartbeat.py
    except ImportError as exc:
        raise SearchError(f"{option('storage')}: the database driver is missing ({exc})") from None
    except Exception as exc:  # SQLAlchemy's OperationalError and friends
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        if path is not None:
            fix = SQLITE_DISK_FIX if sqlite_disk_error(reason) else "check that its folder is writable"
            raise SearchError(
                f"{option('storage')} {shown}: cannot open the SQLite file {path} ({reason}); {fix}"
            ) from None
        raise SearchError(
            f"{option('storage')}: cannot reach the database at {where} ({reason}); check that the"
            " server runs and the host, port, user and password are right"
        ) from None


def check_url(url: str | None) -> None:
    """Refuse a ``--storage`` value before it is compared with the storage a run keeps.

    Args:
        url: a ``--storage`` value; None: none given.

    Raises:
        SearchError: ``url`` is not a database URL, or its port is no number.
    """
    if url is not None:
        _parsed(url)


def _parsed(url: str) -> URL:
    """``url`` parsed; SearchError where it is not a database URL or its port is no number."""
    try:
        return make_url(url)
    except sqlalchemy.exc.ArgumentError:
        raise SearchError(
            f"{option('storage')} {url!r} is not a database URL; e.g."
            " postgresql+psycopg://user:password@host:5432/dbname"
        ) from None
    except ValueError:  # SQLAlchemy's int() of the port: "host:notaport", "[::1:5432"
        shown = url if "@" not in url else f"...@{url.rpartition('@')[2]}"  # no password
        raise SearchError(
            f"{option('storage')} {shown!r}: its port is not a number; give"
            " host:PORT (an IPv6 host in brackets: [::1]:5432), e.g."
            " postgresql+psycopg://user:password@host:5432/dbname"
        ) from None


def _check_driver(parsed: URL, shown: str | None) -> None:
    """SearchError where SQLAlchemy knows no such database, or its driver is not installed."""
    try:
        dialect = parsed.get_dialect()
    except sqlalchemy.exc.NoSuchModuleError:
        raise SearchError(
            f"{option('storage')} {shown}: {parsed.drivername}:// is not a database Optuna can"
            f" keep a study in; use one of: {', '.join(SCHEMES)}"
        ) from None
    try:
        dialect.import_dbapi()
    except ImportError as exc:
        module = (exc.name or parsed.get_driver_name()).partition(".")[0]
        fix = f"pip install {_PACKAGES.get(module, module)}"
        if parsed.get_backend_name() == "postgresql" and importlib.util.find_spec("psycopg"):
            fix += ", or use postgresql+psycopg://, whose driver is installed"
        raise SearchError(
            f"{option('storage')} {shown}: its database driver, the {module!r} module, is not"
            f" installed; {fix}"
        ) from None


def _sqlite_file(parsed: URL, shown: str | None) -> Path | None:
    """A SQLite URL's file (None: not SQLite, or in memory); SearchError where its folder
    is missing: three slashes take a path relative to the current folder, four an absolute one."""
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    given = Path(parsed.database)
    path = given if given.is_absolute() else Path.cwd() / given
    if path.parent.is_dir():
        return path
    hint = "" if given.is_absolute() else (
        f" (three slashes take a path relative to the current folder; for /{given} give"
        f" four: sqlite:////{given})"
    )
    raise SearchError(
        f"{option('storage')} {shown}: no folder {path.parent} for the SQLite file {path}{hint};"
        " create the folder first"
    )
