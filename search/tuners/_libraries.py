"""What a backend does before it creates a tuner: the libraries whose internals a search
uses are checked against their tested versions, and KerasTuner's writes made atomic."""

from __future__ import annotations

import keras

from search.compat import tensorflow as compat_tf
from search.tuners._atomic import install


def prepare() -> None:
    """Refuse an untested KerasTuner (or TensorFlow, when it is Keras's backend) with a
    SearchError, and make KerasTuner's state and checkpoint writes atomic. Idempotent."""
    if keras.backend.backend() == "tensorflow":
        compat_tf.check_version()
    install()
