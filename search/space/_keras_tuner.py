"""Translate a :class:`Space` into KerasTuner hyperparameters."""

from __future__ import annotations

import contextlib
from typing import Any

import keras_tuner as kt

from search.space._params import Bool, Choice, Fixed, Float, Int, Param
from search.space._space import Space


def define(hp: kt.HyperParameters, space: Space) -> dict[str, Any]:
    """Register every parameter of ``space`` on ``hp``; return the active values by name.

    Conditional parameters use ``hp.conditional_scope``, so KerasTuner's oracles know
    when they are inactive; inactive ones are left out of the returned dict.
    """
    values: dict[str, Any] = {}
    for param in space:
        cond = param.condition
        scope = (
            hp.conditional_scope(cond.parent, list(cond.values))
            if cond is not None
            else contextlib.nullcontext()
        )
        with scope:
            value = _register(hp, param)
        if value is not None and (cond is None or values.get(cond.parent) in cond.values):
            values[param.name] = value
    return values


def _register(hp: kt.HyperParameters, param: Param) -> Any:
    if isinstance(param, Fixed):
        return hp.Fixed(param.name, param.default)
    if isinstance(param, Bool):
        return hp.Boolean(param.name, default=param.default)
    if isinstance(param, Choice):
        return hp.Choice(
            param.name, list(param.values), ordered=param.ordered, default=param.default
        )
    if isinstance(param, Float):
        return hp.Float(
            param.name,
            min_value=param.low,
            max_value=param.high,
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
