"""What the desk use cases share: their errors, loading a ticket as a lifecycle state, audit and notices."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.domain import lifecycle
from bot.domain.types import EscalationStatus, Role
from bot.logs import bind_ticket
from bot.services import outbox
from bot.services.context import Services
from bot.services.mail_out import notify_by_mail
from storage import Tx
from storage.records import Agent, Contact, Escalation, Ticket

__all__ = [
    "AGENT",
    "AGENT_LANGUAGE",
    "CLIENT",
    "SYSTEM",
    "DeskError",
    "NotAnAgent",
    "NotTheAssignee",
    "NotTheClient",
    "NotTheReporter",
    "TicketGone",
    "TicketView",
    "agent_text",
    "audit",
    "audit_client_refusal",
    "client_text",
    "description_parts",
    "drop_pending_escalation",
    "escape_mrkdwn",
    "load",
    "may_act",
    "notify_client",
    "require_agent",
    "split_for_mrkdwn",
]

# Who did something, as written in the audit log and in escalation requests.
AGENT = "agent"
CLIENT = "client"
SYSTEM = "system"
AGENT_LANGUAGE = "es"  # agent-facing Slack texts are Spanish (CONVERSATION.md glossary)


class DeskError(Exception):
    """Base of the refusals the desk use cases raise (the adapters turn each into a sentence)."""


class TicketGone(DeskError):
    """The ticket (or escalation) named by a button or a timer does not exist."""


class NotAnAgent(DeskError):
    """The Slack user is not registered with a role, or is inactive: nothing they do reaches a client."""


class NotTheAssignee(DeskError):
    """Only the agent who took the ticket may do this (reveal passwords, ask, resolve, escalate)."""

    def __init__(self, assignee: Agent | None) -> None:
        super().__init__("only the assignee may do this")
        self.assignee = assignee


class NotTheClient(DeskError):
    """A Telegram user asked about a ticket that is not their company's (or is no contact at all)."""

    def __init__(self, who: str, reason: str = "other_company") -> None:
        super().__init__(who)
        self.reason = reason  # as the refusal's audit row records it


class NotTheReporter(NotTheClient):
    """P-ESC-2, P-CLOSE-2: a colleague of the same company who neither reported the ticket nor was named by
    the company to act on all its tickets. A subclass of NotTheClient: whatever refuses strangers refuses them."""

    def __init__(self, who: str) -> None:
        super().__init__(who, "not_the_reporter")


def escape_mrkdwn(value: str) -> str:
    """Slack mrkdwn escaping of user text (LIMITS.md): no mentions, no @channel, no disguised links."""
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def split_for_mrkdwn(text: str, limit: int) -> list[str]:
    """Cut user text into pieces whose mrkdwn-escaped form fits `limit`, never inside an entity."""
    pieces: list[str] = []
    current: list[str] = []
    size = 0
    for char in text:
        cost = len(escape_mrkdwn(char))
        if size + cost > limit and current:
            pieces.append("".join(current))
            current, size = [], 0
        current.append(char)
        size += cost
    if current or not pieces:
        pieces.append("".join(current))
    return pieces


CARD_PIECE = 2800  # escaped characters of description per card section (a section holds 3000 with its label)
CARD_PIECES = 3  # sections of description on the card; the whole card stays well under Slack's ~12,000
THREAD_PIECE = 3500  # escaped characters per thread message beyond that (a message holds 4000)


def description_parts(description: str) -> tuple[list[str], list[str]]:
    """The description as the card shows it (one post per ticket, as a rule) and, for a very long one,
    the rest as thread messages. Returns: (card pieces, thread pieces)."""
    pieces = split_for_mrkdwn(description, CARD_PIECE)
    card, rest = pieces[:CARD_PIECES], "".join(pieces[CARD_PIECES:])
    return card, (split_for_mrkdwn(rest, THREAD_PIECE) if rest else [])


def agent_text(services: Services, key: str, **params: object) -> str:
    """A Spanish agent-facing Slack text with every param mrkdwn-escaped (`Safe` params pass as they are)."""
    return services.catalogue.render(AGENT_LANGUAGE, key, params, escape_mrkdwn)


def client_text(services: Services, lang: str, key: str, **params: object) -> str:
    """A client-facing Telegram HTML text in the client's language."""
    return services.catalogue.t(lang, key, **params)


@dataclass(frozen=True)
class TicketView:
    """A ticket with what the rules need around it: its pending escalation, its assignee, its client contact."""

    ticket: Ticket
    pending: Escalation | None
    assignee: Agent | None
    contact: Contact | None

    @property
    def language(self) -> str:
        return self.contact.language if self.contact is not None else AGENT_LANGUAGE

    def state(self, reminders_sent: int = 0) -> lifecycle.TicketState:
        """The lifecycle view of the stored ticket (assignee named by agent id)."""
        t = self.ticket
        pending = None
        if self.pending is not None:
            p = self.pending
            pending = lifecycle.PendingEscalation(p.to_level, p.requested_by_id, p.reason, p.new_severity)
        return lifecycle.TicketState(
            status=t.status,
            version=t.version,
            severity=t.severity,
            escalation_level=t.escalation_level,
            assignee=None if t.assignee_id is None else str(t.assignee_id),
            pending_escalation=pending,
            reminders_sent=reminders_sent,
        )


async def load(tx: Tx, ticket_id: int) -> TicketView:
    """Read a ticket and what hangs off it. Raises TicketGone."""
    ticket = await tx.get_ticket(ticket_id)
    if ticket is None:
        raise TicketGone(f"ticket {ticket_id} not found")
    bind_ticket(ticket.number)  # the lines logged from here on name it
    pending = next((e for e in await tx.list_escalations(ticket_id) if e.status is EscalationStatus.REQUESTED), None)
    assignee = None if ticket.assignee_id is None else await tx.get_agent(ticket.assignee_id)
    contact = None if ticket.contact_id is None else await tx.get_contact(ticket.contact_id)
    return TicketView(ticket, pending, assignee, contact)


async def require_agent(tx: Tx, slack_user_id: str, *, roles: frozenset[Role] | None = None) -> Agent:
    """The active agent behind a Slack user. Raises NotAnAgent (no role, inactive, or not one of `roles`)."""
    agent = await tx.get_agent_by_slack(slack_user_id)
    if agent is None or not agent.active or (roles is not None and agent.role not in roles):
        raise NotAnAgent(slack_user_id)
    return agent


async def audit(tx: Tx, ticket_id: int | None, at: datetime, kind: str, actor: str, action: str, **data: Any) -> None:
    """Append one event; every desk step leaves one."""
    await tx.append_audit(ticket_id, at=at, actor_kind=kind, actor_id=actor, action=action, data=data)


async def may_act(tx: Tx, ticket: Ticket, telegram_user_id: int) -> Contact:
    """The contact behind a Telegram user who may escalate, reopen, confirm or rate this ticket (P-ESC-2,
    P-CLOSE-2): the contact who reported it, or an active contact the company named to act on all its tickets.
    Reading a ticket is not acting: colleagues may still see it. Raises NotTheClient (not a linked, active
    contact of the ticket's company), NotTheReporter (a colleague who may not act on it)."""
    contact = await tx.get_contact_by_telegram_user(telegram_user_id)
    if contact is None or not contact.active:
        raise NotTheClient(str(telegram_user_id), "not_a_contact")
    if contact.client_id != ticket.client_id:
        raise NotTheClient(str(telegram_user_id))
    if contact.id != ticket.contact_id and not contact.acts_for_company:
        raise NotTheReporter(str(telegram_user_id))
    return contact


async def audit_client_refusal(
    tx: Tx, ticket_id: int, at: datetime, telegram_user_id: int, attempted: str, refusal: NotTheClient
) -> None:
    """Every refused client action leaves an audit row (written by the entry after the action's own writes
    were rolled back): who, what they tried (confirm, reopen, rate, escalate) and why it was refused."""
    await audit(
        tx, ticket_id, at, CLIENT, str(telegram_user_id), "client_action_refused",
        attempted=attempted, reason=refusal.reason,
    )  # fmt: skip


async def notify_client(
    tx: Tx,
    view: TicketView,
    services: Services,
    key: str,
    *,
    at: datetime,
    keyboard: outbox.Keyboard | None = None,
    dedupe_key: str | None = None,
    thread_note: str | None = None,
    response: str | None = None,
    mark: tuple[str, str] | None = None,
    **params: object,
) -> bool:
    """Queue a Telegram message about the ticket to its client chat, in their language.

    thread_note is posted in the ticket's thread once Telegram has accepted the message (never before: a
    reminder is not claimed as sent to a client who blocked the bot). response ("reply", "solution") marks a
    message of the assignee that, once Telegram has accepted it, is the ticket's first response if it had
    none (R-RESPONSE). mark names the thread message it relays (marked delivered or not). If the message
    cannot be delivered, the thread is told instead. Returns: False when
    nothing was queued (no chat, or the client is known to have blocked the bot: the thread is told so now)."""
    # P-IN-6: a ticket that talks by e-mail hears it there; P-CLOSE-3's reminders go by e-mail as well.
    mailed = await notify_by_mail(
        tx, view, services, key, at=at, dedupe_key=dedupe_key, thread_note=thread_note, response=response,
        mark=mark, **params,
    )  # fmt: skip
    chat = view.ticket.telegram_chat_id
    if chat is None:
        return mailed
    if view.contact is not None and view.contact.unreachable_since is not None:
        note = agent_text(services, "desk.thread.not_delivered_blocked", name=view.contact.name)
        await outbox.slack_thread(tx, view.ticket, note, at=at)
        return False
    text = client_text(services, view.language, key, ticket=view.ticket.number, **params)
    extra: dict[str, object] = {"ticket_id": view.ticket.id, "ticket": view.ticket.number}
    if thread_note:
        extra["thread_note"] = thread_note
    if response:
        extra["first_response"] = response
    if mark is not None:
        # The Slack message (channel, ts) this relays: it gets ✅ once Telegram accepted it, ⚠️ if it never can.
        extra["relayed"] = {"channel": mark[0], "ts": mark[1]}
    await outbox.telegram_send(tx, chat, text, at=at, keyboard=keyboard, dedupe_key=dedupe_key, **extra)
    return True


async def drop_pending_escalation(
    tx: Tx, view: TicketView, at: datetime, why: str, services: Services | None = None
) -> None:
    """A ticket that is resolved or closed has nothing left to escalate (P-ESC-1): its pending request is
    closed as rejected, so a late Aprobar finds nothing to decide and a reopened ticket can ask again."""
    if view.pending is None or view.ticket.assignee_id is None:
        return
    dropped = await tx.decide_escalation(
        view.pending.id, status=EscalationStatus.REJECTED, decided_by=view.ticket.assignee_id, at=at, reason=why
    )
    if services is None:
        return
    # Its copies (managers' DMs, the thread) lose their buttons and say why. Imported here: the escalation
    # module builds on this one.
    from bot.services.escalation import refresh_copies

    await refresh_copies(tx, services, dropped, at)
