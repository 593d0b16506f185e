"""Stateless random numbers keyed by a seed tensor, usable inside compiled steps.

``keras.random`` only takes Python ints or a ``SeedGenerator`` (a variable); a step that is
resumable and reproducible needs its randomness to be a pure function of (seed, step),
passed in as a tensor. Each backend has a native way to do this.
"""

from __future__ import annotations

from typing import Any

import keras


def uniform(shape: tuple[int, ...], seed: Any, low: float = 0.0, high: float = 1.0) -> Any:
    """Uniform floats in ``[low, high)`` from an int32 seed tensor of shape (2,)."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        return tf.random.stateless_uniform(shape, seed=seed, minval=low, maxval=high)
    if backend == "jax":
        import jax

        key = jax.random.fold_in(jax.random.PRNGKey(seed[0]), seed[1])
        return jax.random.uniform(key, shape, minval=low, maxval=high)
    raise RuntimeError(
        f"the training loop supports the tensorflow and jax backends, not {backend!r};"
        " set KERAS_BACKEND=tensorflow or KERAS_BACKEND=jax"
    )
