"""Reports a DSL hands to others: an incident in full, and a pupil's chronology. Markdown or one HTML file.

Substance (what was reported, seen and decided) is kept apart from process (who did what, when). The
chronology shows every change from the history; an amendment stands beside what it amended, never in its
place. Every piece of text a person typed is escaped, so it reads exactly as typed in any viewer.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any

from .content import Library
from .dates import describe, now_local, sort_key
from .history import CHECKLIST_PREFIX
from .text import clean, strip_controls
from .model import (
    AGENCIES,
    ANSWERS,
    CATEGORIES,
    CHECK_STATES,
    PARENTS_INFORMED,
    PUPIL_ROLES,
    REFERRAL_DECISIONS,
    SCOPES,
    STATUSES,
    Incident,
)

CONFIDENTIAL = "CONFIDENTIAL: child protection record. Keep it secure; share it only with those who need it."
ACTIONS = {
    "create": "Recorded",
    "edit": "Edited",
    "status": "Status changed",
    "close": "Closed",
    "reopen": "Reopened",
    "checklist": "Checklist",
    "import": "Imported",
    "amend": "Amended after another DSL's change",
    "migrate": "Carried over in a database upgrade",
}
FIELD_LABELS = {
    "summary": "Summary",
    "details": "What happened",
    "category": "Category",
    "scope": "Scope",
    "status": "Status",
    "concern_at": "When the concern arose",
    "pupils": "Pupils",
    "referral_check": "Referral check",
    "referral_decision": "Referral decision",
    "referral_rationale": "Reason for the referral decision",
    "referrals": "Referrals",
    "parents_informed": "Parents informed",
    "parents_note": "About informing parents",
    "follow_up": "How it was followed up",
    "actions": "Actions taken",
    "decisions": "Decisions",
    "outcome": "Outcome",
    "transfers": "Transfers of the file",
    "checklist": "Checklist",
}

_MD_ALWAYS = re.compile(r"([\\`*_\[\]<>|~!&{}#])")
_MD_LINE_START = re.compile(r"^(\s*)([#>+=-]|\d+[.)])", re.M)


def md(text: Any) -> str:
    """Escape text a person typed so Markdown shows it as typed: no links, emphasis, HTML or tables."""
    escaped = _MD_ALWAYS.sub(r"\\\1", str(text))
    escaped = _MD_LINE_START.sub(lambda m: m.group(1) + re.sub(r"([#>+=.)-])", r"\\\1", m.group(2)), escaped)
    return escaped


def md_block(text: str) -> str:
    """A multi-line text as Markdown paragraphs with its line breaks kept."""
    if not text.strip():
        return "_(none recorded)_"
    return "  \n".join(md(line) for line in text.splitlines())


def md_cell(text: Any) -> str:
    return "<br>".join(md(line) for line in str(text).splitlines()) or " "


def day(value: str) -> str:
    """A calendar date as words, e.g. 3 April 2012: unambiguous in any country."""
    if not value:
        return ""
    try:
        from datetime import date as _date

        parsed = _date.fromisoformat(value)
    except ValueError:
        return value
    return f"{parsed.day} {parsed:%B %Y}"


def h(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _label(vocabulary: dict[str, str], key: str) -> str:
    return vocabulary.get(key, key)


def value_text(field: str, value: Any) -> str:
    """A field's value as plain words, for the chronology."""
    if value is None or value == "" or value == [] or value == {}:
        return "(empty)"
    vocabularies = {"category": CATEGORIES, "scope": SCOPES, "status": STATUSES,
                    "referral_decision": REFERRAL_DECISIONS, "parents_informed": PARENTS_INFORMED}
    if field in vocabularies:
        return _label(vocabularies[field], value)
    if field == "concern_at":
        return describe(value)
    if field.startswith(CHECKLIST_PREFIX) and isinstance(value, dict):
        state = _label(CHECK_STATES, value.get("state", ""))
        return f"{state}" + (f": {value['note']}" if value.get("note") else "")
    if field == "pupils" and isinstance(value, list):
        return "; ".join(f"{p.get('name')} ({_label(PUPIL_ROLES, p.get('role', ''))})" for p in value)
    if field == "referrals" and isinstance(value, list):
        return "; ".join(f"{_label(AGENCIES, r.get('agency', ''))} {r.get('reference', '')}".strip() for r in value)
    if field == "decisions" and isinstance(value, list):
        return "; ".join(f"{d.get('decision')} because {d.get('reason')}" for d in value)
    if field == "checklist" and isinstance(value, list):
        return f"{len(value)} items"
    if field == "transfers" and isinstance(value, list):
        return "; ".join(f"to {t.get('sent_to')} sent {t.get('sent_at') or '?'}, acknowledged "
                         f"{t.get('acknowledged_at') or 'not yet'}" for t in value)
    if field == "referral_check" and isinstance(value, dict):
        return ", ".join(f"{key}: {_label(ANSWERS, answer)}" for key, answer in value.items())
    if isinstance(value, (list, dict)):
        return str(value)
    return str(value)


def _field_label(key: str, incident: Incident) -> str:
    if key.startswith(CHECKLIST_PREFIX):
        item_id = key[len(CHECKLIST_PREFIX):]
        text = next((item.text for item in incident.checklist if item.id == item_id), item_id)
        return f"Checklist: {text}"
    return FIELD_LABELS.get(key, key.replace("_", " ").capitalize())


@dataclass
class Change:
    field: str
    before: str
    after: str


@dataclass
class Event:
    number: int
    at: str
    by: str
    action: str
    note: str
    changes: list[Change]


def chronology(incident: Incident) -> list[Event]:
    """Every change, oldest first, as words. The first entry lists what was first recorded."""
    events = []
    for number, entry in enumerate(incident.history, start=1):
        changes = []
        for key, pair in entry.get("changes", {}).items():
            if key in ("id", "created_at", "created_by"):
                continue
            before, after = pair if isinstance(pair, list) and len(pair) == 2 else (None, pair)
            changes.append(Change(_field_label(key, incident), value_text(key, before), value_text(key, after)))
        who = entry.get("by", "")
        if entry.get("login"):
            who += f" (login {entry['login']})"
        events.append(Event(number, entry.get("at", ""), who, ACTIONS.get(entry.get("action", ""), entry.get("action", "")),
                            entry.get("note", ""), changes))
    return events


def amended_fields(incident: Incident) -> dict[str, int]:
    """How many times each field was changed after it was first recorded."""
    counts: dict[str, int] = {}
    for entry in incident.history[1:]:
        for key in entry.get("changes", {}):
            counts[key] = counts.get(key, 0) + 1
    return counts


def _by_and_when(incident: Incident) -> str:
    return f"Recorded by {incident.created_by} on {describe(incident.created_at)}; last changed by " \
           f"{incident.updated_by} on {describe(incident.updated_at)}"


# Markdown ----------------------------------------------------------------------------------------------
def markdown_report(incident: Incident, library: Library | None = None) -> str:
    amended = amended_fields(incident)
    out = [f"# Safeguarding incident {md(incident.id)}", "", f"**{CONFIDENTIAL}**", "",
           f"Made {describe(now_local())}. {md(_by_and_when(incident))}.", "",
           "## The concern (substance)", "",
           f"- **Summary:** {md(incident.summary)}",
           f"- **When the concern arose:** {describe(incident.concern_at)}",
           f"- **Category:** {md(_label(CATEGORIES, incident.category))}",
           f"- **Scope:** {md(_label(SCOPES, incident.scope))}",
           f"- **Status:** {md(_label(STATUSES, incident.status))}", ""]
    changed = [f"{FIELD_LABELS[k]} ({n})" for k, n in sorted(amended.items()) if k in FIELD_LABELS
               and k != "checklist"]
    if changed:
        out += ["_Fields changed after they were first recorded (the originals are in the chronology):_ "
                + ", ".join(changed), ""]
    out += ["### What happened", "", md_block(incident.details), ""]
    out += ["### Pupils", ""]
    if incident.pupils:
        out += ["| Name | Year | Role | Date of birth |", "| --- | --- | --- | --- |"]
        out += [f"| {md_cell(p.name)} | {md_cell(p.year_group)} | {md_cell(_label(PUPIL_ROLES, p.role))} | "
                f"{md_cell(day(p.date_of_birth))} |" for p in incident.pupils]
    else:
        out.append("_(none named)_")
    out += ["", "### Referral", "",
            f"- **Decision:** {md(_label(REFERRAL_DECISIONS, incident.referral_decision))}",
            f"- **Reason:** {md_block(incident.referral_rationale) if incident.referral_rationale else '_(none)_'}"]
    if incident.referral_check:
        questions = {q.id: q.text for q in library.questions_for(incident.category)} if library else {}
        out += ["- **Referral check:**"]
        out += [f"  - {md(questions.get(key, key))}: **{md(_label(ANSWERS, answer))}**"
                for key, answer in incident.referral_check.items()]
        if incident.refer_now():
            out += ["  - **At least one answer is yes: refer at once to the police or children's social care.**"]
    if incident.referrals:
        out += ["", "| Agency | When | Reference | Note |", "| --- | --- | --- | --- |"]
        out += [f"| {md_cell(_label(AGENCIES, r.agency))} | {md_cell(describe(r.at) if r.at else '')} | "
                f"{md_cell(r.reference)} | {md_cell(r.note)} |" for r in incident.referrals]
    out += ["", "### Parents", "", f"- **Informed:** {md(_label(PARENTS_INFORMED, incident.parents_informed))}"]
    if incident.parents_note:
        out += [f"- **Note:** {md_block(incident.parents_note)}"]
    out += ["", "### How it was followed up", "", md_block(incident.follow_up), "",
            "### Actions taken", "", md_block(incident.actions), "", "### Decisions and their reasons", ""]
    if incident.decisions:
        out += [f"- **{md(d.decision)}** because {md(d.reason)}"
                + (f" ({md(d.by)}, {describe(d.at)})" if d.by or d.at else "") for d in incident.decisions]
    else:
        out.append("_(none recorded)_")
    out += ["", "### Outcome", "", md_block(incident.outcome), ""]
    if incident.transfers:
        out += ["### Transfers of the file", "", "| Sent to | Sent | Acknowledged | Note |", "| --- | --- | --- | --- |"]
        out += [f"| {md_cell(t.sent_to)} | {md_cell(day(t.sent_at))} | {md_cell(day(t.acknowledged_at) or 'not yet')} | "
                f"{md_cell(t.note)} |" for t in incident.transfers]
        out.append("")
    done, total = incident.checklist_progress()
    out += ["## What was done (process)", "", f"### Checklist ({done}/{total})", ""]
    if incident.checklist:
        out += ["| Item | State | By | When | Note |", "| --- | --- | --- | --- | --- |"]
        out += [f"| {md_cell(i.text)} | {md_cell(_label(CHECK_STATES, i.state))} | {md_cell(i.by)} | "
                f"{md_cell(describe(i.at) if i.at else '')} | {md_cell(i.note)} |" for i in incident.checklist]
    out += ["", "### Chronology of every change", ""]
    for event in chronology(incident):
        head = f"{event.number}. **{describe(event.at)}**: {md(event.action)} by {md(event.by)}"
        if event.note:
            head += f" ({md(event.note)})"
        out.append(head)
        if event.action == ACTIONS["create"] or event.action == ACTIONS["import"] and event.number == 1:
            continue
        for change in event.changes:
            out.append(f"    - {md(change.field)}: was «{md_cell(change.before)}», now «{md_cell(change.after)}»")
    out += ["", f"History entries: {len(incident.history)}. Newest entry hash: "
                f"{md(incident.history[-1]['hash']) if incident.history and 'hash' in incident.history[-1] else '-'}", ""]
    return strip_controls("\n".join(out))


# HTML --------------------------------------------------------------------------------------------------
PRINT_CSS = """
@page { size: A4; margin: 18mm 16mm; }
body { font-family: Georgia, 'Times New Roman', serif; font-size: 11pt; line-height: 1.4; color: #000;
       max-width: 178mm; margin: 0 auto; }
h1 { font-size: 17pt; margin: 0 0 4pt; } h2 { font-size: 13.5pt; border-bottom: 1px solid #000;
       margin-top: 16pt; } h3 { font-size: 11.5pt; margin: 12pt 0 4pt; }
.confidential { border: 2px solid #000; padding: 4pt 8pt; font-weight: bold; }
table { border-collapse: collapse; width: 100%; margin: 4pt 0 8pt; }
th, td { border: 1px solid #555; padding: 3pt 5pt; text-align: left; vertical-align: top; }
th { background: #eee; } tr, li { page-break-inside: avoid; break-inside: avoid; }
.text { white-space: pre-wrap; } .was { color: #444; } .refer { font-weight: bold; }
.meta { color: #333; font-size: 9.5pt; }
@media print { a { color: #000; text-decoration: none; } }
"""


# Nothing in a report may run, load or send anything: only its own inline style is allowed.
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src 'none'; form-action 'none'; base-uri 'none'"


def _page(title: str, body: list[str]) -> str:
    # Control characters are removed from the whole page as a second line of defence (records are cleaned
    # when saved): a report printed to a terminal can never act on it.
    return strip_controls("\n".join([
        "<!DOCTYPE html>", '<html lang="en-GB">', "<head>", '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
        f"<title>{h(title)}</title>", f"<style>{PRINT_CSS}</style>", "</head>", "<body>",
        *body, "</body>", "</html>", ""]))


def _text(value: str) -> str:
    return f'<div class="text">{h(value)}</div>' if value.strip() else "<p><em>(none recorded)</em></p>"


def _table(headers: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{h(x)}</th>" for x in headers)
    body = "".join("<tr>" + "".join(f'<td class="text">{h(c)}</td>' for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def html_report(incident: Incident, library: Library | None = None) -> str:
    amended = amended_fields(incident)
    body = [f"<h1>Safeguarding incident {h(incident.id)}</h1>", f'<p class="confidential">{h(CONFIDENTIAL)}</p>',
            f'<p class="meta">Made {h(describe(now_local()))}. {h(_by_and_when(incident))}.</p>',
            "<h2>The concern (substance)</h2>",
            _table(["", ""], [["Summary", incident.summary], ["When the concern arose", describe(incident.concern_at)],
                              ["Category", _label(CATEGORIES, incident.category)],
                              ["Scope", _label(SCOPES, incident.scope)], ["Status", _label(STATUSES, incident.status)]])]
    changed = [f"{FIELD_LABELS[k]} ({n})" for k, n in sorted(amended.items()) if k in FIELD_LABELS
               and k != "checklist"]
    if changed:
        body.append(f"<p><em>Changed after first recorded (originals in the chronology): {h(', '.join(changed))}</em></p>")
    body += ["<h3>What happened</h3>", _text(incident.details), "<h3>Pupils</h3>"]
    body.append(_table(["Name", "Year", "Role", "Date of birth"],
                       [[p.name, p.year_group, _label(PUPIL_ROLES, p.role), day(p.date_of_birth)] for p in incident.pupils])
                if incident.pupils else "<p><em>(none named)</em></p>")
    body += ["<h3>Referral</h3>", _table(["", ""], [
        ["Decision", _label(REFERRAL_DECISIONS, incident.referral_decision)],
        ["Reason", incident.referral_rationale or "(none)"]])]
    if incident.referral_check:
        questions = {q.id: q.text for q in library.questions_for(incident.category)} if library else {}
        body.append(_table(["Referral check question", "Answer"],
                           [[questions.get(k, k), _label(ANSWERS, a)] for k, a in incident.referral_check.items()]))
        if incident.refer_now():
            body.append('<p class="refer">At least one answer is yes: refer at once to the police or children\'s '
                        "social care.</p>")
    if incident.referrals:
        body.append(_table(["Agency", "When", "Reference", "Note"],
                           [[_label(AGENCIES, r.agency), describe(r.at) if r.at else "", r.reference, r.note]
                            for r in incident.referrals]))
    body += ["<h3>Parents</h3>", _table(["", ""], [["Informed", _label(PARENTS_INFORMED, incident.parents_informed)],
                                                 ["Note", incident.parents_note]]),
             "<h3>How it was followed up</h3>", _text(incident.follow_up),
             "<h3>Actions taken</h3>", _text(incident.actions), "<h3>Decisions and their reasons</h3>"]
    body.append(_table(["Decision", "Reason", "By", "When"],
                       [[d.decision, d.reason, d.by, describe(d.at) if d.at else ""] for d in incident.decisions])
                if incident.decisions else "<p><em>(none recorded)</em></p>")
    body += ["<h3>Outcome</h3>", _text(incident.outcome)]
    if incident.transfers:
        body += ["<h3>Transfers of the file</h3>", _table(
            ["Sent to", "Sent", "Acknowledged", "Note"],
            [[t.sent_to, day(t.sent_at), day(t.acknowledged_at) or "not yet", t.note] for t in incident.transfers])]
    done, total = incident.checklist_progress()
    body += ["<h2>What was done (process)</h2>", f"<h3>Checklist ({done}/{total})</h3>",
             _table(["Item", "State", "By", "When", "Note"],
                    [[i.text, _label(CHECK_STATES, i.state), i.by, describe(i.at) if i.at else "", i.note]
                     for i in incident.checklist]),
             "<h3>Chronology of every change</h3>"]
    rows = []
    for event in chronology(incident):
        first = event.number == 1
        what = event.action + (f" ({event.note})" if event.note else "")
        if first or not event.changes:
            rows.append(f"<tr><td>{event.number}</td><td>{h(describe(event.at))}</td><td>{h(event.by)}</td>"
                        f'<td class="text">{h(what)}</td><td></td><td></td></tr>')
            continue
        for index, change in enumerate(event.changes):
            lead = (f"<td>{event.number}</td><td>{h(describe(event.at))}</td><td>{h(event.by)}</td>"
                    f'<td class="text">{h(what)}: {h(change.field)}</td>') if index == 0 else \
                f'<td></td><td></td><td></td><td class="text">{h(change.field)}</td>'
            rows.append(f'<tr>{lead}<td class="text was">{h(change.before)}</td>'
                        f'<td class="text">{h(change.after)}</td></tr>')
    body.append("<table><thead><tr><th>#</th><th>When</th><th>Who</th><th>What</th><th>Before</th><th>After</th>"
                f"</tr></thead><tbody>{''.join(rows)}</tbody></table>")
    if incident.history and "hash" in incident.history[-1]:
        body.append(f'<p class="meta">History entries: {len(incident.history)}. Newest entry hash: '
                    f"{h(incident.history[-1]['hash'])}</p>")
    return _page(f"Safeguarding incident {incident.id}", body)


# Pupil chronology ---------------------------------------------------------------------------------------
@dataclass
class PupilEntry:
    concern_at: str
    incident_id: str
    role: str
    year_group: str
    summary: str
    status: str
    outcome: str
    recorded_at: str


def _same_name(a: str, b: str) -> bool:
    """The same name whatever the case, spacing, composition, or invisible characters typed into it."""
    return " ".join(clean(a).casefold().split()) == " ".join(clean(b).casefold().split())


def pupil_chronology(incidents: list[Incident], name: str) -> list[PupilEntry]:
    """Every incident naming the pupil, in the order the concerns arose (so backdated entries sort right)."""
    entries = []
    for incident in incidents:
        for pupil in incident.pupils:
            if _same_name(pupil.name, name):
                entries.append(PupilEntry(incident.concern_at, incident.id, _label(PUPIL_ROLES, pupil.role),
                                          pupil.year_group, incident.summary, _label(STATUSES, incident.status),
                                          incident.outcome, incident.created_at))
                break
    entries.sort(key=lambda e: (sort_key(e.concern_at), e.incident_id))
    return entries


def chronology_markdown(name: str, entries: list[PupilEntry]) -> str:
    out = [f"# Chronology: {md(name)}", "", f"**{CONFIDENTIAL}**", "",
           f"Made {describe(now_local())}. {len(entries)} incident(s), in the order the concerns arose.", "",
           "| When the concern arose | Incident | Role | Year | Summary | Status | Outcome | Recorded |",
           "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    out += [f"| {describe(e.concern_at)} | {md_cell(e.incident_id)} | {md_cell(e.role)} | {md_cell(e.year_group)} | "
            f"{md_cell(e.summary)} | {md_cell(e.status)} | {md_cell(e.outcome)} | {describe(e.recorded_at)} |"
            for e in entries]
    return strip_controls("\n".join(out) + "\n")


def chronology_html(name: str, entries: list[PupilEntry]) -> str:
    body = [f"<h1>Chronology: {h(name)}</h1>", f'<p class="confidential">{h(CONFIDENTIAL)}</p>',
            f'<p class="meta">Made {h(describe(now_local()))}. {len(entries)} incident(s), in the order the concerns '
            "arose.</p>",
            _table(["When the concern arose", "Incident", "Role", "Year", "Summary", "Status", "Outcome", "Recorded"],
                   [[describe(e.concern_at), e.incident_id, e.role, e.year_group, e.summary, e.status, e.outcome,
                     describe(e.recorded_at)] for e in entries])]
    return _page(f"Chronology: {name}", body)
