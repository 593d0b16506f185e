"""What each early-stopping rule would have cost the validated retrains and finalists of
finished runs: epochs trained against validation accuracy kept.

Run: ``python bench/retrain_stop.py RUN [RUN ...]`` (run folders, or folders holding them).
A validated retrain cuts the learning rate after every epoch without a better validation
accuracy (by ``VALIDATED_MIN_DELTA``) and stops after ``VALIDATED_PATIENCE`` such epochs in
a row. The cuts do not depend on when training stops, so a rule that stops earlier would
have seen the same curve up to its stop: its epochs and kept accuracy are read off the
recorded curve, exactly (as long as training is deterministic, which it is per seed).
Prints one line per curve and rule, then the totals per rule.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import _quiet  # noqa: F401  (first: TensorFlow's start-up lines stay out)

from search.engine._retrain import (
    VALIDATED_CUTS_BEFORE_SHRINK,
    VALIDATED_MIN_DELTA,
    VALIDATED_PATIENCE,
    VALIDATED_PATIENCE_AFTER_CUT,
)

Patience = Callable[[int], int]
"""The patience of a plateau, given the learning-rate cuts made before it began."""

LONGEST = f"patience {VALIDATED_PATIENCE}"
RULES: dict[str, Patience] = {
    LONGEST: lambda cuts: VALIDATED_PATIENCE,
    "patience 2": lambda cuts: 2,
    "patience 1": lambda cuts: 1,
    f"{VALIDATED_PATIENCE}, then 2 after a cut": lambda cuts: VALIDATED_PATIENCE if cuts < 1 else 2,
    f"{VALIDATED_PATIENCE}, then {VALIDATED_PATIENCE_AFTER_CUT} after {VALIDATED_CUTS_BEFORE_SHRINK} cuts": (
        lambda cuts: VALIDATED_PATIENCE if cuts < VALIDATED_CUTS_BEFORE_SHRINK
        else VALIDATED_PATIENCE_AFTER_CUT
    ),
}
"""The rules compared; the last is the retrain's own (``ValidatedStop``)."""


@dataclass(frozen=True)
class Stop:
    """Where a rule stops on a curve: epochs trained, the epoch kept and its score."""

    epochs: int
    kept: int
    val: float
    stopped: bool
    """Whether the rule stopped (else the curve ended first)."""


def simulate(curve: list[float], patience: Patience, min_delta: float = VALIDATED_MIN_DELTA) -> Stop:
    """Where ``patience`` stops on ``curve`` (validation accuracy per epoch) and the epoch
    it keeps, with EarlyStopping's and ReduceLROnPlateau's counting."""
    best, kept, wait, cuts, plateau_cuts = -1.0, 0, 0, 0, 0
    for epoch, value in enumerate(curve, start=1):
        if epoch == 1 or value - min_delta > best:
            best, kept, wait, plateau_cuts = value, epoch, 0, cuts
            continue
        wait += 1
        cuts += 1  # ReduceLROnPlateau, patience 1: every epoch without a better one
        if wait >= patience(plateau_cuts):
            return Stop(epoch, kept, best, stopped=True)
    return Stop(len(curve), kept, best, stopped=False)


def curves(folder: Path) -> Iterator[tuple[str, list[float], bool]]:
    """(label, validation accuracy per epoch, whether it stopped early) of every validated
    training in the runs under ``folder``: the retrain and the finalists (those of a run
    still in progress too, from ``finalists/``)."""
    for meta_file in sorted(folder.glob("**/run.json")):
        final = json.loads(meta_file.read_text()).get("final") or {}
        done = [json.loads(f.read_text()) for f in sorted(meta_file.parent.glob("finalists/*.json"))]
        for training in [final, *final.get("finalists", []), *done]:
            curve = training.get("val_accuracy_per_epoch")
            if not curve or training.get("max_epochs") is None:
                continue
            if training.get("monitor", "val_accuracy") != "val_accuracy":
                continue  # stopped on another objective: this curve did not decide
            label = f"{meta_file.parent.name}/{training.get('trial')}"
            yield label, [float(v) for v in curve], len(curve) < training["max_epochs"]


def main(argv: list[str] | None = None) -> int:
    """Print every curve's stop under each rule, then each rule's totals."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", type=Path)
    args = parser.parse_args(argv)
    totals = {name: [0, 0.0, 0] for name in RULES}  # epochs, val change, curves made worse
    seen: set[tuple[str, tuple[float, ...]]] = set()
    count = short = 0
    for folder in args.runs:
        for label, curve, stopped in curves(folder):
            if (label, tuple(curve)) in seen or not stopped:
                continue  # a finalist is also the run's final; a capped one says nothing
            seen.add((label, tuple(curve)))
            full = simulate(curve, RULES[LONGEST])
            if not full.stopped:  # stopped by a shorter rule: silent on the longer ones
                short += 1
                continue
            count += 1
            for name, rule in RULES.items():
                stop = simulate(curve, rule)
                totals[name][0] += stop.epochs
                totals[name][1] += stop.val - full.val
                totals[name][2] += stop.val < full.val
                print(f"{label:<28}{name:<24}{stop.epochs:>4} epochs, kept {stop.kept:>2},"
                      f" val {stop.val:.4f} ({stop.val - full.val:+.4f})")  # fmt: skip
    print(f"\n{count} validated trainings that {LONGEST} stopped ({short} more stopped sooner"
          " by a shorter rule: they cannot say what a longer one would have kept)")
    for name, (epochs, lost, worse) in totals.items():
        print(f"{name:<24}{epochs:>5} epochs in all, mean val change {lost / max(count, 1):+.4f},"
              f" a worse kept epoch in {worse} of {count}")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
