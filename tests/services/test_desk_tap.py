"""The client's desk buttons on Telegram: callback data parsed strictly, never trusted."""

from __future__ import annotations

import pytest

from bot.services.desk_info import reopen_keyboard
from bot.services.desk_resolve import DeskTap, solution_keyboard
from tests.services.desk_env import DeskEnv
from tests.services.desk_env import desk as desk_env

_ = desk_env


@pytest.mark.parametrize(
    ("data", "tap"),
    [
        ("desk:ok:12", DeskTap("ok", 12, None)),
        ("desk:reopen:7", DeskTap("reopen", 7, None)),
        ("desk:rate:7:5", DeskTap("rate", 7, 5)),
    ],
)
def test_desk_buttons_parse(data: str, tap: DeskTap) -> None:
    assert DeskTap.parse(data) == tap


@pytest.mark.parametrize(
    "data",
    [
        None,
        "",
        "desk:ok",
        "desk:ok:x",
        "desk:rate:7",
        "desk:rate:7:6",
        "desk:rate:7:0",
        "desk:ok:7:5",
        "desk:reopen:-1",
        "desk:delete:7",
        "i:1:ok",
        "desk:ok:1234567890123",
    ],
)
def test_tampered_or_unknown_data_is_refused(data: str | None) -> None:
    assert DeskTap.parse(data) is None


@pytest.mark.parametrize("lang", ["es", "en"])
def test_every_desk_button_fits_telegram_limits_and_parses_back(desk_env: DeskEnv, lang: str) -> None:
    """python-telegram-bot #528: callback_data over 64 bytes is BUTTON_DATA_INVALID."""
    big = 10**12 - 1
    rows = solution_keyboard(desk_env.services, lang, big) + reopen_keyboard(desk_env.services, lang, big)
    buttons = [b for row in rows for b in row]
    assert all(len(b["data"].encode()) <= 64 and DeskTap.parse(b["data"]) is not None for b in buttons)
    assert all(len(row) <= 8 for row in rows)
