"""Every change to a record, kept for ever, and chained so that edits made outside kentsafe show.

A history entry is ``{seq, at, by, action, changes, prev, hash}`` (plus ``login`` when ``--user`` named
someone other than the operating-system login, and ``note`` where the action carries one). ``changes`` maps a
field to ``[old, new]``; a single checklist item changes under ``checklist.<item id>``.

The school settings (printed in every parent letter) keep their own entries in the same chain, under the
name ``_settings``; ``updated_by`` must match the last entry's ``by`` as ``updated_at`` its ``at``.

All entries in a database form one chain ordered by ``seq``: each entry's ``hash`` covers its own content, the
incident it belongs to and the previous entry's hash. The database keeps the newest ``seq`` and ``hash``.
Replaying a record's entries from nothing must give the record as stored. Together these catch an entry
edited, inserted or removed, a record deleted, and a field changed without an entry. They do not stop
someone who can write the file from rewriting the whole chain: `kentsafe verify` prints the chain head so it
can be noted somewhere else (for example in governors' minutes), and `verify --head SEQ:HASH` proves later
that the noted entry is still in the chain, which a rebuilt chain cannot fake.
"""

from __future__ import annotations

import copy
import hashlib
import json
from typing import Any

import msgspec

GENESIS = "0" * 64
_SORTED = msgspec.json.Encoder(order="sorted")
# Fields that are bookkeeping, not content: derived from the history itself, so they are not replayed.
DERIVED = ("history", "rev", "updated_at", "updated_by")
CHECKLIST_PREFIX = "checklist."
SETTINGS_ID = "_settings"  # the school settings' entries are chained under this name


def canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def entry_hash(entry: dict[str, Any], incident_id: str) -> str:
    body = {key: value for key, value in entry.items() if key != "hash"}
    return hashlib.sha256(canonical({"incident": incident_id, "entry": body})).hexdigest()


def holds_hash(entry: dict[str, Any], incident_id: str) -> bool:
    """Whether the entry's `hash` is `entry_hash` of it: what `verify` asks of every entry.

    msgspec's sorted encoding gives `canonical`'s bytes, about five times faster, for everything but floats
    (``1e22`` against ``1e+22``); where its hash does not match, `canonical` itself decides. A match cannot be
    wrong: bytes that hash to the stored digest are a serialisation of the entry as it was sealed."""
    digest = entry.get("hash")
    body = {key: value for key, value in entry.items() if key != "hash"}
    try:
        quick = hashlib.sha256(_SORTED.encode({"incident": incident_id, "entry": body})).hexdigest()
    except (TypeError, ValueError, OverflowError):
        quick = None
    return quick == digest or entry_hash(entry, incident_id) == digest


def seal(entry: dict[str, Any], incident_id: str, seq: int, prev: str) -> dict[str, Any]:
    """The entry with its place in the chain and its hash."""
    sealed = {key: value for key, value in entry.items() if key not in ("seq", "prev", "hash")}
    sealed["seq"] = seq
    sealed["prev"] = prev
    sealed["hash"] = entry_hash(sealed, incident_id)
    return sealed


def content_of(record: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in record.items() if key not in DERIVED}


def diff(old: dict[str, Any], new: dict[str, Any]) -> dict[str, list[Any]]:
    """What changed between two versions of a record's content, as field -> [old, new].

    When only items' states and notes change (the same ids in the same order), each item is its own change,
    so ticking one item does not copy the whole checklist into the history.
    """
    old, new = content_of(old), content_of(new)
    changes: dict[str, list[Any]] = {}
    for key in sorted(set(old) | set(new)):
        before, after = old.get(key), new.get(key)
        if before == after:
            continue
        if key == "checklist" and before and after and [i["id"] for i in before] == [i["id"] for i in after]:
            for was, now in zip(before, after):
                if was != now:
                    changes[CHECKLIST_PREFIX + was["id"]] = [copy.deepcopy(was), copy.deepcopy(now)]
        else:
            changes[key] = [copy.deepcopy(before), copy.deepcopy(after)]
    return changes


def apply(record: dict[str, Any], changes: dict[str, list[Any]]) -> None:
    """Apply the new side of each change to a record's content, in place."""
    for key, (_, after) in changes.items():
        if key.startswith(CHECKLIST_PREFIX):
            item_id = key[len(CHECKLIST_PREFIX):]
            items = record.setdefault("checklist", [])
            for index, item in enumerate(items):
                if item.get("id") == item_id:
                    items[index] = copy.deepcopy(after)
                    break
            else:
                raise KeyError(f"checklist item {item_id} is not in the record")
        else:
            record[key] = copy.deepcopy(after)


def replay(entries: list[dict[str, Any]]) -> dict[str, Any]:
    """The content the entries build from nothing. It shares its values with the entries (copying every value
    of every record made `verify` 3.6 times the parse), so read it, do not change it; the entries themselves
    are never changed (a checklist is copied before one of its items is replaced)."""
    state: dict[str, Any] = {}
    owned: set[int] = set()  # ids of checklists this replay made, so free to change
    for entry in entries:
        for key, (_, after) in entry.get("changes", {}).items():
            if key.startswith(CHECKLIST_PREFIX):
                item_id = key[len(CHECKLIST_PREFIX):]
                items = state.get("checklist")
                if items is None:
                    items = state["checklist"] = []
                if id(items) not in owned:
                    items = state["checklist"] = list(items)
                    owned.add(id(items))
                for index, item in enumerate(items):
                    if item.get("id") == item_id:
                        items[index] = after
                        break
                else:
                    raise KeyError(f"checklist item {item_id} is not in the record")
            else:
                state[key] = after
    return state


def verify_chain(records: list[dict[str, Any]], head: dict[str, Any]) -> list[str]:
    """Problems with the chain across all records; empty when intact."""
    check = ChainCheck()
    for record in records:
        check.add(record)
    return check.finish(head)


class ChainCheck:
    """`verify_chain` a record at a time, keeping of each entry only its place in the chain (its number, hash
    and the hash before it), so the records need not all be held at once."""

    def __init__(self) -> None:
        self.problems: list[str] = []
        self.links: list[tuple[int, str, Any, Any]] = []  # (seq, incident id, prev, hash)

    def add(self, record: dict[str, Any]) -> None:
        problems = self.problems
        incident_id = record.get("id", "?")
        history = record.get("history") or []
        if not history:
            problems.append(f"{incident_id}: has no history")
            return
        last_seq = 0
        for position, entry in enumerate(history):
            seq = entry.get("seq")
            if not isinstance(seq, int):
                problems.append(f"{incident_id}: history entry {position + 1} has no sequence number")
                continue
            if seq <= last_seq:
                problems.append(f"{incident_id}: history entry {position + 1} is out of order")
            last_seq = seq
            if not holds_hash(entry, incident_id):
                problems.append(
                    f"{incident_id}: history entry {position + 1} ({entry.get('action')}, {entry.get('at')}) "
                    "was changed after it was written"
                )
            self.links.append((seq, incident_id, entry.get("prev"), entry.get("hash", "")))
        try:
            replayed = replay(history)
        except (KeyError, TypeError, ValueError, AttributeError) as problem:
            problems.append(f"{incident_id}: its history cannot be replayed ({problem})")
        else:
            stored = content_of(record)
            if incident_id == SETTINGS_ID:
                stored.pop("id", None)
            if stored != replayed:  # (one comparison in C for the usual record; field by field only if not)
                for key in sorted(set(stored) | set(replayed)):
                    if stored.get(key) != replayed.get(key):
                        problems.append(f"{incident_id}: field '{key}' differs from what its history records")
        if record.get("rev") != len(history):
            problems.append(f"{incident_id}: revision {record.get('rev')} does not match {len(history)} entries")
        if record.get("updated_at") != history[-1].get("at"):
            problems.append(f"{incident_id}: updated_at does not match its last history entry")
        if record.get("updated_by") != history[-1].get("by"):
            problems.append(f"{incident_id}: updated_by does not match its last history entry")

    def finish(self, head: dict[str, Any]) -> list[str]:
        """Every problem found, those of the chain as a whole last."""
        problems = list(self.problems)
        self.links.sort(key=lambda link: link[0])
        expected_prev = GENESIS
        expected_seq = 1
        for seq, incident_id, prev, digest in self.links:
            if seq != expected_seq:
                if seq > expected_seq:
                    problems.append(f"history entries {expected_seq} to {seq - 1} are missing (deleted?)")
                else:
                    problems.append(f"history entry {seq} appears twice ({incident_id})")
            if prev != expected_prev:
                problems.append(f"{incident_id}: history entry {seq} does not follow the one before it")
            expected_prev = digest
            expected_seq = seq + 1
        head_seq, head_hash = head.get("seq", 0), head.get("head", GENESIS)
        if expected_seq - 1 != head_seq:
            problems.append(
                f"the database records {head_seq} history entries but holds {expected_seq - 1} (records deleted?)"
            )
        elif expected_prev != head_hash:
            problems.append("the newest history entry is not the one the database records")
        return problems
