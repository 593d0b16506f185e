"""Two workers on one search through a real PostgreSQL server started by the test."""

from __future__ import annotations

import glob
import json
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import optuna
import pytest

from search.cli import main
from tests.conftest import missing


def _pg_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    """A PostgreSQL server on localhost in a temporary data folder (Debian's postgresql)."""
    pg_bin = _pg_bin()
    if pg_bin is None:
        missing("PostgreSQL is not installed: apt-get install postgresql")
    # Not under pytest's tmp folder: that one is private to its owner, and the server may
    # have to run as another user.
    root = Path(tempfile.mkdtemp(prefix="search-pg-"))
    data, sockets = root / "data", root / "sock"
    sockets.mkdir()
    as_user: list[str] = []
    if os.geteuid() == 0:  # the server refuses to run as root: use Debian's postgres user
        if shutil.which("runuser") is None:
            missing("running as root without runuser (util-linux) to start PostgreSQL as postgres")
        shutil.chown(root, "postgres")
        shutil.chown(sockets, "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    port = _free_port()

    def run(*cmd: str) -> None:
        subprocess.run([*as_user, *cmd], check=True, capture_output=True, timeout=120)

    run(str(pg_bin / "initdb"), "-D", str(data), "-A", "trust", "-U", "search", "--no-sync")
    run(str(pg_bin / "pg_ctl"), "-D", str(data), "-w", "-l", str(root / "log"), "-o",
        f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c fsync=off", "start")
    try:
        run(str(pg_bin / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "search", "study")
        yield f"postgresql+psycopg://search@127.0.0.1:{port}/study"
    finally:
        run(str(pg_bin / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop")
        shutil.rmtree(root, ignore_errors=True)


def test_two_workers_share_a_postgres_study(
    postgres_url: str, tmp_path: Path, fashion_dir: Path
) -> None:
    code = main([
        "run", "fashion", "--tuner", "optuna", "--workers", "2", "--storage", postgres_url,
        "--sampler", "random", "--train-size", "600", "--val-size", "300", "--max-trials", "6",
        "--max-epochs", "2", "--fix", "filters=16", "--no-retrain",
        "--data-dir", str(fashion_dir), "--results", str(tmp_path), "--name", "pg", "--quiet",
    ])  # fmt: skip
    assert code == 0
    folder = tmp_path / "fashion" / "pg"
    assert not (folder / "optuna.journal").exists()
    trials = json.loads((folder / "trials.json").read_text())["trials"]
    assert sorted(int(t["id"]) for t in trials) == list(range(6))
    assert "worker 1:" in (folder / "worker-1.log").read_text()
    study = optuna.load_study(study_name="fashion-pg", storage=postgres_url)
    real = [t for t in study.trials if not t.user_attrs.get("surplus")]
    assert len(real) == 6
    assert {t.user_attrs["keras_tuner_trial_id"] for t in real} == {t["id"] for t in trials}
    meta = json.loads((folder / "run.json").read_text())
    assert meta["optuna"]["storage"] == postgres_url


def test_wrong_database_names_host_and_port(postgres_url: str, tmp_path: Path, capsys) -> None:
    wrong = postgres_url.replace("/study", "/nosuchdb")
    assert main(["run", "fashion", "--tuner", "optuna", "--storage", wrong,
                 "--results", str(tmp_path)]) == 2  # fmt: skip
    err = capsys.readouterr().err
    assert "cannot reach the database at 127.0.0.1:" in err and "nosuchdb" in err
    assert "Traceback" not in err
