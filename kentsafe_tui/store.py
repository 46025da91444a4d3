"""The incident store: one TinyDB JSON file that several DSLs share, that never breaks and never forgets.

Document layout (TinyDB tables in one JSON file)
------------------------------------------------
::

    {
      "_meta":     {"1": {"write_id": "<random, changes on every save>", "schema": 1, "app": "kentsafe",
                          "created_at": "...", "sequences": {"2026": 17},
                          "chain": {"seq": 340, "head": "<sha256 of the newest history entry>"}}},
      "incidents": {"1": {<the record exactly as `kentsafe show --json` prints it>}, "2": {...}},
      "settings":  {"1": {"school_name": "...", "dsl_name": "...", "updated_at": "...", "updated_by": "..."}}
    }

- A record's TinyDB document id is internal; people use its ``id`` (``YYYY-NNNN``: year of creation and a
  sequence from ``_meta.sequences``, allocated under the lock, so never repeated and never reused).
- ``rev`` is the number of history entries. An edit is made against the ``rev`` it was opened at; a save
  finding a newer ``rev`` is a conflict (see `ConflictError`), never an overwrite.
- History and its hash chain: see `kentsafe_tui.history`.

Concurrency: every change is one transaction under an exclusive lock on ``<file>.lock``; inside it the file is
re-read if another process changed it, the change is applied to the newest data, and the file is replaced
atomically. Reads take no lock: a reader sees the old file or the new one, whole.

Nothing is ever deleted. Closing a record keeps it; an amendment adds to the history beside the original.

Size (issue 12; figures from ``benchmarks/store.py`` at 50,000 full-playbook incidents, a 553 MB file)
--------------------------------------------------------------------------------------------------------
- Each command pays for what it reads. The command line reads each record once and keeps only what it
  prints (`read_through` and the readers on it: `list_rows`, `list_records`, `read_one`, `read_matching`,
  `read_all`, `check`), so no command peaks above 2.2 times the file (`list --json`, which holds what it
  prints; the others 1.0 to 1.2 times), against 4.1 times for a bare parse. `list` decodes each record
  through a msgspec mirror of the model (`_mirror`), `stats` reads only ids and concern times first, to
  know the order, then decodes each record as it is counted. Against a bare msgspec decode of the file:
  `show`/`export`/`letter` 0.24x, `list` 0.34x, `list --json` 0.66x, `stats` 0.74x, `import` 0.45x,
  `verify` 1.5x (it checks every string and every hash of every record).
- In the app, `get` looks up the id index (the summaries are made only for the list), the search text is
  made once, bulk readers (`incidents`) do not copy the records, and a save updates the index and the one
  summary it changed. A save writes the unchanged records as runs of the bytes read and finds what changed
  in C (see `AtomicJSONStorage._encode`): a few milliseconds beyond the write and fsync of the file.
- One file, not one per year of creation. Reading costs the same either way: the list, search, `stats`,
  `verify` and chronologies read every year. Only a save would shrink, and a save is now the floor of one
  file (write and fsync of its bytes: 0.3 to 1.5 s at 553 MB on this busy shared disk, done by the app off
  the screen's thread). Against that, several files would lose what one gives for free: a save is one
  atomic rename (the chain head in ``_meta`` and the record change together; across files that needs a
  journal), a backup is one copy, and SPEC promises one TinyDB file. Revisit when one save's write and
  fsync pass about a second where the app runs.
"""

from __future__ import annotations

import bisect
import copy
import functools
import gc
import itertools
import os
import re
import signal
import threading
import time
from array import array
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from datetime import datetime
from pathlib import Path
from typing import Any

import msgspec
from tinydb import TinyDB

from . import history
from .dates import DateError, describe, now_local, parse_date, sort_key, to_iso
from .fileio import WriteFailed, ensure_folder, exposure, folder_exposure, mode_for, refuse_special, remove_stale_temps
from .model import (
    NESTED,
    check_history_entry,
    ChecklistItem,
    Incident,
    ValidationError,
    check_transition,
    clean_incident,
    clean_text,
    validate,
)
from .text import clean, clean_deep
from .storage import (
    META_ID,
    META_TABLE,
    SCHEMA_VERSION,
    AtomicJSONStorage,
    CorruptDatabase,
    NewerSchema,
    NotStreamable,
    Progress,
    Stub,
    StoreError,
    check_head,
    decode_as,
    drop_gently,
    empty_gently,
)

__all__ = [
    "Store",
    "Summary",
    "StoreError",
    "CorruptDatabase",
    "NewerSchema",
    "StoreBusy",
    "SaveFailed",
    "ConflictError",
    "NotFound",
    "ImportRefused",
    "SETTINGS",
    "ID_PATTERN",
    "login_name",
]

ID_PATTERN = re.compile(r"^(\d{4})-(\d{4,})$")
_WORD_BREAKS = re.compile(r"[^\w]+")  # searching matches from the start of words, whatever the punctuation
INCIDENTS = "incidents"
SETTINGS_TABLE = "settings"
SETTINGS = {
    "school_name": "the school's name, as it goes on letters",
    "dsl_name": "the Designated Safeguarding Lead's name",
    "dsl_phone": "the DSL's phone number",
    "dsl_email": "the DSL's email address",
    "headteacher_name": "the headteacher's name",
    "open_days_warning": "days after which an open incident is flagged (default 14)",
}
ChecklistSource = Callable[[str, str, bool], list[ChecklistItem]]


class StoreBusy(StoreError):
    pass


class SaveFailed(StoreError):
    """The file could not be written. The file on disk is the last good save; the caller still has the change."""


class NotFound(StoreError):
    pass


class ImportRefused(StoreError):
    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__(f"nothing was imported: {len(problems)} problem(s): " + "; ".join(problems[:5]))


class ConflictError(StoreError):
    """Someone else changed the record since it was opened. Carries their entries and the newest version."""

    def __init__(self, incident_id: str, theirs: list[dict[str, Any]], latest: Incident):
        self.incident_id = incident_id
        self.theirs = theirs
        self.latest = latest
        last = theirs[-1]
        fields = sorted({key.split(".")[0] for entry in theirs for key in entry.get("changes", {})})
        super().__init__(
            f"{incident_id} was changed by {last.get('by')} at {describe(last.get('at'))} since you opened it "
            f"({', '.join(fields)}); nothing was saved"
        )


@contextmanager
def _interrupts_deferred() -> Iterator[list[int]]:
    """Hold back ctrl-C (SIGINT) while a save is written, so it either lands whole and is reported as landed,
    or is not made. Only the main thread can handle signals; elsewhere this does nothing."""
    caught: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield caught
        return
    try:
        previous = signal.signal(signal.SIGINT, lambda number, frame: caught.append(number))
    except (ValueError, OSError):
        yield caught
        return
    try:
        yield caught
    finally:
        signal.signal(signal.SIGINT, previous)


def _file_stamp(path: Path) -> tuple[int, int, int, int] | None:
    try:
        found = os.stat(path)
    except OSError:
        return None
    return found.st_dev, found.st_ino, found.st_size, found.st_mtime_ns


def login_name() -> str:
    """Who is acting, as the operating system knows them: the name of this process's user id. Not $LOGNAME
    or $USER, which anyone can set to anyone."""
    try:
        import pwd

        name = clean(pwd.getpwuid(os.getuid()).pw_name).strip()
    except (ImportError, KeyError, OSError):
        name = ""
    return name[:100] or f"uid {os.getuid()}"


@dataclass(frozen=True)
class Summary:
    """What the incident list needs of a record, without building the whole record.

    `text`, everything a person typed, case-folded, for "type to filter", is made the first time a search
    needs it (most commands never search), from the record the summary was made of."""

    id: str
    rev: int
    concern_at: str
    status: str
    category: str
    summary: str
    pupils: tuple[str, ...]
    updated_at: str
    created_at: str
    done: int
    total: int
    order: float
    source: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def of(cls, doc: dict[str, Any], text: str | None = None, keep: bool = True) -> Summary:
        """The summary of a record; `keep=False` does not keep the record (its search text, if wanted, is
        made now): for a command that reads every record once and keeps only what it prints."""
        if not keep and text is None:
            text = ""  # never searched
        checklist = doc.get("checklist") or []
        row = cls(
            id=doc["id"],
            rev=doc.get("rev", 0),
            concern_at=doc.get("concern_at", ""),
            status=doc.get("status", ""),
            category=doc.get("category", ""),
            summary=doc.get("summary", ""),
            pupils=tuple(p.get("name", "") for p in doc.get("pupils") or []),
            updated_at=doc.get("updated_at", ""),
            created_at=doc.get("created_at", ""),
            done=sum(1 for item in checklist if item.get("state") != "todo"),
            total=len(checklist),
            order=sort_key(doc.get("concern_at")),
            source=doc if keep else {},
        )
        if text is not None:
            object.__setattr__(row, "_text", text)
        return row

    @property
    def text(self) -> str:
        made = self.__dict__.get("_text")
        if made is None:
            made = _search_text(self.source)
            object.__setattr__(self, "_text", made)
        return made

    @property
    def has_text(self) -> bool:
        return "_text" in self.__dict__

    def matches(self, words: list[str]) -> bool:
        """Every word must begin a word of the record: "ale" finds "Alex", not "whale"."""
        text = self.text
        return all(" " + word in text for word in words)


def _search_text(doc: dict[str, Any]) -> str:
    searchable = [
        doc.get(key, "")
        for key in ("id", "summary", "details", "follow_up", "actions", "outcome", "referral_rationale",
                    "parents_note", "category", "status", "created_by", "concern_at")
    ]
    for name in NESTED:
        for entry in doc.get(name) or []:
            if name == "checklist":  # the playbook's own words are in every record: only the DSL's notes
                searchable.append(str(entry.get("note", "")))
            else:
                searchable.extend(str(value) for value in entry.values())
    folded = "\n".join(searchable).casefold()
    if folded.isascii():
        # The words split in C: the regular expression was three quarters of the time it takes to make the
        # list's search text.
        words = folded.encode().translate(_ASCII_BREAKS).decode().split()
    else:
        words = _WORD_BREAKS.sub(" ", folded).split()
    # Each word once, in order, after a space: a search looks for " " + the start of a word, so neither a word
    # said again nor the spaces between words matter. At 50,000 incidents a record's text is a third shorter,
    # and a search finding few records reads them in 60% of the time (the texts take a third longer to make).
    return " " + " ".join(dict.fromkeys(words))


# Every ASCII character that is not a word character (as `_WORD_BREAKS` has it) made a space.
_ASCII_BREAKS = bytes(code if re.fullmatch(r"\w", chr(code)) else 32 for code in range(256))


def _words(search: str | None) -> tuple[str, ...]:
    return tuple(_WORD_BREAKS.sub(" ", search.casefold()).split()) if search else ()


def _select(ordered: list[Summary], status: str | None, words: tuple[str, ...]) -> list[Summary]:
    """The rows of that status holding every word (see `Summary.matches`), in their order."""
    rows = [row for row in ordered if row.status == status] if status else ordered
    if words:
        needles = [" " + word for word in words]
        rows = [row for row in rows if all(needle in row.text for needle in needles)]
    return rows


def _settings_of(tables: dict[str, Any]) -> dict[str, str]:
    doc = tables.get(SETTINGS_TABLE, {}).get("1", {})
    return {key: value for key, value in doc.items() if key in SETTINGS}


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Many small objects, none of them garbage: a collection would only walk them."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def _mirror(kind: type, name: str) -> type:
    """A msgspec Struct with the fields of a model dataclass, in its order, all required and no others: a
    record decoded into it is exactly what `Incident.from_dict` accepts without a question (every field
    there, the right type, nothing unknown), and encoding it gives what encoding `from_dict`'s result gives.
    A record that does not fit is read as a dict, the usual way (see `AtomicJSONStorage.scan`)."""
    special: dict[str, Any] = {}
    if kind is Incident:
        special = {"referral_check": dict[str, str], "history": list[dict[str, Any]], "rev": int}
        special.update({field_name: list[_mirror(nested, nested.__name__)] for field_name, nested in NESTED.items()})
    return msgspec.defstruct(name, [(f.name, special.get(f.name, str)) for f in fields(kind)],
                             forbid_unknown_fields=True)


_RECORD = msgspec.json.Decoder(_mirror(Incident, "StoredIncident"))
_DOCUMENT = msgspec.json.Decoder()


def _row_of(record: Any, words: tuple[str, ...]) -> Summary:
    """`Summary.of` for a record decoded into its mirror (see `_mirror`); not keeping the record."""
    checklist = record.checklist
    row = Summary(
        id=record.id, rev=record.rev, concern_at=record.concern_at, status=record.status,
        category=record.category, summary=record.summary, pupils=tuple(pupil.name for pupil in record.pupils),
        updated_at=record.updated_at, created_at=record.created_at,
        done=sum(1 for item in checklist if item.state != "todo"), total=len(checklist),
        order=sort_key(record.concern_at), source={},
    )
    object.__setattr__(row, "_text", _search_text(_as_doc(record)) if words else "")
    return row


def _stub_of(record: Any, piece: Any) -> Stub:
    """What an import reads of a record already in the database (see `Store.import_lean`)."""
    if isinstance(record, dict):
        return Stub((key, record[key]) for key in _STUB_FIELDS if key in record)
    return Stub(id=record.id, summary=record.summary, concern_at=record.concern_at, created_at=record.created_at,
                rev=record.rev)


_STUB_FIELDS = ("id", "summary", "concern_at", "created_at", "rev")


def _held_of(record: Any, piece: Any) -> Stub:
    """What the app holds of a record (see `Store.hold_lean`): what an import reads of it, and its summary
    with its search text, made now, while the record is decoded anyway."""
    if isinstance(record, dict):  # one that does not fit the mirror: read the usual way
        if not isinstance(record.get("id"), str):
            raise NotStreamable  # the full read says what is wrong with it, as it always has
        row = Summary.of(record, _search_text(record), keep=False)
    else:
        row = _row_of(record, ("",))
    stub = _stub_of(record, piece)
    stub.row = row  # type: ignore[attr-defined]
    return stub


def _as_doc(record: Any) -> dict[str, Any]:
    """A mirrored record as the dict it was decoded from (for reading)."""
    doc = msgspec.structs.asdict(record)
    for name in NESTED:
        doc[name] = [msgspec.structs.asdict(entry) for entry in doc[name]]
    return doc


class _OrderOnly(msgspec.Struct):
    """What `read_all` reads of each record on its first pass (msgspec skips every other field)."""

    id: Any = None
    concern_at: Any = None


def _put(data: dict[str, Any], table: str, doc_id: str, doc: dict[str, Any]) -> None:
    """Store a document as TinyDB's upsert would (the fields of one already there are updated, in their
    order, and a new one goes last), but as a new object, never changed in place, and without TinyDB
    rebuilding the whole table for each (an import of thousands into a large database was quadratic).
    A save finds the records that changed by their identity (see `AtomicJSONStorage._encode`)."""
    documents = data.setdefault(table, {})
    existing = documents.get(doc_id)
    documents[doc_id] = {**existing, **doc} if isinstance(existing, dict) else doc


def _entry_at(doc: Any, seq: int) -> dict[str, Any] | None:
    """The history entry numbered `seq` in a record (or the settings), if it holds one."""
    for entry in doc.get("history") or [] if isinstance(doc, dict) else []:
        if isinstance(entry, dict) and entry.get("seq") == seq:
            return entry
    return None


def _holds(entry: dict[str, Any] | None, seq: int, digest: str) -> str | None:
    if entry is None:
        return f"there is no history entry {seq}: the history was rewritten (or the head was noted elsewhere)"
    if entry.get("hash") == digest:
        return None
    return (f"history entry {seq} is not the one noted earlier ({digest[:12]}...): "
            "the history was rewritten since it was noted")


@dataclass
class Checked:
    """What `Store.check` found: the problems, the chain head, how many incidents, and whether a head noted
    earlier is still in the chain (None if it is, or none was given; else what is wrong)."""

    problems: list[str]
    head: dict[str, Any] = field(default_factory=lambda: {"seq": 0, "head": history.GENESIS})
    count: int = 0
    holds: str | None = None


class Records:
    """The records of `Store.read_all`, newest concern first: each decoded from its bytes as it is reached,
    and not kept. It can be gone through more than once (each time decoding again)."""

    def __init__(self, held: list[Any], store: Store):
        self._held, self._store = held, store

    def __len__(self) -> int:
        return len(self._held)

    def __iter__(self) -> Iterator[Incident]:
        decode = msgspec.json.Decoder().decode
        for held in self._held:
            if isinstance(held, dict):
                yield Incident.from_dict(held)
                continue
            with _collector_paused():
                try:
                    doc = decode(held)
                except msgspec.DecodeError:
                    raise self._store._damaged_record() from None
                incident = Incident.from_dict(doc)
            yield incident


STAND_ASIDE_AT_MOST = 0.25  # seconds at a time: a screen that stays busy still lets the read go on


class _Lock:
    """The store's re-entrant lock, knowing which other threads wait for it: a read that stands aside for the
    screen's key while holding it must not, if that key is waiting for the lock (each would wait for the
    other until the reader's patience ran out)."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self.waiting: set[int] = set()  # thread idents (a set's add and discard are each one step)

    def __enter__(self) -> _Lock:
        if not self._lock.acquire(blocking=False):
            me = threading.get_ident()
            self.waiting.add(me)
            try:
                self._lock.acquire()
            finally:
                self.waiting.discard(me)
        return self

    def __exit__(self, *problem: object) -> None:
        self._lock.release()

    def held_elsewhere(self) -> bool:
        """Whether another thread holds the lock now."""
        if self._lock.acquire(blocking=False):
            self._lock.release()
            return False
        return True

    def take_if_free(self) -> bool:
        """Take the lock if no other thread holds it, without waiting (the caller then leaves it)."""
        return self._lock.acquire(blocking=False)


def _offer(busy: Callable[[], bool] | None = None) -> None:
    """Let another thread take the interpreter now, if one is waiting for it; and while `busy()` says the
    screen's thread is answering a key, stand aside altogether: sharing the interpreter turn and turn about
    doubled the time a key took to reach the screen during a load (and with it a full redraw's)."""
    time.sleep(0)
    if busy is None:
        return
    deadline = time.monotonic() + STAND_ASIDE_AT_MOST
    while busy() and time.monotonic() < deadline:
        time.sleep(0.001)


def _sorted_gently(items: list[Any], key: Callable[[Any], Any], chunk: int = 4096) -> list[Any]:
    """`sorted(items, key=key)`, without one long call: sorting 50,000 summaries in one call held the
    interpreter for 85 ms, and the screen's keys with it, while the app reads in the background. Chunks are
    sorted on their own and merged (`heapq.merge` is stable too, so the order is exactly `sorted`'s)."""
    import heapq

    if len(items) <= chunk:
        return sorted(items, key=key)
    parts = [sorted(items[start:start + chunk], key=key) for start in range(0, len(items), chunk)]
    return list(heapq.merge(*parts, key=key))


def _newest_first(row: Summary) -> tuple[float, str]:
    return (row.order, row.id)


_NOWHERE = array("i")


def _newest(ascending: Any, limit: int | None) -> Any:
    """The last `limit` (all if None) of something in oldest-first order, newest first."""
    if limit is None:
        return ascending[::-1]
    return ascending[:-limit - 1:-1] if limit else ascending[:0]


def _prefix_index(texts: list[str], offer: Callable[[], None]) -> dict[str, array]:
    """For each letter and each two letters that start a word, the positions of the texts holding such a word:
    a search answers its first word from here, and reads the texts only of the records where that word can be,
    not all (20-40 ms at 50,000 incidents). Made beside the screen's thread, offering the interpreter as it
    goes (about a second and a half at 50,000)."""
    index: dict[str, array] = {}  # arrays, not lists: nothing for the interpreter's collector to walk
    for place, text in enumerate(texts):
        for prefix in _starts(text):
            held = index.get(prefix)
            if held is None:
                index[prefix] = array("i", (place,))
            else:
                held.append(place)
        if place % 64 == 0:
            offer()
    return index


def _starts(text: str) -> set[str]:
    """The first letter and the first two letters of each word of a search text: what `_prefix_index` files
    a record under."""
    starts = {word[:2] for word in text.split()}
    return starts.union([start[0] for start in starts])


def _reindex(index: dict[str, array], place: int, before: str, after: str) -> None:
    """The index changed for the record at `place` (where it was, or the last) whose text was `before`."""
    was, now = _starts(before), _starts(after)
    for prefix in was - now:
        held = index[prefix]
        del held[bisect.bisect_left(held, place)]
    for prefix in now - was:
        held = index.setdefault(prefix, array("i"))
        held.insert(bisect.bisect_left(held, place), place)


def _narrows(before: tuple[str, ...], after: tuple[str, ...]) -> bool:
    """Whether every record matching `after` also matches `before`: each earlier word begins a later one."""
    return all(any(word.startswith(old) for word in after) for old in before)


def merge_checklist(existing: list[ChecklistItem], wanted: list[ChecklistItem]) -> list[ChecklistItem]:
    """The playbook's items for the record as it now is, keeping every item someone has already acted on."""
    kept = {item.id: item for item in existing}
    merged = [kept.pop(item.id, item) for item in wanted]
    merged += [item for item in existing if item.id in kept and (item.state != "todo" or item.note)]
    return merged


def _overlaps(changes: dict[str, Any], entries: list[dict[str, Any]]) -> bool:
    theirs = {key for entry in entries for key in entry.get("changes", {})}
    for key in changes:
        for other in theirs:
            if key == other or key.startswith(other + ".") or other.startswith(key + "."):
                return True
    return False


def _infer_action(delta: dict[str, list[Any]]) -> str:
    if "status" in delta:
        old, new = delta["status"]
        return "close" if new == "closed" else "reopen" if old == "closed" else "status"
    if all(key.startswith(history.CHECKLIST_PREFIX) for key in delta):
        return "checklist"
    return "edit"


class Store:
    """Incidents in one database file. Thread-safe within a process, lock-safe across processes."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        user: str | None = None,
        *,
        checklist_for: ChecklistSource | None = None,
        clock: Callable[[], datetime] = now_local,
        lock_timeout: float = 15.0,
        read_now: bool = True,
    ):
        """`read_now=False` only glances at the file's head; the first use reads it (the app does that in the
        background, after its first frame, so a large database does not delay the screen)."""
        # Resolved once: the lock, drafts and temporary files all sit beside the real file, and a save replaces
        # the real file, never a symbolic link to it (which would split it from the shared database).
        self.path = Path(os.path.realpath(Path(path).expanduser()))
        special = refuse_special(self.path)
        if special:
            raise StoreError(special)
        login = login_name()
        self.user = clean_text(user or login).strip()[:100] or login
        self.login = login if login != self.user else None
        self._checklist_for = checklist_for or (lambda category, scope, refer: [])
        self._clock = clock
        self._lock_timeout = lock_timeout
        self.on_wait: Callable[[float], None] | None = None  # told how long a save has waited for the lock
        self.interrupted_after_save = False  # ctrl-C came while a save was being written; the save landed
        self._mutex = _Lock()
        self._swept = False
        # Caches of the data in memory, each valid for one `generation` of the storage: the id index (cheap,
        # for every command), and the summaries, oldest concern first (only for the commands that list).
        self._index: dict[str, str] = {}
        self._index_generation = -1
        self._summaries: dict[str, Summary] = {}
        self._ascending: list[Summary] = []
        self._summary_generation = -1
        self._written: list[str] = []  # doc ids the open transaction wrote
        # The last few searches, newest last: positions in the base searched (every record of that status,
        # oldest concern first, with its text), for the summaries of `_searched_generation`.
        self._searches: dict[tuple[str | None, tuple[str, ...]], array] = {}
        self._bases: dict[str | None, tuple[list[Summary], list[str]]] = {}
        # For the app's list: where each word's first letters start a word, as positions in the base of every
        # record (see `_prefix_index`, `index_words`); it holds for the summaries of `_prefixes_generation`.
        self._prefixes: dict[str, array] | None = None
        self._prefixes_generation = -1  # the summaries' generation it is for: kept up to date by our own saves
        self._searched_generation = -1
        self._db = TinyDB(str(self.path), storage=AtomicJSONStorage, migrate=self._migrate)
        self._storage: AtomicJSONStorage = self._db.storage  # type: ignore[assignment]
        if read_now:
            with self._mutex:
                self._storage.read()  # a damaged or newer file stops here, with its one-line message
        else:
            check_head(self.path)

    def close(self) -> None:
        self._db.close()

    @property
    def clock(self) -> Callable[[], datetime]:
        return self._clock

    # Reading --------------------------------------------------------------------------------------------
    def _data(self) -> dict[str, Any]:
        with self._mutex:
            data = self._storage.read()
            if self._index_generation != self._storage.generation:
                self._rebuild_caches(data)
            return data

    def _rebuild_caches(self, data: dict[str, Any]) -> None:
        """The id index, for the data in memory now."""
        self._index = {doc["id"]: doc_id for doc_id, doc in data.get(INCIDENTS, {}).items()}
        self._index_generation = self._storage.generation

    def _rows(self, offer: Callable[[], None] | None = None) -> list[Summary]:
        """Every summary, oldest concern first, rebuilt only when the data was replaced by a re-read."""
        with self._mutex:
            data = self._data()
            if self._summary_generation != self._storage.generation:
                old, old_order = self._summaries, self._ascending
                self._summaries = {}
                for number, doc in enumerate(data.get(INCIDENTS, {}).values()):
                    if offer is not None and number % 64 == 0:
                        offer()
                    held = getattr(doc, "row", None)  # made as the record was read (see `hold_lean`)
                    if held is not None:
                        self._summaries[doc["id"]] = held
                        continue
                    cached = old.get(doc["id"])  # an import's stub gives what its duplicates check reads
                    same = cached is not None and cached.rev == doc.get("rev") and cached.has_text
                    self._summaries[doc["id"]] = Summary.of(doc, cached.text if same else None)  # type: ignore[union-attr]
                self._ascending = _sorted_gently(list(self._summaries.values()), _newest_first)
                self._summary_generation = self._storage.generation
                if offer is not None:
                    # Let go of the summaries read before a chunk at a time: at once, a key typed just after
                    # another DSL's save waited 90-140 ms for it at 50,000 (only the store's own lists).
                    empty_gently([old_order, old], offer)
            return self._ascending

    def _refresh_rows(self, data: dict[str, Any], doc_ids: list[str], summaries: bool) -> bool:
        """After our own save: the index (and the summaries) of the records it wrote, not all of them again.
        Whether the index of words (see `_prefix_index`) still holds for the summaries now."""
        words = self._word_index(None) if summaries else None
        for doc_id in doc_ids:
            doc = data[INCIDENTS][doc_id]
            self._index[doc["id"]] = doc_id
            if not summaries:
                continue
            old = self._summaries.get(doc["id"])
            at = None
            if old is not None:
                at = bisect.bisect_left(self._ascending, _newest_first(old), key=_newest_first)
                while self._ascending[at] is not old:
                    at += 1
                del self._ascending[at]
            row = self._summaries[doc["id"]] = Summary.of(doc)
            to = bisect.bisect_right(self._ascending, _newest_first(row), key=_newest_first)
            self._ascending.insert(to, row)
            # A record saved in its place, or a new one the newest: no other record moved, and the index is
            # changed where the record's words changed. Anywhere else, it is made again (`index_words`).
            if words is not None and (to == at or (at is None and to == len(self._ascending) - 1)):
                _reindex(words, to, old.text if old is not None else "", row.text)
            else:
                words = None
        return words is not None

    def load(self, progress: Progress | None = None, *, rows: bool = True, search: bool = False,
             gentle: bool = False, busy: Callable[[], bool] | None = None) -> int:
        """Read the database now, with its summaries unless not `rows` (and their search text when `search`);
        the number of incidents. Safe in a worker thread: the file is parsed one record at a time, and between
        records the app's screen keeps answering keys. `progress(done, total)` is told as records are read.

        `gentle` (for a thread beside the screen's): every millisecond or so of work the interpreter is
        offered to other threads (`time.sleep(0)`), so a key waits for that, not for the interpreter's
        5 ms switch interval at each of its steps (key to screen p50 25 ms during the load, at 50,000); and
        while `busy()` holds (the screen is answering a key), the read waits (see `_offer`)."""
        if busy is not None:
            asked = busy
            busy = lambda: asked() and not self._mutex.waiting  # noqa: E731 (see _Lock)
        offer = functools.partial(_offer, busy) if gentle else None
        # A gentle read of a store held lean parses without the lock, and takes the result under it: a key
        # that needs the records (a filter, an incident opened) while another DSL's save is read again waits
        # for a moment, not for the parse.
        # Only a re-read: the first read has nothing to serve meanwhile, and whatever needs it waits for it.
        ahead = None
        if gentle and progress is None and self._storage._data is not None and self._storage.stale():
            self._storage.reading_ahead = True
            try:
                ahead = self._storage.read_ahead(offer)
            finally:
                if ahead is None:
                    self._storage.reading_ahead = False
        replaced = None
        with self._mutex:
            if ahead is not None:
                self._storage.reading_ahead = False
                replaced = self._storage.take(ahead)
            self._storage.progress = progress
            self._storage.pause = offer
            try:
                self._storage.refresh()
                self._data()
            finally:
                self._storage.progress = self._storage.pause = None
        if replaced is not None:
            drop_gently(replaced, offer, replaced.data)
        if not rows:
            return self.count()
        # The summaries live as long as the records: made with the collector paused and then frozen, as the
        # records are (a full collection walking them held the screen's keys for up to 190 ms at 50,000).
        collecting = gc.isenabled()
        gc.disable()
        try:
            made = self._rows(offer)
            if search:
                for number, row in enumerate(made):
                    row.text  # noqa: B018 (made once, kept with the summary)
                    if offer is not None and number % 32 == 0:
                        offer()
                with self._mutex:
                    if self._summary_generation == self._storage.generation and made is self._ascending:
                        searched = self._bases
                        self._searches, self._bases, self._prefixes = {}, {}, None
                        self._searched_generation = self._summary_generation
                        self._searchable(made, None)  # the list's first filter key starts from this
                    else:
                        searched = {}
                if offer is not None:
                    empty_gently([part for kept in searched.values() for part in kept], offer)
        finally:
            if collecting:
                gc.freeze()
                gc.enable()
        return len(made)

    def index_wanted(self) -> bool:
        """Whether the records as they are now (since a save of this store's own, say) have no index of the
        starts of their words yet: see `index_words`."""
        # Without the lock (a hint, read as it stands): the app asks from its screen's thread, which must not
        # wait for a save holding the lock.
        return self.loaded and self._word_index(None) is None

    def index_words(self, busy: Callable[[], bool] | None = None) -> None:
        """Make the index of the starts of words (see `_prefix_index`) for the records as they are now, offering
        the interpreter as it goes and standing aside while `busy()` (as `load(gentle=True)` does): for a worker
        thread of the app's incident list, the one reader that searches often. Searches meanwhile read the
        texts. Saves of this store's own keep it up to date; a read of another's save does not."""
        with self._mutex:
            if not self.loaded:
                return
            rows = self._rows()
            self._forget_stale_searches()
            if self._word_index(None) is not None:
                return
            base = self._searchable(rows, None)
        self._index_base(base, busy)

    def _index_base(self, base: tuple[list[Summary], list[str]], busy: Callable[[], bool] | None) -> None:
        """Index `base`, offering the interpreter as it goes, and standing aside while `busy()` and while
        another thread holds the store (a save being written): three threads sharing the interpreter made keys
        typed during a save wait up to 130 ms at 50,000 incidents."""
        def writing() -> bool:
            if self._mutex.held_elsewhere():
                return True
            return busy is not None and busy()

        generation = self._summary_generation
        # Without the lock: keys needing the store go on meanwhile.
        prefixes = _prefix_index(base[1], functools.partial(_offer, writing))
        with self._mutex:
            if self._bases.get(None) is base and self._summary_generation == generation:  # nothing saved since
                self._prefixes, self._prefixes_generation = prefixes, generation

    def hold_lean(self) -> None:
        """From now on hold each record by its summary (with its search text) and its bytes, decoding it in
        full only when it is asked for: for a long-running reader of a large database (the app), which held
        every record parsed, 5.2 times the file at 50,000 incidents. Every record is still decoded in full
        when read, so damage is refused as before; a file that needs a full read (an older schema) gets one.
        What is in memory now is read again, held so."""
        with self._mutex:
            self._storage.lean = (INCIDENTS, _held_of, _RECORD)
            if self._storage._data is not None and not self._storage.stale():
                self._storage.close()
                self._storage.generation += 1

    def read_in_background(self) -> None:
        """From now on what is held answers every read until `load` reads the file again: for the app, which
        calls `load` in a worker as soon as it sees another DSL's save, so no key waits for the file to be
        read (a filter typed just after their save read the whole file on the screen's thread). A save still
        makes sure of the newest file first, under the file lock, and refuses to overwrite their changes."""
        with self._mutex:
            self._storage.serve_held = True

    def changed_on_disk(self) -> bool:
        """Whether the next read must read the file (another DSL saved, or nothing read yet): one stat. The app
        polls this and calls `load` in a worker, so no key waits for a re-read. Takes no lock: it never waits
        for a read in progress."""
        return self._storage.stale()

    def in_use(self) -> bool:
        """Whether another thread holds the store now (a save, which may wait its turn behind other DSLs' for
        many seconds, or a read): work the screen can leave for later asks this rather than wait for it."""
        return self._mutex.held_elsewhere()

    @property
    def loaded(self) -> bool:
        """Whether the summaries are ready for the data in memory (the list opens without reading)."""
        return self._summary_generation == self._storage.generation and self._storage.generation > 0

    def summaries(self, status: str | None = None, search: str | None = None) -> list[Summary]:
        """Newest concern first. `search` keeps records holding every word, in any field.

        A search narrowing one made before (a letter typed onto the words) looks only at that one's results,
        and the last few searches are kept, so erasing a letter is answered at once."""
        return self.summaries_head(None, status, search)[0]

    def summaries_head(self, limit: int | None, status: str | None = None,
                       search: str | None = None) -> tuple[list[Summary], int]:
        """The first `limit` of `summaries` (all of them if None), and how many there are in all: what the
        list shows at each filter key, without a list of every record made for it."""
        with self._mutex:
            rows = self._rows()
            words = _words(search)
            if not words and not status:
                return _newest(rows, limit), len(rows)
            self._forget_stale_searches()
            ascending, texts = self._searchable(rows, status)
            if not words:
                return _newest(ascending, limit), len(ascending)
            found = self._searches.get((status, words))
            if found is None:
                found, reading = self._search_start(status, words, len(texts))
                # The texts are searched as a list of their own, beside the rows: reaching each through its
                # summary was two thirds of a search of 50,000 (a step to another object for each). What a
                # search keeps is the positions it found, in an array: lists of 50,000 rows, one a filter key,
                # were walked by each collection of the interpreter's garbage while they lived (8 to 18 ms).
                for word in reading:  # one word at a time, each over what the words before it left
                    needle = " " + word
                    if found is None:
                        found = array("i", itertools.compress(range(len(texts)), [needle in text for text in texts]))
                    else:
                        found = array("i", [place for place in found if needle in texts[place]])
                if len(self._searches) >= 16:
                    del self._searches[next(iter(self._searches))]
                self._searches[(status, words)] = found
            return [ascending[place] for place in _newest(found, limit)], len(found)

    def texts_to_search(self, search: str | None, status: str | None = None) -> int | None:
        """How many records' text `summaries` would look through for this search: none when it holds the
        answer (no words, one of the last few searches, one word of one or two letters in the index), fewer
        when it narrows a search kept or starts from the index. None while the records are still being read,
        or another thread holds the store (the screen asks before a letter's frame, which must not wait for
        it)."""
        if self._mutex.held_elsewhere():
            return None
        with self._mutex:
            if not self.loaded:
                return None
            words = _words(search)
            if not words:
                return 0
            if self._searched_generation != self._summary_generation:
                return len(self._index)
            if (status, words) in self._searches:
                return 0
            found, reading = self._search_start(status, words, len(self._index))
            if not reading:
                return 0
            return len(self._index) if found is None else len(found)

    def _search_start(self, status: str | None, words: tuple[str, ...],
                      every: int) -> tuple[array | None, list[str]]:
        """Where a new search starts (positions, or None for all `every` records) and the words it still has to
        read the texts for: the word in fewest records first, from the index, unless a search kept found
        fewer; the other words narrow what it found."""
        found = self._narrowest_kept(status, words)
        reading = list(words)
        prefixes = self._word_index(status)
        if prefixes is not None:
            reading.sort(key=lambda word: len(prefixes.get(word[:2], _NOWHERE)))
            fewest = prefixes.get(reading[0][:2], _NOWHERE)
            if found is None or len(fewest) <= len(found):
                found = fewest
                if len(reading[0]) <= 2:  # where a word starts so: the index holds the answer
                    del reading[0]
        if found is not None and len(found) == every and reading:
            found = None  # (every record: read the texts in order)
        return found, reading

    def _forget_stale_searches(self) -> None:
        """The searches kept and their bases are for the summaries they were made from, and no later ones."""
        if self._searched_generation != self._summary_generation:
            self._searches, self._bases = {}, {}
            self._searched_generation = self._summary_generation

    def _narrowest_kept(self, status: str | None, words: tuple[str, ...]) -> array | None:
        """The fewest records a search kept (this generation's) that every record holding `words` is among."""
        return min((kept for (kept_status, kept_words), kept in self._searches.items()
                    if kept_status == status and _narrows(kept_words, words)), key=len, default=None)

    def _searchable(self, rows: list[Summary], status: str | None) -> tuple[list[Summary], list[str]]:
        """Every record (of that status), oldest concern first as the summaries are, with its search text: what
        searches look through, and what their positions are in (the newest first is the last)."""
        base = self._bases.get(status)
        if base is None:
            ascending = [row for row in rows if row.status == status] if status else list(rows)
            base = self._bases[status] = (ascending, [row.text for row in ascending])
        return base

    def _word_index(self, status: str | None) -> dict[str, array] | None:
        """The index of the starts of words, if it is for the records as they are now (see `_prefix_index`)."""
        if status is None and self._prefixes is not None and self._prefixes_generation == self._summary_generation:
            return self._prefixes
        return None

    def incidents(self, status: str | None = None, search: str | None = None) -> list[Incident]:
        """The records, newest concern first, for reading only: unlike `get`, they are not copied, so their
        history entries are the store's own (change a record only through the store)."""
        return self.incidents_of(self.summaries(status, search))

    def incidents_of(self, rows: list[Summary]) -> list[Incident]:
        """The records of these summaries, for reading only (see `incidents`)."""
        with self._mutex:
            data = self._data()
            incidents = data.get(INCIDENTS, {})
            collecting = gc.isenabled()
            gc.disable()  # many small objects, none of them garbage: a collection would only walk them
            try:
                return [Incident.from_dict(row.source or self._storage.full(
                    INCIDENTS, self._index[row.id], incidents[self._index[row.id]])) for row in rows]
            finally:
                if collecting:
                    gc.enable()

    def count(self) -> int:
        with self._mutex:
            self._data()
            return len(self._index)

    def count_if_free(self) -> int | None:
        """`count`, or None while another thread holds the store (a save waiting its turn behind other DSLs'
        holds it for seconds): for the screen asking unprompted, which must not wait for it."""
        if not self._mutex.take_if_free():
            return None
        try:
            return self.count()
        finally:
            self._mutex.__exit__()

    def get(self, incident_id: str) -> Incident:
        with self._mutex:
            data = self._data()
            doc_id = self._index.get(incident_id.strip())
            if doc_id is None:
                raise NotFound(f"there is no incident {incident_id.strip()!r} in {self.path}")
            doc = data[INCIDENTS][doc_id]
            held = self._storage.full(INCIDENTS, doc_id, doc)
            return Incident.from_dict(held if held is not doc else copy.deepcopy(doc))  # decoded afresh: its own

    def settings(self) -> dict[str, str]:
        with self._mutex:
            doc = self._data().get(SETTINGS_TABLE, {}).get("1", {})
            return {key: value for key, value in doc.items() if key in SETTINGS}

    def meta(self) -> dict[str, Any]:
        with self._mutex:
            return copy.deepcopy(self._data().get(META_TABLE, {}).get(META_ID, {}))

    # Reading every record once (the command line) -------------------------------------------------------
    # A command that reads each record once does not keep them all parsed: holding every record parsed took
    # 4.3 times the file's size in memory. Each record is decoded, used and dropped, and only what the
    # command prints is kept (see `AtomicJSONStorage.scan`).
    def read_through(self, start: Callable[[dict[str, Any]], Callable[[Any, Any], None]], decoder: Any = None,
                     progress: Progress | None = None) -> tuple[Any, dict[str, Any]]:
        """Every record once, in the file's order, to a visitor made by `start(tables)` (made again if the
        read starts over), as `visit(record, its bytes)`; returns the visitor and the other tables (header,
        settings), which `tables` holds as they are read (the header before the first record). Where this
        store already holds the data, or the file must be read whole (an older schema), the records come from
        memory, as dicts with no bytes (None): read them, never change them; those held lean come as read
        from the file, decoded from their bytes with `decoder`."""
        with self._mutex:
            if self._storage.stale() and not self._storage.serve_held:
                self._storage.progress = progress
                try:
                    return self._storage.scan(INCIDENTS, start, decoder)
                except NotStreamable:
                    pass
                finally:
                    self._storage.progress = None
            data = self._data()
            tables = {name: table for name, table in data.items() if name != INCIDENTS}
            held = [(doc, self._storage.bytes_of(INCIDENTS, doc_id, doc) if isinstance(doc, Stub) else None)
                    for doc_id, doc in data.get(INCIDENTS, {}).items()]
        # Gone through without the lock (a save or a re-read need not wait for a chronology of 50,000): records
        # are replaced whole, never changed in place, and the bytes of one held lean stay as they were read.
        visit = start(tables)
        for doc, piece in held:
            visit(doc if piece is None else decode_as(decoder or _DOCUMENT, piece), piece)
        return visit, tables

    def list_rows(self, status: str | None = None, search: str | None = None,
                  progress: Progress | None = None) -> list[Summary]:
        """What `summaries` gives, reading each record once without keeping it."""
        words = _words(search)

        def start(tables: dict[str, Any]) -> Callable[[Any, Any], None]:
            rows: dict[str, Summary] = {}

            def visit(doc: Any, piece: Any) -> None:
                if isinstance(doc, dict):
                    rows[doc["id"]] = Summary.of(doc, _search_text(doc) if words else None, keep=False)
                else:
                    rows[doc.id] = _row_of(doc, words)

            visit.rows = rows  # type: ignore[attr-defined]
            return visit

        visit, _ = self.read_through(start, _RECORD, progress)
        return _select(sorted(visit.rows.values(), key=_newest_first, reverse=True), status, words)

    def list_records(self, status: str | None = None, search: str | None = None,
                     progress: Progress | None = None) -> list[bytes]:
        """What `incidents` gives, each record encoded as compact JSON (msgspec, in `to_dict`'s order), newest
        concern first, reading each record once and keeping only the encoded records asked for."""
        words = _words(search)

        def start(tables: dict[str, Any]) -> Callable[[Any, Any], None]:
            found: dict[str, tuple[Summary, bytes | None]] = {}

            def visit(doc: Any, piece: Any) -> None:
                if isinstance(doc, dict):
                    row = Summary.of(doc, _search_text(doc) if words else None, keep=False)
                    wanted = bool(_select([row], status, words))
                    found[row.id] = (row, msgspec.json.encode(Incident.from_dict(doc)) if wanted else None)
                else:  # its mirror encodes as the Incident would
                    row = _row_of(doc, words)
                    found[row.id] = (row, msgspec.json.encode(doc) if _select([row], status, words) else None)

            visit.found = found  # type: ignore[attr-defined]
            return visit

        with _collector_paused():
            visit, _ = self.read_through(start, _RECORD, progress)
        kept = sorted((pair for pair in visit.found.values() if pair[1] is not None), key=lambda pair: _newest_first(pair[0]),
                      reverse=True)
        return [encoded for _, encoded in kept]  # type: ignore[misc]

    def read_one(self, incident_id: str, progress: Progress | None = None) -> tuple[Incident, dict[str, str]]:
        """What `get` and `settings` give, reading each record once and keeping only the one asked for."""
        wanted = incident_id.strip()

        def start(tables: dict[str, Any]) -> Callable[[Any, Any], None]:
            def visit(doc: Any, piece: Any) -> None:
                if doc["id"] == wanted:  # the store's own when from memory (no bytes): copied
                    visit.found = doc if piece is not None else copy.deepcopy(doc)  # type: ignore[attr-defined]

            visit.found = None  # type: ignore[attr-defined]
            return visit

        visit, tables = self.read_through(start, progress=progress)
        if visit.found is None:
            raise NotFound(f"there is no incident {wanted!r} in {self.path}")
        return Incident.from_dict(visit.found), _settings_of(tables)

    def read_matching(self, keep: Callable[[Incident], bool], progress: Progress | None = None) -> list[Incident]:
        """What `incidents` gives, keeping only those `keep` accepts, reading each record once."""
        def start(tables: dict[str, Any]) -> Callable[[Any, Any], None]:
            found: dict[str, tuple[tuple[float, str], Incident | None]] = {}

            def visit(doc: Any, piece: Any) -> None:
                incident = Incident.from_dict(doc)
                found[doc["id"]] = ((sort_key(doc.get("concern_at")), doc["id"]), incident if keep(incident) else None)

            visit.found = found  # type: ignore[attr-defined]
            return visit

        with _collector_paused():
            visit, _ = self.read_through(start, progress=progress)
        kept = sorted((pair for pair in visit.found.values() if pair[1] is not None), key=lambda pair: pair[0],
                      reverse=True)
        return [incident for _, incident in kept]  # type: ignore[misc]

    def read_all(self, progress: Progress | None = None) -> tuple[Records, dict[str, str]]:
        """What `incidents` and `settings` give, for a command that goes through the records once (oversight):
        the records are decoded one at a time as it goes, newest concern first, and none is kept.

        A first pass reads only each record's id and concern time (msgspec skips the rest), to know the order;
        the second decodes each record in full, as a full read would, as the command asks for it."""
        def start(tables: dict[str, Any]) -> Callable[[Any, Any], None]:
            found: dict[str, tuple[tuple[float, str], Any]] = {}

            def visit(record: Any, piece: Any) -> None:
                if isinstance(record, dict):  # from memory (no bytes), or not a record kentsafe writes
                    key = (sort_key(record.get("concern_at")), record["id"])
                    found[record["id"]] = (key, record if piece is None else piece)
                else:
                    if record.id is None:
                        raise KeyError("id")
                    found[record.id] = ((sort_key(record.concern_at), record.id), piece)

            visit.found = found  # type: ignore[attr-defined]
            return visit

        visit, tables = self.read_through(start, msgspec.json.Decoder(_OrderOnly), progress)
        ordered = [held for _, held in sorted(visit.found.values(), key=lambda pair: pair[0], reverse=True)]
        return Records(ordered, self), _settings_of(tables)

    def _damaged_record(self) -> StoreError:
        """Why a record's bytes, read once already, do not decode: the full read's one line."""
        with self._mutex:  # never in the middle of a save, which holds the data this drops
            self._storage.close()
            try:
                self._data()
            except StoreError as problem:
                return problem
        return CorruptDatabase(f"{self.path} changed while it was read; try again")

    # Writing --------------------------------------------------------------------------------------------
    @contextmanager
    def _transaction(self) -> Iterator[dict[str, Any]]:
        import filelock  # only writers need it; the app's first frame does not

        with self._mutex:
            try:
                ensure_folder(self.path.parent)
            except OSError as problem:
                raise SaveFailed(f"could not create the folder {self.path.parent}: {problem.strerror}") from None
            mode = self._lock_mode()
            lock = filelock.FileLock(str(self.path) + ".lock", mode=mode)
            self._wait_for(lock, filelock.Timeout)
            try:
                if not self._swept:
                    remove_stale_temps(self.path)
                    self._swept = True
                generation = self._storage.generation
                self._storage.begin()
                fresh = self._storage.generation == generation  # nobody else saved since we last read
                self._written = []
                try:
                    data = self._storage.read()
                    yield data
                    with _interrupts_deferred() as caught:
                        self._storage.commit()
                        lock.release()
                    if caught:  # ctrl-C came while the file was being replaced: the change landed all the same
                        self.interrupted_after_save = True
                    if fresh and self._index_generation == generation != self._storage.generation:
                        rows = self._summary_generation == generation
                        indexed = self._refresh_rows(self._storage.read(), self._written, rows)
                        self._index_generation = self._storage.generation
                        if rows:
                            self._summary_generation = self._storage.generation
                        if indexed:
                            self._prefixes_generation = self._storage.generation
                except WriteFailed as problem:
                    raise SaveFailed(
                        f"{problem}. Nothing was lost: the file still holds the last good save and your change is "
                        "still here, so you can save again once that is fixed"
                    ) from None
                except BaseException:
                    self._storage.rollback()
                    raise
            finally:
                lock.release()
                if self._index_generation != self._storage.generation:
                    self._index_generation = self._summary_generation = -1

    def _wait_for(self, lock: Any, timeout_error: type[Exception]) -> None:
        """Take the lock, waiting as long as the queue ahead of us is moving.

        Several DSLs saving at once queue on the lock, and with a large file each save takes seconds: a fixed
        timeout refused saves that were only queueing. The wait gives up only when nobody has saved for
        `lock_timeout` seconds while the lock stayed taken (a stopped or stuck kentsafe), and says so.
        `on_wait(seconds)`, if set, is called about four times a second while waiting.
        """
        started = last_progress = time.monotonic()
        seen = _file_stamp(self.path)
        while True:
            try:
                lock.acquire(timeout=0.25)
                return
            except timeout_error:
                pass
            except OSError as problem:
                raise SaveFailed(f"could not lock {self.path}: {problem.strerror}") from None
            now = time.monotonic()
            stamp = _file_stamp(self.path)
            if stamp != seen:  # someone ahead of us saved: the queue is moving
                seen, last_progress = stamp, now
            if now - last_progress >= self._lock_timeout:
                queued = f" (after waiting {now - started:.0f} s in the queue)" if now - started > now - last_progress + 1 else ""
                raise StoreBusy(
                    f"the database is busy: another kentsafe has held its lock for {now - last_progress:.0f} s "
                    f"without saving{queued}; is one stopped or stuck? Try again in a moment (nothing was lost)"
                )
            if self.on_wait is not None:
                self.on_wait(now - started)

    def _lock_mode(self) -> int:
        return mode_for(self.path)[0]  # the lock file is as private as the database it guards

    def _meta_doc(self, data: dict[str, Any]) -> dict[str, Any]:
        meta = data.get(META_TABLE, {}).get(META_ID)
        if meta is None:
            meta = {
                "schema": SCHEMA_VERSION,
                "app": "kentsafe",
                "created_at": to_iso(self._clock()),
                "sequences": {},
                "chain": {"seq": 0, "head": history.GENESIS},
            }
        return copy.deepcopy(meta)

    def _entry(self, action: str, changes: dict[str, Any], at: str, note: str | None = None) -> dict[str, Any]:
        entry: dict[str, Any] = {"at": at, "by": self.user, "action": action, "changes": changes}
        if self.login:
            entry["login"] = self.login
        if note:
            entry["note"] = note
        return entry

    def _write_record(
        self, data: dict[str, Any], meta: dict[str, Any], doc_id: int, content: dict[str, Any],
        past: list[dict[str, Any]], entries: list[dict[str, Any]],
    ) -> dict[str, Any]:
        """Seal the new entries into the chain and store the record with them."""
        chained = list(past)
        for entry in entries:
            seq = meta["chain"]["seq"] + 1
            sealed = history.seal(entry, content["id"], seq, meta["chain"]["head"])
            meta["chain"] = {"seq": seq, "head": sealed["hash"]}
            chained.append(sealed)
        record = {
            **content,
            "updated_at": chained[-1]["at"],
            "updated_by": chained[-1]["by"],
            "history": chained,
            "rev": len(chained),
        }
        _put(data, INCIDENTS, str(doc_id), record)
        _put(data, META_TABLE, META_ID, meta)
        self._storage.write(data)
        self._written.append(str(doc_id))
        return record

    def _next_doc_id(self, data: dict[str, Any]) -> int:
        return max((int(key) for key in data.get(INCIDENTS, {})), default=0) + 1

    def _allocate_id(self, meta: dict[str, Any], data: dict[str, Any], when: datetime) -> str:
        year = str(when.year)
        number = meta["sequences"].get(year, 0)
        if not number:  # no sequence kept for this year (a file kentsafe did not write): never reuse an id
            for doc in data.get(INCIDENTS, {}).values():
                match = ID_PATTERN.match(doc.get("id", ""))
                if match and match.group(1) == year:
                    number = max(number, int(match.group(2)))
        number += 1
        meta["sequences"][year] = number
        return f"{year}-{number:04d}"

    def checklist_for(self, category: str, scope: str, refer: bool = False) -> list[ChecklistItem]:
        return [copy.copy(item) for item in self._checklist_for(category, scope, refer)]

    def new_incident(self) -> Incident:
        """An unsaved incident as SPEC starts one: open, reported here, concern now, with its playbook."""
        incident = Incident(concern_at=to_iso(self._clock()))
        incident.checklist = self.checklist_for(incident.category, incident.scope, False)
        return incident

    def _prepare(self, incident: Incident, now: datetime) -> Incident:
        prepared = clean_incident(incident)
        if not prepared.concern_at:
            prepared.concern_at = to_iso(now)
        # Calendar dates are kept as ISO dates: "yesterday" must not mean a different day next week.
        for pupil in prepared.pupils:
            pupil.date_of_birth = _iso_day(pupil.date_of_birth, now)
        for transfer in prepared.transfers:
            transfer.sent_at = _iso_day(transfer.sent_at, now)
            transfer.acknowledged_at = _iso_day(transfer.acknowledged_at, now)
        validate(prepared, now)
        return prepared

    def create(self, incident: Incident) -> Incident:
        """Save a new incident; it gets its id, its playbook's checklist if it has none, and its first entry."""
        now = self._clock()
        draft = self._prepare(incident, now)
        if not draft.checklist:
            draft.checklist = self.checklist_for(draft.category, draft.scope, draft.refer_now())
        at = to_iso(now)
        with self._transaction() as data:
            meta = self._meta_doc(data)
            draft.id = self._allocate_id(meta, data, now)
            draft.created_at, draft.created_by = at, self.user
            content = history.content_of(draft.to_dict())
            entry = self._entry("create", {key: [None, value] for key, value in content.items()}, at)
            record = self._write_record(data, meta, self._next_doc_id(data), content, [], [entry])
        return Incident.from_dict(copy.deepcopy(record))

    def save(self, edited: Incident, base: Incident, *, amend: bool = False) -> Incident:
        """Save what changed between `base` (as it was opened) and `edited`.

        If someone else saved the record since `base`, this raises ConflictError, unless `amend`: then the
        changes are added on top of theirs as an amendment, and both versions stay in the history.
        """
        changes = {key: new for key, (_, new) in history.diff(base.to_dict(), edited.to_dict()).items()}
        if not changes:
            return self.get(base.id)
        return self._change(base.id, changes, base.rev, action="amend" if amend else None, force=amend)

    def set_item(
        self, incident_id: str, item_id: str, state: str, note: str | None = None, *, base_rev: int | None = None
    ) -> Incident:
        """Tick, untick or mark an item not applicable (or change its note), recording who and when.

        Applied to the newest version; it is a conflict only when someone changed the same item since
        `base_rev`.
        """

        def build(current: dict[str, Any], at: str) -> dict[str, Any]:
            for item in current.get("checklist", []):
                if item["id"] == item_id:
                    updated = dict(item, note=item["note"] if note is None else note)
                    if state != item["state"]:
                        updated.update(state=state, at=at, by=self.user)
                    return {history.CHECKLIST_PREFIX + item_id: updated}
            raise NotFound(f"{incident_id} has no checklist item {item_id!r}")

        return self._change(incident_id, build, base_rev, overlap_only=True)

    def _change(
        self,
        incident_id: str,
        changes: dict[str, Any] | Callable[[dict[str, Any], str], dict[str, Any]],
        base_rev: int | None,
        *,
        action: str | None = None,
        force: bool = False,
        overlap_only: bool = False,
    ) -> Incident:
        now = self._clock()
        at = to_iso(now)
        with self._transaction() as data:
            if self._index_generation != self._storage.generation:
                self._rebuild_caches(data)
            doc_id = self._index.get(incident_id)
            if doc_id is None:
                raise NotFound(f"there is no incident {incident_id!r} in {self.path}")
            current = self._storage.full(INCIDENTS, doc_id, data[INCIDENTS][doc_id])
            wanted = changes(current, at) if callable(changes) else changes
            since = current["history"][base_rev:] if base_rev is not None else []
            if since and not force and not (overlap_only and not _overlaps(wanted, since)):
                raise ConflictError(incident_id, copy.deepcopy(since), Incident.from_dict(copy.deepcopy(current)))
            proposed = copy.deepcopy(history.content_of(current))
            history.apply(proposed, {key: [None, value] for key, value in wanted.items()})
            problem = check_transition(current["status"], proposed.get("status", ""))
            if problem:
                raise ValidationError({"status": problem})
            incident = self._prepare(Incident.from_dict(proposed), now)
            if any(key in wanted for key in ("category", "scope", "referral_check")):
                wanted_items = self.checklist_for(incident.category, incident.scope, incident.refer_now())
                incident.checklist = merge_checklist(incident.checklist, wanted_items)
            content = history.content_of(incident.to_dict())
            delta = history.diff(current, content)
            if not delta:
                return Incident.from_dict(copy.deepcopy(current))
            entry = self._entry(action or _infer_action(delta), delta, at)
            meta = self._meta_doc(data)
            data[INCIDENTS][doc_id] = current  # in full, so the record keeps its fields' order (see `_put`)
            record = self._write_record(data, meta, int(doc_id), content, current["history"], [entry])
        return Incident.from_dict(copy.deepcopy(record))

    def set_setting(self, key: str, value: str) -> None:
        if key not in SETTINGS:
            raise ValidationError({key: f"is not a setting; the settings are {', '.join(SETTINGS)}"})
        value = clean_text(value).strip()
        if "\n" in value or len(value) > 200:
            raise ValidationError({key: "a setting is one line of at most 200 characters"})
        if key == "open_days_warning" and value and not (value.isdigit() and 0 < int(value) <= 3650):
            raise ValidationError({key: "give a number of days, for example 14"})
        at = to_iso(self._clock())
        with self._transaction() as data:
            # The settings go on every parent letter, so their changes are chained like a record's: an edit
            # made outside kentsafe shows in `verify`. Settings saved before they were chained are sealed, as
            # they are, by their next change.
            current = dict(data.get(SETTINGS_TABLE, {}).get("1", {}))
            past = current.get("history") if isinstance(current.get("history"), list) else []
            content = {name: text for name, text in current.items() if name in SETTINGS}
            before = history.replay(past) if past else {}
            delta = history.diff(before, {**content, key: value})
            if not delta:
                return
            meta = self._meta_doc(data)
            seq = meta["chain"]["seq"] + 1
            sealed = history.seal(self._entry("settings", delta, at), history.SETTINGS_ID, seq, meta["chain"]["head"])
            meta["chain"] = {"seq": seq, "head": sealed["hash"]}
            chained = [*past, sealed]
            doc = {**content, key: value, "updated_at": at, "updated_by": self.user, "history": chained,
                   "rev": len(chained)}
            _put(data, SETTINGS_TABLE, "1", doc)
            _put(data, META_TABLE, META_ID, meta)
            self._storage.write(data)

    # Import ---------------------------------------------------------------------------------------------
    def import_records(self, records: Any, source: str = "a file", allow_duplicates: bool = False) -> list[str]:
        """Add records (the shape `list --json` prints, or one record as `show --json` prints it) as new
        incidents, all or none. A record that matches one already here (same summary, concern time and
        creation) is refused unless `allow_duplicates`: importing a file twice is a mistake nothing can undo,
        because nothing is ever deleted. Returns the new ids."""
        source = clean(str(source)).replace("\n", " ")[:200]
        if isinstance(records, dict):
            records = [records]
        if not isinstance(records, list):
            raise ImportRefused(["the file must hold a JSON array of incidents (or one incident)"])
        now = self._clock()
        at = to_iso(now)
        prepared: list[tuple[Incident, list[dict[str, Any]], str]] = []
        problems: list[str] = []
        for number, data in enumerate(records, start=1):
            try:
                prepared.append(self._prepare_import(data, now))
            except ValidationError as problem:
                problems += [f"record {number}: {field}: {message}" for field, message in problem.errors.items()]
        if not problems and not allow_duplicates:
            problems = self._duplicates(prepared)
        if problems:
            raise ImportRefused(problems)
        ids: list[str] = []
        with self._transaction() as data:
            meta = self._meta_doc(data)
            doc_id = self._next_doc_id(data)  # once: it was worked out again for every record (quadratic)
            for incident, carried, original_id in prepared:
                incident.id = self._allocate_id(meta, data, now)
                incident.created_at = incident.created_at or at
                incident.created_by = incident.created_by or self.user
                content = history.content_of(incident.to_dict())
                past = history.replay(carried)
                note = f"imported from {source}" + (f", where it was {original_id}" if original_id else "")
                entries = [*carried, self._entry("import", history.diff(past, content), at, note)]
                self._write_record(data, meta, doc_id, content, [], entries)
                doc_id += 1
                ids.append(incident.id)
        return ids

    def import_lean(self, records: Any, source: str = "a file", allow_duplicates: bool = False,
                    progress: Progress | None = None) -> list[str]:
        """`import_records`, holding the other records only by what an import reads of them (id, summary,
        concern and creation times) and their bytes, written back as they are: a large database is imported
        into in about the memory of its file. Falls back to the usual read where the file needs it."""
        with self._mutex:
            self._storage.progress = progress
            try:
                self._storage.load_lean(INCIDENTS, _stub_of, _RECORD)
            except NotStreamable:
                self._data()
            finally:
                self._storage.progress = None
            try:
                return self.import_records(records, source, allow_duplicates)
            finally:
                if any(isinstance(doc, Stub) for doc in (self._storage._data or {}).get(INCIDENTS, {}).values()):
                    self._storage.close()  # the stubs are not records: the next read reads the file
                    self._storage.generation += 1

    def _duplicates(self, prepared: list[tuple[Incident, list[dict[str, Any]], str]]) -> list[str]:
        """Records that match one already here, or an earlier one in the same file: the same summary and
        concern time, and the same creation time where the incoming record carries one."""
        def key(summary: str, concern_at: str) -> tuple[str, float]:
            return summary.strip().casefold(), sort_key(concern_at)

        here: dict[tuple[str, float], list[Summary]] = {}
        for row in self.summaries():
            here.setdefault(key(row.summary, row.concern_at), []).append(row)
        problems, seen = [], {}
        for number, (incident, _, _) in enumerate(prepared, start=1):
            mark = key(incident.summary, incident.concern_at)
            same = [other for other in here.get(mark, [])
                    if not incident.created_at or other.created_at == incident.created_at]
            if same:
                problems.append(f"record {number}: looks already imported (same as {same[0].id}); "
                                "use --allow-duplicates if it really is a different incident")
            elif mark in seen:
                problems.append(f"record {number}: the same as record {seen[mark]} in this file")
            seen.setdefault(mark, number)
        return problems

    def _prepare_import(self, data: Any, now: datetime) -> tuple[Incident, list[dict[str, Any]], str]:
        if not isinstance(data, dict):
            raise ValidationError({"record": "must be a set of fields (a JSON object)"})
        data = dict(data)
        original_id = clean(str(data.pop("id", "") or "")).replace("\n", " ")[:100]
        carried_raw = data.pop("history", None) or []
        for derived in ("rev", "updated_at", "updated_by"):
            data.pop(derived, None)
        known = {name for name in Incident.__dataclass_fields__ if name not in history.DERIVED}
        errors = {key: "is not a field of an incident" for key in data if key not in known}
        try:
            incident = Incident.from_dict({key: value for key, value in data.items() if key in known})
        except ValidationError as problem:
            raise ValidationError({**errors, **problem.errors}) from None
        if "concern_at" not in data:
            incident.concern_at = incident.created_at or ""
        try:
            prepared = self._prepare(incident, now)
        except ValidationError as problem:
            errors.update(problem.errors)
        if errors:
            raise ValidationError(errors)
        if "checklist" not in data:
            prepared.checklist = self.checklist_for(prepared.category, prepared.scope, prepared.refer_now())
        if not isinstance(carried_raw, list):
            raise ValidationError({"history": "must be a list of entries"})
        carried = []
        for position, entry in enumerate(carried_raw):
            if not (isinstance(entry, dict) and isinstance(entry.get("changes", {}), dict)
                    and all(isinstance(entry.get(key, ""), str) for key in ("at", "by", "action", "login", "note"))):
                raise ValidationError({f"history[{position}]": "must have at, by, action and changes"})
            kept = {key: entry[key] for key in ("at", "by", "action", "changes", "login", "note") if key in entry}
            kept.setdefault("changes", {})
            kept = clean_deep(kept)  # keys of changes too: nothing carried in can reach a terminal
            errors = check_history_entry(kept, f"history[{position}]")
            if errors:
                raise ValidationError(errors)
            carried.append(kept)
        try:
            history.replay(carried)
        except (KeyError, TypeError, ValueError) as problem:
            raise ValidationError({"history": f"cannot be replayed ({problem})"}) from None
        return prepared, carried, original_id

    # Checks ---------------------------------------------------------------------------------------------
    def verify(self) -> list[str]:
        """Everything wrong with the database, one line each; empty when all is well."""
        return self.check().problems

    def check(self, noted: tuple[int, str] | None = None, progress: Progress | None = None) -> Checked:
        """What `verify`, `holds_head(*noted)`, `chain_head` and `count` say, reading each record once
        without keeping it (see `read_through`)."""
        problems: list[str] = []
        if not self.path.exists():
            return Checked([f"there is no database at {self.path} (nothing has been saved there; is the path right?)"])
        if self.path.stat().st_size == 0:
            return Checked([f"{self.path} is empty: kentsafe never writes an empty file (truncated, or made by hand?)"])
        special = refuse_special(self.path)
        if special:
            return Checked([special])
        leak = exposure(self.path)
        if leak:
            problems.append(leak)
        problems += folder_exposure(self.path)
        at_start = self._clock()  # "not in the future" against one moment: asking the clock per record was 2%

        def start(tables: dict[str, Any]) -> Callable[[Any, Any], None]:
            found: list[str] = []
            seen: set[str] = set()
            chain = history.ChainCheck()

            def visit(mirrored: Any, piece: Any) -> None:
                # A record that fits the mirror is one `from_dict` takes as it is (see `_mirror`): it is checked
                # as decoded, in C, and made a dict once for the chain. Any other is read the usual way.
                if isinstance(mirrored, dict):
                    record, plain = mirrored, None
                else:
                    record = _as_doc(mirrored)
                    plain = {key: value for key, value in record.items() if key != "history"}
                incident_id = record.get("id", "?")
                match = ID_PATTERN.match(str(incident_id))
                if not match:
                    found.append(f"{incident_id}: not a valid reference (YYYY-NNNN)")
                else:
                    sequences = tables.get(META_TABLE, {}).get(META_ID, {}).get("sequences", {})
                    if int(match.group(2)) > int(sequences.get(match.group(1), 0)):
                        found.append(f"{incident_id}: beyond the database's sequence for {match.group(1)}")
                if incident_id in seen:
                    found.append(f"{incident_id}: appears twice")
                seen.add(incident_id)
                try:
                    validate(Incident.from_dict(record) if plain is None else mirrored, at_start, plain)
                except ValidationError as problem:
                    found.extend(f"{incident_id}: {field}: {message}" for field, message in problem.errors.items())
                for position, entry in enumerate(record.get("history") or []):
                    if isinstance(entry, dict):
                        errors = check_history_entry(entry, f"history[{position}]", deep=False)
                        found.extend(f"{incident_id}: {field}: {message}" for field, message in errors.items())
                chain.add(record)
                if noted is not None and visit.noted is None:  # type: ignore[attr-defined]
                    visit.noted = _entry_at(record, noted[0])  # type: ignore[attr-defined]

            visit.found, visit.seen, visit.chain, visit.noted = found, seen, chain, None  # type: ignore[attr-defined]
            return visit

        with _collector_paused():
            visit, tables = self.read_through(start, _RECORD, progress=progress)
        if META_TABLE not in tables:
            problems.append(f"{self.path} was not written by kentsafe (it has no kentsafe header)")
        if self._storage.migrated_from is not None and not self._storage.stale():
            problems.append(
                f"the file has schema {self._storage.migrated_from}; it is migrated (with a backup) at the next save"
            )
        problems += visit.found
        meta = tables.get(META_TABLE, {}).get(META_ID, {})
        settings = tables.get(SETTINGS_TABLE, {}).get("1")
        if isinstance(settings, dict) and "history" in settings:
            visit.chain.add({**settings, "id": history.SETTINGS_ID})
        problems += visit.chain.finish(meta.get("chain", {"seq": 0, "head": history.GENESIS}))
        holds = None
        if noted is not None:
            entry = visit.noted
            for doc in tables.get(SETTINGS_TABLE, {}).values():
                entry = entry or _entry_at(doc, noted[0])
            holds = _holds(entry, *noted)
        return Checked(problems, dict(meta.get("chain", {"seq": 0, "head": history.GENESIS})), len(visit.seen), holds)

    def holds_head(self, seq: int, digest: str) -> str | None:
        """None if history entry `seq` with hash `digest` (a head noted earlier) is still in the chain, else
        what is wrong. With `verify` finding the chain intact, this proves that nothing up to that entry was
        rewritten since it was noted."""
        with self._mutex:
            data = self._data()
            docs = itertools.chain((self._storage.full(INCIDENTS, doc_id, doc)
                                    for doc_id, doc in list(data.get(INCIDENTS, {}).items())),
                                   list(data.get(SETTINGS_TABLE, {}).values()))
            entry = None
            for doc in docs:
                entry = _entry_at(doc, seq)
                if entry is not None:
                    break
            return _holds(entry, seq, digest)

    def chain_head(self) -> dict[str, Any]:
        return dict(self.meta().get("chain", {"seq": 0, "head": history.GENESIS}))

    # Migration ------------------------------------------------------------------------------------------
    def _migrate(self, data: dict[str, Any], version: int) -> dict[str, Any]:
        """Bring an older file's data up to SCHEMA_VERSION, in memory. The file is backed up before it is
        first written (see AtomicJSONStorage)."""
        if version == 0:
            return self._migrate_0(data)
        raise CorruptDatabase(f"{self.path} has schema {version}, which kentsafe cannot migrate")

    def _migrate_0(self, data: dict[str, Any]) -> dict[str, Any]:
        """Schema 0: a plain TinyDB file of incident documents with no history chain."""
        sealed_before = [doc_id for doc_id, doc in data.get(INCIDENTS, {}).items()
                         if isinstance(doc, dict) and isinstance(doc.get("history"), list)
                         and any(isinstance(entry, dict) and "hash" in entry for entry in doc["history"])]
        if sealed_before:
            # Schema 0 never had a chain. Records that carry one come from a kentsafe file whose header was
            # removed: migrating would replace their history and launder whatever was edited.
            raise CorruptDatabase(
                f"{self.path} is damaged: its kentsafe header (_meta) is missing but its records carry a "
                f"sealed history ({len(sealed_before)} record(s)); it has not been touched. Restore it from a backup"
            )
        at = to_iso(self._clock())
        meta = self._meta_doc({})
        migrated: dict[str, Any] = {INCIDENTS: {}}
        for doc_id, doc in sorted(data.get(INCIDENTS, {}).items(), key=lambda item: int(item[0])):
            fields = {k: v for k, v in doc.items() if k not in history.DERIVED}
            try:
                incident = Incident.from_dict(fields)
            except ValidationError as problem:
                raise CorruptDatabase(f"{self.path}: record {doc_id} cannot be migrated ({problem})") from None
            when = datetime.fromisoformat(incident.created_at) if incident.created_at else self._clock()
            if not ID_PATTERN.match(incident.id):
                incident.id = self._allocate_id(meta, migrated, when)
            else:
                year, number = incident.id.split("-")
                meta["sequences"][year] = max(int(number), meta["sequences"].get(year, 0))
            incident.created_at = incident.created_at or at
            incident.created_by = incident.created_by or "unknown (before kentsafe kept history)"
            content = history.content_of(incident.to_dict())
            entry = self._entry("migrate", {k: [None, v] for k, v in content.items()}, at,
                                "recorded when the database was upgraded to schema 1")
            seq = meta["chain"]["seq"] + 1
            sealed = history.seal(entry, incident.id, seq, meta["chain"]["head"])
            meta["chain"] = {"seq": seq, "head": sealed["hash"]}
            migrated[INCIDENTS][doc_id] = {**content, "updated_at": at, "updated_by": self.user,
                                           "history": [sealed], "rev": 1}
        return {META_TABLE: {META_ID: meta}, **migrated, **{k: v for k, v in data.items()
                                                          if k not in (INCIDENTS, META_TABLE)}}


def _iso_day(value: str, now: datetime) -> str:
    """A typed calendar date as YYYY-MM-DD; left as it is when it cannot be read, for validation to name."""
    if not value.strip():
        return ""
    try:
        return parse_date(value, now).isoformat()
    except DateError:
        return value
