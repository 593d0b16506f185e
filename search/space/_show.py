"""A readable rendering of a space, for ``python -m search spaces show``."""

from __future__ import annotations

from rich.table import Table

from search.space._params import Float
from search.space._space import Space


def format_space(space: Space, title: str | None = None) -> Table:
    """A table with one row per hyperparameter, in tuning order.

    Args:
        space: the space to show; its description is the table's caption.
        title: the table's title; None: the space's source.

    Returns:
        A rich table: number, name, type, range or values, default, when active, help.
    """
    table = Table(title=title or space.source, caption=space.description or None)
    for column in ("#", "name", "type", "range or values", "default", "active when"):
        table.add_column(column, no_wrap=True)
    table.add_column("help", overflow="fold", ratio=1)
    for i, p in enumerate(space, start=1):
        default = f"{p.default:g}" if isinstance(p, Float) else repr(p.default)
        when = p.condition.describe() if p.condition else "always"
        table.add_row(str(i), p.name, p.kind, p.describe(), default, when, p.help)
    return table
