"""Your own experiment from the CLI (``file.py:NAME``), and API runs continued elsewhere."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import search
from search.cli import main
from search.storage import RunFolder
from tests.conftest import ROOT
from tests.helpers.processes import wait_mid_trial

EXPERIMENT = '''
import keras
import numpy as np
import search


def build(hp):
    model = keras.Sequential([
        keras.Input((6,)),
        keras.layers.Dense(hp.Int("units", 4, 12, step=4), activation="relu"),
        keras.layers.Dense(2, activation="softmax"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(hp.Choice("learning_rate", [0.01, 0.003])),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def load():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(100, 6)).astype("float32")
    y = (x[:, 0] + x[:, 1] > 0).astype("int64")
    return search.Data(x[:80], y[:80], test_data=(x[80:], y[80:]))


experiment = search.Experiment.from_hypermodel("mine", build, load, max_trials=2, max_epochs=2)
not_an_experiment = build
'''


@pytest.fixture
def plugin(tmp_path: Path) -> Path:
    path = tmp_path / "my_experiment.py"
    path.write_text(EXPERIMENT)
    return path


def test_run_an_experiment_from_a_file(plugin: Path, tmp_path: Path, capsys) -> None:
    results = tmp_path / "results"
    assert Path.cwd() == tmp_path  # the file is named relative to here
    code = main(["run", f"{plugin.name}:experiment", "--tuner", "random", "--results", str(results),
                 "--name", "p", "--retrain-max-epochs", "2", "--quiet"])  # fmt: skip
    assert code == 0, capsys.readouterr()
    meta = json.loads((results / "mine" / "p" / "run.json").read_text())
    assert meta["experiment"] == "mine" and meta["status"] == "finished"
    assert meta["request"]["experiment"] == f"{plugin}:experiment"  # absolute: resumable anywhere
    assert meta["budget"]["max_trials"] == 2 and meta["final"]["test_metrics"]["accuracy"] >= 0
    trials = json.loads((results / "mine" / "p" / "trials.json").read_text())["trials"]
    assert len(trials) == 2


def test_isolated_trials_import_the_experiment_again(plugin: Path, tmp_path: Path, capsys) -> None:
    results = tmp_path / "results"
    code = main(["run", f"{plugin}:experiment", "--tuner", "optuna", "--results", str(results),
                 "--name", "iso", "--isolate", "--no-retrain", "--quiet"])  # fmt: skip
    assert code == 0, capsys.readouterr()
    trials = json.loads((results / "mine" / "iso" / "trials.json").read_text())["trials"]
    assert len(trials) == 2 and len({t["pid"] for t in trials}) == 2  # a process each


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("nosuch_file.py:experiment", "no such file"),
        ("{plugin}:nope", "has no 'nope'"),
        ("{plugin}:not_an_experiment", "is a function, not a search.Experiment"),
        ("no_such_package_xyz.mod:experiment", "cannot import it"),
    ],
)
def test_bad_experiment_references(target: str, message: str, plugin: Path, tmp_path: Path, capsys) -> None:
    code = main(["run", target.format(plugin=plugin), "--tuner", "random",
                 "--results", str(tmp_path / "r")])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and message in err and "Traceback" not in err
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize(
    "given", [["--data-dir", "."], ["--train-size", "40"], ["--train-size", "all"], ["--val-size", "10"]]
)
def test_data_options_an_own_data_function_would_ignore_are_refused(
    given: list[str], plugin: Path, tmp_path: Path, capsys
) -> None:
    """The data function takes no arguments: the run searched all its rows, silently."""
    code = main(["run", f"{plugin.name}:experiment", "--tuner", "random", *given,
                 "--results", str(tmp_path / "r")])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert f"{given[0]} {given[1]}: experiment 'mine' gets its data from your own code" in err
    assert f"leave out {given[0]}" in err
    assert not (tmp_path / "r").exists()
    with pytest.raises(search.SearchError, match="^data_dir .*: experiment 'mine' gets its data"):
        search.run(f"{plugin.name}:experiment", data_dir=".", results=tmp_path / "r")


def test_a_run_that_kept_an_ignored_data_folder_still_resumes(plugin: Path, tmp_path: Path, capsys) -> None:
    """A run from before the refusal kept the --data-dir it ignored: it resumes as it began
    (its own folder given again too); another folder given now is refused."""
    results = tmp_path / "r"
    assert main(["run", f"{plugin.name}:experiment", "--tuner", "random", "--results", str(results),
                 "--name", "p", "--no-retrain", "--quiet"]) == 0  # fmt: skip
    folder = RunFolder(results / "mine" / "p")
    request = folder.read_meta()["request"]
    folder.update_meta(status="interrupted", request={**request, "data_dir": str(tmp_path)})
    assert main(["resume", str(folder.path), "--data-dir", str(tmp_path), "--quiet"]) == 0
    folder.update_meta(status="interrupted")
    assert main(["resume", str(folder.path), "--quiet"]) == 0
    folder.update_meta(status="interrupted")
    capsys.readouterr()
    assert main(["resume", str(folder.path), "--data-dir", str(results), "--quiet"]) == 2
    said = capsys.readouterr().err
    assert f"--data-dir {results}: experiment 'mine' gets its data from your own code" in said


def test_a_run_that_kept_an_ignored_data_folder_now_gone_still_resumes(
    plugin: Path, tmp_path: Path, capsys
) -> None:
    """Its data come from its own code, not that folder: the resume said the folder is gone
    and to give its new place with --data-dir, which it then refused."""
    results = tmp_path / "r"
    assert main(["run", f"{plugin.name}:experiment", "--tuner", "random", "--results", str(results),
                 "--name", "p", "--no-retrain", "--quiet"]) == 0  # fmt: skip
    folder = RunFolder(results / "mine" / "p")
    request = folder.read_meta()["request"]
    folder.update_meta(status="interrupted", request={**request, "data_dir": str(tmp_path / "gone")})
    capsys.readouterr()
    assert main(["resume", str(folder.path), "--quiet"]) == 0, capsys.readouterr().err


def test_a_data_function_that_raises_is_named_in_one_line(plugin: Path, tmp_path: Path, capsys) -> None:
    """A missing file in the user's own ``load``: the experiment's fault, not "unexpected"."""
    missing = "    open('/no/such/mine.npz')\n    rng = np.random"
    plugin.write_text(EXPERIMENT.replace("    rng = np.random", missing))
    code = main(["run", f"{plugin}:experiment", "--tuner", "random", "--results", str(tmp_path / "r")])
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.splitlines()[-1] == (
        "error: experiment 'mine': its data function load() raised FileNotFoundError: [Errno 2] No such"
        " file or directory: '/no/such/mine.npz'; fix it (run again with --debug for the traceback)"
    )
    assert not (tmp_path / "r" / "mine").exists() or not any((tmp_path / "r" / "mine").iterdir())


SCRIPT = '''
import sys
import search
from tests import user_models as um

x, y = um.tiny_data(1000)
search.run(um.build, x, y, tuner="optuna", max_trials=3, max_epochs=6, results=sys.argv[1],
           name="k", retrain=False, quiet=True)
'''


def test_an_api_run_resumes_in_a_new_process_after_sigkill(tmp_path: Path) -> None:
    results = tmp_path / "results"
    proc = subprocess.Popen([sys.executable, "-c", SCRIPT, str(results)], cwd=ROOT,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})  # fmt: skip
    folder = results / "build" / "k"

    wait_mid_trial(proc, folder / "trials.json", done=1)  # mid-way, its epoch state saved
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    before = json.loads((folder / "trials.json").read_text())["trials"]
    completed = {t["id"]: t for t in before if t["status"] == "completed"}
    assert completed, "the kill came before a trial completed"

    resumed = subprocess.run(
        [sys.executable, "-c", f"import search; print(search.resume({str(folder)!r}, quiet=True).status)"],
        cwd=ROOT, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert resumed.stdout.strip().endswith("finished")
    after = {t["id"]: t for t in json.loads((folder / "trials.json").read_text())["trials"]}
    assert len(after) == 3 and all(t["status"] == "completed" for t in after.values())
    for trial_id, record in completed.items():  # finished trials are kept as they were
        assert after[trial_id]["epochs"] == record["epochs"]
    interrupted = [t for t in after.values() if t["id"] not in completed]
    assert any(e.get("restored") for t in interrupted for e in t["epochs"]), (
        "the interrupted trial did not continue from its saved epoch"
    )
    run = search.load(folder)
    assert run.status == "finished" and run.best_hyperparameters


@pytest.mark.parametrize("mode", ["workers", "isolate"])
def test_api_runs_on_arrays_in_other_processes(mode: str, tmp_path: Path, monkeypatch) -> None:
    from tests import user_models as um

    monkeypatch.chdir(ROOT)  # the processes started import tests.user_models from here
    x, y = um.tiny_data()
    options = {"workers": 2} if mode == "workers" else {"isolate": True}
    run = search.run(um.Sized(units=6), x, y, tuner="optuna", max_trials=3, max_epochs=1,
                     results=tmp_path, name=mode, retrain=False, quiet=True, **options)  # fmt: skip
    assert run.status == "finished"
    trials = json.loads((run.folder / "trials.json").read_text())["trials"]
    assert len(trials) == 3 and all(t["status"] == "completed" for t in trials)
    if mode == "isolate":  # a process per trial, each importing the hypermodel again
        assert len({t["pid"] for t in trials}) == 3
    else:  # the worker imported it and joined (how many trials it got is a matter of timing)
        log = (run.folder / "worker-1.log").read_text()
        assert "worker 1:" in log and "Error" not in log
    assert run.meta["hypermodel"]["hypermodel"] == {
        "target": "tests.user_models:Sized", "args": {"units": 6, "name": None},
    }
