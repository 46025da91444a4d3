"""The help screen (F1): every key, and where the data is."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Static

from .dialogs import Dialog

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


class HelpScreen(Dialog):
    BINDINGS = [*Dialog.BINDINGS]

    def __init__(self, where: list[tuple[str, str]]) -> None:
        super().__init__()
        self.where = where

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog full-dialog") as box:
            box.border_title = "Help: keys and where your data is"
            box.border_subtitle = "escape closes"
            with VerticalScroll(id="help-body"):
                table = Table.grid(padding=(0, 2))
                table.add_column(style="bold", no_wrap=True)
                table.add_column()
                for label, value in self.where:
                    table.add_row(label, Text(value))
                yield Static(table, classes="where")
                for title, rows in KEYS:
                    keys = Table(title=title, title_justify="left", title_style="bold underline", show_header=False,
                                 box=None, padding=(0, 2))
                    keys.add_column(style="bold", no_wrap=True)
                    keys.add_column()
                    for key, meaning in rows:
                        keys.add_row(key, meaning)
                    yield Static(keys)

    def on_mount(self) -> None:
        self.query_one("#help-body").focus()
