"""What searching buys over training the defaults: the chosen configuration's test accuracy
against the baseline's (the space's defaults), after the same retrain.

Run: ``python bench/search_gain.py [--tuners hyperband,optuna] [--budgets 1x,3x]
[--seeds 0,1,2] [--csv gain.csv] [--data-dir DIR] [--retrain-data validated]
[--retrain-from auto|scratch|checkpoint] [--retrain-schedule auto|plateau|cosine]
[--retrain-max-epochs N] [--finalists K] [--budget cpu|gpu] [--fidelity epochs|data|both] [--smoke]``,
or ``python bench/search_gain.py --runs RUN [RUN ...]`` for runs already finished.

For each tuner, budget and seed: the fashion search with its default validated retrain
(``search.run("fashion", ...)``); then, unless the baseline itself was chosen, the baseline
trial retrained the same way (same seed, data and retrain: ``export --trial``) and tested
once. A budget of ``Kx`` is K times the default: Hyperband's ``max_epochs`` (its schedule
grows with it), the other tuners' ``max_trials``. Prints one row per search, then the median
gain per tuner and budget with its spread (min and max), and writes the rows as CSV.
``--runs`` measures finished runs instead (the main command's, say): only their baselines
are retrained, as each run retrained its choice.
``--smoke`` runs tiny searches (300 training images, 1-2 epochs) for the tests; with
``--retrain-data search`` their retrains are tiny too (the search's 500 images).
"""

from __future__ import annotations

import argparse
import csv
import math
import statistics
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import _quiet  # noqa: F401  (first: TensorFlow's start-up lines stay out)
from _args import counts, multiples, names
from rich.console import Console

import search
from search.engine import ExportOptions, export_run, stored_request
from search.engine._choose import ranked_ids
from search.experiments import get as get_experiment
from search.storage import RunFolder

SMOKE = {"train_size": 300, "val_size": 200}
SMOKE_RETRAIN_EPOCHS = 1
SMOKE_EPOCHS = 2
SMOKE_TRIALS = 2


@dataclass(frozen=True)
class Row:
    tuner: str
    budget: str
    seed: int
    chosen: str
    baseline_chosen: bool
    test_chosen: float
    test_baseline: float
    gain: float
    search_seconds: float
    retrain_seconds: float
    baseline_seconds: float


def budget_of(tuner: str, factor: int, smoke: bool, named: str = "cpu") -> dict[str, int | None]:
    """``max_trials`` and ``max_epochs`` for ``factor`` times the ``named`` budget's."""
    experiment = get_experiment("fashion")
    trials, epochs = (experiment.gpu_budgets if named == "gpu" else experiment.budgets)[tuner]
    if smoke:
        trials, epochs = (None if tuner == "hyperband" else SMOKE_TRIALS), SMOKE_EPOCHS
    if tuner == "hyperband":
        return {"max_trials": trials, "max_epochs": epochs * factor}
    return {"max_trials": (trials or SMOKE_TRIALS) * factor, "max_epochs": epochs}


def measure(tuner: str, budget: str, seed: int, args: argparse.Namespace, root: Path) -> Row:
    """Search at ``budget`` (``Kx``) with ``seed``, then the gain of what it chose."""
    factor = int(budget.rstrip("x"))
    retrain_epochs = SMOKE_RETRAIN_EPOCHS if args.smoke else args.retrain_max_epochs
    started = time.perf_counter()
    run = search.run(
        "fashion", tuner=tuner, seed=seed, results=root, name=f"{tuner}-{budget}-{seed}",
        data_dir=args.data_dir, quiet=True, **budget_of(tuner, factor, args.smoke, args.budget),
        retrain_data=args.retrain_data, retrain_max_epochs=retrain_epochs,
        retrain_from=args.retrain_from, retrain_schedule=args.retrain_schedule,
        budget=args.budget, finalists=args.finalists, fidelity=args.fidelity,
        max_search_time=math.inf,  # a budget of Kx is its trials and epochs, whatever they take
        **(SMOKE if args.smoke else {}),
    )  # fmt: skip
    total = time.perf_counter() - started
    return gain(RunFolder(run.folder), budget, total, root)


def gain(folder: RunFolder, budget: str, total: float, root: Path) -> Row:
    """The finished run's chosen test accuracy against its baseline's, retrained as the run
    retrained its choice (same seed, data and retrain) unless it chose the baseline."""
    meta = folder.read_meta()
    final, request = meta["final"], meta["request"]
    trials = {t["id"]: t for t in folder.read_trials()}
    chosen = final["trial"]
    baseline = baseline_trial(folder, meta, list(trials.values()))
    baseline_chosen = bool(trials[chosen].get("baseline"))
    test_baseline, baseline_seconds = float(final["test_accuracy"]), 0.0
    if not baseline_chosen and baseline is None:  # --no-baseline, or it failed: nothing to gain over
        test_baseline = math.nan
    elif not baseline_chosen:
        begun = time.perf_counter()
        options = ExportOptions(
            trial=baseline, retrain_data=request["retrain_data"],
            retrain_max_epochs=request["retrain_max_epochs"],
            retrain_from=request.get("retrain_from", "scratch"),
        )  # fmt: skip
        output = root / f"baseline-{folder.path.name}.keras"
        done = export_run(folder, output, Console(quiet=True), True, options)
        test_baseline = float(done.final["test_accuracy"])
        baseline_seconds = time.perf_counter() - begun
    test_chosen = float(final["test_accuracy"])
    return Row(
        meta["tuner"], budget, int(meta["seed"]), chosen, baseline_chosen, test_chosen,
        test_baseline, round(test_chosen - test_baseline, 4), round(total - final["seconds"], 1),
        round(final["seconds"], 1), round(baseline_seconds, 1),
    )  # fmt: skip


def baseline_trial(
    folder: RunFolder, meta: dict[str, Any], trials: list[dict[str, Any]]
) -> str | None:
    """The baseline trial to retrain as the run retrained its choice: the finalists' own
    baseline where it was one, else the completed baseline trial the run's rule ranks
    first (Hyperband may have run the defaults in several trials; this is the one whose
    search checkpoint the run kept for ``--retrain-from checkpoint``); None: none completed."""
    finalists = (meta.get("final") or {}).get("finalists") or []
    own = next((f for f in finalists if f.get("baseline") and "failure" not in f), None)
    if own is not None:
        return str(own["trial"])
    by_id = {t["id"]: t for t in trials}
    ranked = ranked_ids(trials, stored_request(folder))
    return next((t for t in ranked if by_id[t].get("baseline")), None)


def finished_run(text: str) -> RunFolder:
    """``--runs``: a finished run's folder, with its final model tested."""
    folder = RunFolder(Path(text))
    if not folder.exists():
        raise argparse.ArgumentTypeError(f"{text}: not a run folder (no run.json); give a run's folder")
    final = folder.read_meta().get("final") or {}
    if final.get("test_accuracy") is None:
        raise argparse.ArgumentTypeError(
            f"{text}: no tested final model in run.json; give a finished run with test data"
            " and a retrain (not --no-retrain)"
        )
    return folder


def summary(rows: list[Row]) -> list[str]:
    """Median gain per tuner and budget, with its spread; a search without a completed
    baseline (its gain NaN: nothing to compare with) is counted apart, not as a gain."""
    lines = []
    for key in sorted({(r.tuner, r.budget) for r in rows}):
        mine = [r for r in rows if (r.tuner, r.budget) == key]
        gains = [r.gain for r in mine if math.isfinite(r.gain)]
        text = (
            f"median gain {statistics.median(gains):+.4f} over {len(gains)} seeds"
            f" (min {min(gains):+.4f}, max {max(gains):+.4f})" if gains else "no gain measured"
        )
        missing = len(mine) - len(gains)
        lines.append(
            f"{key[0]} {key[1]}: {text}; baseline chosen {sum(r.baseline_chosen for r in mine)}"
            f" of {len(mine)}" + (f"; no completed baseline in {missing}" if missing else "")
        )
    return lines


def _rows(args: argparse.Namespace, root: Path) -> Iterator[Row]:
    """A row per given run, or per tuner, budget and seed searched."""
    if args.runs:
        for folder in args.runs:
            yield gain(folder, "run", float(folder.read_meta().get("seconds") or 0.0), root)
        return
    for tuner in args.tuners:
        for budget in args.budgets:
            for seed in args.seeds:
                yield measure(tuner, budget, seed, args, root)


def main(argv: list[str] | None = None) -> int:
    """Search (or read ``--runs``), print a row per search and the summary, write the CSV."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    tuners = tuple(get_experiment("fashion").budgets)
    parser.add_argument("--tuners", type=names(tuners, "tuner"), default=("hyperband", "optuna"),
                        help=f"of {','.join(tuners)}; default: hyperband,optuna")  # fmt: skip
    parser.add_argument("--budgets", type=multiples, default=("1x",), help="default: 1x")
    parser.add_argument("--seeds", type=counts, default=(0,), help="default: 0")
    parser.add_argument("--csv", type=Path, default=Path("search_gain.csv"))
    parser.add_argument("--data-dir", type=Path)
    parser.add_argument("--retrain-data", default="validated", help="as `search run`'s")
    parser.add_argument("--retrain-max-epochs", type=int, default=None, help="as `search run`'s")
    parser.add_argument("--retrain-from", default="auto", help="as `search run`'s")
    parser.add_argument("--retrain-schedule", default="auto", help="as `search run`'s")
    parser.add_argument(
        "--finalists", type=int, default=None,
        help="as `search run`'s: the K best configurations trained at full fidelity before"
        " the choice (the baseline among them); default: the --budget's (1 on cpu, 3 on gpu)",
    )  # fmt: skip
    parser.add_argument(
        "--budget", choices=("cpu", "gpu"), default="cpu",
        help="as `search run`'s: the named budget that --budgets multiplies (gpu: every"
        " training image and the gpu space)",
    )  # fmt: skip
    parser.add_argument(
        "--fidelity", choices=("epochs", "data", "both"), default="epochs",
        help="as `search run`'s: what the search's short trials save on",
    )  # fmt: skip
    parser.add_argument("--smoke", action="store_true", help="tiny searches (for the tests)")
    parser.add_argument(
        "--runs", nargs="+", type=finished_run, metavar="RUN",
        help="measure these finished runs instead of searching (their baselines retrained as"
        " each run retrained its choice); the search options above do not apply",
    )  # fmt: skip
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory(prefix="gain-") as tmp:
        for row in _rows(args, Path(tmp)):
            rows.append(row)
            print(", ".join(f"{k} {v}" for k, v in asdict(row).items()), flush=True)
    for line in summary(rows):
        print(line)
    with args.csv.open("w", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=list(asdict(rows[0])))
        writer.writeheader()
        writer.writerows(asdict(r) for r in rows)
    print(f"rows: {args.csv}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
