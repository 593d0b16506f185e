"""``search export RUN``: the chosen model, retrained and tested once, ready to use."""

from __future__ import annotations

import argparse
import shlex
from pathlib import Path

from rich.console import Console

from search.cli._parser import add_common, add_model_options, path_value, path_word
from search.cli._runs import resolve_run
from search.errors import SearchError


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "export",
        help="retrain a run's chosen configuration and save it for use",
        description="Retrain the run's chosen configuration (the finalists' winner where they"
        " chose, else the one the report's ranking rule chooses) as the run retrained, at"
        " the final image size; evaluate it"
        " once on the test set; save one .keras model: an image classifier's takes uint8"
        " images of any size (resized inside), outputs class probabilities and stores the"
        " class names; another model is saved as it trained."
        " --retrain-data, --retrain-max-epochs, --retrain-from and --retrain-schedule default"
        " to the run's own.",
    )
    p.add_argument("run", nargs="?", type=path_word, help="run folder or name (default: the newest run)")
    p.add_argument("--results", type=path_value, default=Path("results"), help="results root")
    p.add_argument("--output", type=path_word, help="the model file (default: RUN/export.keras)")
    p.add_argument(
        "--overwrite", action="store_true",
        help="replace a Keras model at --output that this run did not export",
    )
    p.add_argument(
        "--trial",
        help="export this completed trial's configuration instead of the chosen one"
        " (e.g. the baseline, to compare)",
    )
    p.add_argument(
        "--data-dir",
        type=path_value,
        help="the folder the run's data moved to (the same data: checked as they load; not"
        " recorded: a resume of the run needs it given too)",
    )
    add_model_options(p, runs_own=True)
    add_common(p)
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace, console: Console) -> int:
    from search.engine import RETRAIN_DATA, RETRAIN_FROM, RETRAIN_SCHEDULES, ExportOptions, export_run
    from search.report import describe_test, describe_training

    if args.retrain_data is not None and args.retrain_data not in RETRAIN_DATA:
        raise SearchError(
            f"--retrain-data {args.retrain_data!r}: choose one of {', '.join(RETRAIN_DATA)}"
        )
    choosing = (("--retrain-from", args.retrain_from, RETRAIN_FROM),
                ("--retrain-schedule", args.retrain_schedule, RETRAIN_SCHEDULES))  # fmt: skip
    for name, value, choices in choosing:
        if value is not None and value not in choices:
            raise SearchError(f"{name} {value!r}: choose one of {', '.join(choices)}")
    folder = resolve_run(args.run, args.results)
    output = Path(args.output) if args.output is not None else None  # None: RUN/export.keras
    options = ExportOptions(
        trial=args.trial, retrain_data=args.retrain_data, retrain_max_epochs=args.retrain_max_epochs,
        retrain_from=args.retrain_from, retrain_schedule=args.retrain_schedule, data_dir=args.data_dir,
        overwrite=args.overwrite,
    )  # fmt: skip
    done = export_run(folder, output, console, args.quiet, options)
    shape = "x".join(str(d) for d in done.image_shape)
    tested, unit = done.final.get("test_images") or 0, done.final.get("train_unit", "images")
    size = f"trained at {shape}, " if done.takes_images else ""
    console.print(
        f"exported trial {done.trial} ({size}{describe_training(done.final)}):"
        + (f" TEST {describe_test(done.final)} on {tested:,} {unit}" if tested else " no test data")
    )
    if not done.takes_images:
        inputs = f"inputs of shape {shape}" if shape else "several inputs"
        console.print(f"model: {done.output} ({inputs}, as it trained; load it with"
                      " keras.saving.load_model)")  # fmt: skip
        return 0
    console.print(f"model: {done.output} (classes: {', '.join(done.class_names)})")
    console.print(f"try: python -m search predict {shlex.quote(str(done.output))} IMAGE...")
    return 0
