"""Brute-force business calendar for tests: steps one minute at a time, deliberately naive and independent."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

MINUTE = timedelta(minutes=1)


@dataclass
class ReferenceCalendar:
    """Plain data: windows[weekday] = [(start_minute, end_minute)], holidays and closures as sets.

    Works on whole-minute, fixed-offset local time (America/Mexico_City has no DST since 2022),
    which keeps the minute loop simple enough to trust.
    """

    windows: dict[int, list[tuple[int, int]]]
    tz: ZoneInfo
    holidays: set[date] = field(default_factory=set)
    whole_days_off: set[date] = field(default_factory=set)
    partial_days_off: dict[date, list[tuple[int, int]]] = field(default_factory=dict)

    def _open_minute(self, local: datetime) -> bool:
        day = local.date()
        if day in self.holidays or day in self.whole_days_off:
            return False
        minute = local.hour * 60 + local.minute
        for start, end in self.partial_days_off.get(day, []):
            if start <= minute < end:
                return False
        return any(start <= minute < end for start, end in self.windows.get(local.weekday(), []))

    def _check(self, *instants: datetime) -> None:
        for instant in instants:
            assert instant.second == 0 and instant.microsecond == 0, "reference works on whole minutes"

    def _naive(self, instant: datetime) -> datetime:
        """Local wall time without zone: exact because the offset is fixed (checked)."""
        local = instant.astimezone(self.tz)
        assert local.utcoffset() == self._offset, "reference only supports a fixed UTC offset"
        return local.replace(tzinfo=None)

    def _aware(self, local: datetime) -> datetime:
        aware = local.replace(tzinfo=self.tz)
        assert aware.utcoffset() == self._offset, "reference only supports a fixed UTC offset"
        return aware

    @property
    def _offset(self) -> timedelta | None:
        return datetime(2026, 1, 1, tzinfo=self.tz).utcoffset()

    def add(self, start: datetime, minutes: int, pauses: Sequence[tuple[datetime, datetime]] = ()) -> datetime:
        """Step minute by minute until `minutes` open, unpaused minutes have been counted."""
        self._check(start, *[p for pair in pauses for p in pair])
        if minutes == 0:
            return start
        local = self._naive(start)
        naive_pauses = [(self._naive(a), self._naive(b)) for a, b in pauses]
        counted = 0
        while True:
            paused = any(a <= local < b for a, b in naive_pauses)
            if not paused and self._open_minute(local):
                counted += 1
            local += MINUTE
            if counted == minutes:
                return self._aware(local)

    def between(self, start: datetime, end: datetime, pauses: Sequence[tuple[datetime, datetime]] = ()) -> int:
        """Open, unpaused minutes in [start, end)."""
        self._check(start, end, *[p for pair in pauses for p in pair])
        local, stop = self._naive(start), self._naive(end)
        naive_pauses = [(self._naive(a), self._naive(b)) for a, b in pauses]
        counted = 0
        while local < stop:
            if not any(a <= local < b for a, b in naive_pauses) and self._open_minute(local):
                counted += 1
            local += MINUTE
        return counted


def mexico_holidays(years: Iterable[int]) -> set[date]:
    """The federal rest days of LIMITS.md (Ley Federal del Trabajo art. 74), computed by hand."""

    def nth_monday(year: int, month: int, n: int) -> date:
        first = date(year, month, 1)
        return first + timedelta(days=(7 - first.weekday()) % 7 + 7 * (n - 1))

    days: set[date] = set()
    for year in years:
        days |= {
            date(year, 1, 1),
            nth_monday(year, 2, 1),
            nth_monday(year, 3, 3),
            date(year, 5, 1),
            date(year, 9, 16),
            nth_monday(year, 11, 3),
            date(year, 12, 25),
        }
        if (year - 2024) % 6 == 0:  # transfer of the federal executive (2024, 2030)
            days.add(date(year, 10, 1))
    return days
