"""A model's inputs as ``model.fit`` takes them: one array, or several (a multi-input
model's list or dict of arrays, each holding every row).

The functions here do to several arrays what NumPy does to one: count rows, take rows,
join two sets of rows. Written here rather than with ``keras.tree`` so that the data layer
does not load Keras.
"""

from __future__ import annotations

from typing import TypeAlias

import numpy as np

from search._text import plural

Inputs: TypeAlias = "np.ndarray | list[np.ndarray] | dict[str, np.ndarray]"
"""One array, or a list or dict of arrays of as many rows."""


def parts(x: Inputs) -> dict[str, np.ndarray]:
    """The arrays of ``x`` by name.

    Args:
        x: One array, or a list or dict of arrays.

    Returns:
        ``{"": x}`` for one array, the arrays by index (``"0"``, ``"1"``...) for a list,
        a copy of the dict for a dict.
    """
    if isinstance(x, dict):
        return dict(x)
    if isinstance(x, list):
        return {str(index): array for index, array in enumerate(x)}
    return {"": x}


def rows(x: Inputs) -> int:
    """The number of rows of ``x``.

    Args:
        x: One array, or a list or dict of arrays of as many rows.

    Returns:
        The length of its (first) array.
    """
    return len(next(iter(parts(x).values())))


def take(x: Inputs, index: np.ndarray | slice) -> Inputs:
    """Some rows of every array of ``x``.

    Args:
        x: One array, or a list or dict of arrays of as many rows.
        index: The rows to take, as NumPy indexes one array.

    Returns:
        The rows ``index`` of each array, in ``x``'s form.
    """
    return _like(x, {name: array[index] for name, array in parts(x).items()})


def join(first: Inputs, second: Inputs) -> Inputs:
    """Two sets of rows joined.

    Args:
        first: One array, or a list or dict of arrays.
        second: Rows in the same form as ``first`` (as many arrays, the same keys).

    Returns:
        The rows of ``first`` then those of ``second``, in ``first``'s form.
    """
    others = parts(second)
    return _like(first, {name: np.concatenate([array, others[name]]) for name, array in parts(first).items()})


def row_shapes(x: Inputs) -> dict[str, tuple[int, ...]]:
    """The shape of one row of each array.

    Args:
        x: One array, or a list or dict of arrays.

    Returns:
        Each array's shape without its first (row) axis, by name as :func:`parts` names it.
    """
    return {name: tuple(array.shape[1:]) for name, array in parts(x).items()}


def row_shape(x: Inputs) -> tuple[int, ...]:
    """The shape of one row of a single array.

    Args:
        x: One array, or a list or dict of arrays.

    Returns:
        ``x``'s shape without its first axis where it is one array; ``()`` for several.
    """
    return tuple(x.shape[1:]) if isinstance(x, np.ndarray) else ()


def form_words(x: Inputs) -> str:
    """How a message names the form of some inputs.

    Args:
        x: One array, or a list or dict of arrays.

    Returns:
        "one array", "a list of N arrays", or "a dict of arrays" followed by its keys.
    """
    if isinstance(x, dict):
        return f"a dict of arrays {', '.join(map(repr, x))}"
    return f"a list of {plural(len(x), 'array')}" if isinstance(x, list) else "one array"


def single(x: Inputs, what: str) -> np.ndarray:
    """The one array of inputs that must be one (an image experiment's).

    Args:
        x: One array, or a list or dict of arrays.
        what: What ``x`` is, for the error.

    Returns:
        ``x`` itself.

    Raises:
        TypeError: ``x`` is several arrays (a caller's mistake: only a user's arrays come
            as several).
    """
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{what}: several arrays where one is due")
    return x


def _like(x: Inputs, arrays: dict[str, np.ndarray]) -> Inputs:
    """``arrays`` (named as :func:`parts` names them) in the form of ``x``."""
    if isinstance(x, dict):
        return arrays
    if isinstance(x, list):
        return list(arrays.values())
    return arrays[""]
