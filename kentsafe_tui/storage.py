"""The TinyDB storage under kentsafe: parsed once, re-read only when the file changes, written atomically.

TinyDB's own JSONStorage re-reads and re-parses the whole file on every operation and rewrites it in place,
truncating last; a process killed mid-write leaves a file that no longer opens. This storage keeps the parsed
data in memory, checks the file's identity (device, inode, size, modification time) before trusting it, and
writes through `fileio.atomic_write`. Writes only happen inside a transaction the store opens while holding
the file lock, so every write is one read-modify-write of the newest data.
"""

from __future__ import annotations

import json
import os
import re
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tinydb.storages import Storage

from .fileio import atomic_write, mode_for

SCHEMA_VERSION = 1
META_TABLE = "_meta"
META_ID = "1"

Stamp = tuple[int, int, int, int]


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


def _stamp(result: os.stat_result) -> Stamp:
    return (result.st_dev, result.st_ino, result.st_size, result.st_mtime_ns)


class AtomicJSONStorage(Storage):
    """See the module docstring. `migrate` turns data of an older schema into the current one, in memory."""

    def __init__(self, path: str, migrate: Callable[[dict[str, Any], int], dict[str, Any]] | None = None):
        self.path = Path(path)
        self._migrate = migrate
        self._data: dict[str, Any] | None = None
        self._stamp: Stamp | None = None
        self._in_transaction = False
        self._dirty = False
        self._token: str | None = None  # the write_id of the file we hold in memory
        # Serialised JSON of each record as last written, keyed by (table, doc id, rev). A record's rev goes up
        # with every change, so an unchanged rev means unchanged bytes, and a save re-serialises only what
        # changed. Emptied whenever the file is re-read, so an edit made outside kentsafe is never overwritten
        # with old bytes.
        self._fragments: dict[tuple[str, str, int], bytes] = {}
        self.generation = 0  # bumped whenever the data in memory is replaced or changed
        self.migrated_from: int | None = None  # schema of the file on disk when older than ours
        self.raw_on_disk: bytes | None = None  # kept only while a migration is pending, for its backup

    # TinyDB's interface -------------------------------------------------------------------------------
    def read(self) -> dict[str, Any]:
        # Inside a transaction the data was made fresh by `begin`, under the lock: nothing else can change it.
        if self._data is None or (not self._in_transaction and self._disk_stamp() != self._stamp):
            self._load()
        assert self._data is not None
        return self._data

    def write(self, data: dict[str, Any]) -> None:
        if not self._in_transaction:
            raise RuntimeError("kentsafe writes only inside Store transactions, under the file lock")
        self._data = data
        self._dirty = True

    def close(self) -> None:
        self._data = None

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
                self._stamp = _stamp(atomic_write(self.path, payload, mode, group))
                self._token = token
                self._fragments = fragments
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
    def _encode(self, data: dict[str, Any]) -> tuple[bytes, dict[tuple[str, str, int], bytes]]:
        """The file's bytes, exactly as json.dumps(data) would give them, reusing unchanged records' bytes."""
        fresh: dict[tuple[str, str, int], bytes] = {}
        parts: list[bytes] = [b"{"]
        for table_index, (name, table) in enumerate(data.items()):
            parts.append((b"," if table_index else b"") + _dumps(name) + b":{")
            for doc_index, (doc_id, doc) in enumerate(table.items()):
                rev = doc.get("rev") if isinstance(doc, dict) else None
                key = (name, doc_id, rev) if isinstance(rev, int) and not isinstance(rev, bool) else None
                fragment = self._fragments.get(key) if key else None
                if fragment is None:
                    fragment = _dumps(doc)
                if key:
                    fresh[key] = fragment
                label = f'"{doc_id}":'.encode() if doc_id.isdigit() else _dumps(doc_id) + b":"
                parts.append((b"," if doc_index else b"") + label + fragment)
            parts.append(b"}")
        parts.append(b"}")
        return b"".join(parts), fresh

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
        data = self._parse(raw)
        self._fragments = {}
        version = schema_of(data)
        if version > SCHEMA_VERSION:
            raise _newer(self.path, version)
        if version < SCHEMA_VERSION:
            if self._migrate is None:
                raise StoreError(f"{self.path} has schema {version} and needs migrating")
            data = self._migrate(data, version)
            self.migrated_from, self.raw_on_disk = version, raw
        else:
            self.migrated_from, self.raw_on_disk = None, None
        self._data, self._stamp = data, stamp
        meta = data.get(META_TABLE, {}).get(META_ID)
        self._token = meta.get("write_id") if isinstance(meta, dict) else None
        self.generation += 1

    def _parse(self, raw: bytes) -> dict[str, Any]:
        if not raw.strip():
            return {}
        try:
            data = json.loads(raw, parse_constant=_not_json)  # NaN and Infinity are not JSON: refused
        except UnicodeDecodeError:
            raise CorruptDatabase(f"{self.path} is not a kentsafe database (not UTF-8 text); it has not been touched") from None
        except json.JSONDecodeError as problem:
            raise CorruptDatabase(
                f"{self.path} is damaged: not valid JSON (line {problem.lineno}, column {problem.colno}: "
                f"{problem.msg}); it has not been touched. Restore it from a backup"
            ) from None
        except (ValueError, RecursionError) as problem:
            raise CorruptDatabase(f"{self.path} is damaged: {str(problem)[:100]}; it has not been touched. "
                                  "Restore it from a backup") from None
        if not isinstance(data, dict) or not all(isinstance(table, dict) for table in data.values()):
            raise CorruptDatabase(f"{self.path} is not a TinyDB database; it has not been touched")
        try:
            schema_of(data)
        except CorruptDatabase as problem:
            raise CorruptDatabase(f"{self.path}: {problem}; it has not been touched") from None
        return data

    def _backup_before_migration(self) -> None:
        if self.migrated_from is None or self.raw_on_disk is None:
            return
        stamp = self._stamp[3] if self._stamp else 0
        backup = self.path.with_name(f"{self.path.name}.schema{self.migrated_from}-backup-{stamp}")
        mode, group = mode_for(self.path)
        atomic_write(backup, self.raw_on_disk, mode, group)
