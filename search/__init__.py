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
import sys
from typing import Any

from search.quiet import stderr_kept_back

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


_MODULES = ("experiments",)
"""Subpackages the API names (``search.experiments.get("fashion")``), imported on first use too."""


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS and name not in _MODULES:
        raise AttributeError(f"module 'search' has no attribute {name!r}")
    module = f"search.{name}" if name in _MODULES else _EXPORTS[name]
    if module in sys.modules or "tensorflow" in sys.modules:
        loaded = importlib.import_module(module)
    else:  # the API is what loads Keras (and TensorFlow): without their loading notices
        with stderr_kept_back():
            loaded = importlib.import_module(module)
    value = loaded if name in _MODULES else getattr(loaded, _RENAMED.get(name, name))
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS, *_MODULES])
