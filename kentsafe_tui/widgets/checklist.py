"""The incident's checklist: its playbook's items, each ticked with who and when, or set aside with a reason.

The widget shows items and reports keys as messages; the screen saves through the editing session and hands
the updated items back with `show`. Moving through the items reports where each comes from in the guidance.
"""

from __future__ import annotations

import copy

from rich.table import Table
from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from ..dates import describe
from ..model import ChecklistItem

MARKS = {"todo": "☐", "done": "☑", "not_applicable": "⊘"}


def render_item(item: ChecklistItem, pending: bool) -> Table:
    """The mark in its own column, so a long item wraps under its text and each item stands apart."""
    text = Text(item.text, style="dim" if item.state != "todo" else "")
    if item.state == "done":
        text.append(f"\ndone by {item.by}, {describe(item.at)}", style="italic")
    elif item.state == "not_applicable":
        text.append(f"\nnot applicable ({item.by}, {describe(item.at)})", style="italic")
    if item.note:
        text.append("\nnote: " + item.note, style="italic")
    if pending:
        text.append("\n(comes with your unsaved change: ctrl+s first)", style="italic")
    grid = Table.grid()
    grid.add_column(width=2, no_wrap=True)
    grid.add_column(ratio=1)
    grid.add_row(Text(MARKS.get(item.state, "?"), style="bold"), text)
    return grid


class ChecklistView(OptionList):
    """See the module docstring."""

    BINDINGS = [
        Binding("space,x", "toggle", "Done", id="checklist.toggle", tooltip="Tick the item, or untick it"),
        Binding("n", "not_applicable", "N/A", id="checklist.na",
                tooltip="Mark the item not applicable, with the reason"),
        Binding("e", "note", "Note", id="checklist.note", tooltip="Add or change the item's note"),
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

    class Moved(Message):
        """The cursor is on a new item: the guidance can show where it comes from."""

        def __init__(self, item_id: str, source: str) -> None:
            super().__init__()
            self.item_id, self.source = item_id, source

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.items: list[ChecklistItem] = []

    def show(self, items: list[ChecklistItem], pending: set[str] | None = None) -> None:
        """Show the items, keeping the cursor on the same item where it still exists."""
        current = self.current_item
        pending = pending or set()
        self.items = copy.deepcopy(list(items))  # the view's own copy: the record is the screen's
        with self.prevent(OptionList.OptionHighlighted):
            self.set_options(Option(render_item(item, item.id in pending), id=item.id) for item in self.items)
            ids = [item.id for item in self.items]
            if current is not None and current.id in ids:
                self.highlighted = ids.index(current.id)
            elif self.items:
                self.highlighted = 0
        done = sum(1 for item in self.items if item.state != "todo")
        self.border_title = f"Checklist {done}/{len(self.items)}"
        self.border_subtitle = "space done · n n/a · e note"

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
        self._post(self.Toggle)

    def action_not_applicable(self) -> None:
        self._post(self.NotApplicable)

    def action_note(self) -> None:
        self._post(self.EditNote)
