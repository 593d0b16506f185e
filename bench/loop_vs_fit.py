"""Images/s of the custom loop against ``model.fit`` on the same model and data.

Run: ``python bench/loop_vs_fit.py [--images N] [--filters F] [--batch-size B] [--repeats R]
[--precision float32|mixed] [--json FILE]`` (set KERAS_BACKEND=jax for JAX). Prints one line
per case (without and with augmentation) and the loop/fit ratio, measured in this one run:
the best of R epochs of each side, each side in one fit whose first epoch (tracing) is not
timed.
``--precision mixed`` builds both sides under Keras' ``mixed_bfloat16`` policy (what
``python -m search run --precision mixed`` trains with). ``--json`` also writes the figures
to a file, after each case.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import _quiet  # noqa: F401  (first: TensorFlow's start-up lines stay out)
import keras
import keras_tuner as kt
import numpy as np

from hypermodels import ImageCNN, ImageStats
from search.space import Fixed, Space

POLICIES = {"float32": "float32", "mixed": "mixed_bfloat16"}
"""``--precision``'s values and Keras' dtype policies, as ``python -m search run`` names them."""


def _model(config: dict, policy: str) -> tuple[ImageCNN, kt.HyperParameters, keras.Model]:
    space = Space(tuple(Fixed(k, v) for k, v in config.items()))
    stats = ImageStats(mean=72.9, std=90.0)
    hypermodel = ImageCNN(space, (28, 28, 1), 10, stats, seed=0, dtype_policy=policy)
    hp = kt.HyperParameters()
    return hypermodel, hp, hypermodel.build(hp)


def _fit_model(config: dict, policy: str) -> keras.Model:
    """The same network for model.fit, with Keras' augmentation layers when asked."""
    _, _, model = _model(config, policy)
    if not config.get("augment"):
        return model
    augment = keras.Sequential(
        [keras.layers.RandomFlip("horizontal"), keras.layers.RandomTranslation(0.1, 0.1)]
    )
    inputs = keras.Input((28, 28, 1))
    outputs = model(augment(inputs))
    wrapped = keras.Model(inputs, outputs)
    wrapped.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy")
    return wrapped


class _EpochSeconds(keras.callbacks.Callback):
    """Each epoch's seconds, as a fit's callbacks see them."""

    def __init__(self) -> None:
        super().__init__()
        self.seconds: list[float] = []
        self._start = 0.0

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self.seconds.append(time.perf_counter() - self._start)


def measure(
    x: np.ndarray, y: np.ndarray, config: dict, repeats: int, policy: str = "float32"
) -> tuple[float, float]:
    """Images/s of the custom loop and of ``model.fit`` under Keras' dtype ``policy``: the
    best of ``repeats`` epochs of each, in one fit of 1 + ``repeats`` epochs per side, the
    first (tracing) not timed."""
    hypermodel, hp, model = _model(config, policy)
    loop = _EpochSeconds()
    hypermodel.fit(hp, model, x, y, None, epochs=1 + repeats, callbacks=[loop])
    fit_model = _fit_model(config, policy)
    fit = _EpochSeconds()
    fit_model.fit(x.astype("float32"), y, batch_size=config["batch_size"], epochs=1 + repeats,
                  verbose=0, callbacks=[fit])  # fmt: skip
    return len(x) / min(loop.seconds[1:]), len(x) / min(fit.seconds[1:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--images", type=int, default=8192)
    parser.add_argument("--filters", type=int, default=32)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=3, help="timed epochs of each side")
    parser.add_argument("--precision", choices=tuple(POLICIES), default="float32",
                        help="the dtype policy of both sides (mixed: bfloat16 compute)")  # fmt: skip
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    policy = POLICIES[args.precision]
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (args.images, 28, 28, 1), dtype=np.uint8)
    y = rng.integers(0, 10, args.images).astype("uint8")
    print(f"backend {keras.backend.backend()}, {args.images} images, filters {args.filters},"
          f" batch {args.batch_size}, policy {policy}")
    figures: dict[str, object] = {"backend": keras.backend.backend(), "images": args.images,
                                  "filters": args.filters, "batch_size": args.batch_size,
                                  "policy": policy}  # fmt: skip
    for augment in (False, True):
        config = {"filters": args.filters, "conv_blocks": 2, "batch_size": args.batch_size,
                  "augment": augment, "flip": True, "shift": 0.1}  # fmt: skip
        loop, fit = measure(x, y, config, args.repeats, policy)
        key = "augment" if augment else "plain"
        figures[key] = {"loop_images_per_s": round(loop), "fit_images_per_s": round(fit),
                        "ratio": round(loop / fit, 2)}  # fmt: skip
        label = "with augmentation" if augment else "no augmentation  "
        print(f"{label}: loop {loop:8.0f} img/s, model.fit {fit:8.0f} img/s, ratio {loop / fit:.2f}x",
              flush=True)  # fmt: skip
        if args.json is not None:  # after each case: a case out of time keeps the ones before
            args.json.write_text(json.dumps(figures, indent=1) + "\n")


if __name__ == "__main__":
    main()
