"""``search predict MODEL IMAGE...``: the top classes of images, by an exported model."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console

from search._text import plural
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
    _check_images(args.images)
    model, class_names = load_exported(args.model)
    err = Console(stderr=True, highlight=False, markup=False, soft_wrap=True)
    failed = 0
    for path, ranked in classify_all(model, class_names, args.images, args.top):
        if isinstance(ranked, SearchError):  # named on stderr; the others are still classified
            err.print(f"{path}: error: {ranked}", markup=False)
            failed += 1
            continue
        shown = ", ".join(f"{name} {p:.3f}" for name, p in ranked)
        console.print(f"{path}: {shown}", markup=False)
    return 2 if failed else 0


def _check_images(images: list[Path]) -> None:
    """SearchError, before the model loads, where an image given names no file (a typo) or
    a folder; an unreadable image is found as it is read, and the others still classified."""
    missing = [path for path in images if not path.exists()]
    if missing:
        more = f" (nor {plural(len(missing) - 1, 'other image')} given)" if len(missing) > 1 else ""
        raise SearchError(f"image {missing[0]}: no such file{more}; check the path, nothing was classified")
    for path in images:
        if path.is_dir():
            raise SearchError(f"image {path}: is a folder; give the image files in it, e.g. {path / '*.png'}")
