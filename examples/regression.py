"""Tune a regression: the objective is a metric to minimize, named as in KerasTuner.

    python examples/regression.py            # about two minutes on 2 CPU cores
    python examples/regression.py --smoke    # a few seconds' worth, as the tests run it

The data: scikit-learn's diabetes progression (442 patients, 10 features, shipped with
scikit-learn). The model normalizes its inputs itself with the training rows' statistics
(not the validation or test rows'), so the saved model takes raw rows.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

import keras
import keras_tuner as kt
import numpy as np
from sklearn.datasets import load_diabetes

import search

OBJECTIVE = kt.Objective("val_mean_absolute_error", direction="min")


def make_build(x_train: np.ndarray) -> Callable[[kt.HyperParameters], keras.Model]:
    """A ``build(hp)`` whose first layer standardizes with ``x_train``'s statistics."""
    mean, variance = x_train.mean(axis=0), x_train.var(axis=0)

    def build(hp: kt.HyperParameters) -> keras.Model:
        """Dense layers; their number, width, dropout and the learning rate are searched."""
        model = keras.Sequential([keras.Input((x_train.shape[1],)),
                                  keras.layers.Normalization(mean=mean, variance=variance)])  # fmt: skip
        for _ in range(hp.Int("layers", 1, 3)):
            model.add(keras.layers.Dense(hp.Int("units", 16, 128, step=16), activation="relu"))
            model.add(keras.layers.Dropout(hp.Float("dropout", 0.0, 0.4, step=0.1)))
        model.add(keras.layers.Dense(1))
        model.compile(
            optimizer=keras.optimizers.Adam(hp.Float("learning_rate", 1e-3, 1e-1, sampling="log")),
            loss="mean_squared_error",
            metrics=["mean_absolute_error"],
        )
        return model

    return build


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="a tiny budget (for tests)")
    parser.add_argument("--results", default="results")
    args = parser.parse_args()
    x, y = load_diabetes(return_X_y=True)
    x, y = x.astype("float32"), y.astype("float32")
    x_test, y_test, x_val, y_val, x, y = x[:80], y[:80], x[80:150], y[80:150], x[150:], y[150:]
    run = search.run(
        make_build(x), x, y, validation_data=(x_val, y_val), test_data=(x_test, y_test),
        tuner="optuna", objective=OBJECTIVE,
        experiment="diabetes", max_trials=2 if args.smoke else 20, max_epochs=2 if args.smoke else 60,
        retrain_from="checkpoint", retrain_max_epochs=2 if args.smoke else 200, results=args.results,
    )  # fmt: skip
    print("chosen:", run.best_hyperparameters)
    print("test:", run.test_metrics)
    print("report:", run.report())


if __name__ == "__main__":
    main()
