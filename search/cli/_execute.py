"""Run a search request in this process, or trial by trial in fresh ones (``--isolate``)."""

from __future__ import annotations

import os
import shlex

from rich.console import Console

from search.engine import (
    CHILD_ENV,
    LAUNCHED_ENV,
    MORE_TRIALS,
    RunContinues,
    RunOutcome,
    RunRequest,
    drive_isolated,
    run_search,
)
from search.report import describe_training, tested_line
from search.tuners import show_trial_tracebacks


def execute(
    request: RunRequest, console: Console, quiet: bool, debug: bool, devices: tuple[str, ...] = ()
) -> int:
    """Run ``request`` and print what it found; the exit code. ``devices``: the GPU of each
    worker (``CUDA_VISIBLE_DEVICES`` entries; this process is already pinned to the first)."""
    show_trial_tracebacks(debug)
    if os.environ.get(CHILD_ENV):
        started_at = float(os.environ[CHILD_ENV])
        launched = os.environ.get(LAUNCHED_ENV)
        try:
            outcome = run_search(
                request, console, quiet, trials_per_process=1, started_at=started_at,
                launched_at=None if launched is None else float(launched),
            )  # fmt: skip
        except RunContinues:
            return MORE_TRIALS
        return report_outcome(outcome, request, console)
    if request.isolate:
        return drive_isolated(request, console, quiet, debug)[0]
    return report_outcome(run_search(request, console, quiet, devices=devices), request, console)


def report_outcome(outcome: RunOutcome, request: RunRequest, console: Console) -> int:
    """Print what a finished search found, write its report; the exit code (0)."""
    best = outcome.best or {}
    metric = request.kt_objective().name
    epoch = "" if best.get("best_epoch") is None else f" at its best epoch ({best['best_epoch']})"
    console.print(
        f"chosen trial {best.get('id')}: {metric} {best['best'][metric]:.4f}{epoch};"
        f" hyperparameters {best.get('hyperparameters')}"
    )
    if outcome.final:
        console.print(f"{tested_line(outcome.final)} ({describe_training(outcome.final)})")
    console.print(f"run {outcome.folder.name} finished in {outcome.seconds / 60:.1f} min;"
                  f" results in {outcome.folder.path}")
    for line in outcome.report:
        console.print(line)
    console.print(f"status: python -m search status {shlex.quote(str(outcome.folder.path))}")
    return 0
