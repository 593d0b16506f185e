"""Resident memory after each of N small trials: does it grow from trial to trial?

Run: ``python bench/memory.py [--trials 30]``. A random search of tiny trials runs in this
process; an observer prints the RSS after every trial, then the growth from trial 5 to the
last one (the first trials include one-off allocations: TensorFlow's kernels, tracing).
"""

from __future__ import annotations

import argparse
import resource
import tempfile
from pathlib import Path

from rich.console import Console

from search.engine import RunRequest, run_search
from search.tuners import _observed


def rss_mib() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class RssRecorder:
    """Collects the RSS after each trial."""

    def __init__(self) -> None:
        self.values: list[float] = []

    def trial_end(self, trial: object) -> None:
        self.values.append(rss_mib())
        print(f"trial {len(self.values):3d}: RSS {self.values[-1]:7.1f} MiB", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trials", type=int, default=30)
    args = parser.parse_args()
    recorder = RssRecorder()
    original = _observed.ObservedTuner.on_trial_end

    def on_trial_end(self, trial):  # add the RSS recorder to every tuner's observers
        original(self, trial)
        recorder.trial_end(trial)

    _observed.ObservedTuner.on_trial_end = on_trial_end
    with tempfile.TemporaryDirectory() as tmp:
        request = RunRequest(
            experiment="fashion", tuner="random", max_trials=args.trials, max_epochs=1,
            results=Path(tmp), name="memory", train_size=500, val_size=200, retrain=False,
        )  # fmt: skip
        run_search(request, Console(quiet=True), quiet=True)
    values = recorder.values
    start = values[min(4, len(values) - 1)]
    print(f"RSS after trial 5: {start:.1f} MiB; after trial {len(values)}: {values[-1]:.1f} MiB;"
          f" growth {values[-1] - start:+.1f} MiB ({(values[-1] - start) / max(1, len(values) - 5):+.2f}"
          " MiB per trial)")


if __name__ == "__main__":
    main()
