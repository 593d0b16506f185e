"""Versions of the packages a run depends on, recorded in run.json."""

from __future__ import annotations

import platform
from importlib import metadata

import keras

PACKAGES = (
    "keras-search", "keras", "keras-tuner", "tensorflow-cpu", "tensorflow", "jax",
    "optuna", "numpy", "pandas", "plotly",
)  # fmt: skip


def package_versions() -> dict[str, str]:
    """Installed versions of the packages that shape results, plus Python and Keras' backend."""
    versions = {"python": platform.python_version(), "keras_backend": keras.backend.backend()}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions
