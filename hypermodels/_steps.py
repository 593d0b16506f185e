"""Compiled train and eval steps, one implementation per Keras backend.

Both return per-batch sums (loss, correct predictions) as device values, so the loop can
accumulate them without a host round-trip per step; the loop reads them once per epoch.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras
from keras import ops

Augment = Callable[[Any, Any], Any]


def _per_sample_loss(y: Any, probs: Any) -> Any:
    return keras.losses.sparse_categorical_crossentropy(y, probs)


def _correct(y: Any, probs: Any) -> Any:
    hits = ops.equal(ops.argmax(probs, axis=-1), ops.cast(y, "int32"))
    return ops.cast(hits, "float32")


class Steps:
    """The interface of a backend's steps."""

    def train(self, x: Any, y: Any, seed: Any) -> tuple[Any, Any]:
        raise NotImplementedError

    def evaluate(self, x: Any, y: Any, weight: Any) -> tuple[Any, Any]:
        raise NotImplementedError

    def sync(self) -> None:
        """Write the step's state back into the model's variables (before callbacks run)."""


class TensorFlowSteps(Steps):
    """``tf.function`` steps that update the model's variables in place."""

    def __init__(self, model: keras.Model, augment: Augment) -> None:
        import tensorflow as tf

        optimizer = model.optimizer

        @tf.function(reduce_retracing=True)
        def train(x, y, seed):
            x = augment(ops.cast(x, "float32"), seed)
            with tf.GradientTape() as tape:
                probs = model(x, training=True)
                per_sample = _per_sample_loss(y, probs)
                loss = ops.mean(per_sample)
                if model.losses:
                    loss = loss + ops.sum(model.losses)
            grads = tape.gradient(loss, model.trainable_variables)
            optimizer.apply_gradients(zip(grads, model.trainable_variables))
            return ops.sum(per_sample), ops.sum(_correct(y, probs))

        @tf.function(reduce_retracing=True)
        def evaluate(x, y, weight):
            probs = model(ops.cast(x, "float32"), training=False)
            loss = _per_sample_loss(y, probs) * weight
            return ops.sum(loss), ops.sum(_correct(y, probs) * weight)

        self._train, self._evaluate = train, evaluate

    def train(self, x: Any, y: Any, seed: Any) -> tuple[Any, Any]:
        return self._train(x, y, seed)

    def evaluate(self, x: Any, y: Any, weight: Any) -> tuple[Any, Any]:
        return self._evaluate(x, y, weight)


class JaxSteps(Steps):
    """``jax.jit`` stateless steps; the state lives in arrays until :meth:`sync`."""

    def __init__(self, model: keras.Model, augment: Augment) -> None:
        import jax

        optimizer = model.optimizer
        if not optimizer.built:
            optimizer.build(model.trainable_variables)

        def loss_fn(trainable, non_trainable, x, y):
            probs, non_trainable = model.stateless_call(trainable, non_trainable, x, training=True)
            per_sample = _per_sample_loss(y, probs)
            return ops.mean(per_sample), (probs, per_sample, non_trainable)

        grad_fn = jax.value_and_grad(loss_fn, has_aux=True)

        def train(state, x, y, seed):
            trainable, non_trainable, opt_vars = state
            x = augment(ops.cast(x, "float32"), seed)
            (_, (probs, per_sample, non_trainable)), grads = grad_fn(
                trainable, non_trainable, x, y
            )
            trainable, opt_vars = optimizer.stateless_apply(opt_vars, grads, trainable)
            sums = ops.sum(per_sample), ops.sum(_correct(y, probs))
            return (trainable, non_trainable, opt_vars), sums

        def evaluate(state, x, y, weight):
            trainable, non_trainable, _ = state
            probs, _ = model.stateless_call(
                trainable, non_trainable, ops.cast(x, "float32"), training=False
            )
            loss = _per_sample_loss(y, probs) * weight
            return ops.sum(loss), ops.sum(_correct(y, probs) * weight)

        self._model = model
        # No buffer donation: after sync() the model's variables share these arrays.
        self._train = jax.jit(train)
        self._evaluate = jax.jit(evaluate)
        self._state = (
            [v.value for v in model.trainable_variables],
            [v.value for v in model.non_trainable_variables],
            [v.value for v in optimizer.variables],
        )

    def train(self, x: Any, y: Any, seed: Any) -> tuple[Any, Any]:
        self._state, sums = self._train(self._state, x, y, seed)
        return sums

    def evaluate(self, x: Any, y: Any, weight: Any) -> tuple[Any, Any]:
        return self._evaluate(self._state, x, y, weight)

    def sync(self) -> None:
        trainable, non_trainable, opt_vars = self._state
        model = self._model
        for var, value in zip(model.trainable_variables, trainable):
            var.assign(value)
        for var, value in zip(model.non_trainable_variables, non_trainable):
            var.assign(value)
        for var, value in zip(model.optimizer.variables, opt_vars):
            var.assign(value)


def make_steps(model: keras.Model, augment: Augment) -> Steps:
    """The compiled steps for the active Keras backend."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        return TensorFlowSteps(model, augment)
    if backend == "jax":
        return JaxSteps(model, augment)
    raise RuntimeError(
        f"the training loop supports the tensorflow and jax backends, not {backend!r};"
        " set KERAS_BACKEND=tensorflow or KERAS_BACKEND=jax"
    )
