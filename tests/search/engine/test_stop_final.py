"""Ctrl-C and SIGTERM in a run's final step (the validated retrain, the finalists) stop it
as they stop the search: at the next batch boundary, resumable, with the command that
resumes it; and a resumed run's ``seconds`` counts the time of all its processes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import cast

import pytest

from search.cli import main
from search.engine._context import RunContext
from search.engine._pipeline import _stops
from search.errors import SearchInterrupted
from search.storage import RunFolder, trained_epochs
from tests.conftest import ROOT
from tests.helpers.processes import run_killed
from tests.helpers.retrains import Retrains, run_retrain

SIGNALLED_EPOCH = 1
"""The signals come as the final training's second epoch begins (one epoch done)."""

STOPPING = '''
import os
import signal

import keras
import keras_tuner as kt
import numpy as np
import search


class Signals(keras.callbacks.Callback):
    """Sends this process its signals as epoch {epoch} begins, as Ctrl-C or `kill` would."""

    def __init__(self, signums):
        super().__init__()
        self.signums = signums

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == {epoch}:
            for signum in self.signums:
                signal.raise_signal(signum)


class StopsInFinal(kt.HyperModel):
    """Its final trainings (EarlyStopping given) get the signals STOP_SIGNALS names."""

    def build(self, hp):
        units = hp.Choice("units", [2, 4, 8, 16, 32, 64])
        model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(units, activation="relu"),
                                  keras.layers.Dense(2, activation="softmax")])
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        return model

    def fit(self, hp, model, *args, callbacks=(), **kwargs):
        callbacks = list(callbacks)
        names = os.environ.get("STOP_SIGNALS")
        if names and any(isinstance(c, keras.callbacks.EarlyStopping) for c in callbacks):
            callbacks.append(Signals([getattr(signal, name) for name in names.split(",")]))
        return model.fit(*args, callbacks=callbacks, **kwargs)


def load():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(120, 6)).astype("float32")
    y = (x[:, 0] > 0).astype("int64")
    return search.Data(x[:100], y[:100], test_data=(x[100:], y[100:]))


experiment = search.Experiment.from_hypermodel("stops", StopsInFinal(), load, max_trials=2, max_epochs=1)
'''.replace("{epoch}", str(SIGNALLED_EPOCH))


def _stopped_run(tmp_path: Path, signals: str, *extra: str) -> tuple[subprocess.CompletedProcess, Path]:
    """A run (a process of its own) whose final training gets ``signals``; its folder."""
    script = tmp_path / "stops.py"
    script.write_text(STOPPING)
    done = subprocess.run(
        [sys.executable, "-m", "search", "run", f"{script}:experiment", "--tuner", "random",
         "--max-trials", "2", "--max-epochs", "1", "--retrain-max-epochs", "3", "--seed", "1",
         "--results", str(tmp_path / "results"), "--name", "s", *extra],
        cwd=ROOT, env={**os.environ, "STOP_SIGNALS": signals}, capture_output=True, text=True,
        timeout=300,
    )  # fmt: skip
    return done, tmp_path / "results" / "stops" / "s"


def _meta(folder: Path) -> dict:
    return json.loads((folder / "run.json").read_text())


def _check_stopped(done: subprocess.CompletedProcess, folder: Path, signum: int) -> dict:
    """Stopped as a search is: its exit code, the resume command, run.json interrupted with
    the seconds so far; no traceback."""
    out = done.stdout + done.stderr
    assert done.returncode == 128 + signum, out[-3000:]
    said = "stopped in the final training, after 2 trials; resume continues it: python -m search resume"
    assert f"{said} {folder}" in out
    assert "Traceback" not in out
    meta = _meta(folder)
    assert meta["status"] == "interrupted"
    assert meta["seconds"] > 0
    return meta


@pytest.mark.parametrize(
    ("signals", "signum"),
    [("SIGTERM", signal.SIGTERM), ("SIGINT", signal.SIGINT), ("SIGINT,SIGINT", signal.SIGINT)],
)
def test_a_signal_in_the_retrain_stops_it_resumably(
    signals: str, signum: int, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    done, folder = _stopped_run(tmp_path, signals)
    stopped = _check_stopped(done, folder, signum)
    (state,) = folder.glob("retrain.*.state.npz")
    assert trained_epochs(state) == SIGNALLED_EPOCH  # saved at the epoch's end, then stopped
    assert "retrain epoch 1 " in done.stdout and "retrain epoch 2 " not in done.stdout
    assert main(["status", str(folder)]) == 0
    assert f"time: {stopped['seconds'] / 60:.1f} min in all" in capsys.readouterr().out

    assert main(["resume", str(folder)]) == 0
    out = capsys.readouterr().out
    assert f"continued after epoch {SIGNALLED_EPOCH}" in out
    meta = _meta(folder)
    assert meta["status"] == "finished"
    assert meta["seconds"] >= stopped["seconds"]  # both processes' time


def test_a_signal_in_a_finalist_stops_it_resumably(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    done, folder = _stopped_run(tmp_path, "SIGTERM", "--finalists", "2")
    stopped = _check_stopped(done, folder, signal.SIGTERM)
    assert "failed" not in done.stdout  # the stop is not the finalist's failure
    assert not list((folder / "finalists").glob("*.json"))
    (state,) = (folder / "finalists").glob("*.state.npz")
    assert trained_epochs(state) == SIGNALLED_EPOCH

    assert main(["resume", str(folder)]) == 0
    out = capsys.readouterr().out
    assert f"finalist 1/2: trial {_meta(folder)['final']['finalists'][0]['trial']}" in out
    assert f"continued after epoch {SIGNALLED_EPOCH}" in out
    meta = _meta(folder)
    assert meta["status"] == "finished" and len(meta["final"]["finalists"]) == 2
    assert meta["seconds"] >= stopped["seconds"]


def test_a_run_killed_with_9_counts_at_least_its_trials_and_final_training(tmp_path: Path) -> None:
    """Nothing recorded the killed process's time: the run's own records are its floor."""
    code = (
        "from pathlib import Path; from tests.helpers.retrains import Retrains, run_retrain;"
        f" run_retrain(Retrains.interrupting(1, kill=True), Path({str(tmp_path)!r}), 'k')"
    )
    run_killed(code)
    folder = next(tmp_path.glob("*/k"))
    run = run_retrain(Retrains(), tmp_path, "k")  # the same run again
    trials = json.loads((folder / "trials.json").read_text())["trials"]
    final = run.meta["final"]
    assert run.meta["seconds"] >= round(sum(t["seconds"] for t in trials) + final["seconds"], 1)


@pytest.mark.parametrize(
    ("signals", "signum"), [("SIGTERM", signal.SIGTERM), ("SIGINT,SIGINT", signal.SIGINT)]
)
def test_a_signal_in_an_export_stops_it_writing_nothing(tmp_path: Path, signals: str, signum: int) -> None:
    """An export stopped in its retrain leaves no model, staged or not, and the run as it was."""
    script = tmp_path / "stops.py"
    script.write_text(STOPPING)
    folder = tmp_path / "results" / "stops" / "s"
    assert main(["run", f"{script}:experiment", "--tuner", "random", "--max-trials", "2", "--max-epochs",
                 "1", "--no-retrain", "--seed", "1", "--results", str(folder.parent.parent), "--name", "s",
                 "--quiet"]) == 0  # fmt: skip
    paths = set(folder.rglob("*"))
    before = {p: p.read_bytes() for p in paths if p.is_file()}
    done = subprocess.run(
        [sys.executable, "-m", "search", "export", str(folder), "--retrain-max-epochs", "3"],
        cwd=ROOT, env={**os.environ, "STOP_SIGNALS": signals}, capture_output=True, text=True,
        timeout=300,
    )  # fmt: skip
    out = done.stdout + done.stderr
    assert done.returncode == 128 + signum, out[-3000:]
    stopped = f"export stopped by {signal.Signals(signum).name}: nothing written to {folder / 'export.keras'}"
    assert f"{stopped}; the run is unchanged" in out
    assert "Traceback" not in out
    assert set(folder.rglob("*")) == paths  # no staged model or folder left behind
    assert {p: p.read_bytes() for p in paths if p.is_file()} == before


def test_a_stop_outside_the_final_training_is_not_said_to_be_in_it(tmp_path: Path) -> None:
    """A Ctrl-C while the search sets up or waits for other workers' last trials comes
    through outside KerasTuner's loop: it is a stop in the search, not in the final training."""
    folder = RunFolder(tmp_path / "r")
    folder.path.mkdir()
    folder.write_trials([])
    ctx = cast(RunContext, SimpleNamespace(folder=folder, resume=f"python -m search resume {folder.path}"))
    with pytest.raises(SearchInterrupted, match=r"^stopped after 0 trials; resume with: python -m search"):
        with _stops(ctx, final=False):
            raise KeyboardInterrupt
    with pytest.raises(SearchInterrupted, match=r"^stopped in the final training, after 0 trials; resume"):
        with _stops(ctx, final=True):
            raise KeyboardInterrupt
