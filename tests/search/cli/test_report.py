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


@pytest.mark.parametrize("status", ["failed", "finished"])
def test_a_run_whose_trials_all_failed_says_why_not_yet(
    status: str, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """A run that ended with every trial failed said 'no trial scored yet', as if one might."""
    why = "ran to the end, but its val_loss was NaN; check the learning rate"
    folder = write_run(tmp_path, "a", [trial(str(i), [], "failed", failure=why) for i in range(2)], status)
    assert main(["report", str(folder.path)]) == 0
    out = capsys.readouterr().out
    assert f"no trial scored: 2 of 2 failed (trial 0: {why})" in out and "yet" not in out


def test_a_run_still_going_without_a_score_says_yet(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    folder = write_run(tmp_path, "a", [trial("0", [], "failed", failure="boom")], "interrupted")
    assert main(["report", str(folder.path)]) == 0
    assert "no trial scored yet" in capsys.readouterr().out


def test_open_without_a_browser_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a machine without a browser (a server, SSH) --open did nothing and said nothing."""
    folder = write_run(tmp_path, "a", [trial("0", epochs((0.9, 0.8, 1, 1)))])
    monkeypatch.setattr("webbrowser.open", lambda url: False)
    assert main(["report", str(folder.path), "--open", "--quiet"]) == 0
    output = folder.path / "report.html"
    assert capsys.readouterr().err == (
        f"--open: no browser found to open {output}; open the file yourself, or set $BROWSER\n"
    )
    assert output.is_file()
