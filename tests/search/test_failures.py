"""Why a trial failed, in one line: an out-of-memory reason keeps a bounded part of the
library's message, then the hint."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest

from search.environment import FIXES, EnvironmentFailure, output_failure, raise_naming
from search.errors import render
from search.failures import OOM_REASON_WIDTH, exception_line, failure_reason, innermost_cause


def test_an_out_of_memory_reason_keeps_a_bounded_part_of_the_message() -> None:
    message = "tensorflow.errors.ResourceExhaustedError: OOM when allocating " + "x" * 1000
    reason = failure_reason(message)
    assert reason is not None and reason.startswith("out of memory (ResourceExhaustedError: OOM")
    detail = reason[len("out of memory (") : reason.index("); hint:")]
    assert len(detail) == OOM_REASON_WIDTH
    assert reason.endswith("); hint: a smaller batch_size or model")


KERAS_CALL_ERROR = (
    "Exception encountered when calling Sequential.call().\n\n\x1b[1mInput 0 with name 'None' of"
    " layer 'dense' is incompatible with the layer: expected axis -1 of input shape to have value 8,"
    " but received input with shape (None, 5)\x1b[0m\n\nArguments received by Sequential.call():\n"
    "  • inputs=tf.Tensor(shape=(None, 5), dtype=float32)\n  • training=False\n  • mask=None"
)
"""Keras 3's message for a layer called on inputs it does not take, as it is."""


def test_a_keras_call_error_is_told_by_its_reason_not_its_header() -> None:
    line = exception_line(ValueError(KERAS_CALL_ERROR))
    assert line == (
        "Input 0 with name 'None' of layer 'dense' is incompatible with the layer: expected axis -1"
        " of input shape to have value 8, but received input with shape (None, 5)"
    )


def test_a_trial_failed_by_a_keras_call_error_is_told_by_its_reason_not_its_arguments() -> None:
    """A hyperparameter value that makes a layer refuse its inputs: KerasTuner keeps the
    traceback, whose last line is the last argument Keras lists, not why."""
    message = (
        'Traceback (most recent call last):\n  File "keras/src/layers/input_spec.py", line 239\n'
        "    raise ValueError(\nValueError: " + KERAS_CALL_ERROR + "\n  • kwargs=<class 'inspect._empty'>\n"
    )
    assert failure_reason(message) == (
        "ValueError: Input 0 with name 'None' of layer 'dense' is incompatible with the layer:"
        " expected axis -1 of input shape to have value 8, but received input with shape (None, 5)"
    )


def test_a_key_error_is_told_by_its_key_not_its_escaped_repr() -> None:
    """A subclassed model's call reading a key its dict of inputs lacks: Keras wraps the
    KeyError, whose str is the repr of its whole message, newlines and styles escaped."""
    wrapped = KeyError(
        "Exception encountered when calling Sub.call().\n\n\x1b[1mb\x1b[0m\n\nArguments received by"
        " Sub.call():\n  • inputs={'a': 'tf.Tensor(shape=(None, 2), dtype=float32)'}"
    )
    assert exception_line(wrapped) == "KeyError: b"
    assert exception_line(KeyError("b")) == "KeyError: b"
    assert exception_line(KeyError(3)) == "3"


def test_the_innermost_cause_of_a_chain_that_loops_is_found() -> None:
    """``raise exc from exc`` makes an exception its own cause: the walk must end."""
    first, second = ValueError("first"), ValueError("second")
    first.__cause__, second.__cause__ = second, first
    assert innermost_cause(first) is second
    alone = ValueError("alone")
    alone.__cause__ = alone
    assert innermost_cause(alone) is alone


def test_an_error_naming_its_file_already_is_raised_as_it_is(tmp_path: Path) -> None:
    target = tmp_path / "model.keras"
    full = OSError(errno.ENOSPC, "No space left on device", str(target))
    with pytest.raises(OSError) as caught:
        raise_naming(full, target)
    assert caught.value is full and full.__cause__ is None
    with pytest.raises(OSError) as caught:
        raise_naming(OSError(errno.ENOSPC, "No space left on device"), target)  # a write names none
    assert caught.value.filename == str(target) and caught.value.errno == errno.ENOSPC
    assert caught.value.__cause__ is not None


@pytest.mark.parametrize("number", sorted(FIXES))
def test_a_failure_at_output_is_said_one_way(number: int, tmp_path: Path) -> None:
    """Export and report said a file-size limit two ways; no --output given: the run folder's
    own file, as a run's disk is named."""
    output = tmp_path / "out" / "model.keras"
    caught = OSError(number, "failed", str(tmp_path / "out" / "tmp1" / "model.keras"))
    given = output_failure(caught, output, "the model", True, "nothing was written")
    assert given is not None and not isinstance(given, EnvironmentFailure)
    said = render(given.template, lambda name: f"--{name}")
    reason = FIXES[number].partition(";")[0]
    assert said.startswith(f"--output {output}: the model could not be written there ({reason}); ")
    assert said.endswith("; nothing was written")
    own = output_failure(caught, output, "the model", False)
    assert isinstance(own, EnvironmentFailure) and str(own) == f"{output}: {FIXES[number]}"
    assert output_failure(ValueError("no"), output, "the model", True) is None
