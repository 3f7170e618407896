"""The client's taps on the desk's Telegram buttons: Resuelto, Reabrir (P-CLOSE-2) and the 1-5 rating."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, ContextTypes

from bot.domain.errors import IllegalTransition, InvalidInput
from bot.i18n import language_for
from bot.services import desk_resolve
from bot.services.context import Services
from bot.services.desk_common import NotTheClient, TicketGone
from storage import StaleVersion

__all__ = ["PATTERN", "DeskTap", "register_desk_callbacks"]

log = logging.getLogger(__name__)

# Built by bot.services.desk_resolve.solution_keyboard / desk_info.reopen_keyboard; never trusted as is.
PATTERN = re.compile(r"^desk:(ok|reopen|rate):(\d{1,12})(?::([1-5]))?$")


@dataclass(frozen=True)
class DeskTap:
    """A parsed button tap."""

    action: str
    ticket_id: int
    rating: int | None

    @classmethod
    def parse(cls, data: str | None) -> DeskTap | None:
        match = PATTERN.match(data or "")
        if match is None:
            return None
        action, ticket, rating = match.groups()
        if (action == "rate") != (rating is not None):
            return None
        return cls(action, int(ticket), int(rating) if rating else None)


async def _tap(services: Services, update: Update) -> str | None:
    """Run the tapped use case; returns the short answer for answerCallbackQuery (None: nothing to say)."""
    query = update.callback_query
    assert query is not None
    lang = language_for(query.from_user.language_code)
    tap = DeskTap.parse(query.data)
    if tap is None:
        return services.catalogue.plain(lang, "tickets.button_expired")
    user = query.from_user.id
    try:
        if tap.action == "ok":
            await desk_resolve.client_confirm(services, ticket_id=tap.ticket_id, telegram_user_id=user)
        elif tap.action == "reopen":
            await desk_resolve.client_reopen(services, ticket_id=tap.ticket_id, telegram_user_id=user)
        else:
            assert tap.rating is not None
            await desk_resolve.client_rate(services, ticket_id=tap.ticket_id, telegram_user_id=user, rating=tap.rating)
    except (NotTheClient, TicketGone):
        return services.catalogue.plain(lang, "tickets.not_yours")
    except (IllegalTransition, InvalidInput, StaleVersion):
        # A second tap, or a button from an older state (Grafana OnCall #3161): nothing moves backwards.
        return services.catalogue.plain(lang, "tickets.button_expired")
    return None


def register_desk_callbacks(application: Application[Any, Any, Any, Any, Any, Any], services: Services) -> None:
    """Add the handler of the desk's buttons (call from handlers.telegram.register)."""

    async def on_tap(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        if query is None:
            return
        answer: str | None = None
        try:
            answer = await _tap(services, update)
        except Exception:
            log.exception("desk button %r failed", query.data)
        # Every callback query must be answered, or the client's button spins (LIMITS.md).
        await query.answer(text=answer[:200] if answer else None)

    application.add_handler(CallbackQueryHandler(on_tap, pattern=r"^desk:"))
