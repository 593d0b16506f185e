"""Seeded, stratified splits and subsets.

Written with NumPy rather than scikit-learn's ``train_test_split`` to keep a heavy
dependency out for two short functions whose exact counts the tests pin down.
"""

from __future__ import annotations

import numpy as np

from search.errors import DataError

DEFAULT_VAL_SIZE = 10000
"""Validation images carved from the training set when an experiment gives no number
(Fashion-MNIST's: as many as its test set)."""


def stratified_indices(labels: np.ndarray, size: int, seed: int, at_least: int = 0) -> np.ndarray:
    """Indices of ``size`` items with class proportions as in ``labels``, in random order.

    Each class gets its proportional share rounded down, at least ``at_least`` items (those
    it has, if fewer); the remainder goes to the classes with the largest fractional shares
    (ties to the smaller label), and what a small class's minimum took over ``size`` comes
    off the largest shares, so counts are exact.

    Args:
        labels: the class label of each item.
        size: how many items to choose (at least ``at_least`` per class).
        seed: the seed of the choice and its order.
        at_least: the fewest items of each class chosen (a small class's share would round to 0).

    Returns:
        ``size`` distinct indices into ``labels``, shuffled.

    Raises:
        ValueError: ``size`` is not between 1 and the number of labels.
    """
    n = len(labels)
    if not 0 < size <= n:
        raise ValueError(f"size ({size}) must be between 1 and {n}")
    rng = np.random.default_rng(seed)
    classes, counts = np.unique(labels, return_counts=True)
    quotas = counts * size / n
    take = np.maximum(np.floor(quotas).astype(int), np.minimum(at_least, counts))
    remainder = size - take.sum()
    order = sorted(range(len(classes)), key=lambda i: (-(quotas[i] - take[i]), classes[i]))
    for i in order[: max(remainder, 0)]:
        take[i] += 1
    while take.sum() > size:  # the minimum of small classes: the largest shares give it back
        take[int(np.argmax(take))] -= 1
    chosen = [
        rng.permutation(np.flatnonzero(labels == cls))[:k]
        for cls, k in zip(classes, take)
    ]
    return rng.permutation(np.concatenate(chosen))


def check_size(size: int, labels: np.ndarray, option: str, where: str = "", *, spare: int = 0) -> None:
    """DataError unless ``size`` items can be a stratified subset of ``labels`` with every
    class in it: at least one item of each class, at most all of them but ``spare`` items
    of each class.

    Args:
        size: the subset's size, as given.
        labels: the class labels the subset is drawn from.
        option: the option that gave ``size``, as the user wrote it.
        where: what the largest size is, said after it (" (60,000 minus ...)").
        spare: items of each class to leave out of the subset (for the other split).
    """
    classes = len(np.unique(labels))
    largest = len(labels) - spare * classes
    if not classes <= size <= largest:
        raise DataError(
            f"{option} ({size}) must be between {classes} (one image of each class) and"
            f" {largest}{where}"
        )


def split_off(
    labels: np.ndarray, size: int, seed: int, at_least: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Hold out a stratified ``size``-item split (:func:`stratified_indices`).

    Args:
        labels: the class label of each item.
        size: how many items to hold out.
        seed: the seed of the split (``seed + 1`` shuffles the rest).
        at_least: the fewest items of each class held out.

    Returns:
        (rest, held_out): the indices of the remaining items, shuffled, and of those held out.
    """
    held = stratified_indices(labels, size, seed, at_least)
    mask = np.ones(len(labels), dtype=bool)
    mask[held] = False
    rest = np.flatnonzero(mask)
    return np.random.default_rng(seed + 1).permutation(rest), held
