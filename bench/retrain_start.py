"""Where a retrain of a user's arrays should start: new weights, or the search's checkpoint.

Run: ``python bench/retrain_start.py [--datasets digits,cancer,diabetes,fashion]
[--seeds 0,1,2] [--tuner hyperband] [--max-epochs 12] [--smoke]``. A search on a user's
arrays trains every trial on the same rows its validated retrain trains on (unlike the
built-in experiments, whose search trains on a subset), so the chosen trial's best
checkpoint has already trained on the retrain's rows. For each dataset and seed, the same
``search.run`` twice, one after the other, differing only in ``retrain_from``
(``scratch``: new weights; ``checkpoint``: the chosen trial's best epoch in the search,
which the default ``auto`` chooses for arrays since this bench measured it), then one
line each: the chosen trial, the retrain's epochs and kept epoch, its validation score,
its test score and its training seconds. The table after it sums the epochs and counts
the test scores that were better with ``checkpoint``.

The datasets, each split once (seeded) into rows to search on and test rows:

- ``digits``: scikit-learn's 8x8 digits (1,797 rows, 10 classes), ranked by val_accuracy;
- ``cancer``: scikit-learn's breast cancer (569 rows, 2 classes), val_accuracy;
- ``diabetes``: scikit-learn's diabetes progression (442 rows, a value), ranked by
  val_mean_absolute_error (minimized);
- ``fashion``: 12,000 Fashion-MNIST images as rows of 784 pixels (a dense network), val_accuracy.

The test scores are for this measurement only: nothing is chosen by them. ``--smoke``
runs ``digits`` with 2 trials of at most 2 epochs, for the tests: its figures mean nothing.
"""

from __future__ import annotations

import argparse
import math
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import _quiet  # noqa: F401  (first: TensorFlow's start-up lines stay out)
import keras
import keras_tuner as kt
import numpy as np
from _args import counts, names
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits

import search
from search.data import CLASS_NAMES
from search.experiments import DataOptions, get

STARTS = ("scratch", "checkpoint")
DATASETS = ("digits", "cancer", "diabetes", "fashion")
TEST_SHARE = 0.2
"""The share of each dataset's rows held out as test rows."""
FASHION_ROWS = 12_000
SMOKE = {"max_trials": 2, "max_epochs": 2, "retrain_max_epochs": 2}
MAE = kt.Objective("val_mean_absolute_error", "min")
Build = Callable[[kt.HyperParameters], keras.Model]


@dataclass(frozen=True)
class Data:
    """One dataset's rows: to search on (x, y) and to test on; its objective; its model."""

    name: str
    x: np.ndarray
    y: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    objective: kt.Objective
    build: Build


def dense_build(x: np.ndarray, outputs: int) -> Build:
    """A ``build(hp)`` of dense layers on ``x``'s rows, standardized by ``x``'s statistics;
    ``outputs`` classes (softmax), or one value when ``outputs`` is 1."""
    mean, variance = x.mean(axis=0), x.var(axis=0) + 1e-6

    def build(hp: kt.HyperParameters) -> keras.Model:
        model = keras.Sequential([keras.Input((x.shape[1],)),
                                  keras.layers.Normalization(mean=mean, variance=variance)])  # fmt: skip
        for _ in range(hp.Int("layers", 1, 3)):
            model.add(keras.layers.Dense(hp.Int("units", 32, 256, step=32), activation="relu"))
            model.add(keras.layers.Dropout(hp.Float("dropout", 0.0, 0.5, step=0.1)))
        rate = keras.optimizers.Adam(hp.Float("learning_rate", 1e-4, 1e-2, sampling="log"))
        if outputs == 1:
            model.add(keras.layers.Dense(1))
            model.compile(optimizer=rate, loss="mean_squared_error", metrics=["mean_absolute_error"])
        else:
            model.add(keras.layers.Dense(outputs, activation="softmax"))
            model.compile(optimizer=rate, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        return model

    return build


def _rows(name: str, data_dir: Path | None) -> tuple[np.ndarray, np.ndarray]:
    if name == "fashion":
        # FASHION_ROWS of nearly all 60,000: the smallest validation split, one image of each class.
        options = DataOptions(data_dir=data_dir, train_size=FASHION_ROWS, val_size=len(CLASS_NAMES))
        splits = get("fashion").load(options)
        return splits.x_train.reshape(len(splits.x_train), -1), splits.y_train
    loader = {"digits": load_digits, "cancer": load_breast_cancer, "diabetes": load_diabetes}[name]
    return loader(return_X_y=True)


def dataset(name: str, data_dir: Path | None) -> Data:
    """``name``'s rows, split (seed 0) into rows to search on and test rows."""
    x, y = _rows(name, data_dir)
    x = x.astype("float32")
    regression = name == "diabetes"
    y = y.astype("float32") if regression else y.astype("int64")
    order = np.random.default_rng(0).permutation(len(x))
    test, rest = order[: round(len(x) * TEST_SHARE)], order[round(len(x) * TEST_SHARE) :]
    outputs = 1 if regression else int(y.max()) + 1
    objective = MAE if regression else kt.Objective("val_accuracy", "max")
    return Data(name, x[rest], y[rest], x[test], y[test], objective, dense_build(x[rest], outputs))


@dataclass(frozen=True)
class Outcome:
    """One run's retrain: what it chose and how its retrain went."""

    trial: str
    epochs: int
    kept: int
    val: float
    test: float
    seconds: float


def test_score(final: dict, objective: kt.Objective) -> float:
    """The final model's test value of the objective's metric (val_ taken off)."""
    metrics = final.get("test_metrics") or {}
    return float(metrics.get(objective.name.removeprefix("val_"), math.nan))


def one_run(data: Data, seed: int, start: str, args: argparse.Namespace, root: Path) -> Outcome:
    """``search.run`` on ``data`` with the retrain starting from ``start``."""
    sizes = SMOKE if args.smoke else {"max_epochs": args.max_epochs}
    run = search.run(
        data.build, data.x, data.y, test_data=(data.x_test, data.y_test), tuner=args.tuner,
        objective=data.objective, seed=seed, retrain_from=start, results=root,
        name=f"{data.name}-{seed}-{start}", experiment=data.name, quiet=True, **sizes,
    )  # fmt: skip
    final = run.meta["final"]
    return Outcome(str(final["trial"]), int(final["epochs"] or 0), int(final.get("kept_epoch") or 0),
                   float(final.get("val_score", math.nan)), test_score(final, data.objective),
                   float(final.get("train_seconds", math.nan)))  # fmt: skip


def better(data: Data, checkpoint: float, scratch: float) -> float:
    """How much better ``checkpoint``'s test score is than ``scratch``'s (> 0: better)."""
    return checkpoint - scratch if data.objective.direction == "max" else scratch - checkpoint


def measure(data: Data, seed: int, args: argparse.Namespace, root: Path) -> dict[str, Outcome]:
    """Both starts on one dataset and seed, each printed as it ends."""
    out = {}
    for start in STARTS:
        before = time.perf_counter()
        outcome = out[start] = one_run(data, seed, start, args, root)
        print(f"{data.name:<9} seed {seed}  {start:<10} trial {outcome.trial}  epochs {outcome.epochs:>3}"
              f" (kept {outcome.kept:>3})  val {outcome.val:.4f}  test {outcome.test:.4f}"
              f"  retrain {outcome.seconds:.1f} s  (run {time.perf_counter() - before:.0f} s)",
              flush=True)  # fmt: skip
    return out


def table(results: list[tuple[Data, int, dict[str, Outcome]]]) -> list[str]:
    """Per dataset: the epochs of each start, and checkpoint's test gains over scratch."""
    lines = [f"{'dataset':<10}{'epochs scratch':>15}{'epochs checkpoint':>18}"
             f"{'same trial':>11}{'test better':>12}{'mean test gain':>16}"]  # fmt: skip
    for name in dict.fromkeys(data.name for data, _, _ in results):
        rows = [(data, pair) for data, _, pair in results if data.name == name]
        gains = [better(data, pair["checkpoint"].test, pair["scratch"].test) for data, pair in rows]
        same = sum(pair["scratch"].trial == pair["checkpoint"].trial for _, pair in rows)
        lines.append(
            f"{name:<10}{sum(p['scratch'].epochs for _, p in rows):>15}"
            f"{sum(p['checkpoint'].epochs for _, p in rows):>18}{f'{same} of {len(rows)}':>11}"
            f"{f'{sum(g > 0 for g in gains)} of {len(rows)}':>12}{float(np.mean(gains)):>+16.4f}"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=names(DATASETS, "dataset"), default=DATASETS)
    parser.add_argument("--seeds", type=counts, default=(0, 1, 2))
    parser.add_argument("--tuner", choices=("hyperband", "random", "bayesian", "optuna"), default="hyperband")
    parser.add_argument("--max-epochs", type=int, default=12, help="the search's longest trial")
    parser.add_argument("--data-dir", type=Path, default=None, help="Fashion-MNIST's IDX files")
    parser.add_argument("--smoke", action="store_true", help="digits, tiny sizes, for the tests")
    args = parser.parse_args(argv)
    if args.max_epochs < 1:
        parser.error(f"--max-epochs {args.max_epochs}: give at least 1")
    chosen = ("digits",) if args.smoke else args.datasets
    seeds = args.seeds[:1] if args.smoke else args.seeds
    results = []
    with tempfile.TemporaryDirectory() as root:
        for name in chosen:
            data = dataset(name, args.data_dir)
            results += [(data, seed, measure(data, seed, args, Path(root))) for seed in seeds]
    print("\n".join(table(results)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
