"""CLI errors and read-only commands, through main([...]) in-process."""

from __future__ import annotations

import gzip
import json
import os
import re
from importlib import resources
from pathlib import Path

import pytest

import search
from search.cli import build_parser, main
from search.engine import RunRequest
from search.errors import RunFolderError, SearchError
from search.storage import RunFolder


def run_args(tmp_path: Path, *extra: str) -> list[str]:
    return ["run", "fashion", "--tuner", "random", "--results", str(tmp_path / "results"), *extra]


def test_unknown_experiment_lists_valid_ones(tmp_path: Path, capsys) -> None:
    assert main(["run", "mnist", "--tuner", "random", "--results", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "unknown experiment 'mnist'; choose one of: clothing, fashion" in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("keyword", "value"),
    [("retrain_data", "full"), ("retrain_data", "search"), ("retrain_max_epochs", 5),
     ("retrain_from", "scratch"), ("retrain_schedule", "cosine")],
)
def test_retrain_options_without_the_retrain_are_refused(
    tmp_path: Path, capsys, keyword: str, value: object
) -> None:
    flag = "--" + keyword.replace("_", "-")
    assert main(run_args(tmp_path, "--no-retrain", flag, str(value))) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {flag} {value} says how the final model retrains;")
    assert f"leave out {flag}, or do not skip the retrain" in err and len(err.splitlines()) == 1
    with pytest.raises(SearchError, match=f"^{keyword} {value} says how the final model retrains"):
        search.run("fashion", tuner="random", results=tmp_path / "results", retrain=False, **{keyword: value})
    assert not (tmp_path / "results").exists()


def test_the_retrain_defaults_are_the_requests(tmp_path: Path) -> None:
    """What ``--no-retrain`` alone is checked against: the options' defaults."""
    args = build_parser().parse_args(run_args(tmp_path, "--no-retrain"))
    assert (args.retrain_data, args.retrain_max_epochs, args.retrain_from, args.retrain_schedule) == (
        "validated", None, "auto", "auto")  # None: the plan's length
    RunRequest(experiment="fashion", tuner="random", retrain=False, retrain_data=args.retrain_data,
               retrain_max_epochs=args.retrain_max_epochs, retrain_from=args.retrain_from,
               retrain_schedule=args.retrain_schedule).check()  # fmt: skip


def test_a_run_from_before_the_refusal_with_unused_retrain_options_resumes(tmp_path: Path) -> None:
    """``--no-retrain --retrain-data full`` was taken before it was refused: such a run on
    disk still resumes (the options were never used)."""
    from tests import user_models as um

    x, y = um.tiny_data()
    run = search.run(um.build, x, y, tuner="random", max_trials=1, max_epochs=1, results=tmp_path,
                     name="old", retrain=False, quiet=True)  # fmt: skip
    meta = json.loads((run.folder / "run.json").read_text())
    meta["request"].update(retrain_data="full", retrain_max_epochs=5)
    meta["status"] = "interrupted"
    (run.folder / "run.json").write_text(json.dumps(meta))
    assert search.resume(run.folder, quiet=True).status == "finished"


def test_unknown_tuner_lists_valid_ones(capsys) -> None:
    assert main(["run", "fashion", "--tuner", "grid"]) == 2
    assert "unknown tuner 'grid'; choose one of: random, hyperband, bayesian" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("option", "message"),
    [
        (["--max-trials", "0"], "--max-trials (0) must be at least 1"),
        (["--max-epochs", "-1"], "--max-epochs (-1) must be at least 1"),
        (["--train-size", "lots"], "--train-size 'lots'"),
        (["--objective", "test_accuracy"], "the test set is never an objective"),
        (["--fix", "learning_rate"], "expected NAME=VALUE"),
        (["--fix", "learning_rate=9"], "learning_rate: 9 is outside its range"),
        (["--name", "../escape"], "--name '../escape'"),
        (["--name", "ürun"], "--name 'ürun': use ASCII letters, digits,"),
        (["--fix", "learning_rate=nan"], "learning_rate: nan is not a number; give a float in"),
        (["--objective", "VAL_ACCURACY"], "--objective 'VAL_ACCURACY': Keras' metric names are"
         " case-sensitive; give --objective val_accuracy"),
        (["--retrain-max-epochs", "0"], "--retrain-max-epochs (0) must be at least 1"),
        (["--retrain-data", "all"], "--retrain-data 'all': choose one of validated, full, search"),
        (["--retrain-schedule", "fast"], "--retrain-schedule 'fast': choose one of auto, plateau, cosine"),
        (["--seed", str(2**32)], "--seed (4294967296) must be at most 4294967295 (2**32 - 1)"),
        (["--max-trials", "9" * 20], f"--max-trials ({'9' * 20}) must be at most 1000000; give"
         " --max-search-time"),
    ],
)
def test_out_of_range_options(tmp_path: Path, capsys, option: list[str], message: str) -> None:
    assert main(run_args(tmp_path, *option)) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "results").exists()


def test_an_objective_the_builtin_models_do_not_log_is_refused_before_any_work(
    tmp_path: Path, capsys
) -> None:
    tiny = ["--max-trials", "1", "--max-epochs", "1", "--train-size", "100", "--val-size", "100"]
    assert main(run_args(tmp_path, *tiny, "--no-retrain", "--objective", "val_auc")) == 2
    err = capsys.readouterr().err
    logged = "val_accuracy, val_loss, accuracy, loss"
    assert f"--objective 'val_auc': the fashion experiment's models log only {logged}" in err
    assert not (tmp_path / "results").exists()


def test_malformed_space_file(tmp_path: Path, capsys) -> None:
    space = tmp_path / "bad.toml"
    space.write_text('[learning_rate]\ntype = "float"\nlow = 0.5\nhigh = 0.1\ndefault = 0.2\n')
    assert main(run_args(tmp_path, "--space", str(space))) == 2
    assert f"{space}: learning_rate: low (0.5) must be below high (0.1)" in capsys.readouterr().err


def test_run_takes_a_space_file_that_spaces_lists_by_its_name(tmp_path: Path, monkeypatch,
                                                               capsys) -> None:  # fmt: skip
    """``--space fashion-gpu.toml`` from any folder: the package's file, as ``spaces show``
    reads it (a --fix of a name only that space has shows which space was read); a file of
    that name where the command runs wins."""
    monkeypatch.chdir(tmp_path)
    assert main(run_args(tmp_path, "--space", "fashion-gpu.toml", "--fix", "nosuch=1")) == 2
    err = capsys.readouterr().err
    assert "'nosuch': not in the space" in err and "'convs_per_block'" in err  # fashion-gpu.toml's
    (tmp_path / "fashion-gpu.toml").write_text('[learning_rate]\ntype = "fixed"\nvalue = 0.01\n')
    assert main(run_args(tmp_path, "--space", "fashion-gpu.toml", "--fix", "convs_per_block=1")) == 2
    assert "'convs_per_block': not in the space (it has ['learning_rate'])" in capsys.readouterr().err
    assert not (tmp_path / "results").exists()


def test_a_run_names_the_space_file_it_read(tmp_path: Path, monkeypatch, synthetic_fashion: Path,
                                            capsys) -> None:  # fmt: skip
    """A bare ``--space`` name may be the package's file: the run says which file it read."""
    monkeypatch.chdir(tmp_path)
    tiny = ["--max-trials", "1", "--max-epochs", "1", "--train-size", "100", "--val-size", "50",
            "--no-retrain", "--data-dir", str(synthetic_fashion)]  # fmt: skip
    assert main(run_args(tmp_path, "--space", "fashion-gpu.toml", *tiny)) == 0
    shipped = Path(str(resources.files("spaces") / "fashion-gpu.toml"))
    assert f"space: {shipped}\n" in capsys.readouterr().out


def test_missing_data_names_path_and_fix(tmp_path: Path, capsys) -> None:
    empty = tmp_path / "data"
    empty.mkdir()
    assert main(run_args(tmp_path, "--data-dir", str(empty))) == 2
    err = capsys.readouterr().err
    assert str(empty) in err and "apt-get install dataset-fashion-mnist" in err
    assert not (tmp_path / "results" / "fashion").exists()


def test_results_folder_of_another_experiment(tmp_path: Path, capsys) -> None:
    other = RunFolder(tmp_path / "results" / "fashion" / "mine")
    other.path.mkdir(parents=True)
    other.write_meta({"experiment": "clothing", "tuner": "random"})
    before = other.run_file.read_bytes()
    assert main(run_args(tmp_path, "--name", "mine")) == 2
    assert "holds a run of experiment 'clothing', not 'fashion'" in capsys.readouterr().err
    assert other.run_file.read_bytes() == before


def test_results_pointing_at_a_run_folder(tmp_path: Path, capsys) -> None:
    run = RunFolder(tmp_path / "r")
    run.path.mkdir()
    run.write_meta({"experiment": "fashion", "tuner": "random"})
    assert main(["run", "fashion", "--tuner", "random", "--results", str(run.path)]) == 2
    assert "is a run folder, not a results root" in capsys.readouterr().err


def test_existing_run_with_other_settings_is_not_overwritten(tmp_path: Path, capsys) -> None:
    run = RunFolder(tmp_path / "results" / "fashion" / "keep")
    run.path.mkdir(parents=True)
    run.write_meta({"experiment": "fashion", "tuner": "hyperband", "status": "interrupted"})
    before = run.run_file.read_bytes()
    assert main(run_args(tmp_path, "--name", "keep")) == 2
    err = capsys.readouterr().err
    assert "run 'keep' exists with other settings (--tuner hyperband -> random" in err
    assert "start a new run with another --name" in err
    assert run.run_file.read_bytes() == before


def test_other_settings_of_an_existing_run_are_named_by_their_flags(tmp_path: Path, capsys) -> None:
    """Each difference names the option to change on the command line (``--finalists``,
    ``--retrain-from``), not its keyword in run.json."""
    run = RunFolder(tmp_path / "results" / "fashion" / "keep")
    run.path.mkdir(parents=True)
    run.write_meta({"experiment": "fashion", "tuner": "random", "status": "interrupted",
                    "request": {"finalists": 2, "retrain_from": "scratch", "seed": 5,
                                "tolerance": 0.01, "retrain": True}})  # fmt: skip
    options = ("--name", "keep", "--retrain-from", "checkpoint", "--finalists", "3")
    assert main(run_args(tmp_path, *options)) == 2
    err = capsys.readouterr().err
    for change in ("--retrain-from scratch -> checkpoint", "--finalists 2 -> 3", "--seed 5 -> 0",
                   "--tolerance 0.01 -> 0.005"):
        assert change in err, err
    assert "(tuner " not in err and "--tuner random -> random" not in err, err


def test_a_run_is_not_continued_with_another_final_step(tmp_path: Path, capsys) -> None:
    """Its keeper, its retrain's saved state and run.json were made with the first ones."""
    run = RunFolder(tmp_path / "results" / "fashion" / "keep")
    run.path.mkdir(parents=True)
    first = RunRequest(
        experiment="fashion", tuner="random", retrain_max_epochs=3, tolerance=0.01, finalists=1
    )
    run.write_meta({"experiment": "fashion", "tuner": "random", "status": "interrupted",
                    "request": first.to_json("keep")})  # fmt: skip
    before = run.run_file.read_bytes()
    assert main(run_args(tmp_path, "--name", "keep", "--retrain-max-epochs", "1", "--tolerance", "0.01",
                         "--retrain-data", "search")) == 2  # fmt: skip
    err = capsys.readouterr().err
    assert "--retrain-data validated -> search; --retrain-max-epochs 3 -> 1" in err
    assert "tolerance" not in err and "finalists" not in err and run.run_file.read_bytes() == before
    assert main(run_args(tmp_path, "--name", "keep", "--retrain-max-epochs", "3", "--tolerance", "0.01",
                         "--finalists", "2")) == 2  # fmt: skip
    err = capsys.readouterr().err  # (its space and budget differ too: this run.json holds none)
    assert "; --finalists 1 -> 2;" in err and "retrain" not in err.split("start a new run")[0]


def test_foreign_files_in_run_folder(tmp_path: Path, capsys) -> None:
    folder = tmp_path / "results" / "fashion" / "x"
    folder.mkdir(parents=True)
    (folder / "notes.txt").write_text("mine")
    assert main(run_args(tmp_path, "--name", "x")) == 2
    assert "holds files that are not a run of this tool" in capsys.readouterr().err
    assert (folder / "notes.txt").read_text() == "mine"


def test_usage_error_prints_the_usage_line_and_the_error(capsys) -> None:
    assert main(["run", "fashion"]) == 2
    usage, error = capsys.readouterr().err.splitlines()
    assert usage == (
        "usage: search run [options] --tuner TUNER experiment (all options: search run --help)"
    )
    assert error == "search run: error: the following arguments are required: --tuner"


@pytest.mark.parametrize(("argv", "error"), [
    (["run", "fashion", "--tunr", "random"],
     "search run: error: unknown option --tunr: did you mean --tuner?"),
    (["run", "fashion", "--tuner", "random", "--max-trails=3"],
     "search run: error: unknown option --max-trails: did you mean --max-trials?"),
    (["status", "--zzz"], "search status: error: unknown option --zzz: see search status --help"),
    (["resume", "r", "--max-trails", "3"],  # not run's --max-trials, which resume refuses
     "search resume: error: unknown option --max-trails: see search resume --help"),
    (["worker", "r", "--storge", "x"],
     "search worker: error: unknown option --storge: did you mean --storage?"),
    (["spaces", "show", "fashion", "--quite"],
     "search spaces show: error: unknown option --quite: did you mean --quiet?"),
])  # fmt: skip
def test_an_unknown_option_is_named_with_the_closest_one(argv: list[str], error: str, capsys) -> None:
    """argparse said "required: --tuner" for a misspelt --tuner, and "unrecognized
    arguments" under the top command's usage for another, naming no option to use."""
    assert main(argv) == 2
    usage, said = capsys.readouterr().err.splitlines()
    assert usage.startswith(f"usage: search {argv[0]}") and said == error
    assert main(["run", "fashion", "--tuner", "random", "--max-tri", "x"]) == 2  # an abbreviation
    assert "argument --max-trials: invalid" in capsys.readouterr().err
    spaced = build_parser().parse_args(["run", "fashion", "--tuner", "random", "--name", "--my run"])
    assert spaced.name == "--my run"  # argparse takes a word with a space as a value


def test_spaces_show(capsys) -> None:
    assert main(["spaces", "show", "fashion"]) == 0
    out = capsys.readouterr().out
    assert "learning_rate" in out and "augment == True" in out


def test_spaces_show_takes_a_file_name_that_spaces_list_shows(tmp_path: Path, monkeypatch,
                                                               capsys) -> None:  # fmt: skip
    monkeypatch.chdir(tmp_path)  # elsewhere than the package's spaces/ folder
    assert main(["spaces", "show", "fashion-gpu.toml"]) == 0
    assert "convs_per_block" in capsys.readouterr().out
    assert main(["spaces", "show", "nope.toml"]) == 2
    assert capsys.readouterr().err == "error: nope.toml: no such space file; give an existing TOML file\n"
    assert main(["spaces", "show", "fashion-gpu"]) == 0  # as `spaces` lists it, without .toml
    assert "convs_per_block" in capsys.readouterr().out
    assert main(["spaces", "show", "nosuch"]) == 2
    assert capsys.readouterr().err == (
        "error: spaces show 'nosuch': no experiment, space file or TOML file of that name; give an"
        " experiment (clothing, fashion, images), a space file of `search spaces` (clothing, fashion,"
        " fashion-gpu, images) or a TOML file's path\n"
    )


def test_spaces_show_takes_an_experiment_where_a_folder_has_its_name(tmp_path: Path, monkeypatch,
                                                                      capsys) -> None:  # fmt: skip
    """An ``images`` folder of photos (or ``results/``' ``fashion``) where the command runs:
    the name was read as that folder, "a folder, not a space file"."""
    monkeypatch.chdir(tmp_path)
    for name in ("images", "fashion-gpu"):
        (tmp_path / name).mkdir()
        assert main(["spaces", "show", name]) == 0
        assert "learning_rate" in capsys.readouterr().out


@pytest.mark.parametrize("word", ["fashion", "spaces/fashion.toml"])
def test_spaces_given_a_space_says_to_show_it(word: str, capsys) -> None:
    """``spaces`` takes an action, not a space: the error says what to run instead."""
    assert main(["spaces", word]) == 2
    error = capsys.readouterr().err.splitlines()[-1]
    assert error == (
        f"search spaces: error: {word!r} is not an action of search spaces (list, show); to show"
        f" that space: python -m search spaces show {word}; to list the spaces: python -m search spaces"
    )


@pytest.mark.parametrize("argv", [["spaces", "list"], ["spaces"]])
def test_spaces_list_names_every_shipped_space_file_and_who_uses_it(argv: list[str], capsys) -> None:
    assert main([*argv, "--quiet"]) == 0
    cells = [[cell.strip() for cell in line.split("│")[1:-1]]
             for line in capsys.readouterr().out.splitlines()]  # fmt: skip
    rows = {row[0]: row[1:3] for row in cells if row and row[0].endswith(".toml")}
    assert sorted(rows) == ["clothing.toml", "fashion-gpu.toml", "fashion.toml", "images.toml"]
    assert rows["fashion.toml"] == ["13", "fashion (cpu budget)"]
    assert rows["fashion-gpu.toml"] == ["14", "fashion (gpu budget)"]
    assert rows["clothing.toml"][1] == "clothing"


def test_status_of_missing_run(tmp_path: Path, capsys) -> None:
    assert main(["status", "nope", "--results", str(tmp_path)]) == 2
    assert "nope: no such run folder" in capsys.readouterr().err


def test_status_of_a_run_name_under_a_results_root_that_is_a_file(tmp_path: Path, capsys) -> None:
    results = tmp_path / "results"
    results.write_text("x")
    assert main(["status", "nope", "--results", str(results)]) == 2
    err = capsys.readouterr().err
    assert f"under {results} (a file, not a folder: give the results root with --results)" in err, err


def test_status_of_a_killed_run_says_how_to_resume_it(tmp_path: Path, capsys) -> None:
    """run.json still says running, but no process holds the run's lock (kill -9, a crash)."""
    from tests.helpers.runs import epochs, trial, write_run

    folder = write_run(tmp_path, "killed", [trial("0", epochs((0.9, 0.8, 1, 1)))], "running")
    assert main(["status", str(folder.path)]) == 0
    out = capsys.readouterr().out
    assert f"resume with: python -m search resume {folder.path}" in out, out


def test_corrupt_run_json_is_named(tmp_path: Path, capsys) -> None:
    folder = tmp_path / "fashion" / "broken"
    folder.mkdir(parents=True)
    (folder / "run.json").write_text("{not json")
    assert main(["status", str(folder)]) == 2
    err = capsys.readouterr().err
    assert "run.json is unreadable or corrupt" in err and "the file is damaged: restore it" in err, err
    (folder / "trials.json").write_text("[{")
    RunFolder(folder).write_meta({"experiment": "fashion", "tuner": "random"})
    assert main(["status", str(folder)]) == 2
    err = capsys.readouterr().err
    assert "trials.json is unreadable or corrupt" in err and "the file is damaged: restore it" in err, err


@pytest.mark.parametrize(
    ("meta", "field"),
    [({}, "experiment"), ({"experiment": 3, "tuner": "random"}, "experiment"),
     ({"experiment": "fashion", "tuner": "random", "objective": None}, "objective"),
     ({"experiment": "fashion", "tuner": "random", "request": [1]}, "request"),
     ({"experiment": "fashion", "tuner": "random", "final": "x"}, "final")],
)  # fmt: skip
def test_run_json_with_missing_or_mistyped_fields_is_named(
    meta: dict, field: str, tmp_path: Path, capsys
) -> None:
    """Valid JSON of the right version whose fields are not a run's: one line, exit 2, and
    ``list`` still lists the other runs."""
    good = RunFolder(tmp_path / "fashion" / "good")
    good.path.mkdir(parents=True)
    good.write_meta({"experiment": "fashion", "tuner": "random"})
    folder = tmp_path / "fashion" / "odd"
    folder.mkdir(parents=True)
    (folder / "run.json").write_text(json.dumps({"format_version": 1, **meta}))
    commands = ["status"] if field not in meta else ["status", "report", "resume"]
    for command in commands:
        assert main([command, str(folder)]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and f"{folder / 'run.json'}: field {field!r}" in err
    assert main(["list", "--results", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "good" in out and "unreadable" in out


@pytest.mark.parametrize(
    ("field", "change"),
    [("seconds", {"seconds": "long"}), ("seconds", {"seconds": float("nan")}),
     ("final.epochs", {"final": {"trial": "0", "epochs": float("-inf")}}),
     ("space.params", {"space": {"params": []}}),
     ("final.test_accuracy", {"final": {"trial": "0", "test_accuracy": "high"}}),
     ("final.test_metrics", {"final": {"trial": "0", "test_metrics": [1]}}),
     ("created", {"created": "yesterday"}), ("finished", {"finished": "2026-12-06T03:00:00"}),
     ("status", {"status": "exploded"}),
     ("objective.direction", {"objective": {"name": "val_loss", "direction": "sideways",
                                            "tracked": "val_loss"}})],
)  # fmt: skip
def test_run_json_with_mistyped_numbers_or_inner_fields_is_named(
    field: str, change: dict, tmp_path: Path, capsys
) -> None:
    """A finished run whose run.json holds text for a number, NaN or infinity for seconds
    or a count (status printed 'nan min'), or a list for an object, deeper than its top
    level: status and report say which field, in one line."""
    from tests.helpers.runs import epochs, trial, write_run

    folder = write_run(tmp_path, "odd", [trial("0", epochs((0.9, 0.8, 1, 1)))])
    folder.update_meta(**change)
    for command in ("status", "report"):
        assert main([command, str(folder.path)]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and f"{folder.run_file}: field {field!r}" in err, err


def test_a_lost_trials_json_of_a_run_that_chose_a_trial_is_named(tmp_path: Path, capsys) -> None:
    """run.json records a chosen trial but trials.json is gone: not "no trials yet"."""
    from tests.helpers.runs import epochs, trial, write_run

    folder = write_run(tmp_path, "lost", [trial("0", epochs((0.9, 0.8, 1, 1)))])
    folder.update_meta(best={"trial": "0", "hyperparameters": {}})
    folder.trials_file.unlink()
    for command in ("status", "report"):
        assert main([command, str(folder.path)]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and f"{folder.trials_file}: missing, though" in err, err


def test_an_emptied_trials_json_of_a_run_that_chose_a_trial_is_named(tmp_path: Path, capsys) -> None:
    """trials.json holds no record though run.json records a chosen trial: status does not
    go on as if the run were whole, nor report say "no trials yet"."""
    from tests.helpers.runs import epochs, trial, write_run

    folder = write_run(tmp_path, "emptied", [trial("0", epochs((0.9, 0.8, 1, 1)))])
    folder.update_meta(best={"trial": "0", "hyperparameters": {}})
    folder.write_trials([])
    for command in ("status", "report"):
        assert main([command, str(folder.path)]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1, err
        named = f"{folder.trials_file}: holds no trial, though run.json records trial '0' as chosen"
        assert named in err, err


@pytest.mark.parametrize(
    ("record", "named"),
    [({}, "field 'id' is missing"), ({"id": "0"}, "field 'status' is missing"),
     ({"id": "0", "status": "completed", "epochs": []}, "field 'hyperparameters' is missing"),
     ({"id": "0", "status": "completed", "hyperparameters": {}, "best": {"val_accuracy": "x"}},
      "field 'best' is {\"val_accuracy\": \"x\"}"),
     ({"id": "0", "status": "completed", "hyperparameters": {}, "epochs": 3}, "field 'epochs' is 3"),
     ({"id": "0", "status": "completed", "hyperparameters": {},
       "epochs": [{"epoch": 1, "val_accuracy": "high"}]},
      "field 'epochs' is [{\"epoch\": 1, \"val_accuracy\": \"high\"}], not a list of epoch objects, each with"
      " its number and metrics (numbers)"),
     ({"id": "0", "status": "completed", "hyperparameters": {}, "seconds": -0.1},
      "field 'seconds' is -0.1, not a finite number of at least 0, or null")],
)  # fmt: skip
def test_trials_json_with_a_record_missing_or_mistyping_a_field_is_named(
    tmp_path: Path, capsys, record: dict, named: str
) -> None:
    """A hand-edited record: one line naming trials.json, the record and the field, not an
    unexpected KeyError or ValueError."""
    from tests.helpers.runs import write_run

    folder = write_run(tmp_path, "edited", [])
    folder.trials_file.write_text(json.dumps({"trials": [record]}))
    for command in ("status", "report"):
        assert main([command, str(folder.path)]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and f"{folder.trials_file}: trial record 1's {named}" in err, err


def test_trials_json_with_a_record_that_is_not_an_object_is_named(tmp_path: Path, capsys) -> None:
    folder = RunFolder(tmp_path / "fashion" / "odd")
    folder.path.mkdir(parents=True)
    folder.write_meta({"experiment": "fashion", "tuner": "random"})
    folder.trials_file.write_text(json.dumps({"format_version": 1, "trials": [{"id": "0"}, 7]}))
    for command in (["status", str(folder.path)], ["report", str(folder.path)]):
        assert main(command) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and f"{folder.trials_file}: trial record 2 is 7" in err


def test_newer_format_is_refused(tmp_path: Path, capsys) -> None:
    folder = tmp_path / "fashion" / "future"
    folder.mkdir(parents=True)
    (folder / "run.json").write_text(json.dumps({"format_version": 99, "experiment": "fashion"}))
    assert main(["status", str(folder)]) == 2
    assert "format version 99" in capsys.readouterr().err


def test_list_shows_experiments_and_tuners(tmp_path: Path, capsys) -> None:
    assert main(["list", "--results", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    for word in ("fashion", "random", "hyperband", "bayesian", "no runs"):
        assert word in out


def test_second_process_on_a_run_is_refused(tmp_path: Path) -> None:
    import subprocess
    import sys

    from search.errors import RunFolderError
    from search.storage import RunLock

    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time; from pathlib import Path; from search.storage import RunLock;"
         " lock = RunLock(Path(sys.argv[1])); lock.acquire(); print('held', flush=True);"
         " time.sleep(60)", str(tmp_path)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(RunFolderError, match=f"PID {holder.pid}"):
            RunLock(tmp_path).acquire()
    finally:
        holder.kill()
        holder.wait()
    with RunLock(tmp_path) as lock:  # a dead holder's lock is taken over, and said so
        assert lock.taken_over == holder.pid


def test_check_free_and_lock_holder_name_the_same_holder(tmp_path: Path) -> None:
    """Both probe the lock without taking it: free, held (its PID), held by a silent file
    (a holder in another process is named "another process": test_second_process_on_a_run_is_refused)."""
    from search.errors import RunFolderError
    from search.storage import RunLock, lock_holder

    probe = RunLock(tmp_path)
    probe.check_free()  # no lock file
    assert lock_holder(tmp_path) is None
    with RunLock(tmp_path):  # held through another open file of this same process
        with pytest.raises(RunFolderError, match=rf"this process \(PID {os.getpid()}\) is working"):
            probe.check_free()
        assert lock_holder(tmp_path) == os.getpid()
        (tmp_path / ".lock").write_text("")
        with pytest.raises(RunFolderError, match=r"another process \(PID unknown\) is working"):
            probe.check_free()
        assert lock_holder(tmp_path) == -1
    probe.check_free()
    assert lock_holder(tmp_path) is None
    with RunLock(tmp_path) as lock:  # the probes took nothing
        assert lock.taken_over is None


def test_failure_reasons_are_one_line_with_hints() -> None:
    from search.engine import failure_reason

    trace = "Traceback (most recent call last):\n  File x\nValueError: bad shape (3, 4)\n"
    assert failure_reason(trace) == "ValueError: bad shape (3, 4)"
    oom = "Traceback\n  ...\ntensorflow.errors.ResourceExhaustedError: OOM when allocating tensor"
    reason = failure_reason(oom)
    assert reason.startswith("out of memory (") and "smaller batch_size" in reason
    assert failure_reason(None) is None and failure_reason("  \n") is None


def test_clean_release_leaves_nothing_to_take_over(tmp_path: Path) -> None:
    from search.storage import RunLock

    with RunLock(tmp_path):
        pass
    with RunLock(tmp_path) as lock:
        assert lock.taken_over is None


def test_a_run_given_as_something_else_is_named_with_the_fix(tmp_path: Path, capsys) -> None:
    """A file, a folder without run.json, an experiment folder, a results root, a missing
    results root: each named for what it is, one line, exit 2."""
    run = RunFolder(tmp_path / "res" / "fashion" / "r1")
    run.path.mkdir(parents=True)
    run.write_meta({"experiment": "fashion", "tuner": "random"})
    lost = tmp_path / "res" / "fashion" / "lost"
    lost.mkdir()
    (lost / "trials.json").write_text("{}")
    odd = tmp_path / "res" / "fashion" / "odd"
    (odd / "run.json").mkdir(parents=True)
    cases = {
        str(run.run_file): f"is a run's run.json; give its folder, {run.path}",
        str(lost): "holds no run.json, so it is not a run folder",
        str(odd): f"its run.json, {odd / 'run.json'}, is a folder, not a file; restore the run's run.json",
        str(run.path.parent): f"is an experiment's folder of runs; give one of them, e.g. {run.path}",
        str(tmp_path / "res"): "is a results root; give one of its runs",
    }
    for ref, message in cases.items():
        for command in ("status", "report", "resume", "export"):
            assert main([command, ref, "--results", str(tmp_path / "res")]) == 2
            err = capsys.readouterr().err
            assert err.count("\n") == 1 and f"{ref}: {message}" in err, err
    assert main(["status", "--results", str(tmp_path / "nowhere")]) == 2
    assert f"--results {tmp_path / 'nowhere'}: no such folder" in capsys.readouterr().err
    assert main(["status", "r1", "--results", str(tmp_path / "nowhere")]) == 2
    assert f"under {tmp_path / 'nowhere'} (no such folder: give the results root with --results)" in (
        capsys.readouterr().err
    )


def test_list_and_status_name_a_results_root_that_is_not_one(tmp_path: Path, capsys) -> None:
    """A file, a run folder or an experiment's folder as --results: one line with the
    root to give, exit 2 (list said "no runs under" it and exited 0)."""
    run = RunFolder(tmp_path / "res" / "fashion" / "r1")
    run.path.mkdir(parents=True)
    run.write_meta({"experiment": "fashion", "tuner": "random"})
    cases = {
        run.run_file: "is a file, not a folder of runs",
        run.path: f"is a run folder, not a results root; pass {tmp_path / 'res'}",
        run.path.parent: f"is an experiment's folder, not a results root; pass {tmp_path / 'res'}",
    }
    for results, message in cases.items():
        for command in (["list"], ["status"]):
            assert main([*command, "--results", str(results)]) == 2
            err = capsys.readouterr().err
            assert err.count("\n") == 1 and f"--results {results}: {message}" in err, err
    assert main(["list", "--results", str(tmp_path / "nowhere")]) == 2  # a typo, not "no runs"
    assert f"--results {tmp_path / 'nowhere'}: no such folder" in capsys.readouterr().err


def test_list_before_the_first_run_says_there_are_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.chdir(tmp_path)  # no results/ yet: the default root is not an error
    assert main(["list"]) == 0
    assert "no runs under results" in capsys.readouterr().out


def _stored_run(tmp_path: Path, **request: object) -> RunFolder:
    """An interrupted run whose run.json stores a request with ``request``'s values."""
    folder = RunFolder(tmp_path / "fashion" / "r1")
    folder.path.mkdir(parents=True)
    stored = {**RunRequest(experiment="fashion", tuner="random").to_json("r1"), **request}
    folder.write_meta({"experiment": "fashion", "tuner": "random", "status": "interrupted",
                       "request": stored})  # fmt: skip
    return folder


def test_resume_names_run_json_for_a_value_it_stored_not_an_option(tmp_path: Path, capsys) -> None:
    """A damaged or edited run.json: not "--max-trials ('lots')", which the user never gave."""
    folder = _stored_run(tmp_path, max_trials="lots")
    assert main(["resume", str(folder.path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{folder.run_file}: the request stored there is not valid" in err
    assert "max_trials ('lots') must be a whole number" in err and "--max-trials" not in err
    folder = _stored_run(tmp_path / "again", isolate=True)
    assert main(["resume", str(folder.path), "--workers", "2"]) == 2  # given now: the user's
    err = capsys.readouterr().err
    assert err.startswith("error: --isolate runs one process at a time") and "run.json" not in err


def test_resume_from_python_names_run_json_too(tmp_path: Path) -> None:
    folder = _stored_run(tmp_path, max_trials="lots")
    with pytest.raises(RunFolderError, match=r"run\.json: the request stored there is not valid"):
        search.resume(folder.path)


def test_resume_names_run_json_for_damaged_workers(tmp_path: Path, capsys) -> None:
    folder = _stored_run(tmp_path, workers="two")
    assert main(["resume", str(folder.path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{folder.run_file}: the request stored there is not valid" in err


def test_resume_of_a_run_whose_data_folder_is_gone_is_refused_before_any_work(tmp_path: Path, capsys) -> None:
    """Named as the run's folder that is gone, with the fixes, before the data load (the
    loader said '--data-dir is not a folder', though the user gave none)."""
    gone = tmp_path / "fashion-mnist"
    folder = _stored_run(tmp_path, data_dir=str(gone))
    assert main(["resume", str(folder.path)]) == 2
    assert capsys.readouterr().err == (
        f"error: {folder.path}: its data folder {gone} is gone; put the data back there (the run goes"
        " on with the data it began with), give their new place with --data-dir, or start a new run"
        " with another --name\n"
    )


def test_resume_of_a_finished_run_says_there_is_nothing_to_resume(tmp_path: Path, capsys) -> None:
    """Not "choose another --name", an option resume does not have."""
    from tests import user_models as um

    x, y = um.tiny_data(40)
    run = search.run(um.build, x, y, tuner="random", max_trials=1, max_epochs=1, retrain=False,
                     results=tmp_path, name="r1", quiet=True)  # fmt: skip
    capsys.readouterr()
    assert main(["resume", str(run.folder)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "run 'r1' is already finished: nothing to resume" in err, err
    assert f"python -m search status {run.folder}" in err and "--name" not in err
    with pytest.raises(SearchError, match=r"nothing to resume; .*search\.load"):
        search.resume(run.folder)


def test_resume_of_a_run_killed_before_its_report_writes_the_report(tmp_path: Path, capsys) -> None:
    """A kill after run.json said "finished", before the report was written: resume writes it
    (and removes the final training's files), not "nothing to resume" with no report."""
    from tests import user_models as um

    x, y = um.tiny_data(40)
    run = search.run(um.build, x, y, tuner="random", max_trials=1, max_epochs=1, retrain=False,
                     results=tmp_path, name="r1", quiet=True)  # fmt: skip
    for name in ("report.html", "report.csv", "report.json"):  # as the kill left it
        (run.folder / name).unlink()
    (run.folder / "finalists").mkdir()
    (run.folder / "finalists" / "0.weights.npz").write_bytes(b"")
    capsys.readouterr()
    assert main(["resume", str(run.folder)]) == 0
    out = capsys.readouterr().out
    assert f"report: {run.folder / 'report.html'}" in out
    assert all((run.folder / name).is_file() for name in ("report.html", "report.csv", "report.json"))
    assert not (run.folder / "finalists" / "0.weights.npz").exists()
    assert main(["resume", str(run.folder)]) == 2  # now whole: nothing to resume
    (run.folder / "report.json").unlink()
    assert search.resume(run.folder).folder == run.folder  # from Python too
    assert (run.folder / "report.json").is_file()




def test_resume_of_a_run_killed_before_its_report_says_when_the_report_cannot_be_written(
    tmp_path: Path, capsys
) -> None:
    """A report the resume cannot write either is not said to be "written now"."""
    from tests import user_models as um

    x, y = um.tiny_data(40)
    run = search.run(um.build, x, y, tuner="random", max_trials=1, max_epochs=1, retrain=False,
                     results=tmp_path, name="r1", quiet=True)  # fmt: skip
    for name in ("report.html", "report.csv", "report.json"):  # as the kill left it
        (run.folder / name).unlink()
    (run.folder / "report.html").mkdir()  # in the way of the report
    capsys.readouterr()
    main(["resume", str(run.folder)])
    said = capsys.readouterr().out.splitlines()
    assert said[0] == "run r1 had finished; it was stopped before its report"
    assert said[1].startswith("report not written (") and len(said) == 2



def test_a_run_of_the_name_of_one_killed_before_its_report_says_resume_writes_it(tmp_path: Path) -> None:
    """Not "already finished: nothing to resume; read it with status": its report is missing,
    and resume writes it."""
    from tests import user_models as um

    x, y = um.tiny_data(40)
    common = {"tuner": "random", "max_trials": 1, "max_epochs": 1, "retrain": False, "results": tmp_path,
              "name": "r1", "quiet": True}  # fmt: skip
    run = search.run(um.build, x, y, **common)
    (run.folder / "report.json").unlink()  # as the kill left it
    with pytest.raises(SearchError) as refused:
        search.run(um.build, x, y, **common)
    assert str(refused.value) == (
        f"{run.folder}: run 'r1' finished, but was stopped before its report; write it with"
        f" `python -m search resume {run.folder}` (search.resume(folder) from Python), or search"
        " again in a run of another name"
    )



def test_resume_dot_of_a_run_killed_before_its_report_names_the_run(
    tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``resume .`` in the run's folder: the run is named (Path('.').name is '')."""
    from tests import user_models as um

    x, y = um.tiny_data(40)
    run = search.run(um.build, x, y, tuner="random", max_trials=1, max_epochs=1, retrain=False,
                     results=tmp_path, name="r1", quiet=True)  # fmt: skip
    (run.folder / "report.json").unlink()  # as the kill left it
    monkeypatch.chdir(run.folder)
    capsys.readouterr()
    assert main(["resume", "."]) == 0
    said = capsys.readouterr().out.splitlines()
    assert said[0] == "run r1 had finished; it was stopped before its report, written now"


@pytest.mark.parametrize(
    ("extra", "named"),
    [(["--max-trials", "5"], "--max-trials 5"), (["--fix", "learning_rate=0.1"], "--fix learning_rate=0.1"),
     (["--no-retrain"], "--no-retrain"), (["--warm-start", "a", "b"], "--warm-start a b"),
     (["--tuner", "optuna"], "--tuner optuna")],
)
@pytest.mark.parametrize("command", ["resume", "worker"])
def test_resume_refuses_a_run_setting_in_one_line_naming_it(
    tmp_path: Path, capsys, extra: list[str], named: str, command: str
) -> None:
    """Not argparse's "unrecognized arguments", which took --fix's value for the run."""
    assert main([command, "r1", "--results", str(tmp_path), *extra]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert err.startswith(f"error: {named}: a setting of the run, kept from its start;"), err
    assert f"search {command} --help" in err and "--warm-start" in err


def test_resume_of_a_run_moved_out_of_its_experiment_folder_is_refused(tmp_path: Path, capsys) -> None:
    """It would start a new run in RESULTS/fashion/r1 beside it and train every trial again."""
    folder = _stored_run(tmp_path)
    moved = tmp_path / "elsewhere" / "r1"
    moved.parent.mkdir()
    folder.path.rename(moved)
    words = (f"{moved}: a run of experiment 'fashion' is resumed and exported only in a folder named fashion;"
             f" move it to {tmp_path / 'elsewhere' / 'fashion' / 'r1'}")  # fmt: skip
    assert main(["resume", str(moved)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and words in err, err
    with pytest.raises(SearchError, match=re.escape(words)):
        search.resume(moved)
    assert main(["export", str(moved)]) == 2  # it named RESULTS/fashion/r1's arrays as missing
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and words in err, err
    assert not (tmp_path / "fashion" / "r1").exists()


def test_resume_of_the_current_folder_continues_that_run(tmp_path: Path, monkeypatch) -> None:
    """`cd results/fashion/r1 && search resume .`: not a run named '' in '.'."""
    from search.engine import stored_request

    folder = _stored_run(tmp_path)
    monkeypatch.chdir(folder.path)
    request = stored_request(RunFolder(Path(".")))
    assert (request.results / request.experiment / request.name).resolve() == folder.path.resolve()


def test_warm_start_given_twice_keeps_every_run(tmp_path: Path) -> None:
    """``--warm-start a --warm-start b`` is ``--warm-start a b``: the first is not dropped."""
    args = build_parser().parse_args(run_args(tmp_path, "--warm-start", "a", "--warm-start", "b", "c"))
    assert args.warm_start == [Path("a"), Path("b"), Path("c")]
    assert build_parser().parse_args(run_args(tmp_path)).warm_start == []


@pytest.mark.parametrize(
    ("given", "message"),
    [(["--max-search-time", "-5s"], "--max-search-time: '-5s' is negative: give a time above 0,"),
     (["--max-search-time=-5s"], "--max-search-time: '-5s' is negative: give a time above 0,"),
     (["--max-search-time", "-1.5h"], "--max-search-time: '-1.5h' is negative: give a time above 0,"),
     (["--max-search-time", "-.5m"], "--max-search-time: '-.5m' is negative: give a time above 0,"),
     (["--max-search-time", "0"], "--max-search-time (0 s) must be more than 0 s; give e.g. 10m")],
)  # fmt: skip
def test_a_negative_or_zero_search_time_is_one_line_naming_the_option(
    tmp_path: Path, capsys, given: list[str], message: str
) -> None:
    """``-5s`` is the option's value, not an unknown option: refused in the run's own words."""
    assert main(run_args(tmp_path, *given)) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {message}") and len(err.splitlines()) == 1
    assert "90s, 10m" in err or "10m, or none" in err
    assert not (tmp_path / "results").exists()


def test_a_run_copied_beside_the_experiments_folders_leaves_the_results_root_listed(
    tmp_path: Path, capsys
) -> None:
    """A run folder copied into the results root (a backup beside fashion/) made list refuse
    the root as 'an experiment's folder, not a results root; pass' its parent, where no run
    is; the root's runs are listed."""
    for path in (tmp_path / "res" / "fashion" / "r1", tmp_path / "res" / "r1-backup"):
        run = RunFolder(path)
        run.path.mkdir(parents=True)
        run.write_meta({"experiment": "fashion", "tuner": "random"})
    assert main(["list", "--results", str(tmp_path / "res")]) == 0
    out = capsys.readouterr().out
    assert "r1" in out.split("runs under")[1], out


@pytest.mark.parametrize("args", [
    ["status", ""], ["status", "--results", ""], ["list", "--results", ""], ["report", ""],
    ["report", "r1", "--output", ""], ["export", ""], ["export", "r1", "--output", ""],
    ["predict", "", "a.png"], ["predict", "m.keras", ""],
    ["run", "fashion", "--results", ""], ["run", "fashion", "--space", ""],
    ["run", "fashion", "--data-dir", ""], ["run", "fashion", "--warm-start", ""], ["resume", ""],
    ["resume", "--results", ""], ["worker", ""],
    ["worker", "r1", "--results", ""], ["track", ""], ["track", "--results", ""],
])  # fmt: skip
def test_an_empty_path_is_refused_as_itself_not_taken_as_the_current_folder(
    args: list[str], tmp_path: Path, capsys
) -> None:
    """An empty path (an unset shell variable: `search status "$RUN"`) was the current
    folder: ': is a results root; give one of its runs', '--output .: is a folder', '.: is a
    folder, not a model file'; it is refused by name before any work."""
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "'' is an empty path (an unset shell variable?); give a path" in err, err
    assert err.count("\n") == 2 and "Traceback" not in err, err


@pytest.mark.parametrize("args", [
    ["run", "fashion", "--tuner", "random"], ["predict", "m.keras", "a.png"], ["export", "r1"],
])  # fmt: skip
def test_a_keras_backend_variable_this_tool_does_not_run_on_is_named_first(
    args: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    """KERAS_BACKEND=torch: 'unexpected ModuleNotFoundError: No module named torch', exit 1;
    numpy: an export that loaded its data and began to train."""
    monkeypatch.setenv("KERAS_BACKEND", "torch")
    monkeypatch.chdir(tmp_path)
    assert main(args) == 2
    assert capsys.readouterr().err == (
        "error: KERAS_BACKEND=torch: this tool runs Keras on tensorflow or jax; unset it, set it to"
        " one of them, or pass --backend tensorflow|jax\n"
    )
    assert not any(tmp_path.iterdir())
    monkeypatch.setenv("KERAS_BACKEND", "")  # as unset
    assert main(["export", "r1"]) == 2  # refused for the run it cannot find, not the variable
    assert "KERAS_BACKEND" not in capsys.readouterr().err


def _linked_fashion(fashion_dir: Path, folder: Path, relabelled: bool = False) -> Path:
    """A folder of links to Fashion-MNIST's four files (``relabelled``: its training labels
    written shifted by one class instead: other data, of the same shape, under the same names)."""
    folder.mkdir(parents=True)
    for source in sorted(fashion_dir.glob("*-ubyte.gz")):
        (folder / source.name).symlink_to(source)
    if relabelled:
        labels = folder / "train-labels-idx1-ubyte.gz"
        raw = gzip.decompress(labels.read_bytes())
        labels.unlink()
        labels.write_bytes(gzip.compress(raw[:8] + bytes((b + 1) % 10 for b in raw[8:])))
    return folder


def test_resume_and_export_read_moved_data_from_data_dir(tmp_path: Path, fashion_dir: Path, capsys) -> None:
    """A run whose --data-dir moved could only be continued with the data put back there:
    resume and export take --data-dir (checked to be the same data), and run.json then
    keeps the new place for later resumes."""
    first = _linked_fashion(fashion_dir, tmp_path / "first")
    assert main(["run", "fashion", "--tuner", "random", "--train-size", "256", "--val-size", "128",
                 "--max-trials", "1", "--max-epochs", "1", "--fix", "filters=16", "--no-retrain",
                 "--data-dir", str(first), "--results", str(tmp_path / "results"), "--name", "r",
                 "--quiet"]) == 0  # fmt: skip
    folder = RunFolder(tmp_path / "results" / "fashion" / "r")
    moved = first.rename(tmp_path / "moved")
    folder.update_meta(status="interrupted")
    capsys.readouterr()
    assert main(["resume", str(folder.path), "--quiet"]) == 2
    assert capsys.readouterr().err == (
        f"error: {folder.path}: its data folder {first} is gone; put the data back there (the run goes"
        " on with the data it began with), give their new place with --data-dir, or start a new run"
        " with another --name\n"
    )
    assert main(["resume", str(folder.path), "--data-dir", str(tmp_path / "nowhere"), "--quiet"]) == 2
    assert capsys.readouterr().err == (
        f"error: --data-dir {tmp_path / 'nowhere'}: is not a folder; give the folder the run's data"
        " moved to (the same data it began with: they are checked as they load)\n"
    )
    other = _linked_fashion(fashion_dir, tmp_path / "other", relabelled=True)
    assert main(["resume", str(folder.path), "--data-dir", str(other), "--quiet"]) == 2
    said = capsys.readouterr().err
    assert f"the data differ from the ones this run started with ({first}; read now from {other})" in said
    assert folder.read_meta()["request"]["data_dir"] == str(first)  # refused: run.json unchanged
    output = tmp_path / "model.keras"
    assert main(["export", str(folder.path), "--data-dir", str(other), "--output", str(output)]) == 2
    said = capsys.readouterr().err
    assert f"the data ({other}) differ from the ones this run searched on ({first});" in said
    assert main(["export", str(folder.path), "--data-dir", str(moved), "--output", str(output),
                 "--retrain-max-epochs", "1", "--quiet"]) == 0  # fmt: skip
    assert output.is_file()
    assert main(["resume", str(folder.path), "--data-dir", str(moved), "--quiet"]) == 0
    assert folder.read_meta()["request"]["data_dir"] == str(moved)
    folder.update_meta(status="interrupted")
    assert main(["resume", str(folder.path), "--quiet"]) == 0  # the new place, kept


def test_data_dir_given_to_resume_a_run_on_arrays_is_refused(tmp_path: Path, capsys) -> None:
    """A run on arrays reads the ones it saved; a data folder would have been ignored."""
    from tests import user_models as um

    x, y = um.tiny_data(40)
    run = search.run(um.build, x, y, tuner="random", max_trials=1, max_epochs=1, retrain=False,
                     results=tmp_path, name="r1", quiet=True)  # fmt: skip
    RunFolder(run.folder).update_meta(status="interrupted")
    with pytest.raises(SearchError) as caught:
        search.resume(run.folder, um.build, data_dir=tmp_path, quiet=True)
    assert str(caught.value) == (
        f"data_dir {tmp_path}: this run reads the arrays it saved in its own folder, not a data"
        " folder; leave out data_dir"
    )
    with pytest.raises(SearchError, match=r"^data_dir \(5\): give the data's folder, as a str or pathlib"):
        search.resume(run.folder, data_dir=5)  # type: ignore[arg-type]
    capsys.readouterr()
    assert main(["resume", str(run.folder), "--data-dir", str(tmp_path)]) == 2
    assert capsys.readouterr().err.startswith(f"error: --data-dir {tmp_path}: this run reads the arrays")
