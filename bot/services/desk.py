"""Desk use cases on Slack: claim (assigns; not the first response, R-RESPONSE), reveal credentials (audited),
relay thread replies (the first one that reaches the client is the first response)."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bot.domain import lifecycle
from bot.domain.errors import AlreadyClaimed
from bot.domain.types import TicketStatus
from bot.i18n import Safe
from bot.inbox import NotYet
from bot.services import desk_relay, desk_response, mail_out, outbox
from bot.services.context import Services
from bot.services.desk_common import (
    AGENT,
    NotAnAgent,
    NotTheAssignee,
    TicketView,
    agent_text,
    audit,
    load,
    notify_client,
    require_agent,
)
from bot.services.desk_deadline import response_taken
from bot.services.events import ThreadMessage
from storage import Tx
from storage.records import Agent, Ticket

__all__ = [
    "TELEGRAM_CHUNK",
    "AlreadyTaken",
    "ClaimResult",
    "RelayOutcome",
    "claim",
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


async def require_assignee(tx: Tx, view: TicketView, slack_user_id: str) -> Agent:
    """The caller, who must be the ticket's assignee (P-CLOSE-1, P-ESC-2 level 1). Raises NotAnAgent,
    NotTheAssignee (with the actual assignee, None when unclaimed)."""
    agent = await require_agent(tx, slack_user_id)
    if view.ticket.assignee_id != agent.id:
        raise NotTheAssignee(view.assignee)
    return agent


async def claim(tx: Tx, services: Services, *, ticket_id: int, slack_user_id: str, at: datetime) -> ClaimResult:
    """ "Tomar": the first registered agent becomes the assignee, and the client is told. The claim is not the
    first response (R-RESPONSE, P-SLA-6): nobody talked to the client yet, so the response clock, its 75 %
    warning and its automatic escalation (P-ESC-1) go on until the assignee's first contact (desk_response).

    Two presses at once are handled one after the other (one card, one inbox ordering key): the second finds
    the ticket taken. Across replicas the compare-and-set on the version decides, and the loser's event is
    handled again. Raises NotAnAgent, AlreadyTaken (naming the winner), IllegalTransition, TicketGone.
    """
    agent = await require_agent(tx, slack_user_id)
    view = await load(tx, ticket_id)
    ticket = view.ticket
    try:
        lifecycle.apply(view.state(), lifecycle.Action.CLAIM, expected_version=ticket.version, actor=str(agent.id))
    except AlreadyClaimed:
        raise AlreadyTaken(view.assignee) from None
    updated = await tx.update_ticket(ticket_id, ticket.version, status=TicketStatus.ASSIGNED, assignee_id=agent.id)
    taken = await response_taken(tx, services, ticket, at)
    minutes = round(taken.total_seconds() / 60)
    await audit(tx, ticket_id, at, AGENT, slack_user_id, "claimed", agent_id=agent.id, minutes=minutes)
    text = agent_text(services, "desk.thread.claimed", who=Safe(f"<@{agent.slack_user_id}>"))
    await outbox.slack_card(tx, updated, at=at)
    await outbox.slack_thread(tx, updated, text, at=at)
    await notify_client(tx, view, services, "tickets.claimed", at=at, agent=agent.name)
    return ClaimResult(updated, agent)


async def request_credentials(
    tx: Tx, services: Services, *, ticket_id: int, slack_user_id: str, channel: str, at: datetime
) -> int:
    """ "Ver acceso remoto": queue an ephemeral, to the assignee only, that the sender fills with the decrypted
    passwords at send time (so no password is ever stored in clear in the outbox). Each reveal is audited.
    Returns: how many credentials the ticket holds. Raises NotAnAgent, NotTheAssignee, TicketGone."""
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
    await outbox.slack_ephemeral(tx, channel, slack_user_id, "", at=at, credentials_of=ticket_id)
    return len(credentials)


class RelayOutcome(StrEnum):
    """What became of a message written in a card's thread."""

    SENT = "sent"  # reached the client on Telegram
    INTERNAL = "internal"  # internal note (prefix) or another agent talking: stays in Slack
    REFUSED = "refused"  # the author has no role: nothing reaches the client
    NOT_A_TICKET = "not_a_ticket"  # not a card's thread, or the ticket is closed / has no client chat
    UNREACHABLE = "unreachable"  # the client blocked the bot: the thread is told once, nothing is queued


_LINK = re.compile(r"<(https?://[^|>]+)\|([^>]+)>")
_BARE = re.compile(r"<(https?://[^|>]+)>")
_MENTION = re.compile(r"<[@#!][^>]*>")


def slack_to_plain(text: str) -> str:
    """A Slack message as the client should read it: links spelled out, mentions dropped, entities undone."""
    text = _LINK.sub(lambda m: f"{m.group(2)} ({m.group(1)})", text)
    text = _BARE.sub(lambda m: m.group(1), text)
    text = _MENTION.sub("", text)
    return html.unescape(text).strip()


async def relay_agent_reply(tx: Tx, services: Services, message: ThreadMessage, at: datetime) -> RelayOutcome:
    """Thread bridge: the assignee's reply reaches the client; a reply starting with INTERNAL_NOTE_PREFIX,
    or written by another agent, stays internal; a user without a role reaches nobody (audited).
    Raises NotYet when the thread may belong to a card whose place is not recorded yet: the reply waits
    in the inbox until it is, and is never dropped."""
    ticket = await tx.get_ticket_by_card(message.channel, message.thread_ts)
    if ticket is None:
        if await tx.has_unrecorded_card(message.channel):
            raise NotYet(2.0, f"a card in {message.channel} is not recorded yet")
        return RelayOutcome.NOT_A_TICKET
    user, text = message.user, message.text
    prefix = services.settings.internal_note_prefix.strip().lower()
    internal = bool(prefix) and text.strip().lower().startswith(prefix)
    if ticket.status not in _OPEN:
        if not internal:  # nothing said into the void: the author hears it went nowhere
            await desk_relay.tell_unheard(tx, services, message, "desk.void.closed", at, ticket=ticket.number)
        return RelayOutcome.NOT_A_TICKET
    try:
        agent = await require_agent(tx, user)
    except NotAnAgent:
        await audit(tx, ticket.id, at, AGENT, user, "relay_refused", reason="no_role")
        await desk_relay.tell_unheard(tx, services, message, "desk.void.no_role", at)
        return RelayOutcome.REFUSED
    if internal or agent.id != ticket.assignee_id:
        await audit(tx, ticket.id, at, AGENT, user, "internal_note", chars=len(text))
        if not internal:  # another agent, or nobody took the ticket: say why, and what to do instead
            view = await load(tx, ticket.id)
            if view.assignee is None:
                await desk_relay.tell_unheard(tx, services, message, "desk.void.unclaimed", at)
            else:
                who = Safe(f"<@{view.assignee.slack_user_id}>")
                await desk_relay.tell_unheard(tx, services, message, "desk.void.not_assignee", at, who=who)
        return RelayOutcome.INTERNAL
    plain = slack_to_plain(text)
    if ticket.status is TicketStatus.NEW or not (plain or message.files):
        return RelayOutcome.NOT_A_TICKET
    by_mail = await tx.get_mail_ticket(ticket.id) is not None  # P-IN-6: the client hears it by e-mail
    if ticket.telegram_chat_id is None and not by_mail:
        await desk_relay.tell_unheard(tx, services, message, "desk.void.no_chat", at)
        return RelayOutcome.NOT_A_TICKET
    view = await load(tx, ticket.id)
    if not by_mail and view.contact is not None and view.contact.unreachable_since is not None:
        note = agent_text(services, "desk.thread.not_delivered_blocked", name=view.contact.name)
        await outbox.slack_thread(tx, ticket, note, at=at)
        await audit(tx, ticket.id, at, AGENT, user, "agent_reply_undelivered", reason="client_blocked_bot")
        return RelayOutcome.UNREACHABLE
    for n, start in enumerate(range(0, len(plain), TELEGRAM_CHUNK)):
        chunk = plain[start : start + TELEGRAM_CHUNK]
        await notify_client(
            tx,
            view,
            services,
            "tickets.agent_message",
            at=at,
            dedupe_key=f"relay:{message.channel}:{message.ts}:{n}",
            response=desk_response.REPLY,  # R-RESPONSE: once Telegram accepts it, the first response
            mark=(message.channel, message.ts),  # ✅ on the reply once Telegram accepted it
            agent=agent.name,
            text=chunk,
        )
    if plain:
        await audit(tx, ticket.id, at, AGENT, user, "agent_replied", chars=len(plain))
    if by_mail:  # P-IN-6: the files go as attachments of one e-mail
        files = await mail_out.relay_files(tx, services, view, agent.name, message, at)
    else:
        files = await desk_relay.relay_files(tx, services, view, agent.name, message, at)
    return RelayOutcome.SENT if plain or files else RelayOutcome.NOT_A_TICKET
