"""Library noise kept out of the way (unless ``--debug``): the CLI and the API call this."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import tempfile
import warnings
from collections.abc import Iterator
from typing import Any, TextIO

LIBRARY_WARNINGS = (
    # Keras, loading a checkpoint into a model whose optimizer is not built yet (the chosen
    # trial's model, a continued Hyperband trial): only the weights are wanted.
    "Skipping variable loading for optimizer",
    # scikit-learn, fitting BayesianOptimization's Gaussian process on few trials.
    "The optimal value found for dimension",
    # Keras, saving a model compiled with a lambda (its loss, say): loading it is what needs
    # safe_mode=False, which best_model's refusal names.
    "The object being serialized includes a `lambda`",
)
STDERR_FD = 2
NAN_WARNINGS = "All-NaN (axis|slice) encountered"
"""NumPy's, from KerasTuner's metric history when a trial's objective is NaN: the trial
is recorded failed with why, which the progress line says."""


QUIETED_LOGGERS = ("tensorflow", "optuna")
"""The libraries' loggers a run quiets (TensorFlow's Python log, Optuna's per-trial lines)."""


@contextlib.contextmanager
def library_logs_kept() -> Iterator[None]:
    """The levels of :data:`QUIETED_LOGGERS` as they were before the block, once it ends: a
    notebook's own TensorFlow and Optuna log as before after a search or a report."""
    levels = {name: logging.getLogger(name).level for name in QUIETED_LOGGERS}
    try:
        yield
    finally:
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)


def quiet_libraries() -> None:
    """Keep TensorFlow's C++ and Python logs (e.g. per-trial retracing notes) and the
    libraries' housekeeping warnings out of the way."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("ABSL_MIN_LOG_LEVEL", "2")
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    for message in LIBRARY_WARNINGS:
        warnings.filterwarnings("ignore", message=message, category=UserWarning)
    warnings.filterwarnings("ignore", message=NAN_WARNINGS, category=RuntimeWarning, module="keras_tuner")


@contextlib.contextmanager
def stderr_kept_back(shown_if_raised: bool = True) -> Iterator[None]:
    """What is written to the stderr file descriptor meanwhile (TensorFlow's native libraries
    log through absl as they load, whatever ``TF_CPP_MIN_LOG_LEVEL`` says, and once loaded
    the op that failed, whatever it says then) kept back, and shown only if the block raises
    (never, without ``shown_if_raised``: the caller tells the error itself)."""
    try:
        capture = tempfile.TemporaryFile()
        sys.stderr.flush()
        saved = os.dup(STDERR_FD)
    except (OSError, ValueError):  # nowhere to keep it, or no stderr: nothing to hide
        yield
        return
    os.dup2(capture.fileno(), STDERR_FD)
    failed = True
    try:
        yield
        failed = False
    finally:
        sys.stderr.flush()
        os.dup2(saved, STDERR_FD)
        os.close(saved)
        if failed and shown_if_raised:
            capture.seek(0)
            sys.stderr.write(capture.read().decode(errors="replace"))
        capture.close()


class _HeldLine:
    """A stdout that holds back what is written until a second line starts (see
    :func:`first_line_held`)."""

    def __init__(self, stream: TextIO) -> None:
        self.stream, self.held, self.passing = stream, "", False

    def write(self, text: str) -> int:
        """Hold ``text`` back while it is the first line, else pass it on."""
        if self.passing:
            return self.stream.write(text)
        self.held += text
        _, newline, rest = self.held.partition("\n")
        if newline and rest:
            self.release()
        return len(text)

    def release(self) -> None:
        """Write what was held back, and from now on pass what is written straight on."""
        if self.held:
            self.stream.write(self.held)
        self.held, self.passing = "", True

    def flush(self) -> None:
        """Flush the stream, once what is written passes on."""
        if self.passing:
            self.stream.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)


@contextlib.contextmanager
def first_line_held() -> Iterator[None]:
    """A line written to ``sys.stdout`` meanwhile held back until more follows it, and
    dropped if the block raises first: Keras' "Downloading data from URL" shows once its
    progress bar starts, not above the error of a download that failed (the caller's)."""
    if sys.stdout is None:  # pythonw, or no stdout: nothing is shown anyway
        yield
        return
    held = _HeldLine(sys.stdout)
    with contextlib.redirect_stdout(held):
        yield
    held.release()
