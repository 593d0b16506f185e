"""The run folder's reads: a damaged file is named in one line with its fix."""

from __future__ import annotations

import errno
import json
import re
from pathlib import Path

import pytest

from search.cli import main
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


@pytest.mark.parametrize(("hyperparameters", "found"), [(..., "missing"), (None, "null"), ([1], "[1]")])
def test_a_trial_record_without_its_hyperparameters_is_named(
    tmp_path: Path, hyperparameters: object, found: str
) -> None:
    """Every record holds its configuration: one missing or not an object is named in one
    line (the file, the record, the fix), for the run's every reader."""
    from tests.helpers.runs import epochs, trial, write_run

    record = trial("1", epochs((0.5, 0.4, 1.0, 1.1)))
    del record["hyperparameters"]
    if hyperparameters is not ...:
        record["hyperparameters"] = hyperparameters
    folder = write_run(tmp_path, "edited", [trial("0", epochs((0.5, 0.4, 1.0, 1.1))), record])
    expected = (
        f"{folder.trials_file}: trial record 2's field 'hyperparameters' is {found}, not an object;"
        " the file is damaged or was edited: restore it, or start a new run with another name"
    )
    assert _refusal_of_every_reader(folder) == expected


def _refusal_of_every_reader(folder: RunFolder) -> str:
    """The one message that reading ``folder``'s trials raises, from storage and from the API."""
    import search

    said = []
    for read in (folder.read_trials, lambda: search.load(folder.path).trials):
        with pytest.raises(RunFolderError) as caught:
            read()
        said.append(str(caught.value))
    assert said[0] == said[1], said
    return said[0]


@pytest.mark.parametrize(("value", "found"), [([1, 2], "[1, 2]"), (10**30, str(10**30)),
                                              (float("nan"), "NaN"), ({"a": 1}, '{"a": 1}')])  # fmt: skip
def test_a_hyperparameter_that_no_space_holds_is_named(tmp_path: Path, value: object, found: str) -> None:
    """A list crashed the report's figures, a 10**30 its importances ('unexpected')."""
    from tests.helpers.runs import epochs, trial, write_run

    record = trial("1", epochs((0.5, 0.4, 1.0, 1.1)))
    record["hyperparameters"] = {**record["hyperparameters"], "units": value}
    folder = write_run(tmp_path, "edited", [trial("0", epochs((0.5, 0.4, 1.0, 1.1))), record])
    expected = (
        f"{folder.trials_file}: trial record 2's hyperparameter 'units' is {found}, not a value (text,"
        " an int within 64 bits, a float other than NaN, true, false or null); the file is damaged or"
        " was edited"
    )
    assert _refusal_of_every_reader(folder).startswith(expected)
    record["hyperparameters"] = {"units": 2**63 - 1, "name": "relu", "on": True, "off": None, "lr": 1e-3,
                                 "clip": float("inf")}  # a choice may hold infinity
    kept = write_run(tmp_path, "kept", [record])  # values a search can hold are read
    assert kept.read_trials()[0]["hyperparameters"]["units"] == 2**63 - 1


@pytest.mark.parametrize("name", ["run.json", "trials.json"])
def test_a_run_file_nested_deeper_than_python_decodes_is_corrupt_not_unexpected(
    name: str, tmp_path: Path
) -> None:
    """A run.json or trials.json of arrays nested past Python's recursion limit raised a bare
    RecursionError (`status` said 'unexpected RecursionError', exit 1; `list` stopped at
    it); it is named as unreadable or corrupt, as other damage is."""
    folder = RunFolder(tmp_path / "fashion" / "r")
    folder.path.mkdir(parents=True)
    folder.write_meta({"experiment": "fashion", "tuner": "random"})
    (folder.path / name).write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(RunFolderError, match=rf"{name} is unreadable or corrupt \(maximum recursion depth"):
        folder.read_meta()
        folder.read_trials()


@pytest.mark.parametrize(("field", "value", "kind"), [
    ("seconds", "x", "a finite number of at least 0, or null"),
    ("seconds", float("nan"), "a finite number of at least 0, or null"),
    ("best_epoch", "x", "a finite number or null"),
    ("best_epoch", float("inf"), "a finite number or null"),
    ("epochs", [1, 2], "a list of epoch objects, each with its number and metrics \\(numbers\\)"),
    ("epochs", [{}], "a list of epoch objects, each with its number and metrics \\(numbers\\)"),
    ("finished", "soon", re.escape("a time with its offset (ISO 8601, e.g. 2026-01-31T12:00:00+00:00)"
                                   " or null")),
])  # fmt: skip
def test_a_trial_records_seconds_best_epoch_or_epochs_of_the_wrong_kind_are_named(
    tmp_path: Path, field: str, value: object, kind: str
) -> None:
    """A record's seconds or best_epoch that is not a number, or an epoch that is not an
    object with its number, passed the check: status and list failed with 'unexpected
    TypeError', report with KeyError 'epoch' (exit 1), status printed 'at epoch x'; each is
    named in one line, as the record's other fields are."""
    from tests.helpers.runs import epochs, trial, write_run

    record = trial("1", epochs((0.5, 0.4, 1.0, 1.1)), best_epoch=1)
    record[field] = value
    folder = write_run(tmp_path, "edited", [trial("0", epochs((0.5, 0.4, 1.0, 1.1))), record])
    found = re.escape(json.dumps(value))
    with pytest.raises(RunFolderError, match=rf"trial record 2's field '{field}' is {found}, not {kind};"):
        folder.read_trials()


def test_two_trial_records_of_one_id_are_named(tmp_path: Path) -> None:
    """trials.json edited to hold trial 0 twice: the report chose one and named the other's
    score, and an export retrained either."""
    from tests.helpers.runs import epochs, trial, write_run

    folder = write_run(tmp_path, "twice", [trial("0", epochs((0.9, 0.8, 1, 1))),
                                           trial("1", epochs((0.5, 0.4, 1, 1))),
                                           trial("0", epochs((0.3, 0.2, 1, 1)))])  # fmt: skip
    with pytest.raises(RunFolderError, match=r"trials\.json: trial records 1 and 3 share the id '0';"
                       " the file is damaged or was edited"):  # fmt: skip
        folder.read_trials()


def test_a_format_version_the_tool_does_not_read_is_named_in_either_file(tmp_path: Path) -> None:
    from tests.helpers.runs import epochs, trial, write_run

    folder = write_run(tmp_path, "versions", [trial("0", epochs((0.9, 0.8, 1, 1)))])
    doc = json.loads(folder.trials_file.read_text())
    folder.trials_file.write_text(json.dumps({**doc, "format_version": 42}))
    with pytest.raises(RunFolderError, match=r"trials\.json: format version 42, this version of the tool"
                       " reads 1; use a matching version"):  # fmt: skip
        folder.read_trials()
    meta = json.loads(folder.run_file.read_text())
    folder.run_file.write_text(json.dumps({**meta, "format_version": "1"}))
    with pytest.raises(RunFolderError, match=r'run\.json: format version "1", this version of the tool'
                       " reads 1;"):  # fmt: skip
        folder.read_meta()


def test_a_folder_or_file_inside_a_run_names_the_run(tmp_path: Path, capsys) -> None:
    """`status .` in RUN/tuner said 'holds no run.json, so it is not a run folder (a run's
    run.json was lost if this was one ...)', and RUN/trials.json 'is a file, not a run folder'."""
    run = RunFolder(tmp_path / "fashion" / "r1")
    (run.path / "tuner" / "trial_0").mkdir(parents=True)
    run.write_meta({"experiment": "fashion", "tuner": "random"})
    run.write_trials([])
    for inside, what in ((run.path / "tuner" / "trial_0", "a folder inside"), (run.trials_file, "a file of")):
        assert main(["status", str(inside), "--results", str(tmp_path)]) == 2
        assert capsys.readouterr().err == (
            f"error: {inside}: is {what} run {run.path}; give the run's folder, {run.path}\n"
        )


def test_a_finished_run_removes_what_a_kill_left_of_its_final_trainings_writes(tmp_path: Path) -> None:
    """kill -9 during a finalist's or the retrain's state write leaves write_atomic's
    temporary file (megabytes, a model's variables); the finished run removes it with the
    states, and keeps what other processes may still be writing (trials.json's)."""
    from search.storage import FinalistFiles

    folder, finalists = RunFolder(tmp_path), FinalistFiles(tmp_path)
    left = [finalists.path / ".2.state.npz.vpk1wytp.tmp", finalists.path / ".2.json.a1b2c3.tmp",
            tmp_path / ".retrain.0.validated.state.npz.x9y8z7.tmp"]  # fmt: skip
    finalists.state_file("2").write_bytes(b"")
    folder.retrain_state("0", "validated").write_bytes(b"")
    for path in left:
        path.write_bytes(b"cut short")
    other = tmp_path / ".trials.json.q1w2e3.tmp"
    other.write_bytes(b"")
    finalists.remove_weights()
    folder.remove_retrain_states()
    assert not [path for path in left if path.exists()]
    assert not finalists.state_file("2").exists() and not folder.retrain_state("0", "validated").exists()
    assert other.exists()
