"""What the office types, checked and written one way: names, Mexican phone numbers, e-mail addresses."""

from __future__ import annotations

import unicodedata

import phonenumbers
from email_validator import EmailNotValidError, validate_email

__all__ = ["FieldError", "check_email", "check_name", "check_phone"]

NAME_MAX = 120
REGION = "MX"


class FieldError(ValueError):
    """A value that cannot be recorded; `key` names its sentence in the catalogues (cli.invalid.*)."""

    def __init__(self, key: str, value: str) -> None:
        super().__init__(f"{key}: {value!r}")
        self.key = key
        self.value = value


def check_name(text: str) -> str:
    """A person's or a company's name: spaces tidied, at most 120 characters, letters in it, nothing invisible."""
    name = " ".join(text.split())
    if not name or len(name) > NAME_MAX or not any(ch.isalpha() for ch in name):
        raise FieldError("name", text)
    if any(unicodedata.category(ch).startswith("C") for ch in name):
        raise FieldError("name", text)
    return name


def check_phone(text: str) -> str:
    """A phone number as Mexicans write it ("222 123 4567", "(55) 1234-5678", "+52 1 222 123 4567", "044 …"),
    or a foreign one with its +country code. Returns: the international form ("+52 222 123 4567"); "" for "".
    Raises FieldError."""
    if not text.strip():
        return ""
    try:
        number = phonenumbers.parse(_modern(text), REGION)
    except phonenumbers.NumberParseException:
        raise FieldError("phone", text) from None
    if not phonenumbers.is_valid_number(number):
        raise FieldError("phone", text)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def _modern(text: str) -> str:
    """The prefixes Mexico dropped in 2019 and people still type: +52 1 (mobile), 044/045 (mobile), 01 (long
    distance)."""
    digits = "".join(ch for ch in text if ch.isdigit())
    if text.strip().startswith("+") and digits.startswith("521") and len(digits) == 13:
        return "+52" + digits[3:]
    if digits[:3] in ("044", "045") and len(digits) == 13:
        return digits[3:]
    if digits.startswith("01") and len(digits) == 12:
        return digits[2:]
    return text


def check_email(text: str) -> str:
    """An e-mail address by its syntax (no look-up on the network). Returns: the normalised address.

    The .test domain (RFC 6761) is accepted: the sandbox and the tests use it."""
    try:
        return validate_email(text.strip(), check_deliverability=False, test_environment=True).normalized
    except EmailNotValidError:
        raise FieldError("email", text) from None
