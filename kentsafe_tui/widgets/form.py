"""The incident form: every field of a record, in the order a DSL fills them in.

The form edits the `Incident` it is given and says so with `Changed`; it never saves. Dates are typed as
people say them and the form shows what it understood. Lists (pupils, referrals, decisions, transfers) grow
and shrink with their buttons. A change of status is not applied here: `StatusRequested` lets the screen ask
for the outcome before closing, or the reason before reopening.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.lazy import Lazy
from textual.message import Message
from textual.widgets import Button, Input, Label, Select, Static, TextArea

from ..content import Library
from ..dates import DateError, describe, from_iso, parse_date, parse_when, to_iso
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


def _options(vocabulary: dict[str, str]) -> list[tuple[str, str]]:
    return [(label, key) for key, label in vocabulary.items()]


def _typed_date(value: str, kind: str) -> str:
    """A stored date as the form shows it for editing: day first, as typed."""
    if not value:
        return ""
    try:
        if kind == "day":
            return parse_date(value).strftime("%d/%m/%Y")
        return from_iso(value).astimezone().strftime("%d/%m/%Y %H:%M")
    except (ValueError, DateError):
        return value


class LaterFields(Vertical):
    """The lower part of the form, mounted after the first frame (see IncidentForm.compose)."""

    DEFAULT_CSS = "LaterFields { height: auto; }"

    def __init__(self, compose_rest) -> None:
        super().__init__(id="form-rest")
        self._compose_rest = compose_rest

    def compose(self) -> ComposeResult:
        yield from self._compose_rest()

    def on_mount(self) -> None:
        form = next(node for node in self.ancestors if isinstance(node, IncidentForm))
        self.call_after_refresh(form._rest_arrived)


class IncidentForm(VerticalScroll):
    """See the module docstring."""

    BORDER_TITLE = "Incident"

    class Changed(Message):
        def __init__(self, field: str) -> None:
            super().__init__()
            self.field = field

    class StatusRequested(Message):
        def __init__(self, old: str, new: str) -> None:
            super().__init__()
            self.old, self.new = old, new

    class PlaybookChanged(Message):
        """Category, scope or a referral answer changed: the checklist should follow."""

    class Ready(Message):
        """The whole form is on screen, its lower part included."""

    class RemoveRequested(Message):
        """A row's Remove button: the screen asks first, then calls remove_row."""

        def __init__(self, name: str, index: int, label: str) -> None:
            super().__init__()
            self.name, self.index, self.label = name, index, label

    def __init__(self, library: Library, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.library = library
        self.incident = Incident()
        self.saved_status = "open"
        self._unparsed: dict[str, str] = {}
        self._loading = False
        self.rest_mounted = False  # the fields below "What happened" arrive just after the first frame
        # Lists are rebuilt by removing their rows and mounting new ones with the same ids: one at a time,
        # each removal finished before the next mount, or Textual sees two widgets with one id.
        self._rebuilding = asyncio.Lock()

    # Layout --------------------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Static(Text("⚠ " + IMAGERY_RULE), id="imagery-banner", classes="banner")
        yield Static("", id="form-heading")
        yield from self._field("summary", "Summary", required=True,
                               widget=SafeInput(placeholder="One line: what is the concern?", id="f-summary"))
        yield from self._field("concern_at", "When the concern arose", required=True,
                               widget=SafeInput(placeholder="e.g. today 14:30, yesterday, 28/11/2026 09:15",
                                                id="f-concern_at"))
        yield Static("", id="hint-concern_at", classes="hint")
        yield from self._field("category", "Category", widget=SafeSelect(_options(CATEGORIES), allow_blank=False,
                                                                      id="f-category", compact=True))
        yield from self._field("scope", "Scope", widget=SafeSelect(_options(SCOPES), allow_blank=False, id="f-scope",
                                                                compact=True))
        yield from self._field("status", "Status", widget=SafeSelect(_options(STATUSES), allow_blank=False,
                                                                  id="f-status", compact=True))
        yield from self._text_area("details")
        # Everything below "What happened" is mounted just after the first frame: a DSL reads the top of the
        # form first, and the screen appears sooner. It fills itself from the incident when it arrives.
        yield Lazy(LaterFields(self._compose_rest))

    def _compose_rest(self) -> ComposeResult:
        yield from self._list_section("pupils", "Pupils named", "Add a pupil")
        yield Label("Refer at once if any answer is yes", id="referral-check-title", classes="section-title")
        yield Static("", id="refer-now", classes="refer-now")  # above the questions: seen as soon as one is yes
        yield Vertical(id="referral-check")
        yield from self._field("referral_decision", "Referral decision",
                               widget=SafeSelect(_options(REFERRAL_DECISIONS), allow_blank=False,
                                                 id="f-referral_decision"))
        yield from self._field("referral_rationale", "Reason for the decision (needed when not referring)",
                               widget=SafeTextArea(id="f-referral_rationale", classes="short"))
        yield from self._list_section("referrals", "Referrals and reports made", "Add a referral")
        yield from self._field("parents_informed", "Parents informed",
                               widget=SafeSelect(_options(PARENTS_INFORMED), allow_blank=False,
                                                 id="f-parents_informed"))
        yield from self._field("parents_note", "About informing parents (needed when not telling them)",
                               widget=SafeInput(id="f-parents_note"))
        yield from self._text_area("follow_up")
        yield from self._text_area("actions")
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

    # Showing an incident ---------------------------------------------------------------------------------
    def load(self, incident: Incident, saved_status: str | None = None) -> None:
        """Show an incident for editing. `saved_status` is its status as saved, which sets where it may go."""
        self.incident = incident
        self.saved_status = saved_status or incident.status
        self._unparsed.clear()
        self._loading = True
        try:
            with self.prevent(Input.Changed, TextArea.Changed, Select.Changed):
                self.query_one("#f-summary", Input).value = incident.summary
                self.query_one("#f-concern_at", Input).value = _typed_date(incident.concern_at, "moment")
                self.query_one("#f-details", TextArea).load_text(incident.details)
                self._set_status_choices()
                for name in ("category", "scope", "status"):
                    self.query_one(f"#f-{name}", Select).value = getattr(incident, name)
        finally:
            self._loading = False
        self._show_understood()
        if self.rest_mounted:
            self._fill_rest()
        self.show_errors({})
        self.refresh_heading()
        self.scroll_home(animate=False)

    def _rest_arrived(self) -> None:
        self.rest_mounted = True
        self._fill_rest()
        self.post_message(self.Ready())

    def _fill_rest(self) -> None:
        """Put the incident into the fields below "What happened" (see LaterFields)."""
        incident = self.incident
        self._loading = True
        try:
            with self.prevent(Input.Changed, TextArea.Changed, Select.Changed):
                self.query_one("#f-parents_note", Input).value = incident.parents_note
                for name in ("follow_up", "actions", "outcome", "referral_rationale"):
                    self.query_one(f"#f-{name}", TextArea).load_text(getattr(incident, name))
                for name in ("referral_decision", "parents_informed"):
                    self.query_one(f"#f-{name}", Select).value = getattr(incident, name)
        finally:
            self._loading = False
        for name in ROW_KINDS:
            self.call_later(self._rebuild_rows, name)
        self.call_later(self._rebuild_referral_check)

    def refresh_heading(self, dirty: bool = False) -> None:
        incident = self.incident
        heading = Text()
        heading.append(incident.id or "New incident (not saved yet)", style="bold")
        if incident.id:
            heading.append(f"  {STATUSES.get(incident.status, incident.status)}")
            heading.append(f"  recorded by {incident.created_by}, {describe(incident.created_at)}")
        if dirty:
            heading.append("  • unsaved changes (ctrl+s saves)", style="bold")
        self.query_one("#form-heading", Static).update(heading)
        self.border_title = f"Incident {incident.id}" if incident.id else "New incident"

    def _set_status_choices(self) -> None:
        allowed = {self.saved_status, *TRANSITIONS.get(self.saved_status, set())}
        choices = [(label, key) for key, label in STATUSES.items() if key in allowed]
        self.query_one("#f-status", Select).set_options(choices)

    def set_status(self, status: str) -> None:
        """Apply a status the screen has agreed to (after asking for an outcome or reason)."""
        self.incident.status = status
        with self.prevent(Select.Changed):
            self.query_one("#f-status", Select).value = status
        self.post_message(self.Changed("status"))

    def set_text(self, name: str, value: str) -> None:
        setattr(self.incident, name, value)
        with self.prevent(TextArea.Changed):
            for area in self.query(f"#f-{name}").results(TextArea):  # not there yet: filled when it mounts
                area.load_text(value)
        self.post_message(self.Changed(name))

    async def _rebuild_rows(self, name: str, focus_last: bool = False) -> None:
        if not self.rest_mounted:
            return  # filled when the lower part arrives
        async with self._rebuilding:
            container = self.query_one(f"#rows-{name}", Vertical)
            await container.remove_children()
            rows = [self._row(name, index, entry) for index, entry in enumerate(getattr(self.incident, name))]
            if rows:
                await container.mount_all(rows)
            if focus_last and rows:
                rows[-1].query(Input).first().focus()

    def _row(self, name: str, index: int, entry: Any) -> Vertical:
        prefix = f"{name}-{index}"
        parts: list[Any] = []
        if name == "pupils":
            parts = [
                Horizontal(SafeInput(entry.name, placeholder="Name", id=f"{prefix}-name", classes="wide"),
                           SafeInput(entry.year_group, placeholder="Year", id=f"{prefix}-year_group", classes="narrow")),
                Horizontal(SafeSelect(_options(PUPIL_ROLES), value=entry.role, allow_blank=False, id=f"{prefix}-role",
                                  compact=True, classes="wide"),
                           SafeInput(_typed_date(entry.date_of_birth, "day"), placeholder="Born (optional)",
                                     id=f"{prefix}-date_of_birth", classes="date")),
            ]
        elif name == "referrals":
            parts = [
                Horizontal(SafeSelect(_options(AGENCIES), value=entry.agency, allow_blank=False, id=f"{prefix}-agency",
                                  compact=True, classes="wide"),
                           SafeInput(_typed_date(entry.at, "moment"), placeholder="When", id=f"{prefix}-at",
                                     classes="date")),
                Horizontal(SafeInput(entry.reference, placeholder="Reference number", id=f"{prefix}-reference",
                                     classes="wide"),
                           SafeInput(entry.note, placeholder="Note", id=f"{prefix}-note", classes="wide")),
            ]
        elif name == "decisions":
            stamp = f"{entry.by}, {describe(entry.at)}" if entry.at else "stamped when saved"
            parts = [
                SafeInput(entry.decision, placeholder="What was decided", id=f"{prefix}-decision"),
                SafeInput(entry.reason, placeholder="Why", id=f"{prefix}-reason"),
                Static(Text(stamp), classes="hint"),
            ]
        elif name == "transfers":
            parts = [
                SafeInput(entry.sent_to, placeholder="Sent to (school or agency)", id=f"{prefix}-sent_to"),
                Horizontal(SafeInput(_typed_date(entry.sent_at, "day"), placeholder="Sent on", id=f"{prefix}-sent_at",
                                     classes="date"),
                           SafeInput(_typed_date(entry.acknowledged_at, "day"), placeholder="Receipt confirmed on",
                                     id=f"{prefix}-acknowledged_at", classes="date")),
                SafeInput(entry.note, placeholder="Note (how it was sent)", id=f"{prefix}-note"),
            ]
        title = Label(Text(f"{ROW_TITLES[name]} {index + 1}: {ROW_FIELDS[name]}"), classes="row-title")
        remove = SafeButton("✕ Remove", id=f"remove-{prefix}", classes="remove-row")
        return Vertical(Horizontal(title, remove, classes="row-head"), *parts, classes="row")

    async def _rebuild_referral_check(self) -> None:
        if not self.rest_mounted:
            return  # filled when the lower part arrives
        async with self._rebuilding:
            questions = self.library.questions_for(self.incident.category)
            box = self.query_one("#referral-check", Vertical)
            await box.remove_children()
            self.query_one("#referral-check-title").display = bool(questions)
            widgets: list[Any] = []
            for question in questions:
                answer = self.incident.referral_check.get(question.id, Select.NULL)
                widgets.append(Label(Text(question.text), classes="question"))
                widgets.append(SafeSelect(_options(ANSWERS), value=answer, prompt="Not answered yet",
                                          id=f"q-{question.id}"))
            if widgets:
                with self.prevent(Select.Changed):
                    await box.mount_all(widgets)
            self._show_refer_now()

    def _show_refer_now(self) -> None:
        if not self.rest_mounted:
            return
        banner = self.query_one("#refer-now", Static)
        if self.incident.refer_now():
            banner.update(Text("REFER NOW: at least one answer is yes. Refer to the police or children's social "
                               "care today; call 999 if a child is in danger now. The referral is on the checklist."))
            banner.display = True
        else:
            banner.display = False

    def _show_understood(self) -> None:
        hint = self.query_one("#hint-concern_at", Static)
        if "concern_at" in self._unparsed:
            hint.update("")
        elif self.incident.concern_at:
            hint.update(Text(f"Understood as {describe(self.incident.concern_at)}"))

    # Reacting to typing ------------------------------------------------------------------------------
    def _changed(self, name: str) -> None:
        if not self._loading:
            for error in self.query(f"#e-{name}"):  # what was wrong is being put right: the old message goes
                if error.display and name not in self._unparsed:
                    error.display = False
            self.post_message(self.Changed(name))

    @on(Input.Changed)
    def _input_changed(self, event: Input.Changed) -> None:
        event.stop()
        ident = event.input.id or ""
        if ident == "f-concern_at":
            self._set_date("concern_at", event.value, "moment", lambda iso: setattr(self.incident, "concern_at", iso))
            self._show_understood()
            self._changed("concern_at")
        elif ident.startswith("f-"):
            setattr(self.incident, ident[2:], event.value)
            self._changed(ident[2:])
        elif match := ROW.match(ident):
            self._row_value(match.group(1), int(match.group(2)), match.group(3), event.value)

    @on(TextArea.Changed)
    def _text_changed(self, event: TextArea.Changed) -> None:
        event.stop()
        ident = event.text_area.id or ""
        if ident.startswith("f-"):
            setattr(self.incident, ident[2:], event.text_area.text)
            self._changed(ident[2:])

    @on(Select.Changed)
    def _select_changed(self, event: Select.Changed) -> None:
        event.stop()
        if self._loading:
            return
        ident, value = event.select.id or "", event.value
        if ident == "f-status":
            if value != self.incident.status and value is not Select.NULL:
                old = self.incident.status
                with self.prevent(Select.Changed):
                    event.select.value = old  # the screen decides, then calls set_status
                self.post_message(self.StatusRequested(old, str(value)))
        elif ident.startswith("f-") and value is not Select.NULL:
            setattr(self.incident, ident[2:], value)
            if ident in ("f-category", "f-scope"):
                if ident == "f-category":
                    self.call_later(self._rebuild_referral_check)
                self.post_message(self.PlaybookChanged())
            self._changed(ident[2:])
        elif ident.startswith("q-"):
            question = ident[2:]
            if value is Select.NULL:
                self.incident.referral_check.pop(question, None)
            else:
                self.incident.referral_check[question] = str(value)
            self._show_refer_now()
            self.post_message(self.PlaybookChanged())
            self._changed("referral_check")
        elif match := ROW.match(ident):
            self._row_value(match.group(1), int(match.group(2)), match.group(3), str(value))

    def _row_value(self, name: str, index: int, key: str, value: str) -> None:
        rows = getattr(self.incident, name)
        if index >= len(rows):
            return
        kind = DATE_FIELDS.get((name, key))
        if kind:
            self._set_date(f"{name}[{index}].{key}", value, kind, lambda iso: setattr(rows[index], key, iso))
        else:
            setattr(rows[index], key, value)
        self._changed(name)

    def _set_date(self, where: str, typed: str, kind: str, store) -> None:
        if not typed.strip():
            self._unparsed.pop(where, None)
            store("")
            return
        try:
            if kind == "day":
                store(parse_date(typed).isoformat())
            else:
                store(to_iso(parse_when(typed)))
            self._unparsed.pop(where, None)
        except DateError as problem:
            self._unparsed[where] = str(problem)

    @on(Button.Pressed)
    async def _button(self, event: Button.Pressed) -> None:
        event.stop()
        ident = event.button.id or ""
        if ident.startswith("add-"):
            name = ident[4:]
            getattr(self.incident, name).append(ROW_KINDS[name]())
            self._changed(name)
            await self._rebuild_rows(name, focus_last=True)
        elif ident.startswith("remove-"):
            match = ROW.match(ident[7:] + "-x")
            if match:
                name, index = match.group(1), int(match.group(2))
                rows = getattr(self.incident, name)
                if index < len(rows):
                    entry = rows[index]
                    detail = next((str(getattr(entry, f)) for f in ("name", "sent_to", "decision", "agency")
                                   if getattr(entry, f, "")), "")
                    label = f"{ROW_TITLES[name].lower()} {index + 1}" + (f" ({detail})" if detail else "")
                    self.post_message(self.RemoveRequested(name, index, label))

    async def remove_row(self, name: str, index: int) -> None:
        rows = getattr(self.incident, name)
        if index < len(rows):
            del rows[index]
            self._unparsed = {k: v for k, v in self._unparsed.items() if not k.startswith(f"{name}[")}
            self._changed(name)
            await self._rebuild_rows(name)
            self.query_one(f"#add-{name}", Button).focus()

    # Problems ------------------------------------------------------------------------------------------
    def problems(self) -> dict[str, str]:
        """Dates typed that could not be understood: saving waits until they are fixed."""
        return dict(self._unparsed)

    def show_errors(self, errors: dict[str, str]) -> None:
        """Put each message beside its field; list messages go under their list."""
        errors = {**errors, **self._unparsed}
        by_place: dict[str, list[str]] = {}
        for where, message in errors.items():
            match = re.match(r"^(\w+)\[(\d+)\]\.(\w+)$", where)
            if match and match.group(1) in ROW_KINDS:
                place = match.group(1)
                label = f"{ROW_TITLES[place]} {int(match.group(2)) + 1}, {match.group(3).replace('_', ' ')}: "
                by_place.setdefault(place, []).append(label + message)
            else:
                place = where.split(".")[0].split("[")[0]
                if place == "checklist":
                    continue
                by_place.setdefault(place, []).append(message)
        known = {(widget.id or "")[2:] for widget in self.query(".error")}
        for place in [p for p in by_place if p not in known]:  # nowhere better: show it at the top
            by_place.setdefault("summary", []).extend(by_place.pop(place))
        for widget in self.query(".error"):
            messages = by_place.get((widget.id or "")[2:], [])
            widget.update(Text("\n".join(messages)))
            widget.display = bool(messages)

    def first_error_widget(self, errors: dict[str, str]):
        """The field to put the cursor in after a failed save (its message is scrolled into view with it)."""
        for where in errors:
            place = where.split(".")[0].split("[")[0]
            for selector in (f"#f-{place}", f"#add-{place}"):
                found = self.query(selector)
                if found:
                    for message in self.query(f"#e-{place}"):
                        self.call_after_refresh(self.scroll_to_widget, message, animate=False)
                    return found.first()
        return None

