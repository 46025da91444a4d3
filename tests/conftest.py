"""Shared fixtures. Every test runs in London time with its own data folders, never the user's real ones."""

from __future__ import annotations

import asyncio
import json
import os
import time
from datetime import datetime
from pathlib import Path

import pytest
from textual.pilot import Pilot

os.environ["TZ"] = "Europe/London"
time.tzset()

from kentsafe_tui.content import Library  # noqa: E402
from kentsafe_tui.model import Incident, Pupil  # noqa: E402
from kentsafe_tui.store import Store  # noqa: E402

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def private_environment(tmp_path_factory, monkeypatch):
    """Keep the real database, the user's content and colour settings out of every test."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    for name in ("KENTSAFE_DB", "KENTSAFE_CONTENT", "KENTSAFE_USER", "NO_COLOR"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(autouse=True)
def pilot_waits_for_saves(monkeypatch):
    """A save writes in the background while typing goes on (see EditingFlows._save), as a DSL sees "Saved"
    a moment after ctrl+s. A test's press or pause waits for it to end too, as it waits for the screen, so what
    follows reads the saved file. A test of typing during a save sets `app.pilot_waits_for_saves = False`."""
    settle = Pilot._wait_for_screen

    async def waiting(self, timeout: float = 30.0) -> bool:
        settled = await settle(self, timeout)
        app = self.app
        if not getattr(app, "holding", 0) or not getattr(app, "pilot_waits_for_saves", True):
            return settled
        deadline = time.monotonic() + timeout
        while app.holding and time.monotonic() < deadline:
            await asyncio.sleep(0.002)
        return await settle(self, timeout)

    monkeypatch.setattr(Pilot, "_wait_for_screen", waiting)


@pytest.fixture(scope="session")
def library() -> Library:
    return Library.default()


@pytest.fixture
def db_path(tmp_path) -> Path:
    return tmp_path / "school" / "records.json"


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, start: datetime):
        self.now = start

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 11, 28, 9, 30).astimezone())


@pytest.fixture
def store(db_path, library, clock) -> Store:
    return Store(db_path, user="Alice DSL", checklist_for=library.checklist_for, clock=clock)


def make_incident(summary: str = "Video shared in a Year 9 group chat", **fields) -> Incident:
    incident = Incident(summary=summary, **fields)
    if "pupils" not in fields:
        incident.pupils = [Pupil(name="Sam Example", year_group="9", role="received")]
    return incident


def write_older_file(db_path) -> bytes:
    """A database of schema 0 (one record logged before history was kept), as a file; its bytes."""
    db_path.parent.mkdir(parents=True)
    original = json.dumps({"incidents": {"1": {"summary": "Logged before history was kept",
                                                "concern_at": "2026-10-01T09:00:00+01:00"}}}).encode()
    db_path.write_bytes(original)
    os.chmod(db_path, 0o600)
    return original
