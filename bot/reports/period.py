"""The span a report covers: a calendar month or a from/to range of local days, in the business zone."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

__all__ = ["Period", "PeriodError", "month_period", "range_period", "week_period"]


class PeriodError(ValueError):
    """The period asked for cannot be read (bad month, end before start); `key` and `params` name the sentence in
    the catalogues (cli.period.*), str() is the English line."""

    def __init__(self, key: str, message: str, **params: object) -> None:
        super().__init__(message)
        self.key = key
        self.params = params


@dataclass(frozen=True)
class Period:
    """[start, end) as instants in the business zone; `label` names it in files ("2026-11")."""

    start: datetime
    end: datetime
    label: str

    @property
    def first_day(self) -> date:
        return self.start.date()

    @property
    def last_day(self) -> date:
        return (self.end - timedelta(microseconds=1)).date()

    def holds(self, instant: datetime) -> bool:
        return self.start <= instant < self.end


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone)


def month_period(text: str, zone: ZoneInfo) -> Period:
    """ "2026-11" -> 1 Nov 00:00 .. 1 Dec 00:00 local. Raises PeriodError."""
    found = re.fullmatch(r"(\d{4})-(\d{2})", text.strip())
    if found is None or not 1 <= int(found.group(2)) <= 12:
        raise PeriodError("month", f"{text!r} is not a month like 2026-11", value=text)
    year, month = int(found.group(1)), int(found.group(2))
    first = date(year, month, 1)
    following = date(year + (month == 12), month % 12 + 1, 1)
    return Period(_midnight(first, zone), _midnight(following, zone), f"{year:04d}-{month:02d}")


def range_period(first: date, last: date, zone: ZoneInfo) -> Period:
    """The local days first..last, both included. Raises PeriodError."""
    if last < first:
        raise PeriodError("backwards", f"the period ends ({last}) before it starts ({first})", first=first, last=last)
    return Period(_midnight(first, zone), _midnight(last + timedelta(days=1), zone), f"{first}_{last}")


def week_period(monday: date, zone: ZoneInfo) -> Period:
    """The seven days before `monday` (the week a Monday digest looks back on)."""
    return range_period(monday - timedelta(days=7), monday - timedelta(days=1), zone)
