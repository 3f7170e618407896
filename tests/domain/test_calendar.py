"""Tests of the business calendar (P-SLA-5 business hours, P-SLA-7 client pauses, P-CLOSE-3 business days)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import bot.domain.calendar as calendar_module
from bot.domain.calendar import (
    DAY_OFF_EXPECTED,
    WEEK_SPEC_EXPECTED,
    BusinessCalendar,
    DayOff,
    WeekSchedule,
    Window,
    parse_day_off,
    parse_week_spec,
)

from .calendar_reference import ReferenceCalendar, mexico_holidays

MX = ZoneInfo("America/Mexico_City")
H = timedelta(hours=1)
CAL = BusinessCalendar.from_specs()
REF = ReferenceCalendar({d: [(540, 840), (960, 1140)] for d in range(5)}, MX, mexico_holidays(range(2026, 2030)))


def mx(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=MX)


# --- parsing (P-SLA-5 configuration) ---------------------------------------------------------------


def test_default_spec_is_policy_hours_p_sla_5() -> None:
    schedule = parse_week_spec("mon-fri 09:00-14:00,16:00-19:00")
    assert [schedule.windows(d) for d in range(7)] == [(Window(540, 840), Window(960, 1140))] * 5 + [()] * 2
    assert schedule.weekly_minutes == 5 * 8 * 60


def test_groups_single_days_lists_24h_and_unsorted_windows() -> None:
    schedule = parse_week_spec(" MON-thu 16:00-19:00 , 09:00-14:00; fri 09:00-15:00;sat,sun 20:00-24:00 ")
    assert schedule.windows(0) == (Window(540, 840), Window(960, 1140))
    assert schedule.windows(3) == schedule.windows(0)
    assert schedule.windows(4) == (Window(540, 900),)
    assert schedule.windows(5) == schedule.windows(6) == (Window(1200, 1440),)
    assert str(schedule) == "mon-thu 09:00-14:00,16:00-19:00; fri 09:00-15:00; sat-sun 20:00-24:00"
    assert parse_week_spec(str(schedule)) == schedule


@pytest.mark.parametrize(
    ("spec", "detail"),
    [
        ("", "empty"),
        (" ; ", "empty"),
        ("mon-fri", "cannot read"),
        ("09:00-14:00", "cannot read"),
        ("mom-fri 09:00-14:00", 'unknown day "mom"'),
        ("fri-mon 09:00-14:00", "runs backwards"),
        ("mon-fri 9-14", 'bad window "9-14"'),
        ("mon-fri 14:00-09:00", 'bad window "14:00-09:00"'),
        ("mon-fri 09:00-09:00", "bad window"),
        ("mon-fri 09:00-24:30", "bad window"),
        ("mon-fri 24:00-24:00", "bad window"),
        ("mon-fri 09:60-14:00", "bad window"),
        ("mon-fri 09:00-14:00,", 'bad window ""'),
        ("mon-fri 09:00-14:00,13:00-19:00", "overlap"),
        ("mon-fri 09:00-14:00; fri 16:00-19:00", "fri appears in more than one group"),
        ("mon--fri 09:00-14:00", "bad day list"),
    ],
)
def test_bad_week_spec_rejected_with_expected_format_p_sla_5(spec: str, detail: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_week_spec(spec)
    assert detail in str(info.value)
    assert str(info.value).startswith(WEEK_SPEC_EXPECTED)  # settings shows "expected <message>"


def test_week_schedule_invariants() -> None:
    with pytest.raises(ValueError, match="at least one open window"):
        WeekSchedule(((),) * 7)
    with pytest.raises(ValueError, match="exactly 7"):
        WeekSchedule(((Window(0, 60),),) * 5)
    with pytest.raises(ValueError, match="overlap"):
        WeekSchedule(((Window(0, 60), Window(30, 90)),) + ((),) * 6)
    with pytest.raises(ValueError):
        Window(600, 600)
    with pytest.raises(ValueError):
        Window(0, 1441)


def test_day_off_items() -> None:
    assert parse_day_off("2026-12-24") == DayOff(date(2026, 12, 24))
    assert parse_day_off(" 2026-12-24  14:00-19:00 ") == DayOff(date(2026, 12, 24), Window(840, 1140))
    assert str(parse_day_off("2026-12-24 14:00-24:00")) == "2026-12-24 14:00-24:00"


@pytest.mark.parametrize(
    "item",
    ["", "24/12/2026", "2026-13-01", "2026-02-30", "20261224", "2026-12-24 19:00-14:00", "2026-12-24 tarde"],
)
def test_bad_day_off_rejected_with_expected_format(item: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_day_off(item)
    assert str(info.value).startswith(DAY_OFF_EXPECTED)


# --- deadlines (P-SLA-5) ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("opened", "hours", "due"),
    [
        (mx(2026, 11, 23, 10), 8, mx(2026, 11, 24, 10)),  # LIMITS.md worked example
        (mx(2026, 11, 25, 14, 30), 8, mx(2026, 11, 26, 14)),  # opened at lunch: clock starts 16:00
        (mx(2026, 11, 24, 18), 1, mx(2026, 11, 24, 19)),  # lands exactly on a window end
        (mx(2026, 11, 24, 9), 5, mx(2026, 11, 24, 14)),  # morning window end, not 16:00
        (mx(2026, 11, 24, 20), 1, mx(2026, 11, 25, 10)),  # after hours: next window start
        (mx(2026, 11, 24, 7), 1, mx(2026, 11, 24, 10)),  # before opening
        (mx(2026, 11, 27, 18), 2, mx(2026, 11, 30, 10)),  # across the weekend
        (mx(2026, 11, 28, 12), 1, mx(2026, 11, 30, 10)),  # opened on Saturday
        (mx(2026, 11, 16, 10), 1, mx(2026, 11, 17, 10)),  # opened on a holiday (Revolution Day)
        (mx(2026, 12, 31, 18, 30), 8, mx(2027, 1, 4, 18, 30)),  # year end, 1 Jan holiday, weekend
    ],
)
def test_deadline_examples_p_sla_5(opened: datetime, hours: int, due: datetime) -> None:
    assert CAL.add(opened, hours * H) == due
    assert REF.add(opened, hours * 60) == due


def test_deadline_exact_to_the_microsecond_and_in_calendar_zone_p_sla_5() -> None:
    opened = datetime(2026, 11, 24, 19, 59, 59, 250_000, tzinfo=UTC)  # 13:59:59.25 local
    due = CAL.add(opened, timedelta(hours=1, seconds=1))
    assert due == mx(2026, 11, 24, 17) + timedelta(microseconds=250_000)  # 0.75 s, lunch, 1 h 0.25 s
    assert due.tzinfo is MX
    assert CAL.between(opened, due) == timedelta(hours=1, seconds=1)


def test_zero_duration_returns_start_even_when_closed() -> None:
    saturday = datetime(2026, 11, 28, 18, tzinfo=UTC)
    assert CAL.add(saturday, timedelta(0)) == saturday
    assert CAL.add(saturday, timedelta(0)).tzinfo is MX


def test_long_deadline_matches_reference_over_a_year_p_sla_5() -> None:
    opened = mx(2026, 1, 5, 10, 17)
    due = CAL.add(opened, 2000 * H)
    assert due == REF.add(opened, 2000 * 60)
    assert CAL.between(opened, due) == 2000 * H


@pytest.mark.parametrize(
    "day",
    [date(2026, m, d) for m, d in [(1, 1), (2, 2), (3, 16), (5, 1), (9, 16), (11, 16), (12, 25)]]
    + [date(2027, m, d) for m, d in [(1, 1), (2, 1), (3, 15), (5, 1), (9, 16), (11, 15), (12, 25)]],
)
def test_limits_md_holidays_closed_p_sla_5(day: date) -> None:
    assert not CAL.is_business_day(day)
    assert not CAL.is_open(datetime(day.year, day.month, day.day, 10, tzinfo=MX))
    assert day in REF.holidays  # the hand-computed reference agrees with LIMITS.md


def test_closed_days_follow_the_law_2024_to_2031_p_sla_5() -> None:
    """Every weekday the calendar closes is an art. 74 rest day, and every such weekday is closed."""
    law = mexico_holidays(range(2024, 2032))
    assert date(2030, 10, 1) in law  # transfer of the federal executive
    day = date(2024, 1, 1)
    while day < date(2032, 1, 1):
        if day.weekday() < 5:
            assert CAL.is_business_day(day) is (day not in law), day
        day += timedelta(days=1)


@pytest.mark.parametrize(
    "day", [date(2026, 12, 24), date(2026, 12, 31), date(2026, 4, 2), date(2027, 3, 25), date(2027, 12, 24)]
)
def test_christmas_eve_new_years_eve_and_holy_thursday_open_p_sla_5(day: date) -> None:
    assert CAL.is_business_day(day)
    assert CAL.is_open(datetime(day.year, day.month, day.day, 10, tzinfo=MX))


def test_country_holidays_can_be_turned_off() -> None:
    plain = BusinessCalendar.from_specs(country_holidays=False)
    assert plain.is_open(mx(2026, 11, 16, 10))
    assert plain.add(mx(2026, 11, 13, 18), 2 * H) == mx(2026, 11, 16, 10)


def test_extra_whole_day_off_p_sla_5() -> None:
    cal = BusinessCalendar.from_specs(days_off=["2026-12-24"])
    assert not cal.is_business_day(date(2026, 12, 24))
    assert cal.add(mx(2026, 12, 23, 18), 2 * H) == mx(2026, 12, 28, 10)


def test_partial_day_off_p_sla_5() -> None:
    cal = BusinessCalendar.from_specs(days_off=["2026-12-24 14:00-19:00", "2026-12-23 10:00-11:00"])
    assert cal.is_open(mx(2026, 12, 24, 10)) and not cal.is_open(mx(2026, 12, 24, 16, 30))
    assert cal.add(mx(2026, 12, 24, 13), 2 * H) == mx(2026, 12, 28, 10)  # 25th holiday, then weekend
    assert cal.add(mx(2026, 12, 23, 9, 30), H) == mx(2026, 12, 23, 11, 30)
    assert cal.between(mx(2026, 12, 23, 0), mx(2026, 12, 24, 0)) == 7 * H


def test_days_off_inside_skipped_weeks_p_sla_5() -> None:
    """Long deadlines skip whole weeks by arithmetic: days off in those weeks must still be subtracted."""
    cal = BusinessCalendar.from_specs(days_off=["2026-12-07", "2026-12-09 10:00-15:00", "2027-02-10"])
    ref = ReferenceCalendar(
        REF.windows,
        MX,
        REF.holidays,
        whole_days_off={date(2026, 12, 7), date(2027, 2, 10)},
        partial_days_off={date(2026, 12, 9): [(600, 900)]},
    )
    opened = mx(2026, 11, 23, 10)
    for hours in (200, 500):
        due = cal.add(opened, hours * H)
        assert due == ref.add(opened, hours * 60)
        assert CAL.add(opened, hours * H) < due
        assert cal.between(opened, due) == hours * H


def test_whole_day_windows_join_across_days() -> None:
    cal = BusinessCalendar.from_specs("mon-fri 00:00-24:00", country_holidays=False)
    assert cal.add(mx(2026, 11, 27, 23), 2 * H) == mx(2026, 11, 30, 1)
    assert cal.add(mx(2026, 11, 27, 23), H) == mx(2026, 11, 28, 0)  # ends at 24:00 Friday


def test_dst_zone_counts_real_elapsed_time() -> None:
    """Business time is elapsed time: an always-open week across New York's DST switch adds exactly."""
    ny = ZoneInfo("America/New_York")
    cal = BusinessCalendar.from_specs("mon-sun 00:00-24:00", ny, country_holidays=False)
    for start in (datetime(2026, m, d, 12, tzinfo=ny) for m, d in [(3, 7), (2, 18), (10, 31), (10, 14)]):
        for hours in (24, 48, 24 * 30):
            due = cal.add(start, hours * H)
            assert due == start.astimezone(UTC) + hours * H  # aware == compares instants, not wall times
            assert cal.between(start, due) == hours * H


def test_dst_day_inside_skipped_weeks() -> None:
    """A window spanning a DST switch is an hour shorter (March) or longer (November) in real time."""
    ny = ZoneInfo("America/New_York")
    cal = BusinessCalendar.from_specs("mon-sun 01:00-04:00", ny, country_holidays=False)
    spring = (datetime(2026, 2, 16, tzinfo=ny), datetime(2026, 3, 30, tzinfo=ny))
    autumn = (datetime(2026, 10, 5, tzinfo=ny), datetime(2026, 11, 16, tzinfo=ny))
    assert cal.between(*spring) == (42 * 3 - 1) * H
    assert cal.between(*autumn) == (42 * 3 + 1) * H
    assert cal.add(spring[0], (42 * 3 - 1) * H) == datetime(2026, 3, 29, 4, tzinfo=ny)
    assert cal.add(autumn[0], (42 * 3 + 1) * H) == datetime(2026, 11, 15, 4, tzinfo=ny)


# --- pauses (P-SLA-7) --------------------------------------------------------------------------------


def test_pauses_overlapping_unsorted_outside_hours_p_sla_7() -> None:
    opened = mx(2026, 11, 23, 10)
    pauses = [
        (mx(2026, 11, 23, 12), mx(2026, 11, 23, 13)),
        (mx(2026, 11, 23, 11), mx(2026, 11, 23, 12, 30)),  # overlaps the first
        (mx(2026, 11, 23, 20), mx(2026, 11, 24, 8)),  # entirely outside hours: no effect
    ]
    due = CAL.add(opened, 8 * H, pauses)
    assert due == mx(2026, 11, 24, 12)  # two hours paused
    assert CAL.between(opened, due, pauses) == 8 * H


def test_pause_containing_start_p_sla_7() -> None:
    pauses = [(mx(2026, 11, 23, 9), mx(2026, 11, 23, 17))]  # started before the ticket was opened
    assert CAL.add(mx(2026, 11, 23, 10), H, pauses) == mx(2026, 11, 23, 18)


def test_pause_starting_at_deadline_does_not_move_it_p_sla_7() -> None:
    pauses = [(mx(2026, 11, 23, 11), mx(2026, 11, 25, 11))]
    assert CAL.add(mx(2026, 11, 23, 10), H, pauses) == mx(2026, 11, 23, 11)
    assert CAL.add(mx(2026, 11, 23, 10), 2 * H, pauses) == mx(2026, 11, 25, 12)


def test_bad_pause_rejected_p_sla_7() -> None:
    with pytest.raises(ValueError, match="must not end before"):
        CAL.add(mx(2026, 11, 23, 10), H, [(mx(2026, 11, 23, 12), mx(2026, 11, 23, 11))])
    with pytest.raises(ValueError, match="timezone-aware"):
        CAL.between(mx(2026, 11, 23, 10), mx(2026, 11, 24, 10), [(datetime(2026, 11, 23, 12), mx(2026, 11, 24))])


# --- other methods and bad input ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        lambda c, n: c.add(n, H),
        lambda c, n: c.between(n, mx(2026, 11, 24, 10)),
        lambda c, n: c.between(mx(2026, 11, 24, 10), n),
        lambda c, n: c.is_open(n),
        lambda c, n: c.next_open(n),
        lambda c, n: c.add_business_days(n, 1),
    ],
)
def test_naive_datetimes_rejected(call: Callable[[BusinessCalendar, datetime], object]) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        call(CAL, datetime(2026, 11, 24, 10))


def test_negative_amounts_rejected() -> None:
    with pytest.raises(ValueError, match="negative"):
        CAL.add(mx(2026, 11, 24, 10), -H)
    with pytest.raises(ValueError, match="0 or more"):
        CAL.add_business_days(mx(2026, 11, 24, 10), -1)


def test_between_basics_p_sla_5() -> None:
    assert CAL.between(mx(2026, 11, 24, 10), mx(2026, 11, 24, 10)) == timedelta(0)
    assert CAL.between(mx(2026, 11, 25, 10), mx(2026, 11, 24, 10)) == timedelta(0)
    assert CAL.between(mx(2026, 11, 27, 18), mx(2026, 11, 30, 10)) == 2 * H
    assert CAL.between(mx(2026, 11, 2), mx(2026, 11, 30)) == (20 - 1) * 8 * H  # one holiday in four weeks


@pytest.mark.parametrize(
    ("instant", "is_open", "next_open"),
    [
        (mx(2026, 11, 24, 9), True, mx(2026, 11, 24, 9)),
        (mx(2026, 11, 24, 13, 59, 59), True, mx(2026, 11, 24, 13, 59, 59)),
        (mx(2026, 11, 24, 14), False, mx(2026, 11, 24, 16)),
        (mx(2026, 11, 24, 8, 59), False, mx(2026, 11, 24, 9)),
        (mx(2026, 11, 27, 19), False, mx(2026, 11, 30, 9)),
        (mx(2026, 11, 13, 19, 30), False, mx(2026, 11, 17, 9)),  # weekend then holiday Monday
    ],
)
def test_is_open_and_next_open_p_sla_5(instant: datetime, is_open: bool, next_open: datetime) -> None:
    assert CAL.is_open(instant) is is_open
    assert CAL.next_open(instant) == next_open


@pytest.mark.parametrize(
    ("instant", "n", "expected"),
    [
        (mx(2026, 11, 13, 10, 15), 3, mx(2026, 11, 19, 10, 15)),  # skips the weekend and 16 Nov
        (mx(2026, 11, 24, 15), 1, mx(2026, 11, 25, 16)),  # lunch time: that day's next window
        (mx(2026, 11, 24, 20), 1, mx(2026, 11, 26, 9)),  # after the last window: next opening
        (mx(2026, 11, 28, 11), 1, mx(2026, 11, 30, 11)),  # from Saturday
        (mx(2026, 12, 23, 10), 2, mx(2026, 12, 28, 10)),
        (mx(2026, 11, 28, 11), 0, mx(2026, 11, 30, 9)),
    ],
)
def test_add_business_days_p_close_3(instant: datetime, n: int, expected: datetime) -> None:
    assert CAL.add_business_days(instant, n) == expected


def test_public_surface() -> None:
    assert set(calendar_module.__all__) == {
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
    }


# --- properties against the minute-stepping reference (P-SLA-5, P-SLA-7) -----------------------------

MIN = timedelta(minutes=1)
FIRST = mx(2026, 1, 1)
SPAN_MINUTES = (date(2028, 12, 15) - date(2026, 1, 1)).days * 24 * 60
starts = st.integers(0, SPAN_MINUTES).map(lambda m: FIRST + m * MIN)
raw_pauses = st.lists(st.tuples(st.integers(-2 * 1440, 14 * 1440), st.integers(0, 3 * 1440)), max_size=3)
Pauses = list[tuple[datetime, datetime]]


def make_pauses(start: datetime, raw: list[tuple[int, int]]) -> Pauses:
    return [(start + offset * MIN, start + (offset + length) * MIN) for offset, length in raw]


@st.composite
def schedules(draw: st.DrawFn) -> tuple[BusinessCalendar, ReferenceCalendar]:
    """A random week of 5-minute-aligned windows plus random days off, for both implementations."""
    windows: dict[int, list[tuple[int, int]]] = {}
    for day in range(7):
        marks = sorted(draw(st.lists(st.integers(0, 288), max_size=6, unique=True)))
        pairs = [(marks[i] * 5, marks[i + 1] * 5) for i in range(0, len(marks) - 1, 2)]
        if pairs:
            windows[day] = pairs
    if not windows:
        windows[draw(st.integers(0, 6))] = [(600, 660)]
    schedule = WeekSchedule(tuple(tuple(Window(a, b) for a, b in windows.get(d, [])) for d in range(7)))
    assert parse_week_spec(str(schedule)) == schedule  # the spec syntax can say every schedule
    ref = ReferenceCalendar(windows, MX, mexico_holidays(range(2026, 2030)))
    items: list[str] = []
    for offset, part in draw(st.lists(st.tuples(st.integers(0, SPAN_MINUTES // 1440), st.booleans()), max_size=3)):
        off = date(2026, 1, 1) + timedelta(days=offset)
        if part:
            ref.partial_days_off.setdefault(off, []).append((600, 900))
            items.append(f"{off.isoformat()} 10:00-15:00")
        else:
            ref.whole_days_off.add(off)
            items.append(off.isoformat())
    return BusinessCalendar.from_specs(str(schedule), MX, items), ref


@settings(max_examples=200, deadline=None)
@given(start=starts, minutes=st.integers(0, 60 * 60), raw=raw_pauses)
def test_add_equals_reference_p_sla_5_p_sla_7(start: datetime, minutes: int, raw: list[tuple[int, int]]) -> None:
    pauses = make_pauses(start, raw)
    assert CAL.add(start, minutes * MIN, pauses) == REF.add(start, minutes, pauses)


@settings(max_examples=200, deadline=None)
@given(start=starts, length=st.integers(0, 21 * 1440), raw=raw_pauses)
def test_between_equals_reference_p_sla_5_p_sla_7(start: datetime, length: int, raw: list[tuple[int, int]]) -> None:
    pauses = make_pauses(start, raw)
    end = start + length * MIN
    assert CAL.between(start, end, pauses) == REF.between(start, end, pauses) * MIN


@settings(max_examples=200, deadline=None)
@given(start=starts, duration=st.timedeltas(timedelta(0), timedelta(hours=60)), raw=raw_pauses)
def test_between_inverts_add_p_sla_5_p_sla_7(start: datetime, duration: timedelta, raw: list[tuple[int, int]]) -> None:
    """Also with seconds and microseconds: the calendar is exact below the minute."""
    pauses = make_pauses(start, raw)
    assert CAL.between(start, CAL.add(start, duration, pauses), pauses) == duration


@settings(max_examples=150, deadline=None)
@given(pair=schedules(), start=starts, data=st.data(), raw=raw_pauses)
def test_random_schedules_match_reference_p_sla_5(
    pair: tuple[BusinessCalendar, ReferenceCalendar],
    start: datetime,
    data: st.DataObject,
    raw: list[tuple[int, int]],
) -> None:
    cal, ref = pair
    weekly = cal.schedule.weekly_minutes
    minutes = data.draw(st.integers(0, min(60 * 60, 3 * weekly)), label="minutes")
    pauses = make_pauses(start, raw)
    due = cal.add(start, minutes * MIN, pauses)
    assert due == ref.add(start, minutes, pauses)
    assert cal.between(start, due, pauses) == minutes * MIN
    end = start + data.draw(st.integers(0, 21 * 1440), label="length") * MIN
    assert cal.between(start, end, pauses) == ref.between(start, end, pauses) * MIN
