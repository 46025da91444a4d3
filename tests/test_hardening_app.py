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
