"""``images``: any folder of class folders, split or not, a CNN or a pretrained base."""

from __future__ import annotations

import json
import shutil
import warnings
from pathlib import Path

import pytest

from search.cli import main
from search.data import SkippedImagesWarning, load_images
from search.errors import DataError
from tests.conftest import CLOTHES, write_image_folders

TINY = ["--tuner", "random", "--max-trials", "1", "--max-epochs", "1", "--seed", "2",
        "--retrain-max-epochs", "1", "--image-size", "32", "--quiet"]  # fmt: skip


@pytest.fixture
def flat_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """One folder of class folders (no splits), 12 images per class."""
    monkeypatch.setenv("SEARCH_CACHE_DIR", str(tmp_path / "cache"))
    split = write_image_folders(tmp_path / "split", {"train": 12})
    flat = tmp_path / "flat"
    shutil.move(split / "train", flat)
    return flat


def test_one_folder_is_split_seeded_and_stratified(flat_dir: Path) -> None:
    splits = load_images(flat_dir, 16, "fix", seed=4)
    assert splits.class_names == CLOTHES
    sizes = [len(splits.y_train), len(splits.y_val), len(splits.y_test)]
    assert sum(sizes) == 36 and sizes[1] >= 3 and sizes[2] >= 3
    for labels in (splits.y_train, splits.y_val, splits.y_test):
        counts = [(labels == c).sum() for c in range(3)]
        assert max(counts) - min(counts) <= 1  # each class in proportion
    again = load_images(flat_dir, 16, "fix", seed=4)
    assert (again.y_test == splits.y_test).all() and (again.x_val == splits.x_val).all()


@pytest.mark.parametrize("model", ["cnn", "transfer"])
def test_run_images_on_a_folder(model: str, flat_dir: Path, tmp_path: Path) -> None:
    results = tmp_path / "results"
    extra = ["--weights", "none", "--fix", "base=mobilenet_v2"] if model == "transfer" else []
    assert Path.cwd() == flat_dir.parent  # the folder is given relative to here
    code = main(["run", "images", "--model", model, "--data-dir", flat_dir.name,
                 "--results", str(results), "--name", model, *TINY, *extra])  # fmt: skip
    assert code == 0
    meta = json.loads((results / "images" / model / "run.json").read_text())
    assert meta["request"]["data_dir"] == str(flat_dir)  # absolute: resumable from elsewhere
    assert meta["status"] == "finished" and meta["request"]["model"] == model
    assert meta["data"]["class_names"] == list(CLOTHES)
    assert 0.0 <= meta["final"]["test_accuracy"] <= 1.0


def test_run_images_with_split_folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SEARCH_CACHE_DIR", str(tmp_path / "cache"))
    root = write_image_folders(tmp_path / "set", {"train": 8, "validation": 3, "test": 3})
    results = tmp_path / "results"
    assert main(["run", "images", "--data-dir", str(root), "--results", str(results),
                 "--name", "s", *TINY]) == 0  # fmt: skip
    meta = json.loads((results / "images" / "s" / "run.json").read_text())
    assert (meta["data"]["train"], meta["data"]["validation"], meta["data"]["test"]) == (24, 9, 9)
    assert meta["data"]["image_shape"] == [32, 32, 3]


def test_unreadable_images_of_one_folder_are_named_in_a_line(flat_dir: Path, tmp_path: Path, capsys) -> None:
    """Split here or given split, a skipped image is named as a line of the run's progress
    (not Python's warning with its source line) and counted in the data line."""
    (flat_dir / CLOTHES[0] / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 truncated jpeg")
    code = main(["run", "images", "--data-dir", str(flat_dir), "--results", str(tmp_path / "r"),
                 *TINY[:-1]])  # fmt: skip
    out, err = capsys.readouterr()
    assert code == 0 and err == "", err
    warning = next(line for line in out.splitlines() if line.startswith("warning:"))
    assert warning.startswith(f"warning: skipped 1 unreadable image of 37 in {flat_dir}: {flat_dir}/")
    assert "broken.jpg (" in warning
    assert "(1 unreadable image skipped)" in out


def test_images_bad_input(tmp_path: Path, flat_dir: Path, capsys) -> None:
    assert main(["run", "images", "--tuner", "random", "--results", str(tmp_path / "r")]) == 2
    assert "no data folder; pass --data-dir FOLDER" in capsys.readouterr().err
    assert main(["run", "images", "--model", "vit", "--data-dir", str(flat_dir), "--tuner", "random"]) == 2
    assert "--model 'vit': choose one of cnn, transfer" in capsys.readouterr().err
    assert main(["run", "fashion", "--model", "cnn", "--tuner", "random"]) == 2
    assert "fashion has one model" in capsys.readouterr().err
    with pytest.raises(DataError, match="need at least 2"):
        load_images(flat_dir / "hat", 16, "fix")


def test_transfer_options_refused_name_where_they_apply(flat_dir: Path, tmp_path: Path, capsys) -> None:
    results = str(tmp_path / "r")
    assert main(["run", "images", "--weights", "none", "--data-dir", str(flat_dir),
                 "--tuner", "random", "--results", results]) == 2  # fmt: skip
    err = capsys.readouterr().err
    assert "--weights none: images (--model cnn) trains from scratch" in err
    assert "images with --model transfer" in err, err
    assert main(["run", "fashion", "--image-size", "32", "--tuner", "random", "--results", results]) == 2
    assert "image-folder experiments (clothing, images)" in capsys.readouterr().err


def test_a_small_class_gets_images_in_every_split(flat_dir: Path) -> None:
    """A class of 3 images beside classes of 12 (its share of the held-out 15 % rounds to 0):
    train, validation and test each get one, as the refusal of fewer than 3 says; a
    --train-size subset keeps it too."""
    small = flat_dir / CLOTHES[2]
    for image in sorted(small.iterdir())[3:]:
        image.unlink()
    splits = load_images(flat_dir, 16, "fix", seed=0)
    for labels in (splits.y_train, splits.y_val, splits.y_test):
        assert (labels == 2).sum() >= 1, labels
    assert sorted(set(load_images(flat_dir, 16, "fix", train_size=5).y_train.tolist())) == [0, 1, 2]


def test_a_class_left_with_too_few_readable_images_is_refused(flat_dir: Path) -> None:
    """Files enough, images not: a class whose images are (nearly) all damaged would have no
    image in some split, the model an output it never learns."""
    for image in sorted((flat_dir / CLOTHES[1]).iterdir())[2:]:
        image.write_bytes(b"not an image")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SkippedImagesWarning)
        with pytest.raises(DataError) as caught:
            load_images(flat_dir, 16, "fix")
    assert str(caught.value) == (
        f"{flat_dir / CLOTHES[1]}: 2 of its 12 images could be read; a class needs at least 3"
        " (train, validation and test take one each): replace or remove the damaged files"
    )


def test_data_warnings_are_lines_in_run_and_export(
    flat_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    """A cache folder that cannot be written and a skipped image: one line each, in the run
    and in export (which loads the data again), never Python's warning with its source line."""
    monkeypatch.setenv("SEARCH_CACHE_DIR", str(tmp_path / "a-file"))
    (tmp_path / "a-file").write_text("not a folder")
    (flat_dir / CLOTHES[0] / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 truncated jpeg")
    results = tmp_path / "r"
    args = [*TINY[:8], "--image-size", "32", "--no-retrain"]
    assert main(["run", "images", "--data-dir", str(flat_dir), "--results", str(results),
                 "--name", "w", *args]) == 0  # fmt: skip
    assert main(["export", str(results / "images" / "w"), "--retrain-max-epochs", "1"]) == 0
    out, err = capsys.readouterr()
    assert err == "", err
    warned = [line for line in out.splitlines() if line.startswith("warning:")]
    assert len(warned) == 4, out  # the run's two, the export's two
    cache = f"warning: could not cache the decoded images in {tmp_path / 'a-file' / 'images'} (NotADir"
    assert sum(line.startswith(cache) for line in warned) == 2, warned
    assert sum(line.startswith("warning: skipped 1 unreadable image of") for line in warned) == 2, warned


def test_hidden_folders_of_one_folder_are_no_classes(flat_dir: Path) -> None:
    """Jupyter's .ipynb_checkpoints (and macOS's __MACOSX) beside the class folders was a
    class of its own."""
    checkpoints = flat_dir / ".ipynb_checkpoints"
    checkpoints.mkdir()
    for image in list((flat_dir / CLOTHES[0]).iterdir())[:3]:
        shutil.copy(image, checkpoints / image.name)
    (flat_dir / CLOTHES[1] / ".hidden.jpg").write_bytes(b"not an image")
    shutil.copytree(checkpoints, flat_dir / "__MACOSX")  # a zip made on macOS holds one
    splits = load_images(flat_dir, 16, "fix", seed=4)
    assert splits.class_names == CLOTHES
    assert len(splits.y_train) + len(splits.y_val) + len(splits.y_test) == 36
    assert "unreadable" not in splits.source


def test_counts_of_one_are_in_the_singular(flat_dir: Path) -> None:
    """A count of one was in the plural: "found 1 class folders", "1 images"."""
    for image in sorted((flat_dir / "hat").iterdir())[1:]:
        image.unlink()
    with pytest.raises(DataError, match=r"hat: 1 image; a class needs at least 3 \(train,"):
        load_images(flat_dir, 16, "fix")
    shutil.rmtree(flat_dir / "pants")
    shutil.rmtree(flat_dir / "shoes")
    with pytest.raises(DataError, match=r": found 1 class folder, need at least 2 \(one folder"):
        load_images(flat_dir, 16, "fix")


def test_a_file_given_as_data_dir_is_named_a_file_with_the_folder_to_give(tmp_path: Path, capsys) -> None:
    """--data-dir naming a file said "no such folder", though the file is there."""
    given = tmp_path / "labels.csv"
    given.write_text("file,label\n")
    assert main(["run", "images", "--data-dir", str(given), "--results", str(tmp_path / "r"), *TINY]) == 2
    err = capsys.readouterr().err
    assert err.startswith(
        f"error: {given}: a file, not a folder; pass --data-dir FOLDER: a folder with one sub-folder"
        " of images per class, or train/, validation/ and test/ folders holding such sub-folders"
    ), err
