"""Every configuration of a space whose parameters each take a few values."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

P = TypeVar("P")


def cross_product(
    params: Iterable[P],
    choices: Callable[[P], list[Any] | None],
    name: Callable[[P], str],
    active: Callable[[P, dict[str, Any]], bool],
    limit: int,
) -> list[dict[str, Any]] | None:
    """Every configuration of ``params``, each holding its active parameters only.

    Args:
        params: the parameters, each conditional one after its parent.
        choices: the values a parameter takes; None for one that takes too many to list.
        name: a parameter's name.
        active: whether a parameter is active in a configuration of the parameters before it.
        limit: the most configurations listed.

    Returns:
        The configurations; None where a parameter's values are not listed or the
        configurations are more than ``limit``.
    """
    configs: list[dict[str, Any]] = [{}]
    for param in params:
        values = choices(param)
        if values is None:
            return None
        grown = []
        for config in configs:
            if active(param, config):
                grown += [{**config, name(param): value} for value in values]
            else:
                grown.append(config)
        if len(grown) > limit:
            return None
        configs = grown
    return configs
