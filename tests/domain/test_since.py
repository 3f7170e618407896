"""P-IN-2 "since when": every trap of LIMITS.md "dateparser with Spanish", English, and garbage.

Base instant everywhere: Tue 24 Nov 2026 10:15 America/Mexico_City (as in LIMITS.md).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from importlib import resources
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.since import PART_START, DayPart, Precision, SinceResult, parse_since, says_future

MX = ZoneInfo("America/Mexico_City")
NOW = datetime(2026, 11, 24, 10, 15, tzinfo=MX)
D, P, H, M, R = Precision.DAY, Precision.PART_OF_DAY, Precision.HOUR, Precision.MINUTE, Precision.RELATIVE


def at(day: int, hour: int = 0, minute: int = 0, month: int = 11, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=MX)


def parse(text: str, now: datetime = NOW) -> SinceResult | None:
    return parse_since(text, now, MX)


# Every row of the LIMITS.md table, with what the client meant.
LIMITS_ROWS = [
    ("hoy a las 9", at(24, 9), H),  # dateparser alone: today at 10:15
    ("ayer a las 5", at(23, 17), H),  # dateparser alone: yesterday at 10:15
    ("desde hoy a las 9", at(24, 9), H),  # dateparser alone: None
    ("desde el lunes", at(23), D),
    ("desde ayer", at(23), D),
    ("el 20 de noviembre", at(20), D),
    ("desde las 9", at(24, 9), H),
    ("anoche", at(23, 19), P),
    ("esta mañana", at(24, 6), P),
    ("hoy 9:00", at(24, 9), H),  # rows dateparser already got right must stay right
    ("ayer a las 17:00", at(23, 17), H),
    ("hoy a las 9 am", at(24, 9), H),
    ("hace 2 horas", at(24, 8, 15), R),
    ("20 de noviembre", at(20), D),
    ("lunes", at(23), D),
]


@pytest.mark.parametrize(("typed", "instant", "precision"), LIMITS_ROWS)
def test_p_in_2_limits_table_rows(typed: str, instant: datetime, precision: Precision) -> None:
    result = parse(typed)
    assert result is not None
    assert (result.instant, result.precision) == (instant, precision)
    assert result.text == typed


SPANISH_MORE = [
    ("a las 5 de la tarde", at(23, 17), H),  # 17:00 today is still to come
    ("ayer a las 5 de la tarde", at(23, 17), H),
    ("hoy a las 7 de la mañana", at(24, 7), H),
    ("ayer a las 10 de la noche", at(23, 22), H),
    ("a las 12 de la noche", at(24, 0), H),
    ("ayer al mediodía", at(23, 12), H),
    ("mediodía", at(23, 12), H),  # today's noon has not come: yesterday's
    ("desde ayer en la tarde", at(23, 12), P),
    ("ayer en la tarde a las 5", at(23, 17), H),
    ("ayer como a las 4", at(23, 16), H),
    ("desde ayer a eso de las 4", at(23, 16), H),
    ("ayer alrededor de las 4", at(23, 16), H),
    ("desde el 20 de noviembre a las 9", at(20, 9), H),
    ("desde el viernes a las 6 de la tarde", at(20, 18), H),
    ("el lunes en la mañana", at(23, 6), P),
    ("en la noche", at(23, 19), P),
    ("desde la madrugada", at(24, 0), P),
    ("Desde AYER.", at(23), D),
    ("antier", at(22), D),
    ("anteayer a las 9", at(22, 9), H),
    ("miércoles", at(18), D),
    ("miercoles", at(18), D),
    ("sábado", at(21), D),
    ("desde el martes pasado", at(17), D),
    ("martes", at(17), D),  # today's own name: a week ago ("hoy" would be today)
    ("el 20", at(20), D),
    ("desde el 20", at(20), D),
    ("20/11", at(20), D),  # day first, as in Mexico
    ("20/11/2026", at(20), D),
    ("2026-11-20", at(20), D),
    ("25 de diciembre", at(25, month=12, year=2025), D),  # most recent past one
    ("hace 3 días", at(21), D),
    ("hace 2 semanas", at(10), D),
    ("hace media hora", at(24, 9, 45), R),
    ("hace una hora", at(24, 9, 15), R),
    ("hace 10 minutos", at(24, 10, 5), R),
    ("desde hace 2 horas", at(24, 8, 15), R),
    ("desde las 9:30", at(24, 9, 30), M),
    ("desde las 10:20", at(23, 10, 20), M),  # not yet today: yesterday
    ("a las 9 hrs", at(24, 9), H),
    ("a las 9 a.m.", at(24, 9), H),
    ("ayer a las 5 p. m.", at(23, 17), H),
]


@pytest.mark.parametrize(("typed", "instant", "precision"), SPANISH_MORE)
def test_p_in_2_spanish_phrasings(typed: str, instant: datetime, precision: Precision) -> None:
    result = parse(typed)
    assert result is not None
    assert (result.instant, result.precision) == (instant, precision)


ENGLISH = [
    ("yesterday at 5pm", at(23, 17), H),
    ("yesterday at 5 pm", at(23, 17), H),
    ("since Monday", at(23), D),
    ("on Monday at 9:30 am", at(23, 9, 30), M),
    ("2 hours ago", at(24, 8, 15), R),
    ("half an hour ago", at(24, 9, 45), R),
    ("a week ago", at(17), D),
    ("this morning", at(24, 6), P),
    ("last night", at(23, 19), P),
    ("yesterday afternoon", at(23, 12), P),
    ("since yesterday", at(23), D),
    ("today at 9", at(24, 9), H),
    ("November 20", at(20), D),
    ("since 9:30", at(24, 9, 30), M),
    ("the day before yesterday", at(22), D),
    ("since noon yesterday", at(23, 12), H),
]


@pytest.mark.parametrize(("typed", "instant", "precision"), ENGLISH)
def test_p_in_2_english_phrasings(typed: str, instant: datetime, precision: Precision) -> None:
    result = parse(typed)
    assert result is not None
    assert (result.instant, result.precision) == (instant, precision)


@pytest.mark.parametrize(
    "typed",
    [
        "asdf",
        "",
        "   ",
        "🙂",
        "???",
        "5",  # an hour or a day of the month? ask again
        "no sé",
        "hace rato",
        "a las 27",
        "a las 9:75",
        "a las 13 pm",
        "ayer hace 2 horas",  # two answers in one
        "ayer asdf",
        "hoy a las 9 y algo raro",
    ],
)
def test_p_in_2_garbage_gives_none(typed: str) -> None:
    assert parse(typed) is None


@pytest.mark.parametrize(
    "typed",
    ["mañana", "hoy a las 11", "hoy a las 10:20", "esta noche", "tonight", "hoy en la noche", "hoy al mediodía"],
)
def test_p_in_2_never_a_future_instant(typed: str) -> None:
    """A phrase that can only mean later today or tomorrow is not understood: the bot asks again."""
    assert parse(typed) is None


def test_bare_day_is_a_date_not_the_current_time() -> None:
    """LIMITS.md: a bare "ayer" is a date, not 10:15 yesterday."""
    result = parse("ayer")
    assert result is not None
    assert result.instant == at(23) and result.precision is Precision.DAY


def test_a_las_5_prefers_afternoon_then_the_other_reading_when_still_future() -> None:
    """Decision: 1–6 without am/pm read as afternoon (office); today's 17:00 is future → 05:00."""
    ayer = parse("ayer a las 5")
    hoy = parse("hoy a las 5")
    assert ayer is not None and ayer.instant == at(23, 17)
    assert hoy is not None and hoy.instant == at(24, 5)
    later = parse("hoy a las 5", now=at(24, 18))
    assert later is not None and later.instant == at(24, 17)


def test_bare_hour_without_day_moves_to_yesterday_when_still_to_come() -> None:
    result = parse("desde las 11")
    assert result is not None and result.instant == at(23, 11)


def test_part_of_day_is_kept() -> None:
    result = parse("anoche")
    assert result is not None and result.part is DayPart.NIGHT
    morning = parse("esta mañana")
    assert morning is not None and morning.part is DayPart.MORNING


def test_only_the_allowed_languages_feed_dateparser() -> None:
    assert parse_since("20 de noviembre", NOW, MX, languages=("es",)) is not None
    assert parse_since("November 20", NOW, MX, languages=("es",)) is None
    assert parse_since("le 20 novembre", NOW, MX, languages=("es", "en")) is None
    assert parse_since("le 20 novembre", NOW, MX, languages=("fr",)) is not None


def test_numeric_dates_follow_the_first_language() -> None:
    es = parse_since("11/10/2026", NOW, MX, languages=("es", "en"))
    en = parse_since("11/10/2026", NOW, MX, languages=("en", "es"))
    assert es is not None and es.instant == at(11, month=10)
    assert en is not None and en.instant == at(10, month=11)


def test_result_is_zoneinfo_aware_in_the_zone_asked_even_from_utc_now() -> None:
    """dateparser answers with pytz zones; the result must carry the zoneinfo zone."""
    utc_now = NOW.astimezone(ZoneInfo("UTC"))
    result = parse_since("20 de noviembre", utc_now, MX)
    assert result is not None
    assert isinstance(result.instant.tzinfo, ZoneInfo) and result.instant.tzinfo.key == MX.key
    assert result.instant == at(20)


def test_other_zone_changes_what_today_means() -> None:
    """At 10:15 in Mexico it is already Wednesday in Tokyo: "ayer" is Tuesday there."""
    tokyo = ZoneInfo("Asia/Tokyo")
    result = parse_since("ayer", NOW, tokyo)
    assert result is not None and result.instant == datetime(2026, 11, 24, tzinfo=tokyo)


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        parse_since("ayer", datetime(2026, 11, 24, 10, 15), MX)


def test_very_old_dates_are_not_believed() -> None:
    assert parse("20 de noviembre de 1990") is None


@settings(max_examples=40, deadline=None)
@given(st.text(max_size=30))
def test_p_in_2_any_text_gives_none_or_a_past_aware_instant(text: str) -> None:
    result = parse(text)
    if result is not None:
        assert result.instant.tzinfo is not None
        assert result.instant <= NOW
        assert NOW - result.instant < timedelta(days=5 * 366 + 1)


def test_zone_read_from_a_file_without_a_name_still_parses_dates() -> None:
    with resources.files("tzdata").joinpath("zoneinfo/America/Mexico_City").open("rb") as handle:
        nameless = ZoneInfo.from_file(handle)
    assert nameless.key is None
    result = parse_since("20 de noviembre", NOW, nameless)
    assert result is not None
    assert result.instant.tzinfo is nameless and result.instant.replace(tzinfo=None) == datetime(2026, 11, 20)


def test_zero_padded_hour_is_a_24_hour_clock() -> None:
    result = parse("ayer a las 05:30")
    assert result is not None and result.instant == at(23, 5, 30)
    office = parse("ayer a las 5:30")
    assert office is not None and office.instant == at(23, 17, 30)


ES_WEEKDAYS = ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo")
EN_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def spoken(instant: datetime, lang: str) -> str:
    """How a client names a past instant of the last week, in 24-hour time."""
    days_back = (NOW.date() - instant.date()).days
    clock = f"{instant.hour:02d}:{instant.minute:02d}"
    if lang == "es":
        day = ("hoy", "ayer")[days_back] if days_back < 2 else f"el {ES_WEEKDAYS[instant.weekday()]}"
        return f"desde {day} a las {clock}"
    day = ("today", "yesterday")[days_back] if days_back < 2 else f"on {EN_WEEKDAYS[instant.weekday()]}"
    return f"since {day} at {clock}"


@settings(max_examples=80, deadline=None)
@given(st.integers(min_value=0, max_value=6 * 24 * 60), st.sampled_from(["es", "en"]))
def test_p_in_2_any_instant_of_the_last_week_reads_back(minutes_back: int, lang: str) -> None:
    instant = NOW - timedelta(minutes=minutes_back)
    result = parse(spoken(instant, lang))
    assert result is not None, spoken(instant, lang)
    assert result.instant == instant
    assert result.precision is (Precision.MINUTE if instant.minute else Precision.HOUR)


def test_public_surface() -> None:
    import bot.domain.since as module

    assert sorted(module.__all__) == [
        "DayPart",
        "MAX_AGE",
        "PART_START",
        "Precision",
        "SinceResult",
        "parse_since",
        "says_future",
    ]
    assert set(PART_START) == set(DayPart)


@pytest.mark.parametrize(
    ("typed", "future"),
    [
        ("mañana", True),
        ("desde mañana a las 9", True),
        ("pasado mañana", True),
        ("esta noche", True),  # 19:00 is still to come at 10:15
        ("tomorrow", True),
        ("la semana que viene", True),
        ("dentro de 2 horas", True),
        ("esta mañana", False),
        ("hoy en la mañana", False),
        ("ayer", False),
        ("qwerty", False),
    ],
)
def test_says_future_tells_a_time_to_come_from_gibberish(typed: str, future: bool) -> None:
    assert says_future(typed, NOW, MX) is future
    if future:
        assert parse_since(typed, NOW, MX) is None
