"""Pickers typed into: the field finder (ctrl+g) and the checklist's tick and find lines.

Each is a line with what it understood shown below, decided by a plain function (kentsafe_tui.jump,
kentsafe_tui.ticking); the dialog only shows it and answers.
"""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from ..jump import Place, narrow
from ..model import ChecklistItem
from ..ticking import pick
from ..widgets.safe_inputs import SafeInput
from . import Dialog


class FieldFinder(Dialog):
    """Type a place's letters: a field's goes there at once; a list's waits for a row's digit or enter."""

    def __init__(self, places: list[Place]) -> None:
        super().__init__()
        self.places = places
        self.shown: list[Place] = []

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide-dialog", id="finder") as box:
            box.border_title = "Go to: type the letters on the left"
            box.border_subtitle = "enter takes the first · escape stays"
            yield SafeInput(placeholder="e.g. f for How it was followed up, p2 for the second pupil", id="finder-line")
            yield Static("", id="finder-none", classes="error")
            yield OptionList(id="finder-places")

    def on_mount(self) -> None:
        self._show("")
        self.set_focus(self.query_one("#finder-line"))

    def _show(self, typed: str) -> None:
        shown, chosen = narrow(self.places, typed)
        if chosen is not None:
            self.dismiss(chosen.where)
            return
        self.shown = shown
        none = self.query_one("#finder-none", Static)
        none.update(Text(f"No place has the letters \"{typed.strip()}\": backspace, then the letters on the left."))
        none.display = not shown
        options = self.query_one("#finder-places", OptionList)
        options.set_options(Option(_label(place)) for place in shown)
        if shown:
            options.highlighted = 0

    @on(Input.Changed, "#finder-line")
    def _typed(self, event: Input.Changed) -> None:
        self._show(event.value)

    @on(Input.Submitted, "#finder-line")
    def _enter(self) -> None:
        options = self.query_one("#finder-places", OptionList)
        if self.shown and options.highlighted is not None:
            self.dismiss(self.shown[options.highlighted].where)

    @on(OptionList.OptionSelected, "#finder-places")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.shown[event.option_index].where)

    def on_key(self, event) -> None:
        if event.key in ("up", "down"):
            options = self.query_one("#finder-places", OptionList)
            options.action_cursor_down() if event.key == "down" else options.action_cursor_up()
            event.stop()


def _label(place: Place) -> Text:
    text = Text(f"{place.code:<4}", style="bold")
    text.append(place.name if len(place.name) <= 70 else place.name[:69] + "…")  # one line each: all in view
    return text


class ChecklistLine(Dialog):
    """The checklist's lines: "tick" (numbers, ranges, words: each item it names is ticked) and "find" (one
    item: the cursor goes to it). What the line names is listed below it before enter."""

    def __init__(self, mode: str, items: list[ChecklistItem], typed: str = "") -> None:
        super().__init__()
        self.mode, self.items, self.typed = mode, items, typed
        self.chosen: list[str] = []

    def compose(self) -> ComposeResult:
        tick = self.mode == "tick"
        with Vertical(classes="dialog wide-dialog", id=f"checklist-{self.mode}") as box:
            box.border_title = "Tick items done" if tick else "Go to an item"
            box.border_subtitle = "enter " + ("ticks them" if tick else "goes there") + " · escape cancels"
            yield SafeInput(self.typed, id="checklist-line",
                            placeholder="numbers and words, e.g. 1 3 5-7 police" if tick else "a number or words")
            yield Static("", id="checklist-understood")

    def on_mount(self) -> None:
        line = self.query_one("#checklist-line", Input)
        self.set_focus(line)
        line.cursor_position = len(line.value)
        self._show(line.value)

    def _show(self, typed: str) -> None:
        chosen, problems = pick(typed, self.items, several=self.mode == "tick")
        self.chosen = [] if problems else chosen
        shown = Table.grid(padding=(0, 1, 0, 0))
        shown.add_column(width=3, justify="right")
        shown.add_column(ratio=1)
        for problem in problems:
            shown.add_row("?", Text(problem, style="bold"))
        by_id = {item.id: (number, item) for number, item in enumerate(self.items, 1)}
        for item_id in chosen:
            number, item = by_id[item_id]
            already = {"done": "  (already done)", "not_applicable": "  (not applicable: left as it is)"}.get(
                item.state, "") if self.mode == "tick" else ""
            shown.add_row(str(number), Text(item.text + already, style="dim" if already else ""))
        self.query_one("#checklist-understood", Static).update(shown)

    @on(Input.Changed, "#checklist-line")
    def _typed(self, event: Input.Changed) -> None:
        self._show(event.value)

    @on(Input.Submitted, "#checklist-line")
    def _enter(self, event: Input.Submitted) -> None:
        self._show(event.value)
        if self.chosen:
            self.dismiss(self.chosen)
