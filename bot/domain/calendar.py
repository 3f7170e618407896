"""Business-time arithmetic (P-SLA-5, P-SLA-7): deadlines, elapsed business time, open hours, work days."""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays

from bot.domain.calendar_spec import (
    DAY_NAMES,
    DAY_OFF_EXPECTED,
    DEFAULT_WEEK_SPEC,
    MINUTES_PER_DAY,
    WEEK_SPEC_EXPECTED,
    DayOff,
    WeekSchedule,
    Window,
    parse_day_off,
    parse_week_spec,
)

__all__ = [
    "DAY_NAMES",
    "DAY_OFF_EXPECTED",
    "DEFAULT_WEEK_SPEC",
    "WEEK_SPEC_EXPECTED",
    "BusinessCalendar",
    "DayOff",
    "WeekSchedule",
    "Window",
    "parse_day_off",
    "parse_week_spec",
]

# Internally every instant is an int of microseconds since the Unix epoch: exact, and cheap to compare.
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)
_ONE_DAY = timedelta(days=1)
_US_PER_MINUTE = 60_000_000

Interval = tuple[int, int]


@dataclass(frozen=True)
class _Corrections:
    """Days of one year whose business time differs from their weekday's nominal time, with prefix sums."""

    days: tuple[date, ...]
    prefix: tuple[int, ...]  # prefix[i] = sum of deficits of days[:i], in microseconds


def _aware_us(value: datetime, what: str) -> int:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} must be a timezone-aware datetime, got naive {value.isoformat()}")
    return (value - _EPOCH) // _US


def _subtract(start: int, end: int, closed: Sequence[Window]) -> list[tuple[int, int]]:
    """The parts of [start, end) (minutes) not covered by any closed window."""
    pieces = [(start, end)]
    for c in closed:
        pieces = [
            piece for a, b in pieces for piece in ((a, min(b, c.start)), (max(a, c.end), b)) if piece[0] < piece[1]
        ]
    return pieces


class BusinessCalendar:
    """Open windows per weekday in one zone, minus Mexican federal holidays and configured days off.

    Business time is real elapsed time inside open windows. Deadlines cost the same whatever their
    distance: the first day is walked, whole 7-day blocks are skipped with arithmetic (a nominal week
    minus per-year prefix sums of holiday, day-off and DST deficits), then whole days by their totals.
    In zones with DST, windows should not start or end inside a skipped or repeated local hour.
    Holiday sets and deficits are cached per year on first use (single-threaded use, as in asyncio).
    """

    def __init__(
        self,
        schedule: WeekSchedule,
        tz: ZoneInfo,
        days_off: Iterable[DayOff] = (),
        country_holidays: bool = True,
    ) -> None:
        self._schedule = schedule
        self._tz = tz
        self._country_holidays = country_holidays
        closed: dict[date, list[Window]] = {}
        for off in days_off:
            closed.setdefault(off.day, []).append(off.closed or Window(0, MINUTES_PER_DAY))
        self._closed = {day: tuple(sorted(windows)) for day, windows in closed.items()}
        self._nominal_us = [sum(w.minutes for w in schedule.windows(wd)) * _US_PER_MINUTE for wd in range(7)]
        self._week_us = sum(self._nominal_us)
        self._holidays: dict[int, frozenset[date]] = {}
        self._corrections: dict[int, _Corrections] = {}
        self._special_totals: dict[date, int] = {}  # business time of days that differ from nominal

    @classmethod
    def from_specs(
        cls,
        week_spec: str = DEFAULT_WEEK_SPEC,
        tz: str | ZoneInfo = "America/Mexico_City",
        days_off: Iterable[str] = (),
        country_holidays: bool = True,
    ) -> BusinessCalendar:
        """Build from the raw BUSINESS_HOURS / TIMEZONE / EXTRA_DAYS_OFF setting values."""
        zone = tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz)
        return cls(parse_week_spec(week_spec), zone, [parse_day_off(i) for i in days_off], country_holidays)

    @property
    def schedule(self) -> WeekSchedule:
        return self._schedule

    @property
    def tz(self) -> ZoneInfo:
        return self._tz

    # --- public API ---------------------------------------------------------------------------

    def add(
        self,
        start: datetime,
        duration: timedelta,
        pauses: Sequence[tuple[datetime, datetime]] = (),
    ) -> datetime:
        """The instant at which `duration` of business time has elapsed after `start` (P-SLA-5).

        Time inside `pauses` does not count (P-SLA-7: waiting for the client). The result may be a
        window's end exactly; a start outside business hours starts the clock at the next window.
        """
        t = _aware_us(start, "start")
        if duration < timedelta(0):
            raise ValueError(f"duration must not be negative, got {duration}")
        remaining = duration // _US
        if remaining == 0:
            return start.astimezone(self._tz)
        for pause_start, pause_end in self._merge_pauses(pauses):
            if pause_end <= t:
                continue
            if pause_start > t:
                before = self._business(t, pause_start)
                if before >= remaining:
                    return self._dt(self._advance(t, remaining))
                remaining -= before
            t = pause_end
        return self._dt(self._advance(t, remaining))

    def between(
        self,
        start: datetime,
        end: datetime,
        pauses: Sequence[tuple[datetime, datetime]] = (),
    ) -> timedelta:
        """Business time in [start, end) not inside any pause (P-SLA-5, P-SLA-7); zero if end <= start."""
        t1, t2 = _aware_us(start, "start"), _aware_us(end, "end")
        merged = self._merge_pauses(pauses)
        if t2 <= t1:
            return timedelta(0)
        total = self._business(t1, t2)
        for pause_start, pause_end in merged:
            total -= self._business(max(pause_start, t1), min(pause_end, t2))
        return timedelta(microseconds=total)

    def is_open(self, instant: datetime) -> bool:
        """Whether `instant` lies inside an open window (P-SLA-5)."""
        t = _aware_us(instant, "instant")
        return any(s <= t < e for s, e in self._day_intervals(self._local_date(t)))

    def next_open(self, instant: datetime) -> datetime:
        """`instant` itself when open, else the start of the next open window."""
        t = _aware_us(instant, "instant")
        day = self._local_date(t)
        while True:  # ends: the week has an open window and closures are finite
            for s, e in self._day_intervals(day):
                if e > t:
                    return self._dt(max(s, t))
            day += _ONE_DAY

    def is_business_day(self, day: date) -> bool:
        """Whether the local date has at least one open window (not a holiday, weekend or day off)."""
        return bool(self._day_intervals(day))

    def add_business_days(self, instant: datetime, n: int) -> datetime:
        """The same local time on the n-th following business day, or that day's next opening (P-CLOSE-3).

        When the time is after that day's last window, the next opening after it. n = 0 is next_open.
        """
        _aware_us(instant, "instant")
        if n < 0:
            raise ValueError(f"n must be 0 or more business days, got {n}")
        if n == 0:
            return self.next_open(instant)
        local = instant.astimezone(self._tz)
        day = local.date()
        found = 0
        while found < n:
            day += _ONE_DAY
            if self.is_business_day(day):
                found += 1
        candidate = (datetime.combine(day, local.time(), tzinfo=self._tz) - _EPOCH) // _US
        for s, e in self._day_intervals(day):
            if candidate < e:
                return self._dt(max(s, candidate))
        return self.next_open(self._dt(candidate))

    # --- days -----------------------------------------------------------------------------------

    def _dt(self, us: int) -> datetime:
        return (_EPOCH + timedelta(microseconds=us)).astimezone(self._tz)

    def _local_date(self, us: int) -> date:
        return self._dt(us).date()

    def _local_us(self, day: date, minute: int) -> int:
        if minute == MINUTES_PER_DAY:
            day, minute = day + _ONE_DAY, 0
        local = datetime.combine(day, time(minute // 60, minute % 60), tzinfo=self._tz)
        return (local - _EPOCH) // _US

    def _is_holiday(self, day: date) -> bool:
        year = self._holidays.get(day.year)
        if year is None:
            year = frozenset()
            if self._country_holidays:
                # Compare dates only: holiday names follow the locale.
                year = frozenset(d for d in holidays.country_holidays("MX", years=day.year) if d.year == day.year)
            self._holidays[day.year] = year
        return day in year

    def _day_intervals(self, day: date) -> list[Interval]:
        """Open intervals of one local date, in epoch microseconds."""
        windows = self._schedule.windows(day.weekday())
        if not windows or self._is_holiday(day):
            return []
        closed = self._closed.get(day, ())
        return [
            (self._local_us(day, a), self._local_us(day, b))
            for w in windows
            for a, b in _subtract(w.start, w.end, closed)
        ]

    def _clipped(self, day: date, lo: int, hi: int) -> int:
        return sum(max(0, min(e, hi) - max(s, lo)) for s, e in self._day_intervals(day))

    # --- weeks ----------------------------------------------------------------------------------

    def _offset_changes(self, year: int) -> list[date]:
        """Local dates of `year` whose UTC offset at midnight differs from the next midnight's (DST)."""

        def offset(day: date) -> timedelta | None:
            return datetime.combine(day, time(0), tzinfo=self._tz).utcoffset()

        first, stop = date(year, 1, 1), date(year, 12, 31)
        samples = [first + timedelta(days=7 * i) for i in range(53) if first + timedelta(days=7 * i) <= stop]
        samples.append(stop)
        changed: list[date] = []
        for a, b in itertools.pairwise(samples):
            if offset(a) != offset(b):
                day = a
                while day < b:
                    if offset(day) != offset(day + _ONE_DAY):
                        changed.append(day)
                    day += _ONE_DAY
        if year < 9999 and offset(stop) != offset(stop + _ONE_DAY):
            changed.append(stop)
        return changed

    def _year_corrections(self, year: int) -> _Corrections:
        found = self._corrections.get(year)
        if found is not None:
            return found
        self._is_holiday(date(year, 1, 1))  # fills the year's holiday set
        special = set(self._holidays[year])
        special.update(d for d in self._closed if d.year == year)
        special.update(self._offset_changes(year))
        days: list[date] = []
        prefix = [0]
        for day in sorted(special):
            actual = sum(e - s for s, e in self._day_intervals(day))
            deficit = self._nominal_us[day.weekday()] - actual
            if deficit:
                days.append(day)
                prefix.append(prefix[-1] + deficit)
                self._special_totals[day] = actual
        found = _Corrections(tuple(days), tuple(prefix))
        self._corrections[year] = found
        return found

    def _day_total(self, day: date) -> int:
        """Business microseconds of a whole local date, without building its intervals."""
        self._year_corrections(day.year)
        return self._special_totals.get(day, self._nominal_us[day.weekday()])

    def _deficit(self, first: date, stop: date) -> int:
        """Business time missing from the dates [first, stop) compared with nominal weeks."""
        total = 0
        for year in range(first.year, stop.year + 1):
            c = self._year_corrections(year)
            total += c.prefix[bisect.bisect_left(c.days, stop)] - c.prefix[bisect.bisect_left(c.days, first)]
        return total

    def _weeks_business(self, first: date, weeks: int) -> int:
        """Business time of `weeks` blocks of 7 days from `first`: any 7 consecutive days hold a nominal week."""
        if weeks == 0:
            return 0
        return weeks * self._week_us - self._deficit(first, first + timedelta(days=7 * weeks))

    def _weeks_to_skip(self, first: date, remaining: int) -> tuple[int, int]:
        """Most 7-day blocks from `first` holding strictly less than `remaining`, and their business time."""
        weeks = consumed = 0
        while True:
            step = (remaining - consumed - 1) // self._week_us
            business = consumed
            while step > 0:
                business = self._weeks_business(first, weeks + step)
                if business < remaining:
                    break
                step //= 2  # only when DST made those weeks longer than nominal
            if step <= 0:
                return weeks, consumed
            weeks, consumed = weeks + step, business

    # --- core -----------------------------------------------------------------------------------

    def _advance(self, t: int, remaining: int) -> int:
        """Earliest instant at which `remaining` (> 0) business microseconds have elapsed after t.

        Walks the first day, skips whole weeks by arithmetic, then whole days by their totals, and
        builds intervals only for the day where the deadline falls: cost does not grow with distance.
        """
        day = self._local_date(t)
        for s, e in self._day_intervals(day):
            s = max(s, t)
            if e > s:
                if e - s >= remaining:
                    return s + remaining
                remaining -= e - s
        day += _ONE_DAY
        weeks, consumed = self._weeks_to_skip(day, remaining)
        day += timedelta(days=7 * weeks)
        remaining -= consumed
        while True:  # ends: at most a week of nominal business time is left, closures are finite
            total = self._day_total(day)
            if total < remaining:
                remaining -= total
            else:
                for s, e in self._day_intervals(day):
                    if e - s >= remaining:
                        return s + remaining
                    remaining -= e - s
            day += _ONE_DAY

    def _business(self, t1: int, t2: int) -> int:
        """Business microseconds in [t1, t2)."""
        if t2 <= t1:
            return 0
        first, last = self._local_date(t1), self._local_date(t2)
        if first == last:
            return self._clipped(first, t1, t2)
        total = self._clipped(first, t1, t2) + self._clipped(last, t1, t2)
        day = first + _ONE_DAY
        weeks = (last - day).days // 7
        total += self._weeks_business(day, weeks)
        day += timedelta(days=7 * weeks)
        while day < last:
            total += self._day_total(day)
            day += _ONE_DAY
        return total

    def _merge_pauses(self, pauses: Sequence[tuple[datetime, datetime]]) -> list[Interval]:
        """Pauses as sorted, disjoint, non-empty intervals; overlapping or touching ones merged."""
        spans: list[Interval] = []
        for pause_start, pause_end in pauses:
            a, b = _aware_us(pause_start, "pause start"), _aware_us(pause_end, "pause end")
            if b < a:
                raise ValueError(f"a pause must not end before it starts: {pause_start} > {pause_end}")
            if b > a:
                spans.append((a, b))
        spans.sort()
        merged: list[Interval] = []
        for a, b in spans:
            if merged and a <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], b))
            else:
                merged.append((a, b))
        return merged
