"""The screen a DSL lives in: guidance, incident form and checklist side by side.

At 120 columns or more the three panes stand side by side; narrower terminals show one pane at a time
with a tab line, so nothing is cut off at 80x24. The screen owns the keys and decides what each message from
its widgets means: saving, conflicts, drafts, the lifecycle prompts.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Footer, Input, Static, TextArea

from ..content import Library
from ..dates import describe, now_local
from ..drafts import Draft, Drafts
from ..editing import EditSession, PendingItem
from ..fileio import WriteFailed, atomic_write, ensure_folder, mode_for
from ..model import Decision, ValidationError
from ..store import ConflictError, NotFound, Store, StoreError
from ..widgets.checklist import ChecklistView
from ..widgets.form import IncidentForm
from ..widgets.guidance import GuidancePane
from .dialogs import AskTextDialog, ChoiceDialog, ConflictDialog, SettingsDialog, TextViewDialog

PANES = {"guidance": "F2 Guidance", "form": "F3 Incident", "checklist": "F4 Checklist"}
DRAFT_EVERY = 1.0  # seconds between draft writes while typing


@dataclass
class Context:
    """What the app was started with. Plain data, built by the command line."""

    store: Store
    library: Library
    drafts: Drafts
    demo: bool = False
    today: date = field(default_factory=lambda: now_local().date())

    @property
    def db_path(self) -> Path:
        return self.store.path

    @property
    def exports_folder(self) -> Path:
        return self.store.path.parent / "exports"

    def where(self) -> list[tuple[str, str]]:
        folders = [str(folder) for folder in self.library.folders]
        return [
            ("Database", str(self.db_path) + ("  (DEMO: temporary, fictional, deleted on exit)" if self.demo else "")),
            ("Lock file", str(self.db_path) + ".lock"),
            ("Drafts", f"{self.db_path.parent}/.{self.db_path.name}.draft-*.json (unsaved typing, same permissions)"),
            ("Exports", str(self.exports_folder)),
            ("Guidance", " then ".join(folders)),
            ("Acting as", self.store.user + (f" (login {self.store.login})" if self.store.login else "")),
        ]


class MainScreen(Screen):
    # No automatic focus: None would mean the App's "*" (the guidance, the first focusable widget), and a
    # selector is focused before layout settles, scrolling the form. on_mount puts the cursor in Summary.
    AUTO_FOCUS = ""
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (120, "-wide")]

    BINDINGS = [
        Binding("ctrl+n,alt+n", "new", "New", id="main.new", tooltip="Start a new incident"),
        Binding("ctrl+s,alt+s", "save", "Save", id="main.save", tooltip="Save the incident being edited",
                priority=True),
        Binding("ctrl+o,alt+o", "open_list", "Open", id="main.open", tooltip="Find and open an incident"),
        Binding("f2,alt+1", "focus_pane('guidance')", "Guidance", id="main.guidance", show=False),
        Binding("f3,alt+2", "focus_pane('form')", "Form", id="main.form", show=False),
        Binding("f4,alt+3", "focus_pane('checklist')", "Checklist", id="main.checklist", show=False),
        Binding("f5,alt+r", "record_keeping", "Record keeping", id="main.record_keeping", show=False),
        Binding("f6,alt+v", "oversight", "Oversight", id="main.oversight", show=False),
        Binding("f7,alt+e", "export", "Export", id="main.export", show=False),
        Binding("f8,alt+l", "letter", "Letter", id="main.letter", show=False),
    ]

    def __init__(self, context: Context) -> None:
        super().__init__()
        self.context = context
        self.session = EditSession(context.store)
        self._draft_due = False
        self._offering = False
        self._declined: set[Path] = set()
        self._noticed: set[Path] = set()
        self._shown: tuple = ()  # what the heading and tab line last showed: redrawn only when it changes
        self._tabs_shown = Text()
        self._when_complete: list[Callable[[], object]] = []

    # Layout --------------------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        # The breakpoint class Textual would add at the first resize, added now: restyling every widget
        # again when it arrives was a fifth of the time to the first frame.
        wide = self.app.size.width >= self.HORIZONTAL_BREAKPOINTS[1][0]
        self.set_class(wide, "-wide")
        self.set_class(not wide, "-narrow")
        yield Static(self._top_line(), id="top-bar")
        yield Static("", id="tabs")
        with Horizontal(id="panes"):
            yield GuidancePane(self.context.library, self.context.today, id="guidance", classes="pane")
            yield IncidentForm(self.context.library, id="form", classes="pane -active")
            yield ChecklistView(id="checklist", classes="pane")
        yield Footer(compact=True)

    def _top_line(self) -> Text:
        text = Text()
        if self.context.demo:
            text.append(" DEMO: fictional records ", style="bold reverse")
            text.append(" ")
        text.append("kentsafe", style="bold")
        # The path goes last: at 80 columns it is what gets shortened, not who you are or where help is.
        text.append(f"  {self.context.store.user}  ·  F1 help  ·  {self.context.db_path}")
        return text

    @property
    def form(self) -> IncidentForm:
        return self.query_one(IncidentForm)

    @property
    def checklist(self) -> ChecklistView:
        return self.query_one(ChecklistView)

    @property
    def guidance(self) -> GuidancePane:
        return self.query_one(GuidancePane)

    def on_mount(self) -> None:
        self._show_session()
        # Focused now, not after the first frame: keys typed as soon as the form appears must land in it.
        self.set_focus(self.form.query_one("#f-summary"), scroll_visible=False)
        self.set_interval(DRAFT_EVERY, self._write_draft_if_due)
        # The records are read once the whole screen is up (see _form_ready).
        self.call_after_refresh(self._check_drafts, True)
        self.set_interval(5, self._check_drafts)

    def on_key(self, event: events.Key) -> None:
        # Keys typed while kentsafe starts (type-ahead) are queued for the screen before anything has the
        # focus, and reach it here. A text field stops every printable key it takes, so a printable key that
        # gets this far belongs in the field with the focus, or in Summary: otherwise it would vanish.
        if not event.is_printable:
            return
        target = self.focused
        if target is None:
            target = self.form.query_one("#f-summary")
            self.set_focus(target, scroll_visible=False)
        elif not isinstance(target, (Input, TextArea)):
            return
        event.stop()
        target._forward_event(events.Key(event.key, event.character))

    @on(IncidentForm.Ready)
    def _form_ready(self) -> None:
        # Parsing holds Python's lock, so a thread alone would still delay the first frame: the read starts
        # when the screen is complete, which also means a damaged file is reported on a settled screen.
        self.run_worker(self._read_records, thread=True, exclusive=True, group="read")
        self._call_waiting()

    def when_complete(self, callback: Callable[[], object]) -> None:
        """Call back once the lower form has arrived (at once if it has). Leaving while Textual is still
        mounting it fails inside Textual, so a ctrl+q pressed in the first instant waits that long."""
        forms = self.query(IncidentForm)
        if forms and not forms.first().rest_mounted:
            self._when_complete.append(callback)
            self.set_timer(2, self._call_waiting)  # a quit must never wait for ever
        else:
            callback()

    def _call_waiting(self) -> None:
        waiting, self._when_complete = self._when_complete, []
        for callback in waiting:
            callback()

    def _read_records(self) -> None:
        """Read the database in the background, so a large one does not hold back the first frame. The
        store's lock makes anything that needs the records wait for this read."""
        try:
            # issue 12 (perf): parses one record at a time, so the screen keeps answering keys meanwhile, and
            # makes the list's summaries and search text here rather than at the first ctrl+o or filter key.
            self.context.store.load(search=True)
        except StoreError as problem:
            self.app.call_from_thread(self.app.quit_with_error, str(problem))

    # Showing the session -------------------------------------------------------------------------------
    def _show_session(self) -> None:
        self._shown = ()
        session = self.session
        self.form.load(session.edited, session.base.status if session.base else None)
        self._show_checklist()
        self._show_playbook()
        self._mark_dirty()
        self.refresh_bindings()  # export becomes possible once saved

    def _show_checklist(self) -> None:
        self.checklist.show(self.session.edited.checklist, self.session.pending_items())
        self._update_tabs()

    def _show_playbook(self) -> None:
        incident = self.session.edited
        playbooks = self.context.library.playbooks(incident.category, incident.scope)
        branch = next((doc for doc in reversed(playbooks)), None)
        if branch is not None:
            self.guidance.show(branch.slug)

    def _mark_dirty(self) -> None:
        # Updating a Static re-lays out the screen, so only when what it shows has changed (not every key).
        dirty = self.session.dirty
        shown = (dirty, self.session.edited.id, self.session.edited.status, self.session.edited.checklist_progress())
        if shown != self._shown:
            self._shown = shown
            self.form.refresh_heading(dirty=dirty)
            self._update_tabs()

    def _update_tabs(self) -> None:
        focused = self.focused
        active = next((pane for pane in PANES if focused is not None and self._inside(focused, pane)), None)
        if active is not None:
            for pane in PANES:
                self.query_one(f"#{pane}").set_class(pane == active, "-active")
        text = Text()
        current = active or next((p for p in PANES if self.query_one(f"#{p}").has_class("-active")), "form")
        for pane, label in PANES.items():
            if pane == "checklist":
                done, total = self.session.edited.checklist_progress()
                label += f" {done}/{total}"
            text.append(f" {label} ", style="bold reverse" if pane == current else "")
            text.append(" ")
        if self.session.dirty:
            text.append(" • unsaved", style="bold")
        if text != self._tabs_shown:  # one line high: redraw it, but only when it says something new
            self._tabs_shown = text
            self.query_one("#tabs", Static).update(text, layout=False)

    def _inside(self, widget, pane: str) -> bool:
        return widget is not None and any(node.id == pane for node in widget.ancestors_with_self)

    def on_descendant_focus(self) -> None:
        self._update_tabs()

    # Keys ----------------------------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """A report is made from the saved record: greyed out (None) until the incident has been saved."""
        if action == "export" and self.session.is_new:
            return None
        return True

    def action_focus_pane(self, pane: str) -> None:
        for name in PANES:
            self.query_one(f"#{name}").set_class(name == pane, "-active")
        target = self.query_one(f"#{pane}")
        if pane == "form":
            focus = self.form.query_one("#f-summary") if not self._inside(self.focused, "form") else self.focused
            self.call_after_refresh(focus.focus)
        else:
            self.call_after_refresh(target.focus)
        self._update_tabs()

    def action_new(self) -> None:
        self._then_if_clean(self._start_new, "start a new incident")

    def _start_new(self) -> None:
        self.session.new()
        self._show_session()
        self.action_focus_pane("form")
        self.call_after_refresh(self.form.query_one("#f-summary").focus)

    def action_open_list(self) -> None:
        from .incident_list import IncidentListScreen

        self._then_if_clean(lambda: self.app.push_screen(IncidentListScreen(self.context.store), self._open),
                            "open another incident")

    def _open(self, incident_id: str | None) -> None:
        if not incident_id:
            return
        try:
            self.session.open(incident_id)
        except (NotFound, StoreError) as problem:
            self._error(str(problem))
            return
        self.context.drafts.clear()
        self._show_session()
        self.action_focus_pane("form")

    def action_save(self) -> None:
        self._save(amend=False)

    def _save(self, amend: bool, after=None) -> bool:
        form = self.form
        unparsed = form.problems()
        if unparsed:
            form.show_errors({})
            self._focus_error(unparsed)
            self._warn(f"Not saved: {len(unparsed)} date(s) not understood; see the message beside the field.")
            return False
        for index, decision in enumerate(self.session.edited.decisions):
            if decision.decision.strip() or decision.reason.strip():
                self.session.stamp_decision(index)
        try:
            saved = self.session.save(amend=amend)
        except ValidationError as problem:
            form.show_errors(problem.errors)
            self._focus_error(problem.errors)
            count = len(problem.errors)
            self._warn(f"Not saved: {count} thing(s) to put right; each is shown beside its field.")
            return False
        except ConflictError as conflict:
            self.app.push_screen(ConflictDialog(conflict, self.session.changes()),
                                 lambda choice: self._resolve_conflict(choice, after))
            return False
        except StoreError as problem:
            self._error(f"Not saved: {problem}")
            return False
        self.context.drafts.clear()
        self._draft_due = False
        self._show_session()
        self.notify(f"Saved {saved.id}.", markup=False, timeout=3)
        if after:
            after()
        return True

    def _resolve_conflict(self, choice: str | None, after=None) -> None:
        if choice == "amend":
            self._save(amend=True, after=after)
        elif choice == "reload":
            self.session.reload()
            self.context.drafts.clear()
            self._show_session()
            self.notify("Reloaded their version; your changes were dropped.", markup=False)

    def _focus_error(self, errors: dict[str, str]) -> None:
        widget = self.form.first_error_widget(errors)
        if widget is not None:
            self.action_focus_pane("form")
            self.call_after_refresh(widget.focus)

    def action_record_keeping(self) -> None:
        if self.guidance.show("record-keeping") and self.has_class("-narrow"):
            self.action_focus_pane("guidance")

    def action_oversight(self) -> None:
        from ..oversight import DEFAULT_OPEN_DAYS, compute
        from .oversight import OversightScreen

        store, library = self.context.store, self.context.library
        days = store.settings().get("open_days_warning")
        stale = [(doc.path.name, doc.title, doc.review_due) for doc in library.stale(self.context.today)]
        view = compute(store.incidents(), now_local(), int(days) if days else DEFAULT_OPEN_DAYS, stale)
        self.app.push_screen(OversightScreen(view))

    def action_export(self) -> None:
        from ..export import html_report, markdown_report

        if self.session.is_new:
            self._warn("Save the incident first (ctrl+s): a report is made from the saved record.")
            return
        incident = self.context.store.get(self.session.base.id)  # type: ignore[union-attr]
        stamp = now_local().strftime("%Y%m%d-%H%M%S")
        markdown = markdown_report(incident, self.context.library)
        saved = self._save_export(f"{incident.id}-report-{stamp}.md", markdown)
        self._save_export(f"{incident.id}-report-{stamp}.html", html_report(incident, self.context.library))
        title = f"Report {incident.id}" + (" (also saved as HTML beside it)" if saved else "")
        self.app.push_screen(TextViewDialog(title, markdown, saved))

    def action_letter(self) -> None:
        self._letter(parent=True)

    def action_staff_briefing(self) -> None:
        self._letter(parent=False)

    def _letter(self, parent: bool) -> None:
        from ..letters import parent_letter, staff_briefing

        store, library = self.context.store, self.context.library
        incident = self.session.edited
        try:
            if parent:
                text, missing = parent_letter(library, incident, store.settings(), now_local(), plain=True)
            else:
                text, missing = staff_briefing(library, incident, store.settings(), now_local(), plain=True)
        except FileNotFoundError as problem:
            self._error(str(problem))
            return
        name = f"{incident.id or 'new'}-{'parent-letter' if parent else 'staff-briefing'}-" \
               f"{now_local():%Y%m%d-%H%M%S}.txt"
        path = self._save_export(name, text)
        if missing:
            self._warn("Settings not set yet: " + ", ".join(missing) + ". The letter says where; set them with "
                       "kentsafe settings.")
        self.app.push_screen(TextViewDialog("Parent letter" if parent else "Staff briefing", text, path))

    def _save_export(self, name: str, text: str) -> Path | None:
        folder = self.context.exports_folder
        try:
            ensure_folder(folder)
            mode, group = mode_for(self.context.db_path)
            atomic_write(folder / name, text.encode(), mode, group)
        except (OSError, WriteFailed) as problem:
            self._error(f"Could not save the file: {problem}. You can still copy it from the window.")
            return None
        return folder / name

    def action_pupil_chronology(self) -> None:
        def chosen(name: str | None) -> None:
            if not name:
                return
            from ..export import chronology_markdown, pupil_chronology

            entries = pupil_chronology(self.context.store.incidents(), name)
            if not entries:
                self._warn(f"No incident names a pupil called {name.strip()}.")
                return
            text = chronology_markdown(name.strip(), entries)
            path = self._save_export(f"chronology-{now_local():%Y%m%d-%H%M%S}.md", text)
            self.app.push_screen(TextViewDialog(f"Chronology: {name.strip()}", text, path))

        pupils = sorted({p.name for row in [self.session.edited] for p in row.pupils if p.name.strip()})
        hint = "Every incident naming the pupil, in the order the concerns arose."
        self.app.push_screen(AskTextDialog("Pupil chronology", hint + "\n\nThe pupil's name:",
                                           pupils[0] if pupils else ""), chosen)

    def action_settings(self) -> None:
        from ..store import SETTINGS

        store = self.context.store

        def chosen(values: dict[str, str] | None) -> None:
            if values is None:
                return
            current = store.settings()
            try:
                for key, value in values.items():
                    if value.strip() != current.get(key, ""):
                        store.set_setting(key, value)
            except ValidationError as problem:
                self._warn("Not saved: " + "; ".join(f"{k}: {m}" for k, m in problem.errors.items()))
                return
            except StoreError as problem:
                self._error(f"Not saved: {problem}")
                return
            self.notify("School settings saved.", markup=False, timeout=3)

        self.app.push_screen(SettingsDialog(store.settings(), SETTINGS), chosen)

    def action_help(self) -> None:
        from .help import HelpScreen

        self.app.push_screen(HelpScreen(self.context.where()))

    # Leaving with unsaved work ----------------------------------------------------------------------------
    def _then_if_clean(self, then, doing: str) -> None:
        if not self.session.dirty:
            then()
            return
        name = self.session.edited.id or "the new incident"

        def decided(choice: str | None) -> None:
            if choice == "save":
                self._save(amend=False, after=then)
            elif choice == "discard":
                self.context.drafts.clear()
                self._draft_due = False
                then()

        self.app.push_screen(ChoiceDialog("Unsaved changes", f"You have unsaved changes to {name}. Save them "
                                          f"before you {doing}?",
                                          [("s", "Save", "save"), (None, "Discard them", "discard"),
                                           ("escape", "Cancel", "cancel")]), decided)

    def request_quit(self) -> None:
        self._then_if_clean(self._quit, "quit")

    def _quit(self) -> None:
        self.context.drafts.clear()
        self.app.exit()

    # Drafts --------------------------------------------------------------------------------------------
    def _write_draft_if_due(self) -> None:
        if self._draft_due:
            self.write_draft()

    def write_draft(self) -> None:
        """Keep what is typed beside the database (called on a timer, on hangup and on terminate)."""
        self._draft_due = False
        session = self.session
        try:
            if session.dirty:
                self.context.drafts.save(session.edited.to_dict(), session.base.to_dict() if session.base else None)
            else:
                self.context.drafts.clear()
        except (OSError, WriteFailed) as problem:
            self._error(f"Could not keep a draft of your typing: {problem}. Save soon (ctrl+s).")

    def _check_drafts(self, ask: bool = False) -> None:
        """Typing left by a kentsafe that has gone, also one that went after this one started (a drop seconds
        before reconnecting leaves the old process alive for a moment). At start it is offered at once; found
        later, a dialog would catch keys meant for the form, so a notice says where to find it."""
        if self._offering:
            return
        left = [draft for draft in self.context.drafts.left_behind() if draft.path not in self._declined]
        if not left:
            return
        if ask and len(self.app.screen_stack) == 1:
            self._offer_draft(left[0])
        elif left[0].path not in self._noticed:
            self._noticed.add(left[0].path)
            self.notify("Unsaved typing from a kentsafe that has closed was found. To see it: ctrl+p, then "
                        "'Restore unsaved work'.", markup=False, timeout=20)

    def action_restore_drafts(self) -> None:
        self._declined.clear()
        left = self.context.drafts.left_behind()
        if left:
            self._offer_draft(left[0])
        else:
            self.notify("There is no unsaved work left by another kentsafe.", markup=False, timeout=4)

    def _offer_draft(self, draft: Draft) -> None:
        self._offering = True
        message = Text(f"kentsafe closed before this was saved: your typing on "
                       f"{draft.incident_id or 'a new incident'}, kept at {describe(draft.saved_at)}.\n\n")
        message.append(draft.preview(), style="italic")
        message.append("\n\nRestore it now? (Later keeps it for next time.)")

        def decided(choice: str | None) -> None:
            self._offering = False
            if choice == "restore":
                self._then_if_clean(lambda: self._restore(draft), "restore the other typing")
            elif choice == "discard":
                draft.remove()
                self.notify("Draft discarded.", markup=False, timeout=4)
            else:
                self._declined.add(draft.path)

        self.app.push_screen(ChoiceDialog("Unsaved work found", message,
                                          [("r", "Restore", "restore"), (None, "Discard it", "discard"),
                                           ("escape", "Later", "later")]), decided)

    def _restore(self, draft: Draft) -> None:
        self.session.restore(draft.edited, draft.base)
        draft.remove()
        self._show_session()
        self._draft_due = True
        self.notify("Restored. It is not saved yet: check it and press ctrl+s.", markup=False)

    # Messages from the widgets -----------------------------------------------------------------------------
    @on(IncidentForm.Changed)
    def _form_changed(self, event: IncidentForm.Changed) -> None:
        self._draft_due = True
        self._mark_dirty()

    @on(IncidentForm.PlaybookChanged)
    def _playbook_changed(self) -> None:
        self.session.follow_playbook()
        self._show_checklist()
        self._show_playbook()
        if self.session.pending_items():
            self.notify("The checklist follows your change; its new items can be ticked once you save.",
                        markup=False)

    @on(IncidentForm.StatusRequested)
    def _status_requested(self, event: IncidentForm.StatusRequested) -> None:
        """Closing asks for the outcome and reopening for the reason; either is then saved at once."""
        form = self.form
        if event.new == "closed":
            todo = sum(1 for item in self.session.edited.checklist if item.state == "todo")
            question = "What was the outcome? It is needed to close the record (which is kept, never deleted)."
            if todo:
                question += f"\n\n{todo} checklist item(s) are still to do: tick them, or mark them not " \
                            "applicable with a reason, before or after closing."

            def closed(outcome: str | None) -> None:
                if outcome is not None:
                    form.set_text("outcome", outcome)
                    form.set_status("closed")
                    self._save(amend=False)
            self.app.push_screen(AskTextDialog("Closing the incident", question, self.session.edited.outcome,
                                               multiline=True, ok_label="Close and save"), closed)
        elif event.old == "closed":
            def reopened(reason: str | None) -> None:
                if reason is not None:
                    self.session.edited.decisions.append(Decision(decision="Reopened", reason=reason))
                    form.load(self.session.edited, self.session.base.status if self.session.base else None)
                    form.set_status(event.new)
                    self._save(amend=False)
            self.app.push_screen(AskTextDialog("Reopening the incident", "Why is it being reopened?",
                                               ok_label="Reopen and save"), reopened)
        else:
            form.set_status(event.new)

    @on(IncidentForm.RemoveRequested)
    def _remove_requested(self, event: IncidentForm.RemoveRequested) -> None:
        def decided(choice: str | None) -> None:
            if choice == "remove":
                self.call_later(self.form.remove_row, event.name, event.index)  # a coroutine: schedule it
        self.app.push_screen(ChoiceDialog("Remove?", f"Remove {event.label} from the form? (Once saved, the "
                                          "history still shows it was there.)",
                                          [("escape", "Keep it", "keep"), (None, "Remove", "remove")]), decided)

    @on(ChecklistView.Moved)
    def _item_moved(self, event: ChecklistView.Moved) -> None:
        slug, _, anchor = event.item.source.partition("#")
        if slug:
            self.guidance.show(slug, anchor, remember=False)

    @on(ChecklistView.Toggle)
    def _toggle(self, event: ChecklistView.Toggle) -> None:
        if type(event) is not ChecklistView.Toggle:
            return
        item = event.item
        self._set_item(item.id, "done" if item.state == "todo" else "todo", None)

    @on(ChecklistView.NotApplicable)
    def _not_applicable(self, event: ChecklistView.NotApplicable) -> None:
        item = event.item
        self.app.push_screen(AskTextDialog("Not applicable", f"Why does this not apply?\n\n{item.text}",
                                           item.note if item.state == "not_applicable" else ""),
                             lambda reason: reason is not None and self._set_item(item.id, "not_applicable", reason))

    @on(ChecklistView.EditNote)
    def _note(self, event: ChecklistView.EditNote) -> None:
        item = event.item
        self.app.push_screen(AskTextDialog("Note", f"A note on:\n\n{item.text}", item.note, required=False),
                             lambda note: note is not None and self._set_item(item.id, item.state, note))

    def _set_item(self, item_id: str, state: str, note: str | None) -> None:
        try:
            saved = self.session.set_item(item_id, state, note)
        except PendingItem as problem:
            self._warn(str(problem).capitalize() + ".")
            return
        except ConflictError as conflict:
            self.session.base = conflict.latest if not self.session.dirty else self.session.base
            self._error(f"Not saved: {conflict}. The checklist now shows their change.")
            self.session.edited.checklist = copy.deepcopy(conflict.latest.checklist)
            self._show_checklist()
            return
        except ValidationError as problem:
            self._warn("Not saved: " + "; ".join(problem.errors.values()))
            return
        except StoreError as problem:
            self._error(f"Not saved: {problem}")
            return
        if saved is None:
            self._draft_due = True
            self.notify("Kept with the new incident; it is saved with it (ctrl+s).", markup=False)
        else:
            self.form.refresh_heading(dirty=self.session.dirty)
        self._show_checklist()

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
