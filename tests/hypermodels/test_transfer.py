"""The transfer-learning hypermodel: frozen base, cached features, fine-tuning, weights."""

from __future__ import annotations

from pathlib import Path

import keras
import keras_tuner as kt
import numpy as np
import pytest

from hypermodels import BASES, TransferModel
from search.space import Fixed, Space


def data(n: int = 48, size: int = 32) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    y = (np.arange(n) % 3).astype("uint8")
    x = rng.integers(0, 80, (n, size, size, 3)).astype("uint8")
    for label in range(3):
        x[y == label, :, :, label] = 220  # one colour per class
    return x, y


Built = tuple[TransferModel, kt.HyperParameters, keras.Model]


def model(values: dict[str, object] | None = None, weights: str | Path | None = None) -> Built:
    fixed = {"base": "mobilenet_v2", "batch_size": 16, "learning_rate": 1e-2, **(values or {})}
    space = Space(tuple(Fixed(k, v) for k, v in fixed.items()))
    hypermodel = TransferModel(space, 32, 3, weights=weights, seed=3)
    hp = kt.HyperParameters()
    return hypermodel, hp, hypermodel.build(hp)


def test_base_is_frozen_and_preprocessing_is_inside(seed: int) -> None:
    _, _, m = model()
    assert not m.get_layer("base").trainable
    assert {v.path.split("/")[0] for v in m.trainable_variables} == {"head"}
    assert m.get_layer("preprocess").get_config()["base"] == "mobilenet_v2"
    probs = m.predict(np.full((2, 32, 32, 3), 255, "uint8"), verbose=0)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)


def test_cached_features_train_the_head_as_the_full_model_would(seed: int) -> None:
    x, y = data()
    val = (x[:24].copy(), y[:24].copy())
    hypermodel, hp, cached = model()
    history = hypermodel.fit(hp, cached, x, y, val, epochs=3)
    assert len(hypermodel._features) == 2  # train and validation, computed once each
    hypermodel.fit(hp, hypermodel.build(hp), x, y, val, epochs=1)  # the next trial
    assert len(hypermodel._features) == 2  # reused: the same images, the same base

    from hypermodels import LoopConfig, fit_loop

    _, _, full = model()
    config = LoopConfig(batch_size=16, eval_batch_size=1024, seed=3)
    reference = fit_loop(full, x, y, val, epochs=3, config=config)
    for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
        np.testing.assert_allclose(history.history[key], reference.history[key], rtol=2e-3, atol=2e-3)
    for a, b in zip(cached.get_weights(), full.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-4)


# EfficientNet (swish, no ReLU6) still passes gradients with random weights; MobileNetV2's
# top is dead then and fine-tuning would change nothing to observe.
FINE_TUNE = {"base": "efficientnet_b0", "fine_tune_layers": 4, "fine_tune_after": 1,
             "fine_tune_learning_rate": 1e-3}  # fmt: skip


def test_fine_tuning_unfreezes_the_top_layers_after_the_head_epochs(seed: int) -> None:
    x, y = data()
    hypermodel, hp, m = model(FINE_TUNE)
    base = m.get_layer("base")
    before = {w.path: np.array(w) for w in base.weights}
    seen: list[int] = []

    class Watch(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            changed = [p for p, w in ((w.path, w) for w in base.weights) if not np.allclose(before[p], w)]
            seen.append(len(changed))

    hypermodel.fit(hp, m, x, y, (x, y), epochs=3, callbacks=[Watch()])
    assert seen[0] == 0 and seen[-1] > 0  # frozen in epoch 1, fine-tuned from epoch 2
    trainable = [layer.name for layer in base.layers if layer.trainable]
    assert trainable and all(not isinstance(base.get_layer(n), keras.layers.BatchNormalization)
                             for n in trainable)  # fmt: skip
    assert set(trainable) <= {layer.name for layer in base.layers[-4:]}
    assert float(keras.ops.convert_to_numpy(m.optimizer.learning_rate)) == pytest.approx(1e-3)


def test_fine_tuning_trial_interrupted_after_the_switch_continues_exactly(seed: int, tmp_path: Path) -> None:
    x, y = data()
    state = tmp_path / "epoch_state.npz"

    class StopAfterSecond(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                raise KeyboardInterrupt

    hypermodel, hp, m = model({**FINE_TUNE, "augment": True, "flip": True, "shift": 0.1})
    with pytest.raises(KeyboardInterrupt):
        hypermodel.fit(hp, m, x, y, (x, y), epochs=3, callbacks=[StopAfterSecond()], state_path=state)
    hypermodel, hp, resumed = model({**FINE_TUNE, "augment": True, "flip": True, "shift": 0.1})
    history = hypermodel.fit(hp, resumed, x, y, (x, y), epochs=3, state_path=state)
    hypermodel, hp, straight = model({**FINE_TUNE, "augment": True, "flip": True, "shift": 0.1})
    reference = hypermodel.fit(hp, straight, x, y, (x, y), epochs=3)
    np.testing.assert_allclose(history.history["loss"], reference.history["loss"], rtol=1e-3)
    for a, b in zip(resumed.get_weights(), straight.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-4)


def test_a_local_weights_file_is_loaded(seed: int, tmp_path: Path) -> None:
    source = BASES["mobilenet_v2"].create(32, None)
    path = tmp_path / "mobilenet_v2_notop.weights.h5"
    source.save_weights(path)
    _, _, m = model(weights=path)
    for a, b in zip(m.get_layer("base").get_weights(), source.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_image_size_below_the_base_minimum_is_refused() -> None:
    with pytest.raises(ValueError, match="xception needs images of at least 71 pixels, got 32"):
        BASES["xception"].create(32, None)
