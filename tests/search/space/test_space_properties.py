"""Property-based tests: whatever a space file or a --fix holds, the user gets the project's
one-line error naming where it came from, never another exception."""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from search.engine import RunRequest, plan
from search.errors import SearchError, SpaceError
from search.experiments import get
from search.space import Space, parse_fix, parse_space
from search.space._load import _KEYS as ALLOWED

EXAMPLES = 400
"""Examples per property: the generated documents run through the loader in milliseconds."""
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow])  # fmt: skip
KINDS = ["float", "int", "choice", "bool", "fixed"]
KEYS = ["type", "default", "low", "high", "step", "log", "values", "ordered", "condition",
        "help", "value"]  # fmt: skip
NAMES = ["learning_rate", "dense_units", "dropout", "augment", "flip", "shift", "zoom",
         "rotation", "preprocessing", "filters", "conv_blocks", "batch_norm", "batch_size",
         "base", "fine_tune_layers", "fine_tune_after", "fine_tune_learning_rate"]  # fmt: skip
BIG = 2**63 - 1
"""TOML's integers are signed 64-bit."""

scalars = st.one_of(
    st.booleans(),
    st.integers(-BIG, BIG),
    st.integers(-300, 300),
    st.floats(),
    st.text(max_size=8),
    st.sampled_from([*KINDS, "scale", "standardize", "xception", "mobilenet_v2"]),
    st.dates(),
    st.datetimes(),
    st.times(),
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8,
)
entry_keys = st.sampled_from(KEYS) | st.text(min_size=1, max_size=6)
VALID = [
    {"type": "float", "low": 0.0, "high": 1.0, "default": 0.5, "step": 0.1},
    {"type": "float", "low": 1e-4, "high": 1e-1, "default": 1e-3, "log": True},
    {"type": "int", "low": 1, "high": 64, "default": 32, "step": 1},
    {"type": "choice", "values": [16, 32], "default": 16, "ordered": True},
    {"type": "choice", "values": ["scale", "standardize"], "default": "scale"},
    {"type": "bool", "default": False},
    {"type": "fixed", "value": 32},
]
"""Valid entries of every kind, which the strategies below change a key or two of."""
conditions = st.dictionaries(st.sampled_from(NAMES) | st.text(max_size=4), values, max_size=2)


def changed(base: dict[str, Any], changes: dict[str, Any], removed: list[str]) -> dict[str, Any]:
    return {k: v for k, v in {**base, **changes}.items() if k not in removed}



def _near(base: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    """``base`` with one or two of the keys its kind allows set to anything, or one left out."""
    keys = st.sampled_from(sorted(ALLOWED[base["type"]]))
    return st.builds(changed, st.just(base),
                     st.dictionaries(keys, scalars | values | conditions, max_size=2),
                     st.lists(keys, max_size=1))  # fmt: skip


near_valid = st.sampled_from(VALID).flatmap(_near)
entries = near_valid | st.dictionaries(entry_keys, values, max_size=7)
documents = st.dictionaries(
    st.sampled_from([*NAMES, "description"]) | st.text(min_size=1, max_size=6),
    near_valid | entries | values,
    max_size=4,
)


def toml_value(value: Any) -> str:
    """``value`` written as TOML (keys quoted, strings as JSON escapes them)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        return ("inf" if value > 0 else "-inf") if math.isinf(value) else repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return "{" + ", ".join(f"{json.dumps(k)} = {toml_value(v)}" for k, v in value.items()) + "}"


def toml_document(doc: dict[str, Any]) -> str:
    """Top-level values first, then one [table] per table."""
    lines = [f"{json.dumps(k)} = {toml_value(v)}" for k, v in doc.items() if not isinstance(v, dict)]
    for name, table in doc.items():
        if isinstance(table, dict):
            lines.append(f"[{json.dumps(name)}]")
            lines += [f"{json.dumps(k)} = {toml_value(v)}" for k, v in table.items()]
    return "\n".join(lines) + "\n"


def _loads_or_names(text: str, source: str) -> None:
    try:
        space = parse_space(text, source=source)
    except SpaceError as exc:
        assert str(exc).startswith(f"{source}: ") and "\n" not in str(exc), str(exc)
    else:
        assert isinstance(space, Space) and len(space) > 0


@SETTINGS
@given(documents)
@example({"two\nlines": {"type": "bool", "default": False}})
@example({"x": {"type": [], "default": False}})
def test_any_toml_document_loads_or_names_the_file(doc: dict[str, Any]) -> None:
    _loads_or_names(toml_document(doc), "space.toml")


@SETTINGS
@given(st.sampled_from(NAMES), near_valid)
def test_any_single_entry_loads_or_names_the_file(name: str, entry: dict[str, Any]) -> None:
    """One hyperparameter at a time: no earlier entry's error hides a later one's."""
    _loads_or_names(toml_document({name: entry}), "space.toml")


@SETTINGS
@given(st.text(max_size=200))
def test_any_text_loads_or_names_the_file(text: str) -> None:
    _loads_or_names(text, "space.toml")


single = st.builds(lambda name, entry: {name: entry}, st.sampled_from(NAMES), near_valid)


@settings(SETTINGS, max_examples=EXAMPLES // 2, suppress_health_check=list(HealthCheck))
@given(doc=single | documents, experiment=st.sampled_from(["fashion", "clothing"]))
def test_any_space_file_passes_or_fails_the_model_check_by_name(
    doc: dict[str, Any], experiment: str, tmp_path: Path
) -> None:
    """Through the experiment: its model's own checks (names, bases, value domains) too."""
    path = tmp_path / "space.toml"
    path.write_text(toml_document(doc), encoding="utf-8")
    try:
        get(experiment).load_space(path)
    except SpaceError as exc:
        assert str(exc).startswith(f"{path}: ") and "\n" not in str(exc), str(exc)


fix_values = st.one_of(
    st.text(max_size=12),
    values.map(lambda v: json.dumps(v, default=str)),
    st.sampled_from(["NaN", "Infinity", "-Infinity", "1e400", "[]", "{}", "null", "true", "0",
                     "-1", "0.5", "1e-3", "32", '"scale"', "9" * 40]),
)  # fmt: skip
fix_names = st.sampled_from(NAMES) | st.text(max_size=8)


@SETTINGS
@given(items=st.lists(st.tuples(fix_names, fix_values).map("=".join) | st.text(max_size=10),
                      min_size=1, max_size=3),
       experiment=st.sampled_from(["fashion", "clothing"]))  # fmt: skip
@example(items=["learning\nrate=0.01"], experiment="fashion")
def test_any_fix_is_used_or_refused_by_name(items: list[str], experiment: str) -> None:
    try:
        fixed = parse_fix(items)
        weights = "none" if experiment == "clothing" else None  # no download
        plan(RunRequest(experiment=experiment, tuner="random", fix=fixed, weights=weights))
    except SearchError as exc:
        assert str(exc).startswith("fix"), str(exc)  # the command line says --fix
        assert "\n" not in str(exc), str(exc)
