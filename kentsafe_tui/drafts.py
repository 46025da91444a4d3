"""Unsaved work kept beside the database, so a dropped SSH line or a crash loses nothing typed.

Each running kentsafe keeps at most one draft: ``.<database name>.draft-<user>-<pid>.json`` in the database's
folder, written atomically with the database's own permissions (it holds the same kind of text). When the
app ends normally its draft goes. A draft whose process is gone was left by a drop or a crash, and the next
start by the same user offers it back.

Typing the DSL chose to drop for another DSL's version ("Reload theirs") is set aside the same way, as
``...-<pid>-aside-<n>.json``: it stays until restored or discarded ("Restore unsaved work").
"""

from __future__ import annotations

import json
import os
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .dates import now_local, to_iso
from .fileio import atomic_write, ensure_folder, mode_for
from .history import diff
from .model import DEFAULT_LIMIT
from .quick_entry import KINDS
from .text import clean

LINE_LIMIT = DEFAULT_LIMIT  # no row's fields together are longer than the record's longest field


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "_", name)[:60] or "user"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass
class Draft:
    path: Path
    saved_at: str
    incident_id: str | None
    base: dict[str, Any] | None
    edited: dict[str, Any]
    lines: dict[str, str] = field(default_factory=dict)  # quick-entry lines typed and not yet added

    def remove(self) -> None:
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass

    def preview(self, limit: int = 300) -> str:
        """What the draft holds, in a few words, so a DSL can tell whether it is worth restoring."""
        parts = []
        for key, (_, new) in diff(self.base or {}, self.edited).items():
            if key.startswith("checklist") or key in ("id", "created_at", "created_by", "concern_at"):
                continue
            if isinstance(new, str) and new.strip():
                parts.append(f"{key.replace('_', ' ')}: {new.strip()}")
            elif isinstance(new, list) and new:
                parts.append(f"{key}: {len(new)} row(s)")
        parts += [f"{name} line: {line}" for name, line in self.lines.items()]
        text = "; ".join(parts) or "(no text typed)"
        return text if len(text) <= limit else text[:limit] + "…"


class Drafts:
    def __init__(self, db_path: Path, user: str, pid: int | None = None):
        self.db_path = Path(db_path)
        self.user = _safe(user)
        self.pid = pid or os.getpid()
        self.path = self.db_path.parent / f".{self.db_path.name}.draft-{self.user}-{self.pid}.json"
        # The app writes drafts in a thread (an fsync on a busy disk held the screen): a draft taken before
        # a clear must never be left after it, or a saved incident would be offered back as unsaved work.
        # A clear never waits for a write (the screen calls it): it counts, and the write looks again after.
        self._writing = threading.Lock()  # one writer at a time: the thread, or a hang-up's last draft
        self.generation = 0  # one more at every clear

    def save(self, edited: dict[str, Any], base: dict[str, Any] | None, lines: dict[str, str] | None = None,
             *, taken_at: int | None = None) -> bool:
        """Keep the form as it is now, with any quick-entry line typed and not yet added. With `taken_at` (the
        generation when the form was copied), a draft cleared since is not written, or is removed once
        written: False. Raises fileio.WriteFailed if the disk refuses."""
        with self._writing:
            if taken_at is not None and taken_at != self.generation:
                return False
            self._write(edited, base, lines)
            if taken_at is not None and taken_at != self.generation:  # cleared while it was being written
                self._remove()
                return False
            return True

    def _write(self, edited: dict[str, Any], base: dict[str, Any] | None, lines: dict[str, str] | None) -> None:
        ensure_folder(self.db_path.parent)  # 0700 whatever the umask, as the store makes it
        payload = {
            "saved_at": to_iso(now_local()),
            "incident_id": (base or {}).get("id") or None,
            "base": base,
            "edited": edited,
            "lines": lines or {},
        }
        mode, group = mode_for(self.db_path)
        atomic_write(self.path, json.dumps(payload, ensure_ascii=False).encode(), mode, group)

    def set_aside(self, edited: dict[str, Any], base: dict[str, Any] | None) -> Path:
        """Keep typing that is being replaced on screen, where "Restore unsaved work" finds it."""
        number = 1
        while (path := self.path.with_name(f"{self.path.stem}-aside-{number}.json")).exists():
            number += 1
        keeper = Drafts(self.db_path, self.user, self.pid)
        keeper.path = path
        keeper.save(edited, base)
        return path

    def clear(self) -> None:
        self.generation += 1  # first: a write under way then removes what it wrote (see save)
        self._remove()

    def _remove(self) -> None:
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass

    def left_behind(self, aside: bool = True) -> list[Draft]:
        """Drafts of this user whose kentsafe is no longer running, and typing set aside (with `aside`),
        newest first."""
        pattern = re.compile(
            rf"^\.{re.escape(self.db_path.name)}\.draft-{re.escape(self.user)}-(\d+)(-aside-\d+)?\.json$")
        found = []
        try:
            names = os.listdir(self.db_path.parent)
        except OSError:
            return []
        for name in names:
            match = pattern.match(name)
            if not match:
                continue
            if match.group(2):
                if not aside:
                    continue
            elif int(match.group(1)) == self.pid or _alive(int(match.group(1))):
                continue
            path = self.db_path.parent / name
            try:
                payload = json.loads(path.read_text(encoding="utf-8"))
                found.append(Draft(path, payload["saved_at"], payload.get("incident_id"), payload.get("base"),
                                   payload["edited"], _lines(payload.get("lines"))))
            except (OSError, ValueError, KeyError, TypeError):
                continue  # a damaged draft is left where it is, for someone to look at
        return sorted(found, key=lambda draft: draft.saved_at, reverse=True)


def _lines(carried: Any) -> dict[str, str]:
    """Quick lines from a draft file (which anyone with write access to the folder could have planted): only
    the four lists, only text, cleaned and no longer than a line can be."""
    if not isinstance(carried, dict):
        return {}
    return {name: " ".join(clean(value).split())[:LINE_LIMIT] for name, value in carried.items()
            if name in KINDS and isinstance(value, str) and clean(value).strip()}
