"""Timing differential, in a real terminal: what the DSL typed is what is saved, however fast the keys arrive.

Each script below is a list of keystrokes a DSL might type, written against the keys alone (tab order, enter,
arrows, the F-keys and ctrl keys of the README), so it holds for any implementation of the form. Every script
runs twice, each time on a fresh database in its own tmux server:

- slow: one step at a time with 0.4 s between steps (a key, or one chunk of text typed into a field), so the
  app has settled before the next key arrives;
- burst: every key between two sync points written into the terminal at once, as a laggy SSH line delivers
  them.

Sync points (`Wait`) are only where a person would also wait: for the app to start, for a dialog that must be
read, for "Saved" before going on. After each run the records are read back with `kentsafe list --json` and
`kentsafe show ID --json`; with the time-based fields taken out they must be the same for both runs, and each
must be the record the script means (written out per script, so that two runs that are wrong the same way
still fail).

Everything runs twice more with every core busy (one busy-loop process per core), so the app is slow. The
slow-gap runs mostly sleep, so the runs of different scripts go side by side, each in its own tmux server.
Nothing here asserts how long anything took: waiting is by polling the screen, and timeouts only stop a hang.

Run it with `.venv/bin/python -m pytest tests/test_timing.py -q` (tmux needed). `KENTSAFE_TIMING_REPORT=FILE`
appends a table of every script, slow and burst, idle and loaded, with what differed; `KENTSAFE_TIMING_WORKERS`
sets how many slow runs go side by side (3).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from .terminal_harness import EXITED, Terminal, WaitTimedOut, key_bytes, kentsafe_cli

pytestmark = [
    pytest.mark.terminal,
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("tmux") is None and not os.environ.get("CI"), reason="tmux is not installed"),
]

USER = "Jo DSL"
GAP = 0.4  # seconds between steps in the slow run
# On screen, these rule out what a sync point waits for: stop waiting and report the screen.
GIVE_UP = ("Not saved", EXITED)
YEAR = datetime.now().year  # ids are YYYY-NNNN, by the year the record is created


def ref(number: int) -> str:
    return f"{YEAR}-{number:04d}"


# Scripts as data -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Wait:
    """A sync point: wait until this text is on the screen (a person would look before going on)."""

    text: str


START = Wait("Summary *")  # the app is up and the cursor is in Summary


def tabs(count: int) -> list[str]:
    return ["Tab"] * count


# From Summary on a new incident (not "Sharing nudes", so without the five questions), tab reaches:
FIELD = {"concern_at": 1, "category": 2, "scope": 3, "status": 4, "details": 5, "add-pupils": 6,
         "quick-pupils": 7, "referral_decision": 8, "referral_rationale": 9, "add-referrals": 10,
         "quick-referrals": 11, "parents_informed": 12, "parents_note": 13, "follow_up": 14, "actions": 15,
         "add-decisions": 16, "quick-decisions": 17, "outcome": 18, "add-transfers": 19, "quick-transfers": 20}


def to(name: str) -> list[str]:
    """Tab from Summary to a field (on a new incident)."""
    return tabs(FIELD[name])


# The form's heading says "Saved at 10:42" once a save is done, until the next change (each script types first).
SAVED = Wait("Saved at")


@dataclass
class Script:
    name: str
    covers: str
    steps: list[Any]  # key names (see terminal_harness.KEY_BYTES), text to type, or Wait
    expect: dict[int, dict]  # record number -> the record the DSL meant (see `record`)
    seed: list[dict] = field(default_factory=list)  # records imported before the app starts
    quits: bool = False  # the script quits the app itself


# The fields a DSL edits, with the value a new incident has.
DEFAULTS: dict[str, Any] = {
    "details": "", "category": "harmful_content", "scope": "reported_here", "status": "open", "pupils": [],
    "referral_check": {}, "referral_decision": "", "referral_rationale": "", "referrals": [],
    "parents_informed": "not_yet", "parents_note": "", "follow_up": "", "actions": "", "decisions": [],
    "outcome": "", "transfers": [],
}


def pupil(name: str, year_group: str = "", role: str = "harmed", date_of_birth: str = "") -> dict:
    return {"name": name, "year_group": year_group, "role": role, "date_of_birth": date_of_birth}


def referral(agency: str = "police_101", at: str = "", reference: str = "", note: str = "") -> dict:
    return {"agency": agency, "at": at, "reference": reference, "note": note}


def decision(what: str, reason: str) -> dict:
    return {"decision": what, "reason": reason, "by": USER}


def transfer(sent_to: str, sent_at: str = "", acknowledged_at: str = "", note: str = "") -> dict:
    return {"sent_to": sent_to, "sent_at": sent_at, "acknowledged_at": acknowledged_at, "note": note}


def record(summary: str, checklist: dict[int, tuple[str, str]] | None = None, **fields: Any) -> dict:
    """The whole record as the DSL meant it: every editable field (the defaults where not typed), and the
    checklist by position: {index: (state, note)}, every other item to do with no note. `concern_at` is
    checked only when the script types it (otherwise it is the moment of creation)."""
    unknown = set(fields) - set(DEFAULTS) - {"concern_at"}
    assert not unknown, f"not a field: {unknown}"
    return {"summary": summary, **DEFAULTS, **fields, "checklist": checklist or {}}


# The scripts -------------------------------------------------------------------------------------------------
BULLYING_SEED = [
    {"summary": "Bullying on the school bus", "concern_at": "2025-10-01T08:30:00+01:00"},
    {"summary": "Video shared in a Year 8 chat", "concern_at": "2025-10-05T13:00:00+01:00"},
]
DETAILS_SEED = [{"summary": "Video shared in a Year 9 chat", "details": "First account from the tutor.",
                 "concern_at": "2025-10-07T10:00:00+01:00"}]

SCRIPTS = [
    Script("summary", "Summary, save",
           [START, "Video shared in a Year 8 chat", "C-s", SAVED],
           {1: record("Video shared in a Year 8 chat")}),
    Script("details", "Summary, tab to What happened, two lines",
           [START, "Rumour of a video", *to("details"), "A pupil told their tutor at break.", "Enter",
            "She was upset and wanted it gone.", "C-s", SAVED],
           {1: record("Rumour of a video",
                      details="A pupil told their tutor at break.\nShe was upset and wanted it gone.")}),
    Script("concern_date", "When the concern arose (typed date)",
           [START, "Concern from last October", *to("concern_at"), "14/10/2025 09:15", "C-s", SAVED],
           {1: record("Concern from last October", concern_at="2025-10-14T09:15:00+01:00")}),
    Script("category", "Category select (enter, down, enter)",
           [START, "Messages calling a pupil names", *to("category"), "Enter", "Down", "Down", "Enter", "C-s",
            SAVED],
           {1: record("Messages calling a pupil names", category="online_bullying")}),
    Script("scope", "Scope select",
           [START, "Video circulating in other schools", *to("scope"), "Enter", "Down", "Enter", "C-s", SAVED],
           {1: record("Video circulating in other schools", scope="no_direct_impact")}),
    Script("status", "Status select (open to awaiting response)",
           [START, "Waiting to hear from social care", *to("status"), "Enter", "Down", "Enter", "C-s", SAVED],
           {1: record("Waiting to hear from social care", status="awaiting_response")}),
    Script("top_of_form", "Summary, date, category, scope, status, details in one run",
           [START, "Several things at once", "Tab", "02/11/2025 16:45", "Tab", "Enter", "Down", "Down", "Down",
            "Down", "Enter", "Tab", "Enter", "Down", "Enter", "Tab", "Enter", "Down", "Down", "Enter", "Tab",
            "Heard from a parent at the gate.", "C-s", SAVED],
           {1: record("Several things at once", concern_at="2025-11-02T16:45:00+00:00", category="other_online",
                      scope="no_direct_impact", status="monitoring", details="Heard from a parent at the gate.")}),
    Script("pupil_row", "+ Add a pupil: name, year, role select, date of birth",
           [START, "Pupil named in a group chat", *to("add-pupils"), "Enter", "Alex Smith", "Tab", "8", "Tab",
            "Enter", "Down", "Down", "Enter", "Tab", "14/03/2013", "C-s", SAVED],
           {1: record("Pupil named in a group chat", pupils=[pupil("Alex Smith", "8", "shared", "2013-03-14")])}),
    Script("two_pupils", "Two pupil rows, the second added from the first",
           [START, "Two pupils involved", *to("add-pupils"), "Enter", "Alex Smith", "Tab", "8", "Tab", "Tab", "Tab",
            "Enter", "Sam Jones", "Tab", "9", "C-s", SAVED],
           {1: record("Two pupils involved", pupils=[pupil("Alex Smith", "8"), pupil("Sam Jones", "9")])}),
    Script("pupil_then_details", "A pupil row, then shift+tab back up to What happened",
           [START, "Pupil then the account", *to("add-pupils"), "Enter", "Alex Smith", "Tab", "8", "BTab", "BTab",
            "BTab", "Alex was shown the video on the bus.", "C-s", SAVED],
           {1: record("Pupil then the account", pupils=[pupil("Alex Smith", "8")],
                      details="Alex was shown the video on the bus.")}),
    Script("remove_row", "Two pupil rows, remove the first (asks), save",
           [START, "Wrong pupil added", *to("add-pupils"), "Enter", "Wrong Name", "Tab", "Tab", "Tab", "Tab",
            "Enter", "Right Name", *["BTab"] * 6, "Enter", Wait("Remove?"), "Tab", "Enter", "C-s", SAVED],
           {1: record("Wrong pupil added", pupils=[pupil("Right Name")])}),
    # Today the cursor lands in "When", the first text field of the row; the agency is just before it.
    Script("referral_row", "+ Add a referral: when, reference, note, then the agency select",
           [START, "Referred to CEOP", *to("add-referrals"), "Enter", "14/10/2025 10:30", "Tab", "CR/2025/123",
            "Tab", "Spoke to PC Jones", "BTab", "BTab", "BTab", "Enter", "Down", "Enter", "C-s", SAVED],
           {1: record("Referred to CEOP", referrals=[referral("ceop", "2025-10-14T10:30:00+01:00", "CR/2025/123",
                                                             "Spoke to PC Jones")])}),
    Script("two_referrals", "Two referral rows, the second added from the first",
           [START, "Two referrals", *to("add-referrals"), "Enter", "14/10/2025 10:30", "Tab", "REF-1", "Tab",
            "Tab", "Enter", "15/10/2025 11:00", "Tab", "REF-2", "Tab", "Front Door called back", "C-s", SAVED],
           {1: record("Two referrals", referrals=[
               referral(at="2025-10-14T10:30:00+01:00", reference="REF-1"),
               referral(at="2025-10-15T11:00:00+01:00", reference="REF-2", note="Front Door called back")])}),
    Script("referral_decision", "Referral decision select (not referred) and its reason",
           [START, "Decided not to refer", *to("referral_decision"), "Enter", "Down", "Down", "Enter", "Tab",
            "LESAS advised that no referral was needed.", "C-s", SAVED],
           {1: record("Decided not to refer", referral_decision="not_referred",
                      referral_rationale="LESAS advised that no referral was needed.")}),
    # Choosing "Sharing nudes" puts the five questions between the pupils' quick line and the referral decision.
    Script("referral_questions", "Category nudes, the five refer-at-once questions, referral decision",
           [START, "Image shared between two pupils", *to("category"), "Enter", "Down", "Enter",
            *tabs(6), "Enter", "Down", "Down", "Enter",
            "Tab", "Enter", "Down", "Enter",
            "Tab", "Enter", "Down", "Down", "Enter",
            "Tab", "Enter", "Down", "Down", "Enter",
            "Tab", "Enter", "Down", "Enter",
            "Tab", "Enter", "Down", "Enter", "C-s", SAVED],
           {1: record("Image shared between two pupils", category="nudes", referral_decision="referred",
                      referral_check={"rq-adult": "no", "rq-coercion": "yes", "rq-unusual-or-violent": "no",
                                      "rq-under-13": "no", "rq-immediate-risk": "yes"})}),
    Script("parents_and_follow_up", "Parents informed select, its note, follow-up, actions",
           [START, "Parents not told", *to("parents_informed"), "Enter", "Down", "Down", "Enter", "Tab",
            "Telling them would put the pupil at risk.", "Tab", "Tutor checks in daily.", "Tab",
            "Phone handed to the police.", "C-s", SAVED],
           {1: record("Parents not told", parents_informed="no",
                      parents_note="Telling them would put the pupil at risk.", follow_up="Tutor checks in daily.",
                      actions="Phone handed to the police.")}),
    Script("decision_row", "+ Add a decision: what and why",
           [START, "Decision recorded", *to("add-decisions"), "Enter", "Speak to both families", "Tab",
            "Both pupils asked us to", "C-s", SAVED],
           {1: record("Decision recorded", decisions=[decision("Speak to both families", "Both pupils asked us to")])}),
    Script("transfer_row", "+ Add a transfer: sent to, sent on, receipt confirmed, note",
           [START, "Pupil moved school", *to("add-transfers"), "Enter", "Hilltop Academy", "Tab", "20/10/2025",
            "Tab", "22/10/2025", "Tab", "Sent by secure email", "C-s", SAVED],
           {1: record("Pupil moved school", transfers=[transfer("Hilltop Academy", "2025-10-20", "2025-10-22",
                                                                "Sent by secure email")])}),
    Script("outcome_and_close", "Status select to Closed: the outcome dialog, close and save",
           [START, "Resolved quickly", "C-s", SAVED, *to("status"), "Enter", "Down", "Down", "Down", "Enter",
            Wait("Closing the incident"), "Parents spoke to both pupils; no further action.", "C-s",
            Wait("Closed")],
           {1: record("Resolved quickly", status="closed",
                      outcome="Parents spoke to both pupils; no further action.")}),
    Script("ticks_on_new_incident", "Type, F4 tick, F3 type more, F4 down tick, save (new incident)",
           [START, "First part", "F4", "Space", "F3", "End", " and more", "F4", "Down", "Space", "C-s", SAVED],
           {1: record("First part and more", checklist={0: ("done", ""), 1: ("done", "")})}),
    Script("tick_then_edit_saved", "Open a saved incident, tick, F3, End, type, save (issue point 1)",
           [START, "C-o", "Enter", "F4", "Space", "F3", "End", " EDITED", "C-s", SAVED],
           {1: record("Video shared in a Year 9 chat EDITED", details="First account from the tutor.",
                      checklist={0: ("done", "")})},
           seed=DETAILS_SEED),
    Script("ticks_and_unticks", "Checklist: space, down, space, down, space, up, space (saved at once)",
           [START, "Ticks", "C-s", SAVED, "F4", "Space", "Down", "Space", "Down", "Space", "Up", "Space"],
           {1: record("Ticks", checklist={0: ("done", ""), 2: ("done", "")})}),
    Script("not_applicable", "Checklist: n, the reason, enter",
           [START, "Video not seen here", "C-s", SAVED, "F4", "Down", "n", "Nothing was forwarded here", "Enter"],
           {1: record("Video not seen here", checklist={1: ("not_applicable", "Nothing was forwarded here")})}),
    Script("checklist_note", "Checklist: e, a note, enter",
           [START, "Note on an item", "C-s", SAVED, "F4", "Down", "Down", "e", "Asked the tutor to watch", "Enter"],
           {1: record("Note on an item", checklist={2: ("todo", "Asked the tutor to watch")})}),
    Script("new_after_save", "ctrl+n after saving: a second incident",
           [START, "First concern", "C-s", SAVED, "C-n", "Second concern", "Tab", "03/11/2025 08:00", "C-s",
            Wait(f"Incident {ref(2)} · Saved at")],  # the first one's "Saved at" is on screen until ctrl+n acts
           {1: record("First concern"), 2: record("Second concern", concern_at="2025-11-03T08:00:00+00:00")}),
    Script("new_with_unsaved", "ctrl+n with unsaved typing: the dialog, s saves, type the next one",
           [START, "First concern", "C-n", Wait("Unsaved changes"), "s", "Second concern", "C-s", SAVED],
           {1: record("First concern"), 2: record("Second concern")}),
    Script("open_filter_edit", "ctrl+o, type a filter, enter, End, type, save",
           [START, "C-o", "bus", "Enter", "End", " (updated)", "C-s", SAVED],
           {1: record("Bullying on the school bus (updated)", concern_at="2025-10-01T08:30:00+01:00"),
            2: record("Video shared in a Year 8 chat", concern_at="2025-10-05T13:00:00+01:00")},
           seed=BULLYING_SEED),
    Script("open_add_to_details", "Open, tab to What happened, ctrl+End, a new line (update after the account)",
           [START, "C-o", Wait("Incidents (newest concern first)"), "Enter", *to("details"), "C-End", "Enter",
            "Second account from the pupil.", "C-s", SAVED],
           {1: record("Video shared in a Year 9 chat",
                      details="First account from the tutor.\nSecond account from the pupil.")},
           seed=DETAILS_SEED),
    Script("quit_and_save", "Type, ctrl+q, the dialog, s saves and quits",
           [START, "Half-written concern", "C-q", Wait("Unsaved changes"), "s"],
           {1: record("Half-written concern")}, quits=True),
    Script("quit_and_discard", "Type, ctrl+q, the dialog, tab to Discard, enter",
           [START, "Not wanted after all", "C-q", Wait("Unsaved changes"), "Tab", "Enter"],
           {}, quits=True),
    Script("type_ahead_then_quit", "Typing while the app starts, then ctrl+q asks (issue point 3)",
           ["Typed while it started", START, "C-q", Wait("Unsaved changes"), "s"],
           {1: record("Typed while it started")}, quits=True),
]


# Running a script ----------------------------------------------------------------------------------------------
@dataclass
class Run:
    script: str
    mode: str
    records: dict[str, dict] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)  # stuck waits, a question at the final quit, ...
    # What the screen showed before each key of a slow run (and before the final ctrl+q of either), so a run
    # that saved the wrong record says where it went astray (shown only when a check fails).
    trail: list[tuple[str, str]] = field(default_factory=list)


def segments(steps: list[Any]) -> list[tuple[list[str], Wait | None]]:
    """The keys between sync points, each group with the wait that follows it."""
    groups: list[tuple[list[str], Wait | None]] = []
    keys: list[str] = []
    for step in steps:
        if isinstance(step, Wait):
            groups.append((keys, step))
            keys = []
        else:
            keys.append(step)
    if keys:
        groups.append((keys, None))
    return groups


def read_records(db: Path) -> dict[str, dict]:
    if not db.exists():
        return {}
    listed = kentsafe_cli("list", "--json", "--db", str(db))
    assert listed.returncode == 0, listed.stderr
    records = {}
    for row in json.loads(listed.stdout):
        shown = kentsafe_cli("show", row["id"], "--json", "--db", str(db))
        assert shown.returncode == 0, shown.stderr
        records[row["id"]] = json.loads(shown.stdout)
    return records


def run_script(script: Script, mode: str, folder: Path) -> Run:
    run = Run(script.name, mode)
    folder.mkdir(parents=True)
    db = folder / "school" / "records.json"
    if script.seed:
        seed = folder / "seed.json"
        seed.write_text(json.dumps(script.seed))
        done = kentsafe_cli("import", str(seed), "--db", str(db), "--user", USER)
        assert done.returncode == 0, done.stderr
    terminal = Terminal(folder, f"{script.name}-{mode}")
    try:
        terminal.start("--db", str(db), "--user", USER)
        for keys, wait in segments(script.steps):
            if mode == "slow":
                for key in keys:
                    run.trail.append((key, terminal.screen()))
                    terminal.send(key_bytes(key))
                    time.sleep(GAP)
            else:
                terminal.send(b"".join(key_bytes(key) for key in keys))
            if wait is not None:
                terminal.wait_for(wait.text, give_up=GIVE_UP)
        if not script.quits:
            run.trail.append(("C-q", terminal.screen()))
            terminal.send(key_bytes("C-q"))
            if terminal.wait_for(EXITED, "Unsaved changes") != EXITED:
                run.problems.append("ctrl+q at the end asked about unsaved changes (discarded them)")
                terminal.send(key_bytes("Tab") + key_bytes("Enter"))
        terminal.wait_for(EXITED)
        code = re.search(EXITED + r"(\d+)", terminal.screen())
        if code is None or code.group(1) != "0":
            run.problems.append(f"kentsafe ended with exit status {code.group(1) if code else 'unknown'}")
    except WaitTimedOut as stuck:
        run.problems.append(f"stuck waiting for {' or '.join(map(repr, stuck.texts))}; the screen showed:\n"
                            + "\n".join("    " + line for line in stuck.screen.rstrip().splitlines()))
    finally:
        terminal.close()
    run.records = read_records(db)
    return run


# Comparing -------------------------------------------------------------------------------------------------------
DROPPED = {"created_at", "updated_at", "hash", "prev", "chain"}  # "prev": the hash of the entry before


def normalise(value: Any, keep_concern_at: bool) -> Any:
    """Without what depends on the clock: creation and update times, the moment stamped on ticks, decisions
    and history entries (an `at` beside a `by`), hashes; and when the concern arose unless it was typed."""
    if isinstance(value, dict):
        return {key: normalise(item, keep_concern_at) for key, item in value.items()
                if key not in DROPPED and not (key == "at" and "by" in value)
                and not (key == "concern_at" and not keep_concern_at)}
    if isinstance(value, list):
        return [normalise(item, keep_concern_at) for item in value]
    return value


def differences(expected: dict[int, dict], records: dict[str, dict]) -> list[str]:
    """What differs between the records the script means and those saved, one line each."""
    lines = []
    wanted = {ref(number) for number in expected}
    for extra in sorted(set(records) - wanted):
        lines.append(f"{extra}: saved, but the script makes no such record ({records[extra].get('summary')!r})")
    for number, want in sorted(expected.items()):
        ident = ref(number)
        got = records.get(ident)
        if got is None:
            lines.append(f"{ident}: not saved")
            continue
        for key, value in want.items():
            if key == "checklist":
                continue
            have = got.get(key)
            if key == "decisions":
                have = [{k: row.get(k) for k in ("decision", "reason", "by")} for row in have or []]
            if have != value:
                lines.append(f"{ident}.{key}: expected {value!r}, got {have!r}")
        for index, item in enumerate(got.get("checklist", [])):
            state, note = want["checklist"].get(index, ("todo", ""))
            if (item["state"], item["note"]) != (state, note):
                lines.append(f"{ident}.checklist[{index}] {item['id']}: expected {state} {note!r}, "
                             f"got {item['state']} {item['note']!r}")
            elif state != "todo" and item.get("by") != USER:
                lines.append(f"{ident}.checklist[{index}] {item['id']}: by {item.get('by')!r}, not {USER!r}")
        missing = [index for index in want["checklist"] if index >= len(got.get("checklist", []))]
        if missing:
            lines.append(f"{ident}.checklist: no items at {missing}")
    return lines


def slow_vs_burst(script: Script, slow: Run, burst: Run) -> list[str]:
    # When the concern arose is compared only for the records where the script types it (the others take
    # "now", which differs from run to run).
    typed = {ref(number) for number, want in script.expect.items() if "concern_at" in want}
    a = {ident: normalise(record, ident in typed) for ident, record in slow.records.items()}
    b = {ident: normalise(record, ident in typed) for ident, record in burst.records.items()}
    if a == b:
        return []
    lines = []
    for ident in sorted(set(a) | set(b)):
        left, right = a.get(ident), b.get(ident)
        if left is None or right is None:
            lines.append(f"{ident}: only in the {'burst' if left is None else 'slow'} run")
            continue
        for key in sorted(set(left) | set(right)):
            if left.get(key) != right.get(key):
                lines.append(f"{ident}.{key}: slow {_short(left.get(key))}, burst {_short(right.get(key))}")
    return lines


def _short(value: Any, limit: int = 300) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[:limit] + "…"


def verdict(script: Script, run: Run) -> list[str]:
    return [*run.problems, *differences(script.expect, run.records)]


def trail(run: Run) -> str:
    """The screens a run saw before its keys, each only where it changed."""
    lines, last = [], None
    for key, screen in run.trail:
        if screen == last:
            lines.append(f"  before {key}: (the same)")
        else:
            lines.append(f"  before {key}:\n" + "\n".join("    " + line for line in screen.rstrip().splitlines()))
        last = screen
    return "\n".join(lines)


# Load and the runs -----------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def busy_cores():
    """One busy-loop process per core, for as long as the loaded runs take; each killed by its own pid."""
    loops = []
    try:
        for _ in range(os.cpu_count() or 1):
            loops.append(subprocess.Popen([sys.executable, "-c", "while True: pass"], start_new_session=True,
                                          stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL))
        yield len(loops)
    finally:
        for loop in loops:
            loop.kill()
        for loop in loops:
            loop.wait(timeout=30)


def run_all(folder: Path) -> dict[tuple[str, str], Run]:
    """Every script, slow and burst, each with its own tmux server and database. The slow runs mostly sleep,
    so several go side by side; the burst runs go one at a time, beside them (each burst is short; the app is busy only then)."""
    slow_workers = int(os.environ.get("KENTSAFE_TIMING_WORKERS", "3"))
    with ThreadPoolExecutor(max_workers=slow_workers) as slow_pool, \
            ThreadPoolExecutor(max_workers=1) as burst_pool:
        futures = {}
        for script in SCRIPTS:
            for mode, pool in (("slow", slow_pool), ("burst", burst_pool)):
                futures[(script.name, mode)] = pool.submit(run_script, script, mode,
                                                           folder / f"{script.name}-{mode}")
        return {key: future.result() for key, future in futures.items()}


@pytest.fixture(scope="module", params=["idle", "loaded"])
def runs(request, tmp_path_factory):
    if request.param == "loaded":
        request.getfixturevalue("busy_cores")
    started = time.monotonic()
    results = run_all(tmp_path_factory.mktemp(f"timing-{request.param}"))
    elapsed = time.monotonic() - started
    report = os.environ.get("KENTSAFE_TIMING_REPORT")
    if report:
        with open(report, "a") as out:
            out.write(f"## {request.param} ({elapsed:.0f} s)\n")
            for script in SCRIPTS:
                slow, burst = results[(script.name, "slow")], results[(script.name, "burst")]
                marks = {mode: "FAIL" if verdict(script, run) else "pass" for mode, run in
                         (("slow", slow), ("burst", burst))}
                same = "same" if not slow_vs_burst(script, slow, burst) else "DIFFER"
                out.write(f"{script.name:<24} slow {marks['slow']}  burst {marks['burst']}  {same}\n")
                for mode, run in (("slow", slow), ("burst", burst)):
                    for line in verdict(script, run):
                        out.write(f"    {mode}: {line}\n")
    return request.param, results


@pytest.mark.parametrize("script", SCRIPTS, ids=[script.name for script in SCRIPTS])
def test_typed_is_saved_at_any_speed(runs, script):
    load, results = runs
    slow, burst = results[(script.name, "slow")], results[(script.name, "burst")]
    failures = []
    for mode, run in (("slow (0.4 s gaps)", slow), ("burst", burst)):
        lines = verdict(script, run)
        if lines:
            failures.append(f"{mode}, {load}:\n" + "\n".join("  " + line for line in lines)
                            + f"\n what the screen showed:\n{trail(run)}")
    differ = slow_vs_burst(script, slow, burst)
    if differ:
        failures.append(f"slow and burst saved different records, {load}:\n"
                        + "\n".join("  " + line for line in differ))
    assert not failures, f"{script.name} ({script.covers}):\n" + "\n".join(failures)


def test_there_are_enough_scripts_and_they_cover_the_form():
    assert len(SCRIPTS) >= 20
    keys = {step for script in SCRIPTS for step in script.steps if isinstance(step, str)}
    assert {"C-s", "C-n", "C-o", "C-q", "F4", "F3", "Space", "Up", "Down", "n", "e", "Tab", "BTab"} <= keys
    touched = {key for script in SCRIPTS for want in script.expect.values() for key, value in want.items()
               if value != DEFAULTS.get(key)}
    assert set(DEFAULTS) | {"summary", "checklist", "concern_at"} <= touched
