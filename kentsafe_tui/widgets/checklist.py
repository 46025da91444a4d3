"""The incident's checklist: its playbook's items, each ticked with who and when, or set aside with a reason.

The widget shows items and reports keys as messages; the screen saves through the editing session and hands
the updated items back with `show`. Moving through the items reports where each comes from in the guidance.
"""

from __future__ import annotations

import copy

from rich.table import Table
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from ..dates import describe
from ..model import ChecklistItem

MARKS = {"todo": "☐", "done": "☑", "not_applicable": "⊘"}


def render_item(item: ChecklistItem, pending: bool, number: int = 0) -> Table:
    """The number and mark in their own columns, so a long item wraps under its text and each item stands
    apart. The number is what the tick line (t) and find line (/) take."""
    text = Text(item.text, style="dim" if item.state != "todo" else "")
    if item.state == "done":
        text.append(f"\ndone by {item.by}, {describe(item.at)}", style="italic")
    elif item.state == "not_applicable":
        text.append(f"\nnot applicable ({item.by}, {describe(item.at)})", style="italic")
    if item.note:
        text.append("\nnote: " + item.note, style="italic")
    if pending:
        text.append("\n(comes with your unsaved change: ctrl+s first)", style="italic")
    grid = Table.grid(padding=(0, 1, 0, 0))
    if number:
        grid.add_column(width=3, no_wrap=True, justify="right")
    grid.add_column(width=1, no_wrap=True)
    grid.add_column(ratio=1)
    cells = [Text(MARKS.get(item.state, "?"), style="bold"), text]
    grid.add_row(*([Text(str(number), style="dim")] if number else []), *cells)
    return grid


class ChecklistView(OptionList):
    """See the module docstring."""

    BINDINGS = [
        Binding("space", "toggle", "Done", id="checklist.toggle", tooltip="Tick the item, or untick it"),
        Binding("x", "tick_and_next", "Done, next", id="checklist.tick_next", show=False,
                tooltip="Tick the item and move on to the next item still to do"),
        # The pane's own line names the rest (t, /, ], n, e): the footer keeps its room for the keys of the app.
        Binding("t", "line('tick')", "Tick…", id="checklist.tick", tooltip="Tick items by number or words",
                show=False),
        Binding("slash", "line('find')", "Find", id="checklist.find", tooltip="Go to an item by number or words",
                show=False),
        Binding("right_square_bracket", "unticked(1)", "Next to do", id="checklist.next", show=False),
        Binding("left_square_bracket", "unticked(-1)", "Previous to do", id="checklist.previous", show=False),
        Binding("n", "not_applicable", "N/A", id="checklist.na",
                tooltip="Mark the item not applicable, with the reason", show=False),
        Binding("e", "note", "Note", id="checklist.note", tooltip="Add or change the item's note", show=False),
    ]

    class Toggle(Message):
        """Tick or untick the item with this id."""

        def __init__(self, item_id: str) -> None:
            super().__init__()
            self.item_id = item_id

    class NotApplicable(Message):
        def __init__(self, item_id: str) -> None:
            super().__init__()
            self.item_id = item_id

    class EditNote(Message):
        def __init__(self, item_id: str) -> None:
            super().__init__()
            self.item_id = item_id

    class LineRequested(Message):
        """Open the tick line ("tick") or the find line ("find"), with what was typed so far."""

        def __init__(self, mode: str, typed: str = "") -> None:
            super().__init__()
            self.mode, self.typed = mode, typed

    class Moved(Message):
        """The cursor is on a new item: the guidance can show where it comes from."""

        def __init__(self, item_id: str, source: str) -> None:
            super().__init__()
            self.item_id, self.source = item_id, source

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.items: list[ChecklistItem] = []
        self._pending: set[str] = set()
        self._measured_width = -1

    def render_lines(self, crop):
        if self._measured_width < 0:  # the first frame measures every item
            self._measured_width = self.scrollable_content_region.width
        return super().render_lines(crop)

    def _on_resize(self, event: events.Resize) -> None:
        # OptionList measures every item again at each resize (each a table: 18 ms for a playbook's items). The
        # first resize comes just after the first frame, which measured them at the same width, as the DSL's
        # first key waited: only a new width needs them measured again.
        width = self.scrollable_content_region.width
        if width == self._measured_width:
            event.prevent_default()
        else:
            self._measured_width = width  # OptionList forgets its measures: the next frame measures at this width

    def show(self, items: list[ChecklistItem], pending: set[str] | None = None) -> None:
        """Show the items, keeping the cursor on the same item where it still exists."""
        current = self.current_item
        pending = pending or set()
        if list(items) == self.items and pending == self._pending:
            return  # as shown: redrawing every line after each save held the next key (and kept nothing new)
        self._pending = set(pending)
        self.items = copy.deepcopy(list(items))  # the view's own copy: the record is the screen's
        with self.prevent(OptionList.OptionHighlighted):
            self.set_options(Option(render_item(item, item.id in pending, number), id=item.id)
                             for number, item in enumerate(self.items, 1))
            ids = [item.id for item in self.items]
            if current is not None and current.id in ids:
                self.highlighted = ids.index(current.id)
            elif self.items:
                self.highlighted = 0
        done = sum(1 for item in self.items if item.state != "todo")
        self.border_title = f"Checklist {done}/{len(self.items)}"
        self.border_subtitle = "space done · x done, next · t tick… · / find · ] next to do · n n/a · e note"

    @property
    def current_item(self) -> ChecklistItem | None:
        if self.highlighted is None or not self.items or self.highlighted >= len(self.items):
            return None
        return self.items[self.highlighted]

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        if self.current_item is not None:
            self.post_message(self.Moved(self.current_item.id, self.current_item.source))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.action_toggle()

    def _post(self, kind: type[Toggle] | type[NotApplicable] | type[EditNote]) -> None:
        if self.current_item is not None:
            self.post_message(kind(self.current_item.id))

    def action_toggle(self) -> None:
        self._post(self.Toggle)  # in place, as SPEC has it: a second space unticks (a key bounce undoes itself)

    def action_tick_and_next(self) -> None:
        """x: done, and on to the next item still to do. Never unticks: x on a done item only moves on."""
        item = self.current_item
        if item is not None and item.state == "todo":
            self._post(self.Toggle)
        self._move_to_todo(1, also=item.id if item is not None else "")

    def action_unticked(self, step: int) -> None:
        self._move_to_todo(step)

    def _move_to_todo(self, step: int, also: str = "") -> None:
        """The cursor to the next (step 1) or previous (-1) item still to do, skipping `also` (just ticked)."""
        if self.highlighted is None or not self.items:
            return
        count = len(self.items)
        for offset in range(1, count):
            index = (self.highlighted + step * offset) % count
            item = self.items[index]
            if item.state == "todo" and item.id != also:
                self.highlighted = index
                return

    def to_next_todo(self, item_id: str) -> None:
        """From this item (just set aside) on to the next still to do."""
        self.go_to(item_id)
        if self.current_item is not None and self.current_item.state != "todo":
            self._move_to_todo(1)

    def to_first_todo(self) -> None:
        todo = [index for index, item in enumerate(self.items) if item.state == "todo"]
        if todo:
            self.highlighted = todo[0]

    def go_to(self, item_id: str) -> None:
        ids = [item.id for item in self.items]
        if item_id in ids:
            self.highlighted = ids.index(item_id)

    def action_line(self, mode: str) -> None:
        self.post_message(self.LineRequested(mode))

    def on_key(self, event) -> None:
        # A number typed in the checklist starts the find line with it: "12 enter" goes to item 12.
        if event.character and event.character.isdigit():
            event.stop()
            event.prevent_default()
            self.post_message(self.LineRequested("find", event.character))

    def action_not_applicable(self) -> None:
        self._post(self.NotApplicable)

    def action_note(self) -> None:
        self._post(self.EditNote)
