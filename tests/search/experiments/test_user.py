"""A user's own model checked before the search: what a misfit prints."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

SCRIPT = '''
import keras  # the user's own import: TensorFlow loads before search sets its log level
import numpy as np
import search


def build(hp):
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


x = np.random.default_rng(0).normal(size=(40, 4)).astype("float32")
try:
    search.run(build, x, np.arange(40) % 5, tuner="random", max_trials=1, results=RESULTS, quiet=True)
except search.SearchError as exc:
    print(exc)
'''


def test_labels_a_model_refuses_are_told_once_without_tensorflows_log_lines(tmp_path: Path) -> None:
    """TensorFlow logs the op that failed (``W0000 ... OP_REQUIRES failed``) to stderr
    whatever the level set once it has loaded: the SearchError says it, alone."""
    script = tmp_path / "labels.py"
    script.write_text(SCRIPT.replace("RESULTS", repr(str(tmp_path / "results"))))
    env = {key: value for key, value in os.environ.items() if key != "TF_CPP_MIN_LOG_LEVEL"}
    env.update(PYTHONPATH=str(ROOT), KERAS_BACKEND="tensorflow")
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300,
                          cwd=ROOT, env=env)  # fmt: skip
    assert "does not fit build's model" in done.stdout and "Received a label value of 4" in done.stdout
    assert "OP_REQUIRES" not in done.stderr and "Received a label value" not in done.stderr, done.stderr
