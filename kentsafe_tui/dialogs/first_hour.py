"""The first hour (F9): the steps in order on one screen, each with how far the open incident's checklist
has got with the items it stands for. Escape closes; the checklist (F4) is where items are ticked."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text

from ..content import Library
from ..model import Incident
from . import ReadingDialog


def first_hour_table(library: Library, incident: Incident) -> Table | Text:
    steps = library.first_hour_steps(item.id for item in incident.checklist)
    if not steps:
        return Text("This guidance has no first-hour document (content/first-hour.md).")
    states = {item.id: item.state for item in incident.checklist}
    table = Table.grid(padding=(0, 1))
    table.add_column(no_wrap=True)
    table.add_column(ratio=1)
    for number, (step, linked) in enumerate(steps, 1):
        handled = sum(states[item_id] != "todo" for item_id in linked)
        mark = "☑" if linked and handled == len(linked) else "◐" if handled else "☐"
        where = f"  ({handled}/{len(linked)} ticked)" if linked else "  (not on this checklist)"
        line = Text(step.text)
        line.append(where, style="dim")
        table.add_row(Text(f"{number}. {mark}"), line)
    return table


class FirstHourScreen(ReadingDialog):
    def __init__(self, library: Library, incident: Incident) -> None:
        super().__init__("The first hour, in order", "escape closes · F4 ticks items in the checklist",
                         first_hour_table(library, incident), body_id="first-hour-body")
