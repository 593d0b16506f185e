"""Why a trial failed, in one line: an out-of-memory reason keeps a bounded part of the
library's message, then the hint."""

from __future__ import annotations

from search.failures import OOM_REASON_WIDTH, failure_reason


def test_an_out_of_memory_reason_keeps_a_bounded_part_of_the_message() -> None:
    message = "tensorflow.errors.ResourceExhaustedError: OOM when allocating " + "x" * 1000
    reason = failure_reason(message)
    assert reason is not None and reason.startswith("out of memory (ResourceExhaustedError: OOM")
    detail = reason[len("out of memory (") : reason.index("); hint:")]
    assert len(detail) == OOM_REASON_WIDTH
    assert reason.endswith("); hint: a smaller batch_size or model")
