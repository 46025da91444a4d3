"""Issue 10 in the app (Pilot): typing a year kentsafe cannot record is a message, not a crash."""

from __future__ import annotations

import pytest

from kentsafe_tui.dates import now_local

from .app_helpers import WIDE, make_app, make_store
from .conftest import Clock


@pytest.mark.parametrize("typed", ["1/1/0001", "01/01/0001 10:00", "0001-01-01T00:00"])
async def test_typing_year_one_into_a_date_field_does_not_crash_the_app(db_path, library, typed):
    store = make_store(db_path, library, Clock(now_local()))
    app = make_app(store, library)
    async with app.run_test(size=WIDE) as pilot:
        await pilot.pause()
        await pilot.press(*"Rumour of a video")
        await pilot.press("tab", "home", "ctrl+k", *typed)
        await pilot.pause()
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.is_running
    assert not db_path.exists() or make_store(db_path, library, now_local).count() == 0


@pytest.mark.parametrize("zone", ["Europe/London", "Pacific/Kiritimati", "America/Los_Angeles"])
async def test_a_hand_edited_record_with_bad_dates_opens_and_counts(db_path, library, monkeypatch, zone):
    import json
    import time

    monkeypatch.setenv("TZ", zone)  # year 1 overflowed only in some time zones
    time.tzset()
    try:
        await _open_hand_edited(db_path, library)
    finally:
        monkeypatch.setenv("TZ", "Europe/London")
        time.tzset()


async def _open_hand_edited(db_path, library):
    import json

    from kentsafe_tui.store import Store

    from .app_helpers import main_screen

    Store(db_path, user="A", checklist_for=library.checklist_for).import_records([{
        "summary": "Plain", "concern_at": "2026-11-10T10:00:00+00:00",
        "decisions": [{"decision": "d", "reason": "r", "at": "2026-11-10T10:00:00+00:00"}]}])
    data = json.loads(db_path.read_text())
    record = data["incidents"]["1"]
    record["concern_at"] = "0001-01-01T00:00:00+00:00"
    record["checklist"][0].update(at="not a date", state="done")
    record["decisions"][0]["at"] = "garbage"
    record["history"][0]["at"] = "never"
    db_path.write_text(json.dumps(data))
    app = make_app(make_store(db_path, library, Clock(now_local())), library)
    async with app.run_test(size=WIDE) as pilot:
        await pilot.pause()
        main_screen(app)._open("2026-0001")
        await pilot.pause()
        await pilot.press("ctrl+o")
        await pilot.pause()
        await pilot.press("escape", "f6")
        await pilot.pause()
        assert app.is_running
