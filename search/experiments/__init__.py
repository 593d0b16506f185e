"""The experiments ``python -m search run`` knows by name."""

from search.experiments import _fashion  # noqa: F401  (registers "fashion")
from search.experiments._registry import DataOptions, Experiment, get, names, register

__all__ = ["DataOptions", "Experiment", "get", "names", "register"]
