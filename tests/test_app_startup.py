"""Opening the app on a database that is large, damaged or from a newer kentsafe."""

import json
import re
import time

import pytest

from kentsafe_tui.app import KentsafeApp
from kentsafe_tui.cli import main
from kentsafe_tui.content import Library
from kentsafe_tui.drafts import Drafts
from kentsafe_tui.screens.main import Context
from kentsafe_tui.storage import CorruptDatabase, NewerSchema
from kentsafe_tui.store import Store

from .conftest import make_incident


async def read(pilot, done) -> None:
    """Until `done()`: the records are read from a moment after the first frame (READ_AFTER_FIRST_FRAME)."""
    for _ in range(200):
        if done():
            return
        await pilot.pause(0.05)


def app_on(path, library: Library) -> KentsafeApp:
    store = Store(path, user="Alice DSL", checklist_for=library.checklist_for, read_now=False)
    return KentsafeApp(Context(store=store, library=library, drafts=Drafts(store.path, store.user)))


async def test_the_records_are_read_after_the_screen_is_up(db_path, library):
    Store(db_path, user="Alice").create(make_incident("Already recorded"))
    app = app_on(db_path, library)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await app.workers.wait_for_complete()
        assert app.context.store.count() == 1
        await pilot.press("ctrl+o")
        await pilot.pause()
        assert app.screen.query_one("#list-rows").option_count == 1


async def test_the_app_holds_records_lean_and_opens_and_saves_them_as_read(db_path, library):
    """The app holds each record by its summary and bytes (1.4 times the file at 50,000, not 5.2): the list,
    an incident opened from it and a save work on what is read from those bytes."""
    from kentsafe_tui.storage import Stub

    first = Store(db_path, user="Alice").create(make_incident("Already recorded"))
    app = app_on(db_path, library)
    async with app.run_test(size=(120, 40)) as pilot:
        store = app.context.store
        await read(pilot, lambda: store.loaded)
        await app.workers.wait_for_complete()
        assert store.loaded
        assert all(isinstance(doc, Stub) for doc in store._storage._data["incidents"].values())
        await pilot.press("ctrl+o")
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        assert app.main.session.base.id == first.id
        assert app.main.session.base.to_dict() == Store(db_path).get(first.id).to_dict()
        app.main.form.query_one("#f-outcome").text = "Parents told; no further action"
        await pilot.press("ctrl+s")
        await app.workers.wait_for_complete()
        await pilot.pause()
    saved = Store(db_path).get(first.id)
    assert saved.outcome == "Parents told; no further action"
    assert Store(db_path).verify() == []


async def test_waiting_to_welcome_says_nothing_while_the_records_are_read(db_path, library, monkeypatch):
    """Nobody asked for the welcome: the note "Reading the records" that comes and goes (two full redraws
    while a large file is read) is only for what a DSL asked for."""
    from kentsafe_tui.screens import records

    Store(db_path, user="Alice").create(make_incident("Already recorded"))
    app = app_on(db_path, library)
    said = []
    app.notify = lambda message, *args, **kwargs: said.append(str(message))
    store = app.context.store
    loaded = type(store).loaded
    slow = {"turns": 0}

    def slowly(self):  # the read takes more than a second (30 turns of the wait)
        slow["turns"] += 1
        return slow["turns"] > 30 and loaded.fget(self)

    monkeypatch.setattr(type(store), "loaded", property(slowly))
    async with app.run_test(size=(120, 40)) as pilot:
        while not app.main.welcomed:
            await pilot.pause(0.05)
    assert slow["turns"] > 30
    assert not [message for message in said if "Reading the records" in message]
    assert records.RecordsInBackground.records_ready.__kwdefaults__ == {"say": True}  # asked-for waits say so


async def test_a_key_marks_the_screen_busy_until_its_frame_is_drawn(db_path, library):
    """The reader stands aside while `answering_key` holds: set when a key arrives, cleared once every key
    held has been handed on and the screen refreshed."""
    app = app_on(db_path, library)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert app.answering_key is False
        seen = []
        original = app._deliver_keys

        async def deliver():
            seen.append(app.answering_key)
            await original()

        app._deliver_keys = deliver
        await pilot.press("a")
        await pilot.pause()
        await pilot.pause()
        # Busy at each delivery: once, or again when work queued on the app (something at a pause, say the
        # incident list made ready) goes first, as such work does.
        assert seen and all(seen), seen
        assert app.answering_key is False
        app._key_arrived = time.monotonic() - 1  # a key whose frame never came: the reader waits no more
        assert app.answering_key is False


async def test_a_database_found_damaged_after_start_ends_the_app_with_one_line(db_path, library):
    db_path.parent.mkdir(parents=True)
    db_path.write_text('{"_meta": {"1": {"schema": 1}}, "incidents": {"1": ')  # cut off mid-write by hand
    before = db_path.read_bytes()
    app = app_on(db_path, library)
    async with app.run_test(size=(120, 40)) as pilot:
        # Until the app leaves (its workers are then cancelled: nothing more to wait for).
        await read(pilot, lambda: app.return_code is not None)
    assert app.return_code == 1
    assert "not valid JSON" in app.stop_reason
    assert "\n" not in app.stop_reason
    assert db_path.read_bytes() == before


def test_a_newer_database_is_refused_before_the_screen_appears(db_path):
    Store(db_path, user="Alice").create(make_incident())
    data = json.loads(db_path.read_text())
    data["_meta"]["1"]["schema"] = 9
    db_path.write_text(json.dumps(data, separators=(",", ":")))
    with pytest.raises(NewerSchema):
        Store(db_path, read_now=False)
    db_path.write_text("not json at all")
    with pytest.raises(CorruptDatabase):
        Store(db_path, read_now=False)


def test_what_is_loaded_before_the_app_runs_is_frozen_out_of_the_collectors_walks(db_path, monkeypatch):
    """Modules and guidance live as long as the app: `gc.freeze` just before it runs keeps full collections
    from walking them (40 ms at a time as the screen completed). Records are not frozen here: they are read
    later, by the store, which freezes what it keeps itself."""
    import gc

    from kentsafe_tui import launch
    from kentsafe_tui.app import KentsafeApp

    order = []
    monkeypatch.setattr(launch, "_check_terminal", lambda: None)
    monkeypatch.setattr(gc, "freeze", lambda: order.append("freeze"))
    monkeypatch.setattr(KentsafeApp, "run", lambda self: order.append(
        ("run", self.freeze_when_complete, self.collect_in_pauses)))
    assert main(["--db", str(db_path)]) == 0
    # The screen is frozen once complete, and garbage is collected in pauses (not in tests: see below and
    # test_collecting.py).
    assert order == ["freeze", ("run", True, True)]


async def test_the_complete_screen_is_frozen_only_where_the_process_is_the_apps(db_path, library, monkeypatch):
    import gc

    import inspect

    frozen = []  # by the screen (the store freezes what it reads, itself)
    monkeypatch.setattr(gc, "freeze", lambda: frozen.extend(
        1 for frame in inspect.stack()[1:2] if frame.filename.endswith("main.py")))
    for alone in (False, True):
        app = app_on(db_path, library)
        app.freeze_when_complete = alone
        async with app.run_test(size=(120, 40)) as pilot:
            screen = app.screen
            for _ in range(200):  # the records read and the lower form arrived (after the first pause)
                if screen.form.rest_mounted and screen.welcomed:
                    break
                await pilot.pause(0.05)
            await app.workers.wait_for_complete()
            assert screen.form.rest_mounted and screen.welcomed
        assert bool(frozen) == alone


def test_without_a_terminal_the_app_says_so_in_one_line(capsys, db_path):
    code = main(["--db", str(db_path)])
    _, err = capsys.readouterr()
    assert code == 2 and "needs a terminal" in err and err.count("\n") == 1


async def test_guidance_past_its_review_date_says_so_with_the_date(db_path, tmp_path):
    from kentsafe_tui.content import builtin_content_dir

    school = tmp_path / "school-content"
    school.mkdir()
    source = (builtin_content_dir() / "harmful-content-reported-here.md").read_text()
    reviewed = re.sub(r"(?m)^last_reviewed = .*$", "last_reviewed = 2024-01-15", source, count=1)
    assert reviewed != source
    (school / "harmful-content-reported-here.md").write_text(reviewed)
    library = Library.default(school)
    app = app_on(db_path, library)
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.pause()
        guidance = app.screen.query_one("#guidance")
        assert guidance.document.slug == "harmful-content-reported-here"
        top = " ".join("".join(segment.text for segment in line).strip() for line in guidance._lines[:3])
        assert "REVIEW OVERDUE" in top and "15 Jan 2025" in top


async def test_export_waits_until_the_incident_is_saved(db_path, library):
    app = app_on(db_path, library)
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert screen.check_action("export", ()) is None
        await pilot.press(*"A concern", "ctrl+s")
        await pilot.pause()
        assert screen.check_action("export", ()) is True
        await pilot.press("f7")
        await pilot.pause()
        assert type(app.screen).__name__ == "TextViewDialog"
        saved = list((db_path.parent / "exports").glob("2026-0001-report-*"))
        assert sorted(p.suffix for p in saved) == [".html", ".md"]
        assert all(oct(p.stat().st_mode & 0o777) == "0o600" for p in saved)


async def test_school_settings_are_set_in_the_app(db_path, library):
    app = app_on(db_path, library)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await app.screen.run_action("settings")
        await pilot.pause()
        assert type(app.screen).__name__ == "SettingsDialog"
        await pilot.press(*"Oak [b]Hill[/b] School", "tab", *"Priya Shah", "ctrl+s")
        await pilot.pause()
        assert type(app.screen).__name__ == "MainScreen"
    settings = Store(db_path).settings()
    assert settings["school_name"] == "Oak [b]Hill[/b] School" and settings["dsl_name"] == "Priya Shah"
