"""Dates and times as a DSL types them, stored as ISO 8601 with the local offset.

People write "today 14:30", "yesterday", "28/11/2026 09:15" (day first, as in the UK) or paste an ISO
timestamp. Everything is turned into an aware datetime in local time, and stored as text with its offset so
that a record read in another season or on another server still says when things happened.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, timezone

__all__ = [
    "DateError",
    "now_local",
    "parse_when",
    "parse_date",
    "to_iso",
    "from_iso",
    "check_iso",
    "clock_change_note",
    "describe",
    "sort_key",
]

WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
MONTHS = [
    "january", "february", "march", "april", "may", "june",
    "july", "august", "september", "october", "november", "december",
]
EXAMPLES = "for example 'today 14:30', 'yesterday', '28/11/2026 09:15' or '2026-11-28T09:15'"


# Years kentsafe accepts anywhere: a record outside them is a typing slip or a crafted file, and year 1 or
# 9999 overflow when moved between time zones.
MIN_YEAR, MAX_YEAR = 1900, 2999


class DateError(ValueError):
    """A date or time that could not be understood; the message says how to write one."""


def now_local() -> datetime:
    return datetime.now().astimezone().replace(microsecond=0)


def to_iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.astimezone()
    return moment.isoformat(timespec="seconds")


def from_iso(text: str) -> datetime:
    """A stored ISO 8601 instant. Raises ValueError for anything else, or a year outside MIN_YEAR..MAX_YEAR."""
    if not isinstance(text, str):
        raise ValueError(f"{text!r} is not text")
    moment = datetime.fromisoformat(text)
    if not MIN_YEAR <= moment.year <= MAX_YEAR:
        raise ValueError(f"the year {moment.year} is outside {MIN_YEAR} to {MAX_YEAR}")
    try:
        return moment.astimezone() if moment.tzinfo is None else moment
    except (OverflowError, OSError):
        raise ValueError(f"{text!r} cannot be placed in local time") from None


def check_iso(text: object) -> datetime:
    """A stored instant as kentsafe writes it: ISO 8601 with its offset, in a sane year. ValueError if not."""
    moment = from_iso(text)  # type: ignore[arg-type]
    if datetime.fromisoformat(text).tzinfo is None:  # type: ignore[arg-type]
        raise ValueError(f"{text!r} has no offset from UTC (e.g. +00:00)")
    return moment


def sort_key(text: str | None) -> float:
    """Instants compare by UTC, not by text: '09:00+01:00' is earlier than '08:30+00:00'."""
    if not text:
        return float("-inf")
    try:
        return from_iso(text).timestamp()
    except (ValueError, TypeError, OverflowError, OSError):
        return float("-inf")


def describe(moment: datetime | str | None) -> str:
    """'Fri 27 Nov 2026, 14:30' in local time: what the form shows it understood.

    Never raises: a value that is not a date (from a damaged or hand-edited file) is shown as it is, cleaned.
    """
    if moment is None or moment == "":
        return ""
    try:
        if isinstance(moment, str):
            moment = from_iso(moment)
        local = moment.astimezone()
        return local.strftime("%a %d %b %Y, %H:%M")
    except (ValueError, TypeError, OverflowError, OSError, AttributeError):
        from .text import safe_line

        return safe_line(str(moment))[:60]


def _readings(naive: datetime) -> list[datetime]:
    """Every instant whose local wall time is `naive`: one, two when the clocks went back (an hour that
    happens twice), none when they went forward (an hour that never happens)."""
    found: list[datetime] = []
    for probe in (naive - timedelta(hours=6), naive + timedelta(hours=6)):
        try:
            offset = probe.astimezone().utcoffset()
        except (OverflowError, OSError, ValueError):
            continue
        if offset is None:
            continue
        moment = (naive - offset).replace(tzinfo=timezone.utc).astimezone()
        if moment.replace(tzinfo=None) == naive and moment not in found:
            found.append(moment)
    return sorted(found)


def _localise(naive: datetime) -> datetime:
    """A typed wall time in local time. In an hour that happens twice, the first; in an hour skipped when the
    clocks go forward, the same moment read with the offset from before the change (01:30 becomes 02:30)."""
    found = _readings(naive)
    if found:
        return found[0]
    try:
        offset = (naive - timedelta(hours=6)).astimezone().utcoffset() or timedelta(0)
        return (naive - offset).replace(tzinfo=timezone.utc).astimezone()
    except (OverflowError, OSError, ValueError):
        return naive.astimezone()


def clock_change_note(typed: str, now: datetime | None = None) -> str | None:
    """What kentsafe made of a time typed in an hour the clocks change, in words; None for any other time.

    For the form to show beside "Understood as", so a DSL knows which time was recorded."""
    try:
        moment = parse_when(typed, now)
    except DateError:
        return None
    stripped = typed.strip().lower()
    if re.match(r"\d{4}-\d{2}-\d{2}t", stripped) and re.search(r"([+-]\d{2}:?\d{2}|z)$", stripped):
        return None  # an offset was given: nothing to choose
    wall = moment.astimezone()
    readings = _readings(wall.replace(tzinfo=None))
    if len(readings) > 1:
        other = readings[1] if readings[0] == moment else readings[0]
        return (f"{wall:%H:%M} on {wall:%a %d %b %Y} happens twice (the clocks went back): understood as "
                f"{wall:%H:%M %Z} (UTC{wall:%z}); the other is {other:%H:%M %Z} (UTC{other:%z})")
    try:
        typed_wall = _parse_wall(typed, now or now_local())
    except DateError:
        return None
    if typed_wall.tzinfo is None and not _readings(typed_wall):
        return (f"{typed_wall:%H:%M} did not happen on {typed_wall:%a %d %b %Y} (the clocks went forward): "
                f"understood as {wall:%H:%M %Z}")
    return None


def _parse_time(text: str) -> time:
    match = re.fullmatch(r"(\d{1,2})(?:[:.](\d{2}))?\s*(am|pm)?", text)
    if not match:
        raise DateError(f"'{text}' is not a time: write it as 14:30 or 2:30pm")
    hour, minute, half = int(match.group(1)), int(match.group(2) or 0), match.group(3)
    if match.group(2) is None and half is None:
        raise DateError(f"'{text}' is not a time: write it as 14:30 or 2:30pm")
    if half:
        if not 1 <= hour <= 12:
            raise DateError(f"'{text}' is not a time: with am or pm the hour is 1 to 12")
        hour = hour % 12 + (12 if half == "pm" else 0)
    if hour > 23 or minute > 59:
        raise DateError(f"'{text}' is not a time of day")
    return time(hour, minute)


def _month_number(word: str) -> int | None:
    for number, name in enumerate(MONTHS, start=1):
        if len(word) >= 3 and name.startswith(word):
            return number
    return None


def _make_date(year: int, month: int, day: int, original: str) -> date:
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise DateError(f"'{original}': the year {year} is not one kentsafe can record ({MIN_YEAR} to {MAX_YEAR})")
    if not 1 <= month <= 12:
        if 1 <= day <= 12:
            raise DateError(f"'{original}': {month} is not a month. Dates are day first, as in 28/11/2026")
        raise DateError(f"'{original}': {month} is not a month")
    try:
        return date(year, month, day)
    except ValueError:
        raise DateError(f"'{original}': that month has no day {day}") from None


def _parse_day(text: str, today: date) -> date | None:
    """The date part: relative words, weekdays, day-first numbers, or '28 Nov 2026'. None if not a date."""
    if text == "today":
        return today
    if text == "yesterday":
        return today - timedelta(days=1)
    if text in WEEKDAYS or (len(text) >= 3 and any(w.startswith(text) for w in WEEKDAYS)):
        wanted = next(i for i, w in enumerate(WEEKDAYS) if w.startswith(text))
        back = (today.weekday() - wanted) % 7
        return today - timedelta(days=back)
    numeric = re.fullmatch(r"(\d{1,2})([/.-])(\d{1,2})(?:\2(\d{2}|\d{4}))?", text)
    if numeric and not (numeric.group(2) == "." and numeric.group(4) is None):  # "9.15" is a time
        day, month = int(numeric.group(1)), int(numeric.group(3))
        year_text = numeric.group(4)
        year = today.year if year_text is None else int(year_text) + (2000 if len(year_text) == 2 else 0)
        return _make_date(year, month, day, text)
    iso = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", text)
    if iso:
        return _make_date(int(iso.group(1)), int(iso.group(2)), int(iso.group(3)), text)
    words = re.fullmatch(r"(\d{1,2})(?:st|nd|rd|th)?\s+([a-z]+)\.?(?:\s+(\d{4}))?", text)
    if words:
        month = _month_number(words.group(2))
        if month is None:
            raise DateError(f"'{text}': '{words.group(2)}' is not a month")
        year = int(words.group(3)) if words.group(3) else today.year
        return _make_date(year, month, int(words.group(1)), text)
    return None


def parse_when(text: str, now: datetime | None = None) -> datetime:
    """Understand a date and time as typed. A date without a time means 00:00 that day.

    Raises DateError with a message a DSL can act on. A time in an hour the clocks change is read as
    `_localise` says; `clock_change_note` puts that in words.
    """
    moment = _parse_wall(text, now or now_local())
    return _localise(moment) if moment.tzinfo is None else moment


def _parse_wall(text: str, now: datetime) -> datetime:
    """The typed moment: aware when the text gave an offset (or said "now"), else the local wall time, naive."""
    raw = " ".join(text.strip().split())
    cleaned = raw.lower().replace(",", " ").replace(" at ", " ")
    cleaned = " ".join(cleaned.split())
    if not cleaned:
        raise DateError(f"Give a date and time, {EXAMPLES}")
    if cleaned == "now":
        return now
    if "t" in cleaned and re.match(r"\d{4}-\d{2}-\d{2}t", cleaned):
        try:
            moment = datetime.fromisoformat(raw.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            raise DateError(f"'{raw}' is not a date and time: {EXAMPLES}") from None
        if not MIN_YEAR <= moment.year <= MAX_YEAR:
            raise DateError(f"'{raw}': the year {moment.year} is not one kentsafe can record ({MIN_YEAR} to {MAX_YEAR})")
        return moment
    # "28 nov 2026 14:30", "yesterday 16:05", "14:30", "28/11/2026 9.15am"
    parts = cleaned.split(" ")
    for split_at in range(len(parts), -1, -1):
        day_text, time_text = " ".join(parts[:split_at]), " ".join(parts[split_at:])
        if day_text and time_text == "":
            day = _parse_day(day_text, now.date())
            if day is not None:
                return datetime.combine(day, time(0, 0))
            continue
        if not day_text:
            if re.fullmatch(r"\d{1,2}([:.]\d{2})?\s*(am|pm)?", time_text) and (
                ":" in time_text or "." in time_text or time_text.endswith(("am", "pm"))
            ):
                return datetime.combine(now.date(), _parse_time(time_text))
            continue
        day = _parse_day(day_text, now.date())
        if day is not None:
            return datetime.combine(day, _parse_time(time_text.replace(" ", "")))
    raise DateError(f"'{raw}' is not a date we understand: {EXAMPLES}")


def parse_date(text: str, now: datetime | None = None) -> date:
    """A calendar date only (a date of birth, a transfer date): the same forms, no time."""
    now = now or now_local()
    cleaned = " ".join(text.strip().lower().replace(",", " ").split())
    if not cleaned:
        raise DateError("Give a date, for example 28/11/2026")
    day = _parse_day(cleaned, now.date())
    if day is None:
        try:
            day = date.fromisoformat(cleaned)
        except ValueError:
            raise DateError(f"'{text.strip()}' is not a date: write it day first, as 28/11/2026") from None
        if not MIN_YEAR <= day.year <= MAX_YEAR:
            raise DateError(f"'{text.strip()}': the year {day.year} is not one kentsafe can record "
                            f"({MIN_YEAR} to {MAX_YEAR})")
    return day
