"""The main screen's fast moves: the field finder (ctrl+g), adding an update to the account, and stamping the
time (ctrl+t). Where each place is and what a line means are decided in kentsafe_tui.jump; this mixin moves
the cursor. MainScreen provides form, checklist, session, context, action_focus_pane and the notices."""

from __future__ import annotations

from textual.widgets import Input, TextArea

from ..dialogs import AskTextDialog
from ..widgets.form import date_kind


class JumpActions:
    def action_find_field(self) -> None:
        from ..dialogs.finder import FieldFinder

        self.app.push_screen(FieldFinder(self.form.places()), self.go_to_place)

    def go_to_place(self, where: str | None) -> None:
        if not where:
            return
        if where == "checklist":
            self.action_focus_pane("checklist")
            return
        if where == "update":
            self.add_update()
            return
        found = self.form.query(f"#{where}")
        if not found:
            self._warn("That part of the form is still being drawn: try again in a moment.")
            return
        self._show_form_pane()
        widget = found.first()
        self.set_focus(widget)
        self.form.scroll_to_widget(widget, animate=False)  # at 80 columns the form scrolls again once shown

    def _show_form_pane(self) -> None:
        for pane in ("guidance", "form", "checklist"):
            self.query_one(f"#{pane}").set_class(pane == "form", "-active")

    # Updates to the account ----------------------------------------------------------------------------
    def add_update(self) -> None:
        """The cursor at the end of How it was followed up, on a new line with the time and name. A closed
        record is reopened first, with its reason (as the status field does)."""
        if self.session.edited.status != "closed":
            self.to_account(stamp=True)
            return

        def reopened(reason: str | None) -> None:
            if reason is not None:
                self.session.reopen("open", reason)
                self.show_session(fresh=False)
                self._save_soon(after=lambda: self.to_account(stamp=True))

        self.app.push_screen(AskTextDialog("Reopening the incident", "It is closed. Why is it being reopened?",
                                           ok_label="Reopen and save"), reopened)

    def to_account(self, stamp: bool = False) -> None:
        """After reopening: the cursor at the end of the account, ready to type (ctrl+t stamps the time)."""
        found = self.form.query("#f-follow_up")
        if not found:
            return
        area = found.first(TextArea)
        self._show_form_pane()
        self.set_focus(area)
        area.move_cursor(area.document.end)
        self.call_after_refresh(self.form.scroll_to_widget, area, animate=False)
        if stamp:
            self._stamp_text_area(area)

    # The time, typed for you ---------------------------------------------------------------------------
    def action_stamp_time(self) -> None:
        focused = self.focused
        if isinstance(focused, TextArea) and not focused.read_only:
            self._stamp_text_area(focused)
        elif isinstance(focused, Input):
            kind = date_kind(focused.id or "")
            now = self.context.store.clock()
            if kind == "day":
                focused.value = f"{now:%d/%m/%Y}"
            elif kind == "moment":
                focused.value = f"{now:%d/%m/%Y %H:%M}"
            else:
                focused.insert_text_at_cursor(f"{now:%d/%m/%Y %H:%M} ")
            if kind:
                focused.cursor_position = len(focused.value)
        else:
            self._warn("ctrl+t types the time into the field the cursor is in: go to a field first (ctrl+g).")

    def _stamp_text_area(self, area: TextArea) -> None:
        """A new entry: on a line of its own after the line the cursor is in, so no text already written is
        split, or put under this stamp."""
        row, _ = area.cursor_location
        line = area.document.get_line(row)
        start = ""
        if line.strip():
            area.move_cursor((row, len(line)))
            start = "\n"
        area.insert(f"{start}{self.context.store.clock():%d/%m/%Y %H:%M}, {self.context.store.user}: ")

