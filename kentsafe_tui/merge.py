"""Putting two DSLs' changes to one record together, so that keeping mine never removes theirs.

Plain Python. Used when a save finds that someone else saved the same incident since it was opened.

- Text: a three-way merge by line against the version both started from. Changes to different lines (for
  example, both added a sentence at the end) are both kept. Changes to the same lines cannot be merged by a
  program: then both texts are kept, one after the other under a marked line, for the DSL to put right.
- Lists of rows (pupils, referrals, ...): my rows, then every row of theirs that was not there before and
  that I do not already have. Nothing they added is dropped.
- Anything else (a choice, a date): mine, with theirs kept in the history.
"""

from __future__ import annotations

from difflib import SequenceMatcher
from typing import Any

BOTH_MARK = "----- their version, saved by {by} -----"


def _changes(base: list[str], other: list[str]) -> list[tuple[int, int, list[str]]]:
    """(start, end, replacement) hunks that turn `base` into `other`, in base's line numbers."""
    matcher = SequenceMatcher(a=base, b=other, autojunk=False)
    return [(i1, i2, other[j1:j2]) for tag, i1, i2, j1, j2 in matcher.get_opcodes() if tag != "equal"]


def _touch(a: tuple[int, int, list[str]], b: tuple[int, int, list[str]]) -> bool:
    """Hunks clash when their base ranges overlap, or both insert at the same place."""
    (a1, a2, _), (b1, b2, _) = a, b
    if a1 == a2 and b1 == b2:
        return a1 == b1
    return a1 < b2 and b1 < a2 or (a1 == a2 and b1 <= a1 < b2) or (b1 == b2 and a1 <= b1 < a2)


def merge_text(base: str, mine: str, theirs: str) -> str | None:
    """The three-way merge of a text, or None when both changed the same lines."""
    if mine == theirs or theirs == base:
        return mine
    if mine == base:
        return theirs
    # Both appended to the end: theirs first (it was saved first), then mine.
    if mine.startswith(base) and theirs.startswith(base):
        added = mine[len(base):]
        joint = "" if not theirs or theirs.endswith(("\n", " ")) or added.startswith(("\n", " ")) else "\n"
        return theirs + joint + added
    base_lines, mine_lines, their_lines = (text.splitlines(keepends=True) for text in (base, mine, theirs))
    for lines in (base_lines, mine_lines, their_lines):  # a last line without a newline still compares equal
        if lines and not lines[-1].endswith("\n"):
            lines[-1] += "\n"
    my_hunks, their_hunks = _changes(base_lines, mine_lines), _changes(base_lines, their_lines)
    if any(_touch(m, t) for m in my_hunks for t in their_hunks):
        return None
    hunks = sorted(my_hunks + their_hunks, key=lambda hunk: (hunk[0], hunk[1]))
    merged: list[str] = []
    at = 0
    for start, end, replacement in hunks:
        merged.extend(base_lines[at:start])
        merged.extend(replacement)
        at = end
    merged.extend(base_lines[at:])
    text = "".join(merged)
    ends_open = not (mine.endswith("\n") or theirs.endswith("\n"))
    return text[:-1] if ends_open and text.endswith("\n") else text


def both_texts(mine: str, theirs: str, by: str) -> str:
    """Both versions, mine first, for the DSL to edit into one."""
    return f"{mine.rstrip()}\n{BOTH_MARK.format(by=by)}\n{theirs.strip()}"


def merge_rows(base: list[Any], mine: list[Any], theirs: list[Any]) -> list[Any]:
    if theirs == base:
        return list(mine)
    if mine == base:
        return list(theirs)
    added = [row for row in theirs if row not in base and row not in mine]
    return list(mine) + added


def merge_field(base: Any, mine: Any, theirs: Any, by: str) -> tuple[Any, bool]:
    """(value to keep, whether it holds both texts for the DSL to put right)."""
    if isinstance(mine, str) and isinstance(theirs, str):
        merged = merge_text(base if isinstance(base, str) else "", mine, theirs)
        if merged is None:
            return both_texts(mine, theirs, by), True
        return merged, False
    if isinstance(mine, list) and isinstance(theirs, list):
        return merge_rows(base if isinstance(base, list) else [], mine, theirs), False
    if isinstance(mine, dict) and isinstance(theirs, dict):  # referral answers: theirs, with mine over them
        return {**theirs, **mine}, False
    return mine, False
