"""Finding a user's object again by ``file.py:NAME``."""

from __future__ import annotations

from pathlib import Path

import pytest

from search.errors import SearchError
from search.experiments._reference import resolve

SCRIPT = '''
import keras
import numpy as np
import search


def build(hp):
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse", metrics=["mean_absolute_error"])
    return model


x = np.random.default_rng(0).normal(size=(40, 4)).astype("float32")
run = search.run(build, x, x[:, 0], objective="val_loss", tuner="random", max_trials=1, max_epochs=1,
                 results=RESULTS, name="nested", retrain=False, quiet=True)
'''


def test_a_script_that_searches_when_imported_is_told_to_guard_its_search(tmp_path: Path) -> None:
    """export and resume import the script for its build: its search must not run again."""
    script = tmp_path / "my_search.py"
    script.write_text(SCRIPT.replace("RESULTS", repr(str(tmp_path / "results"))))
    with pytest.raises(SearchError) as refused:
        resolve(f"{script}:build")
    message = str(refused.value)
    assert message.startswith(f"{script}: calls search.run when imported")
    assert 'if __name__ == "__main__":' in message and "importing it failed" not in message
    assert not (tmp_path / "results").exists()


def test_a_script_that_resumes_when_imported_is_told_to_guard_it(tmp_path: Path) -> None:
    script = tmp_path / "my_resume.py"
    script.write_text("import search\n\ndef build(hp):\n    pass\n\nsearch.resume('somewhere')\n")
    with pytest.raises(SearchError, match=r"calls search.resume when imported"):
        resolve(f"{script}:build")
