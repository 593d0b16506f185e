"""What a HyperModel's own ``fit`` may return, as the search takes it."""

from __future__ import annotations

import keras_tuner as kt
import numpy as np
import pytest

from search.experiments import UserHyperModel
from search.experiments._user import FitResultError
from tests import user_models as um


def _fit(user: kt.HyperModel, objective: str) -> object:
    x, y = um.tiny_data(40)
    hypermodel = UserHyperModel(user, objective=objective)
    hp = kt.HyperParameters()
    model = hypermodel.build(hp)
    return hypermodel.fit(hp, model, x, y.astype("float32"), validation_data=(x, y), epochs=1)


def test_a_float_of_a_metric_the_model_does_not_log_is_not_taken_as_the_objective() -> None:
    """A regression's fit returns its loss; taken as val_accuracy (the default objective),
    the search would maximize the loss."""
    with pytest.raises(FitResultError, match=r"LossFloatFit's fit returned a float, taken as 'val_accuracy'"
                       r", a metric its model does not log \(it logs .*mean_absolute_error"
                       r".*\); .*objective=keras_tuner.Objective\('val_loss', 'min'\)"):  # fmt: skip
        _fit(um.LossFloatFit(), "val_accuracy")


def test_a_float_is_taken_as_an_objective_the_model_logs() -> None:
    assert isinstance(_fit(um.LossFloatFit(), "val_loss"), float)
    assert np.isfinite(_fit(um.FloatFit(), "val_accuracy"))
