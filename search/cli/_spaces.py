"""``search spaces [list]``: the shipped space files; ``search spaces show NAME|FILE``: one
space, readably."""

from __future__ import annotations

import argparse
import shlex
from importlib import resources
from pathlib import Path

from rich.console import Console
from rich.table import Table

from search._shipped import shipped_space
from search.cli._parser import add_common, refuse_stray_word
from search.errors import SearchError


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "spaces", help="list or show search spaces",
        description="List the space files that come with the package (the default), or show one.",
    )  # fmt: skip
    actions = p.add_subparsers(dest="action", parser_class=type(p))
    listed = actions.add_parser(
        "list", help="the space files that come with the package (the default action)",
        description="List the space files that come with the package: their hyperparameters,"
        " the experiments (and budgets) that search them by default, their descriptions.",
    )  # fmt: skip
    add_common(listed)
    listed.set_defaults(handler=handle_list)
    show = actions.add_parser(
        "show", help="print a space", description="Print an experiment's space or a space file."
    )
    show.add_argument(
        "space",
        help="an experiment name (its default space), a space file of `search spaces`, or a TOML file",
    )
    add_common(show)
    show.set_defaults(handler=handle_show)
    add_common(p)
    p.set_defaults(handler=handle_list)
    refuse_stray_word(p, _show_instead)


def _show_instead(word: str) -> str:
    """The error for ``search spaces WORD``: WORD is taken for a space to show."""
    return (
        f"{word!r} is not an action of search spaces (list, show); to show that space:"
        f" python -m search spaces show {shlex.quote(word)}; to list the spaces: python -m search spaces"
    )


def handle_show(args: argparse.Namespace, console: Console) -> int:
    from search import experiments
    from search.space import format_space, load_space

    path = shipped_space(args.space)
    if path.suffix == ".toml" or path.is_file():  # a folder named as an experiment is not its space
        space = load_space(path)
    elif args.space in experiments.names() or ":" in args.space:
        space = experiments.get(args.space).load_space()
    elif args.space in _shipped_names():  # a space file as `spaces` lists it, without .toml
        space = load_space(shipped_space(f"{args.space}.toml"))
    else:
        raise SearchError(
            f"spaces show {args.space!r}: no experiment, space file or TOML file of that name;"
            f" give an experiment ({', '.join(experiments.names())}), a space file of `search"
            f" spaces` ({', '.join(sorted(_shipped_names()))}) or a TOML file's path"
        )
    console.print(format_space(space))
    return 0


def _shipped_names() -> list[str]:
    """The package's space files, without their ending."""
    files = resources.files("spaces").iterdir()
    return [Path(file.name).stem for file in files if file.name.endswith(".toml")]


def handle_list(args: argparse.Namespace, console: Console) -> int:
    from search import experiments
    from search.space import load_space

    files: dict[Path, list[str]] = {}  # each space file: who searches it by default
    for name in experiments.names():
        experiment = experiments.get(name)
        budgets = {"cpu": experiment.space_file, "gpu": experiment.gpu_space_file or experiment.space_file}
        for budget, file in budgets.items():
            shown = name if len(set(budgets.values())) == 1 else f"{name} ({budget} budget)"
            users = [] if file is None else files.setdefault(experiment.default_space_path(file), [])
            if file is not None and shown not in users:
                users.append(shown)
    folders = sorted({str(path.parent) for path in files})
    table = Table(title=f"space files in {', '.join(folders)}")
    for column in ("file", "hyperparameters", "searched by default by", "description"):
        table.add_column(column, overflow="fold")
    for path in sorted(files):
        space = load_space(path)
        table.add_row(path.name, str(len(space)), ", ".join(files[path]), space.description)
    console.print(table)
    if not args.quiet:
        console.print("show one: search spaces show NAME|FILE; search with another: search run --space FILE")
    return 0
