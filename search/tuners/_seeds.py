"""Seeds derived from the run's: kept within what NumPy's and the samplers' generators take."""

from __future__ import annotations

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
