"""Typed rows the store hands out and takes in: frozen dataclasses of plain data, no behaviour."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from bot.domain.types import EscalationStatus, HoursKind, Role, ServiceArea, Severity, TicketStatus, Tier


class CredentialKind(StrEnum):
    """What a stored secret opens (P-IN-3)."""

    TEAMVIEWER_PASSWORD = "teamviewer_password"  # noqa: S105 - a kind name, not a secret
    EQUIPMENT_PASSWORD = "equipment_password"  # noqa: S105 - a kind name, not a secret
    OTHER = "other"


class AttachmentKind(StrEnum):
    """How the file reached us on Telegram."""

    PHOTO = "photo"
    DOCUMENT = "document"


class RedeemOutcome(StrEnum):
    """Why an invite redemption worked or did not."""

    OK = "ok"
    UNKNOWN = "unknown"
    ALREADY_USED = "already_used"
    EXPIRED = "expired"


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    DEAD = "dead"


class InboxStatus(StrEnum):
    PENDING = "pending"  # committed, waiting for its turn (in order per ordering key)
    WORKING = "working"  # leased to a worker
    DONE = "done"  # its service entry committed
    UNPARSED = "unparsed"  # kept for a person to look at: the platform payload could not be read
    FAILED = "failed"  # the entry failed every attempt; the person was told something went wrong


class TimerStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    CANCELLED = "cancelled"


def minutes_to_hours(minutes: int) -> Decimal:
    """Exact hours for display: minutes are the stored unit so sums never drift."""
    return Decimal(minutes) / Decimal(60)


@dataclass(frozen=True, slots=True)
class Client:
    id: int
    name: str
    phone: str
    tax_id: str | None
    notes: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Contact:
    id: int
    client_id: int
    name: str
    phone: str
    language: str
    telegram_user_id: int | None
    created_at: datetime
    # Set when the person blocked the bot on Telegram (or a send was refused with 403); cleared on unblock.
    unreachable_since: datetime | None = None
    # P-ESC-2, P-CLOSE-2: named by the company to escalate, reopen and rate all its tickets, not only their own.
    acts_for_company: bool = False
    active: bool = True  # False once deactivated: unlinked from Telegram and never linked again by phone
    forgotten_at: datetime | None = None  # their personal data was erased on request (LFPDPPP)
    email: str | None = None  # P-IN-6: their address; mail from it is theirs (matched without regard to case)
    email_failing_since: datetime | None = None  # a message to the address bounced; cleared when it is set again


@dataclass(frozen=True, slots=True)
class ForgetResult:
    """What erasing a contact did: the contact as it is now, and how many of each kind of row it touched."""

    contact: Contact
    tickets: int  # tickets they reported: kept, no longer tied to their Telegram chat
    credentials: int  # stored secrets of those tickets, erased
    drafts: int  # unfinished conversations of their Telegram user, deleted


@dataclass(frozen=True, slots=True)
class Contract:
    """A support contract ("póliza"); hours are kept in whole minutes."""

    id: int
    number: str
    client_id: int
    tier: Tier
    starts_on: date
    ends_on: date
    minutes_total: int
    minutes_used: int
    onsite_minutes_total: int
    onsite_minutes_used: int
    purchase_order: str | None
    special_eol_support: bool
    version: int
    office_minutes_total: int = 0  # R-POOLS: in-office advice, a pool apart from on-site advice (onsite_*)
    office_minutes_used: int = 0

    @property
    def hours_total(self) -> Decimal:
        return minutes_to_hours(self.minutes_total)

    @property
    def hours_used(self) -> Decimal:
        return minutes_to_hours(self.minutes_used)


@dataclass(frozen=True, slots=True)
class HoursEntry:
    """One line of the hours ledger; the domain decided the amount and whether it is charged."""

    id: int
    contract_id: int
    ticket_id: int | None
    minutes: int
    kind: HoursKind
    charged: bool
    at: datetime


@dataclass(frozen=True, slots=True)
class Product:
    id: int
    client_id: int
    contract_id: int | None
    name: str
    service_area: ServiceArea
    warranty_until: date | None
    discontinued: bool
    special_support: bool


@dataclass(frozen=True, slots=True)
class Agent:
    id: int
    name: str
    slack_user_id: str
    role: Role
    active: bool


@dataclass(frozen=True, slots=True)
class Invite:
    id: int
    code: str
    client_id: int
    contact_name: str
    expires_at: datetime
    used_at: datetime | None
    used_by: int | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class RedeemResult:
    """outcome says why; invite is the row (after the update when OK), None when the code is unknown."""

    outcome: RedeemOutcome
    invite: Invite | None

    @property
    def ok(self) -> bool:
        return self.outcome is RedeemOutcome.OK


@dataclass(frozen=True, slots=True)
class NewTicket:
    """What create_ticket needs; the number, status and version are set by the store."""

    client_id: int
    contact_id: int | None
    service_area: ServiceArea
    severity: Severity
    description: str
    opened_at: datetime
    contract_id: int | None = None
    product_id: int | None = None
    status: TicketStatus = TicketStatus.NEW
    escalation_level: int = 1
    since_at: datetime | None = None
    since_text: str | None = None
    onsite_details: str | None = None
    telegram_chat_id: int | None = None
    clock_started_at: datetime | None = None
    response_due_at: datetime | None = None
    slack_channel: str | None = None  # where its card goes (the ts is recorded once it is posted)
    warranty: bool = False  # R-WARRANTY: the intake found it free (P-POL-4); confirmed at resolution
    purchase_order: str | None = None  # R-EVENT: the order of the per-event contract it takes (never reused)


@dataclass(frozen=True, slots=True)
class Ticket:
    id: int
    number: str
    client_id: int
    contact_id: int | None
    contract_id: int | None
    product_id: int | None
    service_area: ServiceArea
    severity: Severity
    status: TicketStatus
    escalation_level: int
    assignee_id: int | None
    description: str
    since_at: datetime | None
    since_text: str | None
    onsite_details: str | None
    telegram_chat_id: int | None
    slack_channel: str | None
    slack_ts: str | None
    opened_at: datetime
    clock_started_at: datetime | None
    response_due_at: datetime | None
    first_response_at: datetime | None
    response_met: bool | None
    resolved_at: datetime | None
    closed_at: datetime | None
    solution: str | None
    rating: int | None
    version: int
    warranty: bool = False  # R-WARRANTY: the intake's warranty mark (P-POL-4), shown on the card
    purchase_order: str | None = None  # R-EVENT: the purchase order this ticket used up


@dataclass(frozen=True, slots=True)
class SlaPause:
    id: int
    ticket_id: int
    started_at: datetime
    ended_at: datetime | None
    reason: str


@dataclass(frozen=True, slots=True)
class Escalation:
    id: int
    ticket_id: int
    from_level: int
    to_level: int
    requested_by_kind: str
    requested_by_id: str
    reason: str
    new_severity: Severity | None
    status: EscalationStatus
    requested_at: datetime
    decided_by: int | None
    decided_at: datetime | None
    decision_reason: str | None


@dataclass(frozen=True, slots=True)
class Attachment:
    id: int
    ticket_id: int
    kind: AttachmentKind
    telegram_file_id: str
    file_name: str | None
    size: int | None
    mime: str | None
    slack_file_id: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Credential:
    """A decrypted credential; the secret is left out of repr so it cannot leak into a log line."""

    id: int
    ticket_id: int
    kind: CredentialKind
    label: str
    secret: str = field(repr=False)
    created_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class AuditEvent:
    id: int
    ticket_id: int | None
    at: datetime
    actor_kind: str
    actor_id: str
    action: str
    data: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Draft:
    chat_id: int
    user_id: int
    step: str
    data: Mapping[str, Any]
    language: str
    updated_at: datetime
    version: int


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    id: int
    destination: str
    ordering_key: str
    kind: str
    payload: Mapping[str, Any]
    dedupe_key: str | None
    created_at: datetime
    available_at: datetime
    attempts: int
    last_error: str | None
    status: OutboxStatus
    locked_by: str | None
    locked_until: datetime | None
    pace_key: str = ""
    claims: int = 0  # how many times a worker took it: above 1, an earlier try may have reached the platform
    sent_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class InboxEntry:
    """One received platform event, kept verbatim until its service entry has committed."""

    id: int
    source: str
    key: str
    ordering_key: str
    kind: str
    payload: Mapping[str, Any]
    status: InboxStatus
    received_at: datetime
    available_at: datetime
    attempts: int
    locked_by: str | None
    locked_until: datetime | None
    finished_at: datetime | None
    error: str | None


@dataclass(frozen=True, slots=True)
class Timer:
    id: int
    kind: str
    ticket_id: int | None
    due_at: datetime
    payload: Mapping[str, Any]
    dedupe_key: str | None
    status: TimerStatus
    locked_by: str | None
    locked_until: datetime | None
    attempts: int


@dataclass(frozen=True, slots=True)
class Backlog:
    """Work waiting, as health checks and metrics see it."""

    outbox_pending: int  # rows not delivered yet (pending, or being sent)
    outbox_oldest: datetime | None  # when the oldest of them was queued
    outbox_dead: int  # dead letters waiting for a person
    inbox_pending: int  # received events not handled yet
    inbox_oldest: datetime | None  # when the oldest of them was received
