"""Finding a run folder from what the user typed, and summarising it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from search.errors import RunFolderError
from search.storage import RunFolder, find_runs, lock_holder, run_state, status_counts


def resolve_run(ref: str | None, results: Path) -> RunFolder:
    """A run given as a folder path or a run name under ``results`` (None: the newest)."""
    if ref is None:
        runs = find_runs(results)
        if not runs:
            raise RunFolderError(f"{results}: no runs yet; start one with `python -m search run`")
        return runs[-1]
    path = Path(ref)
    if (path / "run.json").is_file():
        return RunFolder(path)
    matches = [r for r in find_runs(results) if r.name == ref]
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        shown = ", ".join(str(m.path) for m in matches)
        raise RunFolderError(f"run name {ref!r} is ambiguous ({shown}); give its folder")
    raise RunFolderError(
        f"{ref}: no such run folder, nor a run of that name under {results};"
        " `python -m search list` shows the runs"
    )


def summarize(folder: RunFolder) -> dict[str, Any]:
    """Counts, best trial and state of a run, from its files alone."""
    meta = folder.read_meta(require=("experiment", "tuner"))
    trials = folder.read_trials()
    counts = status_counts(trials)
    status = run_state(folder, meta.get("status", "unknown"))
    pid = lock_holder(folder)
    objective_meta = meta.get("objective", {})
    objective = objective_meta.get("tracked", objective_meta.get("name", "val_accuracy"))
    direction = meta.get("objective", {}).get("direction", "max")
    scored = [t for t in trials if t.get("best") and objective in t["best"]]
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
