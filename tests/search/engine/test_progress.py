"""The search's live progress: its best-so-far and its batch counts."""

from __future__ import annotations

import io
from pathlib import Path
from types import SimpleNamespace

import keras_tuner as kt
from rich.console import Console

from hypermodels import DataFidelity
from search.engine._plan import plan
from search.engine._progress import SearchProgress, batches_per_epoch, search_progress
from search.engine._records import TrialRecorder
from search.engine._request import RunRequest
from search.experiments import KERAS_BATCH_SIZE
from search.storage import RunFolder

BATCHES = 18
"""The batches an epoch is planned to train."""


def _progress(direction: str = "max") -> tuple[SearchProgress, io.StringIO]:
    out = io.StringIO()
    console = Console(file=out, width=200)
    objective = kt.Objective("val_score", direction)
    return SearchProgress(console, 3, 9, objective, lambda values, epoch: BATCHES, 3), out


def _trial(trial_id: str, status: str = "COMPLETED") -> SimpleNamespace:
    return SimpleNamespace(trial_id=trial_id, status=status, score=None, message=None,
                           hyperparameters=kt.HyperParameters())  # fmt: skip


def _epochs(progress: SearchProgress, trial: SimpleNamespace, values: list[float]) -> None:
    progress.trial_begin(trial)
    for epoch, value in enumerate(values):
        progress.epoch_begin(trial, epoch)
        progress.epoch_end(trial, epoch, {"val_score": value})


def test_a_failed_trials_epochs_are_not_the_best() -> None:
    progress, out = _progress()
    first, failed = _trial("0000"), _trial("0001", status="FAILED")
    _epochs(progress, first, [0.5, 0.6])
    progress.trial_end(first)
    _epochs(progress, failed, [0.9])
    assert "best val_score 0.9000 (trial 0001)" in progress._describe("0001")  # shown while it runs
    progress.trial_end(failed)
    assert progress.best == (0.6, "0000")
    last = out.getvalue().splitlines()[-1]
    assert last.startswith("trial 0001 failed: val_score - · best val_score 0.6000 (trial 0000)"), last


def test_a_completed_trial_keeps_its_best_epoch_in_the_objectives_direction() -> None:
    progress, _ = _progress("min")
    first, second = _trial("0000"), _trial("0001")
    _epochs(progress, first, [3.0, 2.0, 2.5])
    progress.trial_end(first)
    _epochs(progress, second, [4.0, 1.5])
    progress.trial_end(second)
    assert progress.best == (1.5, "0001")
    _epochs(progress, _trial("0002"), [1.7])
    progress.trial_end(_trial("0002"))
    assert progress.best == (1.5, "0001")


def test_a_trial_whose_fit_returned_only_a_value_is_the_best_by_its_score() -> None:
    progress, out = _progress()
    for trial_id, score in (("0000", 0.4), ("0001", 0.7), ("0002", 0.5)):
        trial = _trial(trial_id)
        trial.score = score
        progress.trial_begin(trial)  # a fit of its own that returned a float: no epochs
        progress.trial_end(trial)
    assert progress.best == (0.7, "0001")
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("trial 0000 completed: val_score 0.4000 · best val_score 0.4000 (trial 0000)")
    assert "best val_score 0.7000 (trial 0001)" in lines[-1], lines[-1]


def test_the_bar_shows_the_best_as_the_last_trial_left_it() -> None:
    """The bar's line is what a terminal keeps at the end: not the best before the last
    trial, nor a failed trial's epoch."""
    progress, _ = _progress()
    first, better = _trial("0000"), _trial("0001")
    _epochs(progress, first, [0.5])
    progress.trial_end(first)
    better.score = 0.7
    progress.trial_begin(better)
    progress.trial_end(better)
    failed = _trial("0002", status="FAILED")
    _epochs(progress, failed, [0.9])
    progress.trial_end(failed)
    bar = next(task for task in progress._progress.tasks if task.id == progress._search)
    assert bar.description.endswith("best val_score 0.7000 (trial 0001)"), bar.description


def test_more_batches_than_planned_make_the_count_unknown() -> None:
    progress, _ = _progress()
    trial = _trial("0000")
    progress.trial_begin(trial)
    progress.epoch_begin(trial, 0)
    epoch_task = next(task for task in progress._progress.tasks if task.id == progress._epoch)
    progress.batch_end(trial, BATCHES - 1)
    assert (epoch_task.completed, epoch_task.total) == (BATCHES, BATCHES)
    progress.batch_end(trial, BATCHES)  # a fit of its own, batches smaller than planned
    assert (epoch_task.completed, epoch_task.total) == (BATCHES + 1, None)
    progress.epoch_begin(trial, 1)
    assert (epoch_task.completed, epoch_task.total) == (0, BATCHES)


def test_batches_per_epoch_follow_how_the_trials_train() -> None:
    images = 1000
    loop = batches_per_epoch(images, None, model_fit=False)
    fit = batches_per_epoch(images, None, model_fit=True)
    assert loop({"batch_size": 64}, 0) == 15  # the custom loop trains whole batches only
    assert fit({"batch_size": 64}, 0) == 16  # model.fit's last batch is partial
    assert fit({}, 0) == -(-images // KERAS_BATCH_SIZE)  # model.fit's default batch size
    assert fit({"batch_size": 5000}, 0) == 1
    growing = batches_per_epoch(images, DataFidelity(max_epochs=3, seed=0), model_fit=True)
    assert growing({"batch_size": 10}, 0) < growing({"batch_size": 10}, 2) == 100  # a pruner's trial
    assert growing({"batch_size": 10, "tuner/epochs": 1}, 2) == growing({"batch_size": 10}, 0)  # Hyperband's


def test_a_batch_size_hyperparameter_that_is_no_batch_size_counts_at_fits_default() -> None:
    """A model of one's own may tune a ``batch_size`` of another meaning (a name, a fraction):
    its every trial failed (int('small'); 1000 / 0) before it trained."""
    fit = batches_per_epoch(1000, None, model_fit=True)
    for value in ("small", 0.5, True, float("nan"), -64):
        assert fit({"batch_size": value}, 0) == -(-1000 // KERAS_BATCH_SIZE)
    assert fit({"batch_size": 64.0}, 0) == 16


def test_a_completed_trial_that_logged_no_epochs_counts_its_planned_epochs_done() -> None:
    """A fit returning a float tells no epochs: the bar (in epochs) would stay at 0 and its
    time left unknown to the end."""
    progress, _ = _progress()
    trial = _trial("0000")
    trial.score = 0.5
    progress.trial_begin(trial)
    progress.trial_end(trial)
    _epochs(progress, _trial("0001"), [0.4, 0.6])
    progress.trial_end(_trial("0001"))
    bar = next(task for task in progress._progress.tasks if task.id == progress._search)
    assert bar.completed == 3 + 2  # the first trial's planned max_epochs (3), the second's 2


def test_the_built_in_models_batch_counts_at_its_own_default_where_the_space_leaves_it_out(
    tmp_path: Path,
) -> None:
    """fashion's CNN trains at 64 a batch where a space has no batch_size: the bar counted 32."""
    space = tmp_path / "lr.toml"
    space.write_text('[learning_rate]\ntype = "float"\nlow = 1e-4\nhigh = 1e-2\nlog = true\ndefault = 1e-3\n')
    p = plan(RunRequest(experiment="fashion", tuner="random", space=space, results=tmp_path))
    folder = RunFolder(tmp_path / "run")
    folder.path.mkdir()
    objective = kt.Objective("val_accuracy", "max")
    recorder = TrialRecorder(folder, objective)
    progress = search_progress(p, objective, 1000, Console(file=io.StringIO()), recorder, model_fit=False)
    assert progress.steps_per_epoch({}, 0) == 1000 // 64
