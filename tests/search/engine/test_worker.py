"""Joining a run as a worker: refused, before any work, where there is nothing to join or
the storage given is not the run's."""

from __future__ import annotations

from pathlib import Path

import pytest

from search.cli import main
from search.storage import RunFolder
from tests.helpers.runs import optuna_run


def _optuna_run(root: Path, status: str, storage: str | None = None) -> RunFolder:
    return optuna_run(root, "my run", status, storage)


def test_joining_an_interrupted_run_says_how_to_resume_it_with_workers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _optuna_run(tmp_path, "interrupted")
    assert main(["worker", str(folder.path)]) == 2
    assert capsys.readouterr().err == (
        f"error: {folder.path}: the run is interrupted; nothing to join; resume it with its"
        f" workers (N processes in all): `python -m search resume '{folder.path}' --workers N`\n"
    )


def test_a_worker_given_another_database_than_the_runs_journal_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """It trained a trial in a new study there, then failed advising a new --name."""
    folder = _optuna_run(tmp_path, "running")
    url = "postgresql+psycopg://u:secret@127.0.0.1:9/other"
    assert main(["worker", str(folder.path), "--storage", url]) == 2
    assert capsys.readouterr().err == (
        "error: --storage postgresql+psycopg://u:***@127.0.0.1:9/other: the run"
        f" {folder.path} keeps its Optuna study in its journal file"
        f" {folder.path}/optuna.journal, not there; leave out --storage to continue it (start a"
        " new run with another --name to search in another storage)\n"
    )
    assert not (folder.path / "worker").exists() and not (folder.path / "tuner").exists()


def test_a_worker_given_a_url_whose_port_is_no_number_is_told_so_without_its_password(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _optuna_run(tmp_path, "running", "postgresql+psycopg://u:secret@127.0.0.1:9/pk")
    assert main(["worker", str(folder.path), "--storage", "postgresql+psycopg://u:secret@h:x/pk"]) == 2
    assert capsys.readouterr().err == (
        "error: --storage '...@h:x/pk': its port is not a number; give host:PORT (an IPv6 host in"
        " brackets: [::1]:5432), e.g. postgresql+psycopg://user:password@host:5432/dbname\n"
    )
