"""Hyperparameter search for Keras image classifiers, on KerasTuner."""

__version__ = "0.1.0"
