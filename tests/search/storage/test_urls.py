"""URLs as run.json keeps them: the password hidden, a value that is not a URL as given,
and any other error let through."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy.engine

from search.storage import absolute_url, is_masked, masked_url, same_storage


@pytest.mark.parametrize(
    "value", ["not a url", "", "a b://c", "postgresql://u:p@h:notaport/db", "postgresql://u:p@[::1/db"]
)
def test_a_value_that_is_not_a_url_comes_back_as_given(value: str) -> None:
    assert masked_url(value) == value


def test_the_password_is_hidden() -> None:
    masked = masked_url("postgresql+psycopg://user:secret@db:5432/search")
    assert masked is not None and "secret" not in masked and is_masked(masked)


def test_an_unexpected_error_is_not_taken_for_a_value_that_is_not_a_url(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(url: str) -> None:
        raise RuntimeError("a bug in the parser")

    monkeypatch.setattr(sqlalchemy.engine, "make_url", broken)
    with pytest.raises(RuntimeError, match="a bug in the parser"):
        masked_url("postgresql://user:secret@db/search")


def test_a_storage_given_again_with_its_password_is_the_one_run_json_keeps() -> None:
    kept = masked_url("postgresql+psycopg://user:secret@db:5432/search")
    assert same_storage(kept, "postgresql+psycopg://user:secret@db:5432/search")
    assert not same_storage(kept, "postgresql+psycopg://user:secret@db:5432/other")
    assert not same_storage(None, "postgresql+psycopg://user:secret@db:5432/search")
    assert same_storage(None, None)


def test_a_relative_sqlite_path_is_made_absolute_from_the_current_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert absolute_url("sqlite:///runs/study.db?timeout=5") == f"sqlite:///{tmp_path}/runs/study.db?timeout=5"
    for kept in ("sqlite:////abs/study.db", "sqlite://", "sqlite:///:memory:", "postgresql://u:p@h/db", None):
        assert absolute_url(kept) == kept
    assert same_storage("sqlite:///study.db", f"sqlite:///{tmp_path}/study.db")
    monkeypatch.chdir(tmp_path.parent)  # the same words from another folder: another file
    assert not same_storage(f"sqlite:///{tmp_path}/study.db", "sqlite:///study.db")
