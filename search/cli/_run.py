"""``search run EXPERIMENT --tuner NAME``: a whole search, then the retrained best model."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from rich.console import Console

from search._text import parse_duration
from search.cli._parser import add_common, add_model_options, path_value, space_value
from search.cli._runs import resolve_run
from search.errors import RunFolderError, SearchError
from search.storage import masked_url


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "run",
        help="search an experiment's space with a tuner",
        description="Search an experiment's space, then retrain the chosen configuration (by"
        " default on the training images outside the validation split, which it watches;"
        " see --retrain-data) and evaluate it once on the test set.",
    )
    p.add_argument(
        "experiment",
        help="experiment name (see `search list`), or your own: path/to/file.py:NAME or"
        " package.module:NAME, where NAME is a search.Experiment",
    )
    p.add_argument("--tuner", required=True, help="search backend (see `search list`)")
    _add_budget_options(p)
    _add_data_options(p)
    _add_space_options(p)
    _add_backend_options(p)
    _add_choice_options(p)
    add_process_options(p)
    p.add_argument("--no-retrain", action="store_true", help="skip the final retrain and test")
    add_model_options(p)
    add_common(p)
    p.set_defaults(handler=handle)


def _add_budget_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--budget",
        default="auto",
        help="the defaults of trials, epochs, train size, finalists and their schedule: cpu, gpu"
        " (every training image, 3 finalists on a cosine schedule, and more trials, epochs and"
        " a wider space where the experiment defines them: fashion), or auto (default: gpu"
        " where Keras sees a GPU)",
    )
    p.add_argument("--max-trials", type=int, help="trials to run (Hyperband: a cap)")
    p.add_argument("--max-epochs", type=int, help="epochs per trial (Hyperband: the longest)")
    p.add_argument("--factor", type=int, help="Hyperband's reduction factor (default 3)")
    p.add_argument(
        "--max-search-time",
        metavar="DURATION",
        help="start no new trial after this much searching (running trials finish; the"
        " finalists and the retrain come after): 90s, 10m, 1.5h, or none (default: 6m on"
        " the gpu budget unless --max-trials is given, none on cpu)",
    )
    p.add_argument(
        "--fidelity",
        default="epochs",
        metavar="epochs|data|both",
        help="what a trial's budget grows in: epochs (default: every epoch sees all the search's"
        " training images), data (at an epoch budget b of max-epochs R, a trial trains on the"
        " first ceil(N*b/R) of the N images, at least one batch: Hyperband's early rungs and"
        " the pruners' early epochs are cheaper, the top rung sees all N), or both (data, with"
        " every training image as N unless --train-size is given); validation always uses all",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of splits, search and models")
    p.add_argument("--results", type=path_value, default=Path("results"), help="results root")
    p.add_argument("--name", help="run name (default: TUNER-DATE-TIME)")


def _add_data_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data-dir", type=path_value, help="folder with the data files")
    p.add_argument(
        "--train-size",
        help="stratified subset of training images for the search, or 'all'"
        " (default: the experiment's, 10000 for fashion)",
    )
    p.add_argument("--val-size", type=int, help="validation images carved from training")
    p.add_argument(
        "--image-size",
        type=int,
        help="clothing and images: the square image size searched at (default 150; images"
        " --model cnn: 64); a pretrained base's final model is trained at its own size",
    )
    p.add_argument(
        "--model",
        help="images: cnn (default: a CNN from scratch) or transfer (a pretrained base with a"
        " tuned head, as clothing)",
    )
    p.add_argument(
        "--weights",
        help="clothing and images --model transfer: the base's starting weights: imagenet"
        " (default; Keras downloads them once), PATH (a weights file of the base without its"
        " top), or none",
    )


def _add_space_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--space", type=space_value,
        help="a TOML search-space file, or one `search spaces` lists (default: the built-in)",
    )  # fmt: skip
    p.add_argument(
        "--fix",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="fix a hyperparameter (repeatable), e.g. --fix learning_rate=0.001",
    )
    p.add_argument(
        "--warm-start",
        action="extend",  # repeated, it adds runs: the last one does not replace the others
        nargs="+",
        type=path_value,
        default=[],
        metavar="RUN",
        help="runs of this experiment (folders, or names under --results) whose finished trials"
        " the search starts from (tuning in stages; repeatable); their parameters must be this"
        " space's or a subset of them",
    )
    p.add_argument(
        "--no-baseline",
        action="store_true",
        help="do not run the space's defaults as the first trial (the baseline every other"
        " configuration is compared with); sample every trial",
    )
    p.add_argument(
        "--objective",
        default="val_accuracy",
        help="val_accuracy (default), val_loss, any metric the model logs (e.g. val_auc;"
        " NAME:max or NAME:min when its direction is not obvious), or pareto (Optuna:"
        " accuracy up and train/val gap down)",
    )


def _add_backend_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--sampler", help="Optuna sampler: tpe (default), random, gp, cmaes, qmc, nsga2")
    p.add_argument(
        "--pruner",
        help="Optuna pruner: median (default), successive-halving, hyperband, none;"
        " not with --objective pareto (Optuna cannot prune two objectives)",
    )
    p.add_argument(
        "--workers",
        type=int,
        default=1,
        help="processes sharing one Optuna search (--tuner optuna); more can join later"
        " with `search worker RUN`",
    )
    p.add_argument(
        "--gpus",
        help="GPU numbers (e.g. 0,1,2,3) or 'all': one worker process per GPU, each seeing only"
        " its own, sharing one search (more than one GPU: --tuner optuna); without GPUs,"
        " --workers N runs N CPU workers",
    )
    p.add_argument(
        "--storage",
        help="Optuna storage URL, e.g. postgresql+psycopg://user:pw@host/db"
        " (default: a journal file in the run folder)",
    )


def _add_choice_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--converged-epochs", type=int, default=3,
                   help="epochs averaged up to the best one when choosing (default 3)")
    p.add_argument("--tolerance", type=float, default=0.005,
                   help="val accuracy within which the less overfitting trial wins (default 0.005)")
    p.add_argument(
        "--precision",
        default="auto",
        help="auto (default: mixed on a GPU, float32 on a CPU), float32, mixed"
        " (bfloat16 compute, float32 variables), or float16 (float16 compute with loss"
        " scaling, for GPUs without bfloat16)",
    )
    p.add_argument(
        "--track",
        action="append",
        default=[],
        metavar="mlflow[=URI]|tensorboard",
        help="also log the search to MLflow (URI: given, else $MLFLOW_TRACKING_URI, else"
        " sqlite:///RESULTS/mlflow.db) or to TensorBoard (RUN/tensorboard); repeatable",
    )
    p.add_argument(
        "--finalists",
        type=int,
        metavar="K",
        help="train the K best distinct configurations (the baseline among them) on the full"
        " training data, validated, and keep the best at that fidelity (default: 1 on the cpu"
        " budget, the chosen one retrained alone; 3 on gpu)",
    )


def add_process_options(p: argparse.ArgumentParser, resume: bool = False) -> None:
    """Options that change how a run uses the machine, not what it finds; ``resume`` leaves
    them unset, so that a resumed run keeps its own unless they are given again."""
    p.add_argument(
        "--keep-best",
        type=keep_best,
        default=argparse.SUPPRESS if resume else 3,
        metavar="K|all",
        help="keep the checkpoints of the K best finished trials, remove the others as the"
        " search goes" + ("" if resume else " (default 3; Hyperband keeps what it may still"
        " continue, and those the final model may start from)"),
    )
    p.add_argument(
        "--isolate",
        action="store_true",
        default=argparse.SUPPRESS if resume else False,
        help="run each trial in a fresh process, so memory cannot grow from trial to trial"
        " (a few seconds of start-up per trial)",
    )


def keep_best(raw: str) -> int | None:
    """``--keep-best``: a count of at least 1, or 'all'."""
    if raw == "all":
        return None
    try:
        value = int(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{raw!r}: give a number of trials or 'all'") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{raw!r}: keep at least 1 (or 'all')")
    return value


def search_time(raw: str | None) -> float | None:
    """``--max-search-time``: seconds from 90s, 10m, 1.5h, a bare number of seconds or none;
    None where not given.

    Raises:
        SearchError: ``raw`` is not a duration, or negative; in one line naming the option.
    """
    if raw is None:
        return None
    try:
        return parse_duration(raw)
    except ValueError as exc:
        raise SearchError(f"--max-search-time: {exc}") from None


def _train_size(raw: str | None) -> tuple[int | None, bool]:
    if raw is None:
        return None, False
    if raw == "all":
        return None, True
    try:
        return int(raw), False
    except ValueError:
        raise SearchError(f"--train-size {raw!r}: give a number of images or 'all'") from None


_URL_OPTIONS = ("--track", "--storage")


def _masked_argv(argv: list[str]) -> list[str]:
    """The command line as run.json keeps it: passwords in URLs hidden."""
    out: list[str] = []
    for arg in argv:
        option, sep, value = arg.partition("=")
        if out and out[-1] in _URL_OPTIONS:
            arg = _masked_value(out[-1], arg, masked_url)
        elif sep and option in _URL_OPTIONS:
            arg = f"{option}={_masked_value(option, value, masked_url)}"
        out.append(arg)
    return out


def _masked_value(option: str, value: str, masked_url: Callable[[str | None], str | None]) -> str:
    if option == "--track":
        name, sep, uri = value.partition("=")
        return f"{name}={masked_url(uri)}" if sep and uri else value
    return masked_url(value) or value


def handle(args: argparse.Namespace, console: Console) -> int:
    from search.gpus import claim, parse_gpus

    # Before Keras starts: this process is worker 0 on the first GPU.
    gpus = parse_gpus(args.gpus) if args.gpus is not None else ()
    workers = len(gpus) if gpus and args.workers == 1 else args.workers
    devices = claim(gpus) if gpus and workers == len(gpus) else ()

    from search.cli._execute import execute
    from search.engine import RunRequest
    from search.experiments import absolute_reference
    from search.space import parse_fix

    train_size, full = _train_size(args.train_size)
    request = RunRequest(
        experiment=absolute_reference(args.experiment),
        tuner=args.tuner,
        max_trials=args.max_trials,
        max_epochs=args.max_epochs,
        factor=args.factor,
        seed=args.seed,
        results=args.results,
        name=args.name,
        train_size=train_size,
        full_train=full,
        val_size=args.val_size,
        space=args.space,
        fix=parse_fix(args.fix),
        baseline=not args.no_baseline,
        objective=args.objective.partition(":")[0],
        direction=args.objective.partition(":")[2] or None,
        data_dir=args.data_dir,
        retrain=not args.no_retrain,
        retrain_data=args.retrain_data,
        retrain_max_epochs=args.retrain_max_epochs,
        retrain_from=args.retrain_from,
        retrain_schedule=args.retrain_schedule,
        converged_epochs=args.converged_epochs,
        tolerance=args.tolerance,
        sampler=args.sampler,
        pruner=args.pruner,
        storage=args.storage,
        workers=workers,
        gpus=gpus,
        image_size=args.image_size,
        weights=args.weights,
        model=args.model,
        precision=args.precision,
        keep_best=args.keep_best,
        isolate=args.isolate,
        track=tuple(args.track),
        budget=args.budget,
        finalists=args.finalists,
        fidelity=args.fidelity,
        max_search_time=search_time(args.max_search_time),
        warm_start=warm_folders(args.warm_start, args.results, _folder_of(args) if args.warm_start else None),
        command=("python", "-m", "search", *_masked_argv(sys.argv[1:] if args.argv is None else args.argv)),
    )
    return execute(request, console, quiet=args.quiet, debug=args.debug, devices=devices)


def _folder_of(args: argparse.Namespace) -> str | None:
    """The experiment's folder under ``--results`` (its name); None where the experiment
    is not one (the run's checks name it)."""
    from search.experiments import absolute_reference, get

    try:
        return get(absolute_reference(args.experiment), args.model).name
    except SearchError:
        return None


def warm_folders(refs: list[Path], results: Path, experiment: str | None = None) -> tuple[Path, ...]:
    """``--warm-start``'s runs as folders: a run's name (one path part, no run.json there)
    becomes this ``experiment``'s run of that name under ``results``, else its folder
    under ``results`` where exactly one run has it; anything else is passed on as it is,
    for the run's checks to name."""
    folders = []
    for ref in refs:
        own = results / experiment / ref if experiment is not None else None
        if len(ref.parts) == 1 and own is not None and (own / "run.json").is_file():
            ref = own
        elif len(ref.parts) == 1 and not (ref / "run.json").is_file():
            try:
                ref = resolve_run(str(ref), results).path
            except RunFolderError:
                pass  # not a run's name either: "not a run folder", with the fix, from the checks
        folders.append(ref)
    return tuple(folders)
