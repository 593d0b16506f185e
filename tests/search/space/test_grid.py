"""cross_product: every configuration of parameters that each take a few values."""

from __future__ import annotations

from typing import Any

from search.space import cross_product

PARAMS = [("augment", [False, True], None), ("shift", [0.0, 0.1], "augment"), ("units", [32, 64], None)]


def _product(params: list[tuple[str, list[Any] | None, str | None]], limit: int = 100) -> Any:
    return cross_product(
        params, lambda p: p[1], lambda p: p[0],
        lambda p, config: p[2] is None or config.get(p[2]) is True, limit,
    )  # fmt: skip


def test_a_conditional_parameter_only_where_its_parent_makes_it_active() -> None:
    configs = _product(PARAMS)
    assert configs == [
        {"augment": False, "units": 32}, {"augment": False, "units": 64},
        {"augment": True, "shift": 0.0, "units": 32}, {"augment": True, "shift": 0.0, "units": 64},
        {"augment": True, "shift": 0.1, "units": 32}, {"augment": True, "shift": 0.1, "units": 64},
    ]  # fmt: skip


def test_none_for_a_parameter_not_listed_or_more_than_the_limit() -> None:
    assert _product([*PARAMS, ("rate", None, None)]) is None
    assert _product(PARAMS, limit=5) is None
    assert _product(PARAMS, limit=6) is not None


def test_no_parameters_is_one_empty_configuration() -> None:
    assert _product([]) == [{}]
