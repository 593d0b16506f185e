"""What a run plans before its first trial: its space (with what is fixed), and what a
resumed run takes from its folder."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import keras_tuner as kt
import numpy as np
import pytest

import search
from search.data import array_splits
from search.engine import RunRequest
from search.engine._plan import (
    Plan,
    _hypermodel_differences,
    check_resumable,
    check_same_data,
    final_training,
    own_final_step,
    plan,
)
from search.errors import SearchError
from search.experiments import get
from search.storage import RunFolder
from tests import user_models as um


def test_fixing_what_a_hypermodels_own_fit_declares_says_how(tmp_path: Path) -> None:
    """Its trials search batch_size, yet the space read before the first trial lacks it:
    "not in the space" alone reads as a typo."""
    with pytest.raises(SearchError, match=r"^fix: 'batch_size': not in the space \(it has .*\); one that"
                       r" TunedFit.fit declares joins the space only once a trial runs: declare it in a"
                       r" space= TOML file too \(\[batch_size\] with its type and values\), then fix it$"):
        search.run(um.TunedFit(), *um.tiny_data(), tuner="random", max_trials=1, max_epochs=1,
                   results=tmp_path, quiet=True, fix={"batch_size": 32})  # fmt: skip
    with pytest.raises(SearchError, match=r"^fix: 'batch_sise': not in the space \(it has .*\)$"):
        search.run(um.build, *um.tiny_data(), tuner="random", max_trials=1, max_epochs=1,
                   results=tmp_path, quiet=True, fix={"batch_sise": 32})  # fmt: skip


def test_fixing_what_the_built_in_model_has_but_the_space_leaves_out_says_how(tmp_path: Path) -> None:
    """fashion.toml leaves out convs_per_block, which the model sets at 1: "not in the
    space" alone reads as a typo. Refused before any data loads or folder is made."""
    with pytest.raises(SearchError, match=r"^fix: 'convs_per_block': not in the space \(it has .*\); the"
                       r" fashion model has 'convs_per_block', at 1 where a space leaves it out as this"
                       r" one does: pass space=FILE.toml declaring \[convs_per_block\] \(`search spaces`"
                       r" lists the package's\), then fix it$"):
        search.run("fashion", tuner="random", results=tmp_path, quiet=True, fix={"convs_per_block": 2})
    assert not any(tmp_path.iterdir())


def test_a_renamed_optuna_run_keeps_the_study_its_run_json_names(tmp_path: Path) -> None:
    """A run folder copied or moved under another name resumes its own study (run.json's
    ``optuna.study``), not a new empty one named after the folder, which would train trial 0
    again and stop the run."""
    folder = RunFolder(tmp_path / "fashion" / "renamed")
    folder.path.mkdir(parents=True)
    folder.write_meta({"experiment": "fashion", "tuner": "optuna", "status": "interrupted",
                       "optuna": {"study": "fashion-original", "storage": "optuna.journal"}})  # fmt: skip
    request = RunRequest(experiment="fashion", tuner="optuna", results=tmp_path, name="renamed")
    assert plan(request).options.study_name == "fashion-original"
    fresh = RunRequest(experiment="fashion", tuner="optuna", results=tmp_path, name="new")
    assert plan(fresh).options.study_name == "fashion-new"


def _run_on_a_space_file(tmp_path: Path) -> tuple[Path, RunRequest, Plan, RunFolder]:
    """A copy of fashion.toml, a request of a run on it, its plan and its folder."""
    space = tmp_path / "my.toml"
    space.write_text((Path(__file__).parents[3] / "spaces" / "fashion.toml").read_text())
    request = RunRequest(experiment="fashion", tuner="random", max_trials=2, max_epochs=1, space=space,
                         results=tmp_path / "results", name="r1")  # fmt: skip
    p = plan(request)
    folder = RunFolder(tmp_path / "results" / "fashion" / "r1")
    return space, request, p, folder


def test_a_run_whose_space_file_changed_names_the_file(tmp_path: Path) -> None:
    """Resumed, the run reads its --space file again: where that file was edited, the
    message says so, rather than only that the space differs."""
    space, request, p, folder = _run_on_a_space_file(tmp_path)
    meta = {"experiment": "fashion", "tuner": "random", "status": "interrupted",
            "space": {"fingerprint": "other", "params": {**p.space.to_dict(), "dropout": {}}},
            "budget": {"max_trials": 2, "max_epochs": 1, "factor": 3},
            "request": {"space": str(space.resolve())}}  # fmt: skip
    with pytest.raises(SearchError, match=rf"\(space differs in dropout: its space file {space} is not the"
                       r" one the run started with; restore it to continue\)"):  # fmt: skip
        check_resumable(folder, meta, p, request)
    other = replace(request, space=tmp_path / "other.toml")  # another file given: no such hint
    with pytest.raises(SearchError, match=r"\(space differs in dropout\)"):
        check_resumable(folder, meta, p, other)


def test_a_run_whose_space_file_was_edited_is_not_told_to_resume(tmp_path: Path) -> None:
    """``resume`` reads the edited file too and fails the same way: the message offers
    restoring the file or another name, not ``resume``; another difference still offers it."""
    space, request, p, folder = _run_on_a_space_file(tmp_path)
    meta = {"experiment": "fashion", "tuner": "random", "status": "interrupted",
            "space": {"fingerprint": "other", "params": p.space.to_dict()},
            "budget": {"max_trials": 2, "max_epochs": 1, "factor": 3},
            "request": {"space": str(space.resolve())}}  # fmt: skip
    with pytest.raises(SearchError, match="restore it to continue") as edited:
        check_resumable(folder, meta, p, request)
    assert "resume" not in str(edited.value)
    meta["space"]["fingerprint"] = p.space.fingerprint()
    with pytest.raises(SearchError, match=r"3 -> 2\); start a new run .*, or `python -m search resume "):
        check_resumable(folder, {**meta, "budget": {"max_trials": 3, "max_epochs": 1}}, p, request)
    fixed = replace(request, fix={"dropout": 0.2})  # the file as it was, another --fix: resume goes on
    with pytest.raises(SearchError, match=r"\(space differs in dropout\); start a new run .*, or"
                       r" `python -m search resume "):  # fmt: skip
        check_resumable(folder, meta, plan(fixed), fixed)


def test_a_run_whose_space_file_is_gone_searches_the_space_its_run_json_keeps(tmp_path: Path) -> None:
    """Not 'its space file is gone; put it back': run.json keeps the space, ``--fix``
    applied, so the run goes on with it. Another file, or another ``--fix``, is still read."""
    space, request, _, folder = _run_on_a_space_file(tmp_path)
    fixed = replace(request, fix={"dropout": 0.3})
    started = plan(fixed).space
    folder.path.mkdir(parents=True)
    folder.write_meta({"experiment": "fashion", "tuner": "random", "status": "interrupted",
                       "space": {"fingerprint": started.fingerprint(), "params": started.to_dict()},
                       "request": fixed.to_json("r1")})  # fmt: skip
    space.unlink()
    kept = plan(fixed).space
    assert kept.fingerprint() == started.fingerprint()
    assert kept.source == str(folder.run_file)
    for other in (replace(fixed, fix={"dropout": 0.2}), replace(fixed, space=tmp_path / "gone.toml")):
        with pytest.raises(search.errors.SpaceError, match="no such space file"):
            plan(other)
    for damaged in ({"space": 5}, {"space": str(space), "fix": [["dropout", 0.3]]}):  # read, not a traceback
        folder.update_meta(request={**fixed.to_json("r1"), **damaged})
        with pytest.raises(search.errors.SpaceError, match="no such space file"):
            plan(fixed)


def test_a_run_continued_with_other_weights_says_which_weights(tmp_path: Path) -> None:
    x, y = um.tiny_data()
    started = array_splits(x, y, sample_weight=np.ones(len(y)), class_weight={0: 2.0})
    data = {"source": "arrays", "fingerprint": started.fingerprint(), "weighted": started.weighted()}
    meta = {"data": data}
    with pytest.raises(SearchError, match=r"the data differ from the ones this run started with \(arrays;"
                       r" weighted rows: train, validation, classes then, none now\); continue"):  # fmt: skip
        check_same_data(RunFolder(tmp_path), meta, array_splits(x, y))
    with pytest.raises(SearchError, match=r"started with \(arrays\); continue it on the same data"):
        check_same_data(RunFolder(tmp_path), meta, array_splits(x, y, sample_weight=np.full(len(y), 2.0),
                                                                 class_weight={0: 2.0}))  # fmt: skip


@pytest.mark.parametrize(("tuner", "factor"), [("random", 5), ("bayesian", 5), ("optuna", 5), ("random", 3)])
def test_a_factor_given_to_a_tuner_without_brackets_is_refused(
    tmp_path: Path, tuner: str, factor: int
) -> None:
    """``factor`` shapes Hyperband's brackets alone: another tuner ran as if it were not
    given, Hyperband's own 3 too."""
    with pytest.raises(SearchError, match=rf"^factor {factor} is Hyperband's reduction factor; tuner {tuner}"
                       r" has none and would ignore it: leave out factor, or search with tuner hyperband$"):
        search.run(um.build, *um.tiny_data(), tuner=tuner, factor=factor, max_trials=1, max_epochs=1,
                   results=tmp_path, quiet=True)  # fmt: skip
    assert not any(tmp_path.iterdir())  # refused before any work


def test_a_tuner_without_brackets_records_no_factor(tmp_path: Path) -> None:
    run = search.run(um.build, *um.tiny_data(), tuner="random", max_trials=1, max_epochs=1,
                     results=tmp_path, quiet=True, retrain=False)  # fmt: skip
    assert run.meta["budget"]["factor"] is None
    assert run.meta["request"]["factor"] is None


def test_a_run_stored_with_an_unused_factor_continues(tmp_path: Path) -> None:
    """A random run from before the refusal kept the factor it was given: it goes on."""
    stored = RunRequest(experiment="fashion", tuner="random", max_trials=2, max_epochs=1, budget="cpu",
                        finalists=1, results=tmp_path, name="r1").to_json("r1")  # fmt: skip
    request = RunRequest.from_json({**stored, "factor": 5})
    assert request.factor is None
    p = plan(request)
    meta = {"experiment": "fashion", "tuner": "random", "status": "interrupted",
            "space": {"fingerprint": p.space.fingerprint(), "params": p.space.to_dict()},
            "budget": {"max_trials": 2, "max_epochs": 1, "factor": 5}, "request": stored}  # fmt: skip
    check_resumable(RunFolder(tmp_path / "fashion" / "r1"), meta, p, request)


@pytest.mark.parametrize(("retrain", "final"), [({}, "the validated retrain stops on that objective"),
                                                ({"retrain": False}, "the retrain is skipped")])  # fmt: skip
def test_a_tolerance_nothing_reads_is_refused(tmp_path: Path, retrain: dict, final: str) -> None:
    """A run ranked by val_loss alone never reads the accuracy rule's tolerance; it ran as
    if it were not given."""
    with pytest.raises(SearchError, match=rf"^tolerance 0.02 widens the accuracy rule, but objective val_loss"
                       rf" ranks trials by its value alone and {final}, so nothing would use it: leave out"
                       r" tolerance, or search with objective val_accuracy$"):
        search.run(um.build, *um.tiny_data(), tuner="random", objective=kt.Objective("val_loss", "min"),
                   tolerance=0.02, max_trials=1, max_epochs=1, results=tmp_path, quiet=True,
                   **retrain)  # fmt: skip
    assert not any(tmp_path.iterdir())  # refused before any work


def test_a_tolerance_read_by_a_planned_retrain_or_the_rule_is_taken() -> None:
    """``full`` and ``search`` retrains train to the end of the chosen trial's validation
    accuracy plateau, within the tolerance, whatever the objective."""
    for objective, data in (("val_loss", "full"), ("val_loss", "search"), ("pareto", "validated")):
        RunRequest(experiment="fashion", tuner="optuna", objective=objective, retrain_data=data,
                   tolerance=0.02).check()  # fmt: skip


def test_a_run_stored_with_an_unused_tolerance_continues() -> None:
    """A val_loss run from before the refusal kept the tolerance it was given: it goes on,
    and a run whose retrain reads it keeps it."""
    stored = RunRequest(experiment="fashion", tuner="random", objective="val_loss").to_json("r1")
    assert RunRequest.from_json({**stored, "tolerance": 0.02}).tolerance == 0.005
    kept = RunRequest.from_json({**stored, "tolerance": 0.02, "retrain_data": "full"})
    assert kept.tolerance == 0.02
    kept.check()


@pytest.mark.parametrize(("experiment", "asked", "profile", "data", "given", "planned"), [
    ("fashion", "auto", "cpu", "validated", None, ("cosine", 10)),  # its measured length
    ("fashion", "auto", "cpu", "validated", 14, ("cosine", 14)),
    ("fashion", "cosine", "cpu", "validated", None, ("cosine", 10)),
    ("fashion", "plateau", "cpu", "validated", None, ("plateau", 20)),
    ("fashion", "auto", "cpu", "full", None, ("plateau", 20)),  # a fixed length: not measured
    ("fashion", "auto", "gpu", "validated", None, ("cosine", 20)),
    ("fashion", "plateau", "gpu", "validated", 6, ("plateau", 6)),
    ("clothing", "auto", "cpu", "validated", None, ("plateau", 20)),  # none measured
    ("clothing", "cosine", "cpu", "validated", None, ("cosine", 20)),
    ("clothing", "auto", "gpu", "validated", None, ("cosine", 20)),
])  # fmt: skip
def test_auto_decays_along_a_cosine_on_the_gpu_and_where_the_cpu_has_a_measured_length(
    experiment: str, asked: str, profile: str, data: str, given: int | None, planned: tuple[str, int]
) -> None:
    request = RunRequest(experiment=experiment, tuner="random", retrain_schedule=asked, retrain_data=data,
                         retrain_max_epochs=given)  # fmt: skip
    assert final_training(request, get(experiment), profile) == planned


def test_an_unknown_schedule_or_one_with_nothing_to_retrain_is_refused() -> None:
    with pytest.raises(SearchError, match=r"^retrain_schedule 'fast': choose one of auto, plateau, cosine$"):
        RunRequest(experiment="fashion", tuner="random", retrain_schedule="fast").check()
    with pytest.raises(SearchError, match=r"^retrain_schedule cosine says how the final model retrains;"
                       r" with the retrain skipped nothing would use it"):  # fmt: skip
        RunRequest(experiment="fashion", tuner="random", retrain=False, retrain_schedule="cosine").check()


def test_a_run_goes_on_with_its_own_schedule_unless_another_is_asked_for(tmp_path: Path) -> None:
    """``auto`` continues a run as it began (``plateau`` for a run from before the option);
    another schedule named is refused, naming both."""
    request = RunRequest(experiment="fashion", tuner="random", max_trials=2, max_epochs=1, budget="cpu",
                         finalists=1, results=tmp_path, name="r1")  # fmt: skip
    p = plan(request)
    stored = {**request.to_json("r1"), "retrain_schedule": "cosine"}
    meta = {"experiment": "fashion", "tuner": "random", "status": "interrupted",
            "space": {"fingerprint": p.space.fingerprint(), "params": p.space.to_dict()},
            "budget": {"max_trials": 2, "max_epochs": 1, "factor": 3}, "request": stored}  # fmt: skip
    folder = RunFolder(tmp_path / "fashion" / "r1")
    check_resumable(folder, meta, p, request)
    assert own_final_step(request, meta).retrain_schedule == "cosine"
    older = {**meta, "request": {k: v for k, v in stored.items() if k != "retrain_schedule"}}
    assert own_final_step(request, older).retrain_schedule == "plateau"
    assert own_final_step(request, None).retrain_schedule == "auto"
    asked = replace(request, retrain_schedule="plateau")
    with pytest.raises(SearchError, match=r"other settings \(retrain_schedule cosine -> plateau\)"):
        check_resumable(folder, meta, p, asked)


def test_a_run_continued_with_another_precision_is_refused(tmp_path: Path) -> None:
    """Its trials so far trained under the policy it began with (run.json's request keeps
    it, and ``resume`` takes it from there): another one given to the same name is named,
    not taken for the trials left while run.json's request goes on saying the first."""
    request = RunRequest(experiment="fashion", tuner="random", max_trials=2, max_epochs=1, budget="cpu",
                         finalists=1, results=tmp_path, name="r1")  # fmt: skip
    p = plan(request)
    meta = {"experiment": "fashion", "tuner": "random", "status": "interrupted",
            "space": {"fingerprint": p.space.fingerprint(), "params": p.space.to_dict()},
            "budget": {"max_trials": 2, "max_epochs": 1, "factor": 3},
            "request": request.to_json("r1")}  # fmt: skip
    folder = RunFolder(tmp_path / "fashion" / "r1")
    check_resumable(folder, meta, p, request)
    with pytest.raises(SearchError, match=r"other settings \(precision auto -> mixed\)"):
        check_resumable(folder, meta, p, replace(request, precision="mixed"))


def test_a_run_goes_on_with_the_length_its_plan_gave_its_final_trainings(tmp_path: Path) -> None:
    """A run stores its final trainings' length as planned (fashion on the cpu: a cosine
    of 10): continued without ``retrain_max_epochs``, it keeps it, whatever the default
    has become; another length given is refused, naming both."""
    request = RunRequest(experiment="fashion", tuner="random", max_trials=2, max_epochs=1, budget="cpu",
                         finalists=1, results=tmp_path, name="r1")  # fmt: skip
    p = plan(request)
    stored = {**request.to_json("r1"), "retrain_schedule": "plateau", "retrain_max_epochs": 20}
    meta = {"experiment": "fashion", "tuner": "random", "status": "interrupted",
            "space": {"fingerprint": p.space.fingerprint(), "params": p.space.to_dict()},
            "budget": {"max_trials": 2, "max_epochs": 1, "factor": 3}, "request": stored}  # fmt: skip
    folder = RunFolder(tmp_path / "fashion" / "r1")
    check_resumable(folder, meta, p, request)
    going_on = own_final_step(request, meta)
    assert final_training(going_on, p.experiment, p.profile) == ("plateau", 20)
    with pytest.raises(SearchError, match=r"other settings \(retrain_max_epochs 20 -> 12\)"):
        check_resumable(folder, meta, p, replace(request, retrain_max_epochs=12))


def test_runs_not_given_a_name_in_the_same_second_get_their_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run stopped at once, then another: 'a run named random-... already exists'."""
    from datetime import datetime

    from search.engine import _plan

    class Frozen(datetime):
        @classmethod
        def now(cls, tz: object = None) -> Frozen:
            return cls(2026, 12, 6, 9, 15, 5)

    monkeypatch.setattr(_plan, "datetime", Frozen)
    request = RunRequest(experiment="fashion", tuner="random", results=tmp_path)
    assert plan(request).name == "random-20261206-091505"
    (tmp_path / "fashion" / "random-20261206-091505").mkdir(parents=True)
    assert plan(request).name == "random-20261206-091505-2"
    (tmp_path / "fashion" / "random-20261206-091505-2").mkdir()
    assert plan(request).name == "random-20261206-091505-3"


def test_a_run_whose_name_another_process_takes_meanwhile_takes_the_next(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two processes that start a run without a name in the same second plan one name; the
    one that opens its folder second plans again rather than being refused."""
    from datetime import datetime

    from search.engine import _open, _plan

    class Frozen(datetime):
        @classmethod
        def now(cls, tz: object = None) -> Frozen:
            return cls(2026, 12, 6, 9, 15, 5)

    prepare = _open.prepare_run_folder
    taken: list[Path] = []

    def other_process_first(results: Path, experiment: str, run: str) -> RunFolder:
        folder = prepare(results, experiment, run)
        if not taken:  # the other process makes it between this one's check and its own
            folder.path.mkdir(parents=True)
            taken.append(folder.path)
        return folder

    monkeypatch.setattr(_plan, "datetime", Frozen)
    monkeypatch.setattr(_open, "prepare_run_folder", other_process_first)
    run = search.run(um.build, *um.tiny_data(), tuner="random", max_trials=1, max_epochs=1,
                     results=tmp_path, quiet=True)  # fmt: skip
    assert [p.name for p in taken] == ["random-20261206-091505"]
    assert run.folder.name == "random-20261206-091505-2"
    assert list(taken[0].iterdir()) == []  # the other process's, untouched


def test_the_same_name_with_another_optuna_storage_is_refused(tmp_path: Path) -> None:
    """It went on in a new study there, the run's own left behind (run.json naming it)."""
    kept, other = f"sqlite:///{tmp_path}/pk.db", f"sqlite:///{tmp_path}/other.db"
    request = RunRequest(experiment="fashion", tuner="optuna", max_trials=2, max_epochs=1, budget="cpu",
                         finalists=1, results=tmp_path, name="o", storage=kept)  # fmt: skip
    p = plan(request)
    meta = {"experiment": "fashion", "tuner": "optuna", "status": "interrupted",
            "space": {"fingerprint": p.space.fingerprint(), "params": p.space.to_dict()},
            "budget": {"max_trials": 2, "max_epochs": 1}, "request": request.to_json("o")}  # fmt: skip
    folder = RunFolder(tmp_path / "fashion" / "o")
    check_resumable(folder, meta, p, request)
    with pytest.raises(SearchError) as caught:
        check_resumable(folder, meta, p, replace(request, storage=other))
    assert f"other settings (storage {kept} -> {other});" in str(caught.value)
    with pytest.raises(SearchError) as caught:
        check_resumable(folder, meta, p, replace(request, storage=None))
    assert f"other settings (storage {kept} -> optuna.journal);" in str(caught.value)
    journal = {**meta, "request": {**meta["request"], "storage": None}}
    with pytest.raises(SearchError) as caught:
        check_resumable(folder, journal, p, request)
    assert f"other settings (storage optuna.journal -> {kept});" in str(caught.value)


@pytest.mark.parametrize(("given", "trains"), [({"max_epochs": 4}, "max_epochs 4"),
                                               ({}, "max_epochs 6 \\(the budget's\\)")])  # fmt: skip
def test_converged_epochs_beyond_a_trials_epochs_are_refused(
    tmp_path: Path, given: dict, trains: str
) -> None:
    """Averaging more epochs than a trial trains averages the first, unconverged ones too:
    the run went on with a rule other than the one asked for."""
    request = RunRequest(experiment="fashion", tuner="random", converged_epochs=9, results=tmp_path, **given)
    with pytest.raises(SearchError, match=rf"^converged_epochs 9 averages each trial's last 9 epochs, but a"
                       rf" trial trains at most {trains}: give converged_epochs [46] or less, or more"
                       r" max_epochs$"):  # fmt: skip
        plan(request)
    assert plan(replace(request, converged_epochs=given.get("max_epochs", 6))).budget.max_epochs >= 4
    assert plan(replace(request, converged_epochs=3, max_epochs=1)).budget.max_epochs == 1  # the default


def test_float16_without_a_gpu_is_refused(tmp_path: Path) -> None:
    """float16 is emulated on a CPU (50x float32's time on this machine's TensorFlow): a run
    asked for it trained for hours; the machines of these tests have no GPU."""
    request = RunRequest(experiment="fashion", tuner="random", precision="float16", results=tmp_path)
    with pytest.raises(SearchError, match=r"^precision float16 is for GPUs without bfloat16, and Keras sees"
                       r" no GPU here: on a CPU float16 trains about 50x slower than float32; leave out"
                       r" precision \(float32 on a CPU\)$"):  # fmt: skip
        plan(request)
    plan(replace(request, precision="mixed"))


def test_a_run_on_disk_keeps_its_converged_epochs_and_precision(tmp_path: Path) -> None:
    """The checks are a new run's: one already on disk (begun on a GPU, or before them) goes on."""
    request = RunRequest(experiment="fashion", tuner="random", converged_epochs=9, max_epochs=4,
                         precision="float16", results=tmp_path, name="r1")  # fmt: skip
    (tmp_path / "fashion" / "r1").mkdir(parents=True)
    RunFolder(tmp_path / "fashion" / "r1").write_meta({"experiment": "fashion", "status": "interrupted"})
    assert plan(request).budget.max_epochs == 4


def test_a_hypermodel_of_the_same_name_from_another_module_is_shown_with_where_it_is() -> None:
    """A class moved from a module to a script read the same on both sides:
    ``hypermodel StrictFit(name=None) -> StrictFit(name=None)``."""
    stored = {"hypermodel": {"target": "models:Fit", "args": {"name": None}}}
    now = {"hypermodel": {"target": "/work/train.py:Fit", "args": {"name": None}}}
    assert _hypermodel_differences(stored, now) == [
        "hypermodel models:Fit(name=None) -> /work/train.py:Fit(name=None)"
    ]
    now["hypermodel"]["args"] = {"name": "b"}  # the arguments tell them apart
    assert _hypermodel_differences(stored, now) == ["hypermodel Fit(name=None) -> Fit(name='b')"]
