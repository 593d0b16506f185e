"""Hyperparameter definitions: validated on construction, backend-neutral."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any, Union

Value = Union[bool, int, float, str]


@dataclass(frozen=True)
class Condition:
    """The hyperparameter is active only when ``parent`` takes one of ``values``."""

    parent: str
    values: tuple[Value, ...]

    def describe(self) -> str:
        shown = " or ".join(repr(v) for v in self.values)
        return f"{self.parent} == {shown}"


@dataclass(frozen=True)
class Param:
    """Base of every hyperparameter kind: a name, a default and an optional condition."""

    name: str
    default: Any
    condition: Condition | None = field(default=None, kw_only=True)
    help: str = field(default="", kw_only=True)

    kind = "param"

    def contains(self, value: Any) -> bool:  # pragma: no cover - overridden
        raise NotImplementedError

    def describe(self) -> str:  # pragma: no cover - overridden
        raise NotImplementedError

    def _check_default(self) -> None:
        if not self.contains(self.default):
            values = self.describe()
            where = "" if values.startswith("one of") or self.kind == "bool" else "in "
            raise ValueError(f"default ({self.default!r}) must be {where}{values}")


@dataclass(frozen=True)
class Float(Param):
    """A real number in ``[low, high]``, on a linear or log scale, optionally stepped."""

    low: float = 0.0
    high: float = 1.0
    log: bool = False
    step: float | None = None
    kind = "float"

    def __post_init__(self) -> None:
        for key in ("low", "high", "default"):
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValueError(f"{key} ({value!r}) must be a number")
            if not math.isfinite(value):
                raise ValueError(f"{key} ({value!r}) must be finite")
        if not self.low < self.high:
            raise ValueError(f"low ({self.low}) must be below high ({self.high})")
        if not math.isfinite(self.high - self.low):  # the samplers draw low + u * (high - low)
            raise ValueError(
                f"low ({self.low:g}) and high ({self.high:g}) are too far apart: high - low"
                " overflows a float; narrow the range"
            )
        if self.log and self.low <= 0:
            raise ValueError(f"low ({self.low}) must be above 0 on a log scale")
        if self.step is not None:
            if self.log:
                raise ValueError(
                    f"step ({self.step!r}) cannot be combined with a log scale; drop step or log"
                )
            if isinstance(self.step, bool) or not isinstance(self.step, (int, float)):
                raise ValueError(f"step ({self.step!r}) must be a number")
            if not (math.isfinite(self.step) and self.step > 0):
                raise ValueError(f"step ({self.step}) must be a finite number above 0")
            if not _whole((self.high - self.low) / self.step):
                raise ValueError(
                    f"high - low ({self.high - self.low:g}) must be a multiple of step ({self.step:g})"
                )
        self._check_default()

    def contains(self, value: Any) -> bool:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return False
        slack = ROUNDING * (self.high - self.low)  # a grid's top, low + n * step, may overshoot
        if not self.low - slack <= value <= self.high + slack:  # infinities and NaN too
            return False
        return self.step is None or _whole((value - self.low) / self.step)

    def describe(self) -> str:
        scale = "log" if self.log else "linear"
        step = f", step {self.step:g}" if self.step is not None else ""
        return f"[{self.low:g}, {self.high:g}] ({scale}{step})"


@dataclass(frozen=True)
class Int(Param):
    """An integer in ``[low, high]`` with a step, on a linear or log scale."""

    low: int = 0
    high: int = 1
    step: int = 1
    log: bool = False
    kind = "int"

    def __post_init__(self) -> None:
        for key in ("low", "high", "step", "default"):
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"{key} ({value!r}) must be an integer")
        if not self.low < self.high:
            raise ValueError(f"low ({self.low}) must be below high ({self.high})")
        for key in ("low", "high"):
            if abs(getattr(self, key)) > INT_LIMIT:
                raise ValueError(
                    f"{key} ({getattr(self, key)}) must be within ±{INT_LIMIT} (2**63 - 1): a"
                    " 64-bit integer, as NumPy and the backends hold one"
                )
        if self.step < 1:
            raise ValueError(f"step ({self.step}) must be at least 1")
        if self.log and self.low <= 0:
            raise ValueError(f"low ({self.low}) must be above 0 on a log scale")
        if self.log and self.step != 1:
            raise ValueError(f"step ({self.step}) cannot be combined with a log scale; drop step or log")
        if (self.high - self.low) % self.step and not self.log:
            raise ValueError(
                f"high - low ({self.high - self.low}) must be a multiple of step ({self.step})"
            )
        self._check_default()

    def contains(self, value: Any) -> bool:
        if isinstance(value, bool) or not isinstance(value, int):
            return False
        on_grid = self.log or (value - self.low) % self.step == 0
        return self.low <= value <= self.high and on_grid

    def describe(self) -> str:
        scale = "log" if self.log else "linear"
        return f"{self.low}..{self.high} (step {self.step}, {scale})"


@dataclass(frozen=True)
class Choice(Param):
    """One of a list of values, all of one type (numbers or strings)."""

    values: tuple[Value, ...] = ()
    ordered: bool | None = None
    kind = "choice"

    def __post_init__(self) -> None:
        if len(self.values) < 2:
            one = (
                f"; for one, write type = \"fixed\" and value = {toml_value(self.values[0])}"
                if self.values else ""
            )
            raise ValueError(f"values ({list(self.values)!r}) must hold at least two values{one}")
        kinds = {_value_kind(v) for v in self.values}
        if None in kinds:
            raise ValueError(f"values ({list(self.values)!r}) must be numbers, strings or booleans")
        if len(kinds) > 1:
            raise ValueError(f"values ({list(self.values)!r}) must all have one type")
        if any(_is_nan(v) for v in self.values):
            raise ValueError(f"values ({list(self.values)!r}) must be numbers, not nan; remove nan")
        big = [v for v in self.values if _beyond_64_bits(v)]
        if big:
            raise ValueError(f"values: {big[0]} must be within ±{INT_LIMIT} (2**63 - 1){_HELD}; remove it")
        ints = [v for v in self.values if isinstance(v, int) and not isinstance(v, bool)]
        if ints and len(ints) < len(self.values) and kinds == {"number"}:
            raise ValueError(
                f"values ({list(self.values)!r}) mix integers and floats;"
                f" write the integers as floats ({float(ints[0])!r})"
            )
        if len(set(self.values)) != len(self.values):
            raise ValueError(f"values ({list(self.values)!r}) must not repeat")
        if self.ordered and kinds == {"str"}:  # KerasTuner orders numbers only
            raise ValueError(
                f"ordered (true) applies to numbers, not the strings {list(self.values)!r}; drop ordered"
            )
        self._check_default()

    def contains(self, value: Any) -> bool:
        return any(value == v and type(value) is type(v) for v in self.values)

    def describe(self) -> str:
        return "one of " + ", ".join(repr(v) for v in self.values)


@dataclass(frozen=True)
class Bool(Param):
    """True or false."""

    kind = "bool"

    def __post_init__(self) -> None:
        self._check_default()

    def contains(self, value: Any) -> bool:
        return isinstance(value, bool)

    def describe(self) -> str:
        return "true or false"


@dataclass(frozen=True)
class Fixed(Param):
    """A value that is not searched: it is used as it is by every trial."""

    kind = "fixed"

    def __post_init__(self) -> None:
        if _value_kind(self.default) is None:
            raise ValueError(f"value ({self.default!r}) must be a number, string or boolean")
        if _is_nan(self.default):
            raise ValueError("value (nan) must be a number, not nan; give the value to use")
        if _beyond_64_bits(self.default):
            raise ValueError(
                f"value ({self.default}) must be within ±{INT_LIMIT} (2**63 - 1){_HELD}; give a smaller one"
            )

    def contains(self, value: Any) -> bool:
        return value == self.default and type(value) is type(self.default)

    def describe(self) -> str:
        return f"fixed at {self.default!r}"


def toml_value(value: Any) -> str:
    """``value`` as a TOML file writes it (true, 1, "relu")."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value) if isinstance(value, str) else repr(value)


INT_LIMIT = 2**63 - 1
"""The largest integer hyperparameter, either side of 0: larger ones fit no array or tensor."""
_HELD = ": a 64-bit integer, as NumPy, the backends and trials.json hold one"
ROUNDING = 1e-9
"""Relative error of float arithmetic a grid check forgives: 0.8 / 0.1 is
8.000000000000002, and 0 + 3 * 0.05 is 0.15000000000000002."""


def _whole(ratio: float) -> bool:
    """Whether ``ratio`` is a whole number, up to float rounding (:data:`ROUNDING`)."""
    return abs(ratio - round(ratio)) <= ROUNDING * max(1.0, abs(ratio))


def _beyond_64_bits(value: Any) -> bool:
    """Whether ``value`` is an int beyond :data:`INT_LIMIT`, which no 64-bit integer holds."""
    return isinstance(value, int) and not isinstance(value, bool) and abs(value) > INT_LIMIT


def _is_nan(value: Any) -> bool:
    """Whether ``value`` is a float NaN, which equals no value, itself included."""
    return isinstance(value, float) and math.isnan(value)


def _value_kind(value: Any) -> str | None:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "str"
    return None
