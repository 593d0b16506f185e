"""Adapters for the private internals of third-party libraries, one module per library.

Every use of a library's private attributes or modules goes through its adapter
(``search.compat.argparse``, ``search.compat.keras``, ``search.compat.keras_tuner``,
``search.compat.mlflow``, ``search.compat.optuna``, ``search.compat.tensorflow``), each with
the version range it is tested on and a ``check_version()`` that refuses another version
with a clear message (argparse's and Keras' say whether their internal is there: the
program works without it). The adapters import their library themselves: import the
module you need, nothing is imported here.
"""

__all__ = ["argparse", "keras", "keras_tuner", "mlflow", "optuna", "tensorflow"]
