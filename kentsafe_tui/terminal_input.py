"""Alt keys that arrive in a burst reach the app as alt keys, never as typed letters.

Over SSH, keys typed quickly arrive together. A terminal sends alt+i as ESC then "i", and Textual's parser
takes that pair as complete only when nothing follows it within its escape delay. When another escape sequence
follows at once (alt+c, an arrow, F4), the parser gives the pair up and issues it as keys, the ESC as "^": one
burst of alt+c alt+i typed "^c^i" into Summary (tmux, textual 8.2.8). So each ESC-character pair is spelled,
before the parser sees it, as the kitty keyboard protocol spells the same key (CSI code;modifiers u), which the
parser takes as complete at once. Pasted text is left as it came. A pair split between two reads is left to
Textual: a terminal writes each key whole, so that takes the reading thread stalling between ESC and its letter.

Textual makes its parser in LinuxDriver's input thread from the module's name `XTermParser`: `install` points
that name here (textual is pinned below 9; a test checks the driver still makes its parser so).
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable

from textual import constants
from textual._ansi_sequences import ANSI_SEQUENCES_KEYS
from textual._xterm_parser import BRACKETED_PASTE_END, BRACKETED_PASTE_START, XTermParser
from textual.drivers import linux_driver
from textual.message import Message

_PASTE_MARK = re.compile(f"({re.escape(BRACKETED_PASTE_START)}|{re.escape(BRACKETED_PASTE_END)})")
# ESC and a letter or digit that Textual reads as alt+that key: not one that begins a longer sequence (SS3 "O",
# DCS "P", SOS "X"), nor one Textual maps to another key (alt+b and alt+f are word moves, as in a shell).
INTRODUCERS = frozenset("OPX")
_ALT_PAIR = re.compile("\x1b([" + "".join(
    character for character in string.ascii_letters + string.digits
    if character not in INTRODUCERS and "\x1b" + character not in ANSI_SEQUENCES_KEYS) + "])")
ALT, SHIFT = 2, 1  # the kitty protocol's modifier bits (sent as 1 + their sum)


def _kitty(pair: re.Match[str]) -> str:
    character = pair.group(1)
    if character.isupper():  # alt+shift+letter, as Textual names the pair
        return f"\x1b[{ord(character.lower())};{1 + ALT + SHIFT}u"
    return f"\x1b[{ord(character)};{1 + ALT}u"


class BurstSafeParser(XTermParser):
    """Textual's parser, fed alt keys in a spelling it cannot mistake for an unfinished sequence."""

    _pasting = False

    def feed(self, data: str) -> Iterable[Message]:
        return super().feed(self.spelled_out(data))

    def spelled_out(self, data: str) -> str:
        if "\x1b" not in data or constants.DISABLE_KITTY_KEY:  # then Textual would not read that spelling
            return data
        parts = []
        for part in _PASTE_MARK.split(data):
            if part == BRACKETED_PASTE_START:
                self._pasting = True
            elif part == BRACKETED_PASTE_END:
                self._pasting = False
            elif not self._pasting:
                part = _ALT_PAIR.sub(_kitty, part)
            parts.append(part)
        return "".join(parts)


def install() -> None:
    linux_driver.XTermParser = BurstSafeParser  # type: ignore[misc]
