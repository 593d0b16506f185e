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


def undeclared_exports() -> list[str]:
    """Each package ``__init__`` with no literal ``__all__``, or naming there what it neither
    binds nor holds as a submodule."""
    found = []
    for init in sorted(p for name in PACKAGES for p in (ROOT / name).glob("**/__init__.py")):
        tree = ast.parse(init.read_text())
        bound = {a.asname or a.name.split(".")[0] for n in tree.body
                 if isinstance(n, (ast.Import, ast.ImportFrom)) for a in n.names}  # fmt: skip
        bound |= {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
        declared = None
        for node in tree.body:
            targets = node.targets if isinstance(node, ast.Assign) else []
            if any(getattr(t, "id", None) == "__all__" for t in targets):
                declared = node.value
        where = init.relative_to(ROOT)
        if declared is None:
            found.append(f"{where}: no __all__")
        elif isinstance(declared, ast.List):
            for name in ast.literal_eval(declared):
                submodule = (init.parent / f"{name}.py").is_file() or (init.parent / name).is_dir()
                if name not in bound and not submodule:
                    found.append(f"{where}: {name}")
    return found


def test_every_package_declares_its_exports() -> None:
    assert undeclared_exports() == []
