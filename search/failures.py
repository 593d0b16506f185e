"""Why a trial failed, in one line: the exception's last line, readable, with a hint."""

from __future__ import annotations

import re

_OOM_MARKERS = ("ResourceExhausted", "out of memory", "OOM when allocating", "MemoryError")
OOM_REASON_WIDTH = 200
"""The most characters of the library's own message an out-of-memory reason keeps."""


_EXCEPTION_LINE = re.compile(r"(?P<module>(?:[A-Za-z_]\w*\.)+)(?P<name>[A-Za-z_]\w*)(?:: (?P<text>.*))?")
_NOTES = ("For simplicity, JAX has removed its internal frames",)
"""Notes libraries add after the exception's line (``__notes__``): not the reason."""
_OWN_PACKAGES = ("hypermodels.", "search.")
"""The project's own errors say what happened in their message: shown without their type."""
_TENSORFLOW_NOISE = ("Graph execution error", "Detected at node", 'File "', "[[", "{{")
"""The lines TensorFlow wraps an op's error in: its header, node names and call stack."""
_KERAS_NOISE = ("Exception encountered when calling",)
"""The header Keras wraps a layer's error in (its reason follows, then the arguments)."""
_ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")
"""Terminal styles (Keras shows a layer's reason in bold)."""
_KERAS_CALL = re.compile(
    r"^(?P<type>\S+: )?Exception encountered when calling .*\n\s*(?P<reason>\S.*)$", re.MULTILINE
)
"""A Keras layer's error: its header, then its reason (then the arguments it was called with)."""


def readable_exception(line: str) -> str:
    """A traceback's last line without the exception's module path
    (``pkg.mod.SomeError: text`` -> ``SomeError: text``); the project's own errors as their
    message alone (``loss became nan ...``)."""
    match = _EXCEPTION_LINE.fullmatch(line.strip())
    if match is None:
        return line.strip()
    text = match["text"]
    if text and match["module"].startswith(_OWN_PACKAGES):
        return text
    return match["name"] + (f": {text}" if text is not None else "")


def failure_reason(message: str | None) -> str | None:
    """A one-line reason from KerasTuner's stored traceback: the exception's last line
    (a Keras layer's error: its reason, not the arguments it lists last), readable, with a
    hint when the trial ran out of memory."""
    if not message:
        return None
    lines = [
        line.strip() for line in message.strip().splitlines()
        if line.strip().strip("-") and not line.strip().startswith(_NOTES)
    ]  # fmt: skip
    if not lines:
        return None
    reason = _keras_call_reason(message) or readable_exception(lines[-1])
    if any(marker in message for marker in _OOM_MARKERS):
        reason = f"out of memory ({reason[:OOM_REASON_WIDTH]}); hint: a smaller batch_size or model"
    return reason


def _keras_call_reason(message: str) -> str | None:
    """The reason of the last exception in ``message`` when Keras wrapped it as a layer's
    error (``ValueError: Input 0 ... is incompatible``), readable; None otherwise."""
    last = _ANSI_ESCAPE.sub("", message).rsplit("Traceback (most recent call last):", 1)[-1]
    found = list(_KERAS_CALL.finditer(last))
    if not found:
        return None
    return readable_exception((found[-1]["type"] or "") + found[-1]["reason"].strip())


def exception_line(exc: BaseException) -> str:
    """An exception's message in one line: its first (TensorFlow's own line, ``Received a
    label value of 4 ...``, not its "Graph execution error" header or node names; a Keras
    layer's reason, not its "Exception encountered when calling" header), without terminal
    styles; the exception's type when it has no message. A KeyError's message (its key: a
    dict of inputs without one a model's ``call`` reads) as its text, not as ``str`` gives
    it (its repr, Keras' header, newlines and styles escaped), after ``KeyError:``."""
    keyed = isinstance(exc, KeyError) and len(exc.args) == 1 and isinstance(exc.args[0], str)
    text = exc.args[0] if keyed else str(exc)
    lines = [line.strip() for line in _ANSI_ESCAPE.sub("", text).splitlines() if line.strip()]
    told = [line for line in lines if not line.startswith(_TENSORFLOW_NOISE + _KERAS_NOISE)]
    line = (told or lines or [type(exc).__name__])[0]
    return f"KeyError: {line}" if keyed else line


def innermost_cause(exc: BaseException) -> BaseException:
    """The exception that caused ``exc`` first (Keras wraps the one that names a class it
    could not find in others that print its whole config)."""
    seen = {id(exc)}
    while (earlier := exc.__cause__ or exc.__context__) is not None and id(earlier) not in seen:
        seen.add(id(earlier))
        exc = earlier
    return exc
