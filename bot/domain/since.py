"""Parse a client's answer to "¿Desde cuándo ocurre?" (P-IN-2) into an aware instant and its precision.

dateparser alone answers None or silently drops the hour for common Mexican phrasings (see LIMITS.md,
"dateparser with Spanish"), so the phrase is taken apart first: time of day, part of day ("anoche"),
relative offsets ("hace 2 horas") and the usual day words are read here; only what is left of the
date ("20 de noviembre", "november 20", "20/11/2026") goes to dateparser.

Decisions (each has a test in tests/domain/test_since.py):
- Precision is what the client gave: a bare day ("ayer", "el lunes") is a DAY at 00:00 of that day,
  never "ayer at the current time"; "anoche" / "esta mañana" are a PART_OF_DAY starting at the part's
  start (madrugada 00:00, mañana 06:00, tarde 12:00, noche 19:00), because "desde anoche" promises no hour.
- A weekday name means the most recent past one; today's own name means a week ago (today is "hoy").
- "a las N" with N from 1 to 12 and no am/pm: an office reading first (1–6 → afternoon, 7–11 → morning,
  12 → noon); if that instant is still in the future on the day given, the other reading is tried
  ("hoy a las 5" at 10:15 → 05:00). A zero-padded hour ("05:30") is a 24-hour clock. With no day
  given, the day is today unless the time is still to come, then yesterday ("desde las 11" at 10:15
  → yesterday 11:00).
- Never a future instant: a phrase that can only mean the future ("esta noche" at 10:15,
  "mañana") gives None, so the bot asks again instead of guessing; `says_future` tells that case
  apart from a phrase it could not read, so the client hears "that date has not come yet".
- Bare numbers ("5") give None: they are as likely an hour as a day of the month. "el 20" is a day.
- Numeric dates read day first (DMY) when Spanish is the first language, MDY otherwise.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from dateparser.date import DateDataParser

__all__ = [
    "MAX_AGE",
    "PART_START",
    "DayPart",
    "Precision",
    "SinceResult",
    "parse_since",
    "says_future",
]

MAX_AGE = timedelta(days=5 * 366)


class Precision(StrEnum):
    """How exactly the client said when the problem started."""

    DAY = "day"
    PART_OF_DAY = "part_of_day"
    HOUR = "hour"
    MINUTE = "minute"
    RELATIVE = "relative"


class DayPart(StrEnum):
    """Coarse parts of a day ("anoche", "esta mañana"); each starts at PART_START."""

    EARLY_MORNING = "early_morning"
    MORNING = "morning"
    AFTERNOON = "afternoon"
    NIGHT = "night"


PART_START: dict[DayPart, int] = {
    DayPart.EARLY_MORNING: 0,
    DayPart.MORNING: 6,
    DayPart.AFTERNOON: 12,
    DayPart.NIGHT: 19,
}


@dataclass(frozen=True, slots=True)
class SinceResult:
    """What was understood: `instant` is aware, in the zone asked for; `text` is what the client typed."""

    instant: datetime
    precision: Precision
    text: str
    part: DayPart | None = None


_PART_WORDS: dict[str, DayPart] = {
    **dict.fromkeys(("madrugada",), DayPart.EARLY_MORNING),
    **dict.fromkeys(("manana", "morning"), DayPart.MORNING),
    **dict.fromkeys(("tarde", "afternoon"), DayPart.AFTERNOON),
    **dict.fromkeys(("noche", "evening", "night"), DayPart.NIGHT),
}

_WEEKDAY_NAMES = (
    ("lunes", "monday"),
    ("martes", "tuesday"),
    ("miercoles", "wednesday"),
    ("jueves", "thursday"),
    ("viernes", "friday"),
    ("sabado", "saturday"),
    ("domingo", "sunday"),
)
_WEEKDAYS: dict[str, int] = {name: number for number, names in enumerate(_WEEKDAY_NAMES) for name in names}

_DAY_WORDS: dict[str, int] = {
    **dict.fromkeys(("hoy", "today"), 0),
    **dict.fromkeys(("ayer", "yesterday"), -1),
    **dict.fromkeys(("anteayer", "antier", "antes de ayer", "day before yesterday"), -2),
}

_NUMBER_NAMES = (
    ("un", "una", "uno", "a", "an", "one"),
    ("dos", "two"),
    ("tres", "three"),
    ("cuatro", "four"),
    ("cinco", "five"),
    ("seis", "six"),
    ("siete", "seven"),
    ("ocho", "eight"),
    ("nueve", "nine"),
    ("diez", "ten"),
)
_NUMBER_WORDS: dict[str, int] = {name: n for n, names in enumerate(_NUMBER_NAMES, start=1) for name in names}

# Words that carry no date: dropped before the rest is read.
_FILLER = re.compile(
    r"\b(?:desde|since|from|starting|empezo|comenzo|inicio|aproximadamente|aprox|como|mas o menos|about|"
    r"around|approximately|approx|on|pasado|last|past|del|this|(?:a\s+)?eso\s+de|alrededor\s+de|cerca\s+de|"
    # "el"/"the" go, except in "el 20" where they make a bare number a day of the month
    r"(?:el|the)(?!\s+\d{1,2}(?:st|nd|rd|th)?$))\b"
)

_AMPM = r"(?P<ampm>am|pm)"
_QUALIFIER = r"(?:\s*(?:de|en|por)\s+la\s+(?P<qual>manana|tarde|noche|madrugada))"
_TIME_PATTERNS = [
    # "a las 9", "las 9:30", "a la 1", "a las 5 de la tarde", "a las 9 am", "a las 9 hrs"
    re.compile(
        r"\b(?:a\s+)?las?\s+(?P<h>\d{1,2})(?:[:.h](?P<m>\d{2}))?(?:\s*(?:hrs?|horas?)\b)?\s*"
        + _AMPM
        + r"?\b"
        + _QUALIFIER
        + "?"
    ),
    # "at 5", "at 5:30 pm"
    re.compile(r"\bat\s+(?P<h>\d{1,2})(?::(?P<m>\d{2}))?\s*" + _AMPM + r"?\b"),
    # "9:30", "17:00 hrs", "9:30 pm", "9:30 de la noche"
    re.compile(r"\b(?P<h>\d{1,2}):(?P<m>\d{2})\b(?:\s*hrs?\b)?\s*" + _AMPM + r"?\b" + _QUALIFIER + "?"),
    # "5pm", "5 am"
    re.compile(r"\b(?P<h>\d{1,2})\s*" + _AMPM + r"\b"),
    # "9 hrs"
    re.compile(r"\b(?P<h>\d{1,2})\s*hrs?\b"),
]
_NOON = re.compile(r"\b(?:al|a|el)?\s*(?:mediodia|medio dia|noon)\b")
_MIDNIGHT = re.compile(r"\b(?:a|la)?\s*(?:medianoche|media noche|midnight)\b")
_PART = re.compile(
    r"\b(?:(?P<this>esta|this)\s+|(?:(?:en|por|durante|a|de)\s+)?la\s+|(?:in\s+)?the\s+)?"
    r"(?P<part>tarde|noche|madrugada|morning|afternoon|evening|night)\b"
)
# A bare "mañana" means tomorrow: only "esta/la mañana" is a part of today.
_PART_MORNING = re.compile(r"\b(?:(?P<this>esta)\s+|(?:(?:en|por|durante|a|de)\s+)?la\s+)(?P<part>manana)\b")
_LAST_NIGHT = re.compile(r"\b(?:anoche|last night)\b")
_NIGHT_BEFORE = re.compile(r"\bantenoche\b")
_TONIGHT = re.compile(r"\btonight\b")
_RELATIVE_ES = re.compile(
    r"\bhace\s+(?P<n>\d+|un|una|uno|dos|tres|cuatro|cinco|seis|siete|ocho|nueve|diez|media)\s+"
    r"(?P<unit>minutos?|mins?|horas?|hrs?|dias?|semanas?)\b"
)
_RELATIVE_EN = re.compile(
    r"\b(?P<n>\d+|a|an|one|two|three|four|five|six|seven|eight|nine|ten|half an|half a)\s+"
    r"(?P<unit>minutes?|mins?|hours?|hrs?|days?|weeks?)\s+ago\b"
)
# Words that can only point ahead: "mañana" on its own (not "esta/la mañana"), "pasado mañana", "tomorrow",
# "la próxima semana", "next Monday", "dentro de 2 horas", "in 2 hours".
_FUTURE = re.compile(
    r"\b(?:manana|tomorrow|proxim[oa]s?|siguiente|que\s+viene|next|dentro\s+de|"
    r"in\s+(?:\d+|a|an|one|two|three)\s+(?:minutes?|hours?|days?|weeks?))\b"
)
_THIS_PART = re.compile(r"\b(?:(?:esta|this)\s+(?P<part>tarde|noche|afternoon|evening|night)|(?P<tonight>tonight))\b")
_DAY_OF_MONTH = re.compile(r"^(?:el|dia|the)\s+(?P<d>\d{1,2})(?:st|nd|rd|th)?$")


@dataclass(frozen=True, slots=True)
class _Time:
    hour: int
    minute: int
    clock24: bool  # typed with a leading zero ("05:30"): a 24-hour clock, no am/pm guessing
    meridiem: str | None  # "am" / "pm" / None
    qualifier: DayPart | None


def _normalise(text: str) -> str:
    """Lower case, no accents, "p.m." → "pm", punctuation other than : / - as spaces."""
    folded = unicodedata.normalize("NFKD", text.lower())
    plain = "".join(ch for ch in folded if not unicodedata.combining(ch))
    plain = re.sub(r"\b([ap])\s*\.\s*m\s*\.?", r"\1m", plain)
    plain = re.sub(r"[^\w:/\-.]+", " ", plain)
    plain = re.sub(r"(?<!\d)\.|\.(?!\d)", " ", plain)
    return re.sub(r"\s+", " ", plain).strip()


def _take(pattern: re.Pattern[str], text: str) -> tuple[re.Match[str] | None, str]:
    """First match of `pattern` and the text without it."""
    match = pattern.search(text)
    if match is None:
        return None, text
    return match, (text[: match.start()] + " " + text[match.end() :]).strip()


def _take_time(text: str) -> tuple[_Time | None, str, bool]:
    """(time, rest, ok): ok is False when something looked like a time but is not one ("a las 27")."""
    for pattern in _TIME_PATTERNS:
        match, rest = _take(pattern, text)
        if match is None:
            continue
        groups = match.groupdict()
        hour = int(groups["h"])
        minute = int(groups["m"]) if groups.get("m") else 0
        meridiem = groups.get("ampm")
        qual = _PART_WORDS[groups["qual"]] if groups.get("qual") else None
        if hour > 23 or minute > 59 or (meridiem and not 1 <= hour <= 12) or (qual and hour > 12):
            return None, rest, False
        padded = len(groups["h"]) == 2 and groups["h"].startswith("0")
        return _Time(hour, minute, padded, meridiem, qual), rest, True
    match, rest = _take(_NOON, text)
    if match is not None:
        return _Time(12, 0, True, None, None), rest, True
    match, rest = _take(_MIDNIGHT, text)
    if match is not None:
        return _Time(0, 0, True, None, None), rest, True
    return None, text, True


def _hour_readings(t: _Time, part: DayPart | None) -> list[int]:
    """24-hour readings of a typed hour, most plausible first (office reading for a bare 1–12)."""
    hint = t.qualifier or part
    h = t.hour
    if t.meridiem == "am":
        return [h % 12]
    if t.meridiem == "pm":
        return [h % 12 + 12]
    if h == 0 or h > 12 or t.clock24:
        return [h]
    if hint in (DayPart.EARLY_MORNING, DayPart.MORNING):
        return [h % 12]
    if hint is DayPart.AFTERNOON:
        return [h % 12 + 12] if h < 12 else [12]
    if hint is DayPart.NIGHT:
        # "12 de la noche" is midnight; "2 de la noche" is still the small hours.
        return [0] if h == 12 else ([h + 12] if h >= 6 else [h])
    if h == 12:
        return [12]
    return [h + 12, h] if h <= 6 else [h, h + 12]


def _take_relative(text: str) -> tuple[timedelta | None, bool, str]:
    """(offset, is_days, rest) for "hace 2 horas" / "2 hours ago"."""
    for pattern in (_RELATIVE_ES, _RELATIVE_EN):
        match, rest = _take(pattern, text)
        if match is None:
            continue
        word = match.group("n")
        unit = match.group("unit")
        if word in ("media", "half an", "half a"):
            amount = 0.5
        else:
            amount = float(word) if word.isdigit() else float(_NUMBER_WORDS[word])
        if unit.startswith("m"):
            return timedelta(minutes=amount), False, rest
        if unit.startswith("h"):
            return timedelta(hours=amount), False, rest
        if unit.startswith(("d",)):
            return timedelta(days=amount), True, rest
        return timedelta(weeks=amount), True, rest
    return None, False, text


def _take_part(text: str) -> tuple[DayPart | None, int | None, str]:
    """(part, forced day offset, rest) for "anoche", "esta mañana", "en la tarde", "last night"."""
    match, rest = _take(_LAST_NIGHT, text)
    if match is not None:
        return DayPart.NIGHT, -1, rest
    match, rest = _take(_NIGHT_BEFORE, text)
    if match is not None:
        return DayPart.NIGHT, -2, rest
    match, rest = _take(_TONIGHT, text)
    if match is not None:
        return DayPart.NIGHT, 0, rest
    for pattern in (_PART_MORNING, _PART):
        match, rest = _take(pattern, text)
        if match is not None:
            this = match.group("this") is not None
            return _PART_WORDS[match.group("part")], (0 if this else None), rest
    return None, None, text


def _clean(text: str) -> str:
    return re.sub(r"\s+", " ", _FILLER.sub(" ", text)).strip()


def _day_from_words(
    rest: str, today: date, now_local: datetime, tz: ZoneInfo, languages: tuple[str, ...]
) -> date | None:
    """The date named by what is left once time, part and filler are gone; None if it names none."""
    if rest in _DAY_WORDS:
        return today + timedelta(days=_DAY_WORDS[rest])
    if rest in _WEEKDAYS:
        back = (today.weekday() - _WEEKDAYS[rest]) % 7 or 7
        return today - timedelta(days=back)
    dom = _DAY_OF_MONTH.match(rest)
    if dom is not None:
        return _most_recent_day_of_month(int(dom.group("d")), today)
    if not re.search(r"[a-z]", rest) and not re.search(r"\d[/\-.]\d", rest):
        return None  # a bare number: an hour or a day? ask again
    return _dateparser_day(rest, now_local, tz, languages)


def _most_recent_day_of_month(day: int, today: date) -> date | None:
    year, month = today.year, today.month
    for _ in range(2):
        try:
            candidate = date(year, month, day)
        except ValueError:
            candidate = None
        if candidate is not None and candidate <= today:
            return candidate
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return None


def _dateparser_day(rest: str, now_local: datetime, tz: ZoneInfo, languages: tuple[str, ...]) -> date | None:
    settings: dict[str, Any] = {
        "PREFER_DATES_FROM": "past",
        "RELATIVE_BASE": now_local.replace(tzinfo=None),
        "DATE_ORDER": "DMY" if languages and languages[0] == "es" else "MDY",
        "RETURN_AS_TIMEZONE_AWARE": tz.key is not None,
    }
    if tz.key is not None:  # a zone read from a file has no name to give dateparser
        settings["TIMEZONE"] = tz.key
    data = DateDataParser(languages=list(languages), settings=settings).get_date_data(rest)
    found = data.date_obj
    if found is None or data.period != "day":
        return None
    # dateparser answers in pytz zones; move to zoneinfo before anything else touches it.
    converted: datetime = found.astimezone(tz) if found.tzinfo is not None else found.replace(tzinfo=tz)
    return converted.date()


def _at(day: date, hour: int, minute: int, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=tz)


def parse_since(
    text: str, now: datetime, tz: ZoneInfo, languages: tuple[str, ...] = ("es", "en")
) -> SinceResult | None:
    """Read "since when" (P-IN-2); None when unsure, in the future, or older than MAX_AGE: ask again.

    `languages` are the ones dateparser may read dates in (the first one sets day/month order); the
    day words, times and parts of day read here are always understood in both Spanish and English.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    now_local = now.astimezone(tz)
    today = now_local.date()
    words = _normalise(text)
    if not re.search(r"[a-z0-9]", words) or says_future(text, now, tz):
        return None
    result = _parse(words, text.strip(), now_local, today, tz, languages)
    if result is None or result.instant > now_local or now_local - result.instant > MAX_AGE:
        return None
    return result


def says_future(text: str, now: datetime, tz: ZoneInfo) -> bool:
    """Whether the phrase names a time still to come ("mañana", "esta noche" at 10:15, "next week"): a
    problem cannot have started then. parse_since gives None for these; this tells them from gibberish."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    words = _normalise(text)
    if _FUTURE.search(_PART_MORNING.sub(" ", words)):
        return True
    match = _THIS_PART.search(words)
    if match is None:
        return False
    part = DayPart.NIGHT if match.group("tonight") else _PART_WORDS[match.group("part")]
    return now.astimezone(tz).hour < PART_START[part]


def _parse(
    words: str, original: str, now_local: datetime, today: date, tz: ZoneInfo, languages: tuple[str, ...]
) -> SinceResult | None:
    offset, in_days, rest = _take_relative(words)
    if offset is not None:
        if _clean(rest):
            return None  # "ayer hace 2 horas": two answers in one, ask again
        if in_days:
            return SinceResult(_at((now_local - offset).date(), 0, 0, tz), Precision.DAY, original)
        instant = (now_local - offset).replace(second=0, microsecond=0)
        return SinceResult(instant, Precision.RELATIVE, original)

    typed_time, rest, ok = _take_time(words)
    if not ok:
        return None
    part, forced_offset, rest = _take_part(rest)
    rest = _clean(rest)
    day: date | None
    if forced_offset is not None:
        if rest:
            return None
        day = today + timedelta(days=forced_offset)
    elif rest:
        day = _day_from_words(rest, today, now_local, tz, languages)
        if day is None:
            return None
    else:
        day = None

    if typed_time is not None:
        readings = _hour_readings(typed_time, part)
        precision = Precision.MINUTE if typed_time.minute else Precision.HOUR
        days = [day] if day is not None else [today, today - timedelta(days=1)]
        for candidate_day in days:
            for hour in readings:
                instant = _at(candidate_day, hour, typed_time.minute, tz)
                if instant <= now_local:
                    return SinceResult(instant, precision, original)
        return None
    if part is not None:
        start = PART_START[part]
        days = [day] if day is not None else [today, today - timedelta(days=1)]
        for candidate_day in days:
            instant = _at(candidate_day, start, 0, tz)
            if instant <= now_local:
                return SinceResult(instant, Precision.PART_OF_DAY, original, part)
        return None
    if day is not None:
        return SinceResult(_at(day, 0, 0, tz), Precision.DAY, original)
    return None
