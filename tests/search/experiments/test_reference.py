"""Finding a user's object again by ``file.py:NAME``."""

from __future__ import annotations

import hashlib
import shutil
import sys
import types
from pathlib import Path

import keras_tuner as kt
import numpy as np
import pytest

from search.errors import SearchError
from search.experiments._reference import code_of, edited_files, reference_of, resolve
from tests import user_models

SCRIPT = '''
import keras
import numpy as np
import search


def build(hp):
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse", metrics=["mean_absolute_error"])
    return model


x = np.random.default_rng(0).normal(size=(40, 4)).astype("float32")
run = search.run(build, x, x[:, 0], objective="val_loss", tuner="random", max_trials=1, max_epochs=1,
                 results=RESULTS, name="nested", retrain=False, quiet=True)
'''


def test_a_script_that_searches_when_imported_is_told_to_guard_its_search(tmp_path: Path) -> None:
    """export and resume import the script for its build: its search must not run again."""
    script = tmp_path / "my_search.py"
    script.write_text(SCRIPT.replace("RESULTS", repr(str(tmp_path / "results"))))
    with pytest.raises(SearchError) as refused:
        resolve(f"{script}:build")
    message = str(refused.value)
    assert message.startswith(f"{script}: calls search.run when imported")
    assert 'if __name__ == "__main__":' in message and "importing it failed" not in message
    assert not (tmp_path / "results").exists()


def test_a_script_that_resumes_when_imported_is_told_to_guard_it(tmp_path: Path) -> None:
    script = tmp_path / "my_resume.py"
    script.write_text("import search\n\ndef build(hp):\n    pass\n\nsearch.resume('somewhere')\n")
    with pytest.raises(SearchError, match=r"calls search.resume when imported"):
        resolve(f"{script}:build")


def test_an_object_of_the_script_running_as_main_is_its_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A script that searches at its top level and then asks for its run's best model (whose
    layers of its own are looked for in the build's module): the script is not imported
    again, which would search again, but is the one running."""
    script = tmp_path / "my_search.py"
    script.write_text(SCRIPT.replace("RESULTS", repr(str(tmp_path / "results"))))
    running = types.ModuleType("__main__")
    running.__file__ = str(script)
    running.build = lambda hp: None  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "__main__", running)
    assert resolve(f"{script}:build") is running.build  # type: ignore[attr-defined]
    assert not (tmp_path / "results").exists()


def test_a_target_with_two_colons_is_told_to_name_one_object(tmp_path: Path) -> None:
    script = tmp_path / "exp.py"
    script.write_text("def build(hp):\n    return None\n")
    with pytest.raises(SearchError, match=r"exp.py:build:extra'.*one ':'.*path/to/file.py:NAME"):
        resolve(f"{script}:build:extra")


class _Kept(kt.HyperModel):
    """Keeps its optional arguments as attributes of the same names, in NumPy numbers."""

    def __init__(self, rate: float = 0.1, sizes: tuple[int, ...] = (8, 16)) -> None:
        super().__init__()
        self.rate = np.float32(rate)
        self.sizes = [np.int64(size) for size in sizes]


class _ClassLevel(kt.HyperModel):
    """Its class has an attribute of its optional argument's name, which stands for any value."""

    width = 8

    def __init__(self, width: int = 8) -> None:
        super().__init__()


class _Hidden(kt.HyperModel):
    """Keeps its optional argument under another name."""

    def __init__(self, width: int = 8) -> None:
        super().__init__()
        self._width = width


class _Opaque(kt.HyperModel):
    """Keeps its optional argument, an object that is not plain data."""

    def __init__(self, layer: object = None) -> None:
        super().__init__()
        self.layer = layer


def test_an_instance_is_found_again_by_its_class_and_the_arguments_it_keeps() -> None:
    reference, why = reference_of(_Kept(0.5, (4, 32)))
    assert why == "" and reference is not None
    assert reference.args == {"rate": 0.5, "sizes": [4, 32]}
    rebuilt = reference.load()
    assert type(rebuilt) is _Kept and (rebuilt.rate, rebuilt.sizes) == (np.float32(0.5), [4, 32])


@pytest.mark.parametrize(
    ("hypermodel", "why"),
    [
        (_Hidden(16), "_Hidden() takes 'width' but keeps no attribute of that name; store it as self.width"),
        (_ClassLevel(16), "_ClassLevel() takes 'width' but keeps no attribute of that name"),
        (_Opaque(object()), "_Opaque(): layer is not plain data (numbers, strings, lists, dicts)"),
    ],
    ids=["under another name", "a class attribute", "not plain data"],
)
def test_an_optional_argument_that_cannot_be_rebuilt_is_not_left_to_its_default(
    hypermodel: kt.HyperModel, why: str
) -> None:
    """Rebuilt with its default, another process would search another model than this one."""
    reference, said = reference_of(hypermodel)
    assert reference is None and said.startswith(why), said


def test_the_code_a_run_imports_is_its_file_and_digest(tmp_path: Path) -> None:
    """What a resumed run compares to tell an edited build: the file, whichever way named."""
    module = Path(user_models.__file__).resolve()
    digest = hashlib.sha256(module.read_bytes()).hexdigest()
    code = code_of({"hypermodel": {"target": "tests.user_models:build", "args": None}})
    assert code is not None and (code["file"], code["sha256"]) == (str(module), digest)
    assert code_of({"experiment": f"{module}:build"}) == code
    assert code_of({"experiment": "fashion"}) is None  # built in: the package's versions say it
    assert code_of(None) is None
    assert code_of({"experiment": f"{tmp_path / 'gone.py'}:E"}) is None
    assert code_of({"hypermodel": {"target": "no_such_module_here:build"}}) is None


def test_the_code_a_run_imports_holds_the_users_modules_it_imports_from_its_folder(tmp_path: Path) -> None:
    """A build in one file, its layers in others beside it: an edit of any is told, where
    the project lies now; a module whose file is gone by then is left out, not a crash."""
    project = tmp_path / "project"
    (project / "pkg").mkdir(parents=True)
    (project / "pkg" / "__init__.py").write_text("")
    (project / "pkg" / "blocks.py").write_text("WIDTH = 4\n")
    (project / "gone_helper.py").write_text("")
    (project / "layers_of_mine.py").write_text("from pkg.blocks import WIDTH\nUNITS = WIDTH\n")
    (project / "model_of_mine.py").write_text("import gone_helper\nimport layers_of_mine\nbuild = 1\n")
    target = f"{project / 'model_of_mine.py'}:build"
    try:
        resolve(target)
        (project / "gone_helper.py").unlink()
        code = code_of({"experiment": target})
    finally:
        for name in [n for n in sys.modules if n.startswith(("search_user_model_of_mine", "pkg"))]:
            sys.modules.pop(name)
        for name in ("layers_of_mine", "gone_helper"):
            sys.modules.pop(name, None)
    files = ["layers_of_mine.py", "pkg/__init__.py", "pkg/blocks.py"]
    assert code is not None and sorted(code["imports"]) == [str((project / f).resolve()) for f in files]
    assert edited_files(code, code) == []
    moved = shutil.copytree(project, tmp_path / "moved")
    now = {"file": str((moved / "model_of_mine.py").resolve()), "sha256": code["sha256"]}
    assert edited_files(code, now) == []
    (moved / "pkg" / "blocks.py").write_text("WIDTH = 8\n")
    blocks = str((moved / "pkg" / "blocks.py").resolve())
    assert edited_files(code, now) == [blocks]
    assert edited_files(code, {**now, "sha256": "0" * 64}) == [now["file"], blocks]
    assert edited_files({"file": code["file"], "sha256": code["sha256"]}, code) == []  # a run from before
