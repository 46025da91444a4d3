"""Issue 13 in the app: the field finder, quick-entry lines, the checklist by number, the time typed for you,
reopening to add an update, where a failed save puts the cursor, and the first thing a new user sees.

Each flow runs slowly and in one burst (as keys arrive over a laggy link) and both must save exactly the
record the DSL meant.
"""

from __future__ import annotations

import copy
import io
import json
import os
from datetime import timedelta

from rich.console import Console

import pytest
from textual.widgets import Input, Static, TextArea

from kentsafe_tui.context import Context
from kentsafe_tui.dialogs import AskTextDialog, ChoiceDialog
from kentsafe_tui.dialogs.finder import ChecklistLine, FieldFinder
from kentsafe_tui.drafts import Drafts
from kentsafe_tui.app import KentsafeApp
from kentsafe_tui.screens.incident_list import IncidentListScreen
from kentsafe_tui.screens.main import MainScreen

from .app_helpers import NARROW, USER, WIDE, main_screen, make_app, make_store, q, rendered_text
from .conftest import make_incident
from .keys_helpers import burst, settled, slowly

TIMES = {"at", "created_at", "updated_at", "hash", "prev", "seq"}


def content(record) -> dict:
    """The record without what a run stamps differently (the history and its times)."""
    data = record.to_dict()
    data.pop("history", None)
    return data


def plain(widget) -> str:
    """What a Static holding a Rich table shows, as text."""
    console = Console(width=120, record=True, file=io.StringIO())
    console.print(widget.content)
    return console.export_text()


async def ready(pilot) -> MainScreen:
    app = pilot.app
    for _ in range(400):
        await pilot.pause()
        screen = app.screen
        if isinstance(screen, MainScreen) and screen.form.rest_mounted and app.context.store.loaded:
            await settled(pilot)
            return screen
    raise AssertionError("the main screen never finished mounting")


async def run_flow(db_path, library, clock, keys, how, seed=None, size=WIDE):
    store = make_store(db_path, library, clock)
    for incident in seed or []:
        store.create(copy.deepcopy(incident))
    app = make_app(make_store(db_path, library, clock), library)
    async with app.run_test(size=size) as pilot:
        await ready(pilot)
        await how(pilot, keys)
        await settled(pilot)
        focused = app.focused.id if app.focused else None
    reader = make_store(db_path, library, clock)
    return [content(reader.get(row.id)) for row in sorted(reader.summaries(), key=lambda r: r.id)], focused


FLOWS = {
    "pupils, referrals and a decision by quick lines": [
        "text:Video shared in a class group chat",
        "ctrl+g", "text:p", "enter", "text:Jordan Example, Y9, received", "enter",
        "text:Sam Lee Y9 shared it", "enter", "text:Ava Test, year 8, harmed, born 03/04/2013", "enter",
        "ctrl+g", "text:r", "enter", "text:police 101 today 09:10 ref KP-0457", "enter",
        "text:front door today 09:20 ref FD-2291 note duty worker", "enter",
        "ctrl+g", "text:d", "enter", "text:No referral for the receivers because they only received it", "enter",
        "ctrl+s",
    ],
    "a questioned word is put right before the row is added": [
        "text:Questioned", "ctrl+g", "text:p", "enter", "text:Max Doe, Y9, recieved", "enter",
        *["backspace"] * 8, "text:received", "enter", "ctrl+s",
    ],
    "a line not yet added stops the save until enter adds it": [
        "text:Added by enter", "ctrl+g", "text:x", "enter", "text:Oakwood Academy, sent 27/11/2026, by secure email",
        "ctrl+s", "enter", "ctrl+s",
    ],
    "the finder reaches the follow-up and the outcome": [
        "text:Finder", "ctrl+g", "text:f", "text:Tutor checks in daily.", "ctrl+g", "text:a",
        "text:Phone handed to the police.", "ctrl+g", "text:h", "text:Shown on the bus.", "ctrl+s",
    ],
    "the status chosen by typing, in a burst": [
        "text:Closing at once", "ctrl+s", "ctrl+g", "text:t", "enter", "text:c", "enter",
        "text:No further action.", "ctrl+s",
    ],
}


def expected(name: str, clock) -> dict:
    now = clock()
    at = lambda h, m: now.replace(hour=h, minute=m, second=0, microsecond=0).isoformat(timespec="seconds")  # noqa: E731
    if name.startswith("pupils"):
        return {
            "summary": "Video shared in a class group chat",
            "pupils": [
                {"name": "Jordan Example", "year_group": "9", "role": "received", "date_of_birth": ""},
                {"name": "Sam Lee", "year_group": "9", "role": "shared", "date_of_birth": ""},
                {"name": "Ava Test", "year_group": "8", "role": "harmed", "date_of_birth": "2013-04-03"}],
            "referrals": [
                {"agency": "police_101", "at": at(9, 10), "reference": "KP-0457", "note": ""},
                {"agency": "childrens_social_care", "at": at(9, 20), "reference": "FD-2291", "note": "duty worker"}],
            "decisions": [{"decision": "No referral for the receivers", "reason": "they only received it",
                           "at": now.isoformat(timespec="seconds"), "by": USER}],
        }
    if name.startswith("a questioned"):
        return {"summary": "Questioned",
                "pupils": [{"name": "Max Doe", "year_group": "9", "role": "received", "date_of_birth": ""}]}
    if name.startswith("a line"):
        return {"summary": "Added by enter",
                "transfers": [{"sent_to": "Oakwood Academy", "sent_at": "2026-11-27", "acknowledged_at": "",
                               "note": "by secure email"}]}
    if name.startswith("the finder"):
        return {"summary": "Finder", "follow_up": "Tutor checks in daily.", "actions": "Phone handed to the police.",
                "details": "Shown on the bus."}
    return {"summary": "Closing at once", "status": "closed", "outcome": "No further action."}


@pytest.mark.parametrize("name", list(FLOWS))
async def test_a_flow_saves_exactly_what_was_meant_slowly_and_in_a_burst(name, tmp_path, library, clock):
    slow, _ = await run_flow(tmp_path / "slow.json", library, clock, FLOWS[name], slowly)
    fast, _ = await run_flow(tmp_path / "burst.json", library, clock, FLOWS[name], burst)
    assert len(slow) == 1, "the flow saved one incident"
    for field, value in expected(name, clock).items():
        assert slow[0][field] == value, field
    assert fast == slow


async def test_a_quick_line_shows_what_it_understood_and_questions_what_it_did_not(tmp_path, library, clock):
    app = make_app(make_store(tmp_path / "r.json", library, clock), library)
    async with app.run_test(size=WIDE) as pilot:
        screen = await ready(pilot)
        await burst(pilot, ["ctrl+g", "text:p", "enter", "text:Jordan Example, Y9, recieved"])
        shown = q(app, "#understood-pupils", Static)
        assert shown.display and shown.has_class("-questioned")
        assert '"recieved"' in rendered_text(shown)
        assert screen.unsaved  # a line typed is work not yet saved
        await burst(pilot, ["enter"])
        assert screen.session.edited.pupils == []  # not added, never guessed
        assert app.focused is q(app, "#quick-pupils")
        await burst(pilot, ["ctrl+u", "text:Jordan Example, Y9, received"])
        assert "Enter adds the pupil: name: Jordan Example · year: 9 · role: Received it" in rendered_text(shown)
        await burst(pilot, ["enter"])
        assert [p.name for p in screen.session.edited.pupils] == ["Jordan Example"]
        assert q(app, "#quick-pupils", Input).value == ""
        assert app.focused is q(app, "#quick-pupils")  # ready for the next pupil
        assert q(app, "#pupils-0-name", Input).value == "Jordan Example"  # every field still editable
        await burst(pilot, ["enter"])  # an empty line: on to the next field
        assert app.focused is not q(app, "#quick-pupils")


async def test_a_save_waits_for_a_questioned_line_with_the_cursor_on_it(tmp_path, library, clock):
    db_path = tmp_path / "r.json"
    app = make_app(make_store(db_path, library, clock), library)
    async with app.run_test(size=NARROW) as pilot:
        screen = await ready(pilot)
        await burst(pilot, ["text:Not yet", "ctrl+g", "text:r", "enter", "text:police yesterday", "ctrl+s"])
        assert not db_path.exists() or not make_store(db_path, library, clock).summaries()
        assert app.focused is q(app, "#quick-referrals")
        error = q(app, "#e-referrals", Static)
        assert error.display and "Police by 999 or 101" in rendered_text(error)
        assert screen.form.scroll_offset.y > 0  # scrolled down to the line, its question in view
        assert q(app, "#quick-referrals", Input).value == "police yesterday"  # nothing typed is lost


async def test_the_finder_names_every_row_and_question_and_waits_for_more_when_a_code_is_a_prefix(
        tmp_path, library, clock):
    app = make_app(make_store(tmp_path / "r.json", library, clock), library)
    async with app.run_test(size=WIDE) as pilot:
        await ready(pilot)
        await burst(pilot, ["ctrl+g", "text:p", "enter", "text:Jordan Example, Y9, received", "enter",
                            "text:Sam Lee Y9 shared it", "enter", "ctrl+g", "text:p"])
        finder = app.screen
        assert isinstance(finder, FieldFinder)
        assert [place.code for place in finder.shown] == ["p", "p1", "p2"]  # waits: p1 and p2 start with p
        await burst(pilot, ["text:2"])
        assert app.focused is q(app, "#pupils-1-name")
        await burst(pilot, ["ctrl+g", "text:zzz", "enter"])  # nothing matches: enter does nothing
        assert isinstance(app.screen, FieldFinder)
        await burst(pilot, ["escape"])
        assert app.focused is q(app, "#pupils-1-name")  # escape stays where the cursor was
        await burst(pilot, ["ctrl+g", "text:k"])
        assert app.focused is q(app, "#checklist")


async def test_the_finder_lists_the_referral_questions_of_a_nudes_incident(tmp_path, library, clock):
    seed = make_incident("Image shared", category="nudes")
    app = make_app(make_store(tmp_path / "r.json", library, clock), library)
    store = make_store(tmp_path / "r.json", library, clock)
    store.create(seed)
    async with app.run_test(size=WIDE) as pilot:
        await ready(pilot)
        await burst(pilot, ["ctrl+o", "enter"])
        await settled(pilot)
        await burst(pilot, ["ctrl+g", "text:q"])
        finder = app.screen
        assert [place.code for place in finder.shown] == ["q1", "q2", "q3", "q4", "q5"]
        assert finder.shown[0].name.startswith("Question 1: Is an adult involved")
        await burst(pilot, ["text:4", "enter", "text:y", "enter"])  # q4 opens and takes "Yes" by typing
        assert main_screen(app).session.edited.referral_check == {"rq-under-13": "yes"}


async def test_the_checklist_by_number_words_and_to_do_only(tmp_path, library, clock):
    db_path = tmp_path / "r.json"
    store = make_store(db_path, library, clock)
    incident_id = store.create(make_incident()).id
    app = make_app(make_store(db_path, library, clock), library)
    async with app.run_test(size=WIDE) as pilot:
        screen = await ready(pilot)
        await burst(pilot, ["ctrl+o", "enter", "f4", "text:t", "text:1-3 5"])
        line = app.screen
        assert isinstance(line, ChecklistLine)
        shown = plain(line.query_one("#checklist-understood"))
        numbers = [row[:3].strip() for row in shown.splitlines() if row[:3].strip()]
        assert numbers == ["1", "2", "3", "5"]
        await burst(pilot, ["enter"])
        saved = make_store(db_path, library, clock).get(incident_id)
        assert [item.state for item in saved.checklist[:6]] == ["done", "done", "done", "todo", "done", "todo"]
        assert all(item.by == USER for item in saved.checklist[:3])
        checklist = screen.checklist
        assert checklist.highlighted == 3  # the first item still to do
        await burst(pilot, ["right_square_bracket"])
        assert checklist.highlighted == 5  # to do only: 5 (index 4) is done
        await burst(pilot, ["left_square_bracket"])
        assert checklist.highlighted == 3
        await burst(pilot, ["space"])  # space ticks in place, as SPEC has it: a second one would untick
        assert checklist.highlighted == 3
        await burst(pilot, ["up", "text:x"])  # x ticks 3... it is done: x only moves on, to the next to do
        assert checklist.highlighted == 5 and checklist.items[2].state == "done"
        await burst(pilot, ["text:12", "enter"])  # a number goes there
        assert checklist.highlighted == 11
        await burst(pilot, ["slash", "text:lado", "enter"])
        assert "LADO" in checklist.current_item.text
        await burst(pilot, ["text:t", "text:police", "enter"])  # several items have it: questioned, not ticked
        assert isinstance(app.screen, ChecklistLine)
        assert "give the number" in plain(app.screen.query_one("#checklist-understood"))
        await burst(pilot, ["escape", "escape"])
    saved = make_store(db_path, library, clock).get(incident_id)
    assert sum(item.state == "done" for item in saved.checklist) == 5


async def test_ctrl_t_types_the_time_in_a_text_box_and_a_date_field(tmp_path, library, clock):
    app = make_app(make_store(tmp_path / "r.json", library, clock), library)
    async with app.run_test(size=WIDE) as pilot:
        await ready(pilot)
        clock.now = clock.now.replace(hour=14, minute=5)
        stamp = clock.now.strftime("%d/%m/%Y %H:%M")
        await burst(pilot, ["ctrl+g", "text:f", "text:Called mum", "ctrl+t", "text:Mum called back"])
        area = q(app, "#f-follow_up", TextArea)
        assert area.text == f"Called mum\n{stamp}, {USER}: Mum called back"
        await burst(pilot, ["ctrl+g", "text:w", "ctrl+t"])
        assert q(app, "#f-concern_at", Input).value == stamp


async def test_reopening_puts_the_cursor_at_the_end_of_the_account(tmp_path, library, clock):
    db_path = tmp_path / "r.json"
    store = make_store(db_path, library, clock)
    closed = make_incident(follow_up="Spoke to both families.", outcome="Resolved.")
    incident_id = store.create(closed).id
    saved = store.get(incident_id)
    saved.status = "closed"
    store.save(saved, store.get(incident_id))
    app = make_app(make_store(db_path, library, clock), library)
    async with app.run_test(size=NARROW) as pilot:
        await ready(pilot)
        await burst(pilot, ["ctrl+o", "enter", "ctrl+g", "text:t", "enter", "text:o", "enter"])
        assert isinstance(app.screen, AskTextDialog)
        await burst(pilot, ["text:A parent called again", "enter", "text: Then they called the police."])
        area = q(app, "#f-follow_up", TextArea)
        assert app.focused is area
        assert area.text == "Spoke to both families. Then they called the police."
    record = make_store(db_path, library, clock).get(incident_id)
    assert record.status == "open" and record.decisions[-1].reason == "A parent called again"


async def test_add_an_update_to_a_closed_record_reopens_and_stamps(tmp_path, library, clock):
    db_path = tmp_path / "r.json"
    store = make_store(db_path, library, clock)
    incident_id = store.create(make_incident(follow_up="First account.", outcome="Done.")).id
    saved = store.get(incident_id)
    saved.status = "closed"
    store.save(saved, store.get(incident_id))
    app = make_app(make_store(db_path, library, clock), library)
    async with app.run_test(size=WIDE) as pilot:
        await ready(pilot)
        await burst(pilot, ["ctrl+o", "enter", "ctrl+g", "text:u", "text:New information", "enter",
                            "text:Police visited", "ctrl+s"])
    record = make_store(db_path, library, clock).get(incident_id)
    stamp = clock().strftime("%d/%m/%Y %H:%M")
    assert record.status == "open"
    assert record.follow_up == f"First account.\n{stamp}, {USER}: Police visited"


SAVE_PROBLEMS = [
    # (keys after a fresh incident, the field the cursor must be on, the message shown beside it)
    (["ctrl+a", "ctrl+k"], "f-summary", "A summary is needed"),
    (["tab", "text:31/02/2026"], "f-concern_at", "that month has no day 31"),
    (["ctrl+g", "text:e", "enter", "down", "down", "enter"], "f-referral_rationale",
     "Write why you decided not to refer"),
    (["ctrl+g", "text:i", "enter", "down", "down", "enter"], "f-parents_note", "Say why parents were not told"),
    (["ctrl+g", "text:d", "enter", "text:Speak to both families", "enter"], "quick-decisions", "Every decision needs"),
    (["ctrl+g", "text:p", "enter", "shift+tab", "enter"], "pupils-0-name", "Give the pupil's name"),
]


@pytest.mark.parametrize("keys,field,message", SAVE_PROBLEMS)
async def test_a_save_with_a_problem_puts_the_cursor_on_it_with_the_message_in_view(
        keys, field, message, tmp_path, library, clock):
    app = make_app(make_store(tmp_path / "r.json", library, clock), library)
    async with app.run_test(size=NARROW) as pilot:
        screen = await ready(pilot)
        await burst(pilot, ["text:Problem", *keys, "ctrl+s"])
        await pilot.pause()
        assert app.focused is not None and app.focused.id == field
        place = field.removeprefix("f-").removeprefix("quick-").split("-")[0]
        error = q(app, f"#e-{place}", Static)
        assert error.display and message in rendered_text(error)
        form = screen.form
        visible = form.content_region
        assert visible.contains_region(error.region) or visible.overlaps(error.region), "the message is in view"
        assert visible.overlaps(app.focused.region), "the field is in view"


async def test_the_demo_opens_on_the_list_and_another_database_says_it_has_incidents(tmp_path, library, clock):
    store = make_store(tmp_path / "r.json", library, clock)
    for number in range(3):
        store.create(make_incident(f"Seeded {number}"))
    context = Context(store=make_store(tmp_path / "r.json", library, clock), library=library,
                      drafts=Drafts(store.path, USER), demo=True, today=clock().date())
    demo = KentsafeApp(context)
    async with demo.run_test(size=WIDE) as pilot:
        for _ in range(400):
            if isinstance(demo.screen, IncidentListScreen):
                break
            await pilot.pause(0.02)
        assert isinstance(demo.screen, IncidentListScreen)
        await burst(pilot, ["enter"])  # enter opens the newest
        assert main_screen(demo).session.edited.summary == "Seeded 2"
    app = make_app(make_store(tmp_path / "r.json", library, clock), library)
    async with app.run_test(size=WIDE) as pilot:
        await ready(pilot)
        for _ in range(100):
            if "3 incidents saved here: ctrl+o lists them" in rendered_text(q(app, "#form-heading")):
                break
            await pilot.pause(0.02)
        assert "3 incidents saved here: ctrl+o lists them" in rendered_text(q(app, "#form-heading"))
        assert isinstance(app.screen, MainScreen)  # only the demo opens the list by itself


async def test_a_new_incident_shows_when_the_concern_arose_as_now(tmp_path, library, clock):
    app = make_app(make_store(tmp_path / "r.json", library, clock), library)
    async with app.run_test(size=NARROW) as pilot:
        await ready(pilot)
        assert q(app, "#f-concern_at", Input).value == clock().strftime("%d/%m/%Y %H:%M")
        assert rendered_text(q(app, "#hint-concern_at")).startswith("Understood as ")


async def test_a_tick_line_on_a_new_incident_travels_with_it(tmp_path, library, clock):
    db_path = tmp_path / "r.json"
    app = make_app(make_store(db_path, library, clock), library)
    async with app.run_test(size=WIDE) as pilot:
        await ready(pilot)
        clock.now += timedelta(minutes=1)
        await burst(pilot, ["text:Ticked before saving", "f4", "text:t", "text:2 4", "enter", "ctrl+s"])
        assert not isinstance(app.screen, ChoiceDialog)
    store = make_store(db_path, library, clock)
    record = store.get(store.summaries()[0].id)
    assert [item.state for item in record.checklist[:4]] == ["todo", "done", "todo", "done"]


async def test_at_80_columns_the_finder_brings_the_form_back_with_the_field_in_view(tmp_path, library, clock):
    app = make_app(make_store(tmp_path / "r.json", library, clock), library)
    async with app.run_test(size=NARROW) as pilot:
        screen = await ready(pilot)
        await burst(pilot, ["f4", "ctrl+g", "text:x", "enter"])
        await pilot.pause()
        line = q(app, "#quick-transfers")
        assert app.focused is line
        assert screen.form.display and screen.form.has_class("-active")
        assert screen.form.content_region.contains_region(line.region), "the line is on screen"


async def test_a_quick_line_not_yet_added_survives_a_dropped_line_in_the_draft(tmp_path, library, clock):
    db_path = tmp_path / "r.json"
    app = make_app(make_store(db_path, library, clock), library)
    async with app.run_test(size=WIDE) as pilot:
        screen = await ready(pilot)
        await burst(pilot, ["text:Dropped", "ctrl+g", "text:p", "enter", "text:Jordan Example, Y9, received"])
        screen.write_draft()  # as the timer, a hang-up or a terminate would
        kept = screen.context.drafts.path
        assert json.loads(kept.read_text())["lines"] == {"pupils": "Jordan Example, Y9, received"}
        left = kept.with_name(kept.name.replace(f"-{os.getpid()}.json", "-999999999.json"))
        kept.rename(left)  # as if that kentsafe had gone
    again = make_app(make_store(db_path, library, clock), library)
    async with again.run_test(size=WIDE) as pilot:
        for _ in range(200):
            if isinstance(again.screen, ChoiceDialog):
                break
            await pilot.pause(0.02)
        assert isinstance(again.screen, ChoiceDialog)
        await burst(pilot, ["r"])
        await ready(pilot)
        assert q(again, "#quick-pupils", Input).value == "Jordan Example, Y9, received"
        assert "Enter adds the pupil" in rendered_text(q(again, "#understood-pupils"))
        await burst(pilot, ["ctrl+s"])  # the line kept from the draft is not added behind the DSL's back
        assert isinstance(again.screen, MainScreen) and again.focused is q(again, "#quick-pupils")
        assert "Not added yet: press enter to add it" in rendered_text(q(again, "#e-pupils"))
        await burst(pilot, ["enter", "ctrl+s"])
    store = make_store(db_path, library, clock)
    assert [p.name for p in store.get(store.summaries()[0].id).pupils] == ["Jordan Example"]


async def test_y_and_n_answer_the_refer_at_once_questions_one_key_each(tmp_path, library, clock):
    db_path = tmp_path / "r.json"
    app = make_app(make_store(db_path, library, clock), library)
    async with app.run_test(size=WIDE) as pilot:
        screen = await ready(pilot)
        await burst(pilot, ["text:Nudes", "ctrl+g", "text:c", "enter", "text:s", "enter"])
        assert screen.session.edited.category == "nudes"
        await settled(pilot)
        await burst(pilot, ["ctrl+g", "text:q1", "text:nnyNn"])
        assert screen.session.edited.referral_check == {
            "rq-adult": "no", "rq-coercion": "no", "rq-unusual-or-violent": "yes", "rq-under-13": "no",
            "rq-immediate-risk": "no"}
        assert app.focused is q(app, "#f-referral_decision")  # on past the last question
        assert q(app, "#refer-now").display  # a yes: REFER NOW shows


async def test_not_applicable_moves_on_to_the_next_item_to_do(tmp_path, library, clock):
    db_path = tmp_path / "r.json"
    incident_id = make_store(db_path, library, clock).create(make_incident()).id
    app = make_app(make_store(db_path, library, clock), library)
    async with app.run_test(size=WIDE) as pilot:
        screen = await ready(pilot)
        await burst(pilot, ["ctrl+o", "enter", "f4", "text:x", "n", "text:No website involved", "enter"])
        assert screen.checklist.highlighted == 2
        await burst(pilot, ["n", "escape"])  # cancelled: nothing set aside, the cursor stays
        assert screen.checklist.highlighted == 2
    saved = make_store(db_path, library, clock).get(incident_id)
    assert [(item.state, item.note) for item in saved.checklist[:3]] == [
        ("done", ""), ("not_applicable", "No website involved"), ("todo", "")]


@pytest.mark.parametrize("opened", [["f8"], ["f1"], ["f9"]])
async def test_an_action_key_closes_a_dialog_that_is_only_read_and_does_its_work(opened, tmp_path, library, clock):
    """Over a laggy link "escape, ctrl+g" can arrive as one read, which a terminal reads as ctrl+g alone."""
    db_path = tmp_path / "r.json"
    make_store(db_path, library, clock).create(make_incident())
    app = make_app(make_store(db_path, library, clock), library)
    async with app.run_test(size=WIDE) as pilot:
        await ready(pilot)
        await burst(pilot, ["ctrl+o", "enter", *opened, "ctrl+g", "text:f", "text:Typed"])
        assert isinstance(app.screen, MainScreen)
        assert q(app, "#f-follow_up", TextArea).text == "Typed"


async def test_the_tick_line_leaves_an_item_set_aside_as_it_is(tmp_path, library, clock):
    db_path = tmp_path / "r.json"
    store = make_store(db_path, library, clock)
    incident = store.create(make_incident())
    second = incident.checklist[1].id
    store.set_item(incident.id, second, "not_applicable", "No website involved", base_rev=incident.rev)
    app = make_app(make_store(db_path, library, clock), library)
    async with app.run_test(size=WIDE) as pilot:
        await ready(pilot)
        await burst(pilot, ["ctrl+o", "enter", "f4", "text:t", "text:1-3"])
        assert "(not applicable: left as it is)" in plain(app.screen.query_one("#checklist-understood"))
        await burst(pilot, ["enter"])
    saved = make_store(db_path, library, clock).get(incident.id)
    assert [(item.state, item.note) for item in saved.checklist[:3]] == [
        ("done", ""), ("not_applicable", "No website involved"), ("done", "")]


async def test_ticks_saved_before_one_that_cannot_be_are_shown(tmp_path, library, clock):
    db_path = tmp_path / "r.json"
    incident_id = make_store(db_path, library, clock).create(make_incident("Image", category="nudes")).id
    app = make_app(make_store(db_path, library, clock), library)
    async with app.run_test(size=WIDE) as pilot:
        screen = await ready(pilot)
        # A yes adds items that come with the unsaved change: they cannot be ticked until it is saved.
        await burst(pilot, ["ctrl+o", "enter", "ctrl+g", "text:q1", "text:y", "f4", "text:t"])
        pending = sorted(screen.session.pending_items())
        assert pending
        count = len(screen.session.edited.checklist)
        await burst(pilot, [f"text:1-{count}", "enter"])
        saved = make_store(db_path, library, clock).get(incident_id)
        done_in_file = {item.id for item in saved.checklist if item.state == "done"}
        assert done_in_file, "the items before the pending one were saved"
        shown = {item.id for item in screen.checklist.items if item.state == "done"}
        assert shown == done_in_file  # what the screen shows is what the file holds


async def test_ctrl_t_never_splits_or_claims_text_already_written(tmp_path, library, clock):
    app = make_app(make_store(tmp_path / "r.json", library, clock), library)
    async with app.run_test(size=WIDE) as pilot:
        await ready(pilot)
        await burst(pilot, ["ctrl+g", "text:f", "text:Spoke to mum", "ctrl+home", "ctrl+t", "text:More"])
        stamp = clock().strftime("%d/%m/%Y %H:%M")
        assert q(app, "#f-follow_up", TextArea).text == f"Spoke to mum\n{stamp}, {USER}: More"


async def test_a_date_being_put_right_in_a_row_survives_another_row_being_added(tmp_path, library, clock):
    db_path = tmp_path / "r.json"
    app = make_app(make_store(db_path, library, clock), library)
    async with app.run_test(size=WIDE) as pilot:
        screen = await ready(pilot)
        await burst(pilot, ["text:Dates", "ctrl+g", "text:r", "enter", "text:police 101 today 09:00", "enter",
                            "ctrl+g", "text:r1", "tab", "text:yesterdy 15:00",
                            "ctrl+g", "text:r", "enter", "text:front door today 09:10", "enter"])
        assert len(screen.session.edited.referrals) == 2
        assert q(app, "#referrals-0-at", Input).value == "yesterdy 15:00"  # as typed, not the old time
        await burst(pilot, ["ctrl+s"])
        assert app.focused is q(app, "#referrals-0-at")
        assert "yesterdy" in rendered_text(q(app, "#e-referrals"))
    assert not db_path.exists() or not make_store(db_path, library, clock).summaries()  # nothing saved


async def test_letters_that_name_no_place_say_so_in_the_finder(tmp_path, library, clock):
    app = make_app(make_store(tmp_path / "r.json", library, clock), library)
    async with app.run_test(size=WIDE) as pilot:
        await ready(pilot)
        await burst(pilot, ["ctrl+g", "text:b"])
        assert isinstance(app.screen, FieldFinder)
        assert 'No place has the letters "b"' in rendered_text(app.screen.query_one("#finder-none"))
