"""The clothing experiment through the CLI: search, export, predict; weights errors."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from search.cli import main
from search.data import SkippedImagesWarning
from search.engine._predict import read_image
from search.errors import SearchError
from search.storage import RunFolder

SEARCH = ["--tuner", "random", "--weights", "none", "--fix", "base=mobilenet_v2", "--image-size",
          "32", "--max-trials", "2", "--max-epochs", "2", "--no-retrain", "--seed", "1"]  # fmt: skip


@pytest.fixture(autouse=True)
def _quiet_skips():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SkippedImagesWarning)
        yield


def test_search_export_predict_round_trip(clothing_dir: Path, tmp_path: Path, capsys) -> None:
    results = tmp_path / "results"
    assert main(["run", "clothing", *SEARCH, "--data-dir", str(clothing_dir),
                 "--results", str(results), "--name", "c"]) == 0  # fmt: skip
    folder = results / "clothing" / "c"
    meta = json.loads((folder / "run.json").read_text())
    assert meta["data"]["class_names"] == ["hat", "pants", "shoes"]
    assert meta["data"]["image_shape"] == [32, 32, 3] and meta["model"]["weights"] == "none"
    assert meta["data"]["train"] == 30  # the broken JPEG was skipped

    output = tmp_path / "model.keras"
    capsys.readouterr()
    assert main(["export", str(folder), "--output", str(output), "--retrain-data", "full"]) == 0
    out = capsys.readouterr().out
    # The final model is trained at MobileNetV2's own size, on train + validation, tested once.
    assert "trained at 224x224x3" in out and "on 42 images" in out and "TEST accuracy" in out
    export = json.loads((folder / "run.json").read_text())["exports"][0]
    assert export["trial"] == meta["best"]["trial"] and export["image_shape"] == [224, 224, 3]
    assert export["test_images"] == 12 and 0.0 <= export["test_accuracy"] <= 1.0

    # The default, validated: the train folder only, watched on the validation folder.
    checked = tmp_path / "validated.keras"
    assert main(["export", str(folder), "--output", str(checked), "--retrain-max-epochs", "3",
                 "--quiet"]) == 0  # fmt: skip
    out = capsys.readouterr().out
    assert "on 30 images, kept epoch" in out
    again = json.loads((folder / "run.json").read_text())["exports"][1]
    assert again["train_images"] == 30 and 1 <= again["kept_epoch"] <= again["epochs"] <= 3

    from search.engine import classify, load_exported

    model, names = load_exported(output)
    assert names == ["hat", "pants", "shoes"]
    assert model.input.dtype == "uint8" and tuple(model.input.shape) == (None, None, None, 3)
    for size in [(17, 23), (300, 250)]:  # any size: resized inside
        probs = model.predict(np.zeros((1, *size, 3), "uint8"), verbose=0)
        assert probs.shape == (1, 3)
        np.testing.assert_allclose(probs.sum(), 1.0, rtol=1e-5)
    image = tmp_path / "photo.png"
    Image.fromarray(np.full((60, 45, 3), 200, np.uint8)).save(image)
    top = classify(model, names, image, 3)
    assert sorted(n for n, _ in top) == names and top[0][1] >= top[1][1] >= top[2][1]

    capsys.readouterr()
    assert main(["predict", str(output), str(image)]) == 0
    line = capsys.readouterr().out.strip()
    assert line.startswith(f"{image}: {top[0][0]} {top[0][1]:.3f}, ")
    missing = tmp_path / "missing.jpg"
    assert main(["predict", str(output), str(missing), str(image), str(tmp_path / "gone.png")]) == 2
    said = capsys.readouterr()  # refused before the model loads: a typo, not an unreadable image
    assert said.out == "" and said.err == (
        f"error: image {missing}: no such file (nor 1 other image given); check the path, nothing"
        " was classified\n"
    )
    (tmp_path / "broken.png").write_bytes(b"not a png")
    assert main(["predict", str(output), str(tmp_path / "broken.png"), str(image)]) == 2
    said = capsys.readouterr()  # named on stderr; the other image still classified on stdout
    assert said.out.startswith(f"{image}: {top[0][0]} ") and said.out.count("\n") == 1, said.out
    assert said.err.startswith(f"{tmp_path / 'broken.png'}: error: not an image"), said.err


def test_export_works_for_fashion(fashion_dir: Path, tmp_path: Path, capsys) -> None:
    assert main(["run", "fashion", "--tuner", "random", "--train-size", "500", "--val-size",
                 "200", "--max-trials", "1", "--max-epochs", "1", "--no-retrain", "--fix",
                 "filters=16", "--data-dir", str(fashion_dir), "--results", str(tmp_path),
                 "--name", "f", "--quiet"]) == 0  # fmt: skip
    output = tmp_path / "fashion.keras"
    assert main(["export", str(tmp_path / "fashion" / "f"), "--output", str(output),
                 "--retrain-max-epochs", "0"]) == 2  # fmt: skip
    assert "--retrain-max-epochs (0) must be at least 1" in capsys.readouterr().err
    assert not output.exists()
    assert main(["export", str(tmp_path / "fashion" / "f"), "--output", str(output),
                 "--retrain-data", "search", "--quiet"]) == 0  # fmt: skip
    from search.engine import load_exported

    model, names = load_exported(output)
    assert names[0] == "T-shirt/top" and len(names) == 10
    assert tuple(model.input.shape) == (None, None, None, 1)
    probs = model.predict(np.zeros((1, 56, 56, 1), "uint8"), verbose=0)
    np.testing.assert_allclose(probs.sum(), 1.0, rtol=1e-5)
    capsys.readouterr()
    assert main(["export", str(tmp_path / "fashion" / "f"), "--output", str(output),
                 "--retrain-from", "checkpoint", "--retrain-max-epochs", "1"]) == 0  # fmt: skip
    assert "configuration from its search checkpoint (epoch 1) on" in capsys.readouterr().out
    exports = json.loads((tmp_path / "fashion" / "f" / "run.json").read_text())["exports"]
    assert [e["started_from"] for e in exports] == ["scratch", "checkpoint"]


def _photo(folder: Path) -> Path:
    """A small real image, for the commands that refuse the model before reading it."""
    image = folder / "x.jpg"
    Image.fromarray(np.zeros((4, 4, 3), "uint8")).save(image)
    return image


def test_predict_refuses_a_file_that_is_not_an_export(tmp_path: Path, capsys) -> None:
    image = _photo(tmp_path)
    bogus = tmp_path / "model.keras"
    bogus.write_bytes(b"not a zip")
    assert main(["predict", str(bogus), str(image)]) == 2
    err = capsys.readouterr().err
    assert f"{bogus}: not a Keras model file (not a .keras zip archive)" in err and "not found" not in err
    text = tmp_path / "model.txt"  # Keras' reason runs to a paragraph: cut and marked
    text.write_text("not a model")
    assert main(["predict", str(text), str(image)]) == 2
    err = capsys.readouterr().err.strip()
    assert f"{text}: not a readable Keras model (ValueError: " in err
    assert err.endswith("…); give the .keras file that `python -m search export RUN` wrote"), err
    assert len(err.splitlines()) == 1
    assert main(["predict", str(tmp_path / "none.keras"), str(image)]) == 2
    assert "no such model file" in capsys.readouterr().err


def test_predict_names_a_folder_given_as_the_model_or_an_image(tmp_path: Path, capsys) -> None:
    """A folder is not "no such model file" nor an IsADirectoryError: say what to give."""
    image = _photo(tmp_path)
    run = tmp_path / "fashion" / "r1"
    run.mkdir(parents=True)
    assert main(["predict", str(run), str(image)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{run}: is a folder, not a model file; give the .keras file" in err
    (run / "export.keras").write_bytes(b"zip")
    assert main(["predict", str(run), str(image)]) == 2
    assert f"{run}: is a folder; give its model file, e.g. {run / 'export.keras'}" in capsys.readouterr().err
    with pytest.raises(SearchError, match=r"is a folder; give the image files in it, e.g. .*\*\.png"):
        read_image(tmp_path, 1)
    assert main(["predict", str(run / "export.keras"), str(image), str(run)]) == 2  # before the model
    assert capsys.readouterr().err == (
        f"error: image {run}: is a folder; give the image files in it, e.g. {run / '*.png'}\n"
    )


def test_an_image_deleted_while_pillow_reads_it_is_named_gone(tmp_path: Path, monkeypatch) -> None:
    """Pillow found no image in the file, which is gone when its size is looked at: "no such
    file", not a raw FileNotFoundError."""
    from PIL import UnidentifiedImageError

    image = tmp_path / "x.png"
    image.write_bytes(b"not an image")

    def deleted_then_unread(path: Path, *args: object) -> None:
        Path(path).unlink()
        raise UnidentifiedImageError(f"cannot identify image file {path}")

    monkeypatch.setattr(Image, "open", deleted_then_unread)
    with pytest.raises(SearchError, match=r"^no such file$"):
        read_image(image, 1)


@pytest.mark.parametrize("side", [12, 15])
def test_an_image_beyond_pillows_pixel_limit_is_refused_in_one_line(
    side: int, tmp_path: Path, monkeypatch
) -> None:
    """Past Pillow's limit (here 100 pixels) it warns, past twice that it raises its own
    error: either way one SearchError with the size and the fix, and no warning printed."""
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)
    image = tmp_path / "big.png"
    Image.new("L", (side, side)).save(image)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(SearchError, match=rf"^{side * side:,} pixels, more than 100 .*: resize it"):
            read_image(image, 1)


@pytest.mark.parametrize("channels", [1, 3])
def test_a_16_bit_grayscale_image_keeps_its_shades(channels: int, tmp_path: Path) -> None:
    """Pillow's own conversion of 16-bit pixels to 8 bits clips them (nearly all white):
    the image must reach the model scaled, dark still dark."""
    ramp = np.linspace(0, 65535, 400).reshape(20, 20).astype(np.uint16)
    image = tmp_path / "deep.png"
    Image.fromarray(ramp).save(image)
    pixels = read_image(image, channels)
    assert pixels.dtype == np.uint8 and pixels.shape == ((20, 20) if channels == 1 else (20, 20, 3))
    gray = pixels if channels == 1 else pixels[..., 0]
    np.testing.assert_allclose(gray, np.round(ramp / 257), atol=1)
    shallow = tmp_path / "shallow.tiff"  # 32-bit integer pixels of 8-bit values: kept as they are
    Image.fromarray((ramp // 257).astype(np.int32)).save(shallow)
    np.testing.assert_array_equal(read_image(shallow, 1), (ramp // 257).astype(np.uint8))


def test_a_floating_point_grayscale_image_of_0_to_1_keeps_its_shades(tmp_path: Path) -> None:
    """A float TIFF of shades in [0, 1]: Pillow's conversion to 8 bits makes it black."""
    ramp = np.linspace(0, 1, 400, dtype=np.float32).reshape(20, 20)
    image = tmp_path / "float.tiff"
    Image.fromarray(ramp).save(image)
    np.testing.assert_allclose(read_image(image, 1), np.round(ramp * 255), atol=1)


def _run_without_internet(args: list[str], tmp_path: Path) -> subprocess.CompletedProcess:
    """A real process whose downloads fail (proxy on a closed port, empty Keras cache)."""
    env = {**os.environ, "KERAS_HOME": str(tmp_path / "keras-home"),
           "https_proxy": "http://127.0.0.1:9", "HTTPS_PROXY": "http://127.0.0.1:9"}  # fmt: skip
    return subprocess.run([sys.executable, "-m", "search", *args], env=env, capture_output=True,
                          text=True, timeout=300)  # fmt: skip


def test_imagenet_download_failure_names_both_other_options(clothing_dir: Path, tmp_path: Path) -> None:
    results = tmp_path / "results"
    done = _run_without_internet(["run", "clothing", "--tuner", "random", "--fix",
                                  "base=mobilenet_v2", "--data-dir", str(clothing_dir),
                                  "--results", str(results)], tmp_path)  # fmt: skip
    assert done.returncode == 2, done.stderr
    err = done.stderr
    assert "--weights imagenet: could not get the ImageNet weights of mobilenet_v2" in err
    assert "--weights PATH" in err and "--weights none" in err
    assert "Traceback" not in err and not results.exists()
    assert done.stdout == ""  # not Keras' "Downloading data from ..." above the error


def test_a_missing_data_folder_is_said_before_the_weights_are_fetched(tmp_path: Path) -> None:
    """Without the set and without internet, the first error names the folder, not the
    weights: the data is the first thing to get."""
    args = ["run", "clothing", "--tuner", "random", "--data-dir", str(tmp_path / "nope"),
            "--results", str(tmp_path / "r")]  # fmt: skip
    done = _run_without_internet(args, tmp_path)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith(f"error: {tmp_path / 'nope'}: no such folder; get the data with `git clone")
    assert "Downloading" not in done.stdout + done.stderr

@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--fix", "base=mobilenet_v2", "--weights", "/no/such.weights.h5"], "no such file"),
        (["--fix", "base=mobilenet_v2", "--weights", "__DIR__"], "__DIR__: a folder, not a weights file"),
        (["--weights", "__FILE__"], "one weights file fits one base"),
        (["--fix", "base=efficientnet_b0", "--weights", "__FILE__"], "not loadable into efficientnet_b0"),
        (["--fix", "base=xception", "--weights", "none", "--image-size", "40"], "xception needs at least 71"),
    ],
)
def test_weights_and_size_errors(
    extra: list[str], message: str, clothing_dir: Path, tmp_path: Path, capsys
) -> None:
    from hypermodels import BASES

    weights = tmp_path / "mobilenet_v2_notop.weights.h5"
    BASES["mobilenet_v2"].create(32, None).save_weights(weights)
    extra = [str(weights) if e == "__FILE__" else str(tmp_path) if e == "__DIR__" else e for e in extra]
    message = message.replace("__DIR__", str(tmp_path))
    results = tmp_path / "results"
    assert main(["run", "clothing", "--tuner", "random", *extra, "--data-dir", str(clothing_dir),
                 "--results", str(results)]) == 2  # fmt: skip
    assert message in capsys.readouterr().err
    assert not results.exists()


def test_fashion_refuses_transfer_options(tmp_path: Path, capsys) -> None:
    assert main(["run", "fashion", "--tuner", "random", "--image-size", "64",
                 "--results", str(tmp_path)]) == 2  # fmt: skip
    assert "--image-size 64: fashion images have one size" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("name", "content", "what"),
    [("notes.txt", b"hello\n", "not an image"), ("table.csv", b"a,b\n1,2\n", "not an image"),
     ("empty.png", b"", "an empty file (0 bytes)")],
)  # fmt: skip
def test_a_file_that_is_not_an_image_is_named_with_what_predict_takes(
    name: str, content: bytes, what: str, tmp_path: Path
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    fix = "give image files Pillow reads: PNG, JPEG, BMP, GIF, TIFF, WebP"
    with pytest.raises(SearchError, match=rf"^{re.escape(what)}.*; {fix}"):
        read_image(path, 1)


def test_a_truncated_image_is_named_with_the_fix(tmp_path: Path) -> None:
    whole = tmp_path / "whole.png"
    Image.new("L", (40, 40), 128).save(whole)
    cut = tmp_path / "cut.png"
    cut.write_bytes(whole.read_bytes()[:60])
    damaged = r"^not a readable image \(.*\): damaged or cut short; give the whole file"
    with pytest.raises(SearchError, match=damaged):
        read_image(cut, 1)


def test_a_run_on_the_default_data_folder_goes_on_from_another_working_folder(
    clothing_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    """Clothing's default data folder is relative: resumed or exported from another working
    folder, the run was refused (or read other data). run.json keeps it absolute, which a
    resume with `run --name` and no --data-dir still takes; a deleted folder is named."""
    started = tmp_path / "started"
    data = started / "data" / "clothing-dataset-small"
    data.parent.mkdir(parents=True)
    clothing_dir.rename(data)
    monkeypatch.chdir(started)
    again = ["run", "clothing", *SEARCH[:8], "--max-trials", "1", "--max-epochs", "1", "--no-retrain",
             "--results", "results", "--name", "c"]  # fmt: skip
    assert main(again) == 0
    folder = RunFolder(started / "results" / "clothing" / "c")
    assert folder.read_meta()["request"]["data_dir"] == str(data)
    folder.update_meta(status="interrupted")
    assert main(again) == 0  # the same run, without --data-dir: not another data option
    monkeypatch.chdir(tmp_path)
    folder.update_meta(status="interrupted")
    assert main(["resume", str(folder.path)]) == 0
    output = tmp_path / "model.keras"
    assert main(["export", str(folder.path), "--output", str(output), "--retrain-max-epochs", "1",
                 "--quiet"]) == 0  # fmt: skip
    assert output.is_file()
    moved = tmp_path / "moved"  # the project, data and results, moved whole
    started.rename(moved)
    monkeypatch.chdir(moved)
    folder = RunFolder(moved / "results" / "clothing" / "c")
    folder.update_meta(status="interrupted")
    assert main(["resume", str(folder.path)]) == 0  # the default here: run.json now says so
    data = moved / "data" / "clothing-dataset-small"
    assert folder.read_meta()["request"]["data_dir"] == str(data)
    shutil.rmtree(data)
    folder.update_meta(status="interrupted")
    capsys.readouterr()
    assert main(["resume", str(folder.path)]) == 2
    assert capsys.readouterr().err == (
        f"error: {folder.path}: its data folder {data} is gone; put the data back there (the run"
        " goes on with the data it began with), give their new place with --data-dir, run this"
        " command in a folder holding"
        " data/clothing-dataset-small, or start a new run with another --name\n"
    )
