"""What the two caches save: decoded clothing images, and JAX's compiled steps.

Run: ``python bench/caches.py [--what images,jax] [--data-dir DIR] [--image-size 150]
[--fashion-dir DIR] [--smoke]``. Each part starts from an empty cache folder
(``$SEARCH_CACHE_DIR``, made in a temporary folder) and measures the same work twice:

- ``images``: loading the clothing set's three folders at ``--image-size`` (decoding every
  JPEG, then from the cache the next time);
- ``jax``: a one-trial, one-epoch ``fashion`` search on Keras' JAX backend, each in a new
  process (JAX's own in-process memo would hide the cache): the trial's first epoch, which
  compiles its steps, then loads them from the cache the second time.

It prints the seconds of each and their ratio. ``--smoke`` trains 64 images and loads the
clothing set at 32 pixels, for the tests: its figures mean nothing.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import _quiet  # noqa: F401  (first: TensorFlow's start-up lines stay out)
from _args import names

import search
from search.data import SkippedImagesWarning, load_clothing

PARTS = ("images", "jax")
TRIAL_IMAGES = 256
SMOKE_IMAGES = 64
SMOKE_IMAGE_SIZE = 32
EPOCH_PREFIX = "first epoch s "


parts = names(PARTS, "part")
"""``--what``: a comma-separated subset of PARTS."""


def time_images(data_dir: Path | None, image_size: int) -> tuple[float, float]:
    """Seconds to load the clothing set with the decoded-image cache empty, then warm."""
    seconds = []
    for _ in range(2):
        started = time.perf_counter()
        with warnings.catch_warnings():  # the set's unreadable images, counted the first time
            warnings.simplefilter("ignore", SkippedImagesWarning)
            load_clothing(data_dir, image_size)
        seconds.append(time.perf_counter() - started)
    return seconds[0], seconds[1]


class FirstEpoch(search.Observer):
    """The seconds of the first epoch the search trains."""

    def __init__(self) -> None:
        self.started, self.seconds = 0.0, 0.0

    def epoch_begin(self, trial: Any, epoch: int) -> None:
        self.started = time.perf_counter()

    def epoch_end(self, trial: Any, epoch: int, logs: dict[str, float]) -> None:
        self.seconds = self.seconds or time.perf_counter() - self.started


def trial_epoch(images: int, fashion_dir: Path | None) -> float:
    """In this process: the first epoch's seconds of a one-trial ``fashion`` search."""
    clock = FirstEpoch()
    with tempfile.TemporaryDirectory() as results:
        search.run("fashion", tuner="random", max_trials=1, max_epochs=1, train_size=images,
                   val_size=images, retrain=False, data_dir=fashion_dir, results=results,
                   observers=[clock], quiet=True)  # fmt: skip
    return clock.seconds


def time_jax(images: int, fashion_dir: Path | None) -> tuple[float, float]:
    """The first epoch's seconds of a one-trial JAX search, compile cache empty then warm."""
    seconds = []
    for _ in range(2):
        command = [sys.executable, __file__, "--trial", str(images)]
        if fashion_dir is not None:
            command += ["--fashion-dir", str(fashion_dir)]
        env = {**os.environ, "KERAS_BACKEND": "jax"}
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
        line = next(x for x in done.stdout.splitlines() if x.startswith(EPOCH_PREFIX))
        seconds.append(float(line.removeprefix(EPOCH_PREFIX)))
    return seconds[0], seconds[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--what", type=parts, default=PARTS, help=f"of {','.join(PARTS)}")
    parser.add_argument("--data-dir", type=Path, default=Path("../shared/data/clothing-dataset-small"),
                        help="the clothing set's folder")  # fmt: skip
    parser.add_argument("--fashion-dir", type=Path, default=None, help="Fashion-MNIST's IDX files")
    parser.add_argument("--image-size", type=int, default=150)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, for the tests")
    parser.add_argument("--trial", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.trial is not None:  # the child process of the jax part
        print(f"{EPOCH_PREFIX}{trial_epoch(args.trial, args.fashion_dir):.3f}", flush=True)
        return 0
    with tempfile.TemporaryDirectory() as cache:
        os.environ["SEARCH_CACHE_DIR"] = cache
        for part in args.what:
            if part == "images":
                cold, warm = time_images(args.data_dir, SMOKE_IMAGE_SIZE if args.smoke else args.image_size)
                what = "clothing images loaded"
            else:
                cold, warm = time_jax(SMOKE_IMAGES if args.smoke else TRIAL_IMAGES, args.fashion_dir)
                what = "JAX trial's first epoch"
            print(f"{what}: {cold:.2f} s with an empty cache, {warm:.2f} s from it"
                  f" ({cold / warm:.1f}x)", flush=True)  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
