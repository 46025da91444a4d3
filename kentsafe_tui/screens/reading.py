"""The main screen's actions that show something to read or keep: guidance shortcuts, oversight, reports,
letters, a pupil's chronology, settings and help. Each asks the core for the text and shows it; nothing here
changes the incident being edited."""

from __future__ import annotations

import asyncio

from ..dates import now_local
from ..dialogs import AskTextDialog, SettingsDialog, TextViewDialog
from ..model import ValidationError
from ..outputs import Output
from ..store import StoreError


class ReadingActions:
    """Mixed into MainScreen, which provides context, session, outputs, guidance, app and the notices."""

    def action_record_keeping(self) -> None:
        self._guide("record-keeping")

    def action_first_hour(self) -> None:
        """The steps on one screen with their progress; the guidance pane shows the document behind it."""
        from ..dialogs.first_hour import FirstHourScreen

        first = self.context.library.first_hour()
        if first is not None:
            self.guidance.show(first.slug)
        self.app.push_screen(FirstHourScreen(self.context.library, self.session.edited))

    def _guide(self, slug: str) -> None:
        if self.guidance.show(slug) and self.has_class("-narrow"):
            self.action_focus_pane("guidance")

    async def action_oversight(self) -> None:
        from ..oversight import DEFAULT_OPEN_DAYS, compute
        from ..dialogs.oversight import OversightScreen

        if not await self.records_ready():
            return
        store, library = self.context.store, self.context.library
        days = store.settings().get("open_days_warning")
        stale = [(doc.path.name, doc.title, doc.review_due) for doc in library.stale(self.context.today)]

        def overview():  # each record decoded as it is counted, in a thread: 50,000 take seconds
            records, _ = store.read_all()
            return compute(records, now_local(), int(days) if days else DEFAULT_OPEN_DAYS, stale)

        if store.count() >= 5000:  # a few seconds each 50,000: worth a word
            self.notify(f"Working out the overview of {store.count():,} incidents…", markup=False, timeout=3)
        self.app.push_screen(OversightScreen(await asyncio.to_thread(overview)))

    def _show_output(self, output: Output) -> None:
        if output.problem:
            self._error(output.problem)
        if output.missing_settings:
            self._warn("Settings not set yet: " + ", ".join(output.missing_settings) + ". The letter says where; "
                       "set them with kentsafe settings.")
        self.app.push_screen(TextViewDialog(output.title, output.text, output.path))

    def action_export(self) -> None:
        if self.session.is_new:
            self._warn("Save the incident first (ctrl+s): a report is made from the saved record.")
            return
        self._show_output(self.outputs.report(self.session.base.id))

    def action_letter(self) -> None:
        self._letter(parent=True)

    def action_staff_briefing(self) -> None:
        self._letter(parent=False)

    def _letter(self, parent: bool) -> None:
        try:
            self._show_output(self.outputs.letter(self.session.edited, parent))
        except FileNotFoundError as problem:
            self._error(str(problem))

    def action_pupil_chronology(self) -> None:
        async def chosen(name: str | None) -> None:
            if name and await self.records_ready():
                output = await asyncio.to_thread(self.outputs.chronology, name)  # reads every record
                if output is None:
                    self._warn(f"No incident names a pupil called {name.strip()}.")
                else:
                    self._show_output(output)

        pupils = sorted({p.name for p in self.session.edited.pupils if p.name.strip()})
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
        from ..dialogs.help import HelpScreen

        self.app.push_screen(HelpScreen(self.context.where()))
