"""Trials per hour and best validation accuracy of each backend on the same budget.

Run: ``python bench/backends.py [--train-size 2000] [--val-size 1000] [--max-epochs 4]
[--max-trials 12] [--tuners optuna,hyperband,random]``. Each backend runs as
``python -m search run fashion`` in this one process tree, one after the other, with
the same data, epochs and seed; the figures come from the run folders.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from search.cli import main as search


def run_backend(tuner: str, root: Path, args: argparse.Namespace) -> dict:
    argv = ["run", "fashion", "--tuner", tuner, "--train-size", str(args.train_size),
            "--val-size", str(args.val_size), "--max-epochs", str(args.max_epochs),
            "--no-retrain", "--results", str(root), "--name", tuner, "--quiet",
            "--seed", str(args.seed)]  # fmt: skip
    if tuner != "hyperband":
        argv += ["--max-trials", str(args.max_trials)]
    start = time.perf_counter()
    code = search(argv)
    seconds = time.perf_counter() - start
    folder = root / "fashion" / tuner
    trials = json.loads((folder / "trials.json").read_text())["trials"]
    best = max((t["best"]["val_accuracy"] for t in trials if t.get("best")), default=float("nan"))
    epochs = sum(len(t["epochs"]) for t in trials)
    return {"tuner": tuner, "code": code, "seconds": seconds, "trials": len(trials),
            "pruned": sum(t["status"] == "pruned" for t in trials), "epochs": epochs,
            "best": best}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--train-size", type=int, default=2000)
    parser.add_argument("--val-size", type=int, default=1000)
    parser.add_argument("--max-epochs", type=int, default=4)
    parser.add_argument("--max-trials", type=int, default=12)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--tuners", default="optuna,hyperband,random")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        rows = [run_backend(t, Path(tmp), args) for t in args.tuners.split(",")]
    print(f"fashion, train {args.train_size}, val {args.val_size}, max_epochs {args.max_epochs},"
          f" max_trials {args.max_trials} (hyperband: its own schedule)")
    for r in rows:
        per_hour = r["trials"] / r["seconds"] * 3600
        print(f"{r['tuner']:>10}: {r['trials']:3d} trials ({r['pruned']} pruned),"
              f" {r['epochs']:3d} epochs in {r['seconds']:6.0f} s = {per_hour:6.0f} trials/h,"
              f" best val acc {r['best']:.4f}")
    base = rows[0]
    for r in rows[1:]:
        print(f"{base['tuner']} vs {r['tuner']}: trials/h ratio"
              f" {(base['trials'] / base['seconds']) / (r['trials'] / r['seconds']):.2f},"
              f" best val acc difference {base['best'] - r['best']:+.4f}")


if __name__ == "__main__":
    main()
