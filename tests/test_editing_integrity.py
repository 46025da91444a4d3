"""What is typed is what is saved, or the DSL is asked: under any timing (issue 9).

Each script runs twice on a fresh database, keys handed over one at a time and all in one burst, and the
saved records must be the same and what the script meant. Then one regression test for each way typing was
lost or misplaced before. (The same comparison in a real terminal is in test_timing.py.)
"""

from __future__ import annotations

import asyncio
import copy
import re
from pathlib import Path

import pytest
from textual.widgets import Button, Input, Select, TextArea

from kentsafe_tui.content import Library
from kentsafe_tui.dates import now_local
from kentsafe_tui.dialogs import ChoiceDialog, ConflictDialog
from kentsafe_tui.dialogs.help import HelpScreen
from kentsafe_tui.dialogs.oversight import OversightScreen
from kentsafe_tui.drafts import Drafts
from kentsafe_tui.screens.main import MainScreen

from .app_helpers import NARROW, USER, WIDE, make_app, make_store, q, rendered_text
from .conftest import make_incident
from .keys_helpers import burst, key_events, settled, slowly

TO_ADD_PUPIL = ["tab"] * 6  # summary, when, category, scope, status, what happened, "+ Add a pupil"
TIMESTAMPS = {"at", "created_at", "updated_at", "concern_at", "hash", "prev", "seq"}


def without_times(value):
    if isinstance(value, dict):
        return {k: without_times(v) for k, v in value.items() if k not in TIMESTAMPS}
    if isinstance(value, list):
        return [without_times(v) for v in value]
    return value


def saved_records(db_path: Path, library: Library) -> list[dict]:
    if not db_path.exists():
        return []
    store = make_store(db_path, library, now_local)
    return [without_times(store.get(row.id).to_dict()) for row in sorted(store.summaries(), key=lambda r: r.id)]


SEED = "Seeded incident about a shared video"

SCRIPTS: dict[str, tuple[list[str], dict]] = {
    # name: (keys, what the first saved record must hold, by field; "checklist_done" counts ticks)
    "tick then type on a new incident": (
        ["text:New one", "f4", "space", "f3", "end", "text: more", "f4", "down", "space", "f3", "end",
         "text: end", "ctrl+s"],
        {"summary": "New one more end", "checklist_done": 2}),
    "pupil rows by tab and enter": (
        ["text:Rows", *TO_ADD_PUPIL, "enter", "text:Sam Example", "tab", "text:9", "tab", "tab",
         "text:01/02/2012", "tab", "enter", "text:Jo Bloggs", "tab", "text:10", "ctrl+s"],
        {"summary": "Rows", "pupils": [("Sam Example", "9", "2012-02-01"), ("Jo Bloggs", "10", "")]}),
    "what happened over several lines, then ctrl+home": (
        ["text:Lines", "tab", "tab", "tab", "tab", "tab", "text:first line", "enter", "text:second line",
         "ctrl+home", "text:START ", "ctrl+end", "text: END", "ctrl+s"],
        {"summary": "Lines", "details": "START first line\nsecond line END"}),
    "category chosen by keyboard": (
        ["text:Choice", "tab", "tab", "enter", "down", "enter", "ctrl+s"],
        {"summary": "Choice", "category_changed": True}),
    "typing then saving from the unsaved question": (
        ["text:Asked first", "ctrl+q", "s"],
        {"summary": "Asked first"}),
    "not applicable with a reason, then a note": (
        ["text:Checklist", "f4", "down", "n", "text:Not relevant here", "enter", "down", "e",
         "text:Phoned the police", "ctrl+s", "f3", "ctrl+s"],
        {"summary": "Checklist", "not_applicable": "Not relevant here", "note": "Phoned the police"}),
    "refer-at-once yes, not referred, with both reasons": (
        ["text:Image", "tab", "tab", "enter", "down", "enter", "tab", "tab", "tab", "tab", "tab", "tab",
         "enter", "down", "enter", "tab", "tab", "tab", "tab", "tab", "enter", "down", "down", "enter", "tab",
         "text:Police advised", "ctrl+s", "text:Sibling is 18", "ctrl+s"],
        {"summary": "Image", "refer_override": ("Police advised", "Sibling is 18")}),
    "a decision row with its reason": (
        # add pupil, its quick line, referral decision, reason, add referral, its quick line, parents informed,
        # about parents, followed up, actions, add decision
        ["text:Decided", *TO_ADD_PUPIL, *["tab"] * 10, "enter",
         "text:No referral", "tab", "text:Threshold not met", "ctrl+s"],
        {"summary": "Decided", "decisions": [("No referral", "Threshold not met")]}),
}


def check_record(record: dict, expected: dict) -> None:
    assert record["summary"] == expected["summary"]
    if "checklist_done" in expected:
        assert sum(item["state"] == "done" for item in record["checklist"]) == expected["checklist_done"]
    if "pupils" in expected:
        got = [(p["name"], p["year_group"], p["date_of_birth"]) for p in record["pupils"]]
        assert got == expected["pupils"]
    if "details" in expected:
        assert record["details"] == expected["details"]
    if expected.get("category_changed"):
        assert record["category"] != "harmful_content"
    if "not_applicable" in expected:
        assert [i["note"] for i in record["checklist"] if i["state"] == "not_applicable"] == \
            [expected["not_applicable"]]
        assert expected["note"] in [i["note"] for i in record["checklist"]]
    if "refer_override" in expected:
        rationale, reason = expected["refer_override"]
        assert record["referral_check"] == {"rq-adult": "yes"} and record["referral_decision"] == "not_referred"
        assert record["referral_rationale"] == rationale
        assert [d["reason"] for d in record["decisions"]] == [reason]
    if "decisions" in expected:
        assert [(d["decision"], d["reason"]) for d in record["decisions"]] == expected["decisions"]


async def run_script(tmp_path: Path, library: Library, keys: list[str], how) -> list[dict]:
    db_path = tmp_path / "records.json"
    app = make_app(make_store(db_path, library, now_local), library)
    async with app.run_test(size=WIDE) as pilot:
        await pilot.pause()
        while not main_form_ready(app):
            await pilot.pause()
        await how(pilot, keys)
        await settled(pilot)
    return saved_records(db_path, library)


def main_form_ready(app) -> bool:
    screen = app.screen
    return isinstance(screen, MainScreen) and screen.form.rest_mounted


@pytest.mark.parametrize("name", list(SCRIPTS))
async def test_a_burst_saves_the_same_record_as_slow_typing(name, tmp_path, library):
    keys, expected = SCRIPTS[name]
    slow = await run_script(tmp_path / "slow", library, keys, slowly)
    fast = await run_script(tmp_path / "burst", library, keys, burst)
    assert slow, "the script saved nothing"
    check_record(slow[0], expected)
    assert fast == slow


# Regressions, one for each point of the issue --------------------------------------------------------------
@pytest.fixture
def seeded_db(db_path, library):
    store = make_store(db_path, library, now_local)
    return db_path, store.create(make_incident(summary=SEED)).id


async def open_first(pilot) -> None:
    await burst(pilot, ["ctrl+o", "enter"])
    assert isinstance(pilot.app.screen, MainScreen)


async def test_typing_after_a_tick_on_a_saved_incident_is_saved(seeded_db, library):
    db_path, incident_id = seeded_db
    app = make_app(make_store(db_path, library, now_local), library)
    async with app.run_test(size=WIDE) as pilot:
        await open_first(pilot)
        await burst(pilot, ["f4", "space", "f3", "end", "text: EDITED", "ctrl+s"])
    record = make_store(db_path, library, now_local).get(incident_id)
    assert record.summary == SEED + " EDITED"
    assert record.checklist[0].state == "done"


async def test_typing_then_quit_at_once_asks_first(tmp_path, library):
    app = make_app(make_store(tmp_path / "records.json", library, now_local), library)
    async with app.run_test(size=WIDE) as pilot:
        await burst(pilot, ["text:Typed before the screen settled", "ctrl+q"])
        assert isinstance(app.screen, ChoiceDialog)
        assert app.is_running


async def test_typing_on_a_button_or_a_choice_is_refused_visibly(tmp_path, library):
    app = make_app(make_store(tmp_path / "records.json", library, now_local), library)
    seen: list[str] = []
    original = app.notify
    app.notify = lambda message, *a, **k: (seen.append(str(message)), original(message, *a, **k))[1]
    async with app.run_test(size=WIDE) as pilot:
        await burst(pilot, [])
        while not main_form_ready(app):
            await pilot.pause()
        for selector in ("#add-pupils", "#f-category"):
            app.screen.set_focus(q(app, selector))
            seen.clear()
            await burst(pilot, ["text:Sam"])
            assert any("Not typed" in message for message in seen), selector
            assert isinstance(app.focused, (Button, Select))
        assert q(app, "#f-summary", Input).value == ""


@pytest.mark.parametrize("key,opens", [("alt+h", HelpScreen), ("alt+v", OversightScreen)])
async def test_alt_fallbacks_act_and_type_nothing(key, opens, tmp_path, library):
    app = make_app(make_store(tmp_path / "records.json", library, now_local), library)
    async with app.run_test(size=WIDE) as pilot:
        await burst(pilot, ["text:Summary", key])
        assert isinstance(app.screen, opens)
        await burst(pilot, ["escape"])
        assert q(app, "#f-summary", Input).value == "Summary"


@pytest.mark.parametrize("key,pane", [("alt+g", "guidance"), ("alt+c", "checklist"), ("alt+i", "form")])
async def test_alt_pane_keys_move_the_focus_and_type_nothing(key, pane, tmp_path, library):
    app = make_app(make_store(tmp_path / "records.json", library, now_local), library)
    async with app.run_test(size=NARROW) as pilot:
        await burst(pilot, ["text:Summary", "f2", key])
        assert any(node.id == pane for node in app.focused.ancestors_with_self)
        assert q(app, "#f-summary", Input).value == "Summary"


async def test_f6_and_f7_in_what_happened_act_and_leave_the_text_alone(seeded_db, library):
    db_path, _ = seeded_db
    app = make_app(make_store(db_path, library, now_local), library)
    async with app.run_test(size=WIDE) as pilot:
        await open_first(pilot)
        app.screen.set_focus(q(app, "#f-details"))
        await burst(pilot, ["text:The account", "ctrl+s", "f6"])
        assert isinstance(app.screen, OversightScreen)
        await burst(pilot, ["escape", "f7"])
        assert not isinstance(app.screen, MainScreen)  # the report
        await burst(pilot, ["escape"])
        details = q(app, "#f-details", TextArea)
        assert details.selection.is_empty and details.text.endswith("The account")


async def test_long_text_keeps_the_cursor_on_screen(tmp_path, library):
    app = make_app(make_store(tmp_path / "records.json", library, now_local), library)
    async with app.run_test(size=NARROW) as pilot:
        await burst(pilot, ["text:Long"])
        while not main_form_ready(app):
            await pilot.pause()
        app.screen.set_focus(q(app, "#f-details"))
        lines = []
        for number in range(30):
            lines += [f"text:line {number}", "enter"]
        await burst(pilot, lines)
        form, area = app.screen.form, q(app, "#f-details", TextArea)

        def in_view() -> bool:
            return form.content_region.y <= area.cursor_screen_offset.y < form.content_region.bottom

        for _ in range(50):  # the form scrolls once the new lines are laid out
            if in_view():
                break
            await pilot.pause()
        assert in_view(), (area.region, area.cursor_screen_offset, area.scroll_offset, form.scroll_offset,
                           form.max_scroll_y, area.cursor_location)
        assert area.text.endswith("line 29\n")


async def test_entering_what_happened_by_tab_puts_the_cursor_at_the_end(seeded_db, library):
    db_path, _ = seeded_db
    app = make_app(make_store(db_path, library, now_local), library)
    async with app.run_test(size=WIDE) as pilot:
        await open_first(pilot)
        app.screen.set_focus(q(app, "#f-details"))
        await burst(pilot, ["text:First part.", "ctrl+s", "f3", "tab", "tab", "tab", "tab", "tab", "text: Update."])
        assert q(app, "#f-details", TextArea).text.endswith("First part. Update.")


async def test_f3_goes_to_summary_with_nothing_selected(seeded_db, library):
    db_path, _ = seeded_db
    app = make_app(make_store(db_path, library, now_local), library)
    async with app.run_test(size=WIDE) as pilot:
        await open_first(pilot)
        await burst(pilot, ["f4", "f3"])
        summary = q(app, "#f-summary", Input)
        assert app.focused is summary
        assert summary.selection.is_empty and summary.cursor_position == len(SEED)
        await burst(pilot, ["text:!"])
        assert summary.value == SEED + "!"


@pytest.fixture
def clashing(seeded_db, library):
    """Bob changes the same incident while Alice has it open."""
    db_path, incident_id = seeded_db

    def bob(details: str) -> None:
        store = make_store(db_path, library, now_local, user="Bob DSL")
        base = store.get(incident_id)
        edited = copy.deepcopy(base)
        edited.details = details
        store.save(edited, base)

    return db_path, incident_id, bob


async def test_keep_mine_after_both_appended_keeps_both_sentences(clashing, library):
    db_path, incident_id, bob = clashing
    store = make_store(db_path, library, now_local)
    base = store.get(incident_id)
    first = copy.deepcopy(base)
    first.details = "Reported by a Year 9 pupil."
    store.save(first, base)
    app = make_app(make_store(db_path, library, now_local), library)
    async with app.run_test(size=WIDE) as pilot:
        await open_first(pilot)
        app.screen.set_focus(q(app, "#f-details"))
        await burst(pilot, ["text: Alice spoke to the pupil."])
        bob("Reported by a Year 9 pupil. Bob called the police.")
        await burst(pilot, ["ctrl+s"])
        assert isinstance(app.screen, ConflictDialog)
        await burst(pilot, ["k"])
    details = make_store(db_path, library, now_local).get(incident_id).details
    assert "Bob called the police." in details and "Alice spoke to the pupil." in details


async def test_reload_theirs_keeps_the_typing_aside_to_restore(clashing, library):
    db_path, incident_id, bob = clashing
    app = make_app(make_store(db_path, library, now_local), library)
    async with app.run_test(size=WIDE) as pilot:
        await open_first(pilot)
        app.screen.set_focus(q(app, "#f-details"))
        await burst(pilot, ["text:Alice's typing"])
        bob("Bob's account")
        await burst(pilot, ["ctrl+s"])
        await burst(pilot, ["r"])
        assert q(app, "#f-details", TextArea).text == "Bob's account"
        aside = Drafts(db_path, USER).left_behind()
        assert [draft.edited["details"] for draft in aside] == ["Alice's typing"]


async def test_the_referral_questions_are_shown_whole_at_80x24(tmp_path, library):
    app = make_app(make_store(tmp_path / "records.json", library, now_local), library)
    async with app.run_test(size=NARROW) as pilot:
        await burst(pilot, ["text:Image"])
        while not main_form_ready(app):
            await pilot.pause()
        q(app, "#f-category", Select).value = "nudes"
        await settled(pilot)
        questions = library.questions_for("nudes")
        assert len(questions) == 5
        shown = " ".join(rendered_text(w) for w in app.screen.query("#referral-check .question"))
        shown = re.sub(r"\s+", " ", shown)
        for question in questions:
            assert re.sub(r"\s+", " ", question.text) in shown


async def test_no_widget_focus_is_deferred_to_the_apps_queue():
    """Widget.focus() waits in the app's queue behind keys already there; kentsafe moves focus at once."""
    root = Path(__file__).resolve().parent.parent / "kentsafe_tui"
    offenders = [f"{path.name}:{number}" for path in root.rglob("*.py")
                 for number, line in enumerate(path.read_text().splitlines(), 1)
                 if re.search(r"\.focus\(", line) and "set_focus" not in line and "def focus" not in line]
    assert offenders == []


async def test_the_first_hour_opens_with_one_key_and_shows_every_step_at_80x24(tmp_path, library):
    from rich.console import Console

    from kentsafe_tui.dialogs.first_hour import FirstHourScreen, first_hour_table

    def shown_text(renderable) -> str:
        console = Console(width=76, record=True, file=open("/dev/null", "w"))
        console.print(renderable)
        return re.sub(r"\s+", " ", console.export_text())

    app = make_app(make_store(tmp_path / "records.json", library, now_local), library)
    async with app.run_test(size=NARROW) as pilot:
        await burst(pilot, ["text:Video", "f9"])
        assert isinstance(app.screen, FirstHourScreen)
        body = app.screen.query_one("#first-hour-body")
        text = shown_text(first_hour_table(library, app.screen_stack[0].session.edited))
        steps = library.first_hour().items
        assert len(steps) >= 8
        for step in steps:
            assert re.sub(r"\s+", " ", step.text) in text
        assert body.max_scroll_y == 0  # all of it on one screen at 80x24
        await burst(pilot, ["escape", "f4", "space", "f9"])  # a tick shows against its step
        assert "(1/1 ticked)" in shown_text(first_hour_table(library, app.screen_stack[0].session.edited))


@pytest.mark.parametrize("keys,saved", [
    (["text:Queued save", "ctrl+s", "text: then more"], "details"),
    (["f4", "space", "f3", "text: then more"], "tick"),
    (["f4", "e", "text:Phoned", "enter", "f3", "text: then more"], "note"),
])
async def test_a_write_queued_behind_another_kentsafe_says_so_and_typing_waits_for_it(keys, saved, seeded_db,
                                                                                        library):
    """Another process holds the lock for a few seconds: the screen keeps drawing, says it is waiting, writes
    when its turn comes (a save, a tick, a note from its dialog), and keys typed meanwhile land after it."""
    import subprocess
    import sys

    db_path, incident_id = seeded_db
    app = make_app(make_store(db_path, library, now_local), library)
    seen: list[str] = []
    original = app.notify
    app.notify = lambda message, *a, **k: (seen.append(str(message)), original(message, *a, **k))[1]
    async with app.run_test(size=WIDE) as pilot:
        await open_first(pilot)
        holder = subprocess.Popen([sys.executable, "-c", (
            "import filelock, sys, time; lock = filelock.FileLock(sys.argv[1]); lock.acquire(); "
            "print('held', flush=True); time.sleep(3); lock.release()"), str(db_path) + ".lock"],
            stdout=subprocess.PIPE, text=True)
        assert holder.stdout.readline().strip() == "held"
        app.screen.set_focus(q(app, "#f-details"))
        for key in key_events(keys):
            key.set_sender(app)
            app._driver.send_message(key)
        for _ in range(200):  # the app is not frozen: it says it is waiting while the other still holds it
            if any("Waiting for other kentsafes" in message for message in seen):
                break
            await asyncio.sleep(0.05)  # not pilot.pause: that waits for the app, which is busy saving
        assert any("Waiting for other kentsafes" in message for message in seen)
        assert holder.poll() is None
        holder.wait(timeout=30)
        await settled(pilot)
        record = make_store(db_path, library, now_local).get(incident_id)
        if saved == "details":
            assert record.details == "Queued save"
            assert q(app, "#f-details", TextArea).text == "Queued save then more"
        elif saved == "tick":
            assert record.checklist[0].state == "done"
            assert q(app, "#f-summary", Input).value == SEED + " then more"
        else:
            assert record.checklist[0].note == "Phoned"
            assert q(app, "#f-summary", Input).value == SEED + " then more"
        assert app.screen.unsaved


async def test_a_time_in_the_hour_the_clocks_change_says_which_time_was_understood(tmp_path, library):
    app = make_app(make_store(tmp_path / "records.json", library, now_local), library)
    async with app.run_test(size=WIDE) as pilot:
        await burst(pilot, ["text:Clock change", "tab", "text:29/03/2026 01:30"])
        hint = re.sub(r"\s+", " ", rendered_text(q(app, "#hint-concern_at")))
        assert "did not happen" in hint and "02:30" in hint
        await burst(pilot, ["tab", "shift+tab", "text:25/10/2026 01:30"])
        hint = re.sub(r"\s+", " ", rendered_text(q(app, "#hint-concern_at")))
        assert "happens twice" in hint


async def test_the_list_filter_finds_a_name_typed_with_an_invisible_character(seeded_db, library):
    from kentsafe_tui.screens.incident_list import IncidentListScreen

    db_path, incident_id = seeded_db
    app = make_app(make_store(db_path, library, now_local), library)
    async with app.run_test(size=WIDE) as pilot:
        await burst(pilot, ["ctrl+o"])
        assert isinstance(app.screen, IncidentListScreen)
        filter_box = app.screen.query_one("#list-filter", Input)
        filter_box.value = "Sam\u200b Example"  # pasted from a chat, with a zero-width space
        await settled(pilot)
        await burst(pilot, ["enter"])
        assert isinstance(app.screen, MainScreen) and app.screen.session.edited.id == incident_id
