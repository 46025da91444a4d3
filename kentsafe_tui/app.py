"""The App: stylesheet, global keys, the command palette's actions, and the first screen."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Iterable

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from .screens.main import Context, MainScreen

# Every action by name in the command palette: (title, help, action on the main screen).
ACTIONS = [
    ("New incident", "Start a new incident (ctrl+n)", "new"),
    ("Save", "Save the incident being edited (ctrl+s)", "save"),
    ("Open incident list", "Find an incident by any text (ctrl+o)", "open_list"),
    ("Focus guidance", "Move to the guidance pane (F2)", "focus_pane('guidance')"),
    ("Focus form", "Move to the incident form (F3)", "focus_pane('form')"),
    ("Focus checklist", "Move to the checklist (F4)", "focus_pane('checklist')"),
    ("Record-keeping guide", "What a good record holds, in the guidance pane (F5)", "record_keeping"),
    ("Oversight", "Counts, charts and what is slipping (F6)", "oversight"),
    ("Export report", "Save this incident's report as HTML and Markdown, and copy it (F7)", "export"),
    ("Parent letter", "The parent letter for this incident (F8)", "letter"),
    ("Staff briefing", "The short staff briefing, filled in", "staff_briefing"),
    ("Restore unsaved work", "Typing left by a kentsafe that closed before saving", "restore_drafts"),
    ("Pupil chronology", "Every incident naming a pupil, in the order the concerns arose", "pupil_chronology"),
    ("School settings", "School name, DSL name and phone for letters (as kentsafe settings)", "settings"),
    ("Help", "Every key, and where the data is (F1)", "help"),
]


class KentsafeApp(App):
    CSS_PATH = "app.tcss"
    TITLE = "kentsafe"
    ENABLE_COMMAND_PALETTE = True
    BINDINGS = [
        Binding("ctrl+q,alt+q", "request_quit", "Quit", id="app.quit", priority=True,
                tooltip="Quit; asks first if anything is unsaved"),
        Binding("f1,alt+h", "screen.help", "Help", id="app.help", tooltip="Keys, and where the data is"),
        # Binding the palette ourselves means Textual adds no ctrl+p of its own: both keys are here.
        Binding("ctrl+p,alt+p", "command_palette", "Commands", id="app.palette", show=False, priority=True),
    ]

    def __init__(self, context: Context) -> None:
        super().__init__()
        self.context = context
        self.stop_reason = ""  # one line for the terminal after the app has gone, e.g. a damaged database
        self.animation_level = "none"  # every animation frame is a repaint over SSH

    def get_default_screen(self) -> Screen:
        # The main screen is the app's first screen, not pushed over an empty one: that saved a round of
        # layout before the first frame.
        return MainScreen(self.context)

    def on_mount(self) -> None:
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGHUP, signal.SIGTERM):
            try:
                loop.add_signal_handler(signum, self.hang_up)
            except (NotImplementedError, RuntimeError):
                pass

    def exit(self, result=None, return_code: int = 0, message=None) -> None:
        # Every way out (quit, hang-up, a damaged file) waits for the main screen to finish mounting.
        main = self.main
        if main is not None and main.is_attached:
            main.when_complete(lambda: super(KentsafeApp, self).exit(result, return_code, message))
        else:
            super().exit(result, return_code, message)

    def quit_with_error(self, reason: str) -> None:
        """Leave at once, saying why on the terminal afterwards (one line, as the command line does)."""
        self.stop_reason = reason
        self.exit(return_code=1)

    @property
    def main(self) -> MainScreen | None:
        return next((s for s in self.screen_stack if isinstance(s, MainScreen)), None)

    def hang_up(self) -> None:
        """The SSH line dropped (SIGHUP) or we were told to stop: keep the typing as a draft, then go."""
        if self.main is not None:
            self.main.write_draft()
        self.exit(return_code=129)

    def action_request_quit(self) -> None:
        if self.main is not None and len(self.screen_stack) <= 2:
            self.main.request_quit()
        elif self.main is not None:
            self.pop_screen()
            self.main.request_quit()
        else:
            self.exit()

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        main = self.main
        if main is not None:
            for title, help_text, action in ACTIONS:
                yield SystemCommand(title, help_text, lambda action=action: main.run_action(action))
        yield SystemCommand("Quit", "Quit kentsafe (ctrl+q)", self.action_request_quit)
        # Textual's own commands are left out: "Screenshot" would write the screen, records and all, to the
        # Downloads folder, outside the database's folder and readable by others.

    def action_screenshot(self, filename: str | None = None, path: str | None = None) -> None:
        self.notify("Screenshots are switched off: they would put record text outside the database's folder.",
                    severity="warning", markup=False)
