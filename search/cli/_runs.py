"""Finding a run folder from what the user typed, and summarising it."""

from __future__ import annotations

import math
import shlex
from pathlib import Path
from typing import Any

from search.errors import RunFolderError, option
from search.storage import (
    EXPORT_FILE,
    RUN_FILE,
    RunFolder,
    find_runs,
    lock_holder,
    not_a_run,
    run_state,
    status_counts,
    tracked_objective,
)


def resolve_run(ref: str | None, results: Path) -> RunFolder:
    """A run given as a folder path or a run name under ``results`` (None: the newest)."""
    if ref is None:
        runs = find_runs(results)
        if not runs:
            check_results(results)
            raise RunFolderError(f"{results}: no runs yet; start one with `python -m search run`")
        return runs[-1]
    path = Path(ref)
    if (path / RUN_FILE).is_file():
        return RunFolder(path)
    matches = [r for r in find_runs(results) if r.name == ref]
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        shown = ", ".join(str(m.path) for m in matches)
        raise RunFolderError(f"run name {ref!r} is ambiguous ({shown}); give its folder")
    if path.exists():
        raise RunFolderError(f"{ref}: {not_a_run(path)}")
    if results.is_dir():
        check_results(results)  # an experiment's or a run's folder given as the root: said so
    what = "a file, not a folder" if results.exists() else "no such folder"
    where = "" if results.is_dir() else f" ({what}: give the results root with {option('results')})"
    raise RunFolderError(
        f"{ref}: no such run folder, nor a run of that name under {results}{where};"
        " `python -m search list` shows the runs"
    )


def check_results(results: Path, missing_ok: bool = False) -> None:
    """RunFolderError where the results root ``results`` is missing (unless ``missing_ok``),
    a file, a run folder or an experiment's folder (runs in it, none in folders of it: a run
    copied beside the experiments' folders of a results root leaves it a root)."""
    label = f"{option('results')} {results}"
    if not results.exists():
        if missing_ok:
            return
        raise RunFolderError(f"{label}: no such folder; pass the results root your runs are in")
    if not results.is_dir():
        raise RunFolderError(f"{label}: is a file, not a folder of runs")
    if (results / RUN_FILE).is_file():
        raise RunFolderError(f"{label}: is a run folder, not a results root; pass {results.parent.parent}")
    if any(results.glob(f"*/{RUN_FILE}")) and not find_runs(results):
        raise RunFolderError(f"{label}: is an experiment's folder, not a results root; pass {results.parent}")


def summarize(folder: RunFolder) -> dict[str, Any]:
    """Counts, best completed trial and state of a run, from its files alone."""
    meta = folder.read_meta(require=("experiment", "tuner"))
    trials = folder.read_trials()
    counts = status_counts(trials)
    status = run_state(folder, meta.get("status", "unknown"))
    pid = lock_holder(folder)
    objective = tracked_objective(meta)
    direction = meta.get("objective", {}).get("direction", "max")
    scored = [t for t in trials if t.get("status") == "completed" and _scored(t.get("best"), objective)]
    best = None
    if scored:
        sign = 1 if direction == "max" else -1
        best = max(scored, key=lambda t: sign * t["best"][objective])
    seconds = sum(t.get("seconds") or 0 for t in trials)
    return {
        "meta": meta,
        "status": status,
        "pid": pid,
        "counts": counts,
        "trials": len(trials),
        "best": best,
        "objective": objective,
        "trial_seconds": seconds,
    }


def _scored(best: Any, objective: str) -> bool:
    """Whether a trial's ``best`` holds a number for ``objective`` (a damaged or hand-edited
    trials.json may hold null there)."""
    value = best.get(objective) if isinstance(best, dict) else None
    return isinstance(value, (int, float)) and not isinstance(value, bool) and not math.isnan(value)


def missing_model(folder: RunFolder, meta: dict[str, Any]) -> str | None:
    """What to do where the final model run.json's ``final`` names is gone from ``folder``
    (deleted or moved); None where it is there, or the run has none (yet)."""
    final = meta.get("final")
    if not isinstance(final, dict) or not final.get("model") or folder.model_file.is_file():
        return None
    command = f"python -m search export {shlex.quote(str(folder.path))}"
    return (
        f"final model {folder.model_file}: missing (deleted or moved); restore it, or retrain the"
        f" chosen configuration into {folder.path / EXPORT_FILE} with `{command}`"
    )
