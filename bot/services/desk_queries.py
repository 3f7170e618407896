"""Read models for Slack (card facts, App Home lists) and the small queued notices the Slack adapter sends."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.domain.types import Role, TicketStatus
from bot.services import outbox
from bot.services.context import Services
from bot.services.desk_common import NotTheAssignee, load, require_agent
from bot.services.desk_deadline import business_left, response_taken
from storage import Tx
from storage.records import Contract, Credential, Ticket

__all__ = [
    "HOME",
    "UPDATE",
    "CardFacts",
    "HomeFacts",
    "HomeItem",
    "card_facts",
    "first_time",
    "home_facts",
    "precheck",
    "queue_ephemeral",
    "queue_home",
    "queue_update",
    "revealed_credentials",
]

HOME = "home"  # {user}: publish the user's App Home from the store
UPDATE = "update"  # {channel, ts, text}: replace a message we posted (a decided escalation's buttons)
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


async def first_time(services: Services, source: str, key: str) -> bool:
    """Remember a Slack action or event id; False when it was seen before (a replay does nothing twice)."""
    async with services.store.transaction() as tx:
        return await tx.mark_processed(source, key, services.clock())


async def queue_ephemeral(services: Services, channel: str, user: str, text: str) -> None:
    """An answer only `user` sees (refusals, "ya lo tomó @x"), sent after the ack by the dispatcher."""
    async with services.store.transaction() as tx:
        await outbox.slack_ephemeral(tx, channel, user, text, at=services.clock())
    services.wake_delivery()


async def queue_home(services: Services, user: str) -> None:
    """Publish the user's App Home (rendered from the store when sent)."""
    async with services.store.transaction() as tx:
        await tx.enqueue(outbox.SLACK, f"user:{user}", HOME, {"user": user}, at=services.clock())
    services.wake_delivery()


async def queue_update(services: Services, channel: str, ts: str, text: str) -> None:
    """Replace a message the bot posted (e.g. the Aprobar / Rechazar DM once decided)."""
    async with services.store.transaction() as tx:
        await tx.enqueue(
            outbox.SLACK,
            f"msg:{channel}:{ts}",
            UPDATE,
            {"channel": channel, "ts": ts, "text": text},
            at=services.clock(),
        )
    services.wake_delivery()


async def precheck(services: Services, *, ticket_id: int, slack_user_id: str, escalation: bool = False) -> Ticket:
    """Before a modal opens: the caller must be the assignee (or, to escalate, a manager too), so nobody fills
    a form only to be refused. Returns: the ticket. Raises NotAnAgent, NotTheAssignee, TicketGone."""
    async with services.store.transaction() as tx:
        view = await load(tx, ticket_id)
        agent = await require_agent(tx, slack_user_id)
        manager = agent.role in (Role.QUALITY_MANAGER, Role.OPERATIONS_MANAGER)
        if view.ticket.assignee_id != agent.id and not (escalation and manager):
            raise NotTheAssignee(view.assignee)
        return view.ticket
