"""Compiled train and eval steps, one implementation per Keras backend.

The images live on the device (:meth:`Steps.put`, once per fit); each step takes its batch
from them by an index row, and threads a *carry* of device scalars (loss sum, correct
predictions, the first step whose loss was not finite, the step and row counters) from one
step to the next. So a step needs nothing from the host and returns nothing to it: the
loop reads the carry once per epoch.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path
from typing import Any

import keras
import numpy as np
from keras import ops

from search.cache import cache_dir
from search.compat import tensorflow as compat_tf

Augment = Callable[[Any, Any], Any]
TrainCarry = tuple[Any, Any, Any, Any, Any]
"""(loss sum, correct predictions, first non-finite step or -1, step, row of the order)."""
EvalCarry = tuple[Any, Any, Any]
"""(weighted loss sum, weighted correct predictions, batch)."""
JaxState = tuple[list[Any], list[Any], list[Any]]
"""(trainable, non-trainable, optimizer variables): the arrays a JAX step takes and returns."""


def _per_sample_loss(y: Any, probs: Any) -> Any:
    return keras.losses.sparse_categorical_crossentropy(y, probs)


def _correct(y: Any, probs: Any) -> Any:
    hits = ops.equal(ops.argmax(probs, axis=-1), ops.cast(y, "int32"))
    return ops.cast(hits, "float32")


def _train_batch(xs: Any, ys: Any, order: Any, seed_base: Any, carry: TrainCarry) -> tuple:
    """The step's images (as float), labels and seed: row ``carry[4]`` of ``order`` indexes
    ``xs``; the seed is (seed, first step of the epoch + step), as the host would make it."""
    step, row = carry[3], carry[4]
    idx = ops.take(order, row, axis=0)
    x = ops.cast(ops.take(xs, idx, axis=0), "float32")
    y = ops.take(ys, idx, axis=0)
    seed = ops.stack([seed_base[0], seed_base[1] + step])
    return x, y, seed


def _advance(carry: TrainCarry, per_sample: Any, hits: Any) -> TrainCarry:
    loss_sum, correct, first_bad, step, row = carry
    batch_loss = ops.sum(per_sample)
    bad = ops.logical_and(first_bad < 0, ops.logical_not(ops.isfinite(batch_loss)))
    return (
        loss_sum + batch_loss,
        correct + ops.sum(hits),
        ops.where(bad, step, first_bad),
        step + 1,
        row + 1,
    )


def _eval_batch(xs: Any, ys: Any, ws: Any, carry: EvalCarry) -> tuple[Any, Any, Any]:
    batch = carry[2]
    return (
        ops.cast(ops.take(xs, batch, axis=0), "float32"),
        ops.take(ys, batch, axis=0),
        ops.take(ws, batch, axis=0),
    )


def _eval_advance(carry: EvalCarry, loss: Any, hits: Any) -> EvalCarry:
    return carry[0] + ops.sum(loss), carry[1] + ops.sum(hits), carry[2] + 1


class Steps:
    """The interface of a backend's steps."""

    def put(self, array: np.ndarray | np.generic) -> Any:
        """``array`` on the device, where the steps read it."""
        return ops.convert_to_tensor(array)

    def train_carry(self) -> TrainCarry:
        """A fresh carry for an epoch."""
        return tuple(self.put(np.asarray(v, dtype=d)) for v, d in (
            (0.0, "float32"), (0.0, "float32"), (-1, "int32"), (0, "int32"), (0, "int32"),
        ))  # fmt: skip

    def eval_carry(self) -> EvalCarry:
        return tuple(self.put(np.asarray(v, dtype=d)) for v, d in (
            (0.0, "float32"), (0.0, "float32"), (0, "int32"),
        ))  # fmt: skip

    def train(self, xs: Any, ys: Any, order: Any, seed_base: Any, carry: TrainCarry) -> TrainCarry:
        """One step on the images ``xs[order[row]]``; the next carry."""
        raise NotImplementedError

    def evaluate(self, xs: Any, ys: Any, ws: Any, carry: EvalCarry) -> EvalCarry:
        """Weighted loss and hits of batch ``carry[2]`` of ``xs`` (batches, size, ...)."""
        raise NotImplementedError

    def sync(self) -> None:
        """Write the step's state back into the model's variables (before callbacks run)."""

    def reload(self) -> None:
        """Read the state from the model's variables again (after callbacks ran): what a
        callback assigned (a learning rate, restored weights) is what the next step uses."""

    def close(self) -> None:
        """Let go of what the steps hold beyond their own lifetime (after the fit)."""


class TensorFlowSteps(Steps):
    """``tf.function`` steps that update the model's variables in place."""

    def __init__(self, model: keras.Model, augment: Augment) -> None:
        import tensorflow as tf

        optimizer = model.optimizer

        @tf.function(reduce_retracing=True)
        def train(xs, ys, order, seed_base, carry):
            x, y, seed = _train_batch(xs, ys, order, seed_base, carry)
            x = augment(x, seed)
            with tf.GradientTape() as tape:
                probs = model(x, training=True)
                per_sample = _per_sample_loss(y, probs)
                loss = ops.mean(per_sample)
                if model.losses:
                    loss = loss + ops.sum(model.losses)
                # Under mixed_float16 the optimizer is a LossScaleOptimizer: it scales the
                # loss here and unscales (and checks) the gradients when it applies them.
                loss = optimizer.scale_loss(loss)
            grads = tape.gradient(loss, model.trainable_variables)
            optimizer.apply_gradients(zip(grads, model.trainable_variables))
            return _advance(carry, per_sample, _correct(y, probs))

        @tf.function(reduce_retracing=True)
        def evaluate(xs, ys, ws, carry):
            x, y, w = _eval_batch(xs, ys, ws, carry)
            probs = model(x, training=False)
            return _eval_advance(carry, _per_sample_loss(y, probs) * w, _correct(y, probs) * w)

        self._train, self._evaluate = train, evaluate
        self._gradients_before = _custom_gradients()

    def train(self, xs: Any, ys: Any, order: Any, seed_base: Any, carry: TrainCarry) -> TrainCarry:
        return self._train(xs, ys, order, seed_base, carry)

    def evaluate(self, xs: Any, ys: Any, ws: Any, carry: EvalCarry) -> EvalCarry:
        return self._evaluate(xs, ys, ws, carry)

    def close(self) -> None:
        """Unregister the custom gradients that tracing these steps registered.

        Keras' optimizer all-reduces gradients through a ``tf.custom_gradient`` op; each
        trace of it registers a gradient function in TensorFlow's global registry, which
        is never emptied and holds the whole traced graph, so every trial's train step
        stayed in memory until the process ended (``model.fit`` leaks the same way).
        Only tracing differentiates through these ops, and the steps trace no more.
        """
        registry = compat_tf.gradient_registry()
        if registry is None or self._gradients_before is None:
            return
        for name in _custom_gradients() - self._gradients_before:  # type: ignore[operator]
            registry.pop(name, None)
        self._gradients_before = None


def _custom_gradients() -> set[str] | None:
    """The names ``tf.custom_gradient`` registered so far (None if the registry moved)."""
    registry = compat_tf.gradient_registry()
    if registry is None:
        return None
    return {name for name in registry if name.startswith("CustomGradient-")}


COMPILE_CACHE_BYTES = 2 * 2**30
"""The JAX compilation cache's size; the least recently used entries go beyond it."""


def use_compilation_cache() -> Path | None:
    """Keep JAX's compiled programs on disk (``search.cache.cache_dir("jax")``), unless JAX
    was given a cache folder already (``JAX_COMPILATION_CACHE_DIR``); the folder in use.

    KerasTuner builds a new model for every trial, so every trial traces its steps again;
    a trial whose architecture, dropout, augmentation and batch size another trial (or
    process: workers, ``--isolate``, a resume) already had gets XLA's compiled program from
    here instead of compiling it (the learning rate is optimizer state, not a constant).
    Measured on the 2-core CPU: 7.5 s -> 1.4 s for a 4-step trial of the fashion CNN.
    """
    import jax

    given = jax.config.jax_compilation_cache_dir  # type: ignore[attr-defined]  # a flag, set at run time
    if given:
        return Path(given)
    folder = cache_dir("jax")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:  # a read-only home: compile every time, as without the cache
        return None
    from jax.experimental.compilation_cache import compilation_cache

    jax.config.update("jax_compilation_cache_dir", str(folder))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    if importlib.util.find_spec("filelock") is not None:  # JAX needs it for a size limit
        jax.config.update("jax_compilation_cache_max_size", COMPILE_CACHE_BYTES)
    # JAX decides once per process whether to use a cache, at its first compilation (Keras
    # has compiled small programs by now): ask it to decide again.
    compilation_cache.reset_cache()
    return folder


class JaxSteps(Steps):
    """``jax.jit`` stateless steps; the state lives in arrays until :meth:`sync`."""

    def __init__(self, model: keras.Model, augment: Augment) -> None:
        import jax

        use_compilation_cache()
        optimizer = model.optimizer
        if not optimizer.built:
            optimizer.build(model.trainable_variables)

        def loss_fn(trainable, non_trainable, opt_vars, x, y):
            probs, non_trainable = model.stateless_call(trainable, non_trainable, x, training=True)
            per_sample = _per_sample_loss(y, probs)
            loss = ops.mean(per_sample)
            # A LossScaleOptimizer (mixed_float16) scales by its current scale, a variable.
            mapping = list(zip(optimizer.variables, opt_vars))
            with keras.StatelessScope(state_mapping=mapping):
                loss = optimizer.scale_loss(loss)
            return loss, (probs, per_sample, non_trainable)

        grad_fn = jax.value_and_grad(loss_fn, has_aux=True)

        def train(state, xs, ys, order, seed_base, carry):
            trainable, non_trainable, opt_vars = state
            x, y, seed = _train_batch(xs, ys, order, seed_base, carry)
            x = augment(x, seed)
            (_, (probs, per_sample, non_trainable)), grads = grad_fn(
                trainable, non_trainable, opt_vars, x, y
            )
            trainable, opt_vars = optimizer.stateless_apply(opt_vars, grads, trainable)
            return (trainable, non_trainable, opt_vars), _advance(
                carry, per_sample, _correct(y, probs)
            )

        def evaluate(state, xs, ys, ws, carry):
            trainable, non_trainable, _ = state
            x, y, w = _eval_batch(xs, ys, ws, carry)
            probs, _ = model.stateless_call(trainable, non_trainable, x, training=False)
            return _eval_advance(carry, _per_sample_loss(y, probs) * w, _correct(y, probs) * w)

        self._model = model
        self._jax = jax
        self._state: JaxState
        # No buffer donation: after sync() the model's variables share these arrays.
        self._train = jax.jit(train)
        self._evaluate = jax.jit(evaluate)
        self.reload()

    def put(self, array: np.ndarray | np.generic) -> Any:
        return self._jax.device_put(array)

    def train(self, xs: Any, ys: Any, order: Any, seed_base: Any, carry: TrainCarry) -> TrainCarry:
        self._state, carry = self._train(self._state, xs, ys, order, seed_base, carry)
        return carry

    def evaluate(self, xs: Any, ys: Any, ws: Any, carry: EvalCarry) -> EvalCarry:
        return self._evaluate(self._state, xs, ys, ws, carry)

    def sync(self) -> None:
        trainable, non_trainable, opt_vars = self._state
        model = self._model
        for var, value in zip(model.trainable_variables, trainable):
            var.assign(value)
        for var, value in zip(model.non_trainable_variables, non_trainable):
            var.assign(value)
        for var, value in zip(model.optimizer.variables, opt_vars):
            var.assign(value)

    def reload(self) -> None:
        model = self._model
        self._state = (
            [v.value for v in model.trainable_variables],
            [v.value for v in model.non_trainable_variables],
            [v.value for v in model.optimizer.variables],
        )


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
