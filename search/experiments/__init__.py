"""The experiments ``python -m search run`` knows by name."""

from search.experiments import (
    _clothing,  # noqa: F401  (registers "clothing")
    _fashion,  # noqa: F401  (registers "fashion")
)
from search.experiments._registry import DataOptions, Experiment, ModelOptions, get, names, register

__all__ = ["DataOptions", "Experiment", "ModelOptions", "get", "names", "register"]
