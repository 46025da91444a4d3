"""What a DSL and governors need to see across all records: counts, and what is slipping.

Plain Python over `Incident` records; the CLI's `stats` and the app's oversight screen both draw on it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from .dates import from_iso, parse_date
from .model import CATEGORIES, STATUSES, Incident

DEFAULT_OPEN_DAYS = 14
RETENTION_YEARS = 25  # IRMS toolkit: date of birth + 25 years; KCSIE sets no period
TRANSFER_SCHOOL_DAYS = 5


def add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def school_days_between(start: date, end: date) -> int:
    """Weekdays after `start` up to and including `end`. Holidays are not known to kentsafe."""
    days, current = 0, start
    while current < end:
        current += timedelta(days=1)
        if current.weekday() < 5:
            days += 1
    return days


@dataclass
class Oversight:
    total: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    by_category: dict[str, int] = field(default_factory=dict)
    by_month: dict[str, int] = field(default_factory=dict)
    open_too_long: list[dict[str, Any]] = field(default_factory=list)
    items_to_do: list[dict[str, Any]] = field(default_factory=list)
    unacknowledged_transfers: list[dict[str, Any]] = field(default_factory=list)
    retention: list[dict[str, Any]] = field(default_factory=list)
    stale_guidance: list[dict[str, Any]] = field(default_factory=list)
    # A yes to a refer-at-once question, yet "Not referred": always listed, with the reason given (if any).
    refer_now_not_referred: list[dict[str, Any]] = field(default_factory=list)
    open_days: int = DEFAULT_OPEN_DAYS

    def to_dict(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "by_status": self.by_status,
            "by_category": self.by_category,
            "by_month": self.by_month,
            "open_days": self.open_days,
            "open_too_long": self.open_too_long,
            "items_to_do": self.items_to_do,
            "unacknowledged_transfers": self.unacknowledged_transfers,
            "retention": self.retention,
            "stale_guidance": self.stale_guidance,
            "refer_now_not_referred": self.refer_now_not_referred,
        }


def compute(
    incidents: list[Incident], now: datetime, open_days: int = DEFAULT_OPEN_DAYS,
    stale: list[tuple[str, str, date | None]] | None = None,
) -> Oversight:
    """`stale` lists guidance documents past review as (file, title, due date)."""
    result = Oversight(total=len(incidents), open_days=open_days)
    statuses: Counter[str] = Counter({key: 0 for key in STATUSES})
    categories: Counter[str] = Counter({key: 0 for key in CATEGORIES})
    months: Counter[str] = Counter()
    today = now.date()
    for incident in incidents:
        statuses[incident.status] += 1
        categories[incident.category] += 1
        try:  # a record damaged by hand never stops the counts: it is counted under "unknown"
            concern = from_iso(incident.concern_at)
            months[concern.astimezone().strftime("%Y-%m")] += 1
        except (ValueError, TypeError, OverflowError):
            concern = now
            months["unknown"] += 1
        if not incident.is_closed:
            age = (now - concern).days
            if age > open_days:
                result.open_too_long.append(
                    {"id": incident.id, "summary": incident.summary, "status": incident.status, "days_open": age}
                )
            todo = [item for item in incident.checklist if item.state == "todo"]
            if todo:
                result.items_to_do.append(
                    {"id": incident.id, "summary": incident.summary, "to_do": len(todo), "of": len(incident.checklist)}
                )
        if incident.refer_now() and incident.referral_decision == "not_referred":
            yes = sorted(question for question, answer in incident.referral_check.items() if answer == "yes")
            reason = next((d.reason for d in reversed(incident.decisions)
                           if d.decision.startswith("Not referred, although")), "")
            result.refer_now_not_referred.append(
                {"id": incident.id, "summary": incident.summary, "answered_yes": yes, "reason": reason}
            )
        for transfer in incident.transfers:
            if transfer.sent_at and not transfer.acknowledged_at:
                try:
                    waited = school_days_between(parse_date(transfer.sent_at, now), today)
                except ValueError:
                    continue
                if waited > TRANSFER_SCHOOL_DAYS:
                    result.unacknowledged_transfers.append(
                        {"id": incident.id, "sent_to": transfer.sent_to, "sent_at": transfer.sent_at,
                         "school_days": waited}
                    )
        for pupil in incident.pupils:
            if pupil.date_of_birth:
                try:
                    review = add_years(parse_date(pupil.date_of_birth, now), RETENTION_YEARS)
                except ValueError:
                    continue
                result.retention.append(
                    {"id": incident.id, "pupil": pupil.name, "review_on": review.isoformat(), "due": review <= today}
                )
    result.by_status = dict(statuses)
    result.by_category = dict(categories)
    result.by_month = dict(sorted(months.items()))
    result.open_too_long.sort(key=lambda row: -row["days_open"])
    result.items_to_do.sort(key=lambda row: -row["to_do"])
    result.retention.sort(key=lambda row: row["review_on"])
    result.stale_guidance = [
        {"file": name, "title": title, "due": due.isoformat() if due else ""} for name, title, due in (stale or [])
    ]
    return result


def bar(count: int, largest: int, width: int = 30) -> str:
    """A bar of block characters for a terminal chart; any count above zero shows at least a sliver."""
    if largest <= 0 or count <= 0:
        return ""
    eighths = max(1, round(count / largest * width * 8))
    full, part = divmod(eighths, 8)
    return "█" * full + ("", "▏", "▎", "▍", "▌", "▋", "▊", "▉")[part]


def chart(counts: dict[str, int], labels: dict[str, str] | None = None, width: int = 30) -> list[str]:
    labels = labels or {}
    largest = max(counts.values(), default=0)
    names = {key: labels.get(key, key) for key in counts}
    pad = max((len(name) for name in names.values()), default=0)
    return [f"{names[key]:<{pad}}  {count:>5}  {bar(count, largest, width)}".rstrip() for key, count in counts.items()]


def render_text(view: Oversight, limit: int | None = None) -> str:
    """The view as text. `limit` lists at most that many incidents under each heading (the app's screen: at
    50,000 incidents the full text ran to 82,000 lines, and drawing them froze the screen for 15 s), saying
    how many more there are; the headings always count them all."""
    def listed(rows: list[dict[str, Any]], line: Callable[[dict[str, Any]], str]) -> list[str]:
        shown = rows if limit is None else rows[:limit]
        more = len(rows) - len(shown)
        return [line(row) for row in shown] + ([f"  … and {more:,} more: kentsafe stats lists them all"] if more else [])

    lines = [f"{view.total} incident(s)", ""]
    if view.refer_now_not_referred:
        lines += [f"NOT REFERRED despite a yes to a refer-at-once question: {len(view.refer_now_not_referred)}"]
        lines += listed(view.refer_now_not_referred, lambda row: f"  {row['id']}  yes to {', '.join(row['answered_yes'])}"
                        f"  reason: {row['reason'] or '(none recorded)'}  {row['summary']}")
        lines += [""]
    lines += ["By status"]
    lines += ["  " + line for line in chart(view.by_status, STATUSES)]
    lines += ["", "By category"] + ["  " + line for line in chart(view.by_category, CATEGORIES)]
    lines += ["", "By month the concern arose"] + ["  " + line for line in chart(view.by_month)]
    lines += ["", f"Open for more than {view.open_days} days: {len(view.open_too_long)}"]
    lines += listed(view.open_too_long, lambda row: f"  {row['id']}  {row['days_open']} days  {row['summary']}")
    lines += ["", f"Checklist items still to do: {sum(row['to_do'] for row in view.items_to_do)}"]
    lines += listed(view.items_to_do, lambda row: f"  {row['id']}  {row['to_do']} of {row['of']}  {row['summary']}")
    lines += ["", f"Transfers not acknowledged after {TRANSFER_SCHOOL_DAYS} school days: "
                  f"{len(view.unacknowledged_transfers)}"]
    lines += listed(view.unacknowledged_transfers, lambda row: f"  {row['id']}  sent to {row['sent_to']} on "
                    f"{row['sent_at']} ({row['school_days']} school days)")
    lines += ["", f"Retention reviews (date of birth + {RETENTION_YEARS} years): {len(view.retention)}"]
    lines += listed(view.retention, lambda row: f"  {row['id']}  {row['pupil']}  {row['review_on']}"
                    f"{'  DUE' if row['due'] else ''}")
    lines += ["", f"Guidance past its review date: {len(view.stale_guidance)}"]
    lines += [f"  {row['file']}  due {row['due']}  {row['title']}" for row in view.stale_guidance]
    return "\n".join(lines)
