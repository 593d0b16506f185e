"""The house rules tools check: imports only downwards, no cycle, no import hidden in a
function outside the CLI; and each tool finds what it looks for."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT


def _tool(name: str, root: Path = ROOT) -> str:
    env = {"LAYERS_ROOT": str(root), "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, str(ROOT / "tools" / name)], capture_output=True,
                          text=True, check=True, env=env)  # fmt: skip
    return done.stdout


def test_the_project_imports_one_way_without_cycles() -> None:
    out = _tool("layers.py")
    assert out.strip().endswith("0 imports against the order"), out


def test_the_layers_tool_finds_an_upward_import_a_cycle_and_a_hidden_import(tmp_path: Path) -> None:
    (tmp_path / "search" / "engine").mkdir(parents=True)
    (tmp_path / "search" / "storage").mkdir()
    (tmp_path / "hypermodels").mkdir()
    for package in ("search", "search/engine", "search/storage", "hypermodels"):
        (tmp_path / package / "__init__.py").write_text("")
    (tmp_path / "search" / "storage" / "_a.py").write_text("from search.engine import _b\n")
    (tmp_path / "search" / "engine" / "_b.py").write_text(
        "from search.storage import _a\n\n\ndef f():\n    from search.engine import _c\n"
    )
    (tmp_path / "search" / "engine" / "_c.py").write_text("")
    out = _tool("layers.py", tmp_path)
    assert "search.storage imports search.engine._b (points up)" in out
    assert "cycle: search.engine._b -> search.storage._a" in out
    assert "search.engine._b imports search.engine._c inside a function" in out


def test_the_functions_tool_lists_long_functions(tmp_path: Path) -> None:
    (tmp_path / "search").mkdir()
    body = "".join(f"    x{i} = {i}\n" for i in range(70))
    (tmp_path / "search" / "m.py").write_text(f"def short():\n    pass\n\n\ndef long():\n{body}")
    out = _tool("functions.py", tmp_path)
    assert "search/m.py:5 long" in out and "short" not in out
    assert "1 functions over 60 lines of 2" in out


def test_the_functions_tool_leaves_docstrings_out(tmp_path: Path) -> None:
    (tmp_path / "search").mkdir()
    documented = "".join(f"    x{i}: line {i}\n" for i in range(70))
    source = f'def f(x):\n    """Doc.\n\n{documented}    """\n    return x\n'
    (tmp_path / "search" / "m.py").write_text(source)
    out = _tool("functions.py", tmp_path)
    assert "0 functions over 60 lines of 1" in out, out


def test_ci_runs_the_readmes_test_command() -> None:
    readme = (ROOT / "README.md").read_text()
    command = readme.split("# run the tests (what CI runs)\n", 1)[1].splitlines()[0]
    assert command.startswith("python3 -m pytest"), command
    assert command in (ROOT / ".ci" / "run").read_text().splitlines()
