"""Business-calendar benchmark (P-SLA-5): our deadlines against businesstimedelta's, on the same random cases.

businesstimedelta shares our two conventions, read from its source (1.0.1): `BusinessTimeDelta.__add__`
returns `period_start + td_left` when `period_delta >= td_left`, so a deadline that uses a window up to
its last second is that window's end; and `WorkDayRule.next` moves an instant outside a window to the next
window's start, so a request after hours starts its clock there. Both are exercised on purpose by the
aligned cases below, and every case must agree to the microsecond. It takes pytz zones: we give it
`pytz.timezone("America/Mexico_City")` and compare instants, which does not depend on the tzinfo class.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time as clock
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import businesstimedelta
import holidays
import pytz  # type: ignore[import-untyped]  # no stubs installed; used only to feed businesstimedelta

from bench import BenchResult
from bot.domain.calendar import DEFAULT_WEEK_SPEC, BusinessCalendar

ZONE = "America/Mexico_City"
SEED = 20261124
DEFAULT_N = 2_000
QUICK_N = 40
REPEATS = 3
YEARS = range(2026, 2030)  # cases start in 2026-2027; 100 business hours can reach into 2028

Case = tuple[datetime, timedelta]
Deadline = Callable[[datetime, timedelta], datetime]


def make_cases(n: int, seed: int = SEED) -> list[Case]:
    """Random starts over 2026-2027 (any second, so many are outside hours), 1-100 business hours.

    One case in four starts exactly at 09:00, 14:00, 16:00, 18:00 or 19:00 with whole hours, so that
    deadlines on a window's end and starts on a window's edge are well represented.
    """
    rng = random.Random(seed)
    tz = ZoneInfo(ZONE)
    first = datetime(2026, 1, 1, tzinfo=tz)
    span = int((datetime(2028, 1, 1, tzinfo=tz) - first).total_seconds())
    cases: list[Case] = []
    for _ in range(n):
        if rng.random() < 0.25:
            day = date(2026, 1, 1) + timedelta(days=rng.randrange(730))
            start = datetime.combine(day, time(rng.choice([9, 14, 16, 18, 19])), tzinfo=tz)
            cases.append((start, timedelta(hours=rng.randint(1, 100))))
        else:
            start = (first.astimezone(UTC) + timedelta(seconds=rng.randrange(span))).astimezone(tz)
            cases.append((start, timedelta(seconds=rng.randint(3_600, 360_000))))
    return cases


def ours() -> BusinessCalendar:
    return BusinessCalendar.from_specs(DEFAULT_WEEK_SPEC, ZONE)


def theirs() -> Deadline:
    """The same week, holidays and zone in businesstimedelta's terms."""
    tz = pytz.timezone(ZONE)
    weekdays = [0, 1, 2, 3, 4]
    mexican = frozenset(holidays.country_holidays("MX", years=YEARS))
    rules = businesstimedelta.Rules(
        [
            businesstimedelta.WorkDayRule(start_time=time(9), end_time=time(14), working_days=weekdays, tz=tz),
            businesstimedelta.WorkDayRule(start_time=time(16), end_time=time(19), working_days=weekdays, tz=tz),
            businesstimedelta.HolidayRule(mexican, tz=tz),
        ]
    )

    def deadline(start: datetime, duration: timedelta) -> datetime:
        result: datetime = start + businesstimedelta.BusinessTimeDelta(rules, timedelta=duration)
        return result

    return deadline


def _rate(fn: Deadline, cases: Sequence[Case]) -> tuple[float, list[datetime]]:
    """Median deadlines per second of REPEATS passes over `cases` (after a warm-up), and the deadlines.

    The machine is shared: a median of passes resists a neighbour's burst better than a single pass.
    """
    for start, duration in cases[:20]:
        fn(start, duration)
    rates: list[float] = []
    results: list[datetime] = []
    for _ in range(REPEATS):
        began = clock.perf_counter()
        results = [fn(start, duration) for start, duration in cases]
        rates.append(len(cases) / (clock.perf_counter() - began))
    return statistics.median(rates), results


def _is_window_end(instant: datetime) -> bool:
    local = instant.astimezone(ZoneInfo(ZONE))
    return local.time() in (time(14), time(19))


def _mismatch(start: datetime, duration: timedelta, a: datetime, b: datetime) -> str:
    hours = duration.total_seconds() / 3600
    tz = ZoneInfo(ZONE)
    return f"  MISMATCH {start.isoformat()} + {hours:g} h: ours {a.isoformat()}, theirs {b.astimezone(tz).isoformat()}"


def run(quick: bool = False, n: int | None = None) -> BenchResult:
    """Agreement and speed against businesstimedelta, then our cost for 8 h against 2,000 h."""
    n = n or (QUICK_N if quick else DEFAULT_N)
    if n < 1:
        raise ValueError(f"the number of cases must be at least 1, got {n}")
    result = BenchResult("Business calendar (P-SLA-5)")
    out = result.lines.append
    cases = make_cases(n)
    calendar, other = ours(), theirs()
    mine: Deadline = calendar.add
    our_rate, our_deadlines = _rate(mine, cases)
    their_rate, their_deadlines = _rate(other, cases)
    closed_starts = sum(1 for (start, _d) in cases if calendar.next_open(start) != start)
    at_end = sum(1 for d in our_deadlines if _is_window_end(d))
    mismatches = [
        (start, duration, a, b)
        for (start, duration), a, b in zip(cases, our_deadlines, their_deadlines, strict=True)
        if a != b
    ]
    out(f"{n} cases (median of {REPEATS} passes), seed {SEED}, {ZONE}, {DEFAULT_WEEK_SPEC!r}")
    out("  Mexican federal holidays, no pauses, durations 1-100 business hours, starts over 2026-2027")
    out(f"  starts outside business hours: {closed_starts}; deadlines exactly on a window end: {at_end}")
    out(f"  agreement with businesstimedelta: {n - len(mismatches)}/{n} identical deadlines")
    out("  (same conventions, no normalisation: a deadline may be a window's end; after hours, the clock")
    out("   starts at the next window; see this module's docstring for where businesstimedelta does so)")
    for start, duration, a, b in mismatches[:10]:
        out(_mismatch(start, duration, a, b))
    result.ok = not mismatches
    out(f"  ours:              {our_rate:12,.0f} deadlines/s")
    out(f"  businesstimedelta: {their_rate:12,.0f} deadlines/s")
    out(f"  ratio ours/theirs: {our_rate / their_rate:12.1f}x")

    # Cost against distance: the same starts, 8 business hours against 2,000 (about a year).
    starts = [start for start, _d in cases[: max(20, n // 4)]]
    short_rate, _ = _rate(mine, [(s, timedelta(hours=8)) for s in starts])
    long_rate, _ = _rate(mine, [(s, timedelta(hours=2_000)) for s in starts])
    few = starts[: 10 if quick else 40]
    long_cases = [(s, timedelta(hours=2_000)) for s in few]
    their_short, _ = _rate(other, [(s, timedelta(hours=8)) for s in few])
    their_long, their_long_deadlines = _rate(other, long_cases)
    long_mismatches = [
        (start, duration, mine(start, duration), b)
        for (start, duration), b in zip(long_cases, their_long_deadlines, strict=True)
        if mine(start, duration) != b
    ]
    for start, duration, a, b in long_mismatches[:10]:
        out(_mismatch(start, duration, a, b))
    result.ok = result.ok and not long_mismatches
    out(
        f"  ours 8 h:    {short_rate:10,.0f}/s   ours 2,000 h:    {long_rate:10,.0f}/s   "
        f"cost ratio long/short {short_rate / long_rate:5.2f}"
    )
    out(
        f"  theirs 8 h:  {their_short:10,.0f}/s   theirs 2,000 h:  {their_long:10,.0f}/s   "
        f"cost ratio long/short {their_short / their_long:5.1f} ({len(few)} starts)"
    )
    out(f"  agreement on 2,000 h: {len(few) - len(long_mismatches)}/{len(few)} identical deadlines")
    return result


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.calendar_bench", description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--n", type=int, default=None, help=f"number of cases (default {DEFAULT_N})")
    args = parser.parse_args(argv)
    result = run(args.quick, args.n)
    print("\n".join(result.lines))
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
