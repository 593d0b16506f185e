"""run.json's schema: what a run records when it starts, and what later steps add."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class ObjectiveMeta:
    """What the search optimizes: the name given, its direction, and the metric KerasTuner
    tracks (``pareto`` tracks ``val_accuracy``)."""

    name: str
    direction: str
    tracked: str


def tracked_objective(meta: Mapping[str, Any]) -> str:
    """The metric a run's search ranked by, as its trials log it: run.json's objective's
    ``tracked``, else its ``name`` (``val_accuracy`` for ``pareto``, or where none is).

    Args:
        meta: run.json's content (only its ``objective`` is read).

    Returns:
        The metric's name as a trial record's metrics key it, e.g. ``val_accuracy``.
    """
    objective = meta.get("objective") or {}
    name = str(objective.get("tracked") or objective.get("name") or "val_accuracy")
    return "val_accuracy" if name == "pareto" else name


@dataclass(frozen=True)
class OptunaMeta:
    """An Optuna run's sampler, pruner, storage (password hidden) and study name."""

    sampler: str
    pruner: str
    storage: str
    study: str


@dataclass(frozen=True)
class BudgetMeta:
    """The tuner's budget: trials, epochs per trial, Hyperband's reduction factor (None
    with another tuner), the
    named budget the defaults came from (``cpu``, ``gpu``), the finalists trained
    on the full training data before the final choice, what a trial's budget grows
    in (``--fidelity``: ``epochs``, ``data`` or ``both``; the request keeps it too), and
    the seconds after which the search starts no new trial (None: no limit)."""

    max_trials: int | None
    max_epochs: int
    factor: int | None
    profile: str = "cpu"
    finalists: int = 1
    fidelity: str = "epochs"
    max_search_seconds: float | None = None


@dataclass(frozen=True)
class SpaceMeta:
    """The searched space: where it came from, its fingerprint and its parameters."""

    source: str
    fingerprint: str
    params: dict[str, Any]


@dataclass(frozen=True)
class DataMeta:
    """The data split the run trains, validates and tests on."""

    source: str
    train: int
    validation: int
    test: int
    seed: int
    image_shape: list[int]
    class_names: list[str]
    fingerprint: str
    unit: str = "images"
    """What one training example is, in messages: "images", or "rows" for a user's arrays."""
    inputs: dict[str, list[int]] = field(default_factory=dict)
    """A multi-input model's inputs: the shape of a row of each, by name (a list's by
    index); empty for one array, whose row shape ``image_shape`` holds."""
    weighted: list[str] = field(default_factory=list)
    """The splits whose rows carry weights (``sample_weight``): ``train``, ``validation``, ``test``."""


@dataclass(frozen=True)
class RunMeta:
    """run.json as a run writes it when it starts (``status``: ``running``, then
    ``finished``, ``interrupted`` (resumable), or ``failed``).

    Later steps add to it (``RunFolder.update_meta``): ``status`` and ``finished`` as the
    run stops or ends; ``resumed`` (times); ``best`` (the chosen trial, with the rule's
    sentence); ``pareto_front``; ``final`` (the retrained model's training and test
    figures); ``seconds``; ``tracking`` (MLflow/TensorBoard); ``exports``.
    """

    experiment: str
    tuner: str
    name: str
    created: str
    seed: int
    objective: ObjectiveMeta
    hypermodel: Mapping[str, Any] | None
    code: Mapping[str, Any] | None
    """The user's file that ``hypermodel`` imports, its SHA-256, and those of the user's
    modules it imports from its folder (``experiments.code_of``)."""
    optuna: OptunaMeta | None
    budget: BudgetMeta
    space: SpaceMeta
    data: DataMeta
    model: dict[str, Any]
    precision: str
    command: list[str]
    request: dict[str, Any]
    versions: dict[str, str]
    status: str = "running"
    finished: str | None = None
    best: dict[str, Any] | None = None
    final: dict[str, Any] | None = None
    seconds: float | None = None

    def to_json(self) -> dict[str, Any]:
        """The plain-data form ``RunFolder.write_meta`` takes."""
        return asdict(self)


__all__ = [
    "BudgetMeta",
    "DataMeta",
    "ObjectiveMeta",
    "OptunaMeta",
    "RunMeta",
    "SpaceMeta",
]
