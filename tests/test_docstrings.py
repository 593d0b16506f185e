"""The docstrings house style asks for: every function or class a package exports (its
``__init__``'s ``__all__``) has one, an exported function's says what its arguments mean
and what it returns (``Args:``, ``Returns:``), and no two functions share the same text."""

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


def _exported_nodes() -> dict[str, ast.FunctionDef | ast.ClassDef]:
    """Each exported function or class by ``module.name`` where it is defined."""
    defined = {}
    for path in _sources():
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                defined[(_module(path), node.name)] = node
    found = {}
    for path in _sources():
        if path.name == "__init__.py":
            for origin in exported(ast.parse(path.read_text())).values():
                if origin in defined:
                    found[".".join(origin)] = defined[origin]
    return found


def undocumented_exports() -> list[str]:
    """``module.name`` of each exported function or class without a docstring."""
    return sorted(name for name, node in _exported_nodes().items() if not ast.get_docstring(node))


def _returns_something(node: ast.FunctionDef) -> bool:
    annotation = node.returns
    if annotation is None or (isinstance(annotation, ast.Constant) and annotation.value is None):
        return False
    return not (isinstance(annotation, ast.Name) and annotation.id == "NoReturn")


def missing_sections(node: ast.FunctionDef) -> list[str]:
    """The sections a function's docstring lacks: ``Args:`` when it takes arguments,
    ``Returns:`` (or ``Yields:``) when it returns something."""
    text = ast.get_docstring(node) or ""
    arguments = [
        a.arg for a in (*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs)
        if a.arg not in ("self", "cls")
    ]  # fmt: skip
    missing = []
    if arguments and "Args:" not in text:
        missing.append("Args:")
    if _returns_something(node) and "Returns:" not in text and "Yields:" not in text:
        missing.append("Returns:")
    return missing


def test_every_exported_function_says_what_it_takes_and_returns() -> None:
    lacking = {
        name: missing_sections(node) for name, node in _exported_nodes().items()
        if isinstance(node, ast.FunctionDef) and missing_sections(node)
    }  # fmt: skip
    assert lacking == {}


def test_the_sections_a_docstring_lacks_are_found() -> None:
    module = ast.parse(
        'def f(a, b=1) -> int:\n    """Sum."""\n\n'
        'def g(a) -> None:\n    """Nothing.\n\n    Args:\n        a: one.\n    """\n\n'
        'def h() -> int:\n    """One.\n\n    Returns:\n        1.\n    """\n'
    )
    f, g, h = (node for node in module.body if isinstance(node, ast.FunctionDef))
    assert missing_sections(f) == ["Args:", "Returns:"]
    assert missing_sections(g) == [] and missing_sections(h) == []


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
