"""Shared fixtures: a seed, synthetic IDX files, and the real data when installed."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from search.data._fashion import DEBIAN_DIR, keras_cache_dir

SEED = 1234


@pytest.fixture
def seed() -> int:
    import keras

    keras.utils.set_random_seed(SEED)
    return SEED


def idx_bytes(array: np.ndarray) -> bytes:
    """An unsigned-byte IDX file holding ``array``."""
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(
        int(d).to_bytes(4, "big") for d in array.shape
    )
    return header + array.astype(np.uint8).tobytes()


def write_idx(path: Path, array: np.ndarray, compress: bool = True) -> Path:
    data = idx_bytes(array)
    if compress:
        path = path.with_name(path.name + ".gz")
        data = gzip.compress(data, compresslevel=1)
    path.write_bytes(data)
    return path


@pytest.fixture(scope="session")
def synthetic_fashion(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Full-size Fashion-MNIST files: image i is filled with its label, labels cycle 0-9."""
    folder = tmp_path_factory.mktemp("fashion")
    for prefix, n in (("train", 60000), ("t10k", 10000)):
        labels = (np.arange(n) % 10).astype(np.uint8)
        images = np.broadcast_to(labels[:, None, None] * 20, (n, 28, 28))
        write_idx(folder / f"{prefix}-images-idx3-ubyte", images)
        write_idx(folder / f"{prefix}-labels-idx1-ubyte", labels)
    return folder


def real_fashion_dir() -> Path | None:
    for folder in (keras_cache_dir(), DEBIAN_DIR):
        if (folder / "train-images-idx3-ubyte.gz").is_file():
            return folder
    return None


@pytest.fixture(scope="session")
def fashion_dir() -> Path:
    """The real Fashion-MNIST (Debian's dataset-fashion-mnist, installed by .ci/run)."""
    folder = real_fashion_dir()
    if folder is None:
        pytest.skip("Fashion-MNIST not installed: apt-get install dataset-fashion-mnist")
    return folder
