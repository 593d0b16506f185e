"""The share of a search's wall time spent outside the compiled train and eval steps.

Run: ``python bench/overhead.py [--tuner hyperband] [--train-size N] [--max-epochs N]
[--no-retrain]``; without options it is the default ``fashion`` budget (Hyperband,
max_epochs 6, 10,000 training images, then the validated retrain on 50,000). Every train and eval
step is timed with its results read back (a sync, so device time is counted where it is
spent). Each compiled step's first call traces and compiles it, so it counts as overhead,
as does everything else: data loading, model builds, KerasTuner's bookkeeping,
checkpoints, epoch state, trials.json, the report.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from keras import ops
from rich.console import Console

import hypermodels._loop as loop
from search.engine import RunRequest, run_search


class TimedSteps:
    """A backend's steps, with the time of each call (results read back) accumulated."""

    total = 0.0
    calls = 0
    #: The first call of each compiled step traces and compiles it: overhead, not training.
    compile_total = 0.0

    def __init__(self, steps: Any) -> None:
        self._steps = steps
        self._called: set[str] = set()

    def _timed(self, kind: str, fn: Any, *args: Any) -> Any:
        started = time.perf_counter()
        out = fn(*args)
        np.asarray(ops.convert_to_numpy(out[0]))  # wait for the device
        spent = time.perf_counter() - started
        if kind in self._called:
            TimedSteps.total += spent
            TimedSteps.calls += 1
        else:
            self._called.add(kind)
            TimedSteps.compile_total += spent
        return out

    def put(self, array: Any) -> Any:
        return self._steps.put(array)

    def train_carry(self) -> Any:
        return self._steps.train_carry()

    def eval_carry(self) -> Any:
        return self._steps.eval_carry()

    def train(self, *args: Any) -> Any:
        return self._timed("train", self._steps.train, *args)

    def evaluate(self, *args: Any) -> Any:
        return self._timed("evaluate", self._steps.evaluate, *args)

    def sync(self) -> None:
        self._steps.sync()

    def __getattr__(self, name: str) -> Any:
        # Everything untimed (reload, close, and whatever the steps gain later) as it is.
        return getattr(self._steps, name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tuner", default="hyperband")
    parser.add_argument("--train-size", type=int)
    parser.add_argument("--max-epochs", type=int)
    parser.add_argument("--max-trials", type=int)
    parser.add_argument("--no-retrain", action="store_true")
    parser.add_argument("--data-dir", type=Path)
    args = parser.parse_args()
    original = loop.make_steps
    loop.make_steps = lambda model, augment: TimedSteps(original(model, augment))
    with tempfile.TemporaryDirectory() as tmp:
        request = RunRequest(
            experiment="fashion", tuner=args.tuner, train_size=args.train_size,
            max_epochs=args.max_epochs, max_trials=args.max_trials, retrain=not args.no_retrain,
            data_dir=args.data_dir, results=Path(tmp), name="overhead",
        )  # fmt: skip
        started = time.perf_counter()
        outcome = run_search(request, Console(quiet=True), quiet=True)
        wall = time.perf_counter() - started
    outside = wall - TimedSteps.total
    print(f"{args.tuner}, train size {args.train_size or 'default'}, max epochs"
          f" {args.max_epochs or 'default'}, retrain {not args.no_retrain}:")  # fmt: skip
    print(f"  wall time {wall:.1f} s; inside {TimedSteps.calls:,} train/eval steps"
          f" {TimedSteps.total:.1f} s; outside {outside:.1f} s = {outside / wall:.1%} overhead")
    if outcome.final:
        print(f"  test accuracy of the retrained model: {outcome.final['test_accuracy']:.4f}")
    print(f"  of which the first (tracing + compiling) call of each step: {TimedSteps.compile_total:.1f} s")


if __name__ == "__main__":
    main()
