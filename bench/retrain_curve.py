"""How the final model's accuracy grows with retrain epochs, to size the retrain.

Run: ``python bench/retrain_curve.py [--epochs N] [--fix name=value ...] [--reduce-lr FACTOR |
--cosine] [--mirrored] [--space FILE] [--data-dir DIR] [--train-size N] [--val-size N]
[--json FILE]``. Trains one ``fashion`` configuration (the space's defaults unless fixed;
``spaces/fashion.toml`` unless ``--space`` names another, e.g. ``spaces/fashion-gpu.toml``)
with the project's training loop, in the dtype policy a run would use (``--precision``,
``auto``: mixed bfloat16 on a GPU, float32 on a CPU), on the training images left after the validation split
(all of them unless ``--train-size``) and prints, after every epoch, the training loss, the
train, validation and test accuracy, the learning rate and the time; with ``--mirrored``
also the test accuracy when each image's probabilities are averaged with its left-right
mirror's (test-time augmentation). The learning rate stays the configuration's, is cut by
``--reduce-lr``'s factor after every epoch without a better validation accuracy (as the
validated retrain cuts it), or with ``--cosine`` decays from it to zero over the epochs
(one step per epoch; the last epoch's rate is near zero, not zero). ``--json`` writes the
figures after every epoch, so that a run stopped early keeps the epochs it trained. The
test columns are for this measurement only: the search never looks at them.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path
from typing import Any

import _quiet  # noqa: F401  (first: TensorFlow's start-up lines stay out)
import keras
import keras_tuner as kt
import numpy as np

from search.data import DEFAULT_VAL_SIZE
from search.engine._precision import policy_for  # the rule a run applies
from search.experiments import DataOptions, ModelOptions, get
from search.space import parse_fix

PREDICT_BATCH_SIZE = 1024


def mirrored_accuracy(model: keras.Model, x: np.ndarray, y: np.ndarray) -> float:
    """Accuracy of ``model`` on (x, y) when each image's class probabilities are averaged
    with its left-right mirror's (test-time augmentation; NHWC images)."""
    probs = model.predict(x, batch_size=PREDICT_BATCH_SIZE, verbose=0)
    probs = probs + model.predict(x[:, :, ::-1], batch_size=PREDICT_BATCH_SIZE, verbose=0)
    return float(np.mean(np.argmax(probs, axis=1) == y.reshape(-1)))


class _Curve(keras.callbacks.Callback):
    """Prints (and with ``json_path`` writes) each epoch's figures."""

    def __init__(self, x_test: Any, y_test: Any, mirrored: bool = False,
                 json_path: Path | None = None, head: dict[str, Any] | None = None) -> None:  # fmt: skip
        super().__init__()
        self.x_test, self.y_test, self.mirrored = x_test, y_test, mirrored
        self.json_path, self.figures = json_path, {**(head or {}), "epochs": []}
        self.start = time.perf_counter()

    def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
        # The rate this epoch trains at (after a scheduler set it; before a plateau cuts it).
        self.rate = float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))

    def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
        from hypermodels import evaluate_model

        logs = logs or {}
        _, test = evaluate_model(self.model, self.x_test, self.y_test, PREDICT_BATCH_SIZE)
        row = {
            "epoch": epoch + 1, "loss": logs.get("loss", math.nan),
            "train": logs.get("accuracy", math.nan), "val": logs.get("val_accuracy", math.nan),
            "test": test, "rate": self.rate, "seconds": round(time.perf_counter() - self.start, 1),
        }  # fmt: skip
        both = ""
        if self.mirrored:
            row["test_mirrored"] = mirrored_accuracy(self.model, self.x_test, self.y_test)
            both = f"  with mirrored {row['test_mirrored']:.4f}"
        print(
            f"epoch {row['epoch']:2d}: loss {row['loss']:.4f}  train {row['train']:.4f}"
            f"  val {row['val']:.4f}  test {test:.4f}{both}  learning rate {row['rate']:.2g}"
            f"  ({row['seconds']:.0f} s)",
            flush=True,
        )
        if self.json_path is not None:
            self.figures["epochs"].append({k: float(v) for k, v in row.items()})
            staged = self.json_path.with_name(self.json_path.name + ".tmp")
            staged.write_text(json.dumps(self.figures, indent=1) + "\n")
            staged.replace(self.json_path)  # whole, even when a signal stops the run


def cosine(rate: float, epochs: int) -> keras.callbacks.LearningRateScheduler:
    """The rate decayed from ``rate`` to zero over ``epochs`` (cosine, one step per epoch)."""
    return keras.callbacks.LearningRateScheduler(
        lambda epoch, _: rate * 0.5 * (1.0 + math.cos(math.pi * epoch / epochs))
    )


def _schedule(args: argparse.Namespace, rate: float) -> list[keras.callbacks.Callback]:
    """The callbacks that set the learning rate: ``--cosine``, ``--reduce-lr``, or none."""
    if args.cosine:
        return [cosine(rate, args.epochs)]
    if args.reduce_lr:
        return [keras.callbacks.ReduceLROnPlateau(
            "val_accuracy", factor=args.reduce_lr, patience=1, mode="max", min_lr=1e-6)]  # fmt: skip
    return []


def _args() -> argparse.Namespace:
    """The command line's options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--fix", action="append", default=[], help="name=value (repeatable)")
    parser.add_argument("--mirrored", action="store_true",
                        help="also the test accuracy with each image averaged with its mirror")
    rates = parser.add_mutually_exclusive_group()
    rates.add_argument("--reduce-lr", type=float, default=None, metavar="FACTOR",
                       help="multiply the learning rate by FACTOR when val accuracy stalls")
    rates.add_argument("--cosine", action="store_true",
                       help="decay the learning rate to zero over the epochs (cosine)")
    parser.add_argument("--space", type=Path, default=None, help="a fashion space file")
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="the folder with Fashion-MNIST's IDX files")
    parser.add_argument("--train-size", type=int, default=None, help="default: every image")
    parser.add_argument("--val-size", type=int, default=DEFAULT_VAL_SIZE)
    parser.add_argument("--test-size", type=int, default=None,
                        help="test on the first N test images only (default: all)")
    parser.add_argument("--precision", choices=("auto", "float32", "mixed"), default="auto")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    return parser.parse_args()


def main() -> None:
    args = _args()
    experiment = get("fashion")
    space = experiment.load_space(args.space)
    if args.fix:
        space = space.fix(parse_fix(args.fix))
    values = space.defaults()
    data = DataOptions(data_dir=args.data_dir, train_size=args.train_size, val_size=args.val_size)
    splits = experiment.load(data)
    print(f"backend {keras.backend.backend()}, {len(splits.x_train):,} training images,"
          f" {len(splits.x_val):,} validation, configuration {values}")  # fmt: skip
    x_test, y_test = splits.x_test[: args.test_size], splits.y_test[: args.test_size]
    policy = policy_for(args.precision)
    hypermodel = experiment.hypermodel(space, splits, ModelOptions(dtype_policy=policy))
    hp = kt.HyperParameters()
    hp.values = dict(values)
    model = hypermodel.build(hp)
    schedule = "cosine" if args.cosine else f"reduce-lr {args.reduce_lr}" if args.reduce_lr else "constant"
    head = {"backend": keras.backend.backend(), "train_images": len(splits.x_train),
            "test_images": len(x_test), "precision": policy, "configuration": values,
            "schedule": schedule, "epochs_planned": args.epochs}  # fmt: skip
    curve = _Curve(x_test, y_test, args.mirrored, args.json, head)
    hypermodel.fit(
        hp, model, splits.x_train, splits.y_train, (splits.x_val, splits.y_val),
        epochs=args.epochs, callbacks=[*_schedule(args, float(values["learning_rate"])), curve],
    )  # fmt: skip


if __name__ == "__main__":
    main()
