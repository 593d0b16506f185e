"""Soak: many tiny trials in one process, to show that memory, open files and disk stay flat.

Run: ``python bench/soak.py [--trials 200] [--every 20] [--data-dir DIR]``. One
``search run fashion --tuner random --keep-best 3`` of ``--trials`` one-epoch trials on 200
training images runs in this process (the real Fashion-MNIST: Debian's package or Keras'
cache, or ``--data-dir``); after every ``--every`` ended trials it prints the process's
resident memory, its open file descriptors and the run folder's size on disk, then the
change per 100 trials between the first and the last measurement. With ``--keep-best 3``
the checkpoints of all but the best three trials are deleted, so the disk use should level
off (it moves with the sizes of the three kept checkpoints; a sample taken as the search
ends may include report.html and best_model.keras). Linux only (it reads /proc/self).
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from search.cli import main as search_main

POLL_SECONDS = 0.2
MIB = 1024 * 1024
PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")
BLOCK_BYTES = 512
"""``st_blocks`` counts 512-byte blocks."""
PER = 100
"""Growth is reported per this many trials."""


@dataclass(frozen=True)
class Sample:
    trials: int
    seconds: float
    rss_mib: float
    fds: int
    disk_mib: float

    def line(self) -> str:
        return (f"after {self.trials:4d} trials ({self.seconds:6.0f} s): rss {self.rss_mib:8.1f} MiB,"
                f" open fds {self.fds:4d}, run folder {self.disk_mib:7.2f} MiB on disk")  # fmt: skip


def rss_mib() -> float:
    """This process's resident memory now (not the peak)."""
    resident_pages = int(Path("/proc/self/statm").read_text().split()[1])
    return resident_pages * PAGE_BYTES / MIB


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def disk_mib(folder: Path) -> float:
    """Space the files under ``folder`` take on disk."""
    total = 0
    for path in folder.rglob("*"):
        try:
            if path.is_file():
                total += path.stat().st_blocks * BLOCK_BYTES
        except OSError:  # deleted while walking (--keep-best, atomic replaces)
            continue
    return total / MIB


def ended_trials(trials_file: Path) -> int:
    try:
        trials = json.loads(trials_file.read_text())["trials"]
    except (OSError, ValueError, KeyError):
        return 0
    return sum(t["status"] != "running" for t in trials)


class Monitor(threading.Thread):
    """Samples every ``every`` ended trials, as trials.json records them."""

    def __init__(self, folder: Path, every: int) -> None:
        super().__init__(daemon=True, name="soak-monitor")
        self.folder, self.every = folder, every
        self.samples: list[Sample] = []
        self.done = threading.Event()
        self._t0 = time.perf_counter()

    def sample(self, trials: int) -> None:
        found = Sample(trials, time.perf_counter() - self._t0, rss_mib(), open_fds(),
                       disk_mib(self.folder))  # fmt: skip
        self.samples.append(found)
        print(found.line(), flush=True)

    def run(self) -> None:
        next_at = self.every
        while not self.done.wait(POLL_SECONDS):
            ended = ended_trials(self.folder / "trials.json")
            if ended >= next_at:
                self.sample(ended)
                next_at = (ended // self.every + 1) * self.every


def report(samples: list[Sample]) -> None:
    if len(samples) < 2:
        print("too few samples for a trend: run more --trials or a smaller --every")
        return
    first, last = samples[0], samples[-1]
    scale = PER / max(1, last.trials - first.trials)
    print(f"change per {PER} trials (after {first.trials} to after {last.trials}):"
          f" rss {(last.rss_mib - first.rss_mib) * scale:+.1f} MiB,"
          f" open fds {(last.fds - first.fds) * scale:+.1f},"
          f" disk {(last.disk_mib - first.disk_mib) * scale:+.2f} MiB")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=200, help="trials to run (default 200)")
    parser.add_argument("--every", type=int, default=20, help="sample every N trials (default 20)")
    parser.add_argument("--data-dir", type=Path, help="Fashion-MNIST folder (default: found)")
    args = parser.parse_args()
    if args.trials < 1 or args.every < 1:
        parser.error("--trials and --every must be at least 1")
    with tempfile.TemporaryDirectory(prefix="soak-") as tmp:
        folder = Path(tmp) / "fashion" / "soak"
        command = ["run", "fashion", "--tuner", "random", "--max-trials", str(args.trials),
                   "--max-epochs", "1", "--train-size", "200", "--val-size", "100",
                   "--fix", "filters=16", "--fix", "conv_blocks=2", "--no-retrain",
                   "--keep-best", "3", "--results", tmp, "--name", "soak", "--quiet"]  # fmt: skip
        if args.data_dir is not None:
            command += ["--data-dir", str(args.data_dir)]
        monitor = Monitor(folder, args.every)
        monitor.start()
        code = search_main(command)
        monitor.done.set()
        monitor.join()
    print(f"search exit code {code}")
    report(monitor.samples)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
