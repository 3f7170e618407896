"""The first response (P-SLA-6 read as R-RESPONSE): the assignee's first contact with the client about the problem.

What counts: a reply of the assignee that reached the client (Telegram accepted the relayed message, or the
solution), or a call or remote session the assignee records with "Registré llamada/sesión". What does not: the
claim ("Tomar" assigns the ticket and the client is told, but nobody talked to them yet) and an information
request (its wait comes off the clock instead, P-SLA-7). Until the first response the 75 % warning and the
automatic escalation stay armed (P-ESC-1), claimed or not; the first response disarms them.
"""

from __future__ import annotations

import logging
from datetime import datetime

from bot.dates import business_duration_in_words
from bot.domain.errors import IllegalTransition
from bot.domain.types import TicketStatus
from bot.i18n import Safe
from bot.services import outbox
from bot.services.context import Services
from bot.services.desk_common import (
    AGENT,
    AGENT_LANGUAGE,
    SYSTEM,
    NotTheAssignee,
    agent_text,
    audit,
    load,
    require_agent,
)
from bot.services.desk_deadline import SLA_BREACH, SLA_WARNING, response_taken
from storage import StaleVersion, Tx
from storage.records import Ticket

__all__ = [
    "CALL",
    "FIRST_RESPONSE",
    "RECORD_CONTACT",
    "REPLY",
    "SOLUTION",
    "on_delivered",
    "record_contact",
    "record_first_response",
]

log = logging.getLogger(__name__)
_ATTEMPTS = 3

FIRST_RESPONSE = "first_response"  # the audit action (the metrics count SLA met from it)
# How the first response happened (the audit's "how", the outbox row's "first_response" mark).
REPLY = "reply"  # a thread reply relayed to the client, accepted by Telegram
SOLUTION = "solution"  # the solution sent at "Resolver", accepted by Telegram
CALL = "call"  # a call or remote session the assignee recorded
RECORD_CONTACT = "record_contact"  # the lifecycle-free desk action of the card's button (for refusals)
_ANSWERABLE = (TicketStatus.NEW, TicketStatus.ASSIGNED, TicketStatus.WAITING_CLIENT, TicketStatus.RESOLVED)


async def record_first_response(
    tx: Tx, services: Services, ticket: Ticket, *, how: str, at: datetime, actor_kind: str, actor_id: str
) -> Ticket | None:
    """R-RESPONSE: stamp the ticket's first response at `at` (met or missed against its target, client waits
    excluded, P-SLA-6/7), stop its warning and breach timers, audit it and say it in the thread.
    Returns: the updated ticket, or None when it already had its first response (only the first counts)."""
    if ticket.first_response_at is not None or ticket.status not in _ANSWERABLE:
        return None
    taken = await response_taken(tx, services, ticket, at)
    met = taken <= services.targets[ticket.severity]
    updated = await tx.update_ticket(ticket.id, ticket.version, first_response_at=at, response_met=met)
    await tx.cancel_timers(ticket.id, SLA_WARNING)
    await tx.cancel_timers(ticket.id, SLA_BREACH)
    minutes = round(taken.total_seconds() / 60)
    await audit(tx, ticket.id, at, actor_kind, actor_id, FIRST_RESPONSE, how=how, minutes=minutes, met=met)
    words = business_duration_in_words(taken, AGENT_LANGUAGE, catalogue=services.catalogue)
    verdict = agent_text(services, "desk.sla.met" if met else "desk.sla.missed")
    note = agent_text(
        services, "desk.thread.first_response", how=agent_text(services, f"desk.response.{how}"), taken=words,
        verdict=verdict,
    )  # fmt: skip
    await outbox.slack_thread(tx, updated, note, at=at, dedupe_key=f"first-response:{ticket.id}")
    await outbox.slack_card(tx, updated, at=at)
    return updated


async def on_delivered(tx: Tx, services: Services, ticket_id: int, how: str, at: datetime) -> None:
    """A message marked as a response reached the client (Telegram accepted it): the first such one is the
    first response (called by the delivery hook, in the transaction that marks the row sent). The ticket may
    change under it (another replica's use case): read again and retry; failing that, the message stays sent
    (never sent twice for a bookkeeping detail) and the miss is logged."""
    for _ in range(_ATTEMPTS):
        try:
            async with tx.savepoint():
                ticket = await tx.get_ticket(ticket_id)
                if ticket is not None:
                    await record_first_response(
                        tx, services, ticket, how=how, at=at, actor_kind=SYSTEM, actor_id="delivery"
                    )
                return
        except StaleVersion:
            continue
    log.warning("the first response of ticket %s was not recorded: it kept changing", ticket_id)


async def record_contact(tx: Tx, services: Services, *, ticket_id: int, slack_user_id: str, at: datetime) -> Ticket:
    """ "Registré llamada/sesión": the assignee talked to the client by phone or in a remote session (audited
    every time); the first contact is the first response (R-RESPONSE). Raises NotAnAgent, NotTheAssignee
    (None when unclaimed), TicketGone, IllegalTransition (a resolved or closed ticket)."""
    view = await load(tx, ticket_id)
    agent = await require_agent(tx, slack_user_id)
    ticket = view.ticket
    if ticket.assignee_id != agent.id:
        raise NotTheAssignee(view.assignee)
    if ticket.status not in (TicketStatus.ASSIGNED, TicketStatus.WAITING_CLIENT):
        raise IllegalTransition(ticket.status, RECORD_CONTACT)
    await audit(tx, ticket_id, at, AGENT, slack_user_id, "contact_recorded", how=CALL, agent_id=agent.id)
    first = await record_first_response(tx, services, ticket, how=CALL, at=at, actor_kind=AGENT, actor_id=slack_user_id)
    if first is None:
        note = agent_text(services, "desk.thread.contact_recorded", who=Safe(f"<@{agent.slack_user_id}>"))
        await outbox.slack_thread(tx, ticket, note, at=at)
        return ticket
    return first
