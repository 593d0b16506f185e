"""``search predict MODEL IMAGE...``: the top classes of images, by an exported model."""

from __future__ import annotations

import argparse

from rich.console import Console

from search.cli._parser import add_backend, add_common, path_value
from search.errors import SearchError


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "predict",
        help="classify images with an exported model",
        description="Print the most probable classes of each image, with probabilities,"
        " using a model written by `search export`.",
    )
    p.add_argument("model", type=path_value, help="a .keras file written by `search export`")
    p.add_argument("images", nargs="+", type=path_value, help="image files (JPEG, PNG, ...)")
    p.add_argument("--top", type=int, default=3, help="classes shown per image (default 3)")
    add_backend(p)
    add_common(p)
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace, console: Console) -> int:
    from search.engine import classify_all, load_exported

    if args.top < 1:
        raise SearchError(f"--top ({args.top}) must be at least 1")
    model, class_names = load_exported(args.model)
    failed = 0
    for path, ranked in classify_all(model, class_names, args.images, args.top):
        if isinstance(ranked, SearchError):
            console.print(f"{path}: error: {ranked}", markup=False)
            failed += 1
            continue
        shown = ", ".join(f"{name} {p:.3f}" for name, p in ranked)
        console.print(f"{path}: {shown}", markup=False)
    return 2 if failed else 0
