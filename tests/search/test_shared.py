"""The helpers several modules share: space checks of both models, the stop message, the
trial counts and the masked-URL test."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from hypermodels import ImageCNN, TransferModel
from search.engine._request import masked_url
from search.engine._signals import interrupted
from search.space import Space, parse_space
from search.storage import is_masked, status_counts


def _space(toml: str) -> Space:
    return parse_space(toml, source="s.toml")


@pytest.mark.parametrize("model", [ImageCNN, TransferModel])
def test_unknown_hyperparameter_is_named(model: type) -> None:
    space = _space('[wings]\ntype = "int"\nlow = 1\nhigh = 2\ndefault = 1\n')
    with pytest.raises(ValueError, match=r"^s.toml: wings: not a hyperparameter of this model; known: "):
        model.check_space(space)


@pytest.mark.parametrize(
    ("model", "name", "bad"),
    [(ImageCNN, "preprocessing", "whiten"), (TransferModel, "base", "alexnet")],
)
def test_value_outside_the_named_ones_is_named(model: type, name: str, bad: str) -> None:
    space = _space(f'[{name}]\ntype = "fixed"\nvalue = "{bad}"\n')
    with pytest.raises(ValueError, match=rf"^s.toml: {name}: '{bad}' is not one of "):
        model.check_space(space)


@pytest.mark.parametrize("model", [ImageCNN, TransferModel])
def test_value_outside_its_domain_is_named(model: type) -> None:
    space = _space('[dropout]\ntype = "float"\nlow = 0.0\nhigh = 1.0\ndefault = 0.5\n')
    with pytest.raises(ValueError, match=r"^s.toml: dropout: 1.0 cannot be used"):
        model.check_space(space)


@pytest.mark.parametrize("model", [ImageCNN, TransferModel])
def test_a_space_leaving_out_the_named_ones_passes(model: type) -> None:
    model.check_space(_space('[dropout]\ntype = "float"\nlow = 0.0\nhigh = 0.5\ndefault = 0.2\n'))


def test_interrupted_counts_completed_trials_and_names_the_folder() -> None:
    trials = [{"status": "completed"}, {"status": "failed"}, {"status": "completed"}]
    error = interrupted(trials, Path("/r/my run"), signal.SIGTERM)
    assert str(error) == "stopped after 2 trials; resume with: python -m search resume '/r/my run'"
    assert error.signum == signal.SIGTERM  # the command line exits with 128 + signum
    assert interrupted([], Path("r"), signal.SIGINT).signum == signal.SIGINT


def test_status_counts() -> None:
    trials = [{"status": "completed"}, {"status": "pruned"}, {}, {"status": "completed"}]
    assert status_counts(trials) == {"completed": 2, "pruned": 1, "unknown": 1}


def test_a_stored_url_is_masked_and_a_given_one_is_not() -> None:
    url = "postgresql+psycopg://user:secret@db/optuna"
    assert not is_masked(url)
    assert is_masked(masked_url(url))
    assert not is_masked(None)
