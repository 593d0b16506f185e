"""The space a user's code declares: what ``build(hp)`` registers with ``hp.*``.

KerasTuner learns a hypermodel's space by building it: one build at the defaults, then one
more for each conditional scope still closed. A hyperparameter declared under a plain
``if`` (``for i in range(hp.Int("layers", 1, 3)): hp.Int(f"units_{i}", ...)``) is not
seen that way until a build takes its branch. When ``fix=`` or a space file names one,
the builds here take the branches that may declare it: the fixed values first, then each
other value of a choice or a boolean and an Int's ends, until every name is declared.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import keras
import keras_tuner as kt

from search._heap import heap_frozen
from search.errors import SearchError
from search.experiments._user import HyperModelLike, UserHyperModel, describe, has_own_fit
from search.space import TUNER_PREFIX, Bool, Choice, Condition, Int, Param, Space, space_from_hyperparameters

MAX_DECLARING_BUILDS = 20
"""Builds tried to find the hyperparameters of every conditional scope, and again those of
plain ``if`` branches that ``fix=`` or a space file names."""


@dataclass
class _Reach:
    """The names to find behind plain ``if`` branches, and the values fixed for them."""

    names: frozenset[str]
    fix: Mapping[str, Any]
    tried: set[tuple[str, str]] = field(default_factory=set)
    reached: set[str] = field(default_factory=set)
    """Names found only by a build at other values than the defaults."""


def declared_space(
    hypermodel: UserHyperModel, reach: Collection[str] = (), fix: Mapping[str, Any] | None = None
) -> tuple[Space, set[str]]:
    """The space the user's code declares: KerasTuner's hyperparameters after one build
    with every default and each conditional scope opened (plus a TOML space's, when given).

    Args:
        hypermodel: the user's build, a space file's definitions applied.
        reach: names to find too, where a plain ``if`` hides them from the defaults.
        fix: values the search fixes: the first branches taken to reach them.

    Returns:
        The space, and the names of ``reach`` found only behind a branch taken.
    """
    hp = kt.HyperParameters()
    wanted = _Reach(frozenset(reach), fix or {})
    with heap_frozen():  # each build clears Keras' session, a full garbage collection
        builds = _open_scopes(hypermodel, hp)
        while builds < MAX_DECLARING_BUILDS and (values := _next_values(hp, wanted)) is not None:
            builds += 1
            built = _built_at(hypermodel, hp, values)
            if built is not None:
                wanted.reached |= {h.name for h in built.space} - {h.name for h in hp.space}
                hp = built
    return _space_of(hp, hypermodel), wanted.reached & wanted.names


def _open_scopes(hypermodel: UserHyperModel, hp: kt.HyperParameters) -> int:
    """Build at the defaults, then again with each closed conditional scope opened, as
    KerasTuner does; returns the builds made."""
    tried: list[Any] = []
    for builds in range(1, MAX_DECLARING_BUILDS + 1):
        _build_once(hypermodel, hp)
        closed = [scope for scope in hp.inactive_scopes if scope not in tried]
        if not closed:
            return builds
        tried.append(closed[0])
        for condition in closed[0]:
            hp.values[condition.name] = condition.values[0]
        hp.ensure_active_values()
    return MAX_DECLARING_BUILDS


def _next_values(hp: kt.HyperParameters, wanted: _Reach) -> dict[str, Any] | None:
    """The values to build at next while a wanted name is missing: ``fix``'s values of the
    names declared so far, then, on top of them, one other value of one hyperparameter;
    None when every name is declared or every value was tried."""
    if not wanted.names - {h.name for h in hp.space}:
        return None
    space = _space_of(hp, None)
    base = _fixed_values(space, wanted.fix)
    key = ("fix", repr(sorted(base.items())))
    if key not in wanted.tried:
        wanted.tried.add(key)
        return base
    step = next(_other_values(space, wanted), None)
    if step is None:
        return None
    wanted.tried.add((step[0], repr(step[1])))
    return {**base, step[0]: step[1]}


def _fixed_values(space: Space, fix: Mapping[str, Any]) -> dict[str, Any]:
    """``fix``'s values of the names ``space`` has, as the space reads them; a value it
    refuses is left out (the search's ``fix`` says why, later)."""
    values = {}
    for name, value in fix.items():
        if name in space.names:
            try:
                values[name] = space.fix({name: value})[name].default
            except ValueError:
                continue
    return values


def _other_values(space: Space, wanted: _Reach) -> Iterator[tuple[str, Any]]:
    """A hyperparameter and a value of it that no build took yet: a boolean's other, a
    choice's others, an Int's ends; none of the fixed ones."""
    for param in space:
        if param.name in wanted.fix:
            continue
        for value in _branch_values(param):
            if value != param.default and (param.name, repr(value)) not in wanted.tried:
                yield param.name, value


def _branch_values(param: Param) -> tuple[Any, ...]:
    if isinstance(param, Bool):
        return (True, False)
    if isinstance(param, Choice):
        return param.values
    if isinstance(param, Int):
        return (param.high, param.low)
    return ()


def _built_at(
    hypermodel: UserHyperModel, hp: kt.HyperParameters, values: dict[str, Any]
) -> kt.HyperParameters | None:
    """A copy of ``hp`` built with ``values`` in place of the ones before; None where that
    build fails (a branch the search may never take: its trials would say why), and what it
    declared before failing with it."""
    built = hp.copy()
    built.values.update(values)
    built.ensure_active_values()
    try:
        _build_once(hypermodel, built)
    except SearchError:
        return None
    return built


def _space_of(hp: kt.HyperParameters, hypermodel: UserHyperModel | None) -> Space:
    if hypermodel is not None:
        _refuse_tuner_names(hp, hypermodel)
    try:
        return space_from_hyperparameters(hp, source=f"<{hypermodel.name if hypermodel else 'build'}>")
    except ValueError as exc:
        if hypermodel is None:
            raise
        raise SearchError(f"{hypermodel.name}: {exc}") from None


def _refuse_tuner_names(hp: kt.HyperParameters, hypermodel: UserHyperModel) -> None:
    """SearchError for a hyperparameter the user named as KerasTuner names its own
    (``tuner/epochs``): the tuner would overwrite it, and the records leave it out."""
    own = [h.name for h in hp.space if h.name.startswith(TUNER_PREFIX)]
    if own:
        raise SearchError(
            f"{hypermodel.name}: hyperparameter {own[0]!r}: names starting with"
            f" {TUNER_PREFIX!r} are KerasTuner's own (Hyperband's epochs and rounds), which"
            f" the tuner sets and the results leave out; rename it,"
            f" e.g. {own[0].removeprefix(TUNER_PREFIX)!r}"
        )


def declared_with(
    user: HyperModelLike, given: Space | None, fix: Mapping[str, Any] | None = None
) -> Space:
    """The space ``user`` declares, ``given`` (a TOML space) replacing its definitions of
    the same names; SearchError naming a hyperparameter of ``given`` that its build never
    declares (searched, it would change nothing), unless a ``fit`` of its own may.

    Args:
        user: the user's build function or HyperModel.
        given: a space file's definitions, or None.
        fix: the values the search fixes: their names are looked for behind plain ``if``
            branches too.

    Returns:
        The space to search (before ``fix`` is applied).
    """
    named = given.names if given is not None and not has_own_fit(user) else ()  # fit may declare them
    code, reached = declared_space(UserHyperModel(user), {*(fix or {}), *named}, fix)
    if given is None:
        return code
    for param in given:
        if param.name in code and not _same(code[param.name].condition, param.condition):
            raise SearchError(_condition_clash(
                given, param.name, code[param.name].condition, describe(user),
                param.name in reached and code[param.name].condition is None,
            ))  # fmt: skip
    space, _ = declared_space(UserHyperModel(user, given), {n for n in fix or {} if n in code.names}, fix)
    if has_own_fit(user):
        return space
    unknown = [name for name in given.names if name not in code]
    if unknown:
        raise SearchError(
            f"{given.source}: {', '.join(unknown)}: not a hyperparameter {describe(user)} declares"
            f" (it declares {', '.join(code.names) or 'none'}); remove it from the space file, or read it"
            " in build with hp.*"
        )
    return space


def _same(a: Condition | None, b: Condition | None) -> bool:
    """Whether two conditions activate on the same parent's same values, in any order."""
    if a is None or b is None:
        return a is b
    return a.parent == b.parent and set(a.values) == set(b.values)


def _condition_clash(
    given: Space, name: str, declared: Condition | None, who: str, under_if: bool
) -> str:
    """Why ``given``'s ``name`` cannot replace the one ``who`` declares under ``declared``
    (``under_if``: found behind a plain ``if``, which KerasTuner sees as no condition)."""
    def when(cond: Condition | None) -> str:
        return f"active only when {cond.describe()}" if cond is not None else "always"

    if under_if:
        return (
            f"{given.source}: {name}: {who} declares it under a plain `if`, which KerasTuner sees"
            f" as no condition, and the space file {when(given[name].condition).removeprefix('active ')};"
            f" remove the condition of [{name}], or declare it in build inside"
            " `with hp.conditional_scope(...)`"
        )
    if declared is None:
        fix = f"remove the condition of [{name}]"
    else:
        shown = [json.dumps(v) for v in declared.values]
        values = shown[0] if len(shown) == 1 else f"[{', '.join(shown)}]"
        inline = f"condition = {{ {declared.parent} = {values} }}"
        fix = f"make it {inline} in [{name}]" if given[name].condition else f"add {inline} to [{name}]"
    return (
        f"{given.source}: {name}: {who} declares it {when(declared)}, the space file"
        f" {when(given[name].condition).removeprefix('active ')}; {fix}"
    )


def _build_once(hypermodel: UserHyperModel, hp: kt.HyperParameters) -> None:
    keras.backend.clear_session()
    try:
        hypermodel.build(hp)
    except SearchError:
        raise
    except Exception as exc:
        raise SearchError(
            f"{hypermodel.name} does not build with its default hyperparameters:"
            f" {type(exc).__name__}: {exc}"
        ) from None
    finally:
        keras.backend.clear_session()
