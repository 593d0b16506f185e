"""A HyperModel with its own training loop, which tunes the batch size too.

    python examples/own_training_loop.py            # about 2 minutes on 2 CPU cores
    python examples/own_training_loop.py --smoke    # as the tests run it

``fit`` trains with Keras' compiled ``train_on_batch`` step, batch by batch, and calls the
callbacks KerasTuner hands it at each epoch's end: that is what gives the search its
per-epoch records, the report's learning curves and the ranking by train/validation gap
(and Optuna's pruner its epochs). A ``fit`` that calls none of them and returns only a
final number still works; its trials are then ranked by that number alone.
"""

from __future__ import annotations

import argparse
from typing import Any

import keras
import keras_tuner as kt
import numpy as np
from sklearn.datasets import load_digits

import search


class DigitsModel(kt.HyperModel):
    """A small CNN on 8x8 digits, trained by its own loop."""

    def build(self, hp: kt.HyperParameters) -> keras.Model:
        model = keras.Sequential([
            keras.Input((8, 8, 1)),
            keras.layers.Rescaling(1 / 16),
            keras.layers.Conv2D(hp.Choice("filters", [8, 16, 32]), 3, activation="relu"),
            keras.layers.Flatten(),
            keras.layers.Dense(10, activation="softmax"),
        ])  # fmt: skip
        model.compile(
            optimizer=keras.optimizers.Adam(hp.Float("learning_rate", 1e-3, 3e-2, sampling="log")),
            loss="sparse_categorical_crossentropy",
            metrics=["accuracy"],
        )
        return model

    def fit(
        self,
        hp: kt.HyperParameters,
        model: keras.Model,
        x: np.ndarray,
        y: np.ndarray,
        validation_data: tuple[np.ndarray, np.ndarray] | None = None,
        epochs: int = 1,
        callbacks: list[keras.callbacks.Callback] | None = None,
        **kwargs: Any,
    ) -> keras.callbacks.History:
        batch_size = hp.Choice("batch_size", [16, 32, 64])
        history = keras.callbacks.History()
        calls = keras.callbacks.CallbackList([*(callbacks or []), history], model=model)
        calls.on_train_begin()
        rng = np.random.default_rng(0)
        for epoch in range(kwargs.get("initial_epoch", 0), epochs):
            calls.on_epoch_begin(epoch)
            order = rng.permutation(len(x))
            for start in range(0, len(x) - batch_size + 1, batch_size):
                rows = order[start : start + batch_size]
                model.train_on_batch(x[rows], y[rows])
            logs = model.evaluate(x, y, return_dict=True, verbose=0)
            if validation_data is not None:  # a final retrain on every image has none
                val = model.evaluate(*validation_data, return_dict=True, verbose=0)
                logs.update({f"val_{name}": value for name, value in val.items()})
            calls.on_epoch_end(epoch, logs)
            if model.stop_training:  # a pruner or EarlyStopping asked to stop
                break
        calls.on_train_end()
        return history


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="a tiny budget (for tests)")
    parser.add_argument("--results", default="results")
    args = parser.parse_args()
    x, y = load_digits(return_X_y=True)
    x = x.reshape(-1, 8, 8, 1).astype("float32")
    run = search.run(
        DigitsModel(), x[300:], y[300:], test_data=(x[:300], y[:300]), tuner="optuna",
        max_trials=2 if args.smoke else 12, max_epochs=2 if args.smoke else 8,
        retrain_max_epochs=2 if args.smoke else 20, results=args.results,
    )  # fmt: skip
    print("chosen:", run.best_hyperparameters)
    print("test:", run.test_metrics)
    print(run.trials[["trial", "status", "rank", "converged_val_accuracy", "gap_accuracy"]])


if __name__ == "__main__":
    main()
