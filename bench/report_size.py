"""Size and opening time of the HTML report of a generated 500-trial run.

Run: ``python bench/report_size.py [--trials 500] [--epochs 10]``. Prints the HTML size,
the time to write it, and (when Debian's chromium + chromium-driver and selenium are
installed) the time headless Chromium takes to load it and draw every figure.
"""

from __future__ import annotations

import argparse
import math
import shutil
import tempfile
import time
from pathlib import Path

import _quiet  # noqa: F401  (first: TensorFlow's start-up lines stay out)
import numpy as np

from search.report import write_report
from search.storage import RunFolder

SPACE = {
    "learning_rate": {"type": "float", "low": 1e-4, "high": 1e-1, "log": True},
    "dense_units": {"type": "int", "low": 32, "high": 512, "step": 32},
    "dropout": {"type": "float", "low": 0.0, "high": 0.8, "step": 0.1},
    "augment": {"type": "bool"},
    "preprocessing": {"type": "choice", "values": ["scale", "standardize"]},
    "batch_size": {"type": "choice", "values": [32, 64, 128]},
}


def make_run(root: Path, n: int, n_epochs: int, seed: int = 0) -> RunFolder:
    rng = np.random.default_rng(seed)
    trials = []
    for i in range(n):
        lr = float(10 ** rng.uniform(-4, -1))
        quality = 0.92 - 0.05 * abs(math.log10(lr) + 2.7) - rng.uniform(0, 0.03)
        eps = []
        for e in range(1, n_epochs + 1):
            val = quality * (1 - math.exp(-e / 2)) + rng.normal(0, 0.003)
            train = val + 0.004 * e
            eps.append({"epoch": e, "accuracy": train, "val_accuracy": val,
                        "loss": 1 - train, "val_loss": 1.05 - val, "seconds": 10.0})  # fmt: skip
        minute = i * 2
        trials.append({
            "id": f"{i:04d}", "status": "completed", "epochs": eps, "continues": None,
            "hyperparameters": {"learning_rate": lr, "dense_units": int(rng.integers(1, 17)) * 32,
                                "dropout": round(float(rng.integers(0, 9)) / 10, 1),
                                "augment": bool(rng.integers(0, 2)),
                                "preprocessing": str(rng.choice(["scale", "standardize"])),
                                "batch_size": int(rng.choice([32, 64, 128]))},
            "seconds": 100.0, "failure": None,
            "started": f"2026-01-01T{minute // 60:02d}:{minute % 60:02d}:00+00:00",
            "finished": f"2026-01-01T{minute // 60:02d}:{minute % 60 + 1:02d}:00+00:00",
        })  # fmt: skip
    folder = RunFolder(root / "fashion" / f"generated-{n}")
    folder.path.mkdir(parents=True)
    folder.write_meta({"experiment": "fashion", "tuner": "random", "status": "finished",
                       "created": "2026-01-01T00:00:00+00:00", "seconds": n * 120,
                       "budget": {"max_trials": n, "max_epochs": n_epochs},
                       "space": {"params": SPACE}, "final": None})  # fmt: skip
    folder.write_trials(trials)
    return folder


def open_in_chromium(path: Path) -> tuple[float | None, float, int] | None:
    chromium, driver_path = shutil.which("chromium"), shutil.which("chromedriver")
    try:
        from selenium import webdriver
    except ImportError:
        return None
    if not (chromium and driver_path):
        return None
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--window-size=1400,2400"):  # fmt: skip
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options,
                              service=webdriver.ChromeService(executable_path=driver_path))
    try:
        from selenium.webdriver.support.ui import WebDriverWait

        start = time.perf_counter()
        driver.get(path.resolve().as_uri())
        WebDriverWait(driver, 120, poll_frequency=0.05).until(
            lambda d: d.execute_script("return document.body.dataset.drawn") == "all"
        )
        drawn = time.perf_counter() - start
        paint = driver.execute_script(
            "var p = performance.getEntriesByName('first-contentful-paint')[0];"
            " return p ? p.startTime / 1000 : null"
        )
        count = driver.execute_script(
            "return Array.from(document.querySelectorAll('div.plotly-graph-div'))"
            ".filter(d => d.querySelector('svg.main-svg')).length"
        )
        return paint, drawn, count
    finally:
        driver.quit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trials", type=int, default=500)
    parser.add_argument("--epochs", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = make_run(Path(tmp), args.trials, args.epochs)
        start = time.perf_counter()
        output, _ = write_report([folder])
        written = time.perf_counter() - start
        size = output.stat().st_size / 2**20
        print(f"{args.trials} trials x {args.epochs} epochs: report {size:.1f} MiB"
              f" (goal < 15 MiB, ratio {size / 15:.2f}), written in {written:.1f} s")
        opened = open_in_chromium(output)
        if opened is None:
            print("chromium/selenium not installed: opening time not measured")
        else:
            paint, drawn, figures = opened
            shown = f"{paint:.1f} s" if paint is not None else "?"
            print(f"headless Chromium: first paint (summary, table) after {shown},"
                  f" all {figures} figures drawn after {drawn:.1f} s")


if __name__ == "__main__":
    main()
