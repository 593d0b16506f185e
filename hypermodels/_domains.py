"""The values each hyperparameter of a model can take, checked when a space is loaded."""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from search.space import Bool, Choice, Fixed, Float, Int, Param, Space

MAX_ROTATION = 180.0
"""Degrees: a random rotation of up to half a turn either way covers every angle."""


@dataclass(frozen=True)
class Domain:
    """Booleans, integers or finite numbers, between optional bounds (open or closed)."""

    kind: str
    """"bool", "int" or "number"."""
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False

    def admits(self, value: Any) -> bool:
        if self.kind == "bool" or isinstance(value, bool):
            return self.kind == "bool" and isinstance(value, bool)
        kinds = (int,) if self.kind == "int" else (int, float)
        if not isinstance(value, kinds) or not math.isfinite(value):
            return False
        above = self.low is None or (value > self.low if self.low_open else value >= self.low)
        below = self.high is None or (value < self.high if self.high_open else value <= self.high)
        return above and below

    def describe(self) -> str:
        if self.kind == "bool":
            return "true or false"
        what = "an integer" if self.kind == "int" else "a finite number"
        bounds = []
        if self.low is not None:
            bounds.append(f"{'>' if self.low_open else '>='} {self.low:g}")
        if self.high is not None:
            bounds.append(f"{'<' if self.high_open else '<='} {self.high:g}")
        return what + (" " + " and ".join(bounds) if bounds else "")


BOOLEAN = Domain("bool")
POSITIVE = Domain("number", low=0.0, low_open=True)
AT_LEAST_ONE = Domain("int", low=1)
AT_LEAST_ZERO = Domain("int", low=0)
FRACTION = Domain("number", low=0.0, high=1.0)
BELOW_ONE = Domain("number", low=0.0, high=1.0, high_open=True)
ANGLE = Domain("number", low=0.0, high=MAX_ROTATION)

#: Shared by both models: the head, the optimizer, the batches and the augmentation.
COMMON: dict[str, Domain] = {
    "learning_rate": POSITIVE,
    "dense_units": AT_LEAST_ONE,
    "dropout": BELOW_ONE,
    "augment": BOOLEAN,
    "flip": BOOLEAN,
    "shift": FRACTION,
    "zoom": BELOW_ONE,
    "rotation": ANGLE,
    "batch_size": AT_LEAST_ONE,
}


def candidates(param: Param) -> list[Any]:
    """The values ``param`` can give: a range's two ends (the domains are intervals), a
    choice's values, a fixed value."""
    if isinstance(param, Float):  # drawn as floats, also where low and high are written as ints
        return [float(param.low), float(param.high)]
    if isinstance(param, Int):
        return [param.low, param.high]
    if isinstance(param, Choice):
        return list(param.values)
    if isinstance(param, Bool):
        return [True, False]
    return [param.default]


def check_domains(space: Space, domains: Mapping[str, Domain]) -> None:
    """Raise ValueError naming the file, the hyperparameter, the value and the fix for the
    first value of ``space`` that its model cannot use."""
    for param in space:
        domain = domains.get(param.name)
        if domain is None:
            continue
        for value in candidates(param):
            if not domain.admits(value):
                raise ValueError(
                    f"{space.source}: {param.name}: {value!r} cannot be used; {param.name} must"
                    f" be {domain.describe()}: {_fix(param, domain)} in the space file"
                )


def values_of(space: Space, name: str, default: Any) -> list[Any]:
    """The values ``space`` can give ``name``: a choice's values, else its default;
    ``default`` when the space leaves ``name`` out."""
    if name not in space:
        return [default]
    param = space[name]
    values = getattr(param, "values", None)
    return list(values) if values is not None else [param.default]


def check_model_space(
    space: Space,
    defaults: Mapping[str, Any],
    domains: Mapping[str, Domain],
    named: Mapping[str, Collection[str]],
) -> None:
    """Raise ValueError naming the file and the hyperparameter for the first of ``space``'s
    hyperparameters a model does not have (not in ``defaults``), value of a ``named`` one
    (``preprocessing``, ``base``) outside its names, or value outside its domain."""
    unknown = [name for name in space.names if name not in defaults]
    if unknown:
        raise ValueError(
            f"{space.source}: {unknown[0]}: not a hyperparameter of this model;"
            f" known: {', '.join(defaults)}"
        )
    for name, allowed in named.items():
        for value in values_of(space, name, defaults[name]):
            if value not in allowed:
                raise ValueError(
                    f"{space.source}: {name}: {value!r} is not one of {', '.join(allowed)}"
                )
    check_domains(space, domains)


def _fix(param: Param, domain: Domain) -> str:
    """How to change ``param`` so that ``domain`` admits its values."""
    if isinstance(param, Float) and domain.kind == "int":
        return 'make it type = "int"'
    return f"change its {_where(param)}"


def _where(param: Param) -> str:
    if isinstance(param, (Float, Int)):
        return "low/high"
    if isinstance(param, Choice):
        return "values"
    return "value" if isinstance(param, Fixed) else "default"
