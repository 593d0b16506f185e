"""Declarative search spaces: one definition drives every tuner backend."""

from search.space._grid import cross_product
from search.space._keras_tuner import TUNER_PREFIX, define, space_from_hyperparameters
from search.space._load import load_space, parse_fix, parse_space, space_from_dict
from search.space._params import Bool, Choice, Condition, Fixed, Float, Int, Param
from search.space._show import format_space
from search.space._space import Space, comparable

__all__ = [
    "TUNER_PREFIX",
    "Bool",
    "Choice",
    "Condition",
    "Fixed",
    "Float",
    "Int",
    "Param",
    "Space",
    "comparable",
    "cross_product",
    "define",
    "format_space",
    "load_space",
    "parse_fix",
    "parse_space",
    "space_from_dict",
    "space_from_hyperparameters",
]
