"""The screen a DSL lives in: guidance, incident form and checklist side by side.

At 120 columns or more the three panes stand side by side; narrower terminals show one pane at a time
with a tab line, so nothing is cut off at 80x24. The screen holds the layout and the focus, and routes what
its widgets report to the editing session (the one owner of the record), to the draft keeper and to the
outputs; the rules live in those plain classes, tested without a terminal.
"""

from __future__ import annotations

import asyncio
import copy
import gc
from collections.abc import Callable

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.css.query import NoMatches
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Static

from ..context import Context
from ..dialogs import ChoiceDialog
from ..editing import EditRefused, EditSession
from ..keys import MAIN_KEYS
from ..outputs import Outputs
from ..widgets.checklist import ChecklistView
from ..widgets.footer import SteadyFooter
from ..widgets.form import IncidentForm
from ..widgets.guidance import GuidancePane
from .bindings import bindings_for
from .editing_flows import EditingFlows
from .jumping import JumpActions
from .reading import ReadingActions
from .records import RecordsInBackground
from .typing_guard import StrayTyping

__all__ = ["Context", "MainScreen"]

PANES = {"guidance": "F2 Guidance", "form": "F3 Incident", "checklist": "F4 Checklist"}
READ_AFTER_FIRST_FRAME = 0.2  # seconds: the screen completes its first layouts first


def tab_line(current: str, progress: tuple[int, int], unsaved: bool, saved: str = "") -> Text:
    """The line naming the panes (one shows at a time below 120 columns), the checklist's progress and
    whether anything is unsaved (or when it was saved)."""
    text = Text()
    for pane, label in PANES.items():
        label += " {}/{}".format(*progress) if pane == "checklist" else ""
        text.append(f" {label} ", style="bold reverse" if pane == current else "")
        text.append(" ")
    if unsaved:
        text.append(" • unsaved", style="bold")
    elif saved:
        text.append(f" {saved}", style="bold")
    return text


class MainScreen(RecordsInBackground, StrayTyping, JumpActions, EditingFlows, ReadingActions, Screen):
    # No automatic focus: None would mean the App's "*" (the guidance, the first focusable widget), and a
    # selector is focused before layout settles, scrolling the form. on_mount puts the cursor in Summary.
    AUTO_FOCUS = ""
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (120, "-wide")]
    BINDINGS = bindings_for(MAIN_KEYS)

    def __init__(self, context: Context) -> None:
        super().__init__()
        self.context = context
        self.session = EditSession(context.store)
        self.outputs = Outputs(context.store, context.library)
        self._shown: tuple = ()  # what the heading and tab line last showed: redrawn only when it changes
        self._tabs_shown = Text()
        self._when_complete: list[Callable[[], object]] = []
        self.welcomed = False
        self._exportable: bool | None = None
        self.init_flows()

    # Layout --------------------------------------------------------------------------------------------
    def _on_resize(self, event: events.Resize) -> None:
        # Textual's first layout sends the screen a Resize of the very size it was laid out at, and Screen's
        # handler lays it out again, three times in all (25-35 ms), just as the DSL's first key arrives: the
        # key waited for them. A real resize (another size, or a breakpoint class to change) goes on to
        # Screen's handler as before. (Textual 8 calls each class's handler unless the default is prevented;
        # textual is pinned below 9.)
        wide = event.size.width >= self.HORIZONTAL_BREAKPOINTS[1][0]
        if event.size == self._compositor.size and self.has_class("-wide") == wide:
            event.prevent_default()

    def compose(self) -> ComposeResult:
        # The breakpoint class Textual would add at the first resize, added now: restyling every widget
        # again when it arrives was a fifth of the time to the first frame.
        wide = self.app.size.width >= self.HORIZONTAL_BREAKPOINTS[1][0]
        self.set_class(wide, "-wide")
        self.set_class(not wide, "-narrow")
        yield Static(self.context.top_line(), id="top-bar")
        yield Static("", id="tabs")
        with Horizontal(id="panes"):
            yield GuidancePane(self.context.library, self.context.today, id="guidance", classes="pane")
            yield IncidentForm(self.context.library, id="form", classes="pane -active -has-cursor")
            yield ChecklistView(id="checklist", classes="pane")
        yield SteadyFooter(compact=True)

    @property
    def form(self) -> IncidentForm:
        return self.query_one(IncidentForm)

    @property
    def checklist(self) -> ChecklistView:
        return self.query_one(ChecklistView)

    @property
    def form_complete(self) -> bool:
        """The lower form has arrived (it comes a piece at a time, between keys, after the first frame)."""
        try:
            return self.form.rest_mounted  # (asked at every key: a query of the whole screen was 2 ms of it)
        except NoMatches:
            return True

    @property
    def guidance(self) -> GuidancePane:
        return self.query_one(GuidancePane)

    def on_mount(self) -> None:
        self.show_session()
        # Focused now, not after the first frame: keys typed as soon as the form appears must land in it.
        self.set_focus(self.form.query_one("#f-summary"), scroll_visible=False)
        self.form.clock = self.context.store.clock
        self.form.recorder = self.context.store.user
        self.start_drafts()
        # The app holds each record by its summary and bytes, not parsed: 1.4 times the file, not 5.2.
        self.context.store.hold_lean()
        self.context.store.read_in_background()  # no key waits for a read of the file: the worker reads
        # Parsing holds Python's lock, so a thread alone would still delay the first frame: the read starts a
        # moment after it, whether or not the lower form has arrived (that waits for a pause in the typing).
        self.call_after_refresh(self.set_timer, READ_AFTER_FIRST_FRAME, self._begin_reading)

    def _begin_reading(self) -> None:
        self._freeze()  # what is on screen so far, before the read makes the collector busy
        if not self._reading and not self.context.store.loaded:
            self._start_reading()
        self.run_worker(self._welcome, group="welcome")
        # Another DSL's save is read in the background too, as soon as it is seen (one stat every 2 s).
        self.set_interval(2, self._reread_if_changed)

    @on(IncidentForm.Ready)
    def _form_ready(self) -> None:
        self._freeze()  # the lower form, arrived now
        self._call_waiting()

    def _freeze(self) -> None:
        # The screen lives as long as the app's process: frozen out of the cyclic collector's walks, as what
        # was loaded before it was (see launch.py; a full collection over it held a key 47 ms mid-read). Only
        # where the process is the app's alone: a frozen app is never collected when it ends.
        if self.app.freeze_when_complete:
            gc.freeze()

    async def _welcome(self) -> None:
        """Once the records are read, say there are incidents to look at: the demo opens the list, any other
        database says so above the new incident. Not when the DSL has already started typing."""
        try:
            # Quietly: nobody asked, and a note coming and going redraws the whole screen twice while the
            # records are read (the slowest keys of a 50,000-incident load, up to 250 ms, were those two).
            if await self.records_ready(say=False):
                # Not counted while a save holds the store: the screen would wait for it (a test saw 5 s).
                while (count := self.context.store.count_if_free()) is None:
                    await asyncio.sleep(0.05)
                self._say_welcome(count)
        finally:
            self.welcomed = True  # done, with or without a word (tests wait for this)

    def _say_welcome(self, count: int) -> None:
        if (not count or not self.session.is_new or self.unsaved or len(self.app.screen_stack) > 1
                or self.app.keys_held):
            return  # typing already under way goes where it was typed, never into a list that opened under it
        if self.context.demo:
            self.app.call_later(self.action_open_list)
        else:
            self.form.welcome = f"{count:,} incident{'s' if count > 1 else ''} saved here: ctrl+o lists them."
            self.form.refresh_heading(dirty=self.unsaved)

    def when_complete(self, callback: Callable[[], object]) -> None:
        """Call back once the lower form has arrived (at once if it has; it is completed now if not). Leaving
        while Textual is still mounting it fails inside Textual, so a ctrl+q pressed in the first instant
        waits that long."""
        if not self.form_complete:
            self._when_complete.append(callback)
            self.run_worker(self.form.complete(), group="complete-form")  # now, not at the next pause
            self.set_timer(2, self._call_waiting)  # a quit must never wait for ever
        else:
            callback()

    async def complete_now(self) -> None:
        """What waits for a pause in the typing (the lower form, the rest of the guidance), done now."""
        await self.form.complete()
        self.guidance.draw_all()

    def _call_waiting(self) -> None:
        waiting, self._when_complete = self._when_complete, []
        for callback in waiting:
            callback()

    # Showing the session -------------------------------------------------------------------------------
    def show_session(self, fresh: bool = True) -> None:
        """Show the session's record. After a tick, a save or a merge (`fresh=False`) the form changes only
        what differs, so the field being typed in keeps its text and cursor."""
        self._shown = ()
        session = self.session
        self.form.load(session.edited.editable_copy(), session.base.status if session.base else None, fresh=fresh)
        self.show_checklist()
        self._show_playbook()
        self.mark_dirty()
        if self._exportable != (not session.is_new):  # export becomes possible once saved
            self._exportable = not session.is_new
            self.refresh_bindings()  # (the footer is made again: not after every save)

    def show_checklist(self) -> None:
        self.checklist.show(self.session.edited.checklist, self.session.pending_items())
        self._update_tabs()

    def _show_playbook(self) -> None:
        incident = self.session.edited
        playbooks = self.context.library.playbooks(incident.category, incident.scope)
        branch = next((doc for doc in reversed(playbooks)), None)
        if branch is not None:
            self.guidance.show(branch.slug)

    @property
    def unsaved(self) -> bool:
        """Typing not yet saved: a changed record, or a date typed that is still to be put right."""
        return self.session.dirty or bool(self.form.problems()) or bool(self.form.quick_typed)

    def mark_dirty(self) -> None:
        # Updating a Static re-lays out the screen, so only when what it shows has changed (not every key).
        dirty = self.unsaved
        edited = self.session.edited
        shown = (dirty, edited.id, edited.status, edited.checklist_progress())
        if shown != self._shown:
            self._shown = shown
            self.form.refresh_heading(copy.copy(edited), dirty=dirty)
            self._update_tabs()

    def _update_tabs(self) -> None:
        active = self._cursor_pane()
        if active is not None:
            for pane in PANES:
                self.query_one(f"#{pane}").set_class(pane == active, "-active")
        current = active or next((p for p in PANES if self.query_one(f"#{p}").has_class("-active")), "form")
        unsaved = self.unsaved
        saved = self.form.saved_note if self.session.edited.id else ""
        text = tab_line(current, self.session.edited.checklist_progress(), unsaved, saved)
        if text != self._tabs_shown:  # one line high: redraw it, but only when it says something new
            self._tabs_shown = text
            self.query_one("#tabs", Static).update(text, layout=False)

    def _cursor_pane(self) -> str | None:
        """The pane holding the cursor (none while nothing on this screen has it)."""
        focused = self.focused
        ancestors = {node.id for node in focused.ancestors_with_self} if focused is not None else set()
        return next((pane for pane in PANES if pane in ancestors), None)

    def on_descendant_focus(self) -> None:
        self._show_cursor_pane()
        self._update_tabs()

    def on_descendant_blur(self) -> None:
        self.call_after_refresh(self._show_cursor_pane)  # the focus may have gone nowhere (a dialog keeps it)

    def _show_cursor_pane(self) -> None:
        """The pane holding the cursor has the heavy border (see app.tcss). A class set only when the pane
        changes: a tab within a pane restyles nothing."""
        holding = self._cursor_pane()
        for pane in PANES:
            for node in self.query(f"#{pane}"):  # (none once the screen is being taken down)
                node.set_class(pane == holding, "-has-cursor")

    # Keys ----------------------------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """A report is made from the saved record: greyed out (None) until the incident has been saved."""
        if action == "export" and self.session.is_new:
            return None
        return True

    def action_focus_pane(self, pane: str) -> None:
        for name in PANES:
            self.query_one(f"#{name}").set_class(name == pane, "-active")
        if pane == "form":
            self.form.focus_summary()  # always the same place, nothing selected
        else:
            self.set_focus(self.query_one(f"#{pane}"))
        self._update_tabs()

    def focus_error(self, errors: dict[str, str]) -> None:
        widget = self.form.first_error_widget(errors)
        if widget is not None:
            for name in PANES:
                self.query_one(f"#{name}").set_class(name == "form", "-active")
            self.set_focus(widget)

    # Messages from the widgets -------------------------------------------------------------------------
    @on(IncidentForm.Edited)
    def _edited(self, event: IncidentForm.Edited) -> None:
        event.stop()  # handled: it need not travel on to the app, where it would hold up the next key
        try:
            follows_playbook = self.session.apply(event.path, event.value)
        except EditRefused as problem:
            self._error(f"Not kept: {problem}. Check the form before saving.")
            return
        if follows_playbook:
            self.playbook_changed()
        self.typed()

    @on(IncidentForm.RowAdded)
    async def _row_added(self, event: IncidentForm.RowAdded) -> None:
        rows = self.session.add_row(event.name, event.row)
        self.typed()
        # An empty row: its first field. A row from the quick line: the line again, for the next one.
        await self.form.show_rows(event.name, rows, focus="last" if event.row is None else "quick")

    @on(IncidentForm.QuickTyped)
    def _quick_typed(self, event: IncidentForm.QuickTyped) -> None:
        event.stop()
        self.typed()

    @on(IncidentForm.RemoveRequested)
    def _remove_requested(self, event: IncidentForm.RemoveRequested) -> None:
        async def decided(choice: str | None) -> None:
            if choice == "remove":
                rows = self.session.remove_row(event.name, event.index)
                self.typed()
                await self.form.show_rows(event.name, rows, removed=event.index)
        self.app.push_screen(ChoiceDialog("Remove?", f"Remove {event.label} from the form? (Once saved, the "
                                          "history still shows it was there.)",
                                          [("escape", "Keep it", "keep"), (None, "Remove", "remove")]), decided)

    def playbook_changed(self) -> None:
        self.session.follow_playbook()
        self.show_checklist()
        self._show_playbook()
        if self.session.pending_items():
            self.notify("The checklist follows your change; its new items can be ticked once you save.",
                        markup=False)

    @on(ChecklistView.Moved)
    def _item_moved(self, event: ChecklistView.Moved) -> None:
        slug, _, anchor = event.source.partition("#")
        if slug:
            self.guidance.show(slug, anchor, remember=False)

    @on(GuidancePane.CopyRequested)
    def _copy(self, event: GuidancePane.CopyRequested) -> None:
        self.app.copy_to_clipboard(event.url)
        self.notify(f"Copied {event.url}. Paste it into a browser on your own computer; nothing is opened on "
                    "the server.", markup=False)

    # Messages to the user ----------------------------------------------------------------------------------
    def _warn(self, message: str) -> None:
        self.notify(message, severity="warning", markup=False, timeout=8)

    def _error(self, message: str) -> None:
        self.notify(message, severity="error", markup=False, timeout=15)
