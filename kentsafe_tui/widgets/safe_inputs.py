"""Text fields that keep exactly what was typed or pasted, minus control characters.

Textual's Input keeps only the first line of a paste; here the lines are joined with spaces instead, so the
length check can say the text is too long rather than part of it vanishing. Neither field blinks its
cursor: over SSH every blink is a repaint.

Over a slow SSH link several keys can arrive in one read ("abc<tab>def"). Textual hands every one of them to
the field focused when they arrive, and moves focus for the tab only afterwards, so "def" would land in the
field just left. These fields move focus on tab at once and pass on any key that reaches them after focus
has gone.
"""

from __future__ import annotations

from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.reactive import Reactive
from textual.widgets import Button, Input, Select, TextArea

from ..model import clean_text


class FollowFocus:
    """Keys go where the focus is now, not where it was when they arrived.

    Textual calls `_on_key` of every class in the MRO in turn until one prevents the default, so returning
    without preventing lets the field's own handler run next.
    """

    async def _on_key(self, event: events.Key) -> None:
        focused = self.app.focused  # type: ignore[attr-defined]
        # A key bubbling up from inside (a Select's open list) is not one to pass on: only keys that reached
        # this field after focus left it altogether.
        if focused is not None and self not in focused.ancestors_with_self:
            event.stop()
            event.prevent_default()
            focused._forward_event(events.Key(event.key, event.character))
            return
        if event.key in ("tab", "shift+tab") and not getattr(self, "tab_inserts", False):
            event.stop()
            event.prevent_default()
            self.screen.focus_next() if event.key == "tab" else self.screen.focus_previous()


class SafeInput(FollowFocus, Input):
    # Input sets its virtual size to the text's width on every key, and Widget declares that a layout change:
    # a layout of the whole screen (130 widgets) per key, and scrollbars repainted a frame later. The field's
    # own size never depends on it, so here it only repaints the field.
    virtual_size = Reactive(Size(0, 0), layout=False)

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("compact", True)
        # Selecting the text on entry meant one key replaced a whole field (F3 into a saved Summary).
        kwargs.setdefault("select_on_focus", False)
        super().__init__(*args, **kwargs)
        self.cursor_blink = False

    def _on_paste(self, event: events.Paste) -> None:
        text = " ".join(clean_text(event.text).replace("\t", " ").splitlines())
        if text:
            selection = self.selection
            if selection.is_empty:
                self.insert_text_at_cursor(text)
            else:
                self.replace(text, *selection)
        event.stop()
        event.prevent_default()  # Textual's own handler would insert the first line again


class SafeTextArea(FollowFocus, TextArea):
    """Entering the box by keyboard puts the cursor at the end of its text: an update to an account is added
    after what is there, never typed into the middle of it. ctrl+end / ctrl+home go to the end / start."""

    BINDINGS = [
        Binding("ctrl+end", "to_end", "End of text", show=False),
        Binding("ctrl+home", "to_start", "Start of text", show=False),
    ]

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("soft_wrap", True)
        kwargs.setdefault("show_line_numbers", False)
        kwargs.setdefault("tab_behavior", "focus")
        kwargs.setdefault("compact", True)
        super().__init__(*args, **kwargs)
        self.cursor_blink = False

    def action_to_end(self) -> None:
        self.move_cursor(self.document.end)

    def action_to_start(self) -> None:
        self.move_cursor((0, 0))

    def on_focus(self, event: events.Focus) -> None:
        self.move_cursor(self.document.end)

    async def _on_paste(self, event: events.Paste) -> None:
        event.stop()
        event.prevent_default()
        if self.read_only:
            return
        if result := self._replace_via_keyboard(clean_text(event.text), *self.selection):
            self.move_cursor(result.end_location)
            self.screen.set_focus(self)


class SafeSelect(FollowFocus, Select):
    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("compact", True)
        super().__init__(*args, **kwargs)


class SafeButton(FollowFocus, Button):
    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("compact", True)
        super().__init__(*args, **kwargs)

    def action_press(self) -> None:
        # Textual ignores enter on a button for 0.2 s after a press (its "-active" flash). Typed fast, "+ Add a
        # pupil", a name and three tabs come back to the same button within that time, and the second enter
        # was lost: the next pupil's name then went nowhere. Keys reach a button one at a time, each after the
        # last one's press has been handled (kentsafe_tui.settle), so every enter is one press.
        self.press()
