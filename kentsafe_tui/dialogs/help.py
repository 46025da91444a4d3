"""The help screen (F1): every key, and where the data is."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text

from ..keys import help_sections
from . import ReadingDialog

def _tables(where: list[tuple[str, str]]) -> list[Table]:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column()
    for label, value in where:
        table.add_row(label, Text(value))
    tables = [table]
    for title, rows in help_sections():
        keys = Table(title=title, title_justify="left", title_style="bold underline", show_header=False, box=None,
                     padding=(0, 2))
        keys.add_column(style="bold", no_wrap=True)
        keys.add_column()
        for key, meaning in rows:
            keys.add_row(key, meaning)
        tables.append(keys)
    return tables


class HelpScreen(ReadingDialog):
    def __init__(self, where: list[tuple[str, str]]) -> None:
        super().__init__("Help: keys and where your data is", "escape closes", *_tables(where), body_id="help-body")
