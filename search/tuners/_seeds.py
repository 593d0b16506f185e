"""Seeds derived from the run's: kept within what NumPy's and the samplers' generators take."""

from __future__ import annotations

import contextlib
import random
from collections.abc import Iterator

import numpy as np

SEEDS = 2**32
"""How many seeds NumPy's generators take (and so Optuna's samplers and KerasTuner's
oracles): 0 to 2**32 - 1."""


def offset_seed(seed: int, offset: int) -> int:
    """``seed`` moved by ``offset`` (a trial's number, a worker's), wrapped into the seeds
    the generators take: ``--seed 4294967295`` plus one is 0, not a ValueError.

    Args:
        seed: the run's seed, 0 to 2**32 - 1.
        offset: what sets the derived seed apart, 0 or more.

    Returns:
        A seed from 0 to 2**32 - 1.
    """
    return (seed + offset) % SEEDS


@contextlib.contextmanager
def global_randomness_kept() -> Iterator[None]:
    """Python's and NumPy's global generators as they were before the block, once it ends:
    a search seeds them before each build (``keras.utils.set_random_seed``), and a
    notebook's own draws after it were the same after every search.

    Returns:
        A context manager that yields nothing.
    """
    python, numpy = random.getstate(), np.random.get_state()
    try:
        yield
    finally:
        random.setstate(python)
        np.random.set_state(numpy)
