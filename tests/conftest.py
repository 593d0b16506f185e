"""Shared fixtures: a seed, synthetic IDX files, and the real data when installed.

Every test runs in its own temporary folder (a ``run`` without ``--results`` writes there,
never into the checkout's results/), importing this checkout's packages, in subprocesses too.
A real component a test needs (Fashion-MNIST, Chromium, chromedriver, PostgreSQL, JAX) that
is missing skips the test, or fails it under ``CI=true``: CI installs them all.
"""

from __future__ import annotations

import gzip
import importlib
import os
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import NoReturn

import numpy as np
import pytest

from search.data._fashion import DEBIAN_DIR, keras_cache_dir

SEED = 1234
ROOT = Path(__file__).resolve().parent.parent
CI = os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


MLFLOW_SETTINGS = ("MLFLOW_TRACKING_URI", "MLFLOW_EXPERIMENT_NAME")
"""MLflow's variables in the developer's shell, which would send the tests' runs elsewhere."""


def pytest_configure(config: pytest.Config) -> None:
    """The tests' runs log where each test says, whatever the shell's MLflow settings."""
    for name in MLFLOW_SETTINGS:
        os.environ.pop(name, None)


def missing(reason: str) -> NoReturn:
    """Skip a test whose real component is not installed; under CI=true, fail it."""
    if CI:
        pytest.fail(f"{reason} (CI=true: CI installs every real component)", pytrace=False)
    pytest.skip(reason)


def import_or_missing(name: str) -> ModuleType:
    """``pytest.importorskip``, failing under CI=true."""
    try:
        return importlib.import_module(name)
    except ImportError:
        missing(f"{name} is not installed")


@pytest.fixture(autouse=True)
def _in_tmp_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Run in ``tmp_path``; ``python -m search`` subprocesses import this checkout; MLflow's
    variables are unset again after each test (``mlflow.set_tracking_uri`` sets one)."""
    monkeypatch.chdir(tmp_path)
    for name in MLFLOW_SETTINGS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    yield


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
        missing("Fashion-MNIST not installed: apt-get install dataset-fashion-mnist")
    return folder


CLOTHES = ("hat", "pants", "shoes")


def write_image_folders(root: Path, per_class: dict[str, int], size: tuple[int, int] = (40, 48),
                        seed: int = 0) -> Path:  # fmt: skip
    """A small clothing-like set: ROOT/{train,validation,test}/CLASS/*.jpg, each class with
    its own colour and stripe (learnable), image sizes varying around ``size``."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    colours = [(200, 40, 40), (40, 200, 40), (40, 40, 200)]
    for split, count in per_class.items():
        for label, name in enumerate(CLOTHES):
            folder = root / split / name
            folder.mkdir(parents=True, exist_ok=True)
            for i in range(count):
                h, w = size[0] + int(rng.integers(0, 8)), size[1] + int(rng.integers(0, 8))
                pixels = rng.integers(0, 60, (h, w, 3)).astype(np.uint8)
                pixels[:, :] += np.array(colours[label], np.uint8) // 2
                pixels[label * h // 3 : (label + 1) * h // 3] = colours[label]
                Image.fromarray(pixels).save(folder / f"{split}-{i}.jpg", quality=90)
    return root


@pytest.fixture
def clothing_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Image folders written by the test, one corrupt JPEG among them; a private cache."""
    monkeypatch.setenv("SEARCH_CACHE_DIR", str(tmp_path / "cache"))
    root = write_image_folders(tmp_path / "clothes", {"train": 10, "validation": 4, "test": 4})
    (root / "train" / "hat" / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 truncated jpeg")
    return root
