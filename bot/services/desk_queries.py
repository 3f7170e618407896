"""Read models for Slack (card facts, App Home lists) and the small queued notices the Slack adapter sends."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.domain.since import DayPart, Precision
from bot.domain.types import EscalationStatus, Role, TicketStatus
from bot.services.context import Services
from bot.services.desk_common import NotTheAssignee, load, require_agent
from bot.services.desk_deadline import business_left, response_taken
from bot.services.desk_home import ManagerFacts, is_manager, manager_facts
from bot.services.escalation import decided_text
from storage import Tx
from storage.records import Attachment, AuditEvent, Contract, Credential, Ticket

__all__ = [
    "CardFacts",
    "HomeFacts",
    "HomeItem",
    "Onsite",
    "Reporter",
    "card_facts",
    "card_place",
    "decided_request",
    "home_facts",
    "onsite_fields",
    "precheck",
    "read_card",
    "read_credentials",
    "read_upload",
    "revealed_credentials",
    "uploaded_files",
]
_OPEN = (TicketStatus.NEW, TicketStatus.ASSIGNED, TicketStatus.WAITING_CLIENT)


@dataclass(frozen=True)
class Reporter:
    """Who reported the ticket, as the consultant needs to reach them."""

    name: str
    phone: str
    language: str


@dataclass(frozen=True)
class Onsite:
    """P-IN-5: where the visit is, who receives the consultant, what the company asks to let them in."""

    address: str
    contact: str
    rules: str | None


def onsite_fields(details: str | None) -> Onsite | None:
    """The visit's fields as the intake stored them (JSON); an older ticket's text comes back as the address."""
    if not details:
        return None
    try:
        data = json.loads(details)
    except ValueError:
        return Onsite(details, "", None)
    if not isinstance(data, dict):
        return Onsite(details, "", None)
    rules = data.get("rules")
    return Onsite(str(data.get("address") or ""), str(data.get("contact") or ""), None if rules is None else str(rules))


@dataclass(frozen=True)
class CardFacts:
    """Everything the card shows, read in one transaction when the card is sent (never passwords), as of one
    instant `now`: the time left, the wait and the state words all agree with each other."""

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
    now: datetime | None = None
    left: timedelta | None = None  # business time to the response deadline (negative: past it); None: no clock
    paused_since: datetime | None = None  # waiting for the client since (P-SLA-7: the clock stands still)
    reminders_sent: int = 0  # P-CLOSE-3 attempts in the current wait
    reminders_total: int = 3
    reopened: bool = False  # the client reopened it and nobody resolved it since (P-CLOSE-2)
    reporter: Reporter | None = None
    purchase_order: str | None = None  # P-POL-1, per-event contracts
    warranty: bool = False  # P-POL-4: opened as free warranty support
    onsite: Onsite | None = None
    since_precision: Precision | None = None
    since_part: DayPart | None = None
    severity_pending: bool = False  # P-IN-6: an e-mail ticket's severity waits for the client ("por confirmar")
    mail_address: str | None = None  # the ticket talks with the client by e-mail, at this address


def _opened(events: list[AuditEvent]) -> dict[str, object]:
    return next((dict(e.data) for e in events if e.action == "opened"), {})


def _reopened(events: list[AuditEvent]) -> bool:
    last = next((e.action for e in reversed(events) if e.action in ("resolved", "reopened")), None)
    return last == "reopened"


async def card_facts(tx: Tx, services: Services, ticket_id: int, now: datetime | None = None) -> CardFacts:
    """The card's content for `ticket_id` as of `now` (the services' clock, read once). Raises TicketGone."""
    now = services.clock() if now is None else now
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
    events = await tx.list_audit(ticket_id)
    opened = _opened(events)
    paused_since = None
    reminders = 0
    if t.status is TicketStatus.WAITING_CLIENT:
        open_pauses = [p for p in await tx.list_pauses(ticket_id) if p.ended_at is None]
        if open_pauses:
            paused_since = open_pauses[-1].started_at
            reminders = sum(1 for e in events if e.action == "info_reminder" and e.at >= paused_since)
    left = None
    if t.response_due_at is not None and t.first_response_at is None and t.status in _OPEN and paused_since is None:
        left = business_left(services, t.response_due_at, now)
    contact = view.contact
    reporter = None
    if contact is not None:
        reporter = Reporter(contact.name, contact.phone, contact.language)
    precision, part = opened.get("since_precision"), opened.get("since_part")
    mail = await tx.get_mail_ticket(ticket_id)
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
        now=now,
        left=left,
        paused_since=paused_since,
        reminders_sent=reminders,
        reminders_total=services.settings.info_reminder_count,
        reopened=_reopened(events) and t.status in _OPEN,
        reporter=reporter,
        purchase_order=t.purchase_order or (str(opened["purchase_order"]) if opened.get("purchase_order") else None),
        warranty=t.warranty or opened.get("charged") is False,  # R-WARRANTY: the stored mark
        onsite=onsite_fields(t.onsite_details),
        since_precision=Precision(str(precision)) if precision in set(Precision) else None,
        since_part=DayPart(str(part)) if part in set(DayPart) else None,
        severity_pending=mail is not None and mail.severity_pending,
        mail_address=mail.address if mail is not None and mail.address else None,
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
    manager: ManagerFacts | None = None  # a quality or operations manager's figures (issue 12)


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
    manager = await manager_facts(services, agent, now) if is_manager(agent) else None

    def item(t: Ticket) -> HomeItem:
        left = None if t.response_due_at is None else business_left(services, t.response_due_at, now)
        return HomeItem(t, names.get(t.client_id, "?"), left)

    far = datetime.max.replace(tzinfo=now.tzinfo)
    unclaimed.sort(key=lambda t: (t.response_due_at or far, t.id))
    return HomeFacts(True, [item(t) for t in mine], [item(t) for t in unclaimed], manager)


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


async def read_upload(
    services: Services, ticket_id: int, attachment_id: int
) -> tuple[tuple[str, str] | None, Attachment | None]:
    """Where the ticket's card is (None while not posted) and the attachment to upload to its thread, in one
    read transaction (a file row reads both before its upload)."""
    async with services.store.transaction() as tx:
        ticket = await tx.get_ticket(ticket_id)
        if ticket is None or not ticket.slack_ts or not ticket.slack_channel:
            return None, None
        attachments = await tx.list_attachments(ticket_id)
    return (ticket.slack_channel, ticket.slack_ts), next((a for a in attachments if a.id == attachment_id), None)


async def uploaded_files(services: Services, ticket_id: int) -> set[str]:
    """The Slack file ids recorded for the ticket's attachments: a retried upload looks in the thread for its
    own file among those not recorded."""
    async with services.store.transaction() as tx:
        return {a.slack_file_id for a in await tx.list_attachments(ticket_id) if a.slack_file_id}


async def decided_request(services: Services, escalation_id: int) -> str | None:
    """The decided form of an escalation request (None while it waits for a decision, or is gone)."""
    async with services.store.transaction() as tx:
        esc = await tx.get_escalation(escalation_id)
        if esc is None or esc.status is EscalationStatus.REQUESTED:
            return None
        return await decided_text(tx, services, esc)


async def read_credentials(services: Services, ticket_id: int) -> tuple[str | None, list[Credential]]:
    """The ticket's number and decrypted credentials for the reveal ephemeral, read at send time (the reveal
    was audited when it was asked for; nothing in clear ever rests in the outbox)."""
    async with services.store.transaction() as tx:
        ticket, credentials = await revealed_credentials(tx, ticket_id)
    return (None if ticket is None else ticket.number), credentials
