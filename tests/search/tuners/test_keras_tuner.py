"""KerasTuner's tuners as the search runs them: Hyperband's continuations."""

from __future__ import annotations

import json
import re
from pathlib import Path

import keras
import keras_tuner as kt
import pytest

from search.tuners._keras_tuner import HyperbandOracle, HyperbandTuner
from tests import user_models as um


class _Built(kt.HyperModel):
    def build(self, hp: kt.HyperParameters) -> keras.Model:
        return um.build(hp)


def test_a_damaged_parent_checkpoint_names_the_trial_and_its_file(tmp_path: Path) -> None:
    """A continuation whose parent's checkpoint is truncated fails with a reason naming the
    parent trial and its file, not h5py's 'Unable to synchronously open file' alone."""
    oracle = HyperbandOracle(objective=kt.Objective("val_accuracy", "max"), max_epochs=3, factor=3, seed=1)
    tuner = HyperbandTuner(_Built(), oracle, tmp_path / "tuner")
    values = {"units": 4, "dropout": 0.0, "learning_rate": 0.01}
    hp = kt.HyperParameters()
    hp.values = dict(values)
    parent = tmp_path / "tuner" / "trial_0001"
    parent.mkdir(parents=True)
    (parent / "build_config.json").write_text(json.dumps(um.build(hp).get_build_config()))
    checkpoint = parent / "checkpoint.weights.h5"
    checkpoint.write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(100))
    hp.values["tuner/trial_id"] = "0001"
    shown = re.escape(str(checkpoint))
    fix = "Hyperband continues this trial from it: restore the file, or search on in a new run"
    with pytest.raises(OSError, match=rf"^trial 0001's checkpoint {shown} cannot be read \(.+\); {fix}$"):
        tuner._build_hypermodel(hp)
