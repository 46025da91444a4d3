"""Shared pieces for the Pilot tests and the snapshot tests: building the app, reading what reached the file."""

from __future__ import annotations

import os
import shutil
from datetime import date, datetime
from pathlib import Path

from rich.text import Text
from textual.widget import Widget

from kentsafe_tui.app import KentsafeApp
from kentsafe_tui.content import Library
from kentsafe_tui.drafts import Drafts
from kentsafe_tui.model import Incident
from kentsafe_tui.screens.main import Context, MainScreen
from kentsafe_tui.store import Store

WIDE = (160, 45)
NARROW = (80, 24)
USER = "Alice DSL"
SNAPSHOT_ROOT = Path("/tmp/kentsafe-snapshots")


def make_store(db_path: Path, library: Library, clock, user: str = USER) -> Store:
    return Store(db_path, user=user, checklist_for=library.checklist_for, clock=clock)


def make_app(store: Store, library: Library, today: date | None = None) -> KentsafeApp:
    today = today or store._clock().date()
    return KentsafeApp(Context(store=store, library=library, drafts=Drafts(store.path, store.user), today=today))


def reread(db_path: Path, incident_id: str) -> Incident:
    """The record as a fresh process would read it from the file."""
    return Store(db_path).get(incident_id)


def main_screen(app: KentsafeApp) -> MainScreen:
    main = app.main
    assert main is not None, f"no main screen; the stack is {app.screen_stack}"
    return main


def q(app: KentsafeApp, selector: str, kind: type[Widget] | None = None):
    """A widget on the main screen, whatever dialog is on top."""
    screen = main_screen(app)
    return screen.query_one(selector, kind) if kind else screen.query_one(selector)


def rendered_text(widget: Widget) -> str:
    """What a Static shows, as plain text."""
    content = widget.render()
    if isinstance(content, Text):
        return content.plain
    return str(getattr(content, "plain", content))


def draft_files(db_path: Path) -> list[Path]:
    return sorted(db_path.parent.glob(f".{db_path.name}.draft-*.json"))


def snapshot_db(name: str) -> Path:
    """A database path that is the same on every run, because the top bar and the help screen show it."""
    folder = SNAPSHOT_ROOT / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, mode=0o700)
    os.chmod(folder, 0o700)
    return folder / "records.json"


def fixed(year: int, month: int, day: int, hour: int, minute: int) -> str:
    """A concern time in London time, as the store keeps it."""
    return datetime(year, month, day, hour, minute).astimezone().isoformat(timespec="seconds")
