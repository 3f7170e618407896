"""The repository protocol for tickets, SLA pauses, escalations, attachments, credentials, audit."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any, Protocol

from bot.domain.types import EscalationStatus, Severity, TicketStatus
from storage.records import (
    Attachment,
    AttachmentKind,
    AuditEvent,
    Credential,
    CredentialKind,
    Escalation,
    NewTicket,
    SlaPause,
    Ticket,
)

__all__ = ["TicketTx"]


class TicketTx(Protocol):
    """Tickets, SLA pauses, escalations, attachments, encrypted credentials, the audit log."""

    # --- tickets --------------------------------------------------------------------------------------
    async def create_ticket(self, ticket: NewTicket, *, prefix: str = "SOP", year: int | None = None) -> Ticket:
        """Allocate PREFIX-YYYY-NNNNNN (per-year counter, year defaults to opened_at's UTC year) and insert.
        Returns: the Ticket (version 1)."""
        ...

    async def get_ticket(self, ticket_id: int) -> Ticket | None:
        """Args: id. Returns: the Ticket or None."""
        ...

    async def get_ticket_by_number(self, number: str) -> Ticket | None:
        """Args: human number. Returns: the Ticket or None."""
        ...

    async def get_ticket_by_card(self, channel: str, ts: str) -> Ticket | None:
        """Args: the Slack channel and ts of a ticket's card (a thread's parent). Returns: the Ticket or None."""
        ...

    async def list_tickets(
        self,
        status: TicketStatus | Collection[TicketStatus] | None = None,
        client_id: int | None = None,
        assignee: int | None = None,
        *,
        contact_id: int | None = None,
        limit: int | None = None,
        newest: int | None = None,
    ) -> list[Ticket]:
        """Args: optional filters, optional row limit, or `newest`: only the newest N, newest first.
        Returns: matching tickets by opened_at then id (or newest first)."""
        ...

    async def list_purchase_order_tickets(self, client_id: int) -> list[Ticket]:
        """R-EVENT: the client's tickets that took a per-event contract's purchase order (each order and each
        per-event contract is taken by one ticket at most). Returns: them by id."""
        ...

    async def has_unrecorded_card(self, channel: str) -> bool:
        """Whether a ticket routed to channel has a card whose place (ts) is not recorded yet."""
        ...

    async def find_client_ticket_by_suffix(self, client_id: int, suffix: str) -> Ticket | None:
        """The company's newest ticket whose number ends with suffix ("-000124"), or None."""
        ...

    async def list_response_due(self, before: datetime, limit: int = 100) -> list[Ticket]:
        """Args: bound, limit. Returns: unanswered tickets with response_due_at <= before, soonest first."""
        ...

    async def update_ticket(self, ticket_id: int, expected_version: int, **changes: Any) -> Ticket:
        """Compare-and-set. Args: id, version read, column=value. Returns: Ticket with version+1.
        Raises NotFound, StaleVersion, InvalidValue (unknown or read-only column)."""
        ...

    # --- SLA pauses, escalations, attachments ---------------------------------------------------------
    async def open_pause(self, ticket_id: int, at: datetime, reason: str = "") -> SlaPause:
        """P-SLA-7. Returns: the open pause. Raises DuplicateError if one is already open."""
        ...

    async def close_pause(self, ticket_id: int, at: datetime) -> SlaPause | None:
        """Args: ticket, end time. Returns: the closed pause, None when none was open."""
        ...

    async def list_pauses(self, ticket_id: int) -> list[SlaPause]:
        """Args: ticket. Returns: its pauses by start."""
        ...

    async def create_escalation(
        self,
        ticket_id: int,
        *,
        from_level: int,
        to_level: int,
        requested_by_kind: str,
        requested_by_id: str,
        reason: str,
        at: datetime,
        new_severity: Severity | None = None,
    ) -> Escalation:
        """P-ESC-1/2. Returns: the Escalation in status REQUESTED."""
        ...

    async def get_escalation(self, escalation_id: int) -> Escalation | None:
        """Args: id. Returns: the Escalation or None."""
        ...

    async def list_escalations(self, ticket_id: int) -> list[Escalation]:
        """Args: ticket. Returns: its escalations by id."""
        ...

    async def decide_escalation(
        self,
        escalation_id: int,
        *,
        status: EscalationStatus,
        decided_by: int,
        at: datetime,
        reason: str | None = None,
        expected_status: EscalationStatus = EscalationStatus.REQUESTED,
    ) -> Escalation:
        """Compare-and-set on status. Returns: the decided Escalation. Raises NotFound, StaleVersion."""
        ...

    async def add_attachment(
        self,
        ticket_id: int,
        kind: AttachmentKind,
        telegram_file_id: str,
        *,
        at: datetime,
        file_name: str | None = None,
        size: int | None = None,
        mime: str | None = None,
    ) -> Attachment:
        """Args: file metadata (content stays on Telegram). Returns: the Attachment."""
        ...

    async def set_attachment_slack_file(self, attachment_id: int, slack_file_id: str) -> Attachment:
        """Args: attachment, Slack file id after upload. Returns: updated Attachment. Raises NotFound."""
        ...

    async def list_attachments(self, ticket_id: int) -> list[Attachment]:
        """Args: ticket. Returns: its attachments by id."""
        ...

    # --- credentials (encrypted) and audit ------------------------------------------------------------
    async def put_credential(
        self, ticket_id: int, kind: CredentialKind, label: str, secret: str, *, at: datetime
    ) -> int:
        """Encrypt and store a secret (P-IN-3). Returns: the credential id."""
        ...

    async def get_credentials(self, ticket_id: int) -> list[Credential]:
        """Args: ticket. Returns: decrypted credentials by id. Raises SecretError if a key is missing."""
        ...

    async def erase_credentials(self, ticket_id: int) -> int:
        """Args: ticket (on close). Returns: how many rows were erased."""
        ...

    async def list_credential_tokens(self) -> list[tuple[int, str]]:
        """Every stored credential as (id, ciphertext), never decrypted (`keys check`, the start-up check for a
        lost key file). Returns: oldest first."""
        ...

    async def append_audit(
        self,
        ticket_id: int | None,
        *,
        at: datetime,
        actor_kind: str,
        actor_id: str,
        action: str,
        data: Mapping[str, Any] | None = None,
    ) -> int:
        """Append one event to the append-only audit log. Returns: its id."""
        ...

    async def list_audit(self, ticket_id: int) -> list[AuditEvent]:
        """Args: ticket. Returns: its events in append order."""
        ...

    async def audit_since(self, after_id: int, actions: Collection[str], limit: int = 1000) -> list[AuditEvent]:
        """The log read forward, a page at a time (the metrics count from it): events with an id above
        after_id whose action is one of actions, of every ticket and none. Returns: at most limit, in
        append order (ids only grow, in commit order)."""
        ...
