"""The project's requirements without TensorFlow, one a line, for a GPU machine whose JAX
(and CUDA) is installed already: ``python bench/gpu_requirements.py > requirements.txt``.

Read from pyproject.toml: the dependencies less TensorFlow's, the ``jax`` extra less JAX
itself, and the build backend (``pip install --no-index`` builds the project from it).
"""

from __future__ import annotations

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
    return re.split(r"[\s\[<>=!~;]", requirement, maxsplit=1)[0].lower()


def requirements(pyproject: Path = PYPROJECT) -> list[str]:
    config = tomllib.loads(pyproject.read_text())
    wanted = [*config["project"]["dependencies"], *config["project"]["optional-dependencies"]["jax"]]
    kept = [r for r in wanted if not name_of(r).startswith(SYSTEM)]
    return [*config["build-system"]["requires"], "wheel", *kept]


if __name__ == "__main__":
    sys.stdout.write("".join(f"{r}\n" for r in requirements()))
