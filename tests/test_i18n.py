"""The catalogues: same keys and placeholders in both languages, safe HTML, fallbacks, language choice."""

from __future__ import annotations

import html
import json
import logging
import re
import string
from decimal import Decimal
from pathlib import Path

import pytest

from bot.domain.types import ExcludedTopic, ServiceArea, Severity, TicketStatus, Tier
from bot.i18n import (
    DEFAULT_LANGUAGE,
    LANGUAGES,
    Catalogue,
    CatalogueFileError,
    MissingKeyError,
    MissingParamError,
    Safe,
    language_for,
    placeholders,
    used_keys,
)

ROOT = Path(__file__).resolve().parents[1]
TELEGRAM_TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler", "a", "code"}
TELEGRAM_TAGS |= {"pre", "blockquote"}


@pytest.fixture(scope="module")
def cat() -> Catalogue:
    return Catalogue.load(strict=True)


@pytest.fixture(scope="module")
def lenient() -> Catalogue:
    return Catalogue.load(strict=False)


def small(strict: bool) -> Catalogue:
    texts = {
        "es": {"hello": "Hola, {name}.", "only_es": "Sólo español {x}", "bad": "Roto {", "num": "{n:02d}"},
        "en": {"hello": "Hi, {name}.", "bad": "Broken {"},
    }
    return Catalogue(texts, strict=strict)


# --- both files ------------------------------------------------------------------------------


def test_both_languages_have_the_same_keys(cat: Catalogue) -> None:
    es, en = cat.keys("es"), cat.keys("en")
    assert sorted(es - en) == [] and sorted(en - es) == []
    assert len(es) > 150


def test_each_key_has_the_same_placeholders_in_both_languages(cat: Catalogue) -> None:
    different = [
        key for key in cat.keys("es") if placeholders(cat.template("es", key)) != placeholders(cat.template("en", key))
    ]
    assert different == []


@pytest.mark.parametrize("lang", LANGUAGES)
def test_texts_use_only_tags_telegram_accepts_and_balance_them(cat: Catalogue, lang: str) -> None:
    for key in cat.keys(lang):
        text = cat.template(lang, key)
        tags = re.findall(r"<(/?)([a-zA-Z-]+)[^>]*>", text)
        assert {name for _, name in tags} <= TELEGRAM_TAGS, key
        opened = [name for slash, name in tags if not slash]
        closed = [name for slash, name in tags if slash]
        assert sorted(opened) == sorted(closed), key
        assert "&" not in re.sub(r"&(lt|gt|amp|quot);", "", text), key


@pytest.mark.parametrize("lang", LANGUAGES)
def test_texts_fit_a_telegram_message_and_are_not_blank(cat: Catalogue, lang: str) -> None:
    for key in cat.keys(lang):
        text = cat.template(lang, key)
        assert text.strip(), key
        assert len(text) <= 1024, key  # room for the values, even in a caption


BUTTON_KEYS = [
    "menu.report",
    "menu.tickets",
    "menu.contract",
    "menu.contact",
    "intake.triage.down_yes",
    "intake.access.remote",
    "intake.attachments.none_button",
    "intake.summary.edit_description",
]


@pytest.mark.parametrize("lang", LANGUAGES)
def test_button_labels_are_short_and_plain(cat: Catalogue, lang: str) -> None:
    """Button text is not parsed as HTML and Slack caps it at 75 characters."""
    for key in BUTTON_KEYS:
        text = cat.template(lang, key)
        assert len(text) <= 40 and "<" not in text and "{" not in text, key


def test_spanish_menu_labels_follow_the_conversation_mock(cat: Catalogue) -> None:
    labels = [cat.t("es", f"menu.{name}") for name in ("report", "tickets", "contract", "contact")]
    assert labels == ["Reportar un problema", "Mis tickets", "Mi póliza", "Contacto"]


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_enum_member_has_its_text(cat: Catalogue, lang: str) -> None:
    for area in ServiceArea:
        assert cat.has(f"intake.area.{area.value}", lang)
    for topic in ExcludedTopic:
        assert cat.has(f"intake.excluded.{topic.value}", lang)
        assert cat.has(f"intake.excluded.explain.{topic.value}", lang)
    for severity in Severity:
        assert cat.has(f"intake.severity.name.{severity.value}", lang)
    for tier in Tier:
        assert cat.has(f"tier.{tier.value}", lang)
    for status in TicketStatus:
        assert cat.has(f"tickets.status.{status.value}", lang)


def test_p_scope_2_exclusions_name_their_alternative(cat: Catalogue) -> None:
    assert "Fábrica de Software" in cat.t("es", "intake.excluded.explain.development", sales="v@x.mx")
    assert "Consultoría" in cat.t("es", "intake.excluded.explain.business_consulting", sales="v@x.mx")


def test_severity_names_in_words(cat: Catalogue) -> None:
    assert cat.t("es", "intake.severity.name.1") == "severidad 1 (crítica)"
    assert cat.t("es", "intake.severity.name.4") == "severidad 4 (consulta)"


def test_p_in_4_remote_access_warns_not_to_use_the_machine(cat: Catalogue) -> None:
    assert "no uses el equipo" in cat.t("es", "intake.access.do_not_use")


def test_p_in_5_onsite_texts_ask_rules_and_contact(cat: Catalogue) -> None:
    assert "requisito" in cat.t("es", "intake.onsite.rules_warning")
    assert "Quién" in cat.t("es", "intake.onsite.contact_prompt")


# --- lookup and formatting -------------------------------------------------------------------


def test_t_fills_named_placeholders(cat: Catalogue) -> None:
    text = cat.t("es", "intake.created", ticket="SOP-2026-000124", deadline="miércoles 25 de noviembre a las 10:15")
    assert "<b>SOP-2026-000124</b>" in text and "a más tardar el miércoles 25" in text
    assert "Your ticket is <b>SOP-1</b>" in cat.t("en", "intake.created", ticket="SOP-1", deadline="x")


@pytest.mark.parametrize(
    ("typed", "shown"),
    [
        ("<b>Laura</b>", "&lt;b&gt;Laura&lt;/b&gt;"),
        ("Tom & Jerry", "Tom &amp; Jerry"),
        ("<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"),
        ('"quoted"', "&quot;quoted&quot;"),
        ("&amp;", "&amp;amp;"),
    ],
)
def test_client_text_is_escaped_for_telegram_html(cat: Catalogue, typed: str, shown: str) -> None:
    """python-telegram-bot #1967/#2744: user text unescaped in a parse mode → "can't parse entities"."""
    text = cat.t("es", "contact.invite_accepted", name=typed, client="ACME")
    assert shown in text
    # What the client reads once Telegram decodes the entities is exactly what they typed.
    assert html.unescape(text) == cat.plain("es", "contact.invite_accepted", name=typed, client="ACME")
    assert "<" not in text.replace("<b>", "").replace("</b>", "")


def test_safe_values_are_inserted_as_they_are(cat: Catalogue) -> None:
    text = cat.t("es", "bad_input.error", contact=Safe("<b>Intecnia</b>"))
    assert "<b>Intecnia</b>" in text


def test_plain_does_not_escape(cat: Catalogue) -> None:
    assert cat.plain("es", "contact.invite_accepted", name="A & B", client="C") == (
        "¡Listo, A & B! Ya quedó tu registro como contacto de C."
    )


def _filled(cat: Catalogue, lang: str, key: str, number: object) -> str:
    """The text with every placeholder given `number` (an int where the template asks a format spec)."""
    params: dict[str, object] = {}
    for _literal, name, spec, _conv in string.Formatter().parse(cat.template(lang, key)):
        if name:
            params[name] = 2 if spec else number
    return cat.plain(lang, key, **params)


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("number", ["2.0000", "1.5000", "0.2500"])
def test_no_text_prints_a_decimal_with_trailing_zeros(cat: Catalogue, lang: str, number: str) -> None:
    """Hours are kept to 0.0001 (Decimal): a text that showed them as they are said "1.5000" and "2.0000"."""
    wanted = {"2.0000": "2", "1.5000": "1.5", "0.2500": "0.25"}[number]
    for key in cat.keys(lang):
        if placeholders(cat.template(lang, key)):
            assert number not in _filled(cat, lang, key, Decimal(number)), key
    assert cat.plain(lang, "desk.hours.item", kind="x", hours=Decimal(number)).endswith(f" {wanted} h")


QUOTES = {"es": (("«", "»"), ("“", "”")), "en": (("“", "”"), ("‘", "’"))}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_quote_marks_fit_the_language_and_come_in_pairs(cat: Catalogue, lang: str) -> None:
    """Spanish quotes with « » (or “ ”), English with “ ” (or ‘ ’): «» in an English text is a slip, and so
    is a straight " used as a quote in either."""
    allowed = {mark for pair in QUOTES[lang] for mark in pair}
    foreign = set("«»“”‘’„") - allowed
    for key in cat.keys(lang):
        text = cat.template(lang, key)
        assert not foreign & set(text), (key, text)
        assert '"' not in re.sub(r"<[^>]*>", "", text), (key, text)
        for opening, closing in QUOTES[lang]:
            if opening == "‘":
                continue  # ’ is also the English apostrophe
            assert text.count(opening) == text.count(closing), (key, text)


def test_numbers_keep_their_format_spec(cat: Catalogue) -> None:
    assert cat.plain("es", "dates.numeric_date", day=4, month=3, year=2027) == "04/03/2027"


def test_strict_missing_key_raises_named_error() -> None:
    with pytest.raises(MissingKeyError):
        small(strict=True).t("es", "nope")


def test_strict_missing_param_raises_named_error() -> None:
    with pytest.raises(MissingParamError, match="name"):
        small(strict=True).t("es", "hello")


def test_lenient_missing_key_in_english_falls_back_to_spanish(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="bot.i18n"):
        assert small(strict=False).t("en", "only_es", x="1") == "Sólo español 1"
    assert "only_es" in caplog.text


def test_lenient_unknown_key_falls_back_to_the_key_and_logs(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="bot.i18n"):
        assert small(strict=False).t("en", "nope") == "nope"
    assert "nope" in caplog.text


def test_lenient_missing_param_never_raises(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="bot.i18n"):
        assert small(strict=False).t("es", "hello") == "hello"
        assert small(strict=False).t("en", "bad") == "bad"
        assert small(strict=False).t("es", "num", n="not a number") == "num"
        assert small(strict=False).t("es", "num", n=7) == "07"
    assert "cannot be filled" in caplog.text


def test_unknown_language_falls_back_to_spanish(lenient: Catalogue) -> None:
    assert lenient.t("fr", "menu.report") == "Reportar un problema"


def test_strict_unknown_language_raises(cat: Catalogue) -> None:
    with pytest.raises(MissingKeyError):
        cat.t("fr", "menu.report")


@pytest.mark.parametrize(
    ("code", "lang"),
    [
        ("en", "en"),
        ("en-US", "en"),
        ("EN-gb", "en"),
        ("es", "es"),
        ("es-MX", "es"),
        ("fr", "es"),
        ("", "es"),
        (None, "es"),
    ],
)
def test_language_for_telegram_codes(code: str | None, lang: str) -> None:
    assert language_for(code) == lang
    assert DEFAULT_LANGUAGE == "es"


def test_placeholders_refuses_attribute_access() -> None:
    assert placeholders("{a} y {b:02d}") == {"a", "b"}
    with pytest.raises(ValueError, match="plain name"):
        placeholders("{a.b}")
    with pytest.raises(ValueError):
        placeholders("{")


# --- loading ---------------------------------------------------------------------------------


def test_load_flattens_nested_objects(tmp_path: Path) -> None:
    (tmp_path / "es.json").write_text(json.dumps({"a": {"b": {"c": "x"}}, "d": "y"}), encoding="utf-8")
    loaded = Catalogue.load(tmp_path, languages=("es",))
    assert loaded.keys("es") == {"a.b.c", "d"}


@pytest.mark.parametrize("content", ["not json", "[1, 2]", '{"a": 1}', '{"a": ["x"]}'])
def test_load_refuses_bad_files(tmp_path: Path, content: str) -> None:
    (tmp_path / "es.json").write_text(content, encoding="utf-8")
    with pytest.raises(CatalogueFileError):
        Catalogue.load(tmp_path, languages=("es",))


def test_load_refuses_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(CatalogueFileError):
        Catalogue.load(tmp_path, languages=("es",))


def test_a_catalogue_needs_spanish() -> None:
    with pytest.raises(CatalogueFileError):
        Catalogue({"en": {"a": "b"}})


# --- keys used in code -----------------------------------------------------------------------


def test_used_keys_finds_literal_keys(tmp_path: Path) -> None:
    source = tmp_path / "handler.py"
    source.write_text(
        "def f(cat, t, lang, k):\n"
        "    cat.t(lang, 'menu.report')\n"
        '    t(lang, "intake.area.question", x=1)\n'
        "    cat.plain(\n        lang,\n        'menu.contact',\n    )\n"
        "    cat.t(lang, k)\n"
        "    other(lang, 'not.a.key')\n",
        encoding="utf-8",
    )
    (tmp_path / "broken.py").write_text("def (:\n", encoding="utf-8")
    found = used_keys([tmp_path])
    assert sorted(use.key for use in found) == ["intake.area.question", "menu.contact", "menu.report"]
    assert {use.line for use in found} == {2, 3, 4}


def test_every_key_used_in_code_exists(cat: Catalogue) -> None:
    roots = [path for path in (ROOT / "bot", ROOT / "handlers") if path.exists()]
    missing = [f"{use.path.relative_to(ROOT)}:{use.line} {use.key}" for use in used_keys(roots) if not cat.has(use.key)]
    assert missing == []


def test_render_takes_another_escaper_for_slack(cat: Catalogue) -> None:
    def mrkdwn(value: str) -> str:
        return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

    text = cat.render("es", "tickets.claimed", {"agent": "<!channel>", "ticket": "SOP-1"}, mrkdwn)
    assert text.startswith("&lt;!channel&gt; tomó tu ticket SOP-1")


@pytest.mark.parametrize("lang", LANGUAGES)
def test_policy_numbers_are_params_not_text(cat: Catalogue, lang: str) -> None:
    """Every policy number is configuration (POLICY.md): response targets, file size, hours."""
    for key in cat.keys(lang) - {"dates.business_hours_one"}:  # "1 hora hábil" is grammar, not policy
        text = cat.template(lang, key)
        assert not re.search(r"\d+\s*MB", text), key
        assert not re.search(r"\d+\s*(horas? h[aá]bil|business hour)", text), key


def test_default_strictness_follows_pytest(monkeypatch: pytest.MonkeyPatch) -> None:
    """Strict while a test runs (a missing text fails it); lenient in production."""
    catalogue = Catalogue({"es": {"a": "A"}})
    with pytest.raises(MissingKeyError):
        catalogue.t("es", "nope")
    monkeypatch.delenv("PYTEST_CURRENT_TEST")
    assert catalogue.t("es", "nope") == "nope"
    assert Catalogue({"es": {}}, strict=True).is_strict


def test_public_surface() -> None:
    import bot.i18n as module

    assert set(module.__all__) == {
        "DEFAULT_LANGUAGE",
        "LANGUAGES",
        "LOCALES_DIR",
        "LOOKUP_FUNCTIONS",
        "Catalogue",
        "CatalogueFileError",
        "I18nError",
        "KeyUse",
        "MissingKeyError",
        "MissingParamError",
        "Safe",
        "decimal_text",
        "escape_html",
        "language_for",
        "placeholders",
        "used_keys",
    }
