"""The oversight screen (f6): counts with bar charts, and what is slipping."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Static

from ..oversight import Oversight, render_text
from .dialogs import Dialog


class OversightScreen(Dialog):
    def __init__(self, view: Oversight) -> None:
        super().__init__()
        self.view = view

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog full-dialog") as box:
            box.border_title = "Oversight"
            box.border_subtitle = "escape closes · kentsafe stats prints the same"
            with VerticalScroll(id="oversight-body"):
                yield Static(Text(render_text(self.view)))

    def on_mount(self) -> None:
        self.query_one("#oversight-body").focus()
