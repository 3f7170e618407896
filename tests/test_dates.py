"""Dates, deadlines and business durations in words, Spanish and English, from the catalogue only."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.dates import (
    business_duration_in_words,
    day_in_words,
    deadline_in_words,
    hours_number,
    long_date,
    numeric_date,
    relative_day_in_words,
    short_date,
    since_in_words,
)
from bot.domain.since import DayPart, Precision, SinceResult, parse_since
from bot.i18n import Catalogue

MX = ZoneInfo("America/Mexico_City")
UTC = ZoneInfo("UTC")
NOW = datetime(2026, 11, 24, 10, 15, tzinfo=MX)


@pytest.fixture(scope="module")
def cat() -> Catalogue:
    return Catalogue.load(strict=True)


def test_deadline_in_words_spanish(cat: Catalogue) -> None:
    dt = datetime(2026, 12, 1, 10, 30, tzinfo=MX)
    assert deadline_in_words(dt, "es", MX, catalogue=cat) == "martes 1 de diciembre a las 10:30"


def test_deadline_in_words_english(cat: Catalogue) -> None:
    dt = datetime(2026, 12, 1, 10, 30, tzinfo=MX)
    assert deadline_in_words(dt, "en", MX, catalogue=cat) == "Tuesday, December 1 at 10:30"


def test_deadline_is_shown_in_the_zone_asked() -> None:
    """Stored in UTC, shown in Mexico City time (UTC−6): 16:15 UTC is 10:15 there."""
    dt = datetime(2026, 11, 25, 16, 15, tzinfo=UTC)
    assert deadline_in_words(dt, "es", MX) == "miércoles 25 de noviembre a las 10:15"


def test_spanish_says_a_la_1() -> None:
    dt = datetime(2026, 11, 25, 1, 5, tzinfo=MX)
    assert deadline_in_words(dt, "es", MX) == "miércoles 25 de noviembre a la 01:05"
    assert deadline_in_words(dt, "en", MX) == "Wednesday, November 25 at 01:05"


def test_short_date(cat: Catalogue) -> None:
    dt = datetime(2026, 11, 24, 9, 0, tzinfo=MX)
    assert short_date(dt, "es", MX, catalogue=cat) == "mar 24 nov 09:00"
    assert short_date(dt, "en", MX, catalogue=cat) == "Tue Nov 24 09:00"


@pytest.mark.parametrize(
    ("day", "es", "en"),
    [
        (date(2026, 11, 23), "lunes 23 de noviembre", "Monday, November 23"),
        (date(2026, 11, 28), "sábado 28 de noviembre", "Saturday, November 28"),
        (date(2026, 11, 29), "domingo 29 de noviembre", "Sunday, November 29"),
        (date(2027, 1, 6), "miércoles 6 de enero", "Wednesday, January 6"),
        (date(2027, 9, 16), "jueves 16 de septiembre", "Thursday, September 16"),
    ],
)
def test_day_in_words_all_names_come_from_the_catalogue(cat: Catalogue, day: date, es: str, en: str) -> None:
    assert day_in_words(day, "es", catalogue=cat) == es
    assert day_in_words(day, "en", catalogue=cat) == en


@settings(max_examples=50)
@given(st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31)))
def test_every_day_has_weekday_and_month_words(day: date) -> None:
    cat = Catalogue.load(strict=True)
    for lang in ("es", "en"):
        words = day_in_words(day, lang, catalogue=cat)
        assert str(day.day) in words
        assert "dates." not in words


def test_long_and_numeric_dates(cat: Catalogue) -> None:
    d = date(2027, 3, 14)
    assert long_date(d, "es", catalogue=cat) == "14 de marzo de 2027"
    assert long_date(d, "en", catalogue=cat) == "March 14, 2027"
    assert numeric_date(d, "es", catalogue=cat) == "14/03/2027"
    assert numeric_date(d, "en", catalogue=cat) == "2027-03-14"


@pytest.mark.parametrize(
    ("delta", "es", "en"),
    [
        (timedelta(hours=8), "8 horas hábiles", "8 business hours"),
        (timedelta(hours=1), "1 hora hábil", "1 business hour"),
        (timedelta(hours=24), "24 horas hábiles", "24 business hours"),
        (timedelta(minutes=12), "0 h 12 min hábiles", "0 h 12 min of business time"),
        (timedelta(hours=12, minutes=30), "12 h 30 min hábiles", "12 h 30 min of business time"),
        (timedelta(0), "0 h 0 min hábiles", "0 h 0 min of business time"),
        (timedelta(minutes=11, seconds=40), "0 h 12 min hábiles", "0 h 12 min of business time"),
        (timedelta(minutes=59, seconds=50), "1 hora hábil", "1 business hour"),
    ],
)
def test_business_duration_in_words(cat: Catalogue, delta: timedelta, es: str, en: str) -> None:
    assert business_duration_in_words(delta, "es", catalogue=cat) == es
    assert business_duration_in_words(delta, "en", catalogue=cat) == en


def test_business_duration_refuses_negative() -> None:
    with pytest.raises(ValueError, match="negative"):
        business_duration_in_words(timedelta(minutes=-1), "es")


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        deadline_in_words(datetime(2026, 11, 24, 10, 0), "es", MX)
    with pytest.raises(ValueError, match="aware"):
        short_date(datetime(2026, 11, 24, 10, 0), "es", MX)


def test_relative_day_in_words(cat: Catalogue) -> None:
    assert relative_day_in_words(date(2026, 11, 24), NOW, "es", MX, catalogue=cat) == "hoy, martes 24 de noviembre"
    assert relative_day_in_words(date(2026, 11, 23), NOW, "en", MX, catalogue=cat) == "yesterday, Monday, November 23"
    assert relative_day_in_words(date(2026, 11, 20), NOW, "es", MX, catalogue=cat) == "viernes 20 de noviembre"
    assert relative_day_in_words(date(2025, 12, 25), NOW, "es", MX, catalogue=cat) == "jueves 25 de diciembre de 2025"


@pytest.mark.parametrize(
    ("typed", "es"),
    [
        ("desde hoy a las 9", "hoy, martes 24 de noviembre, a las 09:00"),  # the CONVERSATION.md confirmation
        ("ayer", "ayer, lunes 23 de noviembre"),  # a date: no hour the client did not say
        ("el 20 de noviembre", "el viernes 20 de noviembre"),
        ("anoche", "anoche (lunes 23 de noviembre)"),
        ("esta mañana", "hoy, martes 24 de noviembre, en la mañana"),
        ("hace 2 horas", "hoy, martes 24 de noviembre, a las 08:15"),
        ("ayer a las 5", "ayer, lunes 23 de noviembre, a las 17:00"),
        ("el lunes 16 de noviembre a las 17:00", "el lunes 16 de noviembre a las 17:00"),
        ("hoy a la 1 de la mañana", "hoy, martes 24 de noviembre, a la 01:00"),
    ],
)
def test_p_in_2_since_confirmation_keeps_the_precision(cat: Catalogue, typed: str, es: str) -> None:
    result = parse_since(typed, NOW, MX)
    assert result is not None
    assert since_in_words(result, NOW, "es", MX, catalogue=cat) == es
    confirm = cat.t("es", "intake.since.confirm", when=since_in_words(result, NOW, "es", MX, catalogue=cat))
    assert confirm == f"Anotado: desde {es}."


def test_since_in_words_english(cat: Catalogue) -> None:
    result = SinceResult(datetime(2026, 11, 23, 12, 0, tzinfo=MX), Precision.PART_OF_DAY, "x", DayPart.AFTERNOON)
    assert since_in_words(result, NOW, "en", MX, catalogue=cat) == "yesterday, Monday, November 23, in the afternoon"
    minute = SinceResult(datetime(2026, 11, 24, 9, 30, tzinfo=MX), Precision.MINUTE, "x")
    assert since_in_words(minute, NOW, "en", MX, catalogue=cat) == "today, Tuesday, November 24, at 09:30"


@pytest.mark.parametrize(
    ("value", "shown"), [(20, "20"), (20.0, "20"), (12.5, "12.5"), (0.25, "0.25"), (0.1 + 0.2, "0.3")]
)
def test_hours_number(value: float, shown: str) -> None:
    assert hours_number(value) == shown


def test_hours_number_refuses_negative() -> None:
    with pytest.raises(ValueError, match="negative"):
        hours_number(-1)


def test_conversation_mock_reads_the_same(cat: Catalogue) -> None:
    """The Spanish lines of CONVERSATION.md, built from the catalogue and the date helpers."""
    greeting = cat.t(
        "es",
        "greeting.active",
        name="Laura",
        company="Intecnia",
        client="Comercializadora del Valle",
        tier=cat.plain("es", "tier.empresarial"),
        valid_until=numeric_date(date(2027, 3, 14), "es", catalogue=cat),
        hours_left=hours_number(12.5),
        hours_total=hours_number(20.0),
    )
    assert greeting == (
        "¡Hola, Laura! Soy el asistente de soporte de Intecnia para Comercializadora del Valle.\n"
        "Tu póliza Empresarial está vigente hasta el 14/03/2027 (12.5 de 20 horas disponibles)."
    )
    decided = cat.t(
        "es",
        "intake.severity.decided",
        severity=cat.plain("es", "intake.severity.name.1"),
        target=business_duration_in_words(timedelta(hours=8), "es", catalogue=cat),
    )
    assert decided == "Entendido: severidad 1 (crítica). Un consultor te responderá en máximo 8 horas hábiles."
    deadline = deadline_in_words(datetime(2026, 11, 25, 10, 15, tzinfo=MX), "es", MX, catalogue=cat)
    created = cat.t("es", "intake.created", ticket="SOP-2026-000124", deadline=deadline)
    assert created == (
        "Listo. Tu ticket es <b>SOP-2026-000124</b>.\n"
        "Te responderemos a más tardar el miércoles 25 de noviembre a las 10:15.\n"
        "Te aviso aquí en cuanto un consultor lo tome."
    )
    claimed = cat.t("es", "tickets.claimed", agent="Marco", ticket="SOP-2026-000124")
    assert claimed == "Marco tomó tu ticket SOP-2026-000124 y se pondrá en contacto contigo."
    responded = business_duration_in_words(timedelta(minutes=12), "es", catalogue=cat)
    assert f"respondido en {responded}" == "respondido en 0 h 12 min hábiles"


def test_public_surface() -> None:
    import bot.dates as module

    assert set(module.__all__) == {
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
    }
