"""The interpreter's full collections of garbage are made in the DSL's pauses, not within a key (issue 12).

At 50,000 incidents a full collection took 17 to 45 ms, and the same key of the same typing paid for one
every time."""

from __future__ import annotations

import gc
import time

import pytest

from kentsafe_tui import app as app_module
from kentsafe_tui import collecting

from .keys_helpers import settled
from .test_typing_during_save import app, ready, send, until  # noqa: F401 - the same app, as fixtures


@pytest.fixture
def collections(monkeypatch) -> list[int]:
    """The full collections asked of the interpreter, as the generation asked."""
    made: list[int] = []
    monkeypatch.setattr(gc, "collect", lambda generation=2: made.append(generation) or 0)
    return made


@pytest.mark.parametrize("younger, threshold, enabled, made", [
    (5, 10, True, True),  # half the way to a full collection of its own
    (9, 10, True, True),
    (4, 10, True, False),  # not yet
    (0, 10, True, False),
    (10, 20, True, True),
    (9, 20, True, False),
    (9, 10, False, False),  # a read of the records has paused the collector: nothing then
    (9, 0, True, False),  # an interpreter without this schedule (a threshold of 0) keeps its own
])
def test_a_full_collection_is_made_once_the_interpreter_is_half_the_way_to_one(
        monkeypatch, collections, younger, threshold, enabled, made):
    monkeypatch.setattr(gc, "get_count", lambda: (3, 2, younger))
    monkeypatch.setattr(gc, "get_threshold", lambda: (700, 10, threshold))
    monkeypatch.setattr(gc, "isenabled", lambda: enabled)
    assert collecting.collect_if_due() is made
    assert collections == ([2] if made else [])


async def test_the_app_collects_in_a_pause_once_for_a_burst_of_keys_and_never_within_one(app, monkeypatch):
    quiet_for: list[float] = []
    monkeypatch.setattr(collecting, "collect_if_due",
                        lambda: quiet_for.append(time.monotonic() - app.last_key_at) or True)
    app.collect_in_pauses = True  # as launch.py sets it, for the app's own process
    async with app.run_test() as pilot:
        await ready(pilot)
        quiet_for.clear()  # (any pause before the typing)
        send(app, list("Video shared "))  # a burst, as over SSH
        await pilot.press(*"in a group chat")  # and keys one at a time, each answered before the next
        await settled(pilot)
        await until(pilot, lambda: quiet_for, "a collection in the pause after the typing")
        await pilot.pause(app_module.QUIET * 2)
        assert len(quiet_for) == 1  # one for the burst, not one a key
        assert quiet_for[0] >= app_module.QUIET
        await pilot.press("x")
        await until(pilot, lambda: len(quiet_for) == 2, "a collection in the next pause")
        assert quiet_for[1] >= app_module.QUIET


async def test_an_app_not_alone_in_its_process_leaves_the_collections_to_the_interpreter(app, monkeypatch):
    asked: list[bool] = []
    monkeypatch.setattr(collecting, "collect_if_due", lambda: asked.append(True) or True)
    async with app.run_test() as pilot:  # as in these tests: launch.py was not run
        await ready(pilot)
        await pilot.press(*"Video")
        await settled(pilot)
        await pilot.pause(app_module.QUIET * 3)
    assert asked == []
