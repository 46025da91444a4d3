"""Every action a DSL can take by key: the one list that bindings, the palette, help, footer and README share.

Plain data, no Textual, so the README check and the help screen read the same list the bindings are built from.

Why these fallback keys: measured in tmux with TERM=xterm-256color and TERM=screen, `alt+<letter>` arrives as
its own key, but Textual marks it printable, so a text field would type the letter: every fallback is therefore
a *priority* binding, taken before the focused field sees it. `alt+<digit>` arrives as an unrelated character
(alt+1 as "¡"), so digits are not used; nor are alt+f and alt+b, which arrive as ctrl+right and ctrl+left
(readline's word moves). F-keys are priority too: inside a text area F6 and F7 would otherwise
select its text (a line, everything), and the next key would replace it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class KeyAction:
    id: str
    keys: tuple[str, ...]  # the first is the one shown; the others are fallbacks
    action: str  # the action on the main screen (or the app, for app.*)
    title: str  # as the command palette and footer name it
    meaning: str  # as help and the README say it
    footer: str = ""  # the footer's short label; empty: not in the footer (help and the palette have it)

    @property
    def key(self) -> str:
        return self.keys[0]

    @property
    def fallbacks(self) -> tuple[str, ...]:
        return self.keys[1:]


APP_KEYS = [
    KeyAction("app.quit", ("ctrl+q", "alt+q"), "request_quit", "Quit",
              "Quit; with unsaved changes, asks save / discard / cancel", footer="Quit"),
    KeyAction("app.help", ("f1", "alt+h"), "screen.help", "Help", "This help: every key, and where the data is",
              footer="Help"),
    KeyAction("app.palette", ("ctrl+p", "alt+p"), "command_palette", "Commands",
              "Command palette: every action by name"),
]

MAIN_KEYS = [
    KeyAction("main.new", ("ctrl+n", "alt+n"), "new", "New incident",
              "New incident; the cursor lands in its Summary", footer="New"),
    KeyAction("main.save", ("ctrl+s", "alt+s"), "save", "Save", "Save the incident being edited", footer="Save"),
    KeyAction("main.open", ("ctrl+o", "alt+o"), "open_list", "Open incident list",
              "Open the incident list: type to filter, enter to open", footer="Open"),
    KeyAction("main.find", ("ctrl+g", "alt+j"), "find_field", "Go to a field",
              "Go to any field or row by its letters: f How it was followed up, u add an update; a list's letter "
              "waits: p2 the second pupil, p enter its quick line", footer="Go to"),
    KeyAction("main.stamp", ("ctrl+t", "alt+t"), "stamp_time", "Type the time",
              "The date and time: in a text box a new line with your name; in a date field, now"),
    KeyAction("main.guidance", ("f2", "alt+g"), "focus_pane('guidance')", "Focus guidance", "Focus the guidance"),
    KeyAction("main.form", ("f3", "alt+i"), "focus_pane('form')", "Focus form",
              "Focus the form: Summary, cursor at the end of its text"),
    KeyAction("main.checklist", ("f4", "alt+c"), "focus_pane('checklist')", "Focus checklist",
              "Focus the checklist"),
    KeyAction("main.record_keeping", ("f5", "alt+r"), "record_keeping", "Record-keeping guide",
              "Show the record-keeping guide in the guidance pane"),
    KeyAction("main.oversight", ("f6", "alt+v"), "oversight", "Oversight",
              "Oversight: counts, charts and what is slipping"),
    KeyAction("main.export", ("f7", "alt+e"), "export", "Export report",
              "Export this incident's report (HTML and Markdown, saved beside the database)"),
    KeyAction("main.letter", ("f8", "alt+l"), "letter", "Parent letter", "The parent letter for this incident"),
    KeyAction("main.first_hour", ("f9", "alt+u"), "first_hour", "The first hour",
              "The first hour: its steps in order, each with how far this incident's checklist has got"),
]

# Actions with no key of their own: in the command palette only.
PALETTE_ONLY = [
    ("Staff briefing", "The short staff briefing, filled in", "staff_briefing"),
    ("Restore unsaved work", "Typing left by a kentsafe that closed before saving", "restore_drafts"),
    ("Pupil chronology", "Every incident naming a pupil, in the order the concerns arose", "pupil_chronology"),
    ("School settings", "School name, DSL name and phone for letters (as kentsafe settings)", "settings"),
]

# Keys that belong to a widget, not to an action of the app (for help and the README).
IN_FORM = [
    ("tab, shift+tab", "Next / previous field"),
    ("enter, in a Quick add line", "Add the row it describes once the line below it reads right (a word it does "
     "not know is questioned); on an empty line, go on to the next field"),
    ("ctrl+end, ctrl+home", "In a text box: to the end / start of its text"),
    ("y, n", "On a refer-at-once question: answer yes / no and move to the next"),
    ("escape", "Close a dialog or list without choosing"),
]
IN_CHECKLIST = [
    ("up, down", "Move; the guidance shows where the item comes from"),
    ("space  /  enter", "Tick the item done (records who and when), or back to to-do"),
    ("x", "Tick it done and move on to the next item still to do (never unticks)"),
    ("t", "Tick several at once by number or words: 1 3 5-7 police (items set aside keep their reason)"),
    ("/  or a number", "Go to an item by its number or words"),
    ("]  [", "Next / previous item still to do"),
    ("n", "Not applicable: asks for the reason"),
    ("e", "Add or change the item's note"),
]
IN_LIST = [
    ("letters, backspace", "Filter on any words of any field (names, summary, details, id)"),
    ("up, down, page up, page down", "Move"),
    ("enter", "Open the highlighted incident"),
    ("ctrl+n, f2 to f6", "Close the list, then do their work (a new incident, a pane, a guide, oversight); "
     "the keys for the incident being edited (save, export, letter, go to) wait for escape"),
]
IN_GUIDANCE = [
    ("up, down, page up, page down", "Scroll"),
    ("[  ]", "Previous / next section"),
    ("h", "Jump to a heading"),
    ("l", "Links: enter opens another document, or copies a web address (OSC 52)"),
    ("d", "Open another document"),
    ("/", "Search contacts and guidance"),
    ("b", "Back to the previous document"),
]


def all_keys() -> list[KeyAction]:
    return [*MAIN_KEYS, *APP_KEYS]


def help_sections() -> list[tuple[str, list[tuple[str, str]]]]:
    anywhere = [("  /  ".join(k.keys), k.meaning) for k in all_keys()]
    return [("Anywhere", anywhere + IN_FORM), ("In the incident list", IN_LIST), ("In the checklist", IN_CHECKLIST),
            ("In the guidance", IN_GUIDANCE)]


def palette() -> list[tuple[str, str, str]]:
    """(title, help, action) for the command palette: every main-screen action, by name."""
    keyed = [(k.title, f"{k.meaning} ({k.key})", k.action) for k in MAIN_KEYS]
    return keyed + PALETTE_ONLY + [("Help", "Every key, and where the data is (f1)", "help")]
