"""Read a search space from a TOML file, validating every entry with a precise message."""

from __future__ import annotations

import dataclasses
import json
import re
import sys
from pathlib import Path
from typing import Any

from search._text import article
from search.errors import SpaceError, option
from search.space._params import Bool, Choice, Condition, Fixed, Float, Int, Param
from search.space._space import Space

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

_COMMON = {"type", "default", "condition", "help"}
_KEYS: dict[str, set[str]] = {
    "float": _COMMON | {"low", "high", "log", "step"},
    "int": _COMMON | {"low", "high", "log", "step"},
    "choice": _COMMON | {"values", "ordered"},
    "bool": _COMMON,
    "fixed": {"type", "value", "condition", "help"},
}
_TOP_LEVEL = {"description"}
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def load_space(path: str | Path) -> Space:
    """Load and validate a space file; raise :class:`SpaceError` naming file, key and value.

    Args:
        path: the TOML file; it names the space (its ``source``) in messages and reports.

    Returns:
        The space the file defines, with its description.

    Raises:
        SpaceError: The file is missing or unreadable, or it is not a valid space.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")  # Windows editors may start with a BOM
    except FileNotFoundError:
        raise SpaceError(f"{path}: no such space file; give an existing TOML file") from None
    except IsADirectoryError:
        raise SpaceError(f"{path}: a folder, not a space file; give a TOML file") from None
    except UnicodeDecodeError as exc:
        raise SpaceError(f"{path}: not UTF-8 text ({exc}); save the TOML file as UTF-8") from None
    except PermissionError as exc:
        raise SpaceError(f"{path}: cannot be read ({exc.strerror}); make it readable (chmod u+r)") from None
    except OSError as exc:
        reason = exc.strerror or exc
        raise SpaceError(
            f"{path}: cannot be read ({reason}); check the file and its disk, or give another"
        ) from None
    return parse_space(text, source=str(path))


def parse_space(text: str, source: str = "<string>") -> Space:
    """Parse the TOML text of a space; ``source`` names it in error messages.

    Args:
        text: the TOML: an optional top-level ``description`` and one table per hyperparameter.
        source: what the text came from, named in messages and kept as the space's ``source``.

    Returns:
        The space, its hyperparameters in the order the tables are written.

    Raises:
        SpaceError: Not TOML, a bad name, key or value, no hyperparameter, or a condition that
            does not fit its parent (defined above it, a bool or choice holding the values).
    """
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SpaceError(f"{source}: not valid TOML ({exc})") from None
    description = doc.get("description", "")
    if not isinstance(description, str):
        raise SpaceError(f"{source}: description ({description!r}) must be a string")
    params: list[Param] = []
    for name, entry in doc.items():
        if name in _TOP_LEVEL:
            continue
        if not _NAME.fullmatch(name):
            raise SpaceError(
                f"{source}: {name!r}: a hyperparameter's name is ASCII letters, digits and '_',"
                " not starting with a digit; rename it"
            )
        if not isinstance(entry, dict):
            raise SpaceError(
                f"{source}: {name}: expected a table like [{name}] with a type,"
                f" got the value {entry!r}"
            )
        try:
            params.append(_param(name, entry))
        except ValueError as exc:
            raise SpaceError(f"{source}: {name}: {exc}") from None
    if not params:
        raise SpaceError(f"{source}: defines no hyperparameters; add a table per hyperparameter")
    try:
        return Space(tuple(_whole_conditions(params)), source=source, description=description)
    except ValueError as exc:
        raise SpaceError(f"{source}: {exc}") from None


def space_from_dict(params: dict[str, dict[str, Any]], source: str = "run.json") -> Space:
    """The Space that :meth:`Space.to_dict` described (as stored in run.json).

    Args:
        params: each hyperparameter's stored entry by name (a fixed one's value under ``default``).
        source: what the entries came from, named in messages and kept as the space's ``source``.

    Returns:
        The space, without the help texts and description that ``to_dict`` leaves out.

    Raises:
        SpaceError: An entry is not a valid hyperparameter, or the entries do not make a
            space together (a condition on a later or missing entry).
    """
    out = []
    for name, stored in params.items():
        entry = dict(stored)
        if entry.get("type") == "fixed":
            entry["value"] = entry.pop("default")
        try:
            out.append(_param(name, entry))
        except ValueError as exc:
            raise SpaceError(f"{source}: {name}: {exc}") from None
    try:
        return Space(tuple(out), source=source)
    except ValueError as exc:  # across entries: a condition on a later or missing one
        raise SpaceError(f"{source}: {exc}") from None


_MEANT = {"min": "low", "max": "high", "min_value": "low", "max_value": "high", "choices": "values",
          "sampling": "log", "value": "default"}
"""Keys other libraries use (KerasTuner's min_value, Optuna's choices), by the key meant here."""


def _param(name: str, entry: dict[str, Any]) -> Param:
    kind = entry.get("type")
    if not isinstance(kind, str) or kind not in _KEYS:
        raise ValueError(f"type ({kind!r}) must be one of {', '.join(sorted(_KEYS))}")
    unknown = sorted(set(entry) - _KEYS[kind])
    if unknown:
        meant = _MEANT.get(unknown[0])
        hint = f" ({meant} is the key)" if meant in _KEYS[kind] else ""
        raise ValueError(
            f"unknown key {unknown[0]!r} for {article(kind)}{hint}; allowed: {', '.join(sorted(_KEYS[kind]))}"
        )
    common: dict[str, Any] = {
        "condition": _condition(entry.get("condition")),
        "help": _typed(entry, "help", str, ""),
    }
    if kind == "fixed":
        if "value" not in entry:
            raise ValueError("a fixed hyperparameter needs a value")
        return Fixed(name, entry["value"], **common)
    if "default" not in entry:
        raise ValueError(f"{article(kind)} needs a default")
    default = entry["default"]
    if kind == "bool":
        return Bool(name, default, **common)
    if kind == "choice":
        values = entry.get("values")
        if not isinstance(values, list):
            raise ValueError(f"values ({values!r}) must be a list")
        ordered = _typed(entry, "ordered", bool, None)
        if _whole_for_floats(default, values):
            default = float(default)  # as a float's default is: 1 is the 1.0 the values hold
        return Choice(name, default, values=tuple(values), ordered=ordered, **common)
    for key in ("low", "high"):
        if key not in entry:
            raise ValueError(f"a {kind} needs {key}")
    log = _typed(entry, "log", bool, False)
    if kind == "float":
        if isinstance(default, int) and not isinstance(default, bool):
            default = float(default)
        step = entry.get("step")
        return Float(
            name, default, low=entry["low"], high=entry["high"], log=log, step=step, **common
        )
    return Int(
        name, default, low=entry["low"], high=entry["high"], step=entry.get("step", 1),
        log=log, **common,
    )


def _whole_conditions(params: list[Param]) -> list[Param]:
    """``params``, a condition's whole numbers taken as floats where its parent's values are
    floats (``condition = { scale = 1 }`` for a choice of 1.0 and 2.5), as a default is."""
    by_name = {param.name: param for param in params}
    out = []
    for param in params:
        cond = param.condition
        parent = by_name.get(cond.parent) if cond is not None else None
        values = parent.values if isinstance(parent, Choice) else ()
        values = (parent.default,) if isinstance(parent, Fixed) else values
        if cond is not None and values and all(isinstance(v, float) for v in values):
            whole = tuple(float(v) if type(v) is int and float(v) in values else v for v in cond.values)
            param = dataclasses.replace(param, condition=Condition(cond.parent, whole))
        out.append(param)
    return out


def _whole_for_floats(default: Any, values: list[Any]) -> bool:
    """Whether ``default`` is an int (not a bool) and ``values`` are all floats."""
    is_int = isinstance(default, int) and not isinstance(default, bool)
    return is_int and all(isinstance(v, float) for v in values)


def _condition(raw: Any) -> Condition | None:
    if raw is None:
        return None
    if not isinstance(raw, dict) or len(raw) != 1:
        raise ValueError(
            f"condition ({raw!r}) must name one parent, like condition = {{ augment = true }}"
        )
    (parent, values), = raw.items()
    values = values if isinstance(values, list) else [values]
    if not values:
        raise ValueError(f"condition on {parent!r} lists no values")
    return Condition(parent, tuple(values))


def _typed(entry: dict[str, Any], key: str, kind: type, default: Any) -> Any:
    value = entry.get(key, default)
    if value is not default and not isinstance(value, kind):
        raise ValueError(f"{key} ({value!r}) must be a {kind.__name__}")
    return value


NON_FINITE = re.compile(r"\s*[+-]?(nan|inf|infinity)\s*", re.IGNORECASE)
"""How Python spells the floats JSON has no word for."""


def _fix_value(raw: str) -> object:
    """One ``--fix`` VALUE: JSON, a non-finite float, or the string itself."""
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        return float(raw) if NON_FINITE.fullmatch(raw) else raw


def parse_fix(items: list[str]) -> dict[str, object]:
    """``--fix NAME=VALUE`` items as a mapping; a VALUE is read as JSON when it is JSON
    (``0.001``, ``true``, ``"relu"``), as a float when Python spells one so (``nan``,
    ``inf``, ``-inf``: JSON has no such words), else kept as the string given.

    Args:
        items: the ``--fix`` values as given, in order.

    Returns:
        Each value by its hyperparameter's name (unchecked against any space).

    Raises:
        SpaceError: An item is not ``NAME=VALUE``, or names a hyperparameter fixed already.
    """
    fixed: dict[str, object] = {}
    for item in items:
        name, sep, raw = item.partition("=")
        if not sep or not name:
            raise SpaceError(f"{option('fix')} {item!r}: expected NAME=VALUE, e.g. learning_rate=0.001")
        value = _fix_value(raw)
        if name in fixed:
            raise SpaceError(
                f"{option('fix')}: {name!r} given twice ({fixed[name]!r}, then {value!r}); fix it once"
            )
        fixed[name] = value
    return fixed
