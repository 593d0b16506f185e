"""TensorFlow's private internals, in one place: its registry of gradient functions.
TensorFlow is imported only when a function needs it (it is one Keras backend of two)."""

from __future__ import annotations

from typing import Any

from search.compat._versions import require

TENSORFLOW_TESTED = (">=2.16", "<2.22")
"""The TensorFlow versions these adapters are tested with (pip specifiers)."""
DISTRIBUTIONS = ("tensorflow", "tensorflow-cpu")


def check_version() -> None:
    """Raise SearchError unless the installed TensorFlow is a tested version."""
    require("TensorFlow", DISTRIBUTIONS, TENSORFLOW_TESTED)


def gradient_registry() -> dict[str, Any] | None:
    """TensorFlow's global registry of gradient functions, by name (None if it moved)."""
    from tensorflow.python.framework import ops as tf_ops

    registry = getattr(getattr(tf_ops, "_gradient_registry", None), "_registry", None)
    return registry if isinstance(registry, dict) else None
