"""Errors are plain exceptions of the library: Python names its keywords, the command line
its flags and exit codes."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

import search
from search.cli import build_parser, flag_of, main
from search.errors import (
    DataError,
    RunFolderError,
    SearchError,
    SearchInterrupted,
    SpaceError,
    option,
    render,
)
from search.tuners import show_trial_tracebacks
from tests import user_models as um

INTERRUPTING = '''
import signal

import keras
import keras_tuner as kt
import numpy as np
import search


class Interrupted(kt.HyperModel):
    """Its first fit sends this process signal {signum}, as Ctrl-C or `kill` would."""

    def build(self, hp):
        model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(2, activation="softmax")])
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        return model

    def fit(self, hp, model, *args, **kwargs):
        signal.raise_signal({signum})
        return model.fit(*args, **kwargs)


def load():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(100, 6)).astype("float32")
    y = (x[:, 0] > 0).astype("int64")
    return search.Data(x[:80], y[:80], test_data=(x[80:], y[80:]))


experiment = search.Experiment.from_hypermodel("stops", Interrupted(), load, max_trials=2, max_epochs=2)
'''


def test_python_reads_keywords_and_the_command_line_reads_flags(tmp_path: Path, capsys) -> None:
    x, y = um.tiny_data()
    with pytest.raises(SearchError) as caught:
        search.run(um.build, x, y, tuner="random", max_trials=0, results=tmp_path / "api", quiet=True)
    assert str(caught.value) == "max_trials (0) must be at least 1"
    assert main(["run", "fashion", "--tuner", "random", "--max-trials", "0", "--results",
                 str(tmp_path / "cli")]) == 2
    assert capsys.readouterr().err == "error: --max-trials (0) must be at least 1\n"
    assert not (tmp_path / "api").exists() and not (tmp_path / "cli").exists()


def test_markers_render_as_keywords_or_as_the_parsers_flags() -> None:
    message = f"{option('val_size')} ({0}) must be at least 1; or set {option('no_such_thing')}"
    assert str(SearchError(message)) == "val_size (0) must be at least 1; or set no_such_thing"
    assert SearchError(message).template == message
    flagged = render(message, flag_of(build_parser()))
    assert flagged == "--val-size (0) must be at least 1; or set --no-such-thing"
    assert flag_of(build_parser())("no_baseline") == "--no-baseline"  # the parser's own flag


def test_the_errors_are_value_and_runtime_errors_without_exit_codes() -> None:
    for cls in (DataError, SpaceError):
        assert issubclass(cls, SearchError) and issubclass(cls, ValueError)
    for cls in (RunFolderError, SearchInterrupted):
        assert issubclass(cls, SearchError) and issubclass(cls, RuntimeError)
    stopped = SearchInterrupted("stopped after 1 trial", signal.SIGTERM)
    assert stopped.signum == signal.SIGTERM
    for error in (SearchError("x"), DataError("x"), stopped):
        assert not hasattr(error, "exit_code")


def test_the_documented_errors_are_importable_from_search() -> None:
    for cls in (SearchError, DataError, SpaceError, RunFolderError, SearchInterrupted):
        assert getattr(search, cls.__name__) is cls
        assert cls.__name__ in search.__all__


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_stop_signal_exits_with_128_plus_its_number(
    signum: int, code: int, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "stops.py").write_text(INTERRUPTING.replace("{signum}", f"signal.{signum.name}"))
    try:
        assert main(["run", "stops.py:experiment", "--tuner", "random", "--results",
                     str(tmp_path / "results"), "--name", "s", "--quiet"]) == code  # fmt: skip
    finally:
        show_trial_tracebacks(False)
    err = capsys.readouterr().err
    assert err.startswith("stopped after 0 trials; resume with: python -m search resume")  # no "error:"
