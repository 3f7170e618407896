"""What an e-mail's delivery tells the store (as bot.services.delivered does for Telegram): once the SMTP server
took a reply of the assignee it is the ticket's first response (R-RESPONSE), its thread note is posted and the
relayed Slack message gets ✅; a message that can never be delivered is said in the ticket's thread (⚠️)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.delivery import Dispatcher
from bot.services import desk_relay, desk_response, outbox
from bot.services.context import Services
from bot.services.desk_common import agent_text
from bot.services.mail_out import EMAIL, MAIL_SEND
from storage import Tx
from storage.records import OutboxMessage

__all__ = ["register"]


def register(dispatcher: Dispatcher, services: Services) -> None:
    """Give the dispatcher the hooks of the e-mail rows."""

    async def mark(tx: Tx, row: OutboxMessage, reaction: str) -> None:
        relayed = row.payload.get("relayed")
        if isinstance(relayed, Mapping) and relayed.get("channel") and relayed.get("ts"):
            await outbox.slack_reaction(tx, str(relayed["channel"]), str(relayed["ts"]), reaction, at=services.clock())

    async def sent(tx: Tx, row: OutboxMessage, result: Mapping[str, Any]) -> None:
        await mark(tx, row, desk_relay.DELIVERED)
        ticket_id = row.payload.get("ticket_id")
        if ticket_id is None:
            return
        how = row.payload.get("first_response")
        if how:
            await desk_response.on_delivered(tx, services, int(ticket_id), str(how), services.clock())
        note = row.payload.get("thread_note")
        if note:
            ticket = await tx.get_ticket(int(ticket_id))
            if ticket is not None:
                await outbox.slack_thread(tx, ticket, str(note), at=services.clock(), dedupe_key=f"sent-note:{row.id}")

    async def dead(tx: Tx, row: OutboxMessage, reason: str) -> None:
        if row.destination != EMAIL:
            return
        await mark(tx, row, desk_relay.NOT_DELIVERED)
        ticket_id = row.payload.get("ticket_id")
        ticket = None if ticket_id is None else await tx.get_ticket(int(ticket_id))
        note = agent_text(services, "mail.desk.not_delivered", address=str(row.payload.get("to")), reason=reason[:200])
        if ticket is not None:
            await outbox.slack_thread(tx, ticket, note, at=services.clock(), dedupe_key=f"undelivered:{row.id}")
        else:
            await outbox.slack_channel(tx, services.settings.slack_support_channel, note, at=services.clock())

    dispatcher.on_sent(EMAIL, MAIL_SEND, sent)
    dispatcher.on_dead(dead)
