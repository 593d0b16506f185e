"""A multi-input model's inputs: rows counted, taken and joined as one array's are."""

from __future__ import annotations

import numpy as np
import pytest

from search.data import join, parts, row_shape, row_shapes, rows, single, take

A = np.arange(12, dtype="float32").reshape(6, 2)
B = np.arange(6)


@pytest.mark.parametrize("x", [A, [A, B], {"a": A, "b": B}])
def test_rows_are_taken_and_joined_in_the_inputs_form(x) -> None:
    assert rows(x) == 6
    picked = take(x, np.array([4, 1]))
    assert type(picked) is type(x) and rows(picked) == 2
    np.testing.assert_array_equal(next(iter(parts(picked).values())), A[[4, 1]])
    both = join(picked, take(x, slice(0, 3)))
    assert type(both) is type(x) and rows(both) == 5
    np.testing.assert_array_equal(next(iter(parts(both).values())), A[[4, 1, 0, 1, 2]])


def test_shapes_and_names_of_one_array_and_of_several() -> None:
    assert row_shapes(A) == {"": (2,)} and row_shape(A) == (2,)
    assert row_shapes([A, B]) == {"0": (2,), "1": ()} and row_shape([A, B]) == ()
    assert list(parts({"b": B, "a": A})) == ["b", "a"]  # the dict's own order
    assert single(A, "x") is A
    with pytest.raises(TypeError, match="^images: several arrays where one is due$"):
        single([A, B], "images")
