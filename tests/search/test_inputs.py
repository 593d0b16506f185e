"""Hostile inputs: user text printed literally, unwritable places, bad seeds and domains."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from search.cli import main


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory, fashion_dir: Path) -> Path:
    """A finished one-trial run's folder."""
    results = tmp_path_factory.mktemp("finished")
    assert main(["run", "fashion", *TINY, "--data-dir", str(fashion_dir), "--results",
                 str(results), "--name", "done", "--quiet"]) == 0  # fmt: skip
    return results / "fashion" / "done"


def a_file(tmp_path: Path) -> Path:
    """A regular file: no folder can be made under it, whoever runs the test (root too)."""
    path = tmp_path / "a-file"
    path.write_text("not a folder")
    return path


TINY = ["--tuner", "random", "--train-size", "100", "--val-size", "50", "--max-trials", "1",
        "--max-epochs", "1", "--fix", "filters=16", "--no-retrain"]  # fmt: skip


@pytest.mark.parametrize("root", ["res[v2]", "res[/x]"])
def test_paths_are_printed_literally(root: str, tmp_path: Path, fashion_dir: Path, capsys) -> None:
    results = tmp_path / root
    folder = results / "fashion" / "a"
    assert main(["run", "fashion", *TINY, "--data-dir", str(fashion_dir),
                 "--results", str(results), "--name", "a"]) == 0  # fmt: skip
    out = capsys.readouterr().out
    assert f"results in {folder}" in out and f"report: {folder / 'report.html'}" in out
    assert main(["status", "a", "--results", str(results)]) == 0
    assert f"run {folder}\n" in capsys.readouterr().out
    assert main(["list", "--results", str(results)]) == 0
    assert f"runs under {results}" in capsys.readouterr().out
    output = tmp_path / f"model{root}.keras"
    assert main(["export", str(folder), "--output", str(output), "--retrain-data", "search",
                 "--retrain-max-epochs", "1", "--quiet"]) == 0  # fmt: skip
    assert f"model: {output} (classes: T-shirt/top," in capsys.readouterr().out


def test_a_folder_left_holding_only_its_lock_takes_the_run(
    tmp_path: Path, fashion_dir: Path
) -> None:
    """A first write that failed left the run's folder with its lock file alone."""
    from search.storage import RunLock

    folder = tmp_path / "fashion" / "a"
    folder.mkdir(parents=True)
    with RunLock(folder):
        pass
    assert [p.name for p in folder.iterdir()] == [".lock"]
    assert main(["run", "fashion", *TINY, "--data-dir", str(fashion_dir), "--results",
                 str(tmp_path), "--name", "a", "--quiet"]) == 0  # fmt: skip
    assert (folder / "run.json").is_file()


def _files(folder: Path) -> dict[Path, bytes | None]:
    """Every path under ``folder`` with its bytes (None for a folder)."""
    return {p: p.read_bytes() if p.is_file() else None for p in folder.rglob("*")}


@pytest.mark.parametrize("lock", [".lock", ".trials.lock"])
def test_a_lock_file_that_is_a_folder_is_named_before_any_work(
    lock: str, tmp_path: Path, fashion_dir: Path, capsys
) -> None:
    """A folder where a run keeps a lock file: one line naming it and the fix, exit 2, for a
    new run, a resumed one and an export, and nothing on disk changed."""
    from search.storage import RunFolder

    def refused(command: list[str], path: Path) -> None:
        assert main(command) == 2
        out, err = capsys.readouterr()
        assert err == f"error: {path}: is a folder, not the run's lock file; remove or rename it\n"
        assert "loading" not in out

    tiny = ["run", "fashion", *TINY, "--data-dir", str(fashion_dir), "--results", str(tmp_path)]
    new = tmp_path / "fashion" / "new"
    (new / lock).mkdir(parents=True)
    refused([*tiny, "--name", "new"], new / lock)
    assert _files(new) == {new / lock: None}
    old = RunFolder(tmp_path / "fashion" / "old")
    assert main([*tiny, "--name", "old", "--quiet"]) == 0
    old.update_meta(status="interrupted")
    (old.path / lock).unlink(missing_ok=True)
    (old.path / lock).mkdir()
    before = _files(old.path)
    refused([*tiny, "--name", "old"], old.path / lock)
    refused(["resume", str(old.path)], old.path / lock)
    if lock == ".lock":  # an export takes no other
        refused(["export", str(old.path), "--output", str(tmp_path / "m.keras"), "--retrain-data",
                 "search", "--retrain-max-epochs", "1"], old.path / lock)  # fmt: skip
    assert _files(old.path) == before and not (tmp_path / "m.keras").exists()


def test_unwritable_results_is_refused_before_any_work(tmp_path: Path, capsys) -> None:
    results = a_file(tmp_path) / "results"
    assert main(["run", "fashion", *TINY, "--results", str(results)]) == 2
    out, err = capsys.readouterr()
    assert err == f"error: --results {results}: {a_file(tmp_path)} is a file, not a folder;" \
        " give a --results folder you can write to (or make this one writable)\n"
    assert "loading" not in out


def test_report_output_unwritable_or_a_folder(finished: Path, tmp_path: Path, capsys) -> None:
    unwritable = a_file(tmp_path) / "report.html"
    assert main(["report", str(finished), "--output", str(unwritable)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: --output {unwritable}: {a_file(tmp_path)} is a file, not a folder")
    assert err.count("\n") == 1
    assert main(["report", str(finished), "--output", str(tmp_path)]) == 2
    assert f"--output {tmp_path}: is a folder; give a file name" in capsys.readouterr().err


def test_export_output_unwritable_is_refused_before_the_retrain(
    finished: Path, tmp_path: Path, capsys
) -> None:
    output = a_file(tmp_path) / "model.keras"
    assert main(["export", str(finished), "--output", str(output)]) == 2
    out, err = capsys.readouterr()
    assert f"--output {output}: {a_file(tmp_path)} is a file, not a folder" in err
    assert "retraining" not in out


def test_export_and_resume_are_refused_while_an_isolated_search_runs(tmp_path: Path, fashion_dir: Path,
                                                         capsys) -> None:  # fmt: skip
    """``--isolate`` holds the run's lock in its own process from the first trial to the
    last, so nothing can take the run between two trial processes."""
    import subprocess
    import sys
    import time

    from search.storage import RunFolder, lock_holder

    folder = RunFolder(tmp_path / "fashion" / "iso")
    proc = subprocess.Popen([
        sys.executable, "-m", "search", "run", "fashion", "--tuner", "random", "--train-size",
        "300", "--val-size", "100", "--max-trials", "3", "--max-epochs", "2", "--fix",
        "filters=16", "--no-retrain", "--isolate", "--data-dir", str(fashion_dir),
        "--results", str(tmp_path), "--name", "iso", "--quiet",
    ], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        deadline = time.monotonic() + 300
        while proc.poll() is None and time.monotonic() < deadline:
            if any(t["status"] == "completed" for t in folder.read_trials()):
                break
            time.sleep(0.2)
        assert proc.poll() is None, proc.communicate()[1][-2000:]
        assert lock_holder(folder) == proc.pid
        assert main(["export", str(folder.path), "--output", str(tmp_path / "m.keras")]) == 2
        assert f"another process (PID {proc.pid}) is working on this run" in capsys.readouterr().err
        assert main(["resume", str(folder.path)]) == 2
        out, err = capsys.readouterr()
        assert f"another process (PID {proc.pid}) is working on this run" in err
        assert "loading" not in out  # refused before the data loads
        assert lock_holder(folder) == proc.pid
    finally:
        _, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err[-2000:]
    assert [t["status"] for t in folder.read_trials()] == ["completed"] * 3


@pytest.mark.parametrize(
    ("experiment", "toml", "message"),
    [
        ("fashion", 'type = "choice"\nvalues = [0, -5]\ndefault = 0', "batch_size: 0 cannot be used;"
         " batch_size must be an integer >= 1: change its values"),
        ("fashion", 'type = "float"\nlow = 16.0\nhigh = 64.0\ndefault = 32.0',
         "batch_size: 16.0 cannot be used; batch_size must be an integer >= 1: make it type = \"int\""),
        ("fashion", 'type = "float"\nlow = 16\nhigh = 64\ndefault = 32',  # drawn as 16.0...64.0
         "batch_size: 16.0 cannot be used; batch_size must be an integer >= 1: make it type = \"int\""),
        ("clothing", 'type = "fixed"\nvalue = -1', "batch_size: -1 cannot be used"),
    ],
)
def test_batch_sizes_the_model_cannot_use(experiment: str, toml: str, message: str,
                                         tmp_path: Path) -> None:  # fmt: skip
    from search import experiments
    from search.errors import SpaceError

    space = tmp_path / "space.toml"
    space.write_text(f"[batch_size]\n{toml}\n")
    with pytest.raises(SpaceError, match="^" + re.escape(f"{space}: {message}")):
        experiments.get(experiment).load_space(space)


@pytest.mark.parametrize(
    ("experiment", "name", "toml", "value"),
    [
        ("fashion", "learning_rate", 'type = "fixed"\nvalue = 0.0', "0.0"),
        ("fashion", "learning_rate", 'type = "choice"\nvalues = [inf, 1e-3]\ndefault = 1e-3', "inf"),
        ("fashion", "dropout", 'type = "float"\nlow = 0.0\nhigh = 1.0\ndefault = 0.5', "1.0"),
        ("fashion", "dense_units", 'type = "int"\nlow = 0\nhigh = 64\nstep = 32\ndefault = 32', "0"),
        ("fashion", "filters", 'type = "choice"\nvalues = [-16, 32]\ndefault = 32', "-16"),
        ("fashion", "conv_blocks", 'type = "fixed"\nvalue = 0', "0"),
        ("fashion", "augment", 'type = "choice"\nvalues = ["yes", "no"]\ndefault = "no"', "'yes'"),
        ("fashion", "zoom", 'type = "float"\nlow = 0.0\nhigh = 1.0\ndefault = 0.1', "1.0"),
        ("fashion", "shift", 'type = "fixed"\nvalue = -0.1', "-0.1"),
        ("fashion", "rotation", 'type = "fixed"\nvalue = 720.0', "720.0"),
        ("fashion", "batch_norm", 'type = "fixed"\nvalue = 1', "1"),
        ("clothing", "fine_tune_layers", 'type = "fixed"\nvalue = -1', "-1"),
        ("clothing", "fine_tune_after", 'type = "fixed"\nvalue = 1.5', "1.5"),
        ("clothing", "fine_tune_learning_rate", 'type = "fixed"\nvalue = -1e-5', "-1e-05"),
        ("clothing", "dropout", 'type = "fixed"\nvalue = 1', "1"),
    ],
)
def test_values_each_model_cannot_use(experiment: str, name: str, toml: str, value: str,
                                      tmp_path: Path) -> None:  # fmt: skip
    from search import experiments
    from search.errors import SpaceError

    space = tmp_path / "space.toml"
    space.write_text(f"[{name}]\n{toml}\n")
    with pytest.raises(SpaceError) as caught:
        experiments.get(experiment).load_space(space)
    assert str(caught.value).startswith(f"{space}: {name}: {value} cannot be used; {name} must be")
    assert "\n" not in str(caught.value) and "in the space file" in str(caught.value)


@pytest.mark.parametrize("experiment", ["fashion", "clothing"])
def test_default_spaces_pass_the_domain_checks(experiment: str) -> None:
    from search import experiments

    assert len(experiments.get(experiment).load_space()) > 0


def test_a_batch_size_of_zero_is_refused_before_any_work(tmp_path: Path, capsys) -> None:
    space = tmp_path / "space.toml"
    space.write_text('[batch_size]\ntype = "choice"\nvalues = [0, -5]\ndefault = 0\n')
    assert main(["run", "fashion", *TINY, "--space", str(space), "--results",
                 str(tmp_path / "results")]) == 2  # fmt: skip
    out, err = capsys.readouterr()
    assert err == (f"error: {space}: batch_size: 0 cannot be used; batch_size must be an integer"
                   " >= 1: change its values in the space file\n")  # fmt: skip
    assert not (tmp_path / "results").exists() and "loading" not in out


def test_a_training_subset_smaller_than_the_classes_is_refused_before_any_work(
    tmp_path: Path, fashion_dir: Path, capsys
) -> None:
    results = tmp_path / "results"
    assert main(["run", "fashion", "--tuner", "random", "--train-size", "5", "--data-dir",
                 str(fashion_dir), "--results", str(results)]) == 2  # fmt: skip
    err = capsys.readouterr().err
    assert "--train-size (5) must be between 10 (one image of each class) and" in err
    assert "Traceback" not in err and not results.exists()


@pytest.mark.parametrize(("experiment", "given", "message"), [
    ("fashion", [], "conv_blocks: 5 cannot be used on 28x28 images, which each block halves: at most 4"
     " fit (5 need 32x32); lower conv_blocks in the space file\n"),
    ("images", ["--image-size", "16", "--data-dir", "."], "conv_blocks: 5 cannot be used on 16x16"
     " images, which each block halves: at most 4 fit (5 need 32x32); lower conv_blocks in the space"
     " file, or search larger images (--image-size)\n"),
])
def test_more_conv_blocks_than_the_images_take_are_refused_before_any_work(
    experiment: str, given: list[str], message: str, tmp_path: Path, capsys
) -> None:
    space = tmp_path / "space.toml"
    space.write_text('[conv_blocks]\ntype = "int"\nlow = 2\nhigh = 5\ndefault = 2\n')
    tiny = [arg for arg in TINY if arg not in ("--fix", "filters=16")]  # the space has no filters
    assert main(["run", experiment, *tiny, *given, "--space", str(space), "--results",
                 str(tmp_path / "results")]) == 2  # fmt: skip
    out, err = capsys.readouterr()
    assert err == f"error: {space}: {message}"
    assert not (tmp_path / "results").exists() and "loading" not in out
