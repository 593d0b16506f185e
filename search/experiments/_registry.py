"""Experiments: a data set, a hypermodel and a default space, under one name."""

from __future__ import annotations

import numbers
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any, TypedDict

import keras_tuner as kt

from search._text import a_kind, article
from search.data import DEFAULT_VAL_SIZE, ArrayData, Splits, load_arrays
from search.errors import SearchError, SpaceError, option
from search.experiments._declared import declared_with
from search.experiments._reference import Reference, reference_of, resolve
from search.experiments._user import (
    UserHyperModel,
    check_on_data,
    describe,
    fidelity_refusal,
    first_row,
    fit_call_refusal,
    has_own_fit,
    is_hypermodel,
)
from search.failures import exception_line
from search.space import Space, load_space


class ExperimentReference(TypedDict, total=False):
    """How another process finds an experiment again: by its ``experiment`` name (or
    ``file.py:NAME``), or a user's hypermodel by its ``hypermodel`` (``Reference.to_json``)."""

    experiment: str
    hypermodel: dict[str, Any]


def _data_of(name: str, load: Callable[[], ArrayData]) -> ArrayData:
    """What the data function of the user's experiment ``name`` returns, checked; an error
    it raises (a missing file) is the experiment's, in one line."""
    try:
        data = load()
    except SearchError:
        raise
    except Exception as exc:
        function = getattr(load, "__qualname__", "data")
        raise SearchError(
            f"experiment {name!r}: its data function {function}() raised {type(exc).__name__}:"
            f" {exception_line(exc)}; fix it (run again with --debug for the traceback)"
        ) from exc
    if not isinstance(data, ArrayData):
        raise SearchError(
            f"the experiment's data function returned {a_kind(data)}; return"
            " search.Data(x, y, validation_data=..., test_data=...)"
        )
    return data


DEFAULT_EPOCHS = 6
"""Epochs of the longest trial when an experiment gives none."""


def _check_user_experiment(name: Any, data: Any, max_trials: Any, max_epochs: Any) -> None:
    """SearchError for what ``Experiment.from_hypermodel`` is given that a run could not
    take (a run would fail on it only once started, or take ``max_trials`` 0 for none)."""
    if not isinstance(name, str):
        raise SearchError(f"name ({name!r}): give the experiment's name as a str, e.g. 'mnist'")
    if not callable(data):
        shown = "search.Data" if isinstance(data, ArrayData) else type(data).__name__
        raise SearchError(
            f"data ({article(shown)}): give a function that returns search.Data(x, y, ...),"
            " called once per process, e.g. data=load where def load(): return search.Data(x, y)"
        )
    for keyword, value in (("max_trials", max_trials), ("max_epochs", max_epochs)):
        if value is None and keyword == "max_trials":
            continue
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise SearchError(f"{keyword} ({value!r}) must be a whole number")
        if value < 1:
            raise SearchError(f"{keyword} ({value}) must be at least 1")


@dataclass(frozen=True)
class DataOptions:
    """How the user asked for the data to be read and split."""

    data_dir: Path | None = None
    train_size: int | None = None
    val_size: int | None = DEFAULT_VAL_SIZE
    seed: int = 0
    image_size: int | None = None
    """Square size images are resized to (image-folder experiments)."""


@dataclass(frozen=True)
class ModelOptions:
    """How the user asked models to be built."""

    seed: int = 0
    weights: str | None = None
    """Pretrained weights of a transfer-learning base: "imagenet", a file, or "none"."""
    dtype_policy: str = "float32"
    """Keras' dtype policy for the models built ("float32" or "mixed_bfloat16")."""
    objective: str | None = None
    """The search's objective (KerasTuner's name), which a dict returned by a user's own
    ``fit`` must hold; None: not checked."""


@dataclass(frozen=True)
class Experiment:
    """What ``python -m search run NAME`` searches: data, a hypermodel and its space.

    The built-in experiments are instances; so is a user's own, made with
    :meth:`from_hypermodel` in a module or script and run as ``file.py:NAME``.
    """

    name: str
    description: str
    space_file: str | None
    """The default space (a TOML file in ``spaces/``); None: what the hypermodel declares."""
    load: Callable[[DataOptions], Splits]
    check_space: Callable[[Space], None]
    hypermodel: Callable[[Space, Splits, ModelOptions], kt.HyperModel]
    default_train_size: int | None = None
    default_val_size: int | None = DEFAULT_VAL_SIZE
    budgets: dict[str, tuple[int | None, int]] = field(default_factory=dict)
    """Per tuner: (max_trials, max_epochs) when the user gives neither."""
    gpu_budgets: dict[str, tuple[int | None, int]] = field(default_factory=dict)
    """The same on the ``gpu`` budget (which also trains on every image); empty: ``budgets``."""
    gpu_space_file: str | None = None
    """The default space on the ``gpu`` budget (wider networks); None: ``space_file``."""
    cpu_cosine_epochs: int | None = None
    """On the ``cpu`` budget, the validated final trainings' ``auto`` schedule: a cosine of
    this many epochs (a length measured for the experiment); None: the plateau."""
    default_image_size: int | None = None
    """None: the images have one size (``--image-size`` is refused)."""
    default_weights: str | None = None
    """None: models start from random weights (``--weights`` is refused)."""
    default_data_dir: Path | None = None
    """The data folder read where no ``--data-dir`` is given, relative to the working folder
    (a new run's run.json keeps it absolute); None: none (the data is found otherwise)."""
    check_options: Callable[[Space, DataOptions, ModelOptions], None] | None = None
    """Checks that need the space (e.g. that weights exist for every base); before any work."""
    final_image_size: Callable[[dict[str, object]], int] | None = None
    """The image size the final model is trained at, from the chosen hyperparameters."""
    declare_space: Callable[[Space | None, Mapping[str, Any]], Space] | None = None
    """The space the hypermodel's own code declares (given a space file's, which wins, and
    the values ``--fix`` gives, whose names a build is made to reach)."""
    check_data: Callable[[Splits, kt.Objective], None] | None = None
    """Checks that need the data and the objective (a user's model on its data)."""
    metrics: tuple[str, ...] = ()
    """The metrics its models log, each also as ``val_NAME`` (the objective must be one,
    checked before any work); empty: unknown until ``check_data`` tries the model."""
    reference: ExperimentReference | None = None
    """How other processes import this experiment's hypermodel again; None: they cannot
    (workers, ``--isolate`` and ``resume`` in a new process refuse it)."""
    not_importable: str = ""
    """Why ``reference`` is None, with the fix."""
    fidelity_refused: str = ""
    """Why ``--fidelity data`` cannot apply to the hypermodel, with the fix; empty: it can."""
    data_options_refused: str = ""
    """Why ``--data-dir``, ``--train-size`` and ``--val-size`` cannot apply (the data come
    from the user's own code, which takes none of them), with the fix; empty: they can."""
    fit_refused: str = ""
    """Why no tuner's trials can call the hypermodel's own ``fit``, with the fix; empty: they can."""
    hyperband_refused: str = ""
    """Why Hyperband's trials cannot call the hypermodel's own ``fit`` (it passes
    ``initial_epoch=`` too) where the others' can, with the fix; empty: they can."""
    own_fit: str = ""
    """The user's HyperModel's own ``fit`` (``Name.fit``), whose hyperparameters join the
    space only once a trial runs; empty: it has none."""
    model_defaults: Mapping[str, Any] = field(default_factory=dict)
    """The value the hypermodel gives each hyperparameter a space leaves out: what an
    earlier run whose space lacked it trained with (``--warm-start``); empty: unknown."""

    @classmethod
    def from_hypermodel(
        cls,
        name: str,
        hypermodel: Any,
        data: Callable[[], ArrayData],
        *,
        space: str | Path | None = None,
        max_trials: int | None = None,
        max_epochs: int = DEFAULT_EPOCHS,
        description: str = "",
    ) -> Experiment:
        """A user's experiment, for ``python -m search run file.py:NAME``.

        Args:
            name: the experiment's name (its results go to ``results/NAME/``).
            hypermodel: a ``build(hp)`` function returning a compiled model, or a
                ``keras_tuner.HyperModel``.
            data: a function returning :class:`search.Data` (called once per process).
            space: a TOML space file whose hyperparameters replace the code's own.
            max_trials: the default number of trials (Hyperband: a cap on its schedule).
            max_epochs: the default epochs of the longest trial.
            description: one line for ``python -m search list``.

        Returns:
            The experiment; the same class as the built-in ones.
        """
        _check_user_experiment(name, data, max_trials, max_epochs)
        return user_experiment(
            name, hypermodel, lambda options: _data_of(name, data).splits(options.seed),
            space_file=None if space is None else str(Path(space).resolve()),
            budget=(max_trials, max_epochs), description=description,
        )  # fmt: skip

    def default_space_path(self, name: str | None = None) -> Path:
        """Where the space file ``name`` (default: ``space_file``) is: a path, or a file
        of the ``spaces`` package."""
        name = name or self.space_file
        if name is None:
            raise SearchError(f"{self.name}: has no space file; its hypermodel declares its space")
        path = Path(name)
        return path if path.is_absolute() else Path(str(resources.files("spaces") / name))

    def load_space(self, path: Path | None = None, fix: Mapping[str, Any] | None = None) -> Space:
        """The user's space file (or the default), checked against the hypermodel.

        Args:
            path: a space file; None: the experiment's own (or what its code declares).
            fix: the values the search fixes: a hypermodel's code is built to reach their
                names where a plain ``if`` declares them.

        Returns:
            The space, before ``fix`` is applied.
        """
        if self.declare_space is not None:
            given = load_space(path) if path is not None else None
            if given is None and self.space_file is not None:
                given = load_space(self.default_space_path())
            return self.declare_space(given, fix or {})
        space = load_space(path or self.default_space_path())
        try:
            self.check_space(space)
        except ValueError as exc:
            raise SpaceError(str(exc)) from None
        return space


_EXPERIMENTS: dict[str, Experiment] = {}
_VARIANTS: dict[str, dict[str, Experiment]] = {}
"""Experiments with a choice of model (``--model``): name -> model -> experiment."""
_BUILT_IN: list[Experiment] = []
"""The experiments every process registers (:func:`seal_built_ins`)."""


def register(experiment: Experiment) -> None:
    """Make ``experiment`` findable by its name (replacing one of that name) in this process:
    the package's own at import are built-in, found by every process; yours stay in yours.

    Args:
        experiment: the experiment; :func:`get` and ``search.run(NAME)`` find it by its name.
    """
    _EXPERIMENTS[experiment.name] = experiment


def register_variants(variants: dict[str, Experiment]) -> None:
    """Register an experiment with a choice of model; the first is the default."""
    name = next(iter(variants.values())).name
    _VARIANTS[name] = dict(variants)
    register(next(iter(variants.values())))


def models(name: str) -> list[str]:
    """The models experiment ``name`` can use (``--model``).

    Args:
        name: a registered experiment's name (a built-in's, or one this process registered).

    Returns:
        The models' names, the default first; empty when it has one model (or is unknown).
    """
    return list(_VARIANTS.get(name, {}))


def seal_built_ins() -> None:
    """Mark the experiments registered so far (by importing ``search.experiments``) as
    built-in: any process finds them by name; ones registered later live in their process."""
    _BUILT_IN.extend([*_EXPERIMENTS.values(), *(e for v in _VARIANTS.values() for e in v.values())])


def built_in_as(experiment: Experiment) -> tuple[str, str | None] | None:
    """The name (and model, ``--model``) any process finds this very object by.

    Args:
        experiment: an experiment object.

    Returns:
        ``(name, model)``, model None for an experiment of one model; None when the object is
        not a built-in one (another object of a built-in's name, one registered by the caller).
    """
    if not any(experiment is known for known in _BUILT_IN):
        return None
    for model, variant in _VARIANTS.get(experiment.name, {}).items():
        if variant is experiment:
            return experiment.name, model
    return experiment.name, None


def names() -> list[str]:
    """The registered experiments' names: the built-ins', and those this process registered.

    Returns:
        The names :func:`register` was given, sorted.
    """
    return sorted(_EXPERIMENTS)


def get(name: str, model: str | None = None) -> Experiment:
    """The experiment called ``name``, or the one a reference names.

    Args:
        name: a registered experiment's name (see :func:`names`), or ``file.py:NAME`` or
            ``package.module:NAME``.
        model: one of the experiment's models (``--model``); None: its default.

    Returns:
        The experiment; a referenced one with ``reference`` set, for other processes.

    Raises:
        SearchError: the name is unknown (listing the valid ones), ``model`` is not one of its
            models, or the reference cannot be imported or is not an :class:`Experiment`.
    """
    if model is not None:
        if name not in _VARIANTS:
            raise SearchError(
                f"{option('model')} {model}: {name} has one model; the option applies to"
                f" {', '.join(_VARIANTS) or 'no experiment'}"
            )
        if model not in _VARIANTS[name]:
            raise SearchError(f"{option('model')} {model!r}: choose one of {', '.join(_VARIANTS[name])}")
        return _VARIANTS[name][model]
    if name in _EXPERIMENTS:
        return _EXPERIMENTS[name]
    if ":" not in name:
        raise SearchError(
            f"unknown experiment {name!r}; choose one of: {', '.join(names())}, or name your"
            " own as path/to/file.py:NAME or package.module:NAME"
        )
    found = resolve(name)
    if not isinstance(found, Experiment):
        raise SearchError(
            f"{name} is {a_kind(found)}, not a search.Experiment; make one with"
            " search.Experiment.from_hypermodel(name, hypermodel, data)"
        )
    # Other processes import this very experiment again, whatever its hypermodel is.
    return replace(found, reference={"experiment": name}, not_importable="")


def user_experiment(
    name: str,
    user: Any,
    load: Callable[[DataOptions], Splits],
    *,
    space_file: str | None = None,
    budget: tuple[int | None, int] = (None, DEFAULT_EPOCHS),
    description: str = "",
) -> Experiment:
    """An experiment around a user's ``build(hp)`` function or HyperModel.

    Args:
        name: the experiment's name.
        user: the function or HyperModel, as the user wrote it.
        load: the data for the given options (seed).
        space_file: a TOML space whose hyperparameters replace the code's own.
        budget: (max_trials, max_epochs) by default; max_trials None: Hyperband's schedule,
            DEFAULT_TRIALS for the others.
        description: one line; empty: one that describes ``user``.

    Returns:
        The experiment; ``reference`` None (``not_importable``: why) if ``user`` cannot be imported again.

    Raises:
        SearchError: ``user`` is neither a build function nor a HyperModel, or ``name`` is invalid.
    """
    _check_user(user, name)
    reference, why = reference_of(user)
    refused = fit_call_refusal(user)
    trials, epochs = budget
    other = trials if trials is not None else DEFAULT_TRIALS
    return Experiment(
        name=name,
        description=description or f"{describe(user)}, the user's own hypermodel",
        space_file=space_file,
        load=load,
        check_space=_no_check,
        hypermodel=lambda space, splits, options: UserHyperModel(
            user, space, first_row(splits.x_train), options.objective, options.seed, options.dtype_policy
        ),
        default_train_size=None,
        default_val_size=None,
        budgets={
            "hyperband": (trials, epochs),
            **{tuner: (other, epochs) for tuner in ("random", "bayesian", "optuna")},
        },
        declare_space=lambda given, fix: declared_with(user, given, fix),
        check_data=lambda splits, objective: check_on_data(user, splits, objective),
        reference=None if reference is None else {"hypermodel": reference.to_json()},
        not_importable=why,
        fidelity_refused=fidelity_refusal(user),
        data_options_refused=(
            f"experiment {name!r} gets its data from your own code (its search.Data or arrays),"
            " which reads no folder and takes no sizes"
        ),
        fit_refused=refused,
        hyperband_refused="" if refused else fit_call_refusal(user, hyperband=True),
        own_fit=f"{describe(user)}.fit" if has_own_fit(user) else "",
    )


def _check_user(user: Any, name: str) -> None:
    """SearchError unless ``user`` is a hypermodel and ``name`` may name its results folder."""
    if not is_hypermodel(user):
        raise SearchError(
            f"hypermodel: {a_kind(user)} is neither a build(hp) function nor a"
            " keras_tuner.HyperModel instance; pass one of these"
        )
    if not EXPERIMENT_NAME.match(name):
        raise SearchError(
            f"experiment name {name!r}: use ASCII letters, digits, '.', '_' and '-' (at most 100),"
            " starting with a letter or digit; it names the results folder"
        )


EXPERIMENT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


def folder_name(text: str) -> str:
    """``text`` made into an experiment name (``<lambda>`` -> ``lambda``).

    Args:
        text: any text, e.g. a function's name.

    Returns:
        Its runs of other characters than letters, digits, ``.``, ``_`` and ``-`` as ``_``, those
        three stripped from both ends, then cut to 100 characters; ``experiment`` if none is left.
    """
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._-")[:100]
    return cleaned or "experiment"


DEFAULT_TRIALS = 10
"""Trials of a user's experiment when it gives none (Hyperband runs its schedule)."""


def _no_check(space: Space) -> None:
    """A user's hypermodel takes whatever its own code declares."""


def from_run(
    name: str, hypermodel: dict[str, Any] | None, run_dir: Path, space_file: str | None = None
) -> Experiment:
    """A run searched from Python on arrays, rebuilt in another process (resume, workers,
    ``--isolate``): the hypermodel imported again, the arrays read from the run folder.

    Args:
        name: the experiment's name.
        hypermodel: the hypermodel's reference as run.json keeps it (``Reference.to_json``);
            None: it could not be imported again.
        run_dir: the run folder, holding the arrays.
        space_file: the space file the run was given, if any.

    Returns:
        The experiment.

    Raises:
        SearchError: ``hypermodel`` is None, or the hypermodel cannot be imported or rebuilt.
    """
    if hypermodel is None:
        raise SearchError(
            f"{run_dir}: was searched from Python with a hypermodel that cannot be imported"
            f" again; continue it from Python: search.resume({str(run_dir)!r}, hypermodel=...)"
        )
    user = Reference.from_json(hypermodel).load()
    return user_experiment(name, user, lambda options: load_arrays(run_dir), space_file=space_file)
