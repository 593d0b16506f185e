"""Hostile inputs: user text printed literally, unwritable places, bad seeds and domains."""

from __future__ import annotations

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


def test_export_is_refused_while_an_isolated_search_runs(tmp_path: Path, fashion_dir: Path,
                                                         capsys) -> None:  # fmt: skip
    """``--isolate`` holds the run's lock in its own process from the first trial to the
    last, so nothing can take the run between two trial processes."""
    import subprocess
    import sys
    import time

    from search.cli._runs import lock_holder
    from search.storage import RunFolder

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
    finally:
        _, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err[-2000:]
    assert [t["status"] for t in folder.read_trials()] == ["completed"] * 3
