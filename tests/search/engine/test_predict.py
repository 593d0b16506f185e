"""Classifying image files with an exported model: batches of images of one size."""

from __future__ import annotations

import builtins
import errno
import os
import re
import threading
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from PIL import ExifTags, Image, TiffImagePlugin

from search.data._folders import _decode
from search.engine import classify_all, load_exported
from search.engine._predict import read_image
from search.errors import SearchError
from tests.helpers.runs import write_run


class _Counting:
    """A stand-in for an exported model: grayscale input, two classes, calls counted."""

    input = SimpleNamespace(shape=(None, None, None, 1))

    def __init__(self) -> None:
        self.batches: list[int] = []

    def predict(self, images: np.ndarray, verbose: int = 0) -> np.ndarray:
        self.batches.append(len(images))
        bright = images.reshape(len(images), -1).mean(axis=1) / 255
        return np.stack([1 - bright, bright], axis=1)


def test_images_of_one_size_are_predicted_in_one_batch_in_their_order(tmp_path: Path) -> None:
    """A folder of 300 images was one model call each (2 minutes at 0.4 s a call): images
    of one size go in one call; the results keep the order given, errors in their place."""
    paths: list[Path] = []
    for i, size in enumerate([(8, 8)] * 5 + [(6, 9)]):
        paths.append(tmp_path / f"{i}.png")
        Image.fromarray(np.full(size, 50 * i, np.uint8)).save(paths[-1])
    paths.insert(2, tmp_path / "missing.png")
    model: Any = _Counting()
    results = list(classify_all(model, ["dark", "bright"], paths, 1))
    assert [path for path, _ in results] == paths
    assert isinstance(results[2][1], SearchError) and "no such file" in str(results[2][1])
    assert [r[0][0] for _, r in results if not isinstance(r, SearchError)] == ["dark"] * 3 + ["bright"] * 3
    assert sorted(model.batches) == [1, 5]


def test_a_file_that_is_no_image_is_named_once_with_what_predict_takes(tmp_path: Path) -> None:
    """An array saved with np.save said 'not a readable image (UnidentifiedImageError: cannot
    identify image file '/path/arr.npy')', the path a second time after predict's own."""
    array = tmp_path / "arr.npy"
    np.save(array, np.zeros((4, 4), np.uint8))
    model: Any = _Counting()
    [(_, error)] = list(classify_all(model, ["dark", "bright"], [array], 1))
    assert isinstance(error, SearchError) and str(array) not in str(error)
    assert str(error) == (
        "not an image (Pillow knows no image format in it); give image files Pillow reads: PNG, JPEG,"
        " BMP, GIF, TIFF, WebP, ..."
    )


def test_a_device_or_pipe_given_as_an_image_is_named_as_one_not_read(tmp_path: Path) -> None:
    """/dev/zero was reported as 'an empty file (0 bytes)'; a named pipe blocked predict
    until something wrote to it."""
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    # Were predict to open the pipe, this writer would let it read an empty stream (a wrong
    # message) rather than wait forever.
    threading.Thread(target=lambda: open(pipe, "wb").close(), daemon=True).start()
    model: Any = _Counting()
    results = list(classify_all(model, ["dark", "bright"], [Path("/dev/zero"), pipe], 1))
    for _, error in results:
        assert isinstance(error, SearchError)
        assert str(error).startswith("not a regular file (a device, pipe or socket); give image files")
    assert model.batches == []


def _denied(monkeypatch: pytest.MonkeyPatch, denied: Path) -> None:
    """``open`` of ``denied`` fails as a file of another user does (tests may run as root)."""
    real = builtins.open

    def guarded(file: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(file, (str, os.PathLike)) and Path(file) == denied:
            raise PermissionError(errno.EACCES, "Permission denied", str(file))
        return real(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", guarded)


def test_an_image_that_may_not_be_read_says_so_not_damaged(tmp_path: Path, monkeypatch) -> None:
    """A file of another user said 'not a readable image (PermissionError: ...): damaged or
    cut short; give the whole file', the wrong fix."""
    image = tmp_path / "theirs.png"
    Image.fromarray(np.zeros((4, 4), np.uint8)).save(image)
    _denied(monkeypatch, image)
    [(_, error)] = list(classify_all(_Counting(), ["dark", "bright"], [image], 1))
    assert str(error) == "cannot be read: permission denied; make it readable for this user"


def test_a_model_that_may_not_be_read_says_so_not_that_it_is_no_model(tmp_path: Path, monkeypatch) -> None:
    """It said 'not a Keras model file (not a .keras zip archive)': zipfile could not open it."""
    model = tmp_path / "theirs.keras"
    model.write_bytes(b"PK")
    _denied(monkeypatch, model)
    with pytest.raises(SearchError) as caught:
        load_exported(model)
    assert str(caught.value) == f"{model}: cannot be read: permission denied; make it readable for this user"


def test_a_runs_own_model_given_to_predict_names_the_export_that_writes_one(tmp_path: Path) -> None:
    """A run's best_model.keras (kept as it trained, without class names) was loaded, then
    refused as one of the 'other models' export saves as they trained; it is refused before
    loading, with the export command that writes the model predict takes."""
    folder = write_run(tmp_path / "my results", "r", [])
    folder.model_file.write_bytes(b"not read")
    command = f"`python -m search export '{folder.path}'`"
    with pytest.raises(SearchError, match=rf"^{re.escape(str(folder.model_file))}: the run's own model,.*"
                                          rf"{re.escape(command)} writes from the run$"):  # fmt: skip
        load_exported(folder.model_file)


def test_an_image_is_read_with_the_channels_the_model_takes_an_alpha_opaque(tmp_path: Path) -> None:
    """Models of 2 or 4 channels were fed RGB. A 16-bit gray image repeated its gray into the
    alpha channel too."""
    deep = tmp_path / "deep.png"
    Image.fromarray(np.full((3, 5), 257 * 100, np.uint16)).save(deep)
    rgb = tmp_path / "rgb.png"
    Image.fromarray(np.full((3, 5, 3), 40, np.uint8)).save(rgb)
    assert read_image(deep, 4).shape == (3, 5, 4) and (read_image(deep, 4)[..., :3] == 100).all()
    assert (read_image(deep, 4)[..., 3] == 255).all() and (read_image(deep, 2)[..., 1] == 255).all()
    assert read_image(rgb, 4).shape == (3, 5, 4) and (read_image(rgb, 4)[..., 3] == 255).all()
    assert read_image(rgb, 2).shape == (3, 5, 2) and read_image(rgb, 1).shape == (3, 5)


def test_a_photo_taken_turned_is_read_upright_as_training_reads_it(tmp_path: Path) -> None:
    """predict read a JPEG whose EXIF orientation turns it as stored (sideways), unlike the
    images the model learned from."""
    pixels = np.zeros((32, 48, 3), np.uint8)
    pixels[:16] = 255
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: turned 90 degrees clockwise to be seen
    photo = tmp_path / "photo.jpg"
    Image.fromarray(pixels).save(photo, exif=exif.tobytes())
    image = read_image(photo, 1)
    assert image.shape == (48, 32)
    assert image[:, :12].mean() < 10 and image[:, -12:].mean() > 245
    trained = _decode(photo, 16)
    assert isinstance(trained, np.ndarray)
    assert trained[:, :6].mean() < 10 and trained[:, -6:].mean() > 245


def _damaged_exif_photo(path: Path) -> None:
    """A JPEG turned by its EXIF orientation whose other tags are damaged (four bytes of the
    EXIF block changed, as a random damage a review found did): Pillow 13's
    ``ImageOps.exif_transpose`` raised AttributeError rewriting them."""
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    exif[ExifTags.Base.Make] = "Canon"
    exif[ExifTags.Base.DateTime] = "2020:01:01 00:00:00"
    exif[ExifTags.Base.XResolution] = TiffImagePlugin.IFDRational(72, 1)
    exif[ExifTags.Base.Software] = "x" * 40
    inner = exif.get_ifd(ExifTags.IFD.Exif)
    inner[ExifTags.Base.ExposureTime] = TiffImagePlugin.IFDRational(1, 100)
    inner[ExifTags.Base.MakerNote] = b"\x00\x01abcdefgh" * 4
    inner[ExifTags.Base.UserComment] = b"ASCII\x00\x00\x00hello"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[1], gps[2] = "N", (TiffImagePlugin.IFDRational(1, 1),) * 3
    Image.new("RGB", (16, 8), (10, 200, 30)).save(path, "JPEG", exif=exif.tobytes())
    data = bytearray(path.read_bytes())
    start = data.index(b"Exif\x00\x00")
    for offset, value in ((19, 12), (179, 98), (215, 175), (324, 30)):
        data[start + offset] = value
    path.write_bytes(bytes(data))


def test_a_photo_with_damaged_exif_is_read_as_before(tmp_path: Path) -> None:
    """Its pixels read; only its metadata is damaged. Turning it upright stopped the run
    ("unexpected error") and predict."""
    photo = tmp_path / "photo.jpg"
    _damaged_exif_photo(photo)
    image = read_image(photo, 3)
    assert image.shape in ((8, 16, 3), (16, 8, 3)) and abs(int(image[..., 1].mean()) - 200) < 10
    trained = _decode(photo, 16)
    assert isinstance(trained, np.ndarray) and abs(int(trained[..., 1].mean()) - 200) < 10
