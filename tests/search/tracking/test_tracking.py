"""Searches tracked in a real MLflow store (SQLite, and a real `mlflow server`) and in
TensorBoard event files read back with TensorBoard's own reader."""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import search
from search.cli import main
from search.engine import _pipeline
from tests import user_models as um
from tests.conftest import ROOT
from tests.helpers.processes import wait_mid_trial

METRICS = ("loss", "accuracy", "val_loss", "val_accuracy")
SERVER_START_S = 120
SEARCH_TIMEOUT_S = 600


def need_mlflow() -> None:
    """MLflow is the `mlflow` extra: missing under CI it fails, elsewhere it skips."""
    if importlib.util.find_spec("mlflow") is None:
        message = 'MLflow is not installed: pip install -e ".[mlflow]"'
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)


def tiny_run(data: Path, results: Path, name: str, *extra: str) -> list[str]:
    """A tiny fashion run; its quick retrain (on the search's images) unless it skips it."""
    retrain = [] if "--no-retrain" in extra else ["--retrain-data", "search"]
    return [
        "run", "fashion", "--tuner", "random", "--train-size", "200", "--val-size", "100",
        "--max-trials", "2", "--max-epochs", "2", "--fix", "filters=16", "--fix", "conv_blocks=2",
        *retrain, "--data-dir", str(data), "--results", str(results), "--name", name, *extra,
    ]  # fmt: skip


@pytest.fixture(scope="module")
def tracked(synthetic_fashion: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One tiny search tracked in MLflow (a SQLite store) and TensorBoard."""
    need_mlflow()
    root = tmp_path_factory.mktemp("tracked")
    uri = f"sqlite:///{root / 'store.db'}"
    argv = tiny_run(synthetic_fashion, root / "results", "t", "--track", f"mlflow={uri}",
                    "--track", "tensorboard")  # fmt: skip
    result = subprocess.run(
        [sys.executable, "-m", "search", *argv], cwd=ROOT, capture_output=True, text=True,
        timeout=SEARCH_TIMEOUT_S,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    folder = root / "results" / "fashion" / "t"
    return {
        "uri": uri,
        "folder": folder,
        "out": result.stdout + result.stderr,
        "meta": json.loads((folder / "run.json").read_text()),
        "trials": json.loads((folder / "trials.json").read_text())["trials"],
    }


def mlflow_runs(uri: str) -> tuple[Any, list[Any]]:
    """(the parent run, the nested runs) of the fashion experiment in ``uri``."""
    import mlflow

    mlflow.set_tracking_uri(uri)
    runs = mlflow.search_runs(experiment_names=["fashion"], output_format="list")
    parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    assert len(parents) == 1, [r.data.tags for r in runs]
    nested = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == parents[0].info.run_id]
    assert len(nested) == len(runs) - 1
    return parents[0], nested


def histories(uri: str, run_id: str) -> dict[str, list[tuple[int, float]]]:
    from mlflow import MlflowClient

    client = MlflowClient(uri)
    return {
        key: sorted((m.step, m.value) for m in client.get_metric_history(run_id, key))
        for key in METRICS
    }


def expected(trial: dict[str, Any]) -> dict[str, list[tuple[int, float]]]:
    return {key: [(e["epoch"], e[key]) for e in trial["epochs"]] for key in METRICS}


def test_mlflow_holds_one_parent_and_a_nested_run_per_trial(tracked: dict[str, Any]) -> None:
    from mlflow import MlflowClient

    uri, meta, trials = tracked["uri"], tracked["meta"], tracked["trials"]
    parent, nested = mlflow_runs(uri)
    assert meta["tracking"]["mlflow"]["run_id"] == parent.info.run_id
    assert parent.info.status == "FINISHED"
    assert parent.data.tags["tuner"] == "random" and parent.data.tags["seed"] == "0"
    assert parent.data.tags["space_fingerprint"] == meta["space"]["fingerprint"]
    assert parent.data.params["max_trials"] == "2" and parent.data.params["train_images"] == "200"
    assert parent.data.tags["chosen_trial"] == meta["best"]["trial"]
    assert parent.data.metrics["test_accuracy"] == pytest.approx(meta["final"]["test_accuracy"])
    artifacts = {a.path for a in MlflowClient(uri).list_artifacts(parent.info.run_id)}
    assert {"best_model.keras", "report.html", "report.csv"} <= artifacts

    by_trial = {r.data.tags["search.trial"]: r for r in nested}
    assert sorted(by_trial) == sorted(t["id"] for t in trials)
    for trial in trials:
        run = by_trial[trial["id"]]
        assert run.data.params == {k: str(v) for k, v in trial["hyperparameters"].items()}
        assert run.data.tags["status"] == "completed" and run.info.status == "FINISHED"
        assert run.data.tags["baseline"] == str(trial["baseline"]).lower()
        assert histories(uri, run.info.run_id) == expected(trial)
    chosen = [t for t, run in by_trial.items() if run.data.tags.get("chosen") == "true"]
    assert chosen == [meta["best"]["trial"]]
    assert "INFO" not in tracked["out"] and "alembic" not in tracked["out"]


def test_search_track_sends_a_run_once(tracked: dict[str, Any], tmp_path: Path, capsys) -> None:
    """Replaying a run into another store twice: the second time, nothing is new."""
    uri = f"sqlite:///{tmp_path / 'other.db'}"
    for new_epochs in (sum(len(t["epochs"]) for t in tracked["trials"]), 0):
        assert main(["track", str(tracked["folder"]), "--to", uri]) == 0
        assert f"{new_epochs} epochs were new" in capsys.readouterr().out
    parent, nested = mlflow_runs(uri)
    assert len(nested) == len(tracked["trials"]) and parent.info.status == "FINISHED"
    for run in nested:
        trial = next(t for t in tracked["trials"] if t["id"] == run.data.tags["search.trial"])
        assert histories(uri, run.info.run_id) == expected(trial)


def test_tensorboard_hparams_and_scalars(tracked: dict[str, Any]) -> None:
    from tensorboard.backend.event_processing import event_accumulator as ea
    from tensorboard.plugins.hparams import api_pb2, metadata
    from tensorboard.util import tensor_util

    logdir = tracked["folder"] / "tensorboard"
    assert tracked["meta"]["tracking"]["tensorboard"] == "tensorboard"
    top = ea.EventAccumulator(str(logdir), size_guidance={ea.TENSORS: 0})
    top.Reload()
    content = top.PluginTagToContent(metadata.PLUGIN_NAME)[metadata.EXPERIMENT_TAG]
    experiment = metadata.parse_experiment_plugin_data(content)
    assert {h.name for h in experiment.hparam_infos} == set(tracked["meta"]["space"]["params"])
    assert {m.name.tag for m in experiment.metric_infos} == set(METRICS)
    for trial in tracked["trials"]:
        run = ea.EventAccumulator(str(logdir / f"trial_{trial['id']}"), size_guidance={ea.TENSORS: 0})
        run.Reload()
        plugin = run.PluginTagToContent(metadata.PLUGIN_NAME)
        start = metadata.parse_session_start_info_plugin_data(plugin[metadata.SESSION_START_INFO_TAG])
        values = {k: getattr(v, v.WhichOneof("kind")) for k, v in start.hparams.items()}
        assert values == pytest.approx(trial["hyperparameters"])
        end = metadata.parse_session_end_info_plugin_data(plugin[metadata.SESSION_END_INFO_TAG])
        assert end.status == api_pb2.STATUS_SUCCESS
        for key in METRICS:
            got = [(e.step, float(tensor_util.make_ndarray(e.tensor_proto))) for e in run.Tensors(key)]
            want = expected(trial)[key]
            assert [s for s, _ in got] == [s for s, _ in want]
            assert [v for _, v in got] == pytest.approx([v for _, v in want], rel=1e-6)


TRACKER_WITHOUT_TF = """
import sys
from pathlib import Path
import keras_tuner as kt
from search.engine._records import TrialRecorder
from search.storage import RunFolder
from search.tracking import TensorBoardTracker

folder = RunFolder(Path(sys.argv[1]))
folder.path.mkdir(parents=True)
recorder = TrialRecorder(folder, kt.Objective("val_accuracy", "max"))
hp = kt.HyperParameters()
hp.Float("learning_rate", 1e-4, 1e-1, sampling="log", default=1e-3)
trial = kt.engine.trial.Trial(hp, trial_id="0", status="RUNNING")
tracker = TensorBoardTracker(folder, recorder, {"learning_rate": {"type": "float", "low": 1e-4, "high": 0.1}})
for observer in (recorder, tracker):
    observer.trial_begin(trial)
for epoch in range(2):
    for observer in (recorder, tracker):
        observer.epoch_begin(trial, epoch)
        observer.epoch_end(trial, epoch, {"loss": 1.0 - epoch / 4, "val_accuracy": 0.5 + epoch / 4})
trial.status = "COMPLETED"
for observer in (recorder, tracker):
    observer.trial_end(trial)
assert "tensorflow" not in sys.modules, "the TensorBoard tracker imported TensorFlow"
"""


def test_tensorboard_tracker_does_not_import_tensorflow_on_jax(tmp_path: Path) -> None:
    """On JAX the event files are written without loading TensorFlow (which is installed)."""
    pytest.importorskip("jax")
    env = {**os.environ, "KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu"}
    result = subprocess.run(
        [sys.executable, "-c", TRACKER_WITHOUT_TF, str(tmp_path / "run")], cwd=ROOT, env=env,
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    from tensorboard.backend.event_processing import event_accumulator as ea

    run = ea.EventAccumulator(str(tmp_path / "run" / "tensorboard" / "trial_0"))
    run.Reload()
    assert [e.step for e in run.Tensors("val_accuracy")] == [1, 2]


@pytest.mark.parametrize(
    ("track", "message"),
    [
        ("nosuch", "--track 'nosuch': unknown tracker 'nosuch'; choose mlflow, mlflow=URI or tensorboard"),
        ("tensorboard=x", "--track 'tensorboard=x': tensorboard takes no URI"),
        ("mlflow=", "give the tracking URI after '='"),
        ("mlflow=http://", "--track mlflow=URI: tracking URI 'http://' names no host"),
        ("mlflow=http://127.0.0.1:99999",
         "--track mlflow=URI: tracking URI 'http://127.0.0.1:99999' is malformed"),
        ("mlflow=sqlite:///", "tracking URI 'sqlite:///' names a folder, not a database file; e.g. sqlite:///"),
        ("mlflow=sqlite:////tmp/", "tracking URI 'sqlite:////tmp/' names a folder, not a database file"),
        ("mlflow=nosuch://host/x", "MLflow does not know the scheme 'nosuch'; give a database (e.g."
         " sqlite:///results/mlflow.db) or a server (e.g. http://127.0.0.1:5000); the schemes it knows:"),
    ],
)
def test_bad_track_values_stop_before_any_work(
    track: str, message: str, tmp_path: Path, capsys
) -> None:
    if track.startswith("mlflow"):
        need_mlflow()
    code = main(tiny_run(tmp_path / "no-data", tmp_path, "bad", "--track", track))
    err = capsys.readouterr().err
    assert code == 2
    assert message in err and err.strip().count("\n") == 0, err
    assert not (tmp_path / "fashion").exists()


@pytest.mark.parametrize(
    ("value", "message"),
    [("foo://bar", "$MLFLOW_TRACKING_URI 'foo://bar': MLflow does not know the scheme 'foo'"),
     ("nonsense", "--track mlflow ($MLFLOW_TRACKING_URI): MLflow cannot use nonsense (")],
)  # fmt: skip
def test_a_bad_mlflow_tracking_uri_variable_is_named_as_the_source(
    value: str, message: str, tmp_path: Path, monkeypatch, capsys
) -> None:
    """A bare --track mlflow said "tracking URI 'foo://bar': ...", a URI from nowhere."""
    need_mlflow()
    monkeypatch.setenv("MLFLOW_TRACKING_URI", value)
    code = main(tiny_run(tmp_path / "no-data", tmp_path, "bad", "--track", "mlflow"))
    err = capsys.readouterr().err
    assert code == 2 and message in err and err.strip().count("\n") == 0, err
    if value == "nonsense":  # a folder to MLflow, whose file store is retired
        assert "fix $MLFLOW_TRACKING_URI (or unset it): a database, e.g. sqlite:///" in err, err


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_unreachable_store_stops_a_new_run_before_it_loads_data_or_makes_its_folder(
    synthetic_fashion: Path, tmp_path: Path, capsys
) -> None:
    need_mlflow()
    uri = f"http://user:secret@127.0.0.1:{free_port()}"
    code = main(tiny_run(synthetic_fashion, tmp_path, "down", "--track", f"mlflow={uri}"))
    out, err = capsys.readouterr()
    assert code == 2
    assert "--track mlflow: cannot log to http://user:***@127.0.0.1" in err and "secret" not in err
    assert err.strip().count("\n") == 0, err
    assert "loading" not in out
    assert not (tmp_path / "fashion" / "down").exists()  # refused before the data and the folder


def test_a_store_mlflow_refuses_stops_a_new_run_with_one_line_and_exit_2(
    synthetic_fashion: Path, tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    need_mlflow()
    monkeypatch.delenv("MLFLOW_ALLOW_FILE_STORE", raising=False)
    uri = f"file:{tmp_path / 'mlruns'}"  # MLflow 3 refuses a folder store unless told to take it
    code = main(tiny_run(synthetic_fashion, tmp_path, "files", "--track", f"mlflow={uri}"))
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.startswith(f"error: --track mlflow: MLflow cannot use {uri} (") and "unexpected" not in err
    assert "sqlite:///" in err and "MLFLOW_ALLOW_FILE_STORE=true" in err  # the fixes
    assert err.strip().count("\n") == 0, err
    assert not (tmp_path / "fashion" / "files").exists()


@pytest.mark.parametrize("default_store", [False, True])
def test_an_experiment_deleted_in_mlflow_is_named_with_its_fix_before_any_work(
    default_store: bool, tmp_path: Path, capsys
) -> None:
    """The parent run failed 3 times with backoff, after the data was loaded, and the
    error said to start the tracking server; in the default store (the results root's),
    it was found only after the data loaded."""
    need_mlflow()
    from mlflow import MlflowClient

    store = tmp_path / ("mlflow.db" if default_store else "store.db")
    uri = f"sqlite:///{store.resolve()}"
    client = MlflowClient(uri)
    experiment_id = client.create_experiment("fashion")
    client.delete_experiment(experiment_id)
    capsys.readouterr()  # MLflow's own lines, making the store here
    track = "mlflow" if default_store else f"mlflow={uri}"
    code = main(tiny_run(tmp_path / "no-data", tmp_path, "gone", "--track", track))
    err = capsys.readouterr().err
    assert code == 2 and err.strip().count("\n") == 0, err
    assert f"the experiment 'fashion' (id {experiment_id}) is deleted" in err, err
    assert f"mlflow experiments restore -x {experiment_id}" in err and "tracking server" not in err
    assert not (tmp_path / "fashion").exists()


@pytest.fixture
def mlflow_server(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """A real `mlflow server` on a free localhost port, over a SQLite store; ``start()``
    (re)starts it, ``stop()`` kills it."""
    need_mlflow()
    store = f"sqlite:///{tmp_path / 'server.db'}"
    state: dict[str, Any] = {"proc": None, "port": free_port()}

    def start() -> None:
        state["proc"] = subprocess.Popen(
            [sys.executable, "-m", "mlflow", "server", "--backend-store-uri", store,
             "--default-artifact-root", (tmp_path / "server-artifacts").as_uri(),
             "--host", "127.0.0.1", "--port", str(state["port"]), "--workers", "1"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
            env={**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"},  # no job runners
        )  # fmt: skip
        deadline = time.monotonic() + SERVER_START_S
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", state["port"]), timeout=1):
                    return
            except OSError:
                time.sleep(0.5)
        raise AssertionError("mlflow server did not start")

    def stop() -> None:
        proc = state["proc"]
        if proc is not None and proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()

    state.update(start=start, stop=stop)
    start()
    try:
        yield state
    finally:
        stop()


def wait_for(trials_file: Path, proc: subprocess.Popen, ready: Any) -> list[dict[str, Any]]:
    """Poll trials.json until ``ready(trials)``; the trials then."""
    deadline = time.monotonic() + SEARCH_TIMEOUT_S
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            trials = json.loads(trials_file.read_text())["trials"]
        except (OSError, ValueError):
            trials = []
        if ready(trials):
            return trials
        time.sleep(0.2)
    raise AssertionError(f"never ready; output: {proc.communicate()[0][-3000:]}")


def check_no_duplicates(uri: str, trials: list[dict[str, Any]]) -> None:
    _, nested = mlflow_runs(uri)
    ids = [r.data.tags["search.trial"] for r in nested]
    assert sorted(ids) == sorted(t["id"] for t in trials)  # one nested run per trial
    for run in nested:
        trial = next(t for t in trials if t["id"] == run.data.tags["search.trial"])
        for key, points in histories(uri, run.info.run_id).items():
            steps = [s for s, _ in points]
            assert steps == [e["epoch"] for e in trial["epochs"]], (key, steps)


def test_server_killed_mid_search_then_track_fills_in(
    mlflow_server: dict[str, Any], synthetic_fashion: Path, tmp_path: Path
) -> None:
    uri = f"http://user:secret@127.0.0.1:{mlflow_server['port']}"
    argv = tiny_run(synthetic_fashion, tmp_path, "s", "--track", f"mlflow={uri}", "--no-retrain")
    argv[argv.index("--max-trials") + 1] = "4"
    argv[argv.index("--train-size") + 1] = "2000"  # trials long enough to outlast the server's stop
    proc = subprocess.Popen(
        [sys.executable, "-m", "search", *argv], cwd=ROOT, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    folder = tmp_path / "fashion" / "s"
    wait_for(folder / "trials.json", proc, lambda ts: any(t["status"] == "completed" for t in ts))
    mlflow_server["stop"]()
    out, _ = proc.communicate(timeout=SEARCH_TIMEOUT_S)
    assert proc.returncode == 0, out[-3000:]
    assert out.count("the search goes on without MLflow") == 1, out
    assert "send the run later with: python -m search track" in out
    assert "secret" not in out and "secret" not in (folder / "run.json").read_text()
    trials = json.loads((folder / "trials.json").read_text())["trials"]
    assert len(trials) == 4

    mlflow_server["start"]()
    result = subprocess.run(
        [sys.executable, "-m", "search", "track", str(folder), "--to", uri], cwd=ROOT,
        capture_output=True, text=True, timeout=SEARCH_TIMEOUT_S,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    check_no_duplicates(uri, trials)


def tracked_search(data: Path, tmp_path: Path, name: str) -> tuple[str, subprocess.Popen, Path]:
    """A tiny search tracked in a SQLite store, started in another process: long enough
    (3 epochs on 2,000 images) to be stopped mid-trial. Its URI, process and folder."""
    need_mlflow()
    uri = f"sqlite:///{tmp_path / 'store.db'}"
    argv = tiny_run(data, tmp_path, name, "--track", f"mlflow={uri}", "--no-retrain")
    argv[argv.index("--max-epochs") + 1] = "3"
    argv[argv.index("--train-size") + 1] = "2000"
    proc = subprocess.Popen(
        [sys.executable, "-m", "search", *argv], cwd=ROOT, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    return uri, proc, tmp_path / "fashion" / name


def resume(folder: Path) -> None:
    """``search resume`` of ``folder``, to the end."""
    result = subprocess.run(
        [sys.executable, "-m", "search", "resume", str(folder)], cwd=ROOT, capture_output=True,
        text=True, timeout=SEARCH_TIMEOUT_S,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def test_kill_9_then_resume_logs_each_run_and_step_once(synthetic_fashion: Path, tmp_path: Path) -> None:
    uri, proc, folder = tracked_search(synthetic_fashion, tmp_path, "k")
    wait_mid_trial(proc, folder / "trials.json", done=1)  # the second trial mid-way
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate()
    resume(folder)
    trials = json.loads((folder / "trials.json").read_text())["trials"]
    assert len(trials) == 2 and all(t["status"] == "completed" for t in trials)
    check_no_duplicates(uri, trials)
    parent, nested = mlflow_runs(uri)
    assert parent.info.status == "FINISHED"
    attempts = sorted(r.data.tags["attempts"] for r in nested)
    assert attempts[-1] == "2"  # the trial that was running, begun again


def test_ctrl_c_ends_the_mlflow_runs_as_killed_and_resume_finishes_them(
    synthetic_fashion: Path, tmp_path: Path
) -> None:
    """An interrupted search left its parent run and its running trial's run RUNNING in
    MLflow until resumed to the end; they are ended KILLED, and a resume opens them again."""
    uri, proc, folder = tracked_search(synthetic_fashion, tmp_path, "c")
    wait_mid_trial(proc, folder / "trials.json", done=0)
    os.kill(proc.pid, signal.SIGINT)
    out, _ = proc.communicate(timeout=SEARCH_TIMEOUT_S)
    assert json.loads((folder / "run.json").read_text())["status"] == "interrupted", out[-3000:]
    parent, nested = mlflow_runs(uri)
    assert parent.info.status == "KILLED"
    trials = json.loads((folder / "trials.json").read_text())["trials"]
    running = [t["id"] for t in trials if t["status"] == "running"]
    assert running and {r.data.tags["search.trial"]: r.info.status for r in nested}[running[0]] == "KILLED"
    resume(folder)
    parent, nested = mlflow_runs(uri)
    assert parent.info.status == "FINISHED"
    assert [r.info.status for r in nested] == ["FINISHED", "FINISHED"]


def test_a_failed_search_ends_its_mlflow_parent_run_as_failed(tmp_path: Path, monkeypatch) -> None:
    """A run that failed after its search (here: choosing raised) left its parent run RUNNING."""
    need_mlflow()

    def broken(*args: Any) -> None:
        raise RuntimeError("the choice broke")

    monkeypatch.setattr(_pipeline, "choose_trial", broken)
    uri = f"sqlite:///{tmp_path / 'store.db'}"
    with pytest.raises(RuntimeError, match="the choice broke"):
        search.run(um.build, *um.tiny_data(), tuner="random", max_trials=1, max_epochs=1, results=tmp_path,
                   retrain=False, quiet=True, track=[f"mlflow={uri}"], experiment="rows")  # fmt: skip
    folder = tmp_path / "rows"
    run_dirs = [p for p in folder.iterdir() if (p / "run.json").is_file()]
    assert json.loads((run_dirs[0] / "run.json").read_text())["status"] == "failed"
    import mlflow

    mlflow.set_tracking_uri(uri)
    runs = mlflow.search_runs(experiment_names=["rows"], output_format="list")
    parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    assert [r.info.status for r in parents] == ["FAILED"]
    assert [r.info.status for r in runs if r not in parents] == ["FINISHED"]  # its trial had ended


def test_default_store_is_sqlite_in_the_results_root(tmp_path: Path, monkeypatch) -> None:
    from search.tracking import resolve_uri

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    assert resolve_uri(None, tmp_path) == f"sqlite:///{tmp_path.resolve() / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:5000")
    assert resolve_uri(None, tmp_path) == "http://127.0.0.1:5000"
    assert resolve_uri("sqlite:////x.db", tmp_path) == "sqlite:////x.db"


def test_a_relative_sqlite_store_is_kept_absolute_so_a_resume_elsewhere_finds_it(
    synthetic_fashion: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """run.json kept sqlite:///rel.db: a resume (or `search track`) started in another
    folder logged to a new store there, the run split between two stores."""
    need_mlflow()
    from search.tracking import resolve_uri

    (tmp_path / "here").mkdir()
    monkeypatch.chdir(tmp_path / "here")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "sqlite:///env.db?timeout=5")
    assert resolve_uri(None, tmp_path) == f"sqlite:///{tmp_path.resolve() / 'here' / 'env.db'}?timeout=5"
    argv = tiny_run(synthetic_fashion, tmp_path, "rel", "--no-retrain", "--track", "mlflow=sqlite:///rel.db")
    assert main(argv) == 0
    meta = json.loads((tmp_path / "fashion" / "rel" / "run.json").read_text())
    assert meta["tracking"]["mlflow"]["uri"] == f"sqlite:///{tmp_path.resolve() / 'here' / 'rel.db'}"
    assert meta["request"]["track"] == [f"mlflow=sqlite:///{tmp_path.resolve() / 'here' / 'rel.db'}"]


def test_mlflow_experiment_name_variable_names_a_new_runs_experiment_and_is_kept_for_the_run(
    synthetic_fashion: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """$MLFLOW_EXPERIMENT_NAME was ignored (runs went to the search experiment's name). A
    run keeps the experiment it began in, as it keeps its store."""
    need_mlflow()
    from mlflow import MlflowClient

    uri = f"sqlite:///{tmp_path.resolve() / 'store.db'}"
    monkeypatch.setenv("MLFLOW_EXPERIMENT_NAME", "team")
    assert main(tiny_run(synthetic_fashion, tmp_path, "e", "--no-retrain", "--track", f"mlflow={uri}")) == 0
    folder = tmp_path / "fashion" / "e"
    stored = json.loads((folder / "run.json").read_text())["tracking"]["mlflow"]
    client = MlflowClient(uri)
    team = client.get_experiment_by_name("team")
    assert stored["experiment"] == "team" and stored["experiment_id"] == team.experiment_id
    assert client.get_experiment_by_name("fashion") is None
    monkeypatch.setenv("MLFLOW_EXPERIMENT_NAME", "other")
    assert main(["track", str(folder)]) == 0
    assert client.get_experiment_by_name("other") is None
    runs = client.search_runs([team.experiment_id])
    assert [r.info.run_id for r in runs if "mlflow.parentRunId" not in r.data.tags] == [stored["run_id"]]
    other = f"sqlite:///{tmp_path.resolve() / 'other.db'}"
    assert main(["track", str(folder), "--to", other]) == 0  # sent elsewhere: the same experiment name
    assert {e.name for e in MlflowClient(other).search_experiments()} == {"team", "Default"}


def test_a_run_tracked_before_run_json_kept_the_experiment_name_stays_in_the_search_experiment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from search.tracking._spec import experiment_name

    monkeypatch.setenv("MLFLOW_EXPERIMENT_NAME", "team")
    assert experiment_name("fashion", None) == "team"  # a new run
    assert experiment_name("fashion", {"uri": "sqlite:///x.db", "experiment_id": "1"}) == "fashion"
    assert experiment_name("fashion", {"experiment": "mine", "experiment_id": "1"}) == "mine"


def test_another_store_given_to_a_tracked_run_is_refused_before_any_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rerun given --track mlflow=OTHER went on logging to the run's first store, silently."""
    need_mlflow()
    from search.errors import SearchError
    from search.storage import RunFolder
    from search.tracking import check_stores

    monkeypatch.chdir(tmp_path)
    folder = RunFolder(tmp_path / "fashion" / "r")
    folder.path.mkdir(parents=True)
    first = f"sqlite:///{tmp_path.resolve() / 'first.db'}"
    folder.write_meta({"tracking": {"mlflow": {"uri": first, "experiment_id": "1", "run_id": "x"}}})
    check_stores([f"mlflow={first}"], tmp_path, folder, "fashion")
    check_stores(["mlflow=sqlite:///first.db"], tmp_path, folder, "fashion")  # the same file
    with pytest.raises(SearchError) as refused:
        check_stores(["mlflow=sqlite:///other.db"], tmp_path, folder, "fashion")
    message = f"mlflow=sqlite:///other.db: run 'r' logs to {first} (its run.json); leave the URI out"
    assert message in str(refused.value)
    assert not (tmp_path / "other.db").exists()


def test_trial_tags_name_hyperband_pruning_and_failure() -> None:
    from search.tracking import trial_tags

    record = {
        "id": "7", "status": "pruned", "baseline": False, "continues": "3",
        "schedule": {"bracket": 1, "round": 2, "epochs": 6, "trial_id": "3"},
        "pruned_at_epoch": 2, "failure": "pruned by the Optuna pruner after epoch 2", "best_epoch": 2,
    }  # fmt: skip
    assert trial_tags(record) == {
        "status": "pruned", "baseline": "false", "hyperband_bracket": "1", "hyperband_round": "2",
        "continues_trial": "3", "pruned_at_epoch": "2", "best_epoch": "2",
        "failure": "pruned by the Optuna pruner after epoch 2",
    }  # fmt: skip


@pytest.mark.parametrize(
    "first_line",
    ["connection refused by the tracking server " * 12, "http://127.0.0.1:5000/" + "x" * 400],
    ids=["words", "one-long-word"],
)
def test_a_failed_stores_long_reason_is_cut_at_a_word_and_marked(
    first_line: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reason MLflow gave, on one line, at most 300 characters: cut after a whole word
    and ending with " …", or inside one long word with "…" right after it."""
    need_mlflow()
    from search.tracking import _mlflow

    monkeypatch.setattr(_mlflow, "FIRST_BACKOFF_S", 0.0)
    said: list[str] = []
    sink = _mlflow.MlflowSink(f"sqlite:///{tmp_path / 'm.db'}", "the store", said.append, "search track")

    def fails() -> None:
        raise OSError(f"{first_line}\nsecond line")

    assert sink.call("logging", fails) is None
    head = "logging failed 3 times: OSError: "
    assert sink.failed is not None and sink.failed.startswith(head) and sink.failed.endswith("…")
    reason = sink.failed.removeprefix(head)
    kept = reason.removesuffix("…").rstrip()
    assert len(reason) <= 300 and "\n" not in reason and first_line.startswith(kept)
    if " " in kept:  # cut between two words, the mark apart
        assert reason.endswith(" …") and first_line[len(kept)] == " " and len(kept) > 250
    else:  # cut inside the one long word, the mark right after it
        assert reason.endswith("x…") and len(kept) > 250
    assert len(said) == 1 and "\n" not in said[0]
    refused = _mlflow._refused_store(f"{first_line}. More", "the store")
    reason = refused.split("(", 1)[1].split("); ", 1)[0]
    assert len(reason) <= 200 and reason.endswith("…")
    assert first_line.startswith(reason.removesuffix("…").rstrip())


def test_a_tracking_database_its_disk_refuses_is_not_a_wrong_uri() -> None:
    """SQLite's 'disk I/O error' (its file past a file-size limit, a full disk): the fix was
    to fix the URI or use a database, which it was."""
    need_mlflow()
    from search.tracking import _mlflow

    refused = _mlflow._refused_store(
        "(sqlite3.OperationalError) disk I/O error\n(Background on this error at: ...)",
        "sqlite:////results/mlflow.db",
    )
    assert refused == (
        "{opt:track} mlflow: MLflow cannot use sqlite:////results/mlflow.db ((sqlite3.OperationalError)"
        " disk I/O error); make the file and its folder writable, free some space there, or"
        " raise the file-size limit (`ulimit -f`)"
    )


def test_a_read_only_tracking_database_is_told_to_be_made_writable_itself() -> None:
    """SQLite says 'attempt to write a readonly database' for a file without write
    permission in a writable folder too: the fix named only the folder."""
    need_mlflow()
    from search.tracking import _mlflow

    refused = _mlflow._refused_store(
        "(sqlite3.OperationalError) attempt to write a readonly database", "sqlite:////results/mlflow.db"
    )
    assert refused.endswith(
        "; make the file and its folder writable, free some space there, or raise the file-size"
        " limit (`ulimit -f`)"
    )


def test_the_outcome_logs_a_regression_s_own_test_metrics_and_watched_curve(tmp_path: Path) -> None:
    """A run ranked by val_loss: MLflow gets test_mean_absolute_error (not only accuracy,
    which it has none of) and the retrain's val_loss per epoch."""
    need_mlflow()
    from mlflow import MlflowClient

    from search.tracking._mlflow import MlflowSink

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    sink = MlflowSink(uri, uri, print, "")
    run_id = sink.client.create_run(sink.client.create_experiment("regression")).info.run_id
    final = {"monitor": "val_loss", "val_score_per_epoch": [0.5, 0.31], "learning_rates": [1e-3, 1e-3],
             "test_metrics": {"loss": 1.2, "mean_absolute_error": 0.79}}  # fmt: skip
    sink._log_outcome(run_id, {"status": "finished", "final": final})
    client = MlflowClient(uri)
    assert client.get_run(run_id).data.metrics == {
        "test_loss": 1.2, "test_mean_absolute_error": 0.79, "retrain_val_loss": 0.31,
        "retrain_learning_rate": 1e-3,
    }
    assert [(m.step, m.value) for m in client.get_metric_history(run_id, "retrain_val_loss")] == [
        (1, 0.5), (2, 0.31)
    ]
    older = client.create_run(client.get_run(run_id).info.experiment_id).info.run_id
    sink._log_outcome(older, {"final": {"test_accuracy": 0.9, "test_loss": 0.3}})  # no test_metrics
    assert client.get_run(older).data.metrics == {"test_accuracy": 0.9, "test_loss": 0.3}


def test_the_chosen_trials_run_is_tagged_and_a_later_choice_moves_the_tag(tmp_path: Path) -> None:
    """The chosen trial's own run carried no mark (only the parent's ``chosen_trial``); a
    rerun with more trials that chooses another moves it."""
    need_mlflow()
    from mlflow import MlflowClient

    from search.storage import RunFolder
    from search.tracking._mlflow import MlflowSink

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    sink = MlflowSink(uri, uri, print, "")
    client = MlflowClient(uri)
    sink.experiment_id = experiment = sink.client.create_experiment("chosen")
    sink.parent_id = parent = client.create_run(experiment).info.run_id
    tags = {trial: {"mlflow.parentRunId": parent, "search.trial": trial} for trial in ("0", "1", "2")}
    sink._trials = {trial: client.create_run(experiment, tags=tag).info.run_id for trial, tag in tags.items()}
    client.set_tag(sink._trials["2"], "chosen", "true")  # a mark whose parent tag was never written

    def marked() -> list[str]:
        return [t for t, run in sink._trials.items() if client.get_run(run).data.tags.get("chosen") == "true"]

    sink.finish({"status": "finished", "best": {"trial": "0"}}, RunFolder(tmp_path / "run"))
    assert marked() == ["0"]  # trial 2's mark taken too
    sink.finish({"status": "finished", "best": {"trial": "1"}}, RunFolder(tmp_path / "run"))
    assert marked() == ["1"]
    assert client.get_run(sink.parent_id).data.tags["chosen_trial"] == "1"


def test_tensorboard_hparams_show_the_objective_and_its_training_counterpart(tmp_path: Path) -> None:
    """A regression ranked by val_mean_absolute_error: its HParams table has that column
    (and mean_absolute_error's), not only accuracy's and loss's."""
    from tensorboard.backend.event_processing import event_accumulator as ea
    from tensorboard.plugins.hparams import metadata

    from search.tracking._tensorboard import METRICS, write_config

    write_config(tmp_path, {"units": {"type": "int", "low": 4, "high": 8}}, "val_mean_absolute_error")
    events = ea.EventAccumulator(str(tmp_path), size_guidance={ea.TENSORS: 0})
    events.Reload()
    content = events.PluginTagToContent(metadata.PLUGIN_NAME)[metadata.EXPERIMENT_TAG]
    shown = [m.name.tag for m in metadata.parse_experiment_plugin_data(content).metric_infos]
    assert shown == [*METRICS, "val_mean_absolute_error", "mean_absolute_error"]


@pytest.mark.parametrize(
    ("to", "message", "fix"),
    [
        ("", "--to '': give a tracking URI", "leave --to out"),
        ("http://", "--to: tracking URI 'http://' names no host", "e.g. http://127.0.0.1:5000"),
        ("file:{tmp}/mlruns", "--to file:{tmp}/mlruns: MLflow cannot use file:{tmp}/mlruns (",
         "MLFLOW_ALLOW_FILE_STORE=true"),
        ("sqlite:///{tmp}/afile/m.db", "--to sqlite:///{tmp}/afile/m.db: MLflow cannot use", "fix --to"),
    ],
)
def test_search_track_names_its_own_option_in_errors(
    to: str, message: str, fix: str, tracked: dict[str, Any], tmp_path: Path, capsys,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("MLFLOW_ALLOW_FILE_STORE", raising=False)
    (tmp_path / "afile").touch()  # no folder can be made under a file
    code = main(["track", str(tracked["folder"]), "--to", to.format(tmp=tmp_path)])
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.startswith(f"error: {message.format(tmp=tmp_path)}"), err
    assert "--track" not in err and err.strip().count("\n") == 0, err
    assert fix in err, err


@pytest.mark.parametrize(
    ("damage", "message"),
    [("trials", "trials.json is unreadable or corrupt"),
     ("name", "run.json: field 'name' is missing, not present")],
)  # fmt: skip
def test_search_track_of_a_damaged_run_refuses_before_making_the_stores_folders(
    damage: str, message: str, tmp_path: Path, capsys
) -> None:
    """A run whose trials.json is damaged (or run.json lacks the run's name) is refused in
    one line before MLflow opens the store: no folders (nor a database) left behind."""
    need_mlflow()
    from tests.helpers.runs import epochs, trial, write_run

    folder = write_run(tmp_path / "results", "cut", [trial("0", epochs((0.9, 0.8, 1, 1)))])
    if damage == "trials":
        space = {**folder.read_meta()["space"], "fingerprint": "f"}
        folder.update_meta(name="cut", seed=0, space=space, objective={"name": "val_accuracy"})
        (folder.path / "trials.json").write_text("{")
    to = f"sqlite:///{tmp_path}/deep/er/m.db"
    assert main(["track", str(folder.path), "--to", to]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1, err
    assert not (tmp_path / "deep").exists()


def test_search_track_of_a_run_a_process_runs_is_refused_before_the_store_is_made(
    tmp_path: Path, capsys
) -> None:
    """``track`` sends a finished or stopped run: a live one is refused (its trials are
    still being written), naming the process, and no store is made."""
    need_mlflow()
    from search.storage import RunLock
    from tests.helpers.runs import epochs, trial, write_run

    folder = write_run(tmp_path / "results", "live", [trial("0", epochs((0.9, 0.8, 1, 1)))], "running")
    with RunLock(folder.path):
        assert main(["track", str(folder.path), "--to", f"sqlite:///{tmp_path}/deep/m.db"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {folder.path}: the run is running (PID {os.getpid()}); track it once"), err
    assert "--track mlflow" in err and err.count("\n") == 1, err
    assert not (tmp_path / "deep").exists()


@pytest.mark.parametrize("before", ["nothing", "its folder", "its database"])
def test_search_track_that_fails_opening_the_parent_run_removes_only_what_it_made(
    before: str, tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    """MLflow fails once the store is made: the command ends in one line and removes the
    folders and files it made (the database, its artifact root), never what was there."""
    need_mlflow()
    from mlflow.exceptions import MlflowException

    from search.tracking import _mlflow
    from tests.helpers.runs import epochs, trial, write_run

    def refused(*args: Any) -> str:
        raise MlflowException("the store refused the run")

    monkeypatch.setattr(_mlflow, "FIRST_BACKOFF_S", 0.0)
    monkeypatch.setattr(_mlflow.MlflowSink, "_create_parent", refused)
    folder = write_run(tmp_path / "results", "sent", [trial("0", epochs((0.9, 0.8, 1, 1)))])
    space = {**folder.read_meta()["space"], "fingerprint": "f"}
    folder.update_meta(name="sent", seed=0, space=space, objective={"name": "val_accuracy"})
    store = tmp_path / "deep" / "er" / "m.db"
    if before != "nothing":
        store.parent.mkdir(parents=True)
        (store.parent / "notes.txt").write_text("mine")
    if before == "its database":
        store.touch()  # an empty SQLite database
    assert main(["track", str(folder.path), "--to", f"sqlite:///{store}"]) == 2
    err = capsys.readouterr().err
    assert "creating the parent run failed 3 times" in err and err.count("\n") == 1, err
    if before == "nothing":
        assert not (tmp_path / "deep").exists()
    else:
        assert sorted(p.name for p in store.parent.iterdir()) == sorted(
            ["notes.txt"] + (["m.db"] if before == "its database" else [])
        )


def test_a_new_run_whose_store_fails_removes_the_store_it_made(
    synthetic_fashion: Path, tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``run --track mlflow=URI``: MLflow fails once the store is made, before the run
    starts; the run stops in one line and leaves no database or folder behind."""
    need_mlflow()
    from mlflow.exceptions import MlflowException

    from search.tracking import _mlflow

    def refused(*args: Any) -> str:
        raise MlflowException("the store refused the experiment")

    monkeypatch.setattr(_mlflow, "FIRST_BACKOFF_S", 0.0)
    monkeypatch.setattr(_mlflow.MlflowSink, "_experiment", refused)
    uri = f"sqlite:///{tmp_path / 'deep' / 'm.db'}"
    code = main(tiny_run(synthetic_fashion, tmp_path / "results", "down", "--track", f"mlflow={uri}"))
    err = capsys.readouterr().err
    assert code == 2 and "finding the experiment failed 3 times" in err and err.count("\n") == 1, err
    assert not (tmp_path / "deep").exists()


def test_a_run_killed_before_its_report_has_its_mlflow_parent_run_finished_by_resume(
    tmp_path: Path, monkeypatch
) -> None:
    """A kill after run.json said finished, before the report (and the trackers' outcome):
    the resume that writes the report ends the MLflow parent run too, with the report."""
    need_mlflow()
    from mlflow import MlflowClient

    def killed(*args: Any) -> None:
        raise SystemExit(137)

    monkeypatch.setattr(_pipeline, "report_lines", killed)
    uri = f"sqlite:///{tmp_path / 'store.db'}"
    with pytest.raises(SystemExit):
        search.run(um.build, *um.tiny_data(), tuner="random", max_trials=1, max_epochs=1, name="k",
                   results=tmp_path, retrain=False, quiet=True, track=[f"mlflow={uri}"],
                   experiment="rows")  # fmt: skip
    monkeypatch.undo()
    folder = tmp_path / "rows" / "k"
    assert json.loads((folder / "run.json").read_text())["status"] == "finished"
    assert main(["resume", str(folder)]) == 0
    client = MlflowClient(uri)
    runs = client.search_runs([client.get_experiment_by_name("rows").experiment_id])
    [parent] = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    assert parent.info.status == "FINISHED"
    assert "report.html" in {a.path for a in client.list_artifacts(parent.info.run_id)}
