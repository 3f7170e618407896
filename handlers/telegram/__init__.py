"""The Telegram adapter: updates in through the inbox (translated into client events), messages out through
the outbox senders. It decides nothing: bot.services.client_entry does."""

from __future__ import annotations

from telegram import Bot, BotCommand, BotCommandScopeAllPrivateChats

from bot.delivery import Dispatcher
from bot.i18n import DEFAULT_LANGUAGE, LANGUAGES, Catalogue
from bot.inbox import InboxEntry, InboxWorker, Receipt
from bot.services import client_entry
from bot.services.context import Services
from handlers.telegram.senders import SlackFileFetcher, register_senders
from handlers.telegram.translate import SOURCE, UPDATE, to_event, who

__all__ = ["COMMANDS", "register", "set_commands"]

# Command menu order (setMyCommands); descriptions are catalogue keys commands.description.<name>.
COMMANDS = ("reportar", "mis_tickets", "ticket", "escalar", "poliza", "contacto", "ayuda", "cancelar", "start")


def register(
    inbox: InboxWorker,
    dispatcher: Dispatcher,
    services: Services,
    bot: Bot,
    *,
    fetch_slack_file: SlackFileFetcher | None = None,
) -> None:
    """Route Telegram's inbox entries to the client entry, and register the Telegram senders.
    `fetch_slack_file` downloads a file an agent shared in a thread (None: no Slack side)."""

    async def handle(entry: InboxEntry, receipt: Receipt) -> None:
        await client_entry.handle(services, receipt, to_event(entry.payload))

    async def failed(entry: InboxEntry, receipt: Receipt, error: str) -> None:
        query = (entry.payload.get("callback_query") or {}).get("id")
        await client_entry.failed(services, receipt, who(entry.payload), query, error)

    inbox.register(SOURCE, UPDATE, handle, failed)
    register_senders(dispatcher, bot, fetch_slack_file)


async def set_commands(bot: Bot, catalogue: Catalogue) -> None:
    """The command menu in Spanish (default) and English (setMyCommands with language_code)."""
    for lang in LANGUAGES:
        menu = [BotCommand(name, catalogue.plain(lang, f"commands.description.{name}")) for name in COMMANDS]
        code = None if lang == DEFAULT_LANGUAGE else lang
        await bot.set_my_commands(menu, scope=BotCommandScopeAllPrivateChats(), language_code=code)
