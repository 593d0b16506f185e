"""The custom loop honours model.fit's contract; runs on the active Keras backend."""

from __future__ import annotations

import re

import keras
import keras_tuner as kt
import numpy as np
import pytest
from keras import ops
from keras_tuner.src.engine.tuner_utils import TunerCallback

from hypermodels import (
    Augmentation,
    ImageCNN,
    ImageStats,
    LoopConfig,
    NonFiniteLossError,
    evaluate_model,
    fit_loop,
)
from hypermodels._loop import reads_model_per_batch
from search.space import Fixed, Space
from tests.helpers.images import tiny_data, tiny_model


class Recorder(keras.callbacks.Callback):
    def __init__(self) -> None:
        super().__init__()
        self.events: list[tuple[str, int | None]] = []
        self.logs: list[dict[str, float]] = []

    def on_train_begin(self, logs=None):
        self.events.append(("train_begin", None))

    def on_train_end(self, logs=None):
        self.events.append(("train_end", None))

    def on_epoch_begin(self, epoch, logs=None):
        self.events.append(("epoch_begin", epoch))

    def on_epoch_end(self, epoch, logs=None):
        self.events.append(("epoch_end", epoch))
        self.logs.append(dict(logs))

    def on_train_batch_end(self, batch, logs=None):
        self.events.append(("batch_end", batch))


def test_epochs_initial_epoch_and_callbacks(seed: int) -> None:
    hypermodel, hp, model = tiny_model()
    x, y = tiny_data()
    xv, yv = tiny_data(40, seed=1)
    recorder = Recorder()
    history = hypermodel.fit(hp, model, x, y, (xv, yv), epochs=3, initial_epoch=1,
                             callbacks=[recorder])  # fmt: skip
    epochs = [e for kind, e in recorder.events if kind == "epoch_begin"]
    assert epochs == [1, 2]
    assert recorder.events[0] == ("train_begin", None) and recorder.events[-1] == ("train_end", None)
    batches = [e for kind, e in recorder.events if kind == "batch_end"]
    assert batches == [0, 1, 2, 0, 1, 2]  # 96 images, batch 32
    assert history.epoch == [1, 2]
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert len(history.history["loss"]) == 2
    assert recorder.logs[-1]["val_accuracy"] == history.history["val_accuracy"][-1]
    # The logged validation metrics are those of the model the callbacks see.
    val_loss, val_acc = evaluate_model(model, xv, yv)
    assert val_acc == pytest.approx(history.history["val_accuracy"][-1], abs=1e-6)
    assert val_loss == pytest.approx(history.history["val_loss"][-1], rel=1e-4)


def test_training_learns(seed: int) -> None:
    hypermodel, hp, model = tiny_model()
    x, y = tiny_data()
    history = hypermodel.fit(hp, model, x, y, (x, y), epochs=6)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert history.history["val_accuracy"][-1] > 0.5


def test_a_seed_past_int32_trains(seed: int) -> None:
    """--seed 2147483648 (the run's seeds go to 2**32 - 1) failed every trial: 'Python
    integer 2147483648 out of bounds for int32', the step's augmentation seed."""
    _, _, model = tiny_model()
    x, y = tiny_data()
    config = LoopConfig(batch_size=16, seed=2**32 - 1, augmentation=Augmentation(flip=True))
    history = fit_loop(model, x, y, None, epochs=1, config=config)
    assert np.isfinite(history.history["loss"][0])


def test_stop_training_is_honoured(seed: int) -> None:
    class StopAfterFirst(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            self.model.stop_training = True

    hypermodel, hp, model = tiny_model()
    x, y = tiny_data()
    history = hypermodel.fit(hp, model, x, y, None, epochs=5, callbacks=[StopAfterFirst()])
    assert history.epoch == [0]
    assert set(history.history) == {"loss", "accuracy"}


def test_what_callbacks_assign_is_what_the_next_epoch_trains_from(seed: int) -> None:
    """ReduceLROnPlateau-like learning rates and restored weights reach the compiled steps
    (JAX's steps keep their own copy of the state between epochs)."""

    class Freeze(keras.callbacks.Callback):
        def __init__(self, weights: list[np.ndarray]) -> None:
            super().__init__()
            self.weights = weights

        def on_epoch_end(self, epoch, logs=None):
            for variable, value in zip(self.model.trainable_variables, self.weights):
                variable.assign(value)
            self.model.optimizer.learning_rate = 0.0

    hypermodel, hp, model = tiny_model()
    x, y = tiny_data()
    start = [np.array(v) for v in model.trainable_variables]
    history = hypermodel.fit(hp, model, x, y, None, epochs=3, callbacks=[Freeze(start)])
    assert history.epoch == [0, 1, 2]
    assert float(ops.convert_to_numpy(model.optimizer.learning_rate)) == 0.0
    for variable, value in zip(model.trainable_variables, start):
        np.testing.assert_array_equal(np.array(variable), value)  # epochs 2-3 at rate 0


def test_a_rate_set_when_an_epoch_begins_is_the_one_it_trains_at(seed: int) -> None:
    """Keras' LearningRateScheduler sets the rate in ``on_epoch_begin``: a rate of 0 from the
    first epoch leaves the weights as they were (JAX's steps keep their own copy of the
    state, which must be read again after those callbacks too)."""
    hypermodel, hp, model = tiny_model()
    x, y = tiny_data()
    start = [np.array(v) for v in model.trainable_variables]
    rates = keras.callbacks.LearningRateScheduler(lambda epoch, rate: 0.0)
    hypermodel.fit(hp, model, x, y, None, epochs=2, callbacks=[rates])
    assert float(ops.convert_to_numpy(model.optimizer.learning_rate)) == 0.0
    for variable, value in zip(model.trainable_variables, start):
        np.testing.assert_array_equal(np.array(variable), value)


class WarmUp(keras.callbacks.Callback):
    """A per-batch schedule: rate 0 from the second step on; keeps the weights the first
    step left and the running logs of every step."""

    def __init__(self) -> None:
        super().__init__()
        self.after_first: list[np.ndarray] = []
        self.logs: list[dict[str, float]] = []

    def on_train_batch_begin(self, batch, logs=None):
        if batch == 1:
            self.model.optimizer.learning_rate = 0.0

    def on_train_batch_end(self, batch, logs=None):
        self.logs.append(dict(logs))
        if batch == 0:
            self.after_first = [np.array(v) for v in self.model.trainable_variables]


def test_per_batch_callbacks_see_the_steps_weights_and_set_the_next_steps_rate(seed: int) -> None:
    """As in ``model.fit`` (on JAX too, whose steps keep their own copy of the state): a
    callback's batch methods read the weights the step left, a rate they set is the next
    step's, and the end of a batch gets the epoch's running loss and accuracy."""
    hypermodel, hp, model = tiny_model()
    x, y = tiny_data()  # 96 images in batches of 32: 3 steps
    start = [np.array(v) for v in model.trainable_variables]
    warm = WarmUp()
    history = hypermodel.fit(hp, model, x, y, None, epochs=1, callbacks=[warm])
    assert any(not np.array_equal(a, b) for a, b in zip(start, warm.after_first))
    for variable, value in zip(model.trainable_variables, warm.after_first):
        np.testing.assert_array_equal(np.array(variable), value)  # steps 2-3 at rate 0
    assert [sorted(logs) for logs in warm.logs] == [["accuracy", "loss"]] * 3
    assert warm.logs[-1]["loss"] == pytest.approx(history.history["loss"][0], rel=1e-5)
    assert warm.logs[-1]["accuracy"] == pytest.approx(history.history["accuracy"][0])


def test_a_callback_that_stops_within_an_epoch_ends_it_after_that_batch(seed: int) -> None:
    """As in ``model.fit``: the epoch ends after the batch whose callback set
    ``stop_training`` (its logs are over the batches trained), and no other epoch begins."""

    class StopAfterTwo(WarmUp):
        def on_train_batch_end(self, batch, logs=None):
            super().on_train_batch_end(batch, logs)
            self.model.stop_training = batch == 1

    hypermodel, hp, model = tiny_model()
    x, y = tiny_data()  # 96 images in batches of 32: 3 steps an epoch
    stop = StopAfterTwo()
    history = hypermodel.fit(hp, model, x, y, (x, y), epochs=3, callbacks=[stop])
    assert history.epoch == [0] and len(stop.logs) == 2
    assert history.history["loss"][0] == pytest.approx(stop.logs[-1]["loss"], rel=1e-5)
    assert "val_accuracy" in history.history


def test_only_callbacks_that_may_touch_the_model_per_batch_are_synced() -> None:
    class Check(keras.callbacks.Callback):
        reads_model_per_batch = False

        def on_train_batch_end(self, batch, logs=None):
            pass

    assert reads_model_per_batch(WarmUp())
    assert not reads_model_per_batch(Check())
    assert not reads_model_per_batch(keras.callbacks.History())
    assert not reads_model_per_batch(keras.callbacks.EarlyStopping())
    assert not reads_model_per_batch(TunerCallback(None, None))  # KerasTuner's, in every trial


def test_weights_change_and_checkpoint_callbacks_see_them(seed: int, tmp_path) -> None:
    hypermodel, hp, model = tiny_model()
    x, y = tiny_data()
    before = [np.array(w) for w in model.get_weights()]
    path = tmp_path / "w.weights.h5"
    saver = keras.callbacks.ModelCheckpoint(path, save_weights_only=True)
    hypermodel.fit(hp, model, x, y, None, epochs=1, callbacks=[saver])
    after = model.get_weights()
    assert any(not np.allclose(a, b) for a, b in zip(before, after))
    _, _, fresh = tiny_model()
    fresh.load_weights(path)
    for a, b in zip(fresh.get_weights(), after):
        np.testing.assert_allclose(a, b)


def test_divergence_is_reported(seed: int) -> None:
    hypermodel, hp, model = tiny_model(learning_rate=1e12, batch_norm=False)
    x, y = tiny_data()
    with pytest.raises(NonFiniteLossError, match="loss became .* in epoch"):
        hypermodel.fit(hp, model, x, y, None, epochs=3)


def test_augmentation_is_seeded_and_flip_mirrors() -> None:
    x = np.random.default_rng(0).uniform(0, 255, (16, 28, 28, 1)).astype("float32")
    flip = Augmentation(flip=True)
    seed = np.array([1, 5], dtype="int32")
    out = ops.convert_to_numpy(flip(ops.convert_to_tensor(x), seed))
    same = [np.allclose(o, i, atol=1e-3) for o, i in zip(out, x)]
    mirrored = [np.allclose(o, i[:, ::-1], atol=1e-3) for o, i in zip(out, x)]
    assert all(s or m for s, m in zip(same, mirrored))
    assert any(same) and any(mirrored)
    again = ops.convert_to_numpy(flip(ops.convert_to_tensor(x), seed))
    np.testing.assert_array_equal(out, again)
    assert Augmentation()(x, seed) is x


def test_shift_moves_content() -> None:
    x = np.zeros((4, 28, 28, 1), "float32")
    x[:, 10:18, 10:18] = 255.0
    out = ops.convert_to_numpy(
        Augmentation(shift=0.2)(ops.convert_to_tensor(x), np.array([3, 0], "int32"))
    )
    assert out.shape == x.shape
    assert not np.allclose(out, x)
    assert out.sum() == pytest.approx(x.sum(), rel=0.05)  # moved, not destroyed


def test_loop_rejects_mismatched_data() -> None:
    _, _, model = tiny_model()
    x, y = tiny_data()
    with pytest.raises(ValueError, match="differ in length"):
        fit_loop(model, x, y[:10], None, epochs=1, config=LoopConfig())


def test_interrupted_training_continues_from_its_last_epoch(seed: int, tmp_path) -> None:
    """Stopped after epoch 2 of 4 and continued in a fresh model, training ends where an
    uninterrupted run ends: weights, optimizer state and randomness all carried over."""
    x, y = tiny_data()

    class StopAfterSecond(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                raise KeyboardInterrupt

    state = tmp_path / "epoch_state.npz"
    augmented = {"augment": True, "flip": True, "shift": 0.1}
    hypermodel, hp, model = tiny_model(**augmented)
    with pytest.raises(KeyboardInterrupt):
        hypermodel.fit(hp, model, x, y, (x, y), epochs=4, callbacks=[StopAfterSecond()],
                       state_path=state)  # fmt: skip
    assert state.is_file()

    hypermodel, hp, resumed = tiny_model(**augmented)
    recorder = Recorder()
    history = hypermodel.fit(hp, resumed, x, y, (x, y), epochs=4, callbacks=[recorder],
                             state_path=state)  # fmt: skip
    assert [e for kind, e in recorder.events if kind == "epoch_end"] == [0, 1, 2, 3]
    assert [e for kind, e in recorder.events if kind == "epoch_begin"] == [2, 3]  # trained
    assert history.epoch == [0, 1, 2, 3] and len(history.history["loss"]) == 4
    assert not state.exists()  # finished: nothing left to continue

    hypermodel, hp, straight = tiny_model(**augmented)
    reference = hypermodel.fit(hp, straight, x, y, (x, y), epochs=4)
    np.testing.assert_allclose(history.history["loss"], reference.history["loss"], rtol=1e-4)
    for a, b in zip(resumed.get_weights(), straight.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-5)


def test_unusable_state_is_ignored(seed: int, tmp_path) -> None:
    state = tmp_path / "epoch_state.npz"
    state.write_bytes(b"not a state file")
    hypermodel, hp, model = tiny_model()
    x, y = tiny_data()
    history = hypermodel.fit(hp, model, x, y, None, epochs=2, state_path=state)
    assert history.epoch == [0, 1]


def test_divergence_names_the_epoch_and_step(seed: int) -> None:
    _, _, model = tiny_model(learning_rate=1e12, batch_norm=False)
    x, y = tiny_data()
    with pytest.raises(NonFiniteLossError) as caught:
        fit_loop(model, x, y, None, epochs=3, config=LoopConfig(batch_size=16, seed=3))
    found = re.search(r"loss became (nan|inf|-inf) in epoch (\d) at step (\d) of 6;", str(caught.value))
    assert found, str(caught.value)
    assert 1 <= int(found[2]) <= 3 and 1 <= int(found[3]) <= 6


def test_data_in_parts_trains_as_data_on_the_device(seed: int) -> None:
    """Images too big for ``device_data_bytes`` go to the device a part at a time; the
    batches, their order and the seeds stay the same, so training does too."""
    x, y = tiny_data()
    xv, yv = tiny_data(40, seed=1)
    results = []
    for limit in (2**30, 2 * 32 * 785, 1):  # whole; parts of 2 batches (1 left over); 1 batch
        _, _, model = tiny_model(augment=True, rotation=10.0)
        config = LoopConfig(batch_size=32, eval_batch_size=16, seed=3, device_data_bytes=limit,
                            augmentation=Augmentation(flip=True, rotation=10.0))  # fmt: skip
        history = fit_loop(model, x, y, (xv, yv), epochs=2, config=config)
        results.append(history.history)
    for other in results[1:]:
        for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
            np.testing.assert_allclose(other[key], results[0][key], rtol=1e-4, atol=1e-6)


def test_float16_scales_the_loss(seed: int) -> None:
    """``--precision float16``: Keras wraps the optimizer in a LossScaleOptimizer at
    compile; the loop scales the loss, so training learns and the scale is used."""
    keras.mixed_precision.set_global_policy("float32")
    x, y = tiny_data()
    space = Space(tuple(Fixed(k, v) for k, v in {"filters": 8, "conv_blocks": 2,
                  "dense_units": 32, "batch_size": 32, "learning_rate": 1e-2}.items()))  # fmt: skip
    hypermodel = ImageCNN(space, (28, 28, 1), 10, ImageStats.of(x), seed=7,
                          dtype_policy="mixed_float16")  # fmt: skip
    hp = kt.HyperParameters()
    try:
        model = hypermodel.build(hp)
        assert isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer)
        assert model.get_layer("inner").compute_dtype == "float16"
        history = hypermodel.fit(hp, model, x, y, (x, y), epochs=4)
    finally:
        keras.mixed_precision.set_global_policy("float32")
    assert all(np.isfinite(history.history["loss"]))
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert history.history["val_accuracy"][-1] > 0.3
    assert int(ops.convert_to_numpy(model.optimizer.iterations)) == 4 * 3


def test_float16_step_updates_as_float32_does(seed: int) -> None:
    """One SGD step under mixed_float16 moves the weights as far as in float32: the loss
    is scaled before the gradient and unscaled after (Adam would hide a missing scale)."""
    from hypermodels._steps import make_steps

    x, y = tiny_data(32)
    moved = {}
    for policy in ("float32", "mixed_float16"):
        keras.mixed_precision.set_global_policy(policy)
        try:
            keras.utils.set_random_seed(3)
            model = keras.Sequential([
                keras.Input((28, 28, 1)), keras.layers.Rescaling(1 / 255), keras.layers.Flatten(),
                keras.layers.Dense(10, activation="softmax", dtype="float32", name="out"),
            ])  # fmt: skip
            model.compile(optimizer=keras.optimizers.SGD(0.5), loss="sparse_categorical_crossentropy")
            model.optimizer.build(model.trainable_variables)
            before = ops.convert_to_numpy(model.get_layer("out").kernel).copy()
            steps = make_steps(model, Augmentation())
            rows = steps.put(np.arange(32, dtype="int32")[None])
            seed_base = steps.put(np.zeros(2, dtype="int32"))
            steps.train(steps.put(x), steps.put(y), rows, seed_base, steps.train_carry())
            steps.sync()
            after = ops.convert_to_numpy(model.get_layer("out").kernel)
            moved[policy] = float(np.abs(after - before).sum())
        finally:
            keras.mixed_precision.set_global_policy("float32")
    assert moved["float32"] > 0
    assert moved["mixed_float16"] == pytest.approx(moved["float32"], rel=0.05)


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="TensorFlow's registry")
def test_a_finished_fit_leaves_no_traced_graph_behind(seed: int) -> None:
    import gc
    import weakref

    from tensorflow.python.framework import ops as tf_ops

    def custom_gradients() -> set[str]:
        return {k for k in tf_ops._gradient_registry._registry if k.startswith("CustomGradient")}

    before = custom_gradients()
    older = {id(o) for o in gc.get_objects() if type(o).__name__ == "FuncGraph"}  # other tests'
    hypermodel, hp, model = tiny_model()
    x, y = tiny_data()
    hypermodel.fit(hp, model, x, y, None, epochs=1)
    assert custom_gradients() == before
    graphs = [weakref.ref(o) for o in gc.get_objects()
              if type(o).__name__ == "FuncGraph" and id(o) not in older]  # fmt: skip
    del hypermodel, model
    gc.collect()
    assert [g for g in graphs if g() is not None and g().name == "train"] == []


@pytest.mark.parametrize("convs", [1, 2])
def test_convs_per_block_stacks_convolutions_before_each_pool(convs: int) -> None:
    hypermodel, hp, model = tiny_model(convs_per_block=convs, conv_blocks=2)
    kinds = [type(layer).__name__ for layer in model.layers]
    per_pool = [block.count("Conv2D") for block in "-".join(kinds).split("MaxPooling2D")[:-1]]
    assert per_pool == [convs, convs]
    widths = [layer.filters for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    assert widths == [8] * convs + [16] * convs  # the width doubles per block, not per conv
    x, y = tiny_data()
    history = hypermodel.fit(hp, model, x, y, (x, y), epochs=1)
    assert np.isfinite(history.history["loss"][0])


def test_convs_per_block_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="convs_per_block"):
        tiny_model(convs_per_block=0)
