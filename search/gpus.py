"""``--gpus``: which GPUs a run uses, one worker process per GPU, each seeing only its own.

A process is pinned with ``CUDA_VISIBLE_DEVICES`` before Keras' backend starts, so JAX,
TensorFlow and PyTorch all see exactly one GPU. GPU numbers are those of ``nvidia-smi``
(``CUDA_DEVICE_ORDER=PCI_BUS_ID`` makes CUDA count the same way); where
``CUDA_VISIBLE_DEVICES`` is already set (a cluster's scheduler), they count within it.
This module imports nothing heavy: it runs before Keras does.
"""

from __future__ import annotations

import os
import shutil
import subprocess

from search.errors import SearchError, option

VISIBLE = "CUDA_VISIBLE_DEVICES"
PINNED = "SEARCH_GPU"
"""Set in a pinned process: the GPU it was given (recorded with each trial it runs)."""


def parse_gpus(raw: str) -> tuple[str, ...]:
    """``--gpus``: comma-separated GPU numbers (e.g. ``0,1,3``), or ``all`` of them."""
    if raw.strip() == "all":
        return tuple(str(i) for i in range(len(_available_or_error("all"))))
    items = [item.strip() for item in raw.split(",")]
    if not items or any(not item.isdigit() for item in items):
        raise SearchError(
            f"{option('gpus')} {raw!r}: give GPU numbers separated by commas"
            f" (e.g. {option('gpus')} 0,1) or 'all'"
        )
    duplicates = sorted({item for item in items if items.count(item) > 1})
    if duplicates:
        raise SearchError(
            f"{option('gpus')} {raw!r}: GPU {duplicates[0]} is listed twice; each GPU takes one worker"
        )
    return tuple(str(int(item)) for item in items)


def available_gpus() -> list[str]:
    """The GPUs this process may use, as ``CUDA_VISIBLE_DEVICES`` entries.

    Those of ``CUDA_VISIBLE_DEVICES`` if it is set, else every GPU ``nvidia-smi`` lists.
    """
    visible = os.environ.get(VISIBLE)
    if visible is not None:
        entries = [entry.strip() for entry in visible.split(",") if entry.strip()]
        # CUDA stops at the first invalid entry; "-1" is the usual way to hide every GPU.
        kept: list[str] = []
        for entry in entries:
            if entry.startswith("-"):
                break
            kept.append(entry)
        return kept
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return []
    try:
        out = subprocess.run(
            [smi, "--query-gpu=index", "--format=csv,noheader"],
            capture_output=True, text=True, timeout=30, check=True,
        ).stdout  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return []
    return [line.strip() for line in out.splitlines() if line.strip().isdigit()]


def _available_or_error(shown: str) -> list[str]:
    available = available_gpus()
    if not available:
        where = (
            f"{VISIBLE}={os.environ[VISIBLE]!r} hides every GPU"
            if VISIBLE in os.environ
            else "nvidia-smi lists no GPU (or is not installed)"
        )
        raise SearchError(
            f"{option('gpus')} {shown}: this machine shows no GPU ({where}); to run several CPU"
            f" workers on one search use {option('workers')} N"
        )
    return available


def resolve_gpus(requested: tuple[str, ...]) -> tuple[str, ...]:
    """The ``CUDA_VISIBLE_DEVICES`` entry of each requested GPU; SearchError if one is
    missing, naming the GPUs there are."""
    shown = ",".join(requested)
    available = _available_or_error(shown)
    missing = [gpu for gpu in requested if int(gpu) >= len(available)]
    if missing:
        raise SearchError(
            f"{option('gpus')} {shown}: there is no GPU {missing[0]}; this machine shows"
            f" {len(available)} (numbers 0-{len(available) - 1})"
        )
    return tuple(available[int(gpu)] for gpu in requested)


def pin(gpu: str) -> None:
    """Make this process (and the processes it starts) see only ``gpu``.

    It takes effect if the backend has not started yet: the CLI calls it before Keras is
    imported. In a process whose backend already runs, only the processes it starts are
    pinned.
    """
    os.environ.update(worker_env(gpu))


def claim(requested: tuple[str, ...]) -> tuple[str, ...]:
    """Resolve a run's ``--gpus`` and pin this process to the first; every GPU's
    ``CUDA_VISIBLE_DEVICES`` entry, in worker order (this process is worker 0).

    A process that a pinned run started (``--isolate``'s trial processes) keeps its GPU.
    """
    if not requested:
        return ()
    if PINNED in os.environ:
        return (os.environ[PINNED],)
    devices = resolve_gpus(requested)
    pin(devices[0])
    return devices


def worker_env(gpu: str) -> dict[str, str]:
    """The environment entries that give a process GPU ``gpu`` alone."""
    env = {VISIBLE: gpu, PINNED: gpu}
    env["CUDA_DEVICE_ORDER"] = os.environ.get("CUDA_DEVICE_ORDER", "PCI_BUS_ID")
    return env


__all__ = [
    "PINNED",
    "VISIBLE",
    "available_gpus",
    "claim",
    "parse_gpus",
    "pin",
    "resolve_gpus",
    "worker_env",
]
