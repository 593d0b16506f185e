"""The share of a search's wall time spent outside its trials' epochs.

Run: ``python bench/overhead.py [--tuner hyperband] [--train-size N] [--max-epochs N]``;
without options it is the default ``fashion`` search (Hyperband, max_epochs 6, 10,000
training images), without the retrain. An observer (``search.Observer``) times every
epoch from its start to its end: training, validation and the per-epoch records. The
rest of the wall time is overhead: data loading, model builds, KerasTuner's bookkeeping,
checkpoints and state between trials, the report. The first epoch of each trial also
traces and compiles the steps; its excess over the trial's later epochs is shown apart.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import _quiet  # noqa: F401  (first: TensorFlow's start-up lines stay out)
from rich.console import Console

from search.engine import RunRequest, run_search
from search.tuners import Observer


class EpochClock(Observer):
    """Each trial's epoch times (seconds), in order."""

    def __init__(self) -> None:
        self.epochs: dict[str, list[float]] = {}
        self._started = 0.0

    def epoch_begin(self, trial: Any, epoch: int) -> None:
        self._started = time.perf_counter()

    def epoch_end(self, trial: Any, epoch: int, logs: dict[str, float]) -> None:
        self.epochs.setdefault(trial.trial_id, []).append(time.perf_counter() - self._started)

    def epoch_restored(self, trial: Any, epoch: int, logs: dict[str, float]) -> None:
        """Replayed epochs took no time here."""

    @property
    def total(self) -> float:
        return sum(sum(times) for times in self.epochs.values())

    @property
    def first_epoch_excess(self) -> float:
        """How much longer each trial's first epoch took than its later ones (compiling)."""
        excess = 0.0
        for times in self.epochs.values():
            if len(times) > 1:
                excess += max(0.0, times[0] - statistics.median(times[1:]))
        return excess


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tuner", default="hyperband")
    parser.add_argument("--train-size", type=int)
    parser.add_argument("--max-epochs", type=int)
    parser.add_argument("--max-trials", type=int)
    parser.add_argument("--data-dir", type=Path)
    args = parser.parse_args()
    clock = EpochClock()
    with tempfile.TemporaryDirectory() as tmp:
        request = RunRequest(
            experiment="fashion", tuner=args.tuner, train_size=args.train_size,
            max_epochs=args.max_epochs, max_trials=args.max_trials, retrain=False,
            data_dir=args.data_dir, results=Path(tmp), name="overhead",
        )  # fmt: skip
        started = time.perf_counter()
        run_search(request, Console(quiet=True), quiet=True, observers=[clock])
        wall = time.perf_counter() - started
    epochs = sum(len(times) for times in clock.epochs.values())
    outside = wall - clock.total
    print(f"{args.tuner}, train size {args.train_size or 'default'}, max epochs"
          f" {args.max_epochs or 'default'}, {len(clock.epochs)} trials, {epochs} epochs:")  # fmt: skip
    print(f"  wall time {wall:.1f} s; inside epochs {clock.total:.1f} s;"
          f" outside {outside:.1f} s = {outside / wall:.1%} overhead")
    print(f"  first epochs' excess over later ones (tracing + compiling):"
          f" {clock.first_epoch_excess:.1f} s")


if __name__ == "__main__":
    main()
