"""Loading the heavy libraries (TensorFlow, Keras, KerasTuner, JAX, Optuna) from the command
line: quietly, and without Ctrl-C landing inside them.

TensorFlow's native libraries log through absl before its logging is set up: "All log
messages before absl::InitializeLog() is called are written to STDERR" and the oneDNN notice,
once per library, whatever ``TF_CPP_MIN_LOG_LEVEL`` says. So, unless ``--debug``, what these
packages write to the stderr file descriptor while they load is kept in a temporary file and
shown only if the import fails.

A Ctrl-C while they load would raise KeyboardInterrupt wherever the interpreter happens to
be: in importlib's own callbacks, which ignore it (and the run goes on), or in native
initialisation code (which can abort in C++, exit 134). It is held until the outermost of
these imports has finished, then raised there, as an ordinary KeyboardInterrupt.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import os
import signal
import sys
import tempfile
import threading
from collections.abc import Sequence
from types import FrameType, ModuleType, TracebackType
from typing import IO, Any

HEAVY_PACKAGES = frozenset({"tensorflow", "keras", "keras_tuner", "jax", "optuna"})
STDERR_FD = 2


class LoadGuard:
    """Held around the loading of a heavy package; the outermost one (in the main thread)
    holds SIGINT and, when ``quiet``, the stderr file descriptor."""

    def __init__(self) -> None:
        self.quiet = True
        self.interrupted = False
        self._depth = 0
        self._held_sigint = False
        self._saved_fd: int | None = None
        self._capture: IO[bytes] | None = None

    def __enter__(self) -> LoadGuard:
        if threading.current_thread() is threading.main_thread():
            self._depth += 1
            if self._depth == 1:
                self._hold()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        self._depth -= 1
        if self._depth:
            return
        self._release(failed=exc_type is not None and not issubclass(exc_type, KeyboardInterrupt))
        if self.interrupted and exc_type is None:
            self.interrupted = False
            raise KeyboardInterrupt

    def _record(self, signum: int, frame: FrameType | None) -> None:
        self.interrupted = True

    def _hold(self) -> None:
        self.interrupted = False
        # Only Python's own Ctrl-C handling is held; a handler someone installed stays.
        self._held_sigint = signal.getsignal(signal.SIGINT) is signal.default_int_handler
        if self._held_sigint:
            signal.signal(signal.SIGINT, self._record)
        if self.quiet:
            try:
                self._capture = tempfile.TemporaryFile()
            except OSError:  # nowhere to keep it: the lines are shown after all
                return
            sys.stderr.flush()
            self._saved_fd = os.dup(STDERR_FD)
            os.dup2(self._capture.fileno(), STDERR_FD)

    def _release(self, failed: bool) -> None:
        if self._saved_fd is not None and self._capture is not None:
            sys.stderr.flush()
            os.dup2(self._saved_fd, STDERR_FD)
            os.close(self._saved_fd)
            self._saved_fd = None
            if failed:  # what the library said may explain why it did not load
                self._capture.seek(0)
                sys.stderr.write(self._capture.read().decode(errors="replace"))
            self._capture.close()
        if self._held_sigint:
            signal.signal(signal.SIGINT, signal.default_int_handler)
            self._held_sigint = False


class _GuardedLoader(importlib.abc.Loader):
    """A package's own loader, run under the guard; the module keeps the real one."""

    def __init__(self, loader: importlib.abc.Loader, guard: LoadGuard) -> None:
        self._loader = loader
        self._guard = guard

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self._loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        with self._guard:
            self._loader.exec_module(module)
        module.__loader__ = self._loader
        if module.__spec__ is not None:
            module.__spec__.loader = self._loader

    def __getattr__(self, name: str) -> Any:
        return getattr(self._loader, name)


class HeavyImports(importlib.abc.MetaPathFinder):
    """A finder that finds nothing itself: it hands the heavy packages' loaders the guard."""

    def __init__(self) -> None:
        self.guard = LoadGuard()

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in HEAVY_PACKAGES:
            return None
        later = sys.meta_path[sys.meta_path.index(self) + 1 :] if self in sys.meta_path else []
        for finder in later:
            find = getattr(finder, "find_spec", None)
            spec = find(fullname, path, target) if find is not None else None
            if spec is not None:
                break
        else:
            return None
        if spec.loader is not None:
            spec.loader = _GuardedLoader(spec.loader, self.guard)
        return spec


def guard_heavy_imports(quiet: bool) -> None:
    """Load the heavy packages under the guard from now on (``quiet``: their stderr kept
    back); packages already loaded are not affected."""
    finder = next((f for f in sys.meta_path if isinstance(f, HeavyImports)), None)
    if finder is None:
        finder = HeavyImports()
        sys.meta_path.insert(0, finder)
    finder.guard.quiet = quiet
