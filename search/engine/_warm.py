"""``--warm-start RUN``: an earlier run's finished trials, checked against a new search."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from search.errors import RunFolderError, SearchError, option
from search.ranking import full_history
from search.space import Space
from search.storage import RunFolder
from search.tuners import WarmTrials

OPTION = option("warm_start")


def load_warm_start(
    folders: Sequence[Path],
    run_dir: Path,
    experiment: str,
    objective: str,
    direction: str,
    space: Space,
    unfixed: Mapping[str, Any] | None = None,
    model_defaults: Mapping[str, Any] | None = None,
    fidelity: tuple[str, int] = ("epochs", 1),
) -> WarmTrials | None:
    """The completed trials of ``folders`` whose values lie in ``space``, for the run in
    ``run_dir``; SearchError, naming the folder and the fix, for a folder that is that run,
    no run of this experiment and objective, one whose space has parameters this one lacks,
    or one that holds no finished trial. None when no folder is given. A parameter an
    earlier run did not have counts at its value in ``model_defaults`` (what the model gives
    a parameter its space leaves out), else at its default in ``unfixed`` (the space's
    defaults before ``--fix``: what that run's models were built with), else in ``space``.
    ``fidelity``: this search's ``--fidelity`` and most epochs; a run whose epochs trained
    on other shares of the images (``epochs`` against ``data`` or ``both``, or those over
    other epochs, or a Hyperband run's rounds) gives
    its trials without their learning curves (a pruner would compare an epoch on all the
    images with one on a share of them)."""
    if not folders:
        return None
    if objective == "pareto":
        raise SearchError(
            f"{OPTION} with {option('objective')} pareto: earlier trials cannot be given to a search with"
            " two objectives; warm-start a val_accuracy search (the default objective)"
        )
    records: list[dict[str, Any]] = []
    skipped = 0
    for path in folders:
        folder = _run_folder(path)
        if folder.path.resolve() == Path(run_dir).resolve():
            raise SearchError(
                f"{OPTION} {path}: is this run itself; warm-start from an earlier run"
            )
        _check_run(folder, experiment, objective, direction, space)
        finished = _finished(folder, objective)
        if not finished:
            raise SearchError(
                f"{OPTION} {path}: holds no completed trial with a {objective} value;"
                " give a run with finished trials"
            )
        implicit = _implicit(folder, space, model_defaults or {})
        curves = _same_epochs(folder, fidelity)
        for record in finished:
            record = {**record, "hyperparameters": {**implicit, **record["hyperparameters"]}}
            if not curves:
                record["epochs"] = []
            if _inside(_ran_with(record["hyperparameters"], unfixed or {}, space), space):
                records.append(record)
            else:
                skipped += 1
    sources = tuple(str(Path(path)) for path in folders)
    return WarmTrials(records=tuple(records), sources=sources, skipped=skipped)


def other_data(sources: Sequence[str], data: Mapping[str, Any]) -> str:
    """Words on the earlier runs (``--warm-start``) whose trials were scored on other data
    than this run's (another train size, validation split or seed, or other files): their
    values guide the search as they are, not comparable to this run's own to the digit.

    Args:
        sources: the earlier runs' folders.
        data: this run's run.json ``data``.

    Returns:
        E.g. "; scored on other data than this run's (train 10,000 images, validation
        2,000, seed 0): results/fashion/lr (train 5,000 images, ...)"; "" where every run
        used the same data (or keeps no fingerprint of them).
    """
    differ = []
    for source in sources:
        theirs = RunFolder(Path(source)).read_meta().get("data") or {}
        if theirs.get("fingerprint") not in (None, data.get("fingerprint")):
            differ.append(f"{source} ({_data_words(theirs, data)})")
    if not differ:
        return ""
    return (
        f"; scored on other data than this run's ({_data_words(data, {})}): {', '.join(differ)};"
        " their values guide the search as they are"
    )


def _data_words(data: Mapping[str, Any], other: Mapping[str, Any]) -> str:
    """``data``'s split sizes and seed, and its source where ``other`` (when given) has
    another; the same words for splits alike in size but of other contents."""
    unit = data.get("unit") or "rows"
    words = f"train {data.get('train', 0):,} {unit}, validation {data.get('validation', 0):,}"
    words += f", seed {data.get('seed')}"
    if other and data.get("source") != other.get("source"):
        words += f", from {data.get('source')}"
    return words


def _run_folder(path: Path) -> RunFolder:
    folder = RunFolder(Path(path))
    if not folder.exists():
        raise SearchError(
            f"{OPTION} {path}: not a run folder (no run.json); give a run's folder,"
            " results/EXPERIMENT/RUN"
        )
    try:
        folder.read_meta()
        folder.read_trials()
    except RunFolderError as exc:
        raise SearchError(f"{OPTION} {path}: {exc}") from None
    return folder


def _check_run(
    folder: RunFolder, experiment: str, objective: str, direction: str, space: Space
) -> None:
    """Refuse a run of another experiment or objective, or with parameters not in ``space``."""
    meta = folder.read_meta()
    if meta.get("experiment") != experiment:
        raise SearchError(
            f"{OPTION} {folder.path}: a run of experiment {meta.get('experiment')!r}, not"
            f" {experiment!r}; warm-start from a run of the same experiment"
        )
    stored = meta.get("objective") or {}
    if (stored.get("name"), stored.get("direction")) != (objective, direction):
        raise SearchError(
            f"{OPTION} {folder.path}: its objective is {stored.get('name')}"
            f" ({stored.get('direction')}), this search's {objective} ({direction});"
            " warm-start from a run with the same objective"
        )
    params = (meta.get("space") or {}).get("params") or {}
    extra = sorted(set(params) - set(space.names))
    if extra:
        raise SearchError(
            f"{OPTION} {folder.path}: its space has {', '.join(extra)}, which this search's"
            " space has not; warm-start from a run whose parameters are this space's or a"
            " subset of them"
        )


def _finished(folder: RunFolder, objective: str) -> list[dict[str, Any]]:
    """Completed trials with a finite objective value, each with its whole learning curve
    (a Hyperband trial's parents' epochs before its own) and its run's folder; a trial
    another one continued is left out (the one continuing it has its curve)."""
    trials = folder.read_trials()
    by_id = {t["id"]: t for t in trials}
    continued = {t.get("continues") for t in trials if t.get("status") == "completed"}
    out = []
    for trial in trials:
        value = (trial.get("best") or {}).get(objective)
        if trial.get("status") != "completed" or trial["id"] in continued:
            continue
        if not isinstance(value, (int, float)) or not math.isfinite(value):
            continue
        out.append({**trial, "epochs": full_history(trial, by_id), "run": str(folder.path)})
    return out


def _same_epochs(folder: RunFolder, fidelity: tuple[str, int]) -> bool:
    """Whether ``folder``'s trials trained each epoch on the share of the images this
    search's do (``fidelity``: its ``--fidelity`` and most epochs): every image (epochs), or
    a share growing alike epoch by epoch (data and both, over as many epochs; a Hyperband
    trial's share is its round's, whatever its epoch)."""
    meta = folder.read_meta()
    budget = meta.get("budget") or {}
    theirs = budget.get("fidelity") or (meta.get("request") or {}).get("fidelity") or "epochs"
    ours, max_epochs = fidelity
    if (theirs == "epochs") != (ours == "epochs"):
        return False
    return ours == "epochs" or (budget.get("max_epochs") == max_epochs and meta.get("tuner") != "hyperband")


def _implicit(folder: RunFolder, space: Space, model_defaults: Mapping[str, Any]) -> dict[str, Any]:
    """The values ``folder``'s trials trained with for the parameters of ``space`` its own
    space lacked: the model's defaults, where ``model_defaults`` knows them."""
    had = (folder.read_meta().get("space") or {}).get("params") or {}
    return {name: model_defaults[name] for name in space.names if name not in had and name in model_defaults}


def _ran_with(values: dict[str, Any], unfixed: Mapping[str, Any], space: Space) -> dict[str, Any]:
    """An earlier trial's active values in ``space``, those its run had not at their
    ``unfixed`` defaults."""
    return space.resolve({**unfixed, **values})


def _inside(values: dict[str, Any], space: Space) -> bool:
    """Whether every value of a space parameter lies in this space's range or choices."""
    return all(space[name].contains(value) for name, value in values.items() if name in space)
