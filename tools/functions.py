"""The longest functions of the project, by lines (a newcomer reads a function at once).

A function's docstring is left out of its count: its Args and Returns sections document
the signature, they do not make the code longer to follow.

    python tools/functions.py            # every function over 60 lines, longest first
    python tools/functions.py --top 10   # the ten longest, whatever their length

Read with ``ast``: nothing is imported. ``LAYERS_ROOT`` points it at another checkout.
"""

from __future__ import annotations

import argparse
import ast
import os
from pathlib import Path

ROOT = Path(os.environ.get("LAYERS_ROOT") or Path(__file__).resolve().parents[1])
LIMIT = 60
"""The house limit on a function's length, in lines (its docstring left out)."""


def docstring_lines(node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    """How many lines the function's docstring spans; 0 without one."""
    first = node.body[0]
    if ast.get_docstring(node) is None or first.end_lineno is None:
        return 0
    return first.end_lineno - first.lineno + 1


def functions(path: Path) -> list[tuple[int, str]]:
    """(lines, ``file:line name``) of every function and method in ``path``, docstring left out."""
    tree = ast.parse(path.read_text())
    found = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            assert node.end_lineno is not None
            lines = node.end_lineno - node.lineno + 1 - docstring_lines(node)
            found.append((lines, f"{path.relative_to(ROOT)}:{node.lineno} {node.name}"))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--top", type=int, help="the N longest, whatever their length")
    args = parser.parse_args()
    found = []
    for folder in ("search", "hypermodels", "bench"):
        for path in sorted(ROOT.glob(f"{folder}/**/*.py")):
            found += functions(path)
    found.sort(reverse=True)
    shown = found[: args.top] if args.top else [f for f in found if f[0] > LIMIT]
    for lines, where in shown:
        print(f"{lines:4d}  {where}")
    print(f"{sum(1 for lines, _ in found if lines > LIMIT)} functions over {LIMIT} lines"
          f" of {len(found)}")


if __name__ == "__main__":
    main()
