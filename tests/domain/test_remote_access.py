"""P-IN-3: TeamViewer IDs are read from what clients type; phones match however they were written."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.remote_access import (
    MASK_CHAR,
    format_teamviewer_id,
    mask_secret,
    mask_teamviewer_id,
    normalize_phone,
    normalize_teamviewer_id,
    phones_match,
)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("1234567890", "1234567890"),
        ("1 234 567 890", "1234567890"),
        ("123 456 789", "123456789"),
        ("123-456-789", "123456789"),
        ("  1.234.567.890  ", "1234567890"),
        ("1\u00a0234\u00a0567\u00a0890", "1234567890"),  # no-break spaces from a copy-paste
        ("１２３４５６７８９", "123456789"),  # full-width digits from a phone keyboard
        ("1 234–567–890", "1234567890"),  # en dashes
    ],
)
def test_p_in_3_teamviewer_id_accepts_usual_spellings(typed: str, expected: str) -> None:
    assert normalize_teamviewer_id(typed) == expected


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "   ",
        "12345678",  # 8 digits: too short
        "12345678901",  # 11 digits: too long
        "12345678a",
        "ID 123456789",
        "123456789 pwd",
        "+123456789",
        "123,456,789",
        "k9#Lm2",  # a password typed in the wrong step
        "🙂",
        "١٢٣٤٥٦٧٨٩",  # Arabic-Indic digits are not what TeamViewer shows
    ],
)
def test_p_in_3_teamviewer_id_rejects_bad_input(typed: str) -> None:
    assert normalize_teamviewer_id(typed) is None


@settings(max_examples=60)
@given(st.text(alphabet="0123456789", min_size=9, max_size=10), st.sampled_from([" ", "-", ".", ""]))
def test_p_in_3_teamviewer_id_survives_any_grouping(digits: str, separator: str) -> None:
    typed = separator.join(digits[i : i + 3] for i in range(0, len(digits), 3))
    assert normalize_teamviewer_id(typed) == digits


@settings(max_examples=60)
@given(st.text(min_size=0, max_size=20))
def test_p_in_3_teamviewer_id_result_is_always_9_or_10_ascii_digits(text: str) -> None:
    result = normalize_teamviewer_id(text)
    assert result is None or (result.isascii() and result.isdigit() and len(result) in (9, 10))


def test_format_teamviewer_id_groups_in_threes_from_the_right() -> None:
    assert format_teamviewer_id("1234567890") == "1 234 567 890"
    assert format_teamviewer_id("123456789") == "123 456 789"
    assert normalize_teamviewer_id(format_teamviewer_id("987654321")) == "987654321"


def test_mask_teamviewer_id_shows_only_the_tail() -> None:
    assert mask_teamviewer_id("1234567890") == MASK_CHAR * 7 + "890"
    assert mask_teamviewer_id("123456789", visible=4) == MASK_CHAR * 5 + "6789"
    assert mask_teamviewer_id("123456789", visible=0) == MASK_CHAR * 9


def test_mask_secret_does_not_reveal_length() -> None:
    assert mask_secret("a") == mask_secret("a much longer password")
    assert "a" not in mask_secret("a")


@pytest.mark.parametrize(
    "typed",
    [
        "2222483734",
        "222 248 3734",
        "(222) 248-3734",
        "+52 222 248 3734",
        "+52 1 222 248 3734",
        "5212222483734",
        "52 222 248 3734",
        "044 222 248 3734",
        "01 222 248 3734",
        "+52 (222) 248-37-34 ext. 12",
        "222.248.3734 x 5",
    ],
)
def test_phone_variants_normalise_to_ten_digits(typed: str) -> None:
    assert normalize_phone(typed) == "2222483734"


def test_phone_keeps_last_ten_digits_of_foreign_numbers() -> None:
    assert normalize_phone("+1 (555) 123-4567") == "5551234567"


@pytest.mark.parametrize("typed", ["", "abc", "248 3734", "+52"])
def test_short_or_empty_phones_match_nothing(typed: str) -> None:
    assert len(normalize_phone(typed)) < 10
    assert not phones_match(typed, typed)


def test_shared_contact_matches_registered_phone() -> None:
    """A Telegram contact arrives as "5212222483734"; the registry holds "222 248 3734"."""
    assert phones_match("5212222483734", "222 248 3734")
    assert not phones_match("5212222483735", "222 248 3734")


@settings(max_examples=60)
@given(st.text(alphabet="0123456789", min_size=10, max_size=10), st.sampled_from(["", "+52 ", "52", "+52 1 "]))
def test_phone_prefixes_never_change_the_number(number: str, prefix: str) -> None:
    assert normalize_phone(prefix + number) == number


def test_public_surface() -> None:
    import bot.domain.remote_access as module

    assert set(module.__all__) == {
        "MASK_CHAR",
        "MEXICAN_NUMBER_LENGTH",
        "TEAMVIEWER_ID_LENGTHS",
        "format_teamviewer_id",
        "mask_secret",
        "mask_teamviewer_id",
        "normalize_phone",
        "normalize_teamviewer_id",
        "phones_match",
    }
