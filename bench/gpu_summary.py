"""OUTDIR/summary.md from what ``bench/gpu_check.sh`` left in OUTDIR: each step's status and
seconds, then its figures (or where its log is, when it failed).

Run: ``python bench/gpu_summary.py OUTDIR [--seconds N]``. Standard library only.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
from pathlib import Path
from typing import Any

MAIN_RUN = Path("results") / "fashion" / "main"
USE_COLUMNS = 3
"""gpu_use.csv: timestamp, utilization.gpu [%], memory.used [MiB]."""
SCHEDULE_MARK = 10
"""schedule.json: the summary gives the test accuracy every this many epochs."""
AGAINST_BASELINE = re.compile(r"(?:Against|ranked above) the baseline.*?: val acc ([+-][\d.]+)")


def _json(path: Path) -> Any:
    return json.loads(path.read_text()) if path.is_file() else None


def device_lines(out: Path) -> list[str]:
    """The GPU's name and memory (nvidia-smi) and the Python-side versions and devices."""
    path = out / "device.txt"
    if not path.is_file():
        return ["- no device.txt"]
    text = path.read_text().splitlines()
    gpus = [line.strip(" |") for line in text if re.search(r"\b(H100|H200|A100|L4|NVIDIA)\b", line)]
    ours = [line for line in text if line.startswith(("python ", "tensorflow ", "devices "))]
    return [f"- {line}" for line in [*gpus[:2], *ours]]


def main_lines(out: Path, seconds: str) -> list[str]:
    """The main command: wall time, trials, chosen trial, test accuracy, gain over baseline."""
    meta = _json(out / MAIN_RUN / "run.json")
    if not meta or "final" not in meta:
        return ["- no finished run: see main.log"]
    trials = (_json(out / MAIN_RUN / "trials.json") or {}).get("trials", [])
    final = meta["final"]
    chosen = next((t for t in trials if t["id"] == final["trial"]), {})
    log = out / "main.log"
    gain = AGAINST_BASELINE.search(log.read_text()) if log.is_file() else None
    return [
        f"- wall time {seconds} s (the run's own: {meta.get('seconds', '?')} s);"
        f" {len(trials)} trials; retrain {final.get('seconds', '?')} s,"
        f" {final.get('epochs', '?')} epochs on {final.get('train_images', '?')} images,"
        f" schedule {final.get('schedule', 'plateau')}",
        f"- **test accuracy {final['test_accuracy']:.4f}**; chosen trial {final['trial']}"
        f" ({'the baseline' if chosen.get('baseline') else 'sampled'}):"
        f" {final['hyperparameters']}",
        f"- val accuracy gain over the baseline (converged): {gain.group(1) if gain else 'n/a'}",
        f"- finalists: {len(final.get('finalists') or [])}; val gain of the chosen over the"
        f" baseline at full fidelity: {final.get('gain_over_baseline', 'n/a')}",
    ]


def loop_lines(out: Path) -> list[str]:
    figures = _json(out / "loop_vs_fit.json")
    if not figures:
        return ["- no loop_vs_fit.json: see loop.log"]
    lines = [f"- backend {figures['backend']}, {figures['images']} images, filters"
             f" {figures['filters']}, batch {figures['batch_size']}"]  # fmt: skip
    for key, label in (("plain", "no augmentation"), ("augment", "with augmentation")):
        case = figures.get(key)
        if case is None:
            lines.append(f"- {label}: not measured (out of time? see loop.log)")
            continue
        lines.append(f"- {label}: loop {case['loop_images_per_s']} img/s, model.fit"
                     f" {case['fit_images_per_s']} img/s, ratio {case['ratio']}x")  # fmt: skip
    return lines


def memory_lines(out: Path) -> list[str]:
    figures = _json(out / "memory.json")
    if not figures:
        return ["- no memory.json: see memory.log"]
    device = figures.get("device_mib")
    shown = f"{device} MiB, growth {figures.get('device_growth_mib')} MiB" if device else "none (a CPU)"
    return [
        f"- {figures['trials']} trials, {figures['seconds_per_trial']} s per trial",
        f"- RSS per trial {figures['rss_mib']} MiB, growth from trial 5 {figures['rss_growth_mib']} MiB",
        f"- device memory in use per trial: {shown}",
    ]


def gain_lines(out: Path) -> list[str]:
    path = out / "search_gain.csv"
    if not path.is_file():
        return ["- no search_gain.csv: see gain.log"]
    return [
        f"- {r['tuner']} {r['budget']} seed {r['seed']}: test chosen {r['test_chosen']},"
        f" baseline {r['test_baseline']}, **gain {r['gain']}** (baseline chosen:"
        f" {r['baseline_chosen']}); search {r['search_seconds']} s, retrain {r['retrain_seconds']} s"
        for r in csv.DictReader(path.open())
    ]


def schedule_lines(out: Path) -> list[str]:
    """The baseline's curve under a fixed schedule: test accuracy every ``SCHEDULE_MARK``
    epochs and at the end, and the epoch a validated retrain would keep (the best validation
    accuracy)."""
    figures = _json(out / "schedule.json")
    if not figures or not figures["epochs"]:
        return ["- no schedule.json (or no epoch in it): see schedule.log"]
    epochs = figures["epochs"]
    marks = [e for e in epochs if e["epoch"] % SCHEDULE_MARK == 0 or e is epochs[-1]]
    best = max(epochs, key=lambda e: e["val"])
    return [
        f"- {figures['schedule']} planned over {figures['epochs_planned']} epochs, {len(epochs)}"
        f" trained{'' if len(epochs) == figures['epochs_planned'] else ' (stopped early)'}, on"
        f" {figures['train_images']} images, {figures['precision']}, {epochs[-1]['seconds']} s:"
        f" {figures['configuration']}",
        "- test accuracy " + ", ".join(f"after {e['epoch']:.0f}: {e['test']:.4f}" for e in marks),
        f"- **best val epoch {best['epoch']:.0f}: val {best['val']:.4f}, test {best['test']:.4f}**;"
        f" train accuracy at the end {epochs[-1]['train']:.4f}",
    ]


def use_lines(out: Path) -> list[str]:
    """The GPU's use over the whole check, from nvidia-smi's readings in gpu_use.csv."""
    path = out / "gpu_use.csv"
    if not path.is_file():
        return ["- no gpu_use.csv (no nvidia-smi)"]
    rows = [r for r in csv.reader(path.open()) if len(r) == USE_COLUMNS and r[1].strip()[0].isdigit()]
    if not rows:
        return ["- no reading in gpu_use.csv"]
    use = [int(r[1].split()[0]) for r in rows]
    memory = [int(r[2].split()[0]) for r in rows]
    return [
        f"- {len(rows)} readings: GPU use mean {sum(use) / len(use):.0f} %, max {max(use)} %;"
        f" memory used at most {max(memory)} MiB"
    ]


def _readable(lines: Any, out: Path, *args: str) -> list[str]:
    """``lines(out, *args)``, or one line saying what in OUTDIR could not be read."""
    try:
        return lines(out, *args)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return [f"- could not read the step's output: {type(exc).__name__}: {exc}"]


def summary(out: Path, seconds: int) -> str:
    steps = [line.split("\t") for line in (out / "steps.tsv").read_text().splitlines() if line]
    took = {name: secs for name, _, secs, _ in steps}
    lines = ["# GPU check", "", f"{seconds} s in all.", "", "| step | status | seconds | limit |",
             "|---|---|---|---|"]  # fmt: skip
    lines += [f"| {name} | {status} | {secs} | {limit} |" for name, status, secs, limit in steps]
    sections = (
        ("Device", _readable(device_lines, out)),
        ("Main command (`python -m search run fashion --backend jax --tuner hyperband`)",
         _readable(main_lines, out, took.get("main", "?"))),
        ("Search gain (`bench/search_gain.py`)", _readable(gain_lines, out)),
        ("The baseline under a fixed schedule (`bench/retrain_curve.py --cosine`)",
         _readable(schedule_lines, out)),
        ("Memory per trial (`bench/memory.py`)", _readable(memory_lines, out)),
        ("Custom loop against model.fit (`bench/loop_vs_fit.py`)", _readable(loop_lines, out)),
        ("GPU use (`nvidia-smi`, every few seconds)", _readable(use_lines, out)),
    )  # fmt: skip
    for title, body in sections:
        lines += ["", f"## {title}", "", *body]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="gpu_check.sh's OUTDIR")
    parser.add_argument("--seconds", type=int, default=0, help="the whole check's wall time")
    args = parser.parse_args()
    (args.out / "summary.md").write_text(summary(args.out, args.seconds))


if __name__ == "__main__":
    main()
