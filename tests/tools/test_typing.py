"""The packages type-check: mypy, configured in pyproject.toml, finds no error."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

PACKAGES = ("search", "hypermodels")
MYPY_TIMEOUT_S = 300
"""A cold run takes 15-25 s on two cores; a cached one, about 2 s."""


def _mypy(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MYPYPATH": str(ROOT)}  # this checkout's packages, not an installed copy
    return subprocess.run(
        [sys.executable, "-m", "mypy", *args], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=MYPY_TIMEOUT_S,
    )  # fmt: skip


def test_packages_type_check() -> None:
    result = _mypy()  # files and options: [tool.mypy] in pyproject.toml
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_catches_a_wrong_type(tmp_path: Path) -> None:
    """The configuration checks calls into the packages (a wrong type is an error)."""
    wrong = tmp_path / "wrong.py"
    wrong.write_text(
        "from search.engine import RunRequest\n\nRunRequest(experiment='fashion', tuner=3)\n"
    )
    result = _mypy("--config-file", str(ROOT / "pyproject.toml"), str(wrong))
    assert result.returncode == 1, result.stdout + result.stderr
    assert 'Argument "tuner" to "RunRequest" has incompatible type "int"' in result.stdout


@pytest.mark.parametrize("package", PACKAGES)
def test_packages_ship_their_types(package: str) -> None:
    assert (ROOT / package / "py.typed").is_file()
