"""The project's requirements for a GPU machine whose JAX (and CUDA) is installed already.

    python bench/gpu_requirements.py                      # one requirement a line
    python bench/gpu_requirements.py --missing REPORT HAVE  # name==version a line

The first form reads pyproject.toml: the dependencies less TensorFlow's, the ``jax`` extra less
JAX itself. The second reads a ``pip install --dry-run --report REPORT`` of those requirements
(pip resolved them for the GPU machine's Python) and prints the resolved packages that the
file HAVE (one package name a line: what the GPU machine has already) does not name.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"
SYSTEM = ("tensorflow", "jax")
"""Left out: TensorFlow (not used on the JAX backend) and JAX (the machine's own)."""


def name_of(requirement: str) -> str:
    """``keras-tuner[bayesian]>=1.4.7`` -> ``keras-tuner``."""
    return canonical(re.split(r"[\s\[<>=!~;]", requirement, maxsplit=1)[0])


def canonical(name: str) -> str:
    """A package name as PEP 503 compares them: ``Keras_Tuner`` -> ``keras-tuner``."""
    return re.sub(r"[-_.]+", "-", name).lower()


def requirements(pyproject: Path = PYPROJECT) -> list[str]:
    """The dependencies and the ``jax`` extra, less TensorFlow and JAX."""
    config = tomllib.loads(pyproject.read_text())
    wanted = [*config["project"]["dependencies"], *config["project"]["optional-dependencies"]["jax"]]
    return [r for r in wanted if not name_of(r).startswith(SYSTEM)]


def missing(report: Path, have: Path) -> list[str]:
    """``name==version`` of each package in pip's install REPORT that HAVE does not name.

    Args:
        report: the JSON written by ``pip install --dry-run --report``.
        have: package names, one a line (``#`` starts a comment).

    Returns:
        The pins, sorted by name.
    """
    names = {canonical(line.split("#", 1)[0].strip()) for line in have.read_text().splitlines()}
    installs = json.loads(report.read_text())["install"]
    pins = {canonical(i["metadata"]["name"]): i["metadata"]["version"] for i in installs}
    return [f"{name}=={version}" for name, version in sorted(pins.items()) if name not in names]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--missing", nargs=2, metavar=("REPORT", "HAVE"), type=Path)
    args = parser.parse_args(argv)
    lines = missing(*args.missing) if args.missing else requirements()
    sys.stdout.write("".join(f"{line}\n" for line in lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
