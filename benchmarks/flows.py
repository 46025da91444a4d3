"""The keystroke benchmark's two cases as data: each a list of steps, each step a list of tokens, with the record
the DSL means beside it (issue 13).

A token is `Text("...")` (what the DSL types into a field: counted as text, never as keys), `Key("tab")` or
`Key("down", 3)` (each press counts one), or `Wait("...")` (a sync point: the runner waits until that text is on
the screen before it sends more; never counted, and only where a person would also look). Key names are
Textual's (`tab`, `shift+tab`, `enter`, `escape`, `space`, `up`, `down`, `f1`..`f9`, `ctrl+s`, `alt+n`) or one
printable character (`n`, `e` in the checklist, the first letters that move a choice list).

The steps below use the keys of issue 13 ("after": the field finder ctrl+g, quick-entry lines, y/n on the
questions, a checklist that moves on to the next item to do). The "before" steps, with the keys of 99c586a, are
in benchmarks/keystrokes.py's docstring with their counts; the expected records did not change, so the benchmark
checks that the new keys make exactly the same record as the old ones did.

Relative dates ("yesterday 16:30") are typed as a DSL types them; the expected record is computed for the day
the benchmark runs, in Europe/London (the time zone the runner gives the app).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

USER = "Jo DSL"  # who the benchmark acts as (--user); ticks, decisions and the record carry it
ZONE = ZoneInfo("Europe/London")


# Tokens ------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Text:
    """Typed into the field that has the cursor. Counted as text characters, never as keys."""

    text: str


@dataclass(frozen=True)
class Key:
    """A key press, `count` times in a row. Each press counts one."""

    name: str
    count: int = 1

    def __post_init__(self) -> None:
        if self.count < 1:
            raise ValueError(f"Key({self.name!r}, {self.count}): a key is pressed at least once")


@dataclass(frozen=True)
class Wait:
    """A sync point: the runner waits for this text on the screen. Not a key; never counted."""

    text: str


Token = Text | Key | Wait


@dataclass(frozen=True)
class Step:
    name: str
    tokens: tuple[Token, ...]
    how: str = ""  # how the step is done with these keys, in words (printed with --how)

    @property
    def keys(self) -> int:
        return sum(token.count for token in self.tokens if isinstance(token, Key))

    @property
    def text_chars(self) -> int:
        return sum(len(token.text) for token in self.tokens if isinstance(token, Text))


def step(name: str, *tokens: Token, how: str = "") -> Step:
    return Step(name, tuple(tokens), how)


@dataclass(frozen=True)
class Flow:
    name: str
    title: str
    steps: tuple[Step, ...]
    expected: dict[str, Any]  # the record the DSL means (every editable field), see `record`
    checklist: dict[str, tuple[str, str]]  # item id -> (state, note); every other item: to do, no note
    outputs: tuple[str, ...] = ()  # files the flow makes in exports/: "report", "letter"

    @property
    def keys(self) -> int:
        return sum(s.keys for s in self.steps)

    @property
    def text_chars(self) -> int:
        return sum(s.text_chars for s in self.steps)

    def tokens(self) -> list[Token]:
        return [token for s in self.steps for token in s.tokens]


# The expected record ---------------------------------------------------------------------------------------------
# Every field a DSL edits, with the value a new incident has.
DEFAULTS: dict[str, Any] = {
    "details": "", "category": "harmful_content", "scope": "reported_here", "status": "open", "pupils": [],
    "referral_check": {}, "referral_decision": "", "referral_rationale": "", "referrals": [],
    "parents_informed": "not_yet", "parents_note": "", "follow_up": "", "actions": "", "decisions": [],
    "outcome": "", "transfers": [],
}


def record(summary: str, **fields: Any) -> dict[str, Any]:
    """The whole record as the DSL means it: every editable field, the defaults where nothing is typed.
    `concern_at` is checked only when given (otherwise it is the moment of creation)."""
    unknown = set(fields) - set(DEFAULTS) - {"concern_at"}
    if unknown:
        raise ValueError(f"not a field of the record: {sorted(unknown)}")
    return {"summary": summary, **DEFAULTS, **fields, "created_by": USER}


def pupil(name: str, year_group: str = "", role: str = "harmed", date_of_birth: str = "") -> dict:
    return {"name": name, "year_group": year_group, "role": role, "date_of_birth": date_of_birth}


def referral(agency: str, at: str = "", reference: str = "", note: str = "") -> dict:
    return {"agency": agency, "at": at, "reference": reference, "note": note}


def decision(what: str, reason: str) -> dict:
    return {"decision": what, "reason": reason, "by": USER}


def yesterday_at(hour: int, minute: int, today: date | None = None) -> str:
    """What the app stores for "yesterday HH:MM" typed today (Europe/London)."""
    day = (today or datetime.now(ZONE).date()) - timedelta(days=1)
    return datetime.combine(day, time(hour, minute), ZONE).isoformat(timespec="seconds")


# The founding case (issue 13) ---------------------------------------------------------------------------------------
# A video of abuse shared in a class group chat: three pupils, a police and a Front Door referral, a decision with
# its reason, seven ticks, a note, one item not applicable, the report, the parent letter, then closing.
FOUNDING_SUMMARY = "Video of abuse shared in the 9R class group chat"
FOUNDING_OUTCOME = "Police and Front Door involved; all three pupils supported; video removed from the chat."


def founding(today: date | None = None) -> Flow:
    steps = (
        step("new incident", Key("ctrl+n"),
             how="ctrl+n: a new incident, the cursor in Summary"),
        step("summary and when", Text(FOUNDING_SUMMARY), Key("tab"), Text("yesterday 15:40"),
             how="type the summary; tab to When the concern arose (its 'now' is selected) and type over it. "
                 "Category and scope keep their defaults (harmful video or images; reported here): no keys"),
        step("three pupils",
             Key("ctrl+g"), Key("p"), Key("enter"),
             Text("Jordan Example, year 9, received"), Key("enter"),
             Text("Riley Sample, year 9, shared"), Key("enter"),
             Text("Casey Demo, year 9, told us"), Key("enter"),
             how="ctrl+g p enter: the pupils' quick line (a list's letter waits: p2 would be the second pupil); "
                 "each pupil as said, enter adds it and leaves the cursor on the line for the next"),
        step("police and Front Door referrals",
             Key("ctrl+g"), Key("e"), Key("enter"), Key("r"), Key("enter"),
             Key("ctrl+g"), Key("r"), Key("enter"),
             Text("police 101 yesterday 16:30 ref KP-0457"), Key("enter"),
             Text("front door yesterday 17:05 ref FD-2211"), Key("enter"),
             how="ctrl+g e: Referral decision, enter r enter (Referred, by its first letter); ctrl+g r: the "
                 "referrals' quick line (ctrl+g r enter), one line each, enter"),
        step("decision with its reason",
             Key("ctrl+g"), Key("d"), Key("enter"),
             Text("Do not speak to the wider year group yet because Police asked us to wait until they have "
                  "spoken to the three pupils"), Key("enter"),
             how="ctrl+g d enter: the decisions' quick line; the decision, 'because', the reason; enter"),
        step("save", Key("ctrl+s"),
             how="ctrl+s: the report is made from the saved record, and ticks on a saved one are written at once"),
        step("checklist: 7 ticks, a note, one n/a",
             Key("f4"), Key("down"), Key("x"),
             Key("down"), Key("x"),
             Key("e"), Text("Phone locked in the DSL safe, unopened"), Key("enter"), Key("x"),
             Key("down", 4), Key("x"),
             Key("x"),
             Key("n"), Text("Shared only in a closed group chat; no web address"), Key("enter"),
             Key("down"), Key("x"),
             Key("space"),
             how="f4 (the cursor on item 1); x ticks and moves the cursor on to the next item still to do, and "
                 "so does not applicable: down x (2), down x (4), e the note enter, x (5), down x4 x (10), "
                 "x (11), n the reason enter (12), down x (14), space (15)"),
        step("report", Key("f7"), Key("escape"),
             how="f7 writes the report (Markdown and HTML) and shows it; escape closes it"),
        step("parent letter", Key("f8"), Key("escape"),
             how="f8 writes the filled-in letter and shows it; escape closes it"),
        step("close with the outcome",
             Key("ctrl+g"), Key("t"), Key("enter"), Key("c"), Key("enter"), Text(FOUNDING_OUTCOME),
             Key("ctrl+s"),
             how="ctrl+g t: Status; enter c enter (Closed, by its first letter): the outcome dialog; type it; "
                 "ctrl+s closes and saves"),
    )
    expected = record(
        FOUNDING_SUMMARY,
        concern_at=yesterday_at(15, 40, today),
        status="closed",
        pupils=[pupil("Jordan Example", "9", "received"), pupil("Riley Sample", "9", "shared"),
                pupil("Casey Demo", "9", "disclosed")],
        referral_decision="referred",
        referrals=[referral("police_101", yesterday_at(16, 30, today), "KP-0457"),
                   referral("childrens_social_care", yesterday_at(17, 5, today), "FD-2211")],
        decisions=[decision("Do not speak to the wider year group yet",
                            "Police asked us to wait until they have spoken to the three pupils")],
        outcome=FOUNDING_OUTCOME,
    )
    checklist = {
        "hc-check-facts": ("done", ""),
        "hc-no-handling-imagery": ("done", ""),
        "hc-device-safe": ("done", "Phone locked in the DSL safe, unopened"),
        "hc-identify-children": ("done", ""),
        "hc-school-report-police": ("done", ""),
        "hc-school-report-iwf": ("not_applicable", "Shared only in a closed group chat; no web address"),
        "hc-head-governors": ("done", ""),
        "hc-inform-agencies": ("done", ""),
    }
    return Flow("founding", "Founding case: video of abuse in a class group chat", steps, expected, checklist,
                outputs=("report", "letter"))


# The nudes case -------------------------------------------------------------------------------------------------------
# Sharing nudes: the five refer-at-once questions answered (all no), the decision not to refer with its reason,
# then closing.
NUDES_SUMMARY = "Year 10 pupil shared a semi-nude image with one other pupil"
NUDES_REASON = "All five answers are no; both pupils 15; parents and pupils seen; image deleted on police advice"
NUDES_OUTCOME = "Handled in school with both families; education session given; no further concern."
QUESTIONS = ("rq-adult", "rq-coercion", "rq-unusual-or-violent", "rq-under-13", "rq-immediate-risk")


def nudes(today: date | None = None) -> Flow:
    steps = (
        step("new incident", Key("ctrl+n"), how="ctrl+n"),
        step("summary", Text(NUDES_SUMMARY), how="type it"),
        step("category: sharing nudes", Key("ctrl+g"), Key("c"), Key("enter"), Key("s"), Key("enter"),
             how="ctrl+g c: Category; enter s enter (Sharing nudes, by its first letter): the five questions "
                 "appear"),
        step("the five referral questions",
             Key("ctrl+g"), Key("q"), Key("1"), *[Key("n")] * 5,
             how="ctrl+g q1: the first question; n answers No and moves to the next, five times; the cursor "
                 "ends on the referral decision"),
        step("decision not to refer, with its reason",
             Key("enter"), Key("up"), Key("enter"), Key("tab"), Text(NUDES_REASON),
             how="enter up enter (Not referred: up wraps), tab, the reason"),
        step("close with the outcome",
             Key("ctrl+g"), Key("t"), Key("enter"), Key("c"), Key("enter"), Text(NUDES_OUTCOME), Key("ctrl+s"),
             how="ctrl+g t: Status; enter c enter (Closed), the outcome, ctrl+s closes and saves (no save "
                 "before: closing saves the whole record)"),
    )
    expected = record(
        NUDES_SUMMARY,
        category="nudes",
        status="closed",
        referral_check={question: "no" for question in QUESTIONS},
        referral_decision="not_referred",
        referral_rationale=NUDES_REASON,
        outcome=NUDES_OUTCOME,
    )
    return Flow("nudes", "Nudes case: the five questions, not referred, closed", steps, expected, {})


def flows(today: date | None = None) -> list[Flow]:
    return [founding(today), nudes(today)]
