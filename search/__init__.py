"""Hyperparameter search for Keras models, on KerasTuner.

From Python::

    import search
    run = search.run(build, x, y, test_data=(x_test, y_test), tuner="hyperband")
    run.best_hyperparameters, run.test_metrics, run.report()

The API is imported on first use, so that ``python -m search`` can choose Keras' backend
before Keras loads.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "run": "search.api",
    "resume": "search.api",
    "load": "search.api",
    "Run": "search.api",
    "Experiment": "search.experiments",
    "Observer": "search.tuners",
    "Data": "search.data",
    "SearchError": "search.errors",
    "DataError": "search.errors",
    "SpaceError": "search.errors",
    "RunFolderError": "search.errors",
    "SearchInterrupted": "search.errors",
}
_RENAMED = {"Data": "ArrayData"}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'search' has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name]), _RENAMED.get(name, name))
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
