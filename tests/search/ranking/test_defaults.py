"""The ranking rule's defaults (tolerance, converged epochs) are defined once, in
search.ranking, and every default of the API, the engine and the report is that one."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import fields
from typing import Any

import pytest

from search import api
from search.engine._request import RunRequest
from search.ranking import CONVERGED_EPOCHS, TOLERANCE, choose, rank_run, rank_trials, trials_table
from search.report._data import rank_rule


def _default(fn: Callable[..., Any], name: str) -> Any:
    return inspect.signature(fn).parameters[name].default


def _field(name: str) -> Any:
    return next(f.default for f in fields(RunRequest) if f.name == name)


@pytest.mark.parametrize("fn", [rank_trials, choose, rank_run, api.run])
def test_every_tolerance_default_is_the_rules(fn: Callable[..., Any]) -> None:
    assert _default(fn, "tolerance") == TOLERANCE


@pytest.mark.parametrize("fn", [trials_table, api.run])
def test_every_converged_epochs_default_is_the_rules(fn: Callable[..., Any]) -> None:
    assert _default(fn, "converged_epochs") == CONVERGED_EPOCHS


def test_a_request_and_a_run_that_stored_no_rule_use_the_rules_defaults() -> None:
    assert (_field("tolerance"), _field("converged_epochs")) == (TOLERANCE, CONVERGED_EPOCHS)
    rule = rank_rule({})
    assert (rule.tolerance, rule.converged_epochs) == (TOLERANCE, CONVERGED_EPOCHS)
