"""One line, as a DSL would say it, understood as a row of the record: a pupil, a referral, a decision, a transfer.

    "Jordan Example, Y9, received"            a pupil: name, year group, role (and "born 3/4/2012")
    "police 101 yesterday 16:30 ref KP-0457"  a referral: agency, when, reference (and "note ...")
    "no referral for the bystanders because they only received it"   a decision and its reason
    "Oakwood Academy, sent 28/11/2026, received 30/11, by secure email"   a transfer

Plain Python, no Textual. What was understood is shown before the row is added, and every field stays editable
afterwards. A word that is not understood is questioned, never guessed: the line is not added until it reads
clearly. Only what is shown in the preview is defaulted (a pupil's role, a referral's time).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .dates import DateError, describe, now_local, parse_date, parse_when, to_iso
from .model import AGENCIES, FUTURE_GRACE, PUPIL_ROLES, Decision, Pupil, Referral, Transfer
from .text import clean, visible

BORN_WORDS = ("born", "dob", "d.o.b.", "d.o.b", "date of birth")

ROLE_WORDS = {
    "harmed": ["harmed", "at risk", "victim", "in the video", "in the images", "in it", "pictured"],
    "received": ["received it", "received", "receiver", "got it", "was sent it", "was sent"],
    "shared": ["shared it", "shared", "sharer", "sent it", "forwarded it", "forwarded", "posted it", "posted", "uploaded", "sent", "filmed", "made it"],
    "disclosed": ["told us", "disclosed", "reported it", "reported", "told"],
    "witness": ["witness", "saw it", "bystander", "saw"],
    "other": ["other"],
}
AGENCY_WORDS = {
    "police_999": ["police 999", "999"],
    "police_101": ["police 101", "101"],
    "ceop": ["ceop"],
    "iwf": ["internet watch foundation", "iwf"],
    "childrens_social_care": ["children's social care", "childrens social care", "front door", "social care",
                              "social services", "csc", "mash", "kent front door"],
    "early_help": ["early help"],
    "lado": ["lado"],
    "lesas": ["lesas", "education safeguarding"],
    "report_remove": ["report remove", "report-remove"],
    "platform": ["the platform", "platform", "the app", "app"],
    "other": ["other"],
}
REFERENCE_WORDS = ("ref", "ref:", "reference", "ref.", "crime", "log", "case", "no.", "number")
YEAR = re.compile(r"^(?:y|yr|year)\s*([0-9]{1,2})$", re.I | re.ASCII)
EARLY_YEARS = {"r": "Reception", "reception": "Reception", "nursery": "Nursery"}
# Tried in this order: "because" wins over a dash inside the decision ("keep Y7 - Y9 apart because ...").
REASON_SPLITS = [re.compile(pattern, re.I) for pattern in
                 (r"\s+because\s+", r"\s+reason:\s+", r"\s*;\s*", r"\s+[-–—]\s+")]
FILLERS = ("and", "a", "the", "is", "in", "who", "it", "was")
HAS_TIME = re.compile(r"\d[:.]\d\d|\d\s*(am|pm)\b|\bnow\b|t\d\d:", re.I)
HAS_YEAR = re.compile(r"\d{4}|[/.-]\d{2}$")
KINDS = ("pupils", "referrals", "decisions", "transfers")
EXAMPLES = {
    "pupils": "Jordan Example, Y9, received",
    "referrals": "police 101 yesterday 16:30 ref KP-0457",
    "decisions": "not referring the bystanders because they only received it",
    "transfers": "Oakwood Academy, sent 28/11/2026, by secure email",
}


@dataclass
class Understood:
    """What a line means: the row it makes, each part as the preview names it, and what must be put right."""

    kind: str
    row: Any = None
    parts: list[tuple[str, str]] = field(default_factory=list)
    questions: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.row is not None and not self.questions

    def preview(self) -> str:
        shown = " · ".join(f"{label}: {value}" for label, value in self.parts)
        if self.questions:
            return "? " + " ".join(self.questions)
        return f"Enter adds {KIND_NAMES[self.kind]}: {shown}" if shown else ""


KIND_NAMES = {"pupils": "the pupil", "referrals": "the referral", "decisions": "the decision",
              "transfers": "the transfer"}


def understand(kind: str, line: str, now: datetime | None = None) -> Understood:
    text = " ".join(clean(line).split())
    now = now or now_local()
    if not text:
        return Understood(kind)
    return {"pupils": _pupil, "referrals": _referral, "decisions": _decision, "transfers": _transfer}[kind](text, now)


# Phrases --------------------------------------------------------------------------------------------------
def _words(text: str) -> list[str]:
    return text.split(" ")


def _phrase_at(words: list[str], start: int, vocabulary: dict[str, list[str]]) -> tuple[str, int] | None:
    """The vocabulary key whose longest phrase starts at `start`, and how many words it takes."""
    best: tuple[str, int] | None = None
    for key, phrases in vocabulary.items():
        for phrase in phrases:
            size = len(phrase.split(" "))
            if [w.casefold().strip(".,") for w in words[start:start + size]] == phrase.split(" "):
                if best is None or size > best[1]:
                    best = (key, size)
    return best


def _near(word: str, vocabulary: dict[str, list[str]]) -> str | None:
    """A vocabulary word this one looks like a slip of (for questioning, never for guessing)."""
    singles = [p for phrases in vocabulary.values() for p in phrases if " " not in p and len(p) > 3]
    close = difflib.get_close_matches(word.casefold(), singles, n=1, cutoff=0.8)
    return close[0] if close and close[0] != word.casefold() else None


def _year(words: list[str], start: int, short_r: bool = True) -> tuple[str, int] | None:
    """A year group at `start`. A lone "R" (Reception) only where it cannot be a surname's initial."""
    word = words[start].casefold().strip(".,")
    following = words[start + 1] if start + 1 < len(words) else ""
    if word in ("year", "yr", "y") and re.fullmatch(r"[0-9]{1,2}", following):
        number, size = int(following), 2
    elif match := YEAR.match(word):
        number, size = int(match.group(1)), 1
    elif word in EARLY_YEARS and (short_r or word != "r"):
        return EARLY_YEARS[word], 1
    else:
        return None
    return (str(number), size) if 1 <= number <= 14 else None  # kept as the Year field holds it: "9"


def _roles_list() -> str:
    return "harmed, received, shared, told us, witness, other"


# Pupils ---------------------------------------------------------------------------------------------------
def _pupil(text: str, now: datetime) -> Understood:
    found = Understood("pupils")
    pupil = Pupil()
    chunks = [c.strip() for c in re.split(r"[,;]", text)]
    if len(chunks) > 1:
        name, rest = chunks[0], " ".join(chunks[1:])
        attributes = _words(rest) if rest.strip() else []
    else:
        words = _words(text)
        at = next((i for i in range(len(words)) if _pupil_word(words, i) or _is_born(words[i])), len(words))
        name, attributes = " ".join(words[:at]), words[at:]
    if not name or not re.search(r"[^\W\d_]", name) or not visible(name):
        found.questions.append("Start with the pupil's name, e.g. \"Jordan Example, Y9, received\".")
    for word in _words(name):
        slip = _near(word, ROLE_WORDS)
        if slip and len(_words(name)) > 1:
            found.questions.append(f"Is \"{word}\" part of the name, or the role \"{slip}\"? Put the role after a "
                                   "comma.")
    if any(word.casefold() in ("year", "yr") for word in _words(name)):
        found.questions.append(f"Is \"{name}\" all name? A year is written Y9 or year 9.")
    elif len(_words(name)) > 1 and any(word.casefold() in FILLERS for word in _words(name)):
        found.questions.append(f"Is \"{name}\" all name? Put the year and role after a comma.")
    pupil.name = name
    i, unknown, said = 0, [], {"year": set(), "role": set()}
    while i < len(attributes):
        word = attributes[i]
        if not word:
            i += 1
            continue
        if _is_born(word):
            typed = " ".join(attributes[i + 1:i + 4])
            day, size = _leading_day(attributes[i + 1:], now)
            if day is not None and not HAS_YEAR.search(" ".join(attributes[i + 1:i + 1 + size])):
                found.questions.append(f"\"{typed}\": give the year of birth too, as in 03/04/2012.")
            if day is None:
                found.questions.append(f"\"{typed or word}\" is not a date of birth: write it day first, 03/04/2012.")
                i = len(attributes)
                continue
            if day > now.date().isoformat():
                found.questions.append(f"The date of birth {parse_date(day).strftime('%d/%m/%Y')} is in the future.")
            pupil.date_of_birth = day
            i += 1 + size
            continue
        if year := _year(attributes, i):
            pupil.year_group, size = year
            said["year"].add(pupil.year_group)
            i += size
            continue
        if role := _phrase_at(attributes, i, ROLE_WORDS):
            pupil.role, size = role
            said["role"].add(PUPIL_ROLES[pupil.role].lower())
            i += size
            continue
        if word.casefold() in FILLERS:
            i += 1
            continue
        unknown.append(word)
        i += 1
    for what, values in said.items():
        if len(values) > 1:
            found.questions.append(f"Two {what}s given ({', '.join(sorted(values))}): which is it?")
    if unknown:
        found.questions.append(f"Not understood: \"{' '.join(unknown)}\". After the name give the year (Y9) and the "
                               f"role: {_roles_list()}; or \"born 03/04/2012\".")
    found.row = pupil
    found.parts = [("name", pupil.name or "?"), ("year", pupil.year_group or "not given"),
                   ("role", PUPIL_ROLES[pupil.role] + ("" if _said_role(attributes) else " (not given: the default)"))]
    if pupil.date_of_birth:
        found.parts.append(("born", parse_date(pupil.date_of_birth).strftime("%d/%m/%Y")))
    return found


def _said_role(words: list[str]) -> bool:
    return any(_phrase_at(words, i, ROLE_WORDS) for i in range(len(words)))


def _pupil_word(words: list[str], i: int) -> bool:
    return bool(_year(words, i, short_r=False) or _phrase_at(words, i, ROLE_WORDS))


def _is_born(word: str) -> bool:
    return word.casefold().rstrip(":") in BORN_WORDS


def _leading_day(words: list[str], now: datetime) -> tuple[str | None, int]:
    """The longest run of words at the start that reads as a calendar date (ISO), and how many words."""
    for size in range(min(3, len(words)), 0, -1):
        try:
            return parse_date(" ".join(words[:size]), now).isoformat(), size
        except DateError:
            continue
    return None, 0


# Referrals ------------------------------------------------------------------------------------------------
def _referral(text: str, now: datetime) -> Understood:
    found = Understood("referrals")
    referral = Referral(agency="")
    words = _words(text)
    note = ""
    for index, word in enumerate(words):  # "note ..." and "- ..." take the rest of the line
        if word.casefold().rstrip(":") == "note" or word in ("-", "–", "—"):
            note, words = " ".join(words[index + 1:]), words[:index]
            break
    i, when_words = 0, []
    while i < len(words):
        word, folded = words[i], words[i].casefold().strip(",")
        if not referral.agency and (agency := _phrase_at(words, i, AGENCY_WORDS)):
            referral.agency, size = agency
            i += size
            continue
        if (folded in REFERENCE_WORDS or folded.rstrip(":") in REFERENCE_WORDS) and i + 1 < len(words):
            i += 1
            while i < len(words) and words[i].casefold().strip(":") in ("no", "no.", "number", "ref"):
                i += 1
            if i < len(words):
                referral.reference = words[i].strip(",")
            i += 1
            continue
        if folded == "police" and not referral.agency:
            found.questions.append("Police by 999 or 101? Say \"police 999\" or \"police 101\".")
            i += 1
            continue
        if folded in ("on", "at", "by", "phoned", "called", "rang", "emailed", "online", "referred", "to"):
            i += 1
            continue
        when_words.append(word.strip(","))
        i += 1
    if not referral.agency and not found.questions:
        found.questions.append("Which agency? Start with one of: police 999, police 101, CEOP, IWF, front door, "
                               "early help, LADO, LESAS, report remove, platform, other.")
    when = " ".join(when_words)
    if when:
        try:
            moment = parse_when(when, now)
            referral.at = to_iso(moment)
            if not HAS_TIME.search(when):
                found.questions.append(f"\"{when}\" has no time: give it too, as in \"{when} 16:30\" (or \"now\").")
            if moment > now + FUTURE_GRACE:
                found.questions.append(f"\"{when}\" is still to come ({describe(referral.at)}): for an earlier day "
                                       "say so, as in \"yesterday 14:30\".")
        except (DateError, ValueError, OverflowError) as problem:
            found.questions.append(f"Not understood as a time: {problem}.")
    else:
        referral.at = to_iso(now)
    referral.note = note
    found.row = referral
    found.parts = [("agency", AGENCIES.get(referral.agency, "?")),
                   ("when", (describe(referral.at) if referral.at else "?") + ("" if when else " (now)")),
                   ("reference", referral.reference or "none")]
    if note:
        found.parts.append(("note", note))
    return found


# Decisions ------------------------------------------------------------------------------------------------
def _decision(text: str, now: datetime) -> Understood:
    found = Understood("decisions")
    decision, reason = text.strip(), ""
    for split in REASON_SPLITS:
        parts = split.split(text, maxsplit=1)
        if len(parts) == 2:
            decision, reason = parts[0].strip(), parts[1].strip()
            break
    if re.match(r"because\s", text, re.I):  # the reason with nothing decided before it
        decision, reason = "", text[len("because"):].strip()
    decision, reason = (decision if visible(decision) else ""), (reason if visible(reason) else "")
    if not reason:
        found.questions.append("Every decision needs its reason: write it after \"because\".")
    if not decision:
        found.questions.append("Say what was decided, then \"because\" and the reason.")
    found.row = Decision(decision=decision, reason=reason)
    found.parts = [("decided", decision or "?"), ("because", reason or "?")]
    return found


# Transfers ------------------------------------------------------------------------------------------------
# The first word of a part says what it is (commas or these words separate the parts).
SENT_WORDS = ("sent", "on")
RECEIVED_WORDS = ("received", "confirmed", "acknowledged", "ack", "receipt")
NOTE_WORDS = ("by", "via", "note", "through")


def _transfer(text: str, now: datetime) -> Understood:
    found = Understood("transfers")
    transfer = Transfer()
    chunks = [c.strip() for c in re.split(r"[,;]", text) if c.strip()]
    if len(chunks) == 1:  # no commas: the parts start at their words ("Oakwood Academy sent 28/11/2026")
        chunks = [c.strip() for c in re.split(r"\s+(?=(?:sent|received|confirmed|acknowledged|by|via|note)\b)",
                                              text, flags=re.I) if c.strip()]
    transfer.sent_to = chunks[0] if chunks and visible(chunks[0]) else ""
    if chunks and chunks[0].split(" ")[0].casefold() in SENT_WORDS + RECEIVED_WORDS + NOTE_WORDS:
        found.questions.append("Start with the school or agency the file went to, as in \"Oakwood Academy, sent "
                               "28/11/2026\".")
    given: set[str] = set()
    for chunk in chunks[1:]:
        words = _words(chunk)
        head = words[0].casefold()
        if head in NOTE_WORDS:
            transfer.note = (transfer.note + "; " if transfer.note else "") + (
                " ".join(words[1:]) if head in ("note", "through") else chunk)
            continue
        target = "acknowledged_at" if head in RECEIVED_WORDS else "sent_at"
        rest = words[1:] if head in RECEIVED_WORDS or head in SENT_WORDS else words
        if rest and rest[0].casefold() in ("on", "confirmed"):
            rest = rest[1:]
        if target in given:
            found.questions.append(f"Two dates for when it was {'sent' if target == 'sent_at' else 'received'}: "
                                   "which is it?")
        given.add(target)
        try:
            day = parse_date(" ".join(rest), now)
            setattr(transfer, target, day.isoformat())
            if day > now.date():
                found.questions.append(f"{day:%d/%m/%Y} is in the future.")
        except DateError:
            found.questions.append(f"Not understood: \"{chunk}\". Write \"sent 28/11/2026\", \"received 30/11/2026\" "
                                   "or \"by secure email\".")
    if transfer.acknowledged_at and not transfer.sent_at:
        found.questions.append("When was it sent? Add \"sent 28/11/2026\".")
    if not transfer.sent_to:
        found.questions.append("Start with the school or agency the file went to.")
    found.row = transfer
    found.parts = [("sent to", transfer.sent_to or "?"), ("sent on", _day(transfer.sent_at)),
                   ("receipt confirmed", _day(transfer.acknowledged_at))]
    if transfer.note:
        found.parts.append(("note", transfer.note))
    return found


def _day(value: str) -> str:
    return parse_date(value).strftime("%d/%m/%Y") if value else "not yet"
