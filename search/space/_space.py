"""A search space: ordered hyperparameters, with the checks that span several of them."""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from search._text import a_kind, article
from search.space._params import Bool, Choice, Fixed, Float, Int, Param, toml_value


@dataclass(frozen=True)
class Space:
    """Hyperparameters in the order they are defined (and tuned, by importance)."""

    params: tuple[Param, ...]
    source: str = "<memory>"
    description: str = ""
    _by_name: dict[str, Param] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_name: dict[str, Param] = {}
        for param in self.params:
            if param.name in by_name:
                raise ValueError(f"{param.name}: defined twice")
            if param.condition is not None:
                _check_condition(param, by_name)
            by_name[param.name] = param
        object.__setattr__(self, "_by_name", by_name)

    def __iter__(self) -> Iterator[Param]:
        return iter(self.params)

    def __len__(self) -> int:
        return len(self.params)

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def __getitem__(self, name: str) -> Param:
        return self._by_name[name]

    @property
    def names(self) -> list[str]:
        return [p.name for p in self.params]

    def defaults(self) -> dict[str, Any]:
        """The default configuration, with inactive conditional values left out."""
        return self.resolve(self.all_defaults())

    def all_defaults(self) -> dict[str, Any]:
        """Every parameter's default, those its parent's default leaves inactive too."""
        return {p.name: p.default for p in self.params}

    def resolve(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """Keep only the values that are active under ``values``' own parents."""
        active: dict[str, Any] = {}
        for param in self.params:
            cond = param.condition
            if cond is not None and active.get(cond.parent, _MISSING) not in cond.values:
                continue
            if param.name in values:
                active[param.name] = values[param.name]
        return active

    def fix(self, values: Mapping[str, Any]) -> Space:
        """A copy with the given hyperparameters fixed (not searched) at the given values."""
        params = []
        for param in self.params:
            if param.name in values:
                value = _plain(values[param.name], param)
                if not param.contains(value):
                    raise ValueError(_misfit(param, value))
                param = Fixed(param.name, value, condition=param.condition, help=param.help)
            params.append(param)
        unknown = sorted(set(values) - set(self._by_name))
        if unknown:
            shown = ", ".join(repr(name) for name in unknown)
            raise ValueError(f"{shown}: not in the space (it has {self.names})")
        return replace(self, params=_drop_inactive(params, values))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description (stored in run.json, used to compare runs)."""
        out: dict[str, Any] = {}
        for p in self.params:
            entry = {
                k: (list(v) if isinstance(v, tuple) else v)
                for k, v in p.__dict__.items()
                if k not in ("name", "condition", "help") and v is not None
            }
            entry["type"] = p.kind
            if p.condition is not None:
                entry["condition"] = {p.condition.parent: list(p.condition.values)}
            out[p.name] = entry
        return out

    def fingerprint(self) -> str:
        """A short hash of the space's definition, independent of comments and help."""
        blob = json.dumps(self.to_dict(), sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:16]


_MISSING = object()
SIGNIFICANT_DIGITS = 12
"""Digits to which float values are compared: a grid's 0 + 3 * 0.1 is the 0.3 a default gives."""


def comparable(values: Mapping[str, Any]) -> dict[str, Any]:
    """A configuration's values as configurations are compared: each float to
    :data:`SIGNIFICANT_DIGITS` significant digits, so that a stepped value a sampler computed
    (0.30000000000000004) is the one a default or a record gives (0.3).

    Args:
        values: hyperparameter values by name.

    Returns:
        The same values, floats rounded; others as given.
    """
    return {
        name: float(f"{value:.{SIGNIFICANT_DIGITS}g}") if isinstance(value, float) else value
        for name, value in values.items()
    }


def _plain(value: Any, param: Param) -> Any:
    """``value`` as ``param`` takes it: a NumPy scalar (read off a trials table) as the Python
    value it holds, a float32 as the decimal it shows (0.01, not 0.009999999776), and a whole
    float as an int where ``param`` holds ints (a table's int column with gaps is float), an int
    as a float where it holds floats."""
    if isinstance(value, np.floating) and not isinstance(value, np.float64):
        value = float(str(value))
    elif isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value.is_integer() and _holds_ints(param):
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool) and _holds_floats(param):
        return float(value)
    return value


def _holds_floats(param: Param) -> bool:
    """Whether ``param`` is a Choice of floats (``--fix`` reads 1 as an int, the choice holds 1.0)."""
    return isinstance(param, Choice) and all(isinstance(v, float) for v in param.values)


def _holds_ints(param: Param) -> bool:
    """Whether ``param``'s values are ints: an Int, or a Choice of ints."""
    if isinstance(param, Choice):
        return all(isinstance(v, int) and not isinstance(v, bool) for v in param.values)
    return param.kind == "int"


def _misfit(param: Param, value: Any) -> str:
    """Why ``value`` cannot fix ``param``: of another type, outside its range, or off its step."""
    numbers = {"float": (int, float), "int": (int,)}.get(param.kind)
    if numbers is not None and (isinstance(value, bool) or not isinstance(value, numbers)):
        given, wanted = a_kind(value), article(param.kind)
        return f"{param.name}: {value!r} is {given}, not {wanted} in {param.describe()}"
    if param.kind == "float" and math.isnan(value):
        return f"{param.name}: nan is not a number; give a float in {param.describe()}"
    if param.kind == "bool" and not isinstance(value, bool):
        return f"{param.name}: {value!r} is {a_kind(value)}, not true or false"
    if isinstance(param, Int | Float) and param.step is not None and param.low <= value <= param.high:
        below = param.low + math.floor((value - param.low) / param.step) * param.step
        nearest = [v for v in (below, below + param.step) if param.contains(v)]
        shown = " and ".join(str(v) if isinstance(param, Int) else f"{v:g}" for v in nearest)
        off = f"{param.name}: {value!r} is off its step, {param.describe()}"
        return off + f"; the nearest values on it are {shown}"
    return f"{param.name}: {value!r} is outside its range, {param.describe()}"


def _drop_inactive(params: list[Param], values: Mapping[str, Any]) -> tuple[Param, ...]:
    """``params`` less those a fixed parent (or a dropped one) never activates: e.g. fixing
    augment to False drops flip, shift, zoom, rotation; ValueError where ``values`` fixes one."""
    fixed = {p.name: p.default for p in params if isinstance(p, Fixed)}
    dropped: dict[str, str] = {}  # name -> the fixing that rules it out ("augment to False")
    kept = []
    for param in params:  # parents come before their children
        cond = param.condition
        off = cond is not None and cond.parent in fixed and fixed[cond.parent] not in cond.values
        if cond is None or not (off or cond.parent in dropped):
            kept.append(param)
            continue
        cause = f"{cond.parent} to {fixed[cond.parent]!r}" if off else dropped[cond.parent]
        if param.name in values:
            never = "" if off else f" ({cond.parent} is then never active)"
            raise ValueError(
                f"{param.name}: is active only when {cond.describe()}, which fixing {cause}"
                f" rules out{never}; leave {param.name} unfixed, or fix {cause.split()[0]} to a"
                " value that activates it"
            )
        dropped[param.name] = cause
    return tuple(kept)


def _check_condition(param: Param, earlier: Mapping[str, Param]) -> None:
    cond = param.condition
    assert cond is not None
    parent = earlier.get(cond.parent)
    if parent is None:
        raise ValueError(
            f"{param.name}: condition names {cond.parent!r}, which must be defined above it"
        )
    if not isinstance(parent, (Bool, Choice, Fixed)):
        raise ValueError(
            f"{param.name}: condition parent {cond.parent!r} must be a bool or a choice,"
            f" not a {parent.kind}"
        )
    for value in cond.values:
        if not parent.contains(value):
            raise ValueError(
                f"{param.name}: condition value {value!r} is not a value of"
                f" {cond.parent!r} ({parent.describe()}){_never(param, parent)}"
            )


def _never(param: Param, parent: Param) -> str:
    """The fix where ``param``'s condition names none of a fixed parent's value: it is never active."""
    cond = param.condition
    if cond is None or not isinstance(parent, Fixed) or any(parent.contains(v) for v in cond.values):
        return ""
    return (
        f", so {param.name} is never active; remove {param.name} from the space, or write"
        f" value = {toml_value(cond.values[0])} in [{cond.parent}]"
    )
