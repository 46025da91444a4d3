"""The oversight screen (f6): counts with bar charts, and what is slipping."""

from __future__ import annotations

from rich.text import Text

from ..oversight import Oversight, render_text
from . import ReadingDialog


class OversightScreen(ReadingDialog):
    def __init__(self, view: Oversight) -> None:
        super().__init__("Oversight", "escape closes · kentsafe stats prints the same", Text(render_text(view)),
                         body_id="oversight-body")
