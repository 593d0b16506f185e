"""Data fidelity (``--fidelity data``): a trial's training images grow with its epoch budget.

At an epoch budget ``b`` of the search's ``max_epochs`` ``R``, a trial trains on the first
``ceil(N * b / R)`` of the search's ``N`` training images (in one seeded order, the same for
every trial, so a larger budget's images include a smaller one's), never fewer than one
batch: early rungs are cheaper, and the top rung sees all ``N``. Validation always uses
every validation image.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

ORDER_STREAM = 7919
"""Mixed into the run's seed for the one order the growing subsets are prefixes of."""


def fidelity_images(budget: int, max_epochs: int, available: int, minimum: int = 1) -> int:
    """Training images at an epoch budget of ``budget`` out of ``max_epochs``:
    ``ceil(available * budget / max_epochs)``, at least ``minimum``, at most ``available``.

    Args:
        budget: the trial's epoch budget; one above ``max_epochs`` counts as ``max_epochs``.
        max_epochs: the search's most epochs per trial (the top rung, which gets every image).
        available: the search's training images.
        minimum: the fewest images returned (a batch), unless ``available`` is fewer.

    Returns:
        The number of training images, from 1 to ``available``.

    Raises:
        ValueError: ``budget``, ``max_epochs`` or ``available`` is below 1.
    """
    if budget < 1 or max_epochs < 1 or available < 1:
        raise ValueError(
            f"budget ({budget}), max_epochs ({max_epochs}) and images ({available}) must be"
            " at least 1"
        )
    share = math.ceil(available * min(budget, max_epochs) / max_epochs)
    return min(available, max(minimum, share))


@dataclass(frozen=True)
class DataFidelity:
    """What a trial's ``fit`` is told under ``--fidelity data``: the search's ``max_epochs``,
    the seed of the images' order, and the fit's own epoch budget."""

    max_epochs: int
    seed: int = 0
    budget: int | None = None
    """The fit's epoch budget, for all its epochs (Hyperband's round: its ``epochs``);
    None: each epoch's own, its index + 1 (pruners judge a trial after every epoch)."""

    def images(self, epoch: int, available: int, minimum: int = 1) -> int:
        """How many of ``available`` images epoch ``epoch`` (from 0) trains on."""
        budget = self.budget if self.budget is not None else epoch + 1
        return fidelity_images(budget, self.max_epochs, available, minimum)

    def rows(self, epoch: int, available: int, minimum: int = 1) -> np.ndarray:
        """The indices of those images: a prefix of one seeded order of all of them."""
        order = np.random.default_rng([self.seed, ORDER_STREAM]).permutation(available)
        return order[: self.images(epoch, available, minimum)]


__all__ = ["DataFidelity", "fidelity_images"]
