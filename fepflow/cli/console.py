"""Where the commands write: ``console`` for what was asked for, ``err`` for what went wrong; and how
they write it so that scripts can read it.

Nothing is ever wrapped: both consoles soft-wrap (a long key or link stays on one line however
narrow the terminal, or at the 80 columns Rich assumes when output is piped). A command that lists
things writes a table for a person at a terminal, tab-separated plain lines with whole keys when its
output is piped (``--format plain``), or JSON (``--format json``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from fepflow.store.lookup import short_key

console = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

Block = tuple[str, Sequence[str], Sequence[Sequence[str]]]
"""A title, column names and rows of one table."""

LIST_FORMATS = ("table", "plain", "json")
FormatOption = typer.Option(
    None,
    "--format",
    "-f",
    help="table | plain (tab-separated, whole keys) | json; default: table at a terminal, plain when piped",
)


def list_format(given: str | None) -> str:
    """The format of a listing: as given, else a table at a terminal and plain lines when piped."""
    if given is None:
        return "table" if console.is_terminal else "plain"
    if given not in LIST_FORMATS:
        raise typer.BadParameter(f"--format must be one of {', '.join(LIST_FORMATS)}")
    return given


def message_format(given: str | None) -> str:
    """The format of a command that reports what it did: text (the default) or json."""
    if given not in (None, "text", "json"):
        raise typer.BadParameter("--format must be text or json")
    return given or "text"


MessageFormatOption = typer.Option(None, "--format", "-f", help="text (default) | json")


def print_json(value: Any) -> None:
    """``value`` as JSON on stdout (whole keys; never styled or wrapped)."""
    typer.echo(json.dumps(value, indent=1, default=str, ensure_ascii=False))


def show_rows(
    title: str,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    fmt: str,
    *,
    keys: Sequence[str] = (),
) -> None:
    """Rows as a table (the ``keys`` columns shortened to a unique-enough prefix the commands accept
    back), as tab-separated plain lines with a header (whole keys), or as a JSON list of objects."""
    if fmt == "json":
        print_json([dict(zip(columns, row, strict=True)) for row in rows])
        return
    if fmt == "plain":
        typer.echo(plain_line(columns))
        for row in rows:
            typer.echo(plain_line(row))
        return
    table = Table(title=title)
    for col in columns:
        table.add_column(col, no_wrap=col in keys)
    for row in rows:
        table.add_row(
            *(short_key(str(v)) if c in keys else _plain(v) for c, v in zip(columns, row, strict=True))
        )
    console.print(table, soft_wrap=False)


def plain_line(values: Sequence[Any]) -> str:
    """One tab-separated line of ``values`` (tabs and line breaks inside a value become spaces)."""
    return "\t".join(_plain(v) for v in values)


def as_table(block: Block) -> Table:
    """``block`` as a Rich table (for a person at a terminal)."""
    title, columns, rows = block
    table = Table(title=title)
    for col in columns:
        table.add_column(col)
    for row in rows:
        table.add_row(*row)
    return table


def print_plain_blocks(blocks: Sequence[Block], *, note: str | None = None) -> None:
    """``blocks`` as plain lines on stdout: ``# title``, a tab-separated header and rows, a blank line
    between blocks; ``note`` last, as a ``#`` line."""
    for i, (title, columns, rows) in enumerate(blocks):
        if i:
            typer.echo("")
        typer.echo(f"# {title}")
        typer.echo(plain_line(columns))
        for row in rows:
            typer.echo(plain_line(row))
    if note:
        typer.echo(f"# {note}")


def _plain(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return ",".join(str(v) for v in value)
    return str(value).replace("\t", " ").replace("\n", " ")
