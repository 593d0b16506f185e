"""A run interrupted among its finalists (``--finalists K``) resumes at finalist and epoch
granularity: finished finalists are not trained again, the interrupted one continues after
its last epoch, and the choice is the one an uninterrupted run makes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import keras_tuner as kt
import numpy as np
import pytest

import search
from search.cli import main
from search.errors import SearchInterrupted
from tests.helpers.callbacks import Trains
from tests.helpers.finalists import (
    EPOCHS,
    FINALISTS,
    INTERRUPTED_EPOCH,
    INTERRUPTED_FIT,
    Finalists,
    run_finalists,
)
from tests.helpers.processes import run_killed


def test_a_finalist_killed_with_9_continues_in_the_next_process(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    code = (
        "from pathlib import Path; from tests.helpers.finalists import Finalists, run_finalists;"
        f" run_finalists(Finalists.interrupting({INTERRUPTED_FIT}, kill=True), Path({str(tmp_path)!r}), 'k')"
    )
    run_killed(code)
    folder = next(tmp_path.glob("*/k"))
    (record,) = (folder / "finalists").glob("*.json")
    written = record.stat().st_mtime_ns
    summary = json.loads(record.read_text())

    assert main(["status", str(folder)]) == 0
    out = capsys.readouterr().out
    assert f"finalists: 1 of {FINALISTS} done; trial" in out
    assert f"interrupted after {INTERRUPTED_EPOCH} epochs (resume continues it)" in out

    again = Finalists()
    run = search.resume(folder, hypermodel=again)
    said = capsys.readouterr().out
    assert f"finalist 1/{FINALISTS}: trial {summary['trial']} already trained" in said
    assert f"continued after epoch {INTERRUPTED_EPOCH}" in said
    assert [epochs for _, epochs in again.fits] == [
        list(range(INTERRUPTED_EPOCH, EPOCHS)), list(range(EPOCHS))
    ]
    assert summary["hyperparameters"] not in [hp for hp, _ in again.fits]
    assert record.stat().st_mtime_ns == written  # kept as it was written
    final = run.meta["final"]
    first = {k: v for k, v in final["finalists"][0].items() if k != "search_rank"}
    assert first == {k: v for k, v in summary.items() if k != "weights"}
    assert run.status == "finished" and len(final["finalists"]) == FINALISTS
    # The final step's time counts the earlier process's finalists too, as the retrain's does.
    trained = sum(f["train_seconds"] for f in final["finalists"])
    assert final["seconds"] >= trained - 0.05 * FINALISTS, (final["seconds"], trained)


def _training(final: dict[str, Any], close: bool = False) -> list[tuple[Any, ...]]:
    """What each finalist's training came to, in the finalists' order (``close``: its
    figures to within float noise)."""
    near = (lambda v: pytest.approx(v, abs=1e-6)) if close else (lambda v: v)
    return [
        (f["trial"], f["epochs"], f["kept_epoch"], f["learning_rates"],
         near(f["val_accuracy_per_epoch"]), near(f["val_score"]), near(f["val_loss"]),
         near(f["train_loss"]))
        for f in final["finalists"]
    ]  # fmt: skip


def test_an_interrupted_finalist_continues_and_finished_ones_are_kept(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    whole = Finalists()
    reference = run_finalists(whole, tmp_path / "whole", "w").meta["final"]
    assert len(whole.fits) == FINALISTS and all(e == list(range(EPOCHS)) for _, e in whole.fits)

    first = Finalists.interrupting(INTERRUPTED_FIT)
    with pytest.raises(SearchInterrupted):  # a second Ctrl-C, as in the search
        run_finalists(first, tmp_path / "cut", "c")
    folder = next((tmp_path / "cut").glob("*/c"))
    assert json.loads((folder / "run.json").read_text())["status"] == "interrupted"
    finalists = folder / "finalists"
    done = whole.fits[0][0]
    assert [hp for hp, _ in first.fits] == [hp for hp, _ in whole.fits[:INTERRUPTED_FIT]]
    assert len(list(finalists.glob("*.json"))) == 1 and len(list(finalists.glob("*.state.npz"))) == 1

    assert main(["status", str(folder)]) == 0
    assert f"finalists: 1 of {FINALISTS} done" in capsys.readouterr().out

    again = Finalists()
    run = search.resume(folder, hypermodel=again, quiet=True)
    assert run.status == "finished"
    # Finalist 1 is not trained again; finalist 2 continues after its second epoch.
    assert done not in [hp for hp, _ in again.fits]
    assert again.fits == [
        (whole.fits[1][0], list(range(INTERRUPTED_EPOCH, EPOCHS))),
        (whole.fits[2][0], list(range(EPOCHS))),
    ]
    final = run.meta["final"]
    assert final["trial"] == reference["trial"] and run.meta["best"]["trial"] == reference["trial"]
    assert _training(final) == _training(reference, close=True)
    assert final["test_accuracy"] == pytest.approx(reference["test_accuracy"], abs=1e-6)
    assert not list(finalists.glob("*.npz")) and len(list(finalists.glob("*.json"))) == FINALISTS


def test_the_custom_loop_continues_after_the_best_epoch_as_if_never_stopped(tmp_path: Path) -> None:
    """ImageCNN's own loop, interrupted after its best epoch (the weights EarlyStopping
    restores at the end are saved ones), continues to the same epochs, learning rates, curve
    and final weights; a training whose state says it ended does not train again."""
    from hypermodels import ImageCNN, ImageStats
    from search.engine._retrain import VAL_ACCURACY, fit_configuration
    from search.space import Fixed, Space
    from tests.helpers.images import tiny_data

    x, y = tiny_data(192)
    xv, yv = tiny_data(96, seed=1)
    yv = yv.copy()
    yv[::3] = (yv[::3] + 1) % 10  # a third mislabelled: validation accuracy tops out early
    values = {"filters": 8, "conv_blocks": 2, "dense_units": 32, "batch_size": 32,
              "learning_rate": 1e-2}  # fmt: skip
    hypermodel = ImageCNN(Space(tuple(Fixed(k, v) for k, v in values.items())), (28, 28, 1), 10,
                          ImageStats.of(x), seed=7)  # fmt: skip
    hp = kt.HyperParameters()

    def fit(line: Trains, state: Path | None) -> Any:
        return fit_configuration(hypermodel, hp, x, y, (xv, yv), 15, VAL_ACCURACY, line, state)

    whole = fit(Trains(), None)
    assert whole.kept < whole.epochs < 15  # stopped on validation, an earlier epoch kept
    state = tmp_path / "0001.state.npz"
    with pytest.raises(KeyboardInterrupt):
        fit(Trains(stop_at=whole.kept + 1), state)  # mid-patience, after the best epoch
    rest = Trains()
    again = fit(rest, state)
    assert rest.epochs == list(range(whole.kept + 1, whole.epochs))
    assert (again.epochs, again.kept, again.rates) == (whole.epochs, whole.kept, whole.rates)
    for key in ("loss", "val_loss", "val_accuracy"):
        assert again.curve[key] == pytest.approx(whole.curve[key], abs=1e-6)
    for mine, theirs in zip(again.model.get_weights(), whole.model.get_weights()):
        np.testing.assert_allclose(mine, theirs, atol=1e-6)

    ended = Trains()
    over = fit(ended, state)  # the state of a training that ended
    assert ended.epochs == [] and (over.epochs, over.kept) == (whole.epochs, whole.kept)
    for mine, theirs in zip(over.model.get_weights(), whole.model.get_weights()):
        np.testing.assert_allclose(mine, theirs, atol=1e-6)
