"""The TinyDB storage under kentsafe: parsed once, re-read only when the file changes, written atomically.

TinyDB's own JSONStorage re-reads and re-parses the whole file on every operation and rewrites it in place,
truncating last; a process killed mid-write leaves a file that no longer opens. This storage keeps the parsed
data in memory, checks the file's identity (device, inode, size, modification time) before trusting it, and
writes through `fileio.atomic_write`. Writes only happen inside a transaction the store opens while holding
the file lock, so every write is one read-modify-write of the newest data.

Reading at the floor (measured with full-playbook records, 9.5 KB each, 10,000 of them: a 95 MB file)
----------------------------------------------------------------------------------------------------------
- **msgspec parses, json writes.** `json.loads` took 1.79 s CPU and peaked at 494 MB; msgspec 0.90 s and 411 MB;
  orjson 1.05 s and 597 MB. msgspec is also stricter where it matters: NaN, Infinity, lone surrogates and
  bytes that are not UTF-8 are refused as damage (json accepted NaN and surrogates, and the next save then
  failed). Writing stays with `json.dumps`, because msgspec and orjson format some floats differently
  (``1e22`` against ``1e+22``): the file stays byte for byte what kentsafe always wrote.
- **Each record is parsed on its own** (`_stepwise`; small files are split in one call first, `_whole`). No
  single call holds the interpreter for long (splitting a 480 MB file in one call held it for about 300 ms),
  so other threads run between records and the app's screen keeps answering keys while a worker thread
  reads a large file. Each record's bytes are kept, as a view of the bytes read, so a save, even the first in
  a process, re-serialises only the records that changed (the file read stays in memory for that: 1x the
  file, on top of the parsed records).
- **The cyclic garbage collector is paused while parsing, and the parsed records are frozen**
  (`gc.freeze`): otherwise it walks the growing heap again and again, half of the parse time (0.36 s against
  0.90 s above). Records are trees with no cycles, so when newer data replaces them reference counting frees
  them as before; only other cyclic garbage alive at that moment is kept until exit, a few objects per read.

Reading without keeping, and saving at the floor (issue 12, second round)
-------------------------------------------------------------------------
- **A command that reads each record once does not keep them** (`scan`): holding every record parsed is 4.1
  to 4.3 times the file in memory whatever the parser, so `list`, `show`, `stats`, `verify` and the others
  decode a record, use it and drop it, and peak at the file plus what they print. A typed msgspec decoder
  (the store's mirror of the model) decodes straight into what a command needs, faster than into dicts;
  a record that does not fit it is decoded as it is and read the usual way.
- **An import holds the records already there by a few fields and their bytes** (`load_lean`, `Stub`):
  they are written back as they were read, so it needs no more of them.
- **A save writes parts, not one joined copy**: runs of unchanged records go out as slices of the bytes read
  (`writev`), and after the first save a `_Plan` finds what changed by identity in C, so a save costs the
  write and fsync of the file plus a few milliseconds. The replaced file is closed in a thread of its own
  (`_let_go`): freeing its blocks is not part of the save.
- **The app holds each record lean** (`lean`, `Store.hold_lean`): by the few fields a save or an import reads
  and its summary with search text, made as it is decoded, beside its bytes; a record asked for is decoded
  afresh from those bytes (`full`). At 50,000 full-playbook incidents the app holds 1.4 times the file
  instead of 5.2, and reads it in half the time (3.5 s against 7.3 s CPU), since nothing decoded is kept.
"""

from __future__ import annotations

import gc
import inspect
import itertools
import json
import operator
import os
import re
import secrets
import threading
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec
from tinydb.storages import Storage

from .fileio import atomic_write, mode_for

SCHEMA_VERSION = 1
META_TABLE = "_meta"
META_ID = "1"

Stamp = tuple[int, int, int, int]
Progress = Callable[[int, int], None]  # (records read so far, records in the file)


class Fragments(dict):  # type: ignore[type-arg]
    """Each versioned document's bytes as last read or written, keyed by (table, doc id, rev). Those read are
    views of `raw`, the bytes read, and `starts` says where each begins there: a save writes a run of
    unchanged documents as one slice of `raw`, separators and ids included, instead of one part each."""

    def __init__(self, raw: bytes | None = None, starts: dict[tuple[str, str, int], int] | None = None):
        super().__init__()
        self.raw = raw
        self.starts: dict[tuple[str, str, int], int] = {} if starts is None else starts
        # Each table as it was read, for the first save (see `_Plan`); made only where `raw` is kept.
        self.plans: dict[str, _Plan] | None = {} if raw is not None else None
        self._run: str | None = None  # the table whose documents the last one read continues, in `raw`
        self.data: dict[str, Any] | None = None  # once replaced (see `take`): the tables read with it

    def note(self, name: str, doc_id: str, doc: Any, key: Any, start: int | None, end: int) -> None:
        """Note a document read into the plan of its table. Documents the stepwise parse reads one after
        another lie one after another in `raw`, with exactly `,"<id>":` between them (see `_NEXT_DOCUMENT`)."""
        if self.plans is None:
            return
        plan = self.plans.get(name)
        if plan is None:
            plan = self.plans[name] = _Plan()
        if start is None or key is None:
            plan.add(doc_id, doc, -1, -1)
            self._run = None
            return
        if self._run != name:
            plan.breaks.append(len(plan.ids))
        plan.add(doc_id, doc, start, end)
        self._run = name

    def forget(self, name: str) -> None:
        """A table named again: the last one counts."""
        if self.plans is not None:
            self.plans.pop(name, None)
        self._run = None

    def large_plans(self) -> dict[str, _Plan]:
        return {name: plan for name, plan in (self.plans or {}).items() if len(plan.ids) >= PLAN_FROM}

_SLICES = msgspec.json.Decoder(dict[str, dict[str, msgspec.Raw]])  # each table's documents, still unparsed
_DOCUMENT = msgspec.json.Decoder()
_BOM = b"\xef\xbb\xbf"


class StoreError(Exception):
    """A problem with the database a DSL can act on; the message is one clear line."""


class CorruptDatabase(StoreError):
    pass


class NewerSchema(StoreError):
    pass


_HEAD_SCHEMA = re.compile(rb'^\{"_meta":\{"1":\{"write_id":"[0-9a-f]*","schema":(\d+)')


def _newer(path: Path, version: int) -> NewerSchema:
    return NewerSchema(f"{path} was written by a newer kentsafe (schema {version}; this one knows up to "
                       f"{SCHEMA_VERSION}). Upgrade kentsafe; the file has not been touched")


def _unreadable(path: Path, problem: OSError) -> StoreError:
    if isinstance(problem, IsADirectoryError):
        return CorruptDatabase(f"{path} is a folder, not a database file")
    return StoreError(f"no permission to read {path}: ask whoever set up kentsafe to add you")


def check_head(path: Path) -> None:
    """A quick look before a full read: stop at once, with the usual one line, on a file that is plainly
    not ours or was written by a newer kentsafe. The full check comes with the full read."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(256)
    except FileNotFoundError:
        return
    except (IsADirectoryError, PermissionError) as problem:
        raise _unreadable(path, problem) from None
    if head.strip() and not head.lstrip().startswith(b"{"):
        raise CorruptDatabase(f"{path} is not a kentsafe database (it is not a JSON object); it has not been touched")
    match = _HEAD_SCHEMA.match(head)
    if match and int(match.group(1)) > SCHEMA_VERSION:
        raise _newer(path, int(match.group(1)))


def schema_of(data: dict[str, Any]) -> int:
    """The layout version of parsed data: 0 for a TinyDB file kentsafe has not stamped yet."""
    meta = data.get(META_TABLE, {}).get(META_ID)
    if meta is None:
        return SCHEMA_VERSION if not any(data.values()) else 0
    version = meta.get("schema") if isinstance(meta, dict) else None
    if not isinstance(version, int) or isinstance(version, bool) or version < 0:
        raise CorruptDatabase("its schema version is missing or not a number")
    return version


def _fragment_key(name: str, doc_id: str, doc: Any) -> tuple[str, str, int] | None:
    rev = doc.get("rev") if isinstance(doc, dict) else None
    return (name, doc_id, rev) if isinstance(rev, int) and not isinstance(rev, bool) else None


def parse(raw: bytes, progress: Progress | None = None,
          pause: Callable[[], None] | None = None) -> tuple[dict[str, Any], Fragments]:
    """The tables in a file's bytes, and each versioned document's bytes as they are in the file.

    Raises ValueError (with a message for a DSL) when the bytes are not a TinyDB database. See the module
    docstring for why it is msgspec, one record at a time, with the garbage collector paused."""
    reader = _read(raw, lambda raw: _paused(_Reader(Fragments(raw), progress), pause), freeze=True)
    return reader.data, reader.fragments


def _paused(reader: _Reader, pause: Callable[[], None] | None) -> _Reader:
    reader.pause = pause
    return reader


def _read(raw: bytes, make: Callable[[bytes], _Reader], freeze: bool) -> _Reader:
    """Feed a file's documents to a reader from `make` (a fresh one if the stepwise parse gives up)."""
    if raw.startswith(_BOM):  # json.loads accepted one; some editors add it
        raw = raw[len(_BOM):]
    collecting = gc.isenabled()
    if freeze and collecting:
        # What is garbage now is collected first, so the freeze at the end keeps none of it alive for good
        # (a long-running app reads again after every other DSL's save). It walks only what was made since
        # the last freeze: a few milliseconds.
        gc.collect()
    gc.disable()
    try:
        if len(raw) > STEPWISE_FROM:
            try:
                return _stepwise(raw, make(raw))
            except _NotStepwise:
                pass  # a layout kentsafe does not write, or damage: the whole-file parse says which
        return _whole(raw, make(raw))
    finally:
        if collecting:
            if freeze:
                gc.freeze()
            gc.enable()


def _whole(raw: bytes, reader: _Reader) -> _Reader:
    """Split the file into its documents in one call (about 6 ms per 10 MB), then parse them one by one."""
    try:
        tables = _SLICES.decode(raw)
    except msgspec.ValidationError:
        raise ValueError("not a TinyDB database") from None
    except msgspec.DecodeError as problem:
        raise ValueError(_json_problem(raw, problem)) from None
    total = sum(len(table) for table in tables.values())
    for name, table in tables.items():
        reader.open(name)
        for doc_id, piece in table.items():
            try:
                reader.add(name, doc_id, piece)
            except msgspec.DecodeError as problem:
                raise ValueError(_json_problem(raw, problem, doc_id)) from None
            reader.tell(total)
    reader.tell(total, end=True)
    return reader


class _Reader:
    """Parses documents into `data`, keeping each versioned one's bytes, and tells `progress` now and then."""

    def __init__(self, fragments: Fragments, progress: Progress | None):
        self.data: dict[str, Any] = {}
        self.fragments, self.progress = fragments, progress
        self.pause: Callable[[], None] | None = None  # called every few records (see `AtomicJSONStorage.pause`)
        self.done = 0

    def open(self, name: str) -> None:
        self.data[name] = {}  # a table named twice: the last one counts, as json.loads has it
        self.fragments.forget(name)

    def document(self, name: str, piece: Any) -> Any:
        """The document in `piece` if it is one (a JSON object), else None: where the stepwise parse checks
        that a piece it cut out is one whole document."""
        try:
            doc = _DOCUMENT.decode(piece)
        except msgspec.DecodeError:
            return None
        return doc if isinstance(doc, dict) else None

    def add(self, name: str, doc_id: str, piece: Any, doc: Any = None, start: int | None = None) -> None:
        doc = self.data[name][doc_id] = _DOCUMENT.decode(piece) if doc is None else doc
        key = _fragment_key(name, doc_id, doc)
        if key:
            self.fragments[key] = piece  # a view of the bytes read, written as they are by a save
            if start is not None:
                self.fragments.starts[key] = start
        self.fragments.note(name, doc_id, doc, key, start, -1 if start is None else start + len(piece))
        self.done += 1

    def tell(self, total: int, end: bool = False) -> None:
        if self.pause is not None and self.done % 16 == 0:
            self.pause()
        if self.progress is not None and (end or self.done % 2000 == 0):
            self.progress(self.done, max(total, self.done))


class NotStreamable(Exception):
    """The file cannot be read one record at a time without keeping them (not the current schema, no
    kentsafe header before the records, a table named twice): read it whole as usual."""


Visit = Callable[[Any, Any], None]  # (a record as decoded, its bytes in the file)


class _Streamer(_Reader):
    """Hands each document of one table to a visitor instead of keeping it; keeps the other tables.

    The visitor is made afresh by `start` for each attempt, so a parse that starts again (stepwise, then
    whole) never shows it a record twice. Documents of the table are decoded with `decoder` (msgspec, typed);
    one that does not fit its type is decoded as it is (a dict), for the visitor to read the usual way."""

    def __init__(self, table: str, start: Callable[[dict[str, Any]], Visit], decoder: Any, progress: Progress | None,
                 raw: bytes | None = None):
        super().__init__(Fragments(raw), progress)
        self.table, self.decoder = table, decoder
        self.visit = start(self.data)  # the tables as they are read: the header comes before the records
        self.opened = self.ready = False

    def open(self, name: str) -> None:
        if name == self.table:
            if self.opened:
                raise NotStreamable
            self.opened = True
        super().open(name)

    def document(self, name: str, piece: Any) -> Any:
        if name != self.table:
            return super().document(name, piece)
        try:
            return self._decode(piece)
        except (msgspec.DecodeError, NotStreamable):
            return None  # not one whole document (or not an object)

    def _decode(self, piece: Any) -> Any:
        return decode_as(self.decoder, piece)

    def add(self, name: str, doc_id: str, piece: Any, doc: Any = None, start: int | None = None) -> None:
        if name != self.table:
            return super().add(name, doc_id, piece, doc, start)
        if not self.ready:
            self.ready = streamable(self.data)  # the header comes first in what kentsafe writes
        if doc is None:
            doc = self._decode(piece)
        self.visit(doc, piece)
        self.done += 1


def decode_as(decoder: Any, piece: Any) -> Any:
    """A record decoded with a typed decoder, or as it is (a dict) if it does not fit that type."""
    try:
        return decoder.decode(piece)
    except msgspec.ValidationError:
        doc = _DOCUMENT.decode(piece)
        if not isinstance(doc, dict):
            raise NotStreamable from None
        return doc


class Stub(dict):  # type: ignore[type-arg]
    """A record held by a few of its fields, its bytes kept to be written back as they are (see `load_lean`)."""


class _Lean(_Streamer):
    """Keeps each document of the table as the `Stub` that `visit` makes of it, with its bytes."""

    def add(self, name: str, doc_id: str, piece: Any, doc: Any = None, start: int | None = None) -> None:
        if name != self.table:
            return super().add(name, doc_id, piece, doc, start)
        if not self.ready:
            self.ready = streamable(self.data)
        stub = self.visit(self._decode(piece) if doc is None else doc, piece)
        key = _fragment_key(name, doc_id, stub)
        if not isinstance(stub, Stub) or key is None:
            raise NotStreamable  # no revision to keep its bytes by: it could not be written back as it is
        self.data[name][doc_id] = stub
        self.fragments[key] = piece
        if start is not None:
            self.fragments.starts[key] = start
        self.fragments.note(name, doc_id, stub, key, start, -1 if start is None else start + len(piece))
        self.done += 1


def streamable(data: dict[str, Any]) -> bool:
    """True if records of these tables can be read as they are, without migration; else NotStreamable."""
    try:
        if META_TABLE in data and schema_of(data) == SCHEMA_VERSION:
            return True
    except CorruptDatabase:
        pass
    raise NotStreamable


class _NotStepwise(Exception):
    pass


STEPWISE_FROM = 8 << 20  # bytes: below this the one-call split holds the interpreter for under 5 ms
# Where one document of a table ends and the next begins, in what kentsafe writes: `},"<doc id>":{`. It can
# never be inside a JSON string (a quote there is always escaped), and a false match inside a record is
# caught (see `_stepwise`).
_NEXT_DOCUMENT = re.compile(rb'\},"(\d+)":\{')
_WRAP_KEY = "\x00kentsafe-continued"
_WRAP = b'"\\u0000kentsafe-continued"'
# Any string starting with U+0000, however else it is escaped, starts with these bytes: where they occur, the
# wrapper's key could be confused with one in the file, so that file is parsed whole.
_WRAP_START = b'"\\u0000'


def _stepwise(raw: bytes, reader: _Reader) -> _Reader:
    """The same result as `_whole`, without any one call that holds the interpreter for long: a 480 MB file
    split in one call holds it for about 300 ms, and the app's screen would not answer a key meanwhile.

    Documents are found by `_NEXT_DOCUMENT` one at a time and each is parsed from a view of `raw` (no copy).
    The head of the file (up to the first match) and any stretch that is not exactly one document (where one
    table ends and the next begins, and the end of the file) are parsed wrapped in the two levels of object
    they sit in. That succeeds only if each match lies between two documents of a table: one inside a record
    leaves a piece that does not close, so the parse fails, and then `_NotStepwise` hands the file to `_whole`.
    """
    view = memoryview(raw)
    matches = _NEXT_DOCUMENT.finditer(raw)
    first = next(matches, None)
    if first is None:
        raise _NotStepwise
    if raw.find(_WRAP_START, 0, first.start()) != -1:
        raise _NotStepwise
    current = _take_stretch(reader, raw[:first.start() + 1] + b"}}", None)
    match = first
    while match is not None:
        following = next(matches, None)
        end = following.start() + 1 if following else len(raw)
        doc = reader.document(current, view[match.end() - 1:end]) if following is not None else None
        if doc is not None:
            reader.add(current, match.group(1).decode(), view[match.end() - 1:end], doc, match.end() - 1)
        else:  # a table ends here (or the file does): parse the stretch in its two levels of object
            if raw.find(_WRAP_START, match.start(), end) != -1:
                raise _NotStepwise
            stretch = b"{" + _WRAP + b":{" + raw[match.start() + 2:end] + (b"}}" if following else b"")
            current = _take_stretch(reader, stretch, current)
        reader.tell(len(raw) * reader.done // end)
        match = following
    reader.tell(reader.done, end=True)
    return reader


def _take_stretch(reader: _Reader, stretch: bytes, current: str | None) -> str:
    """Parse a wrapped stretch of the file into the reader's tables; the name of the table left open."""
    try:
        tables = _SLICES.decode(stretch)
    except (msgspec.DecodeError, msgspec.ValidationError):
        raise _NotStepwise from None
    for position, (name, table) in enumerate(tables.items()):
        if name == _WRAP_KEY:
            if current is None or position:
                raise _NotStepwise
            name = current
        else:
            reader.open(name)
        try:
            for doc_id, piece in table.items():
                reader.add(name, doc_id, piece)
        except msgspec.DecodeError:
            raise _NotStepwise from None
        current = name
    if current is None:
        raise _NotStepwise
    return current


def _json_problem(raw: bytes, problem: msgspec.DecodeError, doc_id: str | None = None) -> str:
    """What is wrong, with a line and column where json can say (msgspec gives a byte offset)."""
    if "UTF-8" in str(problem):
        return "not UTF-8 text"
    try:
        json.loads(raw, parse_constant=_refuse_constant)
    except UnicodeDecodeError:
        return "not UTF-8 text"
    except json.JSONDecodeError as found:
        return f"not valid JSON (line {found.lineno}, column {found.colno}: {found.msg})"
    except ValueError as found:
        return f"not valid JSON ({found})"
    where = f" in document {doc_id}" if doc_id else ""
    return f"not valid JSON{where} ({problem})"


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def _dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


def _not_json(constant: str) -> Any:
    raise ValueError(f"{constant} is not a JSON number")


def _head(token: str) -> bytes:
    return f'{{"{META_TABLE}":{{"{META_ID}":{{"write_id":"{token}"'.encode()


def _stamped(data: dict[str, Any], token: str) -> dict[str, Any]:
    """The data with a fresh write token as the very first bytes of the file (see `_head`)."""
    meta = data.get(META_TABLE, {}).get(META_ID) or {"schema": SCHEMA_VERSION}
    meta = {"write_id": token, **{key: value for key, value in meta.items() if key != "write_id"}}
    rest = {name: table for name, table in data.items() if name != META_TABLE}
    return {META_TABLE: {META_ID: meta}, **rest}


PLAN_FROM = 64  # records: a smaller table is simply gone through each time


class _Plan:
    """A table as the last save wrote it: each record's id, the record itself, and where its bytes lie in
    the bytes read (-1 where they do not: it changed since, or was read within a stretch). `loose` holds
    those positions; `breaks`, where a run of the bytes read starts anew."""

    def __init__(self) -> None:
        self.ids: list[str] = []
        self.docs: list[Any] = []
        self.starts: list[int] = []
        self.ends: list[int] = []
        self.loose: set[int] = set()
        self.breaks: list[int] = []

    def add(self, doc_id: str, doc: Any, start: int, end: int) -> None:
        if start < 0:
            self.loose.add(len(self.ids))
        self.ids.append(doc_id)
        self.docs.append(doc)
        self.starts.append(start)
        self.ends.append(end)


def _rev_of(doc: Any) -> Any:
    return doc.get("rev") if isinstance(doc, dict) else None


def _head_of(position: int, doc_id: str) -> bytes:
    """What comes before a record in its table: a comma after the first, then its id."""
    label = f'"{doc_id}":'.encode() if doc_id.isdigit() else _dumps(doc_id) + b":"
    return b"," + label if position else label


def _one(name: str, doc_id: str, doc: Any, old: Fragments, fresh: Fragments) -> tuple[Any, Any]:
    """A record's bytes: kept ones if its revision is unchanged, else made now (and kept in `fresh`)."""
    rev = doc.get("rev") if isinstance(doc, dict) else None
    key = (name, doc_id, rev) if type(rev) is int else None
    fragment = old.get(key) if key else None
    if fragment is None:
        if isinstance(doc, Stub):  # never: a stub's bytes are kept by its revision (see `_Lean`)
            raise RuntimeError(f"record {doc_id} is held without its bytes; nothing was written")
        fragment = _dumps(doc)
        if key:
            fresh[key] = fragment
    return fragment, key


def drop_gently(replaced: Fragments, pause: Callable[[], None] | None, data: dict[str, Any] | None = None) -> None:
    """Let go of a file read before, a few thousand records at a time, offering the interpreter (`pause`)
    between: its bytes' views, its tables as the last save would have written them, and `data`, the records
    read from it. At 50,000 records, dropping the views at once held the interpreter for 73 ms, and the
    records with their summaries 90-140 ms, and a key typed while another DSL's save was read again waited
    for that. The bytes themselves go last, in one piece (33 ms for 550 MB, measured here)."""
    if pause is None:
        return
    containers: list[Any] = [replaced, replaced.starts]
    for plan in (replaced.plans or {}).values():
        containers += [plan.docs, plan.ids, plan.starts, plan.ends, plan.breaks, plan.loose]
    containers += [table for table in (data or {}).values() if isinstance(table, dict)]
    empty_gently(containers, pause)
    replaced.raw = None


def empty_gently(containers: list[Any], pause: Callable[[], None], chunk: int = 2048) -> None:
    """Empty these lists, dicts and sets a chunk at a time, offering the interpreter (`pause`) between: what
    was the last reference to many objects frees them a chunk at a time, not in one long call."""
    for container in containers:
        while container:
            if isinstance(container, list):
                del container[-chunk:]
            else:
                for _ in range(min(chunk, len(container))):
                    container.popitem() if isinstance(container, dict) else container.pop()
            pause()


def _hold(path: Path) -> int | None:
    """The file about to be replaced, held open (see `_let_go`); None if there is none."""
    try:
        return os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return None


def _let_go(fd: int | None) -> None:
    """Close the replaced file in a thread of its own. The last close of a replaced file frees its blocks
    (17 ms for 110 MB, about 90 ms for 550 MB, measured here), work the save need not wait for: it is
    complete, and durable, once the new file is renamed in place and its folder synced. Held this way, a
    save returns (and releases the lock) without it; nothing is left on disk if the process stops first."""
    if fd is None:
        return
    threading.Thread(target=os.close, args=(fd,), name="kentsafe-release", daemon=True).start()


def _stamp(result: os.stat_result) -> Stamp:
    return (result.st_dev, result.st_ino, result.st_size, result.st_mtime_ns)


class AtomicJSONStorage(Storage):
    """See the module docstring. `migrate` turns data of an older schema into the current one, in memory."""

    def __init__(self, path: str, migrate: Callable[[dict[str, Any], int], dict[str, Any]] | None = None):
        self.path = Path(path)
        # Held weakly when it is the store's own method: a store and its storage must not form a cycle, since
        # parsed records are frozen out of the cyclic collector's sight (see the module docstring) and a
        # frozen cycle is never freed, records and all, after the store is dropped.
        self._migrate = weakref.WeakMethod(migrate) if inspect.ismethod(migrate) else (lambda: migrate)
        self._data: dict[str, Any] | None = None
        self._stamp: Stamp | None = None
        self._in_transaction = False
        self._dirty = False
        self._token: str | None = None  # the write_id of the file we hold in memory
        # Serialised JSON of each record as last written, keyed by (table, doc id, rev). A record's rev goes up
        # with every change, so an unchanged rev means unchanged bytes, and a save re-serialises only what
        # changed. Emptied whenever the file is re-read, so an edit made outside kentsafe is never overwritten
        # with old bytes.
        self._fragments = Fragments()
        self._plans: dict[str, _Plan] = {}  # how the last save wrote each large table (see `_encode`)
        self._next_plans: dict[str, _Plan] = {}
        self.progress: Progress | None = None  # told how the reading of a large file is going
        # Called every 16 records while a file is parsed (about a millisecond of work): the app's reader
        # thread lets the screen's thread take the interpreter there (see `Store.load`).
        self.pause: Callable[[], None] | None = None
        # Set by a long-running reader (the app): each record of `table` is held as the `Stub` that `stub(record,
        # its bytes)` makes, decoded with `decoder`, instead of parsed in full (see `hold_lean`).
        self.lean: tuple[str, Callable[[Any, Any], Stub], Any] | None = None
        self.reading_ahead = False  # a newer file is being read beside the held data (see `read_ahead`)
        self.serve_held = False  # what is held answers reads until `refresh` (see `Store.read_in_background`)
        self.generation = 0  # bumped whenever the data in memory is replaced or changed
        self.migrated_from: int | None = None  # schema of the file on disk when older than ours
        self.raw_on_disk: bytes | None = None  # kept only while a migration is pending, for its backup

    # TinyDB's interface -------------------------------------------------------------------------------
    def read(self) -> dict[str, Any]:
        # Inside a transaction the data was made fresh by `begin`, under the lock: nothing else can change it.
        # While a newer file is being read ahead, what is held serves until it is taken (see `read_ahead`);
        # with `serve_held`, always, until `refresh` (a save still checks the file first: see `begin`).
        if self._data is None or (not self._in_transaction and not self.reading_ahead and not self.serve_held
                                  and self._disk_stamp() != self._stamp):
            self._load()
        assert self._data is not None
        return self._data

    def refresh(self) -> None:
        """Read the file if it is not what is held (whatever `serve_held` says)."""
        if self._data is None or (not self._in_transaction and self._disk_stamp() != self._stamp):
            self._load()

    def write(self, data: dict[str, Any]) -> None:
        if not self._in_transaction:
            raise RuntimeError("kentsafe writes only inside Store transactions, under the file lock")
        self._data = data
        self._dirty = True

    def close(self) -> None:
        self._data = None

    def stale(self) -> bool:
        """Whether the next read will read the file (not read yet, or changed since): one stat."""
        return self._data is None or self._disk_stamp() != self._stamp

    # Transactions, driven by the store -------------------------------------------------------------------
    def begin(self) -> None:
        """Start a transaction (the caller holds the file lock): make sure the data is the file's newest.

        The stat alone is not trusted here: an inode can be reused with the same size within one tick of the
        file clock. The write token at the head of the file settles it.
        """
        if self._data is None or self._disk_stamp() != self._stamp or not self._head_matches():
            self._load()
        self._in_transaction = True
        self._dirty = False

    def commit(self) -> None:
        try:
            if self._dirty and self._data is not None:
                self._backup_before_migration()
                token = secrets.token_hex(8)
                self._data = _stamped(self._data, token)
                payload, fragments = self._encode(self._data)
                mode, group = mode_for(self.path)
                old = _hold(self.path)
                try:
                    self._stamp = _stamp(atomic_write(self.path, payload, mode, group))
                finally:
                    _let_go(old)
                self._token = token
                self._fragments, self._plans = fragments, self._next_plans
                self.migrated_from = None
                self.raw_on_disk = None
                self.generation += 1
        except BaseException:
            self.rollback()
            raise
        finally:
            self._in_transaction = False
            self._dirty = False

    def rollback(self) -> None:
        """Forget changes made in memory: the next read comes from the file, the last good save."""
        if self._dirty:
            self._data = None
            self._stamp = None
            self.generation += 1
        self._in_transaction = False
        self._dirty = False

    # Internals ----------------------------------------------------------------------------------------
    def _encode(self, data: dict[str, Any]) -> tuple[list[Any], Fragments]:
        """The file's bytes, as json.dumps(data) gives them, in parts written one after another (never joined:
        joining copied the whole file once more). Unchanged records keep their bytes (as read or written), and
        a run of them that lies in the bytes read, one after another as here, is one slice of those bytes.

        A large table is gone through record by record once (the first save after a read); that pass leaves a
        `_Plan` of it, and later saves find the records replaced since by comparing the table's ids and record
        objects with the plan's in C (`map`, `compress`; a record is always replaced whole when it changes,
        never changed in place), handling only those one by one: about 1 ms instead of 20 at 10,000 records.

        The kept bytes are updated in place (a failed write is rolled back by reading the file again)."""
        old = fresh = self._fragments
        view = memoryview(old.raw) if old.raw is not None else None
        plans: dict[str, _Plan] = {}
        parts: list[Any] = [b"{"]  # bytes, and slices of the bytes last read
        for table_index, (name, table) in enumerate(data.items()):
            parts.append((b"," if table_index else b"") + _dumps(name) + b":{")
            plan = self._plans.get(name)
            done = self._planned(name, table, plan, old, fresh, view) if plan is not None else None
            if done is None:
                done, plan = self._record_by_record(name, table, old, fresh, view)
            parts += done
            if plan is not None:
                plans[name] = plan
            parts.append(b"}")
        parts.append(b"}")
        self._next_plans = plans
        return parts, fresh

    def _record_by_record(self, name: str, table: dict[str, Any], old: Fragments, fresh: Fragments,
                          view: memoryview | None) -> tuple[list[Any], _Plan | None]:
        parts: list[Any] = []
        plan = _Plan() if len(table) >= PLAN_FROM else None
        starts = old.starts
        run_start = run_end = -1  # a stretch of the bytes read, written as it is
        for position, (doc_id, doc) in enumerate(table.items()):
            head = _head_of(position, doc_id)
            fragment, key = _one(name, doc_id, doc, old, fresh)
            at = starts.get(key) if key is not None and old.get(key) is fragment else None
            if plan is not None:
                plan.add(doc_id, doc, -1 if at is None else at, -1 if at is None else at + len(fragment))
            if at is not None:
                assert view is not None
                if run_end >= 0 and at - run_end == len(head) and view[run_end:at] == head:
                    run_end = at + len(fragment)  # it follows on in the bytes read: the run grows
                    continue
                if plan is not None:
                    plan.breaks.append(position)
                if run_end >= 0:
                    parts.append(view[run_start:run_end])
                parts.append(head)
                run_start, run_end = at, at + len(fragment)
                continue
            if run_end >= 0:
                parts.append(view[run_start:run_end])  # type: ignore[index]
                run_start = run_end = -1
            parts += (head, fragment)
        if run_end >= 0:
            parts.append(view[run_start:run_end])  # type: ignore[index]
        return parts, plan

    def _planned(self, name: str, table: dict[str, Any], plan: _Plan, old: Fragments, fresh: Fragments,
                 view: memoryview | None) -> list[Any] | None:
        """The table's parts from its plan, or None if the plan does not fit it (records not where they were)."""
        ids = list(table)
        known = len(plan.ids)
        if len(ids) < known or ids[:known] != plan.ids or view is None:
            return None
        docs = list(table.values())
        changed = list(itertools.compress(range(known), map(operator.is_not, docs, plan.docs)))
        singles = set(changed).union(plan.loose, range(known, len(ids)))
        parts: list[Any] = []
        start = 0
        for position in [*sorted(singles.union(plan.breaks)), len(ids)]:
            if start < position:  # records start..position-1: one run of the bytes read
                parts += (_head_of(start, ids[start]), view[plan.starts[start]:plan.ends[position - 1]])
            if position == len(ids):
                break
            if position in singles:
                fragment, key = _one(name, ids[position], docs[position], old, fresh)
                parts += (_head_of(position, ids[position]), fragment)
                start = position + 1
            else:
                start = position  # a run of its own starts here
        for position in changed:
            was = _rev_of(plan.docs[position])
            if type(was) is int and was != _rev_of(docs[position]):
                fresh.pop((name, ids[position], was), None)  # bytes no record has any more
            plan.docs[position] = docs[position]
            plan.starts[position] = plan.ends[position] = -1
            plan.loose.add(position)
        for position in range(known, len(ids)):
            plan.add(ids[position], docs[position], -1, -1)
        return parts


    def _disk_stamp(self) -> Stamp | None:
        try:
            return _stamp(os.stat(self.path))
        except FileNotFoundError:
            return None

    def _head_matches(self) -> bool:
        if self._stamp is None:
            return self._disk_stamp() is None  # we hold "no file yet", and there is none
        if self._token is None:
            return False  # a file kentsafe has not written yet: re-read it every time to be safe
        expected = _head(self._token)
        try:
            with open(self.path, "rb") as handle:
                return handle.read(len(expected)) == expected
        except OSError:
            return False

    def _load(self) -> None:
        try:
            with open(self.path, "rb") as handle:
                stamp = _stamp(os.fstat(handle.fileno()))
                raw = handle.read()
        except FileNotFoundError:
            self._data, self._stamp, self._token = {}, None, None
            self.generation += 1
            return
        except (IsADirectoryError, PermissionError) as problem:
            raise _unreadable(self.path, problem) from None
        held = self._read_lean(raw) if self.lean is not None else None
        data, fragments = held if held is not None else self._parse(raw)
        replaced = self._fragments
        self._fragments, self._plans = Fragments(), {}
        drop_gently(replaced, self.pause)
        version = schema_of(data)
        if version > SCHEMA_VERSION:
            raise _newer(self.path, version)
        if version < SCHEMA_VERSION:
            migrate = self._migrate()
            if migrate is None:
                raise StoreError(f"{self.path} has schema {version} and needs migrating")
            data = migrate(data, version)
            self.migrated_from, self.raw_on_disk = version, raw
        else:
            self.migrated_from, self.raw_on_disk = None, None
            self._fragments = fragments  # a migrated file's records change: none of its bytes are reused
            self._plans = fragments.large_plans()
        self._data, self._stamp = data, stamp
        meta = data.get(META_TABLE, {}).get(META_ID)
        self._token = meta.get("write_id") if isinstance(meta, dict) else None
        self.generation += 1

    def _parse(self, raw: bytes) -> tuple[dict[str, Any], Fragments]:
        if not raw.strip():
            return {}, Fragments()
        try:
            data, fragments = parse(raw, self.progress, self.pause)
        except (ValueError, RecursionError) as problem:
            raise self._damage(problem) from None
        try:
            schema_of(data)
        except CorruptDatabase as problem:
            raise CorruptDatabase(f"{self.path}: {problem}; it has not been touched") from None
        return data, fragments

    def _damage(self, problem: ValueError | RecursionError) -> CorruptDatabase:
        """The one line saying why the file could not be parsed."""
        if isinstance(problem, RecursionError):
            return CorruptDatabase(f"{self.path} is damaged: nested too deeply; it has not been touched. "
                                   "Restore it from a backup")
        if str(problem) == "not UTF-8 text":
            return CorruptDatabase(f"{self.path} is not a kentsafe database (not UTF-8 text); it has not been touched")
        if str(problem) == "not a TinyDB database":
            return CorruptDatabase(f"{self.path} is not a TinyDB database; it has not been touched")
        return CorruptDatabase(
            f"{self.path} is damaged: {str(problem)[:100]}; it has not been touched. Restore it from a backup"
        )

    def read_ahead(self, pause: Callable[[], None] | None) -> tuple[Stamp, dict[str, Any], Fragments] | None:
        """The file as it is now, read and held lean (see `lean`), without touching what is held: for a reader
        beside the screen's thread, which then `take`s it under the store's lock, so nothing that needs the
        data waits for the parse. None where the usual read must do it (not lean, no file, an older schema);
        damage raises as the usual read raises it."""
        if self.lean is None:
            return None
        try:
            with open(self.path, "rb") as handle:
                stamp = _stamp(os.fstat(handle.fileno()))
                raw = handle.read()
        except FileNotFoundError:
            return None
        except (IsADirectoryError, PermissionError) as problem:
            raise _unreadable(self.path, problem) from None
        held = self._read_lean(raw, pause)
        return None if held is None else (stamp, *held)

    def take(self, ahead: tuple[Stamp, dict[str, Any], Fragments]) -> Fragments | None:
        """Hold what `read_ahead` read, if the file is still the one it read (a save since, ours or another
        DSL's, replaced it: the usual read follows). The replaced bytes are returned, to be let go of gently
        (see `drop_gently`), or None if it was not taken."""
        stamp, data, fragments = ahead
        if self._in_transaction or self._disk_stamp() != stamp:
            return None
        replaced = self._fragments
        replaced.data = self._data  # the records read from it, let go of with it
        self._data, self._stamp, self._fragments = data, stamp, fragments
        self._plans = fragments.large_plans()
        self.migrated_from, self.raw_on_disk = None, None
        meta = data.get(META_TABLE, {}).get(META_ID)
        self._token = meta.get("write_id") if isinstance(meta, dict) else None
        self.generation += 1
        return replaced

    def _read_lean(self, raw: bytes, pause: Callable[[], None] | None = None) -> tuple[dict[str, Any], Fragments] | None:
        """The tables, each record of the lean table held as its `Stub` (see `lean`); None where the file must
        be read in full (an older schema to migrate, no kentsafe header first, a record without a revision).
        Every record is still decoded in full, so damage is refused as a full read refuses it."""
        assert self.lean is not None
        if not raw.strip():
            return None
        table, stub, decoder = self.lean
        try:
            reader = _read(raw, lambda raw: _paused(_Lean(table, lambda tables: stub, decoder, self.progress, raw),
                                                    pause or self.pause), freeze=True)
            streamable(reader.data)
        except NotStreamable:
            return None
        except (ValueError, RecursionError) as problem:
            raise self._damage(problem) from None
        return reader.data, reader.fragments

    def full(self, table: str, doc_id: str, doc: Any) -> Any:
        """A record as parsed in full: decoded afresh from its bytes if it is held as a `Stub`."""
        if not isinstance(doc, Stub):
            return doc
        return _DOCUMENT.decode(self.bytes_of(table, doc_id, doc))

    def bytes_of(self, table: str, doc_id: str, stub: Stub) -> Any:
        """A `Stub`'s bytes, as read or last written."""
        key = _fragment_key(table, doc_id, stub)
        fragment = self._fragments.get(key) if key else None
        if fragment is None:  # never: a stub is made only with its bytes (see `_Lean`)
            raise RuntimeError(f"record {doc_id} is held without its bytes; read the file again")
        return fragment

    def load_lean(self, table: str, stub: Callable[[Any, Any], Stub], decoder: Any = None) -> None:
        """Hold the file with each record of `table` as the `Stub` that `stub(record, its bytes)` makes of it,
        keeping the record's bytes to write back as they are: for a change that only adds records (import), in
        about the memory of the file instead of 4.3 times it. Every record is still decoded in full (with
        `decoder`), so damage is refused as a full read refuses it. Raises NotStreamable where the file must
        be read as usual (see `scan`). Whoever uses this must `close` the storage when done: the stubs are
        not records."""
        try:
            with open(self.path, "rb") as handle:
                stamp = _stamp(os.fstat(handle.fileno()))
                raw = handle.read()
        except FileNotFoundError:
            raise NotStreamable from None
        except (IsADirectoryError, PermissionError) as problem:
            raise _unreadable(self.path, problem) from None
        if not raw.strip():
            raise NotStreamable
        decoder = decoder or _DOCUMENT
        try:
            reader = _read(raw, lambda raw: _Lean(table, lambda tables: stub, decoder, self.progress, raw),
                           freeze=True)
        except (ValueError, RecursionError) as problem:
            raise self._damage(problem) from None
        streamable(reader.data)
        self._data, self._stamp, self._fragments = reader.data, stamp, reader.fragments
        self._plans = reader.fragments.large_plans()
        self.migrated_from, self.raw_on_disk = None, None
        meta = reader.data.get(META_TABLE, {}).get(META_ID)
        self._token = meta.get("write_id") if isinstance(meta, dict) else None
        self.generation += 1

    def scan(self, table: str, start: Callable[[dict[str, Any]], Visit],
             decoder: Any = None) -> tuple[Visit, dict[str, Any]]:
        """Read the file now, handing each document of `table` to a visitor made by `start`, with its bytes,
        instead of keeping it: for commands that read every record once, in the memory of the file and the
        records being worked on (holding every record parsed took 4.3 times the file). `decoder` (msgspec,
        default: every field) decodes the records; a typed one reads only the fields it names, much faster,
        and leaves checking the rest to whoever decodes those bytes again.

        Returns the visitor and the other tables. Raises NotStreamable when the file must be read whole as
        usual (an older schema to migrate, no kentsafe header before the records, a table named twice, a record
        that is not an object); damage raises CorruptDatabase as a full read does. The data held in memory is
        not touched."""
        try:
            with open(self.path, "rb") as handle:
                raw = handle.read()
        except FileNotFoundError:
            return start({}), {}
        except (IsADirectoryError, PermissionError) as problem:
            raise _unreadable(self.path, problem) from None
        if not raw.strip():
            return start({}), {}
        decoder = decoder or _DOCUMENT
        try:
            reader = _read(raw, lambda raw: _Streamer(table, start, decoder, self.progress), freeze=False)
        except (ValueError, RecursionError) as problem:
            raise self._damage(problem) from None
        assert isinstance(reader, _Streamer)
        streamable(reader.data)
        return reader.visit, reader.data

    def _backup_before_migration(self) -> None:
        if self.migrated_from is None or self.raw_on_disk is None:
            return
        stamp = self._stamp[3] if self._stamp else 0
        backup = self.path.with_name(f"{self.path.name}.schema{self.migrated_from}-backup-{stamp}")
        mode, group = mode_for(self.path)
        atomic_write(backup, self.raw_on_disk, mode, group)
