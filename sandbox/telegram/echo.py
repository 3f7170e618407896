"""The benchmark baseline: a python-telegram-bot Application that answers every text with the same text."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, ContextTypes, MessageHandler, filters


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Reply with the very text received."""
    message = update.effective_message
    if message is not None and message.text is not None:
        await message.reply_text(message.text, do_quote=False)


def build_echo_application(token: str, base_url: str, base_file_url: str) -> Application:  # type: ignore[type-arg]
    """An echo bot pointed at a Bot API (the stand-in's urls, or api.telegram.org's defaults)."""
    app = Application.builder().token(token).base_url(base_url).base_file_url(base_file_url).build()
    app.add_handler(MessageHandler(filters.TEXT, echo))
    return app
