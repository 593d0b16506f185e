"""The run folder: ``results/<experiment>/<run>/``, identical for every backend.

Files (documented in README.md):

- ``run.json``: what was asked (experiment, tuner, space, seed, budget, data, command,
  versions, format version) and what came out (status, best trial, final test result).
- ``trials.json``: one record per trial with per-epoch metrics.
- ``tuner/``: the backend's own state (KerasTuner's project folder).
- ``finalists/``: the finalists' summaries, weights and training states (``--finalists``).
- ``retrain.TRIAL.DATA.state.npz``: the state of the retrain in progress (trial TRIAL's
  configuration on ``--retrain-data`` DATA), kept after every epoch so that a resumed run
  continues it; removed when the run finishes.
- ``best_model.keras``: the retrained best model (or the best search checkpoint).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import math
import os
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from search.errors import RunFolderError, option
from search.storage._atomic import write_json
from search.storage._finalists import FINALISTS_DIR
from search.storage._lock import check_lock_file, open_lock_file

FORMAT_VERSION = 1
RUN_FILE = "run.json"
TRIALS_FILE = "trials.json"
MODEL_FILE = "best_model.keras"
EXPORT_FILE = "export.keras"
"""Where ``export`` writes its model in the run folder unless given ``--output``."""
TUNER_DIR = "tuner"
ARRAYS_DIR = "data"
"""Where a run on arrays keeps its splits (``search.data`` writes them)."""
_RETRAIN_PREFIX, _STATE_SUFFIX = "retrain.", ".state.npz"
RETRAIN_STATE = _RETRAIN_PREFIX + "{trial}.{data}" + _STATE_SUFFIX
LOCK_FILES = frozenset({".lock", ".trials.lock"})
"""Left by a process whose first write failed: a folder holding only these is empty."""
TEXT_FIELDS = ("experiment", "tuner", "status")
"""run.json's fields that are text where present."""
OBJECT_FIELDS = ("objective", "budget", "space", "data", "model", "request")
"""run.json's fields that are objects where present."""
OPTIONAL_OBJECT_FIELDS = ("best", "final", "hypermodel", "optuna", "best.hyperparameters",
                          "final.hyperparameters", "final.test_metrics")  # fmt: skip
"""run.json's fields that are objects or null where present."""
INNER_OBJECT_FIELDS = ("space.params",)
"""run.json's fields inside its objects that are objects where present."""
COUNT_FIELDS = ("seconds", "search_seconds", "final.epochs", "final.train_images", "final.test_images",
                "final.kept_epoch", "final.seconds")  # fmt: skip
"""run.json's fields (``outer.inner`` inside its objects) that are finite numbers or null where present."""
METRIC_FIELDS = ("final.test_accuracy", "final.test_loss", "final.val_accuracy")
"""run.json's fields that are numbers (NaN where a model diverged) or null where present."""
CHOICE_FIELDS = {"status": ("running", "finished", "interrupted", "failed"),
                 "objective.direction": ("max", "min")}  # fmt: skip
"""run.json's fields that hold one of a few words where present."""
TIME_FIELDS = ("created", "finished")
"""run.json's fields that are times (with their offset) or null where present."""
OWN_SUFFIXES = frozenset({".keras", ".npz", ".h5"})
"""Models, weights and training states: a run's own files wherever they lie in its folder."""


class RunFolder:
    """Paths and reads/writes of one run's files."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def run_file(self) -> Path:
        return self.path / RUN_FILE

    @property
    def trials_file(self) -> Path:
        return self.path / TRIALS_FILE

    @property
    def model_file(self) -> Path:
        return self.path / MODEL_FILE

    @property
    def tuner_dir(self) -> Path:
        return self.path / TUNER_DIR

    def retrain_state(self, trial: str, data: str) -> Path:
        """Where the retrain of trial ``trial``'s configuration on ``data`` (its
        ``--retrain-data``) keeps its state after every epoch."""
        return self.path / RETRAIN_STATE.format(trial=trial, data=data)

    def retrain_states(self) -> list[tuple[str, Path]]:
        """The retrains interrupted in training: (trial id, state file) each."""
        return [
            (path.name.removeprefix(_RETRAIN_PREFIX).removesuffix(_STATE_SUFFIX).rsplit(".", 1)[0],
             path)
            for path in sorted(self.path.glob(f"{_RETRAIN_PREFIX}*{_STATE_SUFFIX}"))
        ]  # fmt: skip

    def remove_retrain_states(self) -> None:
        """The run is finished (its model saved): the retrain's state goes, with what a
        killed process left of writing it (``write_atomic``'s temporary files)."""
        partial = self.path.glob(f".{_RETRAIN_PREFIX}*{_STATE_SUFFIX}.*.tmp")
        for path in [*(path for _, path in self.retrain_states()), *partial]:
            path.unlink(missing_ok=True)

    def exists(self) -> bool:
        return self.run_file.is_file()

    def read_meta(self, require: tuple[str, ...] = ()) -> dict[str, Any]:
        """run.json, checked for format version and its fields' types (and the presence of
        those in ``require``); raise RunFolderError naming the problem."""
        meta = _read_json(self.run_file, "run.json")
        if not isinstance(meta, dict) or "format_version" not in meta:
            fix = damaged_file("damaged or not this tool's")
            raise RunFolderError(f"{self.run_file}: not a run file of this tool (no format_version); {fix}")
        _check_version(self.run_file, meta["format_version"])
        _check_fields(self.run_file, meta, require)
        return meta

    def write_meta(self, meta: dict[str, Any]) -> None:
        write_json(self.run_file, {"format_version": FORMAT_VERSION, **meta})

    def update_meta(self, **changes: Any) -> dict[str, Any]:
        meta = self.read_meta()
        meta.update(changes)
        self.write_meta(meta)
        return meta

    def read_trials(self) -> list[dict[str, Any]]:
        """trials.json's records; none before the first trial, but RunFolderError where
        run.json records a chosen trial (the file was lost, or emptied)."""
        if not self.trials_file.exists():
            self._check_none_chosen("missing", "lost")
            return []
        doc = _read_json(self.trials_file, "trials.json")
        if not isinstance(doc, dict) or not isinstance(doc.get("trials"), list):
            found = json.dumps(doc)[:40]
            raise RunFolderError(
                f"{self.trials_file}: expected an object with a trials list, found {found}; {damaged_file()}"
            )
        for number, record in enumerate(doc["trials"], 1):
            if not isinstance(record, dict):
                raise RunFolderError(
                    f"{self.trials_file}: trial record {number} is {json.dumps(record)[:40]}, not an"
                    f" object; {damaged_file()}"
                )
        _check_version(self.trials_file, doc.get("format_version", FORMAT_VERSION))
        for number, record in enumerate(doc["trials"], 1):
            self._check_record(number, record)
        _check_ids(self.trials_file, doc["trials"])
        if not doc["trials"]:
            self._check_none_chosen("holds no trial", "damaged")
        return doc["trials"]

    def _check_record(self, number: int, record: dict[str, Any]) -> None:
        """RunFolderError naming trial record ``number``'s first field that is missing though
        every record has it (``RECORD_TEXT_FIELDS``, ``RECORD_OBJECT_FIELDS``), or of the wrong type."""
        wrong = [(f, "present") for f in RECORD_TEXT_FIELDS if f not in record]
        wrong += [(f, "text") for f in RECORD_TEXT_FIELDS if f in record and not isinstance(record[f], str)]
        for field, kind, fits in _RECORD_KINDS:
            required = field in RECORD_OBJECT_FIELDS
            if (required or record.get(field) is not None) and not fits(record.get(field)):
                wrong.append((field, kind))
        if wrong:
            field, kind = wrong[0]
            found = json.dumps(record[field])[:40] if field in record else "missing"
            raise RunFolderError(
                f"{self.trials_file}: trial record {number}'s field {field!r} is {found}, not {kind};"
                f" {damaged_file('damaged or was edited')}"
            )
        for name, value in record["hyperparameters"].items():
            if not _is_value(value):
                raise RunFolderError(
                    f"{self.trials_file}: trial record {number}'s hyperparameter {name!r} is"
                    f" {json.dumps(value)[:40]}, not a value (text, an int within 64 bits, a float"
                    f" other than NaN, true, false or null); {damaged_file('damaged or was edited')}"
                )

    def _check_none_chosen(self, found: str, how: str) -> None:
        """RunFolderError where run.json records a chosen trial, though trials.json is
        ``found`` (the file is ``how``)."""
        best = self.read_meta().get("best") if self.exists() else None
        if best is not None:
            raise RunFolderError(
                f"{self.trials_file}: {found}, though run.json records trial {best.get('trial')!r}"
                f" as chosen; {damaged_file(how)}"
            )

    @contextlib.contextmanager
    def trials_lock(self) -> Iterator[None]:
        """Exclusive access to trials.json among the processes of one run (workers)."""
        fd = open_lock_file(self.path / ".trials.lock")
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def check_lock_files(self) -> None:
        """Raise RunFolderError where one of the run's lock files exists as something else
        (a folder): before any work, which could not take it."""
        for name in sorted(LOCK_FILES):
            check_lock_file(self.path / name)

    def write_trials(self, trials: list[dict[str, Any]]) -> None:
        write_json(self.trials_file, {"format_version": FORMAT_VERSION, "trials": trials})


def _check_version(path: Path, version: Any) -> None:
    """RunFolderError where the file ``path`` holds a format version this tool does not read."""
    if version != FORMAT_VERSION:
        raise RunFolderError(
            f"{path}: format version {json.dumps(version)[:20]}, this version of the tool reads"
            f" {FORMAT_VERSION}; use a matching version of the tool to read it"
        )


def _check_ids(path: Path, records: list[dict[str, Any]]) -> None:
    """RunFolderError where two trial records of trials.json ``path`` share an id: the
    ranking, the report and an export would take one for the other."""
    seen: dict[str, int] = {}
    for number, record in enumerate(records, 1):
        first = seen.setdefault(record["id"], number)
        if first != number:
            raise RunFolderError(
                f"{path}: trial records {first} and {number} share the id {record['id']!r};"
                f" {damaged_file('damaged or was edited')}"
            )


def _is_number_or_null(value: Any) -> bool:
    return value is None or (isinstance(value, int | float) and not isinstance(value, bool))


FINITE_KIND = "a finite number or null"


def _is_finite_or_null(value: Any) -> bool:
    """Whether ``value`` is null or a number other than NaN and infinity (which Python's
    json reads): a count or seconds."""
    return _is_number_or_null(value) and (value is None or math.isfinite(value))


TIME_KIND = "a time with its offset (ISO 8601, e.g. 2026-01-31T12:00:00+00:00) or null"
"""What a time field of run.json or trials.json holds, in messages."""


def _is_time_or_null(value: Any) -> bool:
    """Whether ``value`` is null or a time as :func:`utc_now` writes it."""
    if value is None:
        return True
    if not isinstance(value, str):
        return False
    try:
        return datetime.fromisoformat(value).tzinfo is not None
    except ValueError:
        return False


RECORD_TEXT_FIELDS = ("id", "status")
"""The fields every trial record of trials.json has, as text."""
RECORD_OBJECT_FIELDS = ("hyperparameters",)
"""The fields every trial record of trials.json has, as objects (never null)."""
_RECORD_KINDS: tuple[tuple[str, str, Callable[[Any], bool]], ...] = (
    ("hyperparameters", "an object", lambda v: isinstance(v, dict)),
    ("epochs", "a list of epoch objects, each with its number and metrics (numbers)", lambda v: isinstance(
        v, list) and all(isinstance(e, dict) and e.get("epoch") is not None and _is_finite_or_null(e["epoch"])
                         and not any(isinstance(x, str) for x in e.values()) for e in v)),
    ("seconds", "a finite number of at least 0, or null", lambda v: _is_finite_or_null(v) and (v or 0) >= 0),
    ("finished", TIME_KIND, _is_time_or_null),
    ("best_epoch", FINITE_KIND, _is_finite_or_null),
    ("best", "an object of metrics (numbers) or null", lambda v: isinstance(v, dict) and not any(
        isinstance(x, str) for x in v.values())),  # a restored epoch's flag is a bool
)  # fmt: skip


def _is_value(value: Any) -> bool:
    """Whether ``value`` can be a hyperparameter's: text, a bool, an int of 64 bits at
    most, a float other than NaN (a choice may hold infinity), or null."""
    if value is None or isinstance(value, (str, bool)):
        return True
    if isinstance(value, int):
        return abs(value) < 2**63
    return isinstance(value, float) and not math.isnan(value)


def not_a_run(path: Path, by_name: bool = True) -> str:
    """What the existing ``path``, given as a run, is instead, and what to give.

    Args:
        path: an existing path given as a run.
        by_name: for the command line, which also takes a run's name and the results root
            as an option.

    Returns:
        The reason and the fix, to follow the path in a message.
    """
    folder = "a run's folder or name" if by_name else "a run's folder"
    if path.is_file():
        if path.name == RUN_FILE:
            return f"is a run's run.json; give its folder, {path.parent}"
        inside = enclosing_run(path)
        if inside is not None:
            return f"is a file of run {inside.path}; give the run's folder, {inside.path}"
        name = " or its name" if by_name else ""
        return f"is a file, not a run folder; give a run's folder (the one holding run.json){name}"
    if (path / RUN_FILE).is_dir():
        return (
            f"its run.json, {path / RUN_FILE}, is a folder, not a file; restore the run's run.json"
            f" (nothing can read the run without it), or give another {folder.removeprefix('a ')}"
        )
    runs = sorted(p.parent for p in path.glob(f"*/{RUN_FILE}"))
    if runs:
        return f"is an experiment's folder of runs; give one of them, e.g. {runs[-1]}"
    runs = sorted(p.parent for p in path.glob(f"*/*/{RUN_FILE}"))
    if runs:
        also = f", or pass it as {option('results')}" if by_name else ""
        return f"is a results root; give one of its runs, e.g. {runs[-1]}{also}"
    inside = enclosing_run(path)
    if inside is not None:
        return f"is a folder inside run {inside.path}; give the run's folder, {inside.path}"
    return (
        "holds no run.json, so it is not a run folder (a run's run.json was lost if this was"
        f" one: nothing can read it without one); give {folder}"
    )


def damaged_file(how: str = "damaged") -> str:
    """What to do about a run's file that is ``how`` ("damaged", "damaged or was edited").

    Args:
        how: what happened to the file, completing "the file is ...".

    Returns:
        The end of an error message: restore the file or start a new run under another ``--name``.
    """
    return f"the file is {how}: restore it, or start a new run with another {option('name')}"


def _check_fields(path: Path, meta: dict[str, Any], require: tuple[str, ...]) -> None:
    """RunFolderError naming the first field of run.json ``meta`` that is of the wrong type
    where present (text: ``TEXT_FIELDS``; objects: ``OBJECT_FIELDS`` and ``INNER_OBJECT_FIELDS``;
    objects or null: ``OPTIONAL_OBJECT_FIELDS``; numbers or null: ``COUNT_FIELDS`` (finite)
    and ``METRIC_FIELDS``; times or null: ``TIME_FIELDS``; one of its words:
    ``CHOICE_FIELDS``), or missing though in ``require``."""
    wrong = [(f, "present") for f in require if not _has(meta, f)]
    kinds = [(TEXT_FIELDS, "text", lambda v: isinstance(v, str)),
             (OBJECT_FIELDS + INNER_OBJECT_FIELDS, "an object", lambda v: isinstance(v, dict)),
             (OPTIONAL_OBJECT_FIELDS, "an object or null", lambda v: v is None or isinstance(v, dict)),
             (COUNT_FIELDS, FINITE_KIND, _is_finite_or_null),
             (METRIC_FIELDS, "a number or null", _is_number_or_null),
             (TIME_FIELDS, TIME_KIND, _is_time_or_null)]  # fmt: skip
    for fields, kind, fits in kinds:
        wrong += [(f, kind) for f in fields if _has(meta, f) and not fits(_field(meta, f))]
    wrong += [(f, f"one of {', '.join(words)}") for f, words in CHOICE_FIELDS.items()
              if _has(meta, f) and _field(meta, f) not in words]  # fmt: skip
    if wrong:
        field, kind = wrong[0]
        found = "missing" if not _has(meta, field) else f"{json.dumps(_field(meta, field))[:40]}"
        fix = damaged_file("damaged or not this tool's")
        raise RunFolderError(f"{path}: field {field!r} is {found}, not {kind}; {fix}")


def _has(meta: dict[str, Any], field: str) -> bool:
    """Whether run.json holds ``field`` (``outer.inner``: inside an ``outer`` object)."""
    outer, _, inner = field.partition(".")
    return outer in meta and (not inner or (isinstance(meta[outer], dict) and inner in meta[outer]))


def _field(meta: dict[str, Any], field: str) -> Any:
    outer, _, inner = field.partition(".")
    return meta[outer][inner] if inner else meta[outer]


def _read_json(path: Path, what: str) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RunFolderError(f"{path}: missing; this is not a run folder") from None
    except IsADirectoryError:
        raise RunFolderError(f"{path}: a folder, not {what}; {damaged_file()}") from None
    except PermissionError as exc:
        raise RunFolderError(
            f"{path}: {what} is unreadable ({exc.strerror or exc}); make it readable (chmod u+r)"
        ) from None
    except OSError as exc:
        raise RunFolderError(
            f"{path}: {what} cannot be read ({exc.strerror or exc}); check the file and its disk"
        ) from None
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:  # nested past Python's depth
        raise RunFolderError(f"{path}: {what} is unreadable or corrupt ({exc}); {damaged_file()}") from None


def prepare_run_folder(results: Path, experiment: str, run: str) -> RunFolder:
    """Check that ``results/<experiment>/<run>`` can take a new run, before any work starts.

    Refuses a ``results`` folder that is itself a run folder, a run folder of another
    experiment, one that already holds a run, and one holding files of something else.

    Args:
        results: the results root (``--results``), which may not exist yet.
        experiment: the experiment's name, the folder its runs go in.
        run: the new run's name (``--name``).

    Returns:
        The run folder, not made here: it is missing, or empty but for a failed start's lock files.

    Raises:
        RunFolderError: One of the cases above, or a lock file that is something else (a folder).
    """
    if (results / RUN_FILE).is_file():
        raise RunFolderError(
            f"{results}: {option('results')} is a run folder, not a results root;"
            f" pass its parent's parent (e.g. {results.parent.parent})"
        )
    if results.exists() and not results.is_dir():
        raise RunFolderError(f"{results}: {option('results')} exists and is not a folder")
    exp_dir = results / experiment
    if (exp_dir / RUN_FILE).is_file():
        raise RunFolderError(
            f"{exp_dir}: holds a run's files where runs of {experiment!r} go;"
            f" pass another {option('results')} folder"
        )
    folder = RunFolder(exp_dir / run)
    if folder.exists():
        try:
            other = folder.read_meta().get("experiment")
        except RunFolderError:
            other = None
        if other not in (None, experiment):
            raise RunFolderError(
                f"{folder.path}: holds a run of experiment {other!r}, not {experiment!r};"
                f" pass another {option('results')} folder or {option('name')}"
            )
        raise RunFolderError(
            f"{folder.path}: a run named {run!r} already exists; choose another {option('name')}"
        )
    if folder.path.exists() and any(p.name not in LOCK_FILES for p in folder.path.iterdir()):
        raise RunFolderError(
            f"{folder.path}: exists and holds files that are not a run of this tool;"
            f" choose another {option('name')} or {option('results')}"
        )
    folder.check_lock_files()
    return folder


def owning_run(path: Path) -> RunFolder | None:
    """The run folder of which ``path`` is (or would be) one of the run's own files, else None.

    Its own files are run.json, trials.json, the lock files, models, weights and states
    (``OWN_SUFFIXES``) and everything in ``tuner/`` and ``finalists/``; what a report or a
    user put next to them (``report.html``) is not.

    Args:
        path: a file to be written, which need not exist; it is resolved first.

    Returns:
        The nearest run folder above ``path`` if ``path`` is one of that run's own files; None
        where it is not, or where no folder above it holds a run.json.
    """
    resolved = path.resolve()
    run = enclosing_run(resolved)
    if run is None:
        return None
    inside = resolved.relative_to(run.path).parts
    own = (
        inside[0] in {TUNER_DIR, FINALISTS_DIR, ARRAYS_DIR}
        if len(inside) > 1
        else resolved.name in {RUN_FILE, TRIALS_FILE, *LOCK_FILES} or resolved.suffix in OWN_SUFFIXES
    )
    return run if own else None


def enclosing_run(path: Path) -> RunFolder | None:
    """The nearest run folder (one holding a run.json) above ``path``, resolved; None where
    no folder above it holds a run.

    Args:
        path: a file, which need not exist.

    Returns:
        The run folder, or None.
    """
    for parent in path.resolve().parents:
        if (parent / RUN_FILE).is_file():
            return RunFolder(parent)
    return None


def status_counts(trials: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """How many trials of trials.json have each status (``unknown``: a record without one).

    Args:
        trials: trial records, as :meth:`RunFolder.read_trials` returns them.

    Returns:
        The count of each status found, by status, in order of first appearance.
    """
    return dict(Counter(t.get("status", "unknown") for t in trials))


def find_runs(results: Path) -> list[RunFolder]:
    """Every run folder under ``results`` (``<experiment>/<run>/run.json``), oldest first.

    Args:
        results: the results root; one that is missing or not a folder holds no run.

    Returns:
        The run folders, by the time each was created (run.json's ``created``; where it
        cannot be read, the time run.json was last written): the newest last.
    """
    if not results.is_dir():
        return []
    runs = [RunFolder(p.parent) for p in results.glob(f"*/*/{RUN_FILE}")]
    return sorted(runs, key=_created)


def _created(run: RunFolder) -> float:
    """When ``run`` was created, as a timestamp: an export or a resume of an older run,
    which writes its run.json, does not make it the newest."""
    try:
        created = json.loads(run.run_file.read_text(encoding="utf-8")).get("created")
        return datetime.fromisoformat(created).timestamp()
    except (OSError, ValueError, TypeError, AttributeError, RecursionError):
        return run.run_file.stat().st_mtime
