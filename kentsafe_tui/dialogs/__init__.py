"""Modal dialogs. Each asks one thing and returns the answer through `dismiss`; escape always cancels."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.console import RenderableType
from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, OptionList, Static, TextArea
from textual.widgets.option_list import Option

from ..content import Library
from ..keys import MAIN_KEYS
from ..dates import describe
from ..store import ConflictError
from ..text import strip_controls
from ..widgets.safe_inputs import SafeButton, SafeInput, SafeTextArea


class Dialog(ModalScreen):
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="dialog.cancel")]
    _dismissed = False

    def dismiss(self, result: Any = None):
        # Answered once: a second answer from keys already on their way (enter, then a click or another
        # enter) would pop the screen below, or fail with nothing to pop.
        if self._dismissed or not self.is_current:
            return None
        self._dismissed = True
        return super().dismiss(result)

    def action_cancel(self) -> None:
        self.dismiss(None)

    def _on_resize(self, event: events.Resize) -> None:
        # As MainScreen._on_resize: the Resize Textual sends a new screen at the size it was just laid out at
        # would lay it out again, a second full render of a dialog as it opens.
        if event.size == self._compositor.size:
            event.prevent_default()


MAIN_SCREEN_KEYS = frozenset(key for action in MAIN_KEYS for key in action.keys)


class ClosesForActions:
    """A dialog only read (a report, a letter, help): a key of the main screen closes it and then does its work.

    Over a laggy link "escape, then ctrl+g" can arrive as one read, and a terminal's escape followed at once by
    another key reads as that key with alt: the escape is gone, and the dialog stays open over the form the
    keys that follow were meant for. So the action key itself closes what is only being read.
    """

    def on_key(self, event: events.Key) -> None:
        if event.key in MAIN_SCREEN_KEYS:
            event.stop()
            event.prevent_default()
            self.dismiss(None)  # type: ignore[attr-defined]
            self.app.hand_on_next(events.Key(event.key, event.character))  # type: ignore[attr-defined]


class ReadingDialog(ClosesForActions, Dialog):
    """Something to read and scroll through (help, oversight); escape closes it."""

    DEFAULT_CLASSES = "covering"

    def __init__(self, title: str, subtitle: str, *parts: RenderableType, body_id: str = "reading-body") -> None:
        super().__init__()
        self.title_text, self.subtitle, self.parts, self.body_id = title, subtitle, parts, body_id

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog full-dialog") as box:
            box.border_title = self.title_text
            box.border_subtitle = self.subtitle
            with VerticalScroll(id=self.body_id, classes="reading-body"):
                for part in self.parts:
                    yield Static(part)

    def on_mount(self) -> None:
        self.set_focus(self.query_one(f"#{self.body_id}"))


class PickerDialog(Dialog):
    """Choose one of a list; typing narrows it."""

    def __init__(self, title: str, choices: list[tuple[Text | str, Any]], hint: str = "") -> None:
        super().__init__()
        self.title_text = title
        self.choices = choices
        self.hint = hint

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide-dialog") as box:
            box.border_title = self.title_text
            yield SafeInput(placeholder="Type to narrow the list; enter chooses; escape cancels", id="picker-filter")
            yield OptionList(id="picker-options")
            if self.hint:
                yield Static(Text(self.hint), classes="hint")

    def on_mount(self) -> None:
        self._fill("")
        self.set_focus(self.query_one("#picker-filter"))

    def _fill(self, words: str) -> None:
        wanted = words.casefold().split()
        options = self.query_one("#picker-options", OptionList)
        self.visible_values = []
        prompts = []
        for label, value in self.choices:
            plain = label.plain if isinstance(label, Text) else label
            if all(word in plain.casefold() for word in wanted):
                prompts.append(Option(label if isinstance(label, Text) else Text(label)))
                self.visible_values.append(value)
        options.set_options(prompts)
        if prompts:
            options.highlighted = 0

    @on(Input.Changed, "#picker-filter")
    def _narrow(self, event: Input.Changed) -> None:
        self._fill(event.value)

    @on(Input.Submitted, "#picker-filter")
    def _submit(self) -> None:
        options = self.query_one("#picker-options", OptionList)
        if options.highlighted is not None and self.visible_values:
            self.dismiss(self.visible_values[options.highlighted])

    @on(OptionList.OptionSelected, "#picker-options")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.visible_values[event.option_index])

    def on_key(self, event) -> None:
        # Up and down move through the list while typing in the filter.
        if event.key in ("up", "down") and self.focused is self.query_one("#picker-filter"):
            options = self.query_one("#picker-options", OptionList)
            options.action_cursor_down() if event.key == "down" else options.action_cursor_up()
            event.stop()


class SearchDialog(PickerDialog):
    """Search every guidance section, contacts first."""

    def __init__(self, library: Library) -> None:
        super().__init__("Search contacts and guidance", [])
        self.library = library

    def _fill(self, words: str) -> None:
        options = self.query_one("#picker-options", OptionList)
        self.visible_values = []
        prompts = []
        if words.strip():
            found = self.library.search(words)
            found.sort(key=lambda pair: pair[0].kind != "contacts")
            for document, section in found[:200]:
                label = Text(section.title, style="bold")
                label.append(f"  in {document.title}", style="dim")
                prompts.append(Option(label))
                self.visible_values.append((document.slug, section.anchor))
        options.set_options(prompts)
        if prompts:
            options.highlighted = 0


class AskTextDialog(Dialog):
    """Ask for a piece of text (a reason, a note, an outcome)."""

    def __init__(self, title: str, question: str, initial: str = "", required: bool = True,
                 multiline: bool = False, ok_label: str = "OK") -> None:
        super().__init__()
        self.title_text, self.question, self.initial = title, question, initial
        self.required, self.multiline, self.ok_label = required, multiline, ok_label
        self._warned = False

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog") as box:
            box.border_title = self.title_text
            yield Static(Text(self.question), classes="question")
            if self.multiline:
                yield SafeTextArea(self.initial, id="answer")
            else:
                yield SafeInput(self.initial, id="answer")
            yield Static("", id="answer-error", classes="error")
            with Horizontal(classes="buttons"):
                yield SafeButton(f"{self.ok_label} ({'ctrl+s' if self.multiline else 'enter'})", id="ok",
                             variant="primary")
                yield SafeButton("Cancel (esc)", id="cancel")

    BINDINGS = [*Dialog.BINDINGS, Binding("ctrl+s", "ok", "OK", show=False)]

    def on_mount(self) -> None:
        self.set_focus(self.query_one("#answer"))

    def _value(self) -> str:
        answer = self.query_one("#answer")
        return answer.text if isinstance(answer, TextArea) else answer.value  # type: ignore[attr-defined]

    def action_cancel(self) -> None:
        """Escape drops what was typed only when pressed twice: on a slow link escape can arrive unmeant."""
        if self._value() != self.initial and not self._warned:
            self._warned = True
            error = self.query_one("#answer-error", Static)
            error.update("Press escape again to drop what you typed, or "
                         f"{'ctrl+s' if self.multiline else 'enter'} to keep it.")
            error.display = True
            return
        self.dismiss(None)

    def action_ok(self) -> None:
        value = self._value()
        if self.required and not value.strip():
            error = self.query_one("#answer-error", Static)
            error.update("This is needed for the record: write a few words, or press escape to cancel.")
            error.display = True
            return
        self.dismiss(value)

    @on(Input.Submitted, "#answer")
    def _submitted(self) -> None:
        self.action_ok()

    @on(Button.Pressed, "#ok")
    def _ok(self) -> None:
        self.action_ok()

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.action_cancel()


class ChoiceDialog(Dialog):
    """A question with a few answers, each a button. Safe answers have a key; one that throws typing away
    does not (a key typed a moment too late must never discard anything), and only the first answer counts."""

    def __init__(self, title: str, message: Text | str, choices: list[tuple[str | None, str, str]]) -> None:
        """`choices` are (key or None, label, value); the first is the default."""
        super().__init__()
        self.title_text, self.message, self.choices = title, message, choices
        self._answered = False

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog") as box:
            box.border_title = self.title_text
            yield Static(self.message if isinstance(self.message, Text) else Text(self.message), classes="question")
            with Horizontal(classes="buttons"):
                for index, (key, label, value) in enumerate(self.choices):
                    shown = f"{label} ({'esc' if key == 'escape' else key})" if key else label
                    yield SafeButton(shown, id=f"choice-{value}", variant="primary" if index == 0 else "default",
                                 compact=True)

    def on_mount(self) -> None:
        self.set_focus(self.query(Button).first())

    def answer(self, value: str | None) -> None:
        if not self._answered:
            self._answered = True
            self.dismiss(value)

    def action_cancel(self) -> None:
        self.answer(None)

    def on_key(self, event) -> None:
        for key, _, value in self.choices:
            if key and event.key == key:
                event.stop()
                self.answer(value)
                return

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.answer((event.button.id or "").removeprefix("choice-"))


class ConflictDialog(Dialog):
    """Someone else saved this incident since it was opened: show what differs and let the DSL choose."""

    def __init__(self, conflict: ConflictError, mine: dict[str, list]) -> None:
        super().__init__()
        self.conflict, self.mine = conflict, mine

    def compose(self) -> ComposeResult:
        last = self.conflict.theirs[-1]
        with Vertical(classes="dialog wide-dialog") as box:
            box.border_title = "Someone else changed this incident"
            yield Static(Text(f"{last.get('by')} saved {self.conflict.incident_id} at {describe(last.get('at'))}, "
                              "after you opened it. Nothing has been saved or overwritten.", style="bold"))
            with VerticalScroll(classes="differences"):
                yield Static(self._differences())
            with Horizontal(classes="buttons"):
                yield SafeButton("Keep mine with theirs (k)", id="amend", variant="primary")
                yield SafeButton("Reload theirs (r)", id="reload")
                yield SafeButton("Cancel (esc)", id="cancel")

    def _differences(self) -> Text:
        from ..export import FIELD_LABELS, value_text

        text = Text()
        theirs: dict[str, list] = {}
        for entry in self.conflict.theirs:
            for key, pair in entry.get("changes", {}).items():
                theirs.setdefault(key, [pair[0], pair[1]])[1] = pair[1]
        text.append("Their changes\n", style="bold underline")
        for key, (_, new) in theirs.items():
            text.append(f"  {FIELD_LABELS.get(key, key)}: ", style="bold")
            text.append(value_text(key, new) + "\n")
        text.append("\nYour unsaved changes\n", style="bold underline")
        for key, (_, new) in self.mine.items():
            both = " (they changed this too)" if key in theirs else ""
            text.append(f"  {FIELD_LABELS.get(key, key)}{both}: ", style="bold")
            text.append(value_text(key, new) + "\n")
        text.append("\nKeep mine with theirs: your changes go on top of theirs. Text you both added to is merged; "
                    "where you both changed the same lines, both versions are put in the form for you to settle "
                    "before saving. Nothing of theirs is removed. Reload theirs: the form shows their version, and "
                    "your typing is kept aside (ctrl+p, 'Restore unsaved work').", style="italic")
        return text

    def on_mount(self) -> None:
        self.set_focus(self.query_one("#amend"))

    def on_key(self, event) -> None:
        if event.key in ("k", "r"):
            event.stop()
            self.dismiss("amend" if event.key == "k" else "reload")

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(None if event.button.id == "cancel" else event.button.id)


class SettingsDialog(Dialog):
    """The school's settings used in letters; the same as `kentsafe settings`. Returns the new values."""

    BINDINGS = [*Dialog.BINDINGS, Binding("ctrl+s", "save", "Save", show=False)]

    def __init__(self, current: dict[str, str], meanings: dict[str, str]) -> None:
        super().__init__()
        self.current, self.meanings = current, meanings

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide-dialog") as box:
            box.border_title = "School settings (used in letters; shared by every DSL using this database)"
            for key, meaning in self.meanings.items():
                yield Label(Text(meaning[0].upper() + meaning[1:]), classes="field-label")
                yield SafeInput(self.current.get(key, ""), id=f"setting-{key}")
            with Horizontal(classes="buttons"):
                yield SafeButton("Save (ctrl+s)", id="save", variant="primary")
                yield SafeButton("Cancel (esc)", id="cancel")

    def on_mount(self) -> None:
        self.set_focus(self.query(Input).first())

    def action_save(self) -> None:
        self.dismiss({key: self.query_one(f"#setting-{key}", Input).value for key in self.meanings})

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.action_save() if event.button.id == "save" else self.dismiss(None)


class TextViewDialog(ClosesForActions, Dialog):
    """Show a report or a letter, where it was saved, and copy it."""

    BINDINGS = [*Dialog.BINDINGS, Binding("c", "copy", "Copy", show=False)]

    def __init__(self, title: str, text: str, path: Path | None) -> None:
        super().__init__()
        # Reports are cleaned where they are made; cleaned again here, as they go to the terminal and the
        # clipboard, so no control character in a record can reach either.
        self.title_text, self.text, self.path = strip_controls(title), strip_controls(text), path

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide-dialog tall-dialog") as box:
            box.border_title = self.title_text
            if self.path:
                yield Label(Text(f"Saved to {self.path}"), classes="saved-path")
            yield TextArea(self.text, read_only=True, soft_wrap=True, id="viewer")
            with Horizontal(classes="buttons"):
                yield SafeButton("Copy to clipboard (c)", id="copy", variant="primary")
                yield SafeButton("Close (escape)", id="close")

    def action_copy(self) -> None:
        self.app.copy_to_clipboard(self.text)
        self.app.notify("Copied (OSC 52). If nothing arrived, open the saved file instead.", markup=False)

    @on(Button.Pressed, "#copy")
    def _copy(self) -> None:
        self.action_copy()

    @on(Button.Pressed, "#close")
    def _close(self) -> None:
        self.dismiss(None)
