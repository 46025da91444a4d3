"""The incident form: every field of a record, in the order a DSL fills them in.

The form is a view. `load` fills the widgets from a record it reads and does not keep; every edit is posted as
`Edited(path, value)` and the screen applies it to the one record it owns (the editing session). Whenever the
session replaces its record (a tick, a save, a reload, a restore, a conflict resolved), the screen loads the
form again with `fresh=False`, which changes only the widgets whose value differs, so the field being typed
in keeps its text and cursor.

Dates are typed as people say them and the form shows what it understood; text it cannot understand stays in
the field with its message and counts as unsaved work. Lists (pupils, referrals, decisions, transfers) grow
with `RowAdded` and shrink with `RemoveRequested`, both decided by the screen. A change of status is not
applied here: `StatusRequested` lets the screen ask for the outcome before closing, or the reason before
reopening.
"""

from __future__ import annotations

import asyncio
import copy
import re
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.geometry import Region, Size
from textual.message import Message
from textual.visual import visualize
from textual.widget import Widget
from textual.widgets import Button, Input, Label, Select, Static, TextArea

from ..content import Library
from ..jump import Place, places
from ..quick_entry import EXAMPLES, Understood, understand
from ..dates import DateError, clock_change_note, describe, from_iso, now_local, parse_date, parse_when, to_iso
from ..model import (
    AGENCIES,
    ANSWERS,
    CATEGORIES,
    PARENTS_INFORMED,
    PUPIL_ROLES,
    REFERRAL_DECISIONS,
    SCOPES,
    STATUSES,
    TRANSITIONS,
    Decision,
    Incident,
    Pupil,
    Referral,
    Transfer,
)
from .safe_inputs import SafeButton, SafeInput, SafeSelect, SafeTextArea

IMAGERY_RULE = (
    "Never view, copy, forward or store the imagery itself, and never ask a child to send it. "
    "Describe it in words. Keep any device safe and hand it to the DSL or the police."
)
ROW = re.compile(r"^(pupils|referrals|decisions|transfers)-(\d+)-(\w+)$")
ROW_KINDS: dict[str, type] = {"pupils": Pupil, "referrals": Referral, "decisions": Decision, "transfers": Transfer}
ROW_TITLES = {"pupils": "Pupil", "referrals": "Referral", "decisions": "Decision", "transfers": "Transfer"}
ROW_FIELDS = {  # typed values hide the placeholders, so each row says what its fields are
    "pupils": "name, year / role, date of birth",
    "referrals": "agency, when / reference, note",
    "decisions": "what was decided / why",
    "transfers": "sent to / sent on, receipt confirmed on / note",
}
DATE_FIELDS = {("referrals", "at"): "moment", ("pupils", "date_of_birth"): "day",
               ("transfers", "sent_at"): "day", ("transfers", "acknowledged_at"): "day"}
TEXT_AREAS = {
    "details": ("What happened", "The facts, in the child's own words where you have them. Who told whom, when."),
    "follow_up": ("How it was followed up", "Who spoke to whom; what was checked; what was put in place."),
    "actions": ("Actions taken", "Reports made, devices secured, staff briefed, letters sent."),
    "outcome": ("Outcome", "How it ended. Needed before closing."),
}


_W = TypeVar("_W", bound=Widget)


def _options(vocabulary: dict[str, str]) -> list[tuple[str, str]]:
    return [(label, key) for key, label in vocabulary.items()]


class _Walked:
    """The form's widgets by id, and its message lines, as one walk finds them."""

    def __init__(self, form: Widget) -> None:
        self.by_id: dict[str, list[Widget]] = {}
        self.errors: list[Static] = []
        for node in form.walk_children(Widget):
            if node.id:
                self.by_id.setdefault(node.id, []).append(node)
            if isinstance(node, Static) and node.has_class("error"):
                self.errors.append(node)


def _typed_date(value: str, kind: str) -> str:
    """A stored date as the form shows it for editing: day first, as typed."""
    if not value:
        return ""
    try:
        if kind == "day":
            return parse_date(value).strftime("%d/%m/%Y")
        return from_iso(value).astimezone().strftime("%d/%m/%Y %H:%M")
    except (ValueError, OverflowError, DateError):
        return value


def _understand(typed: str, kind: str) -> str:
    """The stored form of a typed date ("" for nothing typed). Raises DateError with the reason."""
    if not typed.strip():
        return ""
    try:
        if kind == "day":
            return parse_date(typed).isoformat()
        return to_iso(parse_when(typed))
    except DateError:
        raise
    except (ValueError, OverflowError) as problem:  # a year the calendar or the clock cannot hold
        raise DateError(f"{typed.strip()!r} is not a date kentsafe can use ({problem})") from None


DATE_KINDS = {"concern_at": "moment"}  # top-level date fields; row dates are in DATE_FIELDS
# Date fields select their text on entry, so typing "yesterday 15:40" replaces the default "now"; text fields
# do not (SafeInput), so one key never replaces a summary or a name.


class FormHeading(Static):
    """The incident's id and state, and whether it has unsaved changes. It is as tall as the longest of the
    wordings it may show next, so the first key typed into a new incident, and the save after it, redraw a
    line instead of laying out the screen (34 ms before the first letter showed)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("", **kwargs)
        self._said: tuple[Text, ...] = (Text(),)

    def say(self, text: Text, *others: Text) -> None:
        """Show `text`; `others` are what it may say next (the same record saved, or with unsaved changes)."""
        said = (text, *others)
        if said == self._said:
            return
        width = self.content_size.width
        same = bool(width) and self._lines(width, said) == self._lines(width, self._said)
        self._said = said
        self.update(text, layout=not same)

    def _lines(self, width: int, said: tuple[Text, ...]) -> int:
        return max(visualize(self, text).get_height(self.styles, width) for text in said)

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return self._lines(width, self._said) if width else 0


COMPLETE_AT_MOST = 5.0  # seconds


class FormPiece(Vertical):
    """One piece of the lower form (see LaterFields)."""

    DEFAULT_CSS = "FormPiece { height: auto; }"

    def __init__(self, compose_piece: Callable[[], ComposeResult]) -> None:
        super().__init__()
        self._compose_piece = compose_piece

    def compose(self) -> ComposeResult:
        yield from self._compose_piece()


class LaterFields(Vertical):
    """The lower part of the form, mounted after the first frame a piece at a time, and only while the
    keyboard is quiet (see KentsafeApp.when_quiet). Mounted in one piece straight after the first frame, it
    held the screen for 100-150 ms, and the DSL's second key waited for all of it; a piece at a time without
    waiting for a pause, keys waited for the pieces instead. A key that needs the whole form (anything but
    typing in the field with the cursor) has it completed first (see `complete`)."""

    DEFAULT_CSS = "LaterFields { height: auto; }"

    def __init__(self, pieces: list[Callable[[], ComposeResult]]) -> None:
        super().__init__(id="form-rest")
        self._pieces = list(pieces)
        self._finishing = False
        self.arrived = asyncio.Event()

    def on_mount(self) -> None:
        self._next_when_quiet()

    def _next_when_quiet(self) -> None:
        when_quiet = getattr(self.app, "when_quiet", None)
        if when_quiet is None:
            self.call_after_refresh(self._mount_next)
        else:
            when_quiet(self._mount_next)

    async def _mount_next(self) -> None:
        if not self.is_attached or not self._pieces:
            return
        started = time.monotonic()
        await self._mount_piece()
        if self._pieces:
            # The next piece at once if no key came meanwhile, else at the next pause.
            self.call_after_refresh(self._after_piece, started)

    def _after_piece(self, started: float) -> None:
        if getattr(self.app, "last_key_at", 0.0) > started:
            self._next_when_quiet()
        else:
            self.call_later(self._mount_next)

    async def _mount_piece(self) -> None:
        await self.mount(FormPiece(self._pieces.pop(0)))
        if not self._pieces and not self._finishing:
            self._finishing = True
            self.call_after_refresh(self._arrived)

    def _arrived(self) -> None:
        form = next(node for node in self.ancestors if isinstance(node, IncidentForm))
        form._rest_arrived()
        self.arrived.set()

    async def complete(self) -> None:
        """Every piece still to come, mounted now; returns once the form is whole and filled (a key waits for
        this, so never longer than COMPLETE_AT_MOST)."""
        # One layout and one frame for all of it: piece by piece, the screen was laid out and drawn again
        # after each (nine times, 60% of the time a key waited here).
        with self.app.batch_update():
            while self._pieces and self.is_attached:
                await self._mount_piece()
            if self.is_attached:
                try:
                    await asyncio.wait_for(self.arrived.wait(), COMPLETE_AT_MOST)
                except asyncio.TimeoutError:
                    pass


class IncidentForm(VerticalScroll):
    """See the module docstring."""

    BORDER_TITLE = "Incident"

    class Edited(Message):
        """One field changed: `path` is "summary", "pupils.0.name", "referral_check.<question>" and so on;
        `value` is what the record should now hold there (None removes a referral answer)."""

        def __init__(self, path: str, value: Any) -> None:
            super().__init__()
            self.path, self.value = path, value

    class RowAdded(Message):
        """A row for list `name`: an empty one (its add button), or `row` as a quick-entry line understood it."""

        def __init__(self, name: str, row: Any = None) -> None:
            super().__init__()
            self.name, self.row = name, row

    class StatusRequested(Message):
        def __init__(self, old: str, new: str) -> None:
            super().__init__()
            self.old, self.new = old, new

    class QuickTyped(Message):
        """A quick line changed: unsaved work, shown as such and kept in the draft."""

    class Ready(Message):
        """The whole form is on screen, its lower part included."""

    class RemoveRequested(Message):
        """A row's Remove button: the screen asks first, then removes it from the record and reloads."""

        def __init__(self, name: str, index: int, label: str) -> None:
            super().__init__()
            self.name, self.index, self.label = name, index, label

    def __init__(self, library: Library, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.library = library
        # A copy of what was last loaded, for the parts mounted later (the lower form, rebuilt rows). It is the
        # form's own: edits never write into it, and the screen's record is never kept here.
        self._snapshot = Incident()
        self.saved_status = "open"
        self._status = "open"
        self._category = ""
        self._status_choices: list[tuple[str, str]] = []
        self._error_lines: weakref.WeakValueDictionary[str, Static] = weakref.WeakValueDictionary()
        self._said: weakref.WeakKeyDictionary[Static, Text | str] = weakref.WeakKeyDictionary()
        self._unparsed: dict[str, str] = {}
        self._unparsed_typed: dict[str, str] = {}  # what was typed there, kept when a list is rebuilt
        self.rest_mounted = False  # the fields below "What happened" arrive just after the first frame
        # Lists are rebuilt by removing their rows and mounting new ones with the same ids: one at a time,
        # each removal finished before the next mount, or Textual sees two widgets with one id.
        self._rebuilding = asyncio.Lock()
        self.welcome = ""  # above a new incident: that there are saved ones to look at (ctrl+o)
        self.saved_note = ""  # "Saved at 10:42" on the border, until the next change or another incident
        self.typed_since_save = False  # what is unsaved was typed as that save was written
        self.quick_typed: set[str] = set()  # lists whose quick line holds text not yet added
        self.clock = now_local  # the screen sets the store's clock: "yesterday 16:30" means the store's yesterday
        self.recorder = ""  # and its user: who a new incident will say recorded it
        self._walked: _Walked | None = None  # the form's widgets while one call goes through many (see `_walk`)

    # Layout --------------------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Static(Text("⚠ " + IMAGERY_RULE), id="imagery-banner", classes="banner")
        yield FormHeading(id="form-heading")
        yield from self._field("summary", "Summary", required=True,
                               widget=SafeInput(placeholder="One line: what is the concern?", id="f-summary"))
        yield from self._field("concern_at", "When the concern arose", required=True,
                               widget=SafeInput(placeholder="e.g. today 14:30, yesterday, 28/11/2026 09:15",
                                                id="f-concern_at", select_on_focus=True))
        yield Static("", id="hint-concern_at", classes="hint")
        yield from self._field("category", "Category", widget=SafeSelect(_options(CATEGORIES), allow_blank=False,
                                                                      id="f-category", compact=True))
        yield from self._field("scope", "Scope", widget=SafeSelect(_options(SCOPES), allow_blank=False, id="f-scope",
                                                                compact=True))
        yield from self._field("status", "Status", widget=SafeSelect(_options(STATUSES), allow_blank=False,
                                                                  id="f-status", compact=True))
        yield from self._text_area("details")
        # Everything below "What happened" arrives after the first frame, between the DSL's keys (see
        # LaterFields): a DSL reads the top of the form first, and the screen appears sooner. It fills itself
        # from the incident when it is whole.
        yield LaterFields([self._pupils, self._referral, self._referrals_and_parents, self._notes,
                           self._decisions_and_outcome])

    def tab_stays_above(self, focused: Widget | None, forward: bool) -> bool:
        """A tab (or shift+tab) from `focused` stays in the form's upper part: it needs no lower form."""
        if focused is None or self not in focused.ancestors or any(
                isinstance(node, LaterFields) for node in focused.ancestors):
            return False
        return not forward or focused.id != "f-details"  # What happened is the upper part's last field

    async def complete(self) -> None:
        """The lower form, whole now (a key that needs it waits for this; see KentsafeApp)."""
        for rest in self.query(LaterFields):
            await rest.complete()

    def _pupils(self) -> ComposeResult:
        yield from self._list_section("pupils", "Pupils named", "Add a pupil")

    def _referral(self) -> ComposeResult:
        yield Label("Refer at once if any answer is yes", id="referral-check-title", classes="section-title")
        yield Static("", id="refer-now", classes="refer-now")  # above the questions: seen as soon as one is yes
        yield Vertical(id="referral-check")
        yield from self._field("referral_decision", "Referral decision",
                               widget=SafeSelect(_options(REFERRAL_DECISIONS), allow_blank=False,
                                                 id="f-referral_decision"))
        yield from self._field("referral_rationale", "Reason for the decision (needed when not referring)",
                               widget=SafeTextArea(id="f-referral_rationale", classes="short"))

    def _referrals_and_parents(self) -> ComposeResult:
        yield from self._list_section("referrals", "Referrals and reports made", "Add a referral")
        yield from self._field("parents_informed", "Parents informed",
                               widget=SafeSelect(_options(PARENTS_INFORMED), allow_blank=False,
                                                 id="f-parents_informed"))
        yield from self._field("parents_note", "About informing parents (needed when not telling them)",
                               widget=SafeInput(id="f-parents_note"))

    def _notes(self) -> ComposeResult:
        yield from self._text_area("follow_up")
        yield from self._text_area("actions")

    def _decisions_and_outcome(self) -> ComposeResult:
        yield from self._list_section("decisions", "Decisions, each with its reason", "Add a decision")
        yield from self._text_area("outcome")
        yield from self._list_section("transfers", "File sent to another school", "Add a transfer")

    def _field(self, name: str, label: str, widget, required: bool = False) -> ComposeResult:
        text = Text(label)
        if required:
            text.append(" *", style="bold")
        yield Label(text, classes="field-label", id=f"l-{name}")
        yield widget
        yield Static("", id=f"e-{name}", classes="error")

    def _text_area(self, name: str) -> ComposeResult:
        label, hint = TEXT_AREAS[name]
        yield from self._field(name, label, widget=SafeTextArea(id=f"f-{name}", placeholder=hint))

    def _list_section(self, name: str, title: str, add: str) -> ComposeResult:
        yield Label(title, classes="section-title")
        yield Vertical(id=f"rows-{name}", classes="rows")
        yield Static("", id=f"e-{name}", classes="error")
        yield SafeButton(f"+ {add}", id=f"add-{name}", classes="add-row")
        # One line as a DSL would say it; what was understood shows below it before enter adds the row. After
        # the button, so enter on an empty line (or tab) goes on to the next part of the form.
        yield SafeInput(placeholder=f"Quick add: {EXAMPLES[name]}", id=f"quick-{name}", classes="quick")
        yield Static("", id=f"understood-{name}", classes="hint understood")

    # Showing an incident ---------------------------------------------------------------------------------
    def load(self, incident: Incident, saved_status: str | None = None, *, fresh: bool = True) -> None:
        """Show a record. `fresh` starts over (another incident, or a new one); otherwise only the widgets
        whose value differs change, so the cursor stays where the DSL is typing. `saved_status` is the status
        as saved, which sets where the status may go."""
        self._snapshot = copy.deepcopy(incident)
        self.saved_status = saved_status or incident.status
        self._status = incident.status
        if fresh:
            self.saved_note = ""
            self.typed_since_save = False
            self._unparsed.clear()
            self._unparsed_typed.clear()
            if self.rest_mounted:
                for name in list(self.quick_typed):
                    self._clear_quick(name)
        with self._walk(), self.prevent(Input.Changed, TextArea.Changed, Select.Changed):
            self._put_input("f-summary", incident.summary)
            self._put_date("f-concern_at", "concern_at", incident.concern_at, "moment")
            self._put_text("f-details", incident.details, fresh)
            self._set_status_choices()
            for name in ("category", "scope", "status"):
                self._put_select(f"f-{name}", getattr(incident, name))
            self._show_understood()
            if self.rest_mounted:
                self._fill_rest(fresh)
            self.show_errors({})
        self.refresh_heading(incident)
        if fresh:
            self.scroll_home(animate=False)

    @contextmanager
    def _walk(self) -> Iterator[_Walked]:
        """Within this, `_found` looks widgets up in what one walk of the form found. A query per field matched
        every widget against its selector: showing a saved record made twenty of them, 25 ms of the screen's
        time as the DSL typed on. Nothing is mounted or removed within (rows are rebuilt later)."""
        if self._walked is not None:  # (already within one)
            yield self._walked
            return
        self._walked = walked = _Walked(self)
        try:
            yield walked
        finally:
            self._walked = None

    def _found(self, ident: str, kind: type[_W]) -> list[_W]:
        """The widgets of this kind with this id (one, or none not mounted yet)."""
        if self._walked is None:
            return list(self.query(f"#{ident}").results(kind))
        return [widget for widget in self._walked.by_id.get(ident, ()) if isinstance(widget, kind)]

    def _row_count(self, name: str) -> int:
        return sum(1 for box in self._found(f"rows-{name}", Vertical) for row in box.children if row.has_class("row"))

    def _questions(self) -> list[Select]:
        """The referral check's questions, as they are on screen."""
        return [node for box in self._found("referral-check", Vertical) for node in box.walk_children(Select)]

    def _put_input(self, ident: str, value: str) -> None:
        for widget in self._found(ident, Input):
            if widget.value != value:
                widget.value = value

    def _put_text(self, ident: str, value: str, fresh: bool) -> None:
        for area in self._found(ident, TextArea):
            if fresh or area.text != value:
                area.load_text(value)
                if not fresh:
                    area.move_cursor(area.document.end)

    def _put_select(self, ident: str, value: Any) -> None:
        for select in self._found(ident, Select):
            if select.value != value:
                select.value = value

    def _put_date(self, ident: str, where: str, value: str, kind: str) -> None:
        """A date field keeps what the DSL typed while it means the stored date (or is still being fixed)."""
        if where in self._unparsed:
            return
        for widget in self._found(ident, Input):
            try:
                if _understand(widget.value, kind) == value:
                    continue
            except DateError:
                pass
            widget.value = _typed_date(value, kind)

    def _rest_arrived(self) -> None:
        self.rest_mounted = True
        self._fill_rest(True)
        self.post_message(self.Ready())

    def _fill_rest(self, fresh: bool) -> None:
        """Put the record into the fields below "What happened" (see LaterFields)."""
        incident = self._snapshot
        with self.prevent(Input.Changed, TextArea.Changed, Select.Changed):
            self._put_input("f-parents_note", incident.parents_note)
            for name in ("follow_up", "actions", "outcome", "referral_rationale"):
                self._put_text(f"f-{name}", getattr(incident, name), fresh)
            for name in ("referral_decision", "parents_informed"):
                self._put_select(f"f-{name}", getattr(incident, name))
        for name in ROW_KINDS:
            rows = copy.deepcopy(getattr(incident, name))
            if fresh or self._row_count(name) != len(rows):
                self.call_later(self._rebuild_rows, name, rows)
            else:
                self._refill_rows(name, rows)
        if fresh or incident.category != self._category:
            self.call_later(self._rebuild_referral_check, incident.category, dict(incident.referral_check))
        else:
            with self.prevent(Select.Changed):
                for question, answer in incident.referral_check.items():
                    self._put_select(f"q-{question}", answer)
                for select in self._questions():
                    if (select.id or "")[2:] not in incident.referral_check and select.value != Select.NULL:
                        select.clear()
            self._show_refer_now(incident.refer_now())

    def _refill_rows(self, name: str, rows: list[Any]) -> None:
        with self.prevent(Input.Changed, Select.Changed):
            for index, entry in enumerate(rows):
                if name == "decisions":  # stamped by the save: who decided, and when
                    for stamp in self._found(f"decisions-{index}-stamp", Static):
                        self._say(stamp, Text(_stamp(entry)))
                for key, value in vars(entry).items():
                    ident = f"{name}-{index}-{key}"
                    kind = DATE_FIELDS.get((name, key))
                    if kind:
                        self._put_date(ident, f"{name}.{index}.{key}", value, kind)
                    elif isinstance(value, str):
                        self._put_input(ident, value)
                        self._put_select(ident, value)

    def refresh_heading(self, incident: Incident | None = None, dirty: bool = False) -> None:
        incident = incident or self._snapshot
        wordings = [self._heading(incident, dirty), self._heading(incident, not dirty)]
        if not incident.id:
            # As tall as once it is saved, with its reference and who recorded it: the first save of a new
            # incident (typed on through) laid the screen out, and the key after it waited for that.
            now = self.clock()
            saved = Incident(id=f"{now:%Y}-00000", status=incident.status, created_by=self.recorder,
                             created_at=to_iso(now))
            wordings += [self._heading(saved, True), self._heading(saved, False)]
        self.query_one(FormHeading).say(*wordings)
        title = f"Incident {incident.id}" if incident.id else "New incident"
        # On the pane's border, seen wherever the form is scrolled to, and drawn without a layout; typing kept
        # unsaved through a save below (a notice of it laid the screen out: see EditingFlows._saving).
        saved = bool(self.saved_note and incident.id)
        kept = saved and dirty and self.typed_since_save
        self.border_title = title + (f" · {self.saved_note}" if saved and (kept or not dirty) else "")
        self.border_subtitle = "Typed during the save: not saved" if kept else ""

    def _heading(self, incident: Incident, dirty: bool) -> Text:
        heading = Text()
        heading.append(incident.id or "New incident (not saved yet)", style="bold")
        if incident.id:
            heading.append(f"  {STATUSES.get(incident.status, incident.status)}")
            heading.append(f"  recorded by {incident.created_by}, {describe(incident.created_at)}")
        if dirty:
            heading.append("  • unsaved changes (ctrl+s saves)", style="bold")
        elif self.welcome and not incident.id:
            heading.append("  " + self.welcome, style="italic")
        return heading

    def _say(self, widget: Static, content: Text | str) -> None:
        """Update a line of text only when it says something new: each update lays out the whole screen, and
        a save showing the record again updated some twenty of them with what they already said."""
        if self._said.get(widget) != content:
            self._said[widget] = content
            widget.update(content, layout=not self._fits(widget, content))

    def _fits(self, widget: Static, content: Text | str) -> bool:
        """The new text takes as many lines as the widget has now: it can be drawn without laying out the
        screen again (the first key typed marks the form unsaved, and that layout delayed its frame)."""
        width, height = widget.content_size
        if not width or not height or not widget.display:
            return False
        text = content if isinstance(content, Text) else Text(content)
        return len(text.wrap(self.app.console, width)) == height

    def _set_status_choices(self) -> None:
        allowed = {self.saved_status, *TRANSITIONS.get(self.saved_status, set())}
        choices = [(label, key) for key, label in STATUSES.items() if key in allowed]
        if choices != self._status_choices:  # set_options clears the value: only when the choices differ
            self._status_choices = choices
            self.query_one("#f-status", Select).set_options(choices)

    async def _rebuild_rows(self, name: str, rows: list[Any], focus_last: bool = False) -> None:
        if not self.rest_mounted:
            return  # filled when the lower part arrives
        async with self._rebuilding:
            container = self.query_one(f"#rows-{name}", Vertical)
            focused = self.screen.focused
            had_focus = focused is not None and container in focused.ancestors
            await container.remove_children()
            widgets = [self._row(name, index, entry) for index, entry in enumerate(rows)]
            if widgets:
                await container.mount_all(widgets)
            if focus_last and widgets:
                self.screen.set_focus(widgets[-1].query(Input).first())
            elif had_focus:
                self.screen.set_focus(self.query_one(f"#add-{name}", Button))

    def _row(self, name: str, index: int, entry: Any) -> Vertical:
        prefix = f"{name}-{index}"
        parts: list[Any] = []
        if name == "pupils":
            parts = [
                Horizontal(SafeInput(entry.name, placeholder="Name", id=f"{prefix}-name", classes="wide"),
                           SafeInput(entry.year_group, placeholder="Year", id=f"{prefix}-year_group", classes="narrow")),
                Horizontal(SafeSelect(_options(PUPIL_ROLES), value=entry.role, allow_blank=False, id=f"{prefix}-role",
                                  compact=True, classes="wide"),
                           SafeInput(self._shown_date(prefix, "date_of_birth", entry.date_of_birth, "day"),
                                     placeholder="Born (optional)",
                                     id=f"{prefix}-date_of_birth", classes="date", select_on_focus=True)),
            ]
        elif name == "referrals":
            parts = [
                Horizontal(SafeSelect(_options(AGENCIES), value=entry.agency, allow_blank=False, id=f"{prefix}-agency",
                                  compact=True, classes="wide"),
                           SafeInput(self._shown_date(prefix, "at", entry.at, "moment"), placeholder="When",
                                     id=f"{prefix}-at",
                                     classes="date", select_on_focus=True)),
                Horizontal(SafeInput(entry.reference, placeholder="Reference number", id=f"{prefix}-reference",
                                     classes="wide"),
                           SafeInput(entry.note, placeholder="Note", id=f"{prefix}-note", classes="wide")),
            ]
        elif name == "decisions":
            stamp = _stamp(entry)
            parts = [
                SafeInput(entry.decision, placeholder="What was decided", id=f"{prefix}-decision"),
                SafeInput(entry.reason, placeholder="Why", id=f"{prefix}-reason"),
                Static(Text(stamp), classes="hint", id=f"{prefix}-stamp"),
            ]
        elif name == "transfers":
            parts = [
                SafeInput(entry.sent_to, placeholder="Sent to (school or agency)", id=f"{prefix}-sent_to"),
                Horizontal(SafeInput(self._shown_date(prefix, "sent_at", entry.sent_at, "day"), placeholder="Sent on",
                                     id=f"{prefix}-sent_at",
                                     classes="date", select_on_focus=True),
                           SafeInput(self._shown_date(prefix, "acknowledged_at", entry.acknowledged_at, "day"),
                                     placeholder="Receipt confirmed on",
                                     id=f"{prefix}-acknowledged_at", classes="date", select_on_focus=True)),
                SafeInput(entry.note, placeholder="Note (how it was sent)", id=f"{prefix}-note"),
            ]
        title = Label(Text(f"{ROW_TITLES[name]} {index + 1}: {ROW_FIELDS[name]}"), classes="row-title")
        remove = SafeButton("✕ Remove", id=f"remove-{prefix}", classes="remove-row")
        return Vertical(Horizontal(title, remove, classes="row-head"), *parts, classes="row")

    def _shown_date(self, prefix: str, key: str, value: str, kind: str) -> str:
        """A row's date as the field shows it: what was typed, while that cannot be read yet."""
        path = prefix.replace("-", ".") + "." + key
        if path in self._unparsed:
            return self._unparsed_typed.get(path, "")
        return _typed_date(value, kind)

    async def _rebuild_referral_check(self, category: str, answers: dict[str, str]) -> None:
        if not self.rest_mounted:
            return  # filled when the lower part arrives
        async with self._rebuilding:
            self._category = category
            questions = self.library.questions_for(category)
            box = self.query_one("#referral-check", Vertical)
            await box.remove_children()
            self.query_one("#referral-check-title").display = bool(questions)
            widgets: list[Any] = []
            for number, question in enumerate(questions, 1):
                answer = answers.get(question.id, Select.NULL)
                # The whole question, wrapped: a DSL must read it before answering.
                widgets.append(Static(Text(f"{number}. {question.text}"), classes="question"))
                widgets.append(SafeSelect(_options(ANSWERS), value=answer, prompt="Not answered yet",
                                          id=f"q-{question.id}"))
            if widgets:
                with self.prevent(Select.Changed):
                    await box.mount_all(widgets)
            self._show_refer_now(any(answer == "yes" for answer in answers.values()))

    def _show_refer_now(self, refer: bool) -> None:
        if not self.rest_mounted:
            return
        banner = self.query_one("#refer-now", Static)
        if refer:
            self._say(banner, Text("REFER NOW: at least one answer is yes. Refer to the police or children's social "
                               "care today; call 999 if a child is in danger now. The referral is on the checklist."))
        if banner.display != refer:
            banner.display = refer

    def _show_understood(self) -> None:
        hint = self.query_one("#hint-concern_at", Static)
        if "concern_at" in self._unparsed:
            self._say(hint, "")
            return
        typed = self.query_one("#f-concern_at", Input).value
        try:
            understood = _understand(typed, "moment")
        except DateError:
            understood = ""
        note = clock_change_note(typed) if understood else None  # an hour the clocks skip or repeat
        self._say(hint, Text(f"Understood as {describe(understood)}" + (f". {note}" if note else "")) if understood else "")

    # Reacting to typing ------------------------------------------------------------------------------
    def _edited(self, path: str, value: Any) -> None:
        place = path.split(".")[0]
        error = self._error_line(place)  # what was wrong is being put right: the old message goes
        if error is not None and error.display and not any(key.split(".")[0] == place for key in self._unparsed):
            error.display = False
        self.post_message(self.Edited(path, value))

    def _error_line(self, place: str) -> Static | None:
        """The message line of a field or list, found once (a search of the form on every key cost more than
        the key's own work)."""
        line = self._error_lines.get(place)
        if line is None or not line.is_attached:
            line = next(iter(self.query(f"#e-{place}").results(Static)), None)
            if line is not None:
                self._error_lines[place] = line
        return line

    def _date_typed(self, path: str, typed: str, kind: str) -> None:
        try:
            value = _understand(typed, kind)
        except DateError as problem:
            self._unparsed[path] = str(problem)
            self._unparsed_typed[path] = typed
            return
        self._unparsed.pop(path, None)
        self._unparsed_typed.pop(path, None)
        self._edited(path, value)

    @on(Input.Changed)
    def _input_changed(self, event: Input.Changed) -> None:
        event.stop()
        ident = event.input.id or ""
        if ident.startswith("quick-"):
            self._show_quick(ident[6:], event.value)
        elif ident == "f-concern_at":
            self._date_typed("concern_at", event.value, "moment")
            self._show_understood()
        elif ident.startswith("f-"):
            self._edited(ident[2:], event.value)
        elif match := ROW.match(ident):
            path = f"{match.group(1)}.{match.group(2)}.{match.group(3)}"
            kind = date_kind(ident)
            if kind:
                self._date_typed(path, event.value, kind)
            else:
                self._edited(path, event.value)

    @on(TextArea.Changed)
    def _text_changed(self, event: TextArea.Changed) -> None:
        event.stop()
        ident = event.text_area.id or ""
        if ident.startswith("f-"):
            self._edited(ident[2:], event.text_area.text)

    @on(TextArea.SelectionChanged)
    def _cursor_moved(self, event: TextArea.SelectionChanged) -> None:
        event.stop()
        if event.text_area.has_focus:
            self.call_after_refresh(self._follow_cursor, event.text_area)

    def _follow_cursor(self, area: TextArea, tries: int = 5) -> None:
        """Keep the line being typed on screen: a text area grows with its text, so the form must scroll."""
        if not area.is_attached or not area.has_focus:
            return
        row = area.cursor_screen_offset.y - self.content_region.y + int(self.scroll_offset.y)
        wanted = row - self.content_region.height + 1  # the smallest scroll that shows the row
        if wanted > self.max_scroll_y and tries:
            # The form's new height is not laid out yet: look again after the next refresh.
            self.call_after_refresh(self._follow_cursor, area, tries - 1)
            return
        self.scroll_to_region(Region(0, row, 1, 1), animate=False, immediate=True)

    @on(Select.Changed)
    def _select_changed(self, event: Select.Changed) -> None:
        event.stop()
        ident, value = event.select.id or "", event.value
        if ident == "f-status":
            if value != self._status and value is not Select.NULL:
                old = self._status
                with self.prevent(Select.Changed):
                    event.select.value = old  # the screen decides, then loads the form again
                self.post_message(self.StatusRequested(old, str(value)))
        elif ident.startswith("f-") and value is not Select.NULL:
            if ident == "f-category":
                self.call_later(self._rebuild_referral_check, str(value), self._answers())
            self._edited(ident[2:], value)
        elif ident.startswith("q-"):
            self._show_refer_now(any(answer == "yes" for answer in self._answers().values()))
            self._edited(f"referral_check.{ident[2:]}", None if value is Select.NULL else str(value))
        elif match := ROW.match(ident):
            self._edited(f"{match.group(1)}.{match.group(2)}.{match.group(3)}", str(value))

    def _answers(self) -> dict[str, str]:
        return {(select.id or "")[2:]: str(select.value) for select in self._questions()
                if select.value is not Select.NULL}

    def on_key(self, event) -> None:
        """y or n on a refer-at-once question answers it and moves on to the next: five questions, five keys."""
        focused = self.screen.focused
        if (isinstance(focused, Select) and (focused.id or "").startswith("q-") and not focused.expanded
                and event.character and event.character.lower() in ("y", "n")):
            event.stop()
            event.prevent_default()
            focused.value = "yes" if event.character.lower() == "y" else "no"
            self.screen.focus_next()

    @on(Button.Pressed)
    def _button(self, event: Button.Pressed) -> None:
        event.stop()
        ident = event.button.id or ""
        if ident.startswith("add-"):
            self.post_message(self.RowAdded(ident[4:]))
        elif ident.startswith("remove-"):
            match = ROW.match(ident[7:] + "-x")
            if match:
                name, index = match.group(1), int(match.group(2))
                detail = next((str(widget.value) for key in ("name", "sent_to", "decision", "agency")
                               for widget in self.query(f"#{name}-{index}-{key}").results(Input) if widget.value), "")
                label = f"{ROW_TITLES[name].lower()} {index + 1}" + (f" ({detail})" if detail else "")
                self.post_message(self.RemoveRequested(name, index, label))

    async def show_rows(self, name: str, rows: list[Any], focus: str = "add", removed: int | None = None) -> None:
        """Rows added or removed: rebuild that list from the record (copied), and put the cursor where the
        DSL goes next: the new row's first field ("last"), the quick line for the next one ("quick"), or the
        list's add button ("add"). A date typed in a row that could not be read stays as typed, with its
        message, in the row it was typed in (`removed` is the row taken out, if one was)."""
        if removed is not None:
            self._unparsed = _shift(self._unparsed, name, removed)
            self._unparsed_typed = _shift(self._unparsed_typed, name, removed)
        await self._rebuild_rows(name, copy.deepcopy(rows), focus_last=focus == "last")
        if focus == "quick":
            self.screen.set_focus(self.query_one(f"#quick-{name}", Input))
        elif focus == "add":
            self.screen.set_focus(self.query_one(f"#add-{name}", Button))

    # Quick entry ---------------------------------------------------------------------------------------
    def _show_quick(self, name: str, typed: str) -> Understood:
        found = understand(name, typed, self.clock())
        shown = self.query_one(f"#understood-{name}", Static)
        shown.update(Text(found.preview()))
        shown.set_class(bool(found.questions), "-questioned")
        shown.display = bool(typed.strip())
        self.quick_typed.discard(name) if not typed.strip() else self.quick_typed.add(name)
        self.post_message(self.QuickTyped())  # unsaved work: marked as such, and kept in the draft
        return found

    @on(Input.Submitted, ".quick")
    def _quick_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        name = (event.input.id or "")[6:]
        if not event.value.strip():
            self.screen.focus_next()  # enter on an empty line moves on, as tab does
            return
        found = self._show_quick(name, event.value)
        if found.ok:
            self._clear_quick(name)
            self.post_message(self.RowAdded(name, found.row))

    def _clear_quick(self, name: str) -> None:
        with self.prevent(Input.Changed):
            self.query_one(f"#quick-{name}", Input).value = ""
        self._show_quick(name, "")

    def quick_lines(self) -> dict[str, Understood]:
        """Quick-entry lines typed and not yet added (enter not pressed), as understood now."""
        if not self.rest_mounted:
            return {}
        with self._walk():  # (at every save)
            return {name: understand(name, line.value, self.clock()) for name in ROW_KINDS
                    for line in self._found(f"quick-{name}", Input) if line.value.strip()}

    def typed_lines(self) -> dict[str, str]:
        """The quick lines holding text, as typed (for the draft)."""
        if not self.rest_mounted:
            return {}
        with self._walk():  # (every second while typing, for the draft)
            return {name: line.value for name in ROW_KINDS for line in self._found(f"quick-{name}", Input)
                    if line.value.strip()}

    def put_lines(self, lines: dict[str, str]) -> None:
        """Quick lines back from a draft: shown as typed, with what they mean, for enter to add."""
        for name, typed in lines.items():
            for line in self.query(f"#quick-{name}").results(Input):
                line.value = typed

    def waiting_lines(self) -> dict[str, str]:
        """At a save: a message for each quick line typed and not yet added. The save waits for them: enter adds
        a line once its preview reads right (a line kept from a draft may mean another day now), ctrl+u clears it."""
        waiting = {}
        for name, found in self.quick_lines().items():
            typed = self.query_one(f"#quick-{name}", Input).value
            self._show_quick(name, typed)
            what = (" ".join(found.questions) if found.questions
                    else "press enter to add it (" + found.preview().removeprefix("Enter adds ") + ")")
            waiting[f"quick-{name}"] = f"Not added yet: {what}; or ctrl+u clears the line."
        return waiting

    def places(self) -> list[Place]:
        """Every place the finder can go to, rows and questions as they are on screen now."""
        rows: dict[str, list[str]] = {}
        for name, field in (("pupils", "name"), ("referrals", "agency"), ("decisions", "decision"),
                            ("transfers", "sent_to")):
            labels = rows[name] = []
            for index in range(len(self.query(f"#rows-{name} > .row"))):
                for widget in self.query(f"#{name}-{index}-{field}"):
                    value = widget.value if isinstance(widget, (Input, Select)) else ""
                    labels.append(AGENCIES.get(str(value), "") if name == "referrals" else str(value))
        questions = [((select.id or ""), self._question_text(select.id or ""))
                     for select in self.query("#referral-check Select")]
        return places(rows, questions, self.rest_mounted)

    def _question_text(self, ident: str) -> str:
        question = next((q for q in self.library.questions_for(self._category) if f"q-{q.id}" == ident), None)
        return question.text if question else ""

    def on_show(self) -> None:
        """Shown again at 80 columns (one pane at a time): the field with the cursor must be in view, and a
        scroll asked for while the form was hidden had nothing to measure."""
        focused = self.screen.focused
        if focused is not None and self in focused.ancestors:
            self.call_after_refresh(self.scroll_to_widget, focused, animate=False)

    def focus_summary(self) -> None:
        """F3 and a new incident: Summary, with the cursor after its text and nothing selected."""
        summary = self.query_one("#f-summary", Input)
        self.screen.set_focus(summary, scroll_visible=False)
        summary.cursor_position = len(summary.value)
        self.scroll_home(animate=False)

    # Problems ------------------------------------------------------------------------------------------
    def problems(self) -> dict[str, str]:
        """Dates typed that could not be understood: unsaved work, and saving waits until they are fixed."""
        return {_where(path): message for path, message in self._unparsed.items()}

    def show_errors(self, errors: dict[str, str]) -> None:
        """Put each message beside its field; list messages go under their list."""
        errors = {**errors, **self.problems()}
        by_place: dict[str, list[str]] = {}
        for where, message in errors.items():
            match = re.match(r"^(\w+)\[(\d+)\]\.(\w+)$", where)
            if match and match.group(1) in ROW_KINDS:
                place = match.group(1)
                label = f"{ROW_TITLES[place]} {int(match.group(2)) + 1}, {match.group(3).replace('_', ' ')}: "
                by_place.setdefault(place, []).append(label + message)
            else:
                place = where.split(".")[0].split("[")[0].removeprefix("quick-")
                if place == "checklist":
                    continue
                by_place.setdefault(place, []).append(message)
        with self._walk() as walked:
            lines = walked.errors
        known = {(widget.id or "")[2:] for widget in lines}
        for place in [p for p in by_place if p not in known]:  # nowhere better: show it at the top
            by_place.setdefault("summary", []).extend(by_place.pop(place))
        for widget in lines:
            messages = by_place.get((widget.id or "")[2:], [])
            if messages or widget.display:  # (setting display, even unchanged, lays out the screen again)
                self._say(widget, Text("\n".join(messages)))
                widget.display = bool(messages)

    def first_error_widget(self, errors: dict[str, str]):
        """The field to put the cursor in after a failed save (its message is scrolled into view with it)."""
        for where in errors:
            match = re.match(r"^(\w+)\[(\d+)\]\.(\w+)$", where)
            place = where.split(".")[0].split("[")[0]
            selectors = [f"#{match.group(1)}-{match.group(2)}-{match.group(3)}"] if match else []
            if place.startswith("quick-"):  # a quick line not added: the line itself, its question below it
                selectors, place = [f"#{place}"], place.removeprefix("quick-")
            for selector in [*selectors, f"#f-{place}", f"#add-{place}"]:
                found = self.query(selector)
                if found:
                    for message in self.query(f"#e-{place}"):
                        self.call_after_refresh(self.scroll_to_widget, message, animate=False)
                    return found.first()
        return None


def date_kind(ident: str) -> str | None:
    """"moment" or "day" for a date field's widget id, None for any other field."""
    if ident.startswith("f-"):
        return DATE_KINDS.get(ident[2:])
    match = ROW.match(ident)
    return DATE_FIELDS.get((match.group(1), match.group(3))) if match else None


def _shift(by_path: dict[str, str], name: str, removed: int) -> dict[str, str]:
    """Paths of one list after row `removed` has gone: its own dropped, the rows after it one up."""
    shifted = {}
    for path, value in by_path.items():
        parts = path.split(".")
        if parts[0] != name or len(parts) != 3:
            shifted[path] = value
        elif int(parts[1]) != removed:
            index = int(parts[1])
            shifted[f"{name}.{index - 1 if index > removed else index}.{parts[2]}"] = value
    return shifted


def _stamp(decision: Decision) -> str:
    return f"{decision.by}, {describe(decision.at)}" if decision.at else "stamped when saved"


def _where(path: str) -> str:
    """An edit path as the record's validation names the place: pupils.0.name -> pupils[0].name."""
    parts = path.split(".")
    return f"{parts[0]}[{parts[1]}].{parts[2]}" if len(parts) == 3 else path
