"""What a delivery tells the store: recorded by hooks in the transaction that marks the outbox row sent or dead.

- A card posted: where it lives (so it is updated in place, never posted twice), the response clock, and the
  rest of a very long description in its thread.
- A file uploaded: its Slack id (a retried upload is skipped).
- A message to a client accepted by Telegram: the note it carried goes to the ticket's thread ("Aviso 1 de 3
  enviado", a relayed reply's mark); a reply of the assignee is the ticket's first response if it had none
  (R-RESPONSE: a reply that reaches the client).
- A message that can never be delivered: the ticket's thread says so at once; a client who blocked the bot
  is marked unreachable, so nothing more is claimed as sent to them.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from bot.delivery import Dispatcher
from bot.domain.types import TicketStatus
from bot.services import desk_relay, desk_response, escalation, outbox
from bot.services.context import Services
from bot.services.desk_common import agent_text, description_parts, escape_mrkdwn
from bot.services.sla import start_response_clock
from storage import Tx
from storage.records import OutboxMessage

__all__ = ["register"]

log = logging.getLogger(__name__)

_OPEN = (TicketStatus.NEW, TicketStatus.ASSIGNED, TicketStatus.WAITING_CLIENT)
BLOCKED_MARK = "blocked:"  # how the Telegram senders name a 403 "bot was blocked by the user"
# Messages to a client whose loss the ticket's thread hears of (and a relayed reply shows with ⚠️).
_CLIENT_KINDS = (outbox.TG_SEND, outbox.TG_EDIT, outbox.TG_PHOTO, outbox.TG_DOCUMENT)


def register(dispatcher: Dispatcher, services: Services) -> None:
    """Give the dispatcher the hooks of every kind whose delivery changes what the store knows."""

    async def card_posted(tx: Tx, row: OutboxMessage, result: Mapping[str, Any]) -> None:
        if "ts" not in result:
            return  # an update in place: nothing new to record
        ticket = await tx.get_ticket(int(row.payload["ticket_id"]))
        if ticket is None or ticket.slack_ts == result["ts"]:
            return
        first = ticket.slack_ts is None
        ticket = await tx.update_ticket(
            ticket.id, ticket.version, slack_channel=str(result["channel"]), slack_ts=str(result["ts"])
        )
        if not first:
            return  # posted again after someone deleted it
        await start_response_clock(tx, services, ticket)
        _, rest = description_parts(ticket.description)
        for n, part in enumerate(rest):
            await outbox.slack_thread(
                tx, ticket, escape_mrkdwn(part), at=services.clock(), dedupe_key=f"description:{ticket.id}:{n}"
            )

    async def file_uploaded(tx: Tx, row: OutboxMessage, result: Mapping[str, Any]) -> None:
        if result.get("file_id"):
            await tx.set_attachment_slack_file(int(result["attachment_id"]), str(result["file_id"]))

    async def client_message_sent(tx: Tx, row: OutboxMessage, result: Mapping[str, Any]) -> None:
        note, ticket_id = row.payload.get("thread_note"), row.payload.get("ticket_id")
        await _mark_relayed(tx, row, desk_relay.DELIVERED)
        if ticket_id is None:
            return
        how = row.payload.get("first_response")
        if how:  # R-RESPONSE: the assignee's reply reached the client
            await desk_response.on_delivered(tx, services, int(ticket_id), str(how), services.clock())
        if not note:
            return
        ticket = await tx.get_ticket(int(ticket_id))
        if ticket is not None:
            await outbox.slack_thread(tx, ticket, str(note), at=services.clock(), dedupe_key=f"sent-note:{row.id}")

    async def _mark_relayed(tx: Tx, row: OutboxMessage, reaction: str) -> None:
        """The agent's message this row relayed shows whether it reached the client (✅) or never can (⚠️)."""
        relayed = row.payload.get("relayed")
        if isinstance(relayed, Mapping) and relayed.get("channel") and relayed.get("ts"):
            channel, ts = str(relayed["channel"]), str(relayed["ts"])
            await outbox.slack_reaction(tx, channel, ts, reaction, at=services.clock())

    async def escalation_copy_posted(tx: Tx, row: OutboxMessage, result: Mapping[str, Any]) -> None:
        """Where each copy of an escalation request went (every manager's DM, the thread), so the decision
        replaces all of them: none keeps live buttons, each keeps the ticket, who asked and why."""
        escalation_id = row.payload.get("escalation_id")
        if escalation_id is None or not result.get("ts"):
            return
        await escalation.record_copy(
            tx, int(escalation_id), str(result["channel"]), str(result["ts"]), at=services.clock()
        )

    async def dead(tx: Tx, row: OutboxMessage, reason: str) -> None:
        if row.destination != outbox.TELEGRAM or row.kind not in _CLIENT_KINDS:
            return
        await _mark_relayed(tx, row, desk_relay.NOT_DELIVERED)
        now = services.clock()
        chat_id = int(row.payload["chat_id"])
        blocked = reason.startswith(BLOCKED_MARK)
        contact = await tx.get_contact_by_telegram_user(chat_id) if chat_id > 0 else None
        if blocked and contact is not None and contact.unreachable_since is None:
            contact = await tx.set_contact_unreachable(chat_id, now)
        tickets = []
        if row.payload.get("ticket_id") is not None:
            ticket = await tx.get_ticket(int(row.payload["ticket_id"]))
            tickets = [ticket] if ticket is not None else []
        elif contact is not None:
            tickets = await tx.list_tickets(status=_OPEN, client_id=contact.client_id, contact_id=contact.id)
        name = contact.name if contact is not None else str(chat_id)
        key = "desk.thread.not_delivered_blocked" if blocked else "desk.thread.not_delivered"
        note = agent_text(services, key, name=name, reason=reason[:200])
        for ticket in tickets:
            await outbox.slack_thread(tx, ticket, note, at=now, dedupe_key=f"undelivered:{row.id}:{ticket.id}")
        if not tickets:
            log.warning("a message to Telegram chat %s could not be delivered: %s", chat_id, reason)

    dispatcher.on_sent(outbox.SLACK, outbox.SLACK_CARD, card_posted)
    dispatcher.on_sent(outbox.SLACK, outbox.SLACK_THREAD_FILE, file_uploaded)
    dispatcher.on_sent(outbox.TELEGRAM, outbox.TG_SEND, client_message_sent)
    dispatcher.on_sent(outbox.TELEGRAM, outbox.TG_PHOTO, client_message_sent)
    dispatcher.on_sent(outbox.TELEGRAM, outbox.TG_DOCUMENT, client_message_sent)
    dispatcher.on_sent(outbox.SLACK, outbox.SLACK_DM, escalation_copy_posted)
    dispatcher.on_sent(outbox.SLACK, outbox.SLACK_THREAD, escalation_copy_posted)
    dispatcher.on_dead(dead)
