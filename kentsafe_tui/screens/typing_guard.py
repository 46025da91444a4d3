"""Printable keys that no widget took: type-ahead before anything has the focus goes to Summary; typing on a
button or a choice is refused with a beep and a notice, never dropped without a sign."""

from __future__ import annotations

import time

from textual import events
from textual.widgets import Button, Input, Select, TextArea


class StrayTyping:
    """Mixed into MainScreen, which provides form, focused, set_focus, app and _warn."""

    _refused: tuple[object, float] = (None, 0.0)

    def on_key(self, event: events.Key) -> None:
        """A printable key no widget took. Before anything has the focus (type-ahead while kentsafe starts) it
        belongs in Summary. On a button or a choice it cannot be typed: say so, never drop it silently."""
        if not event.is_printable or not event.character or event.character == " ":
            return
        target = self.focused
        if target is None:
            target = self.form.query_one("#f-summary")
            self.set_focus(target, scroll_visible=False)
        elif not isinstance(target, (Input, TextArea)):
            if isinstance(target, (Button, Select)):
                event.stop()
                self._refuse_typing(target)
            return
        event.stop()
        target._forward_event(events.Key(event.key, event.character))

    def _refuse_typing(self, target) -> None:
        self.app.bell()
        last, when = self._refused
        if last is target and time.monotonic() - when < 3:
            return  # one notice per burst of typing, not one per key
        self._refused = (target, time.monotonic())
        what = "a button" if isinstance(target, Button) else "a choice (enter opens it)"
        self._warn(f"Not typed: the cursor is on {what}. Tab moves to the next text field; F3 goes to Summary.")
