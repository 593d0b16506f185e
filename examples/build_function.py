"""Tune a ``build(hp)`` function on arrays, as in KerasTuner's getting started.

    python examples/build_function.py            # about 3 minutes on 2 CPU cores
    python examples/build_function.py --smoke    # a few seconds' worth, as the tests run it

The data: scikit-learn's 8x8 handwritten digits (1,797 images, shipped with scikit-learn).
"""

from __future__ import annotations

import argparse

import keras
import keras_tuner as kt
from sklearn.datasets import load_digits

import search


def build(hp: kt.HyperParameters) -> keras.Model:
    """A dense network; its width, dropout and learning rate are searched."""
    model = keras.Sequential([
        keras.Input((64,)),
        keras.layers.Rescaling(1 / 16),
        keras.layers.Dense(hp.Int("units", 32, 256, step=32), activation="relu"),
        keras.layers.Dropout(hp.Float("dropout", 0.0, 0.5, step=0.1)),
        keras.layers.Dense(10, activation="softmax"),
    ])  # fmt: skip
    model.compile(
        optimizer=keras.optimizers.Adam(hp.Float("learning_rate", 1e-4, 1e-2, sampling="log")),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="a tiny budget (for tests)")
    parser.add_argument("--results", default="results")
    args = parser.parse_args()
    x, y = load_digits(return_X_y=True)
    x = x.astype("float32")
    x_test, y_test, x, y = x[:300], y[:300], x[300:], y[300:]
    run = search.run(
        build, x, y, test_data=(x_test, y_test), tuner="hyperband",
        max_epochs=2 if args.smoke else 12, max_trials=2 if args.smoke else None,
        retrain_max_epochs=2 if args.smoke else 20, results=args.results,
    )  # fmt: skip
    print("chosen:", run.best_hyperparameters)
    print("test:", run.test_metrics)
    print("report:", run.report())


if __name__ == "__main__":
    main()
