"""What the desk use cases share: their errors, loading a ticket as a lifecycle state, audit and notices."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.domain import lifecycle
from bot.domain.types import EscalationStatus, Role
from bot.services import outbox
from bot.services.context import Services
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
    "TicketGone",
    "TicketView",
    "agent_text",
    "audit",
    "client_text",
    "drop_pending_escalation",
    "escape_mrkdwn",
    "load",
    "notify_client",
    "require_agent",
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
    """A Telegram user asked about a ticket that is not their company's."""


def escape_mrkdwn(value: str) -> str:
    """Slack mrkdwn escaping of user text (LIMITS.md): no mentions, no @channel, no disguised links."""
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


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


async def notify_client(
    tx: Tx,
    view: TicketView,
    services: Services,
    key: str,
    *,
    at: datetime,
    keyboard: outbox.Keyboard | None = None,
    dedupe_key: str | None = None,
    **params: object,
) -> None:
    """Queue a Telegram message to the ticket's client chat, in their language (nothing if no chat)."""
    chat = view.ticket.telegram_chat_id
    if chat is None:
        return
    text = client_text(services, view.language, key, ticket=view.ticket.number, **params)
    await outbox.telegram_send(tx, chat, text, at=at, keyboard=keyboard, dedupe_key=dedupe_key)


async def drop_pending_escalation(tx: Tx, view: TicketView, at: datetime, why: str) -> None:
    """A ticket that is resolved or closed has nothing left to escalate (P-ESC-1): its pending request is
    closed as rejected, so a late Aprobar finds nothing to decide and a reopened ticket can ask again."""
    if view.pending is None or view.ticket.assignee_id is None:
        return
    await tx.decide_escalation(
        view.pending.id, status=EscalationStatus.REJECTED, decided_by=view.ticket.assignee_id, at=at, reason=why
    )
