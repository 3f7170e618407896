"""The benchmark baseline: a python-telegram-bot Application that answers every text with the same text."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, ContextTypes, MessageHandler, filters
from telegram.request import BaseRequest


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Reply with the very text received."""
    message = update.effective_message
    if message is not None and message.text is not None:
        await message.reply_text(message.text, do_quote=False)


def build_echo_application(
    token: str,
    base_url: str,
    base_file_url: str,
    *,
    request: BaseRequest | None = None,
    get_updates_request: BaseRequest | None = None,
) -> Application:  # type: ignore[type-arg]
    """An echo bot pointed at a Bot API (the stand-in's urls, or api.telegram.org's defaults).

    `request` / `get_updates_request` replace PTB's default HTTPX client (for sends / for getUpdates), so a
    benchmark can compare with a bot on the same HTTP client; None keeps PTB's default, as a bare bot has.
    """
    builder = Application.builder().token(token).base_url(base_url).base_file_url(base_file_url)
    if request is not None:
        builder = builder.request(request)
    if get_updates_request is not None:
        builder = builder.get_updates_request(get_updates_request)
    app = builder.build()
    app.add_handler(MessageHandler(filters.TEXT, echo))
    return app
