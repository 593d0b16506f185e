"""``search status [RUN]``: where a run stands."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rich.console import Console

from search._text import plural, resume_call, running_trials, stopped_because
from search.cli._parser import add_common, path_value, path_word
from search.cli._runs import missing_model, resolve_run, summarize
from search.ranking import CHOSE
from search.storage import (
    STOPPED,
    FinalistFiles,
    RunFolder,
    live_workers,
    trained_epochs,
    trained_seconds,
)


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "status",
        help="trials done/running/failed, best so far and time of a run",
        description="Show a run's state. RUN is a run folder or a run name (default: newest).",
    )
    p.add_argument("run", nargs="?", type=path_word, help="run folder or name (default: the newest run)")
    p.add_argument("--results", type=path_value, default=Path("results"), help="results root")
    add_common(p)
    p.set_defaults(handler=handle)


def _best_line(info: dict[str, Any]) -> str:
    """The status's line on the best trial so far (a run that ended without one: none)."""
    best, objective = info["best"], info["objective"]
    if best is None:
        if info["status"] == "finished":  # never resumed: no trial will complete
            return "  best: none, no trial completed"
        ended = info["status"] == "failed"  # resumed once its fit is fixed
        return "  best so far: none yet" + (" (no trial completed)" if ended else "")
    epoch = "" if best.get("best_epoch") is None else f" at epoch {best['best_epoch']}"
    return (
        f"  best so far: trial {best['id']}, {objective} {best['best'][objective]:.4f}"
        f"{epoch}: {best['hyperparameters']}"
    )


def _kept_line(info: dict[str, Any]) -> str | None:
    """The configuration the run keeps (run.json's ``best``: the rule's choice, or the
    finalists') where it is not the trial of the best single epoch the line above names,
    with what chose it: the finalists at full fidelity, or the ranking rule (converged
    epochs, not one epoch).

    Args:
        info: :func:`summarize`'s summary of the run.

    Returns:
        The line; None where the run has not chosen yet, or chose that same trial.
    """
    from search.report import finalists_pending, kept_trial

    meta = info["meta"]
    kept, best, trial = meta.get("best") or {}, info["best"], kept_trial(meta, None)
    if trial is None or best is None or trial == str(best["id"]):
        return None
    final = meta.get("final") or {}
    pending = finalists_pending(meta)
    if kept.get("search_choice") or final.get("finalists"):
        who, by = f"the run keeps trial {trial}", "chosen by the finalists at full fidelity"
    else:
        who = f"the search ranks trial {trial} first" if pending else f"the run keeps trial {trial}"
        by = (
            "by the ranking rule: converged validation accuracy, then the smaller"
            " train/validation gap" if info["objective"] == "val_accuracy"
            else "by the ranking rule below, not by one epoch"
        )  # fmt: skip
    return f"  {who}, not trial {best['id']} ({by}): {kept.get('hyperparameters')}"


def _budget_words(meta: dict[str, Any]) -> str:
    """``max_trials 30, max_epochs 6`` (Hyperband: its schedule, not "max_trials None"),
    with ``, fidelity data`` when a trial's images grew with its epochs and the search's
    time limit when it had one."""
    from search.report import space_spent_words, time_limit_words

    budget = meta.get("budget", {})
    fidelity = budget.get("fidelity", "epochs")
    grows = "" if fidelity == "epochs" else f", fidelity {fidelity}"
    trials = budget.get("max_trials")
    if meta.get("tuner") == "hyperband":  # its schedule sets the trials; max_trials only caps them
        cap = "" if trials is None else f", capped at {trials} trials"
        epochs, factor = budget.get("max_epochs"), budget.get("factor")
        shown = f"Hyperband schedule, max_epochs {epochs}, factor {factor}{cap}"
    else:
        count = "the backend's default" if trials is None else trials
        shown = f"max_trials {count}, max_epochs {budget.get('max_epochs')}"
    return f"{shown}{grows}{time_limit_words(meta)}{space_spent_words(meta)}"


def handle(args: argparse.Namespace, console: Console) -> int:
    folder = resolve_run(args.run, args.results)
    info = summarize(folder)
    meta = info["meta"]
    counts = info["counts"]
    state = info["status"] + (f" (PID {info['pid']})" if info["pid"] else "")
    console.print(f"run {folder.path}")
    console.print(f"  experiment {meta['experiment']} · tuner {meta['tuner']} · {state}")
    workers = live_workers(folder.path)
    reason = stopped_because(meta, info["status"], folder.path)
    if reason:
        console.print(f"  {info['status']}: {reason}")
    elif info["status"] == STOPPED:
        command = resume_call(folder.path, meta.get("request") or {})
        after = "once its workers end (or you stop them), " if workers else ""
        console.print(f"  its process ended unannounced; {after}resume with: {command}")
    live = info["status"] == "running"
    running = running_trials(counts.get("running", 0), live)
    console.print(
        f"  trials: {counts.get('completed', 0)} completed, {running},"
        f" {counts.get('pruned', 0)} pruned, {counts.get('failed', 0)} failed,"
        f" {counts.get('invalid', 0)} invalid"
        f" (budget: {_budget_words(meta)})"
    )
    still_running = [t for t in folder.read_trials() if t.get("status") == "running"]
    if still_running and live:
        console.print("  running: " + ", ".join(
            f"trial {t['id']} (PID {t.get('pid')}"
            + (f", GPU {t['gpu']}" if t.get("gpu") is not None else "") + ")"
            for t in still_running
        ))  # fmt: skip
    if workers:
        console.print("  workers running: " + ", ".join(f"{k} (PID {pid})" for k, pid in workers.items()))
    console.print(_best_line(info))
    kept = _kept_line(info)
    if kept:
        console.print(kept)
    chosen = (meta.get("best") or {}).get("rule")
    if chosen:
        console.print(f"  {_choice_words(chosen, meta)}")
    for line in (_finalists_line(folder, meta, live), _retrain_line(folder, meta, live)):
        if line:
            console.print(line)
    console.print(f"  time: {_time(meta, info['trial_seconds'], _final_seconds(folder))}")
    console.print(_disk_line(folder, meta))
    final = meta.get("final")
    if final:
        from search.report import describe_training, tested_line

        console.print(f"  {tested_line(final)} ({describe_training(final)})")
    gone = missing_model(folder, meta)
    if gone:
        console.print(f"  {gone}")
    return 0


def _choice_words(rule: str, meta: dict[str, Any]) -> str:
    """The rule's sentence; while finalists are still to choose, it is the search's first,
    not the run's choice."""
    from search.report import finalists_pending

    if not finalists_pending(meta) or not rule.startswith(CHOSE):
        return rule
    trial, _, details = rule.removeprefix(CHOSE).partition(": ")
    return (
        f"In the search, trial {trial} ranked first: {details.rstrip('.')}; the finalists choose"
        " at full fidelity."
    )


def _disk_line(folder: RunFolder, meta: dict[str, Any]) -> str:
    """The run folder's size and the trial checkpoints it keeps."""
    size = sum(f.stat().st_size for f in folder.path.rglob("*") if f.is_file())
    kept = len(list(folder.tuner_dir.glob("**/trial_*/checkpoint.weights.h5")))
    keep = (meta.get("request") or {}).get("keep_best", "all")
    return (
        f"  disk: {size / 2**20:.1f} MiB in {folder.path}; {plural(kept, 'trial checkpoint')}"
        f" (--keep-best {'all' if keep is None else keep})"
    )


def _time(meta: dict[str, Any], trial_seconds: float, final_seconds: float) -> str:
    """The run's time: in all its processes (so far, if it stopped), that of its earlier
    processes while one runs it, else (none recorded one) its trials' and its final
    training's (``final_seconds``: the finalists' or the retrain's, as their states hold)."""
    seconds = meta.get("seconds")
    if not seconds:
        spent = (trial_seconds + final_seconds) / 60
        return f"{spent:.1f} min in trials" + (" and the final training" if final_seconds else "")
    where = " in its earlier processes" if meta.get("status") == "running" else " in all"
    return f"{seconds / 60:.1f} min{where}"


def _final_seconds(folder: RunFolder) -> float:
    """The seconds the finalists and the retrain have trained so far, as their files hold them."""
    retrains = sum(trained_seconds(path) for _, path in folder.retrain_states())
    return FinalistFiles(folder.path).seconds() + retrains


def _in_training(trial: str, epochs: int, live: bool) -> str:
    """A final training's progress: in training while the run's process runs, else
    interrupted (and resumable)."""
    if live:
        return f"trial {trial} training: {plural(epochs, 'epoch')} done"
    return f"trial {trial} interrupted after {plural(epochs, 'epoch')} (resume continues it)"


def _finalists_line(folder: RunFolder, meta: dict[str, Any], live: bool) -> str | None:
    """How far the finalists (``--finalists``) got while the run has no final model yet
    (``live``: its process runs); None before them and once the run has its final model."""
    files = FinalistFiles(folder.path)
    done, training = files.done(), files.training()
    if meta.get("final") or not (done or training):
        return None
    count = (meta.get("budget") or {}).get("finalists") or len(done) + len(training)
    failed = sum("failure" in f for f in done)
    line = f"  finalists: {len(done)} of {count} done" + (f" ({failed} failed)" if failed else "")
    for trial, epochs in training.items():
        line += f"; {_in_training(trial, epochs, live)}"
    return line


def _retrain_line(folder: RunFolder, meta: dict[str, Any], live: bool) -> str | None:
    """How far the retrain got while the run has no final model yet (``live``: its process
    runs); None before it (or before its first epoch) and once the run has its final model."""
    if meta.get("final"):
        return None
    training = [(trial, trained_epochs(path)) for trial, path in folder.retrain_states()]
    return "\n".join(
        f"  retrain: {_in_training(trial, epochs, live)}"
        for trial, epochs in training if epochs
    ) or None  # fmt: skip
