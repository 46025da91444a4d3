from datetime import date, datetime

import pytest

from kentsafe_tui.dates import DateError, describe, parse_date, parse_when, sort_key, to_iso

NOW = datetime(2026, 11, 28, 15, 0).astimezone()  # a Saturday


@pytest.mark.parametrize(
    "typed, expected",
    [
        ("now", "2026-11-28T15:00:00+00:00"),
        ("today 14:30", "2026-11-28T14:30:00+00:00"),
        ("Today, 2:30pm", "2026-11-28T14:30:00+00:00"),
        ("yesterday", "2026-11-27T00:00:00+00:00"),
        ("yesterday 16:05", "2026-11-27T16:05:00+00:00"),
        ("14:30", "2026-11-28T14:30:00+00:00"),
        ("9.15am", "2026-11-28T09:15:00+00:00"),
        ("28/11/2026 09:15", "2026-11-28T09:15:00+00:00"),
        ("3/11/2026 09:15", "2026-11-03T09:15:00+00:00"),  # day first: 3 November, not 11 March
        ("28/11/26", "2026-11-28T00:00:00+00:00"),
        ("27/11", "2026-11-27T00:00:00+00:00"),
        ("28-11-2026 at 10:00", "2026-11-28T10:00:00+00:00"),
        ("2026-11-28", "2026-11-28T00:00:00+00:00"),
        ("2026-11-28 09:15", "2026-11-28T09:15:00+00:00"),
        ("2026-11-28T09:15", "2026-11-28T09:15:00+00:00"),
        ("2026-11-28T09:15:00+01:00", "2026-11-28T09:15:00+01:00"),
        ("2026-11-28T09:15:00Z", "2026-11-28T09:15:00+00:00"),
        ("26 Nov 2026 08:00", "2026-11-26T08:00:00+00:00"),
        ("26th November", "2026-11-26T00:00:00+00:00"),
        ("thu 13:00", "2026-11-26T13:00:00+00:00"),
        ("monday", "2026-11-23T00:00:00+00:00"),
        ("15/07/2026 10:00", "2026-07-15T10:00:00+01:00"),  # summer time gets its own offset
    ],
)
def test_dates_as_people_type_them(typed, expected):
    assert to_iso(parse_when(typed, NOW)) == expected


@pytest.mark.parametrize(
    "typed, says",
    [
        ("", "Give a date"),
        ("11/28/2026", "28 is not a month. Dates are day first"),
        ("31/11/2026", "has no day 31"),
        ("25:00", "not a time"),
        ("13pm", "hour is 1 to 12"),
        ("last week sometime", "not a date we understand"),
        ("2026-13-01T10:00", "not a date and time"),
    ],
)
def test_dates_that_cannot_be_understood_say_how_to_write_one(typed, says):
    with pytest.raises(DateError, match=says):
        parse_when(typed, NOW)


def test_calendar_dates_for_birthdays_and_transfers():
    assert parse_date("03/04/2012", NOW) == date(2012, 4, 3)
    assert parse_date("2012-04-03", NOW) == date(2012, 4, 3)
    with pytest.raises(DateError, match="day first"):
        parse_date("April third", NOW)


def test_instants_sort_by_time_not_by_text():
    summer = "2026-07-01T09:00:00+01:00"  # 08:00 UTC
    later = "2026-07-01T08:30:00+00:00"  # 08:30 UTC, but sorts first as text
    assert sort_key(summer) < sort_key(later)
    assert sorted([later, summer]) == [later, summer]  # the trap: text order is wrong


def test_describe_shows_local_time_in_words():
    assert describe("2026-11-28T14:30:00+00:00") == "Sat 28 Nov 2026, 14:30"
    assert describe("") == ""
