"""The safeguarding record: an incident, the pupils it names, referrals, decisions and its checklist.

Plain Python. Validation speaks a DSL's language, names the field at fault, and never shortens or
silently changes what was written: text that is too long is refused, not cut. Control and format characters
are removed and text is composed (NFC), because they can hide text, break searching or take over a terminal,
and nothing a person types needs them; text with nothing visible counts as empty.

Every string has a limit and the imagery rule (keys of mappings too), and every date is ISO 8601 with its
offset in MIN_YEAR..MAX_YEAR (issue 10: a year-1 date overflowed in some time zones and broke the whole
database). Measured on 5,000 records, `verify` takes 2.15 s with these checks against 1.72 s without.
"""

from __future__ import annotations

import copy
import re
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import datetime, timedelta
from typing import Any

from .dates import DateError, check_iso, now_local, parse_date
from .text import clean, visible

CATEGORIES = {
    "harmful_content": "Harmful video or images circulating",
    "nudes": "Sharing nudes or semi-nudes",
    "online_bullying": "Online bullying",
    "online_grooming": "Grooming or exploitation online",
    "other_online": "Other online concern",
    "other": "Other concern",
}
SCOPES = {
    "reported_here": "A concern has been reported here",
    "no_direct_impact": "No direct impact on our school",
}
STATUSES = {
    "open": "Open",
    "awaiting_response": "Awaiting response",
    "monitoring": "Monitoring",
    "closed": "Closed",
}
PUPIL_ROLES = {
    "harmed": "Harmed or at risk",
    "received": "Received it",
    "shared": "Shared it",
    "disclosed": "Told us",
    "witness": "Witness",
    "other": "Other",
}
AGENCIES = {
    "police_999": "Police, 999",
    "police_101": "Police, 101",
    "ceop": "CEOP",
    "iwf": "Internet Watch Foundation",
    "childrens_social_care": "Children's social care (Front Door)",
    "early_help": "Early help",
    "lado": "LADO",
    "lesas": "LESAS (advice)",
    "report_remove": "Report Remove",
    "platform": "The app or platform",
    "other": "Other",
}
REFERRAL_DECISIONS = {
    "": "Not decided yet",
    "referred": "Referred",
    "not_referred": "Not referred",
}
PARENTS_INFORMED = {
    "not_yet": "Not yet",
    "yes": "Yes",
    "no": "No, with the reason",
}
CHECK_STATES = {"todo": "To do", "done": "Done", "not_applicable": "Not applicable"}
ANSWERS = {"yes": "Yes", "no": "No"}

# A closed record can only be reopened; everything else may move freely while the work goes on.
TRANSITIONS = {
    "open": {"awaiting_response", "monitoring", "closed"},
    "awaiting_response": {"open", "monitoring", "closed"},
    "monitoring": {"open", "awaiting_response", "closed"},
    "closed": {"open"},
}

LIMITS = {
    "summary": 200,
    "details": 20_000,
    "follow_up": 10_000,
    "actions": 10_000,
    "outcome": 10_000,
    "referral_rationale": 5_000,
    "parents_note": 2_000,
    "name": 100,
    "year_group": 20,
    "reference": 100,
    "note": 1_000,
    "decision": 500,
    "reason": 5_000,
    "sent_to": 200,
    "text": 300,
    # Every other string has a limit too, so no field can carry a picture or a megabyte of text.
    "by": 100,
    "created_by": 100,
    "updated_by": 100,
    "id": 100,
    "source": 200,
    "question": 100,  # a referral-check question id (the key)
    "moment": 40,  # any date or time
}
DEFAULT_LIMIT = 20_000  # the longest field (details); nothing anywhere is longer
MOMENTS = {"concern_at", "created_at", "updated_at", "at"}
DAYS = {"date_of_birth", "sent_at", "acknowledged_at"}
_LEAF_LIMITS = {**LIMITS, **{name: LIMITS["moment"] for name in MOMENTS | DAYS}}  # a date's limit comes first
FUTURE_GRACE = timedelta(minutes=10)

_DATA_URI = re.compile(r"data:(image|video)/", re.I)
_LONG_RUN = re.compile(r"[A-Za-z0-9+/=]{1000,}")


def looks_like_imagery(text: str) -> bool:
    """A data URI, or a long base64 run (mixed case and digits, as encoded pictures are)."""
    if len(text) < 1000:  # too short for an encoded picture: only a data URI can be one
        return ":" in text and _DATA_URI.search(text) is not None
    if _DATA_URI.search(text):
        return True
    return any(
        re.search(r"[A-Z]", run) and re.search(r"[a-z]", run) and re.search(r"[0-9]", run)
        for run in _LONG_RUN.findall(text)
    )


class ValidationError(ValueError):
    """One or more fields are wrong. `errors` maps a field (e.g. 'pupils[0].name') to a message."""

    def __init__(self, errors: dict[str, str]):
        self.errors = dict(errors)
        super().__init__("; ".join(f"{name}: {message}" for name, message in self.errors.items()))


def clean_text(value: str) -> str:
    """Line endings made plain, control and format characters removed, composed (NFC). Nothing else changes."""
    return clean(value)


def _label_list(vocabulary: dict[str, str]) -> str:
    return ", ".join(key or '""' for key in vocabulary)


class _TextOnly:
    """A row whose fields are all text: a copy of it is as good as a deep copy (text is never changed in place),
    and `copy.deepcopy` going through every field of every checklist item made a save's redisplay slow."""

    def __deepcopy__(self, memo: dict[int, Any]) -> Any:
        return copy.copy(self)


@dataclass
class Pupil(_TextOnly):
    name: str = ""
    year_group: str = ""
    role: str = "harmed"
    date_of_birth: str = ""  # ISO date, optional: gives the retention review date


@dataclass
class Referral(_TextOnly):
    agency: str = "police_101"
    at: str = ""
    reference: str = ""
    note: str = ""


@dataclass
class Decision(_TextOnly):
    decision: str = ""
    reason: str = ""
    at: str = ""
    by: str = ""


@dataclass
class Transfer(_TextOnly):
    sent_to: str = ""
    sent_at: str = ""  # ISO date
    acknowledged_at: str = ""  # ISO date, empty until the new school confirms receipt
    note: str = ""


@dataclass
class ChecklistItem(_TextOnly):
    id: str = ""
    text: str = ""
    state: str = "todo"
    at: str = ""
    by: str = ""
    note: str = ""
    source: str = ""  # "document#section" of the guidance it comes from


NESTED = {"pupils": Pupil, "referrals": Referral, "decisions": Decision, "transfers": Transfer, "checklist": ChecklistItem}


@dataclass
class Incident:
    id: str = ""
    summary: str = ""
    details: str = ""
    category: str = "harmful_content"
    scope: str = "reported_here"
    status: str = "open"
    concern_at: str = ""
    created_at: str = ""
    created_by: str = ""
    updated_at: str = ""
    updated_by: str = ""
    pupils: list[Pupil] = field(default_factory=list)
    referral_check: dict[str, str] = field(default_factory=dict)
    referral_decision: str = ""
    referral_rationale: str = ""
    referrals: list[Referral] = field(default_factory=list)
    parents_informed: str = "not_yet"
    parents_note: str = ""
    follow_up: str = ""
    actions: str = ""
    decisions: list[Decision] = field(default_factory=list)
    outcome: str = ""
    transfers: list[Transfer] = field(default_factory=list)
    checklist: list[ChecklistItem] = field(default_factory=list)
    history: list[dict[str, Any]] = field(default_factory=list)
    rev: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def editable_copy(self) -> Incident:
        """A copy to change freely: its own fields, rows and lists. The history's entries are shared: they are
        never changed in place (a save puts a new entry on a new list), and copying them was most of the time
        a save took on the screen's thread."""
        duplicate = copy.deepcopy(replace(self, history=[]))
        duplicate.history = list(self.history)
        return duplicate

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Incident:
        """Build from stored or imported data. Unknown fields and wrong shapes are errors naming the field."""
        errors: dict[str, str] = {}
        known = _known_fields(cls)
        plain = known - _NOT_PLAIN  # the text fields: most of a record, and checked first
        values: dict[str, Any] = {}
        for key, value in data.items():
            if type(value) is str and key in plain:
                values[key] = value
            elif key not in known:
                errors[key] = "is not a field of an incident"
            elif key in NESTED:
                values[key] = _nested_list(key, value, NESTED[key], errors)
            elif key == "history":
                if not isinstance(value, list) or not all(isinstance(e, dict) for e in value):
                    errors[key] = "must be a list of entries"
                else:
                    values[key] = [dict(e) for e in value]
            elif key == "referral_check":
                if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
                    errors[key] = "must map each question to yes or no"
                else:
                    values[key] = dict(value)
            elif key == "rev":
                if not isinstance(value, int) or isinstance(value, bool):
                    errors[key] = "must be a whole number"
                else:
                    values[key] = value
            elif value is None:
                continue
            elif key == "parents_informed" and isinstance(value, bool):
                values[key] = "yes" if value else "not_yet"
            elif not isinstance(value, str):
                errors[key] = "must be text"
            else:
                values[key] = value
        if errors:
            raise ValidationError(errors)
        return cls(**values)

    @property
    def is_closed(self) -> bool:
        return self.status == "closed"

    def checklist_progress(self) -> tuple[int, int]:
        """(finished, total): not-applicable items count as finished, because a reason was recorded."""
        finished = sum(1 for item in self.checklist if item.state != "todo")
        return finished, len(self.checklist)

    def refer_now(self) -> bool:
        return any(answer == "yes" for answer in self.referral_check.values())


_KNOWN: dict[type, frozenset[str]] = {}
_NOT_PLAIN = frozenset({*NESTED, "history", "referral_check", "rev"})


def _known_fields(kind: type) -> frozenset[str]:
    """The field names of a dataclass, worked out once (`fields()` on every call was a third of `from_dict`)."""
    known = _KNOWN.get(kind)
    if known is None:
        known = _KNOWN[kind] = frozenset(f.name for f in fields(kind))
    return known


def _nested_list(key: str, value: Any, kind: type, errors: dict[str, str]) -> list[Any]:
    if not isinstance(value, list):
        errors[key] = "must be a list"
        return []
    known = _known_fields(kind)
    items = []
    for index, entry in enumerate(value):
        # The usual case, at C speed: a plain object of known fields, all text (as every stored record is).
        if type(entry) is dict and entry.keys() <= known:
            try:
                "".join(entry.values())  # all text (a TypeError if not): one step in C, not a loop
            except TypeError:
                pass
            else:
                items.append(kind(**entry))
                continue
        where = f"{key}[{index}]"
        if not isinstance(entry, dict):
            errors[where] = "must be a set of fields"
            continue
        for name, item in entry.items():
            if name not in known:
                errors[f"{where}.{name}"] = "is not a field here"
            elif item is not None and not isinstance(item, str):
                errors[f"{where}.{name}"] = "must be text"
        items.append(kind(**{k: v for k, v in entry.items() if k in known and v is not None}))
    return items


def clean_incident(incident: Incident) -> Incident:
    """The same incident with control characters removed from every piece of text."""
    data = replace(incident, history=[]).to_dict()  # (the history is not cleaned: no copy of it is made)

    def scrub(value: Any) -> Any:
        if isinstance(value, str):
            return clean_text(value)
        if isinstance(value, list):
            return [scrub(v) for v in value]
        if isinstance(value, dict):
            return {scrub(k): scrub(v) for k, v in value.items()}
        return value

    del data["history"]
    cleaned = {key: scrub(value) for key, value in data.items()}
    return Incident.from_dict({**cleaned, "history": incident.history})


def _check_text(errors: dict[str, str], where: str, value: str, limit: int, label: str) -> None:
    if len(value) > limit:
        errors[where] = (
            f"{label} is {len(value):,} characters; the most is {limit:,}. Shorten it (nothing was cut)"
        )
    elif looks_like_imagery(value):
        errors[where] = (
            "This looks like an image or video pasted as text. kentsafe never stores the imagery: "
            "describe it in words instead"
        )


def _check_choice(errors: dict[str, str], where: str, value: str, vocabulary: dict[str, str]) -> None:
    if value not in vocabulary:
        errors[where] = f"'{value}' is not one of: {_label_list(vocabulary)}"


def _check_moment(errors: dict[str, str], where: str, value: str, now: datetime | None, label: str) -> None:
    """An instant as kentsafe stores it: ISO 8601 with its offset, in a year kentsafe accepts; not in the
    future when `now` is given."""
    try:
        moment = check_iso(value)
    except (ValueError, TypeError) as problem:
        reason = str(problem) if str(problem).startswith("the year") else "is not a date and time with its offset"
        errors[where] = f"{label} '{str(value)[:40]}': {reason} (ISO 8601, e.g. 2026-11-28T14:30:00+00:00)"
        return
    if now is not None and moment > now + FUTURE_GRACE:
        errors[where] = f"{label} is in the future"


def _limit(leaf: str) -> int:
    return _LEAF_LIMITS.get(leaf, DEFAULT_LIMIT)


def _flagged(leaf: str, text: str) -> bool:
    """Whether `_check_text` would find something wrong with this text under that field name."""
    if len(text) < 1000 and ":" not in text:  # `looks_like_imagery` in short: no data URI, too short for base64
        return len(text) > _LEAF_LIMITS.get(leaf, DEFAULT_LIMIT)
    return len(text) > _LEAF_LIMITS.get(leaf, DEFAULT_LIMIT) or looks_like_imagery(text)


def check_every_string(errors: dict[str, str], data: dict[str, Any]) -> None:
    """Limits and the imagery rule for every string of a record or history entry, keys included.

    Strings of 20 characters or fewer are shorter than any limit and than any picture or data URI, so they
    are passed over without building their names: this runs on every string of every record in `verify`.
    """

    def check(where: str, leaf: str, text: str, is_key: bool) -> None:
        if where in errors:
            return
        _check_text(errors, where, text, _limit(leaf), "The question" if is_key else "The text")

    def flat(item: dict[Any, Any]) -> list[tuple[str, bool]] | None:
        """The keys (True) and texts (False) of an object of texts that break a rule, in order; None if it
        holds anything but text (then it is gone through as any object is)."""
        hits: list[tuple[str, bool]] = []
        for key, text in item.items():
            if type(key) is not str or type(text) is not str:
                return None
            if len(key) > 20 and _flagged("question", key):
                hits.append((key, True))
            if len(text) > 20 and _flagged(key, text):
                hits.append((key, False))
        return hits

    # A string is named (its `where` built) and checked only if `_flagged` says it breaks a rule: building
    # the name of every string was most of `verify`'s time. Objects of texts (checklist items, pupils,
    # referrals) are looked through in one step and named only if something in them breaks a rule.
    def visit(value: Any, where: str, leaf: str) -> None:
        if isinstance(value, str):
            if len(value) > 20 and _flagged(leaf, value):
                check(where, leaf, value, False)
        elif isinstance(value, list):
            for index, item in enumerate(value):
                if type(item) is dict:
                    hits = flat(item)
                    if hits is None:
                        visit(item, f"{where}[{index}]", leaf)
                    else:
                        for key, is_key in hits:
                            if is_key:
                                check(f"{where}[{index}].{key[:40]}", "question", key, True)
                            else:
                                check(f"{where}[{index}].{key}", key, item[key], False)
                elif isinstance(item, (list, dict)):
                    visit(item, f"{where}[{index}]", leaf)
                elif isinstance(item, str) and len(item) > 20 and _flagged(leaf, item):
                    check(f"{where}[{index}]", leaf, item, False)
        elif isinstance(value, dict):
            for key, item in value.items():
                if type(key) is str and type(item) is str:  # most of a record: text under a field name
                    if len(key) > 20 and _flagged("question", key):
                        check(f"{where}.{key[:40]}", "question", key, True)
                    if len(item) > 20 and _flagged(key, item):
                        check(f"{where}.{key}", key, item, False)
                    continue
                if isinstance(key, str) and len(key) > 20 and _flagged("question", key):
                    check(f"{where}.{key[:40]}", "question", key, True)
                if isinstance(item, (list, dict)):
                    visit(item, f"{where}.{key}", key if isinstance(key, str) else leaf)
                elif isinstance(item, str) and len(item) > 20:
                    named = key if isinstance(key, str) else leaf
                    if _flagged(named, item):
                        check(f"{where}.{key}", named, item, False)

    for name, value in data.items():
        if type(value) is str:  # most of a record's own fields (a call each was 5% of `verify`)
            if len(value) > 20 and _flagged(name, value):
                check(name, name, value, False)
        else:
            visit(value, name, name)


def _check_day(errors: dict[str, str], where: str, value: str, now: datetime, label: str) -> None:
    try:
        day = parse_date(value, now)
    except DateError as problem:
        errors[where] = str(problem)
        return
    if day > now.date():
        errors[where] = f"{label} is in the future"


def validate(incident: Incident, now: datetime | None = None, plain: dict[str, Any] | None = None) -> None:
    """Raise ValidationError listing every problem, or return if the record can be saved.

    `verify` passes the store's mirror of a record (the same fields, read by name) and `plain`, the record's
    fields as plain values without its history, which it has anyway: building an Incident for each of 50,000
    records was a fifth of `verify`."""
    now = now or now_local()
    errors: dict[str, str] = {}
    summary = incident.summary
    if not visible(summary):
        errors["summary"] = "A summary is needed: one line saying what the concern is"
    elif "\n" in summary:
        errors["summary"] = "The summary is one line: put the rest in Details"
    else:
        _check_text(errors, "summary", summary, LIMITS["summary"], "The summary")
    for name in ("details", "follow_up", "actions", "outcome", "referral_rationale", "parents_note"):
        _check_text(errors, name, getattr(incident, name), LIMITS[name], name.replace("_", " ").capitalize())
    _check_choice(errors, "category", incident.category, CATEGORIES)
    _check_choice(errors, "scope", incident.scope, SCOPES)
    _check_choice(errors, "status", incident.status, STATUSES)
    _check_choice(errors, "referral_decision", incident.referral_decision, REFERRAL_DECISIONS)
    _check_choice(errors, "parents_informed", incident.parents_informed, PARENTS_INFORMED)
    if not incident.concern_at:
        errors["concern_at"] = "Say when the concern arose"
    else:
        _check_moment(errors, "concern_at", incident.concern_at, now, "When the concern arose")
    for question, answer in incident.referral_check.items():
        _check_choice(errors, f"referral_check.{question}", answer, ANSWERS)
    if incident.referral_decision == "not_referred" and not incident.referral_rationale.strip():
        errors["referral_rationale"] = "Write why you decided not to refer: the record must show the reason"
    if incident.parents_informed == "no" and not incident.parents_note.strip():
        errors["parents_note"] = "Say why parents were not told"
    if incident.status == "closed" and not incident.outcome.strip():
        errors["outcome"] = "Write the outcome before closing"
    for i, pupil in enumerate(incident.pupils):
        where = f"pupils[{i}]"
        if not visible(pupil.name):
            errors[f"{where}.name"] = "Give the pupil's name (or remove the row)"
        _check_text(errors, f"{where}.name", pupil.name, LIMITS["name"], "The name")
        _check_text(errors, f"{where}.year_group", pupil.year_group, LIMITS["year_group"], "The year group")
        _check_choice(errors, f"{where}.role", pupil.role, PUPIL_ROLES)
        if pupil.date_of_birth:
            _check_day(errors, f"{where}.date_of_birth", pupil.date_of_birth, now, "The date of birth")
    for i, referral in enumerate(incident.referrals):
        where = f"referrals[{i}]"
        _check_choice(errors, f"{where}.agency", referral.agency, AGENCIES)
        if referral.at:
            _check_moment(errors, f"{where}.at", referral.at, now, "When it was referred")
        _check_text(errors, f"{where}.reference", referral.reference, LIMITS["reference"], "The reference")
        _check_text(errors, f"{where}.note", referral.note, LIMITS["note"], "The note")
    for i, decision in enumerate(incident.decisions):
        where = f"decisions[{i}]"
        if not visible(decision.decision):
            errors[f"{where}.decision"] = "Say what was decided"
        if not visible(decision.reason):
            errors[f"{where}.reason"] = "Every decision needs its reason"
        _check_text(errors, f"{where}.decision", decision.decision, LIMITS["decision"], "The decision")
        _check_text(errors, f"{where}.reason", decision.reason, LIMITS["reason"], "The reason")
        if decision.at:
            _check_moment(errors, f"{where}.at", decision.at, None, "When it was decided")
    for i, transfer in enumerate(incident.transfers):
        where = f"transfers[{i}]"
        if not transfer.sent_to.strip():
            errors[f"{where}.sent_to"] = "Say which school or agency the file went to"
        _check_text(errors, f"{where}.sent_to", transfer.sent_to, LIMITS["sent_to"], "The name")
        for name, label in (("sent_at", "The date sent"), ("acknowledged_at", "The date acknowledged")):
            if getattr(transfer, name):
                _check_day(errors, f"{where}.{name}", getattr(transfer, name), now, label)
        if transfer.acknowledged_at and not transfer.sent_at:
            errors[f"{where}.sent_at"] = "Give the date it was sent"
    seen: set[str] = set()
    note_limit = LIMITS["note"]
    for i, item in enumerate(incident.checklist):
        # Each check as `_check_choice` and `_check_text` make it, their item's name made only when one
        # fails: a playbook's 34 items are most of a record, and `verify` checks every record.
        if not item.id or item.id in seen:
            errors[f"checklist[{i}].id"] = "Each checklist item needs its own id"
        seen.add(item.id)
        if item.state not in CHECK_STATES:
            _check_choice(errors, f"checklist[{i}].state", item.state, CHECK_STATES)
        note = item.note
        if note and (len(note) > note_limit or looks_like_imagery(note)):
            _check_text(errors, f"checklist[{i}].note", note, note_limit, "The note")
        if item.state == "not_applicable" and not note.strip():
            errors[f"checklist[{i}].note"] = "Say why this item does not apply"
        if item.at:
            _check_moment(errors, f"checklist[{i}].at", item.at, None, "When it was done")
    for name, label in (("created_at", "When it was recorded"), ("updated_at", "When it was last changed")):
        if getattr(incident, name):
            _check_moment(errors, name, getattr(incident, name), None, label)
    check_every_string(errors, _view(incident) if plain is None else plain)
    if errors:
        raise ValidationError(errors)


def _view(incident: Incident) -> dict[str, Any]:
    """The record's fields as plain values without copying them (asdict deep-copies): for reading only."""
    view: dict[str, Any] = {}
    for name, value in vars(incident).items():
        if name == "history":
            continue
        if name in NESTED:
            view[name] = [vars(item) for item in value]
        else:
            view[name] = value
    return view


def check_transition(old: str, new: str) -> str | None:
    """None if a record may move from status old to new, else why not."""
    if old == new or new in TRANSITIONS.get(old, set()):
        return None
    return f"A {STATUSES.get(old, old).lower()} record can't move to {STATUSES.get(new, new).lower()}"


HISTORY_LIMITS = {"by": 100, "login": 100, "action": 40, "note": 1_000}


def _finite(value: Any) -> bool:
    """Whether a JSON value holds only finite numbers (NaN and Infinity are not JSON)."""
    if isinstance(value, float):
        return value == value and value not in (float("inf"), float("-inf"))
    if isinstance(value, list):
        return all(_finite(item) for item in value)
    if isinstance(value, dict):
        return all(_finite(item) for item in value.values())
    return True


def check_history_entry(entry: dict[str, Any], where: str, deep: bool = True) -> dict[str, str]:
    """Problems with one history entry carried in by an import: its time, its text, its numbers.

    `deep=False` (for `verify`) leaves out the values inside `changes`: they were checked when written, and
    the hash chain shows any later edit."""
    errors: dict[str, str] = {}
    _check_moment(errors, f"{where}.at", entry.get("at", ""), None, "When it happened")
    for key, limit in HISTORY_LIMITS.items():
        if key in entry:
            _check_text(errors, f"{where}.{key}", entry[key], limit, "The text")
    changes = entry.get("changes", {})
    for key, pair in changes.items():
        if not (isinstance(pair, list) and len(pair) == 2):
            errors[f"{where}.changes.{key[:40]}"] = "must be [before, after]"
    if not deep:
        return errors
    if not _finite(changes):
        errors[f"{where}.changes"] = "holds NaN or Infinity, which are not numbers JSON can hold"
    body = {key: value for key, value in entry.items() if key != "at"}
    check_every_string(errors, {where: body})
    return errors
