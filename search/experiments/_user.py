"""A user's own model: a ``build(hp)`` function or a ``keras_tuner.HyperModel``, as it is.

:class:`UserHyperModel` wraps it so that the engine's tuners, resume and retrain drive it
the way KerasTuner would: ``build`` gives a compiled model; a HyperModel's own ``fit`` is
called as KerasTuner calls it (and may return a History, a float or a dict); without one,
``model.fit`` trains, and the trial's state is saved after every epoch so that an
interrupted trial continues from its last epoch.
"""

from __future__ import annotations

import contextlib
import inspect
import re
import warnings
from collections.abc import Callable, Collection, Iterator
from pathlib import Path
from typing import Any, Union

import keras
import keras_tuner as kt
import numpy as np

from hypermodels import DataFidelity, load_state, replay_epochs, save_state
from search._text import a_kind, plural
from search.data import Inputs, form_words, parts, take
from search.errors import SearchError, option
from search.failures import exception_line
from search.quiet import stderr_kept_back
from search.space import Space, define

BuildFunction = Callable[[kt.HyperParameters], keras.Model]
HyperModelLike = Union[BuildFunction, kt.HyperModel]
CHECK_ROWS = 4
"""Rows of the data a model is tried on before the search (labels, shapes, metrics)."""
KERAS_BATCH_SIZE = 32
"""``model.fit``'s batch size when none is given: the fewest images a growing subset has."""


def is_hypermodel(obj: Any) -> bool:
    """Whether ``obj`` can be a user's hypermodel.

    Args:
        obj: what the user passed as the hypermodel.

    Returns:
        True for a KerasTuner HyperModel instance or another callable (a ``build(hp)``
        function); False for a class (a HyperModel class too: it must be instantiated) and
        for a Keras layer or model, callable on inputs rather than on hyperparameters.
    """
    if isinstance(obj, kt.HyperModel):
        return True
    if isinstance(obj, (type, keras.layers.Layer)):
        return False
    return callable(obj)


def has_own_fit(user: HyperModelLike) -> bool:
    """Whether the user's HyperModel overrides ``fit`` (its own training or arguments).

    Args:
        user: the user's build function or HyperModel.

    Returns:
        True for a HyperModel whose class defines its own ``fit``; False otherwise.
    """
    return isinstance(user, kt.HyperModel) and type(user).fit is not kt.HyperModel.fit


def fidelity_refusal(user: HyperModelLike) -> str:
    """Why ``--fidelity data`` cannot apply to ``user`` (its own ``fit`` does not take the
    growing subsets), with the fix; empty when it can."""
    if not has_own_fit(user) or "fidelity" in inspect.signature(user.fit).parameters:  # type: ignore[union-attr]
        return ""
    return (
        f"{describe(user)}'s own fit trains on all the x it is given; give it a `fidelity`"
        " parameter (None, or a hypermodels.DataFidelity: train epoch e on"
        " x[fidelity.rows(e, len(x))]), or leave training to model.fit"
    )


def weights_refusal(user: HyperModelLike) -> str:
    """Why row weights cannot reach ``user``'s training (its own ``fit`` takes neither a
    ``sample_weight`` parameter nor ``**kwargs``), with the fix; empty when they can."""
    if not has_own_fit(user):
        return ""
    if takes_keyword(user.fit, "sample_weight"):  # type: ignore[union-attr]
        return ""
    return (
        f"sample_weight: {describe(user)}'s own fit takes no sample_weight, which brings the rows'"
        " weights (class_weight's too); give it a sample_weight parameter (passed on to"
        " model.fit), or search without sample_weight and class_weight in a new run"
    )


def fit_call_refusal(user: HyperModelLike, hyperband: bool = False) -> str:
    """Why ``user``'s own ``fit`` cannot take the call each trial makes, KerasTuner's
    ``fit(hp, model, x, y, validation_data=..., epochs=..., callbacks=[...])`` (Hyperband's
    with ``initial_epoch=`` too), with the fix; empty when it can (or ``user`` has no
    ``fit`` of its own)."""
    if not has_own_fit(user):
        return ""
    keywords: dict[str, Any] = {"validation_data": None, "epochs": 1, "callbacks": []}
    if hyperband:
        keywords = {"validation_data": None, "epochs": 1, "initial_epoch": 0, "callbacks": []}
    try:
        inspect.signature(user.fit).bind(None, None, None, None, **keywords)  # type: ignore[union-attr]
    except TypeError as exc:
        return call_refusal(describe(user), keywords, str(exc))
    return ""


def call_refusal(name: str, keywords: Collection[str], why: str) -> str:
    """The message for a HyperModel ``name``'s own ``fit`` that cannot take the call with
    ``keywords`` that each trial makes (``why``: Python's reason).

    Args:
        name: the HyperModel's class name.
        keywords: the keyword arguments of the call.
        why: the TypeError's message.

    Returns:
        One line: the call, why it fails, the fix.
    """
    call = ", ".join(["hp", "model", "x", "y", *(f"{k}=..." for k in keywords)])
    return (
        f"{name}.fit cannot take the call each trial makes, as KerasTuner does, fit({call})"
        f" ({why}); give it the parameters (self, hp, model, *args, **kwargs), passing them on"
        " to model.fit, or a parameter of each of these names"
    )


def takes_keyword(fit: Callable[..., Any], name: str) -> bool:
    """Whether ``fit`` takes the keyword argument ``name``: a parameter of that name, or
    ``**kwargs``.

    Args:
        fit: a user's own ``fit`` (bound).
        name: the keyword.

    Returns:
        True where ``fit(..., name=value)`` binds.
    """
    parameters = inspect.signature(fit).parameters.values()
    return any(
        p.kind is p.VAR_KEYWORD or (p.name == name and p.kind is not p.POSITIONAL_ONLY)
        for p in parameters
    )


def describe(user: HyperModelLike) -> str:
    """A short name for messages and the default experiment name.

    Args:
        user: the user's build function or HyperModel.

    Returns:
        A HyperModel's class name, a function's name (else its type's name).
    """
    if isinstance(user, kt.HyperModel):
        return type(user).__name__
    return getattr(user, "__name__", type(user).__name__)


def own_objects(hypermodel: kt.HyperModel) -> dict[str, Any]:
    """What Keras needs to load a model saved with layers of the user's own that are not
    registered with it.

    Args:
        hypermodel: a user's ``build(hp)`` or HyperModel, wrapped in :class:`UserHyperModel` or not.

    Returns:
        The classes and functions, by name, defined in the module that defines it; {} when
        that module is unknown.
    """
    user = hypermodel.user if isinstance(hypermodel, UserHyperModel) else hypermodel
    module = inspect.getmodule(user if inspect.isfunction(user) else type(user))
    if module is None:
        return {}
    return {
        name: value for name, value in vars(module).items()
        if (inspect.isclass(value) or inspect.isfunction(value))
        and getattr(value, "__module__", None) == module.__name__
    }  # fmt: skip


class _EpochStates(keras.callbacks.Callback):
    """Saves the model, its optimizer and the logs after every epoch (``model.fit``)."""

    def __init__(self, path: Path, epochs: list[int], logs: list[dict[str, float]]) -> None:
        super().__init__()
        self.path, self.epochs, self.logs = path, list(epochs), list(logs)

    def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
        self.epochs.append(epoch)
        self.logs.append({k: float(v) for k, v in (logs or {}).items()})
        save_state(self.path, self.model, self.epochs, self.logs)


_SHOWN: set[tuple[str, str]] = set()
"""The warnings of users' builds shown in this process, by category and message."""


def _show_once(caught: list[warnings.WarningMessage]) -> None:
    """Show the warnings a user's build or training raised, each the first time this process
    sees it: Keras warns of a layer given ``input_shape`` in every build (the space's, each
    trial's), a layer's own warning comes again as each trial's model traces it."""
    for warning in caught:
        key = (warning.category.__name__, str(warning.message))
        if key not in _SHOWN:
            _SHOWN.add(key)
            warnings.showwarning(warning.message, warning.category, warning.filename, warning.lineno)


class UserHyperModel(kt.HyperModel):
    """The user's hypermodel as the engine's tuners drive it.

    Args:
        user: a ``build(hp)`` function returning a compiled model, or a HyperModel.
        space: a search space (TOML) whose definitions take precedence over the ones the
            user's code declares with the same names; None: the code's own.
        sample: the first row of the training inputs. A model that has no variables
            until it is called (a ``keras.Model`` subclass) is called on it in ``build``,
            so that saved weights can be loaded into it (resume, retrain, export). Not for
            a HyperModel with its own ``fit``, which may prepare the inputs first.
        objective: the name of the search's objective, which a dict (or History) returned
            by the HyperModel's own ``fit`` must hold; None: not checked.
        seed: seeds Keras, TensorFlow, NumPy and Python before each build, so that a
            configuration trains the same way each time (its initial weights, dropout,
            shuffling); None: not seeded.
        dtype_policy: Keras' global dtype policy for each build (``precision``), set before
            it: KerasTuner and the engine clear the Keras session, and with it the policy,
            before every build; None: left as it is.
    """

    def __init__(self, user: HyperModelLike, space: Space | None = None, sample: Any = None,
                 objective: str | None = None, seed: int | None = None,
                 dtype_policy: str | None = None) -> None:  # fmt: skip
        super().__init__(name=describe(user))
        self.user = user
        self.space = space
        self.sample = sample
        self.objective = objective
        self.seed = seed
        self.dtype_policy = dtype_policy

    def build(self, hp: kt.HyperParameters) -> keras.Model:
        if self.seed is not None:
            keras.utils.set_random_seed(self.seed)
        if self.dtype_policy is not None:
            keras.mixed_precision.set_global_policy(self.dtype_policy)
        if self.space is not None:
            define(hp, self.space)
        caught: list[warnings.WarningMessage] = []
        try:
            with warnings.catch_warnings(record=True) as caught:
                model = self.user.build(hp) if isinstance(self.user, kt.HyperModel) else self.user(hp)
        finally:  # a build that fails too: its warnings may say why
            _show_once(caught)
        check_model(model, describe(self.user))
        if not model.built and self.sample is not None and not has_own_fit(self.user):
            model(self.sample, training=False)  # its variables exist from here on
        return model

    def fit(
        self,
        hp: kt.HyperParameters,
        model: keras.Model,
        *args: Any,
        state_path: Path | None = None,
        fidelity: DataFidelity | None = None,
        **kwargs: Any,
    ) -> Any:
        caught: list[warnings.WarningMessage] = []
        try:  # a warning of the training (a layer's, as each trial traces it) shown once too
            with warnings.catch_warnings(record=True) as caught:
                return self._fit(hp, model, args, kwargs, state_path, fidelity)
        finally:
            _show_once(caught)

    def continues_epochs(self) -> bool:
        """Whether a training can go on after the epochs it saved: a fit of its own takes
        ``initial_epoch`` (or has none: ``model.fit`` does).

        Returns:
            False where the fit of its own cannot be given ``initial_epoch``.
        """
        return not has_own_fit(self.user) or takes_keyword(self.user.fit, "initial_epoch")  # type: ignore[union-attr]

    def _fit(
        self,
        hp: kt.HyperParameters,
        model: keras.Model,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        state_path: Path | None,
        fidelity: DataFidelity | None,
    ) -> Any:
        kwargs.setdefault("verbose", 0)
        objective = self.objective
        held_out = kwargs.get("validation_data", ()) is not None
        if not held_out:
            del kwargs["validation_data"]  # a retrain on every image: nothing held out
            objective = None  # nor an objective to log: the retrain reads the curves
        if has_own_fit(self.user):
            fit = self.user.fit  # type: ignore[union-attr]
            silenced = "verbose" not in inspect.signature(fit).parameters  # a fit's **kwargs: model.fit's
            if silenced:  # verbose= it may pass itself besides: Keras' bars kept off the terminal
                kwargs.pop("verbose")
            if state_path is not None and "state_path" in inspect.signature(fit).parameters:
                kwargs["state_path"] = state_path  # it resumes epochs itself (ImageCNN)
            if fidelity is not None:  # a fit without the parameter is refused before the search
                kwargs["fidelity"] = fidelity
            if "epochs" in kwargs:
                cap = _EpochCap(self.name, int(kwargs["epochs"]))
                kwargs["callbacks"] = [cap, *(kwargs.get("callbacks") or [])]  # before the recorder
            returned = self._call_own(fit, (hp, model, args, kwargs), held_out, silenced)
            result = fit_result(returned, self.name, objective)
            _check_float(result, model, self.name, objective)
            return result
        return _fit_resumable(model, args, kwargs, state_path, fidelity)

    def _call_own(self, fit: Callable[..., Any], call: tuple[Any, Any, tuple, dict[str, Any]],
                  held_out: bool, silenced: bool) -> Any:  # fmt: skip
        """The user's own ``fit`` called with ``call`` (hp, model, args, kwargs), Keras'
        interactive output ``silenced`` or not; where the retrain on every row (not
        ``held_out``: no ``validation_data``) makes it raise what reading a missing one
        raises, SearchError saying so (a trial's error, and any other, goes through as it is)."""
        if held_out:  # without validation_data, the retrain's message below says more
            _check_call(fit, self.name, call)
        try:
            with _progress_bars_silenced() if silenced else contextlib.nullcontext():
                return _call_fit(fit, self.name, *call)
        except (SearchError, kt.errors.FatalError):  # told already, or a stop
            raise
        except (TypeError, AttributeError, KeyError, ValueError) as exc:
            if held_out:
                raise
            raise SearchError(
                f"{self.name}'s fit raised {type(exc).__name__} ({exception_line(exc)}) in the"
                " final retrain, which calls it without validation_data (every row trains, none"
                " is held out); let fit train without it and resume the run, or retrain on the"
                " validated split: `python -m search export RUN --retrain-data validated`"
            ) from exc


class FitCallError(SearchError, kt.errors.FatalError):
    """A HyperModel's own ``fit`` passes ``model.fit`` a keyword that the search passes it
    too, or trains past the epochs it is given. Every trial would fail alike: as a
    FatalError, KerasTuner lets it through."""


EPOCHS_SET = "the search sets each training's epochs (up to max_epochs, Hyperband's rungs, the retrain's cap)"
TRAIN_LONGER = f"give {option('max_epochs')} to train longer"


class _EpochCap(keras.callbacks.Callback):
    """FitCallError at the end of an epoch past the ``epochs`` a HyperModel's own ``fit`` was
    given (it set ``kwargs["epochs"]`` higher): the budget, the progress and the retrain's
    cap count the search's epochs. Fewer are its own business."""

    def __init__(self, name: str, epochs: int) -> None:
        super().__init__()
        self.name, self.epochs = name, epochs

    def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
        if epoch >= self.epochs:
            raise FitCallError(
                f"{self.name}'s fit trains epoch {epoch + 1} where the search gave it"
                f" {self.epochs}: {EPOCHS_SET}; leave kwargs['epochs'] as given, and {TRAIN_LONGER}"
            )


def _check_call(fit: Callable[..., Any], name: str, call: tuple[Any, Any, tuple, dict[str, Any]]) -> None:
    """FitCallError where ``fit`` cannot take ``call`` (hp, model, args, kwargs) at all, as
    Hyperband's ``initial_epoch=`` to a fit naming its parameters: every trial would fail alike."""
    hp, model, args, kwargs = call
    try:
        inspect.signature(fit).bind(hp, model, *args, **kwargs)
    except TypeError as exc:
        raise FitCallError(call_refusal(name, [k for k in kwargs if k != "verbose"], str(exc))) from None


_REPEATED = re.compile(r"got multiple values for keyword argument '(\w+)'")


@contextlib.contextmanager
def _progress_bars_silenced() -> Iterator[None]:
    """Keras' progress bars kept off the terminal meanwhile, with the rest of its interactive
    output (``model.summary()``, callbacks' ``verbose`` lines: sent to its absl log, which
    shows none): a fit of its own calls ``model.fit`` without the search's ``verbose=0``."""
    interactive = keras.config.is_interactive_logging_enabled()
    keras.config.disable_interactive_logging()
    try:
        yield
    finally:
        if interactive:
            keras.config.enable_interactive_logging()


def _call_fit(fit: Callable[..., Any], name: str, hp: kt.HyperParameters, model: keras.Model,
              args: tuple, kwargs: dict[str, Any]) -> Any:  # fmt: skip
    """``fit(hp, model, *args, **kwargs)``; FitCallError, with the fix, where it passed
    ``model.fit`` one of ``kwargs`` a second time (``epochs=hp.Int(...)``, as KerasTuner
    users do when ``tuner.search`` is given no epochs)."""
    try:
        return fit(hp, model, *args, **kwargs)
    except TypeError as exc:
        repeated = _REPEATED.search(str(exc))
        if repeated is None or repeated[1] not in kwargs:
            raise
        if repeated[1] == "epochs":
            raise FitCallError(
                f"{name}'s fit passes epochs= to model.fit besides the **kwargs it is given, which"
                f" hold it already: {EPOCHS_SET}; drop epochs= and {TRAIN_LONGER}"
            ) from None
        raise FitCallError(
            f"{name}'s fit passes {repeated[1]}= to model.fit besides the **kwargs it is given, which"
            f" hold it already (the search passes {', '.join(sorted(set(kwargs) - {'verbose'}))}):"
            f" set kwargs[{repeated[1]!r}] = ... before model.fit(*args, **kwargs) instead"
        ) from None


class FitResultError(SearchError, kt.errors.FatalError):
    """A HyperModel's own ``fit`` returned what KerasTuner cannot take. Every trial would
    fail alike: as a FatalError, KerasTuner lets it through, and the search stops at once."""


def fit_result(result: Any, name: str, objective: str | None) -> Any:
    """What the HyperModel ``name``'s own ``fit`` returned, as KerasTuner takes it (a
    number-like value as a float); FitResultError saying what it was, and the fix, when
    KerasTuner cannot take it (``objective``: the key a dict must hold)."""
    if isinstance(result, list) and result:  # one result per execution, as KerasTuner takes them
        return [fit_result(item, name, objective) for item in result]
    refused = _refused_result(result, objective)
    if refused:
        wanted = "the objective" if objective is None else repr(objective)
        raise FitResultError(
            f"{name}'s fit returned {refused}; KerasTuner takes a keras.callbacks.History (what"
            f" model.fit returns), a float (the objective's value) or a dict holding {wanted}:"
            f" return one of these at the end of {name}.fit"
        )
    if isinstance(result, (dict, keras.callbacks.History, float)):
        return result
    return float(result)


def _check_float(result: Any, model: keras.Model, name: str, objective: str | None) -> None:
    """FitResultError when ``name``'s fit returned a bare float, which KerasTuner takes as
    the objective's value, under the default objective ``val_accuracy`` while the model it
    trained logs metrics besides its loss and no accuracy (a regression's loss taken as
    ``val_accuracy`` would be maximized). A named objective is the user's word for it."""
    if objective != "val_accuracy" or not isinstance(result, float):
        return
    try:
        logged = list(model.get_metrics_result())
    except (RuntimeError, ValueError, AttributeError):  # metrics never built: nothing to tell by
        return
    if not set(logged) - {"loss"} or any(_is_accuracy(metric) for metric in logged):
        return
    raise FitResultError(
        f"{name}'s fit returned a float, taken as {objective!r} (the default objective), a"
        f" metric its model does not log (it logs {', '.join(logged)}); name what the float is,"
        f" e.g. {option('objective')} val_loss:min (Python: keras_tuner.Objective('val_loss', 'min')),"
        " or compile the model with metrics=['accuracy']"
    )


def _is_accuracy(metric: str) -> bool:
    """Whether Keras logs ``metric`` as an accuracy: ``accuracy``, ``sparse_categorical_accuracy``,
    or ``acc`` as compiled (``metrics=["acc"]`` keeps that name)."""
    return "accuracy" in metric or metric == "acc" or metric.endswith("_acc")


def _refused_result(result: Any, objective: str | None) -> str:
    """What ``result`` is, when a HyperModel's ``fit`` may not return it; "" otherwise."""
    if result is None:
        return "None (does it end with a return statement?)"
    if isinstance(result, dict):
        if objective is None or objective in result:
            return ""
        keys = ", ".join(repr(key) for key in result) or "none"
        return f"a dict without {objective!r} (keys: {keys})"
    if isinstance(result, keras.callbacks.History):
        logged = result.history or {}
        if objective is None or not logged or objective in logged:
            return ""
        return f"a History without {objective!r} (logged: {', '.join(map(repr, logged))})"
    if isinstance(result, str):
        return f"a str ({result[:40]!r})"
    if isinstance(result, bytes) or not _is_number(result):
        return a_kind(result)
    return ""


def _fit_growing(
    model: keras.Model, args: tuple, kwargs: dict[str, Any], fidelity: DataFidelity | None
) -> keras.callbacks.History:
    """``model.fit``; under ``fidelity``, one fit per run of epochs on the same images
    (``x``, one array or a multi-input model's several, and ``y``, the first two of
    ``args``, and their ``sample_weight``), their histories joined."""
    if fidelity is None:
        return model.fit(*args, **kwargs)
    (x, y, *rest), fit_args = args, dict(kwargs)
    epochs, epoch = int(fit_args.pop("epochs", 1)), int(fit_args.pop("initial_epoch", 0))
    minimum = int(fit_args.get("batch_size") or KERAS_BATCH_SIZE)
    weights = fit_args.pop("sample_weight", None)
    history = keras.callbacks.History()
    history.epoch = []
    while epoch < epochs:
        size, end = fidelity.images(epoch, len(y), minimum), epoch + 1
        while end < epochs and fidelity.images(end, len(y), minimum) == size:
            end += 1
        rows = fidelity.rows(epoch, len(y), minimum)
        if weights is not None:  # the rows' weights follow them
            fit_args["sample_weight"] = weights[rows]
        part = model.fit(take(x, rows), y[rows], *rest, initial_epoch=epoch, epochs=end, **fit_args)
        history.epoch += part.epoch
        for key, values in part.history.items():
            history.history.setdefault(key, []).extend(values)
        if model.stop_training:  # a pruner stopped the trial
            break
        epoch = end
    return history


def _fit_resumable(
    model: keras.Model,
    args: tuple,
    kwargs: dict[str, Any],
    state_path: Path | None,
    fidelity: DataFidelity | None = None,
) -> keras.callbacks.History:
    """``model.fit`` (on growing subsets under ``fidelity``), continuing after the last
    epoch saved in ``state_path``."""
    if state_path is None:
        return _fit_growing(model, args, kwargs, fidelity)
    callbacks = list(kwargs.pop("callbacks", None) or [])
    epochs = int(kwargs.get("epochs", 1))
    initial = int(kwargs.pop("initial_epoch", 0))
    restored = load_state(state_path, model) if state_path.exists() else None
    done, logs = (restored.epochs, restored.logs) if restored is not None else ([], [])
    if restored is not None:
        replay = keras.callbacks.CallbackList(callbacks, model=model, epochs=epochs, verbose=0)
        initial = max(initial, replay_epochs(restored, replay, initial, epochs))
    states = _EpochStates(state_path, done, logs)
    kwargs.update(initial_epoch=initial, callbacks=[*callbacks, states])
    history = _fit_growing(model, args, kwargs, fidelity)
    for epoch_logs in reversed(logs):  # the restored epochs come first in the history
        for key, value in epoch_logs.items():
            history.history.setdefault(key, []).insert(0, value)
    state_path.unlink(missing_ok=True)  # the trial is over: nothing left to continue
    return history


def first_row(x: Any) -> Any:
    """The first row of inputs ``x`` (an array, or a list or dict of arrays), kept as a
    batch of one."""
    return keras.tree.map_structure(lambda array: array[:1], x)


def check_model(model: Any, name: str) -> None:
    """SearchError unless ``model`` is a compiled Keras model."""
    if not isinstance(model, keras.Model):
        raise SearchError(
            f"{name} returned {type(model).__name__}, not a keras.Model; return the model"
        )
    if getattr(model, "optimizer", None) is None or not getattr(model, "compiled", True):
        raise SearchError(
            f"{name} returned a model that is not compiled; call model.compile(optimizer=...,"
            " loss=..., metrics=[...]) in build"
        )


def model_metrics(
    hypermodel: UserHyperModel, model: keras.Model, x: Inputs, y: np.ndarray, what: str
) -> list[str]:
    """The metric names ``model`` logs, tried on a few rows of ``(x, y)``; SearchError
    naming ``what`` (e.g. "test_data") when the data do not fit the model. What the try
    writes to stderr (TensorFlow's log of a failed op) is not shown; a layer's warnings
    are, once, as a build's are."""
    caught: list[warnings.WarningMessage] = []
    try:
        rows = _check_rows(y)
        with stderr_kept_back(shown_if_raised=False), warnings.catch_warnings(record=True) as caught:
            results = model.evaluate(take(x, rows), y[rows], return_dict=True, verbose=0)
    except Exception as exc:
        raise SearchError(
            f"{what} does not fit {hypermodel.name}'s model (its input shape, or labels its"
            f" loss takes): {exception_line(exc)[:300]}"
        ) from None
    finally:
        _show_once(caught)
    return [name for name, value in results.items() if _is_number(value)]


def _check_inputs(name: str, model: keras.Model, x: Inputs) -> None:
    """SearchError where the arrays of ``x`` do not match the inputs of ``name``'s model:
    their count, or their form (a dict for a model called on a dict of inputs, with its
    keys; a list, or a dict by the inputs' names, for one called on a list). Keras would
    feed them anyway, in another order or without some, with a warning. Not checked for a
    model whose inputs are unknown before a call (a subclass)."""
    known = getattr(model, "inputs", None) or []
    if not known:
        return
    try:
        structure = model.input  # a dict for a model called on a dict of inputs
    except (AttributeError, ValueError):  # a Sequential model never called
        structure = None
    keyed = isinstance(structure, dict)
    names = list(structure) if keyed else [tensor.name for tensor in known]
    # A model of one input not given in a list: Keras takes that input in a list or a dict
    # too, with a warning about their structure.
    lone = not keyed and len(known) == 1 and not isinstance(structure, (list, tuple))
    given = parts(x)
    if isinstance(x, dict):  # a model on a list of inputs maps a dict by their names too
        fits = not lone and sorted(given) == sorted(names)
    else:
        fits = not keyed and len(given) == len(known) and not (lone and isinstance(x, list))
    if fits:
        return
    takes = plural(len(known), "input")
    named = f"a dict of arrays {', '.join(map(repr, names))}"
    listed = f"a list of {len(known)} arrays, in its inputs' order, or {named}"
    if keyed:
        takes, form = f"a dict of {takes}", named
        if isinstance(x, list):
            takes += " (Keras would match a list to them by position, not by name)"
    elif not lone:  # built on a list: Keras takes it listed, or by its inputs' names
        form = listed if len(known) > 1 else f"one array, a list of 1, or {named}"
    else:
        form = "one array"
        if isinstance(x, (dict, list)):
            takes += f", not a {type(x).__name__}"
            form += f" (x[{next(iter(given)) if isinstance(x, dict) else 0!r}])" if len(given) == 1 else ""
    raise SearchError(f"x: {form_words(x)}, but {name}'s model takes {takes}; pass x as {form}")


def _check_class_indices(name: str, model: keras.Model, splits: Any) -> None:
    """SearchError where a sparse loss (class indices) is given float labels with fractions
    (Keras truncates them and trains, while its accuracy never matches one: every trial at
    0), or one-hot rows (Keras names only the ranks)."""
    loss = getattr(model, "loss", None)
    loss_name = str(getattr(loss, "name", None) or getattr(loss, "__name__", None) or loss)
    if "sparse" not in loss_name.lower():
        return
    for what, y in (("y", splits.y_train), ("validation_data", splits.y_val), ("test_data", splits.y_test)):
        if not len(y):
            continue
        if _one_hot(y, model):
            raise SearchError(
                f"{what}: one-hot rows ({y.shape[1]} columns) for {name}'s {loss_name}, which takes"
                " class indices; pass the indices (y.argmax(axis=1)), or compile the model with"
                " 'categorical_crossentropy'"
            )
        fraction = _first_fraction(y)
        if fraction is not None:
            raise SearchError(
                f"{what}: labels with fractions (e.g. {fraction:g}) for {name}'s"
                f" {loss_name}, which takes class indices; pass integer class labels (0, 1, ...),"
                " or compile the model with a loss for values (e.g. 'mse')"
            )


def _first_fraction(y: np.ndarray) -> float | None:
    """The first finite value of ``y`` that is not a whole number; None: there is none
    (integer dtypes hold none)."""
    if not np.issubdtype(y.dtype, np.floating):
        return None
    fractions = y[np.isfinite(y) & (y != np.floor(y))]
    return float(fractions.flat[0]) if len(fractions) else None


_MATCHED = (keras.metrics.BinaryAccuracy, keras.metrics.SparseCategoricalAccuracy)
"""Accuracies that count the rows whose target equals a predicted label (Keras' "accuracy"
is one of them for one target a row)."""


def _compiled_metric(model: keras.Model, name: str) -> keras.metrics.Metric | None:
    """The metric ``model`` was compiled with that logs ``name`` (as Keras resolved it: its
    "accuracy" is a binary, sparse or categorical accuracy by the data's shapes), once the
    model has been evaluated; None: none, or a metric of its own loss."""
    for metric in model.metrics:
        for inner in getattr(metric, "metrics", None) or [metric]:
            if inner.name == name:
                return inner
    return None


def _check_accuracy_of_values(
    name: str, objective: str, y: np.ndarray, model: keras.Model, metric: keras.metrics.Metric | None
) -> None:
    """SearchError where the objective is an accuracy that counts targets equal to a
    predicted label, and ``y`` holds values with fractions (a regression's): no row ever
    matches, every trial scores about 0, and the choice among them is arbitrary; or where it
    is Keras' categorical accuracy of multi-label rows. ``metric``: the objective's compiled
    metric (another, a user's own named so or a function such as
    ``keras.metrics.binary_accuracy`` that Keras wraps, is the user's word)."""
    if isinstance(metric, keras.metrics.CategoricalAccuracy) and _rows_for(y, model):
        _check_accuracy_of_labels(name, objective, y)  # not a sequence model's class indices per step
        return  # rows of class probabilities: their likeliest class is compared
    fraction = _first_fraction(y) if isinstance(metric, _MATCHED) else None
    if fraction is not None:
        raise SearchError(
            f"objective {objective!r}: y holds values with fractions (e.g. {fraction:g}),"
            f" which {name}'s {objective.removeprefix('val_')} never matches (it counts rows whose"
            " predicted label equals y): every trial would score about 0, the choice among them"
            f" arbitrary; for a regression set {option('objective')} to 'val_loss' (or an error"
            " compiled in metrics=, e.g. 'val_mae'); for classes pass integer labels"
        )


def _check_accuracy_of_labels(name: str, objective: str, y: np.ndarray) -> None:
    """SearchError where Keras' "accuracy" of rows of several labels is the objective: for
    rows of 0s and 1s that are not one-hot (multi-label), it is the categorical accuracy,
    which compares each row's likeliest label alone."""
    if not np.isin(y, (0, 1)).all() or (y.sum(axis=1) == 1).all():
        return
    raise SearchError(
        f"objective {objective!r}: y holds rows of several labels, or none (multi-label), for which"
        f" {name}'s {objective.removeprefix('val_')} is Keras' categorical accuracy, comparing only"
        " the likeliest label of each row; compile metrics=['binary_accuracy'] (or an AUC) and set"
        f" {option('objective')} to 'val_binary_accuracy'"
    )


def _one_hot(y: np.ndarray, model: keras.Model) -> bool:
    """Whether ``y``'s rows are one-hot for ``model``'s one output of as many classes (not
    a sequence model's class indices per step, which may be 0s and 1s too)."""
    if y.ndim != 2 or y.shape[1] < 2 or not (np.isin(y, (0, 1)).all() and (y.sum(axis=1) == 1).all()):
        return False
    return _rows_for(y, model)


def _rows_for(y: np.ndarray, model: keras.Model) -> bool:
    """Whether ``model`` has one output of rows as long as ``y``'s (one value per class or
    label, not a sequence model's per step)."""
    outputs = getattr(model, "outputs", None) or []
    shape = tuple(outputs[0].shape) if len(outputs) == 1 else ()
    return y.ndim == 2 and len(shape) == 2 and shape[1] == y.shape[1]


def _check_rows(y: np.ndarray) -> np.ndarray:
    """The rows a model is tried on: the first few, and those holding the smallest and the
    largest target (a label out of the model's range shows before the search)."""
    flat = y.reshape(len(y), -1)
    extremes = [int(flat.min(axis=1).argmin()), int(flat.max(axis=1).argmax())]
    return np.unique(np.concatenate([np.arange(min(CHECK_ROWS, len(y))), extremes]))


def check_on_data(
    user: HyperModelLike, splits: Any, objective: kt.Objective, space: Space | None = None
) -> None:
    """Before any work: the default model takes every split, and logs the objective
    (unless the user's own ``fit`` reports it). SearchError naming the fix otherwise."""
    if splits.weighted() and weights_refusal(user):
        raise SearchError(weights_refusal(user))
    hypermodel = UserHyperModel(user, space)  # no sample: model_metrics' call names a misfit
    keras.backend.clear_session()
    model = hypermodel.build(kt.HyperParameters())
    if has_own_fit(user):  # its fit may prepare the data first: only the build is checked
        keras.backend.clear_session()
        return
    outputs = len(getattr(model, "outputs", None) or ())
    if outputs > 1:
        keras.backend.clear_session()
        raise SearchError(
            f"{hypermodel.name}'s model has {outputs} outputs; search.run takes one array for y:"
            " give the model one output (several targets side by side in y's columns, split inside"
            " the loss, or a model of its own per target)"
        )
    _check_inputs(hypermodel.name, model, splits.x_train)
    _check_class_indices(hypermodel.name, model, splits)
    metrics = model_metrics(hypermodel, model, splits.x_train, splits.y_train, "x, y")
    model_metrics(hypermodel, model, splits.x_val, splits.y_val, "validation_data")
    if len(splits.y_test):
        model_metrics(hypermodel, model, splits.x_test, splits.y_test, "test_data")
    compiled = _compiled_metric(model, objective.name.removeprefix("val_"))
    keras.backend.clear_session()
    logged = [f"val_{name}" for name in metrics] + metrics
    if objective.name not in logged:
        why = " (the default and pareto objectives)" if objective.name == "val_accuracy" else ""
        validated = [name for name in logged if name.startswith("val_") and name != "val_loss"]
        example = (validated or ["val_loss"])[0]
        raise SearchError(
            f"objective {objective.name!r}{why} is not among the metrics of {hypermodel.name}'s"
            f" model ({', '.join(logged)}); set {option('objective')} to one of these, e.g."
            f" {example!r}, or compile the model with {objective.name.removeprefix('val_')!r}"
        )
    _check_accuracy_of_values(hypermodel.name, objective.name, splits.y_train, model, compiled)


def _is_number(value: Any) -> bool:
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True
