"""How accurate the baseline gets in a fixed number of epochs, by learning-rate schedule.

Run: ``python bench/schedule_ceiling.py [--epochs 10] [--schedules constant,cosine,smoothing]
[--set NAME=VALUE ...] [--data-dir DIR] [--smoke]``. Trains the ``fashion`` space's
defaults (the baseline: every search's first trial, what a search must beat) with Keras'
``model.fit`` on the 50,000 images outside the validation split, for a fixed number of
epochs, once per schedule. ``--set`` changes the network first (any hyperparameter the
model has, in the space or not: ``--set convs_per_block=2 --set filters=16``), to ask
the same of another default model. The schedules:

- ``constant``: Adam at the space's default learning rate, as the retrain starts;
- ``cosine``: Adam from that rate decayed to zero over the epochs (Keras' ``CosineDecay``):
  the schedule that needs the epoch count known in advance;
- ``smoothing``: ``cosine`` with the labels smoothed by 0.1;
- ``plateau``: the validated retrain's schedule: the rate cut by its factor whenever
  validation accuracy stalls for an epoch (Keras' ``ReduceLROnPlateau``, as
  ``bench/vs_keras_tuner.py`` writes it), every epoch run (no early stop);
- ``plateau-smoothing``: ``plateau`` with the labels smoothed by 0.1;
- ``ema`` and ``plateau-ema``: ``constant`` and ``plateau`` with Adam keeping an
  exponential moving average of the weights (Keras' ``use_ema``, momentum 0.999); each
  epoch is validated and tested with the averaged weights (the plateau cuts follow their
  validation accuracy), then training goes on from the raw ones.

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
from _args import names

from search.data import Splits
from search.engine._retrain import MIN_LEARNING_RATE, VALIDATED_FACTOR, VALIDATED_MIN_DELTA
from search.experiments import DataOptions, Experiment, ModelOptions, get
from search.space import Fixed, Space, parse_fix

SCHEDULES = ("constant", "cosine", "smoothing", "plateau", "plateau-smoothing", "ema", "plateau-ema")
DEFAULT_SCHEDULES = SCHEDULES[:3]
LABEL_SMOOTHING = 0.1
EMA_MOMENTUM = 0.999
EVAL_BATCH_SIZE = 1024
SMOKE_IMAGES = 300


@dataclass(frozen=True)
class Epoch:
    """One epoch's figures: seconds since the schedule's training began, accuracies."""

    seconds: float
    val: float
    test: float


schedules = names(SCHEDULES, "schedule")
"""``--schedules``: a comma-separated subset of SCHEDULES."""


def with_settings(space: Space, settings: dict[str, object]) -> Space:
    """``space`` with each of ``settings`` fixed at its value, in the space's range or not
    (the model checks it), a hyperparameter the space leaves out added as a fixed one."""
    params = tuple(
        Fixed(p.name, settings[p.name], condition=p.condition, help=p.help) if p.name in settings else p
        for p in space.params
    )
    added = tuple(Fixed(name, value) for name, value in settings.items() if name not in space)
    return Space(params + added, space.source, space.description)


def baseline_values(space: Space) -> dict[str, object]:
    """The hyperparameter values the baseline of ``space`` trains with."""
    return dict(space.defaults())


def compiled_baseline(experiment: Experiment, splits: Splits, schedule: str,
                      steps: int, space: Space | None = None) -> keras.Model:  # fmt: skip
    """The defaults' network of ``space`` (None: the experiment's), compiled for
    ``schedule`` over ``steps`` steps."""
    space = experiment.load_space() if space is None else space
    hp = kt.HyperParameters()
    hp.values = baseline_values(space)
    # The model checks the space: a hyperparameter it does not have is refused here.
    model = experiment.hypermodel(space, splits, ModelOptions()).build(hp)
    rate = float(hp.values["learning_rate"])
    cosine = schedule in ("cosine", "smoothing")
    learning_rate = keras.optimizers.schedules.CosineDecay(rate, steps) if cosine else rate
    smoothing = LABEL_SMOOTHING if schedule.endswith("smoothing") else 0.0
    averaged = schedule.endswith("ema")
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate, use_ema=averaged, ema_momentum=EMA_MOMENTUM),
        loss=keras.losses.CategoricalCrossentropy(label_smoothing=smoothing),
        metrics=["accuracy"],
    )
    return model


class _Figures(keras.callbacks.Callback):
    """After every epoch: the test accuracy, printed and kept with the epoch's validation
    accuracy and the seconds of training so far (its own test passes left out)."""

    def __init__(self, schedule: str, test: tuple[np.ndarray, np.ndarray]) -> None:
        super().__init__()
        self.schedule, self.test = schedule, test
        self.figures: list[Epoch] = []
        self.started, self.testing = time.perf_counter(), 0.0

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        seconds = time.perf_counter() - self.started - self.testing
        before = time.perf_counter()
        test = float(self.model.evaluate(*self.test, batch_size=EVAL_BATCH_SIZE, verbose=0)[1])
        self.testing += time.perf_counter() - before
        val = float((logs or {})["val_accuracy"])
        self.figures.append(Epoch(seconds, val, test))
        print(f"{self.schedule}: epoch {epoch + 1:2d}  val {val:.4f}  test {test:.4f}"
              f"  ({seconds:.0f} s of training)", flush=True)  # fmt: skip


class _Averaged(keras.callbacks.Callback):
    """Validates each epoch with the optimizer's averaged weights: they replace the raw ones
    and ``val_accuracy`` in the epoch's logs (first of the callbacks, so the plateau cuts
    and the test pass that follow see them); ``restore`` puts the raw ones back."""

    def __init__(self, validation: tuple[np.ndarray, np.ndarray]) -> None:
        super().__init__()
        self.validation = validation
        self.raw: list[np.ndarray] = []

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        self.raw = self.model.get_weights()
        self.model.optimizer.finalize_variable_values(self.model.trainable_variables)
        val = self.model.evaluate(*self.validation, batch_size=EVAL_BATCH_SIZE, verbose=0)[1]
        if logs is not None:
            logs["val_accuracy"] = float(val)

    def restore(self) -> keras.callbacks.Callback:
        """A callback to go last: the raw weights back after each epoch's passes."""
        return keras.callbacks.LambdaCallback(on_epoch_end=lambda *_: self.model.set_weights(self.raw))


def train(experiment: Experiment, splits: Splits, schedule: str, epochs: int,
          space: Space) -> list[Epoch]:  # fmt: skip
    """Train the baseline of ``space`` under ``schedule`` in one ``fit``, printing each
    epoch; its figures."""
    classes = int(splits.y_train.max()) + 1
    def one_hot(labels: np.ndarray) -> np.ndarray:
        return keras.utils.to_categorical(labels, classes)

    x = splits.x_train.astype("float32")
    batch_size = int(baseline_values(space)["batch_size"])
    steps = epochs * int(np.ceil(len(x) / batch_size))
    model = compiled_baseline(experiment, splits, schedule, steps, space)
    figures = _Figures(schedule, (splits.x_test.astype("float32"), one_hot(splits.y_test)))
    validation = (splits.x_val.astype("float32"), one_hot(splits.y_val))
    callbacks: list[keras.callbacks.Callback] = [figures]
    if schedule.startswith("plateau"):
        callbacks.insert(0, keras.callbacks.ReduceLROnPlateau(
            "val_accuracy", factor=VALIDATED_FACTOR, patience=1, mode="max",
            min_delta=VALIDATED_MIN_DELTA, min_lr=MIN_LEARNING_RATE))  # fmt: skip
    if schedule.endswith("ema"):
        averaged = _Averaged(validation)
        callbacks = [averaged, *callbacks, averaged.restore()]
    model.fit(x, one_hot(splits.y_train), batch_size=batch_size, epochs=epochs, verbose=0,
              validation_data=validation, callbacks=callbacks)  # fmt: skip
    return figures.figures


def table(results: dict[str, list[Epoch]]) -> list[str]:
    """Each schedule's last epoch: training seconds, validation and test accuracy."""
    lines = [f"{'schedule':<19}{'epochs':>7}{'train s':>9}{'val':>8}{'test':>8}"]
    for schedule, figures in results.items():
        last = figures[-1]
        lines.append(f"{schedule:<19}{len(figures):>7}{last.seconds:>9.1f}{last.val:>8.4f}"
                     f"{last.test:>8.4f}")  # fmt: skip
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--schedules", type=schedules, default=DEFAULT_SCHEDULES,
                        help=f"of {','.join(SCHEDULES)}; default: {','.join(DEFAULT_SCHEDULES)}")  # fmt: skip
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="a hyperparameter of the network, instead of its default")  # fmt: skip
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, for the tests")
    args = parser.parse_args(argv)
    if args.epochs < 1:
        parser.error(f"--epochs {args.epochs}: give at least 1")
    experiment = get("fashion")
    try:
        space = with_settings(experiment.load_space(), parse_fix(args.set))
        experiment.check_space(space)
    except ValueError as exc:  # SpaceError is one
        parser.error(f"--set {' '.join(args.set)}: {exc}")
    if args.smoke:
        data = DataOptions(data_dir=args.data_dir, train_size=SMOKE_IMAGES, val_size=SMOKE_IMAGES)
    else:
        data = DataOptions(data_dir=args.data_dir, train_size=None)
    splits = experiment.load(data)
    epochs = 1 if args.smoke else args.epochs
    values = baseline_values(space)
    print(f"backend {keras.backend.backend()}, {len(splits.x_train):,} training images,"
          f" {epochs} epoch(s), batch {values['batch_size']}", flush=True)  # fmt: skip
    if args.set:
        print("network: " + ", ".join(f"{name}={value}" for name, value in values.items()))
    results = {schedule: train(experiment, splits, schedule, epochs, space)
               for schedule in args.schedules}  # fmt: skip
    print("\n".join(table(results)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
