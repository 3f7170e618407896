"""The benchmark baseline echo bot, and PTB's own rate limiter living with the stand-in's 429s."""

from __future__ import annotations

import pytest
from telegram.ext import AIORateLimiter, Application, MessageHandler, filters

from sandbox.telegram import StandIn, TelegramClient
from sandbox.telegram.echo import build_echo_application, echo


async def test_echo_baseline_replies_with_the_same_text(standin: StandIn) -> None:
    assert standin.urls is not None
    app = build_echo_application(standin.token, standin.urls.base_url, standin.urls.base_file_url)
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0.0, timeout=1)
        try:
            laura = TelegramClient(standin, standin.create_user("Laura"))
            for text in ("hola", "<b>no es HTML</b>", "ñ" * 4096):
                await laura.send(text)
                assert laura.last_text() == text
            assert len(laura.texts()) == 3
        finally:
            await app.updater.stop()
            await app.stop()


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_ptb_rate_limiter_retries_after_429(standin: StandIn) -> None:
    """With rate limits on, a burst to one chat gets 429s; AIORateLimiter waits retry_after and succeeds."""
    assert standin.urls is not None
    standin.rate_limits = True
    app = (
        Application.builder()
        .token(standin.token)
        .base_url(standin.urls.base_url)
        .rate_limiter(AIORateLimiter(max_retries=3, overall_max_rate=0, group_max_rate=0))
        .build()
    )
    app.add_handler(MessageHandler(filters.TEXT, echo))
    laura_user = standin.create_user("Laura")
    await standin.send_text(laura_user, "/start")
    async with app:
        for n in range(4):  # the burst of 3 fits, the 4th is told to retry after 1 s
            await app.bot.send_message(laura_user.id, f"aviso {n}")
    rejected = [v for v in standin.violations if v.error_code == 429]
    assert len(rejected) == 1
    assert [m["text"] for m in standin.history(laura_user) if m["from"] == "bot"] == [f"aviso {n}" for n in range(4)]
