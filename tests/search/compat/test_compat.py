"""The adapters for third-party internals (search.compat): version checks, the only place
private names are used, and KerasTuner's atomic writes as an explicit call."""

from __future__ import annotations

import argparse
import ast
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import keras
import keras_tuner as kt
import pytest

from search.compat import _versions
from search.compat import argparse as compat_argparse
from search.compat import keras as compat_keras
from search.compat import keras_tuner as compat_kt
from search.compat import mlflow as compat_mlflow
from search.compat import optuna as compat_optuna
from search.compat import tensorflow as compat_tf
from search.errors import SearchError
from tests.conftest import ROOT

ADAPTERS = [
    (compat_kt, "KerasTuner", compat_kt.KERAS_TUNER_TESTED, "keras-tuner"),
    (compat_mlflow, "MLflow", compat_mlflow.MLFLOW_TESTED, "mlflow"),
    (compat_optuna, "Optuna", compat_optuna.OPTUNA_TESTED, "optuna"),
    (compat_tf, "TensorFlow", compat_tf.TENSORFLOW_TESTED, "tensorflow"),
]

PRIVATE_NAMES = {
    # KerasTuner
    "_retry_queue", "_record_values", "_save_trial", "_get_size", "_get_num_brackets",
    "_get_num_rounds", "_get_epochs", "_brackets", "_compute_values_hash",
    "_random_values", "_duplicate", "_populate_initial_space", "_display",
    # Optuna
    "_storage", "_trial_id", "_contains",
    # TensorFlow
    "_gradient_registry",
    # MLflow
    "_tracking_store_registry", "_registry",
    # argparse
    "_negative_number_matcher",
    # Keras
    "_save_state",
}  # fmt: skip
PRIVATE_MODULES = ("keras_tuner.src", "keras.src", "tensorflow.python", "optuna._", "mlflow.tracking._")


def private_uses(path: Path) -> list[str]:
    """Each use (or override) of a third-party private name or module in ``path``, as
    ``file:line: name``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Attribute) and node.attr in PRIVATE_NAMES:
            found.append((node.lineno, node.attr))
        elif isinstance(node, ast.Constant) and node.value in PRIVATE_NAMES:  # getattr(x, "_y")
            found.append((node.lineno, node.value))
        elif isinstance(node, ast.Constant) and str(node.value).startswith(PRIVATE_MODULES):
            found.append((node.lineno, node.value))  # importlib.import_module("x.src.y")
        elif isinstance(node, ast.FunctionDef) and node.name in PRIVATE_NAMES:  # an override
            found.append((node.lineno, node.name))
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.startswith(PRIVATE_MODULES):
                found.append((node.lineno, node.module))
        elif isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.startswith(PRIVATE_MODULES)]
    return [f"{path.relative_to(ROOT)}:{line}: {name}" for line, name in found]


def test_private_internals_are_used_in_the_adapters_only() -> None:
    sources = [*ROOT.glob("search/**/*.py"), *ROOT.glob("hypermodels/**/*.py")]
    compat = ROOT / "search" / "compat"
    outside = [use for path in sorted(sources) if compat not in path.parents for use in private_uses(path)]
    assert outside == []
    inside = [use for path in sorted(compat.glob("*.py")) for use in private_uses(path)]
    assert len(inside) > 10  # the scan does find them where they are


@pytest.mark.parametrize(("adapter", "library", "tested", "distribution"), ADAPTERS)
def test_an_untested_version_is_refused_with_the_fix(
    adapter: ModuleType, library: str, tested: tuple[str, ...], distribution: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    adapter.check_version()  # the installed version is a tested one
    monkeypatch.setattr(_versions, "installed", lambda distributions: "99.0")
    with pytest.raises(SearchError) as caught:
        adapter.check_version()
    message = str(caught.value)
    assert "\n" not in message
    wanted = ",".join(tested)
    for part in (f"{library} 99.0 is installed", f"tested with {library} {wanted}",
                 f"pip install '{distribution}{wanted}'"):  # fmt: skip
        assert part in message


def test_checkpoints_use_keras_internals_on_a_tested_keras_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """On the installed (tested) Keras a checkpoint is built in memory; on an untested
    Keras, or one that moved its saving internals, ``save_weights`` writes it instead."""
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    assert compat_keras.check_version()  # the installed Keras is within KERAS_TESTED
    assert compat_keras.weights_file(model) is not None
    monkeypatch.setattr(_versions, "installed", lambda distributions: "3.16.0")
    assert not compat_keras.check_version()
    assert compat_keras.weights_file(model) is None
    monkeypatch.undo()
    monkeypatch.setattr(compat_keras, "SAVING_LIB", "keras.src.saving.moved_away")
    monkeypatch.setattr(compat_keras, "saving_lib", compat_keras._import_saving_lib())
    assert compat_keras.saving_lib is None
    assert compat_keras.weights_file(model) is None


@pytest.mark.parametrize("version", ["1.5.0", "1.5.0rc1", "1.4.6", "not-a-version"])
def test_keras_tuner_outside_its_range_is_refused(version: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_versions, "installed", lambda distributions: version)
    with pytest.raises(SearchError, match=f"KerasTuner {version} is installed"):
        compat_kt.check_version()


def test_mlflow_tracking_schemes_are_its_store_registry() -> None:
    schemes = compat_mlflow.tracking_schemes()
    assert {"", "file", "sqlite", "http", "https"} <= set(schemes)
    assert schemes == sorted(schemes)


def test_creating_a_tuner_checks_keras_tuner_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from search.tuners import Budget, TunerOptions, get

    class Tiny(kt.HyperModel):
        def build(self, hp: kt.HyperParameters) -> keras.Model:
            hp.Int("units", 1, 4)
            model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(2)])
            model.compile(optimizer="adam", loss="mse")
            return model

    real = _versions.installed
    monkeypatch.setattr(
        _versions, "installed", lambda names: "1.5.0" if names == ("keras-tuner",) else real(names)
    )
    with pytest.raises(SearchError, match="KerasTuner 1.5.0 is installed"):
        get("random").create(
            Tiny(), kt.Objective("val_loss", "min"), Budget(max_trials=1, max_epochs=1), 0,
            tmp_path / "tuner", [], TunerOptions(baseline=False),
        )  # fmt: skip
    assert not (tmp_path / "tuner").exists()


def test_the_atomic_writes_are_an_explicit_idempotent_call() -> None:
    from keras_tuner.src import utils as kt_utils
    from keras_tuner.src.engine import tuner_utils

    from search.tuners._atomic import install

    install()
    save_json, checkpoint = kt_utils.save_json, tuner_utils.SaveBestEpoch
    install()
    assert compat_kt.patched()
    assert kt_utils.save_json is save_json and tuner_utils.SaveBestEpoch is checkpoint
    originals = [c for c in checkpoint.__mro__ if c.__module__ == "keras_tuner.src.engine.tuner_utils"]
    assert checkpoint.__bases__ == tuple(originals)  # one layer over KerasTuner's own class


def test_importing_the_tuners_patches_nothing() -> None:
    code = (
        "import search.tuners\n"
        "from keras_tuner.src import utils\n"
        "from keras_tuner.src.engine import tuner_utils\n"
        "from search.compat import keras_tuner\n"
        "print(keras_tuner.patched(), utils.save_json.__module__, tuner_utils.SaveBestEpoch.__module__)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert done.stdout.split() == ["False", "keras_tuner.src.utils", "keras_tuner.src.engine.tuner_utils"]


def test_this_python_s_argparse_is_a_tested_one_with_the_pattern() -> None:
    """The command line takes ``--max-search-time -5s`` as a value (to refuse it in its own
    words) through argparse's private pattern: a Python that drops it must fail here."""
    assert compat_argparse.check_version()
    parser = argparse.ArgumentParser()
    parser.add_argument("--limit")
    compat_argparse.take_as_values(parser, re.compile(r"^-\.?\d"))
    assert parser.parse_args(["--limit", "-5s"]).limit == "-5s"


def test_a_value_a_distribution_cannot_represent_is_not_in_it() -> None:
    """An edited trials.json's 'bogus' choice or 10**30 failed the report ('unexpected')."""
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    assert compat_optuna.contains(CategoricalDistribution(("scale", "standardize")), "scale")
    assert not compat_optuna.contains(CategoricalDistribution(("scale", "standardize")), "bogus")
    assert compat_optuna.contains(IntDistribution(32, 512, step=32), 128)
    assert not compat_optuna.contains(IntDistribution(32, 512, step=32), 10**30)
    assert not compat_optuna.contains(FloatDistribution(0.0, 1.0), "abc")
