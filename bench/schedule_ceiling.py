"""How accurate the baseline gets in a fixed number of epochs, by learning-rate schedule.

Run: ``python bench/schedule_ceiling.py [--epochs 10] [--schedules constant,cosine,smoothing]
[--data-dir DIR] [--smoke]``. Trains the ``fashion`` space's defaults (the baseline every
search also retrains) with Keras' ``model.fit`` on the 50,000 images outside the
validation split, for a fixed number of epochs, once per schedule:

- ``constant``: Adam at the space's default learning rate, as the retrain starts;
- ``cosine``: Adam from that rate decayed to zero over the epochs (Keras' ``CosineDecay``):
  the schedule that needs the epoch count known in advance;
- ``smoothing``: ``cosine`` with the labels smoothed by 0.1.

After every epoch it prints validation and test accuracy and the seconds so far, then a
table of each schedule's last epoch. The test column is for this measurement only.
What it answers: with no search at all, how much accuracy does the retrained model buy
in the seconds the CPU time goal allows (issue #20)? ``--smoke`` runs 300 images (and 300
validation images) for one epoch, for the tests: its figures mean nothing.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from pathlib import Path

import _quiet  # noqa: F401  (first: TensorFlow's start-up lines stay out)
import keras
import keras_tuner as kt
import numpy as np

from search.data import Splits
from search.experiments import DataOptions, Experiment, ModelOptions, get

SCHEDULES = ("constant", "cosine", "smoothing")
LABEL_SMOOTHING = 0.1
BATCH_SIZE = 64
"""The space's default batch size."""
EVAL_BATCH_SIZE = 1024
SMOKE_IMAGES = 300


@dataclass(frozen=True)
class Epoch:
    """One epoch's figures: seconds since the schedule's training began, accuracies."""

    seconds: float
    val: float
    test: float


def schedules(text: str) -> tuple[str, ...]:
    """``--schedules``: a comma-separated subset of SCHEDULES."""
    names = tuple(name.strip() for name in text.split(",") if name.strip())
    unknown = [name for name in names if name not in SCHEDULES]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"{text!r}: {unknown[0] if unknown else 'no schedule'} is not one of"
            f" {', '.join(SCHEDULES)}"
        )
    return names


def compiled_baseline(experiment: Experiment, splits: Splits, schedule: str,
                      steps: int) -> keras.Model:  # fmt: skip
    """The space defaults' network, compiled for ``schedule`` over ``steps`` steps."""
    space = experiment.load_space()
    hp = kt.HyperParameters()
    hp.values = dict(space.defaults())
    model = experiment.hypermodel(space, splits, ModelOptions()).build(hp)
    rate = float(hp.values["learning_rate"])
    learning_rate = (
        rate if schedule == "constant" else keras.optimizers.schedules.CosineDecay(rate, steps)
    )
    smoothing = LABEL_SMOOTHING if schedule == "smoothing" else 0.0
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss=keras.losses.CategoricalCrossentropy(label_smoothing=smoothing),
        metrics=["accuracy"],
    )
    return model


def train(experiment: Experiment, splits: Splits, schedule: str, epochs: int) -> list[Epoch]:
    """Train the baseline under ``schedule``, printing each epoch; its figures."""
    classes = int(splits.y_train.max()) + 1
    x, y = splits.x_train.astype("float32"), keras.utils.to_categorical(splits.y_train, classes)
    held = {
        "val": (splits.x_val.astype("float32"), keras.utils.to_categorical(splits.y_val, classes)),
        "test": (splits.x_test.astype("float32"),
                 keras.utils.to_categorical(splits.y_test, classes)),
    }  # fmt: skip
    steps = epochs * int(np.ceil(len(x) / BATCH_SIZE))
    model = compiled_baseline(experiment, splits, schedule, steps)
    figures: list[Epoch] = []
    started = time.perf_counter()
    for epoch in range(epochs):
        model.fit(x, y, batch_size=BATCH_SIZE, epochs=epoch + 1, initial_epoch=epoch, verbose=0)
        seconds = time.perf_counter() - started
        val, test = (
            float(model.evaluate(*held[part], batch_size=EVAL_BATCH_SIZE, verbose=0)[1])
            for part in ("val", "test")
        )
        figures.append(Epoch(seconds, val, test))
        print(f"{schedule}: epoch {epoch + 1:2d}  val {val:.4f}  test {test:.4f}"
              f"  ({seconds:.0f} s of training)", flush=True)  # fmt: skip
    return figures


def table(results: dict[str, list[Epoch]]) -> list[str]:
    """Each schedule's last epoch: training seconds, validation and test accuracy."""
    lines = [f"{'schedule':<12}{'epochs':>7}{'train s':>9}{'val':>8}{'test':>8}"]
    for schedule, figures in results.items():
        last = figures[-1]
        lines.append(f"{schedule:<12}{len(figures):>7}{last.seconds:>9.1f}{last.val:>8.4f}"
                     f"{last.test:>8.4f}")  # fmt: skip
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--schedules", type=schedules, default=SCHEDULES,
                        help=f"default: {','.join(SCHEDULES)}")  # fmt: skip
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, for the tests")
    args = parser.parse_args(argv)
    if args.epochs < 1:
        parser.error(f"--epochs {args.epochs}: give at least 1")
    experiment = get("fashion")
    if args.smoke:
        data = DataOptions(data_dir=args.data_dir, train_size=SMOKE_IMAGES, val_size=SMOKE_IMAGES)
    else:
        data = DataOptions(data_dir=args.data_dir, train_size=None)
    splits = experiment.load(data)
    epochs = 1 if args.smoke else args.epochs
    print(f"backend {keras.backend.backend()}, {len(splits.x_train):,} training images,"
          f" {epochs} epoch(s), batch {BATCH_SIZE}", flush=True)  # fmt: skip
    results = {schedule: train(experiment, splits, schedule, epochs) for schedule in args.schedules}
    print("\n".join(table(results)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
