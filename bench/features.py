"""Trial time with the frozen base's features cached, against running the base every step.

Run: ``python bench/features.py [--base xception] [--size 150] [--images 600] [--epochs 3]
[--data-dir ../shared/data/clothing-dataset-small]``. Both trials train the same head
(no augmentation, frozen base) on the same clothing images; random base weights (speed
does not depend on them; ImageNet weights need internet). The cached trial's time includes
computing the features once; a later trial on the same images reuses them, which is
measured too.
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import _quiet  # noqa: F401  (first: TensorFlow's start-up lines stay out)
import keras_tuner as kt

from hypermodels import LoopConfig, TransferModel, fit_loop
from search.data import SkippedImagesWarning, load_clothing
from search.space import Fixed, Space


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--base", default="xception")
    parser.add_argument("--size", type=int, default=150)
    parser.add_argument("--images", type=int, default=600)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--data-dir", type=Path, default=Path("../shared/data/clothing-dataset-small"))
    args = parser.parse_args()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SkippedImagesWarning)
        splits = load_clothing(args.data_dir, args.size, train_size=args.images, val_size=200)
    space = Space((Fixed("base", args.base), Fixed("batch_size", 32)))
    hypermodel = TransferModel(space, args.size, len(splits.class_names), weights=None)
    hp = kt.HyperParameters()
    data = (splits.x_train, splits.y_train, (splits.x_val, splits.y_val))

    started = time.perf_counter()
    hypermodel.fit(hp, hypermodel.build(hp), *data, epochs=args.epochs)
    cached_first = time.perf_counter() - started
    started = time.perf_counter()
    hypermodel.fit(hp, hypermodel.build(hp), *data, epochs=args.epochs)
    cached_next = time.perf_counter() - started

    model = hypermodel.build(hp)
    config = LoopConfig(batch_size=32, eval_batch_size=64)
    started = time.perf_counter()
    fit_loop(model, *data[:2], data[2], epochs=args.epochs, config=config)
    full = time.perf_counter() - started
    print(f"{args.base} at {args.size}x{args.size}, {args.images} train + 200 validation images,"
          f" {args.epochs} epochs per trial:")  # fmt: skip
    print(f"  base run every step:        {full:7.1f} s per trial")
    print(f"  cached features, 1st trial: {cached_first:7.1f} s ({full / cached_first:.1f}x faster)")
    print(f"  cached features, next ones: {cached_next:7.1f} s ({full / cached_next:.0f}x faster)")


if __name__ == "__main__":
    main()
