"""A model file Keras saved, read back, or one line saying what Keras could not find."""

from __future__ import annotations

import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import keras

from search.errors import SearchError
from search.failures import exception_line, innermost_cause


def load_saved(
    file: Path, named: str, fix: str, custom_objects: Mapping[str, Any] | None = None,
    safe_mode: bool = True, compile: bool = True,
) -> keras.Model:  # fmt: skip
    """``file`` as Keras loads it (``keras.saving.load_model``).

    Args:
        file: the saved model.
        named: how a message names the model (e.g. "the retrained model").
        fix: what the user can do when Keras cannot load it.
        custom_objects: classes and functions Keras does not know by name; None: none.
        safe_mode: False loads a ``Lambda`` layer's Python code.
        compile: restore the model's compiled loss, metrics and optimizer.

    Returns:
        The model.

    Raises:
        SearchError: ``file`` is not a ``.keras`` zip archive, or Keras cannot load it
            (``named``, the first line of what Keras could not find, and ``fix``).
    """
    check_archive(file, named, "the file is damaged or was replaced: restore it")
    try:
        return keras.saving.load_model(
            file, custom_objects=dict(custom_objects or {}), safe_mode=safe_mode, compile=compile
        )
    except (TypeError, ValueError) as exc:
        # Keras wraps the error naming the class in others that print its whole config.
        why = exception_line(innermost_cause(exc)).split(". ")[0].rstrip(".")
        raise SearchError(f"{named}: Keras cannot load it ({why}); {fix}") from None


def check_archive(file: Path, named: str, fix: str) -> None:
    """SearchError naming a ``.keras`` file that is not a zip archive (Keras would say
    "File not found" of it): ``named`` as the message names it, and ``fix``."""
    if file.suffix == ".keras" and file.is_file() and not zipfile.is_zipfile(file):
        raise SearchError(f"{named}: not a Keras model file (not a .keras zip archive); {fix}")
