"""Memory from trial to trial: does it grow? In one process, and with ``--isolate``.

Run: ``python bench/memory.py [--trials 30] [--isolate]``. A random search of tiny trials
(500 training images, 1 epoch). In one process, an observer prints the RSS after every
trial, then the growth from trial 5 to the last one (the first trials include one-off
allocations: TensorFlow's kernels, tracing). With ``--isolate`` every trial runs in a
fresh process: the bench prints each trial process's peak RSS and its wall time, which
includes the start-up that isolation costs.
"""

from __future__ import annotations

import argparse
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SEARCH = ["fashion", "--tuner", "random", "--max-epochs", "1", "--train-size", "500",
          "--val-size", "200", "--no-retrain", "--name", "memory"]  # fmt: skip


def rss_mib() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def in_process(trials: int) -> None:
    from rich.console import Console

    from search.engine import RunRequest, run_search
    from search.tuners import _observed

    values: list[float] = []
    times: list[float] = []
    original = _observed.ObservedTuner.on_trial_end

    def on_trial_end(self, trial):  # add the RSS probe to every tuner's observers
        original(self, trial)
        values.append(rss_mib())
        times.append(time.perf_counter())
        print(f"trial {len(values):3d}: RSS {values[-1]:7.1f} MiB", flush=True)

    _observed.ObservedTuner.on_trial_end = on_trial_end
    with tempfile.TemporaryDirectory() as tmp:
        request = RunRequest(
            experiment="fashion", tuner="random", max_trials=trials, max_epochs=1,
            results=Path(tmp), name="memory", train_size=500, val_size=200, retrain=False,
        )  # fmt: skip
        run_search(request, Console(quiet=True), quiet=True)
    start = values[min(4, len(values) - 1)]
    per_trial = (times[-1] - times[0]) / max(1, len(times) - 1)
    print(f"one process: RSS after trial 5: {start:.1f} MiB; after trial {len(values)}:"
          f" {values[-1]:.1f} MiB; growth {values[-1] - start:+.1f} MiB"
          f" ({(values[-1] - start) / max(1, len(values) - 5):+.2f} MiB per trial);"
          f" {per_trial:.1f} s per trial")  # fmt: skip


def isolated(trials: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        command = [sys.executable, "-m", "search", "run", *SEARCH, "--max-trials", str(trials),
                   "--results", tmp, "--isolate"]  # fmt: skip
        out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    found = re.findall(r"trial process: ([\d.]+) s, peak memory ([\d,]+) MiB", out)
    peaks = [float(m.replace(",", "")) for _, m in found]
    seconds = [float(s) for s, _ in found]
    for i, (peak, secs) in enumerate(zip(peaks, seconds), 1):
        print(f"trial {i:3d}: peak RSS of its process {peak:7.1f} MiB, {secs:5.1f} s")
    print(f"--isolate: peak RSS per trial process {min(peaks):.0f}-{max(peaks):.0f} MiB"
          f" (first {peaks[0]:.0f}, last {peaks[-1]:.0f}); {sum(seconds) / len(seconds):.1f} s"
          " per trial process, start-up included")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trials", type=int, default=30)
    parser.add_argument("--isolate", action="store_true", help="one process per trial")
    args = parser.parse_args()
    (isolated if args.isolate else in_process)(args.trials)


if __name__ == "__main__":
    main()
