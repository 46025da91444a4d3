"""Text that came from a person, made safe to print to a terminal.

Records are cleaned when saved, but anything printed (names, summaries, file contents, error messages that
quote them) goes through here too, so an escape sequence can never reach the terminal.
"""

from __future__ import annotations

import re
import unicodedata

# C0 and C1 controls except tab and newline, and the bidirectional overrides that can make text read
# differently from how it was written.
# Lone surrogates (from a broken file or a non-UTF-8 command line) go too: they cannot be printed.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def strip_controls(text: str) -> str:
    """Line endings made plain (\\r\\n and \\r become \\n) and control characters removed; nothing else changes."""
    return _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


def safe_line(text: str, keep_newlines: bool = False) -> str:
    """Control characters removed; newlines and tabs become spaces unless `keep_newlines`."""
    text = strip_controls(text)
    if not keep_newlines:
        text = text.replace("\n", " ").replace("\t", " ")
    return text


_JSON_UNSAFE = re.compile("[\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def json_escape(text: str) -> str:
    """JSON text (from json.dumps) with C1 controls, DEL, line and paragraph separators and bidirectional
    overrides written as \\uXXXX escapes: the same JSON to a parser, inert on a terminal. Those characters
    can only stand inside JSON strings, where the escape means the same thing."""
    return _JSON_UNSAFE.sub(lambda match: f"\\u{ord(match.group()):04x}", text)


# Characters that take up no room and show nothing, though they are not format characters.
_FILLERS = frozenset("\u115f\u1160\u3164\uffa0\u2800\u180e")
_UNSEEN = frozenset(("Cc", "Cf", "Cs", "Zs", "Zl", "Zp"))


def clean(text: str) -> str:
    """Text as kentsafe stores it: composed (NFC), line endings plain, and no control or format character
    (zero-width spaces and joiners, bidirectional marks, soft hyphens): they hide text, break searching,
    or take over a terminal, and nothing a person types needs them. Lone surrogates are dropped too."""
    text = strip_controls(text)
    if text.isascii():
        return text
    text = "".join(ch for ch in text if unicodedata.category(ch) not in ("Cf", "Cs"))
    return unicodedata.normalize("NFC", text)


def clean_deep(value: object) -> object:
    """`clean` applied to every string in a JSON-like value, keys of mappings included."""
    if isinstance(value, str):
        return clean(value)
    if isinstance(value, list):
        return [clean_deep(item) for item in value]
    if isinstance(value, dict):
        return {clean(key) if isinstance(key, str) else key: clean_deep(item) for key, item in value.items()}
    return value


def visible(text: str) -> bool:
    """Whether the text shows anything at all: not only spaces, fillers or invisible characters."""
    return any(not ch.isspace() and ch not in _FILLERS and unicodedata.category(ch) not in _UNSEEN for ch in text)
