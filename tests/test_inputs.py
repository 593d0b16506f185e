"""Hostile inputs: user text printed literally, unwritable places, bad seeds and domains."""

from __future__ import annotations

from pathlib import Path

import pytest

from search.cli import main

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
