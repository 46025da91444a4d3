"""A key's frame is not held up by work that changes nothing on screen (issue 12: every moment under 100 ms).

Textual lays out the whole screen again for each footer made again, each line of text updated, each dialog
frame drawn over a see-through background. These tests count that work where it used to be done for nothing.
"""

from __future__ import annotations

from .app_helpers import WIDE
from .keys_helpers import settled
from .test_typing_during_save import app, ready  # noqa: F401 - the same app, as fixtures


async def test_the_footer_is_made_again_only_when_its_keys_change(app):
    """Textual's footer removed and mounted its keys at every move of the focus, delaying that key's frame."""
    from kentsafe_tui.widgets.footer import SteadyFooter

    async with app.run_test(size=WIDE) as pilot:
        await ready(pilot)
        app.pilot_waits_for_saves = True
        footer = app.screen.query_one(SteadyFooter)
        made = []
        recompose = footer.recompose

        async def counting():
            made.append(footer.shown_keys())
            await recompose()

        footer.recompose = counting
        await pilot.press("tab", "tab", "shift+tab", "tab", "shift+tab")
        await settled(pilot)
        assert made == []  # the same keys whichever field of the form has the focus
        await pilot.press("f4")
        await settled(pilot)
        assert len(made) == 1 and ("space", "toggle", "Done") in [key[:3] for key in made[0]]  # the checklist's
        await pilot.press("f3")
        await settled(pilot)
        assert len(made) == 2
        made.clear()
        await pilot.press(*"Saved once", "ctrl+s")
        await settled(pilot)
        assert app.screen.session.base is not None
        assert made == []  # a save changes which actions can run, not the keys the footer shows


async def test_a_save_updates_only_what_says_something_new(app):
    from textual.widgets import Static

    async with app.run_test(size=WIDE) as pilot:
        screen = await ready(pilot)
        app.pilot_waits_for_saves = True
        await pilot.press(*"First", "ctrl+s")
        await settled(pilot)
        assert screen.session.base is not None and not screen.unsaved
        updated: list[str] = []
        for widget in screen.query(Static):
            original = widget.update
            widget.update = lambda *a, _w=widget, _o=original, **k: (updated.append(_w.id or ""), _o(*a, **k))[1]
        redrawn = []
        set_options = screen.checklist.set_options
        screen.checklist.set_options = lambda *a, **k: (redrawn.append(1), set_options(*a, **k))[1]
        await pilot.press(*" and more", "ctrl+s")
        await settled(pilot)
        assert not screen.unsaved
        assert [name for name in updated if name.startswith("e-")] == []  # no message to show or take away
        assert updated.count("form-heading") == 2  # "unsaved" on as typed, then off once saved
        assert redrawn == []  # the checklist is as it was


async def test_a_line_that_keeps_its_height_is_redrawn_without_laying_out_the_screen(app):
    """The first key typed marks the form unsaved in its heading: at 80 columns that is still one line."""
    from textual.widgets import Static

    from .app_helpers import NARROW

    async with app.run_test(size=NARROW) as pilot:
        screen = await ready(pilot)
        heading = screen.form.query_one("#form-heading", Static)
        layouts = []
        update = heading.update
        heading.update = lambda content, layout=True: (layouts.append(layout), update(content, layout=layout))[1]
        await pilot.press("a")
        await settled(pilot)
        assert "unsaved" in str(heading.render()) and layouts == [False]
        await pilot.resize_terminal(40, 24)
        await pilot.press("ctrl+s")
        await settled(pilot)
        lines = heading.content_size.height
        layouts.clear()
        await pilot.press("b")  # the saved heading and "unsaved" no longer fit its lines: laid out, as it must be
        await settled(pilot)
        assert layouts == [True] and heading.content_size.height > lines

