"""The examples run as printed, at a tiny budget (``--smoke``)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import write_image_folders

REPO = Path(__file__).resolve().parents[1]


def _example(name: str, *args: str, cwd: Path) -> str:
    done = subprocess.run(
        [sys.executable, str(REPO / "examples" / name), *args, "--smoke", "--results", str(cwd / "r")],
        cwd=cwd, capture_output=True, text=True, timeout=600,
        env={**os.environ, "PYTHONPATH": str(REPO), "SEARCH_CACHE_DIR": str(cwd / "cache")},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_build_function_example(tmp_path: Path) -> None:
    out = _example("build_function.py", cwd=tmp_path)
    assert "chosen: {" in out and "'accuracy'" in out and "report.html" in out


def test_regression_example(tmp_path: Path) -> None:
    out = _example("regression.py", cwd=tmp_path)
    assert "chosen: {" in out and "'mean_absolute_error'" in out and "report.html" in out
    against = next(line for line in out.splitlines() if "the space's defaults" in line)
    if against.startswith("Against the baseline"):  # "...: val_mean_absolute_error 144.7 -> 56.26."
        before, after = (float(v) for v in against.rstrip(".").rsplit(" ", 3)[1::2])
        assert after < before  # minimized


def test_own_training_loop_example(tmp_path: Path) -> None:
    out = _example("own_training_loop.py", cwd=tmp_path)
    assert "chosen: {" in out and "batch_size" in out and "gap_accuracy" in out


@pytest.mark.parametrize("model", ["cnn", "transfer"])
def test_image_folder_example(model: str, tmp_path: Path) -> None:
    split = write_image_folders(tmp_path / "split", {"train": 10})
    shutil.move(split / "train", tmp_path / "photos")
    out = _example("image_folder.py", str(tmp_path / "photos"), "--model", model, cwd=tmp_path)
    assert "chosen: {" in out and "'accuracy'" in out


def test_the_readmes_python_example_runs_as_printed(tmp_path: Path) -> None:
    readme = (REPO / "README.md").read_text()
    section = readme.split("## Use it from Python", 1)[1]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    script = tmp_path / "readme_example.py"
    script.write_text(code)
    done = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True,
                          text=True, timeout=900, env={**os.environ, "PYTHONPATH": str(REPO)})  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.strip().splitlines()  # progress first, then the four prints
    chosen = next(i for i, line in enumerate(lines) if line.startswith("{'units': "))
    assert lines[chosen + 1].startswith("{'accuracy': ")
    assert lines[-1].endswith("results/build/digits/report.html")
    assert (tmp_path / "results" / "build" / "digits" / "best_model.keras").is_file()
