"""Desk use cases on Slack: claim (first response, P-SLA-6), reveal credentials (audited), relay thread replies."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bot.dates import business_duration_in_words
from bot.domain import lifecycle
from bot.domain.errors import AlreadyClaimed
from bot.domain.types import TicketStatus
from bot.i18n import Safe
from bot.services import outbox
from bot.services.context import Services
from bot.services.desk_common import (
    AGENT,
    AGENT_LANGUAGE,
    NotAnAgent,
    NotTheAssignee,
    TicketView,
    agent_text,
    audit,
    load,
    require_agent,
)
from bot.services.desk_deadline import SLA_BREACH, SLA_WARNING, response_taken
from storage import StaleVersion as StoreStale
from storage import Tx
from storage.records import Agent, Ticket

__all__ = [
    "TELEGRAM_CHUNK",
    "AlreadyTaken",
    "ClaimResult",
    "RelayOutcome",
    "claim",
    "find_ticket_by_thread",
    "relay_agent_reply",
    "request_credentials",
    "require_assignee",
    "slack_to_plain",
]

TELEGRAM_CHUNK = 3500  # below Telegram's 4096 once the header and HTML escaping are added
_OPEN = (TicketStatus.NEW, TicketStatus.ASSIGNED, TicketStatus.WAITING_CLIENT, TicketStatus.RESOLVED)


class AlreadyTaken(NotTheAssignee):
    """A claim lost: someone else holds the ticket (the adapter answers "ya lo tomó @x")."""


@dataclass(frozen=True)
class ClaimResult:
    ticket: Ticket
    agent: Agent
    response_met: bool


async def require_assignee(tx: Tx, view: TicketView, slack_user_id: str) -> Agent:
    """The caller, who must be the ticket's assignee (P-CLOSE-1, P-ESC-2 level 1). Raises NotAnAgent,
    NotTheAssignee (with the actual assignee, None when unclaimed)."""
    agent = await require_agent(tx, slack_user_id)
    if view.ticket.assignee_id != agent.id:
        raise NotTheAssignee(view.assignee)
    return agent


async def claim(services: Services, *, ticket_id: int, slack_user_id: str) -> ClaimResult:
    """ "Tomar": the first registered agent becomes the assignee; the claim is the first response (P-SLA-6).

    Two presses at once: both may read version n, only one compare-and-set wins; the other rolls back
    and gets AlreadyTaken naming the winner. Raises NotAnAgent, AlreadyTaken, IllegalTransition, TicketGone.
    """
    try:
        async with services.store.transaction() as tx:
            result = await _claim(tx, services, ticket_id, slack_user_id, services.clock())
    except StoreStale:
        async with services.store.transaction() as tx:
            view = await load(tx, ticket_id)
        if view.assignee is None:
            raise
        raise AlreadyTaken(view.assignee) from None
    services.wake_delivery()
    return result


async def _claim(tx: Tx, services: Services, ticket_id: int, slack_user_id: str, at: datetime) -> ClaimResult:
    agent = await require_agent(tx, slack_user_id)
    view = await load(tx, ticket_id)
    ticket = view.ticket
    try:
        lifecycle.apply(view.state(), lifecycle.Action.CLAIM, expected_version=ticket.version, actor=str(agent.id))
    except AlreadyClaimed:
        raise AlreadyTaken(view.assignee) from None
    taken = await response_taken(tx, services, ticket, at)
    met = taken <= services.targets[ticket.severity]
    updated = await tx.update_ticket(
        ticket_id,
        ticket.version,
        status=TicketStatus.ASSIGNED,
        assignee_id=agent.id,
        first_response_at=at,
        response_met=met,
    )
    await tx.cancel_timers(ticket_id, SLA_WARNING)
    await tx.cancel_timers(ticket_id, SLA_BREACH)
    minutes = round(taken.total_seconds() / 60)
    await audit(tx, ticket_id, at, AGENT, slack_user_id, "claimed", agent_id=agent.id, minutes=minutes, met=met)
    words = business_duration_in_words(taken, AGENT_LANGUAGE, catalogue=services.catalogue)
    verdict = agent_text(services, "desk.sla.met" if met else "desk.sla.missed")
    text = agent_text(
        services, "desk.thread.claimed", who=Safe(f"<@{agent.slack_user_id}>"), taken=words, verdict=verdict
    )
    await outbox.slack_card(tx, ticket_id, at=at)
    await outbox.slack_thread(tx, ticket_id, text, at=at)
    if ticket.telegram_chat_id is not None:
        msg = services.catalogue.t(view.language, "tickets.claimed", agent=agent.name, ticket=ticket.number)
        await outbox.telegram_send(tx, ticket.telegram_chat_id, msg, at=at)
    return ClaimResult(updated, agent, met)


async def request_credentials(services: Services, *, ticket_id: int, slack_user_id: str, channel: str) -> int:
    """ "Ver acceso remoto": queue an ephemeral, to the assignee only, that the sender fills with the decrypted
    passwords at send time (so no password is ever stored in clear in the outbox). Each reveal is audited.
    Returns: how many credentials the ticket holds. Raises NotAnAgent, NotTheAssignee, TicketGone."""
    at = services.clock()
    async with services.store.transaction() as tx:
        view = await load(tx, ticket_id)
        agent = await require_assignee(tx, view, slack_user_id)
        credentials = await tx.get_credentials(ticket_id)
        await audit(
            tx,
            ticket_id,
            at,
            AGENT,
            slack_user_id,
            "credentials_revealed",
            agent_id=agent.id,
            credential_ids=[c.id for c in credentials],
        )
        await tx.enqueue(
            outbox.SLACK,
            f"user:{slack_user_id}",
            outbox.SLACK_EPHEMERAL,
            {"channel": channel, "user": slack_user_id, "text": "", "credentials_of": ticket_id},
            at=at,
        )
    services.wake_delivery()
    return len(credentials)


class RelayOutcome(StrEnum):
    """What became of a message written in a card's thread."""

    SENT = "sent"  # reached the client on Telegram
    INTERNAL = "internal"  # internal note (prefix) or another agent talking: stays in Slack
    REFUSED = "refused"  # the author has no role: nothing reaches the client
    DUPLICATE = "duplicate"  # a retried event
    NOT_A_TICKET = "not_a_ticket"  # not a card's thread, or the ticket is closed / has no client chat


_LINK = re.compile(r"<(https?://[^|>]+)\|([^>]+)>")
_BARE = re.compile(r"<(https?://[^|>]+)>")
_MENTION = re.compile(r"<[@#!][^>]*>")


def slack_to_plain(text: str) -> str:
    """A Slack message as the client should read it: links spelled out, mentions dropped, entities undone."""
    text = _LINK.sub(lambda m: f"{m.group(2)} ({m.group(1)})", text)
    text = _BARE.sub(lambda m: m.group(1), text)
    text = _MENTION.sub("", text)
    return html.unescape(text).strip()


async def find_ticket_by_thread(tx: Tx, channel: str, thread_ts: str) -> Ticket | None:
    """The ticket whose card is the parent of a thread (open tickets only)."""
    ticket = await tx.get_ticket_by_card(channel, thread_ts)
    return ticket if ticket is not None and ticket.status in _OPEN else None


async def relay_agent_reply(
    services: Services, *, event_id: str, channel: str, thread_ts: str, slack_user_id: str, text: str
) -> RelayOutcome:
    """Thread bridge: the assignee's reply reaches the client; a reply starting with INTERNAL_NOTE_PREFIX,
    or written by another agent, stays internal; a user without a role reaches nobody (audited).
    A retried event (same event_id) does nothing the second time."""
    at = services.clock()
    async with services.store.transaction() as tx:
        outcome = await _relay(tx, services, event_id, channel, thread_ts, slack_user_id, text, at)
    if outcome is RelayOutcome.SENT:
        services.wake_delivery()
    return outcome


async def _relay(
    tx: Tx, services: Services, event_id: str, channel: str, thread_ts: str, user: str, text: str, at: datetime
) -> RelayOutcome:
    if not await tx.mark_processed("slack_event", event_id, at):
        return RelayOutcome.DUPLICATE
    ticket = await find_ticket_by_thread(tx, channel, thread_ts)
    if ticket is None:
        return RelayOutcome.NOT_A_TICKET
    try:
        agent = await require_agent(tx, user)
    except NotAnAgent:
        await audit(tx, ticket.id, at, AGENT, user, "relay_refused", reason="no_role")
        return RelayOutcome.REFUSED
    prefix = services.settings.internal_note_prefix.strip().lower()
    if (prefix and text.strip().lower().startswith(prefix)) or agent.id != ticket.assignee_id:
        await audit(tx, ticket.id, at, AGENT, user, "internal_note", chars=len(text))
        return RelayOutcome.INTERNAL
    plain = slack_to_plain(text)
    if ticket.telegram_chat_id is None or ticket.status is TicketStatus.NEW or not plain:
        return RelayOutcome.NOT_A_TICKET
    view = await load(tx, ticket.id)
    for n, start in enumerate(range(0, len(plain), TELEGRAM_CHUNK)):
        chunk = plain[start : start + TELEGRAM_CHUNK]
        msg = services.catalogue.t(
            view.language, "tickets.agent_message", agent=agent.name, ticket=ticket.number, text=chunk
        )
        await outbox.telegram_send(tx, ticket.telegram_chat_id, msg, at=at, dedupe_key=f"relay:{event_id}:{n}")
    await audit(tx, ticket.id, at, AGENT, user, "agent_replied", chars=len(plain))
    return RelayOutcome.SENT
