"""Fixtures: the Telegram stand-in on a free port, a real PTB Bot against it, and a tiny keyboard bot polling it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from telegram import Bot
from telegram.ext import Application

from sandbox.telegram import StandIn, TelegramClient, User
from sandbox.telegram.testing import polling, ptb_bot, running_standin
from tests.sandbox.telegram.keyboard_bot import build_keyboard_bot


@pytest.fixture
async def standin() -> AsyncIterator[StandIn]:
    """A started stand-in with short timers so violations show up within a test."""
    async with running_standin(callback_answer_timeout=0.3, webhook_retry_base=0.02, webhook_retry_max=0.1) as s:
        yield s


@pytest.fixture
async def bot(standin: StandIn) -> AsyncIterator[Bot]:
    """The real python-telegram-bot client, pointed at the stand-in."""
    async with ptb_bot(standin) as b:
        yield b


@pytest.fixture
async def user(standin: StandIn) -> User:
    """A Spanish-speaking client who has started the bot (so the bot may write to them)."""
    u = standin.create_user("Laura", language_code="es", phone="+5215512345678")
    await standin.send_text(u, "/start")
    return u


@pytest.fixture
async def polling_bot(standin: StandIn) -> AsyncIterator[Application]:  # type: ignore[type-arg]
    """The keyboard bot running in polling mode against the stand-in."""
    async with polling(build_keyboard_bot(standin)) as app:
        yield app


@pytest.fixture
async def client(standin: StandIn, polling_bot: Application) -> TelegramClient:  # type: ignore[type-arg]
    """Laura's Telegram app, talking to the polling keyboard bot."""
    laura = standin.create_user("Laura", language_code="es", phone="+5215512345678")
    return TelegramClient(standin, laura, timeout=5.0)
