"""Memory from trial to trial: does it grow? In one process, and with ``--isolate``.

Run: ``python bench/memory.py [--trials 30] [--isolate] [--data-dir DIR] [--json FILE]``.
A random search of tiny trials
(500 training images, 1 epoch). In one process, an observer prints the RSS (and, on a
GPU, the device memory in use) after every trial, then the growth from trial 5 to the
last one (the first trials include one-off allocations: TensorFlow's kernels, tracing).
With ``--isolate`` every trial runs in a fresh process: the bench prints each trial
process's peak RSS and its wall time, which includes the start-up that isolation costs.
``--json`` also writes the figures to a file.
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import _quiet  # noqa: F401  (first: TensorFlow's start-up lines stay out)
from rich.console import Console

from search.engine import RunRequest, run_search
from search.tuners import Observer

SEARCH = ["fashion", "--tuner", "random", "--max-epochs", "1", "--train-size", "500",
          "--val-size", "200", "--no-retrain", "--name", "memory"]  # fmt: skip


def rss_mib() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def device_mib() -> float | None:
    """Memory in use on the accelerator (MiB), or None on a CPU."""
    import keras

    if keras.backend.backend() == "jax":
        import jax

        device = jax.devices()[0]
        if device.platform == "cpu":
            return None
        stats = device.memory_stats() or {}
        return stats.get("bytes_in_use", 0) / 2**20
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        if not tf.config.list_physical_devices("GPU"):
            return None
        return tf.config.experimental.get_memory_info("GPU:0")["current"] / 2**20
    return None


class MemoryProbe(Observer):
    """Prints the RSS (and the device memory in use) after every trial."""

    def __init__(self) -> None:
        self.rss: list[float] = []
        self.times: list[float] = []
        self.on_device: list[float] = []

    def trial_end(self, trial: Any) -> None:
        self.rss.append(rss_mib())
        self.times.append(time.perf_counter())
        device = device_mib()
        shown = "" if device is None else f", device {device:7.1f} MiB"
        if device is not None:
            self.on_device.append(device)
        print(f"trial {len(self.rss):3d}: RSS {self.rss[-1]:7.1f} MiB{shown}", flush=True)


def in_process(trials: int, data_dir: Path | None) -> dict[str, object]:
    probe = MemoryProbe()
    with tempfile.TemporaryDirectory() as tmp:
        request = RunRequest(
            experiment="fashion", tuner="random", max_trials=trials, max_epochs=1,
            results=Path(tmp), name="memory", train_size=500, val_size=200, retrain=False,
            data_dir=data_dir,
        )  # fmt: skip
        run_search(request, Console(quiet=True), quiet=True, observers=[probe])
    values, times, on_device = probe.rss, probe.times, probe.on_device
    start = values[min(4, len(values) - 1)]
    per_trial = (times[-1] - times[0]) / max(1, len(times) - 1)
    print(f"one process: RSS after trial 5: {start:.1f} MiB; after trial {len(values)}:"
          f" {values[-1]:.1f} MiB; growth {values[-1] - start:+.1f} MiB"
          f" ({(values[-1] - start) / max(1, len(values) - 5):+.2f} MiB per trial);"
          f" {per_trial:.1f} s per trial")  # fmt: skip
    figures: dict[str, object] = {
        "mode": "one process", "trials": len(values), "rss_mib": [round(v, 1) for v in values],
        "rss_growth_mib": round(values[-1] - start, 1), "seconds_per_trial": round(per_trial, 2),
        "device_mib": [round(v, 1) for v in on_device] or None,
    }  # fmt: skip
    if on_device:
        first = on_device[min(4, len(on_device) - 1)]
        figures["device_growth_mib"] = round(on_device[-1] - first, 1)
        print(f"device memory in use after trial 5: {first:.1f} MiB; after trial"
              f" {len(on_device)}: {on_device[-1]:.1f} MiB; growth {on_device[-1] - first:+.1f} MiB")
    return figures


def isolated(trials: int, data_dir: Path | None) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        command = [sys.executable, "-m", "search", "run", *SEARCH, "--max-trials", str(trials),
                   "--results", tmp, "--isolate"]  # fmt: skip
        if data_dir is not None:
            command += ["--data-dir", str(data_dir)]
        out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    found = re.findall(r"trial process: ([\d.]+) s, peak memory ([\d,]+) MiB", out)
    peaks = [float(m.replace(",", "")) for _, m in found]
    seconds = [float(s) for s, _ in found]
    for i, (peak, secs) in enumerate(zip(peaks, seconds), 1):
        print(f"trial {i:3d}: peak RSS of its process {peak:7.1f} MiB, {secs:5.1f} s")
    print(f"--isolate: peak RSS per trial process {min(peaks):.0f}-{max(peaks):.0f} MiB"
          f" (first {peaks[0]:.0f}, last {peaks[-1]:.0f}); {sum(seconds) / len(seconds):.1f} s"
          " per trial process, start-up included")  # fmt: skip
    return {"mode": "isolate", "trials": len(peaks), "peak_rss_mib": peaks, "seconds": seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trials", type=int, default=30)
    parser.add_argument("--isolate", action="store_true", help="one process per trial")
    parser.add_argument("--data-dir", type=Path, help="folder with Fashion-MNIST's IDX files")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    figures = (isolated if args.isolate else in_process)(args.trials, args.data_dir)
    if args.json is not None:
        args.json.write_text(json.dumps(figures, indent=1) + "\n")


if __name__ == "__main__":
    main()
