"""Benchmarks that a test runs in their smoke mode, so that they stay ready to run."""

from __future__ import annotations

import csv
import importlib
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

from search.experiments import DataOptions, get
from tests.conftest import ROOT

BENCH_TIMEOUT = 900
"""Seconds a benchmark's smoke run may take here before the test fails."""


def _bench(script: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``bench/SCRIPT`` with ``args``, its output captured."""
    return subprocess.run(
        [sys.executable, str(ROOT / "bench" / script), *args],
        capture_output=True, text=True, timeout=BENCH_TIMEOUT,
    )  # fmt: skip


def test_search_gain_smoke(tmp_path: Path, fashion_dir: Path) -> None:
    out = tmp_path / "gain.csv"
    done = _bench("search_gain.py", "--smoke", "--tuners", "hyperband", "--seeds", "0",
                  "--finalists", "2", "--fidelity", "data", "--csv", str(out),
                  "--data-dir", str(fashion_dir))  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == 1 and rows[0]["tuner"] == "hyperband"
    row = rows[0]
    assert abs(float(row["gain"]) - (float(row["test_chosen"]) - float(row["test_baseline"]))) < 1e-3
    assert (row["baseline_chosen"] == "True") == (float(row["baseline_seconds"]) == 0.0)
    assert "hyperband 1x: median gain" in done.stdout
    assert "absl" not in done.stderr and "oneDNN" not in done.stderr  # TensorFlow's start-up lines


def test_search_gain_refuses_a_folder_that_is_not_a_finished_run(tmp_path: Path) -> None:
    done = _bench("search_gain.py", "--runs", str(tmp_path))
    assert done.returncode == 2
    assert f"{tmp_path}: not a run folder (no run.json); give a run's folder" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(("option", "value", "message"), [
    ("--seeds", "0,x", "'0,x': x is not a whole number; give e.g. 0,1,2"),
    ("--budgets", "1x,3", "'1x,3': 3 is not a multiple like 1x or 3x"),
    ("--budgets", "0x", "'0x': 0x is not a multiple like 1x or 3x"),
    ("--tuners", "hyperband,tpe", "'hyperband,tpe': tpe is not one of hyperband, random,"),
])  # fmt: skip
def test_search_gain_refuses_a_bad_list_before_searching(tmp_path: Path, option: str,
                                                          value: str, message: str) -> None:  # fmt: skip
    out = tmp_path / "gain.csv"
    done = _bench("search_gain.py", "--smoke", option, value, "--csv", str(out))
    assert done.returncode == 2
    assert message in done.stderr
    assert "Traceback" not in done.stderr and not out.exists()


def test_vs_keras_tuner_smoke(fashion_dir: Path) -> None:
    done = _bench("vs_keras_tuner.py", "--smoke", "--peers", "ours,tutorial,same-space", "--data-dir",
                  str(fashion_dir), "--ours-args", "--retrain-schedule cosine")  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert "absl" not in done.stderr and "oneDNN" not in done.stderr  # TensorFlow's start-up lines
    lines = done.stdout.splitlines()
    header = lines.index(next(line for line in lines if line.startswith("peer ")))
    rows = {line.split()[0]: line.split()[1:] for line in lines[header + 1 :]}
    assert list(rows) == ["ours", "tutorial", "same-space"]
    assert rows["ours"][2:] == ["1.00x", "+0.0000"]
    for peer, (seconds, accuracy, ratio, delta) in rows.items():
        assert float(seconds) > 0 and 0.0 < float(accuracy) <= 1.0, peer
        ours_seconds, ours_accuracy = (float(v) for v in rows["ours"][:2])
        # Seconds print with one decimal, ratios with two: both are rounded.
        assert float(ratio.rstrip("x")) == pytest.approx(float(seconds) / ours_seconds, rel=0.03, abs=0.006)
        assert abs(float(delta) - (float(accuracy) - ours_accuracy)) < 1e-3
    assert any(line.startswith("ours: ") and "cosine schedule" in line for line in lines)
    same_space = next(line for line in lines if line.startswith("same-space: ") and "trials" in line)
    assert "'filters': " in same_space and "'batch_size': " in same_space


def test_vs_keras_tuner_summarizes_the_seeds(monkeypatch) -> None:
    """Medians over the seeds of each peer's figures and of its ratios to ours, seed by seed."""
    monkeypatch.syspath_prepend(str(ROOT / "bench"))
    bench = importlib.import_module("vs_keras_tuner")
    runs = {0: {"ours": (100.0, 0.92), "same-space": (150.0, 0.93)},
            1: {"ours": (200.0, 0.90), "same-space": (160.0, 0.91)},
            2: {"ours": (120.0, 0.93), "same-space": (180.0, 0.92)}}  # fmt: skip
    header, ours, peer = bench.summary(runs)
    assert header.endswith("spread over 3 seeds (min..max)")
    assert ours.split()[:5] == ["ours", "120.0", "0.9200", "1.00x", "+0.0000"]
    # Ratios 1.5, 0.8, 1.5 and differences +0.01, +0.01, -0.01, seed by seed.
    assert peer.split()[:5] == ["same-space", "160.0", "0.9200", "1.50x", "+0.0100"]
    assert peer.endswith("acc 0.9100..0.9300, time/ours 0.80..1.50x, acc-ours -0.0100..+0.0100")
    alone = {seed: {"same-space": figures["same-space"]} for seed, figures in runs.items()}
    (_, peer) = bench.summary(alone)  # without ours: no ratios
    assert peer.split()[:3] == ["same-space", "160.0", "0.9200"] and "time/ours" not in peer


def test_vs_keras_tuner_refuses_an_unknown_peer() -> None:
    done = _bench("vs_keras_tuner.py", "--peers", "ours,optuna")
    assert done.returncode == 2
    assert "'ours,optuna': optuna is not one of ours, tutorial, same-space" in done.stderr


def test_schedule_ceiling_smoke(fashion_dir: Path) -> None:
    every = "constant,cosine,smoothing,plateau,plateau-smoothing"
    done = _bench("schedule_ceiling.py", "--smoke", "--data-dir", str(fashion_dir), "--schedules", every)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "absl" not in done.stderr and "oneDNN" not in done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("backend ") and "300 training images, 1 epoch(s)" in lines[0]
    epochs = {line.split(":")[0]: line for line in lines if ": epoch  1" in line}
    assert list(epochs) == every.split(",")
    header = lines.index(next(line for line in lines if line.startswith("schedule ")))
    rows = {line.split()[0]: line.split()[1:] for line in lines[header + 1 :]}
    assert list(rows) == list(epochs)
    for schedule, (count, seconds, val, test) in rows.items():
        assert count == "1" and float(seconds) > 0, schedule
        # The table repeats each schedule's last epoch.
        assert f"val {val}  test {test}" in epochs[schedule]
        assert 0.0 < float(test) <= 1.0


def test_schedule_ceiling_compiles_each_schedule(fashion_dir: Path, monkeypatch) -> None:
    monkeypatch.syspath_prepend(str(ROOT / "bench"))
    bench = importlib.import_module("schedule_ceiling")
    experiment = get("fashion")
    splits = experiment.load(DataOptions(data_dir=fashion_dir, train_size=100, val_size=100))
    steps = 40
    smoothed = {"constant": 0.0, "cosine": 0.0, "smoothing": 0.1, "plateau": 0.0,
                "plateau-smoothing": 0.1, "ema": 0.0, "plateau-ema": 0.0}  # fmt: skip
    assert set(smoothed) == set(bench.SCHEDULES)
    for schedule, smoothing in smoothed.items():
        model = bench.compiled_baseline(experiment, splits, schedule, steps)
        assert model.loss.get_config()["label_smoothing"] == smoothing, schedule
        assert model.optimizer.use_ema == schedule.endswith("ema"), schedule
        rate = model.optimizer.get_config()["learning_rate"]
        if schedule in ("constant", "plateau", "plateau-smoothing", "ema", "plateau-ema"):
            assert rate == pytest.approx(1e-3)
        else:  # from the space's default rate to zero at the last step
            assert rate["class_name"] == "CosineDecay"
            config = rate["config"]
            assert config["initial_learning_rate"] == pytest.approx(1e-3)
            assert (config["decay_steps"], config["alpha"]) == (steps, 0.0)


def test_schedule_ceiling_sets_the_network(fashion_dir: Path, monkeypatch) -> None:
    monkeypatch.syspath_prepend(str(ROOT / "bench"))
    bench = importlib.import_module("schedule_ceiling")
    experiment = get("fashion")
    splits = experiment.load(DataOptions(data_dir=fashion_dir, train_size=100, val_size=100))
    # convs_per_block is the model's, not the space's; filters 24 is outside the space's choice.
    space = bench.with_settings(experiment.load_space(), {"convs_per_block": 2, "filters": 24})
    values = bench.baseline_values(space)
    assert (values["convs_per_block"], values["filters"], values["dense_units"]) == (2, 24, 128)
    model = bench.compiled_baseline(experiment, splits, "constant", 10, space)
    convs = [layer.filters for layer in model.layers if type(layer).__name__ == "Conv2D"]
    assert convs == [24, 24, 48, 48]


def test_schedule_ceiling_refuses_a_setting_the_model_lacks() -> None:
    done = _bench("schedule_ceiling.py", "--set", "convs_per_block=2", "--set", "depth=3")
    assert done.returncode == 2
    assert "--set convs_per_block=2 depth=3: " in done.stderr
    assert "depth: not a hyperparameter of this model" in done.stderr


def test_schedule_ceiling_refuses_an_unknown_schedule() -> None:
    done = _bench("schedule_ceiling.py", "--schedules", "cosine,onecycle")
    assert done.returncode == 2
    assert "'cosine,onecycle': onecycle is not one of constant, cosine, smoothing" in done.stderr


def test_retrain_curve_averages_each_image_with_its_mirror(monkeypatch) -> None:
    """A model that scores class 0 by the top-left pixel and class 1 by twice the top-right
    one: right on every image alone, wrong once each image's mirror is added in."""
    monkeypatch.syspath_prepend(str(ROOT / "bench"))
    bench = importlib.import_module("retrain_curve")
    inputs = keras.Input((2, 3, 1))
    corners = keras.layers.Lambda(
        lambda t: keras.ops.stack([t[:, 0, 0, 0], 2.0 * t[:, 0, -1, 0]], axis=1)
    )(inputs)
    model = keras.Model(inputs, corners)
    x = np.zeros((4, 2, 3, 1), "float32")
    x[:, 0, 0, 0], x[:, 0, -1, 0] = 3.0, 1.0  # alone: [3, 2], class 0; mirror: [1, 6]
    y = np.zeros(4, "int64")
    assert float(np.mean(np.argmax(model.predict(x, verbose=0), axis=1) == y)) == 1.0
    assert bench.mirrored_accuracy(model, x, y) == 0.0


def test_retrain_start_smoke() -> None:
    done = _bench("retrain_start.py", "--smoke")
    assert done.returncode == 0, done.stderr[-3000:]
    assert "absl" not in done.stderr and "oneDNN" not in done.stderr
    lines = done.stdout.splitlines()
    runs = {line.split()[3]: line for line in lines if line.startswith("digits    seed 0")}
    assert list(runs) == ["scratch", "checkpoint"]
    for line in runs.values():
        assert "epochs   2 (kept   2)" in line, line  # the smoke run's 2 retrain epochs
        assert 0.0 < float(line.split(" test ")[1].split()[0]) <= 1.0, line
    header = lines.index(next(line for line in lines if line.startswith("dataset ")))
    assert lines[header + 1].split()[:3] == ["digits", "2", "2"]


def test_retrain_start_measures_the_objective_in_its_direction(monkeypatch) -> None:
    monkeypatch.syspath_prepend(str(ROOT / "bench"))
    bench = importlib.import_module("retrain_start")
    diabetes = bench.dataset("diabetes", None)
    assert diabetes.objective.direction == "min" and diabetes.y.dtype == "float32"
    assert bench.better(diabetes, checkpoint=40.0, scratch=45.0) == pytest.approx(5.0)
    digits = bench.dataset("digits", None)
    assert bench.better(digits, checkpoint=0.95, scratch=0.97) == pytest.approx(-0.02)
    assert len(digits.x_test) == round(1797 * bench.TEST_SHARE) and len(digits.x) + len(digits.x_test) == 1797
    final = {"test_metrics": {"loss": 3000.0, "mean_absolute_error": 44.5}}
    assert bench.test_score(final, diabetes.objective) == 44.5


@pytest.mark.parametrize(("precision", "compute"), [("float32", "float32"), ("mixed", "bfloat16")])
def test_loop_vs_fit_builds_both_sides_under_its_precision(precision: str, compute: str,
                                                            monkeypatch) -> None:  # fmt: skip
    import keras

    monkeypatch.syspath_prepend(str(ROOT / "bench"))
    bench = importlib.import_module("loop_vs_fit")
    config = {"filters": 4, "conv_blocks": 2, "batch_size": 8, "augment": True, "flip": True,
              "shift": 0.1}  # fmt: skip
    try:
        _, _, loop_model = bench._model(config, bench.POLICIES[precision])
        fit_model = bench._fit_model(config, bench.POLICIES[precision])
        inner = [m.get_layer("inner") for m in (loop_model, fit_model.layers[-1])]
        assert [layer.compute_dtype for layer in inner] == [compute, compute]
        assert loop_model.get_layer("classes").compute_dtype == "float32"  # probabilities
    finally:
        keras.mixed_precision.set_global_policy("float32")


def test_caches_smoke(tmp_path: Path, fashion_dir: Path, clothing_dir: Path) -> None:
    done = _bench("caches.py", "--smoke", "--data-dir", str(clothing_dir),
                  "--fashion-dir", str(fashion_dir))  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.splitlines()
    assert [line.split(":")[0] for line in lines] == ["clothing images loaded", "JAX trial's first epoch"]
    assert all(" s with an empty cache, " in line and line.endswith("x)") for line in lines)
    assert done.stderr == ""
