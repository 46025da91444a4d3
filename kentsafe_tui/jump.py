"""Going straight to a field: every place in the form has a short code (s Summary, f How it was followed up,
p2 the second pupil), shown in the finder beside its name.

Plain Python: the form lists its places, and `narrow` decides what typing in the finder shows and when it has
said enough to go there. A field's letter is taken at once (ctrl+g f: two keys). A list's letter always waits,
whether or not the list has rows yet, so the same keys always do the same thing: a digit then takes that row
(ctrl+g p 2), and enter the list's quick line (ctrl+g p enter). Letters name places, not words: the finder
shows them all, and letters that name nothing are said to, not guessed at.
"""

from __future__ import annotations

from dataclasses import dataclass

# (code, name, where): where is a widget id in the form, or one of SPECIAL.
FIELDS = [
    ("s", "Summary", "f-summary"),
    ("w", "When the concern arose", "f-concern_at"),
    ("c", "Category", "f-category"),
    ("g", "Scope (which branch of the guidance)", "f-scope"),
    ("t", "Status (closing, reopening)", "f-status"),
    ("h", "What happened", "f-details"),
    ("p", "Pupils named: quick add", "quick-pupils"),
    ("e", "Referral decision", "f-referral_decision"),
    ("y", "Reason for the referral decision", "f-referral_rationale"),
    ("r", "Referrals and reports: quick add", "quick-referrals"),
    ("i", "Parents informed", "f-parents_informed"),
    ("n", "About informing parents", "f-parents_note"),
    ("f", "How it was followed up", "f-follow_up"),
    ("u", "Add an update: the end of How it was followed up, the time stamped", "update"),
    ("a", "Actions taken", "f-actions"),
    ("d", "Decisions: quick add", "quick-decisions"),
    ("o", "Outcome", "f-outcome"),
    ("x", "File sent to another school: quick add", "quick-transfers"),
    ("k", "The checklist", "checklist"),
]
ROW_CODES = {"pupils": "p", "referrals": "r", "decisions": "d", "transfers": "x"}


@dataclass(frozen=True)
class Place:
    code: str
    name: str
    where: str
    waits: bool = False  # a list's letter: taken only by enter, so that it means the same with or without rows


def places(rows: dict[str, list[str]], questions: list[tuple[str, str]], lower_form: bool = True) -> list[Place]:
    """Every place, in the form's order: `rows` names each list's rows ("Jordan Example"), `questions` the
    referral questions as (widget id, text). Before the lower form has arrived only its top fields exist."""
    found: list[Place] = []
    for code, name, where in FIELDS:
        if not lower_form and where not in ("f-summary", "f-concern_at", "f-category", "f-scope", "f-status",
                                             "f-details", "checklist"):
            continue
        if where == "quick-pupils":
            found.append(Place(code, name, where, waits=True))
            found.extend(_rows("pupils", "Pupil", rows.get("pupils", []), "name"))
            for number, (ident, text) in enumerate(questions, 1):
                found.append(Place(f"q{number}", f"Question {number}: {text}", ident))
            continue
        found.append(Place(code, name, where, waits=where.startswith("quick-")))
        for kind, field in (("referrals", "agency"), ("decisions", "decision"), ("transfers", "sent_to")):
            if where == f"quick-{kind}":
                found.extend(_rows(kind, kind[:-1].capitalize(), rows.get(kind, []), field))
    return found


def _rows(kind: str, title: str, labels: list[str], field: str) -> list[Place]:
    return [Place(f"{ROW_CODES[kind]}{number}", f"{title} {number}" + (f": {label}" if label else ""),
                  f"{kind}-{number - 1}-{field}") for number, label in enumerate(labels, 1)]


def narrow(all_places: list[Place], typed: str) -> tuple[list[Place], Place | None]:
    """What to show for what is typed, and the place to go to at once (None: wait for more, or enter). Nothing
    shown means the letters name no place."""
    wanted = typed.strip().casefold()
    shown = [place for place in all_places if place.code.startswith(wanted)]
    exact = [place for place in shown if place.code == wanted and not place.waits]
    return shown, exact[0] if exact and len(shown) == 1 else None
