"""The project's import graph by layer: which package imports which, and where an import
points up the layers or hides inside a function.

    python tools/layers.py            # every cross-package import that breaks the order
    python tools/layers.py --all      # the whole package-to-package graph

Layers, top to bottom (an import may only point down): cli -> api -> (engine, tracking: the engine's
observers) -> (tuners, experiments, report) -> (hypermodels, data, ranking, space, storage) ->
(errors, compat: the adapters for libraries' internals). Read with ``ast``: nothing is imported.
"""

from __future__ import annotations

import argparse
import ast
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LAYERS = [
    {"search.cli"},
    {"search.api"},
    {"search.engine", "search.tracking"},
    {"search.tuners", "search.experiments", "search.report"},
    {"hypermodels", "search.data", "search.ranking", "search.space", "search.storage",
     "search.gpus", "search.cache", "search.environment", "search.quiet", "search._text",
     "search.failures"},
    {"search.errors", "search.compat"},
]


def unit(module: str) -> str:
    """The package (layer unit) a module belongs to."""
    parts = module.split(".")
    return ".".join(parts[:2]) if parts[0] == "search" and len(parts) > 1 else parts[0]


def level(name: str) -> int | None:
    for index, layer in enumerate(LAYERS):
        if name in layer:
            return index
    return None


def imports(path: Path) -> list[tuple[str, int, bool]]:
    """(imported module, line, inside a function) for each project import in ``path``."""
    tree = ast.parse(path.read_text())
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        for name in names:
            if name.split(".")[0] in ("search", "hypermodels"):
                found.append((name, node.lineno, node.col_offset > 0))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--all", action="store_true", help="print the whole graph")
    args = parser.parse_args()
    edges: Counter[tuple[str, str]] = Counter()
    problems = []
    for path in sorted([*ROOT.glob("search/**/*.py"), *ROOT.glob("hypermodels/**/*.py")]):
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        for name, line, nested in imports(path):
            source, target = unit(module), unit(name)
            if source == target or target == "search":
                continue
            edges[source, target] += 1
            low, high = level(source), level(target)
            upward = low is not None and high is not None and high < low
            where = f"{path.relative_to(ROOT)}:{line}"
            if upward:
                problems.append(f"{where}: {source} imports {name} (points up)")
            elif nested:
                problems.append(f"{where}: {source} imports {name} inside a function")
    if args.all:
        for (source, target), count in sorted(edges.items()):
            print(f"{source} -> {target} ({count})")
    for problem in problems:
        print(problem)
    print(f"{len(edges)} package-to-package edges; {len(problems)} imports against the order")


if __name__ == "__main__":
    main()
