"""Where output goes: results on stdout (a table on a terminal, JSON when asked or piped),
everything else on stderr."""

from __future__ import annotations

import sys
from typing import Any

from rich.console import Console

from siamcli.errors import printable
from siamcli.files import json_text

stderr = Console(stderr=True)


def note(message: str) -> None:
    """A message for the person at the terminal, on stderr: one line, shown literally (no markup, no
    control characters, no wrapping)."""
    stderr.print(printable(message), markup=False, highlight=False, soft_wrap=True)


def want_json(flag: bool) -> bool:
    return flag or not sys.stdout.isatty()


def print_json(value: Any) -> None:
    try:
        sys.stdout.write(json_text(value) + "\n")
        sys.stdout.flush()
    except BrokenPipeError:  # the reader went away (| head): stop here, quietly
        from siamcli.cli import quiet_broken_pipe

        quiet_broken_pipe()


def print_table(title: str, columns: list[str], rows: list[list[Any]], right: tuple[str, ...] = ()) -> None:
    """A table on stdout whose every cell and title is shown literally: a name or a path is never read
    as markup. Cells may be rich Text (for colour) or anything else (shown as printable text)."""
    from rich.table import Table
    from rich.text import Text

    table = Table(title=Text(printable(title)), title_justify="left")
    for column in columns:
        table.add_column(Text(printable(column)), justify="right" if column in right else "left", overflow="fold")
    for row in rows:
        table.add_row(*(cell if isinstance(cell, Text) else Text(printable(cell)) for cell in row))
    Console().print(table)
