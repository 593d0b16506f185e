"""What every step of a run after planning shares."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from rich.console import Console

from search._text import resume_call
from search.data import Splits
from search.engine._plan import Plan
from search.engine._request import RunRequest
from search.engine._signals import StopOnSignal
from search.storage import RunFolder
from search.tuners import Observer


class Say:
    """Prints a line of what the run does, unless it is quiet."""

    def __init__(self, console: Console, quiet: bool) -> None:
        self.console, self.quiet = console, quiet

    def __call__(self, line: str) -> None:
        if not self.quiet:  # paths and values as they are: no markup, colours or wrapping
            self.console.print(line, markup=False, highlight=False, soft_wrap=True)


@dataclass(frozen=True)
class RunContext:
    """A run being searched: its request and plan, folder and data, how it reports.

    ``trials_per_process`` (``--isolate``): trials this process may start (0: none, the run
    is only created; 1: one trial process of many, which says less); None: all.
    ``devices`` (``--gpus``): each worker's ``CUDA_VISIBLE_DEVICES`` entry.
    ``observers``: the caller's own, after the engine's. ``stopper``: the stop on
    SIGINT/SIGTERM, for the search and the final training (entered around both).
    ``launched_at``: when this trial process of ``--isolate`` was started (``time.time()``).
    """

    request: RunRequest
    plan: Plan
    folder: RunFolder
    splits: Splits
    console: Console
    quiet: bool
    trials_per_process: int | None = None
    devices: tuple[str, ...] = ()
    observers: Sequence[Observer] = ()
    stopper: StopOnSignal = field(default_factory=StopOnSignal)
    launched_at: float | None = None

    @property
    def say(self) -> Say:
        """Lines for the user: none when quiet or one trial process of many."""
        return Say(self.console, self.quiet or self.trials_per_process == 1)

    @property
    def shows_progress(self) -> bool:
        """The live progress display: not when quiet, nor where no trial runs here."""
        return not self.quiet and self.trials_per_process != 0

    @property
    def resume(self) -> str:
        """How the run goes on once stopped (:func:`resume_call`)."""
        request = {key: getattr(self.request, key) for key in ("arrays", "hypermodel", "from_object")}
        return resume_call(self.folder.path, request)


__all__ = ["RunContext", "Say"]
