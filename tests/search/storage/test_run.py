"""The run folder's reads: a damaged file is named in one line with its fix."""

from __future__ import annotations

import errno
import json
from pathlib import Path

import pytest

from search.errors import RunFolderError
from search.storage import RunFolder


@pytest.mark.parametrize("content", [[], {"format_version": 1}, {"trials": {}}])
def test_trials_json_without_a_trials_list_says_to_restore_it(tmp_path: Path, content: object) -> None:
    folder = RunFolder(tmp_path)
    folder.trials_file.write_text(json.dumps(content))
    with pytest.raises(RunFolderError) as caught:
        folder.read_trials()
    message = str(caught.value)
    assert message.startswith(f"{folder.trials_file}: expected an object with a trials list, found ")
    assert message.endswith("the file is damaged: restore it, or start a new run with another name")
    assert len(message.splitlines()) == 1


def test_run_json_without_a_format_version_says_to_restore_it(tmp_path: Path) -> None:
    folder = RunFolder(tmp_path)
    folder.run_file.write_text(json.dumps({"experiment": "fashion"}))
    with pytest.raises(RunFolderError) as caught:
        folder.read_meta()
    message = str(caught.value)
    assert message.startswith(f"{folder.run_file}: not a run file of this tool (no format_version)")
    fix = "the file is damaged or not this tool's: restore it, or start a new run with another name"
    assert message.endswith(fix)


def test_a_run_file_that_is_a_folder_or_fails_to_read_is_not_told_to_chmod(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only a PermissionError is fixed by chmod u+r: a folder in a file's place, or an I/O
    error, is named for what it is."""
    folder = RunFolder(tmp_path)
    folder.trials_file.mkdir()
    damaged = "the file is damaged: restore it, or start a new run with another name"
    with pytest.raises(RunFolderError, match=rf"^\S+trials.json: a folder, not trials.json; {damaged}$"):
        folder.read_trials()
    folder.run_file.write_text("{}")

    def failing(self: Path, encoding: str | None = None) -> str:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(Path, "read_text", failing)
    with pytest.raises(RunFolderError, match=r"^\S+run.json: run.json cannot be read \(Input/output error\);"
                       r" check the file and its disk$"):  # fmt: skip
        folder.read_meta()
