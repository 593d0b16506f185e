"""Tuner backends by name: each turns a hypermodel and a budget into a KerasTuner tuner."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import keras_tuner as kt

from hypermodels import DataFidelity
from search._text import plural
from search.errors import SearchError, option
from search.space import Space
from search.tuners._observed import Observer

MAX_LISTED = 10_000
"""Configurations of a space beyond which a tuner does not list them to find the untried ones."""


@dataclass(frozen=True)
class WarmTrials:
    """Finished trials of earlier runs (``--warm-start``), given to a new search as what it
    already knows: their records (trials.json's, each with its full ``epochs`` and its
    ``run`` folder), never run again, recorded or ranked by the new run."""

    records: tuple[dict[str, Any], ...]
    sources: tuple[str, ...]
    skipped: int = 0
    """Finished trials left out: values outside this search's space."""

    def describe(self) -> str:
        """The line the run prints: how many trials from where, how many skipped."""
        skipped = f"; {self.skipped} outside this space skipped" if self.skipped else ""
        return f"warm start: {plural(len(self.records), 'trial')} from {', '.join(self.sources)}{skipped}"


@dataclass(frozen=True)
class TunerOptions:
    """Backend-specific choices; KerasTuner's backends refuse the ones they do not have."""

    space: Space | None = None
    sampler: str | None = None
    pruner: str | None = None
    storage: str | None = None
    pareto: bool = False
    converged_epochs: int = 3
    study_name: str = "search"
    run_dir: Path | None = None
    """The run folder (where a default Optuna journal lives); workers share it."""
    baseline: bool = True
    """Run the space's defaults as the first trial: the configuration to beat."""
    warm: WarmTrials | None = None
    """Earlier runs' finished trials the search starts from (``--warm-start``)."""
    fidelity: DataFidelity | None = None
    """``--fidelity data``/``both``: each trial's training images grow with its epoch
    budget (the tuner tells its hypermodel's ``fit``); None: every epoch sees all of them."""
    joining: bool = False
    """A worker joining the run's shared search, which the run's own process sets up (its
    baseline, its earlier runs' trials): refused where that is not done yet."""

    def refuse_optuna_only(self, tuner: str) -> None:
        """SearchError if an Optuna-only option was given to another backend."""
        given = [
            flag
            for flag, value in ((option("sampler"), self.sampler), (option("pruner"), self.pruner),
                                (option("storage"), self.storage))
            if value is not None
        ]  # fmt: skip
        if self.pareto:
            given.append(f"{option('objective')} pareto")
        if given:
            raise SearchError(f"{given[0]} applies to {option('tuner')} optuna only, not {tuner}")


@dataclass(frozen=True)
class Budget:
    """How much searching to do: trials (None: the backend's own schedule), epochs, and
    the seconds after which no new trial starts (None: no limit)."""

    max_trials: int | None
    max_epochs: int
    factor: int = 3
    max_search_seconds: float | None = None


class Backend(Protocol):
    """A search algorithm. New ones (Optuna) implement this and call :func:`register`."""

    @property
    def name(self) -> str:
        """What ``--tuner`` calls it."""
        ...

    @property
    def description(self) -> str:
        """One line for ``search list``."""
        ...

    def create(
        self,
        hypermodel: kt.HyperModel,
        objective: kt.Objective,
        budget: Budget,
        seed: int,
        directory: Path,
        observers: Sequence[Observer],
        options: TunerOptions,
    ) -> kt.Tuner: ...

    def check(self, options: TunerOptions, budget: Budget) -> None:
        """Refuse options the backend does not support, before any work starts."""
        ...

    def plan(self, budget: Budget) -> tuple[int, int]:
        """(trials, epochs) the budget will run at most, for progress and time estimates."""
        ...


_BACKENDS: dict[str, Backend] = {}


def register(backend: Backend) -> None:
    """Make ``backend`` a ``--tuner`` choice, under its name (replacing one of that name).

    Args:
        backend: the backend; its ``name`` is what ``--tuner`` and :func:`get` take.
    """
    _BACKENDS[backend.name] = backend


def names() -> list[str]:
    """The ``--tuner`` choices, in the order they were registered.

    Returns:
        The backends' names (a replaced backend keeps its first place).
    """
    return list(_BACKENDS)


def get(name: str) -> Backend:
    """The backend called ``name``; SearchError listing the valid names otherwise.

    Args:
        name: a ``--tuner`` value.

    Returns:
        The registered backend of that name.

    Raises:
        SearchError: No backend has that name.
    """
    try:
        return _BACKENDS[name]
    except KeyError:
        raise SearchError(f"unknown tuner {name!r}; choose one of: {', '.join(names())}") from None
