"""Translate a :class:`Space` into KerasTuner hyperparameters."""

from __future__ import annotations

import contextlib
import math
from typing import Any

import keras_tuner as kt

from search.space._params import ROUNDING, Bool, Choice, Condition, Fixed, Float, Int, Param
from search.space._space import Space


def define(hp: kt.HyperParameters, space: Space) -> dict[str, Any]:
    """Register every parameter of ``space`` on ``hp``; return the active values by name.

    Conditional parameters use ``hp.conditional_scope``, so KerasTuner's oracles know
    when they are inactive; inactive ones are left out of the returned dict.

    Args:
        hp: the hyperparameters of the trial being built (``build(hp)``'s).
        space: the space to register, parents before their children.

    Returns:
        The value of each active hyperparameter by name: the trial's, or its default the
        first time it is registered.
    """
    values: dict[str, Any] = {}
    for param in space:
        with contextlib.ExitStack() as scopes:
            for scope in _conditions(space, param):
                scopes.enter_context(hp.conditional_scope(scope.parent, list(scope.values)))
            value = _register(hp, param)
        cond = param.condition
        if value is not None and (cond is None or values.get(cond.parent) in cond.values):
            values[param.name] = value
    return values


def _conditions(space: Space, param: Param) -> list[Condition]:
    """``param``'s condition after its parent's own, outermost first: KerasTuner finds a
    conditional parent only inside the scopes it was defined in."""
    chain: list[Condition] = []
    cond = param.condition
    while cond is not None:
        chain.insert(0, cond)
        cond = space[cond.parent].condition
    return chain


def _register(hp: kt.HyperParameters, param: Param) -> Any:
    if isinstance(param, Fixed):
        return hp.Fixed(param.name, param.default)
    if isinstance(param, Bool) or (
        isinstance(param, Choice) and all(isinstance(v, bool) for v in param.values)
    ):
        return hp.Boolean(param.name, default=param.default)
    if isinstance(param, Choice):
        return hp.Choice(
            param.name, list(param.values), ordered=param.ordered, default=param.default
        )
    if isinstance(param, Float):
        # KerasTuner counts a stepped float's values as floor((high - low) / step) + 1, and
        # 0.15 / 0.05 is 2.9999999999999996: without the slack the top value is never drawn.
        slack = 0.0 if param.step is None else ROUNDING * param.step
        return hp.Float(
            param.name,
            min_value=param.low,
            max_value=param.high + slack,
            step=param.step,
            sampling="log" if param.log else "linear",
            default=param.default,
        )
    if isinstance(param, Int):
        return hp.Int(
            param.name,
            min_value=param.low,
            max_value=param.high,
            step=None if param.log else param.step,
            sampling="log" if param.log else "linear",
            default=param.default,
        )
    raise TypeError(f"{param.name}: unsupported hyperparameter kind {param.kind!r}")


def space_from_hyperparameters(
    hps: kt.HyperParameters, source: str = "<build(hp)>"
) -> Space:
    """The :class:`Space` that KerasTuner hyperparameters declare (what ``build(hp)`` and
    ``fit`` registered), so that every backend, Optuna included, searches it.

    A conditional scope becomes a :class:`Condition` on its innermost parent (the outer
    ones are implied: a parent that is inactive makes its children inactive too).

    Args:
        hps: the registered hyperparameters; KerasTuner's own (``tuner/...``) are left out.
        source: what they came from, kept as the space's ``source``.

    Returns:
        The space, in the order the hyperparameters were registered; a stepped log scale
        becomes an ordered choice of its values, a range of one value a fixed one.

    Raises:
        ValueError: A hyperparameter cannot be expressed in a space; the message names it.
    """
    params = []
    for hp in hps.space:
        if hp.name.startswith(TUNER_PREFIX):
            continue
        try:
            params.append(_param(hp))
        except ValueError as exc:
            raise ValueError(f"{hp.name}: {exc}") from None
    return Space(tuple(params), source=source)


TUNER_PREFIX = "tuner/"
"""Hyperparameters KerasTuner adds for its own schedule (Hyperband's epochs, rounds)."""


def _log_grid(low: float, high: float, step: float, is_int: bool) -> list[Any]:
    """KerasTuner's values of a log scale with a step: low, low * step, ... up to high."""
    values: list[Any] = []
    value = low
    while value <= high * (1 + ROUNDING):
        values.append(round(value) if is_int else _decimal(value))
        value *= step
    return values


def _choice(name: str, values: list[Any], default: Any, condition: Condition | None) -> Param:
    """A choice of ``values`` (a fixed value when there is one), ordered as given."""
    if len(values) == 1:
        return Fixed(name, values[0], condition=condition)
    default = default if default in values else values[0]
    return Choice(name, default, values=tuple(values), ordered=True, condition=condition)


def _decimal(value: float) -> float:
    """``value`` as the decimal it is meant to be (0.4, not 0.4000000000000001)."""
    return float(f"{value:.12g}")


def _condition(hp: Any) -> Condition | None:
    if not hp.conditions:
        return None
    innermost = hp.conditions[-1]
    return Condition(innermost.name, tuple(innermost.values))


def _param(hp: Any) -> Param:
    condition = _condition(hp)
    config = hp.get_config()
    if isinstance(hp, kt.engine.hyperparameters.Fixed):
        return Fixed(hp.name, hp.value, condition=condition)
    if isinstance(hp, kt.engine.hyperparameters.Boolean):
        return Bool(hp.name, bool(hp.default), condition=condition)
    if isinstance(hp, kt.engine.hyperparameters.Choice):
        values = tuple(config["values"])
        if len(values) == 1:
            return Fixed(hp.name, values[0], condition=condition)
        return Choice(hp.name, hp.default, values=values, ordered=config.get("ordered"),
                      condition=condition)  # fmt: skip
    log = config.get("sampling") in ("log", "reverse_log")
    low, high, step = config["min_value"], config["max_value"], config.get("step")
    is_int = isinstance(hp, kt.engine.hyperparameters.Int)
    if log and step and step > 1:
        return _choice(hp.name, _log_grid(low, high, step, is_int), hp.default, condition)
    if step and not log:  # KerasTuner's last value is the last step below high
        high = low + math.floor((high - low) / step + ROUNDING) * step
        high = high if is_int else _decimal(high)
    if low == high:
        return Fixed(hp.name, low, condition=condition)
    if is_int:
        return Int(hp.name, int(hp.default), low=int(low), high=int(high),
                   step=1 if log else int(step or 1), log=log, condition=condition)  # fmt: skip
    if isinstance(hp, kt.engine.hyperparameters.Float):
        return Float(hp.name, float(hp.default), low=float(low), high=float(high),
                     step=None if log or not step else float(step), log=log,
                     condition=condition)  # fmt: skip
    raise ValueError(f"KerasTuner's {type(hp).__name__} has no equivalent in a search space")
