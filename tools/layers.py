"""The project's import graph by layer: which package imports which, and where an import
points up the layers or hides inside a function.

    python tools/layers.py            # every cross-package import that breaks the order
    python tools/layers.py --all      # the whole package-to-package graph

Layers, top to bottom (an import may only point down): cli -> api -> engine -> (tuners,
experiments, report, tracking: observers of the search) -> (hypermodels, data, ranking,
space, storage) -> (errors, compat: the adapters for libraries' internals). Also reported:
cycles between modules (``a`` imports ``b`` which imports ``a``, at any depth), and imports
inside functions, except in the CLI, which imports the engine only once ``--backend`` has
chosen Keras' backend. Read with ``ast``: nothing is imported.
"""

from __future__ import annotations

import argparse
import ast
import os
from collections import Counter
from pathlib import Path

ROOT = Path(os.environ.get("LAYERS_ROOT") or Path(__file__).resolve().parents[1])
LAZY = {"search.cli", "search.__main__"}
"""Where imports inside functions are by design: Keras' backend is chosen before Keras loads."""
LAYERS = [
    {"search.cli"},
    {"search.api"},
    {"search.engine"},
    {"search.tuners", "search.experiments", "search.report", "search.tracking"},
    {"hypermodels", "search.data", "search.ranking", "search.space", "search.storage",
     "search.gpus", "search.cache", "search.environment", "search.quiet", "search._text", "search._heap",
     "search._shipped", "search.failures"},
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


def is_module(name: str) -> bool:
    path = ROOT.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def imports(path: Path) -> list[tuple[str, int, bool]]:
    """(imported module, line, inside a function) for each project import in ``path``;
    ``from package import module`` counts as importing the module."""
    tree = ast.parse(path.read_text())
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [f"{node.module}.{alias.name}" for alias in node.names
                     if is_module(f"{node.module}.{alias.name}")] or [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        for name in names:
            if name.split(".")[0] in ("search", "hypermodels"):
                found.append((name, node.lineno, node.col_offset > 0))
    return found


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The groups of modules that import one another (strongly connected, Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--all", action="store_true", help="print the whole graph")
    args = parser.parse_args()
    edges: Counter[tuple[str, str]] = Counter()
    modules: dict[str, set[str]] = {}
    problems = []
    for path in sorted([*ROOT.glob("search/**/*.py"), *ROOT.glob("hypermodels/**/*.py")]):
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        for name, line, nested in imports(path):
            if not nested:
                modules.setdefault(module, set()).add(name)
            source, target = unit(module), unit(name)
            where = f"{path.relative_to(ROOT)}:{line}"
            if nested and source not in LAZY:
                problems.append(f"{where}: {module} imports {name} inside a function")
            if source == target or target == "search":
                continue
            edges[source, target] += 1
            low, high = level(source), level(target)
            upward = low is not None and high is not None and high < low
            if upward:
                problems.append(f"{where}: {source} imports {name} (points up)")
    if args.all:
        for (source, target), count in sorted(edges.items()):
            print(f"{source} -> {target} ({count})")
    for group in cycles(modules):
        problems.append(f"cycle: {' -> '.join(group)}")
    for problem in problems:
        print(problem)
    print(f"{len(edges)} package-to-package edges; {len(problems)} imports against the order")


if __name__ == "__main__":
    main()
