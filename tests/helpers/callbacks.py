"""Keras callbacks that record the epochs a training trains, or interrupt it as Ctrl-C or
kill -9 would."""

from __future__ import annotations

import os
import signal
from typing import Any

import keras


class CtrlC(keras.callbacks.Callback):
    """Raises what Ctrl-C raises as epoch ``at`` begins (``kill``: kill -9s the process)."""

    def __init__(self, at: int, kill: bool = False) -> None:
        super().__init__()
        self.at, self.kill = at, kill

    def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
        if epoch == self.at:
            if self.kill:
                os.kill(os.getpid(), signal.SIGKILL)
            raise KeyboardInterrupt


class Epochs(keras.callbacks.Callback):
    """The epochs a fit trains."""

    def __init__(self, into: list[int]) -> None:
        super().__init__()
        self.into = into

    def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
        self.into.append(epoch)


class Trains(keras.callbacks.Callback):
    """The epochs a training trains; raises what Ctrl-C raises as epoch ``stop_at`` begins."""

    def __init__(self, stop_at: int | None = None) -> None:
        super().__init__()
        self.stop_at = stop_at
        self.epochs: list[int] = []

    def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
        if epoch == self.stop_at:
            raise KeyboardInterrupt
        self.epochs.append(epoch)
