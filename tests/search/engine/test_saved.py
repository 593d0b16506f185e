"""Reading a saved model back: what the one line says when it cannot."""

from __future__ import annotations

from pathlib import Path

import pytest

from search.engine import load_saved
from search.errors import SearchError


def test_a_model_file_that_is_not_a_zip_archive_is_named_as_such(tmp_path: Path) -> None:
    """Keras says "File not found" of a file that is there but holds text: say what it is."""
    file = tmp_path / "best_model.keras"
    file.write_text("garbage")
    with pytest.raises(SearchError) as caught:
        load_saved(file, str(file), "pass custom_objects")
    message = str(caught.value)
    assert message.startswith(f"{file}: not a Keras model file (not a .keras zip archive)"), message
    assert "not found" not in message and "custom_objects" not in message
