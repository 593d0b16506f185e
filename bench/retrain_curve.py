"""How the final model's accuracy grows with retrain epochs, to size the retrain.

Run: ``python bench/retrain_curve.py [--epochs N] [--fix name=value ...] [--reduce-lr FACTOR]
[--mirrored] [--space FILE] [--data-dir DIR]``. Trains one
``fashion`` configuration (the space's defaults unless fixed; ``spaces/fashion.toml`` unless
``--space`` names another, e.g. ``spaces/fashion-gpu.toml``) on the training images left
after the 10,000-image validation split and prints, after every epoch, the train,
validation and test accuracy and the time; with ``--mirrored`` also the test accuracy
when each image's probabilities are averaged with its left-right mirror's (test-time
augmentation). The test columns are for this measurement only: the search never looks at
them.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import _quiet  # noqa: F401  (first: TensorFlow's start-up lines stay out)
import keras
import keras_tuner as kt
import numpy as np

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
    def __init__(self, x_test: Any, y_test: Any, mirrored: bool = False) -> None:
        super().__init__()
        self.x_test, self.y_test, self.mirrored = x_test, y_test, mirrored
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
        from hypermodels import evaluate_model

        logs = logs or {}
        _, test = evaluate_model(self.model, self.x_test, self.y_test, 1024)
        rate = float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))
        both = ""
        if self.mirrored:
            both = f"  with mirrored {mirrored_accuracy(self.model, self.x_test, self.y_test):.4f}"
        print(
            f"epoch {epoch + 1:2d}: loss {logs.get('loss', float('nan')):.4f}"
            f"  train {logs.get('accuracy', float('nan')):.4f}"
            f"  val {logs.get('val_accuracy', float('nan')):.4f}  test {test:.4f}"
            f"{both}"
            f"  learning rate {rate:.2g}"
            f"  ({time.perf_counter() - self.start:.0f} s)",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--fix", action="append", default=[], help="name=value (repeatable)")
    parser.add_argument("--mirrored", action="store_true",
                        help="also the test accuracy with each image averaged with its mirror")
    parser.add_argument("--reduce-lr", type=float, default=None, metavar="FACTOR",
                        help="multiply the learning rate by FACTOR when val accuracy stalls")
    parser.add_argument("--space", type=Path, default=None, help="a fashion space file")
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="the folder with Fashion-MNIST's IDX files")
    args = parser.parse_args()
    experiment = get("fashion")
    space = experiment.load_space(args.space)
    if args.fix:
        space = space.fix(parse_fix(args.fix))
    values = space.defaults()
    splits = experiment.load(DataOptions(data_dir=args.data_dir, train_size=None))
    print(f"backend {keras.backend.backend()}, {len(splits.x_train):,} training images,"
          f" {len(splits.x_val):,} validation, configuration {values}")  # fmt: skip
    hypermodel = experiment.hypermodel(space, splits, ModelOptions())
    hp = kt.HyperParameters()
    hp.values = dict(values)
    model = hypermodel.build(hp)
    callbacks: list[keras.callbacks.Callback] = []
    if args.reduce_lr:
        callbacks.append(keras.callbacks.ReduceLROnPlateau(
            "val_accuracy", factor=args.reduce_lr, patience=1, mode="max", min_lr=1e-6))  # fmt: skip
    callbacks.append(_Curve(splits.x_test, splits.y_test, args.mirrored))
    hypermodel.fit(
        hp, model, splits.x_train, splits.y_train, (splits.x_val, splits.y_val),
        epochs=args.epochs, callbacks=callbacks,
    )  # fmt: skip


if __name__ == "__main__":
    main()
