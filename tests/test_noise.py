"""Nothing printed but progress and results: no library tracebacks, logs or warnings."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import pytest

from search.cli import main


def test_exception_lines_lose_their_module_path() -> None:
    from search.engine import failure_reason

    trace = "Traceback (most recent call last):\n  File x\n"
    own = trace + "hypermodels._loop.NonFiniteLossError: loss became nan in epoch 1"
    assert failure_reason(own) == "loss became nan in epoch 1"
    library = trace + "tensorflow.python.framework.errors_impl.InvalidArgumentError: bad input"
    assert failure_reason(library) == "InvalidArgumentError: bad input"
    jax_note = (
        "Traceback (most recent call last):\n  File \"x.py\", line 1\nImportError: no module x\n"
        "--------------------\nFor simplicity, JAX has removed its internal frames from the"
        " traceback of the following exception. Set JAX_TRACEBACK_FILTERING=off to include these."
    )
    assert failure_reason(jax_note) == "ImportError: no module x"
    assert failure_reason(trace + "ValueError: bad shape (3, 4)") == "ValueError: bad shape (3, 4)"


def nan_space(tmp_path: Path) -> Path:
    """A space whose baseline (learning rate 1e9) diverges and whose other value trains."""
    space = tmp_path / "space.toml"
    space.write_text(
        '[learning_rate]\ntype = "choice"\nvalues = [1e9, 1e-3]\ndefault = 1e9\n'
        '[batch_norm]\ntype = "fixed"\nvalue = false\n'
    )
    return space


def test_failed_trial_prints_one_readable_line(
    tmp_path: Path, synthetic_fashion: Path, capsys
) -> None:
    code = main([
        "run", "fashion", "--tuner", "random", "--train-size", "200", "--val-size", "100",
        "--max-trials", "2", "--max-epochs", "1", "--no-retrain", "--space", str(nan_space(tmp_path)),
        "--data-dir", str(synthetic_fashion), "--results", str(tmp_path), "--name", "nan",
    ])  # fmt: skip
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "Traceback" not in captured.err and "Traceback" not in captured.out
    trials = json.loads((tmp_path / "fashion" / "nan" / "trials.json").read_text())["trials"]
    failed = [t for t in trials if t["status"] == "failed"]
    assert len(failed) == 1 and failed[0]["failure"].startswith("loss became nan")
    assert f"({failed[0]['failure']})" in captured.out
    assert "NonFiniteLossError" not in captured.out and "hypermodels." not in captured.out


REPO = Path(__file__).resolve().parents[1]
POLL_SECONDS = 0.01
RUN_TIMEOUT_S = 300
"""A bound on a run the test stopped: a lost signal fails the test instead of hanging the suite."""


def test_commands_that_load_tensorflow_print_nothing_to_stderr(tmp_path: Path) -> None:
    """TensorFlow's start-up lines (absl's notice, oneDNN's) only with --debug."""
    script = (
        "import sys; from search.cli import main; code = main(sys.argv[1:]);"
        " assert 'tensorflow' in sys.modules, 'TensorFlow not loaded'; sys.exit(code)"
    )
    command = [sys.executable, "-c", script, "list", "--results", str(tmp_path)]
    quiet = subprocess.run(command, cwd=REPO, capture_output=True, text=True, env=tf_env())
    assert quiet.returncode == 0, quiet.stderr
    assert quiet.stderr == ""


def tf_env() -> dict[str, str]:
    """This environment, with Keras on TensorFlow and TensorFlow's own log level at its
    quietest (which does not silence its start-up lines)."""
    return {**os.environ, "KERAS_BACKEND": "tensorflow", "TF_CPP_MIN_LOG_LEVEL": "3"}


def test_keras_optimizer_loading_warning_is_silenced(tmp_path: Path) -> None:
    import keras
    import numpy as np

    def model() -> keras.Model:
        built = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
        built.compile(optimizer="adam", loss="mse")
        return built

    trained = model()
    trained.fit(np.zeros((4, 2)), np.zeros((4, 1)), verbose=0)
    path = tmp_path / "trained.weights.h5"
    trained.save_weights(path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert main(["list", "--results", str(tmp_path)]) == 0
        model().load_weights(path)  # a fresh model: its optimizer is not built yet
    assert [str(w.message) for w in caught] == []


def _lambda_loss_build(hp: Any) -> Any:
    import keras

    from tests import user_models as um

    model = um.build(hp)
    loss = keras.losses.SparseCategoricalCrossentropy()
    model.compile(optimizer="adam", loss=lambda y, p: loss(y, p), metrics=["accuracy"])
    return model


def test_a_model_compiled_with_a_lambda_saves_without_a_warning_and_loads_as_told(
    tmp_path: Path, capfd
) -> None:
    """Keras warned "The object being serialized includes a `lambda`. This is unsafe ..."
    with its source line as each model was saved, under quiet=True; loading is what needs
    safe_mode=False, and best_model's refusal names it."""
    import search
    from search.errors import SearchError
    from tests import user_models as um

    x, y = um.tiny_data()
    capfd.readouterr()  # TensorFlow's start-up lines, as the test imported Keras
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run = search.run(_lambda_loss_build, x, y, tuner="random", max_trials=1, max_epochs=1,
                         retrain_max_epochs=1, results=tmp_path, quiet=True)  # fmt: skip
    assert capfd.readouterr().err == ""
    assert not [str(w.message) for w in caught if "lambda" in str(w.message)]
    with pytest.raises(SearchError, match=r"a lambda \(a Lambda layer, a loss\) you trust: safe_mode=False$"):
        run.best_model()
    assert run.best_model(safe_mode=False).predict(x[:2], verbose=0).shape == (2, 3)


def test_ctrl_c_is_held_while_a_heavy_package_loads() -> None:
    from search.cli._imports import LoadGuard

    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    guard = LoadGuard()
    guard.quiet = False
    loaded = False
    with pytest.raises(KeyboardInterrupt):
        with guard:
            signal.raise_signal(signal.SIGINT)
            loaded = True  # the import goes on to its end
    assert loaded
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def mapped(pid: int, library: str) -> bool:
    """Whether process ``pid`` has loaded a shared library whose name holds ``library``."""
    try:
        return library in Path(f"/proc/{pid}/maps").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False


@pytest.mark.parametrize("library", ["libtensorflow_framework", "_pywrap_tensorflow_internal"])
def test_ctrl_c_while_tensorflow_loads_ends_cleanly(
    library: str, tmp_path: Path, synthetic_fashion: Path
) -> None:
    """Ctrl-C as TensorFlow's native libraries load: exit 130 with one line, no
    traceback, no C++ abort, and the run does not go on."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "search", "run", "fashion", "--tuner", "random",
         "--max-trials", "1", "--max-epochs", "1", "--train-size", "200", "--val-size", "100",
         "--no-retrain", "--data-dir", str(synthetic_fashion), "--results", str(tmp_path)],
        cwd=REPO, env=tf_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    while proc.poll() is None and not mapped(proc.pid, library):
        time.sleep(POLL_SECONDS)
    proc.send_signal(signal.SIGINT)
    try:
        out, err = proc.communicate(timeout=RUN_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        proc.kill()  # the signal was lost: the run went on
        raise
    assert (proc.returncode, err) == (130, "interrupted\n"), out
    assert not (tmp_path / "fashion").exists()


SHUTDOWN_CTRL_C = """
import atexit, os, signal, time
from search.cli import exit_quietly
atexit.register(lambda: (os.kill(os.getpid(), signal.SIGINT), time.sleep(30)))
print("finished")
exit_quietly(3)
"""
"""A command that has finished and said so, then a Ctrl-C while the interpreter shuts down
(in the test, from an exit handler; in a run, multiprocessing's or a library's)."""


def test_ctrl_c_after_the_command_finished_ends_the_process_at_once_with_its_code() -> None:
    proc = subprocess.run([sys.executable, "-c", SHUTDOWN_CTRL_C], cwd=REPO, capture_output=True,
                          text=True, timeout=20)  # fmt: skip
    assert (proc.returncode, proc.stdout, proc.stderr) == (3, "finished\n", "")


LATE_CTRL_C = """
import os, signal, sys
import search.cli

def main() -> int:
    print("interrupted", file=sys.stderr)
    os.kill(os.getpid(), signal.SIGINT)  # lands as main returns, before exit_quietly
    return search.cli.INTERRUPTED_EXIT

search.cli.main = main
search.cli.command()
"""
"""A second Ctrl-C after main has handled the first and said so, before it has returned."""


def test_ctrl_c_as_the_command_returns_ends_with_its_code_and_no_traceback() -> None:
    proc = subprocess.run([sys.executable, "-c", LATE_CTRL_C], cwd=REPO, capture_output=True,
                          text=True, timeout=20)  # fmt: skip
    assert (proc.returncode, proc.stderr) == (130, "interrupted\n")


@pytest.fixture(scope="module")
def one_trial_run(tmp_path_factory: pytest.TempPathFactory, synthetic_fashion: Path) -> tuple[Path, str]:
    """A run of one trial of one epoch, retrained for one epoch: (its folder, what it printed)."""
    results = tmp_path_factory.mktemp("results")
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        code = main([
            "run", "fashion", "--tuner", "random", "--max-trials", "1", "--max-epochs", "1",
            "--train-size", "200", "--val-size", "100", "--retrain-data", "search",
            "--data-dir", str(synthetic_fashion), "--results", str(results), "--name", "one",
        ])  # fmt: skip
        assert code == 0, printed.getvalue()
        assert main(["status", str(results / "fashion" / "one")]) == 0
    return results / "fashion" / "one", printed.getvalue()


def test_counts_of_one_are_singular(one_trial_run: tuple[Path, str]) -> None:
    _, printed = one_trial_run
    assert "up to 1 trial, 1 epoch in all" in printed
    assert "for 1 epoch (" in printed and "(1 epoch on 300 images" in printed
    assert "1 trial checkpoint (" in printed  # status
    assert re.search(r"\b1 (trial|epoch|checkpoint)s\b", printed) is None
    from search._text import plural

    assert (plural(1, "trial"), plural(0, "trial"), plural(2, "epoch")) == (
        "1 trial", "0 trials", "2 epochs"
    )  # fmt: skip
    assert plural(1, "worker process", "worker processes") == "1 worker process"


def test_the_chosen_trials_two_accuracies_are_labelled(one_trial_run: tuple[Path, str]) -> None:
    _, printed = one_trial_run
    assert re.search(r"chosen trial 0: val_accuracy \d\.\d{4} at its best epoch \(1\)", printed)
    assert re.search(r"Chose trial 0: converged val acc \d\.\d{3}", printed)


def test_run_and_export_help_describe_the_default_retrain(capsys) -> None:
    assert main(["run", "--help"]) == 0
    description = capsys.readouterr().out.split("\n\n")[1]
    assert "outside the validation split" in description, description
    assert "train+validation" not in description and "train + validation" not in description
    assert main(["export", "--help"]) == 0  # an export retrains as its run did
    description = " ".join(capsys.readouterr().out.split("\n\n")[1].split())
    assert "as the run retrained" in description and "default to the run's own" in description, description


def test_status_of_an_interrupted_run_lists_no_running_trial(tmp_path: Path, capsys) -> None:
    from tests.helpers.runs import epochs, trial, write_run

    trials = [trial("0", epochs((0.9, 0.8, 1, 1))), trial("1", [], status="running")]
    folder = write_run(tmp_path, "stopped", trials, status="interrupted")
    assert main(["status", str(folder.path)]) == 0
    out = capsys.readouterr().out
    assert "1 completed, 1 interrupted (resume continues it)," in out
    assert "running" not in out


def test_a_comparison_report_goes_next_to_the_first_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    from tests.helpers.runs import epochs, trial, write_run

    a = write_run(tmp_path, "a", [trial("0", epochs((0.9, 0.8, 1, 1)))])
    b = write_run(tmp_path, "b", [trial("0", epochs((0.9, 0.85, 1, 1)))])
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert main(["report", str(a.path), str(b.path)]) == 0
    expected = tmp_path / "fashion" / "compare-a-b.html"
    assert f"report: {expected}\n" in capsys.readouterr().out
    assert expected.is_file() and list(elsewhere.iterdir()) == []


def test_the_command_line_loads_no_keras_before_it_chooses_the_backend() -> None:
    code = (
        "import sys, search.cli;"
        " print(sorted(m for m in ('keras', 'tensorflow', 'keras_tuner', 'jax') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]", done.stdout + done.stderr


def test_the_experiments_package_is_there_after_import_search_quietly() -> None:
    code = "import search; print(search.experiments.get('images', 'transfer').name)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert (done.stdout, done.stderr) == ("images\n", "")
