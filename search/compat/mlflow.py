"""MLflow's private internals, in one place: the URI schemes its tracking store registry
accepts. MLflow is an optional extra (``.[mlflow]``): it is imported only when a function
needs it."""

from __future__ import annotations

from search.compat._versions import require

MLFLOW_TESTED = (">=3", "<4")
"""The MLflow versions these adapters are tested with (pip specifiers)."""
DISTRIBUTIONS = ("mlflow", "mlflow-skinny")


def check_version() -> None:
    """Raise SearchError unless the installed MLflow is a tested version."""
    require("MLflow", DISTRIBUTIONS, MLFLOW_TESTED)


def tracking_schemes() -> list[str]:
    """The URI schemes MLflow's tracking store registry accepts, sorted (``""``: a path)."""
    from mlflow.tracking._tracking_service.utils import _tracking_store_registry

    return sorted(getattr(_tracking_store_registry, "_registry", {}))
