"""The help screen (F1): every key, and where the data is."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text

from .dialogs import ReadingDialog

KEYS = [
    ("Anywhere", [
        ("ctrl+n  /  alt+n", "New incident; the cursor lands in its Summary"),
        ("ctrl+s  /  alt+s", "Save the incident being edited"),
        ("ctrl+o  /  alt+o", "Open the incident list: type to filter, enter to open"),
        ("f1  /  alt+h", "This help"),
        ("f2  /  alt+1", "Focus the guidance"),
        ("f3  /  alt+2", "Focus the form"),
        ("f4  /  alt+3", "Focus the checklist"),
        ("f5  /  alt+r", "Show the record-keeping guide in the guidance pane"),
        ("f6  /  alt+v", "Oversight: counts, charts and what is slipping"),
        ("f7  /  alt+e", "Export this incident's report (HTML and Markdown, saved beside the database)"),
        ("f8  /  alt+l", "The parent letter for this incident"),
        ("ctrl+p  /  alt+p", "Command palette: every action by name"),
        ("ctrl+q  /  alt+q", "Quit; with unsaved changes, asks save / discard / cancel"),
        ("tab, shift+tab", "Next / previous field"),
        ("escape", "Close a dialog or list without choosing"),
    ]),
    ("In the checklist", [
        ("up, down", "Move; the guidance shows where the item comes from"),
        ("space  /  x  /  enter", "Tick the item done, or back to to-do (records who and when)"),
        ("n", "Not applicable: asks for the reason"),
        ("e", "Add or change the item's note"),
    ]),
    ("In the guidance", [
        ("up, down, page up, page down", "Scroll"),
        ("[  ]", "Previous / next section"),
        ("h", "Jump to a heading"),
        ("l", "Links: enter opens another document, or copies a web address (OSC 52)"),
        ("d", "Open another document"),
        ("/", "Search contacts and guidance"),
        ("b", "Back to the previous document"),
    ]),
]


def _tables(where: list[tuple[str, str]]) -> list[Table]:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column()
    for label, value in where:
        table.add_row(label, Text(value))
    tables = [table]
    for title, rows in KEYS:
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
