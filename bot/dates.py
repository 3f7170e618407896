"""Dates, deadlines and business durations in words, per language, with names from the text catalogue.

No OS locale and no babel: every day and month name comes from `dates.*` keys, so Spanish and English
read the same on any machine.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from bot.domain.since import DayPart, Precision, SinceResult
from bot.i18n import Catalogue

__all__ = [
    "business_duration_in_words",
    "day_in_words",
    "deadline_in_words",
    "default_catalogue",
    "hours_number",
    "long_date",
    "numeric_date",
    "relative_day_in_words",
    "short_date",
    "since_in_words",
]


@lru_cache(maxsize=1)
def default_catalogue() -> Catalogue:
    """The packaged catalogue, read once (it is immutable data)."""
    return Catalogue.load()


def _cat(catalogue: Catalogue | None) -> Catalogue:
    return catalogue if catalogue is not None else default_catalogue()


def _local(dt: datetime, tz: ZoneInfo) -> datetime:
    if dt.tzinfo is None:
        raise ValueError("dates in words need a timezone-aware datetime")
    return dt.astimezone(tz)


def _time(dt: datetime) -> str:
    return f"{dt.hour:02d}:{dt.minute:02d}"


def day_in_words(day: date, lang: str, *, with_year: bool = False, catalogue: Catalogue | None = None) -> str:
    """The day as "martes 24 de noviembre" / "Tuesday, November 24" (with the year on request)."""
    cat = _cat(catalogue)
    return cat.plain(
        lang,
        "dates.day_with_year" if with_year else "dates.day",
        weekday=cat.plain(lang, f"dates.weekday.{day.weekday()}"),
        day=day.day,
        month=cat.plain(lang, f"dates.month.{day.month}"),
        year=day.year,
    )


def long_date(day: date, lang: str, *, catalogue: Catalogue | None = None) -> str:
    """The date as "14 de marzo de 2027" / "March 14, 2027"."""
    cat = _cat(catalogue)
    month = cat.plain(lang, f"dates.month.{day.month}")
    return cat.plain(lang, "dates.long_date", day=day.day, month=month, year=day.year)


def numeric_date(day: date, lang: str, *, catalogue: Catalogue | None = None) -> str:
    """The date as "14/03/2027" in Spanish (day first, as in Mexico); ISO "2027-03-14" in English."""
    return _cat(catalogue).plain(lang, "dates.numeric_date", day=day.day, month=day.month, year=day.year)


def deadline_in_words(dt: datetime, lang: str, tz: ZoneInfo, *, catalogue: Catalogue | None = None) -> str:
    """A deadline as "martes 1 de diciembre a las 10:30" / "Tuesday, December 1 at 10:30", in `tz`."""
    local = _local(dt, tz)
    cat = _cat(catalogue)
    # Spanish says "a la 01:00" but "a las 10:30"; English has the same text under both keys.
    key = "dates.deadline_one" if local.hour == 1 else "dates.deadline"
    return cat.plain(lang, key, date=day_in_words(local.date(), lang, catalogue=cat), time=_time(local))


def short_date(dt: datetime, lang: str, tz: ZoneInfo, *, catalogue: Catalogue | None = None) -> str:
    """A compact "mar 24 nov 09:00" / "Tue Nov 24 09:00", for cards and summaries."""
    local = _local(dt, tz)
    cat = _cat(catalogue)
    return cat.plain(
        lang,
        "dates.short",
        weekday=cat.plain(lang, f"dates.weekday_short.{local.weekday()}"),
        day=local.day,
        month=cat.plain(lang, f"dates.month_short.{local.month}"),
        time=_time(local),
    )


def hours_number(value: float) -> str:
    """Contract hours as people write them: "20", "12.5", "0.25" (no trailing ".0", no float noise)."""
    if value < 0:
        raise ValueError("hours cannot be negative")
    return f"{round(value, 2):g}"


def business_duration_in_words(delta: timedelta, lang: str, *, catalogue: Catalogue | None = None) -> str:
    """Business time as "8 horas hábiles", "1 hora hábil", "0 h 12 min hábiles" (nearest minute)."""
    if delta < timedelta(0):
        raise ValueError("a business duration cannot be negative")
    cat = _cat(catalogue)
    total_minutes = round(delta.total_seconds() / 60)
    hours, minutes = divmod(total_minutes, 60)
    if minutes == 0 and hours == 1:
        return cat.plain(lang, "dates.business_hours_one")
    if minutes == 0 and hours > 1:
        return cat.plain(lang, "dates.business_hours_other", hours=hours)
    return cat.plain(lang, "dates.business_hm", hours=hours, minutes=minutes)


def relative_day_in_words(
    day: date, now: datetime, lang: str, tz: ZoneInfo, *, catalogue: Catalogue | None = None
) -> str:
    """Day words with "hoy"/"ayer" in front when they apply, and the year when it is not this one."""
    cat = _cat(catalogue)
    today = _local(now, tz).date()
    words = day_in_words(day, lang, with_year=day.year != today.year, catalogue=cat)
    if day == today:
        return cat.plain(lang, "dates.relative_day", relative=cat.plain(lang, "dates.today"), date=words)
    if day == today - timedelta(days=1):
        return cat.plain(lang, "dates.relative_day", relative=cat.plain(lang, "dates.yesterday"), date=words)
    return words


def since_in_words(
    result: SinceResult, now: datetime, lang: str, tz: ZoneInfo, *, catalogue: Catalogue | None = None
) -> str:
    """What was understood, at the precision the client gave, to follow "desde": "hoy, martes 24 de
    noviembre, a las 09:00", "el lunes 30 de noviembre a las 17:00", "ayer, lunes 23 de noviembre",
    "anoche (lunes 23 de noviembre)", "hoy, martes 24 de noviembre, en la mañana"; never an hour they
    did not say."""
    cat = _cat(catalogue)
    local = _local(result.instant, tz)
    today = _local(now, tz).date()
    day = local.date()
    relative = {today: "dates.today", today - timedelta(days=1): "dates.yesterday"}.get(day)
    if result.precision is Precision.DAY:
        if relative is not None:
            return relative_day_in_words(day, now, lang, tz, catalogue=cat)
        return cat.plain(lang, "dates.on_day", date=day_in_words(day, lang, with_year=day.year != today.year,
                                                                 catalogue=cat))  # fmt: skip
    if result.precision is Precision.PART_OF_DAY and result.part is DayPart.NIGHT and day == today - timedelta(days=1):
        return cat.plain(lang, "dates.last_night", date=day_in_words(day, lang, catalogue=cat))
    words = day_in_words(day, lang, with_year=day.year != today.year, catalogue=cat)
    if relative is not None:
        lead = cat.plain(lang, "dates.relative_day_lead", relative=cat.plain(lang, relative), date=words)
    else:
        lead = cat.plain(lang, "dates.on_day", date=words)
    if result.precision is Precision.PART_OF_DAY and result.part is not None:
        return cat.plain(lang, "dates.with_part", date=lead, part=cat.plain(lang, f"dates.part.{result.part.value}"))
    key = "dates.with_time_one" if local.hour == 1 else "dates.with_time"
    return cat.plain(lang, key, date=lead, time=_time(local))
