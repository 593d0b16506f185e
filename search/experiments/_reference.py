"""Import a user's object again in another process (workers, ``--isolate``, resume).

An object is found again by ``module:qualname`` (or ``path/to/file.py:qualname`` when its
module is a script), and a HyperModel instance by its class plus the constructor arguments
that are plain data. Lambdas, closures and objects defined in an interactive session
cannot be found again: they work in the process that defined them only.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import inspect
import json
import os
import sys
import sysconfig
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from search.errors import SearchError

MOVE_IT = "define it at the top level of a module or script (not a lambda, a closure or a notebook cell)"

_IMPORTING: list[Path] = []
"""The scripts being imported for an object of theirs, innermost last."""


class SearchOnImport(SearchError):
    """A script started a search while it was imported for an object of it."""


def refuse_search_on_import(call: str) -> None:
    """Refuse a search started while a script is imported for its build or experiment
    (resume, export, workers): a search at its top level would run again there.

    Args:
        call: how the message names the call that started it (e.g. ``search.run()``).

    Raises:
        SearchOnImport: a script is being imported for an object of it.
    """
    if _IMPORTING:
        raise SearchOnImport(
            f"{_IMPORTING[-1]}: calls {call} when imported, so importing it for its objects"
            f" (resume, export, workers) would search again; put that call under"
            f' `if __name__ == "__main__":`'
        )


@dataclass(frozen=True)
class Reference:
    """Where an object lives: ``target`` is ``module:qualname`` or ``file.py:qualname``;
    ``args``: the constructor arguments of an instance (None for the object itself)."""

    target: str
    args: dict[str, Any] | None = field(default=None)

    def to_json(self) -> dict[str, Any]:
        return {"target": self.target, "args": self.args}

    @classmethod
    def from_json(cls, stored: dict[str, Any]) -> Reference:
        return cls(str(stored["target"]), stored.get("args"))

    def load(self) -> Any:
        """The object, or a new instance built with ``args``; SearchError if it is gone."""
        found = resolve(self.target)
        if self.args is None:
            return found
        try:
            return found(**self.args)
        except (TypeError, ValueError) as exc:
            raise SearchError(f"{self.target}: cannot be rebuilt with {self.args}: {exc}") from None


def resolve(target: str) -> Any:
    """The object ``target`` names, its module or script imported (a script once per process).

    Args:
        target: ``package.module:NAME`` or ``path/file.py:NAME`` (``NAME`` may be dotted, e.g. a
            class attribute).

    Returns:
        The object.

    Raises:
        SearchError: ``target`` is malformed, its module or file cannot be imported, or has no
            such name (naming the fix).
        SearchOnImport: the script started a search when imported.
    """
    where, sep, qualname = target.rpartition(":")
    if not sep or not where or not qualname:
        raise SearchError(
            f"{target!r}: name an object as path/to/file.py:NAME or package.module:NAME"
        )
    if ":" in where and not Path(where).exists():
        raise SearchError(
            f"{target!r}: one ':' goes between the file or module and the object's name; give"
            " path/to/file.py:NAME or package.module:NAME"
        )
    module = _import_file(Path(where)) if where.endswith(".py") else _import_module(where)
    found: Any = module
    for part in qualname.split("."):
        if not hasattr(found, part):
            raise SearchError(f"{target}: {where} has no {qualname!r}; check the name after ':'")
        found = getattr(found, part)
    return found


def absolute_reference(target: str) -> str:
    """Pin a ``file.py:NAME`` target to its file, so that a process started in another folder
    (``resume``) finds the same file.

    Args:
        target: a target as :func:`resolve` takes it.

    Returns:
        ``target`` with its ``file.py`` path made absolute; other targets unchanged.
    """
    where, sep, qualname = target.rpartition(":")
    if sep and where.endswith(".py"):
        return f"{Path(where).resolve()}:{qualname}"
    return target


def code_of(reference: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The file of the user's code a run imports again (its build, HyperModel or experiment)
    and that file's SHA-256, so that a resumed run can tell it was edited; with those of the
    user's other modules this process imported from its folder (``from layers import ...``).

    Args:
        reference: an experiment's reference as run.json keeps it (``{"experiment": NAME}``
            or ``{"hypermodel": {"target": ..., "args": ...}}``).

    Returns:
        ``{"file": ABSOLUTE_PATH, "sha256": HEX, "imports": {ABSOLUTE_PATH: HEX}}``; None for
        the built-in experiments, for code that cannot be imported again, and for a module
        that is not a ``.py`` file.
    """
    file = _code_file(reference or {})
    if file is None:
        return None
    imports = {str(path): digest for path in _imported_beside(file) if (digest := _sha256_or_none(path))}
    return {"file": str(file), "sha256": _sha256(file), "imports": imports}


def edited_files(recorded: Mapping[str, Any], now: Mapping[str, Any]) -> list[str]:
    """The files of the user's code that differ between ``recorded`` (what :func:`code_of`
    gave when the run last started) and ``now`` (what it gives now).

    Args:
        recorded: run.json's ``code``.
        now: :func:`code_of` now.

    Returns:
        ``now``'s file first where it differs, then each module recorded that differs or is
        gone, looked for where it lies now beside that file (a project moved, another checkout).
    """
    edited = [now["file"]] if recorded.get("sha256") != now["sha256"] else []
    was, lies = Path(str(recorded.get("file", ""))).parent, Path(now["file"]).parent
    for path, digest in (recorded.get("imports") or {}).items():
        current = lies / Path(path).relative_to(was) if Path(path).is_relative_to(was) else Path(path)
        if _sha256_or_none(current) != digest:
            edited.append(str(current))
    return edited


def _code_file(reference: Mapping[str, Any]) -> Path | None:
    target = (reference.get("hypermodel") or {}).get("target") or reference.get("experiment")
    where = str(target or "").rpartition(":")[0]
    if not where:
        return None  # a built-in experiment, or none to import
    if where.endswith(".py"):
        file = Path(where).resolve()
    else:
        try:
            spec = importlib.util.find_spec(where)
        except (ImportError, ValueError):
            return None
        file = Path(spec.origin).resolve() if spec is not None and spec.origin else Path()
    return file if file.suffix == ".py" and file.is_file() else None


def _imported_beside(file: Path) -> list[Path]:
    """The ``.py`` files of the modules imported so far from ``file``'s folder or below it,
    but ``file``, the script running, installed packages (a virtual environment inside the
    project) and this package's own."""
    folder, found, installed = file.parent, set(), _installed()
    own = [_OWN_ROOT / package for package in _OWN_PACKAGES]
    skipped = tuple(os.path.join(place, "") for place in map(str, [*installed, *own]))
    for name, module in list(sys.modules.items()):
        raw = getattr(module, "__file__", None)
        if name == "__main__" or not isinstance(raw, str) or not raw.endswith(".py"):
            continue  # the script that started the search is not the model's code
        if raw.startswith(skipped) or not os.path.isabs(raw):
            continue  # most modules: told without resolving each path (thousands of them)
        path = Path(raw).resolve()
        inside = path.relative_to(folder).parts if path.is_relative_to(folder) else None
        if not inside or path == file or any(_not_users(part) for part in inside[:-1]):
            continue
        if path.is_relative_to(_OWN_ROOT) and path.relative_to(_OWN_ROOT).parts[0] in _OWN_PACKAGES:
            continue
        if not any(path.is_relative_to(place) for place in installed):
            found.add(path)
    return sorted(found)


def _installed() -> list[Path]:
    """Where Python's own modules and installed packages live (a Python installed inside the
    user's folder, say ~/miniconda3 beside ~/model.py)."""
    paths = sysconfig.get_paths()
    keys = ("stdlib", "platstdlib", "purelib", "platlib")
    return [Path(paths[key]).resolve() for key in keys if key in paths]


def _not_users(folder: str) -> bool:
    """Whether a folder's name says it holds installed or hidden code, not the user's."""
    return folder in ("site-packages", "dist-packages", "__pycache__") or folder.startswith(".")


_OWN_ROOT = Path(__file__).resolve().parents[2]
_OWN_PACKAGES = ("search", "hypermodels", "spaces")


def _sha256(path: Path) -> str:
    """The SHA-256 of the file ``path``, in hex."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _sha256_or_none(path: Path) -> str | None:
    """:func:`_sha256`; None for a file that cannot be read (gone, or in a zip archive)."""
    try:
        return _sha256(path)
    except OSError:
        return None


def _import_module(name: str) -> Any:
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        raise SearchError(
            f"{name}: cannot import it ({exc}); check the name, or give a file path (file.py:NAME)"
        ) from None
    except Exception as exc:
        raise SearchError(f"{name}: importing it failed: {type(exc).__name__}: {exc}") from None


def _import_file(path: Path) -> Any:
    """A script imported as a module of its own (its ``if __name__ == "__main__"`` part
    does not run), once per process; the script running as ``__main__`` is that module
    itself (imported again, its search at the top level would run again)."""
    if not path.is_file():
        raise SearchError(f"{path}: no such file; give the path of a Python file (file.py:NAME)")
    resolved = path.resolve()
    running = sys.modules.get("__main__")
    running_file = getattr(running, "__file__", None)
    if running_file and Path(running_file).resolve() == resolved:
        return running
    digest = hashlib.sha256(str(resolved).encode()).hexdigest()[:12]
    name = f"search_user_{resolved.stem}_{digest}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, resolved)
    if spec is None or spec.loader is None:
        raise SearchError(f"{path}: cannot be imported as Python")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    # A script's own folder is importable from it, as when it runs as a script.
    if str(resolved.parent) not in sys.path:
        sys.path.insert(0, str(resolved.parent))
    _IMPORTING.append(path)
    try:
        spec.loader.exec_module(module)
    except SearchOnImport:
        del sys.modules[name]
        raise
    except Exception as exc:
        del sys.modules[name]
        raise SearchError(f"{path}: importing it failed: {type(exc).__name__}: {exc}") from None
    finally:
        _IMPORTING.pop()
    return module


def reference_of(obj: Any) -> tuple[Reference | None, str]:
    """How to find ``obj`` again in another process. Functions and classes by their name; an
    instance by its class and the constructor arguments it keeps as attributes of the same
    name, each plain data (an optional one too: its default may not be what it was given).

    Args:
        obj: a function, class or instance of the user's.

    Returns:
        (its reference, ""); or (None, why it cannot be found again and how to fix that).
    """
    if inspect.isfunction(obj) or inspect.isclass(obj):
        target, why = _target(obj)
        return (Reference(target), "") if target else (None, why)
    cls = type(obj)
    target, why = _target(cls)
    if target is None:
        return None, why
    args, why = _constructor_args(obj)
    return (Reference(target, args), "") if args is not None else (None, why)


def _target(obj: Any) -> tuple[str | None, str]:
    qualname = getattr(obj, "__qualname__", "")
    name = getattr(obj, "__name__", repr(obj))
    if "<lambda>" in qualname or "<locals>" in qualname:
        return None, f"{name} is a lambda or is defined inside a function; {MOVE_IT}"
    module = sys.modules.get(getattr(obj, "__module__", "") or "")
    if module is None:
        return None, f"{name}: its module is not imported; {MOVE_IT}"
    found: Any = module
    for part in qualname.split("."):
        found = getattr(found, part, None)
    if found is not obj:
        return None, f"{name} is not reachable as {module.__name__}.{qualname}; {MOVE_IT}"
    if module.__name__ == "__main__" or module.__name__.startswith("search_user_"):
        path = getattr(module, "__file__", None)
        if path is None:
            return None, f"{name} is defined in an interactive session; {MOVE_IT}"
        return f"{Path(path).resolve()}:{qualname}", ""
    return f"{module.__name__}:{qualname}", ""


def _constructor_args(obj: Any) -> tuple[dict[str, Any] | None, str]:
    cls_name = type(obj).__name__
    try:
        signature = inspect.signature(type(obj).__init__)
    except (TypeError, ValueError):
        return None, f"the arguments of {cls_name}() cannot be read"
    args: dict[str, Any] = {}
    for param in list(signature.parameters.values())[1:]:
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        # An optional one too: its default may not be what this instance was given.
        if not _kept(obj, param.name):
            return None, (
                f"{cls_name}() takes {param.name!r} but keeps no attribute of that name;"
                f" store it as self.{param.name} so that other processes can rebuild it"
            )
        value = _plain(getattr(obj, param.name))
        if value is _NOT_PLAIN:
            return None, (
                f"{cls_name}(): {param.name} is not plain data (numbers, strings, lists,"
                " dicts); other processes cannot rebuild it"
            )
        args[param.name] = value
    return args, ""


def _kept(obj: Any, name: str) -> bool:
    """``obj`` keeps ``name`` itself (an attribute of its own, or a property), not as its
    class's attribute, which would stand for any value it was given."""
    own = name in getattr(obj, "__dict__", {}) or (hasattr(type(obj), "__slots__") and hasattr(obj, name))
    return own or isinstance(getattr(type(obj), name, None), property)


_NOT_PLAIN = object()


def _plain(value: Any) -> Any:
    """``value`` as JSON data (tuples as lists), or _NOT_PLAIN."""
    try:
        return json.loads(json.dumps(value, default=_number))
    except (TypeError, ValueError):
        return _NOT_PLAIN


def _number(value: Any) -> Any:
    """A NumPy scalar as its Python number, for ``json.dumps``; TypeError for anything else."""
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not plain data")
