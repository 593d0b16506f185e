"""The loop's device memory budget is one named default, shared by training and evaluation."""

from __future__ import annotations

import inspect

from hypermodels._loop import DEVICE_DATA_BYTES, LoopConfig, evaluate_arrays


def test_training_and_evaluation_keep_the_same_images_on_the_device() -> None:
    limit = inspect.signature(evaluate_arrays).parameters["limit"].default
    assert LoopConfig().device_data_bytes == limit == DEVICE_DATA_BYTES == 2 * 2**30
