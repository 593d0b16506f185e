"""Our default search against two hand-written KerasTuner searches of Fashion-MNIST.

Run: ``python bench/vs_keras_tuner.py [--data-dir /usr/share/datasets/fashion-mnist]
[--peers ours,tutorial,same-space] [--seeds 0,1,2] [--ours-args "--retrain-schedule cosine"]
[--smoke]``. One after the other on the same machine, for each seed (of the splits, the
searches and the models' weights):

- ``ours``: ``python -m search run fashion --tuner hyperband`` with its defaults, or with
  the options ``--ours-args`` adds (to measure a candidate default against the peers);
- ``tutorial``: the script of TensorFlow's tutorial ("Introduction to the Keras Tuner":
  Flatten-Dense(units)-Dense(10), learning rate in {1e-2, 1e-3, 1e-4}, Hyperband
  max_epochs=10, factor=3, early stopping, then a 50-epoch fit to find the best epoch and a
  retrain for that many epochs, test accuracy);
- ``same-space``: this project's fashion space (spaces/fashion.toml, the CNN of
  hypermodels/cnn.py) written as a KerasTuner user would: ``kt.Hyperband`` over a
  ``build(hp)`` with the same ranges and defaults, ``model.fit`` with Keras' augmentation
  layers inside the model, early stopping; our default budget (the same train and
  validation images, Hyperband max_epochs=6, factor=3; no baseline trial: KerasTuner has
  none); then our validated retrain as Keras' own callbacks write it (the images outside
  the validation split, the learning rate cut when validation accuracy stalls, the best
  epoch kept; ``EarlyStopping``'s fixed patience of 3, not our retrain's shrinking one) and
  the test accuracy.

Prints a table of wall time and test accuracy of each, with their ratios to ours, for each
seed; with several seeds, then each peer's medians and spreads (min to max) over them: one
run's test accuracy moves by a few thousandths with the seed, as much as the peers differ.
``--smoke`` runs every peer at tiny sizes (300 training images, 1-2 epochs) for the tests:
its figures mean nothing.
"""

from __future__ import annotations

import argparse
import functools
import importlib.util
import json
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _args import counts, names

PEERS = ("ours", "tutorial", "same-space")


@dataclass(frozen=True)
class Budget:
    """The sizes a comparison runs at: our default, or tiny ones for the tests."""

    train_size: int | None  # the search's training images (None: all; the tutorial's)
    val_size: int
    max_epochs: int  # Hyperband's (ours and same-space)
    tutorial_max_epochs: int
    tutorial_fit_epochs: int
    retrain_max_epochs: int
    smoke: bool = False


DEFAULT = Budget(train_size=10000, val_size=10000, max_epochs=6, tutorial_max_epochs=10,
                 tutorial_fit_epochs=50, retrain_max_epochs=20)  # fmt: skip
SMOKE = Budget(train_size=300, val_size=200, max_epochs=2, tutorial_max_epochs=2,
               tutorial_fit_epochs=2, retrain_max_epochs=1, smoke=True)  # fmt: skip
SAME_SPACE_PATIENCE = 3
"""Epochs without a lower validation loss before a search trial stops (the tutorial's
callback, with a patience that can act within 6 epochs)."""


def tutorial(data_dir: Path | None, workdir: Path, budget: Budget, seed: int) -> tuple[float, float]:
    """The tutorial's code, as written there (data from our loader: the same IDX files;
    its epoch counts from ``budget``, the tutorial's own by default)."""
    import keras
    import keras_tuner as kt

    from search.data import CLASS_NAMES, load_fashion

    started = time.perf_counter()
    keras.utils.set_random_seed(seed)  # the tutorial seeds nothing: its weights, for repeatability
    # The tutorial trains on every image (x_full): the smallest validation split load_fashion takes.
    splits = load_fashion(data_dir, val_size=len(CLASS_NAMES), train_size=None, seed=0)
    img_train = splits.x_full.reshape(-1, 28, 28).astype("float32") / 255.0
    label_train = splits.y_full
    if budget.smoke:
        img_train, label_train = img_train[: budget.train_size], label_train[: budget.train_size]
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

    tuner = kt.Hyperband(model_builder, objective="val_accuracy",
                         max_epochs=budget.tutorial_max_epochs, factor=3,
                         directory=str(workdir), project_name="intro_to_kt")  # fmt: skip
    stop_early = keras.callbacks.EarlyStopping(monitor="val_loss", patience=5)
    tuner.search(img_train, label_train, epochs=budget.tutorial_fit_epochs, validation_split=0.2,
                 callbacks=[stop_early], verbose=0)  # fmt: skip
    best_hps = tuner.get_best_hyperparameters(num_trials=1)[0]
    model = tuner.hypermodel.build(best_hps)
    history = model.fit(img_train, label_train, epochs=budget.tutorial_fit_epochs,
                        validation_split=0.2, verbose=0)  # fmt: skip
    val_acc_per_epoch = history.history["val_accuracy"]
    best_epoch = val_acc_per_epoch.index(max(val_acc_per_epoch)) + 1
    hypermodel = tuner.hypermodel.build(best_hps)
    hypermodel.fit(img_train, label_train, epochs=best_epoch, validation_split=0.2, verbose=0)
    _, test_acc = hypermodel.evaluate(img_test, label_test, verbose=0)
    return time.perf_counter() - started, float(test_acc)


def _augmentation(hp: Any, x: Any) -> Any:
    """Keras' augmentation layers for the space's transforms (active when ``augment``)."""
    import keras

    with hp.conditional_scope("augment", [True]):
        flip = hp.Boolean("flip", default=True)
        shift = hp.Float("shift", 0.0, 0.15, step=0.05, default=0.1)
        zoom = hp.Float("zoom", 0.0, 0.15, step=0.05, default=0.05)
        rotation = hp.Float("rotation", 0.0, 15.0, step=5.0, default=0.0)
    if flip:
        x = keras.layers.RandomFlip("horizontal")(x)
    if shift > 0:
        x = keras.layers.RandomTranslation(shift, shift, fill_mode="constant")(x)
    if zoom > 0:
        x = keras.layers.RandomZoom((-zoom, zoom), fill_mode="constant")(x)
    if rotation > 0:
        x = keras.layers.RandomRotation(rotation / 360.0, fill_mode="constant")(x)
    return x


def build_same_space(hp: Any, mean: float, std: float) -> Any:
    """spaces/fashion.toml's ranges and defaults, the CNN of hypermodels/cnn.py."""
    import keras

    learning_rate = hp.Float("learning_rate", 1e-4, 1e-1, sampling="log", default=1e-3)
    dense_units = hp.Int("dense_units", 32, 512, step=32, default=128)
    dropout = hp.Float("dropout", 0.0, 0.8, step=0.1, default=0.3)
    augment = hp.Boolean("augment", default=False)
    preprocessing = hp.Choice("preprocessing", ["scale", "standardize"], default="scale")
    filters = hp.Choice("filters", [16, 32], default=32)
    conv_blocks = hp.Int("conv_blocks", 2, 3, default=2)
    batch_norm = hp.Boolean("batch_norm", default=True)
    inputs = keras.Input((28, 28, 1))
    x = _augmentation(hp, inputs) if augment else inputs
    if preprocessing == "standardize":
        x = keras.layers.Rescaling(1.0 / std, -mean / std)(x)
    else:
        x = keras.layers.Rescaling(1.0 / 255.0)(x)
    for block in range(conv_blocks):
        x = keras.layers.Conv2D(filters * 2**block, 3, padding="same", use_bias=not batch_norm)(x)
        if batch_norm:
            x = keras.layers.BatchNormalization(momentum=0.9)(x)
        x = keras.layers.ReLU()(x)
        x = keras.layers.MaxPooling2D(2)(x)
    x = keras.layers.Flatten()(x)
    x = keras.layers.Dense(dense_units, activation="relu")(x)
    x = keras.layers.Dropout(dropout)(x)
    outputs = keras.layers.Dense(10, activation="softmax")(x)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])  # fmt: skip
    return model


def same_space_hypermodel(mean: float, std: float) -> Any:
    """A ``kt.HyperModel`` whose ``fit`` tunes the batch size, as KerasTuner's guide shows."""
    import keras_tuner as kt

    class SameSpace(kt.HyperModel):
        def build(self, hp: Any) -> Any:
            return build_same_space(hp, mean, std)

        def fit(self, hp: Any, model: Any, x: Any, y: Any, validation_data: Any = None,
                epochs: int = 1, initial_epoch: int = 0, callbacks: Any = None,
                verbose: int = 0) -> Any:  # fmt: skip
            batch_size = hp.Choice("batch_size", [32, 64, 128], default=64)
            return model.fit(x, y, batch_size=batch_size, validation_data=validation_data,
                             epochs=epochs, initial_epoch=initial_epoch, callbacks=callbacks,
                             verbose=verbose)  # fmt: skip

    return SameSpace()


def same_space(data_dir: Path | None, workdir: Path, budget: Budget, seed: int) -> tuple[float, float]:
    """Our space and budget searched by a hand-written ``kt.Hyperband``, then our
    validated retrain and the test accuracy."""
    import keras
    import keras_tuner as kt

    from search.data import load_fashion
    from search.engine._retrain import (
        MIN_LEARNING_RATE,
        VALIDATED_FACTOR,
        VALIDATED_PATIENCE,
        retrain_data,
    )
    from search.engine._retrain import VALIDATED_MIN_DELTA as MIN_DELTA

    started = time.perf_counter()
    keras.utils.set_random_seed(seed)
    splits = load_fashion(data_dir, val_size=budget.val_size, train_size=budget.train_size, seed=seed)
    x_train, y_train = splits.x_train.astype("float32"), splits.y_train
    validation = (splits.x_val.astype("float32"), splits.y_val)
    hypermodel = same_space_hypermodel(float(x_train.mean()), float(x_train.std()))
    tuner = kt.Hyperband(hypermodel, objective="val_accuracy", max_epochs=budget.max_epochs,
                         factor=3, seed=seed, directory=str(workdir), project_name="same_space")  # fmt: skip
    stop_early = keras.callbacks.EarlyStopping(monitor="val_loss", patience=SAME_SPACE_PATIENCE)
    tuner.search(x_train, y_train, validation_data=validation, callbacks=[stop_early], verbose=0)
    best_hps = tuner.get_best_hyperparameters(num_trials=1)[0]
    searched = time.perf_counter() - started
    print(f"same-space: {len(tuner.oracle.trials)} trials; {best_hps.values}", flush=True)
    # The validated retrain: every image outside the validation split (the search's own
    # in the smoke), the learning rate cut when validation accuracy stalls, the best kept.
    x_all, y_all = (x_train, y_train) if budget.smoke else retrain_data(splits, "validated")[:2]
    model = hypermodel.build(best_hps)
    callbacks = [
        keras.callbacks.ReduceLROnPlateau("val_accuracy", factor=VALIDATED_FACTOR, patience=1,
                                          mode="max", min_delta=MIN_DELTA,
                                          min_lr=MIN_LEARNING_RATE),
        keras.callbacks.EarlyStopping("val_accuracy", patience=VALIDATED_PATIENCE, mode="max",
                                      min_delta=MIN_DELTA, restore_best_weights=True),
    ]  # fmt: skip
    hypermodel.fit(best_hps, model, x_all.astype("float32"), y_all, validation_data=validation,
                   epochs=budget.retrain_max_epochs, callbacks=callbacks, verbose=0)  # fmt: skip
    _, test_acc = model.evaluate(splits.x_test.astype("float32"), splits.y_test, verbose=0)
    seconds = time.perf_counter() - started
    print(f"same-space: data and search {searched:.1f} s, retrain and test"
          f" {seconds - searched:.1f} s", flush=True)  # fmt: skip
    return seconds, float(test_acc)


def ours(data_dir: Path | None, results: Path, budget: Budget, seed: int,
         options: tuple[str, ...] = ()) -> tuple[float, float]:  # fmt: skip
    command = [sys.executable, "-m", "search", "run", "fashion", "--tuner", "hyperband",
               "--results", str(results), "--name", "bench", "--seed", str(seed), "--quiet",
               *options]  # fmt: skip
    if budget.smoke:  # the defaults otherwise; a tiny retrain on the search's images
        command += ["--train-size", str(budget.train_size), "--val-size", str(budget.val_size),
                    "--max-epochs", str(budget.max_epochs), "--retrain-data", "search"]  # fmt: skip
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
    retrain = float(meta["final"]["seconds"])
    print(f"ours: data and search {seconds - retrain:.1f} s, retrain and test {retrain:.1f} s"
          f" ({meta['final']['epochs']} epochs, {meta['final'].get('schedule')} schedule)",
          flush=True)  # fmt: skip
    return seconds, float(meta["final"]["test_accuracy"])


def table(figures: dict[str, tuple[float, float]]) -> list[str]:
    """Wall time and test accuracy per peer; with ours, each one's time ratio to ours and
    accuracy difference from ours."""
    lines = [f"{'peer':<12}{'wall s':>9}{'test acc':>10}{'time/ours':>11}{'acc-ours':>10}"]
    base = figures.get("ours")
    for peer, (seconds, accuracy) in figures.items():
        ratio = f"{seconds / base[0]:.2f}x" if base else "-"
        delta = f"{accuracy - base[1]:+.4f}" if base else "-"
        lines.append(f"{peer:<12}{seconds:>9.1f}{accuracy:>10.4f}{ratio:>11}{delta:>10}")
    return lines


def summary(runs: dict[int, dict[str, tuple[float, float]]]) -> list[str]:
    """Each peer's median wall time, test accuracy and (with ours) median time ratio and
    accuracy difference over the seeds, each with its min to max."""
    lines = [f"{'peer':<12}{'wall s':>9}{'test acc':>10}{'time/ours':>11}{'acc-ours':>10}"
             f"  spread over {len(runs)} seeds (min..max)"]  # fmt: skip
    for peer in next(iter(runs.values())):
        seconds = [figures[peer][0] for figures in runs.values()]
        accuracy = [figures[peer][1] for figures in runs.values()]
        line = f"{peer:<12}{statistics.median(seconds):>9.1f}{statistics.median(accuracy):>10.4f}"
        spread = f"acc {min(accuracy):.4f}..{max(accuracy):.4f}"
        if all("ours" in figures for figures in runs.values()):
            ratios = [f[peer][0] / f["ours"][0] for f in runs.values()]
            deltas = [f[peer][1] - f["ours"][1] for f in runs.values()]
            line += f"{statistics.median(ratios):>10.2f}x{statistics.median(deltas):>+10.4f}"
            spread += (f", time/ours {min(ratios):.2f}..{max(ratios):.2f}x,"
                       f" acc-ours {min(deltas):+.4f}..{max(deltas):+.4f}")  # fmt: skip
        lines.append(f"{line}  {spread}")
    return lines


peers = names(PEERS, "peer")
"""``--peers``: a comma-separated subset of PEERS."""
PEER_RUNS = {"ours": ours, "tutorial": tutorial, "same-space": same_space}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path)
    parser.add_argument("--peers", type=peers, default=PEERS, help=f"default: {','.join(PEERS)}")
    parser.add_argument("--seeds", type=counts, default=(0,), help="default: 0")
    parser.add_argument("--ours-args", type=shlex.split, default=[],
                        help="options added to our command, e.g. \"--retrain-schedule cosine\"")  # fmt: skip
    parser.add_argument("--smoke", action="store_true", help="tiny sizes (for the tests)")
    args = parser.parse_args(argv)
    if importlib.util.find_spec("search") is None:  # the KerasTuner peers import our loader
        print("the project is not installed: run `python3 -m pip install -e .` first", file=sys.stderr)
        return 2
    import _quiet  # noqa: F401  (before the peers load Keras: TensorFlow's start-up lines stay out)

    budget = SMOKE if args.smoke else DEFAULT
    runners = {**PEER_RUNS, "ours": functools.partial(ours, options=tuple(args.ours_args))}
    runs: dict[int, dict[str, tuple[float, float]]] = {}
    for seed in args.seeds:
        figures = runs.setdefault(seed, {})
        with tempfile.TemporaryDirectory() as tmp:
            for peer in args.peers:
                figures[peer] = runners[peer](args.data_dir, Path(tmp) / peer, budget, seed)
                seconds, accuracy = figures[peer]
                print(f"{peer}: seed {seed}: {seconds:.1f} s, test accuracy {accuracy:.4f}", flush=True)
        heading = [f"seed {seed}:"] if len(args.seeds) > 1 else []
        print(*heading, *table(figures), sep="\n")
    if len(args.seeds) > 1:
        print("medians:", *summary(runs), sep="\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
