"""What the DSL sees, as SVG snapshots (pytest-textual-snapshot). Update with `--snapshot-update`, then look.

Everything shown must be the same on every run and every machine: the clock is fixed (Sat 28 Nov 2026, 09:30
London time) for the store, the guidance's "today" and oversight; the database and the guidance live under
/tmp/kentsafe-snapshots (the top bar and help show both paths); the login name is fixed.
"""

from __future__ import annotations

import copy
import shutil
from datetime import timedelta

import pytest

from kentsafe_tui.content import Library, builtin_content_dir
from kentsafe_tui.model import Pupil

from .app_helpers import NARROW, SNAPSHOT_ROOT, WIDE, fixed, make_app, make_store, snapshot_db
from .conftest import make_incident


@pytest.fixture(scope="session")
def snapshot_library() -> Library:
    folder = SNAPSHOT_ROOT / "content"
    shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(builtin_content_dir(), folder)
    return Library.load(folder)


@pytest.fixture
def steady(monkeypatch, clock):
    """The machine's login and the wall clock, as oversight and the help screen would otherwise show them."""
    monkeypatch.setattr("kentsafe_tui.store.login_name", lambda: "dsl")
    monkeypatch.setattr("kentsafe_tui.screens.reading.now_local", lambda: clock.now)
    return clock


@pytest.fixture
def build(request, steady, snapshot_library):
    """An app on a fresh database named after the test; returns (app, store)."""

    def make(seed=None):
        store = make_store(snapshot_db(request.node.name), snapshot_library, steady)
        if seed:
            seed(store)
        return make_app(store, snapshot_library, today=steady.now.date()), store

    return make


def seed_incidents(store) -> None:
    first = store.create(make_incident(
        "Video shared in a Year 9 group chat", concern_at=fixed(2026, 11, 26, 15, 40),
        details="A tutor was told at break that a violent clip is going round the Year 9 chat.",
        pupils=[Pupil(name="Sam Example", year_group="9", role="received"),
                Pupil(name="Ava Jones", year_group="9", role="disclosed")],
    ))
    store.create(make_incident(
        "Unkind messages on a gaming server", concern_at=fixed(2026, 11, 20, 12, 5), category="online_bullying",
        pupils=[Pupil(name="Noah Smith", year_group="7", role="harmed")],
    ))
    third = store.create(make_incident(
        "Parent worried about a viral challenge", concern_at=fixed(2026, 10, 2, 9, 0), scope="no_direct_impact",
    ))
    for item in first.checklist[:3]:
        store.set_item(first.id, item.id, "done")
    store.set_item(first.id, first.checklist[3].id, "not_applicable", "No device involved")
    closed = copy.deepcopy(store.get(third.id))
    closed.status, closed.outcome = "closed", "Letter sent to parents; nothing further"
    store.save(closed, store.get(third.id))


async def complete(pilot) -> None:
    """What arrives at the first pause in the typing (the lower form, the rest of the guidance), there now:
    a snapshot must not depend on when the pause came."""
    await pilot.pause()
    await pilot.app.main.complete_now()
    await pilot.pause()


def then_complete(run_before):
    async def run(pilot) -> None:
        await run_before(pilot)
        await complete(pilot)

    return run


async def open_first(pilot) -> None:
    await pilot.pause()
    await pilot.press("ctrl+o")
    await pilot.pause()
    await pilot.press(*"group chat", "enter")
    await pilot.pause()


def test_new_incident_at_80x24(build, snap_compare):
    app, _ = build()
    assert snap_compare(app, terminal_size=NARROW, run_before=complete)


def test_new_incident_at_160x45(build, snap_compare):
    app, _ = build()
    assert snap_compare(app, terminal_size=WIDE, run_before=complete)


def test_filled_incident_with_ticked_items_at_160x45(build, snap_compare):
    app, _ = build(seed_incidents)
    assert snap_compare(app, terminal_size=WIDE, run_before=then_complete(open_first))


def test_checklist_pane_at_80x24(build, snap_compare):
    app, _ = build(seed_incidents)

    async def then_checklist(pilot):
        await open_first(pilot)
        await pilot.press("f4", "down", "down", "down")

    assert snap_compare(app, terminal_size=NARROW, run_before=then_complete(then_checklist))


def once_read(*keys: str):
    """Press the keys once the records have been read (the list and oversight wait for that read, and say so
    if it takes a moment: a notice that would otherwise be in the picture on a slow machine)."""

    async def run_before(pilot) -> None:
        for _ in range(600):
            screen = pilot.app.screen
            if getattr(screen, "context", None) is not None and screen.context.store.loaded and screen.welcomed:
                break
            await pilot.pause(0.05)
        await pilot.press(*keys)

    return run_before


def test_incident_list_at_80x24(build, snap_compare):
    app, _ = build(seed_incidents)
    assert snap_compare(app, terminal_size=NARROW, run_before=then_complete(once_read("ctrl+o")))


def test_help_at_160x45(build, snap_compare):
    app, _ = build()
    assert snap_compare(app, terminal_size=WIDE, run_before=complete, press=["f1"])


def test_quit_dialog_at_80x24(build, snap_compare):
    app, _ = build()
    assert snap_compare(app, terminal_size=NARROW, run_before=complete, press=[*"Rumour of a video", "ctrl+q"])


def test_conflict_dialog_at_80x24(build, snap_compare, snapshot_library, steady):
    app, store = build(seed_incidents)

    async def conflict(pilot):
        await open_first(pilot)
        details = pilot.app.screen.query_one("#f-details")
        details.focus()
        details.move_cursor(details.document.end)  # "end" only reaches the end of the wrapped line
        await pilot.pause()
        await pilot.press(*" Two pupils saw it.")
        bob = make_store(store.path, snapshot_library, steady, user="Bob DSL")
        base = bob.get("2026-0001")
        edited = copy.deepcopy(base)
        edited.follow_up = "Bob phoned both families"
        steady.now += timedelta(minutes=2)
        bob.save(edited, base)
        await pilot.press("ctrl+s")
        await pilot.pause()

    assert snap_compare(app, terminal_size=NARROW, run_before=then_complete(conflict))


def test_oversight_at_160x45(build, snap_compare):
    app, _ = build(seed_incidents)
    assert snap_compare(app, terminal_size=WIDE, run_before=then_complete(once_read("f6")))
