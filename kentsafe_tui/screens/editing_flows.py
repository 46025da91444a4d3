"""The main screen's editing workflows: saving (and what stops a save), conflicts with another DSL, the
status lifecycle, checklist ticks, drafts, and leaving with unsaved work.

Each rule lives in a plain class (kentsafe_tui.editing, .drafts, .merge); this mixin only asks the DSL, with a
dialog, what those classes cannot decide, and shows the result. MainScreen provides session, context, form,
checklist, show_session, show_checklist, mark_dirty, focus_error and the notices.
"""

from __future__ import annotations

import asyncio
import copy
import time
from pathlib import Path
from typing import TYPE_CHECKING

from rich.text import Text

from ..dates import describe, from_iso
from ..dialogs import AskTextDialog, ChoiceDialog, ConflictDialog
from ..drafts import Draft
from ..editing import PendingItem
from ..fileio import WriteFailed
from ..model import Incident, ValidationError
from ..settle import settle
from ..store import ConflictError, NotFound, StoreError

if TYPE_CHECKING:
    from .incident_list import IncidentListScreen

DRAFT_EVERY = 1.0  # seconds between draft writes while typing


class EditingFlows:
    def init_flows(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock_wait_shown = 0.0  # when the lock-wait notice last showed (one every few seconds)
        self._draft_due = False
        self._draft_writing = False
        self._list_screen: IncidentListScreen | None = None
        self._offering = False
        self._declined: set[Path] = set()
        self._noticed: set[Path] = set()

    def _hold_keys(self, letting: str | None) -> None:
        """From now until the write has ended, keys wait (app.holding), but for those `letting` names:
        "typing" in the form's fields, or "moving" in the checklist. Synchronously, before the write's worker
        starts: the key after ctrl+s or space must not slip in before the write has begun."""
        self.app.holding += 1
        if letting:
            self.app.going_on[letting] += 1

    async def _write(self, call, letting: str | None):
        """A write to the store, in a thread (after `_hold_keys`): a save may queue behind other DSLs' saves for
        many seconds, and the screen must go on drawing (and say so) meanwhile."""
        try:
            try:
                return await asyncio.to_thread(call)
            finally:
                if letting:
                    self.app.going_on[letting] -= 1
                    # Every key handed on during the write has been applied before the screen takes in what
                    # was saved (other keys wait meanwhile).
                    await settle(self.app)
        finally:
            self.app.end_hold()  # (keys it held run once the caller, going on without a pause, has taken it in)

    def lock_waited(self, seconds: float) -> None:
        """From the store, possibly from the saving thread: how long a save has queued for the lock."""
        loop = self._loop
        if loop is not None and seconds >= 1:
            loop.call_soon_threadsafe(self._show_lock_wait, seconds)

    def _show_lock_wait(self, seconds: float) -> None:
        if time.monotonic() - self._lock_wait_shown < 4:
            return
        self._lock_wait_shown = time.monotonic()
        self.notify(f"Waiting for other kentsafes to finish saving ({seconds:.0f} s). Your change is kept; "
                    "it is saved as soon as it is its turn.", markup=False, timeout=5)

    def typed(self) -> None:
        self._draft_due = True
        self.mark_dirty()

    # New, open, quit ---------------------------------------------------------------------------------------
    def action_new(self) -> None:
        self._then_if_clean(self._start_new, "start a new incident")

    def _start_new(self) -> None:
        self._forget_draft()  # the typing it replaces was saved or discarded
        self.session.new()
        self.show_session()
        self.action_focus_pane("form")

    async def action_open_list(self) -> None:
        if not await self.records_ready():
            return
        listing = self._list_screen or self._make_list_screen()
        if listing in self.app.screen_stack:
            return  # open already (the command palette over it)
        self._then_if_clean(lambda: self.app.push_screen(listing, self._open), "open another incident")

    def _make_list_screen(self) -> IncidentListScreen:
        from .incident_list import IncidentListScreen

        # Kept, and opened again as it was left (its filter emptied): composed, styled and laid out afresh
        # each time, opening it took over 100 ms at 50,000 incidents.
        self._list_screen = IncidentListScreen(self.context.store)
        self.app.install_screen(self._list_screen, "incident-list")
        return self._list_screen

    def prepare_list(self) -> None:
        """At a pause once the records have been read or saved: the list's screen made, or brought up to date,
        unseen (see IncidentListScreen.ready_unseen), so ctrl+o only shows it. Made at ctrl+o, its first
        opening ended 114 to 201 ms after the key at 50,000 incidents. Uses Textual's private `App._register`,
        which `push_screen` calls for a screen not yet running (textual is pinned below 9); a test checks the
        screen is running before its first opening."""
        if not self.context.store.loaded:
            return
        if self.app.holding or self._reading or self.context.store.in_use():
            # A save or a read holds the store: the list would wait for it here, and the screen with it.
            self.app.when_quiet(self.prepare_list)
        elif self._list_screen is None:
            self.app._register(self.app, self._make_list_screen())
            self.app.when_quiet(self.prepare_list)  # mounted by then: made ready at the next pause
        elif self._list_screen.is_running:
            self._list_screen.ready_unseen()

    def _open(self, incident_id: str | None) -> None:
        self.app.when_quiet(self.prepare_list)  # ready again for the next opening, emptied of its filter
        if not incident_id:
            return
        try:
            self.session.open(incident_id)
        except (NotFound, StoreError) as problem:
            self._error(str(problem))
            return
        self._forget_draft()
        self.show_session()
        self.action_focus_pane("form")

    def _forget_draft(self) -> None:
        """The typing was saved, discarded or replaced: its draft goes, and the timer writes none of it."""
        self.context.drafts.clear()
        self._draft_due = False

    def request_quit(self) -> None:
        self._then_if_clean(self._quit, "quit")

    def _quit(self) -> None:
        self._forget_draft()
        self.app.exit()

    def _then_if_clean(self, then, doing: str) -> None:
        if not self.unsaved:
            then()
            return
        name = self.session.edited.id or "the new incident"

        def decided(choice: str | None) -> None:
            if choice == "save":
                self._save_soon(after=then)
            elif choice == "discard":
                # Discarded when it is replaced (`then` clears the draft then): "Discard them" on the way to the
                # list, then escape there, leaves the typing in the form and its draft on disk, as on screen.
                then()

        self.app.push_screen(ChoiceDialog("Unsaved changes", f"You have unsaved changes to {name}. Save them "
                                          f"before you {doing}?",
                                          [("s", "Save", "save"), (None, "Discard them", "discard"),
                                           ("escape", "Cancel", "cancel")]), decided)

    # Saving --------------------------------------------------------------------------------------------
    def action_save(self) -> None:
        self._save()

    def _save_soon(self, after=None) -> None:
        """Save from a dialog's answer, on the app's task as ctrl+s is: the answer arrives on this screen's
        own task, and the next key must find the save begun."""
        self.app.call_later(self._save, after)

    def _save(self, after=None) -> None:
        """Check the record, then write it in the background. Typing in a text field goes on meanwhile (a
        save of a large database is a second of writing); every other key waits for the save, and so does
        everything after a save asked for on the way to something else (`after`: a new incident, quitting)."""
        # A quick line typed but not added stops the save, as a date that cannot be read does: a row is added
        # only by the DSL's enter on a preview that reads right, never guessed into the record by a save.
        waiting = self.form.waiting_lines()
        unparsed = {**self.form.problems(), **waiting}
        if unparsed:
            self.form.show_errors(waiting)
            self.focus_error(unparsed)
            self._warn(f"Not saved: {_first(unparsed)}" + _more(unparsed))
            return
        for index, decision in enumerate(self.session.edited.decisions):
            if decision.decision.strip() or decision.reason.strip():
                self.session.stamp_decision(index)
        try:
            self.session.check()
        except ValidationError as problem:
            self._not_valid(problem)
            return
        if self.session.refer_now_not_referred():
            self._ask_why_not_referring(after)
            return
        taken = self.session.snapshot()
        letting = "typing" if after is None else None
        self._hold_keys(letting)
        self.run_worker(self._saving(taken, after, letting), group="save", exit_on_error=True)

    async def _saving(self, taken, after, letting: str | None) -> None:
        try:
            saved = await self._write(lambda: self.session.write(taken), letting)
        except ValidationError as problem:
            self._not_valid(problem)
            return
        except ConflictError as conflict:
            self.app.push_screen(ConflictDialog(conflict, self.session.changes()),
                                 lambda choice, conflict=conflict: self._resolve_conflict(choice, conflict, after))
            return
        except StoreError as problem:
            self._error(f"Not saved: {problem}")
            return
        self.session.saved(taken, saved)
        unsaved = self.unsaved  # typing during the save (a quick line too) is kept as a draft, as any typing
        if not unsaved:
            self.context.drafts.clear()
        self._draft_due = unsaved
        # Said on the form's border (see IncidentForm.refresh_heading), typing kept unsaved too: drawn without a
        # layout. A notice lays the screen out again: one of the typing kept, given at the next pause, held a key
        # typed just then for 70 ms at 50,000 incidents.
        self.form.saved_note = f"Saved at {from_iso(saved.updated_at).astimezone():%H:%M}"
        self.form.typed_since_save = unsaved
        self.show_session(fresh=False)
        self.app.when_quiet(self.prepare_list)  # the record saved at the top of the list
        if after:
            after()

    def _not_valid(self, problem: ValidationError) -> None:
        self.form.show_errors(problem.errors)
        self.focus_error(problem.errors)
        self._warn(f"Not saved: {_first(problem.errors)}" + _more(problem.errors))

    def _ask_why_not_referring(self, after) -> None:
        def answered(reason: str | None) -> None:
            if reason:
                self.session.confirm_not_referring(reason)
                self.show_session(fresh=False)
                self._save_soon(after=after)

        self.app.push_screen(AskTextDialog(
            "Not referring, although an answer is yes",
            "A refer-at-once question is answered yes, but the decision is \"Not referred\". Normally this is "
            "referred at once. To save it as not referred, give the reason (it is recorded as a decision, with "
            "your name and the time, and oversight lists the incident). Escape goes back to change it.",
            multiline=True, ok_label="Record the reason and save"), answered)

    def _resolve_conflict(self, choice: str | None, conflict: ConflictError, after=None) -> None:
        if choice == "amend":
            both = self.session.keep_both(conflict)
            self.show_session(fresh=False)
            if both:
                self.mark_dirty()
                self.focus_error({name: "" for name in both})
                self._warn("Both of you changed the same lines of " + ", ".join(both).replace("_", " ") + ": both "
                           "versions are in the form, theirs under a marked line. Make it say what it should, "
                           "then save (ctrl+s).")
            else:
                self._save_soon(after=after)
        elif choice == "reload":
            kept = self._set_aside()
            self.session.reload()
            self.show_session()
            self.notify("Reloaded their version." + (" Your typing is kept: ctrl+p, then 'Restore unsaved work'."
                                                    if kept else ""), markup=False, timeout=12)

    def _set_aside(self) -> bool:
        session = self.session
        try:
            self.context.drafts.set_aside(session.edited.to_dict(), session.base.to_dict() if session.base else None)
        except (OSError, WriteFailed) as problem:
            self._error(f"Could not keep your typing aside: {problem}.")
            return False
        self.context.drafts.clear()
        return True

    # The status lifecycle --------------------------------------------------------------------------------
    def on_incident_form_status_requested(self, event) -> None:
        """Closing asks for the outcome and reopening for the reason; either is then saved at once."""
        session = self.session
        if event.new == "closed":
            todo = sum(1 for item in session.edited.checklist if item.state == "todo")
            question = "What was the outcome? It is needed to close the record (which is kept, never deleted)."
            if todo:
                question += f"\n\n{todo} checklist item(s) are still to do: tick them, or mark them not " \
                            "applicable with a reason, before or after closing."

            def closed(outcome: str | None) -> None:
                if outcome is not None:
                    session.apply("outcome", outcome)
                    session.apply("status", "closed")
                    self.show_session(fresh=False)
                    self._save_soon()
            self.app.push_screen(AskTextDialog("Closing the incident", question, session.edited.outcome,
                                               multiline=True, ok_label="Close and save"), closed)
        elif event.old == "closed":
            def reopened(reason: str | None) -> None:
                if reason is not None:
                    session.reopen(event.new, reason)
                    self.show_session(fresh=False)
                    # Reopened to add something: the cursor waits at the end of the account (ctrl+t stamps).
                    self._save_soon(after=self.to_account)
            self.app.push_screen(AskTextDialog("Reopening the incident", "Why is it being reopened?",
                                               ok_label="Reopen and save"), reopened)
        else:
            session.apply("status", event.new)
            self.show_session(fresh=False)

    # The checklist ---------------------------------------------------------------------------------------
    def on_checklist_view_toggle(self, event) -> None:
        item = self._item(event.item_id)
        if item is not None:
            self.app.call_later(self._set_item, item.id, "done" if item.state == "todo" else "todo", None)

    def on_checklist_view_not_applicable(self, event) -> None:
        item = self._item(event.item_id)
        if item is not None:
            def answered(reason: str | None) -> None:
                if reason is not None:  # set aside: like a tick, the cursor moves on to the next item to do
                    self.app.call_later(self._set_items, [(item.id, "not_applicable", reason)],
                                        lambda: self.checklist.to_next_todo(item.id))

            self.app.push_screen(AskTextDialog("Not applicable", f"Why does this not apply?\n\n{item.text}",
                                               item.note if item.state == "not_applicable" else ""), answered)

    def on_checklist_view_edit_note(self, event) -> None:
        item = self._item(event.item_id)
        if item is not None:
            self.app.push_screen(AskTextDialog("Note", f"A note on:\n\n{item.text}", item.note, required=False),
                                 lambda note: note is not None and self.app.call_later(
                                     self._set_item, item.id, None, note))

    def _item(self, item_id: str):
        return next((item for item in self.session.edited.checklist if item.id == item_id), None)

    def on_checklist_view_line_requested(self, event) -> None:
        from ..dialogs.finder import ChecklistLine

        def answered(ids: list[str] | None) -> None:
            if not ids:
                return
            if event.mode == "find":
                self.checklist.go_to(ids[0])
            else:
                # Only items still to do: one set aside as not applicable keeps its reason (untick it first).
                todo = [item_id for item_id in ids if (item := self._item(item_id)) and item.state == "todo"]
                self.app.call_later(self._set_items, [(item_id, "done", None) for item_id in todo],
                                    self.checklist.to_first_todo)

        self.app.push_screen(ChecklistLine(event.mode, copy.deepcopy(self.session.edited.checklist), event.typed),
                             answered)

    def _set_item(self, item_id: str, state: str | None, note: str | None) -> None:
        self._set_items([(item_id, state, note)])

    def _set_items(self, changes: list[tuple[str, str | None, str | None]], after=None) -> None:
        """Run on the app's task (see _save_soon): the ticks are written in a thread, one after another. Keys
        wait for them, but for moving in the checklist (unless `after` moves the cursor itself)."""
        wanted = []
        for item_id, state, note in changes:
            if state is None:  # a note keeps the item's state as it is now, not as it was when the dialog opened
                current = self._item(item_id)
                if current is None:
                    continue
                state = current.state
            wanted.append((item_id, state, note))
        if not wanted:
            return

        def write():
            saved = None
            for item_id, state, note in wanted:
                saved = self.session.set_item(item_id, state, note)
            return saved

        letting = "moving" if after is None else None
        self._hold_keys(letting)
        self.run_worker(self._ticking(write, after, letting), group="save", exit_on_error=True)

    async def _ticking(self, write, after, letting: str | None) -> None:
        # On a failure, ticks before the one that failed are saved: the checklist shows them with the message.
        try:
            saved = await self._write(write, letting)
        except PendingItem as problem:
            self.show_session(fresh=False)
            self._warn(str(problem).capitalize() + ".")
            return
        except ConflictError as conflict:
            self.session.take_their_checklist(conflict.latest)
            self._error(f"Not saved: {conflict}. The checklist now shows their change.")
            self.show_checklist()
            return
        except ValidationError as problem:
            self.show_session(fresh=False)
            self._warn("Not saved: " + "; ".join(problem.errors.values()))
            return
        except StoreError as problem:
            self.show_session(fresh=False)
            self._error(f"Not saved: {problem}")
            return
        if saved is None:
            self._draft_due = True
            self.notify("Kept with the new incident; it is saved with it (ctrl+s).", markup=False)
        # The session holds a new record now: the form shows it, keeping the field and cursor being typed in.
        self.show_session(fresh=False)
        if after:
            after()

    # Drafts --------------------------------------------------------------------------------------------
    def start_drafts(self) -> None:
        self._loop = asyncio.get_running_loop()
        self.context.store.on_wait = self.lock_waited
        self.set_interval(DRAFT_EVERY, self._write_draft_if_due)
        self.call_after_refresh(self._check_drafts, True)
        self.set_interval(5, self._check_drafts)

    def _write_draft_if_due(self) -> None:
        """Every second while typing: the form is copied here, and written in a thread (its fsync waited
        behind a save's on a busy disk, holding every key meanwhile). One write at a time."""
        if not self._draft_due or self._draft_writing:
            return
        self._draft_due = False
        drafts, session = self.context.drafts, self.session
        lines = self.form.typed_lines()
        if not (session.dirty or lines):
            drafts.clear()
            return
        # Copies of their own, made plain data in the thread (on this one that was a pause in the typing).
        edited, base = session.edited.editable_copy(), session.base.editable_copy() if session.base else None
        self._draft_writing = True
        self.run_worker(self._keep_draft(edited, base, lines, drafts.generation), group="draft")

    async def _keep_draft(self, edited: Incident, base: Incident | None, lines: dict[str, str],
                          generation: int) -> None:
        def keep() -> None:
            self.context.drafts.save(edited.to_dict(), base.to_dict() if base else None, lines, taken_at=generation)

        try:
            await asyncio.to_thread(keep)
        except (OSError, WriteFailed) as problem:
            self._error(f"Could not keep a draft of your typing: {problem}. Save soon (ctrl+s).")
        finally:
            self._draft_writing = False

    def write_draft(self) -> None:
        """Keep what is typed beside the database (called on a timer, on hangup and on terminate)."""
        self._draft_due = False
        session = self.session
        try:
            lines = self.form.typed_lines()
            if session.dirty or lines:
                self.context.drafts.save(session.edited.to_dict(), session.base.to_dict() if session.base else None,
                                         lines)
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
        left = [draft for draft in self.context.drafts.left_behind(aside=ask) if draft.path not in self._declined]
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
        message = Text(f"Typing that was not saved, on {draft.incident_id or 'a new incident'}, kept at "
                       f"{describe(draft.saved_at)}.\n\n")
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
        self._forget_draft()  # this typing, if any, was saved or discarded; the restored takes its place
        self.session.restore(draft.edited, draft.base)
        draft.remove()
        self.show_session()
        self.when_complete(lambda: self.form.put_lines(draft.lines))
        self._draft_due = True
        self.notify("Restored. It is not saved yet: check it and press ctrl+s.", markup=False)


def _first(errors: dict[str, str]) -> str:
    where, message = next(iter(errors.items()))
    return f"{where.replace('_', ' ')}: {message}" if message else where.replace("_", " ")


def _more(errors: dict[str, str]) -> str:
    return f" (and {len(errors) - 1} more, each beside its field)" if len(errors) > 1 else " (shown beside the field)"
