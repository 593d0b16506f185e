"""No module imports another package's private module: what crosses a package boundary is
re-exported in that package's ``__init__`` (tests may import private modules)."""

from __future__ import annotations

import ast

from tests.conftest import ROOT

PACKAGES = ("search", "hypermodels")


def private_imports(source: str, package: str) -> list[tuple[int, str]]:
    """(line, module) of each ``from pkg._module import ...`` in ``source``, a module of
    ``package``, where ``pkg`` does not hold ``package``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.ImportFrom) and node.module and node.level == 0):
            continue
        parts = node.module.split(".")
        private = next((i for i, part in enumerate(parts) if part.startswith("_")), None)
        if parts[0] not in PACKAGES or private is None:
            continue
        owner = ".".join(parts[:private])
        if package != owner and not package.startswith(owner + "."):
            found.append((node.lineno, node.module))
    return found


def test_no_module_imports_another_packages_private_module() -> None:
    found = []
    for path in sorted(p for name in PACKAGES for p in (ROOT / name).glob("**/*.py")):
        relative = path.relative_to(ROOT)
        package = ".".join(relative.parts[:-1])
        uses = private_imports(path.read_text(), package)
        found += [f"{relative}:{line}: {module}" for line, module in uses]
    assert found == []


def test_the_scan_tells_a_package_from_its_neighbours() -> None:
    source = "import os\nfrom search.engine._retrain import retrain\nfrom search.engine import run_search\n"
    assert private_imports(source, "search.cli") == [(2, "search.engine._retrain")]
    assert private_imports(source, "search.engine") == []
    assert private_imports(source, "search.engine.sub") == []
    assert private_imports("from search._text import one_line\n", "search.engine") == []
    assert private_imports("from hypermodels._loop import fit_loop\n", "search.tuners") == [
        (1, "hypermodels._loop")
    ]
