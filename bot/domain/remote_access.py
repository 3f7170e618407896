"""Remote-access details (P-IN-3): TeamViewer IDs, checked and shown; phone numbers for contact matching."""

from __future__ import annotations

import re
import unicodedata

__all__ = [
    "MASK_CHAR",
    "MEXICAN_NUMBER_LENGTH",
    "TEAMVIEWER_ID_LENGTHS",
    "format_teamviewer_id",
    "mask_secret",
    "mask_teamviewer_id",
    "normalize_phone",
    "normalize_teamviewer_id",
    "phones_match",
]

TEAMVIEWER_ID_LENGTHS = (9, 10)
MEXICAN_NUMBER_LENGTH = 10
MASK_CHAR = "•"
_SECRET_MASK = MASK_CHAR * 6

# What people type between digit groups: spaces (also no-break), dashes, dots, slashes.
_ID_SEPARATORS = re.compile(r"[\s\-‐‑‒–—.·/_]+")
_EXTENSION = re.compile(r"(?:ext\.?|extension|extensión|x)\s*\d+\s*$", re.IGNORECASE)
# Dialling prefixes of Mexican numbers seen in contacts: +52, 52, the old mobile "1" after 52
# (+52 1 222 …), and the pre-2019 "044"/"045"/"01" national prefixes.
_MX_PREFIXES = ("521", "52", "044", "045", "01")


def normalize_teamviewer_id(text: str) -> str | None:
    """The digits of an ID typed as "1 234 567 890" or "123-456-789"; None unless 9 or 10 digits alone."""
    folded = unicodedata.normalize("NFKC", text).strip()
    if not folded:
        return None
    digits = _ID_SEPARATORS.sub("", folded)
    if not re.fullmatch(r"[0-9]+", digits):
        return None
    if len(digits) not in TEAMVIEWER_ID_LENGTHS:
        return None
    return digits


def format_teamviewer_id(teamviewer_id: str) -> str:
    """Digits grouped in threes from the right, as TeamViewer shows them: "1 234 567 890"."""
    groups = []
    rest = teamviewer_id
    while rest:
        groups.append(rest[-3:])
        rest = rest[:-3]
    return " ".join(reversed(groups))


def mask_teamviewer_id(teamviewer_id: str, visible: int = 3) -> str:
    """Only the last `visible` digits shown ("•••••••890"), for places that do not need the whole ID."""
    if visible <= 0:
        return MASK_CHAR * len(teamviewer_id)
    shown = teamviewer_id[-visible:]
    return MASK_CHAR * (len(teamviewer_id) - len(shown)) + shown


def mask_secret(secret: str) -> str:
    """A fixed-length mask: a password's length is itself a hint, so it is never shown."""
    del secret
    return _SECRET_MASK


def normalize_phone(text: str) -> str:
    """The digits of a phone number without Mexican prefixes: the last 10 digits of a longer number.

    "+52 1 222 248 3734", "52 222 248 3734", "(222) 248-3734" → "2222483734". An extension at the end
    ("ext. 12") is dropped. Fewer than 10 digits are returned as they are, and match nothing (see
    `phones_match`).
    """
    folded = unicodedata.normalize("NFKC", text).strip()
    folded = _EXTENSION.sub("", folded)
    digits = "".join(ch for ch in folded if "0" <= ch <= "9")
    if len(digits) > MEXICAN_NUMBER_LENGTH:
        for prefix in _MX_PREFIXES:
            if digits.startswith(prefix) and len(digits) == len(prefix) + MEXICAN_NUMBER_LENGTH:
                return digits[len(prefix) :]
        return digits[-MEXICAN_NUMBER_LENGTH:]
    return digits


def phones_match(first: str, second: str) -> bool:
    """True when both are full 10-digit numbers once normalised and equal (an empty phone matches nothing)."""
    a, b = normalize_phone(first), normalize_phone(second)
    return len(a) == MEXICAN_NUMBER_LENGTH and a == b
