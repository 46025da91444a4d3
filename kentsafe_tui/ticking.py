"""Naming checklist items by number or by words, as the checklist's tick line (t) and find line (/) read them.

"1 3 5-7 police" names items 1, 3, 5, 6, 7 and the one item whose text holds "police". Words that fit several
items are questioned with their numbers, never guessed; a number the list does not have is questioned too.
Plain Python, no Textual.
"""

from __future__ import annotations

import re

from .model import ChecklistItem

NUMBERS = re.compile(r"^(\d{1,4})(?:-(\d{1,4}))?$")


def pick(typed: str, items: list[ChecklistItem], several: bool = True) -> tuple[list[str], list[str]]:
    """The ids the line names, in the order named (each once), and what must be put right first. With
    `several` False (the find line) one item is wanted, and words go to the first item that has them."""
    chosen: list[str] = []
    problems: list[str] = []
    words: list[str] = []

    def take(index: int) -> None:
        if items[index].id not in chosen:
            chosen.append(items[index].id)

    def phrase_done() -> None:
        if not words:
            return
        phrase = " ".join(words)
        found = [i for i, item in enumerate(items) if all(w in item.text.casefold() for w in words)]
        words.clear()
        if not found:
            problems.append(f"No item has \"{phrase}\".")
        elif len(found) > 1 and several:
            numbers = ", ".join(str(i + 1) for i in found[:8]) + (" …" if len(found) > 8 else "")
            problems.append(f"\"{phrase}\" is in {len(found)} items ({numbers}): give the number or more words.")
        else:
            take(found[0])

    tokens = []
    for group in typed.casefold().split(","):  # a comma ends a phrase: "platform, risk" names two items
        tokens += group.split() + [","]
    for token in tokens:
        if token == ",":
            phrase_done()
            continue
        match = NUMBERS.match(token)
        if not match:
            words.append(token)
            continue
        phrase_done()
        first, last = int(match.group(1)), int(match.group(2) or match.group(1))
        if first > last:
            first, last = last, first
        if first < 1 or last > len(items):
            problems.append(f"There is no item {last if last > len(items) else first}: the checklist has "
                            f"{len(items)}.")
            continue
        for number in range(first, last + 1):
            take(number - 1)
    phrase_done()
    if not several and len(chosen) > 1:
        problems.append("Give one item: its number or words from it.")
    return chosen, problems
