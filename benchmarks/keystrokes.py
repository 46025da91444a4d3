"""Keys a DSL needs to make a complete record, counted, and the record checked (issue 13).

    .venv/bin/python benchmarks/keystrokes.py                  # both cases, keys sent one at a time
    .venv/bin/python benchmarks/keystrokes.py --burst          # every key of a case written at once
    .venv/bin/python benchmarks/keystrokes.py --count          # the table only, no terminal
    .venv/bin/python benchmarks/keystrokes.py founding --how   # one case, with how each step is done

Each case (benchmarks/flows.py) is typed into the real `kentsafe`, in a tmux server of its own (`tmux -L
keysbench-...`), on a fresh database in a temporary folder. Keys are written as the bytes an xterm sends
(TERM=xterm-256color). Slow: one key (or one piece of text) at a time, waiting after each until the screen has
been still for a moment. Burst: every token of the case in one write, as a laggy SSH line delivers them; only
the flow's own `Wait` tokens (if any) split it. Then ctrl+q (not counted), and the saved record is read back with
`kentsafe show ID --json` and compared field by field with the record the case means; the report and letter
must be in `exports/` beside the database. Each mismatch is printed; the exit status is 1 if there is one.

Counting: every key press other than the text typed into fields counts one (`Key("down", 3)` counts three); text
is counted apart, in characters. Sync points and the final ctrl+q are not counted. Nothing is timed. The
terminal is 160x45 unless `--size` says otherwise: the founding case's "f4, shift+tab x3" reaches "+ Add a
decision" only when the three panes stand side by side (120 columns or more).

Before (today's keys, at 99c586a, 1 December 2026; the fewest a practised user needs, found by reading the form
and trying them in tmux; `--how` shows each step's keys). Both cases made exactly the expected record, slow and
in one burst, idle and with both cores busy, with no sync point inside the flow.

    founding case                         keys  text     nudes case                              keys  text
    new incident                             1     0     new incident                               1     0
    summary and when                         1    63     summary                                    0    59
    category and scope                       2     0     category: sharing nudes                    5     0
    three pupils                            28    39     the five referral questions               24     0
    police and Front Door referrals         21    44     decision not to refer, with its reason     5    96
    decision with its reason                 6   106     close with the outcome                     9    82
    save                                     1     0     total                                     44   237
    checklist: 7 ticks, a note, one n/a     26    88
    report                                   2     0
    parent letter                            2     0
    close with the outcome                   9    88
    total                                   99   428

What today's keys make hard (measured, not changed here):
- A choice list's first letters (README: "typing the first letters") are lost when they arrive in a burst with
  the enter that opens the list: the letter reaches the Select after the focus has moved into its open list,
  so it is neither applied nor refused with the beep; enter then chooses the old value. With r/s/t for the
  pupils' roles the founding case would be 96 keys typed slowly, but a burst saved the roles as "harmed",
  no referral decision, and an open incident ("c" for Closed lost, so no outcome dialog, the outcome typed
  onto the status choice). Arrows are never lost, so the flows use them.
- No way to jump to a field: every field passed is a tab (tab x4 from Summary to Status, tab x7 from a
  referral's reference to "+ Add a decision", 3 more keys than the f4 route in a narrow terminal: 102 there).
- No way to jump to a checklist item: 14 downs to reach the seven ticks, the note and the n/a in the first 15
  items of 34.
- Keys meant for the form that land on the checklist run its commands, and other letters there vanish without
  the beep a button or a choice gives: in an 80 or 100 column terminal the f4, shift+tab route stays in the
  checklist, and "enter, Do not speak..." ticked the first item (enter), dropped "Do", unticked it (space),
  opened "not applicable" (n) with the rest of the sentence as its reason, and the ctrl+s meant to save the
  incident answered that dialog instead: the incident was first saved by closing it, so f7 made no report.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks.flows import USER, Flow, Key, Text, Wait, flows  # noqa: E402
from tests.terminal_harness import EXITED, Terminal, WaitTimedOut, kentsafe_cli  # noqa: E402

# Textual key names -> the bytes an xterm sends (TERM=xterm-256color, normal cursor-key mode).
KEY_BYTES: dict[str, bytes] = {
    "tab": b"\t", "shift+tab": b"\x1b[Z", "enter": b"\r", "escape": b"\x1b", "space": b" ", "backspace": b"\x7f",
    "up": b"\x1b[A", "down": b"\x1b[B", "right": b"\x1b[C", "left": b"\x1b[D", "home": b"\x1b[H", "end": b"\x1b[F",
    "pageup": b"\x1b[5~", "pagedown": b"\x1b[6~", "ctrl+end": b"\x1b[1;5F", "ctrl+home": b"\x1b[1;5H",
    "f1": b"\x1bOP", "f2": b"\x1bOQ", "f3": b"\x1bOR", "f4": b"\x1bOS", "f5": b"\x1b[15~", "f6": b"\x1b[17~",
    "f7": b"\x1b[18~", "f8": b"\x1b[19~", "f9": b"\x1b[20~", "f10": b"\x1b[21~",
    **{f"ctrl+{c}": bytes([ord(c) - ord("a") + 1]) for c in "abcdefghijklmnopqrstuvwxyz"},
    **{f"alt+{c}": b"\x1b" + c.encode() for c in "abcdefghijklmnopqrstuvwxyz"},
}
GIVE_UP = (EXITED, "Traceback")  # on screen: stop waiting, the run has gone wrong
SETTLE_QUIET = 0.25  # slow mode: the screen must be still this long before the next key...
SETTLE_MIN = 0.15  # ...and at least this long after the key was sent
SETTLE_LIMIT = 10.0  # a guard against waiting for ever, not a measure


def key_bytes(key: Key) -> bytes:
    name = key.name
    if name in KEY_BYTES:
        return KEY_BYTES[name] * key.count
    if len(name) == 1 and name.isprintable():
        return name.encode() * key.count
    raise ValueError(f"no bytes known for the key {name!r}")


def check_flow_keys(flow: Flow) -> None:
    """Every key of the flow can be sent (fails before a terminal is started)."""
    for token in flow.tokens():
        if isinstance(token, Key):
            key_bytes(token)


# The table --------------------------------------------------------------------------------------------------------
def render_tokens(tokens) -> str:
    parts = []
    for token in tokens:
        if isinstance(token, Text):
            parts.append(f"«{token.text}»")
        elif isinstance(token, Key):
            parts.append(token.name + (f" x{token.count}" if token.count > 1 else ""))
        else:
            parts.append(f"[wait: {token.text}]")
    return " ".join(parts)


def table(flow: Flow, how: bool = False) -> str:
    width = max(len("step"), *(len(s.name) for s in flow.steps))
    lines = [f"{flow.title}", f"  {'step':<{width}}  {'keys':>5}  {'text chars':>10}",
             f"  {'-' * width}  {'-' * 5}  {'-' * 10}"]
    for s in flow.steps:
        lines.append(f"  {s.name:<{width}}  {s.keys:>5}  {s.text_chars:>10}")
        if how:
            if s.how:
                lines.append(f"      how: {s.how}")
            lines.append(f"      keys: {render_tokens(s.tokens)}")
    lines.append(f"  {'-' * width}  {'-' * 5}  {'-' * 10}")
    lines.append(f"  {'total (' + flow.name + ')':<{width}}  {flow.keys:>5}  {flow.text_chars:>10}")
    return "\n".join(lines)


# Running a flow ---------------------------------------------------------------------------------------------------
class BenchTerminal(Terminal):
    """The harness's terminal, on a tmux socket named for this benchmark."""

    def __init__(self, tmp: Path, name: str):
        super().__init__(tmp, name)
        self.socket = f"keysbench-{os.getpid()}-{name}-{time.monotonic_ns() % 10**9}"[:100]


@dataclass
class Result:
    flow: str
    mode: str
    records: dict[str, dict] = field(default_factory=dict)
    exports: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # the run itself: stuck, asked at quit, exit status
    mismatches: list[str] = field(default_factory=list)  # the record against the expected one

    @property
    def ok(self) -> bool:
        return not self.problems and not self.mismatches


def settle(terminal: Terminal, sent_at: float) -> None:
    """Slow mode: wait until the screen has been still for SETTLE_QUIET (and SETTLE_MIN since the key)."""
    deadline = time.monotonic() + SETTLE_LIMIT
    last, still_since = None, time.monotonic()
    while time.monotonic() < deadline:
        screen = terminal.screen()
        now = time.monotonic()
        if screen != last:
            last, still_since = screen, now
        elif now - still_since >= SETTLE_QUIET and now - sent_at >= SETTLE_MIN:
            return
        time.sleep(0.05)


def chunks(tokens) -> list[tuple[list[Key | Text], Wait | None]]:
    groups: list[tuple[list[Key | Text], Wait | None]] = []
    current: list[Key | Text] = []
    for token in tokens:
        if isinstance(token, Wait):
            groups.append((current, token))
            current = []
        else:
            current.append(token)
    if current:
        groups.append((current, None))
    return groups


def token_bytes(token: Key | Text) -> bytes:
    return token.text.encode() if isinstance(token, Text) else key_bytes(token)


def run_flow(flow: Flow, mode: str, folder: Path, width: int = 160, height: int = 45,
             on_step=None) -> Result:
    """Type the flow into a fresh kentsafe; read back what was saved. `mode` is "slow" or "burst"."""
    if mode not in ("slow", "burst"):
        raise ValueError(mode)
    check_flow_keys(flow)
    result = Result(flow.name, mode)
    folder.mkdir(parents=True, exist_ok=True)
    db = folder / "school" / "records.json"
    terminal = BenchTerminal(folder, f"{flow.name}-{mode}")
    try:
        terminal.start("--db", str(db), "--user", USER, width=width, height=height)
        terminal.wait_for("Summary *", give_up=GIVE_UP)
        # A person reads the screen before typing: wait until it is still (the lower form arrives just after the
        # first frame, below the fold in a small terminal).
        settle(terminal, time.monotonic())
        if mode == "slow":
            for s in flow.steps:
                for token in s.tokens:
                    if isinstance(token, Wait):
                        terminal.wait_for(token.text, give_up=GIVE_UP)
                        continue
                    presses = [Key(token.name)] * token.count if isinstance(token, Key) else [token]
                    for press in presses:
                        terminal.send(token_bytes(press))
                        settle(terminal, time.monotonic())
                if on_step:
                    on_step(s, terminal.screen())
        else:
            for group, wait in chunks(flow.tokens()):
                terminal.send(b"".join(token_bytes(token) for token in group))
                if wait is not None:
                    terminal.wait_for(wait.text, give_up=GIVE_UP)
        # Leave (not counted). kentsafe applies keys in order, so ctrl+q comes after every key before it.
        terminal.send(KEY_BYTES["ctrl+q"])
        if terminal.wait_for(EXITED, "Unsaved changes", timeout=180) != EXITED:
            result.problems.append("ctrl+q at the end asked about unsaved changes: the flow left work unsaved "
                                   "(discarded to finish the run); the screen showed:\n" + indent(terminal.screen()))
            terminal.send(KEY_BYTES["tab"] + KEY_BYTES["enter"])
            terminal.wait_for(EXITED)
        code = re.search(re.escape(EXITED) + r"(\d+)", terminal.screen())
        if code is None or code.group(1) != "0":
            result.problems.append(f"kentsafe ended with exit status {code.group(1) if code else 'unknown'}")
    except WaitTimedOut as stuck:
        result.problems.append(f"stuck waiting for {' or '.join(map(repr, stuck.texts))}; the screen showed:\n"
                               + indent(stuck.screen))
    finally:
        terminal.close()
    result.records = read_records(db)
    exports = db.parent / "exports"
    result.exports = sorted(p.name for p in exports.iterdir()) if exports.is_dir() else []
    result.mismatches = compare(flow, result.records, result.exports)
    return result


def indent(text: str) -> str:
    return "\n".join("    " + line for line in text.rstrip().splitlines())


def read_records(db: Path) -> dict[str, dict]:
    if not db.exists():
        return {}
    listed = kentsafe_cli("list", "--json", "--db", str(db))
    if listed.returncode != 0:
        raise RuntimeError(f"kentsafe list failed: {listed.stderr.strip()}")
    records = {}
    for row in json.loads(listed.stdout):
        shown = kentsafe_cli("show", row["id"], "--json", "--db", str(db))
        if shown.returncode != 0:
            raise RuntimeError(f"kentsafe show {row['id']} failed: {shown.stderr.strip()}")
        records[row["id"]] = json.loads(shown.stdout)
    return records


# Comparing ----------------------------------------------------------------------------------------------------------
# Fields that vary from run to run or are checked on their own (checklist, updated_by), never against `expected`.
VARYING = {"id", "created_at", "updated_at", "updated_by", "history", "rev", "checklist", "concern_at"}

def compare(flow: Flow, records: dict[str, dict], exports: list[str]) -> list[str]:
    """Every way the saved record differs from the one the flow means, one line each. Ignored: the id, when
    it was created and updated, when each tick and decision was stamped, the history; `concern_at` too when
    the flow does not type it."""
    lines: list[str] = []
    if len(records) != 1:
        lines.append(f"expected exactly one record, found {len(records)}: "
                     + ", ".join(f"{ident} {r.get('summary')!r}" for ident, r in records.items()))
        if not records:
            return lines
    ident, got = next(iter(records.items()))
    for key in sorted(set(got) - set(flow.expected) - VARYING):
        lines.append(f"{key}: in the saved record ({got[key]!r}) but not in the expected one")
    for key, want in flow.expected.items():
        have = got.get(key)
        if key == "decisions" and isinstance(have, list):
            have = [{k: row.get(k) for k in ("decision", "reason", "by")} for row in have]
        if have != want:
            lines.append(f"{key}: expected {want!r}, got {have!r}")
    if got.get("updated_by") != USER:
        lines.append(f"updated_by: expected {USER!r}, got {got.get('updated_by')!r}")
    for index, row in enumerate(got.get("decisions") or []):
        if not row.get("at"):
            lines.append(f"decisions[{index}]: not stamped with a time")
    items = {item["id"]: item for item in got.get("checklist", [])}
    for missing in sorted(set(flow.checklist) - set(items)):
        lines.append(f"checklist {missing}: not in the record's checklist")
    for item_id, item in items.items():
        state, note = flow.checklist.get(item_id, ("todo", ""))
        if (item.get("state"), item.get("note")) != (state, note):
            lines.append(f"checklist {item_id}: expected {state} {note!r}, got {item.get('state')} "
                         f"{item.get('note')!r}")
        elif state != "todo" and (item.get("by") != USER or not item.get("at")):
            lines.append(f"checklist {item_id}: by {item.get('by')!r} at {item.get('at')!r}, expected {USER!r} "
                         "and a time")
    patterns = {"report": [rf"^{ident}-report-.*\.md$", rf"^{ident}-report-.*\.html$"],
                "letter": [rf"^{ident}-parent-letter-.*\.txt$"]}
    for kind, wanted in patterns.items():
        for pattern in wanted:
            found = [name for name in exports if re.match(pattern, name)]
            if kind in flow.outputs and len(found) != 1:
                lines.append(f"exports: expected one file matching {pattern}, found {found}")
            elif kind not in flow.outputs and found:
                lines.append(f"exports: the flow makes no {kind}, found {found}")
    others = [name for name in exports if not any(re.match(p, name) for ps in patterns.values() for p in ps)]
    if others:
        lines.append(f"exports: unexpected files {others}")
    return lines


# Command line -------------------------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("cases", nargs="*", help="founding, nudes (default: both)")
    parser.add_argument("--burst", action="store_true", help="write every key of a case at once")
    parser.add_argument("--count", action="store_true", help="print the key counts only; start no terminal")
    parser.add_argument("--how", action="store_true", help="show each step's keys and how it is done")
    parser.add_argument("--size", default="160x45", help="terminal columns x lines (default 160x45)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (databases, exports)")
    args = parser.parse_args(argv)

    chosen = flows()
    names = [flow.name for flow in chosen]
    unknown = [case for case in args.cases if case not in names]
    if unknown:
        parser.error(f"unknown case {unknown}: choose from {names}")
    chosen = [flow for flow in chosen if not args.cases or flow.name in args.cases]
    for flow in chosen:
        check_flow_keys(flow)
        print(table(flow, args.how))
        print()
    if args.count:
        return 0
    if shutil.which("tmux") is None:
        print("tmux is not installed: the keys cannot be sent (the counts above are from the flows alone)",
              file=sys.stderr)
        return 2
    width, height = (int(n) for n in args.size.lower().split("x"))
    mode = "burst" if args.burst else "slow"
    folder = Path(tempfile.mkdtemp(prefix="kentsafe-keys-"))
    failed = False
    try:
        for flow in chosen:
            print(f"{flow.name}: typing it into kentsafe ({mode}, {width}x{height})...", flush=True)
            result = run_flow(flow, mode, folder / f"{flow.name}-{mode}", width, height)
            for line in result.problems:
                print(f"  PROBLEM: {line}")
            for line in result.mismatches:
                print(f"  MISMATCH: {line}")
            if result.ok:
                print(f"  the saved record is the expected one, field by field ({len(flow.expected)} fields, "
                      f"{len(flow.checklist)} checklist items set, exports {result.exports or 'none'})")
            failed |= not result.ok
    finally:
        if args.keep:
            print(f"kept: {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)
    print("FAIL" if failed else "OK")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
