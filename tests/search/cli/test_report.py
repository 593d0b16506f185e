"""``search report``: what it refuses before writing anything."""

from __future__ import annotations

from pathlib import Path

import pytest

from search.cli import main
from tests.helpers.runs import epochs, trial, write_run


def test_a_run_named_twice_is_refused_not_compared_with_itself(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    folder = write_run(tmp_path, "a", [trial("0", epochs((0.9, 0.8, 1, 1)))])
    assert main(["report", "a", str(folder.path), "--results", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err == (f"error: {folder.path.resolve()}: given twice (a, {folder.path}); name each run once\n")
    assert not (tmp_path / "fashion" / "compare-a-a.html").exists()
