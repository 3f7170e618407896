"""The Telegram adapter: parses updates, calls one service, renders the answer."""

from __future__ import annotations

from telegram import Bot, BotCommand, BotCommandScopeAllPrivateChats
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.delivery import Dispatcher
from bot.i18n import DEFAULT_LANGUAGE, LANGUAGES, Catalogue
from bot.keys import configured_keys
from bot.services.context import Services
from handlers.telegram.desk_callbacks import register_desk_callbacks
from handlers.telegram.routes import COMMANDS, Routes
from handlers.telegram.senders import register_senders
from storage import SecretBox

__all__ = ["register", "set_commands"]


def register(application: Application, services: Services, dispatcher: Dispatcher) -> None:  # type: ignore[type-arg]
    """Add the bot's handlers to `application` and its senders to `dispatcher`."""
    routes = Routes(services, SecretBox(configured_keys(services.settings)))
    commands = {
        "start": routes.start,
        "reportar": routes.report,
        "cancelar": routes.cancel,
        "mis_tickets": routes.my_tickets,
        "ticket": routes.ticket,
        "escalar": routes.escalate,
        "poliza": routes.policy,
        "contacto": routes.contact,
        "ayuda": routes.help,
    }
    # New messages only: an edited message is not a new answer (it would replay a step).
    new = filters.UpdateType.MESSAGE
    for name, callback in commands.items():
        application.add_handler(CommandHandler(name, callback, filters=new))
    application.add_handler(MessageHandler(new & filters.COMMAND, routes.unknown_command))
    application.add_handler(MessageHandler(new & filters.CONTACT, routes.shared_contact))
    application.add_handler(MessageHandler(new & ~filters.COMMAND & ~filters.StatusUpdate.ALL, routes.message))
    register_desk_callbacks(application, services)  # the desk's "desk:" buttons, before the catch-all
    application.add_handler(CallbackQueryHandler(routes.button))
    application.add_error_handler(routes.error)
    register_senders(dispatcher, application.bot)


async def set_commands(bot: Bot, catalogue: Catalogue) -> None:
    """The command menu in Spanish (default) and English (setMyCommands with language_code)."""
    for lang in LANGUAGES:
        menu = [BotCommand(name, catalogue.plain(lang, f"commands.description.{name}")) for name in COMMANDS]
        code = None if lang == DEFAULT_LANGUAGE else lang
        await bot.set_my_commands(menu, scope=BotCommandScopeAllPrivateChats(), language_code=code)
