"""Typing goes on while a save writes, and moving in the checklist while a tick does (issue 12: a save of a large database is a second of writing).

The save takes a copy of the record as it is when ctrl+s is handed on; keys that only edit a field's text go
on into the form meanwhile and stay unsaved once the save is done; every other key waits for the save, in
order. Each test holds the store's write on a gate, so "during the save" is as long as the test needs.
"""

from __future__ import annotations

import asyncio
import re
import threading

import pytest
from textual.widgets import Input, TextArea

from kentsafe_tui import app as app_module
from kentsafe_tui import history
from kentsafe_tui.dates import now_local
from kentsafe_tui.editing import EditSession
from kentsafe_tui.screens.main import MainScreen
from kentsafe_tui.store import StoreError

from .app_helpers import WIDE, make_app, make_store, q
from .conftest import make_incident
from .keys_helpers import key_events, settled


class Gate:
    """Holds the store's create and save until opened; can make the write fail instead."""

    def __init__(self, store, fail: Exception | None = None):
        self.entered = threading.Event()
        self.open = threading.Event()
        self.fail = fail
        for name in ("create", "save", "set_item"):
            original = getattr(store, name)
            setattr(store, name, self._held(original))

    def _held(self, original):
        def write(*args, **kwargs):
            self.entered.set()
            assert self.open.wait(30), "the test never opened the gate"
            if self.fail is not None:
                raise self.fail
            return original(*args, **kwargs)
        return write


def send(app, script: list[str]) -> None:
    for key in key_events(script):
        key.set_sender(app)
        app._driver.send_message(key)  # at once, as a burst over SSH arrives


async def until(pilot, condition, what: str) -> None:
    for _ in range(400):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"never: {what}")


async def saving(pilot, gate: Gate) -> None:
    await until(pilot, lambda: gate.entered.is_set() and pilot.app.holding, "the save began")


async def finish(pilot, gate: Gate) -> None:
    gate.open.set()
    await until(pilot, lambda: not pilot.app.holding, "the save ended")
    await settled(pilot)


@pytest.fixture
def app(db_path, library):
    application = make_app(make_store(db_path, library, now_local), library)
    application.pilot_waits_for_saves = False  # these tests type while the save is held on its gate
    application.seen = []
    original = application.notify
    application.notify = lambda message, *a, **k: (application.seen.append(str(message)),
                                                   original(message, *a, **k))[1]
    return application


async def ready(pilot) -> MainScreen:
    screen = pilot.app.screen
    await until(pilot, lambda: isinstance(pilot.app.screen, MainScreen) and pilot.app.screen.form.rest_mounted
                and pilot.app.screen.welcomed, "the form is ready")
    return screen


async def test_typing_goes_on_during_a_save_and_stays_unsaved_after_it(app, db_path, library):
    async with app.run_test(size=WIDE) as pilot:
        screen = await ready(pilot)
        gate = Gate(app.context.store)
        send(app, ["text:Video shared", "ctrl+s", "text: in Year 9"])
        await saving(pilot, gate)
        summary = q(app, "#f-summary", Input)
        await until(pilot, lambda: summary.value == "Video shared in Year 9", "the typing reached the form")
        assert app.holding == 1  # still saving: the keys did not wait for it
        await finish(pilot, gate)

        records = make_store(db_path, library, now_local).incidents()
        assert [r.summary for r in records] == ["Video shared"]  # the save wrote what was there at ctrl+s
        assert summary.value == "Video shared in Year 9"  # the typing is kept on screen...
        assert screen.session.edited.summary == "Video shared in Year 9"
        assert screen.session.base.id == records[0].id
        assert screen.unsaved  # ...and is not counted as saved
        # The border says it was saved, and not what was typed meanwhile.
        assert re.search(r"· Saved at \d\d:\d\d$", str(screen.form.border_title))
        assert str(screen.form.border_subtitle) == "Typed during the save: not saved"

        send(app, ["ctrl+s"])
        await until(pilot, lambda: not screen.unsaved, "the second save")
        await settled(pilot)
        saved = make_store(db_path, library, now_local).get(records[0].id)
        assert saved.summary == "Video shared in Year 9" and saved.rev == 2  # the same incident, no conflict
        assert str(screen.form.border_title).startswith(f"Incident {saved.id} · Saved at ")
        assert len(make_store(db_path, library, now_local).incidents()) == 1


async def test_typing_kept_through_a_save_is_said_on_the_border_at_once_and_not_in_a_notice(app):
    """A notice is a toast, composed and laid out as a key waits: given at the next pause, it held a key typed
    just then for 70 ms at 50,000 incidents. The form's border says it, drawn without a layout, for as long as
    it is so: the save, and the typing kept unsaved; then saved; then typed after the save."""
    async with app.run_test(size=WIDE) as pilot:
        screen = await ready(pilot)
        form = screen.form
        gate = Gate(app.context.store)
        send(app, ["text:Video shared", "ctrl+s", "text: in"])
        await saving(pilot, gate)
        await finish(pilot, gate)
        await settled(pilot)
        assert screen.unsaved and form.typed_since_save
        kept = str(form.border_title)
        assert re.fullmatch(r"Incident \S+ · Saved at \d\d:\d\d", kept)
        assert str(form.border_subtitle) == "Typed during the save: not saved"
        send(app, ["text: Year 9"])  # typing on: the border stays as it is
        await until(pilot, lambda: q(app, "#f-summary", Input).value == "Video shared in Year 9", "typing")
        await asyncio.sleep(app_module.QUIET * 2)  # and in the pause after it, no notice
        await settled(pilot)
        assert str(form.border_title) == kept and str(form.border_subtitle) == "Typed during the save: not saved"
        assert not any("not saved yet" in message or "meanwhile" in message for message in app.seen)

        send(app, ["ctrl+s"])  # nothing typed during this one
        await until(pilot, lambda: not screen.unsaved, "the second save")
        await settled(pilot)
        assert not form.typed_since_save
        assert re.fullmatch(r"Incident \S+ · Saved at \d\d:\d\d", str(form.border_title))
        assert str(form.border_subtitle) == ""
        assert q(app, "#f-summary", Input).value == "Video shared in Year 9"
        send(app, ["text:!"])
        await until(pilot, lambda: screen.unsaved, "typed after the save")
        await settled(pilot)
        # Typed after it: unsaved, as any typing.
        assert re.fullmatch(r"Incident \S+", str(form.border_title)) and str(form.border_subtitle) == ""


async def test_typing_during_the_save_of_an_opened_incident_saves_next_time_without_a_conflict(db_path, library):
    store = make_store(db_path, library, now_local)
    incident_id = store.create(make_incident(summary="Rumour", details="Told at break.")).id
    app = make_app(make_store(db_path, library, now_local), library)
    app.pilot_waits_for_saves = False
    async with app.run_test(size=WIDE) as pilot:
        screen = await ready(pilot)
        screen.session.open(incident_id)
        screen.show_session()
        await settled(pilot)
        screen.set_focus(q(app, "#f-details"))
        await settled(pilot)
        gate = Gate(app.context.store)
        send(app, ["ctrl+end", "text: Parent rang.", "ctrl+s", "enter", "text:Head told.", "backspace", "text:!"])
        await saving(pilot, gate)
        details = q(app, "#f-details", TextArea)
        await until(pilot, lambda: details.text == "Told at break. Parent rang.\nHead told!", "typing in the box")
        await finish(pilot, gate)
        assert make_store(db_path, library, now_local).get(incident_id).details == "Told at break. Parent rang."
        assert screen.unsaved and screen.session.base.rev == 2
        send(app, ["ctrl+s"])
        await until(pilot, lambda: not screen.unsaved, "the second save")
        await settled(pilot)
    record = make_store(db_path, library, now_local).get(incident_id)
    assert record.details == "Told at break. Parent rang.\nHead told!"
    assert record.rev == 3
    assert [entry["action"] for entry in record.history][-2:] == ["edit", "edit"]


@pytest.mark.parametrize("script", [
    ["ctrl+n", "text:abc"],  # a key that starts something, and the typing behind it
    ["enter", "text:abc"],  # enter in a field moves on (or adds a row from a quick line)
    ["alt+s", "text:abc"],  # a fallback key Textual calls printable
])
async def test_every_other_key_waits_for_the_save_and_keeps_its_order(script, app, db_path, library):
    async with app.run_test(size=WIDE) as pilot:
        screen = await ready(pilot)
        gate = Gate(app.context.store)
        send(app, ["text:First", "ctrl+s", *script])
        await saving(pilot, gate)
        await asyncio.sleep(0.3)  # time for a key that should wait to have gone through, had it not waited
        assert q(app, "#f-summary", Input).value == "First"
        assert len(app._held_keys) == len(key_events(script))
        assert app.screen is screen and screen.session.is_new
        await finish(pilot, gate)
        saved = make_store(db_path, library, now_local).incidents()
        assert saved[0].summary == "First"
        if script[0] == "ctrl+n":  # nothing typed meanwhile, so the new incident starts at once, and gets abc
            assert screen.session.is_new and q(app, "#f-summary", Input).value == "abc"
        else:  # enter in Summary (nothing to move on to) or alt+s (a save with nothing new), then abc, unsaved
            assert screen.session.base.id == saved[0].id
            assert q(app, "#f-summary", Input).value == "Firstabc" and screen.unsaved


async def test_a_key_held_by_a_save_goes_on_as_the_save_ends_not_when_it_next_looks(app, monkeypatch):
    """A held key looked every 10 ms whether the save had ended: the first key after a save waited up to that
    long. Now the save's end wakes it; looking again is only a fallback, made 30 s here."""
    monkeypatch.setattr(app_module, "HOLD_LOOKED_AT", 30)
    async with app.run_test(size=WIDE) as pilot:
        screen = await ready(pilot)
        gate = Gate(app.context.store)
        send(app, ["text:First", "ctrl+s", "ctrl+n", "text:abc"])
        await saving(pilot, gate)
        await asyncio.sleep(0.1)
        assert len(app._held_keys) == 4 and q(app, "#f-summary", Input).value == "First"
        gate.open.set()
        await until(pilot, lambda: not app.holding, "the save ended")
        await until(pilot, lambda: screen.session.is_new and q(app, "#f-summary", Input).value == "abc",
                    "the held keys, within 4 s of the save's end")


async def test_a_save_that_fails_keeps_what_was_typed_before_and_during_it(app, db_path, library):
    async with app.run_test(size=WIDE) as pilot:
        screen = await ready(pilot)
        gate = Gate(app.context.store, fail=StoreError("the disk holding the database is full"))
        send(app, ["text:Kept", "ctrl+s", "text: and this"])
        await saving(pilot, gate)
        await until(pilot, lambda: q(app, "#f-summary", Input).value == "Kept and this", "typing during the save")
        await finish(pilot, gate)
        assert q(app, "#f-summary", Input).value == "Kept and this"
        assert screen.session.is_new and screen.unsaved
        assert any("Not saved: the disk holding the database is full" in message for message in app.seen)
    assert not db_path.exists() or not make_store(db_path, library, now_local).incidents()


def test_the_session_puts_what_was_typed_after_the_snapshot_on_top_of_the_saved_version(store):
    session = EditSession(store)
    session.apply("summary", "Before the save")
    taken = session.snapshot()
    session.apply("summary", "Before the save, and after")
    session.add_row("pupils")
    session.apply("pupils.0.name", "Sam Example")
    saved = session.saved(taken, session.write(taken))
    assert store.get(saved.id).summary == "Before the save" and store.get(saved.id).pupils == []
    assert session.base == saved and not session.is_new
    assert session.edited.summary == "Before the save, and after"
    assert [pupil.name for pupil in session.edited.pupils] == ["Sam Example"]
    assert session.dirty
    nothing_typed = session.snapshot()
    again = session.saved(nothing_typed, session.write(nothing_typed))
    assert again.rev == 2 and not session.dirty
    assert session.edited == again


@pytest.fixture
def opened(db_path, library):
    store = make_store(db_path, library, now_local)
    return store.create(make_incident(summary="Rumour")).id


async def open_checklist(pilot, incident_id) -> MainScreen:
    screen = await ready(pilot)
    screen.session.open(incident_id)
    screen.show_session()
    screen.action_focus_pane("checklist")
    await settled(pilot)
    return screen


async def test_moving_in_the_checklist_goes_on_while_a_tick_is_written(opened, db_path, library):
    app = make_app(make_store(db_path, library, now_local), library)
    app.pilot_waits_for_saves = False
    async with app.run_test(size=WIDE) as pilot:
        screen = await open_checklist(pilot, opened)
        checklist = screen.checklist
        assert checklist.highlighted == 0
        gate = Gate(app.context.store)
        send(app, ["space", "down", "down"])
        await saving(pilot, gate)
        await until(pilot, lambda: checklist.highlighted == 2, "the cursor moved during the tick's write")
        assert app.holding == 1
        await finish(pilot, gate)
        assert checklist.highlighted == 2  # the saved ticks arrived without moving the cursor back
        assert checklist.items[0].state == "done"
        assert make_store(db_path, library, now_local).get(opened).checklist[0].state == "done"


@pytest.mark.parametrize("script", [["space"], ["x"], ["f3", "text:abc"]])
async def test_every_other_key_waits_for_a_tick(script, opened, db_path, library):
    app = make_app(make_store(db_path, library, now_local), library)
    app.pilot_waits_for_saves = False
    async with app.run_test(size=WIDE) as pilot:
        screen = await open_checklist(pilot, opened)
        gate = Gate(app.context.store)
        send(app, ["space", *script])
        await saving(pilot, gate)
        await asyncio.sleep(0.3)  # time for a key that should wait to have gone through, had it not waited
        assert len(app._held_keys) == len(key_events(script))
        assert app.focused is screen.checklist and screen.checklist.highlighted == 0
        await finish(pilot, gate)
        await settled(pilot)
        while app.holding:
            await pilot.pause()
        await settled(pilot)
        record = make_store(db_path, library, now_local).get(opened)
        if script == ["space"]:  # the second space unticks, after the first was written
            assert record.checklist[0].state == "todo" and record.rev == 3
        elif script == ["x"]:  # x on a done item never unticks: it only moves on
            assert record.checklist[0].state == "done" and record.rev == 2
        else:
            assert record.checklist[0].state == "done"
            assert q(app, "#f-summary", Input).value == "Rumourabc"


async def test_the_draft_of_the_typing_is_written_off_the_screens_thread(app):
    """Its fsync waited behind a save's on a busy disk, and every key waited with it."""
    on_screen_thread = []
    drafts = app.context.drafts
    write = drafts._write

    def recording(*args):
        on_screen_thread.append(threading.current_thread() is threading.main_thread())
        write(*args)

    drafts._write = recording
    async with app.run_test(size=WIDE) as pilot:
        await ready(pilot)
        send(app, ["text:Typed, not saved"])
        # The first draft may hold only the start of the burst (one is written within a second of each change);
        # a later one holds it all.
        await until(pilot, lambda: drafts.path.exists() and "Typed, not saved" in drafts.path.read_text(
            encoding="utf-8"), "the draft of the whole typing was written")
    assert on_screen_thread and not any(on_screen_thread)



def test_no_key_bound_to_an_action_can_pass_for_typing():
    """The app lets a printable key without a modifier through as typing during a save (KentsafeApp._is_typing):
    that holds only while every binding has a modifier or is an F-key."""
    from kentsafe_tui.keys import all_keys

    assert all("+" in key or key in {f"f{n}" for n in range(1, 13)} for action in all_keys() for key in action.keys)


async def test_an_unexpected_error_in_a_save_is_named_and_keeps_the_typing(app, db_path):
    from textual.worker import WorkerFailed

    with pytest.raises(WorkerFailed):  # (the test harness raises what ended the app)
        async with app.run_test(size=WIDE) as pilot:
            await ready(pilot)
            gate = Gate(app.context.store, fail=RuntimeError("boom"))
            send(app, ["text:Kept as a draft", "ctrl+s"])
            await saving(pilot, gate)
            gate.open.set()
            await until(pilot, lambda: not app.is_running, "the app ended")
    assert app.return_code == 1
    assert app.stop_reason.startswith("unexpected error (RuntimeError); anything unsaved was kept as a draft")
    assert "Kept as a draft" in app.context.drafts.path.read_text(encoding="utf-8")


def test_what_was_typed_during_a_save_is_put_on_the_saved_version_field_by_field(store):
    """`saved` makes plain data of the fields typed in only; the record it leaves is the one the whole-record
    way gives (the saved version, as plain data, with the typing applied), and it owns its rows."""
    session = EditSession(store)
    session.apply("summary", "Rumour of a video")
    session.add_row("pupils")
    session.apply("pupils.0.name", "Sam Example")
    session.save()
    session.apply("details", "Seen in a Year 8 chat")
    taken = session.snapshot()
    session.apply("details", "Seen in a Year 8 chat, and shared on")
    session.apply("pupils.0.name", "Sam Example-Jones")
    session.add_row("decisions")
    session.apply("decisions.0.decision", "Speak to parents")
    session.apply("outcome", "Open")
    typed = session.edited.editable_copy()
    saved = session.write(taken)
    expected = saved.to_dict()
    history.apply(expected, history.diff(taken.to_dict(), typed.to_dict()))
    session.saved(taken, saved)
    assert session.edited.to_dict() == expected
    assert store.get(saved.id).details == "Seen in a Year 8 chat"
    session.edited.pupils[0].name = "Changed on screen"
    assert session.base.pupils[0].name == "Sam Example" and session.origin.pupils[0].name == "Sam Example"
