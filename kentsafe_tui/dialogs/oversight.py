"""The oversight screen (f6): counts with bar charts, and what is slipping."""

from __future__ import annotations

from rich.text import Text

from ..oversight import Oversight, render_text
from . import ReadingDialog


SHOWN = 200  # incidents listed under each heading: more is not read on a screen, and each line costs drawing


class OversightScreen(ReadingDialog):
    def __init__(self, view: Oversight) -> None:
        super().__init__("Oversight", "escape closes · kentsafe stats prints the same",
                         Text(render_text(view, limit=SHOWN)), body_id="oversight-body")
