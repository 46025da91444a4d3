"""Text that came from a person, made safe to print to a terminal.

Records are cleaned when saved, but anything printed (names, summaries, file contents, error messages that
quote them) goes through here too, so an escape sequence can never reach the terminal.
"""

from __future__ import annotations

import re

# C0 and C1 controls except tab and newline, and the bidirectional overrides that can make text read
# differently from how it was written.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


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
