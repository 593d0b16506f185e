"""Read IDX files (the MNIST family's format), checking header, size and contents."""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import numpy as np

from search.errors import DataError

_UBYTE = 0x08


def read_idx(path: Path, expected_shape: tuple[int, ...], fix: str) -> np.ndarray:
    """The uint8 array stored in ``path`` (gzipped or not), which must have ``expected_shape``.

    Args:
        path: the IDX file.
        expected_shape: the shape the file must hold.
        fix: what the user can do, appended to every message.

    Returns:
        The array, read-only (a view of the file's bytes).

    Raises:
        DataError: the file cannot be read, is not an unsigned-byte IDX file, is of another
            shape, or is truncated or too long; naming the path, what is wrong and ``fix``.
    """
    try:
        raw = path.read_bytes()
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
    except (OSError, EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise DataError(f"{path}: cannot be read or decompressed ({exc}); {fix}") from None
    if len(raw) < 4:
        raise DataError(f"{path}: truncated ({len(raw)} bytes, no IDX header); {fix}")
    zero, dtype, ndim = int.from_bytes(raw[:2], "big"), raw[2], raw[3]
    if zero != 0 or dtype != _UBYTE:
        raise DataError(
            f"{path}: not an unsigned-byte IDX file (magic {raw[:4].hex()}, expected"
            f" 0000080{len(expected_shape)}); {fix}"
        )
    if ndim != len(expected_shape):
        raise DataError(
            f"{path}: holds a {ndim}-dimensional array, expected {len(expected_shape)}; {fix}"
        )
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataError(f"{path}: truncated inside its header; {fix}")
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    if shape != expected_shape:
        raise DataError(f"{path}: shape {shape}, expected {expected_shape}; {fix}")
    size = int(np.prod(shape))
    if len(raw) - header != size:
        raise DataError(
            f"{path}: {len(raw) - header} bytes of data, expected {size}"
            f" ({'truncated' if len(raw) - header < size else 'trailing bytes'}); {fix}"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)
