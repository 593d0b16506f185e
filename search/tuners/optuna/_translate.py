"""A Space as Optuna distributions; conditional parameters are suggested define-by-run."""

from __future__ import annotations

from typing import Any

import optuna
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)

from search.errors import SpaceError
from search.space import Bool, Choice, Fixed, Float, Int, Param, Space, cross_product
from search.tuners._registry import MAX_LISTED


def distribution(param: Param, source: str = "<space>") -> BaseDistribution | None:
    """The Optuna distribution of a searched parameter (None for a fixed one).

    Args:
        param: the hyperparameter.
        source: the space's source, named in the error.

    Returns:
        A categorical (bools and choices), float or int distribution; None for a fixed value.

    Raises:
        SpaceError: Optuna cannot express the parameter's kind; the message names it.
    """
    if isinstance(param, Fixed):
        return None
    if isinstance(param, Bool):
        return CategoricalDistribution([False, True])
    if isinstance(param, Choice):
        return CategoricalDistribution(list(param.values))
    if isinstance(param, Float):
        return FloatDistribution(param.low, param.high, log=param.log, step=param.step)
    if isinstance(param, Int):
        return IntDistribution(param.low, param.high, log=param.log, step=param.step)
    raise SpaceError(f"{source}: {param.name}: Optuna cannot express a {param.kind}")


def distributions(space: Space) -> dict[str, BaseDistribution]:
    """Every searched parameter's distribution; checks the whole space up front.

    Args:
        space: the search space.

    Returns:
        Each distribution by name, in the space's order, fixed parameters left out.

    Raises:
        SpaceError: Optuna cannot express one of the parameters.
    """
    out = {}
    for param in space:
        dist = distribution(param, space.source)
        if dist is not None:
            out[param.name] = dist
    return out


def unconditional(space: Space) -> dict[str, BaseDistribution]:
    """Distributions of the parameters that are always active: ``study.ask``'s fixed ones.

    Args:
        space: the search space.

    Returns:
        Each unconditional searched parameter's distribution by name, in the space's order.

    Raises:
        SpaceError: Optuna cannot express one of the space's parameters.
    """
    return {
        name: dist
        for name, dist in distributions(space).items()
        if space[name].condition is None
    }


def sample(trial: optuna.Trial, space: Space) -> dict[str, Any]:
    """Values for one trial: fixed ones as given, unconditional ones from ``study.ask``'s
    fixed distributions, conditional ones suggested only when their parent is active.

    Args:
        trial: the trial ``study.ask`` gave, its unconditional values already drawn.
        space: the search space.

    Returns:
        The value of each active parameter by name, in the space's order; inactive ones left out.
    """
    values: dict[str, Any] = {}
    for param in space:
        if not _is_active(param, values):
            continue
        if isinstance(param, Fixed):
            values[param.name] = param.default
        elif param.name in trial.params:
            values[param.name] = trial.params[param.name]
        else:
            values[param.name] = suggest(trial, param.name, distribution(param, space.source))
    return values


def _grid_values(dist: BaseDistribution | None) -> list[Any] | None:
    """Every value a distribution takes, as Optuna's params hold them; None for a continuous
    one, and for one of more values than a grid lists (counted, not listed: 1..10**20 is a
    range too)."""
    if isinstance(dist, CategoricalDistribution):
        return list(dist.choices)
    if isinstance(dist, IntDistribution):
        if (dist.high - dist.low) // dist.step >= MAX_LISTED:
            return None
        return list(range(dist.low, dist.high + 1, dist.step))
    if isinstance(dist, FloatDistribution) and dist.step is not None:
        count = round((dist.high - dist.low) / dist.step)
        if count >= MAX_LISTED:
            return None
        return [min(dist.low + i * dist.step, dist.high) for i in range(count + 1)]
    return None


def _param_values(param: Param, source: str) -> list[Any] | None:
    """Every value a parameter takes (a fixed one: its value); None for a continuous one."""
    dist = distribution(param, source)
    return [param.default] if dist is None else _grid_values(dist)


def _is_active(param: Param, values: dict[str, Any]) -> bool:
    """Whether ``param`` is active given its parent's value in ``values``."""
    cond = param.condition
    return cond is None or values.get(cond.parent, _MISSING) in cond.values


def grid(space: Space, limit: int = MAX_LISTED) -> list[dict[str, Any]] | None:
    """Every configuration of a space's searched parameters, each as a trial's params hold
    it (a conditional one only where its parent's value makes it active).

    Args:
        space: the search space.
        limit: the most configurations listed.

    Returns:
        The configurations; None where a parameter is continuous or they are more than ``limit``.
    """
    configs = cross_product(space, lambda param: _param_values(param, space.source),
                            lambda param: param.name, _is_active, limit)
    if configs is None:
        return None
    searched = distributions(space)
    return [{k: v for k, v in config.items() if k in searched} for config in configs]


def suggest(trial: optuna.Trial, name: str, dist: BaseDistribution | None) -> Any:
    """``trial.suggest_*`` for a distribution, through Optuna's public API."""
    if isinstance(dist, FloatDistribution):
        return trial.suggest_float(name, dist.low, dist.high, log=dist.log, step=dist.step)
    if isinstance(dist, IntDistribution):
        return trial.suggest_int(name, dist.low, dist.high, log=dist.log, step=dist.step)
    if isinstance(dist, CategoricalDistribution):
        return trial.suggest_categorical(name, dist.choices)
    raise TypeError(f"{name}: no suggestion for {dist!r}")


_MISSING = object()
