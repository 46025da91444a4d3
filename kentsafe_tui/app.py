"""The App: stylesheet, global keys, the command palette's actions, and the first screen."""

from __future__ import annotations

import asyncio
import inspect
import os
import signal
import sys
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable
from typing import Any

from textual import events
from textual.app import App, SystemCommand
from textual.screen import Screen
from textual.widgets import Input, Select, TextArea

from . import collecting
from .keys import APP_KEYS, palette
from .screens.bindings import bindings_for
from .context import Context
from .screens.main import MainScreen
from .settle import settle

DEFER_LIMIT = 100  # never hold keys for ever behind a stream of other messages

HANGUP_GRACE = 2.0  # seconds the app has to write its draft and quit after SIGHUP or SIGTERM


def _leave_soon(code: int) -> None:
    time.sleep(HANGUP_GRACE)
    os._exit(code)  # drafts are also written within a second of each change, so little can be lost


ANSWERING_AT_MOST = 0.5  # seconds
QUIET = 0.3  # seconds without a key before work that can wait is done (see when_quiet)
HOLD_LOOKED_AT = 0.05  # seconds: how often a key held by a save looks again, should its end be missed

# Keys that edit a field's text, or move between fields, and start nothing: they go on during a save.
TYPING_KEYS = frozenset({"backspace", "delete", "left", "right", "home", "end", "tab", "shift+tab"})
MOVING_KEYS = frozenset({"up", "down", "pageup", "pagedown", "home", "end"})


class KentsafeApp(App):
    CSS_PATH = "app.tcss"
    TITLE = "kentsafe"
    ENABLE_COMMAND_PALETTE = True
    # Binding the palette ourselves means Textual adds no ctrl+p of its own. Every key is a priority binding:
    # see kentsafe_tui.keys for why.
    BINDINGS = bindings_for(APP_KEYS)

    def __init__(self, context: Context) -> None:
        super().__init__()
        self.context = context
        self.stop_reason = ""  # one line for the terminal after the app has gone, e.g. a damaged database
        self.animation_level = "none"  # every animation frame is a repaint over SSH
        self._held_keys: deque[events.Key] = deque()
        self._deferred = 0
        self.holding = 0  # saves running in a thread: keys wait for them (see _deliver_keys)
        self._hold_ended = asyncio.Event()  # set as a save lets its keys go (see end_hold)
        self.going_on: Counter[str] = Counter()  # of those, the ones letting "typing" or "moving" keys go on
        self._key_arrived: float | None = None  # when the key being answered arrived (see answering_key)
        self.last_key_at = time.monotonic()  # when the last key arrived (see when_quiet)
        self.freeze_when_complete = False  # set by launch.py, where the process ends with the app (see main.py)
        self.collect_in_pauses = False  # set by launch.py too: the garbage of the app's process alone
        self._collect_asked = False
        self._previous_handlers: dict[int, object] = {}

    def get_default_screen(self) -> Screen:
        # The main screen is the app's first screen, not pushed over an empty one: that saved a round of
        # layout before the first frame.
        return MainScreen(self.context)

    def refresh(self, *, repaint: bool = True, layout: bool = False, recompose: bool = False) -> KentsafeApp:
        # Textual asks the app for a layout only when it has removed a closed dialog's screen (the other caller,
        # App.suspend, is not used here). The screen then on top was laid out and drawn whole a second time,
        # 30 ms after its first frame (the list, reopened from "Unsaved changes"), for a change not on it: it
        # was drawn whole as it came back (ScreenResume), and a new size comes as a Resize, which lays out.
        if layout and not recompose:
            return self
        super().refresh(repaint=repaint, layout=layout, recompose=recompose)
        return self

    async def on_event(self, event: events.Event) -> None:
        # Over SSH keys arrive in bursts. Textual hands each key to the widget focused when it arrives and
        # runs priority actions (save, quit) at once; a widget's own key (space in the checklist) comes back
        # to the app to be run later. So a save could run before the keys typed just before it were applied,
        # and keys typed after "+ Add a pupil" or F4 went where the focus had been. Keys are therefore held
        # here and handed on one at a time, each only once everything the previous one set off has been done
        # (see kentsafe_tui.settle): in order, to the widget that then has the focus.
        if isinstance(event, events.Key) and not event.is_forwarded:
            self.last_key_at = time.monotonic()
            if self._key_arrived is None:
                self._key_arrived = time.monotonic()
            self._held_keys.append(event)
            if len(self._held_keys) == 1:
                await self._deliver_keys()
            return
        await super().on_event(event)

    async def _deliver_keys(self) -> None:
        while self._held_keys:
            while self._waits_for_save(self._held_keys[0]):  # it must see the save's result, not race it
                await self._until_a_hold_ends()
            await settle(self)
            if self._next_callbacks:
                # A dialog pushed from a key binding answers the app (call_next): its answer (say "save", then
                # start a new incident) must run before the next key, and would otherwise wait for an empty queue.
                await self._flush_next_callbacks()
                continue
            if self._work_waiting() and self._deferred < DEFER_LIMIT:
                # The app has work queued behind this key that the key before it set off: a key a widget
                # passed up (its binding runs here), or a focus move (Widget.focus waits in this queue, as
                # Select's does). It must run before the next key.
                self._deferred += 1
                self.call_later(self._deliver_keys)
                return
            if self._needs_whole_form(self._held_keys[0]):
                await self.main.form.complete()  # type: ignore[union-attr]
                await settle(self)  # the form filled from the record, before the key
            self._open_select_list()
            self._deferred = 0
            await super().on_event(self._held_keys.popleft())
        self.call_after_refresh(self._answered)

    def end_hold(self) -> None:
        """A save has ended and its result been taken in (see EditingFlows._write): keys waiting for it go on
        at once. Looked at every 10 ms before, the first key after a save waited up to that long."""
        self.holding -= 1
        self._hold_ended.set()

    async def _until_a_hold_ends(self) -> None:
        self._hold_ended.clear()
        try:  # (looked at again after a while all the same: a save ending is never missed for good)
            await asyncio.wait_for(self._hold_ended.wait(), HOLD_LOOKED_AT)
        except asyncio.TimeoutError:
            pass

    def _waits_for_save(self, key: events.Key) -> bool:
        if not self.holding:
            return False
        if self.holding > sum(self.going_on.values()):
            return True
        return not ((self.going_on["typing"] and self._is_typing(key))
                    or (self.going_on["moving"] and self._is_moving(key)))

    def _needs_whole_form(self, key: events.Key) -> bool:
        """The lower form is still arriving between keys (see LaterFields): typing in the field with the cursor
        goes on, but any other key (one that moves the focus, opens or saves anything) has the form completed
        first, so it lands where it would on the whole form."""
        main = self.main
        if main is None or main.form_complete:
            return False
        if key.key in ("tab", "shift+tab") and main.form.tab_stays_above(self.focused, key.key == "tab"):
            return False  # from Summary to What happened, every field is in the upper part
        return not self._is_typing(key, across_fields=False)

    def _is_typing(self, key: events.Key, across_fields: bool = True) -> bool:
        """A key that only edits the text of the form's field it is typed in (or moves between fields): it
        can go on while a save writes, as the save has taken its copy of the record (see EditSession.saved).
        A key that starts anything (a binding, enter, a choice, a dialog) waits for the save."""
        main, focused = self.main, self.focused
        if main is None or self.screen is not main or not isinstance(focused, (Input, TextArea)):
            return False
        if not any(node is main.form for node in focused.ancestors):
            return False
        if key.key in TYPING_KEYS:
            return across_fields or key.key not in ("tab", "shift+tab")
        if key.key == "enter" and isinstance(focused, TextArea):
            return True
        return key.is_printable and "+" not in key.key  # (every binding has a modifier or is an F-key)

    def _is_moving(self, key: events.Key) -> bool:
        """Moving in the checklist while a tick is written: the view keeps its cursor on the item it is on
        when the saved ticks arrive, and moving changes nothing in the record."""
        main = self.main
        return (main is not None and self.screen is main and self.focused is main.checklist
                and key.key in MOVING_KEYS)

    def _answered(self) -> None:
        if not self._held_keys:
            self._key_arrived = None
        if self.collect_in_pauses and not self._collect_asked:
            self._collect_asked = True
            self.when_quiet(self._collect_garbage)

    def _collect_garbage(self) -> None:
        self._collect_asked = False
        collecting.collect_if_due()

    @property
    def answering_key(self) -> bool:
        """A key has arrived and its frame is not drawn yet: the records' reader stands aside meanwhile. Half a
        second at most, however long keys keep coming, so the read always goes on."""
        arrived = self._key_arrived
        return arrived is not None and time.monotonic() - arrived < ANSWERING_AT_MOST

    def when_quiet(self, callback: Callable[[], Any]) -> None:
        """Call back once no key has come for QUIET seconds, and no sooner than that from now: work that can
        wait (the lower form, the rest of a long guidance document) is done between the DSL's keys, not in front
        of one."""
        asked = time.monotonic()

        def check() -> None:
            waited = time.monotonic() - max(asked, self.last_key_at)
            if waited < QUIET or self._held_keys:
                self.set_timer(max(QUIET - waited, 0.05), check)
            else:
                self.call_later(when_running)

        async def when_running() -> None:
            # Not as the app leaves: Textual takes its screens apart then (it stops running first), and work kept
            # for a pause found the list's parts gone (a traceback at the exit, seen in CI).
            if self.is_running:
                result = callback()
                if inspect.isawaitable(result):
                    await result

        self.set_timer(QUIET, check)

    @property
    def quiet(self) -> bool:
        """No key for QUIET seconds, and none waiting: work that can wait may go on (see when_quiet)."""
        return time.monotonic() - self.last_key_at >= QUIET and not self._held_keys

    @property
    def keys_held(self) -> bool:
        """Keys typed and not yet handed on."""
        return bool(self._held_keys)

    def hand_on_next(self, key: events.Key) -> None:
        """Deliver this key before any other key still held (a reading dialog closed by it passes it on)."""
        self._held_keys.appendleft(key)
        if len(self._held_keys) == 1:  # nothing else held: no delivery is under way to pick it up
            self.call_later(self._deliver_keys)

    def _open_select_list(self) -> None:
        """A choice just opened (enter on a Select): its list asks for the focus before it is shown, which
        Textual ignores, and gets it only after the next frame. The key after enter ("c" for Closed, or down)
        is meant for the list, so the list gets the focus now."""
        focused = self.focused
        if isinstance(focused, Select) and focused.expanded:
            overlay = focused.query_one("SelectOverlay")  # by its type name: the class is private to Textual
            focused.screen.set_focus(overlay, scroll_visible=False)

    def _work_waiting(self) -> bool:
        return any(not isinstance(message, events.Key) or message.is_forwarded
                   for message in list(self._message_queue.values))

    def on_mount(self) -> None:
        # A plain signal handler, not loop.add_signal_handler: asyncio's handler only wakes the loop, so a
        # hang-up that came while the app was already quitting (the loop no longer turning) was swallowed and
        # left an orphan holding the records in memory (issue 10). This one always ends the process.
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGHUP, signal.SIGTERM):
            try:
                self._previous_handlers[signum] = signal.signal(
                    signum, lambda number, frame: self._on_signal(loop, number))
            except (ValueError, OSError):  # not the main thread (tests)
                pass

    def on_unmount(self) -> None:
        for signum, handler in self._previous_handlers.items():
            try:
                signal.signal(signum, handler if handler is not None else signal.SIG_DFL)
            except (ValueError, OSError, TypeError):
                pass

    def _on_signal(self, loop: asyncio.AbstractEventLoop, number: int) -> None:
        """Keep the typing as a draft and leave; if the app cannot do that within a moment, leave anyway."""
        watchdog = threading.Thread(target=_leave_soon, args=(128 + number,), name="kentsafe-hangup", daemon=True)
        watchdog.start()
        try:
            loop.call_soon_threadsafe(self.hang_up)
        except RuntimeError:  # the loop has closed: nothing more to keep
            os._exit(128 + number)

    def exit(self, result=None, return_code: int = 0, message=None) -> None:
        # Every way out (quit, hang-up, a damaged file) waits for the main screen to finish mounting.
        main = self.main
        if main is not None and main.is_attached:
            main.when_complete(lambda: super(KentsafeApp, self).exit(result, return_code, message))
        else:
            super().exit(result, return_code, message)

    def _fatal_error(self) -> None:
        """An unexpected error: keep the typing as a draft and end with one line, as the command line does.

        Textual would print a traceback with the local variables of every frame: other records' summaries and
        pupils' names, left in the terminal and its scrollback. KENTSAFE_DEBUG=1 shows Textual's traceback.
        """
        if os.environ.get("KENTSAFE_DEBUG"):
            super()._fatal_error()
            return
        error = sys.exc_info()[1] or self._exception
        kept = ""
        try:
            main = self.main
            if main is not None:
                main.write_draft()
                kept = "; anything unsaved was kept as a draft, offered at the next start"
        except Exception:  # noqa: BLE001 - leaving matters more than the draft here
            pass
        # The error's type only: its message can quote a record.
        self.stop_reason = (f"unexpected error ({type(error).__name__ if error else 'unknown'}){kept}. "
                            "The database keeps its last good save. Set KENTSAFE_DEBUG=1 to see details")
        self._return_code = 1
        self._close_messages_no_wait()

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
            for title, help_text, action in palette():
                yield SystemCommand(title, help_text, lambda action=action: main.run_action(action))
        yield SystemCommand("Quit", "Quit kentsafe (ctrl+q)", self.action_request_quit)
        # Textual's own commands are left out: "Screenshot" would write the screen, records and all, to the
        # Downloads folder, outside the database's folder and readable by others.

    def action_screenshot(self, filename: str | None = None, path: str | None = None) -> None:
        self.notify("Screenshots are switched off: they would put record text outside the database's folder.",
                    severity="warning", markup=False)
