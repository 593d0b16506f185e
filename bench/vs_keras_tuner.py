"""Our default search against the hand-written KerasTuner search of TensorFlow's tutorial.

Run: ``python bench/vs_keras_tuner.py [--data-dir /usr/share/datasets/fashion-mnist]``.
One after the other on the same machine: (1) ``python -m search run fashion --tuner
hyperband`` with its defaults; (2) the tutorial's script ("Introduction to the Keras
Tuner": Flatten-Dense(units)-Dense(10), learning rate in {1e-2, 1e-3, 1e-4}, Hyperband
max_epochs=10, factor=3, early stopping, then a 50-epoch fit to find the best epoch and a
retrain for that many epochs, test accuracy). Prints wall time and test accuracy of each
and their ratios.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def tutorial(data_dir: Path | None, workdir: Path) -> tuple[float, float]:
    """The tutorial's code, as written there (data from our loader: the same IDX files)."""
    import keras
    import keras_tuner as kt

    from search.data import load_fashion

    started = time.perf_counter()
    splits = load_fashion(data_dir, val_size=1, train_size=None, seed=0)
    img_train = splits.x_full.reshape(-1, 28, 28).astype("float32") / 255.0
    label_train = splits.y_full
    img_test = splits.x_test.reshape(-1, 28, 28).astype("float32") / 255.0
    label_test = splits.y_test

    def model_builder(hp):
        model = keras.Sequential()
        model.add(keras.layers.Flatten(input_shape=(28, 28)))
        hp_units = hp.Int("units", min_value=32, max_value=512, step=32)
        model.add(keras.layers.Dense(units=hp_units, activation="relu"))
        model.add(keras.layers.Dense(10))
        hp_learning_rate = hp.Choice("learning_rate", values=[1e-2, 1e-3, 1e-4])
        model.compile(
            optimizer=keras.optimizers.Adam(learning_rate=hp_learning_rate),
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            metrics=["accuracy"],
        )
        return model

    tuner = kt.Hyperband(model_builder, objective="val_accuracy", max_epochs=10, factor=3,
                         directory=str(workdir), project_name="intro_to_kt")  # fmt: skip
    stop_early = keras.callbacks.EarlyStopping(monitor="val_loss", patience=5)
    tuner.search(img_train, label_train, epochs=50, validation_split=0.2,
                 callbacks=[stop_early], verbose=0)  # fmt: skip
    best_hps = tuner.get_best_hyperparameters(num_trials=1)[0]
    model = tuner.hypermodel.build(best_hps)
    history = model.fit(img_train, label_train, epochs=50, validation_split=0.2, verbose=0)
    val_acc_per_epoch = history.history["val_accuracy"]
    best_epoch = val_acc_per_epoch.index(max(val_acc_per_epoch)) + 1
    hypermodel = tuner.hypermodel.build(best_hps)
    hypermodel.fit(img_train, label_train, epochs=best_epoch, validation_split=0.2, verbose=0)
    _, test_acc = hypermodel.evaluate(img_test, label_test, verbose=0)
    return time.perf_counter() - started, float(test_acc)


def ours(data_dir: Path | None, results: Path) -> tuple[float, float]:
    command = [sys.executable, "-m", "search", "run", "fashion", "--tuner", "hyperband",
               "--results", str(results), "--name", "bench", "--quiet"]  # fmt: skip
    if data_dir is not None:
        command += ["--data-dir", str(data_dir)]
    started = time.perf_counter()
    subprocess.run(command, check=True)
    seconds = time.perf_counter() - started
    folder = results / "fashion" / "bench"
    meta = json.loads((folder / "run.json").read_text())
    trials = json.loads((folder / "trials.json").read_text())["trials"]
    chosen = next(t for t in trials if t["id"] == meta["final"]["trial"])
    kind = "the baseline (the space's defaults)" if chosen.get("baseline") else "a sampled one"
    print(f"ours: {meta['best']['rule']}; {kind}; {len(trials)} trials;"
          f" {chosen['hyperparameters']}", flush=True)  # fmt: skip
    return seconds, float(meta["final"]["test_accuracy"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path)
    parser.add_argument("--skip-tutorial", action="store_true", help="only our search")
    args = parser.parse_args()
    if importlib.util.find_spec("search") is None:  # the tutorial half imports our loader
        sys.exit("the project is not installed: run `python3 -m pip install -e .` first")
    with tempfile.TemporaryDirectory() as tmp:
        our_time, our_acc = ours(args.data_dir, Path(tmp) / "results")
        print(f"python -m search run fashion --tuner hyperband: {our_time:7.1f} s,"
              f" test accuracy {our_acc:.4f}", flush=True)  # fmt: skip
        if args.skip_tutorial:
            return
        kt_time, kt_acc = tutorial(args.data_dir, Path(tmp) / "kt")
    print(f"hand-written KerasTuner (tutorial):            {kt_time:7.1f} s, test accuracy {kt_acc:.4f}")
    print(f"ratio (ours / tutorial): time {our_time / kt_time:.2f}x, accuracy {our_acc - kt_acc:+.4f}")


if __name__ == "__main__":
    main()
