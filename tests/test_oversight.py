"""Oversight across all records: counts, what is slipping, retention, transfers; and `kentsafe stats`."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import pytest

from kentsafe_tui.cli import main
from kentsafe_tui.model import CATEGORIES, STATUSES, ChecklistItem, Incident, Pupil, Transfer
from kentsafe_tui.oversight import (
    DEFAULT_OPEN_DAYS,
    add_years,
    bar,
    chart,
    compute,
    render_text,
    school_days_between,
)
from kentsafe_tui.store import Store

from .conftest import make_incident

MONDAY = datetime(2026, 11, 30, 12, 0).astimezone()  # Monday 30 November 2026, London time


def items(*states: str) -> list[ChecklistItem]:
    return [ChecklistItem(id=f"item-{n}", text=f"Item {n}", state=state,
                          note="n/a here" if state == "not_applicable" else "")
            for n, state in enumerate(states)]


def seeded() -> list[Incident]:
    return [
        Incident(id="2026-0001", summary="Old open concern", status="open", category="harmful_content",
                 concern_at="2026-11-01T10:00:00+00:00", checklist=items("done", "todo", "todo"),
                 pupils=[Pupil(name="Sam Example", date_of_birth="2012-03-04"),
                         Pupil(name="No Birthday")]),
        Incident(id="2026-0002", summary="Recent awaiting", status="awaiting_response", category="nudes",
                 concern_at="2026-11-20T10:00:00+00:00", checklist=items("todo", "not_applicable", "todo", "todo"),
                 pupils=[Pupil(name="Leap Child", date_of_birth="2000-02-29")]),
        Incident(id="2026-0003", summary="Closed long ago", status="closed", category="harmful_content",
                 outcome="Resolved", concern_at="2026-09-15T10:00:00+01:00", checklist=items("todo"),
                 pupils=[Pupil(name="Turns Today", date_of_birth="2001-11-30"),
                         Pupil(name="Turns Tomorrow", date_of_birth="2001-12-01")]),
        # 23:30 on 31 October in UTC-1 is 00:30 on 1 November in London: counted in November.
        Incident(id="2026-0004", summary="Monitoring", status="monitoring", category="online_bullying",
                 concern_at="2026-10-31T23:30:00-01:00", checklist=items("done")),
    ]


def test_compute_on_no_incidents():
    view = compute([], MONDAY)
    assert view.total == 0
    assert view.by_status == {key: 0 for key in STATUSES}
    assert view.by_category == {key: 0 for key in CATEGORIES}
    assert view.by_month == {}
    assert view.open_too_long == [] and view.items_to_do == [] and view.unacknowledged_transfers == []
    assert view.retention == [] and view.stale_guidance == [] and view.open_days == DEFAULT_OPEN_DAYS
    assert json.loads(json.dumps(view.to_dict()))["total"] == 0


def test_counts_by_status_category_and_month():
    view = compute(seeded(), MONDAY)
    assert view.total == 4
    assert view.by_status == {"open": 1, "awaiting_response": 1, "monitoring": 1, "closed": 1}
    assert view.by_category == {"harmful_content": 2, "nudes": 1, "online_bullying": 1, "online_grooming": 0,
                                "other_online": 0, "other": 0}
    assert view.by_month == {"2026-09": 1, "2026-11": 3}
    assert list(view.by_month) == sorted(view.by_month)


def test_open_too_long_never_flags_a_closed_incident():
    view = compute(seeded(), MONDAY)
    # 0001 is 29 days old; 0004 is 29 days old too; 0003 (closed, 76 days) never shows.
    assert [(row["id"], row["days_open"]) for row in view.open_too_long] == [("2026-0001", 29), ("2026-0004", 29)]
    assert view.open_too_long[0]["summary"] == "Old open concern" and view.open_too_long[0]["status"] == "open"
    shorter = compute(seeded(), MONDAY, open_days=5)
    assert [row["id"] for row in shorter.open_too_long] == ["2026-0001", "2026-0004", "2026-0002"]
    assert shorter.open_days == 5
    assert "2026-0003" not in [row["id"] for row in compute(seeded(), MONDAY, open_days=0).open_too_long]


def test_open_too_long_boundary():
    def aged(days: int) -> Incident:
        return Incident(id=f"2026-{days:04d}", summary="x", concern_at=(MONDAY - timedelta(days=days)).isoformat())

    view = compute([aged(14), aged(15)], MONDAY)
    assert [row["id"] for row in view.open_too_long] == ["2026-0015"]


def test_checklist_items_still_to_do():
    view = compute(seeded(), MONDAY)
    assert view.items_to_do == [
        {"id": "2026-0002", "summary": "Recent awaiting", "to_do": 3, "of": 4},
        {"id": "2026-0001", "summary": "Old open concern", "to_do": 2, "of": 3},
    ]  # the closed record's unticked item and the finished list are not listed


def test_retention_review_is_date_of_birth_plus_25_years():
    view = compute(seeded(), MONDAY)
    assert view.retention == [
        {"id": "2026-0002", "pupil": "Leap Child", "review_on": "2025-02-28", "due": True},
        {"id": "2026-0003", "pupil": "Turns Today", "review_on": "2026-11-30", "due": True},
        {"id": "2026-0003", "pupil": "Turns Tomorrow", "review_on": "2026-12-01", "due": False},
        {"id": "2026-0001", "pupil": "Sam Example", "review_on": "2037-03-04", "due": False},
    ]
    assert add_years(date(2000, 2, 29), 25) == date(2025, 2, 28)
    assert add_years(date(2000, 2, 29), 24) == date(2024, 2, 29)
    assert add_years(date(2012, 3, 4), 25) == date(2037, 3, 4)


def with_transfer(sent_at: str, acknowledged_at: str = "") -> Incident:
    return Incident(id="2026-0010", summary="Moved school", concern_at="2026-11-02T09:00:00+00:00",
                    transfers=[Transfer(sent_to="Hill School", sent_at=sent_at, acknowledged_at=acknowledged_at)])


def test_transfers_unacknowledged_after_five_school_days():
    sent_monday = with_transfer("2026-11-23")
    next_monday = datetime(2026, 11, 30, 16, 0).astimezone()
    tuesday_after = datetime(2026, 12, 1, 9, 0).astimezone()
    assert compute([sent_monday], next_monday).unacknowledged_transfers == []  # 5 school days: not yet
    assert compute([sent_monday], tuesday_after).unacknowledged_transfers == [
        {"id": "2026-0010", "sent_to": "Hill School", "sent_at": "2026-11-23", "school_days": 6}]
    acknowledged = with_transfer("2026-11-23", acknowledged_at="2026-11-24")
    assert compute([acknowledged], tuesday_after + timedelta(days=60)).unacknowledged_transfers == []
    not_sent = with_transfer("")
    assert compute([not_sent], tuesday_after + timedelta(days=60)).unacknowledged_transfers == []


def test_stale_guidance_is_passed_through():
    stale = [("contacts.md", "Contacts and reporting routes", date(2027, 5, 28)), ("odd.md", "Odd", None)]
    view = compute([], MONDAY, stale=stale)
    assert view.stale_guidance == [
        {"file": "contacts.md", "title": "Contacts and reporting routes", "due": "2027-05-28"},
        {"file": "odd.md", "title": "Odd", "due": ""},
    ]
    assert view.to_dict()["stale_guidance"] == view.stale_guidance


@pytest.mark.parametrize("start, end, days", [
    (date(2026, 11, 23), date(2026, 11, 30), 5),   # Monday to Monday
    (date(2026, 11, 23), date(2026, 12, 1), 6),    # Monday to the Tuesday after
    (date(2026, 11, 27), date(2026, 11, 30), 1),   # Friday to Monday
    (date(2026, 11, 27), date(2026, 11, 29), 0),   # Friday to Sunday
    (date(2026, 11, 28), date(2026, 11, 29), 0),   # Saturday to Sunday
    (date(2026, 11, 23), date(2026, 11, 23), 0),   # the same day
    (date(2026, 11, 30), date(2026, 11, 23), 0),   # backwards
    (date(2026, 11, 2), date(2026, 11, 30), 20),   # four weeks
])
def test_school_days_between(start, end, days):
    assert school_days_between(start, end) == days


def test_bar():
    assert bar(0, 10) == "" and bar(3, 0) == "" and bar(-1, 10) == ""
    assert bar(10, 10, width=30) == "█" * 30
    assert bar(5, 10, width=30) == "█" * 15
    tiny = bar(1, 10_000, width=30)
    assert tiny and len(tiny) == 1
    # Longer counts never draw shorter bars, no bar is wider than the width, and every count above zero shows.
    eighths = {"█": 8, "▏": 1, "▎": 2, "▍": 3, "▌": 4, "▋": 5, "▊": 6, "▉": 7}
    bars = [bar(n, 40, width=20) for n in range(0, 41)]
    widths = [sum(eighths[c] for c in drawn) for drawn in bars]
    assert widths == sorted(widths) and widths[0] == 0 and widths[-1] == 160
    assert all(len(drawn) <= 20 for drawn in bars) and all(bars[1:])


def test_chart_lines():
    lines = chart({"open": 4, "closed": 0}, STATUSES, width=8)
    assert lines == ["Open        4  ████████", "Closed      0"]


def test_render_text_has_every_section():
    stale = [("contacts.md", "Contacts and reporting routes", date(2027, 5, 28))]
    sent_monday = with_transfer("2026-11-23")
    text = render_text(compute([*seeded(), sent_monday], datetime(2026, 12, 1, 9, 0).astimezone(), stale=stale))
    for line in ("5 incident(s)", "By status", "By category", "By month the concern arose",
                 "Open for more than 14 days: 3", "Checklist items still to do: 5",
                 "Transfers not acknowledged after 5 school days: 1",
                 "Retention reviews (date of birth + 25 years): 4", "Guidance past its review date: 1"):
        assert line in text.splitlines(), line
    assert "  Awaiting response" in text and "  Harmful video or images circulating" in text
    assert "  2026-0010  sent to Hill School on 2026-11-23 (6 school days)" in text
    assert "  2026-0002  Leap Child  2025-02-28  DUE" in text
    assert "  contacts.md  due 2027-05-28  Contacts and reporting routes" in text


def test_a_transfer_date_typed_as_yesterday_is_flagged_a_fortnight_later(store, clock):
    saved = store.create(make_incident(concern_at="2026-11-27T10:00:00+00:00",
                                       transfers=[Transfer(sent_to="Hill School", sent_at="yesterday")]))
    clock.now += timedelta(days=14)
    view = compute(store.incidents(), clock.now)
    assert [row["id"] for row in view.unacknowledged_transfers] == [saved.id]


# The CLI -------------------------------------------------------------------------------------------------
@pytest.fixture
def db(tmp_path):
    return str(tmp_path / "data" / "records.json")


def stats(capsys, db: str) -> dict:
    assert main(["stats", "--json", "--db", db]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    return json.loads(out)


def test_cli_stats_on_an_empty_database(capsys, db):
    view = stats(capsys, db)
    assert view["total"] == 0 and view["by_status"] == {key: 0 for key in STATUSES}
    assert view["by_category"] == {key: 0 for key in CATEGORIES} and view["by_month"] == {}
    assert view["open_days"] == DEFAULT_OPEN_DAYS


def test_cli_stats_on_a_seeded_database(capsys, db):
    store = Store(db, user="Alice")
    store.import_records([
        {"summary": "One", "category": "nudes", "concern_at": "2026-10-05T10:00:00+01:00"},
        {"summary": "Two", "category": "nudes", "status": "monitoring", "concern_at": "2026-11-05T10:00:00+00:00"},
        {"summary": "Three", "status": "closed", "outcome": "Done", "concern_at": "2026-11-06T10:00:00+00:00",
         "pupils": [{"name": "Sam Example", "date_of_birth": "2001-01-01"}]},
    ])
    store.set_setting("open_days_warning", "3")
    view = stats(capsys, db)
    assert view["total"] == 3
    assert view["by_status"] == {"open": 1, "awaiting_response": 0, "monitoring": 1, "closed": 1}
    assert view["by_category"]["nudes"] == 2 and view["by_category"]["harmful_content"] == 1
    assert sum(view["by_category"].values()) == 3
    assert view["by_month"] == {"2026-10": 1, "2026-11": 2}
    assert view["open_days"] == 3
    assert sorted(row["summary"] for row in view["open_too_long"]) == ["One", "Two"]
    assert view["retention"] == [{"id": view["retention"][0]["id"], "pupil": "Sam Example",
                                  "review_on": "2026-01-01", "due": True}]
    assert main(["stats", "--db", db]) == 0
    out, _ = capsys.readouterr()
    assert out.startswith("3 incident(s)\n") and "Open for more than 3 days: 2" in out


def test_the_screen_lists_a_few_hundred_under_each_heading_and_counts_them_all():
    from kentsafe_tui.oversight import Oversight, render_text

    view = Oversight(total=500, open_days=14)
    view.open_too_long = [{"id": f"2026-{n:04d}", "summary": f"Case {n}", "status": "open", "days_open": 30}
                          for n in range(1, 501)]
    full = render_text(view)
    short = render_text(view, limit=200)
    assert "Open for more than 14 days: 500" in short and "Open for more than 14 days: 500" in full
    assert "2026-0200" in short and "2026-0201" not in short
    assert "  … and 300 more: kentsafe stats lists them all" in short
    assert "2026-0500" in full and "more: kentsafe stats" not in full
    assert render_text(view, limit=600) == full
