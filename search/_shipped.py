"""The files the package ships: its space files, found by name from any folder."""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def shipped_space(given: str | Path) -> Path:
    """``given`` as a path; a bare file name that names no file here but a space file of the
    package (as ``spaces`` lists it: ``fashion-gpu.toml``) as that file.

    Args:
        given: ``--space``'s, ``spaces show``'s or ``search.run(space=...)``'s value.

    Returns:
        The path to read: ``given`` itself where it exists or is more than a ``.toml`` name.
    """
    text = str(given)
    path = Path(text)
    shipped = Path(str(resources.files("spaces") / text))
    if path.exists() or path.name != text or not text.endswith(".toml") or not shipped.is_file():
        return path
    return shipped
