"""Week schedules and days off (P-SLA-5): the BUSINESS_HOURS and EXTRA_DAYS_OFF settings, parsed."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from datetime import date

DAY_NAMES: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MINUTES_PER_DAY = 24 * 60

DEFAULT_WEEK_SPEC = "mon-fri 09:00-14:00,16:00-19:00"
WEEK_SPEC_EXPECTED = (
    'day ranges like "mon-fri" followed by windows like 09:00-14:00,16:00-19:00, groups separated by ";"'
)
DAY_OFF_EXPECTED = "a date like 2026-12-24, optionally followed by closed hours like 14:00-19:00"

_GROUP = re.compile(r"(?P<days>[A-Za-z,\-]+)\s+(?P<windows>\S.*)")
_DAY_ITEM = re.compile(r"(?P<first>[a-z]+)(?:-(?P<last>[a-z]+))?")
_WINDOW = re.compile(r"(?P<sh>\d{1,2}):(?P<sm>\d{2})\s*-\s*(?P<eh>\d{1,2}):(?P<em>\d{2})")
_DAY_OFF = re.compile(r"(?P<day>\d{4}-\d{2}-\d{2})(?:\s+(?P<window>\S.*))?")


def _fmt_minute(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


@dataclass(frozen=True, order=True)
class Window:
    """A stretch of one local day in minutes after midnight, [start, end); end 1440 stands for 24:00."""

    start: int
    end: int

    def __post_init__(self) -> None:
        if not 0 <= self.start < self.end <= MINUTES_PER_DAY:
            raise ValueError(f"a window needs 00:00 <= start < end <= 24:00, got {self.start}-{self.end}")

    @property
    def minutes(self) -> int:
        return self.end - self.start

    def __str__(self) -> str:
        return f"{_fmt_minute(self.start)}-{_fmt_minute(self.end)}"


@dataclass(frozen=True)
class WeekSchedule:
    """Open windows for each weekday, index 0 = Monday; windows sorted and not overlapping."""

    days: tuple[tuple[Window, ...], ...]

    def __post_init__(self) -> None:
        if len(self.days) != 7:
            raise ValueError("a week schedule needs exactly 7 days (Monday first)")
        for windows in self.days:
            for before, after in itertools.pairwise(windows):
                if after.start < before.end:
                    raise ValueError(f"windows must be sorted and not overlap: {before} and {after}")
        # A week without any open minute would make every deadline infinite.
        if not any(self.days):
            raise ValueError("a week schedule needs at least one open window")

    def windows(self, weekday: int) -> tuple[Window, ...]:
        """Open windows of a weekday (0 = Monday)."""
        return self.days[weekday]

    @property
    def weekly_minutes(self) -> int:
        return sum(w.minutes for windows in self.days for w in windows)

    def __str__(self) -> str:
        """The schedule in the BUSINESS_HOURS syntax, consecutive days with equal windows as ranges."""
        groups: list[str] = []
        day = 0
        while day < 7:
            windows = self.days[day]
            last = day
            while last + 1 < 7 and self.days[last + 1] == windows:
                last += 1
            if windows:
                names = DAY_NAMES[day] if last == day else f"{DAY_NAMES[day]}-{DAY_NAMES[last]}"
                groups.append(f"{names} {','.join(str(w) for w in windows)}")
            day = last + 1
        return "; ".join(groups)


@dataclass(frozen=True)
class DayOff:
    """A company closure on one local date: the whole day (closed is None) or one stretch of it."""

    day: date
    closed: Window | None = None

    def __str__(self) -> str:
        return self.day.isoformat() if self.closed is None else f"{self.day.isoformat()} {self.closed}"


def _week_error(detail: str) -> ValueError:
    # Starts with what is expected: the settings layer prints "expected <message>" to the operator.
    return ValueError(f"{WEEK_SPEC_EXPECTED} ({detail})")


def _parse_minute(hours: str, minutes: str, *, is_end: bool) -> int | None:
    h, m = int(hours), int(minutes)
    if h == 24 and m == 0 and is_end:
        return MINUTES_PER_DAY
    if h > 23 or m > 59:
        return None
    return h * 60 + m


def _parse_window(text: str) -> Window | None:
    """One "HH:MM-HH:MM" window, or None when the text is not one."""
    match = _WINDOW.fullmatch(text.strip())
    if match is None:
        return None
    start = _parse_minute(match["sh"], match["sm"], is_end=False)
    end = _parse_minute(match["eh"], match["em"], is_end=True)
    if start is None or end is None or start >= end:
        return None
    return Window(start, end)


def _parse_days(text: str, group: str) -> list[int]:
    days: list[int] = []
    for item in text.lower().split(","):
        match = _DAY_ITEM.fullmatch(item)
        if match is None:
            raise _week_error(f'bad day list "{text}" in "{group}"')
        names = [match["first"], match["last"] or match["first"]]
        for name in names:
            if name not in DAY_NAMES:
                raise _week_error(f'unknown day "{name}" in "{group}": use mon, tue, wed, thu, fri, sat, sun')
        first, last = DAY_NAMES.index(names[0]), DAY_NAMES.index(names[1])
        if first > last:
            raise _week_error(f'day range "{item}" runs backwards in "{group}"')
        days.extend(range(first, last + 1))
    return days


def parse_week_spec(spec: str) -> WeekSchedule:
    """Parse BUSINESS_HOURS, e.g. "mon-thu 09:00-14:00,16:00-19:00; fri 09:00-15:00" (P-SLA-5)."""
    week: list[tuple[Window, ...] | None] = [None] * 7
    groups = [g.strip() for g in spec.split(";")]
    if not any(groups):
        raise _week_error("empty business hours")
    for group in groups:
        if not group:
            continue  # tolerate "a; b;" from hand-edited .env files
        match = _GROUP.fullmatch(group)
        if match is None:
            raise _week_error(f'cannot read "{group}"')
        windows: list[Window] = []
        for text in match["windows"].split(","):
            window = _parse_window(text)
            if window is None:
                raise _week_error(f'bad window "{text.strip()}" in "{group}": HH:MM-HH:MM, start before end')
            windows.append(window)
        windows.sort()
        for before, after in itertools.pairwise(windows):
            if after.start < before.end:
                raise _week_error(f'windows {before} and {after} overlap in "{group}"')
        for day in _parse_days(match["days"], group):
            if week[day] is not None:
                raise _week_error(f'{DAY_NAMES[day]} appears in more than one group in "{spec.strip()}"')
            week[day] = tuple(windows)
    return WeekSchedule(tuple(w or () for w in week))


def parse_day_off(item: str) -> DayOff:
    """Parse one EXTRA_DAYS_OFF item: "2026-12-24" (whole day) or "2026-12-24 14:00-19:00" (that stretch)."""
    match = _DAY_OFF.fullmatch(item.strip())
    if match is None:
        raise ValueError(f'{DAY_OFF_EXPECTED} (cannot read "{item}")')
    try:
        day = date.fromisoformat(match["day"])
    except ValueError:
        raise ValueError(f'{DAY_OFF_EXPECTED} (no such date "{match["day"]}")') from None
    if match["window"] is None:
        return DayOff(day)
    window = _parse_window(match["window"])
    if window is None:
        raise ValueError(f'{DAY_OFF_EXPECTED} (bad closed hours "{match["window"]}")')
    return DayOff(day, window)
