"""Where keras-search keeps what it can compute again: decoded images, compiled steps."""

from __future__ import annotations

import os
from pathlib import Path

CACHE_ENV = "SEARCH_CACHE_DIR"


def cache_dir(kind: str) -> Path:
    """``$SEARCH_CACHE_DIR/KIND``, else ``~/.cache/keras-search/KIND`` (not created here)."""
    base = Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "keras-search")
    return base / kind


__all__ = ["CACHE_ENV", "cache_dir"]
