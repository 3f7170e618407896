"""SQLite repository methods for tickets and what hangs off them: pauses, escalations, files, secrets."""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from datetime import datetime
from typing import Any

from bot.domain.types import EscalationStatus, ServiceArea, Severity, TicketStatus
from storage import sqlite_codec as c
from storage.base import DuplicateError, InvalidValue, NotFound, StaleVersion
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
from storage.sqlite_txbase import TxBase, positive_int

_PREFIX = re.compile(r"^[A-Z][A-Z0-9]{0,9}$")


def _opt_ts(value: Any) -> str | None:
    return c.ts_opt(value)


def _opt_bool(value: Any) -> int | None:
    return None if value is None else int(bool(value))


def _enum_value(kind: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def convert(value: Any) -> Any:
        return kind(value).value

    return convert


def _as_is(value: Any) -> Any:
    return value


# Columns update_ticket may set, with the conversion to the stored form. id, number and version are
# left out on purpose: they identify the ticket or belong to the compare-and-set.
_TICKET_COLUMNS: dict[str, Callable[[Any], Any]] = {
    "client_id": _as_is,
    "contact_id": _as_is,
    "contract_id": _as_is,
    "product_id": _as_is,
    "service_area": _enum_value(ServiceArea),
    "severity": _enum_value(Severity),
    "status": _enum_value(TicketStatus),
    "escalation_level": _as_is,
    "assignee_id": _as_is,
    "description": _as_is,
    "since_at": _opt_ts,
    "since_text": _as_is,
    "onsite_details": _as_is,
    "telegram_chat_id": _as_is,
    "slack_channel": _as_is,
    "slack_ts": _as_is,
    "opened_at": c.ts,
    "clock_started_at": _opt_ts,
    "response_due_at": _opt_ts,
    "first_response_at": _opt_ts,
    "response_met": _opt_bool,
    "resolved_at": _opt_ts,
    "closed_at": _opt_ts,
    "solution": _as_is,
    "rating": _as_is,
}


def ticket_number(prefix: str, year: int, sequence: int) -> str:
    """The human ticket number, e.g. SOP-2026-000123 (P-IN-1)."""
    return f"{prefix}-{year:04d}-{sequence:06d}"


class TicketRepo(TxBase):
    """Tickets, SLA pauses, escalation requests, attachments, encrypted credentials and the audit log."""

    async def create_ticket(self, ticket: NewTicket, *, prefix: str = "SOP", year: int | None = None) -> Ticket:
        """Allocate PREFIX-YYYY-NNNNNN (per-year counter, year defaults to opened_at's UTC year) and insert.
        Returns: the Ticket (version 1)."""
        if not _PREFIX.match(prefix):
            raise InvalidValue(f"ticket prefix must be 1-10 upper-case letters/digits, got {prefix!r}")
        opened = c.ts(ticket.opened_at)
        number_year = c.from_ts(opened).year if year is None else year
        if not 1970 <= number_year <= 9999:
            raise InvalidValue(f"ticket year out of range: {number_year}")
        values = {
            "number": "",
            "client_id": ticket.client_id,
            "contact_id": ticket.contact_id,
            "contract_id": ticket.contract_id,
            "product_id": ticket.product_id,
            "service_area": ServiceArea(ticket.service_area).value,
            "severity": Severity(ticket.severity).value,
            "status": TicketStatus(ticket.status).value,
            "escalation_level": ticket.escalation_level,
            "description": ticket.description,
            "since_at": c.ts_opt(ticket.since_at),
            "since_text": ticket.since_text,
            "onsite_details": ticket.onsite_details,
            "telegram_chat_id": ticket.telegram_chat_id,
            "slack_channel": ticket.slack_channel,
            "opened_at": opened,
            "clock_started_at": c.ts_opt(ticket.clock_started_at),
            "response_due_at": c.ts_opt(ticket.response_due_at),
            "warranty": int(bool(ticket.warranty)),
            "purchase_order": ticket.purchase_order,
        }
        columns = ", ".join(values)
        marks = ", ".join("?" for _ in values)
        # The counter row is written inside the caller's transaction, so its write lock makes the allocation
        # unique across tasks and processes, and a rolled-back ticket gives its number back. The savepoint
        # keeps a failed insert (unknown client...) from leaving the counter bumped.
        async with self._atomic("create_ticket"):
            counter = await self._must(
                "INSERT INTO ticket_counters (prefix, year, last) VALUES (?, ?, 1)"
                " ON CONFLICT (prefix, year) DO UPDATE SET last = last + 1 RETURNING last",
                (prefix, number_year),
                "ticket counter returned nothing",
            )
            values["number"] = ticket_number(prefix, number_year, int(counter["last"]))
            row = await self._must(
                f"INSERT INTO tickets ({columns}) VALUES ({marks}) RETURNING *",
                tuple(values.values()),
                "ticket insert returned nothing",
            )
        return c.ticket(row)

    async def get_ticket(self, ticket_id: int) -> Ticket | None:
        """Args: id. Returns: the Ticket or None."""
        row = await self._one("SELECT * FROM tickets WHERE id = ?", (ticket_id,))
        return None if row is None else c.ticket(row)

    async def get_ticket_by_number(self, number: str) -> Ticket | None:
        """Args: human number. Returns: the Ticket or None."""
        row = await self._one("SELECT * FROM tickets WHERE number = ?", (number.strip().upper(),))
        return None if row is None else c.ticket(row)

    async def get_ticket_by_card(self, channel: str, ts: str) -> Ticket | None:
        """Args: the Slack channel and ts of a ticket's card (a thread's parent). Returns: the Ticket or None."""
        row = await self._one("SELECT * FROM tickets WHERE slack_channel = ? AND slack_ts = ?", (channel, ts))
        return None if row is None else c.ticket(row)

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
        where: list[str] = []
        params: list[Any] = []
        if status is not None:
            wanted = [status] if isinstance(status, str) else list(status)
            statuses = [TicketStatus(s).value for s in wanted]
            if not statuses:
                return []
            where.append(f"status IN ({', '.join('?' for _ in statuses)})")
            params.extend(statuses)
        if client_id is not None:
            where.append("client_id = ?")
            params.append(client_id)
        if assignee is not None:
            where.append("assignee_id = ?")
            params.append(assignee)
        if contact_id is not None:
            where.append("contact_id = ?")
            params.append(contact_id)
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        if newest is not None:
            params.append(positive_int(newest, "newest"))
            rows = await self._all(f"SELECT * FROM tickets{clause} ORDER BY opened_at DESC, id DESC LIMIT ?", params)
        else:
            params.append(-1 if limit is None else positive_int(limit, "limit"))
            rows = await self._all(f"SELECT * FROM tickets{clause} ORDER BY opened_at, id LIMIT ?", params)
        return [c.ticket(r) for r in rows]

    async def list_purchase_order_tickets(self, client_id: int) -> list[Ticket]:
        """R-EVENT: the client's tickets that took a per-event contract's purchase order. Returns: by id."""
        rows = await self._all(
            "SELECT * FROM tickets WHERE client_id = ? AND purchase_order IS NOT NULL ORDER BY id", (client_id,)
        )
        return [c.ticket(r) for r in rows]

    async def has_unrecorded_card(self, channel: str) -> bool:
        """Whether a ticket routed to channel has a card whose place (ts) is not recorded yet."""
        row = await self._one(
            "SELECT 1 FROM tickets WHERE slack_channel = ? AND slack_ts IS NULL AND status != 'closed' LIMIT 1",
            (channel,),
        )
        return row is not None

    async def find_client_ticket_by_suffix(self, client_id: int, suffix: str) -> Ticket | None:
        """The company's newest ticket whose number ends with suffix ("-000124"), or None.

        Every number is PREFIX-YYYY-NNNNNN from a ticket_counters row, so the candidates are one number per
        counter row, each looked up by the number's unique index: a few rows read, however many tickets the
        company has (a LIKE over the company's tickets read all of them: 60-90 ms at 50,000, bench/tickets_bench).
        """
        row = await self._one(
            "SELECT t.* FROM ticket_counters AS k CROSS JOIN tickets AS t"
            " WHERE t.number = k.prefix || '-' || printf('%04d', k.year) || ? AND t.client_id = ?"
            " ORDER BY t.id DESC LIMIT 1",
            (suffix.strip().upper(), client_id),
        )
        return None if row is None else c.ticket(row)

    async def list_response_due(self, before: datetime, limit: int = 100) -> list[Ticket]:
        """Args: bound, limit. Returns: unanswered tickets with response_due_at <= before, soonest first."""
        rows = await self._all(
            "SELECT * FROM tickets WHERE first_response_at IS NULL AND response_due_at <= ?"
            " ORDER BY response_due_at, id LIMIT ?",
            (c.ts(before), limit),
        )
        return [c.ticket(r) for r in rows]

    async def update_ticket(self, ticket_id: int, expected_version: int, **changes: Any) -> Ticket:
        """Compare-and-set. Args: id, version read, column=value. Returns: Ticket with version+1.
        Raises NotFound, StaleVersion, InvalidValue (unknown or read-only column)."""
        unknown = sorted(set(changes) - set(_TICKET_COLUMNS))
        if unknown:
            raise InvalidValue(f"update_ticket cannot set {', '.join(unknown)}")
        try:
            stored = {name: _TICKET_COLUMNS[name](value) for name, value in changes.items()}
        except ValueError as exc:
            raise InvalidValue(f"update_ticket got a bad value: {exc}") from None
        sets = "".join(f"{name} = ?, " for name in stored)
        row = await self._one(
            f"UPDATE tickets SET {sets}version = version + 1 WHERE id = ? AND version = ? RETURNING *",
            (*stored.values(), ticket_id, expected_version),
        )
        if row is not None:
            return c.ticket(row)
        current = await self._one("SELECT version FROM tickets WHERE id = ?", (ticket_id,))
        if current is None:
            raise NotFound(f"ticket {ticket_id} not found")
        raise StaleVersion(f"ticket {ticket_id} is at version {current['version']}, not {expected_version}")

    async def open_pause(self, ticket_id: int, at: datetime, reason: str = "") -> SlaPause:
        """P-SLA-7. Returns: the open pause. Raises DuplicateError if one is already open."""
        try:
            row = await self._must(
                "INSERT INTO sla_pauses (ticket_id, started_at, reason) VALUES (?, ?, ?) RETURNING *",
                (ticket_id, c.ts(at), reason),
                "pause insert returned nothing",
            )
        except DuplicateError:
            raise DuplicateError(f"ticket {ticket_id} already has an open SLA pause") from None
        return c.pause(row)

    async def close_pause(self, ticket_id: int, at: datetime) -> SlaPause | None:
        """Args: ticket, end time. Returns: the closed pause, None when none was open."""
        row = await self._one(
            "UPDATE sla_pauses SET ended_at = ? WHERE ticket_id = ? AND ended_at IS NULL RETURNING *",
            (c.ts(at), ticket_id),
        )
        return None if row is None else c.pause(row)

    async def list_pauses(self, ticket_id: int) -> list[SlaPause]:
        """Args: ticket. Returns: its pauses by start."""
        rows = await self._all("SELECT * FROM sla_pauses WHERE ticket_id = ? ORDER BY started_at, id", (ticket_id,))
        return [c.pause(r) for r in rows]

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
        row = await self._must(
            "INSERT INTO escalations (ticket_id, from_level, to_level, requested_by_kind, requested_by_id,"
            " reason, new_severity, status, requested_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *",
            (
                ticket_id,
                from_level,
                to_level,
                requested_by_kind,
                requested_by_id,
                reason,
                None if new_severity is None else Severity(new_severity).value,
                EscalationStatus.REQUESTED.value,
                c.ts(at),
            ),
            "escalation insert returned nothing",
        )
        return c.escalation(row)

    async def get_escalation(self, escalation_id: int) -> Escalation | None:
        """Args: id. Returns: the Escalation or None."""
        row = await self._one("SELECT * FROM escalations WHERE id = ?", (escalation_id,))
        return None if row is None else c.escalation(row)

    async def list_escalations(self, ticket_id: int) -> list[Escalation]:
        """Args: ticket. Returns: its escalations by id."""
        rows = await self._all("SELECT * FROM escalations WHERE ticket_id = ? ORDER BY id", (ticket_id,))
        return [c.escalation(r) for r in rows]

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
        status = EscalationStatus(status)
        if status is EscalationStatus.REQUESTED:
            raise InvalidValue("a decision must approve or reject")
        row = await self._one(
            "UPDATE escalations SET status = ?, decided_by = ?, decided_at = ?, decision_reason = ?"
            " WHERE id = ? AND status = ? RETURNING *",
            (
                status.value,
                decided_by,
                c.ts(at),
                reason,
                escalation_id,
                EscalationStatus(expected_status).value,
            ),
        )
        if row is not None:
            return c.escalation(row)
        current = await self.get_escalation(escalation_id)
        if current is None:
            raise NotFound(f"escalation {escalation_id} not found")
        raise StaleVersion(f"escalation {escalation_id} is already {current.status.value}")

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
        if not telegram_file_id:
            raise InvalidValue("an attachment needs a Telegram file_id")
        if size is not None and size < 0:
            raise InvalidValue("an attachment size cannot be negative")
        row = await self._must(
            "INSERT INTO attachments (ticket_id, kind, telegram_file_id, file_name, size, mime, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING *",
            (ticket_id, AttachmentKind(kind).value, telegram_file_id, file_name, size, mime, c.ts(at)),
            "attachment insert returned nothing",
        )
        return c.attachment(row)

    async def set_attachment_slack_file(self, attachment_id: int, slack_file_id: str) -> Attachment:
        """Args: attachment, Slack file id after upload. Returns: updated Attachment. Raises NotFound."""
        row = await self._must(
            "UPDATE attachments SET slack_file_id = ? WHERE id = ? RETURNING *",
            (slack_file_id, attachment_id),
            f"attachment {attachment_id} not found",
        )
        return c.attachment(row)

    async def list_attachments(self, ticket_id: int) -> list[Attachment]:
        """Args: ticket. Returns: its attachments by id."""
        rows = await self._all("SELECT * FROM attachments WHERE ticket_id = ? ORDER BY id", (ticket_id,))
        return [c.attachment(r) for r in rows]

    async def put_credential(
        self, ticket_id: int, kind: CredentialKind, label: str, secret: str, *, at: datetime
    ) -> int:
        """Encrypt and store a secret (P-IN-3). Returns: the credential id."""
        if not secret:
            raise InvalidValue("an empty credential is not worth storing")
        row = await self._must(
            "INSERT INTO credentials (ticket_id, kind, label, ciphertext, created_at)"
            " VALUES (?, ?, ?, ?, ?) RETURNING id",
            (ticket_id, CredentialKind(kind).value, label, self._box.encrypt(secret), c.ts(at)),
            "credential insert returned nothing",
        )
        return int(row["id"])

    async def get_credentials(self, ticket_id: int) -> list[Credential]:
        """Args: ticket. Returns: decrypted credentials by id. Raises SecretError if a key is missing."""
        rows = await self._all("SELECT * FROM credentials WHERE ticket_id = ? ORDER BY id", (ticket_id,))
        return [
            Credential(
                id=r["id"],
                ticket_id=r["ticket_id"],
                kind=CredentialKind(r["kind"]),
                label=r["label"],
                secret=self._box.decrypt(r["ciphertext"]),
                created_at=c.from_ts(r["created_at"]),
            )
            for r in rows
        ]

    async def erase_credentials(self, ticket_id: int) -> int:
        """Args: ticket (on close). Returns: how many rows were erased."""
        rows = await self._all("DELETE FROM credentials WHERE ticket_id = ? RETURNING id", (ticket_id,))
        return len(rows)

    async def list_credential_tokens(self) -> list[tuple[int, str]]:
        """Every stored credential as (id, ciphertext), never decrypted. Returns: oldest first."""
        rows = await self._all("SELECT id, ciphertext FROM credentials ORDER BY id")
        return [(int(r["id"]), str(r["ciphertext"])) for r in rows]

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
        if not action:
            raise InvalidValue("an audit event needs an action")
        row = await self._must(
            "INSERT INTO audit_log (ticket_id, at, actor_kind, actor_id, action, data)"
            " VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
            (ticket_id, c.ts(at), actor_kind, str(actor_id), action, c.to_json(data)),
            "audit insert returned nothing",
        )
        return int(row["id"])

    async def list_audit(self, ticket_id: int) -> list[AuditEvent]:
        """Args: ticket. Returns: its events in append order."""
        rows = await self._all("SELECT * FROM audit_log WHERE ticket_id = ? ORDER BY id", (ticket_id,))
        return [c.audit(r) for r in rows]

    async def audit_since(self, after_id: int, actions: Collection[str], limit: int = 1000) -> list[AuditEvent]:
        positive_int(limit, "limit")
        wanted = sorted(set(actions))
        if not wanted:
            return []
        # Writers take the database lock one at a time (BEGIN IMMEDIATE), so ids are committed in order:
        # reading on from the last id seen never skips an event committed later.
        marks = ", ".join("?" for _ in wanted)
        rows = await self._all(
            f"SELECT * FROM audit_log WHERE id > ? AND action IN ({marks}) ORDER BY id LIMIT ?",
            (after_id, *wanted, limit),
        )
        return [c.audit(r) for r in rows]
