"""``search spaces show NAME|FILE``: print a search space readably."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console

from search.cli._parser import add_common


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("spaces", help="show search spaces")
    actions = p.add_subparsers(dest="action", required=True, parser_class=type(p))
    show = actions.add_parser(
        "show", help="print a space", description="Print an experiment's space or a space file."
    )
    show.add_argument("space", help="an experiment name (its default space) or a TOML file")
    add_common(show)
    show.set_defaults(handler=handle_show)
    add_common(p)


def handle_show(args: argparse.Namespace, console: Console) -> int:
    from search import experiments
    from search.space import format_space, load_space

    path = Path(args.space)
    if path.suffix == ".toml" or path.exists():
        space = load_space(path)
    else:
        space = experiments.get(args.space).load_space()
    console.print(format_space(space))
    return 0
