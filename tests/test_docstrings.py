"""The docstrings house style asks for: every function or class a package exports (its
``__init__``'s ``__all__``) has one, and no two functions share the same text."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import ROOT

PACKAGES = ("search", "hypermodels")


def _sources() -> list[Path]:
    return sorted(p for name in PACKAGES for p in (ROOT / name).glob("**/*.py"))


def _module(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")


def exported(init: ast.Module) -> dict[str, tuple[str, str]]:
    """Each name in ``init``'s ``__all__`` imported from a module: name -> (module, name there)."""
    names: list[str] = []
    origins = {}
    for node in init.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "__all__" for t in node.targets):
            try:
                names = list(ast.literal_eval(node.value))
            except ValueError:  # computed (search/__init__'s lazy exports)
                names = []
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            origins.update({a.asname or a.name: (node.module, a.name) for a in node.names})
    return {name: origins[name] for name in names if name in origins}


def undocumented_exports() -> list[str]:
    """``module.name`` of each exported function or class without a docstring."""
    defined = {}
    for path in _sources():
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                defined[(_module(path), node.name)] = node
    missing = []
    for path in _sources():
        if path.name == "__init__.py":
            for origin in exported(ast.parse(path.read_text())).values():
                node = defined.get(origin)
                if node is not None and not ast.get_docstring(node):
                    missing.append(".".join(origin))
    return sorted(set(missing))


def test_every_exported_function_and_class_has_a_docstring() -> None:
    assert undocumented_exports() == []


def test_the_exports_are_read_from_all() -> None:
    init = ast.parse("from a._b import f, g as h\nfrom a._c import K\n__all__ = ['K', 'h']\n")
    assert exported(init) == {"K": ("a._c", "K"), "h": ("a._b", "g")}


def shared_docstrings() -> list[list[str]]:
    """``file:line name`` of the functions and classes that share a docstring, by text."""
    by_text: dict[str, list[str]] = {}
    for path in _sources():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                text = " ".join((ast.get_docstring(node) or "").split())
                if text:
                    by_text.setdefault(text, []).append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name}")
    return [where for where in by_text.values() if len(where) > 1]


def test_no_two_functions_share_a_docstring() -> None:
    assert shared_docstrings() == []
