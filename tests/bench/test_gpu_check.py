"""bench/gpu_check.sh, the prepared GPU measurement, in its smoke mode on the CPU: every step
runs, leaves its output in OUTDIR, and the summary carries their figures."""

from __future__ import annotations

import csv
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, import_or_missing, missing, real_fashion_dir

SMOKE_TIMEOUT = 1800
"""Seconds the smoke check may take here (it sets tighter limits on each of its steps)."""
STEPS = ("device", "main", "gain", "schedule", "memory", "loop")


@pytest.fixture(scope="module")
def smoke_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """OUTDIR of one smoke run of the check on the real Fashion-MNIST."""
    data = real_fashion_dir()
    if data is None:
        missing("Fashion-MNIST not installed: apt-get install dataset-fashion-mnist")
    import_or_missing("jax")
    if shutil.which("timeout") is None:
        missing("coreutils' timeout is not installed")
    out = tmp_path_factory.mktemp("gpu-check") / "out"
    done = subprocess.run(
        ["bash", str(ROOT / "bench" / "gpu_check.sh"), str(out), "--data", str(data), "--smoke"],
        capture_output=True, text=True, timeout=SMOKE_TIMEOUT,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert f"summary: {out}/summary.md" in done.stdout
    return out


def test_every_step_succeeds(smoke_out: Path) -> None:
    rows = [line.split("\t") for line in (smoke_out / "steps.tsv").read_text().splitlines()]
    assert [(name, status) for name, status, *_ in rows] == [(s, "ok") for s in STEPS], rows
    for name in STEPS:
        assert (smoke_out / f"{name}.log").is_file()


def test_step_outputs_hold_numbers(smoke_out: Path) -> None:
    assert "devices" in (smoke_out / "device.txt").read_text()
    meta = json.loads((smoke_out / "results" / "fashion" / "main" / "run.json").read_text())
    assert meta["versions"]["keras_backend"] == "jax"
    assert 0.0 < meta["final"]["test_accuracy"] <= 1.0
    loop = json.loads((smoke_out / "loop_vs_fit.json").read_text())
    assert loop["backend"] == "jax"
    assert all(loop[case]["loop_images_per_s"] > 0 for case in ("plain", "augment"))
    memory = json.loads((smoke_out / "memory.json").read_text())
    assert memory["trials"] == len(memory["rss_mib"]) > 0
    rows = list(csv.DictReader((smoke_out / "search_gain.csv").open()))
    assert len(rows) == 1 and 0.0 < float(rows[0]["test_chosen"]) <= 1.0
    assert rows[0]["budget"] == "run" and rows[0]["tuner"] == meta["tuner"]  # the main run's gain
    schedule = json.loads((smoke_out / "schedule.json").read_text())
    assert schedule["schedule"] == "cosine" and [e["epoch"] for e in schedule["epochs"]] == [1, 2]
    assert schedule["configuration"]["filters"] == 64  # the gpu space's baseline
    assert schedule["epochs"][1]["rate"] < schedule["epochs"][0]["rate"]  # decayed


def test_summary_carries_the_figures(smoke_out: Path) -> None:
    text = (smoke_out / "summary.md").read_text()
    meta = json.loads((smoke_out / "results" / "fashion" / "main" / "run.json").read_text())
    assert f"test accuracy {meta['final']['test_accuracy']:.4f}" in text
    assert meta["final"]["schedule"] == "cosine" and "images, schedule cosine" in text  # the gpu budget's
    loop = json.loads((smoke_out / "loop_vs_fit.json").read_text())
    assert f"ratio {loop['augment']['ratio']}x" in text
    gain = next(csv.DictReader((smoke_out / "search_gain.csv").open()))["gain"]
    assert f"gain {gain}" in text
    best = max(json.loads((smoke_out / "schedule.json").read_text())["epochs"], key=lambda e: e["val"])
    assert f"best val epoch {best['epoch']:.0f}: val {best['val']:.4f}" in text
    assert "cosine planned over 2 epochs, 2 trained, on 300 images, float32" in text  # not cut short
    assert re.search(r"\| main \| ok \| \d+ \|", text)
    assert "could not read" not in text and "no finished run" not in text


def test_bad_data_folder_is_refused(tmp_path: Path) -> None:
    done = subprocess.run(
        ["bash", str(ROOT / "bench" / "gpu_check.sh"), str(tmp_path / "out"), "--data",
         str(tmp_path), "--smoke"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.startswith(f"error: --data {tmp_path}: no train-images-idx3-ubyte")
    assert not (tmp_path / "out").exists()


def test_wheels_are_required_outside_smoke(tmp_path: Path) -> None:
    (tmp_path / "train-images-idx3-ubyte.gz").write_bytes(b"")
    done = subprocess.run(
        ["bash", str(ROOT / "bench" / "gpu_check.sh"), str(tmp_path / "out"), "--data",
         str(tmp_path)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.startswith("error: no --wheels given")
    assert not (tmp_path / "out").exists()


def test_wheels_leave_out_what_the_gpu_machine_has(tmp_path: Path) -> None:
    report = {"install": [{"metadata": {"name": n, "version": v}} for n, v in
                          (("Keras_Tuner", "1.4.8"), ("numpy", "2.5.5"), ("optuna", "5.0.0"))]}
    (tmp_path / "report.json").write_text(json.dumps(report))
    (tmp_path / "have.txt").write_text("# the machine's packages\nNumPy\nrich  # a comment\n")
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "gpu_requirements.py"), "--missing",
         str(tmp_path / "report.json"), str(tmp_path / "have.txt")],
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    assert done.stdout.splitlines() == ["keras-tuner==1.4.8", "optuna==5.0.0"]


def test_requirements_leave_out_tensorflow_and_jax() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "gpu_requirements.py")],
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    names = [re.split(r"[\[<>=;]", line)[0] for line in done.stdout.splitlines()]
    assert "keras" in names and "optuna" in names
    assert not [n for n in names if n.startswith(("tensorflow", "jax"))]


def test_summary_says_which_loop_case_ran_out_of_time(tmp_path: Path) -> None:
    plain = {"loop_images_per_s": 1000, "fit_images_per_s": 900, "ratio": 1.11}
    (tmp_path / "loop_vs_fit.json").write_text(json.dumps(
        {"backend": "jax", "images": 64, "filters": 4, "batch_size": 32, "plain": plain}
    ))  # fmt: skip
    (tmp_path / "steps.tsv").write_text("loop\ttimed out after 60 s\t60\t60\n")
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "gpu_summary.py"), str(tmp_path), "--seconds", "1"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    text = (tmp_path / "summary.md").read_text()
    assert "- no augmentation: loop 1000 img/s, model.fit 900 img/s, ratio 1.11x" in text
    assert "- with augmentation: not measured (out of time? see loop.log)" in text
