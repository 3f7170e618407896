"""Read models for Slack (card facts, App Home lists) and the small queued notices the Slack adapter sends."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.domain.types import Role, TicketStatus
from bot.services.context import Services
from bot.services.desk_common import NotTheAssignee, load, require_agent
from bot.services.desk_deadline import business_left, response_taken
from storage import Tx
from storage.records import Attachment, Contract, Credential, Ticket

__all__ = [
    "CardFacts",
    "HomeFacts",
    "HomeItem",
    "card_facts",
    "card_place",
    "home_facts",
    "precheck",
    "read_attachment",
    "read_card",
    "read_credentials",
    "revealed_credentials",
]
_OPEN = (TicketStatus.NEW, TicketStatus.ASSIGNED, TicketStatus.WAITING_CLIENT)


@dataclass(frozen=True)
class CardFacts:
    """Everything the card shows, read in one transaction when the card is sent (never passwords)."""

    ticket: Ticket
    client_name: str
    contract: Contract | None
    product_name: str | None
    attachments: int
    credential_labels: tuple[str, ...]
    assignee_slack_id: str | None
    pending_level: int | None
    response_taken: timedelta | None
    target: timedelta


async def card_facts(tx: Tx, services: Services, ticket_id: int) -> CardFacts:
    """The card's content for `ticket_id`. Raises TicketGone."""
    view = await load(tx, ticket_id)
    t = view.ticket
    client = await tx.get_client(t.client_id)
    contract = None if t.contract_id is None else await tx.get_contract(t.contract_id)
    product = None if t.product_id is None else await tx.get_product(t.product_id)
    # Labels only ("TeamViewer 123 456 789"): the secrets are decrypted here but never leave this function.
    labels = tuple(c.label for c in await tx.get_credentials(ticket_id))
    taken = None
    if t.first_response_at is not None:
        taken = await response_taken(tx, services, t, t.first_response_at)
    return CardFacts(
        ticket=t,
        client_name=client.name if client else "?",
        contract=contract,
        product_name=product.name if product else None,
        attachments=len(await tx.list_attachments(ticket_id)),
        credential_labels=labels,
        assignee_slack_id=view.assignee.slack_user_id if view.assignee else None,
        pending_level=view.pending.to_level if view.pending else None,
        response_taken=taken,
        target=services.targets[t.severity],
    )


async def revealed_credentials(tx: Tx, ticket_id: int) -> tuple[Ticket | None, list[Credential]]:
    """The decrypted credentials for the reveal ephemeral, read at send time (the reveal was audited)."""
    ticket = await tx.get_ticket(ticket_id)
    return ticket, ([] if ticket is None else await tx.get_credentials(ticket_id))


@dataclass(frozen=True)
class HomeItem:
    ticket: Ticket
    client_name: str
    left: timedelta | None  # business time to the response deadline; negative when overdue


@dataclass(frozen=True)
class HomeFacts:
    """The viewer's open tickets and every unclaimed ticket by deadline; registered False for strangers."""

    registered: bool
    mine: list[HomeItem]
    unclaimed: list[HomeItem]


async def home_facts(services: Services, slack_user_id: str) -> HomeFacts:
    """What the App Home shows to `slack_user_id`."""
    now = services.clock()
    async with services.store.transaction() as tx:
        agent = await tx.get_agent_by_slack(slack_user_id)
        if agent is None or not agent.active:
            return HomeFacts(False, [], [])
        names = {c.id: c.name for c in await tx.list_clients()}
        mine = await tx.list_tickets(status=_OPEN, assignee=agent.id)
        unclaimed = await tx.list_tickets(status=TicketStatus.NEW)

    def item(t: Ticket) -> HomeItem:
        left = None if t.response_due_at is None else business_left(services, t.response_due_at, now)
        return HomeItem(t, names.get(t.client_id, "?"), left)

    far = datetime.max.replace(tzinfo=now.tzinfo)
    unclaimed.sort(key=lambda t: (t.response_due_at or far, t.id))
    return HomeFacts(True, [item(t) for t in mine], [item(t) for t in unclaimed])


async def precheck(tx: Tx, *, ticket_id: int, slack_user_id: str, escalation: bool = False) -> Ticket:
    """Before a modal opens: the caller must be the assignee (or, to escalate, a manager too), so nobody fills
    a form only to be refused. Returns: the ticket. Raises NotAnAgent, NotTheAssignee, TicketGone."""
    view = await load(tx, ticket_id)
    agent = await require_agent(tx, slack_user_id)
    manager = agent.role in (Role.QUALITY_MANAGER, Role.OPERATIONS_MANAGER)
    if view.ticket.assignee_id != agent.id and not (escalation and manager):
        raise NotTheAssignee(view.assignee)
    return view.ticket


# --- what the Slack senders read at send time (each in its own short read transaction) -------------------
async def read_card(services: Services, ticket_id: int) -> CardFacts:
    """The card as it must look now. Raises TicketGone."""
    async with services.store.transaction() as tx:
        return await card_facts(tx, services, ticket_id)


async def card_place(services: Services, ticket_id: int) -> tuple[str, str] | None:
    """(channel, ts) of the ticket's card, or None while it is not posted."""
    async with services.store.transaction() as tx:
        ticket = await tx.get_ticket(ticket_id)
    if ticket is None or not ticket.slack_ts or not ticket.slack_channel:
        return None
    return ticket.slack_channel, ticket.slack_ts


async def read_attachment(services: Services, ticket_id: int, attachment_id: int) -> Attachment | None:
    """One of the ticket's attachments, or None."""
    async with services.store.transaction() as tx:
        return next((a for a in await tx.list_attachments(ticket_id) if a.id == attachment_id), None)


async def read_credentials(services: Services, ticket_id: int) -> tuple[str | None, list[Credential]]:
    """The ticket's number and decrypted credentials for the reveal ephemeral, read at send time (the reveal
    was audited when it was asked for; nothing in clear ever rests in the outbox)."""
    async with services.store.transaction() as tx:
        ticket, credentials = await revealed_credentials(tx, ticket_id)
    return (None if ticket is None else ticket.number), credentials
